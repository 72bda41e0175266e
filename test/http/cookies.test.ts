/**
 * Every cookie the service can send, checked against RFC 6265bis and this service's cookie policy
 * (test/helpers/set-cookie.ts), on http and on https. A browser silently drops a cookie that
 * breaks a prefix rule, so reading cookies back through a lenient client proves nothing: the
 * `Set-Cookie` headers themselves are checked here (F1 of the 2026-12 red-team pass).
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { LightMyRequestResponse } from 'fastify'
import { buildTestApp, type TestApp } from '../helpers/build-app.ts'
import {
  isClear,
  parseImfFixdate,
  parseSetCookie,
  setCookieViolations,
} from '../helpers/set-cookie.ts'
import { cookieNames } from '../../src/http/session.ts'

const NOW = Date.UTC(2026, 11, 15, 12, 0, 0)
const HTTPS = { https: true, now: NOW }
const HTTP = { https: false, now: NOW }

describe('the Set-Cookie checker', () => {
  const good: [string, string, { https: boolean; now: number }][] = [
    [
      'https session cookie',
      '__Host-psg_session=AbC_-12; Max-Age=2592000; Path=/; HttpOnly; Secure; SameSite=Lax',
      HTTPS,
    ],
    [
      'https binding cookie on the narrow path',
      '__Secure-psg_oauth=p.AbC; Max-Age=300; Path=/api/socials/oauth/; HttpOnly; Secure; SameSite=Lax',
      HTTPS,
    ],
    [
      'https clear (Max-Age=0 and Expires in the past), attribute names in any case',
      '__Host-psg_session=; max-age=0; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; secure; samesite=lax',
      HTTPS,
    ],
    [
      'http cookie without Secure or prefix',
      'psg_oauth=r.AbC; Max-Age=300; Path=/api/socials/oauth/; HttpOnly; SameSite=Strict',
      HTTP,
    ],
    [
      'http clear by Expires only',
      'psg_session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax',
      HTTP,
    ],
    ['a quoted value', 'psg_device="abc"; Path=/; HttpOnly; SameSite=Lax', HTTP],
  ]
  for (const [what, header, context] of good) {
    test(`accepts: ${what}`, () => {
      assert.deepEqual(setCookieViolations(header, context), [])
    })
  }

  const ok = 'Path=/; HttpOnly; Secure; SameSite=Lax'
  const bad: [string, string, { https: boolean; now: number }, RegExp][] = [
    // RFC 6265bis §4.1.3 prefixes
    [
      'the F1 cookie: __Host- on a narrow path',
      '__Host-psg_oauth=p.AbC; Max-Age=300; Path=/api/socials/oauth/; HttpOnly; Secure; SameSite=Lax',
      HTTPS,
      /__Host-psg_oauth: the __Host- prefix requires Path=\/ \(got \/api\/socials\/oauth\/\)/,
    ],
    [
      '__Host- without any Path',
      '__Host-x=1; HttpOnly; Secure; SameSite=Lax',
      HTTPS,
      /__Host- prefix requires Path=\/ \(got no Path\)/,
    ],
    [
      '__Host- with a Domain',
      `__Host-x=1; Domain=gallery.example; ${ok}`,
      HTTPS,
      /__Host- prefix forbids a Domain/,
    ],
    [
      '__Host- without Secure',
      '__Host-x=1; Path=/; HttpOnly; SameSite=Lax',
      HTTPS,
      /__Host- prefix requires Secure/,
    ],
    [
      '__Host- without Secure, on http too',
      '__Host-x=1; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /__Host- prefix requires Secure/,
    ],
    [
      '__Secure- without Secure',
      '__Secure-x=1; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /__Secure- prefix requires Secure/,
    ],
    [
      'a prefix in another case is still a prefix to browsers',
      '__host-x=1; Path=/a; HttpOnly; Secure; SameSite=Lax',
      HTTPS,
      /__Host- prefix requires Path=\//,
    ],
    [
      'a prefix in another case is not this service’s spelling',
      '__secure-x=1; Path=/; HttpOnly; Secure; SameSite=Lax',
      HTTPS,
      /carries the __Host- or __Secure- prefix \(spelt so\)/,
    ],
    // this service's policy
    ['no HttpOnly', '__Host-x=1; Path=/; Secure; SameSite=Lax', HTTPS, /is HttpOnly/],
    [
      'no SameSite',
      '__Host-x=1; Path=/; HttpOnly; Secure',
      HTTPS,
      /SameSite must be Lax or Strict/,
    ],
    [
      'SameSite=None',
      '__Host-x=1; Path=/; HttpOnly; Secure; SameSite=None',
      HTTPS,
      /SameSite must be Lax or Strict \(got None\)/,
    ],
    [
      'SameSite=None without Secure',
      'x=1; Path=/; HttpOnly; SameSite=None',
      HTTP,
      /SameSite=None requires Secure/,
    ],
    [
      'an unknown SameSite value',
      'x=1; Path=/; HttpOnly; SameSite=Lx',
      HTTP,
      /SameSite must be Strict, Lax or None/,
    ],
    [
      'a Domain on a plain cookie',
      'x=1; Domain=localhost; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /carries a Domain/,
    ],
    [
      'no Secure on https',
      '__Secure-x=1; Path=/; HttpOnly; SameSite=Lax',
      HTTPS,
      /on https every cookie is Secure/,
    ],
    [
      'no prefix on https',
      'psg_session=1; Path=/; HttpOnly; Secure; SameSite=Lax',
      HTTPS,
      /on https every cookie carries the __Host- or __Secure- prefix/,
    ],
    [
      'a clear without Max-Age or Expires',
      'psg_session=; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /a clear \(empty value\) needs Max-Age or Expires/,
    ],
    [
      'a clear that does not expire',
      'psg_session=; Max-Age=300; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /a clear \(empty value\) must expire the cookie now/,
    ],
    [
      'a clear whose Expires is in the future',
      'psg_session=; Expires=Fri, 01 Jan 2100 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /must expire the cookie now/,
    ],
    // RFC 6265bis §4.1.1 syntax
    ['no "="', 'psg_session; Path=/; HttpOnly; SameSite=Lax', HTTP, /has no "="/],
    [
      'an empty name',
      '=1; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /a cookie with no name: .*not a token/,
    ],
    ['a space in the name', 'psg session=1; Path=/; HttpOnly; SameSite=Lax', HTTP, /not a token/],
    ['a space in the value', 'x=a b; Path=/; HttpOnly; SameSite=Lax', HTTP, /outside cookie-octet/],
    ['a comma in the value', 'x=a,b; Path=/; HttpOnly; SameSite=Lax', HTTP, /outside cookie-octet/],
    [
      'a lone quote in the value',
      'x="ab; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /outside cookie-octet/,
    ],
    ['no space after ";"', 'x=1;Path=/; HttpOnly; SameSite=Lax', HTTP, /separated by "; "/],
    [
      'a duplicate attribute',
      'x=1; Path=/; Path=/a; HttpOnly; SameSite=Lax',
      HTTP,
      /more than once/,
    ],
    [
      'a flag with a value',
      'x=1; Path=/; HttpOnly=1; SameSite=Lax',
      HTTP,
      /HttpOnly takes no value/,
    ],
    [
      'an unknown attribute',
      'x=1; Path=/; HttpOnly; SameSite=Lax; Foo=bar',
      HTTP,
      /unknown attribute/,
    ],
    ['a Path with no value', 'x=1; Path; HttpOnly; SameSite=Lax', HTTP, /Path needs a value/],
    ['a relative Path', 'x=1; Path=api; HttpOnly; SameSite=Lax', HTTP, /Path must start with "\/"/],
    [
      'an Expires that is not an IMF-fixdate',
      'x=1; Expires=Thu, 01-Jan-1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /Expires must be an IMF-fixdate/,
    ],
    [
      'an Expires on the wrong weekday',
      'x=1; Expires=Fri, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /Expires must be an IMF-fixdate/,
    ],
    [
      'a negative Max-Age',
      'x=1; Max-Age=-1; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /Max-Age must be/,
    ],
    [
      'a Max-Age with a leading zero',
      'x=1; Max-Age=0300; Path=/; HttpOnly; SameSite=Lax',
      HTTP,
      /Max-Age must be/,
    ],
    [
      'a value over 4096 octets',
      `x=${'a'.repeat(4096)}; Path=/; HttpOnly; SameSite=Lax`,
      HTTP,
      /longer than 4096 octets/,
    ],
    [
      'a Path over 1024 octets',
      `x=1; Path=/${'a'.repeat(1024)}; HttpOnly; SameSite=Lax`,
      HTTP,
      /Path value is longer than 1024 octets/,
    ],
  ]
  for (const [what, header, context, expected] of bad) {
    test(`refuses: ${what}`, () => {
      const violations = setCookieViolations(header, context)
      assert.ok(
        violations.some((v) => expected.test(v)),
        `${header}\n  expected a violation matching ${expected}, got ${JSON.stringify(violations)}`,
      )
    })
  }

  test('parses names, values and attributes (by canonical name, whatever the case)', () => {
    const parsed = parseSetCookie(
      '__Secure-psg_oauth=p.x; max-AGE=300; PATH=/api/socials/oauth/; httponly; SECURE; samesite=Lax',
    )
    assert.equal(parsed.name, '__Secure-psg_oauth')
    assert.equal(parsed.value, 'p.x')
    assert.deepEqual(Object.fromEntries(parsed.attributes), {
      'Max-Age': '300',
      Path: '/api/socials/oauth/',
      HttpOnly: '',
      Secure: '',
      SameSite: 'Lax',
    })
    assert.deepEqual(parsed.syntaxErrors, [])
    assert.equal(parseImfFixdate('Thu, 01 Jan 1970 00:00:00 GMT'), 0)
    assert.equal(parseImfFixdate('Sun, 31 Feb 2026 00:00:00 GMT'), null, 'no 31 February')
    assert.equal(isClear('x=; Max-Age=0; Path=/'), true)
    assert.equal(isClear('x=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/'), true)
    assert.equal(isClear('x=1; Max-Age=300; Expires=Thu, 01 Jan 1970 00:00:00 GMT'), false)
    assert.equal(isClear('x=1; Path=/'), false)
  })
})

// ---------------------------------------------------------------------------------------------

interface Seen {
  readonly step: string
  readonly header: string
}

interface JarEntry {
  readonly name: string
  readonly value: string
  readonly path: string
}

/** RFC 6265bis §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}

/**
 * A browser-like client for one PUBLIC_URL: keeps cookies by name and path, sends them where
 * their Path matches, sends PUBLIC_URL's Origin and Host, and records every `Set-Cookie` with
 * the step that caused it. It enforces no prefix rule on purpose: the checker judges the headers.
 */
