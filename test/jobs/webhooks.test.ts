import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import {
  Browser,
  buildTestApp,
  connectAccount,
  passwordChangedFault,
} from '../helpers/build-app.ts'
import { runDue } from '../helpers/jobs.ts'
import { signRequest } from '../../src/providers/instagram/signed-request.ts'
import { instagramUserId } from '../../src/providers/instagram/emulator/demo-data.ts'

const WEBHOOK_SECRET = 'webhook-secret-for-tests-0123456789abcdef'

interface Received {
  headers: IncomingHttpHeaders
  body: string
}

/** A receiver on loopback that answers with the queued statuses (then 200) and keeps what came. */
async function receiver(t: TestContext, statuses: number[] = []) {
  const received: Received[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') })
      response.statusCode = statuses.shift() ?? 200
      response.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hooks/phoenix`, received }
}

/** The receiver's side of the contract, written independently of the sender's code. */
function verify(
  r: Received,
  now: number,
  secret: string = WEBHOOK_SECRET,
): { type: string; data: Record<string, unknown> } {
  const header = String(r.headers['x-phoenix-signature'])
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
  assert.ok(match, `signature header: ${header}`)
  const [, t = '', mac = ''] = match
  const expected = createHmac('sha256', secret).update(`${t}.${r.body}`).digest()
  assert.ok(timingSafeEqual(expected, Buffer.from(mac, 'hex')), 'signature matches')
  assert.ok(Math.abs(Number(t) - now / 1000) < 300, 'fresh timestamp')
  const event = JSON.parse(r.body) as {
    id: string
    type: string
    created_at: string
    data: Record<string, unknown>
  }
  assert.equal(r.headers['x-phoenix-event'], event.type)
  assert.equal(r.headers['x-phoenix-delivery'], event.id)
  assert.equal(r.headers['content-type'], 'application/json')
  return event
}

async function setup(t: TestContext, statuses: number[] = [], secret: string = WEBHOOK_SECRET) {
  const hook = await receiver(t, statuses)
  const app = await buildTestApp(t, { WEBHOOK_URL: hook.url, WEBHOOK_SECRET: secret })
  const browser = new Browser(app)
  await browser.register()
  return { app, browser, hook }
}

test('webhooks: connect, reauth_required, revoked and deletion are delivered, signed, without tokens', async (t) => {
  const { app, browser, hook } = await setup(t)
  const accountId = await connectAccount(app, browser)
  await app.app.jobs.webhooks.idle()
  assert.equal(hook.received.length, 1)
  const connected = verify(hook.received[0] ?? { headers: {}, body: '' }, app.clock.now())
  assert.equal(connected.type, 'account.connected')
  assert.equal(connected.data.account_id, accountId)
  assert.equal(connected.data.username, 'sandbox_creator')
  assert.equal(connected.data.status, 'active')
  assert.equal(connected.data.platform_user_id, instagramUserId(1))
  assert.equal(connected.data.instagram_user_id, instagramUserId(1), 'the original field stays')

  app.emulator.state.faults.push(passwordChangedFault())
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  // a second failure of the same kind is no new event
  await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)
  await app.app.jobs.webhooks.idle()
  const reauth = hook.received.slice(1).map((r) => verify(r, app.clock.now()))
  assert.deepEqual(
    reauth.map((e) => [e.type, e.data.status]),
    [['account.reauth_required', 'reauth_required']],
  )

  const signed = signRequest(
    {
      algorithm: 'HMAC-SHA256',
      user_id: instagramUserId(1),
      issued_at: Math.floor(app.clock.now() / 1000),
    },
    app.emulator.state.settings.clientSecret,
  )
  const deauth = await app.request({
    method: 'POST',
    url: '/api/socials/oauth/instagram/deauthorize',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `signed_request=${signed}`,
  })
  assert.equal(deauth.statusCode, 200)
  const deletion = await app.request({
    method: 'POST',
    url: '/api/socials/oauth/instagram/data-deletion',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `signed_request=${signed}`,
  })
  const code = deletion.json<{ confirmation_code: string }>().confirmation_code
  await browser.fetch('DELETE', '/api/socials/data')
  await app.app.jobs.webhooks.idle()
  const later = hook.received.slice(2).map((r) => verify(r, app.clock.now()))
  assert.deepEqual(
    later.map((e) => e.type),
    ['account.revoked', 'data.deleted', 'data.deleted'],
  )
  assert.equal(later[0]?.data.account_id, accountId)
  assert.deepEqual(later[1]?.data, {
    reason: 'instagram_data_deletion_request',
    platform: 'instagram',
    platform_user_id: instagramUserId(1),
    instagram_user_id: instagramUserId(1),
    confirmation_code: code,
    deleted_accounts: 1,
  })
  assert.equal(later[2]?.data.reason, 'user_request')

  // nothing secret in any delivery
  const token = await app.raw('SELECT encrypted_credentials FROM user_social_accounts')
  assert.equal(token.length, 0)
  for (const r of hook.received) {
    assert.doesNotMatch(r.body, /IGAA|gAAAAA|access_token|client_secret/)
    assert.doesNotMatch(r.body, new RegExp(app.emulator.state.settings.clientSecret))
  }
})

test('webhooks: a failing receiver is retried with backoff, nothing lost; 7 failures end the retries', async (t) => {
  const { app, browser, hook } = await setup(t, [500, 503])
  await connectAccount(app, browser)
  await app.app.jobs.webhooks.idle()
  assert.equal(hook.received.length, 1)
  const row = async () =>
    (
      await app.raw('SELECT status, attempts, next_attempt_at, last_error FROM webhook_deliveries')
    )[0]
  assert.deepEqual(
    [(await row())?.status, (await row())?.attempts, (await row())?.last_error],
    ['pending', 1, 'receiver answered HTTP 500'],
  )
  assert.ok(Math.abs(Number((await row())?.next_attempt_at) - (app.clock.now() + 60_000)) < 5_000)
  assert.equal((await runDue(app)).webhooks.delivered, 0, 'not before the backoff')
  app.clock.advance(61_000)
  assert.deepEqual((await runDue(app)).webhooks, { delivered: 0, retrying: 1, failed: 0 })
  app.clock.advance(5 * 60_000 + 1000)
  assert.deepEqual((await runDue(app)).webhooks, { delivered: 1, retrying: 0, failed: 0 })
  assert.equal((await row())?.status, 'delivered')
  const ids = new Set(hook.received.map((r) => r.headers['x-phoenix-delivery']))
  assert.equal(ids.size, 1, 'the same event id on every attempt: receivers deduplicate on it')

  // a receiver that never accepts: after the 7th attempt the delivery is marked failed
  hook.received.length = 0
  const {
    app: second,
    browser: other,
    hook: down,
  } = await setup(
    t,
    Array.from({ length: 20 }, () => 500),
  )
  await connectAccount(second, other)
  await second.app.jobs.webhooks.idle()
  for (const minutes of [1, 5, 30, 120, 360, 720]) {
    second.clock.advance(minutes * 60_000 + 1000)
    await runDue(second)
  }
  assert.equal(down.received.length, 7)
  const failed = (await second.raw('SELECT status, attempts FROM webhook_deliveries'))[0]
  assert.deepEqual([failed?.status, failed?.attempts], ['failed', 7])
})

test('webhooks: an unreachable receiver does not slow the request that caused the event', async (t) => {
  const app = await buildTestApp(t, {
    WEBHOOK_URL: 'http://127.0.0.1:9/unreachable',
    WEBHOOK_SECRET,
  })
  const browser = new Browser(app)
  await browser.register()
  await connectAccount(app, browser)
  await app.app.jobs.webhooks.idle()
  const row = (await app.raw('SELECT status, attempts, last_error FROM webhook_deliveries'))[0]
  assert.deepEqual(
    [row?.status, row?.attempts, row?.last_error],
    ['pending', 1, 'receiver unreachable'],
  )
  assert.equal(
    app.logs.some((line) => line.includes(WEBHOOK_SECRET)),
    false,
    'the secret is never logged',
  )
})

test('webhooks are off unless WEBHOOK_URL is set: nothing is queued', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  await connectAccount(app, browser)
  assert.equal((await app.raw('SELECT COUNT(*) AS n FROM webhook_deliveries'))[0]?.n, 0)
})

test('webhooks: a token that expired unrenewed is announced once as reauth_required', async (t) => {
  const { app, browser, hook } = await setup(t)
  await connectAccount(app, browser)
  await app.app.jobs.webhooks.idle()
  assert.equal(
    verify(hook.received[0] ?? { headers: {}, body: '' }, app.clock.now()).type,
    'account.connected',
  )
  app.clock.advance(61 * 86_400_000)
  await runDue(app)
  await runDue(app)
  await app.app.jobs.webhooks.idle()
  const events = hook.received.slice(1).map((r) => verify(r, app.clock.now()))
  assert.deepEqual(
    events.map((e) => [e.type, e.data.status]),
    [['account.reauth_required', 'reauth_required']],
  )
})

// --- Standard Webhooks (https://www.standardwebhooks.com) ---------------------------------------

/** The Standard Webhooks specification's example secret (24 bytes). */
const WHSEC_A = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const WHSEC_B = `whsec_${Buffer.alloc(32, 0xb7).toString('base64')}`
const WHSEC_OTHER = `whsec_${Buffer.alloc(32, 0x42).toString('base64')}`

interface StandardEvent {
  id: string
  type: string
  data: Record<string, unknown>
}

/**
 * A receiver using the `standardwebhooks` package, with its clock at `nowMs` (the package checks
 * the timestamp against `Date.now()`; the test app's clock can be ahead of it).
 */
function verifyStandard(secret: string, r: Received, nowMs: number, body = r.body): StandardEvent {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(r.headers))
    if (typeof value === 'string') headers[name] = value
  const realNow = Date.now
  Date.now = () => nowMs
  try {
    return new Webhook(secret).verify(body, headers) as StandardEvent
  } finally {
    Date.now = realNow
  }
}

/** The same check by hand (node:crypto), so the test does not only trust the package. */
function standardSignatures(r: Received): string[] {
  const header = String(r.headers['webhook-signature'])
  assert.match(header, /^v1,[A-Za-z0-9+/]{43}=( v1,[A-Za-z0-9+/]{43}=)*$/, header)
  return header.split(' ').map((entry) => entry.slice('v1,'.length))
}
function expectedSignature(whsec: string, r: Received): string {
  const key = Buffer.from(whsec.slice('whsec_'.length), 'base64')
  const signed = `${String(r.headers['webhook-id'])}.${String(r.headers['webhook-timestamp'])}.${r.body}`
  return createHmac('sha256', key).update(signed).digest('base64')
}

function first(hook: { received: Received[] }): Received {
  const r = hook.received[0]
  assert.ok(r, 'a delivery arrived')
  return r
}

test('webhooks (Standard Webhooks): webhook-id, webhook-timestamp and webhook-signature over id.timestamp.body with a whsec_ secret', async (t) => {
  const { app, browser, hook } = await setup(t, [], WHSEC_A)
  const accountId = await connectAccount(app, browser)
  await app.app.jobs.webhooks.idle()
  assert.equal(hook.received.length, 1)
  const r = first(hook)
  const now = app.clock.now()
  const event = verifyStandard(WHSEC_A, r, now)
  assert.equal(event.type, 'account.connected')
  assert.equal(event.data.account_id, accountId)
  assert.equal(r.headers['webhook-id'], event.id, 'webhook-id is the event id')
  assert.match(event.id, /^evt_/)
  assert.ok(Math.abs(Number(r.headers['webhook-timestamp']) - now / 1000) < 5, 'Unix seconds')
  assert.deepEqual(standardSignatures(r), [expectedSignature(WHSEC_A, r)], 'one secret, one v1')

  // what a receiver must refuse: a changed body, a changed id, another key, a replay later on
  const refused = (what: string, check: () => unknown) =>
    assert.throws(check, WebhookVerificationError, what)
  refused('tampered body', () =>
    verifyStandard(WHSEC_A, r, now, r.body.replace('connected', 'revoked')),
  )
  refused('tampered id', () =>
    verifyStandard(WHSEC_A, { ...r, headers: { ...r.headers, 'webhook-id': 'evt_other' } }, now),
  )
  refused('tampered timestamp', () =>
    verifyStandard(
      WHSEC_A,
      { ...r, headers: { ...r.headers, 'webhook-timestamp': String(Math.floor(now / 1000) + 1) } },
      now,
    ),
  )
  refused('another secret', () => verifyStandard(WHSEC_OTHER, r, now))
  refused('replayed 10 minutes later', () => verifyStandard(WHSEC_A, r, now + 10 * 60_000))

  // the deprecated headers are still there, keyed with the secret as written
  assert.equal(verify(r, now, WHSEC_A).type, 'account.connected')
})

test('webhooks (Standard Webhooks): rotation — every secret of WEBHOOK_SECRET signs; a receiver knowing either one verifies', async (t) => {
  const { app, browser, hook } = await setup(t, [], `${WHSEC_A} ${WHSEC_B}`)
  await connectAccount(app, browser)
  await app.app.jobs.webhooks.idle()
  const r = first(hook)
  const now = app.clock.now()
  assert.deepEqual(standardSignatures(r), [
    expectedSignature(WHSEC_A, r),
    expectedSignature(WHSEC_B, r),
  ])
  assert.equal(verifyStandard(WHSEC_B, r, now).type, 'account.connected', 'only the second')
  assert.equal(verifyStandard(WHSEC_A, r, now).type, 'account.connected', 'only the first')
  assert.throws(() => verifyStandard(WHSEC_OTHER, r, now), WebhookVerificationError)
  // the deprecated X-Phoenix-Signature is computed with the first secret only
  assert.equal(verify(r, now, WHSEC_A).type, 'account.connected')
  assert.throws(() => verify(r, now, WHSEC_B))

  // moving off a legacy plain secret: old receivers keep the X-Phoenix-* check meanwhile
  const migrating = await setup(t, [], `${WEBHOOK_SECRET} ${WHSEC_B}`)
  await connectAccount(migrating.app, migrating.browser)
  await migrating.app.app.jobs.webhooks.idle()
  const m = first(migrating.hook)
  const later = migrating.app.clock.now()
  const derived = `whsec_${Buffer.from(WEBHOOK_SECRET, 'utf8').toString('base64')}`
  assert.equal(verifyStandard(WHSEC_B, m, later).type, 'account.connected')
  assert.equal(verifyStandard(derived, m, later).type, 'account.connected')
  assert.equal(verify(m, later).type, 'account.connected')
})

test('webhooks (Standard Webhooks): a legacy plain secret keys the signature with its UTF-8 bytes (receiver: whsec_ + base64(secret))', async (t) => {
  const plain = 'webhook-sécret-für-tests-0123456789abcdef' // not ASCII: pins UTF-8, not Latin-1
  for (const secret of [WEBHOOK_SECRET, plain]) {
    const { app, browser, hook } = await setup(t, [], secret)
    await connectAccount(app, browser)
    await app.app.jobs.webhooks.idle()
    const r = first(hook)
    const now = app.clock.now()
    const derived = `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`
    assert.equal(verifyStandard(derived, r, now).type, 'account.connected', secret)
    assert.deepEqual(standardSignatures(r), [expectedSignature(derived, r)])
    assert.throws(
      () => verifyStandard(derived, r, now, `${r.body} `),
      WebhookVerificationError,
      'tampered body',
    )
    // and the deprecated headers verify exactly as before
    assert.equal(verify(r, now, secret).type, 'account.connected')
  }
})

test('webhooks (Standard Webhooks): a retry keeps webhook-id; its timestamp and signature are new', async (t) => {
  const { app, browser, hook } = await setup(t, [500], WHSEC_A)
  await connectAccount(app, browser)
  await app.app.jobs.webhooks.idle()
  const firstAttempt = first(hook)
  const firstAt = app.clock.now()
  verifyStandard(WHSEC_A, firstAttempt, firstAt)
  app.clock.advance(61_000)
  assert.deepEqual((await runDue(app)).webhooks, { delivered: 1, retrying: 0, failed: 0 })
  const retry = hook.received[1]
  assert.ok(retry, 'the retry arrived')
  const retryAt = app.clock.now()
  const event = verifyStandard(WHSEC_A, retry, retryAt)
  assert.equal(retry.body, firstAttempt.body, 'the same event')
  assert.equal(retry.headers['webhook-id'], firstAttempt.headers['webhook-id'])
  assert.equal(retry.headers['webhook-id'], event.id)
  const seconds = (r: Received) => Number(r.headers['webhook-timestamp'])
  assert.ok(seconds(retry) - seconds(firstAttempt) >= 60, 'the time of each attempt')
  assert.ok(Math.abs(seconds(retry) - retryAt / 1000) < 5)
  assert.notEqual(retry.headers['webhook-signature'], firstAttempt.headers['webhook-signature'])
})
