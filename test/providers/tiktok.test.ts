/**
 * TikTok passes the provider conformance suite against its emulator (served over https addresses
 * in-process, as a real deployment reaches open.tiktokapis.com), and the client's own rules: the
 * authorization URL's `client_key` and comma-separated scopes, the unticked-scope outcome, errors
 * that come with HTTP 200, the rotating refresh token over several refreshes, paging through the
 * public videos only, signed covers with their expiry, and the sandbox wiring.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import type { ManualClock } from '../../src/clock.ts'
import { isGalleryError } from '../../src/errors.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'
import { codeChallengeS256, createCodeVerifier } from '../../src/providers/oauth/pkce.ts'
import type { Credentials, FetchLike } from '../../src/providers/types.ts'
import {
  REFRESH_REFUSED_MESSAGE,
  STATS_SCOPE,
  createTiktokClient,
  type TiktokCallInfo,
} from '../../src/providers/tiktok/client.ts'
import { TIKTOK_SCOPES, type TiktokConfig } from '../../src/providers/tiktok/config.ts'
import { TIKTOK_SECRET_SHAPES } from '../../src/providers/tiktok/parse.ts'
import {
  createTiktokEmulator,
  type TiktokEmulatorOptions,
} from '../../src/providers/tiktok/emulator/index.ts'
import { TIKTOK_SANDBOX_PREFIX } from '../../src/providers/tiktok/sandbox.ts'
import { wireTiktok } from '../../src/providers/tiktok/wiring.ts'
import {
  recordIssuedTokens,
  runProviderConformance,
  type ConformanceHarness,
} from './conformance.ts'

const BASE = 'https://tiktok.emulator.test'
const REDIRECT_URI = 'https://gallery.example/api/socials/oauth/tiktok/callback'
const CLIENT_KEY = 'awconformanceclientkey'
const CLIENT_SECRET = 'tiktok-conformance-secret-0123456789'
const START = Date.UTC(2026, 10, 20, 12)
const HOUR = 3_600_000
const DAY = 24 * HOUR
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** A clock that moves only when told (lifetimes compare exactly). */
function frozenClock(start = START): ManualClock {
  let now = start
  return {
    now: () => now,
    advance(ms) {
      now += ms
    },
    set(ms) {
      now = ms
    },
  }
}

interface Sent {
  readonly url: string
  readonly method: string
  readonly body: string | null
}

async function world(
  t: TestContext,
  options: Partial<TiktokEmulatorOptions> = {},
  scopes: readonly string[] = TIKTOK_SCOPES,
) {
  const clock = frozenClock()
  const emulator = createTiktokEmulator({
    clock,
    baseUrl: () => BASE,
    clientKey: CLIENT_KEY,
    clientSecret: CLIENT_SECRET,
    redirectUris: [REDIRECT_URI],
    ...options,
  })
  const app = Fastify()
  await app.register(emulator.plugin)
  t.after(() => app.close())
  const inject = createInjectFetch(app, BASE)
  // every token and code the emulator hands out, for the secrecy checks; every request sent
  const issued = new Set<string>()
  const sent: Sent[] = []
  const fetch: FetchLike = async (input, init) => {
    sent.push({
      url: input,
      method: init?.method ?? 'GET',
      body: typeof init?.body === 'string' ? init.body : null,
    })
    const response = await inject(input, init)
    await recordIssuedTokens(response, issued)
    return response
  }
  const config: TiktokConfig = {
    clientKey: CLIENT_KEY,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    authorizeUrl: `${BASE}/v2/auth/authorize/`,
    apiUrl: BASE,
    scopes,
    requestTimeoutMs: 200,
  }
  const calls: TiktokCallInfo[] = []
  const client = createTiktokClient({
    config,
    fetch,
    now: () => clock.now(),
    onCall: (info) => {
      calls.push(info)
    },
  })
  /** Consents as TikTok account `account`, ticking `granted`; returns the redirect's query. */
  async function consent(
    authorizationUrl: string,
    account = 1,
    granted: readonly string[] = scopes,
  ): Promise<URLSearchParams> {
    const form = new URLSearchParams(new URL(authorizationUrl).searchParams)
    form.set('decision', 'allow')
    form.set('account', String(account))
    for (const scope of granted) form.append('granted_scope', scope)
    const answer = await app.inject({
      method: 'POST',
      url: '/v2/auth/authorize/',
      headers: FORM,
      payload: form.toString(),
    })
    assert.equal(answer.statusCode, 302, answer.body)
    const query = new URL(String(answer.headers.location)).searchParams
    const code = query.get('code')
    if (code !== null) issued.add(code)
    return query
  }
  /** A connection of account `account` made as the service makes it (PKCE). */
  async function connect(account = 1, granted?: readonly string[]): Promise<Credentials> {
    const verifier = createCodeVerifier()
    const url = client.authorizationUrl('state-0123456789abcdef', codeChallengeS256(verifier))
    const code = (await consent(url, account, granted)).get('code') ?? ''
    return client.exchangeCode(code, verifier)
  }
  const publicIds = (account = 1) =>
    (emulator.state.accountByIndex(account)?.videos ?? [])
      .filter((v) => v.privacy === 'public')
      .map((v) => v.id)
  return { clock, emulator, client, calls, sent, consent, connect, issued, config, publicIds }
}

