/**
 * YouTube passes the provider conformance suite against its emulator (served over https
 * addresses in-process, as a real deployment reaches Google), and the client's own rules: the
 * authorization URL's offline-consent parameters, the unticked-scope and no-channel outcomes,
 * the refresh that keeps the refresh token, the "Testing" hint, Shorts probes asked once, and a
 * routine listing that reads no details of stored videos.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { createManualClock } from '../../src/clock.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'
import { createYoutubeEmulator } from '../../src/providers/youtube/emulator/index.ts'
import {
  ShortsVerdicts,
  createYoutubeClient,
  type YoutubeCallInfo,
} from '../../src/providers/youtube/client.ts'
import { YOUTUBE_READONLY_SCOPE, type YoutubeConfig } from '../../src/providers/youtube/config.ts'
import { codeChallengeS256, createCodeVerifier } from '../../src/providers/oauth/pkce.ts'
import type { Credentials, FetchLike, StoredMediaHint } from '../../src/providers/types.ts'
import { isGalleryError } from '../../src/errors.ts'
import {
  recordIssuedTokens,
  runProviderConformance,
  type ConformanceHarness,
} from './conformance.ts'

const BASE = 'https://youtube.emulator.test'
const REDIRECT_URI = 'https://gallery.example/api/socials/oauth/youtube/callback'
const CLIENT_ID = 'conformance.apps.googleusercontent.com'
const CLIENT_SECRET = 'GOCSPX-conformance-secret-0123456789'
const DAY = 86_400_000

async function world(t: TestContext, options: { publishingStatus?: 'testing' } = {}) {
  const clock = createManualClock(Date.UTC(2026, 10, 1, 12))
  const emulator = createYoutubeEmulator({
    clock,
    baseUrl: () => BASE,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [REDIRECT_URI],
    ...options,
  })
  const app = Fastify()
  await app.register(emulator.plugin)
  t.after(() => app.close())
  const inject = createInjectFetch(app, BASE)
  // every token and code the emulator hands out, for the secrecy checks
  const issued = new Set<string>()
  const fetch: FetchLike = async (input, init) => {
    const response = await inject(input, init)
    await recordIssuedTokens(response, issued)
    return response
  }
  const config: YoutubeConfig = {
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    authorizeUrl: `${BASE}/o/oauth2/v2/auth`,
    tokenUrl: `${BASE}/token`,
    revokeUrl: `${BASE}/revoke`,
    apiUrl: BASE,
    webUrl: `${BASE}/web`,
    scopes: [YOUTUBE_READONLY_SCOPE],
    dailyQuotaUnits: 10_000,
    requestTimeoutMs: 200,
  }
  const calls: YoutubeCallInfo[] = []
  const shorts = new ShortsVerdicts()
  const client = createYoutubeClient({
    config,
    fetch,
    now: () => clock.now(),
    shorts,
    onCall: (info) => {
      calls.push(info)
    },
  })
  /** Consents as Google account `account`, ticking `granted`; returns the redirect's query. */
  async function consent(
    authorizationUrl: string,
    account = 1,
    granted: readonly string[] = [YOUTUBE_READONLY_SCOPE],
  ): Promise<URLSearchParams> {
    const form = new URLSearchParams(new URL(authorizationUrl).searchParams)
    form.set('decision', 'allow')
    form.set('account', String(account))
    for (const scope of granted) form.append('granted_scope', scope)
    const answer = await app.inject({
      method: 'POST',
      url: '/o/oauth2/v2/auth',
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
  async function connect(account = 1, granted?: readonly string[]): Promise<Credentials> {
    const verifier = createCodeVerifier()
    const url = client.authorizationUrl('state-0123456789abcdef', codeChallengeS256(verifier))
    const code = (await consent(url, account, granted)).get('code') ?? ''
    return client.exchangeCode(code, verifier)
  }
  return { clock, emulator, client, calls, consent, connect, issued, shorts, config, fetch }
}

async function harness(t: TestContext): Promise<ConformanceHarness> {
  const w = await world(t)
  // more than one page of 50 (the demo channel has about 30 videos)
  for (let i = 0; i < 30; i++) w.emulator.control.addVideo(1, { duration_seconds: 600 + i })
  return {
    client: w.client,
    async authorize(authorizationUrl) {
      return (await w.consent(authorizationUrl)).get('code') ?? ''
    },
    postIds: () => (w.emulator.state.accountByIndex(1)?.channel?.videos ?? []).map((v) => v.id),
    fail(kind) {
      const faults = {
        unavailable: { kind: 'http_5xx', count: 1 },
        timeout: { kind: 'latency', ms: 400, count: 1 },
        rate_limited: { kind: 'quota_exceeded', count: 1 },
        refused: { kind: 'bad_request', count: 1 },
        reauth: { kind: 'auth_error', count: 1 },
      } as const
      w.emulator.control.addFault(faults[kind])
    },
    advance: (ms) => w.clock.advance(ms),
    issuedSecrets: () => [...w.issued],
  }
}

runProviderConformance({
  name: 'youtube',
  setup: harness,
  expected: {
    redirectUri: REDIRECT_URI,
    scopes: [YOUTUBE_READONLY_SCOPE],
    scopeSeparator: ' ',
  },
  skip: {
    'refresh-rotation': 'Google’s refresh token does not rotate: a refresh answers none',
  },
})

test('the authorization URL asks for offline access on a consent screen, with granted scopes kept', async (t) => {
  const { client } = await world(t)
  const url = new URL(client.authorizationUrl('s'.repeat(43), 'c'.repeat(43)))
  assert.equal(url.searchParams.get('access_type'), 'offline')
  assert.equal(url.searchParams.get('prompt'), 'consent')
  assert.equal(url.searchParams.get('include_granted_scopes'), 'true')
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
})

test('an unticked scope is refused by checkGrant; a Google account without channel is no_channel', async (t) => {
  const w = await world(t)
  const unticked = await w.connect(1, [])
  assert.deepEqual(w.client.checkGrant(unticked), { ok: false, outcome: 'scope_missing' })
  const granted = await w.connect(1)
  assert.deepEqual(w.client.checkGrant(granted), { ok: true })
  const viewer = await w.connect(2)
  const lookup = await w.client.fetchIdentity(viewer)
  assert.equal(lookup.ok, false)
  assert.ok(!lookup.ok && lookup.outcome === 'no_channel')
  assert.match(lookup.detail ?? '', /Create a channel/)
})

test('identity: the channel id, the handle, counts from strings, the uploads playlist', async (t) => {
  const w = await world(t)
  const lookup = await w.client.fetchIdentity(await w.connect())
  assert.ok(lookup.ok)
  const channel = w.emulator.state.accountByIndex(1)?.channel
  assert.ok(channel)
  assert.equal(lookup.identity.providerAccountId, channel.id)
  assert.equal(lookup.identity.username, channel.customUrl.replace(/^@/, ''))
  // Google counts public videos only; the owner's listing holds every one: not comparable
  assert.equal(lookup.identity.mediaCount, null)
  assert.equal(lookup.identity.attributes.channel_title, channel.title)
  assert.equal(
    lookup.identity.attributes.public_video_count,
    String(channel.videos.filter((v) => v.privacy === 'public').length),
  )
  assert.equal(lookup.identity.attributes.uploads_playlist_id, `UU${channel.id.slice(2)}`)
  assert.equal(lookup.identity.profileUrl, `${BASE}/web/${channel.customUrl}`)
})

test('refresh keeps the refresh token and its issue time; revoked → reauth without secrets', async (t) => {
  const w = await world(t)
  const first = await w.connect()
  assert.ok(first.refreshToken !== null)
  assert.equal(first.refreshTokenIssuedAt, first.issuedAt)
  w.clock.advance(2 * 3_600_000)
  const renewed = await w.client.renew(first)
  assert.equal(renewed.refreshToken, first.refreshToken, 'Google’s refresh token does not rotate')
  assert.equal(renewed.refreshTokenIssuedAt, first.refreshTokenIssuedAt)
  assert.ok((renewed.accessTokenExpiresAt ?? 0) > w.clock.now() + 3_500_000)
  assert.deepEqual(renewed.scopes, [YOUTUBE_READONLY_SCOPE])
  await w.client.revoke?.(renewed)
  await assert.rejects(w.client.renew(renewed), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    assert.doesNotMatch(error.message, /Testing/, 'a fresh connection: not the 7-day hint')
    for (const secret of w.issued) assert.ok(!error.message.includes(secret))
    return true
  })
})

test('a project in Testing: the refresh fails after 7 days and the message says why', async (t) => {
  const w = await world(t, { publishingStatus: 'testing' })
  const credentials = await w.connect()
  w.clock.advance(7 * DAY + 3_600_000)
  await assert.rejects(w.client.renew(credentials), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
    assert.match(error.message, /"Testing"/)
    assert.match(error.message, /In production/)
    return true
  })
})

