/**
 * X passes the provider conformance suite against its emulator (served over https addresses
 * in-process, as a real deployment reaches api.x.com), and the client's own rules: client
 * authentication (HTTP Basic for a confidential client, `client_id` in the body for a public
 * one), 30-second codes, refresh tokens that rotate at every refresh, no connection without
 * `offline.access`, billing failures that block for their own long pause whatever the rate-limit
 * headers say, albums and the best MP4 of a video, and timeline calls as X expects them.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import type { ManualClock } from '../../src/clock.ts'
import { CONNECTABLE } from '../../src/providers/registry.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'
import { createXEmulator, type XEmulatorOptions } from '../../src/providers/x/emulator/index.ts'
import {
  X_NO_REFRESH_TOKEN_MESSAGE,
  createXClient,
  type XCallInfo,
} from '../../src/providers/x/client.ts'
import { X_SCOPES, type XConfig } from '../../src/providers/x/config.ts'
import { X_TIMELINE_WINDOW } from '../../src/providers/x/capabilities.ts'
import { xCaption } from '../../src/providers/x/parse.ts'
import {
  X_CREDITS_DEPLETED_MESSAGE,
  X_SECRET_SHAPES,
  X_USAGE_CAPPED_MESSAGE,
  secondsUntilMonthlyReset,
} from '../../src/providers/x/parse.ts'
import { codeChallengeS256, createCodeVerifier } from '../../src/providers/oauth/pkce.ts'
import type { Credentials, FetchLike } from '../../src/providers/types.ts'
import { isGalleryError } from '../../src/errors.ts'
import { wireX } from '../../src/providers/x/wiring.ts'
import { X_SANDBOX_PREFIX } from '../../src/providers/x/sandbox.ts'
import {
  recordIssuedTokens,
  runProviderConformance,
  type ConformanceHarness,
} from './conformance.ts'

const BASE = 'https://x.emulator.test'
const REDIRECT_URI = 'https://gallery.example/api/socials/oauth/x/callback'
const CLIENT_ID = 'Y29uZm9ybWFuY2UteC1jbGllbnQ6MTpjaQ'
const CLIENT_SECRET = 'conformance-x-secret-0123456789abcdefghijklmnop'
/** Sunday 1 November 2026, 12:00 UTC. */
const START = Date.UTC(2026, 10, 1, 12)
const DAY_SECONDS = 86_400