async function harness(t: TestContext): Promise<ConformanceHarness> {
  const w = await world(t)
  return {
    client: w.client,
    async authorize(authorizationUrl) {
      return (await w.consent(authorizationUrl)).get('code') ?? ''
    },
    // the demo account has 25 public videos (two pages of 20) and a private one
    postIds: () => w.publicIds(1),
    fail(kind) {
      const faults = {
        unavailable: { kind: 'http_5xx', count: 1 },
        timeout: { kind: 'latency', ms: 400, count: 1 },
        rate_limited: { kind: 'rate_limit', count: 1 },
        refused: { kind: 'invalid_params', count: 1 },
        reauth: { kind: 'invalid_token', count: 1 },
      } as const
      w.emulator.control.addFault(faults[kind])
    },
    advance: (ms) => w.clock.advance(ms),
    issuedSecrets: () => [...w.issued],
  }
}

runProviderConformance({
  name: 'tiktok',
  setup: harness,
  expected: {
    redirectUri: REDIRECT_URI,
    scopes: TIKTOK_SCOPES,
    scopeSeparator: ',',
  },
})

test('the authorization URL carries client_key, comma-separated scopes and an S256 challenge', async (t) => {
  const { client } = await world(t)
  const url = new URL(client.authorizationUrl('s'.repeat(43), 'c'.repeat(43)))
  assert.equal(`${url.origin}${url.pathname}`, `${BASE}/v2/auth/authorize/`)
  assert.equal(url.searchParams.get('client_key'), CLIENT_KEY)
  assert.equal(url.searchParams.get('client_id'), null, 'TikTok names it client_key')
  assert.equal(url.searchParams.get('scope'), 'user.info.basic,user.info.profile,video.list')
  assert.equal(url.searchParams.get('response_type'), 'code')
  assert.equal(url.searchParams.get('redirect_uri'), REDIRECT_URI)
  assert.equal(url.searchParams.get('code_challenge'), 'c'.repeat(43))
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
  const bare = new URL(client.authorizationUrl('s'.repeat(43)))
  assert.equal(bare.searchParams.get('code_challenge'), null)
  assert.equal(bare.searchParams.get('code_challenge_method'), null)
})

test('an unticked scope is scope_missing; every scope granted is ok', async (t) => {
  const w = await world(t)
  const unticked = await w.connect(1, ['user.info.basic', 'user.info.profile'])
  assert.deepEqual(unticked.scopes, ['user.info.basic', 'user.info.profile'])
  assert.deepEqual(w.client.checkGrant(unticked), { ok: false, outcome: 'scope_missing' })
  const granted = await w.connect(1)
  assert.deepEqual(granted.scopes, [...TIKTOK_SCOPES])
  assert.deepEqual(w.client.checkGrant(granted), { ok: true })
})

