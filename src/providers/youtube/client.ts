/**
 * @module providers/youtube/client — talks to Google's OAuth endpoints and the YouTube Data API v3
 * (read side) for one unit of work.
 *
 * Sending and interpreting are separate: this file builds requests and decides what to call; the
 * pure parsers of `parse.ts` read the answers, and `classifyGoogleFailure` maps Google's errors.
 * Every request goes through the shared sender (`providers/http/send.ts`): it asks the budget
 * first (each call kind's quota cost is declared in `capabilities.ts`), never follows redirects
 * and reports every call.
 *
 * - Connect: authorization code with PKCE S256, `access_type=offline` and `prompt=consent` (Google
 *   returns a refresh token only on consent), `include_granted_scopes=true`. The granted `scope`
 *   list is checked (`checkGrant`): Google's granular consent screen lets the person untick it.
 * - Credentials: one-hour access tokens, refreshed with the refresh token, which does not rotate
 *   (the refresh answer has none: the stored one is kept, and so is the time it was issued, whose
 *   age explains an `invalid_grant`).
 * - Identity: `channels.list?mine=true`; a Google account without a channel is an outcome, not an
 *   error.
 * - Media: the uploads playlist (`playlistItems.list`, 50 a page) and the details of its videos
 *   (`videos.list`, up to 50 ids a call). A routine run (`skipStored`) reads details only of
 *   videos not stored yet: an unchanged channel costs 2 units (channels + one playlist page).
 * - Shorts: YouTube has no field for them; `HEAD <web>/shorts/<id>` answers 200 for a Short and
 *   a redirect for any other video. Asked once per video (a verdict stored with the video, or
 *   remembered by the process, is reused), never for broadcasts nor for videos longer than
 *   Shorts can be, and it costs no quota.
 *
 * No URL, token, code or secret goes into an error message (`safeGoogleText`).
 *
 * @see shared/reference/providers.md §1
 */
import { GalleryError } from '../../errors.ts'
import {
  createSender,
  type AnswerReader,
  type CallReport,
  type PlatformUsage,
} from '../http/send.ts'
import type { UrlPolicy } from '../http/urls.ts'
import type {
  ConnectedIdentity,
  Credentials,
  FetchLike,
  IdentityLookup,
  ListOptions,
  ProviderClient,
  ProviderMediaPage,
  StoredMediaHint,
} from '../types.ts'
import type { MediaInput } from '../../store/types.ts'
import type { YoutubeConfig } from './config.ts'
import { YOUTUBE_CALLS, YOUTUBE_CAPABILITIES } from './capabilities.ts'
import {
  classifyGoogleFailure,
  grantsYoutubeReadonly,
  invalidGrantMessage,
  parseChannels,
  parseGoogleError,
  parsePlaylistItems,
  parseTokenResponse,
  parseVideos,
  productTypeOf,
  type YoutubeChannel,
  type YoutubeEndpoint,
  type YoutubeVideo,
} from './parse.ts'
import { youtubeInfo } from './platform.ts'

/** Items per `playlistItems.list` page and ids per `videos.list` call (the API's maximum). */
export const PAGE_SIZE = 50
/** Shorts are at most 3 minutes long (since October 2024): longer videos are never probed. */
export const MAX_SHORT_SECONDS = 180

const NO_USAGE: PlatformUsage = {
  appPercent: null,
  businessPercent: null,
  regainMinutes: null,
  regainMinutesClampedFrom: null,
}

/** What one HTTP call to Google reported (status 0: no answer). */
export type YoutubeCallInfo = CallReport<PlatformUsage>

/** The endpoint names of `YOUTUBE_CALLS` as the parser's messages name them. */
const MESSAGE_ENDPOINT: Readonly<Record<string, YoutubeEndpoint>> = {
  [YOUTUBE_CALLS.channels]: 'channels.list',
  [YOUTUBE_CALLS.playlistItems]: 'playlistItems.list',
  [YOUTUBE_CALLS.videos]: 'videos.list',
  [YOUTUBE_CALLS.revoke]: 'revoke',
}

