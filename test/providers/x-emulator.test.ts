/**
 * The X emulator is a model of X's OAuth 2.0 with PKCE and the API v2 read side: these tests pin
 * the behaviours the app relies on, read through the app's own parsers (`providers/x/parse.ts`).
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import type { ManualClock } from '../../src/clock.ts'
import { createInjectFetch } from '../../src/providers/emulator-core/inject-fetch.ts'
import type { FetchLike } from '../../src/providers/types.ts'
import { X_SCOPES } from '../../src/providers/x/config.ts'
import {
  X_CLIENT_NOT_ENROLLED_MESSAGE,
  X_CREDITS_DEPLETED_MESSAGE,
  X_USAGE_CAPPED_MESSAGE,
  classifyXFailure,
  parseXTimeline,
  parseXToken,
  parseXUser,
  readXRateLimit,
  xBillingFailure,
  xPostToMedia,
  xThrottledBy,
  type UrlPolicy,
  type XEndpoint,
  type XToken,
} from '../../src/providers/x/parse.ts'
import {
  createXEmulator,
  type XEmulator,
  type XEmulatorOptions,
} from '../../src/providers/x/emulator/index.ts'
import { standaloneXEmulator } from '../../src/providers/x/emulator/control.ts'
import { ControlError } from '../../src/providers/x/emulator/bounds.ts'
import {
  X_SANDBOX_PREFIX,
  createXSandbox,
  sandboxXEndpoints,
} from '../../src/providers/x/sandbox.ts'
import type { MediaInput } from '../../src/store/types.ts'

const ORIGIN = 'http://localhost:8080'
const BASE = `${ORIGIN}${X_SANDBOX_PREFIX}`
const API = BASE
const REDIRECT = `${ORIGIN}/api/socials/oauth/x/callback`
const CLIENT_ID = 'dGVzdC14LWNsaWVudDoxOmNp'
const CLIENT_SECRET = 'test-x-secret'
const URLS: UrlPolicy = { extraOrigins: [ORIGIN] }
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
/** Sunday 10 May 2026, 12:00 UTC. */
const START = Date.UTC(2026, 4, 10, 12)
const TIMELINE_QUERY =
  'max_results=100&exclude=replies,retweets&expansions=attachments.media_keys&media.fields=type,url,preview_image_url,variants,width,height,duration_ms,alt_text&tweet.fields=created_at,attachments'

