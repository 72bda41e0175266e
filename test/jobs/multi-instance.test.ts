/**
 * Two instances of the service on one database (on PostgreSQL each has its own connection pool,
 * as two Cloud Run instances would).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  buildTestApp,
  connectedApp,
  consent,
  count,
  startConnect,
} from '../helpers/build-app.ts'
import { DAY, runDue } from '../helpers/jobs.ts'
import { SYNC_LEASE_MS } from '../../src/socials/sync-service.ts'

test('parallel callbacks with one state on two instances: exactly one account is written', async (t) => {
  const first = await buildTestApp(t)
  const second = await buildTestApp(t, {}, { share: first })
  const browser = new Browser(first)
  await browser.register()
  const { url } = await startConnect(browser)
  const callback = await consent(first, url, 'allow')
  const cookie = browser.cookieHeader()
  const [a, b] = await Promise.all(
    [first, second].map((instance) =>
      instance.app.inject({ method: 'GET', url: callback, headers: { cookie } }),
    ),
  )
  const outcomes = [a, b].map((r) => new URL(String(r?.headers.location), 'http://x').search)
  assert.equal(outcomes.filter((o) => o.includes('connect=success')).length, 1, outcomes.join(' '))
  assert.equal(outcomes.filter((o) => o.includes('reason=invalid_state')).length, 1)
  assert.equal(await count(first, 'user_social_accounts'), 1)
  assert.equal(await count(first, 'oauth_states'), 0)
})

test('an instance that dies holding leases: another takes the work over once they expire', async (t) => {
  const { app: first } = await connectedApp(t)
  const second = await buildTestApp(t, {}, { share: first })
  first.clock.advance(31 * DAY) // the token is due for renewal, the account for a sync
  const now = first.clock.now()
  // the first instance claims both jobs, then is killed before doing them
  assert.equal(
    (await first.store.claimDueSyncs({ now, leaseUntil: now + SYNC_LEASE_MS, limit: 10 })).length,
    1,
  )
  assert.equal(
    (
      await first.store.claimDueRenewals({
        now,
        dueBefore: now + 30 * DAY,
        issuedBefore: now - DAY,
        leaseUntil: now + 120_000,
        limit: 10,
      })
    ).length,
    1,
  )
  await first.app.close()

  const held = await runDue(second)
  assert.deepEqual([held.syncs.synced, held.renewals.renewed], [0, 0], 'leases are respected')
  first.clock.advance(SYNC_LEASE_MS + 1000)
  const takenOver = await runDue(second)
  assert.deepEqual([takenOver.syncs.synced, takenOver.renewals.renewed], [1, 1])
  const [row] = await first.raw(
    'SELECT status, sync_lease_until, renew_lease_until FROM social_accounts_with_jobs',
  )
  assert.deepEqual(row, { status: 'active', sync_lease_until: null, renew_lease_until: null })
})

test('"Sync now" on one instance while the other syncs the same account: one run, a clear 409', async (t) => {
  const { app: first, browser, accountId } = await connectedApp(t)
  const second = await buildTestApp(t, {}, { share: first })
  const other = new Browser(second)
  for (const [name, value] of browser.cookies) other.cookies.set(name, value)
  first.emulator.state.settings = { ...first.emulator.state.settings, latencyMs: 150 }
  const [a, b] = await Promise.all([
    browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`),
    other.fetch('POST', `/api/socials/accounts/${accountId}/sync`),
  ])
  const statuses = [a.statusCode, b.statusCode].sort()
  assert.deepEqual(statuses, [200, 409])
  const refused = a.statusCode === 409 ? a : b
  assert.match(
    refused.json<{ error: { message: string } }>().error.message,
    /being synced right now/,
  )
  const profiles = first.emulator.state.calls.filter((c) => /\/me$/.test(c.path)).length
  assert.equal(profiles, 2, 'the connect and one sync: the account was synced once')
})
