/**
 * @module providers/x/parse — pure parsers for X's answers (OAuth 2.0 and API v2). Remote JSON is
 * `unknown` until checked here; a malformed answer throws `ERR_PROVIDER_RESPONSE` naming the
 * endpoint and the field. Failure answers (RFC 7807 problems, `{errors: […]}`, OAuth errors)
 * become the `GalleryError` the services act on (`classifyXFailure`); the rate-limit headers are
 * read by `readXRateLimit` / `xUsage`; a post with media becomes the store's `MediaInput`
 * (`xPostToMedia`).
 *
 * Messages never carry a token or a URL with a query string (`safeXText`).
 *
 * @see shared/reference/providers.md §3.1-§3.5; RFC 6749 §5.1-§5.2; RFC 7807
 */
import { GalleryError } from '../../errors.ts'
import { monthAt } from '../../socials/budget-windows.ts'
import { MAX_PLATFORM_BACKOFF_MS, clampPlatformBackoffMs } from '../../socials/platform-backoff.ts'
import type { MediaInput } from '../../store/types.ts'
import type { PlatformUsage } from '../http/send.ts'
import { HTTPS_ONLY, platformUrl, type UrlPolicy } from '../http/urls.ts'
import { X_SCOPES } from './config.ts'

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The calls whose answers are parsed here, as messages name them. */
export type XEndpoint = 'code exchange' | 'token refresh' | 'revoke' | 'users/me' | 'timeline'

function unexpected(endpoint: string, what: string): GalleryError {
  return new GalleryError(
    'ERR_PROVIDER_RESPONSE',
    `X sent an unexpected response to ${endpoint}: ${what}`,
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

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null
}

/** X's ids are decimal snowflakes beyond 2^53: kept as strings, digits only. */
const ID = /^\d{1,19}$/
/** `media_key`: `<type digit>_<id>` (providers.md §3.3). */
const MEDIA_KEY = /^\d{1,3}_\d{1,19}$/
/** Handles are letters, digits and `_` (they end up in permalink paths). */
const USERNAME = /^[A-Za-z0-9_]{1,50}$/
/** `pagination_token` / `next_token`: opaque, base32hex in practice; bounded and URL-safe. */
const PAGE_TOKEN = /^[A-Za-z0-9_-]{1,256}$/

function id(obj: Json, key: string, endpoint: string, where: string): string {
  const value = str(obj, key, endpoint, where)
  if (!ID.test(value)) throw unexpected(endpoint, `${where}.${key} is not an X id`)
  return value
}

/** An ISO 8601 timestamp (`2026-05-01T10:00:00.000Z`) as epoch ms, or `null`. */
function timestamp(value: unknown): number | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : ms
}

export { HTTPS_ONLY, platformUrl, type UrlPolicy }

// ---------------------------------------------------------------------------------------------
// Tokens

/** X's token answer (code exchange or refresh), lifetimes in seconds. */
export interface XToken {
  readonly accessToken: string
  /** 7200 (two hours) in X's answers. */
  readonly expiresInSeconds: number
  /**
   * Present when `offline.access` was granted; single-use: each refresh answers a new one and the
   * one sent stops working, so it must replace the stored one.
   */
  readonly refreshToken: string | null
  /** The scopes granted (space-separated in the answer); `null` when the answer omits `scope`. */
  readonly scopes: readonly string[] | null
}