/** A clock that moves only when told (a `ManualClock` follows real time between moves). */
function createManualClock(start: number): ManualClock {
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

interface World {
  app: FastifyInstance
  emu: XEmulator
  clock: ManualClock
  fetch: FetchLike
}

async function world(t: TestContext, options: Partial<XEmulatorOptions> = {}): Promise<World> {
  const clock = createManualClock(START)
  const emu = createXEmulator({
    clock,
    baseUrl: () => BASE,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUris: [REDIRECT],
    signingSecret: 'test-signing-secret',
    ...options,
  })
  const app = Fastify()
  await app.register(emu.plugin, { prefix: X_SANDBOX_PREFIX })
  t.after(() => app.close())
  return { app, emu, clock, fetch: createInjectFetch(app, ORIGIN) }
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

function authorizeParams(
  challenge: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
    scope: X_SCOPES.join(' '),
    state: 'st-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  }
}

/** Posts the consent form; returns the redirect. */
async function consent(
  app: FastifyInstance,
  challenge: string,
  options: { account?: number; decision?: string; extra?: Record<string, string> } = {},
): Promise<URL> {
  const form = new URLSearchParams(authorizeParams(challenge, options.extra))
  form.set('account', String(options.account ?? 1))
  form.set('decision', options.decision ?? 'allow')
  const response = await app.inject({
    method: 'POST',
    url: `${X_SANDBOX_PREFIX}/i/oauth2/authorize`,
    headers: FORM,
    payload: form.toString(),
  })
  assert.equal(response.statusCode, 302, response.body)
  return new URL(String(response.headers.location))
}

const basic = (id = CLIENT_ID, secret = CLIENT_SECRET): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

function tokenRequest(
  app: FastifyInstance,
  fields: Record<string, string>,
  authorization: string | null = basic(),
) {
  return app.inject({
    method: 'POST',
    url: `${X_SANDBOX_PREFIX}/2/oauth2/token`,
    headers: { ...FORM, ...(authorization === null ? {} : { authorization }) },
    payload: new URLSearchParams(fields).toString(),
  })
}

function exchange(
  app: FastifyInstance,
  code: string,
  verifier: string,
  overrides: Record<string, string> = {},
  authorization: string | null = basic(),
) {
  return tokenRequest(
    app,
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      ...overrides,
    },
    authorization,
  )
}

/** Consent and code exchange: the parsed tokens. */
async function connect(w: World, account = 1, extra: Record<string, string> = {}): Promise<XToken> {
  const { verifier, challenge } = pkce()
  const redirect = await consent(w.app, challenge, { account, extra })
  const response = await exchange(w.app, redirect.searchParams.get('code') ?? '', verifier)
  assert.equal(response.statusCode, 200, response.body)
  return parseXToken(response.json(), 'code exchange')
}

function refresh(app: FastifyInstance, token: string) {
  return tokenRequest(app, { grant_type: 'refresh_token', refresh_token: token })
}

/** The failed answer classified by the app's parser. */
function classified(
  response: { statusCode: number; json: () => unknown; headers: Record<string, unknown> },
  endpoint: XEndpoint,
  now: number,
) {
  const headers = new Headers()
  for (const [k, v] of Object.entries(response.headers))
    if (typeof v === 'string') headers.set(k, v)
  return classifyXFailure(
    response.statusCode,
    response.json(),
    endpoint,
    now,
    readXRateLimit(headers),
  )
}

async function get(w: World, path: string, accessToken: string): Promise<Response> {
  return w.fetch(`${API}${path}`, { headers: { authorization: `Bearer ${accessToken}` } })
}

async function me(w: World, accessToken: string): Promise<Response> {
  return get(w, '/2/users/me?user.fields=profile_image_url,public_metrics', accessToken)
}

/** Every page of a timeline: the parsed pages. */
async function allPages(w: World, userId: string, accessToken: string, query = TIMELINE_QUERY) {
  const pages = []
  let token: string | null = null
  do {
    const response = await get(
      w,
      `/2/users/${userId}/tweets?${query}${token === null ? '' : `&pagination_token=${token}`}`,
      accessToken,
    )
    assert.equal(response.status, 200, await response.clone().text())
    const page = parseXTimeline(await response.json(), URLS)
    pages.push(page)
    token = page.nextToken
    assert.ok(pages.length < 100, 'paging ends')
  } while (token !== null)
  return pages
}

// ---------------------------------------------------------------------------------------------
// consent

test('consent page: the demo accounts, Authorize and Cancel; PKCE, state and the exact redirect are required', async (t) => {
  const w = await world(t)
  const { challenge } = pkce()
  const page = await w.app.inject({
    url: `${X_SANDBOX_PREFIX}/i/oauth2/authorize?${new URLSearchParams(authorizeParams(challenge))}`,
  })
  assert.equal(page.statusCode, 200)
  assert.match(String(page.headers['content-type']), /text\/html/)
  assert.match(page.body, /@ada_demo/)
  assert.match(page.body, /@grace_demo/)
  assert.match(page.body, /id="allow"/)
  assert.match(page.body, /id="cancel"/)
  for (const [name, value] of [
    ['code_challenge', ''],
    ['code_challenge_method', 'md5'],
    ['state', ''],
    ['redirect_uri', `${REDIRECT}/other`],
    ['client_id', 'someone-else'],
    ['scope', 'tweet.read nonsense'],
    ['state', 's'.repeat(501)],
  ] as const) {
    const params = authorizeParams(challenge, { [name]: value })
    if (value === '') delete params[name]
    const refused = await w.app.inject({
      url: `${X_SANDBOX_PREFIX}/i/oauth2/authorize?${new URLSearchParams(params)}`,
    })
    assert.equal(refused.statusCode, 400, `${name}=${value}`)
    assert.equal(refused.headers.location, undefined, 'never a redirect')
  }
  // node-twitter-api-v2 sends lower-case s256, which X accepts
  const lower = await w.app.inject({
    url: `${X_SANDBOX_PREFIX}/i/oauth2/authorize?${new URLSearchParams(authorizeParams(challenge, { code_challenge_method: 's256' }))}`,
  })
  assert.equal(lower.statusCode, 200)
})

test('Cancel answers error=access_denied with the state', async (t) => {
  const w = await world(t)
  const redirect = await consent(w.app, pkce().challenge, { decision: 'cancel' })
  assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT)
  assert.equal(redirect.searchParams.get('error'), 'access_denied')
  assert.equal(redirect.searchParams.get('state'), 'st-123')
  assert.equal(redirect.searchParams.get('code'), null)
})

