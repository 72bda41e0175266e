import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  buildTestApp,
  connectAccount,
  connectedApp,
  type TestApp,
  passwordChangedFault,
} from '../helpers/build-app.ts'
import type { Credentials } from '../../src/providers/types.ts'
import { renewalWith } from '../helpers/jobs.ts'
import { accessTokenCredentials, parseSealed } from '../../src/socials/credentials.ts'

const DAY = 86_400_000
const SECRET = 'jobs-secret-for-tests-0123456789abcdef'

const connected = (t: Parameters<typeof buildTestApp>[0]) =>
  connectedApp(t, { JOBS_SECRET: SECRET })
const refreshCalls = (app: TestApp): number =>
  app.emulator.state.calls.filter((c) => c.path.endsWith('/refresh_access_token')).length
const row = async (app: TestApp) =>
  (
    await app.raw(
      'SELECT status, encrypted_credentials AS token, credentials_format, credentials_version, token_expires_at, credentials_expire_at, token_issued_at, renew_lease_until, renewal_failures FROM social_accounts_with_jobs',
    )
  )[0] ?? {}
const runDue = (app: TestApp, auth = `Bearer ${SECRET}`) =>
  app.request({ method: 'POST', url: '/internal/jobs/run-due', headers: { authorization: auth } })

test('a token is renewed once it is within the margin (30 days by default), never earlier', async (t) => {
  const { app } = await connected(t)
  const before = await row(app)
  assert.deepEqual(
    (await runDue(app)).json<{ renewals: { renewed: number } }>().renewals.renewed,
    0,
  )
  app.clock.advance(29 * DAY)
  assert.equal(
    (await runDue(app)).json<{ renewals: { renewed: number } }>().renewals.renewed,
    0,
    '31 days left: not due',
  )
  assert.equal(refreshCalls(app), 0)
  app.clock.advance(2 * DAY)
  const response = await runDue(app)
  assert.equal(response.statusCode, 200)
  assert.deepEqual(response.json<{ renewals: unknown }>().renewals, {
    renewed: 1,
    failed: 0,
    reauth_required: 0,
    expired: 0,
    api_calls: 1,
  })
  const after = await row(app)
  assert.notEqual(after.token, before.token)
  assert.ok(Math.abs(Number(after.token_issued_at) - app.clock.now()) < 10_000, 'issued now')
  assert.equal(Number(after.token_expires_at) - Number(after.token_issued_at), 60 * DAY)
  assert.equal(Number(after.credentials_expire_at), Number(after.token_expires_at))
  assert.equal(Number(after.credentials_version), Number(before.credentials_version) + 1)
  assert.equal(after.renew_lease_until, null)
  assert.equal(Number(after.credentials_format), 2)
  const sealed = parseSealed(app.vault.decrypt(String(after.token)))
  assert.ok(sealed)
  assert.equal(app.emulator.state.parseToken(sealed.accessToken)?.k, 'l')
  assert.equal(sealed.accessTokenExpiresAt, Number(after.token_expires_at))
  assert.equal(
    (await runDue(app)).json<{ renewals: { renewed: number } }>().renewals.renewed,
    0,
    'renewed tokens are not due again',
  )
})

test('left alone for 90 days with the job running daily, the account stays active', async (t) => {
  const { app } = await connected(t)
  for (let day = 1; day <= 90; day++) {
    app.clock.advance(DAY)
    const report = (await runDue(app)).json<{ renewals: { failed: number; expired: number } }>()
      .renewals
    assert.deepEqual([report.failed, report.expired], [0, 0], `day ${day}`)
  }
  assert.equal((await row(app)).status, 'active')
  assert.ok(Number((await row(app)).token_expires_at) - app.clock.now() > 29 * DAY)
  assert.equal(refreshCalls(app), 3, 'renewed on days 30, 60 and 90: always with 30 days to spare')
})

test('a token never renewed expires: on day 61 it is reauth_required', async (t) => {
  const { app } = await connected(t)
  app.clock.advance(61 * DAY)
  const report = (await runDue(app)).json<{ renewals: { expired: number; renewed: number } }>()
    .renewals
  assert.deepEqual([report.expired, report.renewed], [1, 0])
  assert.equal((await row(app)).status, 'reauth_required')
  assert.equal(refreshCalls(app), 0)
})

test('concurrent runs renew each due token exactly once', async (t) => {
  const { app } = await connected(t)
  app.clock.advance(40 * DAY)
  const reports = await Promise.all([
    app.app.jobs.renewal.runDue(),
    app.app.jobs.renewal.runDue(),
    runDue(app),
  ])
  const renewed = reports.reduce(
    (n, r) =>
      n +
      ('renewed' in r ? r.renewed : r.json<{ renewals: { renewed: number } }>().renewals.renewed),
    0,
  )
  assert.equal(renewed, 1)
  assert.equal(refreshCalls(app), 1)
})

