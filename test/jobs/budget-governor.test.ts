/**
 * The rate governor over a real store (SQLite) with budgets other than Instagram's: a YouTube-like
 * daily quota in units that resets at midnight Pacific time (across midnight and across both DST
 * changes), and an X-like pair of a 15-minute window and a monthly cap on the app, next to a
 * 15-minute window per account. The store's side is in the conformance suite (both backends).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { FastifyBaseLogger } from 'fastify'
import { GalleryError } from '../../src/errors.ts'
import type { ProviderBudgets } from '../../src/providers/types.ts'
import { createRateGovernor, durationText } from '../../src/socials/rate-governor.ts'
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/types.ts'
import { tempDir } from '../helpers/temp.ts'
import { X_CALLS, X_CAPABILITIES } from '../../src/providers/x/capabilities.ts'
import { xAnswers } from '../../src/providers/x/client.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const at = (iso: string) => Date.parse(iso)
const silent = { warn() {}, info() {}, error() {} } as unknown as FastifyBaseLogger

function setup(t: { after: (fn: () => Promise<void>) => void }, budgets: ProviderBudgets) {
  const dir = tempDir('psg-governor-')
  const path = join(dir.path, 'g.db')
  const store: Store = createSqliteStore({ path })
  const reader = new BetterSqlite3(path, { readonly: true })
  t.after(async () => {
    reader.close()
    await store.close()
    dir.cleanup()
  })
  /** The units each scope's row counts, read past the store. */
  const spent = (): Record<string, number> =>
    Object.fromEntries(
      (
        reader.prepare('SELECT scope, window_calls FROM api_budgets ORDER BY scope').all() as {
          scope: string
          window_calls: number
        }[]
      ).map((row) => [row.scope, row.window_calls]),
    )
  let now = 0
  const clock = {
    now: () => now,
    set: (ms: number) => {
      now = ms
    },
  }
  return { store, clock, budgets, spent }
}

/** The GalleryError a refused call throws (fails when the call is admitted). */
async function refusal(call: Promise<void>): Promise<GalleryError> {
  try {
    await call
  } catch (error) {
    assert.ok(error instanceof GalleryError, String(error))
    assert.equal(error.code, 'ERR_RATE_LIMITED')
    return error
  }
  assert.fail('the call was admitted')
}

const YOUTUBE: ProviderBudgets = {
  windows: [
    {
      name: 'project_daily',
      per: 'app',
      counts: 'every_call',
      window: { kind: 'daily', timeZone: 'America/Los_Angeles' },
      limit: 10_000,
    },
  ],
  costs: { search: 100, token: 0 },
  defaultCost: 1,
}