/** `{token_type: "bearer", expires_in, access_token, scope, refresh_token?}` (providers.md §3.1). */
export function parseXToken(body: unknown, endpoint: 'code exchange' | 'token refresh'): XToken {
  if (!isObject(body)) throw unexpected(endpoint, 'the answer is not an object')
  const accessToken = str(body, 'access_token', endpoint, 'token')
  const tokenType = body.token_type
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')
    throw unexpected(endpoint, 'token.token_type is not bearer')
  const expires = body.expires_in
  if (typeof expires !== 'number' || !Number.isFinite(expires) || expires <= 0)
    throw unexpected(endpoint, 'token.expires_in is missing or not a positive number')
  const refreshRaw = body.refresh_token
  if (refreshRaw !== undefined && (typeof refreshRaw !== 'string' || refreshRaw === ''))
    throw unexpected(endpoint, 'token.refresh_token is not a string')
  const scopeRaw = body.scope
  if (scopeRaw !== undefined && typeof scopeRaw !== 'string')
    throw unexpected(endpoint, 'token.scope is not a string')
  return {
    accessToken,
    expiresInSeconds: Math.floor(expires),
    refreshToken: refreshRaw ?? null,
    scopes: scopeRaw === undefined ? null : scopeRaw.split(' ').filter((s) => s !== ''),
  }
}

/**
 * The scopes the gallery needs (`X_SCOPES`) that the grant lacks; `[]` when it has them all. `null`
 * (the answer omitted `scope`) means, per RFC 6749 §5.1, that what was requested was granted.
 */
export function missingXScopes(scopes: readonly string[] | null): string[] {
  if (scopes === null) return []
  return X_SCOPES.filter((s) => !scopes.includes(s))
}

// ---------------------------------------------------------------------------------------------
// /2/users/me

export interface XUser {
  readonly id: string
  /** The display name. */
  readonly name: string
  /** The handle, without `@`. */
  readonly username: string
  readonly avatarUrl: string | null
  /** `public_metrics.tweet_count`; `null` when absent. */
  readonly postCount: number | null
  readonly followersCount: number | null
}

/** `GET /2/users/me?user.fields=profile_image_url,public_metrics`: `{data: {id, name, username, …}}`. */
export function parseXUser(body: unknown, urls: UrlPolicy = HTTPS_ONLY): XUser {
  const endpoint = 'users/me'
  if (!isObject(body)) throw unexpected(endpoint, 'the answer is not an object')
  const data = body.data
  if (!isObject(data)) throw unexpected(endpoint, 'data is missing')
  const username = str(data, 'username', endpoint, 'data')
  if (!USERNAME.test(username)) throw unexpected(endpoint, 'data.username is not an X handle')
  const metrics = isObject(data.public_metrics) ? data.public_metrics : {}
  return {
    id: id(data, 'id', endpoint, 'data'),
    name: str(data, 'name', endpoint, 'data'),
    username,
    avatarUrl: platformUrl(data.profile_image_url, urls),
    postCount: count(metrics.tweet_count),
    followersCount: count(metrics.followers_count),
  }
}

// ---------------------------------------------------------------------------------------------
// /2/users/:id/tweets

export type XMediaType = 'photo' | 'video' | 'animated_gif'

export interface XVariant {
  /** `null` for the HLS playlist, which has no bit rate. */
  readonly bitRate: number | null
  readonly contentType: string
  readonly url: string
}

export interface XMedia {
  readonly mediaKey: string
  readonly type: XMediaType
  /** A photo's picture. */
  readonly url: string | null
  /** A video's or GIF's still. */
  readonly previewImageUrl: string | null
  readonly width: number | null
  readonly height: number | null
  readonly durationMs: number | null
  readonly altText: string | null
  /** Only variants whose URL the policy accepts. */
  readonly variants: readonly XVariant[]
}

export interface XPost {
  readonly id: string
  readonly text: string
  /** `created_at` (epoch ms). */
  readonly createdAt: number
  /** `attachments.media_keys`, in the post's order. */
  readonly mediaKeys: readonly string[]
}

/** A partial error of a listing (`errors[]` next to `data`): a post or media X could not return. */
export interface XPartialError {
  readonly title: string | null
  readonly detail: string | null
  readonly type: string | null
}

