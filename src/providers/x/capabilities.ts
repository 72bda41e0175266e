/**
 * @module providers/x/capabilities — what the services need to know about X, as data.
 *
 * - Renewal: access tokens last 2 hours; with `offline.access` X issues a refresh token, which is
 *   single-use: every refresh answers a new one and the old one stops working at once
 *   (`rotating`). The client refreshes when the access token expires within 5 minutes, and must
 *   store the new refresh token before anything else (a lost answer loses the connection).
 * - Listing: `/2/users/:id/tweets` reaches only the newest 3,200 posts of an account (`window`):
 *   a post missing from a full listing may simply be older, so nothing is deleted for that.
 * - PKCE is mandatory on X (S256); a confidential client authenticates with HTTP Basic.
 * - Media URLs (`pbs.twimg.com` pictures, `video.twimg.com` MP4s) carry no expiry: `stable`.
 * - Revocation: `POST /2/oauth2/revoke`.
 *
 * Budgets. X limits each endpoint per 15 minutes (rolling here; X reports the window it counts in
 * `x-rate-limit-reset`), per user for calls with a user's token: `/2/users/:id/tweets` 900,
 * `/2/users/me` 75. X also bills every post it returns ($0.005 at pay-per-use, providers.md §3.4;
 * the "Owned Reads" discount needs the App's owner to be the user read, never so for a gallery
 * of other people), so the gallery caps the posts it reads per calendar month (UTC), all accounts
 * together: `X_MONTHLY_POST_READ_LIMIT`.
 *
 * The unit is therefore one post read (its price, $0.005). What the cost model cannot say: X's
 * charge depends on the answer (a page of 100 posts costs 100, a page of 3 costs 3), while
 * `ProviderBudgets.costs` is fixed per call kind and reserved before the call. The smallest
 * honest model kept here reserves a timeline call at its most, `X_PAGE_SIZE` (100) posts, so the
 * monthly cap is never overshot; once the answer is in, the client reports the posts it held
 * (`AnswerReader.unitsUsed`: `CallReport.units`) and the governor gives back the rest (a page of 3
 * keeps 3; an error answer, which X does not bill, keeps none). `/2/users/me` reads a User
 * ($0.010, two post reads).
 *
 * The per-account window is the timeline's 900 calls of up to 100 posts (90,000 units);
 * `/2/users/me`'s tighter 75 calls cannot be expressed in a window every kind shares, and is left
 * to X's own answer (429 with `x-rate-limit-reset`, which blocks the account until then). X's
 * per-App 15-minute limits apply to App-only (bearer) calls, which the gallery never makes.
 *
 * @see shared/reference/providers.md §3
 */
import type { ProviderCapabilities } from '../types.ts'
import { DEFAULT_MONTHLY_POST_READ_LIMIT, MONTHLY_POST_READS_BUDGET } from './config.ts'

/** The call kinds (the sender's `endpoint`) X's client names. */
export const X_CALLS = {
  /** `GET /2/users/me?user.fields=profile_image_url,public_metrics` */
  me: 'users/me',
  /** `GET /2/users/:id/tweets?max_results=100&…` */
  timeline: 'timeline',
  /** `POST /2/oauth2/token`: code exchange and refresh. */
  token: 'token',
  /** `POST /2/oauth2/revoke` */
  revoke: 'revoke',
} as const
export type XCallKind = (typeof X_CALLS)[keyof typeof X_CALLS]

/** `max_results` of every timeline call: the most X allows (5 to 100). */
export const X_PAGE_SIZE = 100

/** The posts X reaches on a user's timeline: the newest 3,200 (providers.md §3.3). */
export const X_TIMELINE_WINDOW = 3_200

/**
 * X's Developer Policy asks that content deleted on X be deleted within 24 hours: a full
 * reconciliation (which finds deletions) at least this often, less a margin for the schedule.
 */
export const X_DELETION_WITHIN_MS = 22 * 3_600_000

/** Access tokens are refreshed when they expire within this margin. */
export const X_REFRESH_MARGIN_MS = 5 * 60_000

/** X's rate-limit window. */
export const X_RATE_WINDOW_MS = 15 * 60_000

/** Requests per 15 minutes per user (providers.md §3.2, §3.3). */
export const X_TIMELINE_CALLS_PER_WINDOW = 900
export const X_ME_CALLS_PER_WINDOW = 75

/** The name of the per-account 15-minute budget. */
export const ACCOUNT_WINDOW_BUDGET = 'account_15min'

/** Units (post reads) one call of each kind is charged up front. */
export const X_COSTS: Readonly<Record<XCallKind, number>> = Object.freeze({
  [X_CALLS.timeline]: X_PAGE_SIZE,
  // a User read is priced as two post reads ($0.010)
  [X_CALLS.me]: 2,
  // OAuth endpoints are neither rate-limited per window nor billed: a refresh still works when
  // the month's posts are spent
  [X_CALLS.token]: 0,
  [X_CALLS.revoke]: 0,
})

export const X_CAPABILITIES: ProviderCapabilities = {
  renewal: { kind: 'refresh_token', rotating: true, marginMs: X_REFRESH_MARGIN_MS },
  listingCoverage: 'window',
  pkce: 'required',
  clientAuth: 'basic',
  scopeSeparator: ' ',
  mediaUrls: 'stable',
  revocation: 'endpoint',
  budgets: {
    windows: [
      {
        name: ACCOUNT_WINDOW_BUDGET,
        per: 'account',
        window: { kind: 'rolling', ms: X_RATE_WINDOW_MS },
        limit: X_TIMELINE_CALLS_PER_WINDOW * X_PAGE_SIZE,
      },
      {
        name: MONTHLY_POST_READS_BUDGET,
        per: 'app',
        counts: 'every_call',
        window: { kind: 'monthly', timeZone: 'UTC' },
        // `X_MONTHLY_POST_READ_LIMIT` overrides it (`ProviderPacing.limits`)
        limit: DEFAULT_MONTHLY_POST_READ_LIMIT,
        // routine syncs leave the last 10 % to connects and "Sync now"
        reserve: 0.1,
      },
    ],
    costs: X_COSTS,
    defaultCost: 1,
    // what X bills once the up-front charge is settled: unchanged, the identity and the newest
    // page (`since_id`), about one new post; full, the identity and every post
    syncCost: {
      unchanged: X_COSTS[X_CALLS.me] + 1,
      fullBase: X_COSTS[X_CALLS.me],
      fullPerPage: X_PAGE_SIZE,
      pageSize: X_PAGE_SIZE,
      // X's Developer Policy: content deleted on X is deleted within 24 hours
      fullWithin: {
        ms: X_DELETION_WITHIN_MS,
        late: 'posts deleted on X',
        raise: 'X_MONTHLY_POST_READ_LIMIT',
      },
    },
  },
}
