import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Browser,
  buildTestApp,
  connectAccount,
  consent,
  count,
  ORIGIN,
  startConnect,
  type TestApp,
  passwordChangedFault,
} from '../helpers/build-app.ts'
import { sha256 } from '../../src/crypto/random.ts'
import { parseSealed } from '../../src/socials/credentials.ts'

function landing(location: unknown): URL {
  return new URL(String(location), ORIGIN)
}

/** Starts a connection, presses Allow, and returns the callback URL after `tamper` edits its query. */
async function tamperedCallback(
  app: TestApp,
  browser: Browser,
  tamper: (query: URLSearchParams) => void,
): Promise<string> {
  const { url } = await startConnect(browser)
  const callback = new URL(await consent(app, url, 'allow'), ORIGIN)
  tamper(callback.searchParams)
  return callback.pathname + callback.search
}

/** Asserts that nothing was stored by a failed callback. */
async function assertNothingStored(t: TestApp): Promise<void> {
  assert.equal(await count(t, 'user_social_accounts'), 0)
  assert.equal(await count(t, 'media'), 0)
}

test('connect answers an authorization URL with a fresh 256-bit state, the scope allow-list and a binding cookie', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const response = await browser.fetch('POST', '/api/socials/connect/instagram', { body: {} })
  assert.equal(response.statusCode, 200)
  const body = response.json<{ authorization_url: string; sandbox: boolean; notice: string }>()
  assert.equal(body.sandbox, true)
  assert.match(body.notice, /Sandbox/)
  const url = new URL(body.authorization_url)
  assert.equal(url.origin + url.pathname, `${ORIGIN}/sandbox/instagram/oauth/authorize`)
  assert.equal(url.searchParams.get('scope'), 'instagram_business_basic')
  assert.equal(url.searchParams.get('response_type'), 'code')
  assert.equal(
    url.searchParams.get('redirect_uri'),
    `${ORIGIN}/api/socials/oauth/instagram/callback`,
  )
  assert.match(url.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/)
  const binding = response.cookies.find((c) => c.name === 'psg_oauth')
  assert.ok(binding)
  assert.equal(binding.httpOnly, true)
  assert.equal(binding.sameSite, 'Lax')
  assert.equal(binding.maxAge, 300)
  const rows = await app.raw(
    'SELECT state_hash, platform, expires_at - created_at AS ttl FROM oauth_states',
  )
  assert.equal(rows.length, 1)
  assert.equal(rows[0]?.platform, 'instagram')
  assert.equal(rows[0]?.ttl, 300_000)
  assert.notEqual(
    rows[0]?.state_hash,
    url.searchParams.get('state'),
    'only a digest of the state is stored',
  )
})

test('connect needs a signed-in user', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.request({
    method: 'POST',
    url: '/api/socials/connect/instagram',
    headers: { origin: ORIGIN },
  })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json<{ error: { code: string } }>().error.code, 'ERR_UNAUTHENTICATED')
})

test('full flow: allow → callback stores an encrypted long-lived token and lands on the gallery', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  const user = await browser.register()
  const { url } = await startConnect(browser)
  const callback = await consent(app, url, 'allow')
  assert.match(callback, /^\/api\/socials\/oauth\/instagram\/callback\?code=AQB/)
  const response = await browser.fetch('GET', callback)
  assert.equal(response.statusCode, 303)
  assert.equal(response.headers['referrer-policy'], 'no-referrer')
  const target = landing(response.headers.location)
  assert.equal(target.pathname, '/gallery')
  assert.equal(target.searchParams.get('connect'), 'success')
  const rows = await app.raw('SELECT * FROM user_social_accounts')
  assert.equal(rows.length, 1)
  const row = rows[0] ?? {}
  assert.equal(row.user_id, user.id)
  assert.equal(row.username, 'sandbox_creator')
  assert.equal(row.platform_user_id, '17841457215396812', 'ids above 2^53 survive intact')
  assert.equal(row.platform_scoped_id, '27281358591558846')
  assert.equal(row.status, 'active')
  const encrypted = String(row.encrypted_credentials)
  assert.match(encrypted, /^gAAAAA/)
  assert.equal(Number(row.credentials_format), 2, 'sealed JSON credentials')
  const credentials = parseSealed(app.vault.decrypt(encrypted))
  assert.ok(credentials, 'the stored credentials open')
  const claims = app.emulator.state.parseToken(credentials.accessToken)
  assert.equal(claims?.k, 'l', 'the stored token is the long-lived one')
  assert.equal(credentials.refreshToken, null, 'Instagram has no refresh token')
  assert.equal(credentials.accessTokenExpiresAt, Number(row.token_expires_at))
  assert.equal(Number(row.token_expires_at) - Number(row.token_issued_at), 60 * 86_400_000)
  assert.equal(Number(row.credentials_expire_at), Number(row.token_expires_at))
  assert.equal(await count(app, 'oauth_states'), 0, 'the state was consumed')
  const page = await browser.fetch('GET', target.pathname + target.search)
  assert.match(page.body, /Instagram account connected/)
})