export interface XTimelinePage {
  /** Newest first, as X lists them. */
  readonly posts: readonly XPost[]
  readonly media: ReadonlyMap<string, XMedia>
  /** Give it back as `pagination_token`; `null` after the last page. */
  readonly nextToken: string | null
  readonly resultCount: number
  /** `meta.newest_id`: give it as `since_id` to the next routine sync. */
  readonly newestId: string | null
  readonly oldestId: string | null
  /** The posts X billed for this page (every post returned, with media or not). */
  readonly postsRead: number
  readonly partialErrors: readonly XPartialError[]
}

const MEDIA_TYPES: readonly XMediaType[] = ['photo', 'video', 'animated_gif']

function parseMedia(value: unknown, where: string, urls: UrlPolicy): XMedia | null {
  const endpoint = 'timeline'
  if (!isObject(value)) throw unexpected(endpoint, `${where} is not an object`)
  const mediaKey = str(value, 'media_key', endpoint, where)
  if (!MEDIA_KEY.test(mediaKey)) throw unexpected(endpoint, `${where}.media_key is not a media key`)
  const type = MEDIA_TYPES.find((t) => t === value.type)
  // a type this version does not know is left out, like media X could not return
  if (type === undefined) return null
  const rawVariants = value.variants ?? []
  if (!Array.isArray(rawVariants)) throw unexpected(endpoint, `${where}.variants is not a list`)
  const variants: XVariant[] = []
  rawVariants.forEach((v: unknown, i) => {
    if (!isObject(v)) throw unexpected(endpoint, `${where}.variants[${i}] is not an object`)
    const url = platformUrl(v.url, urls)
    const contentType = optStr(v, 'content_type')
    if (url === null || contentType === null) return
    variants.push({ bitRate: count(v.bit_rate), contentType, url })
  })
  return {
    mediaKey,
    type,
    url: platformUrl(value.url, urls),
    previewImageUrl: platformUrl(value.preview_image_url, urls),
    width: count(value.width),
    height: count(value.height),
    durationMs: count(value.duration_ms),
    altText: optStr(value, 'alt_text'),
    variants,
  }
}

function parsePost(value: unknown, where: string): XPost {
  const endpoint = 'timeline'
  if (!isObject(value)) throw unexpected(endpoint, `${where} is not an object`)
  const text = value.text
  if (typeof text !== 'string') throw unexpected(endpoint, `${where}.text is not a string`)
  const createdAt = timestamp(value.created_at)
  if (createdAt === null) throw unexpected(endpoint, `${where}.created_at is missing or not a date`)
  const attachments = value.attachments
  let mediaKeys: string[] = []
  if (attachments !== undefined) {
    if (!isObject(attachments)) throw unexpected(endpoint, `${where}.attachments is not an object`)
    const keys = attachments.media_keys ?? []
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string' && MEDIA_KEY.test(k)))
      throw unexpected(endpoint, `${where}.attachments.media_keys is not a list of media keys`)
    mediaKeys = keys as string[]
  }
  return { id: id(value, 'id', endpoint, where), text, createdAt, mediaKeys }
}

/**
 * `GET /2/users/:id/tweets?expansions=attachments.media_keys&media.fields=…&tweet.fields=created_at,attachments&exclude=replies,retweets&max_results=100`
 * `{data?, includes?: {media?}, meta: {result_count, newest_id?, oldest_id?, next_token?}, errors?}`.
 * An empty page has no `data` (`{"meta":{"result_count":0}}`).
 */
