/**
 * @module providers/youtube/parse — pure parsers for Google's and YouTube's answers. Remote JSON is
 * `unknown` until checked here; a malformed answer throws `ERR_PROVIDER_RESPONSE` naming the
 * endpoint and the field. Failure answers (Google's error JSON, OAuth token errors) become the
 * `GalleryError` the services act on (`classifyGoogleFailure`).
 *
 * Messages never carry a token or a URL with a query string (`safeGoogleText`).
 *
 * @see shared/reference/providers.md §1.1-§1.4; RFC 6749 §5.1-§5.2
 */
import { GalleryError } from '../../errors.ts'
import { dayAt } from '../../socials/budget-windows.ts'
import { MAX_PLATFORM_BACKOFF_MS } from '../../socials/platform-backoff.ts'
import { YOUTUBE_READONLY_SCOPE } from './config.ts'
import { HTTPS_ONLY, platformUrl, type UrlPolicy } from '../http/urls.ts'

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The calls whose answers are parsed here, as messages name them. */
export type YoutubeEndpoint =
  | 'code exchange'
  | 'token refresh'
  | 'revoke'
  | 'channels.list'
  | 'playlistItems.list'
  | 'videos.list'

function unexpected(endpoint: string, what: string): GalleryError {
  return new GalleryError(
    'ERR_PROVIDER_RESPONSE',
    `YouTube sent an unexpected response to ${endpoint}: ${what}`,
  )
}

function str(obj: Json, key: string, endpoint: string, where: string): string {
  const value = obj[key]
  if (typeof value === 'string' && value !== '') return value
  throw unexpected(endpoint, `${where}.${key} is missing or not a string`)
}

function optStr(obj: Json, key: string): string | null {
  const value = obj[key]
  return typeof value === 'string' && value !== '' ? value : null
}

function optObject(obj: Json, key: string): Json | null {
  const value = obj[key]
  return isObject(value) ? value : null
}

/**
 * Channel, playlist and video ids end up in URL paths (`/shorts/<id>`, `/watch?v=<id>`) and
 * queries: only the characters YouTube uses are accepted (letters, digits, `-`, `_`).
 */
const ID = /^[A-Za-z0-9_-]{1,64}$/

function id(obj: Json, key: string, endpoint: string, where: string): string {
  const value = str(obj, key, endpoint, where)
  if (!ID.test(value)) throw unexpected(endpoint, `${where}.${key} is not a YouTube id`)
  return value
}

/** A count Google sends as a decimal string ("7"); a plain non-negative integer is accepted too. */
export function parseCount(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return null
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : null
}

/** An RFC 3339 timestamp (`2024-05-01T12:00:00Z`) as epoch ms, or `null`. */
function timestamp(value: unknown): number | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : ms
}

// ---------------------------------------------------------------------------------------------
// URLs

/** The URL policy every platform shares (re-exported for this folder's callers and tests). */
export { HTTPS_ONLY, platformUrl, type UrlPolicy }

/** YouTube's thumbnail sizes, best first. */
export const THUMBNAIL_PREFERENCE = ['maxres', 'standard', 'high', 'medium', 'default'] as const

export interface Thumbnail {
  readonly url: string
  readonly width: number | null
  readonly height: number | null
}

/**
 * The best thumbnail available (maxres → standard → high → medium → default) whose URL the
 * policy accepts; `null` when there is none.
 */
export function bestThumbnail(thumbnails: unknown, urls: UrlPolicy = HTTPS_ONLY): Thumbnail | null {
  if (!isObject(thumbnails)) return null
  for (const size of THUMBNAIL_PREFERENCE) {
    const entry = thumbnails[size]
    if (!isObject(entry)) continue
    const url = platformUrl(entry.url, urls)
    if (url === null) continue
    return { url, width: parseCount(entry.width), height: parseCount(entry.height) }
  }
  return null
}

// ---------------------------------------------------------------------------------------------
// Tokens

/** Google's token answer (code exchange or refresh), lifetimes in seconds. */
export interface GoogleToken {
  readonly accessToken: string
  readonly expiresInSeconds: number
  /** Present after consent (`prompt=consent`, `access_type=offline`); absent on a refresh. */
  readonly refreshToken: string | null
  /** Only when the person chose time-based access on the consent screen. */
  readonly refreshTokenExpiresInSeconds: number | null
  /** The scopes granted (space-separated in the answer); `null` when the answer omits `scope`. */
  readonly scopes: readonly string[] | null
}

