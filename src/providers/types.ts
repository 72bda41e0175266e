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
import type { FastifyInstance } from 'fastify'
import type { Clock } from '../clock.ts'
import type { Throttle } from '../http/throttle.ts'
import type { MediaInput, Store } from '../store/types.ts'
import type { WebhookNotifier } from '../webhooks/webhooks.ts'
import type { CallReport, PlatformUsage } from './http/send.ts'
import type { SyncCost } from '../socials/sync-plan.ts'

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

/**
 * A platform people can connect through its official OAuth. `S`: its configuration settings (what
 * `readConfig` returns in `settings`).
 */
export interface ConnectablePlatform<S = unknown> {
  readonly info: PlatformInfo
  /**
   * The platform's media servers (its CDNs): the only origins the archive downloads its media
   * from when the platform is reached for real (the sandbox: only its emulator). The page never
   * reaches them: it shows the archive's copies, from our origin.
   */
  readonly mediaOrigins: readonly string[]
  /** `POST` here starts a connection; the callback is `/api/socials/oauth/<id>/callback`. */
  readonly connectPath: string
  /**
   * The shapes of the platform's tokens and codes (global regular expressions): the logger
   * scrubs them out of any free text, whatever field they end up in.
   */
  readonly secretShapes: readonly RegExp[]
  /**
   * Reads the platform's own environment variables (their names are a public contract) into its
   * section of `Config.providers`, pushing problems to `env.problems`. Called once, by `loadConfig`.
   */
  readConfig(env: ConfigReader): ProviderConfig<S>
  /** What the platform calls on us; `buildApp` mounts them and exempts the server-to-server ones. */
  readonly inboundRoutes: readonly InboundRoute[]
  /** What a connect answers (503) when the platform is not configured: the variables to set. */
  readonly notConfiguredMessage: string
  /**
   * What to tell the person when a connection has run out, if the platform has its own words
   * (YouTube: the likely cause of a refresh token with a lifetime); default `expiredMessage`.
   */
  readonly expiredMessage?: string
  /**
   * The platform's privacy-friendly video player, when it has one the page may frame: its origin
   * (admitted by the page's CSP `frame-src` only when the platform is reached for real) and the
   * player URL of a post, `{id}` standing for its platform id. `idPattern` is the whole shape of
   * an id the player takes (no other id reaches a frame; without it the page's default, YouTube's
   * 11 base64url characters); `frame` says how the page frames it when not as YouTube's (16:9,
   * or 9:16 for a Short, no `sandbox`).
   */
  readonly embed?: {
    readonly origin: string
    readonly urlTemplate: string
    readonly idPattern?: RegExp
    readonly frame?: EmbedFrame
  }
  /**
   * Wires the configured platform into the app, once, at start: in sandbox mode mounts its
   * emulator on `env.app` and reaches it in-process; returns how to make its clients.
   */
  wire(env: WiringEnv<S>): Promise<PlatformWiring>
}

/** How the page frames a platform's player (`ConnectablePlatform.embed.frame`). */
export interface EmbedFrame {
  /** A 9:16 frame whatever the post (TikTok's player is portrait). */
  readonly portrait: boolean
  /** The iframe's `allow` (permissions policy) tokens. */
  readonly allow: string
  /** The iframe's `sandbox` tokens. */
  readonly sandbox: string
}

/** What `buildApp` lends a configured platform to wire itself in (`ConnectablePlatform.wire`). */
export interface WiringEnv<S> {
  /** The app, to mount a sandbox emulator on. */
  readonly app: FastifyInstance
  /** The platform's section of the configuration; `mode` is `real` or `sandbox`. */
  readonly config: ProviderConfig<S>
  /** PUBLIC_URL's origin (where a mounted sandbox is reached). */
  readonly publicUrl: string
  readonly clock: Clock
  /** How the real platform is reached (global `fetch` unless a test gives one). */
  readonly fetch: FetchLike
  /** A sandbox emulator a test made (the platform's own emulator type), else it makes one. */
  readonly sandbox?: unknown
  /** A persistent secret the sandbox derives its secrets from, so its tokens survive restarts. */
  readonly sandboxSeed?: string
}

/** The per-unit-of-work hooks a client is made with (the rate governor's, bound to an account). */
export interface ClientHooks {
  /** The service's clock (epoch ms). */
  readonly now: () => number
  readonly beforeCall: (endpoint: string) => Promise<void>
  readonly onCall: (report: CallReport<PlatformUsage>) => Promise<void>
}

