import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser, buildTestApp, count, ORIGIN } from '../helpers/build-app.ts'

interface ErrorBody {
  error: { code: string; message: string; errors?: { path: string; message: string }[] }
}

test('register signs in with an HttpOnly SameSite=Lax session cookie; the password is stored as scrypt', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  const response = await browser.fetch('POST', '/api/auth/register', {
    body: { email: ' Me@Example.com ', password: 'correct horse battery' },
  })
  assert.equal(response.statusCode, 201)
  assert.equal(response.json<{ user: { email: string } }>().user.email, 'me@example.com')
  const cookie = response.cookies.find((c) => c.name === 'psg_session')
  assert.ok(cookie)
  assert.equal(cookie.httpOnly, true)
  assert.equal(cookie.sameSite, 'Lax')
  assert.equal(cookie.secure, undefined, 'no Secure flag on http://localhost')
  const stored = String((await app.raw('SELECT password_hash FROM users'))[0]?.password_hash)
  assert.match(stored, /^scrypt\$10\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  assert.doesNotMatch(stored, /correct horse/)
  const sessions = await app.raw('SELECT id_hash FROM sessions')
  assert.equal(sessions.length, 1)
  assert.notEqual(sessions[0]?.id_hash, cookie.value, 'only a digest of the session id is stored')
  const me = await browser.fetch('GET', '/api/auth/me')
  assert.equal(me.statusCode, 200)
  assert.deepEqual(me.json<{ user: { email: string }; sandbox: boolean }>().sandbox, true)
})

test('two users with one password get different salts and hashes', async (t) => {
  const app = await buildTestApp(t)
  await new Browser(app).register('a@example.com')
  await new Browser(app).register('b@example.com')
  const hashes = (await app.raw('SELECT password_hash FROM users')).map((r) =>
    String(r.password_hash),
  )
  assert.notEqual(hashes[0], hashes[1])
})

test('register validates input with clear errors and stores nothing', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  const cases: [unknown, RegExp][] = [
    [{ email: 'a@example.com', password: 'short' }, /at least 10 characters/],
    [{ email: 'not-an-email', password: 'correct horse battery' }, /email/],
    [{ email: 'a@example.com' }, /password/],
    [
      { email: 'a@example.com', password: 'correct horse battery', admin: true },
      /admin is not allowed/,
    ],
    [{ email: 'a@example.com', password: 'x'.repeat(2000) }, /password/],
    ['just a string', /body/],
  ]
  for (const [body, message] of cases) {
    const response = await browser.fetch('POST', '/api/auth/register', { body })
    assert.equal(response.statusCode, 400, JSON.stringify(body).slice(0, 80))
    const error = response.json<ErrorBody>().error
    assert.equal(error.code, 'ERR_VALIDATION')
    assert.match(`${error.message} ${JSON.stringify(error.errors ?? [])}`, message)
  }
  const malformed = await app.request({
    method: 'POST',
    url: '/api/auth/register',
    headers: { 'content-type': 'application/json' },
    payload: '{"email":',
  })
  assert.equal(malformed.statusCode, 400)
  assert.equal(malformed.json<ErrorBody>().error.message, 'Request body is not valid JSON')
  const huge = await app.request({
    method: 'POST',
    url: '/api/auth/register',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(100_000) }),
  })
  assert.equal(huge.statusCode, 413)
  assert.equal(huge.json<ErrorBody>().error.code, 'ERR_PAYLOAD_TOO_LARGE')
  const text = await app.request({
    method: 'POST',
    url: '/api/auth/register',
    headers: { 'content-type': 'text/plain' },
    payload: 'hello',
  })
  assert.equal(text.statusCode, 415)
  assert.equal(await count(app, 'users'), 0)
})

test('duplicate registration is refused without a session', async (t) => {
  const app = await buildTestApp(t)
  await new Browser(app).register('dup@example.com')
  const again = new Browser(app)
  const response = await again.fetch('POST', '/api/auth/register', {
    body: { email: 'DUP@example.com', password: 'another password here' },
  })
  assert.equal(response.statusCode, 409)
  assert.equal(again.cookies.size, 0)
  assert.equal(await count(app, 'users'), 1)
})

test('login: generic error for unknown email and wrong password; new session id at every login', async (t) => {
  const app = await buildTestApp(t)
  const first = new Browser(app)
  await first.register('me@example.com', 'correct horse battery')
  const oldSession = first.cookies.get('psg_session')
  const wrongPassword = await first.fetch('POST', '/api/auth/login', {
    body: { email: 'me@example.com', password: 'wrong password!!' },
  })
  const unknown = await new Browser(app).fetch('POST', '/api/auth/login', {
    body: { email: 'nobody@example.com', password: 'wrong password!!' },
  })
  assert.equal(wrongPassword.statusCode, 401)
  assert.equal(unknown.statusCode, 401)
  assert.deepEqual(wrongPassword.json(), unknown.json())
  assert.equal(unknown.json<ErrorBody>().error.message, 'Invalid email or password')
  const ok = await first.fetch('POST', '/api/auth/login', {
    body: { email: 'me@example.com', password: 'correct horse battery' },
  })
  assert.equal(ok.statusCode, 200)
  const newSession = first.cookies.get('psg_session')
  assert.ok(newSession)
  assert.notEqual(newSession, oldSession, 'session fixation: a new id at login')
  const stale = new Browser(app)
  stale.cookies.set('psg_session', oldSession ?? '')
  assert.equal(
    (await stale.fetch('GET', '/api/auth/me')).statusCode,
    401,
    'the old session was revoked',
  )
})