// ---------------------------------------------------------------------------------------------
// code exchange

test('code exchange (Basic): a bearer token for 2 hours, a refresh token with offline.access, the scopes', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  assert.equal(token.expiresInSeconds, 7200)
  assert.ok(token.refreshToken !== null)
  assert.deepEqual(token.scopes, ['tweet.read', 'users.read', 'offline.access'])
  const user = parseXUser(await (await me(w, token.accessToken)).json(), URLS)
  assert.equal(user.username, 'ada_demo')
  assert.equal(user.postCount, 130)
  assert.ok(user.avatarUrl?.startsWith(`${BASE}/pbs/profile_images/`))
  const avatar = await w.fetch(user.avatarUrl ?? '')
  assert.equal(avatar.status, 200)
  assert.match(avatar.headers.get('content-type') ?? '', /^image\/jpeg/)
  // without offline.access: no refresh token
  const online = await connect(w, 2, { scope: 'tweet.read users.read' })
  assert.equal(online.refreshToken, null)
})

test('a confidential client must use HTTP Basic; without it, or with a wrong secret, unauthorized_client', async (t) => {
  const w = await world(t)
  for (const authorization of [null, basic(CLIENT_ID, 'wrong'), basic('other', CLIENT_SECRET)]) {
    const { verifier, challenge } = pkce()
    const code = (await consent(w.app, challenge)).searchParams.get('code') ?? ''
    const response = await exchange(
      w.app,
      code,
      verifier,
      { client_id: CLIENT_ID, client_secret: CLIENT_SECRET },
      authorization,
    )
    assert.equal(response.statusCode, 401, String(authorization))
    assert.deepEqual(response.json(), {
      error: 'unauthorized_client',
      error_description: 'Missing valid authorization header',
    })
    const error = classified(response, 'code exchange', w.clock.now())
    assert.equal(error.code, 'ERR_PROVIDER_RESPONSE')
    assert.match(error.message, /X_CLIENT_SECRET/)
  }
})

test('a public client sends client_id in the body, with no secret', async (t) => {
  const w = await world(t, { clientType: 'public' })
  const { verifier, challenge } = pkce()
  const code = (await consent(w.app, challenge)).searchParams.get('code') ?? ''
  const missing = await exchange(w.app, code, verifier, {}, null)
  assert.equal(missing.statusCode, 400)
  assert.equal(missing.json<{ error: string }>().error, 'invalid_request')
  const ok = await exchange(w.app, code, verifier, { client_id: CLIENT_ID }, null)
  assert.equal(ok.statusCode, 200, ok.body)
  const token = parseXToken(ok.json(), 'code exchange')
  const renewed = await tokenRequest(
    w.app,
    { grant_type: 'refresh_token', refresh_token: token.refreshToken ?? '', client_id: CLIENT_ID },
    null,
  )
  assert.equal(renewed.statusCode, 200, renewed.body)
})