/** A clock that moves only when told (`createManualClock` follows real time between moves). */
function fixedClock(start: number): ManualClock {
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

/** One request the client sent, as the emulator received it. */
interface Sent {
  readonly url: URL
  readonly method: string
  readonly headers: Headers
  readonly body: URLSearchParams
}

/** One answer the emulator gave (before the client's own reading). */
interface Answered {
  readonly path: string
  readonly status: number
  readonly headers: Headers
}

async function world(
  t: TestContext,
  options: Partial<XEmulatorOptions> & { clientSecret?: string } = {},
) {
  const clock = fixedClock(START)
  const clientType = options.clientType ?? 'confidential'
  const emulator = createXEmulator({
    clock,
    baseUrl: () => BASE,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [REDIRECT_URI],
    ...options,
    clientType,
  })
  const app = Fastify()
  await app.register(emulator.plugin)
  t.after(() => app.close())
  const inject = createInjectFetch(app, BASE)
  // every token and code the emulator hands out, for the secrecy checks
  const issued = new Set<string>()
  const sent: Sent[] = []
  const answered: Answered[] = []
  const fetch: FetchLike = async (input, init) => {
    sent.push({
      url: new URL(input),
      method: (init?.method ?? 'GET').toUpperCase(),
      headers: new Headers(init?.headers),
      body: new URLSearchParams(typeof init?.body === 'string' ? init.body : ''),
    })
    const response = await inject(input, init)
    answered.push({
      path: new URL(input).pathname,
      status: response.status,
      headers: response.headers,
    })
    await recordIssuedTokens(response, issued)
    return response
  }
  const config: XConfig = {
    clientId: CLIENT_ID,
    clientSecret: options.clientSecret ?? (clientType === 'public' ? '' : CLIENT_SECRET),
    redirectUri: REDIRECT_URI,
    authorizeUrl: `${BASE}/i/oauth2/authorize`,
    apiUrl: BASE,
    scopes: X_SCOPES,
    monthlyPostReadLimit: 10_000,
    requestTimeoutMs: 200,
  }
  const calls: XCallInfo[] = []
  const client = createXClient({
    config,
    fetch,
    now: () => clock.now(),
    onCall: (info) => {
      calls.push(info)
    },
  })
  /** Consents on the emulator's page as X account `account`; returns the redirect's query. */
  async function consent(authorizationUrl: string, account = 1): Promise<URLSearchParams> {
    const form = new URLSearchParams(new URL(authorizationUrl).searchParams)
    form.set('decision', 'allow')
    form.set('account', String(account))
    const answer = await app.inject({
      method: 'POST',
      url: '/i/oauth2/authorize',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    })
    assert.equal(answer.statusCode, 302, answer.body)
    const query = new URL(String(answer.headers.location)).searchParams
    const code = query.get('code')
    if (code !== null) issued.add(code)
    return query
  }
  /** A connection of account `account` made as the service makes it (PKCE). */
  async function connect(account = 1, scopes?: readonly string[]): Promise<Credentials> {
    const verifier = createCodeVerifier()
    const url = new URL(
      client.authorizationUrl('state-0123456789abcdef', codeChallengeS256(verifier)),
    )
    if (scopes !== undefined) url.searchParams.set('scope', scopes.join(' '))
    const code = (await consent(url.toString(), account)).get('code') ?? ''
    return client.exchangeCode(code, verifier)
  }
  /** The account's posts a listing must show: with media, no reply nor repost, in the window. */
  const postsWithMedia = (account = 1) =>
    (emulator.state.accountByIndex(account)?.posts ?? [])
      .slice(0, X_TIMELINE_WINDOW)
      .filter((p) => !p.reply && !p.retweet && p.media.length > 0)
  return {
    clock,
    emulator,
    client,
    config,
    calls,
    sent,
    answered,
    consent,
    connect,
    issued,
    fetch,
    postsWithMedia,
  }
}

async function harness(t: TestContext): Promise<ConformanceHarness> {
  const w = await world(t)
  return {
    client: w.client,
    async authorize(authorizationUrl) {
      return (await w.consent(authorizationUrl)).get('code') ?? ''
    },
    // "every post" of X's listing: every post with media the timeline reaches
    postIds: () => w.postsWithMedia().map((p) => p.id),
    fail(kind) {
      const faults = {
        unavailable: { kind: 'http_5xx', count: 1 },
        timeout: { kind: 'latency', ms: 400, count: 1 },
        rate_limited: { kind: 'rate_limit', count: 1 },
        refused: { kind: 'client_not_enrolled', count: 1 },
        reauth: { kind: 'unauthorized', count: 1 },
      } as const
      w.emulator.control.addFault(faults[kind])
    },
    advance: (ms) => w.clock.advance(ms),
    issuedSecrets: () => [...w.issued],
  }
}

/** Whether the registry lists X as connectable yet: the logger scrubs the shapes it lists. */
const registered = CONNECTABLE.some((platform) => platform.info.id === 'x')

runProviderConformance({
  name: 'x',
  setup: harness,
  expected: { redirectUri: REDIRECT_URI, scopes: X_SCOPES, scopeSeparator: ' ' },
  skip: registered
    ? {}
    : {
        redaction:
          'X is not in the registry’s connectable platforms yet, so the logger does not know X_SECRET_SHAPES (checked below)',
      },
})

test('X_SECRET_SHAPES scrub every token and code the emulator issues', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  await w.client.renew(credentials)
  const secrets = [...w.issued]
  assert.ok(secrets.length >= 4, 'a code, two access and two refresh tokens')
  for (const secret of secrets) {
    let line = `failed with ${secret} (and "${secret}")`
    for (const shape of X_SECRET_SHAPES) line = line.replace(shape, '[REDACTED]')
    assert.ok(!line.includes(secret), `not scrubbed: ${secret.slice(0, 6)}…`)
  }
})

const basicOf = (sent: Sent): { id: string; secret: string } | null => {
  const match = /^Basic (.+)$/.exec(sent.headers.get('authorization') ?? '')
  if (match === null) return null
  const [id, secret] = Buffer.from(match[1] ?? '', 'base64')
    .toString('utf8')
    .split(':')
  return { id: id ?? '', secret: secret ?? '' }
}

const tokenCalls = (sent: readonly Sent[]) =>
  sent.filter((s) => s.url.pathname === '/2/oauth2/token')

