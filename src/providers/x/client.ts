/**
 * @module providers/x/client — talks to X's OAuth 2.0 endpoints and the X API v2 (read side) for
 * one unit of work.
 *
 * Sending and interpreting are separate: this file builds requests and decides what to call; the
 * pure parsers of `parse.ts` read the answers, and `classifyXFailure` maps X's errors. Every
 * request goes through the shared sender (`providers/http/send.ts`): it asks the budget first
 * (each call kind's cost in post reads is declared in `capabilities.ts`), never follows redirects
 * and reports every call.
 *
 * - Connect: authorization code with PKCE S256 (mandatory at X), scopes space-joined. The code
 *   lives 30 seconds: the service exchanges it at once. A confidential client (a secret
 *   configured: "Web App, Automated App or Bot") authenticates with HTTP Basic and sends no secret
 *   in the body; a public client ("Native App") sends `client_id` in the body.
 * - Credentials: two-hour access tokens. With `offline.access` X issues a refresh token, which is
 *   single-use: each refresh answers a new one and the one sent dies at once, so its issue time is
 *   each refresh's. X gives it no lifetime (`null`). A token answer without one (offline.access
 *   not granted) cannot be kept alive: the connection is refused (and the access token revoked).
 * - Identity: `/2/users/me`. X's post count includes text posts and posts beyond the timeline's
 *   3,200-post window, so it is no count to compare stored media with (`mediaCount: null`).
 * - Media: `/2/users/:id/tweets`, 100 posts a page, without replies and reposts; only posts with
 *   media are items (`xPostToMedia`). The user id comes from the identity this client last read
 *   (the sync reads it first), else from `/2/users/me`. The cursor holds the user id and X's
 *   `next_token`, never a token. Every page is charged in full (`skippedStored` is always 0:
 *   leaving stored posts out would save nothing). A routine run sends `since_id` (the newest
 *   stored post, `ListOptions.newestStored`): only newer posts come back.
 * - Usage: X's `x-rate-limit-*` headers (`xUsage`), except on billing failures (usage cap, credits
 *   spent): their pause is the classification's (until the month resets, or a day), and must not
 *   be shortened by the rate-limit window of the same answer — the rate governor prefers
 *   `usage.regainMinutes` to `retryAfterSeconds`, so such an answer reports no usage at all.
 *
 * No URL, token, code or secret goes into an error message (`safeXText` in `parse.ts`).
 *
 * @see shared/reference/providers.md §3
 */
import { GalleryError } from '../../errors.ts'
import {
  createSender,
  type AnswerReader,
  type CallReport,
  type PlatformUsage,
} from '../http/send.ts'
import type {
  ConnectedIdentity,
  Credentials,
  FetchLike,
  IdentityLookup,
  ProviderClient,
  ProviderMediaPage,
} from '../types.ts'
import type { MediaInput } from '../../store/types.ts'
import { X_CALLS, X_CAPABILITIES, X_PAGE_SIZE } from './capabilities.ts'
import { X_ME_PATH, X_REVOKE_PATH, X_TOKEN_PATH, xTimelinePath, type XConfig } from './config.ts'
import {
  NO_X_USAGE,
  classifyXFailure,
  missingXScopes,
  parseXError,
  parseXTimeline,
  parseXToken,
  parseXUser,
  readXRateLimit,
  xBillingFailure,
  xPostToMedia,
  xThrottledBy,
  xUsage,
  type UrlPolicy,
  type XEndpoint,
  type XRateLimit,
  type XToken,
  type XUser,
} from './parse.ts'
import { xInfo } from './platform.ts'

/** What one HTTP call to X reported (status 0: no answer). */
export type XCallInfo = CallReport<PlatformUsage>

/** `user.fields` of `/2/users/me`. */
export const X_USER_FIELDS = 'profile_image_url,public_metrics'
/** `media.fields` of a timeline call: what `xPostToMedia` reads. */
export const X_MEDIA_FIELDS =
  'media_key,type,url,preview_image_url,variants,duration_ms,width,height,alt_text'
/** `tweet.fields` of a timeline call. */
export const X_TWEET_FIELDS = 'created_at,attachments'

/** The call kinds of `X_CALLS` as the parser's messages name them (the token call: per sender). */
const MESSAGE_ENDPOINT: Readonly<Record<string, XEndpoint>> = {
  [X_CALLS.me]: 'users/me',
  [X_CALLS.timeline]: 'timeline',
  [X_CALLS.revoke]: 'revoke',
}

