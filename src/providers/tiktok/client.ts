/**
 * @module providers/tiktok/client — talks to TikTok's Login Kit v2 OAuth endpoints and the read
 * side of the v2 Display API for one unit of work.
 *
 * Sending and interpreting are separate: this file builds requests and decides what to call; the
 * pure parsers of `parse.ts` read the answers, and `classifyTiktokFailure` maps TikTok's errors.
 * Every request goes through the shared sender (`providers/http/send.ts`), which asks the budget
 * first, never follows redirects and reports every call. The sender classifies non-2xx answers
 * only: TikTok may send an error with HTTP 200, so every 2xx body still goes through a parser that
 * checks it (`parseTokenResponse`, `envelopeData`, `parseRevokeResponse`).
 *
 * - Connect: authorization code with PKCE S256; `client_key` (not `client_id`), scopes joined
 *   with `,`. The granted `scope` list is checked (`checkGrant`): the consent screen lets the
 *   person untick a permission.
 * - Credentials: the client key and secret go in the form body of `POST /v2/oauth/token/`.
 *   Lifetimes are the answer's `expires_in` / `refresh_expires_in` (remaining seconds), counted
 *   from the client's clock. The refresh token ROTATES: every refresh answers a new one and the
 *   previous one stops working at once, so `refreshTokenIssuedAt` is the time of each refresh,
 *   and a refused refresh (`invalid_grant`: spent, expired or revoked) is `ERR_REAUTH_REQUIRED`.
 *   Serialising refreshes per account (and re-reading the account before giving up) is the
 *   engine's refresher's job.
 * - Identity: `GET /v2/user/info/?fields=…`; the `open_id` is the account's id.
 * - Media: `POST /v2/video/list/?fields=…` pages through the account's public videos, newest
 *   first, 20 a page; the contract's cursor is TikTok's own (a time in ms, no token in it). The
 *   list carries every detail, so nothing is read twice (`skippedStored` is 0). Covers are signed
 *   URLs that expire (about 6 hours): each item carries the expiry in `url_expires_at`.
 * - Re-read: `POST /v2/video/query/?fields=…` `{filters: {video_ids}}`, 20 ids a call (T15),
 *   gives fresh covers; an id TikTok no longer returns (deleted, private, not the account's own)
 *   is reported missing.
 * - Revoke: `POST /v2/oauth/revoke/` with the access token.
 *
 * TikTok reports no usage in headers: the governor paces on its own per-minute budget.
 * No URL, token, code or secret goes into an error message (`safeTiktokText`).
 *
 * @see shared/reference/providers.md §2
 */
import { GalleryError } from '../../errors.ts'
import type { MediaInput } from '../../store/types.ts'
import {
  createSender,
  type AnswerReader,
  type CallReport,
  type PlatformUsage,
  type Sender,
} from '../http/send.ts'
import type { UrlPolicy } from '../http/urls.ts'
import type {
  ConnectedIdentity,
  Credentials,
  FetchLike,
  IdentityLookup,
  MediaRead,
  ProviderClient,
  ProviderMediaPage,
} from '../types.ts'
import { TIKTOK_CALLS, TIKTOK_CAPABILITIES, TIKTOK_PAGE_SIZE } from './capabilities.ts'
import { TIKTOK_PATHS, TIKTOK_SCOPES, type TiktokConfig } from './config.ts'
import {
  USER_FIELDS,
  VIDEO_FIELDS,
  classifyTiktokFailure,
  missingScopes,
  parseRevokeResponse,
  parseTiktokError,
  parseTokenResponse,
  parseUserInfo,
  parseVideoList,
  parseVideoQuery,
  videoListBody,
  videoQueryBody,
  videoToMedia,
  type TiktokEndpoint,
  type TiktokToken,
  type TiktokUser,
} from './parse.ts'
import { tiktokInfo } from './platform.ts'

/** Videos per `video/list` page: TikTok's maximum. */
export const PAGE_SIZE = TIKTOK_PAGE_SIZE

/** The scope whose `video_count` the identity reads, when it was granted. */
export const STATS_SCOPE = 'user.info.stats'

