/** Conformance: API budgets: the sliding-window cap and blocks (`BudgetStore`). */
import assert from 'node:assert/strict'
import type { Conformance } from './harness.ts'
import { NOW } from './harness.ts'

export function budgetCases({ test, harness }: Conformance): void {
  test('API budgets: sliding-window cap, blocks on the scope and on its blockers', async () => {
    const h = harness()
    const HOUR = 3_600_000
    const start = Math.ceil(NOW / HOUR) * HOUR // the start of a window
    const reserve = (now: number, cap: number | null = 3) =>
      h.store.reserveApiCall({ scope: 'acct', blockedBy: ['app'], cap, windowMs: HOUR, now })
    for (let i = 0; i < 3; i++) assert.deepEqual(await reserve(start + i), { allowed: true })
    const full = await reserve(start + 10)
    assert.equal(full.allowed, false)
    // the next window starts with the previous one's 3 calls at full weight; room for one more
    // call once that weight is down to 2, i.e. a third of the way in
    assert.equal(!full.allowed && full.reason, 'cap')
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
      h.store.reserveApiCall({ scope, blockedBy: ['app'], cap: 5, windowMs: HOUR, now })
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
    })
    // and on a scope whose row exists and already counts two
    assert.equal(await admitted('known', 2), 2)
    assert.equal(await admitted('known', 12, start + 10), 3)
    assert.equal(await admitted('fresh', 8, start + 20), 0, 'nothing once full')
  })
}