test('the authorization URL: code flow, client, exact redirect, space-joined scopes, S256', async (t) => {
  const { client } = await world(t)
  const url = new URL(client.authorizationUrl('s'.repeat(43), 'c'.repeat(43)))
  assert.equal(`${url.origin}${url.pathname}`, `${BASE}/i/oauth2/authorize`)
  assert.equal(url.searchParams.get('response_type'), 'code')
  assert.equal(url.searchParams.get('client_id'), CLIENT_ID)
  assert.equal(url.searchParams.get('redirect_uri'), REDIRECT_URI)
  assert.equal(url.searchParams.get('scope'), 'tweet.read users.read offline.access')
  assert.equal(url.searchParams.get('state'), 's'.repeat(43))
  assert.equal(url.searchParams.get('code_challenge'), 'c'.repeat(43))
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
})

test('a confidential client authenticates with HTTP Basic, never with its secret in the body', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  w.clock.advance(60_000)
  const renewed = await w.client.renew(credentials)
  await w.client.revoke?.(renewed)
  const oauth = w.sent.filter((s) => s.url.pathname.startsWith('/2/oauth2/'))
  assert.equal(oauth.length, 3, 'exchange, refresh, revoke')
  for (const sent of oauth) {
    assert.deepEqual(basicOf(sent), { id: CLIENT_ID, secret: CLIENT_SECRET }, sent.url.pathname)
    assert.equal(sent.body.get('client_secret'), null)
    assert.equal(sent.body.get('client_id'), null)
    assert.equal(sent.headers.get('content-type'), 'application/x-www-form-urlencoded')
  }
  const [exchange, refresh, revoke] = oauth
  assert.equal(exchange?.body.get('grant_type'), 'authorization_code')
  assert.equal(exchange?.body.get('redirect_uri'), REDIRECT_URI)
  assert.ok((exchange?.body.get('code_verifier') ?? '').length >= 43)
  assert.equal(refresh?.body.get('grant_type'), 'refresh_token')
  assert.equal(refresh?.body.get('refresh_token'), credentials.refreshToken)
  assert.equal(revoke?.url.pathname, '/2/oauth2/revoke')
  assert.equal(revoke?.body.get('token'), renewed.refreshToken)
  assert.equal(revoke?.body.get('token_type_hint'), 'refresh_token')
  // the grant is gone at X
  await assert.rejects(w.client.renew(renewed), { code: 'ERR_REAUTH_REQUIRED' })
})

test('a public client sends client_id in the body and no Authorization header', async (t) => {
  const w = await world(t, { clientType: 'public' })
  const credentials = await w.connect()
  w.clock.advance(60_000)
  const renewed = await w.client.renew(credentials)
  assert.notEqual(renewed.refreshToken, credentials.refreshToken)
  const sent = tokenCalls(w.sent)
  assert.equal(sent.length, 2)
  for (const call of sent) {
    assert.equal(call.headers.get('authorization'), null)
    assert.equal(call.body.get('client_id'), CLIENT_ID)
    assert.equal(call.body.get('client_secret'), null)
  }
})

test('a confidential App configured without its secret is refused as a configuration problem', async (t) => {
  // the App at X is confidential; the gallery was given no X_CLIENT_SECRET (a public client)
  const w = await world(t, { clientType: 'confidential', clientSecret: '' })
  await assert.rejects(w.connect(), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE')
    assert.match(error.message, /X_CLIENT_SECRET/)
    return true
  })
})

test('a code exchanged after its 30 seconds is refused as a reconnect, without the code', async (t) => {
  const w = await world(t)
  const verifier = createCodeVerifier()
  const url = w.client.authorizationUrl('state-0123456789abcdef', codeChallengeS256(verifier))
  const code = (await w.consent(url)).get('code') ?? ''
  w.clock.advance(31_000)
  await assert.rejects(w.client.exchangeCode(code, verifier), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    assert.match(error.message, /30 seconds/)
    assert.match(error.message, /connect the account again/)
    assert.ok(!error.message.includes(code))
    return true
  })
  // within the 30 seconds the same flow works
  const fresh = (await w.consent(url)).get('code') ?? ''
  w.clock.advance(29_000)
  const credentials = await w.client.exchangeCode(fresh, verifier)
  assert.ok(credentials.refreshToken !== null)
})

