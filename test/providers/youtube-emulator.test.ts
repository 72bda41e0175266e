/**
 * The YouTube emulator is a model of Google OAuth and the YouTube Data API v3: these tests pin the
 * behaviours the app relies on, read through the app's own parsers (`providers/youtube/parse.ts`).
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import sharp from 'sharp'
import { createHash, randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { createManualClock, systemClock, type ManualClock } from '../../src/clock.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'
import type { FetchLike } from '../../src/providers/types.ts'
import { YOUTUBE_READONLY_SCOPE } from '../../src/providers/youtube/config.ts'
import {
  classifyGoogleFailure,
  grantsYoutubeReadonly,
  parseChannels,
  parseGoogleError,
  parsePlaylistItems,
  parseTokenResponse,
  parseVideos,
  type UrlPolicy,
  type YoutubeVideo,
} from '../../src/providers/youtube/parse.ts'
import {
  createYoutubeEmulator,
  type YoutubeEmulator,
  type YoutubeEmulatorOptions,
} from '../../src/providers/youtube/emulator/index.ts'
import { ControlError } from '../../src/providers/youtube/emulator/bounds.ts'
import { standaloneYoutubeEmulator } from '../../src/providers/youtube/emulator/control.ts'
import { isoDuration } from '../../src/providers/youtube/emulator/render.ts'
import {
  YOUTUBE_SANDBOX_PREFIX,
  createYoutubeSandbox,
  sandboxYoutubeEndpoints,
} from '../../src/providers/youtube/sandbox.ts'

const ORIGIN = 'http://localhost:8080'
const BASE = `${ORIGIN}${YOUTUBE_SANDBOX_PREFIX}`
const REDIRECT = `${ORIGIN}/api/socials/oauth/youtube/callback`
const CLIENT_ID = 'test-client.apps.googleusercontent.com'
const CLIENT_SECRET = 'GOCSPX-test-secret'
const URLS: UrlPolicy = { extraOrigins: [ORIGIN] }
const OPENID = 'openid'
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
/** Friday 20 November 2026, 12:00 UTC (04:00 in Los Angeles). */
const START = Date.UTC(2026, 10, 20, 12)

interface World {
  app: FastifyInstance
  emu: YoutubeEmulator
  clock: ManualClock
  fetch: FetchLike
}

async function world(
  t: TestContext,
  options: Partial<YoutubeEmulatorOptions> = {},
): Promise<World> {
  const clock = createManualClock(START)
  const emu = createYoutubeEmulator({
    clock,
    baseUrl: () => BASE,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [REDIRECT],
    signingSecret: 'test-signing-secret',
    ...options,
  })
  const app = Fastify()
  await app.register(emu.plugin, { prefix: YOUTUBE_SANDBOX_PREFIX })
  t.after(() => app.close())
  return { app, emu, clock, fetch: createInjectFetch(app, ORIGIN) }
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

function authorizeParams(extra: Record<string, string> = {}): Record<string, string> {
  return {
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: YOUTUBE_READONLY_SCOPE,
    access_type: 'offline',
    prompt: 'consent',
    state: 'st-123',
    ...extra,
  }
}

/** Posts the consent form; `granted` are the ticked scopes. Returns the redirect. */
async function consent(
  app: FastifyInstance,
  options: {
    account?: number
    granted?: string[]
    decision?: string
    extra?: Record<string, string>
  } = {},
): Promise<URL> {
  const form = new URLSearchParams(authorizeParams(options.extra))
  form.set('account', String(options.account ?? 1))
  form.set('decision', options.decision ?? 'allow')
  for (const s of options.granted ?? [YOUTUBE_READONLY_SCOPE]) form.append('granted_scope', s)
  const response = await app.inject({
    method: 'POST',
    url: `${YOUTUBE_SANDBOX_PREFIX}/o/oauth2/v2/auth`,
    headers: FORM,
    payload: form.toString(),
  })
  assert.equal(response.statusCode, 302, response.body)
  return new URL(String(response.headers.location))
}

function tokenRequest(app: FastifyInstance, fields: Record<string, string>) {
  return app.inject({
    method: 'POST',
    url: `${YOUTUBE_SANDBOX_PREFIX}/token`,
    headers: FORM,
    payload: new URLSearchParams(fields).toString(),
  })
}

function exchange(
  app: FastifyInstance,
  code: string,
  verifier: string,
  overrides: Record<string, string> = {},
) {
  return tokenRequest(app, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    ...overrides,
  })
}

function refresh(app: FastifyInstance, refreshToken: string) {
  return tokenRequest(app, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
  })
}

/** The whole flow: consent (S256), exchange; the parsed token answer. */
async function connect(
  app: FastifyInstance,
  options: { account?: number; granted?: string[]; extra?: Record<string, string> } = {},
) {
  const { verifier, challenge } = pkce()
  const location = await consent(app, {
    ...options,
    extra: { code_challenge: challenge, code_challenge_method: 'S256', ...options.extra },
  })
  const response = await exchange(app, location.searchParams.get('code') ?? '', verifier)
  assert.equal(response.statusCode, 200, response.body)
  return {
    body: response.json<Record<string, unknown>>(),
    token: parseTokenResponse(response.json(), 'code exchange'),
  }
}

async function api(
  fetch: FetchLike,
  path: string,
  token: string | null,
  method = 'GET',
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  })
  const text = await response.text()
  return {
    status: response.status,
    body: text === '' ? null : (JSON.parse(text) as unknown),
    headers: response.headers,
  }
}

function reasons(body: unknown): readonly string[] {
  return parseGoogleError(body)?.reasons ?? []
}

const CHANNELS = '/youtube/v3/channels?part=snippet,contentDetails,statistics&mine=true'
const VIDEO_PARTS = 'snippet,contentDetails,status,liveStreamingDetails'

// ---------------------------------------------------------------------------------------------
// Consent page