export function parseXTimeline(body: unknown, urls: UrlPolicy = HTTPS_ONLY): XTimelinePage {
  const endpoint = 'timeline'
  if (!isObject(body)) throw unexpected(endpoint, 'the answer is not an object')
  const meta = body.meta
  if (!isObject(meta)) {
    // `{errors: […]}` alone: X could not list them (an unknown or suspended user)
    const info = parseXError(body)
    if (info !== null && info.errors.length > 0)
      throw new GalleryError(
        'ERR_PROVIDER_RESPONSE',
        `X could not list the posts (${endpoint}): ${safeXText(info.detail ?? info.title ?? 'unknown error')}`,
      )
    throw unexpected(endpoint, 'meta is missing')
  }
  const resultCount = count(meta.result_count)
  if (resultCount === null) throw unexpected(endpoint, 'meta.result_count is not a count')
  const data = body.data ?? []
  if (!Array.isArray(data)) throw unexpected(endpoint, 'data is not a list')
  const posts = data.map((post: unknown, i) => parsePost(post, `data[${i}]`))
  const includes = body.includes ?? {}
  if (!isObject(includes)) throw unexpected(endpoint, 'includes is not an object')
  const rawMedia = includes.media ?? []
  if (!Array.isArray(rawMedia)) throw unexpected(endpoint, 'includes.media is not a list')
  const media = new Map<string, XMedia>()
  rawMedia.forEach((m: unknown, i) => {
    const parsed = parseMedia(m, `includes.media[${i}]`, urls)
    if (parsed !== null) media.set(parsed.mediaKey, parsed)
  })
  const next = meta.next_token
  if (next !== undefined && (typeof next !== 'string' || !PAGE_TOKEN.test(next)))
    throw unexpected(endpoint, 'meta.next_token is not a page token')
  const newest = optStr(meta, 'newest_id')
  const oldest = optStr(meta, 'oldest_id')
  if (newest !== null && !ID.test(newest))
    throw unexpected(endpoint, 'meta.newest_id is not an X id')
  if (oldest !== null && !ID.test(oldest))
    throw unexpected(endpoint, 'meta.oldest_id is not an X id')
  const errors = Array.isArray(body.errors) ? body.errors.filter(isObject) : []
  return {
    posts,
    media,
    nextToken: next ?? null,
    resultCount,
    newestId: newest,
    oldestId: oldest,
    postsRead: posts.length,
    partialErrors: errors.map((e) => ({
      title: optStr(e, 'title'),
      detail: optStr(e, 'detail'),
      type: optStr(e, 'type'),
    })),
  }
}

// ---------------------------------------------------------------------------------------------
// Posts as stored media

/** The post's page on X. */
export function xPermalink(username: string, postId: string): string {
  return `https://x.com/${encodeURIComponent(username)}/status/${postId}`
}

/** The MP4 of the highest bit rate, else `null` (an HLS-only video). */
export function bestMp4(variants: readonly XVariant[]): XVariant | null {
  let best: XVariant | null = null
  for (const v of variants) {
    if (v.contentType.toLowerCase() !== 'video/mp4') continue
    if (best === null || (v.bitRate ?? -1) > (best.bitRate ?? -1)) best = v
  }
  return best
}

type MediaItem = Omit<MediaInput, 'children'>

function mediaItem(
  media: XMedia,
  platformId: string,
  base: Omit<
    MediaItem,
    | 'platform_media_id'
    | 'media_type'
    | 'media_product_type'
    | 'media_url'
    | 'thumbnail_url'
    | 'duration_seconds'
  >,
): MediaItem | null {
  if (media.type === 'photo') {
    if (media.url === null) return null
    return {
      ...base,
      platform_media_id: platformId,
      media_type: 'IMAGE',
      media_product_type: null,
      media_url: media.url,
      thumbnail_url: null,
      duration_seconds: null,
    }
  }
  const mp4 = bestMp4(media.variants)
  if (mp4 === null && media.previewImageUrl === null) return null
  return {
    ...base,
    platform_media_id: platformId,
    media_type: 'VIDEO',
    // a GIF is an MP4 on X, looped by the player
    media_product_type: media.type === 'animated_gif' ? 'ANIMATED_GIF' : null,
    media_url: mp4?.url ?? null,
    thumbnail_url: media.previewImageUrl,
    duration_seconds: media.durationMs === null ? null : Math.round(media.durationMs / 1000),
  }
}

/** X's HTML escapes in post text (it escapes exactly these three). */
const X_ESCAPES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>' }

/**
 * A media post's text as a caption: X ends it with the t.co link of its own attachment, which is
 * the picture the gallery already shows, so that last link goes; X's three HTML escapes are
 * undone (once: `&amp;lt;` is the text `&lt;`). `null` when nothing is left.
 */