test('lifetimes: two hours from the answer, no refresh-token lifetime, issued at each refresh', async (t) => {
  const w = await world(t)
  const first = await w.connect()
  const connectedAt = w.clock.now()
  assert.ok(Math.abs(first.issuedAt - connectedAt) < 1000)
  assert.equal(first.accessTokenExpiresAt, first.issuedAt + 7200 * 1000)
  assert.equal(first.refreshTokenExpiresAt, null)
  assert.equal(first.refreshTokenIssuedAt, first.issuedAt)
  assert.deepEqual(first.scopes, ['tweet.read', 'users.read', 'offline.access'])
  assert.deepEqual(w.client.checkGrant(first), { ok: true })
})

test('rotation across 3 refreshes: each answers a new refresh token, the spent one is refused', async (t) => {
  const w = await world(t)
  let current = await w.connect()
  const seen = new Set([current.refreshToken])
  for (let i = 1; i <= 3; i++) {
    w.clock.advance(2 * 3_600_000)
    const renewed = await w.client.renew(current)
    assert.ok(renewed.refreshToken !== null, `refresh ${i}: a refresh token`)
    assert.ok(!seen.has(renewed.refreshToken), `refresh ${i}: a new refresh token`)
    seen.add(renewed.refreshToken)
    assert.notEqual(renewed.accessToken, current.accessToken)
    assert.ok(renewed.issuedAt >= current.issuedAt + 2 * 3_600_000)
    assert.equal(renewed.refreshTokenIssuedAt, renewed.issuedAt, `refresh ${i}: issued now`)
    assert.equal(renewed.accessTokenExpiresAt, renewed.issuedAt + 7200 * 1000)
    assert.equal(renewed.refreshTokenExpiresAt, null)
    assert.deepEqual(renewed.scopes, current.scopes)
    // the old one died at once
    await assert.rejects(w.client.renew(current), (error: unknown) => {
      assert.ok(isGalleryError(error))
      assert.equal(error.code, 'ERR_REAUTH_REQUIRED', `refresh ${i}: ${error.message}`)
      assert.match(error.message, /reconnect the account/)
      for (const secret of w.issued) assert.ok(!error.message.includes(secret))
      return true
    })
    current = renewed
  }
  const lookup = await w.client.fetchIdentity(current)
  assert.ok(lookup.ok)
})

test('without offline.access there is no refresh token: the connection is refused and given back', async (t) => {
  const w = await world(t)
  await assert.rejects(w.connect(1, ['tweet.read', 'users.read']), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE')
    assert.equal(error.message, X_NO_REFRESH_TOKEN_MESSAGE)
    assert.match(error.message, /offline\.access/)
    return true
  })
  const revoke = w.sent.find((s) => s.url.pathname === '/2/oauth2/revoke')
  assert.equal(revoke?.body.get('token_type_hint'), 'access_token')
  assert.ok(w.issued.has(revoke?.body.get('token') ?? ''), 'the access token just issued')
})

test('checkGrant: every scope the gallery needs, else scope_missing', () => {
  const client = createXClient({
    config: {
      clientId: CLIENT_ID,
      clientSecret: '',
      redirectUri: REDIRECT_URI,
      authorizeUrl: `${BASE}/i/oauth2/authorize`,
      apiUrl: BASE,
      scopes: X_SCOPES,
      monthlyPostReadLimit: 10_000,
      requestTimeoutMs: 200,
    },
    fetch: () => Promise.reject(new Error('no call expected')),
    now: () => START,
  })
  const credentials = (scopes: readonly string[] | null): Credentials => ({
    accessToken: 'a',
    accessTokenExpiresAt: null,
    refreshToken: 'r',
    refreshTokenExpiresAt: null,
    scopes,
    issuedAt: START,
    refreshTokenIssuedAt: START,
  })
  assert.deepEqual(client.checkGrant(credentials([...X_SCOPES, 'like.read'])), { ok: true })
  assert.deepEqual(client.checkGrant(credentials(null)), { ok: true }, 'omitted: as requested')
  for (const missing of X_SCOPES) {
    const verdict = client.checkGrant(credentials(X_SCOPES.filter((s) => s !== missing)))
    assert.equal(verdict.ok, false, missing)
    assert.ok(!verdict.ok && verdict.outcome === 'scope_missing')
    assert.match(verdict.detail ?? '', new RegExp(missing.replace('.', '\\.')))
  }
})