test('a code works once: reuse is refused and revokes what the first exchange issued', async (t) => {
  const w = await world(t)
  const { verifier, challenge } = pkce()
  const code = (await consent(w.app, challenge)).searchParams.get('code') ?? ''
  const first = await exchange(w.app, code, verifier)
  assert.equal(first.statusCode, 200)
  const token = parseXToken(first.json(), 'code exchange')
  const again = await exchange(w.app, code, verifier)
  assert.equal(again.statusCode, 400)
  assert.deepEqual(again.json(), {
    error: 'invalid_request',
    error_description: 'Value passed for the authorization code was invalid.',
  })
  assert.equal(classified(again, 'code exchange', w.clock.now()).code, 'ERR_REAUTH_REQUIRED')
  assert.equal((await me(w, token.accessToken)).status, 401)
})

test('a code lives 30 seconds', async (t) => {
  const w = await world(t)
  const early = pkce()
  const earlyCode = (await consent(w.app, early.challenge)).searchParams.get('code') ?? ''
  w.clock.advance(29_999)
  assert.equal((await exchange(w.app, earlyCode, early.verifier)).statusCode, 200)
  const late = pkce()
  const lateCode = (await consent(w.app, late.challenge)).searchParams.get('code') ?? ''
  w.clock.advance(30_000)
  const expired = await exchange(w.app, lateCode, late.verifier)
  assert.equal(expired.statusCode, 400)
  assert.match(expired.body, /authorization code was invalid/)
  assert.equal(classified(expired, 'code exchange', w.clock.now()).code, 'ERR_REAUTH_REQUIRED')
})

test('PKCE is verified: a wrong or missing verifier, and a different redirect_uri, are refused', async (t) => {
  const w = await world(t)
  const { verifier, challenge } = pkce()
  const code = (await consent(w.app, challenge)).searchParams.get('code') ?? ''
  const wrong = await exchange(w.app, code, pkce().verifier)
  assert.equal(wrong.statusCode, 400)
  assert.equal(wrong.json<{ error: string }>().error, 'invalid_request')
  const none = await tokenRequest(w.app, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
  })
  assert.equal(none.statusCode, 400)
  const elsewhere = await exchange(w.app, code, verifier, { redirect_uri: `${REDIRECT}x` })
  assert.equal(elsewhere.statusCode, 400)
  // the code was not spent by the refusals
  assert.equal((await exchange(w.app, code, verifier)).statusCode, 200)
})

// ---------------------------------------------------------------------------------------------
// refresh and revoke

test('refresh tokens rotate: each refresh answers a new one and the old one is refused at once', async (t) => {
  const w = await world(t)
  const first = await connect(w)
  const renewed = await refresh(w.app, first.refreshToken ?? '')
  assert.equal(renewed.statusCode, 200, renewed.body)
  const second = parseXToken(renewed.json(), 'token refresh')
  assert.ok(second.refreshToken !== null)
  assert.notEqual(second.refreshToken, first.refreshToken)
  assert.equal((await me(w, second.accessToken)).status, 200)
  const reused = await refresh(w.app, first.refreshToken ?? '')
  assert.equal(reused.statusCode, 400)
  assert.deepEqual(reused.json(), {
    error: 'invalid_request',
    error_description: 'Value passed for the token was invalid.',
  })
  assert.equal(classified(reused, 'token refresh', w.clock.now()).code, 'ERR_REAUTH_REQUIRED')
  // the newest still works, once
  const third = await refresh(w.app, second.refreshToken ?? '')
  assert.equal(third.statusCode, 200)
  assert.equal((await refresh(w.app, second.refreshToken ?? '')).statusCode, 400)
})

test('access tokens last 2 hours; expired ones answer 401, which the parser reads as reconnect', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  w.clock.advance(2 * 3_600_000 - 1)
  assert.equal((await me(w, token.accessToken)).status, 200)
  w.clock.advance(1)
  const expired = await me(w, token.accessToken)
  assert.equal(expired.status, 401)
  const body: unknown = await expired.json()
  assert.deepEqual(body, {
    title: 'Unauthorized',
    type: 'about:blank',
    status: 401,
    detail: 'Unauthorized',
  })
  assert.match(expired.headers.get('content-type') ?? '', /application\/problem\+json/)
  assert.equal(classifyXFailure(401, body, 'users/me', w.clock.now()).code, 'ERR_REAUTH_REQUIRED')
  // a refresh brings it back
  assert.equal((await refresh(w.app, token.refreshToken ?? '')).statusCode, 200)
})

