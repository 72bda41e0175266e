import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  ORIGIN,
  buildTestApp,
  connectedApp,
  testClockStart,
  type TestApp,
} from '../helpers/build-app.ts'
import { signRequest } from '../../src/providers/instagram/signed-request.ts'

const PASSWORD = 'correct horse battery'

function login(app: TestApp, email: string, password: string, ip: string, headers = {}) {
  return app.request({
    method: 'POST',
    url: '/api/auth/login',
    remoteAddress: ip,
    headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ email, password }),
  })
}

function assertThrottled(response: {
  statusCode: number
  headers: Record<string, unknown>
  json: () => unknown
}) {
  assert.equal(response.statusCode, 429)
  assert.ok(Number(response.headers['retry-after']) > 0, 'Retry-After')
  assert.equal((response.json() as { error: { code: string } }).error.code, 'ERR_RATE_LIMITED')
}

test('sign-in: limited per account and address, and per address — the owner elsewhere is not locked out', async (t) => {
  const app = await buildTestApp(t)
  const owner = new Browser(app)
  const { email } = await owner.register(undefined, PASSWORD)
  const attacker = '203.0.113.66'
  for (let i = 0; i < 10; i++)
    assert.equal((await login(app, email, `wrong password ${i}`, attacker)).statusCode, 401)
  const blocked = await login(app, email, PASSWORD, attacker)
  assertThrottled(blocked)
  assert.match(
    blocked.json<{ error: { message: string } }>().error.message,
    /Too many sign-in attempts for this account/,
  )
  assert.equal(blocked.cookies.length, 0, 'no session, even with the right password')
  // the owner, from their own address, signs in as usual
  assert.equal((await login(app, email, PASSWORD, '198.51.100.7')).statusCode, 200)

  // spraying many accounts from one address hits the per-address limit
  const sprayer = '203.0.113.99'
  let first429 = -1
  for (let i = 0; i < 31 && first429 < 0; i++) {
    const response = await login(app, `victim${i}@example.com`, 'guess guess guess', sprayer)
    if (response.statusCode === 429) first429 = i
  }
  assert.equal(first429, 30, 'the 31st attempt from one address is refused')
  // a window later the address may try again
  app.clock.advance(31 * 60_000)
  assert.equal(
    (await login(app, 'victim0@example.com', 'guess guess guess', sprayer)).statusCode,
    401,
  )
})

test('sign-in: guessing from many addresses is limited per account, but a browser the owner used before still signs in', async (t) => {
  // half past an hour: the per-account limit counts a sliding hour over aligned windows, so a
  // start in an hour's first minute would still count the guesses 61 minutes later
  const app = await buildTestApp(t, {}, { clockStart: testClockStart() })
  const owner = new Browser(app)
  const { email } = await owner.register(undefined, PASSWORD)
  assert.ok(owner.cookies.has('psg_device'), 'registering marks the browser as known')
  const other = new Browser(app)
  await other.register(undefined, PASSWORD)
  const deviceOf = (browser: Browser) => `psg_device=${browser.cookies.get('psg_device') ?? ''}`

  // a botnet: 30 addresses, one guess each, none of them anywhere near the per-address limits
  for (let i = 0; i < 30; i++)
    assert.equal((await login(app, email, `guess ${i}`, `203.0.113.${i + 1}`)).statusCode, 401)
  // the 31st unknown browser is refused, even from a fresh address with the right password
  const refused = await login(app, email, PASSWORD, '198.51.100.200')
  assertThrottled(refused)
  assert.match(
    refused.json<{ error: { message: string } }>().error.message,
    /browsers it has not signed in from before; a browser you signed in from before still works/,
  )
  assert.equal(refused.cookies.length, 0, 'no session')
  // neither a made-up device cookie nor another user's known device gets past it
  for (const cookie of [`psg_device=${'A'.repeat(43)}`, deviceOf(other), 'psg_device=short'])
    assertThrottled(await login(app, email, PASSWORD, '198.51.100.201', { cookie }))

  // the owner's own browser signs in: its known-device cookie skips the per-account limit
  const ok = await login(app, email, PASSWORD, '198.51.100.202', { cookie: deviceOf(owner) })
  assert.equal(ok.statusCode, 200, ok.body)
  assert.ok(ok.cookies.some((c) => c.name === 'psg_session'))
  assert.equal(
    ok.cookies.find((c) => c.name === 'psg_device')?.value,
    owner.cookies.get('psg_device'),
    'the same device value is kept (and its lifetime renewed)',
  )
  // a stolen device cookie is no skeleton key: the known browser has its own limit
  let status = 0
  for (let i = 0; i < 9 && status !== 429; i++)
    status = (await login(app, email, `guess ${i}`, '198.51.100.203', { cookie: deviceOf(owner) }))
      .statusCode
  assert.equal(status, 401, 'ten tries (with the sign-in above) from the known browser are allowed')
  assertThrottled(await login(app, email, PASSWORD, '198.51.100.203', { cookie: deviceOf(owner) }))
  // an hour later unknown browsers may try again
  app.clock.advance(61 * 60_000)
  assert.equal((await login(app, email, PASSWORD, '198.51.100.204')).statusCode, 200)
})

test('behind a trusted proxy the forwarded client address is the one limited; otherwise the header is ignored', async (t) => {
  for (const trusted of ['1', 'false']) {
    const app = await buildTestApp(t, { TRUST_PROXY: trusted })
    const proxy = '10.0.0.1'
    for (let i = 0; i < 30; i++)
      await login(app, `x${i}@example.com`, 'guess guess guess', proxy, {
        'x-forwarded-for': '203.0.113.1',
      })
    const other = await login(app, 'y@example.com', 'guess guess guess', proxy, {
      'x-forwarded-for': '203.0.113.2',
    })
    // trusted: another client behind the same proxy is not affected; untrusted: all share the proxy's address
    assert.equal(other.statusCode, trusted === '1' ? 401 : 429, `TRUST_PROXY=${trusted}`)
  }
})