const NO_USAGE: PlatformUsage = {
  appPercent: null,
  businessPercent: null,
  regainMinutes: null,
  regainMinutesClampedFrom: null,
}

/** What one HTTP call to TikTok reported (status 0: no answer). */
export type TiktokCallInfo = CallReport<PlatformUsage>

/** What a token call is for: the messages differ (a spent code, a spent refresh token). */
type TokenPurpose = 'code exchange' | 'token refresh'

/** The parser's name of a call kind of `TIKTOK_CALLS`. */
function messageEndpoint(endpoint: string, tokenPurpose: TokenPurpose): TiktokEndpoint {
  switch (endpoint) {
    case TIKTOK_CALLS.userInfo:
      return 'user.info'
    case TIKTOK_CALLS.videoList:
      return 'video.list'
    case TIKTOK_CALLS.videoQuery:
      return 'video.query'
    case TIKTOK_CALLS.revoke:
      return 'revoke'
    default:
      return tokenPurpose
  }
}

/** TikTok's throttling: `rate_limit_exceeded` (or a 429) counts against the whole app (T11). */
function throttledBy(status: number, body: unknown): 'app' | 'account' | null {
  const info = parseTiktokError(body)
  if (info?.code === 'rate_limit_exceeded' || info?.oauthError === 'rate_limit_exceeded')
    return 'app'
  return status === 429 ? 'app' : null
}

/**
 * How TikTok's answers are read (the shared sender calls these). `tokenPurpose` names what a
 * `token` call is for in messages (one call kind serves the code exchange and the refresh).
 */
export function tiktokAnswers(
  tokenPurpose: TokenPurpose = 'code exchange',
): AnswerReader<PlatformUsage> {
  return {
    label: 'TikTok',
    parseBody: (text) => (text === '' ? null : (JSON.parse(text) as unknown)),
    // TikTok reports no usage headers (`x-ratelimit-reset` is unconfirmed): the governor counts
    readUsage: () => NO_USAGE,
    noUsage: NO_USAGE,
    // TikTok's codes are strings (`access_token_invalid`), not numbers
    errorCode: () => null,
    throttled: throttledBy,
    classify: (status, body, _usage, endpoint) =>
      classifyTiktokFailure(status, body, messageEndpoint(endpoint, tokenPurpose)),
  }
}

export interface TiktokClientOptions {
  readonly config: TiktokConfig
  readonly fetch: FetchLike
  /** The service's clock (epoch ms): token lifetimes count from it. */
  readonly now: () => number
  /** Asked before every HTTP call with its kind (`TIKTOK_CALLS`); throwing prevents the call. */
  readonly beforeCall?: (endpoint: string) => Promise<void>
  /** Told about every HTTP call made (budgets, call counts). */
  readonly onCall?: (info: TiktokCallInfo) => void | Promise<void>
}

/** The contract's cursor: TikTok's own (UTC ms, a whole number), as decimal digits. */
function encodeCursor(cursor: number): string {
  return String(cursor)
}

function decodeCursor(cursor: string): number {
  const value = /^\d{1,16}$/.test(cursor) ? Number(cursor) : Number.NaN
  if (!Number.isSafeInteger(value))
    throw new GalleryError('ERR_VALIDATION', 'The stored TikTok paging cursor is not readable')
  return value
}

/**
 * The identity the contract describes, from TikTok's user. `withCount`: the answer's
 * `video_count` (scope `user.info.stats`) counts public videos, as the listing lists them, so it
 * is a count to compare the stored media with; without that scope there is none.
 */
export function identityOfUser(user: TiktokUser, withCount: boolean): ConnectedIdentity {
  if (user.username === null)
    throw new GalleryError(
      'ERR_PROVIDER_RESPONSE',
      'TikTok sent an unexpected response to user.info: data.user.username is missing',
    )
  const attributes: Record<string, string> = {}
  if (user.displayName !== null) attributes.display_name = user.displayName
  if (user.unionId !== null) attributes.union_id = user.unionId
  if (user.bioDescription !== null) attributes.bio_description = user.bioDescription
  if (user.isVerified !== null) attributes.is_verified = String(user.isVerified)
  if (user.videoCount !== null) attributes.public_video_count = String(user.videoCount)
  return {
    providerAccountId: user.openId,
    aliases: [],
    username: user.username,
    profileUrl: user.profileDeepLink ?? tiktokInfo.profileUrl(encodeURIComponent(user.username)),
    avatarUrl: user.avatarUrl,
    mediaCount: withCount ? user.videoCount : null,
    attributes,
  }
}