export function xCaption(text: string): string | null {
  const caption = text
    .replace(/\s*https:\/\/t\.co\/[A-Za-z0-9]+\s*$/u, '')
    .replace(/&(?:amp|lt|gt);/g, (escape) => X_ESCAPES[escape] ?? escape)
    .trim()
  return caption === '' ? null : caption
}

/**
 * A post as the store's `MediaInput`, or `null` for a post without (usable) media: a text-only
 * post is not a gallery item. One photo → `IMAGE`; one video or GIF → `VIDEO` (the MP4 of the
 * highest bit rate, the preview picture as thumbnail, `duration_ms` in seconds); several media →
 * `CAROUSEL_ALBUM` whose children are the media (ids: their `media_key`), the album showing the
 * first. Keys missing from `includes.media` (media X could not return) are skipped.
 */
export function xPostToMedia(
  post: XPost,
  media: ReadonlyMap<string, XMedia>,
  username: string,
): MediaInput | null {
  const base = {
    permalink: xPermalink(username, post.id),
    caption: xCaption(post.text),
    timestamp: post.createdAt,
    url_expires_at: null,
    visibility: 'public' as const,
  }
  const items: MediaItem[] = []
  for (const key of post.mediaKeys) {
    const found = media.get(key)
    const item = found === undefined ? null : mediaItem(found, key, base)
    if (item !== null) items.push(item)
  }
  const [first] = items
  if (first === undefined) return null
  if (items.length === 1) return { ...first, platform_media_id: post.id, children: [] }
  return {
    ...base,
    platform_media_id: post.id,
    media_type: 'CAROUSEL_ALBUM',
    media_product_type: null,
    media_url: first.media_type === 'IMAGE' ? first.media_url : first.thumbnail_url,
    thumbnail_url: first.thumbnail_url,
    duration_seconds: null,
    children: items.map((child) => ({ ...child, caption: null })),
  }
}

// ---------------------------------------------------------------------------------------------
// Rate-limit headers

/** `x-rate-limit-limit`, `-remaining`, `-reset` of one endpoint's 15-minute window. */
export interface XRateLimit {
  readonly limit: number
  readonly remaining: number
  /** When the window resets (epoch ms; X sends Unix seconds). */
  readonly resetAt: number
}

/** The header as a whole number, or `null`. */
function headerInt(headers: Headers, name: string): number | null {
  const raw = headers.get(name)?.trim()
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) return null
  return Number(raw)
}

/** The three rate-limit headers, or `null` when any is missing or not a number. */
export function readXRateLimit(headers: Headers): XRateLimit | null {
  const limit = headerInt(headers, 'x-rate-limit-limit')
  const remaining = headerInt(headers, 'x-rate-limit-remaining')
  const reset = headerInt(headers, 'x-rate-limit-reset')
  if (limit === null || remaining === null || reset === null || limit === 0) return null
  return { limit, remaining: Math.min(remaining, limit), resetAt: reset * 1000 }
}

export const NO_X_USAGE: PlatformUsage = Object.freeze({
  appPercent: null,
  businessPercent: null,
  regainMinutes: null,
  regainMinutesClampedFrom: null,
})

/**
 * The usage X reports as the rate governor reads it: the share of the endpoint's window spent
 * (`businessPercent`: the limits of calls with a user's token are per user) and, when the window
 * is spent (`remaining` 0), the minutes until `x-rate-limit-reset`, at most 24 hours.
 */
export function xUsage(headers: Headers, now: number): PlatformUsage {
  const rate = readXRateLimit(headers)
  if (rate === null) return NO_X_USAGE
  const percent = Math.round(((rate.limit - rate.remaining) / rate.limit) * 100)
  if (rate.remaining > 0) return { ...NO_X_USAGE, businessPercent: percent }
  const asked = Math.max(1, Math.ceil((rate.resetAt - now) / 60_000))
  const bounded = clampPlatformBackoffMs(asked * 60_000)
  return {
    appPercent: null,
    businessPercent: percent,
    regainMinutes: bounded.ms / 60_000,
    regainMinutesClampedFrom: bounded.clamped ? asked : null,
  }
}

