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
import type {
  ConnectedIdentity,
  Credentials,
  FetchLike,
  MediaRead,
  ProviderCapabilities,
  ProviderClient,
  ProviderMediaPage,
} from '../types.ts'
import { instagramInfo } from './platform.ts'
import { createSender, type AnswerReader, type CallReport } from '../http/send.ts'
import { GalleryError } from '../../errors.ts'
import type { MediaInput } from '../../store/types.ts'
import { ACCOUNT_HOURLY_BUDGET, type InstagramConfig } from './config.ts'
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
import {
  DEFAULT_REGAIN_MINUTES,
  MAX_PLATFORM_BACKOFF_MINUTES,
} from '../../socials/platform-backoff.ts'
import { accessTokenCredentials } from '../../socials/credentials.ts'

/** Throttling codes (instagram-api.md §3): app 4, user 17, page 32, custom 613, Instagram BUC 80002. */
export const THROTTLE_CODES: ReadonlySet<number> = new Set([4, 17, 32, 613, 80002])

export const PROFILE_FIELDS = 'id,user_id,username,account_type,profile_picture_url,media_count'
const CHILD_FIELDS = 'id,media_type,media_url,thumbnail_url,timestamp'
export const MEDIA_FIELDS = `id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp,children{${CHILD_FIELDS}}`

/**
 * The most ids one `readMedia` reads. Instagram Login documents no multi-id lookup (only the
 * media node `GET /{media-id}`, instagram-api.md §2.6): one call per id, so a read is bounded.
 */
export const READ_MEDIA_MAX_IDS = 50

/**
 * Graph's answer for a node it does not have (or not for this token): code 100, subcode 33
 * ("Unsupported get request. Object with ID … does not exist …"), or 803 on graph.instagram.com
 * (instagram-api.md §3). A `readMedia` reports those ids as missing instead of failing.
 */
export class InstagramObjectMissing extends GalleryError {}

/** Account types Instagram Login serves; anything else is a personal account. */
export const PROFESSIONAL_ACCOUNT_TYPES: ReadonlySet<string> = new Set([
  'BUSINESS',
  'MEDIA_CREATOR',
])

/** What one HTTP call to Instagram reported (status 0: no answer; `errorCode`: Graph's). */
export type CallInfo = CallReport<UsageReport>

export interface InstagramClientOptions {
  readonly config: InstagramConfig
  readonly fetch: FetchLike
  /** The service's clock (epoch ms): token lifetimes count from it. */
  readonly now: () => number
  /** Asked before every HTTP call; throwing (e.g. a rate-limit pause) prevents the call. */
  readonly beforeCall?: (endpoint: string) => Promise<void>
  /** Told about every HTTP call made (for `api_calls` and rate-limit accounting). */
  readonly onCall?: (info: CallInfo) => void | Promise<void>
}

/**
 * What the services act on: Instagram extends its 60-day token itself once it is a day old
 * (`ig_refresh_token`, instagram-api.md §2.4), and `/me/media` lists every post. Budgets: every
 * account's token gets its own allowance per rolling hour (200 calls, the original app's
 * assumption; INSTAGRAM_CALLS_PER_HOUR_PER_ACCOUNT overrides it); the app's calls are counted but
 * not capped by us (Meta's `X-App-Usage` and throttle codes pace and block them). Every call costs 1.
 */
export const INSTAGRAM_CAPABILITIES: ProviderCapabilities = {
  renewal: { kind: 'extend_access_token', minAgeMs: 86_400_000 },
  listingCoverage: 'complete',
  // Instagram Login takes no code_verifier (SECURITY.md C3): the state carries the binding
  pkce: 'none',
  clientAuth: 'body',
  scopeSeparator: ',',
  mediaUrls: 'signed',
  // Instagram Login has no revocation endpoint: the person removes the app in Instagram's settings
  revocation: 'none',
  budgets: {
    windows: [
      { name: 'app_hourly', per: 'app', window: { kind: 'rolling', ms: 3_600_000 }, limit: null },
      {
        name: ACCOUNT_HOURLY_BUDGET,
        per: 'account',
        window: { kind: 'rolling', ms: 3_600_000 },
        limit: 200,
      },
    ],
    costs: {},
    defaultCost: 1,
  },
}