/** Credentials from a token answer received at `issuedAt`. */
function credentialsOf(token: TiktokToken, issuedAt: number, scopes: readonly string[] | null) {
  return {
    accessToken: token.accessToken,
    accessTokenExpiresAt: issuedAt + token.expiresInSeconds * 1000,
    refreshToken: token.refreshToken,
    refreshTokenExpiresAt: issuedAt + token.refreshExpiresInSeconds * 1000,
    scopes,
    issuedAt,
    // rotation: every answer carries a refresh token issued now
    refreshTokenIssuedAt: issuedAt,
  } satisfies Credentials
}

/** What a refused refresh tells the person (the refresh token is spent, expired or revoked). */
export const REFRESH_REFUSED_MESSAGE =
  'TikTok no longer accepts this connection (its access was revoked or has expired, or its refresh token was already used: TikTok replaces it at every refresh); connect TikTok again'

export function createTiktokClient(options: TiktokClientOptions): ProviderClient {
  const { config } = options
  /** Covers and avatars must be https, or come from the configured API origin (the sandbox's). */
  const urls: UrlPolicy = { extraOrigins: [new URL(config.apiUrl).origin] }
  const senderFor = (purpose: TokenPurpose): Sender =>
    createSender<PlatformUsage>({
      fetch: options.fetch,
      timeoutMs: config.requestTimeoutMs,
      reader: tiktokAnswers(purpose),
      ...(options.beforeCall === undefined ? {} : { beforeCall: options.beforeCall }),
      ...(options.onCall === undefined ? {} : { onCall: options.onCall }),
    })
  const call = senderFor('code exchange')
  const refreshCall = senderFor('token refresh')

  const form = (fields: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(fields).toString(),
  })

  const apiUrl = (path: string, fields: readonly string[]): string => {
    const url = new URL(`${config.apiUrl}${path}`)
    url.searchParams.set('fields', fields.join(','))
    return url.toString()
  }

  const bearer = (credentials: Credentials) => ({
    authorization: `Bearer ${credentials.accessToken}`,
    accept: 'application/json',
  })

  return {
    capabilities: TIKTOK_CAPABILITIES,
    authorizationUrl(state, codeChallenge) {
      const url = new URL(config.authorizeUrl)
      url.searchParams.set('client_key', config.clientKey)
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('scope', config.scopes.join(TIKTOK_CAPABILITIES.scopeSeparator))
      url.searchParams.set('redirect_uri', config.redirectUri)
      url.searchParams.set('state', state)
      // the service always sends one (PKCE is required)
      if (codeChallenge !== undefined) {
        url.searchParams.set('code_challenge', codeChallenge)
        url.searchParams.set('code_challenge_method', 'S256')
      }
      return url.toString()
    },
    async exchangeCode(code, codeVerifier) {
      if (codeVerifier === undefined)
        throw new GalleryError('ERR_INTERNAL', 'TikTok connections need the PKCE code verifier')
      const body = await call(
        TIKTOK_CALLS.token,
        `${config.apiUrl}${TIKTOK_PATHS.token}`,
        form({
          client_key: config.clientKey,
          client_secret: config.clientSecret,
          code,
          grant_type: 'authorization_code',
          redirect_uri: config.redirectUri,
          code_verifier: codeVerifier,
        }),
      )
      // an OAuth error may come with HTTP 200: the parser throws it classified
      const token = parseTokenResponse(body, 'code exchange')
      return credentialsOf(token, options.now(), token.scopes)
    },
    async renew(current) {
      if (current.refreshToken === null)
        throw new GalleryError(
          'ERR_REAUTH_REQUIRED',
          'This TikTok connection has no refresh token; connect TikTok again',
        )
      let token: TiktokToken
      try {
        const body = await refreshCall(
          TIKTOK_CALLS.token,
          `${config.apiUrl}${TIKTOK_PATHS.token}`,
          form({
            client_key: config.clientKey,
            client_secret: config.clientSecret,
            grant_type: 'refresh_token',
            refresh_token: current.refreshToken,
          }),
        )
        token = parseTokenResponse(body, 'token refresh')
      } catch (error) {
        // `invalid_grant` (HTTP 400 or 200): spent by a refresh elsewhere, expired or revoked
        if (error instanceof GalleryError && error.code === 'ERR_REAUTH_REQUIRED')
          throw new GalleryError('ERR_REAUTH_REQUIRED', REFRESH_REFUSED_MESSAGE, { cause: error })
        throw error
      }
      return credentialsOf(token, options.now(), token.scopes ?? current.scopes)
    },
    checkGrant(credentials) {
      return missingScopes(credentials.scopes, TIKTOK_SCOPES).length === 0
        ? { ok: true }
        : { ok: false, outcome: 'scope_missing' }
    },
    async fetchIdentity(credentials): Promise<IdentityLookup> {
      // `video_count` needs `user.info.stats`: asked only when granted (else TikTok refuses)
      const withCount = credentials.scopes?.includes(STATS_SCOPE) === true
      const fields = withCount ? [...USER_FIELDS, 'video_count'] : USER_FIELDS
      const body = await call(TIKTOK_CALLS.userInfo, apiUrl(TIKTOK_PATHS.userInfo, fields), {
        headers: bearer(credentials),
      })
      return { ok: true, identity: identityOfUser(parseUserInfo(body, urls), withCount) }
    },
    // every TikTok account can be shown: there is no account type to refuse
    checkEligible: () => ({ ok: true }),
    async listMedia(credentials, cursor): Promise<ProviderMediaPage> {
      const after = cursor === null ? null : decodeCursor(cursor)
      const body = await call(
        TIKTOK_CALLS.videoList,
        apiUrl(TIKTOK_PATHS.videoList, VIDEO_FIELDS),
        {
          method: 'POST',
          headers: { ...bearer(credentials), 'content-type': 'application/json' },
          body: JSON.stringify(videoListBody(after, PAGE_SIZE)),
        },
      )
      const page = parseVideoList(body, options.now(), urls)
      // the cursor is a time going back: one that does not would page forever
      if (page.cursor !== null && after !== null && page.cursor >= after)
        throw new GalleryError(
          'ERR_PROVIDER_RESPONSE',
          'TikTok sent an unexpected response to video.list: data.cursor does not move back',
        )
      const items: MediaInput[] = page.videos.map(videoToMedia)
      return {
        items,
        // the list carries every detail: nothing is read again, so nothing is skipped
        skippedStored: 0,
        nextCursor: page.cursor === null ? null : encodeCursor(page.cursor),
      }
    },
    async readMedia(credentials, platformMediaIds): Promise<MediaRead> {
      const ids = [...new Set(platformMediaIds)]
      const items: MediaInput[] = []
      const missingIds: string[] = []
      for (let i = 0; i < ids.length; i += PAGE_SIZE) {
        const chunk = ids.slice(i, i + PAGE_SIZE)
        const body = await call(
          TIKTOK_CALLS.videoQuery,
          apiUrl(TIKTOK_PATHS.videoQuery, VIDEO_FIELDS),
          {
            method: 'POST',
            headers: { ...bearer(credentials), 'content-type': 'application/json' },
            body: JSON.stringify(videoQueryBody(chunk)),
          },
        )
        const found = parseVideoQuery(body, chunk, options.now(), urls)
        items.push(...found.videos.map(videoToMedia))
        missingIds.push(...found.missingIds)
      }
      return { items, missingIds }
    },
    async revoke(credentials) {
      const body = await call(
        TIKTOK_CALLS.revoke,
        `${config.apiUrl}${TIKTOK_PATHS.revoke}`,
        form({
          client_key: config.clientKey,
          client_secret: config.clientSecret,
          token: credentials.accessToken,
        }),
      )
      parseRevokeResponse(body)
    },
  }
}
