/**
 * The shared emulator core (`src/providers/emulator-core/`): the pieces the Instagram emulator
 * uses today and the YouTube, TikTok and X emulators will reuse. Each is pinned on its own here;
 * the Instagram emulator's tests pin them in use.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import { createManualClock, systemClock } from '../../src/clock.ts'
import {
  CALL_LOG_LIMIT,
  countCallsSince,
  logCall,
  pathOnly,
  type LoggedCall,
} from '../../src/providers/emulator-core/call-log.ts'
import { cdnExpiry, cdnSignature, verifyCdn } from '../../src/providers/emulator-core/cdn.ts'
import { moveClock, parseClockMove } from '../../src/providers/emulator-core/clock.ts'
import {
  ControlError,
  inputObject,
  jsonDepth,
  parseJsonBody,
} from '../../src/providers/emulator-core/control-input.ts'
import {
  CONTROL_PREFIX,
  createControlToken,
  gatedControlPlugin,
} from '../../src/providers/emulator-core/control-plugin.ts'
import {
  queueFault,
  takeFault,
  type QueuedFault,
} from '../../src/providers/emulator-core/faults.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'
import { one } from '../../src/providers/emulator-core/query.ts'
import { sign } from '../../src/providers/emulator-core/signing.ts'
import { isExpired, signToken, verifyToken } from '../../src/providers/emulator-core/tokens.ts'

const SECRET = 'a-signing-secret-for-the-core-tests'
const DAY = 86_400_000

interface TestFault extends QueuedFault {
  kind: string
}

test('faults: the first matching one is taken, counts down, and leaves the queue at zero', () => {
  const faults: TestFault[] = [
    { kind: 'media', count: 2, path: '/media' },
    { kind: 'any', count: 1 },
  ]
  assert.equal(takeFault(faults, '/v24.0/me/media')?.kind, 'media')
  assert.equal(faults[0]?.count, 1)
  // a path that does not match skips the path-bound fault and takes the unbound one
  assert.equal(takeFault(faults, '/v24.0/me')?.kind, 'any')
  assert.deepEqual(
    faults.map((f) => f.kind),
    ['media'],
  )
  assert.equal(takeFault(faults, '/me')?.kind, undefined, 'no match: nothing taken')
  assert.equal(takeFault(faults, '/me'), null)
  assert.equal(takeFault(faults, '/x/media/y')?.kind, 'media', 'path is a substring match')
  assert.deepEqual(faults, [])
  assert.equal(takeFault(faults, '/media'), null)
})

test('faults: the queue is bounded, and a refusal changes nothing', () => {
  const faults: TestFault[] = []
  assert.equal(queueFault(faults, { kind: 'a', count: 1 }, 2), 1)
  assert.equal(queueFault(faults, { kind: 'b', count: 1 }, 2), 2)
  assert.throws(
    () => queueFault(faults, { kind: 'c', count: 1 }, 2),
    (error: unknown) => error instanceof ControlError && error.status === 400,
  )
  assert.deepEqual(
    faults.map((f) => f.kind),
    ['a', 'b'],
  )
})

test('call log: paths only, bounded to the newest, counted over a window', () => {
  assert.equal(pathOnly('/graph/me?access_token=IGAAsecret&fields=id'), '/graph/me')
  assert.equal(pathOnly('/graph/me'), '/graph/me')
  const calls: (LoggedCall & { who: number })[] = []
  for (let i = 0; i < 7; i++)
    logCall(calls, { at: i, method: 'GET', path: `/c${i}`, status: 200, who: i % 2 }, 5)
  assert.equal(calls.length, 5)
  assert.deepEqual(
    calls.map((c) => c.path),
    ['/c2', '/c3', '/c4', '/c5', '/c6'],
    'the oldest go first',
  )
  assert.equal(
    countCallsSince(calls, 3, (c) => c.who === 0),
    2,
  ) // at 4 and 6; 3 itself is not after
  assert.equal(CALL_LOG_LIMIT, 50_000)
  const big: LoggedCall[] = []
  for (let i = 0; i < CALL_LOG_LIMIT + 3; i++)
    logCall(big, { at: i, method: 'GET', path: '/', status: 200 })
  assert.equal(big.length, CALL_LOG_LIMIT)
  assert.equal(big[0]?.at, 3)
})

test('tokens: signed claims verify; a tampered, re-prefixed or foreign token does not', () => {
  const claims = { u: 3, e: 1_000, p: ['a'] }
  const token = signToken(SECRET, 'TK', claims)
  assert.match(token, /^TK[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/)
  assert.deepEqual(verifyToken(SECRET, 'TK', token), claims)

  const [body = '', sig = ''] = token.slice(2).split('.')
  const forged = Buffer.from(JSON.stringify({ ...claims, u: 4 })).toString('base64url')
  assert.equal(verifyToken(SECRET, 'TK', `TK${forged}.${sig}`), null, 'claims changed')
  const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`
  assert.equal(verifyToken(SECRET, 'TK', `TK${body}.${flipped}`), null, 'signature changed')
  assert.equal(verifyToken(SECRET, 'XX', token), null, 'another prefix')
  assert.equal(verifyToken('another-secret', 'TK', token), null, 'another secret')
  assert.equal(verifyToken(SECRET, 'TK', `${token}x`), null, 'trailing garbage')
  assert.equal(verifyToken(SECRET, 'TK', ''), null)
  // a prefix is matched literally, not as a pattern
  const dotted = signToken(SECRET, 'a.b', claims)
  assert.deepEqual(verifyToken(SECRET, 'a.b', dotted), claims)
  assert.equal(verifyToken(SECRET, 'a.b', `axb${dotted.slice(3)}`), null)
  // a correctly signed body that is not a JSON object (or not JSON) is no claims
  assert.deepEqual(verifyToken(SECRET, 'TK', signTokenRaw('{"e":1}')), { e: 1 })
  assert.equal(verifyToken(SECRET, 'TK', signTokenRaw('null')), null)
  assert.equal(verifyToken(SECRET, 'TK', signTokenRaw('42')), null)
  assert.equal(verifyToken(SECRET, 'TK', signTokenRaw('{not json')), null)
})

/** A token over an arbitrary body text, signed as `signToken` signs (to test what it refuses). */
function signTokenRaw(text: string): string {
  const body = Buffer.from(text).toString('base64url')
  return `TK${body}.${sign(SECRET, body)}`
}