/** A platform wired into the app. */
export interface PlatformWiring {
  createClient(hooks: ClientHooks): ProviderClient
  readonly capabilities: ProviderCapabilities
  /** The app's client secret in this mode (the sandbox's in sandbox mode): signed callbacks. */
  readonly clientSecret: string
  /**
   * How the archive downloads this platform's media: the app's `fetch` (real mode, where only
   * the platform's `mediaOrigins` are reached) or the sandbox emulator's, under `sandboxBase`.
   */
  readonly media: { readonly fetch: FetchLike; readonly sandboxBase?: string }
}

/**
 * What a connection holds for its platform, sealed together as one Fernet token
 * (`socials/credentials.ts`). A row written by the original app holds a bare access token: it
 * reads as credentials without refresh token or scopes.
 */
export interface Credentials {
  readonly accessToken: string
  /** When the access token stops working (epoch ms), if the platform says. */
  readonly accessTokenExpiresAt: number | null
  /** The refresh token, for platforms that issue one (`null`: none). */
  readonly refreshToken: string | null
  /** When the refresh token stops working (epoch ms); `null`: no end known. */
  readonly refreshTokenExpiresAt: number | null
  /** The scopes the person granted, as the platform reported them; `null`: not reported. */
  readonly scopes: readonly string[] | null
  /** When the platform issued them (epoch ms; Instagram renews a token only once it is a day old). */
  readonly issuedAt: number
  /**
   * When the platform issued the refresh token (epoch ms; `null`: none, or not recorded). A
   * non-rotating one (Google's) keeps the time of the consent across refreshes: its age explains
   * an `invalid_grant` (a Google project in "Testing" lets refresh tokens live 7 days).
   */
  readonly refreshTokenIssuedAt: number | null
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

/**
 * Whether a grant or a connected identity may be used; the outcome code explains a refusal to
 * the person (`socials/messages.ts`), `detail` adds the platform's next step in its own words.
 */
export type Eligibility =
  | { readonly ok: true }
  | {
      readonly ok: false
      /**
       * `personal_account`: Instagram Login serves professional accounts only; `scope_missing`:
       * the person unticked a permission on a granular consent screen (Google's); `no_channel`:
       * the sign-in has no account of the platform to show (a Google account without a YouTube
       * channel).
       */
      readonly outcome: 'personal_account' | 'scope_missing' | 'no_channel'
      readonly detail?: string
    }

/** What `fetchIdentity` found: the identity, or why the sign-in has none to connect. */
export type IdentityLookup =
  { readonly ok: true; readonly identity: ConnectedIdentity } | Extract<Eligibility, { ok: false }>

/** One page of an account's media, newest first. */
export interface ProviderMediaPage {
  readonly items: readonly MediaInput[]
  /**
   * Posts the platform listed on this page that are already stored and were left out of
   * `items` without being read again (`ListOptions.skipStored`): they count as known.
   */
  readonly skippedStored: number
  /**
   * Opaque and resumable: give it back to `listMedia` for the next page; `null` after the last.
   * It never holds a token, so it may be stored (an interrupted sync resumes from it).
   */
  readonly nextCursor: string | null
}

/** What the store already holds of a post, as a listing may use it. */
export interface StoredMediaHint {
  readonly media_product_type: string | null
}

/**
 * What the sync tells a listing. A platform that lists ids first and reads details in a second,
 * metered call (YouTube) asks `stored` which ids are already stored, and leaves them out of the
 * page when `skipStored` (a routine run, which stops at stored posts anyway); a full run reads
 * every post but may reuse what was stored (whether a video is a Short).
 */
export interface ListOptions {
  readonly stored?: (
    platformIds: readonly string[],
  ) => Promise<ReadonlyMap<string, StoredMediaHint>>
  readonly skipStored?: boolean
  /**
   * The platform id of the newest post stored (top level), for a routine run that asks the
   * platform only for what is newer (X's `since_id`: X bills every post it returns).
   */
  readonly newestStored?: () => Promise<string | null>
}

/** Platform facts the services act on: they read these, never a platform's id. */
export interface ProviderCapabilities {
  /**
   * How a connection stays alive: Instagram extends its long-lived token itself (once it is at
   * least `minAgeMs` old); a refresh-token platform trades its refresh token for a new access
   * token (and, when `rotating`, a new refresh token); a platform without renewal needs a
   * reconnect when the token expires.
   */
  readonly renewal:
    | { readonly kind: 'extend_access_token'; readonly minAgeMs: number }
    | {
        readonly kind: 'refresh_token'
        /** Each refresh returns a new refresh token and the old one stops working (TikTok, X). */
        readonly rotating: boolean
        /** Refresh before a call when the access token expires within this many ms. */
        readonly marginMs: number
      }
    | { readonly kind: 'none' }
  /**
   * `complete`: a full listing sees every post (unseen posts were deleted); `window`: it sees only
   * the newest ones, so nothing is deleted for not being listed.
   */
  readonly listingCoverage: 'complete' | 'window'
  /**
   * PKCE (RFC 7636, S256): `required` or `supported`, the service sends a challenge with every
   * authorization and the verifier with the code exchange; `none`, the platform ignores it.
   */
  readonly pkce: 'required' | 'supported' | 'none'
  /** How the client authenticates at the token endpoint: in the form body, or HTTP Basic (X). */
  readonly clientAuth: 'body' | 'basic'
  /** How the platform joins scopes in the authorization URL (Instagram and TikTok: `,`). */
  readonly scopeSeparator: ',' | ' '
  /**
   * `signed`: media URLs carry an expiry and must be refreshed before it (Instagram's `oe`,
   * TikTok's covers); `stable`: they do not expire (YouTube's thumbnails).
   */
  readonly mediaUrls: 'signed' | 'stable'
  /**
   * `endpoint`: the platform can revoke a grant, and a disconnect asks it to (`revoke`); `none`:
   * there is nothing to call (Instagram), a disconnect only deletes what we hold.
   */
  readonly revocation: 'endpoint' | 'none'
  /** The call allowances the platform grants, and what each kind of call costs. */
  readonly budgets: ProviderBudgets
}

/** A connectable platform's operations, bound to its configuration and to one unit of work. */
export interface ProviderClient {
  readonly capabilities: ProviderCapabilities
  /**
   * Where to send the browser to authorize, carrying `state` and, when the platform takes PKCE
   * (`capabilities.pkce`), the S256 `codeChallenge`.
   */
  authorizationUrl(state: string, codeChallenge?: string): string
  /**
   * The authorization code for working credentials (Instagram: short- then long-lived token).
   * Lifetimes count from the moment the platform answered (the client's clock).
   */
  exchangeCode(code: string, codeVerifier?: string): Promise<Credentials>
  /** Fresh credentials for current ones (`capabilities.renewal` says when). */
  renew(current: Credentials): Promise<Credentials>
  /**
   * Whether what the person granted is enough (right after the code exchange, before any other
   * call): the scopes the platform reported against the ones the gallery needs.
   */
  checkGrant(credentials: Credentials): Eligibility
  /** Who the credentials belong to, or (`ok: false`) why that sign-in has nobody to connect. */
  fetchIdentity(credentials: Credentials): Promise<IdentityLookup>
  checkEligible(identity: ConnectedIdentity): Eligibility
  /** The page after `cursor` (`null`: the newest page). */
  listMedia(
    credentials: Credentials,
    cursor: string | null,
    options?: ListOptions,
  ): Promise<ProviderMediaPage>
  /**
   * Reads posts again by their platform ids (top-level posts or album children), for their
   * current media URLs when stored signed ones expired (`capabilities.mediaUrls` is `signed`).
   * Items have the shape `listMedia` pages carry (children included); ids the platform no longer
   * has (deleted, made private, not the account's own) are reported in `missingIds`, never
   * thrown. A platform whose URLs are stable need not implement it.
   */
  readMedia?(credentials: Credentials, platformMediaIds: readonly string[]): Promise<MediaRead>
  /**
   * Asks the platform to revoke the grant (`capabilities.revocation` is `endpoint`); a platform
   * without revocation does not implement it.
   */
  revoke?(credentials: Credentials): Promise<void>
}

/** What `ProviderClient.readMedia` found. */
export interface MediaRead {
  /** The posts the platform still has, as a listing carries them (fresh URLs). */
  readonly items: readonly MediaInput[]
  /** Requested ids the platform no longer has for this account. */
  readonly missingIds: readonly string[]
}

// ---------------------------------------------------------------------------------------------
// Budgets: the call allowances a platform grants, as data (read by `socials/rate-governor.ts`).

/**
 * How a platform counts calls against a budget. `rolling`: the last `ms` milliseconds (Instagram's
 * hour, X's 15 minutes); `daily`: from midnight to midnight in `timeZone` (YouTube's quota resets
 * at midnight America/Los_Angeles); `monthly`: from the 1st at midnight in `timeZone` (X's read
 * caps on paid tiers). The arithmetic is in `socials/budget-windows.ts`.
 */
export type BudgetWindow =
  | { readonly kind: 'rolling'; readonly ms: number }
  | { readonly kind: 'daily'; readonly timeZone: string }
  | { readonly kind: 'monthly'; readonly timeZone: string }

/** One allowance: units per window, for the whole app or for each connected account. */
export interface BudgetSpec {
  /** Names the budget for configuration overrides and logs ("account_hourly"). */
  readonly name: string
  /** `app`: one budget for our whole app (scope `<platform>:app`); `account`: one per account. */
  readonly per: 'app' | 'account'
  readonly window: BudgetWindow
  /**
   * Units allowed per window; `null`: not capped by us (calls are counted, and only the blocks the
   * platform announces stop them). A configuration may override it (`ProviderPacing.limits`).
   */
  readonly limit: number | null
  /**
   * Which calls a `per: 'app'` budget counts. `app_calls` (the default): the calls made with the
   * app's own credentials (Instagram's hour, X's app-only 15 minutes). `every_call`: every call,
   * whichever account's token makes it (YouTube's project quota, X's monthly caps). Ignored for
   * `per: 'account'`, which counts that account's calls.
   */
  readonly counts?: 'app_calls' | 'every_call'
  /**
   * The share of each window (0 to 1) that routine work may not spend: kept for people waiting on
   * an answer (connecting, "Sync now"). YouTube keeps 20 % of the day's quota. Default 0.
   */
  readonly reserve?: number
}

export interface ProviderBudgets {
  readonly windows: readonly BudgetSpec[]
  /** Units one call costs, by call kind (the sender's `endpoint`: "media", "token refresh"). */
  readonly costs: Readonly<Record<string, number>>
  /** What a call kind not in `costs` costs. */
  readonly defaultCost: number
  /**
   * What a sync spends, for a platform whose accounts share a daily quota: the scheduler
   * stretches intervals to fit it (`socials/sync-plan.ts`).
   */
  readonly syncCost?: SyncCost
}

// ---------------------------------------------------------------------------------------------
// Configuration: each connectable platform reads its own environment variables.

/** What the central loader (`config/load-config.ts`) lends a platform's config reader. */
export interface ConfigReader {
  readonly nodeEnv: 'development' | 'production' | 'test'
  /** PUBLIC_URL's origin, without a trailing slash (the default redirect URIs start with it). */
  readonly publicUrl: string
  /** Every problem found is pushed here; the loader reports them all at once. */
  readonly problems: string[]
  /** The variable, trimmed; `undefined` when unset or blank. */
  readonly read: (name: string) => string | undefined
  /** A whole number from `min` to `max`; `fallback` when unset (a bad value is a problem). */
  readonly integer: (name: string, fallback: number, min: number, max: number) => number
  /** An absolute https URL (http for loopback hosts), without a trailing slash. */
  readonly url: (name: string, fallback: string) => string
}

/** How calls are paced once the platform reports heavy usage, and overridden budget limits. */
export interface ProviderPacing {
  /** Budget limits set by configuration, by `BudgetSpec.name` (they replace the spec's). */
  readonly limits: Readonly<Record<string, number>>
  /** Usage percentage (as the platform reports it) from which calls are paced and routine syncs postponed. */
  readonly slowDownPercent: number
  /** The pause before a call at 100 % usage (linear from 0 at `slowDownPercent`). */
  readonly maxPauseMs: number
}

/** A connectable platform's section of `Config.providers` (parsed once, frozen with the rest). */
export interface ProviderConfig<S> {
  /**
   * `real` (credentials set), `sandbox` (the built-in emulator, never in production) or
   * `unconfigured` (production without credentials: connecting answers 503).
   */
  readonly mode: ProviderMode
  /** Endpoints and credentials (the sandbox overrides URLs and ids). */
  readonly settings: S
  readonly pacing: ProviderPacing
}

// ---------------------------------------------------------------------------------------------
// Inbound routes: what a platform calls on us (Meta's deauthorize and data-deletion callbacks).

/** What an inbound route's handlers may use; built by `buildApp`. */
export interface InboundDeps {
  readonly store: Store
  readonly clock: Clock
  readonly throttle: Throttle
  readonly webhooks: WebhookNotifier
  /** PUBLIC_URL's origin (links in answers, such as Meta's deletion status URL). */
  readonly publicUrl: string
  /**
   * The platform app's client secret in the current mode (the sandbox's in sandbox mode): Meta
   * signs its callbacks with it. `null` when the platform is unconfigured.
   */
  readonly clientSecret: string | null
}

/** One route a platform calls (or sends people to); mounted by `buildApp` from the registry. */
export interface InboundRoute {
  readonly method: 'GET' | 'POST'
  /** The Fastify route pattern, absolute (`/api/socials/oauth/instagram/deauthorize`). */
  readonly path: string
  /**
   * A server-to-server callback: no cookie and no `Origin`, its own signature is its proof, so
   * it is exempt from the same-origin (CSRF) check. Only `POST` routes can be.
   */
  readonly serverToServer: boolean
  /** Adds the route (and only it, with its body parser) to `app`. */
  register(app: FastifyInstance, deps: InboundDeps): Promise<void>
}