/** The Graph calls themselves (tests use them); the services use the `ProviderClient` part. */
export interface InstagramGraph {
  exchangeShortLived(code: string): Promise<ShortLivedToken>
  exchangeForLongLived(shortLivedToken: string): Promise<LongLivedToken>
  refreshLongLived(longLivedToken: string): Promise<LongLivedToken>
  fetchProfile(accessToken: string): Promise<InstagramProfile>
  /** First page of `/me/media` with album children expanded; then `fetchMediaPage(next)`. */
  fetchFirstMediaPage(accessToken: string): Promise<MediaPage>
  fetchMediaPage(nextUrl: string): Promise<MediaPage>
  /** The page after a stored `paging.cursors.after` (resumes an interrupted sync). */
  fetchMediaPageAfter(accessToken: string, cursor: string): Promise<MediaPage>
}

export type InstagramClient = ProviderClient & InstagramGraph

/** The profile as the provider contract describes an identity. */
export function identityOf(profile: InstagramProfile): ConnectedIdentity {
  return {
    providerAccountId: profile.userId,
    aliases: profile.id === profile.userId ? [] : [profile.id],
    username: profile.username,
    profileUrl: instagramInfo.profileUrl(encodeURIComponent(profile.username)),
    avatarUrl: profile.profilePictureUrl,
    mediaCount: profile.mediaCount,
    attributes: { account_type: profile.accountType },
  }
}

/**
 * The contract's cursor for the page after `after`, on the Graph node `paging.next` names (Graph
 * answers with the professional account's id there, not `me`): `<node>.<after>`. It holds no
 * token, so it is stored for resumption; a bare `after` (stored by earlier versions) means `me`.
 */
function encodeMediaCursor(node: string, after: string): string {
  return node === 'me' ? after : `${node}.${after}`
}