test('tokens: expiry is the claim e, and a token expiring now is expired', () => {
  assert.equal(isExpired({ e: 1_000 }, 999), false)
  assert.equal(isExpired({ e: 1_000 }, 1_000), true)
  assert.equal(isExpired({ e: 1_000 }, 1_001), true)
})

test('CDN URLs: signed until the day start + TTL, stable within a day, then expired', () => {
  const start = Date.UTC(2026, 10, 1, 5)
  const ttl = 3 * DAY
  const oe = cdnExpiry(start, ttl)
  assert.equal(oe, ((Date.UTC(2026, 10, 1) + ttl) / 1000).toString(16).toUpperCase())
  assert.equal(cdnExpiry(start + 18 * 3_600_000, ttl), oe, 'the same within the UTC day')
  assert.notEqual(cdnExpiry(start + DAY, ttl), oe)

  const oh = cdnSignature(SECRET, '1784', oe, '00_')
  assert.match(oh, /^00_[A-Za-z0-9_-]{32}$/)
  assert.equal(verifyCdn(SECRET, '1784', oe, oh, start, '00_'), 'ok')
  const expiresAt = parseInt(oe, 16) * 1000
  assert.equal(verifyCdn(SECRET, '1784', oe, oh, expiresAt - 1, '00_'), 'ok')
  assert.equal(verifyCdn(SECRET, '1784', oe, oh, expiresAt, '00_'), 'expired')
  assert.equal(verifyCdn(SECRET, '1785', oe, oh, start, '00_'), 'bad', 'another resource')
  assert.equal(verifyCdn(SECRET, '1784', 'FFFFFFFF', oh, start, '00_'), 'bad', 'a later expiry')
  assert.equal(verifyCdn(SECRET, '1784', oe, oh.slice(3), start, '00_'), 'bad', 'no prefix')
  assert.equal(verifyCdn(SECRET, '1784', oe.toLowerCase(), oh, start, '00_'), 'bad')
  assert.equal(verifyCdn('another-secret', '1784', oe, oh, start, '00_'), 'bad')
  assert.equal(verifyCdn(SECRET, '1784', '', cdnSignature(SECRET, '1784', ''), start), 'bad')
})