test('a YouTube-like daily quota: units per call kind, reset at midnight Pacific time, 23 h and 25 h days at DST', async (t) => {
  const { store, clock, budgets, spent: units } = setup(t, YOUTUBE)
  const governor = createRateGovernor({
    store,
    clock,
    logger: silent,
    platform: 'youtube',
    budgets,
    pacing: { limits: {}, slowDownPercent: 80, maxPauseMs: 0 },
  })
  /** Spends the whole quota: 99 searches (100 units each) and 100 list calls (1 unit each). */
  const spendDay = async (accountId: string) => {
    for (let i = 0; i < 99; i++) await governor.beforeCall(accountId, 'search')
    for (let i = 0; i < 100; i++) await governor.beforeCall(i % 2 === 0 ? accountId : null)
  }

  // Saturday 7 March 2026, 20:00 PST: the quota is spent by an account's and the app's calls
  clock.set(at('2026-03-08T04:00:00Z'))
  await spendDay('a1')
  assert.equal(units()['youtube:app'], 10_000)
  const spent = await refusal(governor.beforeCall('a2'))
  assert.equal(
    spent.message,
    "YouTube's daily quota of 10,000 units is used up; it resets at midnight Pacific time (in 4 h)",
  )
  assert.equal(spent.retryAfterSeconds, 4 * 3600)
  // a call the platform does not meter (a token refresh) still goes through, and spends nothing,
  // even while the platform blocks the app (its quotaExceeded answer)
  await store.recordApiUsage({
    scope: 'youtube:app',
    usagePercent: null,
    blockedUntil: clock.now() + 60_000,
    now: clock.now(),
  })
  await governor.beforeCall('a2', 'token')
  assert.equal(units()['youtube:app'], 10_000)
  assert.match((await refusal(governor.beforeCall('a2'))).message, /rate limit reached/)
  // a search costs more than is left; so does a list call one minute before midnight
  clock.set(at('2026-03-08T07:47:00Z'))
  assert.match(
    (await refusal(governor.beforeCall('a1', 'search'))).message,
    /resets at midnight Pacific time \(in 13 min\)$/,
  )
  clock.set(at('2026-03-08T07:59:59.999Z'))
  assert.match((await refusal(governor.beforeCall(null))).message, /\(in 1 min\)$/)

  // midnight PST: a new day from zero. It is the day clocks spring forward: 23 hours long
  clock.set(at('2026-03-08T08:00:00Z'))
  await governor.beforeCall('a1', 'search')
  assert.equal(units()['youtube:app'], 100, 'from zero')
  for (let i = 0; i < 98; i++) await governor.beforeCall('a1', 'search')
  for (let i = 0; i < 100; i++) await governor.beforeCall('a2')
  const short = await refusal(governor.beforeCall('a2'))
  assert.equal(
    short.message,
    "YouTube's daily quota of 10,000 units is used up; it resets at midnight Pacific time (in 23 h)",
  )
  assert.equal(short.retryAfterSeconds, 23 * 3600)
  clock.set(at('2026-03-09T06:59:59.999Z'))
  await refusal(governor.beforeCall('a2'))
  clock.set(at('2026-03-09T07:00:00Z')) // midnight PDT
  await governor.beforeCall('a2')

  // 1 November 2026, midnight PDT: clocks fall back tonight, the day lasts 25 hours
  clock.set(at('2026-11-01T07:00:00Z'))
  await spendDay('a1')
  const long = await refusal(governor.beforeCall('a1'))
  assert.equal(
    long.message,
    "YouTube's daily quota of 10,000 units is used up; it resets at midnight Pacific time (in 1 day 1 h)",
  )
  assert.equal(long.retryAfterSeconds, 25 * 3600)
  clock.set(at('2026-11-02T07:59:59.999Z')) // 23:59:59 PST
  await refusal(governor.beforeCall('a1'))
  clock.set(at('2026-11-02T08:00:00Z'))
  await governor.beforeCall('a1', 'search')
})

test('an X-like app with a 15-minute window and a monthly cap, and a 15-minute window per account', async (t) => {
  const { store, clock, budgets, spent } = setup(t, {
    windows: [
      { name: 'app_15min', per: 'app', window: { kind: 'rolling', ms: 15 * MINUTE }, limit: 4 },
      {
        name: 'app_monthly',
        per: 'app',
        counts: 'every_call',
        window: { kind: 'monthly', timeZone: 'UTC' },
        limit: 6,
      },
      {
        name: 'user_15min',
        per: 'account',
        window: { kind: 'rolling', ms: 15 * MINUTE },
        limit: 3,
      },
    ],
    costs: {},
    defaultCost: 1,
  })
  const governor = createRateGovernor({
    store,
    clock,
    logger: silent,
    platform: 'x',
    budgets,
    pacing: { limits: {}, slowDownPercent: 80, maxPauseMs: 0 },
  })
  const t0 = at('2026-01-20T10:00:00Z')
  clock.set(t0)
  for (let i = 0; i < 4; i++) await governor.beforeCall(null)
  clock.set(t0 + MINUTE)
  const quarter = await refusal(governor.beforeCall(null))
  // full by itself: once the next window's weight of this one's 4 calls is down to 3
  assert.equal(
    quarter.message,
    'The app used its budget of 4 X calls per 15 minutes; syncing continues in about 18 minutes',
  )
  assert.equal(quarter.retryAfterSeconds, (14 * MINUTE + 3.75 * MINUTE) / 1000)
  // an account's calls do not spend the app's 15 minutes, but they do spend its month
  await governor.beforeCall('a1')
  await governor.beforeCall('a1')
  const monthly = await refusal(governor.beforeCall('a1'))
  assert.equal(
    monthly.message,
    "X's monthly quota of 6 calls is used up; it resets on the 1st at midnight UTC (in 11 days 14 h)",
  )
  assert.equal(monthly.retryAfterSeconds, (at('2026-02-01T00:00:00Z') - (t0 + MINUTE)) / 1000)
  // all or nothing: the refused call spent nothing on the account's 15 minutes
  assert.deepEqual(spent(), { 'x:account:a1': 2, 'x:app': 4, 'x:app:app_monthly': 6 })
  // an hour later the 15 minutes are back, the month is not
  clock.set(t0 + HOUR)
  assert.match((await refusal(governor.beforeCall(null))).message, /monthly quota of 6 calls/)
  assert.match((await refusal(governor.beforeCall('a2'))).message, /monthly quota of 6 calls/)
  // the 1st of February: a new month
  clock.set(at('2026-02-01T00:00:00Z'))
  for (let i = 0; i < 3; i++) await governor.beforeCall('a1')
  assert.match(
    (await refusal(governor.beforeCall('a1'))).message,
    /^This account used its budget of 3 X calls per 15 minutes; syncing continues in about \d+ minutes$/,
  )
  await governor.beforeCall(null)
  await governor.beforeCall('a2')
  await governor.beforeCall('a2')
  assert.match((await refusal(governor.beforeCall('a2'))).message, /monthly quota/)
})