test('the consent page lists the accounts and the scopes, escapes everything, under a tight CSP', async (t) => {
  const { app } = await world(t)
  const query = new URLSearchParams(
    authorizeParams({
      state: '"><script>alert(1)</script>',
      scope: `${OPENID} ${YOUTUBE_READONLY_SCOPE}`,
      login_hint: 'demo.viewer@example.com',
    }),
  )
  const response = await app.inject(`${YOUTUBE_SANDBOX_PREFIX}/o/oauth2/v2/auth?${query}`)
  assert.equal(response.statusCode, 200)
  assert.equal(response.headers['content-type'], 'text/html; charset=utf-8')
  const csp = String(response.headers['content-security-policy'])
  assert.match(csp, /default-src 'none'/)
  assert.match(csp, /frame-ancestors 'none'/)
  assert.doesNotMatch(response.body, /<script>/)
  assert.match(response.body, /value="&#34;&#62;&#60;script&#62;alert\(1\)&#60;\/script&#62;"/)
  for (const id of ['account-1', 'account-2', 'account-3', 'scope-0', 'scope-1', 'allow', 'cancel'])
    assert.match(response.body, new RegExp(`id="${id}"`))
  assert.match(response.body, /<form id="consent" method="post" action="auth">/)
  assert.match(response.body, /name="granted_scope" value="openid" checked/)
  // login_hint preselects the matching account
  assert.match(response.body, /id="account-2" name="account" value="2" checked/)
  assert.doesNotMatch(response.body, /id="account-1" name="account" value="1" checked/)
})

test('a bad client, redirect URI or scope answers an error page and never redirects', async (t) => {
  const { app } = await world(t)
  const cases: [Record<string, string>, number, string][] = [
    [{ client_id: 'nobody.apps.googleusercontent.com' }, 401, 'Error 401: invalid_client'],
    [{ redirect_uri: 'https://evil.example/cb' }, 400, 'Error 400: redirect_uri_mismatch'],
    [{ scope: `${YOUTUBE_READONLY_SCOPE} https://evil/scope` }, 400, 'Error 400: invalid_scope'],
    [{ scope: OPENID }, 400, 'Error 400: invalid_scope'],
    [{ response_type: 'token' }, 400, 'Error 400: unsupported_response_type'],
    [{ code_challenge: 'short' }, 400, 'Error 400: invalid_request'],
    [
      { code_challenge: 'a'.repeat(43), code_challenge_method: 'S512' },
      400,
      'Error 400: invalid_request',
    ],
  ]
  for (const [extra, status, text] of cases) {
    for (const method of ['GET', 'POST'] as const) {
      const params = new URLSearchParams({
        ...authorizeParams(extra),
        decision: 'allow',
        account: '1',
      })
      const response =
        method === 'GET'
          ? await app.inject(`${YOUTUBE_SANDBOX_PREFIX}/o/oauth2/v2/auth?${params}`)
          : await app.inject({
              method: 'POST',
              url: `${YOUTUBE_SANDBOX_PREFIX}/o/oauth2/v2/auth`,
              headers: FORM,
              payload: params.toString(),
            })
      assert.equal(response.statusCode, status, `${method} ${JSON.stringify(extra)}`)
      assert.equal(response.headers.location, undefined)
      assert.ok(response.body.includes(text), `${method} ${JSON.stringify(extra)}: ${text}`)
    }
  }
})

test('allow redirects with the state, a 4/0A code and the granted scopes; cancel with access_denied', async (t) => {
  const { app } = await world(t)
  const ticked = await consent(app, {
    extra: { scope: `${OPENID} ${YOUTUBE_READONLY_SCOPE}` },
    granted: [OPENID, YOUTUBE_READONLY_SCOPE],
  })
  assert.equal(`${ticked.origin}${ticked.pathname}`, REDIRECT)
  assert.equal(ticked.searchParams.get('state'), 'st-123')
  assert.match(ticked.searchParams.get('code') ?? '', /^4\/0A[A-Za-z0-9_-]+$/)
  assert.equal(ticked.searchParams.get('scope'), `${OPENID} ${YOUTUBE_READONLY_SCOPE}`)

  const unticked = await consent(app, {
    extra: { scope: `${OPENID} ${YOUTUBE_READONLY_SCOPE}` },
    granted: [OPENID],
  })
  assert.equal(unticked.searchParams.get('scope'), OPENID)

  // incremental authorization: include_granted_scopes adds what was granted before
  const incremental = await consent(app, {
    extra: { scope: YOUTUBE_READONLY_SCOPE, include_granted_scopes: 'true' },
    granted: [YOUTUBE_READONLY_SCOPE],
  })
  assert.equal(incremental.searchParams.get('scope'), `${OPENID} ${YOUTUBE_READONLY_SCOPE}`)
  const alone = await consent(app, { granted: [YOUTUBE_READONLY_SCOPE] })
  assert.equal(alone.searchParams.get('scope'), YOUTUBE_READONLY_SCOPE)

  const cancelled = await consent(app, { decision: 'cancel' })
  assert.equal(cancelled.searchParams.get('error'), 'access_denied')
  assert.equal(cancelled.searchParams.get('state'), 'st-123')
  assert.equal(cancelled.searchParams.get('code'), null)
})

// ---------------------------------------------------------------------------------------------
// Token endpoint

test('a code exchange with an S256 verifier answers Google’s token shape', async (t) => {
  const { app, fetch } = await world(t)
  const { body, token } = await connect(app)
  assert.deepEqual(Object.keys(body).sort(), [
    'access_token',
    'expires_in',
    'refresh_token',
    'scope',
    'token_type',
  ])
  assert.match(token.accessToken, /^ya29\./)
  assert.match(token.refreshToken ?? '', /^1\/\//)
  assert.equal(token.expiresInSeconds, 3599)
  assert.deepEqual(token.scopes, [YOUTUBE_READONLY_SCOPE])
  assert.equal(token.refreshTokenExpiresInSeconds, null)
  assert.equal(body.token_type, 'Bearer')
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 200)

  // a later consent without prompt=consent brings no refresh token; with it, one again
  const again = await connect(app, { extra: { prompt: '' } })
  assert.equal(again.token.refreshToken, null)
  const forced = await connect(app)
  assert.notEqual(forced.token.refreshToken, null)
  // access_type=online never does
  const online = await connect(app, { extra: { access_type: 'online' } })
  assert.equal(online.token.refreshToken, null)
})