test('popup flow lands on the popup page that tells the opener', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const { url } = await startConnect(browser, 'popup')
  const response = await browser.fetch('GET', await consent(app, url, 'allow'))
  const target = landing(response.headers.location)
  assert.equal(target.pathname, '/oauth/popup-result')
  const page = await browser.fetch('GET', target.pathname + target.search)
  assert.equal(page.statusCode, 200)
  const script =
    /<script type="module" crossorigin src="(\/assets\/popup-result-[\w-]+\.js)">/.exec(
      page.body,
    )?.[1]
  assert.ok(script, 'the built popup script is referenced')
  const asset = await browser.fetch('GET', script)
  assert.equal(asset.statusCode, 200)
  assert.match(asset.body, /psg-oauth-result/)
  assert.doesNotMatch(page.body, /<script>(?!<)/, 'no inline script')
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'/)
})

test('the documented wrapped token response is accepted as well as the flat one', async (t) => {
  const app = await buildTestApp(t)
  app.emulator.state.settings = { ...app.emulator.state.settings, tokenResponseShape: 'wrapped' }
  const browser = new Browser(app)
  await browser.register()
  await connectAccount(app, browser)
  assert.equal(
    (await app.raw('SELECT platform_user_id FROM user_social_accounts'))[0]?.platform_user_id,
    '17841457215396812',
  )
})

test('reconnecting the same Instagram account updates the record, no duplicate', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const first = await connectAccount(app, browser)
  const before = String(
    (await app.raw('SELECT encrypted_credentials AS t FROM user_social_accounts'))[0]?.t,
  )
  const second = await connectAccount(app, browser)
  assert.equal(second, first)
  assert.equal(await count(app, 'user_social_accounts'), 1)
  assert.notEqual(
    String((await app.raw('SELECT encrypted_credentials AS t FROM user_social_accounts'))[0]?.t),
    before,
    'token replaced',
  )
})

const failureCases: {
  name: string
  run: (app: TestApp, browser: Browser) => Promise<string>
  reason: string
  message: RegExp
}[] = [
  {
    name: 'missing state',
    reason: 'invalid_state',
    message: /Invalid or expired state token/,
    run: (app, browser) => tamperedCallback(app, browser, (q) => q.delete('state')),
  },
  {
    name: 'unknown state',
    reason: 'invalid_state',
    message: /Invalid or expired state token/,
    run: (app, browser) => tamperedCallback(app, browser, (q) => q.set('state', 'A'.repeat(43))),
  },
  {
    name: 'expired state (older than 5 minutes)',
    reason: 'invalid_state',
    message: /Invalid or expired state token/,
    run: async (app, browser) => {
      const { url } = await startConnect(browser)
      const callback = await consent(app, url, 'allow')
      app.clock.advance(5 * 60_000 + 1)
      return callback
    },
  },
  {
    name: 'state issued to another user',
    reason: 'invalid_state',
    message: /Invalid or expired state token/,
    run: async (app, browser) => {
      const attacker = new Browser(app)
      await attacker.register()
      const { url } = await startConnect(attacker)
      const callback = await consent(app, url, 'allow')
      // the victim's browser holds the attacker's binding cookie too: only the user differs
      const binding = attacker.cookies.get('psg_oauth')
      if (binding !== undefined) browser.cookies.set('psg_oauth', binding)
      return callback
    },
  },
  {
    name: 'state from another browser (binding cookie missing)',
    reason: 'invalid_state',
    message: /Invalid or expired state token/,
    run: async (app, browser) => {
      const { url } = await startConnect(browser)
      browser.cookies.delete('psg_oauth')
      return consent(app, url, 'allow')
    },
  },
  {
    name: 'state from another browser (binding cookie swapped)',
    reason: 'invalid_state',
    message: /Invalid or expired state token/,
    run: async (app, browser) => {
      const { url } = await startConnect(browser)
      browser.cookies.set('psg_oauth', `r.${'B'.repeat(43)}`)
      return consent(app, url, 'allow')
    },
  },
  {
    name: 'user cancelled (error=access_denied)',
    reason: 'access_denied',
    message: /You cancelled the Instagram authorization/,
    run: async (app, browser) => {
      const { url } = await startConnect(browser)
      return consent(app, url, 'deny')
    },
  },
  {
    name: 'code rejected by the token endpoint (tampered code)',
    reason: 'token_exchange_failed',
    message: /Failed to exchange code for token.*Matching code was not found or was already used/,
    run: (app, browser) => tamperedCallback(app, browser, (q) => q.set('code', 'AQBforgedcode')),
  },
  {
    name: 'repeated parameters',
    reason: 'callback_validation',
    message: /OAuth callback validation error/,
    run: async (app, browser) => {
      const { url, state } = await startConnect(browser)
      const callback = await consent(app, url, 'allow')
      return `${callback}&state=${state}`
    },
  },
  {
    name: 'oversized code',
    reason: 'callback_validation',
    message: /OAuth callback validation error/,
    run: (app, browser) => tamperedCallback(app, browser, (q) => q.set('code', 'A'.repeat(5000))),
  },
  {
    name: 'malformed state',
    reason: 'callback_validation',
    message: /OAuth callback validation error/,
    run: (app, browser) =>
      tamperedCallback(app, browser, (q) => q.set('state', '<script>alert(1)</script>')),
  },
  {
    name: 'missing code',
    reason: 'callback_validation',
    message: /OAuth callback validation error/,
    run: (app, browser) => tamperedCallback(app, browser, (q) => q.delete('code')),
  },
  {
    name: 'personal (non-professional) account',
    reason: 'personal_account',
    message: /personal account.*Switch to professional account/s,
    run: async (app, browser) => {
      const { url } = await startConnect(browser)
      return consent(app, url, 'allow', 3)
    },
  },
  {
    name: 'Instagram down during the code exchange',
    reason: 'token_exchange_failed',
    message: /Failed to exchange code for token/,
    run: async (app, browser) => {
      const { url } = await startConnect(browser)
      const callback = await consent(app, url, 'allow')
      app.emulator.state.faults.push({ kind: 'http_5xx', count: 1, path: '/oauth/access_token' })
      return callback
    },
  },
  {
    name: 'profile read refused (token invalidated right after the exchange)',
    reason: 'profile_failed',
    message: /Failed to read the Instagram profile/,
    run: async (app, browser) => {
      const { url } = await startConnect(browser)
      const callback = await consent(app, url, 'allow')
      app.emulator.state.faults.push(passwordChangedFault('/me'))
      return callback
    },
  },
]