/** Google's throttling: the project's quota or rate (the app), or one user's rate. */
function throttledBy(status: number, body: unknown): 'app' | 'account' | null {
  const info = parseGoogleError(body)
  const reasons = info?.reasons ?? []
  if (reasons.includes('quotaExceeded') || info?.domains.includes('youtube.quota') === true)
    return 'app'
  if (reasons.includes('rateLimitExceeded')) return 'app'
  if (reasons.includes('userRateLimitExceeded')) return 'account'
  return status === 429 ? 'app' : null
}

/** How Google's answers are read (the shared sender calls these); `now` dates a quota reset. */
export function youtubeAnswers(now: () => number): AnswerReader<PlatformUsage> {
  return {
    label: 'YouTube',
    parseBody: (text) => (text === '' ? null : (JSON.parse(text) as unknown)),
    // Google reports no usage headers: the quota is counted by the governor's own budget
    readUsage: () => NO_USAGE,
    noUsage: NO_USAGE,
    errorCode: (body) => parseGoogleError(body)?.code ?? null,
    throttled: throttledBy,
    classify: (status, body, _usage, endpoint) =>
      classifyGoogleFailure(
        status,
        body,
        MESSAGE_ENDPOINT[endpoint] ??
          (endpoint === YOUTUBE_CALLS.token ? 'code exchange' : 'revoke'),
        now(),
      ),
  }
}

/**
 * Verdicts of the Shorts probe, shared by every client of the process (bounded: the oldest go
 * first). A verdict never changes: a video is a Short from its upload on or never.
 */
export class ShortsVerdicts {
  readonly #verdicts = new Map<string, boolean>()
  readonly #max: number
  constructor(max = 100_000) {
    this.#max = max
  }
  get(videoId: string): boolean | undefined {
    return this.#verdicts.get(videoId)
  }
  set(videoId: string, isShort: boolean): void {
    if (this.#verdicts.size >= this.#max) {
      const oldest = this.#verdicts.keys().next()
      if (oldest.done !== true) this.#verdicts.delete(oldest.value)
    }
    this.#verdicts.set(videoId, isShort)
  }
}

export interface YoutubeClientOptions {
  readonly config: YoutubeConfig
  readonly fetch: FetchLike
  /** The service's clock (epoch ms): token lifetimes count from it. */
  readonly now: () => number
  /** Asked before every HTTP call with its kind (the quota cost); throwing prevents the call. */
  readonly beforeCall?: (endpoint: string) => Promise<void>
  /** Told about every HTTP call made (budgets, call counts). */
  readonly onCall?: (info: YoutubeCallInfo) => void | Promise<void>
  /** The process's Shorts verdicts (a fresh one per client when not given). */
  readonly shorts?: ShortsVerdicts
}

/** The contract's cursor: the uploads playlist and Google's page token (no token in it). */
function encodeCursor(playlistId: string, pageToken: string): string {
  return `${playlistId}.${pageToken}`
}

function decodeCursor(cursor: string): { playlistId: string; pageToken: string } {
  const match = /^([A-Za-z0-9_-]{2,64})\.([A-Za-z0-9_-]{1,1000})$/.exec(cursor)
  if (match === null)
    throw new GalleryError('ERR_VALIDATION', 'The stored YouTube paging cursor is not readable')
  return { playlistId: match[1] ?? '', pageToken: match[2] ?? '' }
}

/** The identity the contract describes, from a channel. */
export function identityOfChannel(channel: YoutubeChannel, webUrl: string): ConnectedIdentity {
  const profileUrl =
    channel.handle === null
      ? `${webUrl}/channel/${encodeURIComponent(channel.id)}`
      : webUrl === 'https://www.youtube.com'
        ? youtubeInfo.profileUrl(encodeURIComponent(channel.handle))
        : `${webUrl}/@${encodeURIComponent(channel.handle)}`
  return {
    providerAccountId: channel.id,
    aliases: [],
    username: channel.handle ?? channel.title,
    profileUrl,
    avatarUrl: channel.avatarUrl,
    // `statistics.videoCount` counts public videos only, while the owner's uploads list holds
    // unlisted and private ones too: not a count to compare the stored media with
    mediaCount: null,
    attributes: {
      channel_title: channel.title,
      uploads_playlist_id: channel.uploadsPlaylistId,
      // Google's count (public videos, a string in its answer), kept for the profile header
      ...(channel.videoCount === null ? {} : { public_video_count: String(channel.videoCount) }),
    },
  }
}