test('HTTP Basic client authentication is accepted; plain PKCE too', async (t) => {
  const { app } = await world(t)
  const verifier = 'v'.repeat(50)
  const location = await consent(app, { extra: { code_challenge: verifier } })
  const response = await app.inject({
    method: 'POST',
    url: `${YOUTUBE_SANDBOX_PREFIX}/token`,
    headers: {
      ...FORM,
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`,
    },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code: location.searchParams.get('code') ?? '',
      code_verifier: verifier,
      redirect_uri: REDIRECT,
    }).toString(),
  })
  assert.equal(response.statusCode, 200, response.body)
})

test('token errors answer Google’s exact shapes and statuses', async (t) => {
  const { app, clock } = await world(t)
  const newCode = async () => {
    const p = pkce()
    const location = await consent(app, {
      extra: { code_challenge: p.challenge, code_challenge_method: 'S256' },
    })
    return { code: location.searchParams.get('code') ?? '', verifier: p.verifier }
  }
  const expectError = async (
    response: Awaited<ReturnType<typeof exchange>>,
    status: number,
    error: string,
    description: string,
  ) => {
    assert.equal(response.statusCode, status, response.body)
    assert.deepEqual(response.json(), { error, error_description: description })
  }

  let c = await newCode()
  await expectError(
    await exchange(app, c.code, pkce().verifier),
    400,
    'invalid_grant',
    'Invalid code verifier.',
  )
  await expectError(
    await exchange(app, c.code, '', { code_verifier: '' }),
    400,
    'invalid_grant',
    'Missing code verifier.',
  )
  await expectError(
    await exchange(app, c.code, c.verifier, { redirect_uri: `${REDIRECT}/other` }),
    400,
    'redirect_uri_mismatch',
    'Bad Request',
  )
  await expectError(
    await exchange(app, c.code, c.verifier, { client_secret: 'wrong' }),
    401,
    'invalid_client',
    'Unauthorized',
  )
  await expectError(
    await exchange(app, c.code, c.verifier, { client_id: 'other.apps.googleusercontent.com' }),
    401,
    'invalid_client',
    'The OAuth client was not found.',
  )
  await expectError(
    await exchange(app, 'not-a-code', c.verifier),
    400,
    'invalid_grant',
    'Malformed auth code.',
  )
  await expectError(
    await exchange(app, c.code, c.verifier, { grant_type: 'password' }),
    400,
    'unsupported_grant_type',
    'Invalid grant_type: password',
  )
  await expectError(
    await exchange(app, '', c.verifier),
    400,
    'invalid_request',
    'Missing required parameter: code',
  )
  // after all those failures the code still works once
  assert.equal((await exchange(app, c.code, c.verifier)).statusCode, 200)

  c = await newCode()
  clock.advance(10 * 60_000 + 1)
  await expectError(await exchange(app, c.code, c.verifier), 400, 'invalid_grant', 'Bad Request')

  // a code sent without a challenge takes no verifier
  const plain = await consent(app)
  await expectError(
    await exchange(app, plain.searchParams.get('code') ?? '', pkce().verifier),
    400,
    'invalid_grant',
    'code_verifier or verifier is not needed.',
  )
  const info = classifyGoogleFailure(
    400,
    { error: 'invalid_grant', error_description: 'Bad Request' },
    'code exchange',
    clock.now(),
  )
  assert.equal(info.code, 'ERR_REAUTH_REQUIRED')
})

test('a reused code fails and revokes the tokens issued from it', async (t) => {
  const { app, fetch } = await world(t)
  const { verifier, challenge } = pkce()
  const location = await consent(app, {
    extra: { code_challenge: challenge, code_challenge_method: 'S256' },
  })
  const code = location.searchParams.get('code') ?? ''
  const first = parseTokenResponse((await exchange(app, code, verifier)).json(), 'code exchange')
  assert.equal((await api(fetch, CHANNELS, first.accessToken)).status, 200)

  const second = await exchange(app, code, verifier)
  assert.equal(second.statusCode, 400)
  assert.deepEqual(second.json(), { error: 'invalid_grant', error_description: 'Bad Request' })

  const after = await api(fetch, CHANNELS, first.accessToken)
  assert.equal(after.status, 401)
  assert.deepEqual(reasons(after.body), ['authError'])
  const refreshed = await refresh(app, first.refreshToken ?? '')
  assert.deepEqual(refreshed.json(), {
    error: 'invalid_grant',
    error_description: 'Token has been expired or revoked.',
  })
})

test('a refresh answers a new access token with the same scope and no refresh token', async (t) => {
  const { app, fetch, clock } = await world(t)
  const { token } = await connect(app)
  clock.advance(3_600_000)
  const expired = await api(fetch, CHANNELS, token.accessToken)
  assert.equal(expired.status, 401)
  assert.deepEqual(reasons(expired.body), ['authError'])
  assert.match(
    expired.headers.get('www-authenticate') ?? '',
    /^Bearer realm="https:\/\/accounts\.google\.com\/"/,
  )

  const response = await refresh(app, token.refreshToken ?? '')
  assert.equal(response.statusCode, 200, response.body)
  assert.equal('refresh_token' in response.json<object>(), false)
  const renewed = parseTokenResponse(response.json(), 'token refresh')
  assert.notEqual(renewed.accessToken, token.accessToken)
  assert.deepEqual(renewed.scopes, [YOUTUBE_READONLY_SCOPE])
  assert.equal(renewed.expiresInSeconds, 3599)
  assert.equal((await api(fetch, CHANNELS, renewed.accessToken)).status, 200)
  // the same refresh token keeps working (no rotation)
  assert.equal((await refresh(app, token.refreshToken ?? '')).statusCode, 200)
})

test('revoking the access token revokes the grant; revoking again is invalid_token', async (t) => {
  const { app, fetch } = await world(t)
  const { token } = await connect(app)
  const revoke = (value: string) =>
    app.inject({
      method: 'POST',
      url: `${YOUTUBE_SANDBOX_PREFIX}/revoke`,
      headers: FORM,
      payload: new URLSearchParams({ token: value }).toString(),
    })
  const ok = await revoke(token.accessToken)
  assert.equal(ok.statusCode, 200)
  assert.deepEqual(ok.json(), {})

  const refreshed = await refresh(app, token.refreshToken ?? '')
  assert.equal(refreshed.statusCode, 400)
  assert.deepEqual(refreshed.json(), {
    error: 'invalid_grant',
    error_description: 'Token has been expired or revoked.',
  })
  const call = await api(fetch, CHANNELS, token.accessToken)
  assert.equal(call.status, 401)
  assert.equal(
    classifyGoogleFailure(call.status, call.body, 'channels.list', 0).code,
    'ERR_REAUTH_REQUIRED',
  )
  assert.match(call.headers.get('www-authenticate') ?? '', /error="invalid_token"/)

  for (const value of [token.refreshToken ?? '', 'garbage']) {
    const again = await revoke(value)
    assert.equal(again.statusCode, 400)
    assert.deepEqual(again.json(), {
      error: 'invalid_token',
      error_description: 'Token expired or revoked',
    })
  }
  // a new consent after revocation is a first one again: it brings a refresh token
  const next = await connect(app, { extra: { prompt: '' } })
  assert.notEqual(next.token.refreshToken, null)
})

test('in Testing, refresh tokens expire 7 days after issue', async (t) => {
  const { app, emu, clock } = await world(t)
  emu.control.setPublishingStatus('testing')
  const { token } = await connect(app)
  assert.equal(token.refreshTokenExpiresInSeconds, 604_799)
  clock.advance(7 * 86_400_000 - 60_000)
  assert.equal((await refresh(app, token.refreshToken ?? '')).statusCode, 200)
  clock.advance(60_000)
  const dead = await refresh(app, token.refreshToken ?? '')
  assert.equal(dead.statusCode, 400)
  assert.deepEqual(dead.json(), {
    error: 'invalid_grant',
    error_description: 'Token has been expired or revoked.',
  })

  // in production they do not
  emu.control.setPublishingStatus('production')
  const lasting = await connect(app)
  assert.equal(lasting.token.refreshTokenExpiresInSeconds, null)
  clock.advance(30 * 86_400_000)
  assert.equal((await refresh(app, lasting.token.refreshToken ?? '')).statusCode, 200)
  assert.throws(() => emu.control.setPublishingStatus('beta'), ControlError)
})

// ---------------------------------------------------------------------------------------------
// Data API through our parsers

async function allUploads(fetch: FetchLike, token: string, playlistId: string, maxResults: number) {
  const entries: { videoId: string; publishedAt: number | null }[] = []
  let pageToken: string | null = null
  let pages = 0
  let total: number | null = null
  do {
    const query = new URLSearchParams({
      part: 'contentDetails',
      playlistId,
      maxResults: String(maxResults),
    })
    if (pageToken !== null) query.set('pageToken', pageToken)
    const response = await api(fetch, `/youtube/v3/playlistItems?${query}`, token)
    assert.equal(response.status, 200, JSON.stringify(response.body))
    if (pages > 0)
      assert.equal(typeof (response.body as { prevPageToken?: unknown }).prevPageToken, 'string')
    const page = parsePlaylistItems(response.body)
    entries.push(...page.items)
    total = page.totalResults
    pageToken = page.nextPageToken
    pages++
  } while (pageToken !== null && pages < 20)
  return { entries, pages, total }
}

async function videosOf(
  fetch: FetchLike,
  token: string,
  ids: readonly string[],
): Promise<YoutubeVideo[]> {
  const out: YoutubeVideo[] = []
  for (let i = 0; i < ids.length; i += 50) {
    const query = new URLSearchParams({ part: VIDEO_PARTS, id: ids.slice(i, i + 50).join(',') })
    const response = await api(fetch, `/youtube/v3/videos?${query}`, token)
    assert.equal(response.status, 200)
    out.push(...parseVideos(response.body, URLS))
  }
  return out
}

test('channels, playlistItems and videos read by our parsers: all 30 demo videos across pages', async (t) => {
  const { app, fetch, clock } = await world(t)
  const { token } = await connect(app)
  const channels = await api(fetch, CHANNELS, token.accessToken)
  const lookup = parseChannels(channels.body, URLS)
  assert.equal(lookup.kind, 'channel')
  if (lookup.kind !== 'channel') return
  const { channel } = lookup
  assert.equal(channel.title, 'Phoenix Demo Channel')
  assert.equal(channel.handle, 'phoenixdemo')
  assert.match(channel.id, /^UC[A-Za-z0-9_-]{22}$/)
  assert.equal(channel.uploadsPlaylistId, `UU${channel.id.slice(2)}`)
  assert.equal(channel.videoCount, 28, 'public videos only')
  assert.ok(channel.avatarUrl?.startsWith(`${BASE}/avatars/${channel.id}/`))
  const item = (channels.body as { items: Record<string, Record<string, unknown>>[] }).items[0]
  assert.equal(typeof item?.statistics?.subscriberCount, 'string')
  assert.equal(item?.statistics?.hiddenSubscriberCount, false)
  assert.equal((channels.body as { kind: string }).kind, 'youtube#channelListResponse')

  // only requested parts are rendered
  const snippetOnly = await api(
    fetch,
    '/youtube/v3/channels?part=snippet&mine=true',
    token.accessToken,
  )
  const only = (snippetOnly.body as { items: Record<string, unknown>[] }).items[0] ?? {}
  assert.deepEqual(Object.keys(only).sort(), ['etag', 'id', 'kind', 'snippet'])

  const { entries, pages, total } = await allUploads(
    fetch,
    token.accessToken,
    channel.uploadsPlaylistId,
    7,
  )
  assert.equal(entries.length, 30)
  assert.equal(total, 30)
  assert.equal(pages, 5)
  assert.equal(new Set(entries.map((e) => e.videoId)).size, 30)
  const dated = entries.filter((e) => e.publishedAt !== null).map((e) => e.publishedAt ?? 0)
  assert.deepEqual(
    dated,
    [...dated].sort((a, b) => b - a),
    'newest first',
  )
  assert.ok(dated.every((at) => at < clock.now() && at > clock.now() - 150 * 86_400_000))
  assert.equal(entries.length - dated.length, 1, 'the private video has no videoPublishedAt')

  const videos = await videosOf(
    fetch,
    token.accessToken,
    entries.map((e) => e.videoId),
  )
  assert.equal(videos.length, 30)
  const byPrivacy = (p: string) => videos.filter((v) => v.privacyStatus === p).length
  assert.deepEqual([byPrivacy('public'), byPrivacy('unlisted'), byPrivacy('private')], [28, 1, 1])
  const live = videos.filter((v) => v.productType === 'LIVE')
  assert.equal(live.length, 1)
  assert.equal(live[0]?.liveBroadcastContent, 'none')
  assert.equal(live[0]?.hasLiveStreamingDetails, true)
  assert.ok(videos.every((v) => v.durationSeconds !== null && v.durationSeconds > 0))
  assert.ok(videos.every((v) => v.thumbnail?.url.startsWith(`${BASE}/vi/${v.id}/`)))
  const maxres = videos.filter((v) => v.thumbnail?.url.endsWith('/maxresdefault.jpg'))
  const high = videos.filter((v) => v.thumbnail?.url.endsWith('/hqdefault.jpg'))
  assert.ok(maxres.length > 0 && high.length > 0, 'HD and non-HD videos')
  assert.equal(maxres.length + high.length, 30)
  assert.equal(maxres[0]?.thumbnail?.width, 1280)

  // Shorts: told apart only by the probe, as the app does it
  const probes = await Promise.all(
    videos.map((v) => fetch(`${BASE}/web/shorts/${v.id}`, { method: 'HEAD' })),
  )
  const shorts = videos.filter((_, i) => probes[i]?.status === 200)
  assert.equal(shorts.length, 6)
  assert.ok(shorts.every((v) => (v.durationSeconds ?? 99) <= 60))
  assert.ok(probes.every((p) => p.status === 200 || p.status === 303))
})

test('another channel’s private videos are neither listed nor returned; unlisted by id only', async (t) => {
  const { app, fetch, emu } = await world(t)
  const creator = emu.control.snapshot().accounts.find((a) => a.index === 1)?.channel
  assert.ok(creator)
  const { token } = await connect(app, { account: 3 })
  const { entries } = await allUploads(fetch, token.accessToken, creator.uploadsPlaylistId, 50)
  assert.equal(entries.length, 28)
  const own = await allUploads(
    fetch,
    token.accessToken,
    emu.control.snapshot().accounts[2]?.channel?.uploadsPlaylistId ?? '',
    50,
  )
  assert.equal(own.entries.length, 4, 'the owner sees its own private video')

  const ownerToken = (await connect(app)).token.accessToken
  const all = await allUploads(fetch, ownerToken, creator.uploadsPlaylistId, 50)
  const ownerVideos = await videosOf(
    fetch,
    ownerToken,
    all.entries.map((e) => e.videoId),
  )
  const hidden = ownerVideos.filter((v) => v.privacyStatus !== 'public').map((v) => v.id)
  assert.equal(hidden.length, 2)
  const seen = await videosOf(fetch, token.accessToken, hidden)
  assert.deepEqual(
    seen.map((v) => v.privacyStatus),
    ['unlisted'],
  )
})

test('a Google account without a channel answers no items', async (t) => {
  const { app, fetch } = await world(t)
  const { token } = await connect(app, { account: 2 })
  const response = await api(fetch, CHANNELS, token.accessToken)
  assert.equal(response.status, 200)
  const body = response.body as Record<string, unknown>
  assert.equal('items' in body, false)
  assert.deepEqual(body.pageInfo, { totalResults: 0, resultsPerPage: 5 })
  assert.deepEqual(parseChannels(body, URLS), { kind: 'no_channel' })
})

test('a token without youtube.readonly answers 403 insufficientPermissions', async (t) => {
  const { app, fetch } = await world(t)
  const { token } = await connect(app, {
    extra: { scope: `${OPENID} ${YOUTUBE_READONLY_SCOPE}` },
    granted: [OPENID],
  })
  assert.deepEqual(token.scopes, [OPENID])
  assert.equal(grantsYoutubeReadonly(token.scopes), false)
  const response = await api(fetch, CHANNELS, token.accessToken)
  assert.equal(response.status, 403)
  const info = parseGoogleError(response.body)
  assert.deepEqual(info?.reasons, ['insufficientPermissions'])
  assert.equal(info?.status, 'PERMISSION_DENIED')
  assert.match(response.headers.get('www-authenticate') ?? '', /insufficient_scope/)
  assert.equal(
    classifyGoogleFailure(403, response.body, 'channels.list', 0).code,
    'ERR_REAUTH_REQUIRED',
  )
})

test('Data API parameter errors in Google’s shape', async (t) => {
  const { app, fetch, emu } = await world(t)
  const { token } = await connect(app)
  const uploads = emu.control.snapshot().accounts[0]?.channel?.uploadsPlaylistId ?? ''
  const ids = Array.from({ length: 51 }, (_, i) => `abcdefghi${String(i).padStart(2, '0')}`)
  const cases: [string, number, string][] = [
    ['/youtube/v3/channels?part=snippet,bogus&mine=true', 400, 'unknownPart'],
    ['/youtube/v3/channels?mine=true', 400, 'required'],
    ['/youtube/v3/channels?part=snippet', 400, 'missingRequiredParameter'],
    [
      `/youtube/v3/playlistItems?part=contentDetails&playlistId=${uploads}&maxResults=51`,
      400,
      'invalidParameter',
    ],
    [
      `/youtube/v3/playlistItems?part=contentDetails&playlistId=${uploads}&pageToken=nope`,
      400,
      'invalidPageToken',
    ],
    ['/youtube/v3/playlistItems?part=contentDetails&playlistId=UUnothing', 404, 'playlistNotFound'],
    [`/youtube/v3/videos?part=snippet&id=${ids.join(',')}`, 400, 'invalidFilters'],
  ]
  for (const [path, status, reason] of cases) {
    const response = await api(fetch, path, token.accessToken)
    assert.equal(response.status, status, path)
    const error = (response.body as { error: Record<string, unknown> }).error
    assert.equal(error.code, status)
    assert.equal(typeof error.message, 'string')
    assert.deepEqual(reasons(response.body), [reason], path)
  }
  const unknown = await api(fetch, '/youtube/v3/channels?part=bogus&mine=true', token.accessToken)
  assert.equal(parseGoogleError(unknown.body)?.message, "'bogus'")
  assert.deepEqual(parseGoogleError(unknown.body)?.domains, ['youtube.part'])

  // deleted and malformed ids are simply absent
  const first = emu.state.accounts[0]?.channel?.videos[0]?.id ?? ''
  emu.control.removeVideo(first)
  const gone = await api(
    fetch,
    `/youtube/v3/videos?part=snippet,status&id=${first},x,${ids[0]}`,
    token.accessToken,
  )
  assert.equal(gone.status, 200)
  assert.deepEqual(parseVideos(gone.body, URLS), [])

  const none = await api(fetch, CHANNELS, null)
  assert.equal(none.status, 401)
  assert.deepEqual(reasons(none.body), ['required'])
  assert.ok(none.headers.get('www-authenticate'))
  const forged = await api(fetch, CHANNELS, `${token.accessToken.slice(0, -2)}xx`)
  assert.equal(forged.status, 401)
  assert.deepEqual(reasons(forged.body), ['authError'])
  // the access_token query parameter works too, and never reaches the call log
  const viaQuery = await api(
    fetch,
    `${CHANNELS}&access_token=${encodeURIComponent(token.accessToken)}`,
    null,
  )
  assert.equal(viaQuery.status, 200)
  assert.ok(emu.control.calls().every((c) => !c.path.includes('ya29') && !c.path.includes('?')))

  emu.control.expireAccessTokens()
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 401)
  const renewed = parseTokenResponse(
    (await refresh(app, token.refreshToken ?? '')).json(),
    'token refresh',
  )
  assert.equal((await api(fetch, CHANNELS, renewed.accessToken)).status, 200)
})

// ---------------------------------------------------------------------------------------------
// Quota

test('quota: each list call costs 1 (4xx after auth included); spent → quotaExceeded, ERR_RATE_LIMITED', async (t) => {
  const { app, fetch, emu, clock } = await world(t, { dailyQuotaUnits: 4 })
  const { token } = await connect(app)
  assert.equal(emu.control.quota().used, 0, 'OAuth calls cost nothing')
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 200)
  assert.equal(
    (await api(fetch, '/youtube/v3/channels?part=bogus&mine=true', token.accessToken)).status,
    400,
  )
  assert.equal((await api(fetch, CHANNELS, null)).status, 401)
  await fetch(`${BASE}/web/shorts/abc`, { method: 'HEAD' })
  assert.equal(emu.control.quota().used, 2)
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 200)
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 200)
  const over = await api(fetch, CHANNELS, token.accessToken)
  assert.equal(over.status, 403)
  const error = (over.body as { error: { errors: Record<string, unknown>[]; message: string } })
    .error
  assert.deepEqual(error.errors, [
    { message: error.message, domain: 'youtube.quota', reason: 'quotaExceeded' },
  ])
  assert.match(error.message, /^The request cannot be completed because you have exceeded your/)
  const failure = classifyGoogleFailure(403, over.body, 'channels.list', clock.now())
  assert.equal(failure.code, 'ERR_RATE_LIMITED')
  // 04:00 in Los Angeles: the quota comes back in 20 hours
  assert.equal(failure.retryAfterSeconds, 20 * 3600)
  assert.equal(emu.control.quota().used, 4, 'a refused call costs nothing')
  assert.equal(emu.control.quota().resetsAt, '2026-11-21T08:00:00.000Z')
  const calls = emu.control.calls().filter((c) => c.path.endsWith('/channels'))
  assert.deepEqual(
    calls.map((c) => [c.status, c.cost]),
    [
      [200, 1],
      [400, 1],
      [401, 0],
      [200, 1],
      [200, 1],
      [403, 0],
    ],
  )
  assert.ok(
    calls
      .filter((c) => c.status !== 401)
      .every((c) => c.clientId === CLIENT_ID && c.accountIndex === 1),
  )

  emu.control.setQuota({ used: 0 })
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 200)
  emu.control.setQuota({ daily_limit: 1 })
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 403)
  assert.throws(() => emu.control.setQuota({ used: -1 }), ControlError)
  assert.throws(() => emu.control.setQuota({}), ControlError)
})

test('quota resets at midnight Pacific time, DST-aware', async (t) => {
  const { app, fetch, emu, clock } = await world(t, { dailyQuotaUnits: 1 })
  // a fresh connection for each step: access tokens last an hour, OAuth costs no quota
  const call = async () => api(fetch, CHANNELS, (await connect(app)).token.accessToken)
  const spendAll = async () => {
    assert.equal((await call()).status, 200)
    assert.equal((await call()).status, 403)
  }
  // winter: PST, midnight is 08:00 UTC
  clock.set(Date.parse('2026-11-21T07:58:00Z'))
  await spendAll()
  clock.set(Date.parse('2026-11-21T08:00:30Z'))
  assert.equal(emu.control.quota().used, 0)
  await spendAll()

  // the day DST starts (8 March 2026) lasts 23 hours: its midnight is 07:00 UTC, not 08:00
  clock.set(Date.parse('2026-03-08T09:00:00Z'))
  await spendAll()
  assert.equal(emu.control.quota().resetsAt, '2026-03-09T07:00:00.000Z')
  clock.set(Date.parse('2026-03-09T06:59:00Z'))
  assert.equal((await call()).status, 403)
  clock.set(Date.parse('2026-03-09T07:01:00Z'))
  await spendAll()

  // the day DST ends (1 November 2026) lasts 25 hours
  clock.set(Date.parse('2026-11-01T07:30:00Z'))
  await spendAll()
  clock.set(Date.parse('2026-11-02T07:30:00Z'))
  assert.equal((await call()).status, 403, '23:30 PST, still 1 November')
  clock.set(Date.parse('2026-11-02T08:00:01Z'))
  assert.equal((await call()).status, 200)
})

// ---------------------------------------------------------------------------------------------
// Web, CDN

test('HEAD /web/shorts: 200 for a Short, 303 to the watch page otherwise; watch page escapes', async (t) => {
  const { fetch, emu } = await world(t)
  const videos = emu.state.accounts[0]?.channel?.videos ?? []
  const short = videos.find((v) => v.short)
  const regular = videos.find((v) => !v.short)
  assert.ok(short && regular)
  const yes = await fetch(`${BASE}/web/shorts/${short.id}`, { method: 'HEAD' })
  assert.equal(yes.status, 200)
  assert.equal(await yes.text(), '')
  for (const id of [regular.id, 'unknown0000', '%3Cx%3E']) {
    const no = await fetch(`${BASE}/web/shorts/${id}`, { method: 'HEAD' })
    assert.equal(no.status, 303, id)
    assert.equal(
      no.headers.get('location'),
      `${BASE}/web/watch?v=${encodeURIComponent(decodeURIComponent(id))}`,
    )
  }
  const added = emu.control.addVideo(1, { title: '<img src=x onerror=alert(1)>' })
  const watch = await fetch(`${BASE}/web/watch?v=${added.id}`)
  assert.equal(watch.status, 200)
  const html = await watch.text()
  assert.doesNotMatch(html, /<img src=x/)
  assert.match(html, /&#60;img src=x onerror=alert\(1\)&#62;/)
  assert.equal(emu.control.quota().used, 0)
})

test('thumbnails and avatars are served as stable JPEGs; missing sizes are 404', async (t) => {
  const { fetch, emu } = await world(t)
  const videos = emu.state.accounts[0]?.channel?.videos ?? []
  const hd = videos.find((v) => v.hd && !v.short)
  const sd = videos.find((v) => !v.hd)
  assert.ok(hd && sd)
  const picture = await fetch(`${BASE}/vi/${hd.id}/maxresdefault.jpg`)
  assert.equal(picture.status, 200)
  assert.equal(picture.headers.get('content-type'), 'image/jpeg')
  const jpeg = Buffer.from(await picture.arrayBuffer())
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a real JPEG')
  assert.deepEqual(
    Buffer.from(await (await fetch(`${BASE}/vi/${hd.id}/maxresdefault.jpg`)).arrayBuffer()),
    jpeg,
    'the same bytes every time',
  )
  assert.equal((await fetch(`${BASE}/vi/${sd.id}/maxresdefault.jpg`)).status, 404)
  assert.equal((await fetch(`${BASE}/vi/${sd.id}/hqdefault.jpg`)).status, 200)
  assert.equal((await fetch(`${BASE}/vi/unknown0000/default.jpg`)).status, 404)
  assert.equal((await fetch(`${BASE}/vi/${hd.id}/other.jpg`)).status, 404)
  const short = videos.find((v) => v.short)
  const portrait = await sharp(
    Buffer.from(await (await fetch(`${BASE}/vi/${short?.id ?? ''}/hqdefault.jpg`)).arrayBuffer()),
  ).metadata()
  assert.deepEqual([portrait.width, portrait.height], [720, 1280], 'a Short: portrait')
  const channelId = emu.state.accounts[0]?.channel?.id ?? ''
  assert.equal((await fetch(`${BASE}/avatars/${channelId}/s88-c-k`)).status, 200)
  assert.equal((await fetch(`${BASE}/avatars/${channelId}/s99-c-k`)).status, 404)
  assert.equal(isoDuration(63), 'PT1M3S')
  assert.equal(isoDuration(7200), 'PT2H')
  assert.equal(isoDuration(0), 'P0D')
})

// ---------------------------------------------------------------------------------------------
// Faults and control

test('faults answer Google’s shapes, match by path, count down', async (t) => {
  const { app, fetch, emu } = await world(t)
  const { token } = await connect(app)
  const videosPath = `/youtube/v3/videos?part=snippet&id=abc`
  emu.control.addFault({ kind: 'http_5xx', path: '/videos', count: 2 })
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 200, 'another path')
  for (let i = 0; i < 2; i++) {
    const failed = await api(fetch, videosPath, token.accessToken)
    assert.equal(failed.status, 503)
    assert.deepEqual(reasons(failed.body), ['backendError'])
    assert.equal(
      classifyGoogleFailure(503, failed.body, 'videos.list', 0).code,
      'ERR_PROVIDER_UNAVAILABLE',
    )
  }
  assert.equal((await api(fetch, videosPath, token.accessToken)).status, 200)

  emu.control.addFault({ kind: 'rate_limit', reason: 'userRateLimitExceeded', count: 1 })
  const limited = await api(fetch, CHANNELS, token.accessToken)
  assert.equal(limited.status, 403)
  const rate = classifyGoogleFailure(403, limited.body, 'channels.list', 0)
  assert.equal(rate.code, 'ERR_RATE_LIMITED')
  assert.equal(rate.retryAfterSeconds, 60)

  emu.control.addFault({ kind: 'quota_exceeded', count: 1 })
  assert.deepEqual(reasons((await api(fetch, CHANNELS, token.accessToken)).body), ['quotaExceeded'])
  emu.control.addFault({ kind: 'auth_error', count: 1 })
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 401)

  emu.control.addFault({ kind: 'drop', path: '/channels', count: 1 })
  await assert.rejects(
    fetch(`${BASE}${CHANNELS}`, { headers: { authorization: `Bearer ${token.accessToken}` } }),
  )
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 200)

  emu.control.addFault({ kind: 'latency', ms: 60, count: 1 })
  const started = Date.now()
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 200)
  assert.ok(Date.now() - started >= 50)

  emu.control.addFault({ kind: 'http_5xx', path: '/token', status: 500, count: 1 })
  const token500 = await refresh(app, token.refreshToken ?? '')
  assert.equal(token500.statusCode, 500)
  assert.equal((await refresh(app, token.refreshToken ?? '')).statusCode, 200)

  assert.throws(() => emu.control.addFault({ kind: 'meteor', count: 1 }), ControlError)
  assert.throws(
    () => emu.control.addFault({ kind: 'latency', ms: 10 ** 9, count: 1 }),
    ControlError,
  )
  assert.throws(() => emu.control.addFault({ kind: 'http_5xx', status: 200 }), ControlError)
  assert.equal(emu.control.snapshot().faults.length, 0)
})

test('the control adds accounts and videos, validated and bounded', async (t) => {
  const { app, fetch, emu } = await world(t, { limits: { accounts: 4, totalVideos: 38 } })
  const added = emu.control.addAccount({
    name: 'New Creator',
    channel: { title: 'New', handle: 'newone', video_count: 3 },
  })
  assert.equal(added.channel?.videoCount, 3)
  assert.throws(() => emu.control.addAccount({ name: 'Another' }), /at most 4 accounts/)
  assert.throws(
    () => emu.control.addVideo(2, {}),
    (e: unknown) => e instanceof ControlError && e.status === 409,
  )
  assert.throws(() => emu.control.addVideo(1, { privacy: 'secret' }), ControlError)
  assert.throws(() => emu.control.addVideo(1, { title: 'x'.repeat(101) }), ControlError)
  assert.throws(() => emu.control.addVideo(1, { short: true, duration_seconds: 600 }), ControlError)
  assert.throws(
    () => emu.control.addVideo(99, {}),
    (e: unknown) => e instanceof ControlError && e.status === 404,
  )
  assert.throws(() => emu.control.updateVideo('nope', { title: 'x' }), ControlError)
  const { id } = emu.control.addVideo(1, {
    title: 'Fresh upload',
    duration_seconds: 63,
    live: 'live',
  })
  assert.throws(() => emu.control.addVideo(1, {}), /at most 38 videos/)

  const { token } = await connect(app, { account: 3 })
  const [fresh] = await videosOf(fetch, token.accessToken, [id])
  assert.equal(fresh?.title, 'Fresh upload')
  assert.equal(fresh?.liveBroadcastContent, 'live')
  emu.control.updateVideo(id, { privacy: 'private' })
  assert.deepEqual(await videosOf(fetch, token.accessToken, [id]), [])
  assert.throws(() => emu.control.updateVideo(id, {}), ControlError)

  emu.control.revokeAccount(3)
  assert.equal((await api(fetch, CHANNELS, token.accessToken)).status, 401)
  assert.throws(() => emu.control.moveClock({ advance_ms: 'soon' }), ControlError)
  emu.control.reset()
  assert.equal(emu.control.snapshot().accounts.length, 3)
  assert.equal(emu.control.calls().length, 0)
})

test('on the system clock the control refuses to move time', async (t) => {
  const { emu } = await world(t, { clock: systemClock })
  assert.throws(
    () => emu.control.moveClock({ advance_ms: 1000 }),
    (e: unknown) => e instanceof ControlError && e.status === 409,
  )
})

test('the standalone control API is gated and drives the same controller', async (t) => {
  const clock = createManualClock(START)
  const emu = createYoutubeEmulator({
    clock,
    baseUrl: () => 'http://localhost:8082',
    redirectUris: [REDIRECT],
  })
  const app = Fastify()
  const token = 'c'.repeat(40)
  await app.register(standaloneYoutubeEmulator(emu, { token }))
  t.after(() => app.close())
  const headers = {
    host: 'localhost:8082',
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
  }
  const denied = await app.inject({
    method: 'GET',
    url: '/_control/state',
    headers: { host: 'localhost:8082' },
  })
  assert.equal(denied.statusCode, 401)
  const created = await app.inject({
    method: 'POST',
    url: '/_control/accounts',
    headers,
    payload: JSON.stringify({ name: 'Via HTTP', channel: null }),
  })
  assert.equal(created.statusCode, 201)
  assert.equal(created.json<{ channel: unknown }>().channel, null)
  const bad = await app.inject({
    method: 'POST',
    url: '/_control/faults',
    headers,
    payload: '{"kind":"x"}',
  })
  assert.equal(bad.statusCode, 400)
  const quota = await app.inject({
    method: 'POST',
    url: '/_control/quota',
    headers,
    payload: '{"used":7}',
  })
  assert.equal(quota.json<{ used: number }>().used, 7)
  assert.equal(emu.control.quota().used, 7)
})

test('the sandbox derives its secrets from the seed and names its endpoints', async (t) => {
  const options = { publicUrl: ORIGIN, redirectUri: REDIRECT, clock: createManualClock(START) }
  const a = createYoutubeSandbox({ ...options, seed: 'seed-1' })
  const b = createYoutubeSandbox({ ...options, seed: 'seed-1' })
  const c = createYoutubeSandbox({ ...options, seed: 'seed-2' })
  assert.equal(a.state.settings.clientSecret, b.state.settings.clientSecret)
  assert.equal(a.state.settings.signingSecret, b.state.settings.signingSecret)
  assert.notEqual(a.state.settings.clientSecret, c.state.settings.clientSecret)
  assert.notEqual(a.state.settings.clientSecret, a.state.settings.signingSecret)
  assert.deepEqual(sandboxYoutubeEndpoints(a), {
    clientId: 'sandbox-youtube-client.apps.googleusercontent.com',
    clientSecret: a.state.settings.clientSecret,
    authorizeUrl: `${BASE}/o/oauth2/v2/auth`,
    tokenUrl: `${BASE}/token`,
    revokeUrl: `${BASE}/revoke`,
    apiUrl: BASE,
    webUrl: `${BASE}/web`,
  })
  // a token signed by one sandbox is accepted by another built from the same seed (restarts)
  const app = Fastify()
  await app.register(a.plugin, { prefix: YOUTUBE_SANDBOX_PREFIX })
  t.after(() => app.close())
  const form = new URLSearchParams(authorizeParams({ client_id: a.state.settings.clientId }))
  form.set('account', '1')
  form.set('decision', 'allow')
  form.append('granted_scope', YOUTUBE_READONLY_SCOPE)
  const location = await app.inject({
    method: 'POST',
    url: `${YOUTUBE_SANDBOX_PREFIX}/o/oauth2/v2/auth`,
    headers: FORM,
    payload: form.toString(),
  })
  const code = new URL(String(location.headers.location)).searchParams.get('code') ?? ''
  const response = await app.inject({
    method: 'POST',
    url: `${YOUTUBE_SANDBOX_PREFIX}/token`,
    headers: FORM,
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: a.state.settings.clientId,
      client_secret: a.state.settings.clientSecret,
    }).toString(),
  })
  const issued = parseTokenResponse(response.json(), 'code exchange')
  assert.notEqual(b.state.parseToken(issued.accessToken), null)
  assert.equal(c.state.parseToken(issued.accessToken), null)
})

test('bodies Fastify cannot read answer Google’s OAuth shape, never a crash', async (t) => {
  const { app } = await world(t)
  for (const [type, payload] of [
    ['application/xml', '<grant_type/>'],
    ['application/json', '{"grant_type":'],
  ] as const) {
    const response = await app.inject({
      method: 'POST',
      url: `${YOUTUBE_SANDBOX_PREFIX}/token`,
      headers: { 'content-type': type },
      payload,
    })
    assert.equal(response.statusCode, 400, type)
    assert.deepEqual(response.json(), {
      error: 'invalid_request',
      error_description: 'Bad Request',
    })
  }
  // a JSON object body is read like the form
  const json = await app.inject({
    method: 'POST',
    url: `${YOUTUBE_SANDBOX_PREFIX}/token`,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      refresh_token: { a: 1 },
    }),
  })
  assert.equal(json.statusCode, 400)
  assert.deepEqual(json.json(), {
    error: 'invalid_request',
    error_description: 'Missing required parameter: refresh_token',
  })
})