test('the code exchange posts the client credentials in the form; lifetimes count from now', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  const exchange = w.sent.find((s) => s.url === `${BASE}/v2/oauth/token/`)
  assert.ok(exchange)
  assert.equal(exchange.method, 'POST')
  const form = new URLSearchParams(exchange.body ?? '')
  assert.equal(form.get('client_key'), CLIENT_KEY)
  assert.equal(form.get('client_secret'), CLIENT_SECRET)
  assert.equal(form.get('grant_type'), 'authorization_code')
  assert.equal(form.get('redirect_uri'), REDIRECT_URI)
  assert.match(form.get('code_verifier') ?? '', /^[A-Za-z0-9_-]{43}$/)
  assert.equal(credentials.issuedAt, w.clock.now())
  assert.equal(credentials.accessTokenExpiresAt, w.clock.now() + 2 * HOUR)
  assert.equal(credentials.refreshTokenExpiresAt, w.clock.now() + 180 * DAY)
  assert.equal(credentials.refreshTokenIssuedAt, credentials.issuedAt)
  assert.match(credentials.accessToken, /^act\./)
  assert.match(credentials.refreshToken ?? '', /^rft\./)
})

test('an error answered with HTTP 200 is still an error (token endpoint and v2 envelope)', async (t) => {
  const w = await world(t, { oauthErrorStatus: 200 })
  const verifier = createCodeVerifier()
  const url = w.client.authorizationUrl('state-0123456789abcdef', codeChallengeS256(verifier))
  const code = (await w.consent(url)).get('code') ?? ''
  await w.client.exchangeCode(code, verifier)
  // a replayed code: invalid_grant, with HTTP 200 (it also revokes what the code gave)
  await assert.rejects(w.client.exchangeCode(code, verifier), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    assert.match(error.message, /connect TikTok again/)
    assert.ok(!error.message.includes(code))
    return true
  })
  assert.equal(w.calls.at(-1)?.status, 200, 'the refusal came with HTTP 200')
  // a spent refresh token, with HTTP 200
  const credentials = await w.connect()
  await w.client.renew(credentials)
  await assert.rejects(w.client.renew(credentials), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    return true
  })
  assert.equal(w.calls.at(-1)?.status, 200)
  // the v2 envelope with an error code and HTTP 200
  const envelope = createTiktokClient({
    config: w.config,
    now: () => w.clock.now(),
    fetch: async () =>
      new Response(
        JSON.stringify({
          data: {},
          error: { code: 'access_token_invalid', message: 'Invalid token', log_id: 'L1' },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      ),
  })
  await assert.rejects(envelope.fetchIdentity(credentials), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    return true
  })
  await assert.rejects(envelope.listMedia(credentials, null), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    return true
  })
})

test('rotation: three refreshes in a row each rotate; every spent token is a reconnect', async (t) => {
  const w = await world(t)
  const first = await w.connect()
  const consentAt = w.clock.now()
  const chain: Credentials[] = [first]
  for (let i = 1; i <= 3; i++) {
    w.clock.advance(3 * DAY)
    const previous = chain[chain.length - 1] as Credentials
    const renewed = await w.client.renew(previous)
    assert.notEqual(renewed.refreshToken, previous.refreshToken, `refresh ${i}: a new token`)
    assert.notEqual(renewed.accessToken, previous.accessToken)
    assert.equal(renewed.issuedAt, w.clock.now())
    assert.equal(renewed.refreshTokenIssuedAt, w.clock.now(), 'issued at each refresh')
    assert.equal(renewed.accessTokenExpiresAt, w.clock.now() + 2 * HOUR)
    // the refresh token's end stays where the consent set it (remaining seconds, counted now)
    assert.equal(renewed.refreshTokenExpiresAt, consentAt + 180 * DAY)
    assert.deepEqual(renewed.scopes, [...TIKTOK_SCOPES])
    chain.push(renewed)
  }
  for (const spent of chain.slice(0, -1)) {
    await assert.rejects(w.client.renew(spent), (error: unknown) => {
      assert.ok(isGalleryError(error))
      assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
      assert.equal(error.message, REFRESH_REFUSED_MESSAGE)
      for (const secret of w.issued) assert.ok(!error.message.includes(secret))
      return true
    })
  }
  // the last one still works, and the refresh form carried the client credentials
  const last = chain[chain.length - 1] as Credentials
  const lookup = await w.client.fetchIdentity(last)
  assert.ok(lookup.ok)
  const refresh = new URLSearchParams(
    w.sent.filter((s) => s.url.endsWith('/token/')).at(-1)?.body ?? '',
  )
  assert.equal(refresh.get('refresh_token'), chain[2]?.refreshToken)
  assert.equal(refresh.get('grant_type'), 'refresh_token')
  assert.equal(refresh.get('client_key'), CLIENT_KEY)
  assert.equal(refresh.get('client_secret'), CLIENT_SECRET)
  // no refresh token at all: a reconnect, no call
  const before = w.sent.length
  await assert.rejects(w.client.renew({ ...last, refreshToken: null }), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    return true
  })
  assert.equal(w.sent.length, before)
})

