/**
 * @module providers/youtube/config — YouTube's section of the configuration: the `YOUTUBE_*`
 * environment variables (their names are a public contract, issue 14 item 1), read once by
 * `loadConfig` through the registry.
 *
 * Mode: `real` when YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET (the Google Cloud OAuth client of
 * type "Web application") are set, else `sandbox` (the built-in emulator) outside production and
 * `unconfigured` in production, where connecting answers 503 with `YOUTUBE_NOT_CONFIGURED_MESSAGE`.
 *
 * URLs go through the loader's `url` reader (absolute, https or loopback http, no query string,
 * fragment or credentials, no trailing slash); whole numbers through its `integer` reader. Both
 * push their own problems.
 *
 * @see shared/reference/providers.md §1.1 (endpoints), §1.3 (quota)
 */
import type { ConfigReader, ProviderConfig, ProviderPacing } from '../types.ts'

/** The one scope the gallery asks for: read the channel and its videos. */
export const YOUTUBE_READONLY_SCOPE = 'https://www.googleapis.com/auth/youtube.readonly'

/** The name of the project's daily quota budget (`YOUTUBE_DAILY_QUOTA_UNITS` sets its limit). */
export const PROJECT_DAILY_BUDGET = 'project_daily'

/** Google's default Data API quota for a project: 10,000 units a day. */
export const DEFAULT_DAILY_QUOTA_UNITS = 10_000

/**
 * The bounds of `YOUTUBE_DAILY_QUOTA_UNITS`: at least one call a day, at most far above any
 * extension Google grants (the value is a cap we keep under, not a promise from Google).
 */
export const DAILY_QUOTA_UNITS_MIN = 1
export const DAILY_QUOTA_UNITS_MAX = 100_000_000

/** The callback path Google redirects to (the default `YOUTUBE_REDIRECT_URI` is PUBLIC_URL + it). */
export const YOUTUBE_CALLBACK_PATH = '/api/socials/oauth/youtube/callback'

/** What a connect answers (503) in production without credentials: the variables to set. */
export const YOUTUBE_NOT_CONFIGURED_MESSAGE =
  'YouTube (Google OAuth) not configured: set YOUTUBE_CLIENT_ID, YOUTUBE_CLIENT_SECRET and YOUTUBE_REDIRECT_URI'

/** Endpoint settings shared by the `real` and `sandbox` modes (the sandbox overrides URLs and ids). */
export interface YoutubeConfig {
  readonly clientId: string
  readonly clientSecret: string
  readonly redirectUri: string
  /** Google's consent page (`https://accounts.google.com/o/oauth2/v2/auth`). */
  readonly authorizeUrl: string
  /** Code exchange and refresh (`https://oauth2.googleapis.com/token`). */
  readonly tokenUrl: string
  /** Revocation (`https://oauth2.googleapis.com/revoke`, form field `token`). */
  readonly revokeUrl: string
  /** The Data API's origin (`https://www.googleapis.com`); requests go to `/youtube/v3/...`. */
  readonly apiUrl: string
  /** YouTube's site (`https://www.youtube.com`): watch links and the `HEAD /shorts/<id>` probe. */
  readonly webUrl: string
  /** Always `[YOUTUBE_READONLY_SCOPE]`, joined with `' '` in the authorization URL. */
  readonly scopes: readonly string[]
  /** Units the project may spend per day (midnight to midnight America/Los_Angeles). */
  readonly dailyQuotaUnits: number
  readonly requestTimeoutMs: number
}

/**
 * Pacing of YouTube's calls. Google reports no usage percentage, so the pressure the sync service
 * reads is the share of the day's quota spent: from 80 % on, routine syncs wait (the last 20 % is
 * kept for connects and "Sync now", issue 14 item 6). No pause before a call: a daily quota is
 * not helped by waiting seconds.
 */
const YOUTUBE_SLOWDOWN_PERCENT = 80

export function readYoutubeConfig(env: ConfigReader): ProviderConfig<YoutubeConfig> {
  const { read, integer, url, problems } = env
  const clientId = read('YOUTUBE_CLIENT_ID')
  const clientSecret = read('YOUTUBE_CLIENT_SECRET')
  if (clientId !== undefined && clientSecret === undefined) {
    problems.push(
      'YOUTUBE_CLIENT_ID is set but YOUTUBE_CLIENT_SECRET is not: set both (the Google Cloud OAuth client ID and its secret) or neither',
    )
  } else if (clientId === undefined && clientSecret !== undefined) {
    problems.push(
      'YOUTUBE_CLIENT_SECRET is set but YOUTUBE_CLIENT_ID is not: set both (the Google Cloud OAuth client ID and its secret) or neither',
    )
  }
  const hasCredentials = clientId !== undefined && clientSecret !== undefined
  const mode = hasCredentials ? 'real' : env.nodeEnv === 'production' ? 'unconfigured' : 'sandbox'

  const dailyQuotaUnits = integer(
    'YOUTUBE_DAILY_QUOTA_UNITS',
    DEFAULT_DAILY_QUOTA_UNITS,
    DAILY_QUOTA_UNITS_MIN,
    DAILY_QUOTA_UNITS_MAX,
  )
  const settings: YoutubeConfig = {
    clientId: clientId ?? '',
    clientSecret: clientSecret ?? '',
    redirectUri: url('YOUTUBE_REDIRECT_URI', `${env.publicUrl}${YOUTUBE_CALLBACK_PATH}`),
    authorizeUrl: url('YOUTUBE_AUTHORIZE_URL', 'https://accounts.google.com/o/oauth2/v2/auth'),
    tokenUrl: url('YOUTUBE_TOKEN_URL', 'https://oauth2.googleapis.com/token'),
    revokeUrl: url('YOUTUBE_REVOKE_URL', 'https://oauth2.googleapis.com/revoke'),
    apiUrl: url('YOUTUBE_API_URL', 'https://www.googleapis.com'),
    webUrl: url('YOUTUBE_WEB_URL', 'https://www.youtube.com'),
    scopes: [YOUTUBE_READONLY_SCOPE],
    dailyQuotaUnits,
    requestTimeoutMs: integer('YOUTUBE_REQUEST_TIMEOUT_MS', 15_000, 100, 120_000),
  }
  const pacing: ProviderPacing = {
    limits: { [PROJECT_DAILY_BUDGET]: dailyQuotaUnits },
    slowDownPercent: YOUTUBE_SLOWDOWN_PERCENT,
    maxPauseMs: 0,
  }
  return { mode, settings, pacing }
}