class Client {
  readonly jar = new Map<string, JarEntry>()
  readonly #app: TestApp
  readonly #seen: Seen[]
  constructor(app: TestApp, seen: Seen[]) {
    this.#app = app
    this.#seen = seen
  }

  async fetch(
    step: string,
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
  ): Promise<LightMyRequestResponse> {
    const origin = this.#app.config.publicUrl
    const path = new URL(url, origin).pathname
    const headers: Record<string, string> = { host: new URL(origin).host }
    const cookies = [...this.jar.values()].filter((c) => pathMatches(path, c.path))
    if (cookies.length > 0) headers.cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ')
    if (method !== 'GET') headers.origin = origin
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await this.#app.request({
      method,
      url,
      headers,
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    })
    const raw = response.headers['set-cookie']
    for (const header of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
      this.#seen.push({ step, header })
      const cookie = parseSetCookie(header)
      // §5.1.4 default-path: the request path up to its last "/" (a Path is always sent here)
      const cookiePath = cookie.attributes.get('Path') ?? (path.replace(/\/[^/]*$/, '') || '/')
      const key = `${cookie.name};${cookiePath}`
      if (isClear(header)) this.jar.delete(key)
      else this.jar.set(key, { name: cookie.name, value: cookie.value, path: cookiePath })
    }
    return response
  }

  has(name: string): boolean {
    return [...this.jar.values()].some((c) => c.name === name)
  }
}

