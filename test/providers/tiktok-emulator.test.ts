/**
 * The TikTok emulator is a model of Login Kit v2 and the Display API: these tests pin the
 * behaviours the app relies on, read through the app's own parsers (`providers/tiktok/parse.ts`).
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { createManualClock, type ManualClock } from '../../src/clock.ts'
import { GalleryError } from '../../src/errors.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'
import type { FetchLike } from '../../src/providers/types.ts'
import { TIKTOK_PATHS, TIKTOK_SCOPES } from '../../src/providers/tiktok/config.ts'
import {
  USER_FIELDS,
  VIDEO_FIELDS,
  classifyTiktokFailure,
  parseRevokeResponse,
  parseTokenResponse,
  parseUserInfo,
  parseVideoList,
  parseVideoQuery,
  videoListBody,
  videoQueryBody,
  videoToMedia,
  type TiktokToken,
  type TiktokVideo,
  type UrlPolicy,
} from '../../src/providers/tiktok/parse.ts'
import {
  createTiktokEmulator,
  type TiktokEmulator,
  type TiktokEmulatorOptions,
} from '../../src/providers/tiktok/emulator/index.ts'
import { ControlError } from '../../src/providers/tiktok/emulator/bounds.ts'
import { standaloneTiktokEmulator } from '../../src/providers/tiktok/emulator/control.ts'
import {
  TIKTOK_SANDBOX_PREFIX,
  createTiktokSandbox,
  sandboxTiktokEndpoints,
} from '../../src/providers/tiktok/sandbox.ts'

const ORIGIN = 'http://localhost:8080'
const BASE = `${ORIGIN}${TIKTOK_SANDBOX_PREFIX}`
const REDIRECT = `${ORIGIN}/api/socials/oauth/tiktok/callback`
const CLIENT_KEY = 'awtestclientkey0001'
const CLIENT_SECRET = 'test-client-secret'
const WEBHOOK = 'https://gallery.example/api/socials/webhooks/tiktok'
const URLS: UrlPolicy = { extraOrigins: [ORIGIN] }
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const JSON_TYPE = { 'content-type': 'application/json' }
/** Friday 20 November 2026, 12:00 UTC. */
const START = Date.UTC(2026, 10, 20, 12)
const HOUR = 3_600_000
const SCOPE = TIKTOK_SCOPES.join(',')

interface World {
  app: FastifyInstance
  emu: TiktokEmulator
  clock: ManualClock
  fetch: FetchLike
}

async function world(t: TestContext, options: Partial<TiktokEmulatorOptions> = {}): Promise<World> {
  const clock = createManualClock(START)
  const emu = createTiktokEmulator({
    clock,
    baseUrl: () => BASE,
    clientKey: CLIENT_KEY,
    clientSecret: CLIENT_SECRET,
    redirectUris: [REDIRECT],
    signingSecret: 'test-signing-secret',
    ...options,
  })
  const app = Fastify()
  await app.register(emu.plugin, { prefix: TIKTOK_SANDBOX_PREFIX })
  t.after(() => app.close())
  return { app, emu, clock, fetch: createInjectFetch(app, ORIGIN) }
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

function authorizeParams(challenge: string, extra: Record<string, string> = {}) {
  return {
    client_key: CLIENT_KEY,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: SCOPE,
    state: 'st-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  }
}

/** Posts the consent form; `granted` are the ticked optional scopes. Returns the redirect. */
async function consent(
  app: FastifyInstance,
  challenge: string,
  options: { account?: number; granted?: string[]; decision?: string } = {},
): Promise<URL> {
  const form = new URLSearchParams(authorizeParams(challenge))
  form.set('account', String(options.account ?? 1))
  form.set('decision', options.decision ?? 'allow')
  for (const s of options.granted ?? TIKTOK_SCOPES) form.append('granted_scope', s)
  const response = await app.inject({
    method: 'POST',
    url: `${TIKTOK_SANDBOX_PREFIX}/v2/auth/authorize/`,
    headers: FORM,
    payload: form.toString(),
  })
  assert.equal(response.statusCode, 302, response.body)
  return new URL(String(response.headers.location))
}

async function post(fetch: FetchLike, path: string, fields: Record<string, string>) {
  const response = await fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: FORM,
    body: new URLSearchParams(fields).toString(),
  })
  return { status: response.status, body: (await response.json()) as unknown }
}

function exchange(
  fetch: FetchLike,
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
) {
  return post(fetch, TIKTOK_PATHS.token, {
    client_key: CLIENT_KEY,
    client_secret: CLIENT_SECRET,
    code,
    grant_type: 'authorization_code',
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    ...extra,
  })
}

function refresh(fetch: FetchLike, refreshToken: string) {
  return post(fetch, TIKTOK_PATHS.token, {
    client_key: CLIENT_KEY,
    client_secret: CLIENT_SECRET,
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
  })
}