test('identity: id, handle, x.com profile, avatar, name; no media count', async (t) => {
  const w = await world(t)
  const credentials = await w.connect(2)
  const lookup = await w.client.fetchIdentity(credentials)
  assert.ok(lookup.ok)
  const account = w.emulator.state.accountByIndex(2)
  assert.ok(account)
  assert.equal(lookup.identity.providerAccountId, account.id)
  assert.equal(lookup.identity.username, account.username)
  assert.equal(lookup.identity.profileUrl, `https://x.com/${account.username}`)
  assert.equal(
    lookup.identity.avatarUrl,
    `${BASE}/pbs/profile_images/${account.id}/avatar_normal.jpg`,
  )
  assert.equal(lookup.identity.mediaCount, null)
  assert.deepEqual(lookup.identity.attributes, { name: account.name })
  const me = w.sent.find((s) => s.url.pathname === '/2/users/me')
  assert.equal(me?.url.searchParams.get('user.fields'), 'profile_image_url,public_metrics')
  assert.equal(me?.headers.get('authorization'), `Bearer ${credentials.accessToken}`)
})

test('listing: X’s parameters, the identity’s user id reused, cursors of user id and next_token', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  const lookup = await w.client.fetchIdentity(credentials)
  assert.ok(lookup.ok)
  const first = await w.client.listMedia(credentials, null)
  assert.ok(first.nextCursor !== null)
  const second = await w.client.listMedia(credentials, first.nextCursor)
  assert.equal(second.nextCursor, null)
  assert.equal(first.skippedStored + second.skippedStored, 0)
  const timeline = w.sent.filter((s) => s.url.pathname.endsWith('/tweets'))
  assert.equal(timeline.length, 2)
  assert.equal(w.sent.filter((s) => s.url.pathname === '/2/users/me').length, 1, 'one users/me')
  for (const call of timeline) {
    assert.equal(call.url.pathname, `/2/users/${lookup.identity.providerAccountId}/tweets`)
    const q = call.url.searchParams
    assert.equal(q.get('max_results'), '100')
    assert.equal(q.get('exclude'), 'replies,retweets')
    assert.equal(q.get('expansions'), 'attachments.media_keys')
    assert.equal(q.get('tweet.fields'), 'created_at,attachments')
    for (const field of [
      'media_key',
      'type',
      'url',
      'preview_image_url',
      'variants',
      'duration_ms',
    ])
      assert.ok((q.get('media.fields') ?? '').split(',').includes(field), field)
    assert.equal(q.get('since_id'), null)
    assert.equal(call.headers.get('authorization'), `Bearer ${credentials.accessToken}`)
  }
  assert.equal(timeline[0]?.url.searchParams.get('pagination_token'), null)
  const token = timeline[1]?.url.searchParams.get('pagination_token')
  assert.equal(first.nextCursor, `${lookup.identity.providerAccountId}.${token}`)
  // text-only posts are no items
  const ids = [...first.items, ...second.items].map((i) => i.platform_media_id)
  assert.deepEqual(
    ids,
    w.postsWithMedia().map((p) => p.id),
  )
  const all = w.emulator.state.accountByIndex(1)?.posts ?? []
  assert.ok(ids.length < all.filter((p) => !p.reply && !p.retweet).length, 'text posts left out')

  // another unit of work resumes from the stored cursor: users/me once, for the handle
  const fresh = createXClient({ config: w.config, fetch: w.fetch, now: () => w.clock.now() })
  const resumed = await fresh.listMedia(credentials, first.nextCursor)
  assert.deepEqual(resumed.items, second.items)
  assert.equal(w.sent.filter((s) => s.url.pathname === '/2/users/me').length, 2)
  // a cursor of another account is refused; garbage too
  const other = `1500000000000000002.${token}`
  await assert.rejects(w.client.listMedia(credentials, other), { code: 'ERR_VALIDATION' })
  await assert.rejects(w.client.listMedia(credentials, 'XRT-abc'), { code: 'ERR_VALIDATION' })
})