test('revoke ends the grant: its access and refresh tokens stop working', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const revoked = await w.app.inject({
    method: 'POST',
    url: `${X_SANDBOX_PREFIX}/2/oauth2/revoke`,
    headers: { ...FORM, authorization: basic() },
    payload: new URLSearchParams({
      token: token.refreshToken ?? '',
      token_type_hint: 'refresh_token',
    }).toString(),
  })
  assert.equal(revoked.statusCode, 200)
  assert.equal((await me(w, token.accessToken)).status, 401)
  assert.equal((await refresh(w.app, token.refreshToken ?? '')).statusCode, 400)
  // control: revoking an account ends its grants too
  const other = await connect(w, 2)
  w.emu.control.revokeAccount(2)
  assert.equal((await me(w, other.accessToken)).status, 401)
})

// ---------------------------------------------------------------------------------------------
// timeline

test('paging reads every post with media; replies and reposts are excluded; media map to the store', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const user = parseXUser(await (await me(w, token.accessToken)).json(), URLS)
  const pages = await allPages(w, user.id, token.accessToken)
  assert.equal(pages.length, 2, 'more than one page of 100')
  assert.equal(pages[0]?.posts.length, 100)
  const posts = pages.flatMap((p) => p.posts)
  const account = w.emu.state.accountById(user.id)
  assert.ok(account !== undefined)
  const expected = account.posts.filter((p) => !p.reply && !p.retweet)
  assert.deepEqual(
    posts.map((p) => p.id),
    expected.map((p) => p.id),
    'newest first, none missing',
  )
  assert.ok(!posts.some((p) => /reply|RT @/.test(p.text)), 'no reply or repost')
  const items = pages.flatMap((page) =>
    page.posts
      .map((p) => xPostToMedia(p, page.media, user.username))
      .filter((m): m is MediaInput => m !== null),
  )
  assert.equal(items.length, expected.filter((p) => p.media.length > 0).length)
  const types = new Set(items.map((m) => `${m.media_type}:${m.media_product_type ?? ''}`))
  assert.deepEqual([...types].sort(), ['CAROUSEL_ALBUM:', 'IMAGE:', 'VIDEO:', 'VIDEO:ANIMATED_GIF'])
  const video = items.find((m) => m.media_type === 'VIDEO' && m.media_product_type === null)
  assert.ok(video?.media_url?.endsWith('/2176000.mp4'), 'the highest bit rate of the MP4 variants')
  assert.ok((video?.duration_seconds ?? 0) > 0)
  const album = items.find((m) => m.media_type === 'CAROUSEL_ALBUM')
  assert.ok((album?.children.length ?? 0) >= 2)
  assert.equal(album?.permalink, `https://x.com/ada_demo/status/${album?.platform_media_id}`)
  // the CDN serves what the listing links
  for (const url of [album?.children[0]?.media_url, video?.media_url, video?.thumbnail_url]) {
    const response = await w.fetch(url ?? '')
    assert.equal(response.status, 200, url ?? '')
  }
  // without exclude, replies and reposts are listed too
  const everything = await allPages(
    w,
    user.id,
    token.accessToken,
    TIMELINE_QUERY.replace('&exclude=replies,retweets', ''),
  )
  assert.equal(everything.flatMap((p) => p.posts).length, 130)
  // X bills the posts returned: the usage counter saw them all
  assert.equal(w.emu.control.usage().postsRead, 104 + 130)
})