test('clock: moves a manual clock by {advance_ms} or to {now}; the system clock refuses', () => {
  const limits = { depth: 4 }
  // the test clock keeps running in real time from where it is set: allow a few milliseconds
  const near = (actual: number, expected: number) =>
    assert.ok(actual >= expected && actual - expected < 1_000, `${actual} vs ${expected}`)
  const clock = createManualClock(Date.UTC(2026, 0, 1))
  near(moveClock(clock, parseClockMove({ advance_ms: DAY }, limits)), Date.UTC(2026, 0, 2))
  near(
    moveClock(clock, parseClockMove({ now: '2027-03-04T00:00:00Z' }, limits)),
    Date.UTC(2027, 2, 4),
  )
  assert.throws(
    () => moveClock(systemClock, { advanceMs: 1 }),
    (error: unknown) => error instanceof ControlError && error.status === 409,
  )
  for (const bad of [
    {},
    { advance_ms: 200 * 366 * DAY },
    { now: 'soon' },
    { now: '+100000-01-01' },
  ])
    assert.throws(() => parseClockMove(bad, limits), ControlError)
})

test('control input: depth counted before parsing, own fields only, one string per parameter', () => {
  assert.equal(jsonDepth('{"a":[{"b":"[[[["}]}'), 3)
  assert.equal(parseJsonBody('  ', { depth: 2 }), undefined)
  assert.deepEqual(parseJsonBody('{"a":1}', { depth: 2 }), { a: 1 })
  assert.throws(() => parseJsonBody('{"a":{"b":{}}}', { depth: 2 }), ControlError)
  assert.throws(() => parseJsonBody('{', { depth: 2 }), ControlError)
  assert.throws(() => inputObject([], 'x', { depth: 4 }), ControlError)
  assert.deepEqual(inputObject(undefined, 'x', { depth: 4 }), {})
  assert.equal(one({ a: 'x', b: ['1', '2'] }, 'a'), 'x')
  assert.equal(one({ a: 'x', b: ['1', '2'] }, 'b'), undefined)
  assert.equal(one(null, 'a'), undefined)
})

const TOKEN = createControlToken()
const BASE = 'http://127.0.0.1:8081'

async function gated(): Promise<{ app: FastifyInstance; seen: unknown[] }> {
  const seen: unknown[] = []
  const app = Fastify()
  await app.register(
    gatedControlPlugin({
      token: TOKEN,
      baseUrl: () => BASE,
      limits: { bodyBytes: 256, depth: 3 },
      routes: (control) => {
        control.get('/state', async () => ({ ok: true }))
        control.post('/thing', async (request) => {
          seen.push(request.body)
          return { ok: true }
        })
        control.post('/refused', async () => {
          throw new ControlError(409, 'taken')
        })
      },
    }),
    { prefix: CONTROL_PREFIX },
  )
  return { app, seen }
}

const auth = { authorization: `Bearer ${TOKEN}` }
const errorCode = (body: string): string =>
  (JSON.parse(body) as { error: { code: string } }).error.code

test('control gate: a short token is refused when the plugin is built', () => {
  assert.throws(
    () =>
      gatedControlPlugin({
        token: 'short',
        baseUrl: () => BASE,
        limits: { bodyBytes: 1, depth: 1 },
        routes: () => undefined,
      }),
    /at least 32 characters/,
  )
  assert.match(createControlToken(), /^[A-Za-z0-9_-]{43}$/)
})

