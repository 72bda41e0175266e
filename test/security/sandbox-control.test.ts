/**
 * The emulator's control API (issue 12, red-team F3), over real HTTP on loopback.
 *
 * The app's mounted sandbox has none: every method on every `/sandbox/instagram/_control/…` path,
 * with JSON, form or no body, with or without a cross-site Origin, is the app's JSON 404, and
 * neither the emulator's world nor the database changes; connecting through the consent page
 * still works.
 *
 * The standalone emulator (`npm run emulator`, `standaloneEmulator` in
 * `src/providers/instagram/emulator/control.ts`) keeps it, gated: loopback `Host` only (421), no
 * foreign `Origin` (403), the bearer token (401), JSON only (415), and bounded (400, with nothing
 * changed). Requests go through `node:http` so that `Host` and `Origin` reach the server exactly
 * as written.
 */
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import Fastify from 'fastify'
import { serveTestApp, type ServedApp } from '../helpers/browser.ts'
import { rawRequest, type RawAnswer } from '../helpers/raw-http.ts'
import { Client, allowInSandbox, start, waitFor } from '../helpers/process.ts'
import { createManualClock, type ManualClock } from '../../src/clock.ts'
import { createEmulator, type Emulator } from '../../src/providers/instagram/emulator/index.ts'
import {
  createControlToken,
  standaloneEmulator,
} from '../../src/providers/instagram/emulator/control.ts'

const EVIL = 'https://evil.example'
const PASSWORD = 'correct horse battery staple'

const errorOf = (answer: RawAnswer): { code: string; message: string } =>
  (JSON.parse(answer.body) as { error: { code: string; message: string } }).error

/** Everything a control request could change in the emulator, as one digest. */
function emulatorDigest(emulator: Emulator): string {
  const s = emulator.state
  return createHash('sha256')
    .update(
      JSON.stringify({
        users: s.users,
        faults: s.faults,
        invalidations: [...s.invalidations],
        codes: [...s.codes],
        settings: s.settings,
        calls: s.calls,
        published: s.publishedMedia,
      }),
    )
    .digest('hex')
}

/** How far the (manual) clock is from real time: a moved clock moves this. */
const clockOffset = (clock: ManualClock): number => clock.now() - Date.now()

/** Runs `attack` and asserts that the emulator's world and its clock are as before. */
async function emulatorUnchanged(
  emulator: Emulator,
  clock: ManualClock,
  attack: () => Promise<void>,
): Promise<void> {
  const before = emulatorDigest(emulator)
  const offset = clockOffset(clock)
  await attack()
  assert.equal(emulatorDigest(emulator), before, 'the emulator changed')
  assert.ok(Math.abs(clockOffset(clock) - offset) < 1_000, 'the clock moved')
}

