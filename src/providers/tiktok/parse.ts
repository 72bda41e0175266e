/**
 * @module providers/tiktok/parse — pure parsers for TikTok's answers (Login Kit v2, Display API).
 * Remote JSON is `unknown` until checked here; a malformed answer throws `ERR_PROVIDER_RESPONSE`
 * naming the endpoint and the field. Failure answers become the `GalleryError` the services act
 * on (`classifyTiktokFailure`).
 *
 * Two answer shapes:
 * - the OAuth endpoints answer flat JSON: `{access_token, expires_in, open_id, refresh_token,
 *   refresh_expires_in, scope, token_type}`, or `{error, error_description, log_id}` — and an
 *   error may come with HTTP 200, so the body decides, never the status alone;
 * - every other v2 endpoint answers `{data, error: {code, message, log_id}}`, success being
 *   `error.code === "ok"`.
 *
 * Messages never carry a token or a URL with a query string (`safeTiktokText`).
 *
 * @see shared/reference/providers.md §2.1-§2.4
 */
import { GalleryError } from '../../errors.ts'
import type { MediaInput } from '../../store/types/media.ts'
import { TIKTOK_PAGE_SIZE } from './capabilities.ts'
import { HTTPS_ONLY, platformUrl, type UrlPolicy } from '../http/urls.ts'

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The calls whose answers are parsed here, as messages name them. */
export type TiktokEndpoint =
  'code exchange' | 'token refresh' | 'revoke' | 'user.info' | 'video.list' | 'video.query'

function unexpected(endpoint: string, what: string): GalleryError {
  return new GalleryError(
    'ERR_PROVIDER_RESPONSE',
    `TikTok sent an unexpected response to ${endpoint}: ${what}`,
  )
}

function str(obj: Json, key: string, endpoint: string, where: string): string {
  const value = obj[key]
  if (typeof value === 'string' && value !== '') return value
  throw unexpected(endpoint, `${where}.${key} is missing or not a string`)
}

function optStr(obj: Json, key: string, endpoint: string, where: string): string | null {
  const value = obj[key]
  if (value === undefined || value === null || value === '') return null
  if (typeof value !== 'string') throw unexpected(endpoint, `${where}.${key} is not a string`)
  return value
}

function optCount(obj: Json, key: string, endpoint: string, where: string): number | null {
  const value = obj[key]
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw unexpected(endpoint, `${where}.${key} is not a non-negative whole number`)
  return value
}

function optBool(obj: Json, key: string, endpoint: string, where: string): boolean | null {
  const value = obj[key]
  if (value === undefined || value === null) return null
  if (typeof value !== 'boolean') throw unexpected(endpoint, `${where}.${key} is not a boolean`)
  return value
}

/** The URL policy every platform shares (re-exported for this folder's callers and tests). */
export { HTTPS_ONLY, platformUrl, type UrlPolicy }

// ---------------------------------------------------------------------------------------------
// Request shapes (the client builds its bodies with these, so the bounds live in one place)

/** The user fields the gallery reads (scopes `user.info.basic` and `user.info.profile`). */
export const USER_FIELDS = [
  'open_id',
  'union_id',
  'avatar_url',
  'avatar_url_100',
  'avatar_large_url',
  'display_name',
  'username',
  'profile_deep_link',
  'bio_description',
  'is_verified',
] as const

/** The video fields the gallery reads (scope `video.list`). */
export const VIDEO_FIELDS = [
  'id',
  'create_time',
  'cover_image_url',
  'share_url',
  'video_description',
  'duration',
  'title',
  'embed_link',
  'width',
  'height',
] as const

/**
 * The JSON body of `POST /v2/video/list/`: `{max_count}` and, after the first page, the
 * `cursor` (UTC ms) TikTok returned. `max_count` is 1 to 20 (TikTok's maximum).
 */
export function videoListBody(
  cursor: number | null,
  maxCount: number = TIKTOK_PAGE_SIZE,
): { max_count: number; cursor?: number } {
  if (!Number.isInteger(maxCount) || maxCount < 1 || maxCount > TIKTOK_PAGE_SIZE)
    throw new RangeError(`max_count must be a whole number from 1 to ${TIKTOK_PAGE_SIZE}`)
  if (cursor !== null && (!Number.isSafeInteger(cursor) || cursor < 0))
    throw new RangeError('cursor must be a non-negative whole number of milliseconds')
  return cursor === null ? { max_count: maxCount } : { max_count: maxCount, cursor }
}

