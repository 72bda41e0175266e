/**
 * @module providers/youtube/capabilities — what the services need to know about YouTube, as data.
 *
 * - Renewal: Google's access tokens last an hour; the refresh token is kept and does not rotate
 *   (a refresh answers no new one), so the client refreshes when the access token expires within
 *   5 minutes.
 * - Listing: the uploads playlist lists every video of the channel (`complete`): a full listing
 *   that no longer shows a video means it was deleted.
 * - Thumbnails (`i.ytimg.com`) carry no expiry: `stable`.
 * - Budget: one quota per Google Cloud project per day, reset at midnight America/Los_Angeles,
 *   spent by every call whichever account's token makes it (`every_call`). List calls cost 1 unit
 *   (providers.md §1.3). Google's OAuth endpoints (token, revoke) and the `HEAD /shorts/<id>`
 *   probe on youtube.com are not metered by the Data API quota: they cost 0.
 *
 * @see shared/reference/providers.md §1
 */
import type { ProviderCapabilities } from '../types.ts'
import { DEFAULT_DAILY_QUOTA_UNITS, PROJECT_DAILY_BUDGET } from './config.ts'
import { QUOTA_TIME_ZONE } from './parse.ts'

/** The call kinds (the sender's `endpoint`) YouTube's client names, with their quota costs. */
export const YOUTUBE_CALLS = {
  /** `GET /youtube/v3/channels?part=snippet,contentDetails,statistics&mine=true` */
  channels: 'channels',
  /** `GET /youtube/v3/playlistItems?playlistId=UU…&maxResults=50&pageToken=…` */
  playlistItems: 'playlistItems',
  /** `GET /youtube/v3/videos?id=a,b,…` (up to 50 ids) */
  videos: 'videos',
  /** `POST` to the token endpoint: code exchange and refresh. */
  token: 'token',
  /** `POST` to the revoke endpoint. */
  revoke: 'revoke',
  /** `HEAD <YOUTUBE_WEB_URL>/shorts/<id>`: whether a video is a Short. */
  shortsProbe: 'shorts probe',
} as const
export type YoutubeCallKind = (typeof YOUTUBE_CALLS)[keyof typeof YOUTUBE_CALLS]

/** Access tokens are refreshed when they expire within this margin. */
export const YOUTUBE_REFRESH_MARGIN_MS = 5 * 60_000

export const YOUTUBE_CAPABILITIES: ProviderCapabilities = {
  renewal: { kind: 'refresh_token', rotating: false, marginMs: YOUTUBE_REFRESH_MARGIN_MS },
  listingCoverage: 'complete',
  pkce: 'required',
  clientAuth: 'body',
  scopeSeparator: ' ',
  mediaUrls: 'stable',
  revocation: 'endpoint',
  budgets: {
    windows: [
      {
        name: PROJECT_DAILY_BUDGET,
        per: 'app',
        counts: 'every_call',
        window: { kind: 'daily', timeZone: QUOTA_TIME_ZONE },
        // `YOUTUBE_DAILY_QUOTA_UNITS` overrides it (`ProviderPacing.limits`)
        limit: DEFAULT_DAILY_QUOTA_UNITS,
        // routine syncs never spend the last 20 %: connects and "Sync now" still work (item 6)
        reserve: 0.2,
      },
    ],
    costs: {
      [YOUTUBE_CALLS.channels]: 1,
      [YOUTUBE_CALLS.playlistItems]: 1,
      [YOUTUBE_CALLS.videos]: 1,
      [YOUTUBE_CALLS.token]: 0,
      [YOUTUBE_CALLS.revoke]: 0,
      [YOUTUBE_CALLS.shortsProbe]: 0,
    },
    defaultCost: 1,
    // unchanged: channels + the newest playlist page; full: channels, then per page of 50 the
    // playlist page and the details of its videos
    syncCost: { unchanged: 2, fullBase: 1, fullPerPage: 2, pageSize: 50 },
  },
}