// ---------------------------------------------------------------------------------------------
// Failures

/**
 * Token shapes. X's OAuth 2.0 tokens and codes are opaque base64 of
 * `<random>:<ms>:1:<n>:at|rt|ac:1` (X1's examples): matched by the encoding of their `:at:1`,
 * `:rt:1`, `:ac:1` tail, at any alignment. The emulator's are `XAT-`, `XRT-`, `XAC-` + base64url.
 * Global, for the logger's scrubbing and for `safeXText`.
 */
export const X_SECRET_SHAPES: readonly RegExp[] = [
  /[A-Za-z0-9_-]{40,}(?:O(?:mF0|nJ0|mFj)OjE|OjE6MTp(?:hdDox|ydDox|hYzox)|6(?:YXQ|cnQ|YWM)6MQ)=*/g,
  /\bX(?:AT|RT|AC)-[A-Za-z0-9_.-]{16,}/g,
]

/** The longest piece of X's own text a message repeats. */
export const MAX_X_TEXT = 200

/**
 * X's text made safe to show: HTML tags removed, query strings and fragments cut from URLs,
 * token shapes replaced, whitespace collapsed, bounded.
 */
export function safeXText(text: string): string {
  let out = text.replace(/<[^>]*>/g, '')
  out = out.replace(/\b(https?:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/gi, '$1')
  for (const shape of X_SECRET_SHAPES) out = out.replace(shape, '[redacted]')
  out = out.replace(/\s+/g, ' ').trim()
  return out.length > MAX_X_TEXT ? `${out.slice(0, MAX_X_TEXT - 1)}…` : out
}

/** What X's error answers say, from any of its shapes. */
export interface XErrorInfo {
  /** RFC 7807 `title` (`Unauthorized`, `UsageCapExceeded`, `Client Forbidden`…). */
  readonly title: string | null
  readonly detail: string | null
  /** `type` (`https://api.x.com/2/problems/credits-depleted`…). */
  readonly type: string | null
  readonly status: number | null
  /** `reason` of a 403 client problem (`client-not-enrolled`). */
  readonly reason: string | null
  /** The OAuth shape's `error` (`invalid_request`, `unauthorized_client`…). */
  readonly oauthError: string | null
  /** `errors[]` entries of the `{errors: […]}` shape (or partial errors). */
  readonly errors: readonly XPartialError[]
}

/**
 * `{title, detail, type, status, …}` (RFC 7807), `{errors: [{title, detail, type, …}], title?, …}`
 * or `{error, error_description}` (OAuth, RFC 6749 §5.2); `null` for anything else.
 */
export function parseXError(body: unknown): XErrorInfo | null {
  if (!isObject(body)) return null
  const error = body.error
  if (typeof error === 'string' && error !== '') {
    return {
      title: null,
      detail: optStr(body, 'error_description'),
      type: null,
      status: null,
      reason: null,
      oauthError: error,
      errors: [],
    }
  }
  const entries = Array.isArray(body.errors) ? body.errors.filter(isObject) : []
  const errors = entries.map((e) => ({
    title: optStr(e, 'title'),
    detail: optStr(e, 'detail') ?? optStr(e, 'message'),
    type: optStr(e, 'type'),
  }))
  const title = optStr(body, 'title')
  const type = optStr(body, 'type')
  if (title === null && type === null && errors.length === 0) return null
  const status = body.status
  return {
    title: title ?? errors[0]?.title ?? null,
    detail: optStr(body, 'detail') ?? errors[0]?.detail ?? null,
    type: type ?? errors[0]?.type ?? null,
    status: typeof status === 'number' && Number.isSafeInteger(status) ? status : null,
    reason: optStr(body, 'reason'),
    oauthError: null,
    errors,
  }
}

/** The billing failures of X's pay-per-use access: every X account of the app waits. */
export type XBillingFailure = 'usage_capped' | 'credits_depleted'

/** `429 UsageCapExceeded` (the monthly product cap) or `402 credits-depleted`, else `null`. */
export function xBillingFailure(status: number, body: unknown): XBillingFailure | null {
  const info = parseXError(body)
  const type = info?.type ?? ''
  if (status === 402 || type.endsWith('/credits-depleted')) return 'credits_depleted'
  if (info?.title === 'UsageCapExceeded' || type.endsWith('/usage-capped')) return 'usage_capped'
  return null
}

/** Whether a 403 says the App is not attached to a Project with the right access level. */
export function isClientNotEnrolled(status: number, body: unknown): boolean {
  const info = parseXError(body)
  return (
    status === 403 &&
    (info?.reason === 'client-not-enrolled' || (info?.type ?? '').endsWith('/client-forbidden'))
  )
}

/** Whose calls an X failure throttles: the whole app (billing), one account (a 429), or nobody. */
export function xThrottledBy(status: number, body: unknown): 'app' | 'account' | null {
  if (xBillingFailure(status, body) !== null) return 'app'
  return status === 429 ? 'account' : null
}

/** The back-off after a 429 without a usable `x-rate-limit-reset`: X's 15-minute window. */
export const DEFAULT_RATE_BACKOFF_SECONDS = 15 * 60

/** Seconds from `now` to `at`, at least 1 and at most the 24-hour bound. */
function secondsUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil(Math.min(at - now, MAX_PLATFORM_BACKOFF_MS) / 1000))
}