test('albums from multi-photo posts; videos carry the best MP4; GIFs loop their MP4', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  const page = await w.client.listMedia(credentials, null)
  const byId = new Map(page.items.map((item) => [item.platform_media_id, item]))
  const posts = w.postsWithMedia().filter((p) => byId.has(p.id))
  const album = posts.find((p) => p.media.length > 1 && p.media.every((m) => m.type === 'photo'))
  const video = posts.find((p) => p.media.length === 1 && p.media[0]?.type === 'video')
  const gif = posts.find((p) => p.media.length === 1 && p.media[0]?.type === 'animated_gif')
  const photo = posts.find((p) => p.media.length === 1 && p.media[0]?.type === 'photo')
  assert.ok(album && video && gif && photo, 'the demo account has every shape')

  const albumItem = byId.get(album.id)
  assert.equal(albumItem?.media_type, 'CAROUSEL_ALBUM')
  assert.equal(albumItem?.permalink, `https://x.com/ada_demo/status/${album.id}`)
  assert.equal(
    albumItem?.caption,
    xCaption(album.text),
    'the text without its attachment’s t.co link',
  )
  assert.doesNotMatch(albumItem.caption ?? '', /t\.co/)
  assert.deepEqual(
    albumItem?.children.map((c) => [c.platform_media_id, c.media_type, c.media_url]),
    album.media.map((m) => [m.key, 'IMAGE', `${BASE}/pbs/media/${m.key}.jpg`]),
  )
  assert.equal(albumItem?.media_url, `${BASE}/pbs/media/${album.media[0]?.key}.jpg`)

  const videoItem = byId.get(video.id)
  const videoMedia = video.media[0]
  assert.ok(videoMedia)
  assert.equal(videoItem?.media_type, 'VIDEO')
  assert.equal(videoItem?.media_product_type, null)
  // the emulator offers an HLS playlist and 256k, 832k and 2176k MP4s
  assert.equal(videoItem?.media_url, `${BASE}/video/${videoMedia.key}/2176000.mp4`)
  assert.equal(videoItem?.thumbnail_url, `${BASE}/pbs/ext_tw_video_thumb/${videoMedia.key}.jpg`)
  assert.equal(videoItem?.duration_seconds, Math.round((videoMedia.durationMs ?? 0) / 1000))
  assert.deepEqual(videoItem?.children, [])

  const gifItem = byId.get(gif.id)
  assert.equal(gifItem?.media_type, 'VIDEO')
  assert.equal(gifItem?.media_product_type, 'ANIMATED_GIF')
  assert.equal(gifItem?.media_url, `${BASE}/video/${gif.media[0]?.key}/0.mp4`)

  const photoItem = byId.get(photo.id)
  assert.equal(photoItem?.media_type, 'IMAGE')
  assert.equal(photoItem?.media_url, `${BASE}/pbs/media/${photo.media[0]?.key}.jpg`)
  assert.equal(photoItem?.url_expires_at, null)
})

test('the monthly usage cap blocks the app until the month resets, not for the window’s minutes', async (t) => {
  // one timeline call per 15 minutes: the capped answer comes with a spent window's headers
  const w = await world(t, { rateLimits: { me: 75, timeline: 1 } })
  const credentials = await w.connect()
  await w.client.fetchIdentity(credentials)
  w.emulator.control.setUsage({ posts_read: 3_000_000 })
  await assert.rejects(w.client.listMedia(credentials, null), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_RATE_LIMITED')
    assert.equal(error.message, X_USAGE_CAPPED_MESSAGE)
    return true
  })
  const raw = w.answered.at(-1)
  assert.equal(raw?.status, 429)
  assert.equal(raw?.headers.get('x-rate-limit-remaining'), '0', 'X said the window is spent')
  const report = w.calls.at(-1)
  assert.equal(report?.endpoint, 'timeline')
  assert.equal(report?.status, 429)
  assert.equal(report?.throttled, 'app')
  assert.equal(report?.usage.regainMinutes, null, 'no header-based regain time')
  assert.equal(report?.usage.businessPercent, null)
  const expected = secondsUntilMonthlyReset(w.clock.now())
  assert.ok(expected > 15 * 60)
  assert.ok(
    Math.abs((report?.retryAfterSeconds ?? 0) - expected) <= 1,
    String(report?.retryAfterSeconds),
  )
})

test('spent credits block the app for a day, not for the window’s minutes', async (t) => {
  const w = await world(t, { rateLimits: { me: 1, timeline: 900 } })
  const credentials = await w.connect()
  w.emulator.control.setUsage({ credits_usd: 0 })
  await assert.rejects(w.client.fetchIdentity(credentials), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_RATE_LIMITED')
    assert.equal(error.message, X_CREDITS_DEPLETED_MESSAGE)
    return true
  })
  const raw = w.answered.at(-1)
  assert.equal(raw?.status, 402)
  assert.equal(raw?.headers.get('x-rate-limit-remaining'), '0', 'X said the window is spent')
  const report = w.calls.at(-1)
  assert.equal(report?.endpoint, 'users/me')
  assert.equal(report?.throttled, 'app')
  assert.equal(report?.usage.regainMinutes, null, 'no header-based regain time')
  assert.equal(report?.retryAfterSeconds, DAY_SECONDS)
})