test('since_id lists only newer posts; a new post comes first', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const user = parseXUser(await (await me(w, token.accessToken)).json(), URLS)
  const [first] = await allPages(w, user.id, token.accessToken)
  const newest = first?.newestId ?? ''
  const none = parseXTimeline(
    await (
      await get(
        w,
        `/2/users/${user.id}/tweets?${TIMELINE_QUERY}&since_id=${newest}`,
        token.accessToken,
      )
    ).json(),
  )
  assert.equal(none.posts.length, 0)
  assert.equal(none.resultCount, 0)
  w.clock.advance(60_000)
  const added = w.emu.control.addPost(1, { text: 'fresh', media: ['photo', 'photo'] })
  const page = parseXTimeline(
    await (
      await get(
        w,
        `/2/users/${user.id}/tweets?${TIMELINE_QUERY}&since_id=${newest}`,
        token.accessToken,
      )
    ).json(),
    URLS,
  )
  assert.deepEqual(
    page.posts.map((p) => p.id),
    [added.id],
  )
  assert.deepEqual([...page.media.keys()], added.mediaKeys)
  assert.equal(
    xPostToMedia(page.posts[0]!, page.media, user.username)?.media_type,
    'CAROUSEL_ALBUM',
  )
  // a removed post vanishes
  w.emu.control.removePost(added.id)
  const after = parseXTimeline(
    await (
      await get(
        w,
        `/2/users/${user.id}/tweets?${TIMELINE_QUERY}&since_id=${newest}`,
        token.accessToken,
      )
    ).json(),
  )
  assert.equal(after.posts.length, 0)
})

test('only the newest 3,200 posts are reachable', async (t) => {
  const w = await world(t)
  const account = w.emu.control.addAccount({
    name: 'Prolific',
    username: 'prolific',
    post_count: 3_250,
  })
  const token = await connect(w, account.index)
  const pages = await allPages(
    w,
    account.id,
    token.accessToken,
    TIMELINE_QUERY.replace('&exclude=replies,retweets', ''),
  )
  const posts = pages.flatMap((p) => p.posts)
  assert.equal(posts.length, 3_200)
  const stored = w.emu.state.accountById(account.id)?.posts ?? []
  assert.equal(posts.at(-1)?.id, stored[3_199]?.id)
  assert.ok(!posts.some((p) => p.id === stored[3_200]?.id), 'older posts are out of reach')
})

test('rate-limit headers on every answer; a spent 15-minute window answers 429 until its reset', async (t) => {
  const w = await world(t, { rateLimits: { me: 3 } })
  const token = await connect(w)
  for (let i = 0; i < 3; i++) {
    const response = await me(w, token.accessToken)
    assert.equal(response.status, 200)
    const rate = readXRateLimit(response.headers)
    assert.deepEqual(rate, {
      limit: 3,
      remaining: 2 - i,
      resetAt: Math.ceil((START + 900_000) / 1000) * 1000,
    })
  }
  w.clock.advance(60_000)
  const limited = await me(w, token.accessToken)
  assert.equal(limited.status, 429)
  const rate = readXRateLimit(limited.headers)
  assert.equal(rate?.remaining, 0)
  const body: unknown = await limited.json()
  assert.equal(xThrottledBy(429, body), 'account')
  const error = classifyXFailure(429, body, 'users/me', w.clock.now(), rate)
  assert.equal(error.code, 'ERR_RATE_LIMITED')
  assert.equal(error.retryAfterSeconds, 840, 'until x-rate-limit-reset')
  w.clock.advance(840_000)
  assert.equal((await me(w, token.accessToken)).status, 200)
  // a timeline call carries its own window's headers
  const timeline = await get(
    w,
    `/2/users/1500000000000000001/tweets?${TIMELINE_QUERY}`,
    token.accessToken,
  )
  assert.equal(readXRateLimit(timeline.headers)?.limit, 900)
})