/** Seconds from `now` to the 1st of next month, midnight UTC (where X's monthly cap resets), bounded. */
export function secondsUntilMonthlyReset(now: number): number {
  return secondsUntil(monthAt('UTC', now).end, now)
}

function durationText(seconds: number): string {
  const hours = Math.round(seconds / 3600)
  if (hours >= 1) return `about ${hours} hour${hours === 1 ? '' : 's'}`
  const minutes = Math.max(1, Math.round(seconds / 60))
  return `about ${minutes} minute${minutes === 1 ? '' : 's'}`
}

/** The one message of a spent monthly cap, shown for every X account. */
export const X_USAGE_CAPPED_MESSAGE =
  "This app's monthly X API usage cap is reached: X syncs are paused for every account until the cap resets (checked again daily). The app's owner can raise the cap or change plan at console.x.com"

/** The one message of spent pay-per-use credits, shown for every X account. */
export const X_CREDITS_DEPLETED_MESSAGE =
  "This app's X API credits are used up: X syncs are paused for every account. The app's owner must buy credits at console.x.com; syncing is tried again daily"

/** What to fix when X answers `client-not-enrolled`. */
export const X_CLIENT_NOT_ENROLLED_MESSAGE =
  'X refused this app (client-not-enrolled): the X App behind X_CLIENT_ID must be attached to a Project with an access level that includes the API v2 (developer portal at console.x.com); fix it there, nothing to reconnect'

