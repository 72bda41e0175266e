/**
 * @module providers/instagram/parse — pure parsers for Instagram's answers. Remote JSON is
 * `unknown` until checked here; errors name the missing or malformed field.
 *
 * @see shared/reference/instagram-api.md §2.3-§2.6, §3, §4
 */
import type { PlatformUsage } from '../http/send.ts'
import { GalleryError } from '../../errors.ts'
import type { MediaInput, MediaType } from '../../store/types.ts'
import { MAX_PLATFORM_BACKOFF_MINUTES } from '../../socials/platform-backoff.ts'
import { HTTPS_ONLY, platformUrl, type UrlPolicy } from '../http/urls.ts'

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function unexpected(what: string): GalleryError {
  return new GalleryError('ERR_PROVIDER_RESPONSE', `Instagram sent an unexpected response: ${what}`)
}

/**
 * Parses JSON keeping large integer ids as strings: Meta sends `user_id` (and sometimes `id`) as
 * unquoted 17-digit numbers, above 2^53, which `JSON.parse` would silently round.
 */
export function parseJsonKeepingIds(text: string): unknown {
  const quoted = text.replace(/(?<!\\)("(?:user_id|id)"\s*:\s*)(-?\d+)(?=\s*[,}\]])/g, '$1"$2"')
  try {
    return JSON.parse(quoted) as unknown
  } catch {
    throw unexpected('the body is not JSON')
  }
}

function str(obj: Json, key: string, where: string): string {
  const value = obj[key]
  if (typeof value === 'string' && value !== '') return value
  throw unexpected(`${where}.${key} is missing or not a string`)
}
function optStr(obj: Json, key: string): string | null {
  const value = obj[key]
  return typeof value === 'string' && value !== '' ? value : null
}

/** The URL policy every platform shares (re-exported for this folder's callers and tests). */
export { HTTPS_ONLY, platformUrl, type UrlPolicy }

function optInt(obj: Json, key: string): number | null {
  const value = obj[key]
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null
}

export interface ShortLivedToken {
  readonly accessToken: string
  /** App-scoped user id, as a string. */
  readonly userId: string
  readonly permissions: readonly string[]
}

/** Code exchange: accepts the flat shape seen live and the documented `{"data":[...]}` one. */
export function parseCodeExchange(body: unknown): ShortLivedToken {
  let obj = body
  if (isObject(obj) && Array.isArray(obj.data)) obj = obj.data[0]
  if (!isObject(obj)) throw unexpected('token response is not an object')
  const permissionsRaw = obj.permissions
  const permissions = Array.isArray(permissionsRaw)
    ? permissionsRaw.filter((p): p is string => typeof p === 'string')
    : typeof permissionsRaw === 'string'
      ? permissionsRaw
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== '')
      : []
  const userId = obj.user_id
  if (typeof userId !== 'string' || !/^\d{1,30}$/.test(userId))
    throw unexpected('token response user_id is missing')
  return { accessToken: str(obj, 'access_token', 'token response'), userId, permissions }
}

export interface LongLivedToken {
  readonly accessToken: string
  readonly expiresInSeconds: number
}

/** `ig_exchange_token` and `ig_refresh_token` answers: `{access_token, token_type, expires_in}`. */
export function parseLongLivedToken(body: unknown): LongLivedToken {
  if (!isObject(body)) throw unexpected('token response is not an object')
  const expires = body.expires_in
  if (typeof expires !== 'number' || !Number.isFinite(expires) || expires <= 0)
    throw unexpected('expires_in is missing')
  return {
    accessToken: str(body, 'access_token', 'token response'),
    expiresInSeconds: Math.floor(expires),
  }
}

export interface InstagramProfile {
  /** App-scoped id. */
  readonly id: string
  /** Professional account id (webhooks' `entry.id`). */
  readonly userId: string
  readonly username: string
  /** `BUSINESS`, `MEDIA_CREATOR`, or anything else Meta may send (e.g. `PERSONAL`). */
  readonly accountType: string
  readonly profilePictureUrl: string | null
  readonly mediaCount: number | null
}