test('billing: the monthly usage cap answers 429 UsageCapExceeded, spent credits 402, both app-wide', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const path = `/2/users/1500000000000000001/tweets?${TIMELINE_QUERY}`
  w.emu.control.setUsage({ monthly_cap: 100 })
  assert.equal((await get(w, path, token.accessToken)).status, 200)
  const capped = await get(w, path, token.accessToken)
  assert.equal(capped.status, 429)
  const cappedBody: unknown = await capped.json()
  assert.equal(xBillingFailure(429, cappedBody), 'usage_capped')
  assert.equal(xThrottledBy(429, cappedBody), 'app')
  assert.equal(
    classifyXFailure(429, cappedBody, 'timeline', w.clock.now()).message,
    X_USAGE_CAPPED_MESSAGE,
  )
  // a new month starts from zero
  w.clock.set(Date.UTC(2026, 5, 1, 0, 0, 1))
  assert.equal(w.emu.control.usage().postsRead, 0)
  w.emu.control.setUsage({ monthly_cap: 3_000_000, credits_usd: 0.5 })
  const fresh = await connect(w)
  assert.equal((await get(w, path, fresh.accessToken)).status, 200, '100 posts: $0.50')
  assert.equal(w.emu.control.usage().creditsUsd, 0)
  const broke = await get(w, path, fresh.accessToken)
  assert.equal(broke.status, 402)
  const brokeBody: unknown = await broke.json()
  assert.deepEqual(brokeBody, {
    title: 'Payment Required',
    detail: 'credits depleted',
    type: 'https://api.x.com/2/problems/credits-depleted',
  })
  assert.equal(xThrottledBy(402, brokeBody), 'app')
  assert.equal(
    classifyXFailure(402, brokeBody, 'timeline', w.clock.now()).message,
    X_CREDITS_DEPLETED_MESSAGE,
  )
  assert.equal((await me(w, fresh.accessToken)).status, 402, 'user reads are billed too')
})

test('faults: usage-capped, credits-depleted, client-not-enrolled, 5xx, dropped, in X shapes', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  const cases = [
    ['usage_capped', 429, 'ERR_RATE_LIMITED', X_USAGE_CAPPED_MESSAGE],
    ['credits_depleted', 402, 'ERR_RATE_LIMITED', X_CREDITS_DEPLETED_MESSAGE],
    ['client_not_enrolled', 403, 'ERR_PROVIDER_RESPONSE', X_CLIENT_NOT_ENROLLED_MESSAGE],
  ] as const
  for (const [kind, status, code, message] of cases) {
    w.emu.control.addFault({ kind, path: '/2/users/me' })
    const response = await me(w, token.accessToken)
    assert.equal(response.status, status, kind)
    const error = classifyXFailure(status, await response.json(), 'users/me', w.clock.now())
    assert.equal(error.code, code, kind)
    assert.equal(error.message, message, kind)
  }
  w.emu.control.addFault({ kind: 'http_5xx', status: 502, count: 2 })
  const down = await me(w, token.accessToken)
  assert.equal(down.status, 502)
  assert.equal(
    classifyXFailure(502, await down.json(), 'users/me', w.clock.now()).code,
    'ERR_PROVIDER_UNAVAILABLE',
  )
  const downToken = await refresh(w.app, token.refreshToken ?? '')
  assert.equal(downToken.statusCode, 502, 'the second counts down on the token endpoint')
  w.emu.control.addFault({ kind: 'rate_limit', path: '/tweets' })
  const limited = await get(
    w,
    `/2/users/1500000000000000001/tweets?${TIMELINE_QUERY}`,
    token.accessToken,
  )
  assert.equal(limited.status, 429)
  assert.equal(readXRateLimit(limited.headers)?.remaining, 0)
  w.emu.control.addFault({ kind: 'drop' })
  await assert.rejects(me(w, token.accessToken))
  assert.equal((await me(w, token.accessToken)).status, 200, 'faults are used up')
  assert.throws(() => w.emu.control.addFault({ kind: 'meteor' }), ControlError)
})