function positiveSeconds(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : null
}

/** RFC 6749 §5.1: `{access_token, expires_in, refresh_token?, scope, token_type: "Bearer"}`. */
export function parseTokenResponse(
  body: unknown,
  endpoint: 'code exchange' | 'token refresh',
): GoogleToken {
  if (!isObject(body)) throw unexpected(endpoint, 'the answer is not an object')
  const accessToken = str(body, 'access_token', endpoint, 'token')
  const tokenType = body.token_type
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')
    throw unexpected(endpoint, 'token.token_type is not Bearer')
  const expiresInSeconds = positiveSeconds(body.expires_in)
  if (expiresInSeconds === null)
    throw unexpected(endpoint, 'token.expires_in is missing or not a positive number')
  const refreshRaw = body.refresh_token
  if (refreshRaw !== undefined && (typeof refreshRaw !== 'string' || refreshRaw === ''))
    throw unexpected(endpoint, 'token.refresh_token is not a string')
  const scopeRaw = body.scope
  if (scopeRaw !== undefined && typeof scopeRaw !== 'string')
    throw unexpected(endpoint, 'token.scope is not a string')
  return {
    accessToken,
    expiresInSeconds,
    refreshToken: refreshRaw ?? null,
    refreshTokenExpiresInSeconds: positiveSeconds(body.refresh_token_expires_in),
    scopes: scopeRaw === undefined ? null : scopeRaw.split(' ').filter((s) => s !== ''),
  }
}

/**
 * Whether the granted scopes include `youtube.readonly`: Google's granular consent screen lets
 * the person untick it while still answering with a token. `null` (the answer omitted `scope`)
 * means, per RFC 6749 §5.1, that the scopes requested were granted.
 */
export function grantsYoutubeReadonly(scopes: readonly string[] | null): boolean {
  return scopes === null || scopes.includes(YOUTUBE_READONLY_SCOPE)
}

// ---------------------------------------------------------------------------------------------
// channels.list

export interface YoutubeChannel {
  /** `UC…`: the account's platform id. */
  readonly id: string
  readonly title: string
  /** `snippet.customUrl` without its leading `@` (`@mine` → `mine`); `null` when there is none. */
  readonly handle: string | null
  readonly avatarUrl: string | null
  /** `statistics.videoCount` (a string in Google's answer); `null` when absent or unreadable. */
  readonly videoCount: number | null
  /** `contentDetails.relatedPlaylists.uploads` (`UU…`): where the sync lists videos. */
  readonly uploadsPlaylistId: string
}

export type ChannelLookup =
  | { readonly kind: 'channel'; readonly channel: YoutubeChannel }
  /** The Google account has no YouTube channel: `items` empty or missing. */
  | { readonly kind: 'no_channel' }

/** `channels.list?part=snippet,contentDetails,statistics&mine=true` */
export function parseChannels(body: unknown, urls: UrlPolicy = HTTPS_ONLY): ChannelLookup {
  const endpoint = 'channels.list'
  if (!isObject(body)) throw unexpected(endpoint, 'the answer is not an object')
  const items = body.items
  if (items === undefined || (Array.isArray(items) && items.length === 0))
    return { kind: 'no_channel' }
  if (!Array.isArray(items)) throw unexpected(endpoint, 'items is not a list')
  const item: unknown = items[0]
  if (!isObject(item)) throw unexpected(endpoint, 'items[0] is not an object')
  const snippet = optObject(item, 'snippet')
  if (snippet === null) throw unexpected(endpoint, 'items[0].snippet is missing')
  const related = optObject(optObject(item, 'contentDetails') ?? {}, 'relatedPlaylists')
  if (related === null)
    throw unexpected(endpoint, 'items[0].contentDetails.relatedPlaylists is missing')
  const handle = optStr(snippet, 'customUrl')?.replace(/^@/, '') ?? null
  return {
    kind: 'channel',
    channel: {
      id: id(item, 'id', endpoint, 'items[0]'),
      title: str(snippet, 'title', endpoint, 'items[0].snippet'),
      handle: handle === '' ? null : handle,
      avatarUrl: bestThumbnail(snippet.thumbnails, urls)?.url ?? null,
      videoCount: parseCount(optObject(item, 'statistics')?.videoCount),
      uploadsPlaylistId: id(
        related,
        'uploads',
        endpoint,
        'items[0].contentDetails.relatedPlaylists',
      ),
    },
  }
}