export function parseProfile(body: unknown, urls: UrlPolicy = HTTPS_ONLY): InstagramProfile {
  let obj = body
  if (isObject(obj) && Array.isArray(obj.data)) obj = obj.data[0]
  if (!isObject(obj)) throw unexpected('/me is not an object')
  const id = str(obj, 'id', '/me')
  return {
    id,
    userId: optStr(obj, 'user_id') ?? id,
    username: str(obj, 'username', '/me'),
    accountType: (optStr(obj, 'account_type') ?? 'UNKNOWN').toUpperCase(),
    profilePictureUrl: platformUrl(obj.profile_picture_url, urls),
    mediaCount: optInt(obj, 'media_count'),
  }
}

const MEDIA_TYPES: readonly MediaType[] = ['IMAGE', 'VIDEO', 'CAROUSEL_ALBUM']

/** Graph timestamps look like `2023-10-20T17:40:47+0000`. */
export function parseGraphTimestamp(text: string): number | null {
  const ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
  return Number.isNaN(ms) ? null : ms
}

/**
 * When a signed Instagram CDN URL stops working: its `oe` parameter is the expiry in hexadecimal
 * Unix seconds (instagram-api.md §5). `null` when the URL carries no readable `oe`.
 */
export function parseCdnExpiry(url: string | null): number | null {
  if (url === null) return null
  let oe: string | null
  try {
    oe = new URL(url).searchParams.get('oe')
  } catch {
    return null
  }
  if (oe === null || !/^[0-9A-Fa-f]{1,12}$/.test(oe)) return null
  return parseInt(oe, 16) * 1000
}

/** The earliest expiry among an item's URLs. */
function urlsExpireAt(...urls: (string | null)[]): number | null {
  const times = urls.map(parseCdnExpiry).filter((t): t is number => t !== null)
  return times.length === 0 ? null : Math.min(...times)
}

function parseMediaItem(
  value: unknown,
  where: string,
  urls: UrlPolicy,
): Omit<MediaInput, 'children'> & { rawChildren: unknown } {
  if (!isObject(value)) throw unexpected(`${where} is not an object`)
  const id = str(value, 'id', where)
  const type = value.media_type
  const mediaType = MEDIA_TYPES.find((t) => t === type)
  if (mediaType === undefined)
    throw unexpected(`${where}.media_type is not IMAGE, VIDEO or CAROUSEL_ALBUM`)
  const ts = typeof value.timestamp === 'string' ? parseGraphTimestamp(value.timestamp) : null
  if (ts === null) throw unexpected(`${where}.timestamp is missing or not a date`)
  // a URL the policy refuses is stored as null: the item keeps its row (the page shows a
  // placeholder), it is never a reason to fail the page
  const mediaUrl = platformUrl(value.media_url, urls)
  const thumbnailUrl = platformUrl(value.thumbnail_url, urls)
  return {
    platform_media_id: id,
    media_type: mediaType,
    media_product_type: optStr(value, 'media_product_type'),
    media_url: mediaUrl,
    thumbnail_url: thumbnailUrl,
    url_expires_at: urlsExpireAt(mediaUrl, thumbnailUrl),
    permalink: platformUrl(value.permalink, urls),
    caption: optStr(value, 'caption'),
    timestamp: ts,
    // Instagram's API gives no video length; every post it lists is public
    duration_seconds: null,
    visibility: 'public',
    rawChildren: value.children,
  }
}

export interface MediaPage {
  readonly items: readonly MediaInput[]
  /** Absolute URL of the next page, if any (it repeats the access token: never log it). */
  readonly next: string | null
  /** The cursor after this page (`paging.cursors.after`): resumes paging without the token. */
  readonly after: string | null
}