/** A full connect of `account`: consent, then the code exchange, parsed. */
async function connect(w: World, account = 1, granted?: string[]): Promise<TiktokToken> {
  const { verifier, challenge } = pkce()
  const callback = await consent(w.app, challenge, { account, ...(granted ? { granted } : {}) })
  const code = callback.searchParams.get('code') ?? ''
  const answer = await exchange(w.fetch, code, verifier)
  assert.equal(answer.status, 200)
  return parseTokenResponse(answer.body, 'code exchange')
}

async function api(
  fetch: FetchLike,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : JSON_TYPE) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: (await response.json()) as unknown }
}

const userInfoPath = (fields: readonly string[] = USER_FIELDS) =>
  `${TIKTOK_PATHS.userInfo}?fields=${fields.join(',')}`
const listPath = `${TIKTOK_PATHS.videoList}?fields=${VIDEO_FIELDS.join(',')}`
const queryPath = `${TIKTOK_PATHS.videoQuery}?fields=${VIDEO_FIELDS.join(',')}`

/** Every public video of the account, page by page (20 at most), through the parser. */
async function listAll(w: World, token: string): Promise<{ videos: TiktokVideo[]; pages: number }> {
  const videos: TiktokVideo[] = []
  let cursor: number | null = null
  let pages = 0
  for (;;) {
    const answer = await api(w.fetch, 'POST', listPath, token, videoListBody(cursor))
    assert.equal(answer.status, 200)
    const page = parseVideoList(answer.body, w.clock.now(), URLS)
    pages++
    videos.push(...page.videos)
    if (!page.hasMore) return { videos, pages }
    cursor = page.cursor
    assert.ok(pages < 10, 'paging ends')
  }
}

function errorCode(body: unknown): string | undefined {
  const error = (body as { error?: unknown }).error
  if (typeof error === 'string') return error
  return (error as { code?: string } | undefined)?.code
}

// ---------------------------------------------------------------------------------------------
// consent

test('consent page: demo accounts, the requested scopes, Authorize and Cancel', async (t) => {
  const { app } = await world(t)
  const { challenge } = pkce()
  const response = await app.inject({
    method: 'GET',
    url: `${TIKTOK_SANDBOX_PREFIX}/v2/auth/authorize/?${new URLSearchParams(authorizeParams(challenge))}`,
  })
  assert.equal(response.statusCode, 200)
  assert.match(String(response.headers['content-type']), /text\/html/)
  const html = response.body
  for (const name of ['account-1', 'account-2', 'account-3', 'allow', 'cancel'])
    assert.ok(html.includes(`id="${name}"`), name)
  for (const scope of TIKTOK_SCOPES) assert.ok(html.includes(`value="${scope}"`), scope)
  assert.ok(html.includes('name="state" value="st-123"'), 'state carried')
  assert.ok(html.includes('@phoenixpottery'))
})

test('consent refuses an unknown client_key, a foreign redirect URI and a missing PKCE challenge, with no redirect', async (t) => {
  const { app } = await world(t)
  const { challenge } = pkce()
  const cases: [Record<string, string>, RegExp][] = [
    [{ client_key: 'someone-else' }, /invalid_client/],
    [{ redirect_uri: `${REDIRECT}/other` }, /redirect_uri/],
    [{ code_challenge: '' }, /code_challenge is required/],
    [{ code_challenge_method: 'plain' }, /S256/],
    [{ scope: 'user.info.basic,email' }, /invalid_scope/],
    [{ scope: 'user.info.basic video.list' }, /invalid_scope/],
    [{ response_type: 'token' }, /unsupported_response_type/],
  ]
  for (const [extra, message] of cases) {
    const response = await app.inject({
      method: 'GET',
      url: `${TIKTOK_SANDBOX_PREFIX}/v2/auth/authorize/?${new URLSearchParams(authorizeParams(challenge, extra))}`,
    })
    assert.equal(response.statusCode, 400, JSON.stringify(extra))
    assert.equal(response.headers.location, undefined)
    assert.match(response.body, message, JSON.stringify(extra))
  }
})

test('consent: Authorize redirects with code, scopes and state; Cancel with access_denied', async (t) => {
  const { app } = await world(t)
  const { challenge } = pkce()
  const allowed = await consent(app, challenge)
  assert.equal(`${allowed.origin}${allowed.pathname}`, REDIRECT)
  assert.equal(allowed.searchParams.get('state'), 'st-123')
  assert.match(allowed.searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{40,}\*0!\d+$/)
  assert.equal(allowed.searchParams.get('scopes'), SCOPE)

  const denied = await consent(app, challenge, { decision: 'cancel' })
  assert.equal(denied.searchParams.get('error'), 'access_denied')
  assert.ok(denied.searchParams.get('error_description'))
  assert.equal(denied.searchParams.get('state'), 'st-123')
  assert.equal(denied.searchParams.get('code'), null)
})