/**
 * How X's answers are read (the shared sender calls these); `now` dates a reset, `tokenCall`
 * names the token endpoint's call in messages (a code exchange and a refresh fail differently).
 */
export function xAnswers(
  now: () => number,
  tokenCall: 'code exchange' | 'token refresh' = 'code exchange',
): AnswerReader<PlatformUsage> {
  /** The rate-limit headers behind each usage read, for the classification of a 429. */
  const rates = new WeakMap<PlatformUsage, XRateLimit>()
  return {
    label: 'X',
    parseBody: (text) => (text === '' ? null : (JSON.parse(text) as unknown)),
    readUsage(headers) {
      const usage = xUsage(headers, now())
      const rate = readXRateLimit(headers)
      // `xUsage` answers a fresh object whenever the headers are there
      if (rate !== null && usage !== NO_X_USAGE) rates.set(usage, rate)
      return usage
    },
    noUsage: NO_X_USAGE,
    // X's v2 problems carry no numeric code of their own; their `status` is logged
    errorCode: (body) => parseXError(body)?.status ?? null,
    throttled: xThrottledBy,
    // a timeline page is reserved as a full page of posts; X bills the posts it holds (none for
    // an error answer, none for an incremental run that found nothing new)
    unitsUsed: (endpoint, status, body) =>
      endpoint === X_CALLS.timeline ? postsBilled(status, body) : null,
    classify: (status, body, usage, endpoint) =>
      classifyXFailure(
        status,
        body,
        endpoint === X_CALLS.token ? tokenCall : (MESSAGE_ENDPOINT[endpoint] ?? 'timeline'),
        now(),
        rates.get(usage) ?? null,
      ),
  }
}

/** The posts a timeline answer holds: X's charge for it. */
function postsBilled(status: number, body: unknown): number {
  if (status < 200 || status >= 300 || typeof body !== 'object' || body === null) return 0
  const data = (body as { data?: unknown }).data
  return Array.isArray(data) ? data.length : 0
}

/**
 * `fetch` whose billing failures (`402 credits-depleted`, `429 UsageCapExceeded`) arrive without
 * their `x-rate-limit-*` headers. The sender reads usage from the headers alone, before the body;
 * a spent 15-minute window on such an answer would otherwise give the governor a regain time of
 * minutes, which it prefers to the classification's pause of a day or a month.
 */
export function withoutRateHeadersOnBilling(fetch: FetchLike): FetchLike {
  return async (input, init) => {
    const response = await fetch(input, init)
    if (response.status !== 402 && response.status !== 429) return response
    const text = await response.text()
    let body: unknown = null
    try {
      body = JSON.parse(text) as unknown
    } catch {
      body = null
    }
    const headers = new Headers(response.headers)
    if (xBillingFailure(response.status, body) !== null) {
      const names: string[] = []
      headers.forEach((_value, name) => {
        if (name.startsWith('x-rate-limit-')) names.push(name)
      })
      for (const name of names) headers.delete(name)
    }
    return new Response(text, {
      status: response.status,
      statusText: response.statusText,
      headers,
    })
  }
}

export interface XClientOptions {
  readonly config: XConfig
  readonly fetch: FetchLike
  /** The service's clock (epoch ms): token lifetimes count from it. */
  readonly now: () => number
  /** Asked before every HTTP call with its kind (its cost); throwing prevents the call. */
  readonly beforeCall?: (endpoint: string) => Promise<void>
  /** Told about every HTTP call made (budgets, call counts). */
  readonly onCall?: (info: XCallInfo) => void | Promise<void>
}

/** The contract's cursor: the user id and X's `next_token` (no token in it). */
function encodeCursor(userId: string, nextToken: string): string {
  return `${userId}.${nextToken}`
}

function decodeCursor(cursor: string): { userId: string; pageToken: string } {
  const match = /^(\d{1,19})\.([A-Za-z0-9_-]{1,256})$/.exec(cursor)
  if (match === null)
    throw new GalleryError('ERR_VALIDATION', 'The stored X paging cursor is not readable')
  return { userId: match[1] ?? '', pageToken: match[2] ?? '' }
}

