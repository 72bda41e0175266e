import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  buildTestApp,
  connectAccount,
  connectedApp,
  type TestApp,
  writeRaw as write,
} from '../helpers/build-app.ts'
import { HOUR, accountRow, emulatorCalls, runDue, storedMediaIds } from '../helpers/jobs.ts'
import { APP_SCOPE, accountScope } from '../../src/socials/rate-governor.ts'
import { MAX_PLATFORM_BACKOFF_MS } from '../../src/socials/platform-backoff.ts'

const connected = connectedApp

const budget = async (app: TestApp, scope: string) =>
  (await app.raw('SELECT * FROM api_budgets WHERE scope = ?', [scope]))[0]

/** Raw SQL that writes, bypassing the store (on SQLite `app.raw` is read-only). */

/** What the red team saw stored after one throttled answer (F3 §3): 2977-07-31. */
const CENTURIES_AWAY = Date.UTC(2977, 6, 31)

test('the per-account cap (INSTAGRAM_CALLS_PER_HOUR_PER_ACCOUNT) stops a sync mid-way; it resumes when the budget allows', async (t) => {
  // 48 media at 10 per page: profile + 5 pages = 6 calls; the cap allows 4 per hour
  const { app, accountId } = await connected(t, {
    INSTAGRAM_CALLS_PER_HOUR_PER_ACCOUNT: '4',
    INSTAGRAM_MEDIA_PAGE_SIZE: '10',
  })
  const before = emulatorCalls(app)
  const first = await runDue(app)
  assert.equal(first.syncs.failed, 1)
  assert.equal(first.syncs.api_calls, 4)
  assert.equal(emulatorCalls(app) - before, 4, 'exactly the cap, never more')
  const row = await accountRow(app)
  assert.equal(row.status, 'rate_limited')
  assert.match(String(row.status_message), /budget of 4 Instagram calls per hour/)
  assert.equal((await storedMediaIds(app)).length, 30, 'the pages fetched are kept')
  assert.ok(Number(row.next_sync_at) > app.clock.now() + 10 * 60_000, 'waits for the budget')
  assert.equal((await budget(app, accountScope(accountId)))?.window_calls, 4)

  app.clock.advance(2 * HOUR)
  const resumed = await runDue(app)
  assert.deepEqual([resumed.syncs.modes.resume, resumed.syncs.api_calls], [1, 3])
  assert.equal((await storedMediaIds(app)).length, 48)
  assert.equal((await accountRow(app)).status, 'active')
})

test('above 80 % usage: calls are paced and routine syncs postponed until usage falls', async (t) => {
  const { app, browser, accountId } = await connected(t, { SYNC_INTERVAL_MINUTES: '5' })
  // the emulator's budget for this account: 8 calls per rolling hour
  app.emulator.state.settings = { ...app.emulator.state.settings, callsPerHourPerUser: 8 }
  await runDue(app) // full sync: 3 calls (4 with the connect)
  app.clock.advance(6 * 60_000)
  await runDue(app) // incremental: 2 calls → Meta reports 6/8 of the budget, then more
  assert.ok(Number((await budget(app, accountScope(accountId)))?.usage_percent) >= 80)

  app.clock.advance(6 * 60_000)
  const before = emulatorCalls(app)
  const postponed = await runDue(app)
  assert.deepEqual([postponed.syncs.postponed, postponed.syncs.api_calls], [1, 0])
  assert.equal(emulatorCalls(app), before, 'no call while usage is high')
  assert.equal((await accountRow(app)).status, 'active', 'postponing is not a failure')

  // "Sync now" still runs, but paced: a pause before each call, growing with usage
  const manual = await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.ok(app.pauses.length > 0 && app.pauses.every((ms) => ms > 0 && ms <= 5_000))
  // the emulator's budget ran out during it: Meta throttles (80002) and we stop calling
  assert.equal(manual.statusCode, 429)
  assert.equal((await accountRow(app)).status, 'rate_limited')
  const blockedUntil = Number((await budget(app, accountScope(accountId)))?.blocked_until)
  assert.ok(blockedUntil > app.clock.now())

  // an hour later Meta's usage report is stale and the budget back: routine syncs resume
  app.clock.advance(HOUR + 5 * 60_000)
  const back = await runDue(app)
  assert.equal(back.syncs.synced, 1)
  assert.equal((await accountRow(app)).status, 'active')
})