// ---------------------------------------------------------------------------------------------
// tokens

test('code exchange: TikTok’s flat answer, 2 h / 180 d, open_id, comma scopes; codes are single use', async (t) => {
  const w = await world(t)
  const { verifier, challenge } = pkce()
  const code = (await consent(w.app, challenge)).searchParams.get('code') ?? ''
  const first = await exchange(w.fetch, code, verifier)
  assert.equal(first.status, 200)
  const token = parseTokenResponse(first.body, 'code exchange')
  assert.match(token.accessToken, /^act\./)
  assert.match(token.refreshToken, /^rft\./)
  assert.equal(token.expiresInSeconds, 7200)
  assert.equal(token.refreshExpiresInSeconds, 180 * 86_400)
  assert.equal(token.openId, w.emu.control.snapshot().accounts[0]?.openId)
  assert.deepEqual(token.scopes, [...TIKTOK_SCOPES])
  assert.equal((first.body as Record<string, unknown>).token_type, 'Bearer')

  // the same code again: invalid_grant, and what it was exchanged for is revoked
  const again = await exchange(w.fetch, code, verifier)
  assert.equal(again.status, 400)
  assert.equal(errorCode(again.body), 'invalid_grant')
  assert.throws(
    () => parseTokenResponse(again.body, 'code exchange', again.status),
    (e: unknown) => e instanceof GalleryError && e.code === 'ERR_REAUTH_REQUIRED',
  )
  assert.equal((await api(w.fetch, 'GET', userInfoPath(), token.accessToken)).status, 401)
})

test('code exchange: a wrong verifier, redirect URI, secret or an expired code is refused', async (t) => {
  const w = await world(t)
  const { verifier, challenge } = pkce()
  const code = (await consent(w.app, challenge)).searchParams.get('code') ?? ''
  const wrong = await exchange(w.fetch, code, pkce().verifier)
  assert.equal(wrong.status, 400)
  assert.deepEqual(
    [errorCode(wrong.body), (wrong.body as Record<string, unknown>).error_description],
    ['invalid_request', 'Code verifier or code challenge is invalid.'],
  )
  assert.match(String((wrong.body as Record<string, unknown>).log_id), /^\d{14}[0-9A-F]{20}$/)
  const missing = await exchange(w.fetch, code, verifier, { code_verifier: '' })
  assert.equal(errorCode(missing.body), 'invalid_request')
  const redirect = await exchange(w.fetch, code, verifier, { redirect_uri: `${REDIRECT}x` })
  assert.equal(errorCode(redirect.body), 'invalid_request')
  const secret = await exchange(w.fetch, code, verifier, { client_secret: 'nope' })
  assert.equal(errorCode(secret.body), 'invalid_client')
  assert.equal(
    classifyTiktokFailure(secret.status, secret.body, 'code exchange').code,
    'ERR_PROVIDER_RESPONSE',
  )
  // none of the refusals used the code up: the right exchange still works
  assert.equal((await exchange(w.fetch, code, verifier)).status, 200)

  const late = pkce()
  const lateCode = (await consent(w.app, late.challenge)).searchParams.get('code') ?? ''
  w.clock.advance(11 * 60_000)
  const expired = await exchange(w.fetch, lateCode, late.verifier)
  assert.equal(errorCode(expired.body), 'invalid_grant')
})

test('refresh rotates: the old refresh token is refused at once, the new one works; the 180 days count down', async (t) => {
  const w = await world(t)
  const first = await connect(w)
  w.clock.advance(86_400_000)
  const r1 = await refresh(w.fetch, first.refreshToken)
  assert.equal(r1.status, 200)
  const second = parseTokenResponse(r1.body, 'token refresh')
  assert.notEqual(second.refreshToken, first.refreshToken)
  assert.notEqual(second.accessToken, first.accessToken)
  assert.equal(second.refreshExpiresInSeconds, 179 * 86_400, 'remaining seconds, not a new 180 d')
  assert.equal(second.expiresInSeconds, 7200)

  const reused = await refresh(w.fetch, first.refreshToken)
  assert.equal(reused.status, 400)
  assert.equal(errorCode(reused.body), 'invalid_grant')
  assert.throws(
    () => parseTokenResponse(reused.body, 'token refresh', reused.status),
    (e: unknown) => e instanceof GalleryError && e.code === 'ERR_REAUTH_REQUIRED',
  )

  const r2 = await refresh(w.fetch, second.refreshToken)
  assert.equal(r2.status, 200)
  const third = parseTokenResponse(r2.body, 'token refresh')
  assert.equal((await api(w.fetch, 'GET', userInfoPath(), third.accessToken)).status, 200)
  assert.equal(errorCode((await refresh(w.fetch, second.refreshToken)).body), 'invalid_grant')
})

