/**
 * @module providers/x/config — X's section of the configuration: the `X_*` environment variables
 * (their names are a public contract), read once by `loadConfig` through the registry.
 *
 * Mode: `real` when X_CLIENT_ID is set (the OAuth 2.0 Client ID of the X developer App), else
 * `sandbox` (the built-in emulator) outside production and `unconfigured` in production, where
 * connecting answers 503 with `X_NOT_CONFIGURED_MESSAGE`.
 *
 * X_CLIENT_SECRET is optional: an App of type "Web App, Automated App or Bot" is a confidential
 * client and authenticates at the token endpoint with HTTP Basic (Client ID and secret); a
 * "Native App" is a public client and sends `client_id` in the form body, with no secret. A
 * secret without a Client ID is a problem.
 *
 * Every endpoint lives under one origin, X_API_URL (`https://api.x.com`): the token endpoint
 * (`/2/oauth2/token`), revocation (`/2/oauth2/revoke`), `/2/users/me` and `/2/users/:id/tweets`.
 * The consent page is elsewhere (X_AUTHORIZE_URL, `https://x.com/i/oauth2/authorize`).
 *
 * URLs go through the loader's `url` reader (absolute, https or loopback http, no query string,
 * fragment or credentials, no trailing slash); whole numbers through its `integer` reader. Both
 * push their own problems.
 *
 * @see shared/reference/providers.md §3.1 (OAuth), §3.3 (listing), §3.4 (pricing)
 */
import type { ConfigReader, ProviderConfig, ProviderPacing } from '../types.ts'

/**
 * What the gallery asks for: read posts (`tweet.read`) and the profile (`users.read`, which
 * `/2/users/me` needs too), and a refresh token (`offline.access`: without it X issues none and
 * the connection dies with its two-hour access token).
 */
export const X_SCOPES: readonly string[] = Object.freeze([
  'tweet.read',
  'users.read',
  'offline.access',
])

/** The callback path X redirects to (the default `X_REDIRECT_URI` is PUBLIC_URL + it). */
export const X_CALLBACK_PATH = '/api/socials/oauth/x/callback'

/** Paths under X_API_URL. */
export const X_TOKEN_PATH = '/2/oauth2/token'
export const X_REVOKE_PATH = '/2/oauth2/revoke'
export const X_ME_PATH = '/2/users/me'
/** `/2/users/:id/tweets`, the account's own timeline. */
export const xTimelinePath = (userId: string): string =>
  `/2/users/${encodeURIComponent(userId)}/tweets`

/** The name of the monthly post-read budget (`X_MONTHLY_POST_READ_LIMIT` sets its limit). */
export const MONTHLY_POST_READS_BUDGET = 'monthly_post_reads'

/**
 * The default monthly cap on post reads: 10,000 posts, $50 at pay-per-use prices ($0.005 a post,
 * providers.md §3.4). A cap we keep under to bound the bill, not one X announces.
 */
export const DEFAULT_MONTHLY_POST_READ_LIMIT = 10_000

/**
 * The bounds of `X_MONTHLY_POST_READ_LIMIT`: at least one full page (a timeline call is charged
 * its 100 posts up front, `capabilities.ts`), at most far above X's own 3 M post reads a month.
 */
export const MONTHLY_POST_READ_LIMIT_MIN = 100
export const MONTHLY_POST_READ_LIMIT_MAX = 100_000_000

/** What a connect answers (503) in production without credentials: the variables to set. */
export const X_NOT_CONFIGURED_MESSAGE =
  'X (OAuth 2.0) not configured: set X_CLIENT_ID (and X_CLIENT_SECRET for a confidential Web App) and X_REDIRECT_URI'

/** Endpoint settings shared by the `real` and `sandbox` modes (the sandbox overrides URLs and ids). */
export interface XConfig {
  readonly clientId: string
  /**
   * The confidential client's secret (HTTP Basic at the token and revoke endpoints); `''` for a
   * public client, which sends `client_id` in the form body instead.
   */
  readonly clientSecret: string
  readonly redirectUri: string
  /** X's consent page (`https://x.com/i/oauth2/authorize`). */
  readonly authorizeUrl: string
  /** The API's origin (`https://api.x.com`): token, revoke and data endpoints are under it. */
  readonly apiUrl: string
  /** Always `X_SCOPES`, joined with `' '` in the authorization URL. */
  readonly scopes: readonly string[]
  /** Posts syncs may read per calendar month (UTC), all accounts together. */
  readonly monthlyPostReadLimit: number
  readonly requestTimeoutMs: number
}

/**
 * Pacing of X's calls. X reports each endpoint's window in `x-rate-limit-limit/remaining/reset`
 * (`parse.ts` reads them as a usage percentage): from 80 % of a window on, calls are paced, up to
 * 5 s apart at 100 % (a 15-minute window is helped by waiting seconds, unlike a monthly cap), and
 * routine syncs are postponed.
 */
const X_SLOWDOWN_PERCENT = 80
const X_MAX_PAUSE_MS = 5_000

export function readXConfig(env: ConfigReader): ProviderConfig<XConfig> {
  const { read, integer, url, problems } = env
  const clientId = read('X_CLIENT_ID')
  const clientSecret = read('X_CLIENT_SECRET')
  if (clientId === undefined && clientSecret !== undefined) {
    problems.push(
      'X_CLIENT_SECRET is set but X_CLIENT_ID is not: set the OAuth 2.0 Client ID of the X App (with its secret for a confidential Web App), or neither',
    )
  }
  const mode =
    clientId !== undefined ? 'real' : env.nodeEnv === 'production' ? 'unconfigured' : 'sandbox'

  const monthlyPostReadLimit = integer(
    'X_MONTHLY_POST_READ_LIMIT',
    DEFAULT_MONTHLY_POST_READ_LIMIT,
    MONTHLY_POST_READ_LIMIT_MIN,
    MONTHLY_POST_READ_LIMIT_MAX,
  )
  const settings: XConfig = {
    clientId: clientId ?? '',
    clientSecret: clientId === undefined ? '' : (clientSecret ?? ''),
    redirectUri: url('X_REDIRECT_URI', `${env.publicUrl}${X_CALLBACK_PATH}`),
    authorizeUrl: url('X_AUTHORIZE_URL', 'https://x.com/i/oauth2/authorize'),
    apiUrl: url('X_API_URL', 'https://api.x.com'),
    scopes: X_SCOPES,
    monthlyPostReadLimit,
    requestTimeoutMs: integer('X_REQUEST_TIMEOUT_MS', 15_000, 100, 120_000),
  }
  const pacing: ProviderPacing = {
    limits: { [MONTHLY_POST_READS_BUDGET]: monthlyPostReadLimit },
    slowDownPercent: X_SLOWDOWN_PERCENT,
    maxPauseMs: X_MAX_PAUSE_MS,
  }
  return { mode, settings, pacing }
}
