/**
 * The red-team findings of 2026-12 on the HTTP layer (`shared/reference/redteam-2026-12.md`), one
 * test per finding, over real HTTP on loopback where the way a request is written matters: F2
 * (CSRF and no-store bypassed by encoded and absolute-form paths), the Host check of F3 (DNS
 * rebinding), F5 (the per-account sign-in limit, as documented), the landing pages' free text and
 * link-triggered sync (issue 12 item 6), F7 (rows per user), F8 (look-alike e-mail addresses), F9
 * (IPv6 rotation, in test/http/throttle.test.ts) and F10 (charsets, sign-in timing of users
 * without a password). The sandbox control API (F3), platform answers (F4, F6) and the cookie
 * rules (F1) have their own files.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'
import { serveTestApp, type ServedApp } from '../helpers/browser.ts'
import { rawRequest, type RawAnswer } from '../helpers/raw-http.ts'
import {
  Browser,
  ORIGIN,
  buildTestApp,
  connectAccount,
  consent,
  count,
  startConnect,
} from '../helpers/build-app.ts'
import { MAX_PROFILE_LINKS_PER_USER } from '../../src/http/routes/socials.ts'

const PASSWORD = 'correct horse battery staple'
const EVIL = 'https://evil.example'

function errorCode(answer: RawAnswer): string {
  return (JSON.parse(answer.body) as { error: { code: string } }).error.code
}

/** Registers over real HTTP; returns the `Cookie` header of the new session. */
async function signUp(app: ServedApp, email = 'victim@example.com'): Promise<string> {
  const answer = await rawRequest(app.base, 'POST', '/api/auth/register', {
    headers: { origin: app.base, 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  })
  assert.equal(answer.status, 201, answer.body)
  const cookies = [answer.headers['set-cookie'] ?? []].flat()
  return cookies.map((line) => line.split(';')[0]).join('; ')
}

test('F2: encoded segments and absolute-form targets get the same-origin check and no-store', async (t) => {
  const app = await serveTestApp(t)
  const cookie = await signUp(app)
  const absolute = (path: string): string => `${app.base}${path}`
  const targets = [
    '/%61pi/socials/accounts',
    '/ap%69/socials/accounts',
    '/%61%70%69/socials/accounts',
    absolute('/api/socials/accounts'),
    absolute('/%61pi/socials/accounts'),
    '/api/socials/accounts',
  ]
  const hostile: Record<string, string>[] = [
    { origin: EVIL, 'sec-fetch-site': 'cross-site' },
    { origin: 'http://127.0.0.1:9', 'sec-fetch-site': 'same-site' },
    { 'sec-fetch-site': 'same-site' },
    {},
  ]
  for (const target of targets) {
    for (const headers of hostile) {
      const answer = await rawRequest(app.base, 'POST', target, {
        headers: { ...headers, cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ platform: 'x', username: 'csrf_encoded' }),
      })
      assert.equal(answer.status, 403, `${target} ${JSON.stringify(headers)}: ${answer.body}`)
      assert.equal(errorCode(answer), 'ERR_FORBIDDEN')
      assert.equal(answer.headers['cache-control'], 'no-store')
    }
    // body-less state changes, the ones a same-site page can really send
    const logout = target.replace('socials/accounts', 'auth/logout')
    const out = await rawRequest(app.base, 'POST', logout, {
      headers: { cookie, origin: 'http://127.0.0.1:9', 'sec-fetch-site': 'same-site' },
    })
    assert.equal(out.status, 403, `${logout}: ${out.body}`)
  }
  assert.equal(await count(app, 'user_social_accounts'), 0)
  const me = await rawRequest(app.base, 'GET', '/%61pi/auth/me', { headers: { cookie } })
  assert.equal(me.status, 200, 'the victim is still signed in')
  // the encoded path does reach the route: from our own origin it works
  const own = await rawRequest(app.base, 'POST', '/%61pi/socials/accounts', {
    headers: { cookie, origin: app.base, 'content-type': 'application/json' },
    body: JSON.stringify({ platform: 'x', username: 'own_origin' }),
  })
  assert.equal(own.status, 201, own.body)
  // no-store on every API answer, however the path was written, and on error answers
  for (const target of [
    '/%61pi/auth/me',
    absolute('/api/auth/me'),
    '/%61pi/socials/accounts',
    '/%61pi/socials/media',
    '/%61pi/no-such-route',
  ]) {
    const answer = await rawRequest(app.base, 'GET', target, { headers: { cookie } })
    assert.equal(answer.headers['cache-control'], 'no-store', `${target} (${answer.status})`)
  }
})