for (const c of failureCases) {
  test(`callback failure stores nothing and explains itself: ${c.name}`, async (t) => {
    const app = await buildTestApp(t)
    const browser = new Browser(app)
    await browser.register()
    const callback = await c.run(app, browser)
    const response = await browser.fetch('GET', callback)
    assert.equal(response.statusCode, 303)
    assert.equal(response.headers['referrer-policy'], 'no-referrer')
    const target = landing(response.headers.location)
    assert.equal(target.searchParams.get('connect'), 'error')
    assert.equal(target.searchParams.get('reason'), c.reason)
    await assertNothingStored(app)
    const page = await browser.fetch('GET', target.pathname + target.search)
    assert.equal(page.statusCode, 200)
    assert.match(page.body.replace(/&#39;/g, "'"), c.message)
    assert.doesNotMatch(page.body, /<script>alert/, 'provider text is escaped')
  })
}

test('a state is single-use: replaying the callback fails and changes nothing', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const { url } = await startConnect(browser)
  const callback = await consent(app, url, 'allow')
  const binding = browser.cookies.get('psg_oauth') ?? ''
  const first = await browser.fetch('GET', callback)
  assert.equal(landing(first.headers.location).searchParams.get('connect'), 'success')
  const snapshot = JSON.stringify(await app.raw('SELECT * FROM social_accounts_with_jobs'))
  browser.cookies.set('psg_oauth', binding)
  const replay = await browser.fetch('GET', callback)
  assert.equal(landing(replay.headers.location).searchParams.get('reason'), 'invalid_state')
  assert.equal(JSON.stringify(await app.raw('SELECT * FROM social_accounts_with_jobs')), snapshot)
})

test('mix-up defence (C6): a state issued for another provider is refused on the Instagram callback', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const { url, state } = await startConnect(browser)
  const callback = await consent(app, url, 'allow')
  // the same state, as if it had been issued for a connection to another platform
  const record = await app.store.consumeOAuthState(sha256(state))
  assert.ok(record)
  await app.store.createOAuthState({ ...record, platform: 'youtube' })
  const response = await browser.fetch('GET', callback)
  assert.equal(landing(response.headers.location).searchParams.get('reason'), 'invalid_state')
  await assertNothingStored(app)
  assert.equal(await count(app, 'oauth_states'), 0, 'consumed: it cannot be tried again')
})

test('two parallel callbacks with one state: exactly one wins', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const { url } = await startConnect(browser)
  const callback = await consent(app, url, 'allow')
  const results = await Promise.all(Array.from({ length: 5 }, () => browser.fetch('GET', callback)))
  const outcomes = results.map((r) => landing(r.headers.location).searchParams.get('connect'))
  assert.deepEqual(outcomes.filter((o) => o === 'success').length, 1)
  assert.equal(await count(app, 'user_social_accounts'), 1)
  const tokenCalls = app.emulator.state.calls.filter((c) => c.path.endsWith('/oauth/access_token'))
  assert.equal(tokenCalls.length, 1, 'the code was exchanged once')
})