test('rotation never extends the refresh token: 180 days after consent it stops working', async (t) => {
  const w = await world(t)
  const first = await connect(w)
  w.clock.advance(100 * 86_400_000)
  const rotated = parseTokenResponse(
    (await refresh(w.fetch, first.refreshToken)).body,
    'token refresh',
  )
  assert.equal(rotated.refreshExpiresInSeconds, 80 * 86_400)
  w.clock.advance(80 * 86_400_000)
  const late = await refresh(w.fetch, rotated.refreshToken)
  assert.equal(errorCode(late.body), 'invalid_grant')
})

test('OAuth errors can come with HTTP 200: the parser decides from the body', async (t) => {
  const w = await world(t, { oauthErrorStatus: 200 })
  const token = await connect(w)
  assert.equal((await refresh(w.fetch, token.refreshToken)).status, 200)
  const stale = await refresh(w.fetch, token.refreshToken)
  assert.equal(stale.status, 200)
  assert.equal(errorCode(stale.body), 'invalid_grant')
  assert.throws(
    () => parseTokenResponse(stale.body, 'token refresh', stale.status),
    (e: unknown) => e instanceof GalleryError && e.code === 'ERR_REAUTH_REQUIRED',
  )
})

test('legacy lifetimes: 24 h / 365 d; access tokens expire on the clock', async (t) => {
  const w = await world(t, { lifetimes: 'legacy' })
  const token = await connect(w)
  assert.equal(token.expiresInSeconds, 86_400)
  assert.equal(token.refreshExpiresInSeconds, 365 * 86_400)
  w.clock.advance(24 * HOUR)
  const answer = await api(w.fetch, 'GET', userInfoPath(), token.accessToken)
  assert.equal(answer.status, 401)
  assert.equal(classifyTiktokFailure(401, answer.body, 'user.info').code, 'ERR_REAUTH_REQUIRED')
})

test('revoke answers {} and the grant stops working', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const answer = await post(w.fetch, TIKTOK_PATHS.revoke, {
    client_key: CLIENT_KEY,
    client_secret: CLIENT_SECRET,
    token: token.accessToken,
  })
  assert.equal(answer.status, 200)
  assert.deepEqual(answer.body, {})
  parseRevokeResponse(answer.body, answer.status)
  assert.equal((await api(w.fetch, 'GET', userInfoPath(), token.accessToken)).status, 401)
  assert.equal(errorCode((await refresh(w.fetch, token.refreshToken)).body), 'invalid_grant')
})

// ---------------------------------------------------------------------------------------------
// Display API

test('user/info: the envelope, the requested fields only, fields required', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const answer = await api(w.fetch, 'GET', userInfoPath(), token.accessToken)
  assert.equal(answer.status, 200)
  assert.equal(errorCode(answer.body), 'ok')
  const user = parseUserInfo(answer.body, URLS)
  assert.equal(user.openId, token.openId)
  assert.equal(user.username, 'phoenixpottery')
  assert.equal(user.displayName, 'Phoenix Pottery')
  assert.ok(user.avatarUrl?.startsWith(`${BASE}/cdn/avatar/`))
  const avatar = await w.fetch(user.avatarUrl ?? '')
  assert.equal(avatar.status, 200)
  assert.equal(user.videoCount, null, 'not asked for')

  const few = await api(
    w.fetch,
    'GET',
    userInfoPath(['open_id', 'display_name']),
    token.accessToken,
  )
  assert.deepEqual(Object.keys((few.body as { data: { user: object } }).data.user).sort(), [
    'display_name',
    'open_id',
  ])
  const none = await api(w.fetch, 'GET', TIKTOK_PATHS.userInfo, token.accessToken)
  assert.equal(none.status, 400)
  assert.equal(errorCode(none.body), 'invalid_params')
  const stats = await api(
    w.fetch,
    'GET',
    userInfoPath(['open_id', 'video_count']),
    token.accessToken,
  )
  assert.equal(stats.status, 401, 'user.info.stats was not granted')
  assert.equal(errorCode(stats.body), 'scope_not_authorized')
})

test('scopes: a grant without video.list or user.info.profile is refused with scope_not_authorized', async (t) => {
  const w = await world(t)
  const token = await connect(w, 1, ['user.info.basic'])
  assert.deepEqual(token.scopes, ['user.info.basic'], 'the unticked scopes are not granted')
  const list = await api(w.fetch, 'POST', listPath, token.accessToken, videoListBody(null))
  assert.equal(list.status, 401)
  const error = classifyTiktokFailure(list.status, list.body, 'video.list')
  assert.equal(error.code, 'ERR_REAUTH_REQUIRED')
  assert.match(error.message, /video\.list/)
  const profile = await api(w.fetch, 'GET', userInfoPath(), token.accessToken)
  assert.equal(errorCode(profile.body), 'scope_not_authorized')
  assert.equal(
    (await api(w.fetch, 'GET', userInfoPath(['open_id', 'display_name']), token.accessToken))
      .status,
    200,
  )
})