test('F3: requests addressed to another host name get 421 (DNS rebinding); loopback names and ALLOWED_HOSTS pass', async (t) => {
  const app = await serveTestApp(t, { ALLOWED_HOSTS: 'dev.example.test' })
  const port = new URL(app.base).port
  const paths = [
    '/gallery',
    '/api/auth/me',
    '/api/socials/providers',
    '/sandbox/instagram/oauth/authorize',
    '/healthz',
  ]
  for (const host of ['attacker.example', `attacker.example:${port}`, 'localhost.evil.example']) {
    for (const path of paths) {
      const answer = await rawRequest(app.base, 'GET', path, { headers: { host } })
      assert.equal(answer.status, 421, `${host} ${path}`)
      assert.equal(errorCode(answer), 'ERR_MISDIRECTED')
    }
    const post = await rawRequest(app.base, 'POST', '/api/auth/register', {
      headers: { host, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'rebound@example.com', password: PASSWORD }),
    })
    assert.equal(post.status, 421)
  }
  assert.equal(await count(app, 'users'), 0)
  for (const host of [
    `localhost:${port}`,
    `127.0.0.1:${port}`,
    `[::1]:${port}`,
    'LOCALHOST',
    `dev.example.test:${port}`,
  ]) {
    const answer = await rawRequest(app.base, 'GET', '/healthz', { headers: { host } })
    assert.equal(answer.status, 200, host)
  }
  // production: off unless ALLOWED_HOSTS is set (health checks, several domains)
  const production = await buildTestApp(t, {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://gallery.example',
  })
  const anyHost = await production.request({
    method: 'GET',
    url: '/healthz',
    headers: { host: 'something.internal' },
  })
  assert.equal(anyHost.statusCode, 200)
  const strict = await buildTestApp(t, {
    NODE_ENV: 'production',
    PUBLIC_URL: 'https://gallery.example',
    ALLOWED_HOSTS: 'www.gallery.example',
  })
  for (const [host, status] of [
    ['gallery.example', 200],
    ['www.gallery.example', 200],
    ['evil.example', 421],
  ] as const) {
    const answer = await strict.request({ method: 'GET', url: '/healthz', headers: { host } })
    assert.equal(answer.statusCode, status, host)
  }
})

test('F5: guesses spread over addresses stop new browsers of the owner, not the ones they used before (as the README says)', async (t) => {
  const app = await buildTestApp(t)
  const owner = new Browser(app)
  const { email } = await owner.register(undefined, PASSWORD)
  const login = (ip: string, password: string, cookie?: string) =>
    app.request({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: ip,
      headers: {
        origin: ORIGIN,
        'content-type': 'application/json',
        ...(cookie === undefined ? {} : { cookie }),
      },
      payload: JSON.stringify({ email, password }),
    })
  for (const ip of ['203.0.113.10', '203.0.113.11', '203.0.113.12'])
    for (let i = 0; i < 10; i++) await login(ip, `guess ${i}`)
  const newBrowser = await login('198.51.100.1', PASSWORD)
  assert.equal(newBrowser.statusCode, 429)
  assert.match(newBrowser.body, /browsers it has not signed in from before/)
  const device = [...owner.cookies].find(([name]) => name.endsWith('psg_device'))
  assert.ok(device !== undefined)
  const known = await login('198.51.100.1', PASSWORD, `${device[0]}=${device[1]}`)
  assert.equal(known.statusCode, 200, 'a browser the owner used before still signs in')
})