const PASSWORD = 'correct horse battery'

/** The sandbox consent page: Allow or Deny; returns the callback path and query. */
async function consent(app: TestApp, authorizeUrl: string, decision: 'allow' | 'deny') {
  const form = new URLSearchParams(new URL(authorizeUrl).searchParams)
  form.set('decision', decision)
  form.set('user_index', '1')
  const response = await app.app.inject({
    method: 'POST',
    url: '/sandbox/instagram/oauth/authorize',
    headers: {
      host: new URL(app.config.publicUrl).host,
      origin: app.config.publicUrl,
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: form.toString(),
  })
  assert.equal(response.statusCode, 302, response.body)
  const location = new URL(String(response.headers.location))
  assert.equal(location.pathname, '/api/socials/oauth/instagram/callback')
  return location
}

/** Starts a connection in `mode`; returns the authorization URL. */
async function connect(client: Client, step: string, mode: 'popup' | 'redirect') {
  const response = await client.fetch(step, 'POST', '/api/socials/connect/instagram', { mode })
  assert.equal(response.statusCode, 200, response.body)
  return response.json<{ authorization_url: string }>().authorization_url
}

/** Follows a callback, then its landing page (which may consume cookies); returns the landing. */
async function callback(client: Client, step: string, location: URL) {
  const response = await client.fetch(step, 'GET', location.pathname + location.search)
  assert.equal(response.statusCode, 303, `${step}: ${response.body}`)
  const landing = new URL(String(response.headers.location), 'http://landing.invalid')
  const page = await client.fetch(`landing of ${step}`, 'GET', landing.pathname + landing.search)
  assert.equal(page.statusCode, 200, `landing of ${step}`)
  return landing
}

/** Drives every path that sets or clears a cookie; returns what was seen. */
async function everyCookiePath(t: TestContext, publicUrl: string): Promise<Seen[]> {
  const app = await buildTestApp(t, { PUBLIC_URL: publicUrl })
  const names = cookieNames(publicUrl.startsWith('https:'))
  const seen: Seen[] = []
  const alice = new Client(app, seen)
  const email = 'alice@example.com'

  const registered = await alice.fetch('register', 'POST', '/api/auth/register', {
    email,
    password: PASSWORD,
  })
  assert.equal(registered.statusCode, 201, registered.body)
  assert.ok(alice.has(names.session) && alice.has(names.device))

  // connect and the callback: success in both modes, the user's refusal, bad states
  for (const mode of ['redirect', 'popup'] as const) {
    const url = await connect(alice, `connect (${mode})`, mode)
    assert.ok(alice.has(names.oauthBinding), `${mode}: the binding cookie is kept`)
    const landing = await callback(
      alice,
      `callback success (${mode})`,
      await consent(app, url, 'allow'),
    )
    assert.equal(landing.searchParams.get('connect'), 'success', `${mode}: ${landing.href}`)
    assert.equal(landing.pathname, mode === 'popup' ? '/oauth/popup-result' : '/gallery')
    assert.equal(alice.has(names.oauthBinding), false, `${mode}: the binding is cleared`)
  }
  const denied = await callback(
    alice,
    'callback error (access_denied)',
    await consent(app, await connect(alice, 'connect (redirect)', 'redirect'), 'deny'),
  )
  assert.equal(denied.searchParams.get('reason'), 'access_denied')
  const swapped = await consent(app, await connect(alice, 'connect (popup)', 'popup'), 'allow')
  swapped.searchParams.set('state', 'B'.repeat(43))
  const badState = await callback(alice, 'callback bad state', swapped)
  assert.equal(badState.searchParams.get('reason'), 'invalid_state')
  // a callback from a browser that holds no binding at all (started elsewhere)
  const elsewhere = await consent(
    app,
    await connect(alice, 'connect (redirect)', 'redirect'),
    'allow',
  )
  const stranger = new Client(app, seen)
  const noBinding = await callback(stranger, 'callback bad state (no binding)', elsewhere)
  assert.equal(noBinding.searchParams.get('reason'), 'invalid_state')

  // sign-out, then sign-in from the known device and from a new one
  assert.equal((await alice.fetch('sign-out', 'POST', '/api/auth/logout')).statusCode, 204)
  assert.equal(alice.has(names.session), false)
  const known = await alice.fetch('sign-in (known device)', 'POST', '/api/auth/login', {
    email,
    password: PASSWORD,
  })
  assert.equal(known.statusCode, 200, known.body)
  assert.ok(
    app.logs.some((l) => l.includes('"knownDevice":true')),
    'the device was known',
  )
  const bob = new Client(app, seen)
  const fresh = await bob.fetch('sign-in (new device)', 'POST', '/api/auth/login', {
    email,
    password: PASSWORD,
  })
  assert.equal(fresh.statusCode, 200, fresh.body)
  assert.ok(bob.has(names.session) && bob.has(names.device))
  // signing in again over a live session replaces it; signing out without one still clears
  const again = await bob.fetch('sign-in (over a session)', 'POST', '/api/auth/login', {
    email,
    password: PASSWORD,
  })
  assert.equal(again.statusCode, 200, again.body)
  const nobody = new Client(app, seen)
  assert.equal(
    (await nobody.fetch('sign-out (signed out)', 'POST', '/api/auth/logout')).statusCode,
    204,
  )
  // pages and reads set nothing, but whatever they send is checked too
  for (const url of ['/gallery', '/api/auth/me', '/api/socials/accounts', '/oauth/popup-result'])
    await alice.fetch(`GET ${url}`, 'GET', url)

  // which step set (+) or cleared (-) which cookie: every path above was really exercised
  const s = names.session
  const d = names.device
  const o = names.oauthBinding
  const expected: Record<string, string[]> = {
    register: [`+${s}`, `+${d}`],
    'connect (redirect)': [`+${o}`],
    'connect (popup)': [`+${o}`],
    'callback success (redirect)': [`-${o}`],
    'callback success (popup)': [`-${o}`],
    'callback error (access_denied)': [`-${o}`],
    'callback bad state': [`-${o}`],
    'callback bad state (no binding)': [`-${o}`],
    'sign-out': [`-${s}`],
    'sign-in (known device)': [`+${s}`, `+${d}`],
    'sign-in (new device)': [`+${s}`, `+${d}`],
    'sign-in (over a session)': [`+${s}`, `+${d}`],
    'sign-out (signed out)': [`-${s}`],
  }
  // (only these three: cookies added later are checked below, but not tied to steps here)
  const actual: Record<string, string[]> = {}
  for (const { step, header } of seen) {
    if (![s, d, o].includes(parseSetCookie(header).name)) continue
    const entry = `${isClear(header) ? '-' : '+'}${parseSetCookie(header).name}`
    const list = (actual[step] ??= [])
    if (!list.includes(entry)) list.push(entry)
  }
  for (const list of Object.values(actual)) list.sort()
  for (const list of Object.values(expected)) list.sort()
  assert.deepEqual(actual, expected)
  return seen
}

for (const publicUrl of ['http://localhost:8080', 'https://gallery.example']) {
  test(`every cookie sent with PUBLIC_URL=${publicUrl} keeps RFC 6265bis and our policy`, async (t) => {
    const https = publicUrl.startsWith('https:')
    const seen = await everyCookiePath(t, publicUrl)
    const violations = seen.flatMap(({ step, header }) =>
      setCookieViolations(header, { https }).map((v) => `${step}: ${v}\n    ${header}`),
    )
    assert.deepEqual(violations, [], violations.join('\n'))
    // a clear removes a cookie only on the path it was set with
    const paths = (clear: boolean) => {
      const byName = new Map<string, Set<string>>()
      for (const { header } of seen) {
        if (isClear(header) !== clear) continue
        const c = parseSetCookie(header)
        const set = byName.get(c.name) ?? new Set<string>()
        set.add(c.attributes.get('Path') ?? '(none)')
        byName.set(c.name, set)
      }
      return byName
    }
    const setPaths = paths(false)
    for (const [name, cleared] of paths(true))
      assert.deepEqual(
        [...cleared],
        [...(setPaths.get(name) ?? [])],
        `${name} is cleared where it was set`,
      )
    assert.deepEqual(
      [...setPaths.keys()].sort(),
      Object.values(cookieNames(https)).sort(),
      'every cookie the service names (cookieNames) was seen set, and no other',
    )
  })
}
