/**
 * YouTube's daily quota in the scheduler, through the app on a real database: routine syncs
 * never spend the last 20 % (kept for connecting and "Sync now"), keep to an even pace over the
 * Pacific day, postpone without a call to Google and without marking the account; and a quota
 * too small to refresh every channel within 30 days is a warning in the logs and on /readyz.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  buildTestApp,
  connectYoutube,
  writeRaw,
  type TestApp,
} from '../helpers/build-app.ts'
import { dayAt } from '../../src/socials/budget-windows.ts'
import { appScope } from '../../src/socials/rate-governor.ts'
import { QUOTA_TIME_ZONE } from '../../src/providers/youtube/parse.ts'
import { sealCredentials } from '../../src/socials/credentials.ts'

const HOUR = 3_600_000

/** Records `units` spent today on the app's YouTube quota, as the governor counts them. */
async function spentToday(app: TestApp, units: number): Promise<void> {
  const day = dayAt(QUOTA_TIME_ZONE, app.clock.now())
  await writeRaw(app, 'DELETE FROM api_budgets WHERE scope = ?', [appScope('youtube')])
  await writeRaw(
    app,
    `INSERT INTO api_budgets (scope, usage_percent, usage_at, blocked_until, window_start,
       window_calls, previous_window_calls, updated_at) VALUES (?, NULL, NULL, NULL, ?, ?, 0, ?)`,
    [appScope('youtube'), day.start, units, app.clock.now()],
  )
}

/** A test app whose clock starts `hours` after midnight Pacific time. */
async function appAt(t: Parameters<typeof buildTestApp>[0], hours: number, quota: number) {
  const midnight = dayAt(QUOTA_TIME_ZONE, Date.now()).start
  return buildTestApp(
    t,
    { YOUTUBE_DAILY_QUOTA_UNITS: String(quota) },
    { clockStart: midnight + hours * HOUR },
  )
}

test('the last 20 % of the day is not for routine syncs: postponed to the reset, no call, status kept; Sync now still works', async (t) => {
  const app = await appAt(t, 20, 1000)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectYoutube(app, browser)
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
  await spentToday(app, 800)
  app.clock.advance(2 * HOUR)
  const calls = app.youtube.control.calls().length
  const report = await app.app.jobs.runner.runDue()
  assert.equal(report.syncs.postponed, 1, JSON.stringify(report.syncs))
  assert.equal(app.youtube.control.calls().length, calls, 'nothing asked of Google')
  const [job] = await app.raw("SELECT next_run_at FROM account_jobs WHERE kind = 'sync'")
  const reset = dayAt(QUOTA_TIME_ZONE, app.clock.now()).end
  assert.ok(Number(job?.next_run_at) >= reset, 'waits for the quota to reset')
  const [row] = await app.raw('SELECT status FROM user_social_accounts')
  assert.equal(row?.status, 'active', 'a postponement is not a failure')
  // a person pressing "Sync now" spends the reserve
  const manual = await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)
  assert.equal(manual.statusCode, 200, manual.body)
})

test('a routine run that meets the reserve mid-way is refused before the call, with the reserve named', async (t) => {
  const app = await appAt(t, 23, 1000)
  const browser = new Browser(app)
  await browser.register()
  const id = await connectYoutube(app, browser)
  // one unit below the routine share: the profile call fits, the playlist call does not
  await spentToday(app, 799)
  app.clock.advance(HOUR / 2)
  await writeRaw(app, "UPDATE account_jobs SET next_run_at = 0 WHERE kind = 'sync'")
  await app.app.jobs.runner.runDue()
  const [row] = await app.raw('SELECT status, status_message FROM user_social_accounts')
  assert.equal(row?.status, 'rate_limited')
  assert.match(String(row?.status_message), /Routine YouTube syncs used their 80 %/)
  assert.match(String(row?.status_message), /kept for connecting and "Sync now"/)
  const [budget] = await app.raw('SELECT window_calls FROM api_budgets WHERE scope = ?', [
    appScope('youtube'),
  ])
  assert.equal(Number(budget?.window_calls), 800, 'never beyond the routine share')
  assert.equal((await browser.fetch('POST', `/api/socials/accounts/${id}/sync`)).statusCode, 200)
})

test('routine work keeps to the day’s pace: ahead of it, a due account waits until the pace catches up', async (t) => {
  const app = await appAt(t, 1, 10_000)
  const browser = new Browser(app)
  await browser.register()
  await connectYoutube(app, browser)
  // at 01:00 Pacific about 333 + 80 routine units may have gone; 2,000 have
  await spentToday(app, 2000)
  await writeRaw(app, "UPDATE account_jobs SET next_run_at = 0 WHERE kind = 'sync'")
  const report = await app.app.jobs.runner.runDue()
  assert.equal(report.syncs.postponed, 1)
  const day = dayAt(QUOTA_TIME_ZONE, app.clock.now())
  const catchUp = day.start + ((2000 - 80) / 8000) * (day.end - day.start)
  const [job] = await app.raw("SELECT next_run_at FROM account_jobs WHERE kind = 'sync'")
  assert.ok(Number(job?.next_run_at) >= catchUp - 1000, 'not before the pace catches up')
  assert.ok(Number(job?.next_run_at) < day.end, 'the same day')
})

test('a quota too small for every channel within 30 days: a warning in the logs and on /readyz', async (t) => {
  const app = await appAt(t, 12, 10)
  const browser = new Browser(app)
  const user = await browser.register()
  // 150 channels on 8 routine units a day: 150 · 2 / 30 = 10 > 8
  for (let i = 0; i < 150; i++)
    await app.store.upsertOAuthAccount({
      user_id: user.id,
      platform: 'youtube',
      username: `channel${i}`,
      platform_user_id: `UC${String(i).padStart(22, '0')}`,
      platform_scoped_id: null,
      platform_attributes: {},
      credentials: sealCredentials(app.vault, {
        accessToken: `ya29.test-${i}`,
        accessTokenExpiresAt: app.clock.now() + HOUR,
        refreshToken: `1//test-${i}`,
        refreshTokenExpiresAt: null,
        scopes: null,
        issuedAt: app.clock.now(),
        refreshTokenIssuedAt: app.clock.now(),
      }),
      posts_count: 5,
      profile_url: `https://www.youtube.com/@channel${i}`,
      profile_picture_url: null,
      now: app.clock.now(),
    })
  const before = await app.request({ method: 'GET', url: '/readyz' })
  assert.equal(before.json<{ warnings?: unknown }>().warnings, undefined)
  await app.app.jobs.runner.runDue()
  const ready = await app.request({ method: 'GET', url: '/readyz' })
  assert.equal(ready.statusCode, 200)
  const body = ready.json<{ status: string; warnings?: { platform: string; message: string }[] }>()
  assert.equal(body.status, 'ok')
  assert.equal(body.warnings?.[0]?.platform, 'youtube')
  assert.match(body.warnings?.[0]?.message ?? '', /150 accounts need about 15 units a day/)
  assert.ok(app.logs.some((line) => line.includes('will not be refreshed within 30 days')))
})