test('a signed-out browser with the binding cookie still completes (the state carries the user)', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  const user = await browser.register()
  const { url } = await startConnect(browser)
  const callback = await consent(app, url, 'allow')
  browser.cookies.delete('psg_session')
  const response = await browser.fetch('GET', callback)
  assert.equal(landing(response.headers.location).searchParams.get('connect'), 'success')
  assert.equal((await app.raw('SELECT user_id FROM user_social_accounts'))[0]?.user_id, user.id)
})

test('production without Instagram credentials: connect answers 503 naming the variables; the sandbox is never mounted', async (t) => {
  const app = await buildTestApp(t, {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://gallery.example',
  })
  assert.equal(app.config.providers.instagram.mode, 'unconfigured')
  const browser = new Browser(app)
  const reg = await app.request({
    method: 'POST',
    url: '/api/auth/register',
    headers: { origin: 'https://gallery.example', 'content-type': 'application/json' },
    payload: JSON.stringify({ email: 'p@example.com', password: 'correct horse battery' }),
  })
  assert.equal(reg.statusCode, 201)
  const session = reg.cookies.find((c) => c.name === '__Host-psg_session')
  assert.ok(session, 'https PUBLIC_URL gives a __Host- cookie')
  assert.equal(session.secure, true)
  browser.cookies.set(session.name, session.value)
  const response = await browser.fetch('POST', '/api/socials/connect/instagram', {
    body: {},
    origin: 'https://gallery.example',
  })
  assert.equal(response.statusCode, 503)
  const body = response.json<{ error: { code: string; message: string } }>()
  assert.equal(body.error.code, 'ERR_NOT_CONFIGURED')
  assert.match(
    body.error.message,
    /^Instagram OAuth not configured: set INSTAGRAM_CLIENT_ID, INSTAGRAM_CLIENT_SECRET and INSTAGRAM_REDIRECT_URI$/,
  )
  // the routes a mounted sandbox serves (its consent page, token endpoint, Graph, CDN) are absent
  for (const [method, url] of [
    ['GET', '/sandbox/instagram/oauth/authorize'],
    ['POST', '/sandbox/instagram/oauth/access_token'],
    ['GET', '/sandbox/instagram/graph/me'],
    ['GET', '/sandbox/instagram/cdn/v/17900120912340654.svg'],
  ] as const) {
    const sandbox = await app.request({ method, url })
    assert.equal(sandbox.statusCode, 404, `${method} ${url}`)
    assert.equal(sandbox.json<{ error: { code: string } }>().error.code, 'ERR_NOT_FOUND')
  }
  assert.equal(await count(app, 'oauth_states'), 0)
})

test('a crafted error link cannot put its own words on our page', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const response = await browser.fetch(
    'GET',
    '/api/socials/oauth/instagram/callback?error=server_error&error_description=Your+account+is+locked.+Call+555-0100',
  )
  const target = landing(response.headers.location)
  assert.equal(target.searchParams.get('reason'), 'provider_error')
  assert.equal(target.searchParams.get('detail'), null)
  // with a genuine state, Instagram's own description is shown (escaped)
  const { state } = await startConnect(browser)
  const genuine = await browser.fetch(
    'GET',
    `/api/socials/oauth/instagram/callback?error=server_error&error_description=${encodeURIComponent('<b>Temporary</b> failure')}&state=${state}`,
  )
  const page = await browser.fetch('GET', String(genuine.headers.location))
  assert.match(page.body, /&#60;b&#62;Temporary&#60;\/b&#62; failure/)
  await assertNothingStored(app)
})

test('connect and callback routes exist for connectable platforms only: any other name is a 404 that stores nothing', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  for (const name of ['myspace', 'facebook', 'INSTAGRAM', 'YouTube', '%2e%2e']) {
    const connect = await browser.fetch('POST', `/api/socials/connect/${name}`, { body: {} })
    assert.equal(connect.statusCode, 404, name)
    assert.equal(connect.json<{ error: { code: string } }>().error.code, 'ERR_NOT_FOUND')
    const callback = await browser.fetch(
      'GET',
      `/api/socials/oauth/${name}/callback?code=x&state=y`,
    )
    assert.equal(callback.statusCode, 404, name)
  }
  assert.equal((await app.raw('SELECT * FROM oauth_states')).length, 0)
  // the connectable ones still work
  for (const name of ['instagram', 'youtube', 'tiktok', 'x']) {
    const ok = await browser.fetch('POST', `/api/socials/connect/${name}`, { body: {} })
    assert.equal(ok.statusCode, 200, name)
  }
})