// ---------------------------------------------------------------------------------------------
// playlistItems.list

export interface PlaylistEntry {
  readonly videoId: string
  /** `contentDetails.videoPublishedAt` (epoch ms); absent for a private or deleted video. */
  readonly publishedAt: number | null
}

export interface PlaylistItemsPage {
  readonly items: readonly PlaylistEntry[]
  /** Give it back as `pageToken`; `null` after the last page. */
  readonly nextPageToken: string | null
  readonly totalResults: number | null
}

/** `playlistItems.list?part=contentDetails&playlistId=UU…&maxResults=50&pageToken=…` */
export function parsePlaylistItems(body: unknown): PlaylistItemsPage {
  const endpoint = 'playlistItems.list'
  if (!isObject(body)) throw unexpected(endpoint, 'the answer is not an object')
  const items = body.items ?? []
  if (!Array.isArray(items)) throw unexpected(endpoint, 'items is not a list')
  const entries = items.map((item: unknown, i): PlaylistEntry => {
    const where = `items[${i}]`
    if (!isObject(item)) throw unexpected(endpoint, `${where} is not an object`)
    const details = optObject(item, 'contentDetails')
    if (details === null) throw unexpected(endpoint, `${where}.contentDetails is missing`)
    return {
      videoId: id(details, 'videoId', endpoint, `${where}.contentDetails`),
      publishedAt: timestamp(details.videoPublishedAt),
    }
  })
  const next = body.nextPageToken
  if (next !== undefined && (typeof next !== 'string' || next === '' || next.length > 1000))
    throw unexpected(endpoint, 'nextPageToken is not a string')
  return {
    items: entries,
    nextPageToken: next ?? null,
    totalResults: parseCount(optObject(body, 'pageInfo')?.totalResults),
  }
}

// ---------------------------------------------------------------------------------------------
// videos.list

/**
 * An ISO 8601 duration as YouTube writes them (`PT1M3S`, `PT2H`, `P1DT2H`, `P0D`, `P1W`) in whole
 * seconds; `null` for anything else (years and months, which have no fixed length, included).
 */
export function parseIsoDuration(text: string): number | null {
  const match = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
    text,
  )
  if (match === null || text === 'P' || text.endsWith('T')) return null
  const [, weeks, days, hours, minutes, seconds] = match
  const n = (part: string | undefined) => (part === undefined ? 0 : Number(part))
  const total =
    n(weeks) * 604_800 + n(days) * 86_400 + n(hours) * 3_600 + n(minutes) * 60 + n(seconds)
  return Number.isSafeInteger(Math.floor(total)) ? Math.floor(total) : null
}

export type PrivacyStatus = 'public' | 'unlisted' | 'private'
export type LiveBroadcastContent = 'none' | 'live' | 'upcoming'

export interface YoutubeVideo {
  readonly id: string
  readonly title: string
  readonly description: string
  /** `snippet.publishedAt` (epoch ms). */
  readonly publishedAt: number
  /** `contentDetails.duration` in seconds; `null` when absent or unreadable. `P0D` (an upcoming
   * broadcast) is 0. */
  readonly durationSeconds: number | null
  /**
   * `status.privacyStatus`. A value this version does not know is read as `private`, the most
   * restrictive: such a video never leaves the owner's view.
   */
  readonly privacyStatus: PrivacyStatus
  readonly liveBroadcastContent: LiveBroadcastContent
  /** Whether the answer carried `liveStreamingDetails` (live, upcoming or past broadcasts). */
  readonly hasLiveStreamingDetails: boolean
  readonly thumbnail: Thumbnail | null
  /**
   * `LIVE` for a broadcast (live now, upcoming, or a past broadcast's replay), otherwise `VIDEO`.
   * Shorts are not told apart here: YouTube has no field for them. The sync decides with a
   * `HEAD <YOUTUBE_WEB_URL>/shorts/<id>` probe and stores `productTypeOf(video, isShort)`.
   */
  readonly productType: 'LIVE' | 'VIDEO'
  /** Always `null` from the parser: unknown until the Shorts probe answers. */
  readonly isShort: boolean | null
}

const PRIVACY: readonly PrivacyStatus[] = ['public', 'unlisted', 'private']
const LIVE: readonly LiveBroadcastContent[] = ['none', 'live', 'upcoming']