describe('the mounted sandbox has no control API', () => {
  /** Every table of the app, as one string. */
  async function database(app: ServedApp): Promise<string> {
    const parts: string[] = []
    for (const table of [
      'users',
      'sessions',
      'known_devices',
      'oauth_states',
      'user_social_accounts',
      'media',
      'api_budgets',
      'data_deletion_requests',
      'webhook_deliveries',
    ])
      parts.push(`${table}: ${JSON.stringify(await app.raw(`SELECT * FROM ${table} ORDER BY 1`))}`)
    return parts.join('\n')
  }

  /** Sign up, Connect, Allow as demo user `userIndex`: where the callback landed. */
  async function connect(app: ServedApp, client: Client, userIndex: number): Promise<URL> {
    const started = await client.send(
      'POST',
      `${app.base}/api/socials/connect/instagram`,
      JSON.stringify({ mode: 'redirect' }),
    )
    assert.equal(started.status, 200, started.text)
    const url = new URL(
      (JSON.parse(started.text) as { authorization_url: string }).authorization_url,
    )
    assert.equal(url.pathname, '/sandbox/instagram/oauth/authorize')
    const consentPage = await client.send('GET', url.toString())
    assert.equal(consentPage.status, 200)
    assert.equal(consentPage.headers.get('content-type'), 'text/html; charset=utf-8')
    const { decision, landed } = await allowInSandbox(client, url, userIndex)
    assert.equal(decision.status, 302)
    assert.equal(landed.status, 303)
    return new URL(String(landed.headers.get('location')), app.base)
  }

  async function signUp(app: ServedApp, email: string): Promise<Client> {
    const client = new Client(app.base)
    const registered = await client.send(
      'POST',
      `${app.base}/api/auth/register`,
      JSON.stringify({ email, password: PASSWORD }),
    )
    assert.equal(registered.status, 201, registered.text)
    return client
  }

  test('every control path, method, body and origin is the app’s 404; nothing changes; connecting still works', async (t) => {
    const app = await serveTestApp(t)
    const alice = await signUp(app, 'alice@example.com')
    assert.equal((await connect(app, alice, 1)).searchParams.get('connect'), 'success')
    const mediaId = app.emulator.state.userByIndex(1)?.media[0]?.id ?? ''
    const paths = [
      '/users',
      '/users/1/media',
      `/media/${mediaId}`,
      '/users/1/invalidate',
      '/faults',
      '/reset',
      '/state',
      '/calls',
      '/clock',
      '/settings',
    ]
    const fields = {
      username: 'planted',
      media_count: '10000',
      caption: '<img src=x onerror=alert(1)> planted by anonymous',
      subcode: '460',
      kind: 'throttle',
      code: '4',
      count: '1',
      minutes: '500000000',
      advance_ms: '86400000000',
      token_response_shape: 'wrapped',
    }
    const bodies: Record<string, { type: string; body: string } | null> = {
      none: null,
      json: {
        type: 'application/json',
        body: JSON.stringify({
          ...fields,
          ...{ media_count: 10_000, subcode: 460, code: 4, count: 1, minutes: 500_000_000 },
        }),
      },
      form: {
        type: 'application/x-www-form-urlencoded',
        body: new URLSearchParams(fields).toString(),
      },
    }
    const origins: Record<string, Record<string, string>> = {
      'no origin': {},
      'same origin': { origin: app.base, 'sec-fetch-site': 'same-origin' },
      'cross-site': { origin: EVIL, 'sec-fetch-site': 'cross-site' },
    }
    const before = await database(app)
    let requests = 0
    await emulatorUnchanged(app.emulator, app.clock, async () => {
      for (const path of paths)
        for (const method of ['GET', 'POST', 'PATCH', 'DELETE'])
          for (const [bodyName, body] of Object.entries(bodies)) {
            if (method === 'GET' && body !== null) continue
            for (const [originName, originHeaders] of Object.entries(origins)) {
              const url = `/sandbox/instagram/_control${path}`
              const answer = await rawRequest(app.base, method, url, {
                headers: {
                  ...originHeaders,
                  ...(body === null ? {} : { 'content-type': body.type }),
                },
                ...(body === null ? {} : { body: body.body }),
              })
              const what = `${method} ${url} (${bodyName}, ${originName})`
              assert.match(String(answer.headers['content-type']), /^application\/json/, what)
              // the app's same-origin check may refuse a cross-site unsafe request first
              if (originName === 'cross-site' && method !== 'GET' && answer.status === 403) {
                assert.equal(errorOf(answer).code, 'ERR_FORBIDDEN', what)
              } else {
                assert.equal(answer.status, 404, what)
                assert.deepEqual(
                  errorOf(answer),
                  { code: 'ERR_NOT_FOUND', message: `No route for ${method} ${url}` },
                  what,
                )
              }
              requests++
            }
          }
    })
    assert.equal(requests, paths.length * 30)
    assert.equal(await database(app), before, 'the database changed')
    // the consent flow a person goes through still works
    const bob = await signUp(app, 'bob@example.com')
    const landed = await connect(app, bob, 2)
    assert.equal(landed.pathname, '/gallery')
    assert.equal(landed.searchParams.get('connect'), 'success')
  })
})

