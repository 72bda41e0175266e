import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  buildTestApp,
  connectAccount,
  connectedApp,
  type TestApp,
} from '../helpers/build-app.ts'
import { HOUR, accountRow, emulatorCalls, runDue, storedMediaIds } from '../helpers/jobs.ts'
import { APP_SCOPE, accountScope } from '../../src/socials/rate-governor.ts'

const connected = connectedApp

const budget = async (app: TestApp, scope: string) =>
  (await app.raw('SELECT * FROM api_budgets WHERE scope = ?', [scope]))[0]

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
