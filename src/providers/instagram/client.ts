/**
 * @module providers/instagram/client — talks to the Instagram API with Instagram Login.
 *
 * Sending and interpreting are separate: this file builds requests and maps failures; the pure
 * parsers in `parse.ts` read the answers. `fetch` is injected (the sandbox routes it in-process).
 * No URL, token, code or secret ever goes into an error message: Graph URLs carry the token in
 * their query string.
 *
 * @see https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
 */
import { GalleryError } from '../../errors.ts'
import type { InstagramConfig } from '../../config/load-config.ts'
import {
  parseCodeExchange,
  parseErrorBody,
  parseJsonKeepingIds,
  parseLongLivedToken,
  parseMediaPage,
  parseProfile,
  parseUsageHeaders,
  type InstagramProfile,
  type LongLivedToken,
  type MediaPage,
  type ShortLivedToken,
  type UrlPolicy,
  type UsageReport,
} from './parse.ts'
import { MAX_PLATFORM_BACKOFF_MINUTES } from '../../socials/platform-backoff.ts'

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

/** Throttling codes (instagram-api.md §3): app 4, user 17, page 32, custom 613, Instagram BUC 80002. */
export const THROTTLE_CODES: ReadonlySet<number> = new Set([4, 17, 32, 613, 80002])

export const PROFILE_FIELDS = 'id,user_id,username,account_type,profile_picture_url,media_count'
const CHILD_FIELDS = 'id,media_type,media_url,thumbnail_url,timestamp'
export const MEDIA_FIELDS = `id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp,children{${CHILD_FIELDS}}`

/** When Meta throttles without saying for how long (X-App-Usage has no regain time). */
export const DEFAULT_REGAIN_MINUTES = 15

/** Account types Instagram Login serves; anything else is a personal account. */
export const PROFESSIONAL_ACCOUNT_TYPES: ReadonlySet<string> = new Set([
  'BUSINESS',
  'MEDIA_CREATOR',
])

/** What one HTTP call to Instagram reported. */
export interface CallInfo {
  readonly endpoint: string
  /** HTTP status; 0 when no answer arrived (network error, timeout). */
  readonly status: number
  readonly usage: UsageReport
  /** The Graph error code of a failed call, if any. */
  readonly errorCode: number | null
}

export interface InstagramClientOptions {
  readonly config: InstagramConfig
  readonly fetch: FetchLike
  /** Asked before every HTTP call; throwing (e.g. a rate-limit pause) prevents the call. */
  readonly beforeCall?: (endpoint: string) => Promise<void>
  /** Told about every HTTP call made (for `api_calls` and rate-limit accounting). */
  readonly onCall?: (info: CallInfo) => void | Promise<void>
}

export interface InstagramClient {
  authorizationUrl(state: string): string
  exchangeCode(code: string): Promise<ShortLivedToken>
  exchangeForLongLived(shortLivedToken: string): Promise<LongLivedToken>
  refreshLongLived(longLivedToken: string): Promise<LongLivedToken>
  fetchProfile(accessToken: string): Promise<InstagramProfile>
  /** First page of `/me/media` with album children expanded; then `fetchMediaPage(next)`. */
  fetchFirstMediaPage(accessToken: string): Promise<MediaPage>
  fetchMediaPage(nextUrl: string): Promise<MediaPage>
  /** The page after a stored `paging.cursors.after` (resumes an interrupted sync). */
  fetchMediaPageAfter(accessToken: string, cursor: string): Promise<MediaPage>
}

/** Maps a Graph/OAuth failure to the service's error codes. */
export function classifyFailure(
  status: number,
  body: unknown,
  usage: UsageReport,
  context: string,
): GalleryError {
  const info = parseErrorBody(body)
  const metaMessage = info?.message ?? `HTTP ${status}`
  if (info?.code === 190) {
    return new GalleryError(
      'ERR_REAUTH_REQUIRED',
      `Instagram no longer accepts this connection; reconnect the account (${metaMessage})`,
    )
  }
  if (info?.code != null && THROTTLE_CODES.has(info.code)) {
    // the parser already bounds Meta's regain time (red team F4); bounded here too for any caller
    const minutes = Math.min(
      usage.regainMinutes ?? DEFAULT_REGAIN_MINUTES,
      MAX_PLATFORM_BACKOFF_MINUTES,
    )
    return new GalleryError(
      'ERR_RATE_LIMITED',
      `Instagram rate limit reached; try again in about ${minutes} minute${minutes === 1 ? '' : 's'}`,
      {
        retryAfterSeconds: Math.ceil(minutes * 60),
      },
    )
  }
  if (status >= 500 || info?.isTransient === true) {
    return new GalleryError(
      'ERR_PROVIDER_UNAVAILABLE',
      `Instagram is temporarily unavailable (${context}); try again later`,
      { retryAfterSeconds: 60 },
    )
  }
  return new GalleryError(
    'ERR_PROVIDER_RESPONSE',
    `Instagram refused the request (${context}): ${metaMessage}`,
  )
}