/**
 * A failed answer as the `GalleryError` the services act on (providers.md §3.5). `endpoint` names
 * the call in the message; `now` (epoch ms) and `rate` (the answer's rate-limit headers) date a
 * reset.
 *
 * - `402 credits-depleted` → `ERR_RATE_LIMITED` for a day (the bound; X names no end: credits
 *   must be bought), app-wide (`xThrottledBy`), `X_CREDITS_DEPLETED_MESSAGE`;
 * - `429 UsageCapExceeded` → `ERR_RATE_LIMITED` until the 1st of next month UTC, at most a day
 *   (then one call checks again), app-wide, `X_USAGE_CAPPED_MESSAGE`;
 * - another 429 → `ERR_RATE_LIMITED` until `x-rate-limit-reset` (at most a day; 15 minutes
 *   without it), for the account;
 * - `403 client-not-enrolled` → `ERR_PROVIDER_RESPONSE` naming the fix in the developer portal;
 * - 5xx → `ERR_PROVIDER_UNAVAILABLE`;
 * - OAuth `unauthorized_client` / `invalid_client` (our own client: a confidential App without
 *   its secret says "Missing valid authorization header") → `ERR_PROVIDER_RESPONSE`;
 * - OAuth `invalid_request` / `invalid_grant` on the token endpoint (a code older than 30 s or
 *   used twice, a PKCE mismatch, a refresh token already used or revoked) → `ERR_REAUTH_REQUIRED`;
 * - 401 → `ERR_REAUTH_REQUIRED` (the client refreshes once on a 401 before it gives up: that is
 *   its decision, not the parser's);
 * - anything else → `ERR_PROVIDER_RESPONSE` with X's own words, made safe.
 */
export function classifyXFailure(
  status: number,
  body: unknown,
  endpoint: XEndpoint,
  now: number,
  rate: XRateLimit | null = null,
): GalleryError {
  const info = parseXError(body)
  const xText = safeXText(info?.detail ?? info?.title ?? '') || `HTTP ${status}`
  const billing = xBillingFailure(status, body)

  if (billing === 'credits_depleted')
    return new GalleryError('ERR_RATE_LIMITED', X_CREDITS_DEPLETED_MESSAGE, {
      retryAfterSeconds: MAX_PLATFORM_BACKOFF_MS / 1000,
    })
  if (billing === 'usage_capped')
    return new GalleryError('ERR_RATE_LIMITED', X_USAGE_CAPPED_MESSAGE, {
      retryAfterSeconds: secondsUntilMonthlyReset(now),
    })
  if (status === 429) {
    const seconds =
      rate === null || rate.resetAt <= now
        ? DEFAULT_RATE_BACKOFF_SECONDS
        : secondsUntil(rate.resetAt, now)
    return new GalleryError(
      'ERR_RATE_LIMITED',
      `X's rate limit for ${endpoint} is reached; trying again in ${durationText(seconds)}`,
      { retryAfterSeconds: seconds },
    )
  }
  if (isClientNotEnrolled(status, body))
    return new GalleryError('ERR_PROVIDER_RESPONSE', X_CLIENT_NOT_ENROLLED_MESSAGE)
  if (status >= 500)
    return new GalleryError(
      'ERR_PROVIDER_UNAVAILABLE',
      `X is temporarily unavailable (${endpoint}); try again later`,
      { retryAfterSeconds: 60 },
    )
  const oauth = info?.oauthError ?? null
  if (oauth === 'unauthorized_client' || oauth === 'invalid_client')
    return new GalleryError(
      'ERR_PROVIDER_RESPONSE',
      `X refused this app's OAuth client (${endpoint}): check X_CLIENT_ID, and X_CLIENT_SECRET for a confidential Web App (${xText})`,
    )
  if (
    (oauth === 'invalid_request' || oauth === 'invalid_grant') &&
    (endpoint === 'code exchange' || endpoint === 'token refresh')
  )
    return new GalleryError(
      'ERR_REAUTH_REQUIRED',
      endpoint === 'code exchange'
        ? 'X refused the authorization (an X code works once, within 30 seconds); connect the account again'
        : 'X no longer accepts this connection (its access was revoked or has expired); reconnect the account',
    )
  if (status === 401)
    return new GalleryError(
      'ERR_REAUTH_REQUIRED',
      'X no longer accepts this connection; reconnect the account',
    )
  if (oauth !== null)
    return new GalleryError(
      'ERR_PROVIDER_RESPONSE',
      `X refused the request (${endpoint}): ${safeXText(oauth)}${info?.detail == null ? '' : ` (${xText})`}`,
    )
  return new GalleryError('ERR_PROVIDER_RESPONSE', `X refused the request (${endpoint}): ${xText}`)
}