describe('the standalone emulator’s control API is gated and bounded', () => {
  interface Standalone {
    readonly emulator: Emulator
    readonly clock: ManualClock
    readonly base: string
    readonly token: string
    /**
     * A control request with the right token (`authorization`: another header value, or `null`
     * for none) and the default loopback Host, unless `headers` says otherwise.
     */
    control(
      method: string,
      path: string,
      options?: {
        json?: unknown
        headers?: Record<string, string>
        body?: string
        authorization?: string | null
      },
    ): Promise<RawAnswer>
  }

  /** What `npm run emulator` serves (`standaloneEmulator`), on a loopback port. */
  async function standalone(t: TestContext): Promise<Standalone> {
    const clock = createManualClock(Date.UTC(2026, 10, 1))
    let base = ''
    const redirect = 'http://127.0.0.1:9/api/socials/oauth/instagram/callback'
    const emulator = createEmulator({
      clock,
      baseUrl: () => base,
      clientId: 'app-id',
      clientSecret: 'app-secret',
      redirectUris: [redirect],
    })
    const token = createControlToken()
    const app = Fastify()
    await app.register(standaloneEmulator(emulator, { token }))
    base = await app.listen({ port: 0, host: '127.0.0.1' })
    t.after(() => app.close())
    return {
      emulator,
      clock,
      base,
      token,
      control(method, path, options = {}) {
        const json = options.json === undefined ? undefined : JSON.stringify(options.json)
        const authorization =
          options.authorization === undefined ? `Bearer ${token}` : options.authorization
        return rawRequest(base, method, `/_control${path}`, {
          headers: {
            ...(authorization === null ? {} : { authorization }),
            ...(json === undefined ? {} : { 'content-type': 'application/json' }),
            ...options.headers,
          },
          ...(json === undefined ? {} : { body: json }),
          ...(options.body === undefined ? {} : { body: options.body }),
        })
      },
    }
  }

  /** Asserts a refusal with `status` whose message matches, and that nothing changed. */
  async function refused(
    s: Standalone,
    status: number,
    message: RegExp,
    request: () => Promise<RawAnswer>,
  ): Promise<void> {
    await emulatorUnchanged(s.emulator, s.clock, async () => {
      const answer = await request()
      assert.equal(answer.status, status, answer.body)
      assert.match(errorOf(answer).message, message)
    })
  }

  const WRITES = [
    ['POST', '/users', { username: 'planted', media_count: 3 }],
    ['POST', '/users/1/media', { caption: 'planted' }],
    ['POST', '/users/1/invalidate', { subcode: 460 }],
    ['POST', '/faults', { kind: 'throttle', code: 4, count: 1, minutes: 30 }],
    ['DELETE', '/media/17900120912340654', undefined],
    ['POST', '/clock', { advance_ms: 86_400_000 }],
    ['POST', '/settings', { token_response_shape: 'wrapped' }],
    ['POST', '/reset', undefined],
  ] as const

  test('without the token, with a wrong one or another scheme: 401, nothing changed', async (t) => {
    const s = await standalone(t)
    s.emulator.control.addFault({ kind: 'http_5xx', count: 1 }) // so that a reset would show
    const wrong = createControlToken()
    for (const authorization of [
      undefined,
      '',
      `Bearer ${wrong}`,
      `Bearer ${s.token}x`,
      `Bearer ${s.token.slice(0, -1)}`,
      `Basic ${s.token}`,
      s.token,
      'Bearer',
    ]) {
      for (const [method, path, json] of [...WRITES, ['GET', '/state', undefined] as const]) {
        await refused(s, 401, /Authorization: Bearer/, async () => {
          const answer = await s.control(method, path, {
            ...(json === undefined ? {} : { json }),
            authorization: authorization ?? null,
          })
          if (authorization === undefined)
            assert.equal(answer.headers['www-authenticate'], 'Bearer realm="emulator control"')
          return answer
        })
      }
    }
    const state = await s.control('GET', '/state', { authorization: `bearer ${s.token}` })
    assert.equal(state.status, 200)
    assert.equal((JSON.parse(state.body) as { users: unknown[] }).users.length, 3)
    assert.equal(state.headers['cache-control'], 'no-store')
  })

  test('a Host that is not a loopback name (DNS rebinding): 421, nothing changed', async (t) => {
    const s = await standalone(t)
    const port = new URL(s.base).port
    for (const host of [
      'evil.example',
      'attacker.example:8081',
      `attacker.example:${port}`,
      `localhost.evil.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      '127.0.0.2',
      `[::2]:${port}`,
      `192.168.1.10:${port}`,
    ]) {
      for (const [method, path, json] of [...WRITES, ['GET', '/state', undefined] as const])
        await refused(s, 421, /loopback host name/, () =>
          s.control(method, path, { ...(json === undefined ? {} : { json }), headers: { host } }),
        )
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST'])
      assert.equal((await s.control('GET', '/state', { headers: { host } })).status, 200, host)
  })

  test('a form post or any other body than JSON: 415, nothing changed; the consent form still works', async (t) => {
    const s = await standalone(t)
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'username=planted&media_count=3'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nplanted\r\n--x--',
      ],
      ['text/plain', JSON.stringify({ username: 'planted' })],
      ['application/json-patch+json', JSON.stringify({ username: 'planted' })],
      [undefined, JSON.stringify({ username: 'planted' })],
    ] as const)
      await refused(s, 415, /JSON/, () =>
        s.control('POST', '/users', {
          headers: type === undefined ? {} : { 'content-type': type },
          body,
        }),
      )
    const created = await s.control('POST', '/users', {
      json: { username: 'made_here', media_count: 2 },
      headers: { 'content-type': 'application/json; charset=utf-8' },
    })
    assert.equal(created.status, 201, created.body)
    assert.equal(s.emulator.state.users.length, 4)
    // the consent page is not part of the control API: a person's form post still lands
    const query = new URLSearchParams({
      client_id: 'app-id',
      redirect_uri: 'http://127.0.0.1:9/api/socials/oauth/instagram/callback',
      response_type: 'code',
      scope: 'instagram_business_basic',
      state: 'xyz',
    })
    const page = await rawRequest(s.base, 'GET', `/oauth/authorize?${query.toString()}`)
    assert.equal(page.status, 200)
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8')
    const allowed = await rawRequest(s.base, 'POST', '/oauth/authorize', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: EVIL },
      body: `${query.toString()}&decision=allow&user_index=1`,
    })
    assert.equal(allowed.status, 302)
    assert.match(String(allowed.headers.location), /[?&]code=AQB[^&]+&state=xyz#_$/)
  })

  test('an Origin other than the emulator’s own: 403, nothing changed', async (t) => {
    const s = await standalone(t)
    const port = Number(new URL(s.base).port)
    for (const origin of [
      EVIL,
      'null',
      `http://localhost:${port}`,
      `http://127.0.0.1:${port + 1}`,
      `https://127.0.0.1:${port}`,
    ]) {
      for (const [method, path, json] of [...WRITES, ['GET', '/state', undefined] as const])
        await refused(s, 403, /cross-origin/, () =>
          s.control(method, path, { ...(json === undefined ? {} : { json }), headers: { origin } }),
        )
    }
    const own = await s.control('POST', '/users', {
      json: { username: 'own_origin', media_count: 0 },
      headers: { origin: s.base },
    })
    assert.equal(own.status, 201, own.body)
  })

  test('over the caps (users, media, faults), too deep or too large: 400/413, nothing changed', async (t) => {
    const s = await standalone(t)
    // faults: at most 100 queued, each field checked
    for (let i = 0; i < 100; i++)
      assert.equal(
        (await s.control('POST', '/faults', { json: { kind: 'http_5xx', count: 1 } })).status,
        201,
      )
    await refused(s, 400, /at most 100 faults/, () =>
      s.control('POST', '/faults', { json: { kind: 'http_5xx', count: 1 } }),
    )
    assert.equal((await s.control('DELETE', '/faults')).status, 200)
    for (const [fault, message] of [
      [{ kind: 'http_5xx', count: 10_001 }, /count must be a whole number from 1 to 10000/],
      [{ kind: 'graph_error', code: 190, count: 1, message: 'm'.repeat(501) }, /message/],
      [{ kind: 'http_5xx', count: 1, path: 'p'.repeat(501) }, /path/],
      [{ kind: 'timeout', count: 1, hang_ms: 1e9 }, /hang_ms/],
    ] as const)
      await refused(s, 400, message, () => s.control('POST', '/faults', { json: fault }))
    const kept = await s.control('POST', '/faults', {
      json: { kind: 'http_5xx', count: 1, status: 503, smuggled: { a: 1 } },
    })
    assert.equal(kept.status, 201)
    assert.deepEqual(s.emulator.state.faults, [{ kind: 'http_5xx', count: 1, status: 503 }])

    // too deep (the red team's 30,000 levels) and too large; the state stays readable
    const deep = `{"kind":"graph_error","code":1,"count":1,"message":"x","extra":${'['.repeat(30_000)}${']'.repeat(30_000)}}`
    await refused(s, 400, /nested deeper than 4 levels/, () =>
      s.control('POST', '/faults', { body: deep, headers: { 'content-type': 'application/json' } }),
    )
    await refused(s, 400, /nested deeper/, () =>
      s.control('POST', '/users', { json: { username: 'deep', x: [[[[[1]]]]] } }),
    )
    await refused(s, 413, /over 65536 bytes/, () =>
      s.control('POST', '/users', { json: { username: 'large', pad: 'x'.repeat(70_000) } }),
    )
    assert.equal((await s.control('GET', '/state')).status, 200)

    // captions: Instagram's 2,200 characters
    await refused(s, 400, /at most 2200 characters/, () =>
      s.control('POST', '/users/1/media', { json: { caption: 'x'.repeat(2_201) } }),
    )

    // media: at most 50,000 across all users; a new user's media_count within what is left
    for (let i = 0; i < 4; i++)
      s.emulator.control.addUser({ username: `big_${i}`, media_count: 10_000 })
    const left = 50_000 - s.emulator.state.users.reduce((n, u) => n + u.media.length, 0)
    await refused(s, 400, new RegExp(`media_count must be a whole number from 0 to ${left}`), () =>
      s.control('POST', '/users', { json: { username: 'dos0', media_count: 10_000 } }),
    )
    assert.equal(
      (await s.control('POST', '/users', { json: { username: 'fill', media_count: left } })).status,
      201,
    )
    await refused(s, 400, /at most 50000 media/, () =>
      s.control('POST', '/users/1/media', { json: { caption: 'one more' } }),
    )

    // users: at most 200, the demo accounts included
    while (s.emulator.state.users.length < 200)
      s.emulator.control.addUser({ username: `u${s.emulator.state.users.length}`, media_count: 0 })
    await refused(s, 400, /at most 200 users/, () =>
      s.control('POST', '/users', { json: { username: 'one_more', media_count: 0 } }),
    )
  })

  test('a throttle fault may claim years, but not more than about ten', async (t) => {
    const s = await standalone(t)
    await refused(s, 400, /minutes must be a whole number from 0 to 5256000/, () =>
      s.control('POST', '/faults', {
        json: {
          kind: 'throttle',
          code: 4,
          count: 1,
          minutes: 500_000_000,
          path: '/graph/v24.0/me',
        },
      }),
    )
    const years = await s.control('POST', '/faults', {
      json: { kind: 'throttle', code: 4, count: 1, minutes: 5_000_000 },
    })
    assert.equal(years.status, 201, years.body)
    assert.equal(s.emulator.state.faults[0]?.kind, 'throttle')
  })

  test('authorization codes: at most 10,000 kept, the oldest dropped; expired ones dropped', async (t) => {
    const s = await standalone(t)
    const query = new URLSearchParams({
      client_id: 'app-id',
      redirect_uri: 'http://127.0.0.1:9/api/socials/oauth/instagram/callback',
      response_type: 'code',
      scope: 'instagram_business_basic',
    })
    const allow = async (): Promise<string> => {
      const answer = await rawRequest(s.base, 'POST', '/oauth/authorize', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `${query.toString()}&decision=allow&user_index=1`,
      })
      assert.equal(answer.status, 302)
      return new URL(String(answer.headers.location)).searchParams.get('code') ?? ''
    }
    const first = await allow()
    const second = await allow()
    while (s.emulator.state.codes.size < 10_000)
      s.emulator.state.issueCode(1, 'app-id', 'http://127.0.0.1:9/cb', ['instagram_business_basic'])
    const newest = await allow()
    const state = JSON.parse((await s.control('GET', '/state')).body) as { codes: number }
    assert.equal(state.codes, 10_000)
    assert.equal(s.emulator.state.codes.has(first), false, 'the oldest was dropped')
    assert.equal(s.emulator.state.codes.has(second), true)
    assert.equal(s.emulator.state.codes.has(newest), true)
    s.clock.advance(3_600_001)
    await allow()
    assert.equal(s.emulator.state.codes.size, 1, 'expired codes are dropped')
  })
})