test('item 6: landing pages show only our texts for the codes in their URL; the provider’s words come from the callback, once', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const crafted = [
    '/gallery?connect=error&reason=provider_error&detail=Your+account+is+suspended.+Call+555-0100',
    '/gallery?connect=error&reason=token_exchange_failed&detail=Call+555-0100',
    '/oauth/popup-result?connect=error&reason=provider_error&detail=Call+555-0100',
  ]
  for (const url of crafted) {
    const page = await browser.fetch('GET', url)
    assert.equal(page.statusCode, 200)
    assert.doesNotMatch(page.body, /555-0100/, url)
    assert.doesNotMatch(page.body, /psg-outcome/, url)
  }
  // a forged outcome cookie (not sealed by this server) is ignored
  for (const forged of [
    `${Buffer.from(JSON.stringify({ connect: 'error', platform: 'instagram', reason: 'provider_error', detail: 'Call 555-0100', exp: Date.now() + 60_000 })).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`,
    'garbage',
  ]) {
    const page = await app.request({
      method: 'GET',
      url: '/gallery?connect=error&reason=provider_error',
      headers: { cookie: `psg_outcome=${forged}` },
    })
    assert.doesNotMatch(page.body, /555-0100/)
    assert.doesNotMatch(page.body, /psg-outcome/)
  }
  // a genuine return: the landing URL carries only codes; the description reaches its page once
  for (const mode of ['redirect', 'popup'] as const) {
    const { state } = await startConnect(browser, mode)
    const callback = await browser.fetch(
      'GET',
      `/api/socials/oauth/instagram/callback?error=server_error&error_description=${encodeURIComponent('Temporary <b>failure</b>')}&state=${state}`,
    )
    const location = String(callback.headers.location)
    assert.equal(new URL(location, ORIGIN).searchParams.get('detail'), null, location)
    assert.doesNotMatch(location, /Temporary/)
    const page = await browser.fetch('GET', location)
    assert.match(page.body, /Temporary &#60;b&#62;failure&#60;\/b&#62;/, mode)
    assert.match(page.body, /<meta name="psg-outcome"/)
    const again = await browser.fetch('GET', location)
    assert.doesNotMatch(again.body, /Temporary/, 'the outcome is consumed by its landing page')
  }
})

test('item 6: a success link proves nothing: only the callback’s own outcome marks a fresh connection', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const accountId = await connectAccount(app, browser)
  // the callback's landing page (connectAccount followed only the callback) carries the proof
  const landing = await browser.fetch('GET', `/gallery?connect=success&account=${accountId}`)
  assert.match(landing.body, /<meta name="psg-outcome" content="[^"]*success/)
  // a link to the same URL, later or from anyone else, does not
  const link = await browser.fetch('GET', `/gallery?connect=success&account=${accountId}`)
  assert.doesNotMatch(link.body, /psg-outcome/)
  const stranger = await app.request({
    method: 'GET',
    url: `/gallery?connect=success&account=${accountId}`,
  })
  assert.doesNotMatch(stranger.body, /psg-outcome/)
})

test('F7: profile links are capped and throttled per user, the account list is paginated, "Sync now" checks ownership first', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const add = (username: string) =>
    browser.fetch('POST', '/api/socials/accounts', { body: { platform: 'x', username } })
  for (let i = 0; i < MAX_PROFILE_LINKS_PER_USER; i++)
    assert.equal((await add(`link${i}`)).statusCode, 201)
  const over = await add('one_too_many')
  assert.equal(over.statusCode, 409)
  assert.match(over.json<{ error: { message: string } }>().error.message, /50 profile links/)
  assert.equal(await count(app, 'user_social_accounts'), MAX_PROFILE_LINKS_PER_USER)
  // removing one makes room; adding in a hurry is throttled (60 an hour)
  const list = await browser.fetch('GET', '/api/socials/accounts?limit=20')
  const first = list.json<{ accounts: { id: string }[]; next_cursor: string | null }>()
  assert.equal(first.accounts.length, 20)
  assert.ok(first.next_cursor !== null)
  const seen = new Set(first.accounts.map((a) => a.id))
  let cursor: string | null = first.next_cursor
  while (cursor !== null) {
    const page = await browser.fetch('GET', `/api/socials/accounts?limit=20&cursor=${cursor}`)
    const body = page.json<{ accounts: { id: string }[]; next_cursor: string | null }>()
    for (const a of body.accounts) seen.add(a.id)
    cursor = body.next_cursor
  }
  assert.equal(seen.size, MAX_PROFILE_LINKS_PER_USER)
  const bad = await browser.fetch('GET', '/api/socials/accounts?cursor=not-a-cursor')
  assert.equal(bad.statusCode, 400)
  const tooBig = await browser.fetch('GET', '/api/socials/accounts?limit=101')
  assert.equal(tooBig.statusCode, 400)
  let status = 0
  for (let i = 0; i < 20 && status !== 429; i++) {
    const victim = [...seen][i] ?? ''
    await browser.fetch('DELETE', `/api/socials/accounts/${victim}`)
    status = (await add(`again${i}`)).statusCode
  }
  assert.equal(status, 429, 'the 61st creation within the hour is refused')
  // made-up ids: 404 before any counting, so no throttle rows pile up
  const before = await count(app, 'api_budgets')
  for (let i = 0; i < 20; i++) {
    const answer = await browser.fetch('POST', `/api/socials/accounts/${crypto.randomUUID()}/sync`)
    assert.equal(answer.statusCode, 404)
  }
  assert.equal(await count(app, 'api_budgets'), before)
})

