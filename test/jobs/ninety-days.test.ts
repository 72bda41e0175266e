import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser, buildTestApp, connectAccount } from '../helpers/build-app.ts'
import { DAY, accountRow, publish, runDue, storedMediaIds, unpublish } from '../helpers/jobs.ts'

const TICKS = 48 // scheduler passes per emulated day

test(
  'left alone for 90 emulated days with the scheduler running, an account stays healthy and fresh on the fewest calls',
  {
    timeout: 300_000,
  },
  async (t) => {
    const app = await buildTestApp(t, { SCHEDULER_INTERVAL_SECONDS: '0' })
    const browser = new Browser(app)
    await browser.register()
    await connectAccount(app, browser)
    const calls = app.emulator.state.calls
    const connectCalls = calls.length
    const syncs = { incremental: 0, full: 0, resume: 0 }
    let syncCalls = 0
    let renewals = 0
    let published = ''
    let removed = ''
    const user = app.emulator.state.userByIndex(1)
    assert.ok(user)
    // a scheduler pass every 30 minutes (the default period is 5 minutes: the same work in more,
    // cheaper passes; syncs stay on their jittered hourly schedule)
    for (let tick = 0; tick <= 90 * TICKS; tick++) {
      const now = app.clock.now()
      const report = await runDue(app)
      renewals += report.renewals.renewed
      syncCalls += report.syncs.api_calls
      for (const mode of ['incremental', 'full', 'resume'] as const)
        syncs[mode] += report.syncs.modes[mode]
      assert.equal(
        report.syncs.failed + report.renewals.failed + report.renewals.expired,
        0,
        `tick ${tick}`,
      )
      if (report.syncs.modes.full === 0 && report.syncs.modes.incremental === 1)
        assert.equal(report.syncs.api_calls, 2, `tick ${tick}: an unchanged account costs 2 calls`)

      const row = await accountRow(app)
      assert.ok(
        row.status === 'active' || row.status === 'refresh_due',
        `tick ${tick}: ${String(row.status)}`,
      )
      assert.ok(Number(row.token_expires_at) - now > 20 * DAY, 'the token always has weeks left')
      const earliest = Number((await app.raw('SELECT MIN(url_expires_at) AS t FROM media'))[0]?.t)
      assert.ok(earliest > now, `tick ${tick}: no stored media URL has expired`)

      if (tick === 45 * TICKS) published = await publish(app, 1, 'posted on day 45')
      if (tick === 45 * TICKS + 4)
        assert.equal((await storedMediaIds(app))[0], published, 'in the gallery within 2 hours')
      if (tick === 50 * TICKS) {
        removed = user.media[20]?.id ?? ''
        await unpublish(app, removed)
      }
      if (tick === 51 * TICKS + 2)
        assert.equal(
          (await storedMediaIds(app)).includes(removed),
          false,
          'deletion reconciled within a day',
        )
      app.clock.advance(DAY / TICKS)
    }
    assert.deepEqual(
      await storedMediaIds(app),
      user.media.map((m) => m.id),
    )
    const refreshCalls = calls.filter((c) => c.path.endsWith('/refresh_access_token')).length
    assert.equal(renewals, 3, 'renewed on days 30, 60 and 90')
    assert.equal(refreshCalls, 3)
    const total = calls.length - connectCalls
    assert.equal(total, syncCalls + refreshCalls, 'every call accounted for')
    // full runs: ⌈48/25⌉ + 1 = 3 calls (4 once a 49th post makes... still 2 pages); incremental: 2
    assert.equal(syncCalls, syncs.full * 3 + syncs.incremental * 2 + syncs.resume * 2)
    assert.ok(
      syncs.full >= 85 && syncs.full <= 100,
      `about one full reconciliation a day (${syncs.full})`,
    )
    t.diagnostic(
      `90 days: ${syncs.incremental} incremental syncs × 2 calls, ${syncs.full} full × 3, ${syncs.resume} resumed; ` +
        `${refreshCalls} token refreshes; ${total} Instagram calls in all (${(total / 90).toFixed(1)} a day)`,
    )
  },
)