describe('npm run emulator', () => {
  test(
    'prints a fresh control token and serves the gated control API with it',
    { timeout: 60_000 },
    async (t) => {
      const emulator = start(t, 'src/providers/instagram/emulator/main.ts', {
        EMULATOR_PORT: '0',
        LOG_LEVEL: 'warn',
      })
      const output = await waitFor(
        'emulator start-up',
        async () =>
          /EMULATOR_CONTROL_TOKEN=\S+/.test(emulator.output()) ? emulator.output() : null,
        emulator,
      )
      const base = /listening on (http:\/\/\S+)/.exec(output)?.[1] ?? ''
      const token = /EMULATOR_CONTROL_TOKEN=(\S+)/.exec(output)?.[1] ?? ''
      assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
      assert.match(output, /Control API at http:\/\/127\.0\.0\.1:\d+\/_control/)
      assert.equal((await rawRequest(base, 'GET', '/_control/state')).status, 401)
      const state = await rawRequest(base, 'GET', '/_control/state', {
        headers: { authorization: `Bearer ${token}` },
      })
      assert.equal(state.status, 200)
      assert.equal(
        (
          await rawRequest(base, 'GET', '/_control/state', {
            headers: { authorization: `Bearer ${token}`, host: 'evil.example' },
          })
        ).status,
        421,
      )
    },
  )

  test(
    'refuses an EMULATOR_CONTROL_TOKEN shorter than 32 characters',
    { timeout: 60_000 },
    async (t) => {
      const emulator = start(t, 'src/providers/instagram/emulator/main.ts', {
        EMULATOR_PORT: '0',
        EMULATOR_CONTROL_TOKEN: 'too-short-to-guard-anything',
      })
      const code = await new Promise<number | null>((resolve) => emulator.child.on('exit', resolve))
      assert.equal(code, 1)
      assert.match(emulator.output(), /EMULATOR_CONTROL_TOKEN must be at least 32 characters/)
      assert.doesNotMatch(emulator.output(), /listening on/)
    },
  )
})
