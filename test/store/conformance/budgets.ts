/**
 * Conformance: API budgets (`BudgetStore`): the sliding-window cap and blocks, fixed windows (a
 * day, a month) counted in units, several windows per call (all or none), and concurrent
 * reservations that never over-spend.
 */
import assert from 'node:assert/strict'
import type { ApiCallPart } from '../../../src/store/types.ts'
import type { Conformance } from './harness.ts'
import { DAY, NOW } from './harness.ts'

const HOUR = 3_600_000
/** A fixed window (a "day" of 24 h: the store only sees the bounds the caller computed). */
const fixed = (start: number, end: number) => ({ kind: 'fixed', start, end }) as const

export function budgetCases({ test, harness }: Conformance): void {
  test('API budgets: a refund gives back units on every part, never below zero, never into another window', async () => {
    const h = harness()
    const start = Math.ceil(NOW / HOUR) * HOUR
    const month = fixed(start, start + 30 * DAY)
    const rolling = { kind: 'rolling', ms: 15 * 60_000 } as const
    const parts = (cost: number): ApiCallPart[] => [
      { scope: 'acct', window: rolling, cap: 1000, cost },
      { scope: 'app', window: month, cap: 1000, cost },
    ]
    assert.deepEqual(
      await h.store.reserveApiCall({ parts: parts(100), blockedBy: [], now: start }),
      { allowed: true },
    )
    const calls = async () =>
      Object.fromEntries(
        (await h.store.getApiBudgets(['acct', 'app'])).map((b) => [b.scope, b.window_calls]),
      )
    await h.store.refundApiCall({
      parts: [
        { scope: 'acct', window: rolling, units: 97 },
        { scope: 'app', window: month, units: 97 },
      ],
      now: start + 1,
    })
    assert.deepEqual(await calls(), { acct: 3, app: 3 })
    await h.store.refundApiCall({
      parts: [{ scope: 'app', window: month, units: 50 }],
      now: start + 2,
    })
    assert.deepEqual(await calls(), { acct: 3, app: 0 }, 'never below zero')
    assert.deepEqual(
      await h.store.reserveApiCall({ parts: parts(100), blockedBy: [], now: start + 3 }),
      { allowed: true },
    )
    // the next month and the next 15 minutes: the windows the call was counted in are gone
    await h.store.refundApiCall({
      parts: [
        { scope: 'acct', window: rolling, units: 100 },
        { scope: 'app', window: fixed(start + 30 * DAY, start + 60 * DAY), units: 100 },
      ],
      now: start + 20 * 60_000,
    })
    assert.deepEqual(await calls(), { acct: 103, app: 100 })
    // an unknown scope or a zero refund changes nothing and creates nothing
    await h.store.refundApiCall({
      parts: [
        { scope: 'nobody', window: month, units: 5 },
        { scope: 'app', window: month, units: 0 },
      ],
      now: start + 4,
    })
    assert.deepEqual(await h.store.getApiBudgets(['nobody']), [])
    assert.deepEqual(await calls(), { acct: 103, app: 100 })
  })

  test('API budgets: sliding-window cap, blocks on the scope and on its blockers', async () => {
    const h = harness()
    const HOUR = 3_600_000
    const start = Math.ceil(NOW / HOUR) * HOUR // the start of a window
    const reserve = (now: number, cap: number | null = 3) =>
      h.store.reserveApiCall({
        parts: [{ scope: 'acct', window: { kind: 'rolling', ms: HOUR }, cap }],
        blockedBy: ['app'],
        now,
      })
    for (let i = 0; i < 3; i++) assert.deepEqual(await reserve(start + i), { allowed: true })
    const full = await reserve(start + 10)
    assert.equal(full.allowed, false)
    // the next window starts with the previous one's 3 calls at full weight; room for one more
    // call once that weight is down to 2, i.e. a third of the way in
    assert.equal(!full.allowed && full.reason, 'cap')
    assert.equal(full.allowed === false && full.reason === 'cap' && full.part, 0)
    assert.equal(!full.allowed && full.retryAt, start + HOUR + Math.ceil(HOUR / 3))
    assert.equal((await reserve(start + HOUR + 1)).allowed, false)
    assert.equal((await reserve(start + HOUR + Math.ceil(HOUR / 3))).allowed, true)
    assert.deepEqual(await reserve(start + 3 * HOUR), { allowed: true }, 'old windows forgotten')
    assert.deepEqual(await reserve(start + 3 * HOUR, null), { allowed: true }, 'no cap')

    await h.store.recordApiUsage({
      scope: 'app',
      usagePercent: 91,
      blockedUntil: start + 4 * HOUR,
      now: start + 3 * HOUR,
    })
    const blocked = await reserve(start + 3 * HOUR + 5)
    assert.deepEqual(blocked, { allowed: false, reason: 'blocked', retryAt: start + 4 * HOUR })
    await h.store.recordApiUsage({
      scope: 'app',
      usagePercent: null,
      blockedUntil: null,
      now: start + 3 * HOUR + 6,
    })
    const [app] = await h.store.getApiBudgets(['app'])
    assert.deepEqual(
      [app?.usage_percent, app?.blocked_until],
      [91, start + 4 * HOUR],
      'an empty report keeps the last usage and the block',
    )
    assert.equal((await reserve(start + 4 * HOUR)).allowed, true)
  })

  test('API budgets: parallel reservations against a cap admit exactly the cap', async () => {
    const h = harness()
    const HOUR = 3_600_000
    const start = Math.ceil(NOW / HOUR) * HOUR // the start of a window: no previous calls
    const reserve = (scope: string, now = start) =>
      h.store.reserveApiCall({
        parts: [{ scope, window: { kind: 'rolling', ms: HOUR }, cap: 5 }],
        blockedBy: ['app'],
        now,
      })
    const admitted = async (scope: string, n: number, now = start): Promise<number> =>
      (await Promise.all(Array.from({ length: n }, () => reserve(scope, now)))).filter(
        (v) => v.allowed,
      ).length
    // twelve at once for a cap of five, on a scope with no row yet: PostgreSQL runs them
    // concurrently, and each one must see the ones before it
    assert.equal(await admitted('fresh', 12), 5)
    assert.deepEqual(
      await h.raw('SELECT window_start, window_calls FROM api_budgets WHERE scope = ?', ['fresh']),
      [{ window_start: start, window_calls: 5 }],
    )
    const refused = await reserve('fresh', start + 1)
    // full by itself: the next window, once this one's weight is down to four calls
    assert.deepEqual(refused, {
      allowed: false,
      reason: 'cap',
      retryAt: start + HOUR + HOUR / 5,
      part: 0,
    })
    // and on a scope whose row exists and already counts two
    assert.equal(await admitted('known', 2), 2)
    assert.equal(await admitted('known', 12, start + 10), 3)
    assert.equal(await admitted('fresh', 8, start + 20), 0, 'nothing once full')
  })

  test('API budgets: a fixed window spends units up to its cap, refuses until its end, then starts from zero', async () => {
    const h = harness()
    const day = fixed(NOW, NOW + DAY)
    const reserve = (now: number, cost: number, window = day) =>
      h.store.reserveApiCall({
        parts: [{ scope: 'youtube:app', window, cap: 10, cost }],
        blockedBy: [],
        now,
      })
    const spent = async () =>
      (
        await h.raw('SELECT window_start, window_calls FROM api_budgets WHERE scope = ?', [
          'youtube:app',
        ])
      )[0]
    assert.deepEqual(await reserve(NOW + 1, 1), { allowed: true })
    assert.deepEqual(await reserve(NOW + 2, 5), { allowed: true }, 'a cost of 5 units')
    assert.deepEqual(await spent(), { window_start: NOW, window_calls: 6 })
    // 4 units left: a call costing 5 is refused and spends nothing; one costing 4 fits exactly
    assert.deepEqual(await reserve(NOW + 3, 5), {
      allowed: false,
      reason: 'cap',
      retryAt: NOW + DAY,
      part: 0,
    })
    assert.deepEqual(await spent(), { window_start: NOW, window_calls: 6 }, 'nothing spent')
    assert.deepEqual(await reserve(NOW + 4, 4), { allowed: true })
    const full = await reserve(NOW + DAY - 1, 1)
    assert.deepEqual(full, { allowed: false, reason: 'cap', retryAt: NOW + DAY, part: 0 })
    // the next window: from zero, whatever was spent before (no carry-over, no weighting)
    const next = fixed(NOW + DAY, NOW + 2 * DAY)
    assert.deepEqual(await reserve(NOW + DAY, 10, next), { allowed: true })
    assert.deepEqual(await spent(), { window_start: NOW + DAY, window_calls: 10 })
    assert.equal((await reserve(NOW + DAY + 1, 1, next)).allowed, false)
    // a window two days on, or without a cap: counted all the same
    const later = fixed(NOW + 3 * DAY, NOW + 4 * DAY)
    assert.deepEqual(await reserve(NOW + 3 * DAY, 3, later), { allowed: true })
    assert.deepEqual(await spent(), { window_start: NOW + 3 * DAY, window_calls: 3 })
    assert.deepEqual(
      await h.store.reserveApiCall({
        parts: [{ scope: 'youtube:app', window: later, cap: null, cost: 50 }],
        blockedBy: [],
        now: NOW + 3 * DAY + 1,
      }),
      { allowed: true },
    )
    assert.deepEqual(await spent(), { window_start: NOW + 3 * DAY, window_calls: 53 })
  })

  test('API budgets: a rolling window counts a call of cost c as c units', async () => {
    const h = harness()
    const start = Math.ceil(NOW / HOUR) * HOUR
    const reserve = (now: number, cost: number) =>
      h.store.reserveApiCall({
        parts: [{ scope: 'r', window: { kind: 'rolling', ms: HOUR }, cap: 10, cost }],
        blockedBy: [],
        now,
      })
    assert.deepEqual(await reserve(start, 4), { allowed: true })
    assert.deepEqual(await reserve(start + 1, 4), { allowed: true })
    // 8 spent: 3 more do not fit, and the refusal spends nothing
    const refused = await reserve(start + 2, 3)
    assert.equal(refused.allowed, false)
    assert.deepEqual(await reserve(start + 3, 2), { allowed: true })
    assert.deepEqual(await h.raw('SELECT window_calls FROM api_budgets WHERE scope = ?', ['r']), [
      { window_calls: 10 },
    ])
    // the next window: the previous 10 weigh 10 × (1 − f); 3 units fit once that is down to 7
    const retry = await reserve(start + HOUR, 3)
    assert.deepEqual(retry, {
      allowed: false,
      reason: 'cap',
      retryAt: start + HOUR + Math.ceil((3 * HOUR) / 10),
      part: 0,
    })
    assert.equal((await reserve(start + HOUR + Math.ceil((3 * HOUR) / 10) - 1, 3)).allowed, false)
    assert.equal((await reserve(start + HOUR + Math.ceil((3 * HOUR) / 10), 3)).allowed, true)
  })

  test('API budgets: several windows on one call are all admitted or none', async () => {
    const h = harness()
    const start = Math.ceil(NOW / HOUR) * HOUR
    const month = fixed(start, start + 30 * DAY)
    const parts = (cost: number): ApiCallPart[] => [
      { scope: 'x:app', window: { kind: 'rolling', ms: 15 * 60_000 }, cap: 5, cost },
      { scope: 'x:app:monthly', window: month, cap: 8, cost },
    ]
    const reserve = (now: number, cost = 1, blockedBy: string[] = []) =>
      h.store.reserveApiCall({ parts: parts(cost), blockedBy, now })
    const counts = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        (
          await h.raw(
            "SELECT scope, window_calls FROM api_budgets WHERE scope LIKE 'x:%' ORDER BY scope",
          )
        ).map((row): [string, number] => [String(row.scope), Number(row.window_calls)]),
      )
    for (let i = 0; i < 5; i++) assert.deepEqual(await reserve(start + i), { allowed: true })
    assert.deepEqual(await counts(), { 'x:app': 5, 'x:app:monthly': 5 })
    // the 15 minutes are spent: refused by part 0, and the month is not charged
    const quarter = await reserve(start + 10)
    assert.equal(quarter.allowed === false && quarter.reason === 'cap' && quarter.part, 0)
    assert.deepEqual(await counts(), { 'x:app': 5, 'x:app:monthly': 5 })
    // three windows later the 15 minutes are free again: 3 more fit in the month, then it is full
    const later = start + 3 * 15 * 60_000
    assert.deepEqual(await reserve(later, 3), { allowed: true })
    assert.deepEqual(await counts(), { 'x:app': 3, 'x:app:monthly': 8 })
    const monthly = await reserve(later + 1)
    assert.deepEqual(monthly, {
      allowed: false,
      reason: 'cap',
      retryAt: start + 30 * DAY,
      part: 1,
    })
    assert.deepEqual(
      await counts(),
      { 'x:app': 3, 'x:app:monthly': 8 },
      'the 15 minutes not charged',
    )
    // both full: the verdict names the one that frees up last (the month)
    const both = await reserve(later + 2, 5)
    assert.equal(both.allowed === false && both.reason === 'cap' && both.part, 1)
    assert.equal(!both.allowed && both.retryAt, start + 30 * DAY)
    // a block on a part's scope stops the call before any cap
    await h.store.recordApiUsage({
      scope: 'x:app',
      usagePercent: null,
      blockedUntil: later + HOUR,
      now: later,
    })
    assert.deepEqual(await reserve(later + 3), {
      allowed: false,
      reason: 'blocked',
      retryAt: later + HOUR,
    })
    // a scope named twice is a caller's mistake
    await assert.rejects(
      h.store.reserveApiCall({
        parts: [parts(1)[0] as ApiCallPart, parts(1)[0] as ApiCallPart],
        blockedBy: [],
        now: later,
      }),
      /twice/,
    )
  })

  test('API budgets: parallel reservations at a fixed window admit exactly cap / cost, all parts or none', async () => {
    const h = harness()
    const day = fixed(NOW, NOW + DAY)
    const reserveDay = (scope: string, cost: number) =>
      h.store.reserveApiCall({
        parts: [{ scope, window: day, cap: 10, cost }],
        blockedBy: ['youtube:app'],
        now: NOW + 1,
      })
    const admitted = async (n: number, reserve: () => Promise<{ allowed: boolean }>) =>
      (await Promise.all(Array.from({ length: n }, reserve))).filter((v) => v.allowed).length
    // twelve at once, each costing 2 of a cap of 10, on a scope with no row yet: exactly five
    assert.equal(await admitted(12, () => reserveDay('yt:fresh', 2)), 5)
    assert.deepEqual(
      await h.raw('SELECT window_start, window_calls FROM api_budgets WHERE scope = ?', [
        'yt:fresh',
      ]),
      [{ window_start: NOW, window_calls: 10 }],
    )
    // a cost of 3: three fit (9 units), the fourth would over-spend
    assert.equal(await admitted(12, () => reserveDay('yt:three', 3)), 3)
    assert.equal(await admitted(6, () => reserveDay('yt:three', 1)), 1, 'the last unit')

    // two windows per call, named in either order: no deadlock, and both count the same calls
    const month = fixed(NOW, NOW + 30 * DAY)
    const pair = (reversed: boolean) => {
      const parts: ApiCallPart[] = [
        { scope: 'x:app', window: { kind: 'rolling', ms: 15 * 60_000 }, cap: 100, cost: 1 },
        { scope: 'x:app:monthly', window: month, cap: 7, cost: 1 },
      ]
      return h.store.reserveApiCall({
        parts: reversed ? parts.reverse() : parts,
        blockedBy: [],
        now: NOW + 2,
      })
    }
    let i = 0
    assert.equal(await admitted(16, () => pair(i++ % 2 === 1)), 7)
    assert.deepEqual(
      await h.raw(
        "SELECT scope, window_calls FROM api_budgets WHERE scope LIKE 'x:%' ORDER BY scope",
      ),
      [
        { scope: 'x:app', window_calls: 7 },
        { scope: 'x:app:monthly', window_calls: 7 },
      ],
    )
  })
}