test('control gate: loopback Host, bearer token, same Origin, JSON only, bounded', async (t) => {
  const { app, seen } = await gated()
  t.after(() => app.close())
  const url = `${CONTROL_PREFIX}/thing`
  const json = { ...auth, 'content-type': 'application/json' }

  const ok = await app.inject({ method: 'GET', url: `${CONTROL_PREFIX}/state`, headers: auth })
  assert.equal(ok.statusCode, 200)
  assert.equal(ok.headers['cache-control'], 'no-store')
  for (const host of ['localhost', '[::1]:8081', '127.0.0.1:1']) {
    const r = await app.inject({
      method: 'GET',
      url: `${CONTROL_PREFIX}/state`,
      headers: { ...auth, host },
    })
    assert.equal(r.statusCode, 200, host)
  }

  const cases: [string, Record<string, string>, string | undefined, number, string][] = [
    ['foreign Host', { ...json, host: 'evil.example' }, '{}', 421, 'ERR_MISDIRECTED'],
    [
      'loopback-looking Host',
      { ...json, host: 'localhost.evil.example' },
      '{}',
      421,
      'ERR_MISDIRECTED',
    ],
    ['no token', { 'content-type': 'application/json' }, '{}', 401, 'ERR_UNAUTHENTICATED'],
    [
      'wrong token',
      { ...json, authorization: `Bearer ${TOKEN}x` },
      '{}',
      401,
      'ERR_UNAUTHENTICATED',
    ],
    [
      'other scheme',
      { ...json, authorization: `Basic ${TOKEN}` },
      '{}',
      401,
      'ERR_UNAUTHENTICATED',
    ],
    ['foreign Origin', { ...json, origin: 'https://evil.example' }, '{}', 403, 'ERR_FORBIDDEN'],
    [
      'form body',
      { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      'a=1',
      415,
      'ERR_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'text body',
      { ...auth, 'content-type': 'text/plain' },
      '{}',
      415,
      'ERR_UNSUPPORTED_MEDIA_TYPE',
    ],
    ['too large', json, JSON.stringify({ a: 'x'.repeat(300) }), 413, 'ERR_TOO_LARGE'],
    ['too deep', json, '{"a":{"b":{"c":{}}}}', 400, 'ERR_VALIDATION'],
    ['not JSON', json, '{', 400, 'ERR_VALIDATION'],
  ]
  for (const [name, headers, payload, status, code] of cases) {
    const r = await app.inject({
      method: 'POST',
      url,
      headers,
      ...(payload === undefined ? {} : { payload }),
    })
    assert.equal(r.statusCode, status, name)
    assert.equal(errorCode(r.body), code, name)
  }
  const unauthenticated = await app.inject({ method: 'GET', url: `${CONTROL_PREFIX}/state` })
  assert.equal(unauthenticated.headers['www-authenticate'], 'Bearer realm="emulator control"')
  assert.deepEqual(seen, [], 'no refused request reached a route')

  const same = await app.inject({
    method: 'POST',
    url,
    headers: { ...json, origin: 'http://127.0.0.1:8081' },
    payload: '{"a":1}',
  })
  assert.equal(same.statusCode, 200)
  assert.deepEqual(seen, [{ a: 1 }])
  const refused = await app.inject({
    method: 'POST',
    url: `${CONTROL_PREFIX}/refused`,
    headers: auth,
  })
  assert.equal(refused.statusCode, 409)
  assert.equal(errorCode(refused.body), 'ERR_CONFLICT')
})

test('inject fetch: reaches routes under its base only, with no socket', async (t) => {
  const app = Fastify()
  app.post('/emu/echo', async (request) => ({ body: request.body, q: request.query }))
  app.get('/emu/empty', async (_request, reply) => reply.code(204).send())
  await app.ready()
  t.after(() => app.close())
  const fetch = createInjectFetch(app, 'http://emu.test/emu')
  const answer = await fetch('http://emu.test/emu/echo?x=1', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":2}',
  })
  assert.equal(answer.status, 200)
  assert.deepEqual(await answer.json(), { body: { a: 2 }, q: { x: '1' } })
  assert.equal((await fetch('http://emu.test/emu/empty')).status, 204)
  await assert.rejects(fetch('http://elsewhere.test/emu/echo'), TypeError)
  await assert.rejects(fetch('http://emu.test/emulator/echo'), TypeError)
  const controller = new AbortController()
  controller.abort(new Error('stop'))
  await assert.rejects(fetch('http://emu.test/emu/empty', { signal: controller.signal }), /stop/)
})