test('identity: open_id, username, deep link, avatar, attributes; a count only with user.info.stats', async (t) => {
  const w = await world(t)
  const lookup = await w.client.fetchIdentity(await w.connect())
  assert.ok(lookup.ok)
  const account = w.emulator.state.accountByIndex(1)
  assert.ok(account)
  const identity = lookup.identity
  assert.equal(identity.providerAccountId, account.openId)
  assert.deepEqual(identity.aliases, [])
  assert.equal(identity.username, account.username)
  assert.equal(identity.profileUrl, `${BASE}/web/@${account.username}`)
  assert.ok(identity.avatarUrl?.startsWith(`${BASE}/cdn/avatar/`))
  assert.equal(identity.mediaCount, null, 'video_count needs user.info.stats, not asked for')
  assert.equal(identity.attributes.display_name, account.displayName)
  assert.equal(identity.attributes.union_id, account.unionId)
  assert.equal(identity.attributes.is_verified, 'false')
  const info = w.sent.find((s) => s.url.startsWith(`${BASE}/v2/user/info/`))
  assert.ok(info)
  const fields = new URL(info.url).searchParams.get('fields')?.split(',') ?? []
  assert.ok(fields.includes('open_id') && fields.includes('username'))
  assert.ok(!fields.includes('video_count'))

  // with user.info.stats granted, the public video count is comparable with the listing
  const s = await world(t, {}, [...TIKTOK_SCOPES, STATS_SCOPE])
  const counted = await s.client.fetchIdentity(await s.connect())
  assert.ok(counted.ok)
  assert.equal(counted.identity.mediaCount, s.publicIds(1).length)
  assert.equal(counted.identity.attributes.public_video_count, String(s.publicIds(1).length))
})

test('paging: every public video across pages of 20, a private one never listed', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  const account = w.emulator.state.accountByIndex(1)
  assert.ok(account)
  const hidden = account.videos.filter((v) => v.privacy === 'private').map((v) => v.id)
  assert.equal(hidden.length, 1, 'the demo account holds a private video')
  const pages: string[][] = []
  let cursor: string | null = null
  do {
    const page = await w.client.listMedia(credentials, cursor, { skipStored: true })
    assert.equal(page.skippedStored, 0)
    pages.push(page.items.map((i) => i.platform_media_id))
    for (const item of page.items) {
      assert.equal(item.visibility, 'public')
      assert.equal(item.media_type, 'VIDEO')
      assert.equal(item.media_url, null)
      assert.ok(item.permalink?.startsWith(`${BASE}/web/@phoenixpottery/video/`))
    }
    if (page.nextCursor !== null) assert.match(page.nextCursor, /^\d+$/)
    cursor = page.nextCursor
  } while (cursor !== null && pages.length < 10)
  assert.deepEqual(
    pages.map((p) => p.length),
    [20, 5],
  )
  assert.deepEqual(pages.flat(), w.publicIds(1))
  for (const id of hidden) assert.ok(!pages.flat().includes(id))
  const lists = w.sent.filter((s) => s.url.startsWith(`${BASE}/v2/video/list/`))
  assert.equal(lists.length, 2)
  assert.deepEqual(JSON.parse(lists[0]?.body ?? ''), { max_count: 20 })
  const second = JSON.parse(lists[1]?.body ?? '') as { max_count: number; cursor: number }
  assert.equal(second.max_count, 20)
  assert.equal(typeof second.cursor, 'number')
  assert.equal(lists[0]?.method, 'POST')
  // a video made private leaves the next listing
  const gone = w.publicIds(1)[0] ?? ''
  w.emulator.control.makePrivate(gone)
  const again = await w.client.listMedia(credentials, null)
  assert.ok(!again.items.some((i) => i.platform_media_id === gone))
  // an unreadable cursor is refused without a call
  const before = w.sent.length
  await assert.rejects(w.client.listMedia(credentials, 'abc'), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_VALIDATION')
    return true
  })
  assert.equal(w.sent.length, before)
})

