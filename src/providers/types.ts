/**
 * @module providers/types — what every platform folder under `src/providers/` describes about
 * itself, and the few types every layer shares with the providers.
 *
 * A platform's facts are data here (its name, how a profile URL is built, the label of a link to
 * a post, its icon, the media origins the page must admit); the services, routes and the page
 * read them from the registry (`providers/registry.ts`), never by testing a platform's id. A
 * connectable platform also implements `ProviderClient`: the OAuth and media operations the
 * services call, with the capabilities they act on.
 */
import type { MediaInput } from '../store/types.ts'

/** Every platform the gallery knows. Only the registry lists them. */
export type ProviderId = 'instagram' | 'youtube' | 'tiktok' | 'x'

/** How the service reaches a platform over HTTP: `fetch`'s shape, injected (tests, sandbox). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

/** How a connectable platform is reached: its real API, the built-in emulator, or not at all. */
export type ProviderMode = 'real' | 'sandbox' | 'unconfigured'

/** What a platform folder says about itself (pure data, safe to send to the page). */
export interface PlatformInfo {
  readonly id: ProviderId
  /** The platform's name, as people write it ("Instagram", "X"). */
  readonly label: string
  /** The link to a post on the platform ("View on Instagram"). */
  readonly viewLabel: string
  /** A 24 × 24 SVG path of the platform's mark, drawn in the current text colour. */
  readonly iconPath: string
  /** The public profile page of `username` (already URL-encoded by the caller). */
  profileUrl(username: string): string
}

/** A platform people can connect through its official OAuth. */
export interface ConnectablePlatform {
  readonly info: PlatformInfo
  /**
   * Origins the page's Content-Security-Policy admits for `img-src` and `media-src` when the
   * platform is reached for real (its media CDNs); in sandbox mode media come from our origin.
   */
  readonly mediaOrigins: readonly string[]
  /** `POST` here starts a connection; the callback is `/api/socials/oauth/<id>/callback`. */
  readonly connectPath: string
  /**
   * The shapes of the platform's tokens and codes (global regular expressions): the logger
   * scrubs them out of any free text, whatever field they end up in.
   */
  readonly secretShapes: readonly RegExp[]
}

/**
 * What a connection holds for its platform. Today every platform's credentials are stored as one
 * encrypted access token with its expiry (the original app's record shape); refresh tokens and
 * granted scopes join when the first refresh-token platform does.
 */
export interface Credentials {
  readonly accessToken: string
  /** When the access token stops working (epoch ms), if the platform says. */
  readonly accessTokenExpiresAt: number | null
  /** When the platform issued them (epoch ms; Instagram renews a token only once it is a day old). */
  readonly issuedAt: number
}

/** Who a connection is, as the platform tells it. */
export interface ConnectedIdentity {
  /** The platform's stable id of the account, as a string (Instagram ids exceed 2^53). */
  readonly providerAccountId: string
  /** Other ids the platform uses for the same account (Instagram's app-scoped id). */
  readonly aliases: readonly string[]
  readonly username: string
  readonly profileUrl: string
  readonly avatarUrl: string | null
  /** Posts the platform counts, if it says (a full reconciliation follows a disagreement). */
  readonly mediaCount: number | null
  /** Platform facts kept as data (Instagram's `account_type`). */
  readonly attributes: Readonly<Record<string, string>>
}

/** Whether a connected identity may be used; the outcome code explains a refusal to the person. */
export type Eligibility =
  { readonly ok: true } | { readonly ok: false; readonly outcome: 'personal_account' }

/** One page of an account's media, newest first. */
export interface ProviderMediaPage {
  readonly items: readonly MediaInput[]
  /**
   * Opaque and resumable: give it back to `listMedia` for the next page; `null` after the last.
   * It never holds a token, so it may be stored (an interrupted sync resumes from it).
   */
  readonly nextCursor: string | null
}

/** Platform facts the services act on: they read these, never a platform's id. */
export interface ProviderCapabilities {
  /**
   * How a connection stays alive: Instagram extends its long-lived token itself (once it is at
   * least `minAgeMs` old); a platform without renewal needs a reconnect when the token expires.
   */
  readonly renewal:
    { readonly kind: 'extend_access_token'; readonly minAgeMs: number } | { readonly kind: 'none' }
  /**
   * `complete`: a full listing sees every post (unseen posts were deleted); `window`: it sees only
   * the newest ones, so nothing is deleted for not being listed.
   */
  readonly listingCoverage: 'complete' | 'window'
}

/** A connectable platform's operations, bound to its configuration and to one unit of work. */
export interface ProviderClient {
  readonly capabilities: ProviderCapabilities
  /** Where to send the browser to authorize, carrying `state`. */
  authorizationUrl(state: string): string
  /**
   * The authorization code for working credentials (Instagram: short- then long-lived token).
   * Lifetimes count from the moment the platform answered (the client's clock).
   */
  exchangeCode(code: string): Promise<Credentials>
  /** Fresh credentials for current ones (`capabilities.renewal` says when). */
  renew(current: Credentials): Promise<Credentials>
  fetchIdentity(credentials: Credentials): Promise<ConnectedIdentity>
  checkEligible(identity: ConnectedIdentity): Eligibility
  /** The page after `cursor` (`null`: the newest page). */
  listMedia(credentials: Credentials, cursor: string | null): Promise<ProviderMediaPage>
}