function decodeMediaCursor(cursor: string): { node: string; after: string } {
  const match = /^(\d{1,30})\.(.+)$/s.exec(cursor)
  return match === null
    ? { node: 'me', after: cursor }
    : { node: match[1] ?? 'me', after: match[2] ?? '' }
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
  if ((info?.code === 100 && info.subcode === 33) || info?.code === 803) {
    return new InstagramObjectMissing(
      'ERR_PROVIDER_RESPONSE',
      `Instagram refused the request (${context}): ${metaMessage}`,
    )
  }
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

/** How Instagram's answers are read (the shared sender calls these). */
export const INSTAGRAM_ANSWERS: AnswerReader<UsageReport> = {
  label: 'Instagram',
  parseBody: parseJsonKeepingIds,
  readUsage: (headers) =>
    parseUsageHeaders(headers.get('x-app-usage'), headers.get('x-business-use-case-usage')),
  noUsage: {
    appPercent: null,
    businessPercent: null,
    regainMinutes: null,
    regainMinutesClampedFrom: null,
  },
  errorCode: (body) => parseErrorBody(body)?.code ?? null,
  throttled: (_status, body) => {
    const code = parseErrorBody(body)?.code ?? null
    if (code === null) return null
    return APP_THROTTLE_CODES.has(code)
      ? 'app'
      : ACCOUNT_THROTTLE_CODES.has(code)
        ? 'account'
        : null
  },
  classify: classifyFailure,
}

/** Meta's throttling codes: 4 is the app's limit; the others concern one account (user, page, custom, BUC). */
const APP_THROTTLE_CODES: ReadonlySet<number> = new Set([4])
const ACCOUNT_THROTTLE_CODES: ReadonlySet<number> = new Set([17, 32, 613, 80002])

export function createInstagramClient(options: InstagramClientOptions): InstagramClient {
  const { config } = options
  const graphOrigin = new URL(config.graphUrl)
  const graphBase = `${config.graphUrl}/${config.graphVersion}`
  /**
   * Stored URLs (permalinks, media, profile pictures) must be https — or come from the configured
   * Graph origin: the sandbox emulator serves its media over plain http from there (PUBLIC_URL).
   */
  const urls: UrlPolicy = { extraOrigins: [graphOrigin.origin] }

  const call = createSender<UsageReport>({
    fetch: options.fetch,
    timeoutMs: config.requestTimeoutMs,
    reader: INSTAGRAM_ANSWERS,
    ...(options.beforeCall === undefined ? {} : { beforeCall: options.beforeCall }),
    ...(options.onCall === undefined ? {} : { onCall: options.onCall }),
  })

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

  function mediaUrl(accessToken: string, after: string | null, node = 'me'): string {
    const url = new URL(`${graphBase}/${node}/media`)
    url.searchParams.set('fields', MEDIA_FIELDS)
    url.searchParams.set('limit', String(config.mediaPageSize))
    if (after !== null) url.searchParams.set('after', after)
    url.searchParams.set('access_token', accessToken)
    return url.toString()
  }

  /** A media node with the fields a listing asks for (album children expanded). */
  function mediaNodeUrl(accessToken: string, id: string): string {
    const url = new URL(`${graphBase}/${encodeURIComponent(id)}`)
    url.searchParams.set('fields', MEDIA_FIELDS)
    url.searchParams.set('access_token', accessToken)
    return url.toString()
  }

  const graph: InstagramGraph = {
    async exchangeShortLived(code) {
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
  /** A page as the contract's: the next one is asked for by a token-free cursor. */
  function contractPage(page: MediaPage): ProviderMediaPage {
    if (page.next === null) return { items: page.items, nextCursor: null, skippedStored: 0 }
    if (page.after === null)
      throw new GalleryError(
        'ERR_PROVIDER_RESPONSE',
        'Instagram sent an unexpected response: a next page without a cursor',
      )
    // the node of `paging.next` (only ever on the configured Graph origin)
    const segments = new URL(checkNextUrl(page.next)).pathname.split('/')
    const node = segments[segments.length - 2] ?? 'me'
    return {
      items: page.items,
      skippedStored: 0,
      nextCursor: encodeMediaCursor(/^\d{1,30}$/.test(node) ? node : 'me', page.after),
    }
  }

  /** Lifetimes count from the answer: `expires_in` seconds after it arrived. */
  const credentials = (token: LongLivedToken): Credentials => {
    const issuedAt = options.now()
    // Instagram's long-lived token is extended, never refreshed with another token
    return accessTokenCredentials(
      token.accessToken,
      issuedAt + token.expiresInSeconds * 1000,
      issuedAt,
    )
  }

  return {
    ...graph,
    capabilities: INSTAGRAM_CAPABILITIES,
    async exchangeCode(code) {
      const shortLived = await graph.exchangeShortLived(code)
      return credentials(await graph.exchangeForLongLived(shortLived.accessToken))
    },
    async renew(current) {
      return credentials(await graph.refreshLongLived(current.accessToken))
    },
    // Instagram Login reports no granted scopes with the token: a refused one fails the calls
    checkGrant: () => ({ ok: true }),
    async fetchIdentity(current) {
      return { ok: true, identity: identityOf(await graph.fetchProfile(current.accessToken)) }
    },
    checkEligible(identity) {
      return PROFESSIONAL_ACCOUNT_TYPES.has(identity.attributes.account_type ?? '')
        ? { ok: true }
        : { ok: false, outcome: 'personal_account' }
    },
    async listMedia(current, cursor) {
      if (cursor === null) return contractPage(await graph.fetchFirstMediaPage(current.accessToken))
      const { node, after } = decodeMediaCursor(cursor)
      return contractPage(
        parseMediaPage(await call('media', mediaUrl(current.accessToken, after, node)), urls),
      )
    },
    async readMedia(current, platformMediaIds): Promise<MediaRead> {
      const ids = [...new Set(platformMediaIds)]
      if (ids.length > READ_MEDIA_MAX_IDS)
        throw new RangeError(`readMedia reads at most ${READ_MEDIA_MAX_IDS} ids at once`)
      const items: MediaInput[] = []
      const missingIds: string[] = []
      // one node call each (counted as a listing's `media` calls are), one after the other
      for (const id of ids) {
        if (!/^\d{1,30}$/.test(id)) {
          missingIds.push(id)
          continue
        }
        let body: unknown
        try {
          body = await call('media', mediaNodeUrl(current.accessToken, id))
        } catch (error) {
          if (error instanceof InstagramObjectMissing) {
            missingIds.push(id)
            continue
          }
          throw error
        }
        const [item] = parseMediaPage({ data: [body] }, urls).items
        if (item === undefined || item.platform_media_id !== id)
          throw new GalleryError(
            'ERR_PROVIDER_RESPONSE',
            'Instagram sent an unexpected response: the media node answered another id',
          )
        items.push(item)
      }
      return { items, missingIds }
    },
    authorizationUrl(state) {
      const url = new URL(config.authorizeUrl)
      url.searchParams.set('client_id', config.clientId)
      url.searchParams.set('redirect_uri', config.redirectUri)
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('scope', config.scopes.join(','))
      url.searchParams.set('state', state)
      return url.toString()
    },
  }
}