/** The `media_product_type` stored: `LIVE` wins, then `SHORTS` when the probe said so. */
export function productTypeOf(
  video: Pick<YoutubeVideo, 'productType'>,
  isShort: boolean | null,
): 'LIVE' | 'SHORTS' | 'VIDEO' {
  if (video.productType === 'LIVE') return 'LIVE'
  return isShort === true ? 'SHORTS' : 'VIDEO'
}

function parseVideo(value: unknown, where: string, urls: UrlPolicy): YoutubeVideo {
  const endpoint = 'videos.list'
  if (!isObject(value)) throw unexpected(endpoint, `${where} is not an object`)
  const videoId = id(value, 'id', endpoint, where)
  const snippet = optObject(value, 'snippet')
  if (snippet === null) throw unexpected(endpoint, `${where}.snippet is missing`)
  const status = optObject(value, 'status')
  if (status === null) throw unexpected(endpoint, `${where}.status is missing`)
  const title = snippet.title
  if (typeof title !== 'string')
    throw unexpected(endpoint, `${where}.snippet.title is not a string`)
  const description = snippet.description ?? ''
  if (typeof description !== 'string')
    throw unexpected(endpoint, `${where}.snippet.description is not a string`)
  const publishedAt = timestamp(snippet.publishedAt)
  if (publishedAt === null)
    throw unexpected(endpoint, `${where}.snippet.publishedAt is missing or not a date`)
  const privacyRaw = str(status, 'privacyStatus', endpoint, `${where}.status`)
  const privacyStatus = PRIVACY.find((p) => p === privacyRaw) ?? 'private'
  const liveRaw = snippet.liveBroadcastContent
  const liveBroadcastContent = LIVE.find((l) => l === liveRaw) ?? 'none'
  const hasLiveStreamingDetails = isObject(value.liveStreamingDetails)
  const duration = optObject(value, 'contentDetails')?.duration
  return {
    id: videoId,
    title,
    description,
    publishedAt,
    durationSeconds: typeof duration === 'string' ? parseIsoDuration(duration) : null,
    privacyStatus,
    liveBroadcastContent,
    hasLiveStreamingDetails,
    thumbnail: bestThumbnail(snippet.thumbnails, urls),
    productType: liveBroadcastContent !== 'none' || hasLiveStreamingDetails ? 'LIVE' : 'VIDEO',
    isShort: null,
  }
}

/**
 * `videos.list?part=snippet,contentDetails,status,liveStreamingDetails&id=a,b,…`. Deleted ids are
 * simply absent from `items`; a missing `items` reads as none.
 */
export function parseVideos(body: unknown, urls: UrlPolicy = HTTPS_ONLY): YoutubeVideo[] {
  if (!isObject(body)) throw unexpected('videos.list', 'the answer is not an object')
  const items = body.items ?? []
  if (!Array.isArray(items)) throw unexpected('videos.list', 'items is not a list')
  return items.map((item: unknown, i) => parseVideo(item, `items[${i}]`, urls))
}

// ---------------------------------------------------------------------------------------------
// Failures

/**
 * Token shapes Google issues: access tokens (`ya29.…`), refresh tokens (`1//…`), authorization
 * codes (`4/…`). Global, for the logger's scrubbing and for `safeGoogleText`.
 */
export const GOOGLE_SECRET_SHAPES: readonly RegExp[] = [
  /\bya29\.[A-Za-z0-9._-]+/g,
  /(?<![A-Za-z0-9])1\/\/[A-Za-z0-9._-]{10,}/g,
  /(?<![A-Za-z0-9/])4\/[A-Za-z0-9._-]{10,}/g,
]

/** The longest piece of Google's own text a message repeats. */
export const MAX_GOOGLE_TEXT = 200

/**
 * Google's text made safe to show: HTML tags removed (the quota message links its docs), query
 * strings and fragments cut from URLs, token shapes replaced, whitespace collapsed, bounded.
 */