test('a throttle block survives a restart: a new instance on the same database does not call until it ends', async (t) => {
  const { app, browser, accountId } = await connected(t)
  app.emulator.state.faults.push({ kind: 'throttle', code: 80002, count: 1, minutes: 30 })
  const throttled = await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.equal(throttled.statusCode, 429)
  await app.app.close() // the first instance stops

  const restarted = await buildTestApp(t, {}, { share: app })
  const again = new Browser(restarted)
  for (const [name, value] of browser.cookies) again.cookies.set(name, value)
  app.clock.advance(10 * 60_000)
  const before = emulatorCalls(app)
  const manual = await again.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.equal(manual.statusCode, 429)
  assert.match(manual.json<{ error: { message: string } }>().error.message, /paused for about 20/)
  assert.equal((await runDue(restarted)).syncs.synced, 0)
  assert.equal(emulatorCalls(app), before, 'the new instance respects the stored block')
  app.clock.advance(21 * 60_000)
  assert.equal((await runDue(restarted)).syncs.synced, 1)
})

test('code 4 (the app’s limit) pauses every account; code 17/80002 only the one concerned', async (t) => {
  const app = await buildTestApp(t)
  const alice = new Browser(app)
  await alice.register()
  const creator = await connectAccount(app, alice, 1)
  const shop = await connectAccount(app, alice, 2)
  await runDue(app)

  app.emulator.state.faults.push({ kind: 'throttle', code: 80002, count: 1, minutes: 30 })
  const one = await alice.fetch('POST', `/api/socials/accounts/${creator}/sync`)
  assert.equal(one.statusCode, 429)
  assert.equal((await budget(app, APP_SCOPE))?.blocked_until, null, 'the app is not blocked')
  const other = await alice.fetch('POST', `/api/socials/accounts/${shop}/sync`)
  assert.equal(other.statusCode, 200, 'the other account still syncs')

  app.clock.advance(20 * 60_000)
  app.emulator.state.faults.push({ kind: 'throttle', code: 4, count: 1, minutes: 30 })
  assert.equal((await alice.fetch('POST', `/api/socials/accounts/${shop}/sync`)).statusCode, 429)
  assert.ok(Number((await budget(app, APP_SCOPE))?.blocked_until) > app.clock.now())
  const before = emulatorCalls(app)
  app.clock.advance(11 * 60_000)
  // creator's own block ended; the app block (set later) still holds everybody
  assert.equal((await alice.fetch('POST', `/api/socials/accounts/${creator}/sync`)).statusCode, 429)
  assert.equal(emulatorCalls(app), before)
})