test('video/list pages through all 25 public videos, newest first; the private one never lists', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const { videos, pages } = await listAll(w, token.accessToken)
  assert.equal(pages, 2)
  assert.equal(videos.length, 25)
  assert.equal(new Set(videos.map((v) => v.id)).size, 25)
  for (let i = 1; i < videos.length; i++)
    assert.ok((videos[i - 1]?.createdAt ?? 0) > (videos[i]?.createdAt ?? 0), 'newest first')
  const snapshot = w.emu.control.snapshot().accounts[0]
  assert.deepEqual([snapshot?.publicVideos, snapshot?.privateVideos], [25, 1])
  const privateVideo = w.emu.state.accounts[0]?.videos.find((v) => v.privacy === 'private')
  assert.ok(privateVideo !== undefined)
  assert.ok(!videos.some((v) => v.id === privateVideo.id))
  const query = await api(
    w.fetch,
    'POST',
    queryPath,
    token.accessToken,
    videoQueryBody([privateVideo.id]),
  )
  assert.deepEqual(parseVideoQuery(query.body, [privateVideo.id], w.clock.now(), URLS).missingIds, [
    privateVideo.id,
  ])

  const media = videos.map(videoToMedia)
  assert.ok(media.every((m) => m.media_type === 'VIDEO' && m.visibility === 'public'))
  assert.ok(media.every((m) => m.permalink?.startsWith(`${BASE}/web/@phoenixpottery/video/`)))
  const share = await w.fetch(media[0]?.permalink ?? '')
  assert.equal(share.status, 200)
})

test('video/list: max_count defaults to 10 and stops at 20; the body is JSON', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const defaults = await api(w.fetch, 'POST', listPath, token.accessToken, {})
  assert.equal(parseVideoList(defaults.body, w.clock.now(), URLS).videos.length, 10)
  const tooMany = await api(w.fetch, 'POST', listPath, token.accessToken, { max_count: 21 })
  assert.equal(tooMany.status, 400)
  assert.equal(errorCode(tooMany.body), 'invalid_params')
  const malformed = await w.fetch(`${BASE}${listPath}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.accessToken}`, ...JSON_TYPE },
    body: '{"max_count":',
  })
  assert.equal(malformed.status, 400)
  assert.equal(errorCode(await malformed.json()), 'invalid_params')
  const noFields = await api(w.fetch, 'POST', TIKTOK_PATHS.videoList, token.accessToken, {})
  assert.equal(errorCode(noFields.body), 'invalid_params')
  const empty = await connect(w, 2)
  const nothing = parseVideoList(
    (await api(w.fetch, 'POST', listPath, empty.accessToken, videoListBody(null))).body,
    w.clock.now(),
    URLS,
  )
  assert.deepEqual([nothing.videos.length, nothing.hasMore], [0, false])
})

test('cover URLs expire after about 6 hours; video/query hands out fresh ones', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const page = parseVideoList(
    (await api(w.fetch, 'POST', listPath, token.accessToken, videoListBody(null, 1))).body,
    w.clock.now(),
    URLS,
  )
  const video = page.videos[0]
  assert.ok(video?.coverUrl && video.coverExpiresAt !== null)
  const left = video.coverExpiresAt - w.clock.now()
  assert.ok(left > 5 * HOUR && left <= 6 * HOUR, `expires in ${left / HOUR} h`)
  assert.equal(
    Number(new URL(video.coverUrl).searchParams.get('x-expires')) * 1000,
    video.coverExpiresAt,
  )
  const fresh = await w.fetch(video.coverUrl)
  assert.equal(fresh.status, 200)
  assert.match(fresh.headers.get('content-type') ?? '', /^image\/jpeg/)
  const tampered = new URL(video.coverUrl)
  tampered.searchParams.set(
    'x-expires',
    String(Number(tampered.searchParams.get('x-expires')) + 3600),
  )
  assert.equal((await w.fetch(tampered.toString())).status, 403, 'the expiry is signed')

  w.clock.set(video.coverExpiresAt)
  assert.equal((await w.fetch(video.coverUrl)).status, 403, 'expired')
  // the 2-hour access token is long gone too: refresh first
  const renewed = parseTokenResponse(
    (await refresh(w.fetch, token.refreshToken)).body,
    'token refresh',
  )
  const again = await api(
    w.fetch,
    'POST',
    queryPath,
    renewed.accessToken,
    videoQueryBody([video.id]),
  )
  const refreshed = parseVideoQuery(again.body, [video.id], w.clock.now(), URLS).videos[0]
  assert.ok(refreshed?.coverUrl && refreshed.coverUrl !== video.coverUrl)
  assert.ok((refreshed.coverExpiresAt ?? 0) > w.clock.now() + 5 * HOUR)
  assert.equal((await w.fetch(refreshed.coverUrl)).status, 200)
})