export function parseMediaPage(body: unknown, urls: UrlPolicy = HTTPS_ONLY): MediaPage {
  if (!isObject(body) || !Array.isArray(body.data)) throw unexpected('media page has no data array')
  const items = body.data.map((raw, index): MediaInput => {
    const { rawChildren, ...item } = parseMediaItem(raw, `data[${index}]`, urls)
    let children: Omit<MediaInput, 'children'>[] = []
    if (isObject(rawChildren) && Array.isArray(rawChildren.data)) {
      children = rawChildren.data.map((child, c) => {
        const { rawChildren: _ignored, ...parsed } = parseMediaItem(
          isObject(child)
            ? { timestamp: raw && isObject(raw) ? raw.timestamp : undefined, ...child }
            : child,
          `data[${index}].children[${c}]`,
          urls,
        )
        return parsed
      })
    }
    return { ...item, children }
  })
  const paging = body.paging
  const next =
    isObject(paging) && typeof paging.next === 'string' && paging.next !== '' ? paging.next : null
  const cursors = isObject(paging) ? paging.cursors : undefined
  const after =
    isObject(cursors) && typeof cursors.after === 'string' && cursors.after !== ''
      ? cursors.after
      : null
  return { items, next, after }
}

/** A Graph API error body `{"error":{message, type, code, error_subcode, is_transient}}`. */
export interface GraphErrorInfo {
  readonly code: number | null
  readonly subcode: number | null
  readonly message: string
  readonly isTransient: boolean
}

/** Reads either error shape: Graph's nested one or the token endpoint's flat one. */
export function parseErrorBody(body: unknown): GraphErrorInfo | null {
  if (!isObject(body)) return null
  const nested = body.error
  if (isObject(nested)) {
    return {
      code: typeof nested.code === 'number' ? nested.code : null,
      subcode: typeof nested.error_subcode === 'number' ? nested.error_subcode : null,
      message: typeof nested.message === 'string' ? nested.message : 'Unknown error',
      isTransient: nested.is_transient === true,
    }
  }
  if (typeof body.error_message === 'string' || typeof body.error_type === 'string') {
    return {
      code: typeof body.code === 'number' ? body.code : null,
      subcode: null,
      message: typeof body.error_message === 'string' ? body.error_message : 'Unknown error',
      isTransient: false,
    }
  }
  return null
}

/** Meta's usage headers, as the governor reads them (`regainMinutes` bounded: red team F4). */
export type UsageReport = PlatformUsage

function maxPercent(obj: Json): number | null {
  const values = ['call_count', 'total_cputime', 'total_time']
    .map((k) => obj[k])
    .filter((v): v is number => typeof v === 'number')
  return values.length === 0 ? null : Math.max(...values)
}

/** Parses `X-App-Usage` and `X-Business-Use-Case-Usage`; malformed headers count as absent. */
export function parseUsageHeaders(
  appUsage: string | null,
  businessUsage: string | null,
): UsageReport {
  let appPercent: number | null = null
  let businessPercent: number | null = null
  let regainMinutes: number | null = null
  try {
    const app: unknown = appUsage === null ? null : JSON.parse(appUsage)
    if (isObject(app)) appPercent = maxPercent(app)
  } catch {
    // ignore a malformed header
  }
  try {
    const buc: unknown = businessUsage === null ? null : JSON.parse(businessUsage)
    if (isObject(buc)) {
      for (const entries of Object.values(buc)) {
        if (!Array.isArray(entries)) continue
        for (const entry of entries) {
          if (!isObject(entry)) continue
          const pct = maxPercent(entry)
          if (pct !== null) businessPercent = Math.max(businessPercent ?? 0, pct)
          const regain = entry.estimated_time_to_regain_access
          if (typeof regain === 'number' && regain > 0)
            regainMinutes = Math.max(regainMinutes ?? 0, regain)
        }
      }
    }
  } catch {
    // ignore a malformed header
  }
  // one absurd answer must not stop Instagram calls for centuries: the governor logs the clamp
  const clampedFrom =
    regainMinutes !== null && regainMinutes > MAX_PLATFORM_BACKOFF_MINUTES ? regainMinutes : null
  if (clampedFrom !== null) regainMinutes = MAX_PLATFORM_BACKOFF_MINUTES
  return { appPercent, businessPercent, regainMinutes, regainMinutesClampedFrom: clampedFrom }
}