/** The JSON body of `POST /v2/video/query/`: 1 to 20 video ids. */
export function videoQueryBody(ids: readonly string[]): { filters: { video_ids: string[] } } {
  if (ids.length < 1 || ids.length > TIKTOK_PAGE_SIZE)
    throw new RangeError(`video/query takes 1 to ${TIKTOK_PAGE_SIZE} ids (got ${ids.length})`)
  return { filters: { video_ids: [...ids] } }
}

// ---------------------------------------------------------------------------------------------
// Tokens

/** TikTok's token answer (code exchange or refresh); lifetimes are *remaining* seconds. */
export interface TiktokToken {
  /** `act.…` */
  readonly accessToken: string
  readonly expiresInSeconds: number
  /** `rft.…`: a new one with every answer (it rotates: the previous one stops working). */
  readonly refreshToken: string
  readonly refreshExpiresInSeconds: number
  /** The account's id for this app. */
  readonly openId: string
  /** The granted scopes (comma-separated in the answer); `null` when the answer omits `scope`. */
  readonly scopes: readonly string[] | null
}

function positiveSeconds(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : null
}

/** Splits TikTok's comma-separated scope list (spaces around commas tolerated). */
export function splitScopes(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ]
}

/**
 * The flat token answer of `POST /v2/oauth/token/`. An OAuth error in the body (`{error,
 * error_description, log_id}`, which TikTok may send with HTTP 200) throws the classified failure
 * (`classifyTiktokFailure`), whatever the status.
 */