test('video/query: 1 to 20 own ids; deleted, private and foreign ids are absent', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const { videos } = await listAll(w, token.accessToken)
  const [a, b, c] = videos
  assert.ok(a && b && c)
  w.emu.control.removeVideo(a.id)
  w.emu.control.makePrivate(b.id)
  const foreign = w.emu.state.accounts[2]?.videos[0]?.id ?? ''
  const ids = [a.id, b.id, c.id, foreign]
  const answer = await api(w.fetch, 'POST', queryPath, token.accessToken, videoQueryBody(ids))
  const result = parseVideoQuery(answer.body, ids, w.clock.now(), URLS)
  assert.deepEqual(
    result.videos.map((v) => v.id),
    [c.id],
  )
  assert.deepEqual(result.missingIds, [a.id, b.id, foreign])
  const tooMany = await api(w.fetch, 'POST', queryPath, token.accessToken, {
    filters: { video_ids: Array.from({ length: 21 }, (_, i) => String(i + 1)) },
  })
  assert.equal(errorCode(tooMany.body), 'invalid_params')
  assert.equal((await listAll(w, token.accessToken)).videos.length, 23)
})

test('rate limit: 600 calls per endpoint in a sliding minute, then 429 rate_limit_exceeded', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const path = userInfoPath(['open_id'])
  for (let i = 0; i < 600; i++) {
    const answer = await api(w.fetch, 'GET', path, token.accessToken)
    if (answer.status !== 200) assert.fail(`call ${i + 1} answered ${answer.status}`)
    if (i === 299) w.clock.advance(30_000)
  }
  const limited = await api(w.fetch, 'GET', path, token.accessToken)
  assert.equal(limited.status, 429)
  assert.equal(errorCode(limited.body), 'rate_limit_exceeded')
  const error = classifyTiktokFailure(limited.status, limited.body, 'user.info')
  assert.equal(error.code, 'ERR_RATE_LIMITED')
  assert.equal(error.retryAfterSeconds, 60)
  // per endpoint: video/list has its own minute
  assert.equal((await api(w.fetch, 'POST', listPath, token.accessToken, {})).status, 200)
  // sliding: 30 s on, the first 300 calls leave the window
  w.clock.advance(30_000)
  assert.equal((await api(w.fetch, 'GET', path, token.accessToken)).status, 200)
})

test('faults: internal_error, rate limit, invalid token, latency and a dropped connection', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const path = userInfoPath(['open_id'])
  w.emu.control.addFault({ kind: 'http_5xx', path: '/v2/user/info/', count: 1 })
  const failed = await api(w.fetch, 'GET', path, token.accessToken)
  assert.deepEqual([failed.status, errorCode(failed.body)], [500, 'internal_error'])
  assert.equal(
    classifyTiktokFailure(500, failed.body, 'user.info').code,
    'ERR_PROVIDER_UNAVAILABLE',
  )
  assert.equal((await api(w.fetch, 'GET', path, token.accessToken)).status, 200, 'count 1')

  w.emu.control.addFault({ kind: 'rate_limit', count: 1 })
  assert.equal((await api(w.fetch, 'GET', path, token.accessToken)).status, 429)
  w.emu.control.addFault({ kind: 'invalid_token', count: 1 })
  assert.equal(
    errorCode((await api(w.fetch, 'GET', path, token.accessToken)).body),
    'access_token_invalid',
  )

  w.emu.control.addFault({ kind: 'drop', path: '/v2/video/list/', count: 1 })
  await assert.rejects(api(w.fetch, 'POST', listPath, token.accessToken, {}))
  assert.equal((await api(w.fetch, 'POST', listPath, token.accessToken, {})).status, 200)

  w.emu.control.addFault({ kind: 'latency', ms: 40, count: 1 })
  const started = Date.now()
  assert.equal((await api(w.fetch, 'GET', path, token.accessToken)).status, 200)
  assert.ok(Date.now() - started >= 30)

  w.emu.control.addFault({ kind: 'http_5xx', path: '/v2/oauth/token/', status: 503, count: 1 })
  assert.equal((await refresh(w.fetch, token.refreshToken)).status, 503)
  assert.equal(
    (await refresh(w.fetch, token.refreshToken)).status,
    200,
    'the fault used no rotation',
  )

  assert.throws(() => w.emu.control.addFault({ kind: 'meteor', count: 1 }), ControlError)
  assert.throws(() => w.emu.control.addFault({ kind: 'latency', ms: -1 }), ControlError)
  const calls = w.emu.control.calls()
  assert.ok(calls.some((c) => c.path === '/sandbox/tiktok/v2/video/list/' && c.status === 0))
  assert.ok(
    calls.every((c) => !c.path.includes('?')),
    'no query strings (fields) in the log',
  )
})