test('a spent 15-minute window blocks the account until x-rate-limit-reset', async (t) => {
  const w = await world(t, { rateLimits: { me: 1, timeline: 900 } })
  const credentials = await w.connect()
  await w.client.fetchIdentity(credentials)
  w.clock.advance(5 * 60_000)
  await assert.rejects(w.client.fetchIdentity(credentials), { code: 'ERR_RATE_LIMITED' })
  const report = w.calls.at(-1)
  assert.equal(report?.status, 429)
  assert.equal(report?.throttled, 'account')
  // the window opened 5 minutes ago: 10 minutes left
  assert.equal(report?.usage.regainMinutes, 10)
  assert.equal(report?.usage.businessPercent, 100)
  assert.ok(
    Math.abs((report?.retryAfterSeconds ?? 0) - 600) <= 1,
    String(report?.retryAfterSeconds),
  )
})

test('a successful call reports the share of the window spent', async (t) => {
  const w = await world(t, { rateLimits: { me: 4, timeline: 900 } })
  const credentials = await w.connect()
  await w.client.fetchIdentity(credentials)
  assert.equal(w.calls.at(-1)?.usage.businessPercent, 25)
  assert.equal(w.calls.at(-1)?.usage.regainMinutes, null)
  assert.equal(w.calls.at(-1)?.retryAfterSeconds, null)
})

test('wireX in sandbox mode mounts the emulator under /sandbox/x and reaches it in-process', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  const publicUrl = 'http://localhost:8080'
  const redirectUri = `${publicUrl}/api/socials/oauth/x/callback`
  const clock = fixedClock(START)
  const wiring = await wireX({
    app,
    config: {
      mode: 'sandbox',
      settings: {
        clientId: '',
        clientSecret: '',
        redirectUri,
        authorizeUrl: 'https://x.com/i/oauth2/authorize',
        apiUrl: 'https://api.x.com',
        scopes: X_SCOPES,
        monthlyPostReadLimit: 10_000,
        requestTimeoutMs: 2_000,
      },
      pacing: { limits: {}, slowDownPercent: 80, maxPauseMs: 0 },
    },
    publicUrl,
    clock,
    fetch: () => Promise.reject(new Error('the real X is never called in sandbox mode')),
    sandboxSeed: 'x-wiring-test-seed',
  })
  assert.ok(wiring.clientSecret.length > 20, 'the sandbox’s confidential client secret')
  const client = wiring.createClient({
    now: () => clock.now(),
    beforeCall: async () => undefined,
    onCall: async () => undefined,
  })
  const verifier = createCodeVerifier()
  const url = new URL(
    client.authorizationUrl('state-0123456789abcdef', codeChallengeS256(verifier)),
  )
  assert.equal(`${url.origin}${url.pathname}`, `${publicUrl}${X_SANDBOX_PREFIX}/i/oauth2/authorize`)
  const form = new URLSearchParams(url.searchParams)
  form.set('decision', 'allow')
  form.set('account', '1')
  const answer = await app.inject({
    method: 'POST',
    url: `${X_SANDBOX_PREFIX}/i/oauth2/authorize`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form.toString(),
  })
  assert.equal(answer.statusCode, 302, answer.body)
  const code = new URL(String(answer.headers.location)).searchParams.get('code') ?? ''
  const credentials = await client.exchangeCode(code, verifier)
  const lookup = await client.fetchIdentity(credentials)
  assert.ok(lookup.ok)
  assert.equal(lookup.identity.username, 'ada_demo')
  // the sandbox serves its pictures over PUBLIC_URL's http origin: admitted
  assert.ok(lookup.identity.avatarUrl?.startsWith(`${publicUrl}${X_SANDBOX_PREFIX}/pbs/`))
  const page = await client.listMedia(credentials, null)
  assert.ok(page.items.length > 0)
  assert.ok(page.items.every((i) => (i.media_url ?? i.thumbnail_url ?? '').startsWith(publicUrl)))
})