test('invalid parameters answer 400 invalid-request; an unknown user answers errors[]', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  for (const query of [
    'max_results=1000',
    'max_results=4',
    'exclude=likes',
    'since_id=abc',
    'pagination_token=%2F%2F',
    'media.fields=colour',
  ]) {
    const response = await get(w, `/2/users/1500000000000000001/tweets?${query}`, token.accessToken)
    assert.equal(response.status, 400, query)
    const body = (await response.json()) as { type: string; errors: unknown[] }
    assert.equal(body.type, 'https://api.twitter.com/2/problems/invalid-request')
    assert.equal(
      classifyXFailure(400, body, 'timeline', w.clock.now()).code,
      'ERR_PROVIDER_RESPONSE',
    )
  }
  const unknown = await get(
    w,
    `/2/users/1790000000000000404/tweets?${TIMELINE_QUERY}`,
    token.accessToken,
  )
  assert.equal(unknown.status, 404)
  assert.match(
    classifyXFailure(404, await unknown.json(), 'timeline', w.clock.now()).message,
    /Could not find user/,
  )
  // post.fields is accepted like tweet.fields
  const postFields = await get(
    w,
    `/2/users/1500000000000000001/tweets?max_results=5&post.fields=created_at`,
    token.accessToken,
  )
  assert.equal(parseXTimeline(await postFields.json()).posts.length, 5)
})

test('the call log keeps paths without query strings and counts the posts read', async (t) => {
  const w = await world(t)
  const token = await connect(w)
  await get(w, `/2/users/1500000000000000001/tweets?${TIMELINE_QUERY}`, token.accessToken)
  const calls = w.emu.control.calls()
  assert.ok(calls.every((c) => !c.path.includes('?')))
  assert.ok(!JSON.stringify(calls).includes(token.accessToken))
  const timeline = calls.find((c) => c.path.endsWith('/tweets'))
  assert.equal(timeline?.postsRead, 100)
  assert.equal(timeline?.accountIndex, 1)
  assert.equal(timeline?.status, 200)
})

// ---------------------------------------------------------------------------------------------
// sandbox and the standalone control API

test('sandbox: endpoints under /sandbox/x, seeded secrets stable across restarts, no control API', async (t) => {
  const clock = createManualClock(START)
  const options = { publicUrl: `${ORIGIN}/`, redirectUri: REDIRECT, clock, seed: 'persistent-seed' }
  const a = createXSandbox(options)
  const b = createXSandbox(options)
  const endpoints = sandboxXEndpoints(a)
  assert.deepEqual(endpoints, {
    clientId: a.state.settings.clientId,
    clientSecret: b.state.settings.clientSecret,
    authorizeUrl: `${BASE}/i/oauth2/authorize`,
    apiUrl: BASE,
  })
  assert.equal(a.state.settings.signingSecret, b.state.settings.signingSecret)
  assert.notEqual(
    createXSandbox({ ...options, seed: 'other' }).state.settings.clientSecret,
    endpoints.clientSecret,
  )
  const app = Fastify()
  await app.register(a.plugin, { prefix: X_SANDBOX_PREFIX })
  t.after(() => app.close())
  assert.equal((await app.inject({ url: `${X_SANDBOX_PREFIX}/_control/state` })).statusCode, 404)
})

test('standalone control API: gated by the control token, a thin layer over control', async (t) => {
  const clock = createManualClock(START)
  const emu = createXEmulator({
    clock,
    baseUrl: () => 'http://localhost:8083',
    redirectUris: [REDIRECT],
  })
  const token = 'x'.repeat(40)
  const app = Fastify()
  await app.register(standaloneXEmulator(emu, { token }))
  t.after(() => app.close())
  const headers = { host: 'localhost:8083' }
  assert.equal((await app.inject({ url: '/_control/state', headers })).statusCode, 401)
  const state = await app.inject({
    url: '/_control/state',
    headers: { ...headers, authorization: `Bearer ${token}` },
  })
  assert.equal(state.statusCode, 200)
  assert.equal(state.json<{ accounts: unknown[] }>().accounts.length, 2)
  const added = await app.inject({
    method: 'POST',
    url: '/_control/accounts/2/posts',
    headers: { ...headers, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ media: ['video'] }),
  })
  assert.equal(added.statusCode, 201, added.body)
  assert.equal(emu.state.accountByIndex(2)?.posts[0]?.id, added.json<{ id: string }>().id)
  assert.equal((await app.inject({ url: '/2/users/me' })).statusCode, 401, 'X routes at the root')
})