/** The identity the contract describes, from `/2/users/me`. */
export function identityOfXUser(user: XUser): ConnectedIdentity {
  return {
    providerAccountId: user.id,
    aliases: [],
    username: user.username,
    profileUrl: xInfo.profileUrl(encodeURIComponent(user.username)),
    avatarUrl: user.avatarUrl,
    // X's `tweet_count` counts text posts, replies and reposts, and posts beyond the timeline's
    // 3,200: not a count to compare the stored media with
    mediaCount: null,
    attributes: { name: user.name },
  }
}

/** A value as `application/x-www-form-urlencoded` encodes it (RFC 6749 §2.3.1, appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

/** What the connection is refused with when X issued no refresh token. */
export const X_NO_REFRESH_TOKEN_MESSAGE =
  'X gave no refresh token (the "stay connected" permission, offline.access, was not granted), so the connection could not be kept beyond two hours: connect the account again and allow it'

export function createXClient(options: XClientOptions): ProviderClient {
  const { config } = options
  /** Pictures must be https, or come from the configured API origin (the sandbox's http one). */
  const urls: UrlPolicy = { extraOrigins: [new URL(config.apiUrl).origin] }
  const confidential = config.clientSecret !== ''
  const sender = {
    fetch: withoutRateHeadersOnBilling(options.fetch),
    timeoutMs: config.requestTimeoutMs,
    ...(options.beforeCall === undefined ? {} : { beforeCall: options.beforeCall }),
    ...(options.onCall === undefined ? {} : { onCall: options.onCall }),
  }
  const call = createSender<PlatformUsage>({
    ...sender,
    reader: xAnswers(options.now, 'code exchange'),
  })
  const refreshCall = createSender<PlatformUsage>({
    ...sender,
    reader: xAnswers(options.now, 'token refresh'),
  })
  /** The account this client last identified (saves a `/2/users/me` call per listing). */
  let user: XUser | null = null

  const bearer = (credentials: Credentials) => ({
    authorization: `Bearer ${credentials.accessToken}`,
    accept: 'application/json',
  })

  /** A form post to an OAuth endpoint, with the client's authentication. */
  function oauthRequest(form: Record<string, string>): RequestInit {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    }
    const body = new URLSearchParams(form)
    if (confidential) {
      const pair = `${formEncode(config.clientId)}:${formEncode(config.clientSecret)}`
      headers.authorization = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`
    } else {
      body.set('client_id', config.clientId)
    }
    return { method: 'POST', headers, body: body.toString() }
  }

  function credentialsOf(token: XToken, scopes: readonly string[] | null): Credentials {
    const issuedAt = options.now()
    return {
      accessToken: token.accessToken,
      accessTokenExpiresAt: issuedAt + token.expiresInSeconds * 1000,
      refreshToken: token.refreshToken,
      // X gives its refresh tokens no lifetime
      refreshTokenExpiresAt: null,
      scopes: token.scopes ?? scopes,
      issuedAt,
      // rotating: each answer's refresh token is new
      refreshTokenIssuedAt: token.refreshToken === null ? null : issuedAt,
    }
  }

  async function me(credentials: Credentials): Promise<XUser> {
    const url = new URL(`${config.apiUrl}${X_ME_PATH}`)
    url.searchParams.set('user.fields', X_USER_FIELDS)
    const body = await call(X_CALLS.me, url.toString(), { headers: bearer(credentials) })
    user = parseXUser(body, urls)
    return user
  }

  async function revokeToken(token: string, hint: 'refresh_token' | 'access_token') {
    await call(
      X_CALLS.revoke,
      `${config.apiUrl}${X_REVOKE_PATH}`,
      oauthRequest({ token, token_type_hint: hint }),
    )
  }

  return {
    capabilities: X_CAPABILITIES,
    authorizationUrl(state, codeChallenge) {
      const url = new URL(config.authorizeUrl)
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('client_id', config.clientId)
      url.searchParams.set('redirect_uri', config.redirectUri)
      url.searchParams.set('scope', config.scopes.join(X_CAPABILITIES.scopeSeparator))
      url.searchParams.set('state', state)
      // the service always sends one (PKCE is mandatory at X); without it X shows an error page
      if (codeChallenge !== undefined) {
        url.searchParams.set('code_challenge', codeChallenge)
        url.searchParams.set('code_challenge_method', 'S256')
      }
      return url.toString()
    },
    async exchangeCode(code, codeVerifier) {
      if (codeVerifier === undefined)
        throw new GalleryError('ERR_INTERNAL', 'X connections need the PKCE code verifier')
      const token = parseXToken(
        await call(
          X_CALLS.token,
          `${config.apiUrl}${X_TOKEN_PATH}`,
          oauthRequest({
            grant_type: 'authorization_code',
            code,
            redirect_uri: config.redirectUri,
            code_verifier: codeVerifier,
          }),
        ),
        'code exchange',
      )
      if (token.refreshToken === null) {
        // of no use to us: given back rather than left alive for two hours (best effort)
        await revokeToken(token.accessToken, 'access_token').catch(() => undefined)
        throw new GalleryError('ERR_PROVIDER_RESPONSE', X_NO_REFRESH_TOKEN_MESSAGE)
      }
      return credentialsOf(token, null)
    },
    async renew(current) {
      if (current.refreshToken === null)
        throw new GalleryError(
          'ERR_REAUTH_REQUIRED',
          'This X connection has no refresh token; connect the account again',
        )
      // a refused refresh (used already, revoked, expired) is classified as a reconnect
      const token = parseXToken(
        await refreshCall(
          X_CALLS.token,
          `${config.apiUrl}${X_TOKEN_PATH}`,
          oauthRequest({ grant_type: 'refresh_token', refresh_token: current.refreshToken }),
        ),
        'token refresh',
      )
      // the token sent is spent now: the answer's replaces it (none: the next renewal reconnects)
      return credentialsOf(token, current.scopes)
    },
    checkGrant(credentials) {
      const missing = missingXScopes(credentials.scopes)
      return missing.length === 0
        ? { ok: true }
        : {
            ok: false,
            outcome: 'scope_missing',
            detail: `X did not grant ${missing.join(', ')}; connect again and allow every permission asked`,
          }
    },
    async fetchIdentity(credentials): Promise<IdentityLookup> {
      return { ok: true, identity: identityOfXUser(await me(credentials)) }
    },
    // every X account can be shown: X has no account type to refuse
    checkEligible: () => ({ ok: true }),
    async listMedia(credentials, cursor, listOptions = {}): Promise<ProviderMediaPage> {
      let account: XUser
      let pageToken: string | null = null
      // a routine run asks only for what is newer than the newest stored post: X bills every
      // post it returns, and an unchanged account then costs none
      const newest =
        cursor === null && listOptions.skipStored === true
          ? ((await listOptions.newestStored?.()) ?? null)
          : null
      if (cursor === null) {
        account = user ?? (await me(credentials))
      } else {
        const decoded = decodeCursor(cursor)
        pageToken = decoded.pageToken
        account = user?.id === decoded.userId ? user : await me(credentials)
        if (account.id !== decoded.userId)
          throw new GalleryError(
            'ERR_VALIDATION',
            'The stored X paging cursor belongs to another account',
          )
      }
      const url = new URL(`${config.apiUrl}${xTimelinePath(account.id)}`)
      url.searchParams.set('max_results', String(X_PAGE_SIZE))
      url.searchParams.set('exclude', 'replies,retweets')
      url.searchParams.set('expansions', 'attachments.media_keys')
      url.searchParams.set('media.fields', X_MEDIA_FIELDS)
      url.searchParams.set('tweet.fields', X_TWEET_FIELDS)
      if (pageToken !== null) url.searchParams.set('pagination_token', pageToken)
      if (newest !== null && /^\d{1,20}$/.test(newest)) url.searchParams.set('since_id', newest)
      const page = parseXTimeline(
        await call(X_CALLS.timeline, url.toString(), { headers: bearer(credentials) }),
        urls,
      )
      const items: MediaInput[] = []
      // X lists newest first; text-only posts (and media X could not return) are no items
      for (const post of page.posts) {
        const item = xPostToMedia(post, page.media, account.username)
        if (item !== null) items.push(item)
      }
      return {
        items,
        skippedStored: 0,
        nextCursor: page.nextToken === null ? null : encodeCursor(account.id, page.nextToken),
      }
    },
    async revoke(credentials) {
      // revoking the refresh token ends the whole grant (and its access tokens)
      if (credentials.refreshToken !== null)
        await revokeToken(credentials.refreshToken, 'refresh_token')
      else await revokeToken(credentials.accessToken, 'access_token')
    },
  }
}