export function parseTokenResponse(
  body: unknown,
  endpoint: 'code exchange' | 'token refresh',
  status = 200,
): TiktokToken {
  if (!isObject(body)) throw unexpected(endpoint, 'the answer is not an object')
  if (typeof body.error === 'string' && body.error !== '')
    throw classifyTiktokFailure(status, body, endpoint)
  const accessToken = str(body, 'access_token', endpoint, 'token')
  const tokenType = body.token_type
  if (
    tokenType !== undefined &&
    (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')
  )
    throw unexpected(endpoint, 'token.token_type is not Bearer')
  const expiresInSeconds = positiveSeconds(body.expires_in)
  if (expiresInSeconds === null)
    throw unexpected(endpoint, 'token.expires_in is missing or not a positive number')
  const refreshToken = str(body, 'refresh_token', endpoint, 'token')
  const refreshExpiresInSeconds = positiveSeconds(body.refresh_expires_in)
  if (refreshExpiresInSeconds === null)
    throw unexpected(endpoint, 'token.refresh_expires_in is missing or not a positive number')
  const openId = str(body, 'open_id', endpoint, 'token')
  const scopeRaw = body.scope
  if (scopeRaw !== undefined && typeof scopeRaw !== 'string')
    throw unexpected(endpoint, 'token.scope is not a string')
  return {
    accessToken,
    expiresInSeconds,
    refreshToken,
    refreshExpiresInSeconds,
    openId,
    scopes: scopeRaw === undefined ? null : splitScopes(scopeRaw),
  }
}

/** The scopes of `required` missing from `granted` (`null` granted: as requested, none missing). */
export function missingScopes(
  granted: readonly string[] | null,
  required: readonly string[],
): string[] {
  return granted === null ? [] : required.filter((s) => !granted.includes(s))
}

/** `POST /v2/oauth/revoke/` answers `{}`; an OAuth error in the body throws the classified failure. */
export function parseRevokeResponse(body: unknown, status = 200): void {
  if (isObject(body) && typeof body.error === 'string' && body.error !== '')
    throw classifyTiktokFailure(status, body, 'revoke')
  if (body !== undefined && body !== null && body !== '' && !isObject(body))
    throw unexpected('revoke', 'the answer is not an object')
}

// ---------------------------------------------------------------------------------------------
// The v2 envelope

/**
 * `{data, error: {code, message, log_id}}`: the `data` object when `error.code` is `ok`; any
 * other code throws the classified failure (`status` is the HTTP status the answer came with).
 */
export function envelopeData(body: unknown, endpoint: TiktokEndpoint, status = 200): Json {
  if (!isObject(body)) throw unexpected(endpoint, 'the answer is not an object')
  const error = body.error
  if (!isObject(error)) throw unexpected(endpoint, 'error is missing or not an object')
  const code = error.code
  if (typeof code !== 'string' || code === '')
    throw unexpected(endpoint, 'error.code is missing or not a string')
  if (code !== 'ok') throw classifyTiktokFailure(status, body, endpoint)
  const data = body.data
  if (!isObject(data)) throw unexpected(endpoint, 'data is missing or not an object')
  return data
}

// ---------------------------------------------------------------------------------------------
// user.info

export interface TiktokUser {
  readonly openId: string
  readonly unionId: string | null
  readonly displayName: string | null
  /** `user.info.profile`: the handle, without `@`. */
  readonly username: string | null
  /** The best avatar the policy accepts (large, then 100 px, then the default). */
  readonly avatarUrl: string | null
  readonly profileDeepLink: string | null
  readonly bioDescription: string | null
  readonly isVerified: boolean | null
  /** `user.info.stats` counts: `null` unless that scope was granted and the fields asked for. */
  readonly followerCount: number | null
  readonly followingCount: number | null
  readonly likesCount: number | null
  readonly videoCount: number | null
}

/** `GET /v2/user/info/?fields=…` → `data.user`. */
export function parseUserInfo(
  body: unknown,
  urls: UrlPolicy = HTTPS_ONLY,
  status = 200,
): TiktokUser {
  const endpoint = 'user.info'
  const data = envelopeData(body, endpoint, status)
  const user = data.user
  if (!isObject(user)) throw unexpected(endpoint, 'data.user is missing or not an object')
  const where = 'data.user'
  const avatar = (key: string): string | null =>
    platformUrl(optStr(user, key, endpoint, where), urls)
  const username = optStr(user, 'username', endpoint, where)?.replace(/^@/, '') ?? null
  return {
    openId: str(user, 'open_id', endpoint, where),
    unionId: optStr(user, 'union_id', endpoint, where),
    displayName: optStr(user, 'display_name', endpoint, where),
    username: username === '' ? null : username,
    avatarUrl: avatar('avatar_large_url') ?? avatar('avatar_url_100') ?? avatar('avatar_url'),
    profileDeepLink: platformUrl(optStr(user, 'profile_deep_link', endpoint, where), urls),
    bioDescription: optStr(user, 'bio_description', endpoint, where),
    isVerified: optBool(user, 'is_verified', endpoint, where),
    followerCount: optCount(user, 'follower_count', endpoint, where),
    followingCount: optCount(user, 'following_count', endpoint, where),
    likesCount: optCount(user, 'likes_count', endpoint, where),
    videoCount: optCount(user, 'video_count', endpoint, where),
  }
}

// ---------------------------------------------------------------------------------------------
// Videos

/** How long TikTok documents a cover URL to stay valid: 6 hours (T10). */
export const COVER_TTL_MS = 6 * 3_600_000

/**
 * When a signed cover URL stops working (epoch ms): its `x-expires` query parameter (UTC epoch
 * seconds, as TikTok's CDN writes it); a URL without one is given the documented 6 hours from
 * `fetchedAt`. `null` for no URL.
 */
export function coverExpiresAt(url: string | null, fetchedAt: number): number | null {
  if (url === null) return null
  let raw: string | null = null
  try {
    raw = new URL(url).searchParams.get('x-expires')
  } catch {
    return null
  }
  if (raw !== null && /^\d{9,11}$/.test(raw)) return Number(raw) * 1000
  return fetchedAt + COVER_TTL_MS
}

/** TikTok's video ids: decimal digits (19 in practice), sent as strings. */
export const TIKTOK_VIDEO_ID = /^\d{1,32}$/

export interface TiktokVideo {
  readonly id: string
  /** `create_time` (epoch seconds in the answer) as epoch ms. */
  readonly createdAt: number
  readonly coverUrl: string | null
  /** When `coverUrl` stops working (epoch ms), `null` without a cover. */
  readonly coverExpiresAt: number | null
  readonly shareUrl: string | null
  readonly embedLink: string | null
  readonly description: string | null
  readonly title: string | null
  readonly durationSeconds: number | null
  readonly width: number | null
  readonly height: number | null
}

function parseVideo(
  value: unknown,
  where: string,
  endpoint: 'video.list' | 'video.query',
  urls: UrlPolicy,
  fetchedAt: number,
): TiktokVideo {
  if (!isObject(value)) throw unexpected(endpoint, `${where} is not an object`)
  const id = str(value, 'id', endpoint, where)
  if (!TIKTOK_VIDEO_ID.test(id)) throw unexpected(endpoint, `${where}.id is not a TikTok video id`)
  const created = value.create_time
  if (typeof created !== 'number' || !Number.isSafeInteger(created) || created <= 0)
    throw unexpected(endpoint, `${where}.create_time is missing or not epoch seconds`)
  const coverUrl = platformUrl(optStr(value, 'cover_image_url', endpoint, where), urls)
  return {
    id,
    createdAt: created * 1000,
    coverUrl,
    coverExpiresAt: coverExpiresAt(coverUrl, fetchedAt),
    shareUrl: platformUrl(optStr(value, 'share_url', endpoint, where), urls),
    embedLink: platformUrl(optStr(value, 'embed_link', endpoint, where), urls),
    description: optStr(value, 'video_description', endpoint, where),
    title: optStr(value, 'title', endpoint, where),
    durationSeconds: optCount(value, 'duration', endpoint, where),
    width: optCount(value, 'width', endpoint, where),
    height: optCount(value, 'height', endpoint, where),
  }
}

function parseVideoArray(
  data: Json,
  endpoint: 'video.list' | 'video.query',
  urls: UrlPolicy,
  fetchedAt: number,
): TiktokVideo[] {
  const videos = data.videos ?? []
  if (!Array.isArray(videos)) throw unexpected(endpoint, 'data.videos is not a list')
  return videos.map((v: unknown, i) =>
    parseVideo(v, `data.videos[${i}]`, endpoint, urls, fetchedAt),
  )
}

export interface TiktokVideoPage {
  /** Newest first. May hold fewer than `max_count` while `hasMore` (TikTok's trust and safety). */
  readonly videos: readonly TiktokVideo[]
  /** Give it back as `cursor` for the next page (UTC ms); `null` after the last page. */
  readonly cursor: number | null
  readonly hasMore: boolean
}

/** `POST /v2/video/list/?fields=…` → `data: {videos, cursor, has_more}`. */
export function parseVideoList(
  body: unknown,
  fetchedAt: number,
  urls: UrlPolicy = HTTPS_ONLY,
  status = 200,
): TiktokVideoPage {
  const endpoint = 'video.list'
  const data = envelopeData(body, endpoint, status)
  const videos = parseVideoArray(data, endpoint, urls, fetchedAt)
  const hasMore = data.has_more
  if (typeof hasMore !== 'boolean') throw unexpected(endpoint, 'data.has_more is not a boolean')
  const cursor = data.cursor
  if (hasMore && (typeof cursor !== 'number' || !Number.isSafeInteger(cursor) || cursor < 0))
    throw unexpected(endpoint, 'data.cursor is missing or not a whole number of milliseconds')
  return { videos, hasMore, cursor: hasMore ? (cursor as number) : null }
}

export interface TiktokVideoQuery {
  readonly videos: readonly TiktokVideo[]
  /** Requested ids the answer did not return: deleted, made private, or not the account's own. */
  readonly missingIds: readonly string[]
}

/** `POST /v2/video/query/?fields=…` → `data.videos`, and which requested ids are gone. */
export function parseVideoQuery(
  body: unknown,
  requestedIds: readonly string[],
  fetchedAt: number,
  urls: UrlPolicy = HTTPS_ONLY,
  status = 200,
): TiktokVideoQuery {
  const endpoint = 'video.query'
  const data = envelopeData(body, endpoint, status)
  const videos = parseVideoArray(data, endpoint, urls, fetchedAt)
  const seen = new Set(videos.map((v) => v.id))
  return { videos, missingIds: requestedIds.filter((id) => !seen.has(id)) }
}

/**
 * A video as the store keeps it: a `VIDEO` whose picture is the signed cover (no playable media
 * URL: TikTok gives none to the Display API), linked to its share URL, dated by `create_time`,
 * expiring with its cover. Listed videos are public by definition (`video/list` lists only those).
 */
export function videoToMedia(video: TiktokVideo): MediaInput {
  return {
    platform_media_id: video.id,
    media_type: 'VIDEO',
    media_product_type: 'VIDEO',
    media_url: null,
    thumbnail_url: video.coverUrl,
    permalink: video.shareUrl,
    caption: video.description ?? video.title,
    timestamp: video.createdAt,
    url_expires_at: video.coverExpiresAt,
    duration_seconds: video.durationSeconds,
    visibility: 'public',
    children: [],
  }
}

// ---------------------------------------------------------------------------------------------
// Failures

/**
 * Shapes of TikTok's secrets: access tokens (`act.…`), refresh tokens (`rft.…`), client tokens
 * (`clt.…`), each optionally ending in `!<digits>` (T3, T5 examples), and authorization codes
 * (a long base64url run ending in `*<digit>!<digits>`, as the Display API guide shows one).
 * Global, for the logger's scrubbing and for `safeTiktokText`.
 */
export const TIKTOK_SECRET_SHAPES: readonly RegExp[] = [
  /\b(?:act|rft|clt)\.[A-Za-z0-9._~*-]{8,}(?:![0-9]{1,8})?/g,
  // starts only where a run starts (lookbehind), so a long run without `*` is scanned once
  /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{20,}\*[0-9]{1,3}![0-9]{1,8}/g,
]

/** The longest piece of TikTok's own text a message repeats. */
export const MAX_TIKTOK_TEXT = 200

/**
 * TikTok's text made safe to show: HTML tags removed, query strings and fragments cut from URLs
 * (cover URLs carry signatures), token shapes replaced, whitespace collapsed, bounded.
 */
export function safeTiktokText(text: string): string {
  let out = text.replace(/<[^>]*>/g, '')
  out = out.replace(/\b(https?:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/gi, '$1')
  for (const shape of TIKTOK_SECRET_SHAPES) out = out.replace(shape, '[redacted]')
  out = out.replace(/\s+/g, ' ').trim()
  return out.length > MAX_TIKTOK_TEXT ? `${out.slice(0, MAX_TIKTOK_TEXT - 1)}…` : out
}

/** What TikTok's error answers say, from either shape. */
export interface TiktokErrorInfo {
  /** The v2 envelope's `error.code` (`access_token_invalid`, `rate_limit_exceeded`…). */
  readonly code: string | null
  /** The OAuth shape's `error` (`invalid_grant`, `invalid_client`…). */
  readonly oauthError: string | null
  /** `error.message` or `error_description`. */
  readonly message: string | null
  readonly logId: string | null
}

function loose(obj: Json, key: string): string | null {
  const value = obj[key]
  return typeof value === 'string' && value !== '' ? value : null
}

/** `{error: {code, message, log_id}}` or `{error, error_description, log_id}`; else `null`. */
export function parseTiktokError(body: unknown): TiktokErrorInfo | null {
  if (!isObject(body)) return null
  const error = body.error
  if (typeof error === 'string' && error !== '')
    return {
      code: null,
      oauthError: error,
      message: loose(body, 'error_description'),
      logId: loose(body, 'log_id'),
    }
  if (!isObject(error)) return null
  return {
    code: loose(error, 'code'),
    oauthError: null,
    message: loose(error, 'message'),
    logId: loose(error, 'log_id'),
  }
}

/** The back-off after `rate_limit_exceeded`: the window is one minute (T11). */
export const RATE_LIMIT_BACKOFF_SECONDS = 60
/** The back-off after `internal_error` or a 5xx. */
export const UNAVAILABLE_BACKOFF_SECONDS = 60

/** The permission an endpoint needs, as the consent screen and the message name it. */
const PERMISSION: Readonly<Record<TiktokEndpoint, string>> = {
  'code exchange': 'user.info.basic',
  'token refresh': 'user.info.basic',
  revoke: 'user.info.basic',
  'user.info': 'user.info.basic and user.info.profile (your profile)',
  'video.list': 'video.list (your public videos)',
  'video.query': 'video.list (your public videos)',
}

const SCOPE_CODES: ReadonlySet<string> = new Set([
  'scope_not_authorized',
  'scope_permission_missed',
])

/**
 * A failed answer as the `GalleryError` the services act on (providers.md §2.4).
 *
 * - `rate_limit_exceeded`, HTTP 429 → `ERR_RATE_LIMITED`, retry after a minute;
 * - `internal_error`, 5xx → `ERR_PROVIDER_UNAVAILABLE`;
 * - `access_token_invalid`, a 401 → `ERR_REAUTH_REQUIRED` (the client refreshes once before it
 *   gives up: that is its decision, not the parser's);
 * - `scope_not_authorized` / `scope_permission_missed` → `ERR_REAUTH_REQUIRED`, naming the
 *   permission to grant;
 * - OAuth `invalid_grant` (a rotated, expired or revoked refresh token; a reused or expired code)
 *   → `ERR_REAUTH_REQUIRED`;
 * - `invalid_client` / `unauthorized_client` (our own app) → `ERR_PROVIDER_RESPONSE`, naming the
 *   variables;
 * - anything else (`invalid_params`, `invalid_request`…) → `ERR_PROVIDER_RESPONSE` with TikTok's
 *   message, made safe.
 */
export function classifyTiktokFailure(
  status: number,
  body: unknown,
  endpoint: TiktokEndpoint,
): GalleryError {
  const info = parseTiktokError(body)
  const code = info?.code ?? null
  const oauth = info?.oauthError ?? null
  const tiktokText = safeTiktokText(info?.message ?? '') || `HTTP ${status}`
  const logText = info?.logId == null ? '' : `, log_id ${safeTiktokText(info.logId)}`

  if (code === 'rate_limit_exceeded' || oauth === 'rate_limit_exceeded' || status === 429)
    return new GalleryError(
      'ERR_RATE_LIMITED',
      `TikTok asked us to slow down (${endpoint}); trying again in about a minute`,
      { retryAfterSeconds: RATE_LIMIT_BACKOFF_SECONDS },
    )
  if (code === 'internal_error' || oauth === 'server_error' || status >= 500)
    return new GalleryError(
      'ERR_PROVIDER_UNAVAILABLE',
      `TikTok is temporarily unavailable (${endpoint}); try again later`,
      { retryAfterSeconds: UNAVAILABLE_BACKOFF_SECONDS },
    )
  if (code !== null && SCOPE_CODES.has(code))
    return new GalleryError(
      'ERR_REAUTH_REQUIRED',
      `The TikTok permission ${PERMISSION[endpoint]} was not granted; reconnect TikTok and allow it on TikTok’s consent screen`,
    )
  if (oauth === 'invalid_grant')
    return new GalleryError(
      'ERR_REAUTH_REQUIRED',
      endpoint === 'code exchange'
        ? 'TikTok did not accept the sign-in (the code was used already or has expired); connect TikTok again'
        : 'TikTok no longer accepts this connection (its access was revoked, has expired, or its refresh token was replaced); reconnect TikTok',
    )
  if (oauth === 'invalid_client' || oauth === 'unauthorized_client')
    return new GalleryError(
      'ERR_PROVIDER_RESPONSE',
      `TikTok refused this app's credentials (${endpoint}): check TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (${tiktokText}${logText})`,
    )
  if (code === 'access_token_invalid' || status === 401)
    return new GalleryError(
      'ERR_REAUTH_REQUIRED',
      'TikTok no longer accepts this connection’s access token; reconnect TikTok',
    )
  if (oauth !== null)
    return new GalleryError(
      'ERR_PROVIDER_RESPONSE',
      `TikTok refused the request (${endpoint}): ${safeTiktokText(oauth)} (${tiktokText}${logText})`,
    )
  return new GalleryError(
    'ERR_PROVIDER_RESPONSE',
    `TikTok refused the request (${endpoint}): ${code === null ? '' : `${safeTiktokText(code)}: `}${tiktokText}${logText}`,
  )
}