test('listing: Shorts probed once (stored or remembered verdicts reused), broadcasts and long videos never', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  const probes = () => w.calls.filter((c) => c.endpoint === 'shorts probe').length
  const page = await w.client.listMedia(credentials, null)
  const videos = w.emulator.state.accountByIndex(1)?.channel?.videos ?? []
  const byId = new Map(page.items.map((item) => [item.platform_media_id, item]))
  for (const video of videos) {
    const item = byId.get(video.id)
    assert.ok(item, video.id)
    const expected = video.live !== 'none' ? 'LIVE' : video.short ? 'SHORTS' : 'VIDEO'
    assert.equal(item.media_product_type, expected, video.title)
    assert.equal(item.visibility, video.privacy)
    assert.equal(item.duration_seconds, video.durationSeconds)
    assert.equal(item.media_type, 'VIDEO')
    assert.equal(item.media_url, null)
    assert.ok(item.thumbnail_url?.startsWith(`${BASE}/`), 'the poster, from the CDN')
    assert.equal(
      item.permalink,
      expected === 'SHORTS' ? `${BASE}/web/shorts/${video.id}` : `${BASE}/web/watch?v=${video.id}`,
    )
  }
  const probeable = videos.filter((v) => v.live === 'none' && v.durationSeconds <= 180).length
  assert.equal(probes(), probeable, 'one probe per video that could be a Short')
  assert.ok(probeable < videos.length, 'long videos and broadcasts are not probed')
  // the same process lists again: every verdict is remembered
  await w.client.listMedia(credentials, null)
  assert.equal(probes(), probeable)
  // another process (no memory) with the stored verdicts: no probe either
  const fresh = createYoutubeClient({ config: w.config, fetch: w.fetch, now: () => w.clock.now() })
  let asked = 0
  const hints = new Map<string, StoredMediaHint>(
    page.items.map((item) => [
      item.platform_media_id,
      { media_product_type: item.media_product_type },
    ]),
  )
  const again = await fresh.listMedia(credentials, null, {
    stored: async (ids) => {
      asked += ids.length
      return new Map(
        ids.flatMap((id) => (hints.has(id) ? [[id, hints.get(id) as StoredMediaHint]] : [])),
      )
    },
  })
  assert.equal(asked, videos.length)
  assert.deepEqual(
    again.items.map((i) => i.media_product_type),
    page.items.map((i) => i.media_product_type),
  )
})