/** A video as the store keeps it. */
export function mediaOfVideo(
  video: YoutubeVideo,
  isShort: boolean | null,
  webUrl: string,
): MediaInput {
  const productType = productTypeOf(video, isShort)
  const id = encodeURIComponent(video.id)
  const caption = video.description === '' ? video.title : `${video.title}\n\n${video.description}`
  return {
    platform_media_id: video.id,
    media_type: 'VIDEO',
    media_product_type: productType,
    // YouTube gives no playable file: the page plays it through the privacy-enhanced embed
    media_url: null,
    thumbnail_url: video.thumbnail?.url ?? null,
    permalink: productType === 'SHORTS' ? `${webUrl}/shorts/${id}` : `${webUrl}/watch?v=${id}`,
    caption: caption === '' ? null : caption,
    timestamp: video.publishedAt,
    // thumbnails (i.ytimg.com) carry no expiry
    url_expires_at: null,
    duration_seconds: video.durationSeconds,
    visibility: video.privacyStatus,
    children: [],
  }
}

/** Where Google says to create a channel. */
export const NO_CHANNEL_DETAIL =
  'Sign in to youtube.com with the same Google account, open your picture → “Create a channel”, then connect again.'

export function createYoutubeClient(options: YoutubeClientOptions): ProviderClient {
  const { config } = options
  const apiBase = `${config.apiUrl}/youtube/v3`
  /** Thumbnails must be https, or come from the configured API origin (the sandbox's http one). */
  const urls: UrlPolicy = { extraOrigins: [new URL(config.apiUrl).origin] }
  const shorts = options.shorts ?? new ShortsVerdicts(10_000)
  const call = createSender<PlatformUsage>({
    fetch: options.fetch,
    timeoutMs: config.requestTimeoutMs,
    reader: youtubeAnswers(options.now),
    ...(options.beforeCall === undefined ? {} : { beforeCall: options.beforeCall }),
    ...(options.onCall === undefined ? {} : { onCall: options.onCall }),
  })
  /** The uploads playlist of the channel this client last identified (saves a channels call). */
  let uploadsPlaylistId: string | null = null

  const bearer = (credentials: Credentials) => ({
    authorization: `Bearer ${credentials.accessToken}`,
    accept: 'application/json',
  })

  async function api(
    kind: string,
    path: string,
    params: Record<string, string>,
    credentials: Credentials,
  ): Promise<unknown> {
    const url = new URL(`${apiBase}/${path}`)
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
    return call(kind, url.toString(), { headers: bearer(credentials) })
  }

  async function tokenCall(form: Record<string, string>): Promise<unknown> {
    return call(YOUTUBE_CALLS.token, config.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(form).toString(),
    })
  }

  async function channel(credentials: Credentials): Promise<YoutubeChannel | null> {
    const body = await api(
      YOUTUBE_CALLS.channels,
      'channels',
      { part: 'snippet,contentDetails,statistics', mine: 'true' },
      credentials,
    )
    const lookup = parseChannels(body, urls)
    if (lookup.kind === 'no_channel') return null
    uploadsPlaylistId = lookup.channel.uploadsPlaylistId
    return lookup.channel
  }

  /** Whether `video` is a Short: the stored verdict, the process's, or the probe's. */
  async function isShort(video: YoutubeVideo, stored: StoredMediaHint | undefined) {
    if (video.productType === 'LIVE') return false
    if (stored?.media_product_type === 'SHORTS') return true
    if (stored?.media_product_type === 'VIDEO') return false
    if (video.durationSeconds !== null && video.durationSeconds > MAX_SHORT_SECONDS) return false
    const known = shorts.get(video.id)
    if (known !== undefined) return known
    const status = await call.status(
      YOUTUBE_CALLS.shortsProbe,
      `${config.webUrl}/shorts/${encodeURIComponent(video.id)}`,
      { method: 'HEAD' },
    )
    // 200: the Shorts player; a redirect (to /watch): any other video. Anything else (a 404 for a
    // video just deleted, a 5xx) says nothing: not remembered, the video is shown as a video
    if (status === 200 || (status >= 300 && status < 400)) {
      shorts.set(video.id, status === 200)
      return status === 200
    }
    return null
  }

  async function page(
    credentials: Credentials,
    playlistId: string,
    pageToken: string | null,
    listOptions: ListOptions,
  ): Promise<ProviderMediaPage> {
    const body = await api(
      YOUTUBE_CALLS.playlistItems,
      'playlistItems',
      {
        part: 'contentDetails',
        playlistId,
        maxResults: String(PAGE_SIZE),
        ...(pageToken === null ? {} : { pageToken }),
      },
      credentials,
    )
    const listed = parsePlaylistItems(body)
    const ids = [...new Set(listed.items.map((entry) => entry.videoId))]
    const stored =
      listOptions.stored === undefined || ids.length === 0
        ? new Map<string, StoredMediaHint>()
        : await listOptions.stored(ids)
    const toRead =
      listOptions.skipStored === true ? ids.filter((videoId) => !stored.has(videoId)) : ids
    const videos: YoutubeVideo[] = []
    for (let i = 0; i < toRead.length; i += PAGE_SIZE) {
      const detail = await api(
        YOUTUBE_CALLS.videos,
        'videos',
        {
          part: 'snippet,contentDetails,status,liveStreamingDetails',
          id: toRead.slice(i, i + PAGE_SIZE).join(','),
          maxResults: String(PAGE_SIZE),
        },
        credentials,
      )
      videos.push(...parseVideos(detail, urls))
    }
    const items: MediaInput[] = []
    // in the playlist's order (newest first); a video deleted between the two calls is absent
    const byId = new Map(videos.map((video) => [video.id, video]))
    for (const videoId of toRead) {
      const video = byId.get(videoId)
      if (video === undefined) continue
      items.push(mediaOfVideo(video, await isShort(video, stored.get(videoId)), config.webUrl))
    }
    return {
      items,
      skippedStored: ids.length - toRead.length,
      nextCursor:
        listed.nextPageToken === null ? null : encodeCursor(playlistId, listed.nextPageToken),
    }
  }

  return {
    capabilities: YOUTUBE_CAPABILITIES,
    authorizationUrl(state, codeChallenge) {
      const url = new URL(config.authorizeUrl)
      url.searchParams.set('client_id', config.clientId)
      url.searchParams.set('redirect_uri', config.redirectUri)
      url.searchParams.set('response_type', 'code')
      url.searchParams.set('scope', config.scopes.join(YOUTUBE_CAPABILITIES.scopeSeparator))
      url.searchParams.set('state', state)
      // the service always sends one (PKCE is required); without it Google's exchange fails
      if (codeChallenge !== undefined) {
        url.searchParams.set('code_challenge', codeChallenge)
        url.searchParams.set('code_challenge_method', 'S256')
      }
      // a refresh token comes only with offline access, and again only on a consent screen
      url.searchParams.set('access_type', 'offline')
      url.searchParams.set('prompt', 'consent')
      url.searchParams.set('include_granted_scopes', 'true')
      return url.toString()
    },
    async exchangeCode(code, codeVerifier) {
      if (codeVerifier === undefined)
        throw new GalleryError('ERR_INTERNAL', 'YouTube connections need the PKCE code verifier')
      const token = parseTokenResponse(
        await tokenCall({
          code,
          client_id: config.clientId,
          client_secret: config.clientSecret,
          redirect_uri: config.redirectUri,
          grant_type: 'authorization_code',
          code_verifier: codeVerifier,
        }),
        'code exchange',
      )
      if (token.refreshToken === null)
        throw new GalleryError(
          'ERR_PROVIDER_RESPONSE',
          'Google gave no refresh token, so the connection could not be kept: remove this app under “Third-party apps & services” in your Google Account, then connect again',
        )
      const issuedAt = options.now()
      return {
        accessToken: token.accessToken,
        accessTokenExpiresAt: issuedAt + token.expiresInSeconds * 1000,
        refreshToken: token.refreshToken,
        refreshTokenExpiresAt:
          token.refreshTokenExpiresInSeconds === null
            ? null
            : issuedAt + token.refreshTokenExpiresInSeconds * 1000,
        scopes: token.scopes,
        issuedAt,
        refreshTokenIssuedAt: issuedAt,
      }
    },
    async renew(current) {
      if (current.refreshToken === null)
        throw new GalleryError(
          'ERR_REAUTH_REQUIRED',
          'This YouTube connection has no refresh token; reconnect the channel',
        )
      let token
      try {
        token = parseTokenResponse(
          await tokenCall({
            client_id: config.clientId,
            client_secret: config.clientSecret,
            grant_type: 'refresh_token',
            refresh_token: current.refreshToken,
          }),
          'token refresh',
        )
      } catch (error) {
        // `invalid_grant`: revoked, or a project in "Testing" whose tokens live 7 days — the age
        // of the refresh token tells which is likely
        if (error instanceof GalleryError && error.code === 'ERR_REAUTH_REQUIRED')
          throw new GalleryError(
            'ERR_REAUTH_REQUIRED',
            invalidGrantMessage(current.refreshTokenIssuedAt ?? current.issuedAt, options.now()),
          )
        throw error
      }
      const issuedAt = options.now()
      return {
        accessToken: token.accessToken,
        accessTokenExpiresAt: issuedAt + token.expiresInSeconds * 1000,
        // Google's refresh token does not rotate: a refresh answers none, the stored one stays
        refreshToken: token.refreshToken ?? current.refreshToken,
        refreshTokenExpiresAt:
          token.refreshToken === null
            ? current.refreshTokenExpiresAt
            : token.refreshTokenExpiresInSeconds === null
              ? null
              : issuedAt + token.refreshTokenExpiresInSeconds * 1000,
        scopes: token.scopes ?? current.scopes,
        issuedAt,
        refreshTokenIssuedAt: token.refreshToken === null ? current.refreshTokenIssuedAt : issuedAt,
      }
    },
    checkGrant(credentials) {
      return grantsYoutubeReadonly(credentials.scopes)
        ? { ok: true }
        : { ok: false, outcome: 'scope_missing' }
    },
    async fetchIdentity(credentials): Promise<IdentityLookup> {
      const found = await channel(credentials)
      if (found === null) return { ok: false, outcome: 'no_channel', detail: NO_CHANNEL_DETAIL }
      return { ok: true, identity: identityOfChannel(found, config.webUrl) }
    },
    // every channel can be shown: YouTube has no account type to refuse
    checkEligible: () => ({ ok: true }),
    async listMedia(credentials, cursor, listOptions = {}) {
      if (cursor !== null) {
        const { playlistId, pageToken } = decodeCursor(cursor)
        return page(credentials, playlistId, pageToken, listOptions)
      }
      let playlistId = uploadsPlaylistId
      if (playlistId === null) {
        const found = await channel(credentials)
        if (found === null)
          throw new GalleryError(
            'ERR_REAUTH_REQUIRED',
            'This Google account no longer has a YouTube channel; reconnect the channel',
          )
        playlistId = found.uploadsPlaylistId
      }
      return page(credentials, playlistId, null, listOptions)
    },
    async revoke(credentials) {
      // revoking the refresh token ends the whole grant (and its access tokens)
      const token = credentials.refreshToken ?? credentials.accessToken
      await call(YOUTUBE_CALLS.revoke, config.revokeUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token }).toString(),
      })
    },
  }
}