test('with TRUST_PROXY as a hop count a client cannot choose its address by writing X-Forwarded-For', async (t) => {
  // Cloud Run: the front end appends the address it saw to whatever the client sent
  const app = await buildTestApp(t, { TRUST_PROXY: '1' })
  for (let i = 0; i < 30; i++)
    await login(app, `x${i}@example.com`, 'guess guess guess', '10.0.0.1', {
      'x-forwarded-for': `198.51.100.${i}, 203.0.113.9`,
    })
  const spoofed = await login(app, 'y@example.com', 'guess guess guess', '10.0.0.1', {
    'x-forwarded-for': '192.0.2.200, 203.0.113.9',
  })
  assertThrottled(spoofed)
  // behind a load balancer too (two proxies append): the second entry from the right counts
  const twoHops = await buildTestApp(t, { TRUST_PROXY: '2' })
  for (let i = 0; i < 30; i++)
    await login(twoHops, `x${i}@example.com`, 'guess guess guess', '10.0.0.1', {
      'x-forwarded-for': `198.51.100.${i}, 203.0.113.9, 35.191.0.1`,
    })
  assertThrottled(
    await login(twoHops, 'y@example.com', 'guess guess guess', '10.0.0.1', {
      'x-forwarded-for': '192.0.2.200, 203.0.113.9, 35.191.0.1',
    }),
  )
  assert.equal(
    (
      await login(twoHops, 'y@example.com', 'guess guess guess', '10.0.0.1', {
        'x-forwarded-for': '203.0.113.10, 35.191.0.1',
      })
    ).statusCode,
    401,
    'another client behind the same load balancer has its own budget',
  )
})

test('IPv6 clients count per /64 and IPv4-mapped addresses as their IPv4 address', async (t) => {
  const app = await buildTestApp(t)
  // thirty guesses, each from another address of one /64
  for (let i = 0; i < 30; i++)
    assert.equal(
      (await login(app, `v6-${i}@example.com`, 'guess guess guess', `2001:db8:7:8::${i + 1}`))
        .statusCode,
      401,
    )
  assertThrottled(await login(app, 'next@example.com', 'guess guess guess', '2001:db8:7:8:ffff::1'))
  assert.equal(
    (await login(app, 'next@example.com', 'guess guess guess', '2001:db8:7:9::1')).statusCode,
    401,
    'the neighbouring /64 is another client',
  )
  for (let i = 0; i < 30; i++)
    await login(app, `v4-${i}@example.com`, 'guess guess guess', '198.51.100.77')
  assertThrottled(await login(app, 'next@example.com', 'guess guess guess', '::ffff:198.51.100.77'))
})

test('sign-up, connect, "Sync now" and both callbacks answer 429 with Retry-After over their limits', async (t) => {
  const { app, browser, accountId } = await connectedApp(t)

  let status = 0
  for (let i = 0; i < 10 && status !== 429; i++) {
    const response = await app.request({
      method: 'POST',
      url: '/api/auth/register',
      remoteAddress: '192.0.2.10',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      payload: JSON.stringify({ email: `new${i}@example.com`, password: PASSWORD }),
    })
    status = response.statusCode
  }
  const extraSignUp = await app.request({
    method: 'POST',
    url: '/api/auth/register',
    remoteAddress: '192.0.2.10',
    headers: { origin: ORIGIN, 'content-type': 'application/json' },
    payload: JSON.stringify({ email: 'one-more@example.com', password: PASSWORD }),
  })
  assertThrottled(extraSignUp)
  assert.equal(
    (await app.raw("SELECT id FROM users WHERE email = 'one-more@example.com'")).length,
    0,
    'nothing stored',
  )

  // "Sync now": 10 per 10 minutes per account (connectedApp made none yet)
  for (let i = 0; i < 10; i++)
    assert.equal(
      (await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`)).statusCode,
      200,
    )
  const calls = app.emulator.state.calls.length
  assertThrottled(await browser.fetch('POST', `/api/socials/accounts/${accountId}/sync`))
  assert.equal(app.emulator.state.calls.length, calls, 'no Instagram call for a refused sync')

  // connect: 20 per 10 minutes per user (connectedApp used one)
  for (let i = 0; i < 19; i++)
    assert.equal(
      (await browser.fetch('POST', '/api/socials/connect/instagram', { body: {} })).statusCode,
      200,
    )
  assertThrottled(await browser.fetch('POST', '/api/socials/connect/instagram', { body: {} }))

  // the OAuth callback: 60 per 10 minutes per address
  for (let i = 0; i < 60; i++)
    await app.request({
      method: 'GET',
      url: '/api/socials/oauth/instagram/callback?state=x&code=y',
      remoteAddress: '192.0.2.20',
    })
  assertThrottled(
    await app.request({
      method: 'GET',
      url: '/api/socials/oauth/instagram/callback?state=x&code=y',
      remoteAddress: '192.0.2.20',
    }),
  )

  // Meta's callbacks: 120 per minute per address, before any signature work
  const form = `signed_request=${signRequest({ algorithm: 'HMAC-SHA256', user_id: '1' }, 'wrong-secret')}`
  const meta = () =>
    app.request({
      method: 'POST',
      url: '/api/socials/oauth/instagram/deauthorize',
      remoteAddress: '192.0.2.30',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form,
    })
  for (let i = 0; i < 120; i++) assert.equal((await meta()).statusCode, 400)
  assertThrottled(await meta())
})