test('a routine listing reads no details of stored videos: an unchanged channel costs 2 units', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  const first = await w.client.listMedia(credentials, null)
  const stored = new Map<string, StoredMediaHint>(
    first.items.map((i) => [i.platform_media_id, { media_product_type: i.media_product_type }]),
  )
  const lookup = (ids: readonly string[]) =>
    Promise.resolve(
      new Map(
        ids.flatMap((id) => (stored.has(id) ? [[id, stored.get(id) as StoredMediaHint]] : [])),
      ),
    )
  const before = w.emulator.control.quota().used
  const identity = await w.client.fetchIdentity(credentials)
  assert.ok(identity.ok)
  const routine = await w.client.listMedia(credentials, null, { stored: lookup, skipStored: true })
  assert.equal(routine.items.length, 0)
  assert.equal(routine.skippedStored, first.items.length)
  assert.equal(w.emulator.control.quota().used - before, 2, 'channels + one playlist page')
  // a new upload: only it is read
  const added = w.emulator.control.addVideo(1, { duration_seconds: 900 })
  const next = await w.client.listMedia(credentials, null, { stored: lookup, skipStored: true })
  assert.deepEqual(
    next.items.map((i) => i.platform_media_id),
    [added.id],
  )
  assert.equal(next.skippedStored, first.items.length)
})

test('quota exceeded: ERR_RATE_LIMITED until Pacific midnight, reported as the app’s throttle', async (t) => {
  const w = await world(t)
  const credentials = await w.connect()
  w.emulator.control.setQuota({ used: 10_000 })
  await assert.rejects(w.client.fetchIdentity(credentials), (error: unknown) => {
    assert.ok(isGalleryError(error))
    assert.equal(error.code, 'ERR_RATE_LIMITED')
    assert.match(error.message, /midnight Pacific/)
    return true
  })
  const report = w.calls.at(-1)
  assert.equal(report?.throttled, 'app')
  // 2026-11-01 12:00 UTC is 05:00 PDT; DST ends that night: the day lasts 25 hours
  const midnight = Date.UTC(2026, 10, 2, 8)
  const expected = Math.ceil((midnight - w.clock.now()) / 1000)
  assert.ok(
    Math.abs((report?.retryAfterSeconds ?? 0) - expected) <= 1,
    String(report?.retryAfterSeconds),
  )
})