test('a throttle asking for 500000000 minutes pauses for 24 h at most; syncs then resume on their own (F4)', async (t) => {
  const { app, browser, accountId } = await connected(t)
  app.emulator.state.faults.push({ kind: 'throttle', code: 4, count: 1, minutes: 500_000_000 })
  const throttled = await runDue(app)
  assert.equal(throttled.syncs.failed, 1)
  const now = app.clock.now()
  const blockedUntil = Number((await budget(app, APP_SCOPE))?.blocked_until)
  assert.ok(blockedUntil <= now + MAX_PLATFORM_BACKOFF_MS, 'the app block ends within 24 h')
  assert.ok(blockedUntil >= now + MAX_PLATFORM_BACKOFF_MS - 60_000, 'and it is a real 24 h block')
  const row = await accountRow(app)
  assert.equal(row.status, 'rate_limited')
  assert.ok(Number(row.next_sync_at) <= now + MAX_PLATFORM_BACKOFF_MS, String(row.next_sync_at))
  assert.match(String(row.status_message), /about 1440 minutes/)
  const warning = app.logs.find((line) => line.includes('beyond the 24 h bound: clamped'))
  assert.ok(warning !== undefined, 'the clamp is logged')
  assert.match(warning, /"askedMinutes":500000000/)
  assert.match(warning, /"clampedMinutes":1440/)
  assert.match(warning, /"level":40|"level":"warn"/)
  assert.doesNotMatch(warning, /IGAA|access_token/)
  // "Sync now" meanwhile: refused with a bounded Retry-After
  const manual = await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.equal(manual.statusCode, 429)
  assert.ok(Number(manual.headers['retry-after']) <= 86_400)

  app.clock.advance(12 * HOUR)
  const before = emulatorCalls(app)
  assert.equal((await runDue(app)).syncs.synced, 0)
  assert.equal(emulatorCalls(app), before, 'the block holds for its 24 h')
  app.clock.advance(12 * HOUR + 60_000)
  const back = await runDue(app)
  assert.equal(back.syncs.synced, 1, 'the scheduler syncs again, without "Sync now"')
  assert.equal((await accountRow(app)).status, 'active')
})

test('a centuries-away next_sync_at and block stored before the bound heal at the next passes (F4)', async (t) => {
  const { app, browser, accountId } = await connected(t)
  await runDue(app)
  // an account pushed out by an old answer, with no block left: synced at the next pass
  await write(app, "UPDATE account_jobs SET next_run_at = ? WHERE kind = 'sync'", [CENTURIES_AWAY])
  const released = await runDue(app)
  assert.equal(released.syncs.synced, 1)
  assert.ok(Number((await accountRow(app)).next_sync_at) < app.clock.now() + 2 * HOUR)
  assert.ok(app.logs.some((line) => line.includes('ignored: syncing now')))

  // and with the app-wide block that came with it, still in the database after a restart
  await write(app, "UPDATE account_jobs SET next_run_at = ? WHERE kind = 'sync'", [CENTURIES_AWAY])
  await write(
    app,
    `INSERT INTO api_budgets (scope, usage_percent, usage_at, blocked_until, window_start, window_calls, previous_window_calls, updated_at)
     VALUES (?, NULL, NULL, ?, 0, 0, 0, ?)
     ON CONFLICT (scope) DO UPDATE SET blocked_until = excluded.blocked_until`,
    [APP_SCOPE, CENTURIES_AWAY, app.clock.now()],
  )
  const before = emulatorCalls(app)
  const blocked = await runDue(app)
  assert.deepEqual([blocked.syncs.synced, blocked.syncs.failed], [0, 1])
  assert.equal(emulatorCalls(app), before, 'the block is respected, for 24 h')
  const now = app.clock.now()
  assert.ok(Number((await budget(app, APP_SCOPE))?.blocked_until) <= now + MAX_PLATFORM_BACKOFF_MS)
  const row = await accountRow(app)
  assert.equal(row.status, 'rate_limited')
  assert.ok(Number(row.next_sync_at) <= now + MAX_PLATFORM_BACKOFF_MS)
  const warning = app.logs.find((line) => line.includes('stored Instagram block'))
  assert.match(String(warning), /"storedUntil":"2977-07-31T00:00:00.000Z"/)

  // the shortened block is not pushed on by later reads (a "Sync now" meets it): it ends
  const shortened = Number((await budget(app, APP_SCOPE))?.blocked_until)
  app.clock.advance(12 * HOUR)
  const manual = await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  assert.equal(manual.statusCode, 429)
  assert.match(manual.json<{ error: { message: string } }>().error.message, /about 720 minutes/)
  assert.equal(Number((await budget(app, APP_SCOPE))?.blocked_until), shortened)
  app.clock.advance(12 * HOUR + 60_000)
  assert.equal((await runDue(app)).syncs.synced, 1)
  assert.equal((await accountRow(app)).status, 'active')
})