test('covers are signed URLs: each item carries their expiry in url_expires_at', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  const page = await w.client.listMedia(credentials, null)
  assert.ok(page.items.length > 0)
  for (const item of page.items) {
    assert.ok(item.thumbnail_url !== null)
    const cover = new URL(item.thumbnail_url)
    assert.ok(cover.pathname.startsWith('/cdn/cover/'))
    const expires = Number(cover.searchParams.get('x-expires'))
    assert.equal(item.url_expires_at, expires * 1000)
    assert.ok((item.url_expires_at ?? 0) > w.clock.now(), 'not expired yet')
    assert.ok((item.url_expires_at ?? 0) <= w.clock.now() + 6 * HOUR, 'about 6 hours at most')
  }
})

test('a rate limit is the app’s throttle, retried after a minute; revoke posts the token', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  w.emulator.control.addFault({ kind: 'rate_limit', count: 1, path: '/v2/user/info/' })
  await assert.rejects(w.client.fetchIdentity(credentials), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_RATE_LIMITED')
    return true
  })
  const report = w.calls.at(-1)
  assert.equal(report?.endpoint, 'user.info')
  assert.equal(report?.status, 429)
  assert.equal(report?.throttled, 'app')
  assert.equal(report?.retryAfterSeconds, 60)
  assert.deepEqual(report?.usage, {
    appPercent: null,
    businessPercent: null,
    regainMinutes: null,
    regainMinutesClampedFrom: null,
  })
  await w.client.revoke?.(credentials)
  const revoke = w.sent.at(-1)
  assert.equal(revoke?.url, `${BASE}/v2/oauth/revoke/`)
  const form = new URLSearchParams(revoke?.body ?? '')
  assert.equal(form.get('client_key'), CLIENT_KEY)
  assert.equal(form.get('client_secret'), CLIENT_SECRET)
  assert.equal(form.get('token'), credentials.accessToken)
  await assert.rejects(w.client.renew(credentials), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    return true
  })
})

test('the platform’s secret shapes cover every token and code the emulator issues', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  await w.client.renew(credentials)
  assert.ok(w.issued.size >= 5, 'a code, two access and two refresh tokens')
  for (const secret of w.issued) {
    let line = `failed with ${secret} (and "${secret}")`
    for (const shape of TIKTOK_SECRET_SHAPES) line = line.replace(shape, '[REDACTED]')
    assert.ok(!line.includes(secret), `not scrubbed: ${secret.slice(0, 6)}…`)
  }
})