test('logout revokes the session server-side', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const raw = browser.cookies.get('psg_session') ?? ''
  const out = await browser.fetch('POST', '/api/auth/logout')
  assert.equal(out.statusCode, 204)
  assert.equal(await count(app, 'sessions'), 0)
  const replay = new Browser(app)
  replay.cookies.set('psg_session', raw)
  const me = await replay.fetch('GET', '/api/auth/me')
  assert.equal(me.statusCode, 401)
  assert.equal(me.json<ErrorBody>().error.code, 'ERR_UNAUTHENTICATED')
})

test('sessions expire after 7 idle days', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  app.clock.advance(6 * 86_400_000)
  assert.equal(
    (await browser.fetch('GET', '/api/auth/me')).statusCode,
    200,
    'still alive, and touched',
  )
  app.clock.advance(6 * 86_400_000)
  assert.equal(
    (await browser.fetch('GET', '/api/auth/me')).statusCode,
    200,
    'the touch extended it',
  )
  app.clock.advance(8 * 86_400_000)
  assert.equal((await browser.fetch('GET', '/api/auth/me')).statusCode, 401)
})

test('CSRF: cookie-authenticated state changes need our Origin or Sec-Fetch-Site: same-origin', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const routes: ['POST' | 'DELETE', string][] = [
    ['POST', '/api/socials/connect/instagram'],
    ['POST', '/api/socials/accounts'],
    ['DELETE', '/api/socials/accounts/00000000-0000-4000-8000-000000000000'],
    ['POST', '/api/socials/accounts/00000000-0000-4000-8000-000000000000/sync'],
    ['POST', '/api/auth/logout'],
  ]
  for (const [method, url] of routes) {
    const cross = await browser.fetch(method, url, { origin: 'https://evil.example', body: {} })
    assert.equal(cross.statusCode, 403, `${method} ${url} cross-origin`)
    assert.equal(cross.json<ErrorBody>().error.code, 'ERR_FORBIDDEN')
    const none = await browser.fetch(method, url, { origin: null, body: {} })
    assert.equal(none.statusCode, 403, `${method} ${url} without Origin`)
    const site = await browser.fetch(method, url, {
      origin: null,
      headers: { 'sec-fetch-site': 'cross-site' },
    })
    assert.equal(site.statusCode, 403, `${method} ${url} Sec-Fetch-Site cross-site`)
  }
  assert.equal(await count(app, 'oauth_states'), 0)
  assert.equal(await count(app, 'sessions'), 1, 'logout was not performed')
  const sameSite = await browser.fetch('POST', '/api/socials/connect/instagram', {
    origin: null,
    headers: { 'sec-fetch-site': 'same-origin' },
  })
  assert.equal(sameSite.statusCode, 200)
  const login = await new Browser(app).fetch('POST', '/api/auth/login', {
    origin: 'https://evil.example',
    body: { email: 'a@example.com', password: 'whatever1234' },
  })
  assert.equal(login.statusCode, 403, 'login CSRF from a browser on another site')
})

test('security headers on every response', async (t) => {
  const app = await buildTestApp(t)
  for (const url of ['/healthz', '/gallery', '/api/auth/me', '/nope']) {
    const response = await app.request({ method: 'GET', url })
    assert.equal(response.headers['x-content-type-options'], 'nosniff', url)
    assert.equal(response.headers['x-frame-options'], 'DENY', url)
    assert.ok(response.headers['referrer-policy'], url)
  }
  // COOP: strict by default; the OAuth popup's opener and landing page keep their link
  const coop = async (url: string) =>
    (await app.request({ method: 'GET', url })).headers['cross-origin-opener-policy']
  assert.equal(await coop('/api/auth/me'), 'same-origin')
  assert.equal(await coop('/gallery'), 'same-origin-allow-popups')
  assert.equal(await coop('/oauth/popup-result'), 'unsafe-none')
  assert.equal(await coop('/api/socials/oauth/instagram/callback?state=x'), 'unsafe-none')
  const page = await app.request({ method: 'GET', url: '/gallery' })
  assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/)
  assert.match(page.body, /Sandbox/)
  const notFound = await app.request({ method: 'GET', url: '/nope' })
  assert.deepEqual(notFound.json(), {
    error: { code: 'ERR_NOT_FOUND', message: 'No route for GET /nope' },
  })
  assert.equal(ORIGIN, app.config.publicUrl)
})

test('health and readiness', async (t) => {
  const app = await buildTestApp(t)
  assert.deepEqual((await app.request({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' })
  const ready = (await app.request({ method: 'GET', url: '/readyz' })).json<{
    status: string
    database: string
    quotas: { platform: string; name: string; spent: number; limit: number }[]
  }>()
  assert.equal(ready.status, 'ok')
  assert.equal(ready.database, 'ok')
  // the app's quotas over fixed windows, for the operator: YouTube's day, X's month of reads
  assert.deepEqual(
    ready.quotas.map((q) => [q.platform, q.name, q.spent, q.limit]),
    [
      ['youtube', 'project_daily', 0, 10_000],
      ['x', 'monthly_post_reads', 0, 10_000],
    ],
  )
})
