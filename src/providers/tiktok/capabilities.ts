/**
 * @module providers/tiktok/capabilities — what the services need to know about TikTok, as data.
 *
 * - Renewal: access tokens last 2 hours and refresh tokens 180 days (older apps: 24 h / 365 d;
 *   the answer's `expires_in` / `refresh_expires_in` decide, never a constant). Each refresh
 *   ROTATES the refresh token: the answer carries a new one and the previous one stops working
 *   at once (providers.md §2.1, T2), so refreshes of one account must be serialised and the new
 *   token stored before anything else. The client refreshes when the access token expires within
 *   5 minutes.
 * - Listing: `/v2/video/list/` pages through every **public** video of the account, newest first,
 *   until `has_more` is false (`complete`). The gallery only ever shows public TikTok videos: a
 *   video a full listing no longer shows was deleted or made private, and in both cases it must
 *   leave the gallery. (Private videos are never listed, so they are never stored.)
 * - PKCE: TikTok requires S256 for mobile and desktop apps; the web flow accepts it (Arctic sends
 *   it), so the gallery always sends it (`required`).
 * - Client auth: `client_key` and `client_secret` in the form body (`body`).
 * - Scopes: comma-separated.
 * - Covers (`cover_image_url`) are signed CDN URLs with an `x-expires` (about 6 hours): `signed`.
 * - Revocation: `POST /v2/oauth/revoke/` (`endpoint`).
 * - Budget: 600 requests a minute **per endpoint** (user/info, video/list, video/query), in a
 *   sliding one-minute window, for the whole app (T11). `BudgetSpec` has no per-endpoint window:
 *   a budget counts every call kind it is given a cost for. The strictest honest approximation is
 *   one app-wide rolling minute of 600 that the three metered endpoints share (cost 1 each): it
 *   never lets any one endpoint exceed TikTok's 600, at the price of allowing fewer calls in all
 *   than TikTok would. The OAuth endpoints (token, revoke) are not in TikTok's list: cost 0.
 *
 * @see shared/reference/providers.md §2
 */
import type { ProviderCapabilities } from '../types.ts'

/** The call kinds (the sender's `endpoint`) TikTok's client names. */
export const TIKTOK_CALLS = {
  /** `GET /v2/user/info/?fields=…` */
  userInfo: 'user.info',
  /** `POST /v2/video/list/?fields=…` `{cursor, max_count}` */
  videoList: 'video.list',
  /** `POST /v2/video/query/?fields=…` `{filters: {video_ids}}` (up to 20 ids) */
  videoQuery: 'video.query',
  /** `POST /v2/oauth/token/`: code exchange and refresh. */
  token: 'token',
  /** `POST /v2/oauth/revoke/` */
  revoke: 'revoke',
} as const
export type TiktokCallKind = (typeof TIKTOK_CALLS)[keyof typeof TIKTOK_CALLS]

/** The name of the app-wide per-minute budget. */
export const TIKTOK_MINUTE_BUDGET = 'app_minute'
/** TikTok's limit: 600 requests per endpoint in a sliding minute (T11). */
export const TIKTOK_CALLS_PER_MINUTE = 600
export const TIKTOK_RATE_WINDOW_MS = 60_000

/** Access tokens are refreshed when they expire within this margin. */
export const TIKTOK_REFRESH_MARGIN_MS = 5 * 60_000

/** The most videos one `video/list` page or one `video/query` call carries. */
export const TIKTOK_PAGE_SIZE = 20

export const TIKTOK_CAPABILITIES: ProviderCapabilities = {
  renewal: { kind: 'refresh_token', rotating: true, marginMs: TIKTOK_REFRESH_MARGIN_MS },
  listingCoverage: 'complete',
  pkce: 'required',
  clientAuth: 'body',
  scopeSeparator: ',',
  mediaUrls: 'signed',
  revocation: 'endpoint',
  budgets: {
    windows: [
      {
        name: TIKTOK_MINUTE_BUDGET,
        per: 'app',
        counts: 'every_call',
        window: { kind: 'rolling', ms: TIKTOK_RATE_WINDOW_MS },
        limit: TIKTOK_CALLS_PER_MINUTE,
      },
    ],
    costs: {
      [TIKTOK_CALLS.userInfo]: 1,
      [TIKTOK_CALLS.videoList]: 1,
      [TIKTOK_CALLS.videoQuery]: 1,
      [TIKTOK_CALLS.token]: 0,
      [TIKTOK_CALLS.revoke]: 0,
    },
    defaultCost: 1,
  },
}