test('wiring: sandbox mode mounts the emulator and reaches it in-process', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  const clock = frozenClock()
  const publicUrl = 'http://localhost:8080'
  const settings: TiktokConfig = {
    clientKey: '',
    clientSecret: '',
    redirectUri: `${publicUrl}/api/socials/oauth/tiktok/callback`,
    authorizeUrl: 'https://www.tiktok.com/v2/auth/authorize/',
    apiUrl: 'https://open.tiktokapis.com',
    scopes: [...TIKTOK_SCOPES],
    requestTimeoutMs: 2_000,
  }
  const wiring = await wireTiktok({
    app,
    config: {
      mode: 'sandbox',
      settings,
      pacing: { limits: {}, slowDownPercent: 80, maxPauseMs: 0 },
    },
    publicUrl,
    clock,
    fetch: async () => {
      throw new Error('the sandbox is reached in-process')
    },
    sandboxSeed: 'a-persistent-seed',
  })
  assert.equal(wiring.capabilities.renewal.kind, 'refresh_token')
  assert.ok(wiring.clientSecret.length > 10, 'the sandbox’s derived secret')
  const client = wiring.createClient({
    now: () => clock.now(),
    beforeCall: async () => undefined,
    onCall: async () => undefined,
  })
  const verifier = createCodeVerifier()
  const url = new URL(
    client.authorizationUrl('state-0123456789abcdef', codeChallengeS256(verifier)),
  )
  assert.equal(
    `${url.origin}${url.pathname}`,
    `${publicUrl}${TIKTOK_SANDBOX_PREFIX}/v2/auth/authorize/`,
  )
  const form = new URLSearchParams(url.searchParams)
  form.set('decision', 'allow')
  form.set('account', '1')
  for (const scope of TIKTOK_SCOPES) form.append('granted_scope', scope)
  const answer = await app.inject({
    method: 'POST',
    url: `${TIKTOK_SANDBOX_PREFIX}/v2/auth/authorize/`,
    headers: FORM,
    payload: form.toString(),
  })
  assert.equal(answer.statusCode, 302, answer.body)
  const code = new URL(String(answer.headers.location)).searchParams.get('code') ?? ''
  const credentials = await client.exchangeCode(code, verifier)
  const lookup = await client.fetchIdentity(credentials)
  assert.ok(lookup.ok)
  assert.equal(lookup.identity.username, 'phoenixpottery')
  const page = await client.listMedia(credentials, null)
  assert.equal(page.items.length, 20)
  // the sandbox serves covers over plain http from PUBLIC_URL: its origin is admitted
  assert.ok(page.items[0]?.thumbnail_url?.startsWith(`${publicUrl}${TIKTOK_SANDBOX_PREFIX}/cdn/`))
})

test('wiring: real mode uses the given fetch and mounts nothing', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  const urls: string[] = []
  const settings: TiktokConfig = {
    clientKey: 'realclientkey',
    clientSecret: 'real-secret',
    redirectUri: 'https://gallery.example/api/socials/oauth/tiktok/callback',
    authorizeUrl: 'https://www.tiktok.com/v2/auth/authorize/',
    apiUrl: 'https://open.tiktokapis.com',
    scopes: [...TIKTOK_SCOPES],
    requestTimeoutMs: 2_000,
  }
  const wiring = await wireTiktok({
    app,
    config: { mode: 'real', settings, pacing: { limits: {}, slowDownPercent: 80, maxPauseMs: 0 } },
    publicUrl: 'https://gallery.example',
    clock: frozenClock(),
    fetch: async (input) => {
      urls.push(input)
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })
    },
  })
  assert.equal(wiring.clientSecret, 'real-secret')
  const client = wiring.createClient({
    now: () => START,
    beforeCall: async () => undefined,
    onCall: async () => undefined,
  })
  assert.ok(client.authorizationUrl('s').startsWith('https://www.tiktok.com/v2/auth/authorize/?'))
  await client.revoke?.({
    accessToken: 'act.example',
    accessTokenExpiresAt: null,
    refreshToken: null,
    refreshTokenExpiresAt: null,
    scopes: null,
    issuedAt: START,
    refreshTokenIssuedAt: null,
  })
  assert.deepEqual(urls, ['https://open.tiktokapis.com/v2/oauth/revoke/'])
  const mounted = await app.inject({
    method: 'GET',
    url: `${TIKTOK_SANDBOX_PREFIX}/v2/auth/authorize/`,
  })
  assert.equal(mounted.statusCode, 404)
})