test('control: add, update, make private; expire and revoke tokens', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  w.clock.advance(1000)
  const added = w.emu.control.addVideo(1, { title: 'Fresh out of the kiln', duration_seconds: 15 })
  const first = parseVideoList(
    (await api(w.fetch, 'POST', listPath, token.accessToken, videoListBody(null, 1))).body,
    w.clock.now(),
    URLS,
  ).videos[0]
  assert.deepEqual(
    [first?.id, first?.title, first?.durationSeconds],
    [added.id, 'Fresh out of the kiln', 15],
  )
  w.emu.control.updateVideo(added.id, { privacy: 'private' })
  assert.equal((await listAll(w, token.accessToken)).videos.length, 25)
  assert.throws(() => w.emu.control.updateVideo(added.id, {}), ControlError)
  assert.throws(() => w.emu.control.addVideo(1, { title: 'x'.repeat(151) }), ControlError)
  assert.throws(() => w.emu.control.removeVideo('404'), ControlError)

  w.emu.control.expireAccessTokens()
  assert.equal((await api(w.fetch, 'GET', userInfoPath(), token.accessToken)).status, 401)
  const renewed = parseTokenResponse(
    (await refresh(w.fetch, token.refreshToken)).body,
    'token refresh',
  )
  assert.equal((await api(w.fetch, 'GET', userInfoPath(), renewed.accessToken)).status, 200)

  w.emu.control.expireRefreshTokens()
  assert.equal(errorCode((await refresh(w.fetch, renewed.refreshToken)).body), 'invalid_grant')

  w.clock.advance(1000)
  const other = await connect(w)
  assert.equal(w.emu.control.revokeAccount(1).revoked, 2, 'both grants of the account')
  assert.equal((await api(w.fetch, 'GET', userInfoPath(), other.accessToken)).status, 401)
  assert.throws(() => w.emu.control.revokeAccount(99), ControlError)
  assert.throws(() => w.emu.control.moveClock({ advance_ms: 'soon' }), ControlError)
})

// ---------------------------------------------------------------------------------------------
// webhook

test('authorization.removed: revoked first, then POSTed with a TikTok-Signature verifiable as documented', async (t) => {
  const deliveries: { url: string; headers: Headers; body: string }[] = []
  let answer = 200
  const hook: FetchLike = async (url, init) => {
    deliveries.push({
      url,
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : '',
    })
    return new Response('', { status: answer })
  }
  const w = await world(t, { webhookUrl: WEBHOOK, fetch: hook })
  const token = await connect(w)
  w.clock.advance(5_000)
  const result = await w.emu.control.sendAuthorizationRemoved(1, 1)
  assert.deepEqual(result, { status: 200, delivered: true, pending: 0 })
  assert.equal((await api(w.fetch, 'GET', userInfoPath(), token.accessToken)).status, 401)

  const [delivery] = deliveries
  assert.ok(delivery)
  assert.equal(delivery.url, WEBHOOK)
  assert.equal(delivery.headers.get('content-type'), 'application/json')
  // the documented check: split on ",", then "=": t (seconds) and s (hex HMAC-SHA256 of
  // "<t>.<raw body>" under the client secret)
  const header = delivery.headers.get('tiktok-signature') ?? ''
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=') as [string, string]))
  assert.equal(parts.t, String(Math.floor(w.clock.now() / 1000)))
  const expected = createHmac('sha256', CLIENT_SECRET)
    .update(`${parts.t}.${delivery.body}`)
    .digest()
  assert.ok(timingSafeEqual(Buffer.from(parts.s ?? '', 'hex'), expected), 'signature verifies')
  const wrong = createHmac('sha256', 'another-secret')
    .update(`${parts.t}.${delivery.body}`)
    .digest('hex')
  assert.notEqual(parts.s, wrong)
  const event = JSON.parse(delivery.body) as Record<string, unknown>
  assert.deepEqual(event, {
    client_key: CLIENT_KEY,
    event: 'authorization.removed',
    create_time: Math.floor(w.clock.now() / 1000),
    user_openid: token.openId,
    content: '{"reason":1}',
  })

  // not a 200: pending, retried, and discarded after 72 hours
  answer = 500
  const failed = await w.emu.control.sendAuthorizationRemoved(3, 5)
  assert.deepEqual(failed, { status: 500, delivered: false, pending: 1 })
  answer = 200
  w.clock.advance(HOUR)
  assert.deepEqual(await w.emu.control.retryWebhooks(), { delivered: 1, pending: 0, discarded: 0 })
  const retried = deliveries.at(-1)
  assert.equal((JSON.parse(retried?.body ?? '{}') as { content?: string }).content, '{"reason":5}')
  assert.match(
    retried?.headers.get('tiktok-signature') ?? '',
    new RegExp(`^t=${Math.floor(w.clock.now() / 1000)},s=[0-9a-f]{64}$`),
  )
  answer = 503
  await w.emu.control.sendAuthorizationRemoved(2, 2)
  w.clock.advance(72 * HOUR)
  assert.deepEqual(await w.emu.control.retryWebhooks(), { delivered: 0, pending: 0, discarded: 1 })
  await assert.rejects(w.emu.control.sendAuthorizationRemoved(1, 9), ControlError)
})