test('a failed renewal keeps the working token, backs off, and succeeds later', async (t) => {
  const { app, accountId } = await connected(t)
  app.clock.advance(40 * DAY)
  const before = await row(app)
  app.emulator.state.faults.push({ kind: 'http_5xx', count: 1, path: '/refresh_access_token' })
  const failed = (await runDue(app)).json<{ renewals: { failed: number } }>().renewals
  assert.equal(failed.failed, 1)
  const after = await row(app)
  assert.equal(after.token, before.token, 'old token kept')
  assert.equal(after.status, 'degraded')
  assert.equal(after.renewal_failures, 1)
  assert.equal(
    (await runDue(app)).json<{ renewals: { renewed: number } }>().renewals.renewed,
    0,
    'backing off',
  )
  app.clock.advance(16 * 60_000)
  assert.equal((await runDue(app)).json<{ renewals: { renewed: number } }>().renewals.renewed, 1)
  assert.deepEqual([(await row(app)).status, (await row(app)).renewal_failures], ['active', 0])
  assert.ok(accountId)
})

test('code 190 during renewal (password changed) → reauth_required, token kept for the record', async (t) => {
  const { app } = await connected(t)
  app.clock.advance(40 * DAY)
  app.emulator.state.faults.push(passwordChangedFault())
  const report = (await runDue(app)).json<{ renewals: { reauth_required: number } }>().renewals
  assert.equal(report.reauth_required, 1)
  assert.equal((await row(app)).status, 'reauth_required')
  assert.equal(refreshCalls(app), 1)
  assert.equal(
    (await runDue(app)).json<{ renewals: { renewed: number } }>().renewals.renewed,
    0,
    'not retried',
  )
})

test('the jobs endpoint needs its bearer secret', async (t) => {
  const { app } = await connected(t)
  for (const auth of ['', 'Bearer', 'Bearer wrong', `Basic ${SECRET}`, `Bearer ${SECRET}x`]) {
    const response = await runDue(app, auth)
    assert.equal(response.statusCode, 401, auth)
  }
  const off = await buildTestApp(t)
  assert.equal((await runDue(off)).statusCode, 503)
  assert.equal(app.logs.join('\n').includes(SECRET), false)
})

test('renewals run RENEWAL_CONCURRENCY at a time, each due token once', async (t) => {
  const app = await buildTestApp(t)
  for (let i = 0; i < 6; i++) {
    const browser = new Browser(app)
    await browser.register()
    await connectAccount(app, browser)
  }
  app.clock.advance(40 * DAY)
  let inFlight = 0
  let most = 0
  const renewedTokens: string[] = []
  const client = {
    async renew(current: Credentials): Promise<Credentials> {
      inFlight++
      most = Math.max(most, inFlight)
      // hold until four are in flight (or all that are left), so the peak does not depend on how
      // fast the database answers the claims; bounded, so a service that never allows four fails
      const deadline = Date.now() + 3000
      while (inFlight < Math.min(4, 6 - renewedTokens.length) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 5))
      await new Promise((resolve) => setTimeout(resolve, 20))
      inFlight--
      renewedTokens.push(current.accessToken)
      return accessTokenCredentials(
        `IGAArenewed${renewedTokens.length}`,
        app.clock.now() + 60 * DAY,
        app.clock.now(),
      )
    },
  }
  const renewal = renewalWith(app, client, 4)
  const report = await renewal.runDue()
  assert.equal(report.renewed, 6)
  assert.equal(most, 4, 'four at a time, never more')
  assert.equal(new Set(renewedTokens).size, 6, 'each token once')
})

test('a renewal that fails after Meta revoked the app leaves the account revoked, with no reauth event', async (t) => {
  // events are written to the outbox only when a receiver is configured (nothing listens here)
  const { app } = await connectedApp(t, {
    WEBHOOK_URL: 'http://127.0.0.1:9/hooks',
    WEBHOOK_SECRET: 'webhook-secret-for-the-renewal-test-0123',
  })
  app.clock.advance(40 * DAY)
  const igUser = String(
    (await app.raw('SELECT platform_user_id AS id FROM user_social_accounts'))[0]?.id,
  )
  const client = {
    // the deauthorize callback lands while the refresh is on its way; Meta then refuses it (190)
    async renew(): Promise<Credentials> {
      await app.store.revokeByPlatformIdentity(
        'instagram',
        igUser,
        'Access removed on Instagram',
        app.clock.now(),
      )
      const { GalleryError } = await import('../../src/errors.ts')
      throw new GalleryError('ERR_REAUTH_REQUIRED', 'Instagram no longer accepts this connection')
    },
  }
  const renewal = renewalWith(app, client)
  await renewal.runDue()
  assert.equal((await row(app)).status, 'revoked')
  const events = (await app.raw('SELECT event_type FROM webhook_deliveries')).map((r) =>
    String(r.event_type),
  )
  assert.ok(events.includes('account.connected'), 'the outbox records events')
  assert.ok(!events.includes('account.reauth_required'), events.join(', '))
})