export function createInstagramClient(options: InstagramClientOptions): InstagramClient {
  const { config } = options
  const graphOrigin = new URL(config.graphUrl)
  const graphBase = `${config.graphUrl}/${config.graphVersion}`
  /**
   * Stored URLs (permalinks, media, profile pictures) must be https — or come from the configured
   * Graph origin: the sandbox emulator serves its media over plain http from there (PUBLIC_URL).
   */
  const urls: UrlPolicy = { extraOrigins: [graphOrigin.origin] }

  async function call(endpoint: string, url: string, init: RequestInit = {}): Promise<unknown> {
    await options.beforeCall?.(endpoint)
    let response: Response
    try {
      response = await options.fetch(url, {
        ...init,
        redirect: 'error',
        signal: AbortSignal.timeout(config.requestTimeoutMs),
      })
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
      await options.onCall?.({
        endpoint,
        status: 0,
        usage: {
          appPercent: null,
          businessPercent: null,
          regainMinutes: null,
          regainMinutesClampedFrom: null,
        },
        errorCode: null,
      })
      // `cause` is kept for the logs' error type only; its message may hold the URL, so no detail here.
      throw new GalleryError(
        'ERR_PROVIDER_UNAVAILABLE',
        `Could not reach Instagram (${endpoint}: ${timedOut ? 'timed out' : 'network error'}); try again later`,
        {
          retryAfterSeconds: 60,
        },
      )
    }
    const usage = parseUsageHeaders(
      response.headers.get('x-app-usage'),
      response.headers.get('x-business-use-case-usage'),
    )
    const text = await response.text()
    let body: unknown = null
    try {
      body = parseJsonKeepingIds(text)
    } catch {
      body = null
    }
    await options.onCall?.({
      endpoint,
      status: response.status,
      usage,
      errorCode: response.ok ? null : (parseErrorBody(body)?.code ?? null),
    })
    if (!response.ok) throw classifyFailure(response.status, body, usage, endpoint)
    if (body === null)
      throw new GalleryError(
        'ERR_PROVIDER_RESPONSE',
        `Instagram sent an unexpected response: ${endpoint} body is not JSON`,
      )
    return body
  }

  /** `paging.next` repeats the token: follow it only to the configured Graph origin. */
  function checkNextUrl(next: string): string {
    let url: URL
    try {
      url = new URL(next)
    } catch {
      throw new GalleryError(
        'ERR_PROVIDER_RESPONSE',
        'Instagram sent an unexpected response: paging.next is not a URL',
      )
    }
    if (
      url.origin !== graphOrigin.origin ||
      !url.pathname.startsWith(graphOrigin.pathname.replace(/\/$/, ''))
    ) {
      throw new GalleryError(
        'ERR_PROVIDER_RESPONSE',
        'Instagram sent an unexpected response: paging.next points to another host',
      )
    }
    return url.toString()
  }

  function mediaUrl(accessToken: string, after: string | null): string {
    const url = new URL(`${graphBase}/me/media`)
    url.searchParams.set('fields', MEDIA_FIELDS)
    url.searchParams.set('limit', String(config.mediaPageSize))
    if (after !== null) url.searchParams.set('after', after)
    url.searchParams.set('access_token', accessToken)
    return url.toString()
  }

  return {
    authorizationUrl(state) {
      const url = new URL(config.authorizeUrl)
      url.searchParams.set('client_id', config.clientId)
      url.searchParams.set('redirect_uri', config.redirectUri)
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('scope', config.scopes.join(','))
      url.searchParams.set('state', state)
      return url.toString()
    },
    async exchangeCode(code) {
      const form = new URLSearchParams({
        client_id: config.clientId,
        client_secret: config.clientSecret,
        grant_type: 'authorization_code',
        redirect_uri: config.redirectUri,
        code,
      })
      const body = await call('code exchange', config.tokenUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
      })
      return parseCodeExchange(body)
    },
    async exchangeForLongLived(shortLivedToken) {
      const url = new URL(`${config.graphUrl}/access_token`)
      url.searchParams.set('grant_type', 'ig_exchange_token')
      url.searchParams.set('client_secret', config.clientSecret)
      url.searchParams.set('access_token', shortLivedToken)
      return parseLongLivedToken(await call('long-lived token exchange', url.toString()))
    },
    async refreshLongLived(longLivedToken) {
      const url = new URL(`${config.graphUrl}/refresh_access_token`)
      url.searchParams.set('grant_type', 'ig_refresh_token')
      url.searchParams.set('access_token', longLivedToken)
      return parseLongLivedToken(await call('token refresh', url.toString()))
    },
    async fetchProfile(accessToken) {
      const url = new URL(`${graphBase}/me`)
      url.searchParams.set('fields', PROFILE_FIELDS)
      url.searchParams.set('access_token', accessToken)
      return parseProfile(await call('profile', url.toString()), urls)
    },
    async fetchFirstMediaPage(accessToken) {
      return parseMediaPage(await call('media', mediaUrl(accessToken, null)), urls)
    },
    async fetchMediaPage(nextUrl) {
      return parseMediaPage(await call('media', checkNextUrl(nextUrl)), urls)
    },
    async fetchMediaPageAfter(accessToken, cursor) {
      return parseMediaPage(await call('media', mediaUrl(accessToken, cursor)), urls)
    },
  }
}