export function safeGoogleText(text: string): string {
  let out = text.replace(/<[^>]*>/g, '')
  out = out.replace(/\b(https?:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/gi, '$1')
  for (const shape of GOOGLE_SECRET_SHAPES) out = out.replace(shape, '[redacted]')
  out = out.replace(/\s+/g, ' ').trim()
  return out.length > MAX_GOOGLE_TEXT ? `${out.slice(0, MAX_GOOGLE_TEXT - 1)}…` : out
}

/** What Google's error answers say, from either shape. */
export interface GoogleErrorInfo {
  /** `error.code` of the API shape (the HTTP status Google meant). */
  readonly code: number | null
  readonly message: string | null
  /** `error.errors[].reason` (`quotaExceeded`, `authError`…), in order. */
  readonly reasons: readonly string[]
  /** `error.errors[].domain` (`youtube.quota`, `global`…), in order. */
  readonly domains: readonly string[]
  /** `error.status` (`UNAUTHENTICATED`, `PERMISSION_DENIED`…). */
  readonly status: string | null
  /** The OAuth shape's `error` (`invalid_grant`, `invalid_client`…). */
  readonly oauthError: string | null
}

/**
 * `{error: {code, message, errors: [{reason, domain}], status}}` (Data API) or
 * `{error: 'invalid_grant', error_description}` (OAuth, RFC 6749 §5.2); `null` for anything else.
 */
export function parseGoogleError(body: unknown): GoogleErrorInfo | null {
  if (!isObject(body)) return null
  const error = body.error
  if (typeof error === 'string' && error !== '') {
    return {
      code: null,
      message: optStr(body, 'error_description'),
      reasons: [],
      domains: [],
      status: null,
      oauthError: error,
    }
  }
  if (!isObject(error)) return null
  const entries = Array.isArray(error.errors) ? error.errors.filter(isObject) : []
  const code = error.code
  return {
    code: typeof code === 'number' && Number.isSafeInteger(code) ? code : null,
    message: optStr(error, 'message'),
    reasons: entries.map((e) => optStr(e, 'reason')).filter((r): r is string => r !== null),
    domains: entries.map((e) => optStr(e, 'domain')).filter((d): d is string => d !== null),
    status: optStr(error, 'status'),
    oauthError: null,
  }
}

/** The quota's time zone: Google resets the Data API quota at midnight Pacific time. */
export const QUOTA_TIME_ZONE = 'America/Los_Angeles'

/** The back-off after `rateLimitExceeded` / `userRateLimitExceeded`. */
export const SHORT_BACKOFF_SECONDS = 60

/** Seconds from `now` to the next midnight America/Los_Angeles (DST-aware), at least 1. */
export function secondsUntilQuotaReset(now: number): number {
  const reset = dayAt(QUOTA_TIME_ZONE, now).end
  return Math.max(1, Math.ceil(Math.min(reset - now, MAX_PLATFORM_BACKOFF_MS) / 1000))
}

function hoursText(seconds: number): string {
  const hours = Math.round(seconds / 3600)
  if (hours >= 1) return `about ${hours} hour${hours === 1 ? '' : 's'}`
  const minutes = Math.max(1, Math.round(seconds / 60))
  return `about ${minutes} minute${minutes === 1 ? '' : 's'}`
}

const RATE_REASONS: ReadonlySet<string> = new Set(['rateLimitExceeded', 'userRateLimitExceeded'])
const TRANSIENT_REASONS: ReadonlySet<string> = new Set(['backendError', 'internalError'])

/**
 * A failed answer as the `GalleryError` the services act on (providers.md §1.4, issue 14 item 6).
 * `endpoint` names the call in the message; `now` (epoch ms) dates the quota's reset.
 *
 * - `quotaExceeded` (domain `youtube.quota`) → `ERR_RATE_LIMITED` until midnight Pacific time;
 * - `rateLimitExceeded`, `userRateLimitExceeded`, HTTP 429 → `ERR_RATE_LIMITED`, a short back-off;
 * - `backendError`, 5xx → `ERR_PROVIDER_UNAVAILABLE`;
 * - `invalid_client`, `unauthorized_client` (our own OAuth client) → `ERR_PROVIDER_RESPONSE`;
 * - `invalid_grant`, 401 / `authError`, `insufficientPermissions` → `ERR_REAUTH_REQUIRED` (the
 *   client refreshes once on a 401 before it gives up: that is its decision, not the parser's);
 * - anything else → `ERR_PROVIDER_RESPONSE` with Google's message, made safe.
 */
export function classifyGoogleFailure(
  status: number,
  body: unknown,
  endpoint: YoutubeEndpoint,
  now: number,
): GalleryError {
  const info = parseGoogleError(body)
  const googleText = safeGoogleText(info?.message ?? '') || `HTTP ${status}`
  const reasons = info?.reasons ?? []

  if (info?.oauthError === 'invalid_grant') {
    return new GalleryError(
      'ERR_REAUTH_REQUIRED',
      'Google no longer accepts this YouTube connection (its access was revoked or has expired); reconnect the channel',
    )
  }
  if (info?.oauthError === 'invalid_client' || info?.oauthError === 'unauthorized_client') {
    // the app's own credentials, not the person's connection: nothing to reconnect
    return new GalleryError(
      'ERR_PROVIDER_RESPONSE',
      `Google refused this app's OAuth client (${endpoint}): check YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET (${googleText})`,
    )
  }
  if (reasons.includes('quotaExceeded') || info?.domains.includes('youtube.quota') === true) {
    const seconds = secondsUntilQuotaReset(now)
    return new GalleryError(
      'ERR_RATE_LIMITED',
      `This app's daily YouTube quota is used up; YouTube syncs resume after midnight Pacific time (in ${hoursText(seconds)})`,
      { retryAfterSeconds: seconds },
    )
  }
  if (reasons.some((r) => RATE_REASONS.has(r)) || status === 429) {
    return new GalleryError(
      'ERR_RATE_LIMITED',
      `YouTube asked us to slow down (${endpoint}); trying again in about a minute`,
      { retryAfterSeconds: SHORT_BACKOFF_SECONDS },
    )
  }
  if (status >= 500 || reasons.some((r) => TRANSIENT_REASONS.has(r))) {
    return new GalleryError(
      'ERR_PROVIDER_UNAVAILABLE',
      `YouTube is temporarily unavailable (${endpoint}); try again later`,
      { retryAfterSeconds: 60 },
    )
  }
  if (status === 401 || reasons.includes('authError') || info?.status === 'UNAUTHENTICATED') {
    return new GalleryError(
      'ERR_REAUTH_REQUIRED',
      'Google no longer accepts this YouTube connection; reconnect the channel',
    )
  }
  if (reasons.includes('insufficientPermissions')) {
    return new GalleryError(
      'ERR_REAUTH_REQUIRED',
      'The permission to see your YouTube account was not granted; reconnect and leave it ticked on Google’s consent screen',
    )
  }
  if (reasons.includes('youtubeSignupRequired')) {
    return new GalleryError(
      'ERR_PROVIDER_RESPONSE',
      'This Google account has no YouTube channel; create one on youtube.com, then connect again',
    )
  }
  if (info?.oauthError != null) {
    return new GalleryError(
      'ERR_PROVIDER_RESPONSE',
      `Google refused the request (${endpoint}): ${safeGoogleText(info.oauthError)}${info.message === null ? '' : ` (${googleText})`}`,
    )
  }
  return new GalleryError(
    'ERR_PROVIDER_RESPONSE',
    `YouTube refused the request (${endpoint}): ${googleText}`,
  )
}

const DAY_MS = 86_400_000
/** A Google project in "Testing" with an External audience issues refresh tokens for 7 days. */
export const TESTING_REFRESH_TOKEN_LIFETIME_MS = 7 * DAY_MS

/**
 * What to tell the person when a refresh answers `invalid_grant`, given when the channel was
 * connected. About 7 days after connecting (from 6½ to 9 days: refreshes happen only before
 * calls, so the failure shows at the first sync after the 7th day), the likely cause is a Google
 * project left in "Testing", whose refresh tokens expire after 7 days.
 */
export function invalidGrantMessage(connectedAt: number, now: number): string {
  const age = now - connectedAt
  if (age >= TESTING_REFRESH_TOKEN_LIFETIME_MS - DAY_MS / 2 && age < 9 * DAY_MS) {
    return (
      'Google stopped accepting this YouTube connection about 7 days after it was made. The Google ' +
      'Cloud project is probably in "Testing" mode, whose refresh tokens expire after 7 days: ' +
      'publish the app ("In production" on the OAuth consent screen), then reconnect the channel.'
    )
  }
  return 'Google no longer accepts this YouTube connection (its access was revoked or has expired); reconnect the channel.'
}

/**
 * What to tell the person when a YouTube connection has run out by its own clock. Google gives a
 * refresh token a lifetime (`refresh_token_expires_in`) only for time-limited grants: a project in
 * "Testing" (7 days) or access the person chose to limit on the consent screen.
 */
export const YOUTUBE_EXPIRED_MESSAGE =
  'This YouTube connection has run out: Google gave it a limited lifetime. A Google Cloud project ' +
  'in "Testing" mode limits connections to 7 days: publish the app ("In production" on the OAuth ' +
  'consent screen), then reconnect the channel.'