test('F8: e-mail addresses are NFKC-normalised and refused with invisible characters', async (t) => {
  const app = await buildTestApp(t)
  const owner = new Browser(app)
  await owner.register('timing@example.com', PASSWORD)
  const register = (email: string) =>
    new Browser(app).fetch('POST', '/api/auth/register', { body: { email, password: PASSWORD } })
  for (const lookalike of ['ｔiming@example.com', 'TIMING@EXAMPLE.COM', 'timing@exampl\u0065.com'])
    assert.equal((await register(lookalike)).statusCode, 409, lookalike)
  for (const invisible of [
    'timing@example.com\u200b',
    'tim\u200ding@example.com',
    '\u202etiming@example.com',
    'timing\u2060@example.com',
  ]) {
    const answer = await register(invisible)
    assert.equal(answer.statusCode, 400, JSON.stringify(invisible))
    assert.match(answer.body, /invisible or formatting characters/)
  }
  assert.equal(await count(app, 'users'), 1)
  // the fullwidth spelling signs in to the same account
  const signIn = await new Browser(app).fetch('POST', '/api/auth/login', {
    body: { email: 'ｔｉｍｉｎｇ@example.com', password: PASSWORD },
  })
  assert.equal(signIn.statusCode, 200)
  assert.equal(signIn.json<{ user: { email: string } }>().user.email, 'timing@example.com')
})

test('F10: every HTML answer names its charset', async (t) => {
  const app = await buildTestApp(t)
  const browser = new Browser(app)
  await browser.register()
  const { url } = await startConnect(browser)
  const authorize = `${url.pathname}${url.search}`
  const pages = [
    '/gallery',
    '/oauth/popup-result',
    authorize,
    '/sandbox/instagram/oauth/authorize?client_id=nope',
  ]
  for (const path of pages) {
    const answer = await browser.fetch('GET', path)
    const type = String(answer.headers['content-type'])
    assert.match(type, /^text\/html/, path)
    assert.match(type, /charset=utf-8/i, `${path}: ${type}`)
  }
  // the callback's landing page after a decision, too
  const landing = await browser.fetch('GET', await consent(app, url, 'deny'))
  const page = await browser.fetch('GET', String(landing.headers.location))
  assert.match(String(page.headers['content-type']), /charset=utf-8/i)
})

test('F10: users without a password of ours cost the same scrypt as everyone at sign-in', async (t) => {
  const app = await buildTestApp(t)
  // a Firebase or imported user: the address exists, but there is no password of ours
  await app.store.ensureExternalUser('firebase-uid-1', app.clock.now())
  let derivations = 0
  const original = crypto.scrypt
  t.mock.method(crypto, 'scrypt', (...args: Parameters<typeof crypto.scrypt>) => {
    derivations++
    return (original as (...a: unknown[]) => void)(...args)
  })
  syncBuiltinESMExports()
  t.after(() => syncBuiltinESMExports())
  const login = (email: string) =>
    new Browser(app).fetch('POST', '/api/auth/login', {
      body: { email, password: 'whatever whatever' },
    })
  for (const email of ['firebase-uid-1@users.firebase.invalid', 'nobody@example.com']) {
    derivations = 0
    const answer = await login(email)
    assert.equal(answer.statusCode, 401, email)
    assert.equal(derivations, 1, `${email}: one scrypt derivation`)
  }
})