test('durations in plain words: minutes under an hour, hours and minutes under a day, days and hours beyond', () => {
  assert.equal(durationText(1, 0), '1 min')
  assert.equal(durationText(12 * MINUTE, 0), '12 min')
  assert.equal(durationText(3 * HOUR + 12 * MINUTE, 0), '3 h 12 min')
  assert.equal(durationText(3 * HOUR + 11 * MINUTE + 1, 0), '3 h 12 min')
  assert.equal(durationText(24 * HOUR, 0), '1 day')
  assert.equal(durationText(49 * HOUR + 1, 0), '2 days 2 h')
})

test('X: a timeline page reserved at its most is settled at what X billed: a short page gives the rest back, an error answer all of it, no answer none', async (t) => {
  const { store, clock, budgets, spent } = setup(t, X_CAPABILITIES.budgets)
  const governor = createRateGovernor({
    store,
    clock,
    logger: silent,
    platform: 'x',
    budgets,
    pacing: { limits: {}, slowDownPercent: 80, maxPauseMs: 0 },
  })
  const reader = xAnswers(() => clock.now())
  const report = (status: number, body: unknown, endpoint: string = X_CALLS.timeline) => ({
    endpoint,
    status,
    usage: reader.noUsage,
    errorCode: null,
    throttled: null,
    retryAfterSeconds: null,
    units: status === 0 ? null : (reader.unitsUsed?.(endpoint, status, body) ?? null),
  })
  const t0 = at('2026-03-10T10:00:00Z')
  clock.set(t0)
  // the app's first budget is keyed by the app's scope itself
  const monthly = 'x:app'
  const account = 'x:account:a1'
  await governor.beforeCall('a1', X_CALLS.timeline)
  assert.equal(spent()[monthly], 100, 'reserved at a full page')
  const three = { data: [{ id: '1' }, { id: '2' }, { id: '3' }], meta: { result_count: 3 } }
  await governor.afterCall('a1', report(200, three))
  assert.equal(spent()[monthly], 3, 'a page of 3 posts keeps 3')
  assert.equal(spent()[account], 3, 'on every part it was charged to')
  // nothing new since since_id: X bills nothing
  await governor.beforeCall('a1', X_CALLS.timeline)
  await governor.afterCall('a1', report(200, { meta: { result_count: 0 } }))
  assert.equal(spent()[monthly], 3)
  // an error answer is not billed
  await governor.beforeCall('a1', X_CALLS.timeline)
  await governor.afterCall('a1', report(503, { title: 'Service Unavailable' }))
  assert.equal(spent()[monthly], 3)
  // no answer: whether X billed it is unknown, the charge stands
  await governor.beforeCall('a1', X_CALLS.timeline)
  await governor.afterCall('a1', report(0, null))
  assert.equal(spent()[monthly], 103)
  // the identity read is fixed at two: nothing to settle
  await governor.beforeCall('a1', X_CALLS.me)
  await governor.afterCall('a1', report(200, { data: { id: '9' } }, X_CALLS.me))
  assert.equal(spent()[monthly], 105)
  // a refund never reaches into another month
  await governor.beforeCall('a1', X_CALLS.timeline)
  clock.set(at('2026-04-01T00:00:01Z'))
  await governor.afterCall('a1', report(200, three))
  assert.equal(spent()[monthly], 205, 'March keeps the charge; April starts at zero')
  const [quota] = await governor.quotas()
  assert.equal(quota?.spent, 0)
})