test('authorization.removed without a webhook URL is refused', async (t) => {
  const w = await world(t)
  await assert.rejects(
    w.emu.control.sendAuthorizationRemoved(1),
    (e: unknown) => e instanceof ControlError && e.status === 409,
  )
})

// ---------------------------------------------------------------------------------------------
// sandbox and standalone control

test('sandbox: mounted under /sandbox/tiktok, endpoints derived from the mount, secrets from the seed', async (t) => {
  const clock = createManualClock(START)
  const make = (seed?: string) =>
    createTiktokSandbox({
      publicUrl: `${ORIGIN}/`,
      redirectUri: REDIRECT,
      clock,
      ...(seed ? { seed } : {}),
    })
  const emu = make('seed-1')
  const endpoints = sandboxTiktokEndpoints(emu)
  assert.deepEqual(endpoints, {
    clientKey: emu.state.settings.clientKey,
    clientSecret: emu.state.settings.clientSecret,
    authorizeUrl: `${BASE}/v2/auth/authorize/`,
    apiUrl: BASE,
  })
  assert.equal(sandboxTiktokEndpoints(make('seed-1')).clientSecret, endpoints.clientSecret)
  assert.notEqual(sandboxTiktokEndpoints(make('seed-2')).clientSecret, endpoints.clientSecret)
  assert.notEqual(
    sandboxTiktokEndpoints(make()).clientSecret,
    sandboxTiktokEndpoints(make()).clientSecret,
  )

  const app = Fastify()
  await app.register(emu.plugin, { prefix: TIKTOK_SANDBOX_PREFIX })
  t.after(() => app.close())
  const consentPage = await app.inject({
    method: 'GET',
    url: `${TIKTOK_SANDBOX_PREFIX}/v2/auth/authorize/?${new URLSearchParams({ ...authorizeParams(pkce().challenge), client_key: endpoints.clientKey })}`,
  })
  assert.equal(consentPage.statusCode, 200)
  const control = await app.inject({
    method: 'GET',
    url: `${TIKTOK_SANDBOX_PREFIX}/_control/state`,
  })
  assert.equal(control.statusCode, 404, 'no control API in the mounted sandbox')
})

test('standalone control API: gated, JSON, a thin layer over the control', async (t) => {
  const clock = createManualClock(START)
  const emu = createTiktokEmulator({
    clock,
    baseUrl: () => 'http://localhost:8083',
    redirectUris: [REDIRECT],
  })
  const token = randomBytes(32).toString('base64url')
  const app = Fastify()
  await app.register(standaloneTiktokEmulator(emu, { token }))
  t.after(() => app.close())
  const headers = { host: 'localhost:8083', authorization: `Bearer ${token}`, ...JSON_TYPE }
  const denied = await app.inject({
    method: 'GET',
    url: '/_control/state',
    headers: { host: 'localhost:8083' },
  })
  assert.equal(denied.statusCode, 401)
  const foreign = await app.inject({
    method: 'GET',
    url: '/_control/state',
    headers: { ...headers, host: 'evil.example' },
  })
  assert.equal(foreign.statusCode, 421)
  const added = await app.inject({
    method: 'POST',
    url: '/_control/accounts/1/videos',
    headers,
    payload: JSON.stringify({ title: 'Via HTTP' }),
  })
  assert.equal(added.statusCode, 201)
  const id = added.json<{ id: string }>().id
  const hidden = await app.inject({
    method: 'POST',
    url: `/_control/videos/${id}/private`,
    headers,
  })
  assert.equal(hidden.statusCode, 200)
  const state = await app.inject({ method: 'GET', url: '/_control/state', headers })
  assert.deepEqual(
    [state.json<{ accounts: { privateVideos: number }[] }>().accounts[0]?.privateVideos],
    [2],
  )
  const bad = await app.inject({
    method: 'POST',
    url: '/_control/faults',
    headers,
    payload: '{"kind":"x"}',
  })
  assert.equal(bad.statusCode, 400)
  const tiktokFacing = await app.inject({
    method: 'POST',
    url: '/v2/oauth/token/',
    headers: { ...FORM, host: 'localhost:8083' },
    payload: '',
  })
  assert.equal(tiktokFacing.statusCode, 400, 'the TikTok-facing routes are at the root')
})
