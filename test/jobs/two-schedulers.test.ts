import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser, buildTestApp, connectAccount } from '../helpers/build-app.ts'
import { DAY, runDue } from '../helpers/jobs.ts'

const SECRET = 'jobs-secret-for-tests-0123456789abcdef'

test('two schedulers in one process (two app instances, plus the jobs endpoint) never run the same job twice', async (t) => {
  const first = await buildTestApp(t, { JOBS_SECRET: SECRET, SYNC_CONCURRENCY: '3' })
  const second = await buildTestApp(t, { JOBS_SECRET: SECRET }, { share: first })
  // four accounts: two people, each connecting both professional demo accounts
  const accounts: string[] = []
  for (let person = 0; person < 2; person++) {
    const browser = new Browser(first)
    await browser.register()
    accounts.push(await connectAccount(first, browser, 1), await connectAccount(first, browser, 2))
  }
  // 31 days later every token is due for renewal and every account for a sync
  first.clock.advance(31 * DAY)
  const calls = first.emulator.state.calls
  const start = calls.length
  const endpoint = () =>
    first.request({
      method: 'POST',
      url: '/internal/jobs/run-due',
      headers: { authorization: `Bearer ${SECRET}` },
    })
  const [a, b, c, viaHttp] = await Promise.all([
    runDue(first),
    runDue(second),
    runDue(second),
    endpoint(),
  ])
  assert.equal(viaHttp.statusCode, 200)
  const reports = [a, b, c, viaHttp.json<typeof a>()]
  const made = calls.slice(start)
  const refreshes = made.filter((call) => call.path.endsWith('/refresh_access_token'))
  const profiles = made.filter((call) => /\/me$/.test(call.path))
  assert.equal(refreshes.length, 4, 'each due token renewed exactly once')
  assert.equal(profiles.length, 4, 'each account synced exactly once')
  // both runners did work, none did the same work: the totals add up
  assert.equal(
    reports.slice(0, 2).reduce((n, r) => n + r.renewals.renewed, 0),
    4,
  )
  assert.equal(
    reports.slice(0, 2).reduce((n, r) => n + r.syncs.synced, 0),
    4,
  )
  assert.deepEqual(b, c, 'concurrent calls on one runner share one run')
  assert.deepEqual(a, reports[3], 'the endpoint joined the in-process run of the same instance')
  const rows = await first.raw(
    'SELECT status, sync_lease_until, renew_lease_until FROM social_accounts_with_jobs',
  )
  assert.equal(rows.length, 4)
  for (const row of rows)
    assert.deepEqual(row, { status: 'active', sync_lease_until: null, renew_lease_until: null })
  assert.equal(new Set(accounts).size, 4)
})
