/**
 * @module providers/tiktok/config — TikTok's section of the configuration: the `TIKTOK_*`
 * environment variables (their names are a public contract), read once by `loadConfig` through
 * the registry.
 *
 * Mode: `real` when TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (the app's credentials on the
 * TikTok Developer Portal, Login Kit for Web) are set, else `sandbox` (the built-in emulator)
 * outside production and `unconfigured` in production, where connecting answers 503 with
 * `TIKTOK_NOT_CONFIGURED_MESSAGE`.
 *
 * URLs go through the loader's `url` reader (absolute, https or loopback http, no query string,
 * fragment or credentials, no trailing slash); whole numbers through its `integer` reader. Both
 * push their own problems.
 *
 * @see shared/reference/providers.md §2.1 (OAuth), §2.3 (listing, rate limit)
 */
import type { ConfigReader, ProviderConfig, ProviderPacing } from '../types.ts'

/**
 * The scopes the gallery asks for, joined with `,` in the authorization URL: who the account is
 * (`user.info.basic`: open_id, avatar, display name), its public profile (`user.info.profile`:
 * username, profile link) and its public videos (`video.list`).
 */
export const TIKTOK_SCOPES = ['user.info.basic', 'user.info.profile', 'video.list'] as const

/** The callback path TikTok redirects to (the default `TIKTOK_REDIRECT_URI` is PUBLIC_URL + it). */
export const TIKTOK_CALLBACK_PATH = '/api/socials/oauth/tiktok/callback'

/** The API paths under `TIKTOK_API_URL` (open.tiktokapis.com). */
export const TIKTOK_PATHS = {
  token: '/v2/oauth/token/',
  revoke: '/v2/oauth/revoke/',
  userInfo: '/v2/user/info/',
  videoList: '/v2/video/list/',
  videoQuery: '/v2/video/query/',
} as const

/** What a connect answers (503) in production without credentials: the variables to set. */
export const TIKTOK_NOT_CONFIGURED_MESSAGE =
  'TikTok (Login Kit) not configured: set TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET and TIKTOK_REDIRECT_URI'

/** Endpoint settings shared by the `real` and `sandbox` modes (the sandbox overrides URLs and keys). */
export interface TiktokConfig {
  /** TikTok's name for the OAuth client id (`client_key` in every request). */
  readonly clientKey: string
  readonly clientSecret: string
  /** Registered on the Developer Portal: https, static, no query or fragment (exact match). */
  readonly redirectUri: string
  /** TikTok's consent page (`https://www.tiktok.com/v2/auth/authorize/`). */
  readonly authorizeUrl: string
  /** The API's origin (`https://open.tiktokapis.com`); the paths are `TIKTOK_PATHS`. */
  readonly apiUrl: string
  /** Always `TIKTOK_SCOPES`, joined with `,` in the authorization URL. */
  readonly scopes: readonly string[]
  readonly requestTimeoutMs: number
}

/**
 * Pacing of TikTok's calls. TikTok reports no usage in headers (the `x-ratelimit-reset` header is
 * unconfirmed, providers.md §2.3): the pressure the governor reads is the share of our own
 * per-minute budget spent. From 80 % on, routine syncs wait, and a call pauses up to a second:
 * the window is one minute, so a short pause does help.
 */
const TIKTOK_SLOWDOWN_PERCENT = 80
const TIKTOK_MAX_PAUSE_MS = 1_000

/** TikTok's consent page; its paths end with `/`, as TikTok documents them. */
export const DEFAULT_AUTHORIZE_URL = 'https://www.tiktok.com/v2/auth/authorize/'

/**
 * A URL read by the loader's `url` reader (which drops a trailing slash), given its slash back
 * when the value (or the default) had one: TikTok's documented paths end with `/`.
 */
function withTrailingSlash(env: ConfigReader, name: string, fallback: string): string {
  const checked = env.url(name, fallback)
  const given = env.read(name) ?? fallback
  return given.endsWith('/') && !checked.endsWith('/') ? `${checked}/` : checked
}

export function readTiktokConfig(env: ConfigReader): ProviderConfig<TiktokConfig> {
  const { read, integer, url, problems } = env
  const clientKey = read('TIKTOK_CLIENT_KEY')
  const clientSecret = read('TIKTOK_CLIENT_SECRET')
  if (clientKey !== undefined && clientSecret === undefined) {
    problems.push(
      'TIKTOK_CLIENT_KEY is set but TIKTOK_CLIENT_SECRET is not: set both (the client key and client secret of the TikTok app) or neither',
    )
  } else if (clientKey === undefined && clientSecret !== undefined) {
    problems.push(
      'TIKTOK_CLIENT_SECRET is set but TIKTOK_CLIENT_KEY is not: set both (the client key and client secret of the TikTok app) or neither',
    )
  }
  const hasCredentials = clientKey !== undefined && clientSecret !== undefined
  const mode = hasCredentials ? 'real' : env.nodeEnv === 'production' ? 'unconfigured' : 'sandbox'

  const settings: TiktokConfig = {
    clientKey: clientKey ?? '',
    clientSecret: clientSecret ?? '',
    redirectUri: url('TIKTOK_REDIRECT_URI', `${env.publicUrl}${TIKTOK_CALLBACK_PATH}`),
    authorizeUrl: withTrailingSlash(env, 'TIKTOK_AUTHORIZE_URL', DEFAULT_AUTHORIZE_URL),
    apiUrl: url('TIKTOK_API_URL', 'https://open.tiktokapis.com'),
    scopes: [...TIKTOK_SCOPES],
    requestTimeoutMs: integer('TIKTOK_REQUEST_TIMEOUT_MS', 15_000, 100, 120_000),
  }
  const pacing: ProviderPacing = {
    limits: {},
    slowDownPercent: TIKTOK_SLOWDOWN_PERCENT,
    maxPauseMs: TIKTOK_MAX_PAUSE_MS,
  }
  return { mode, settings, pacing }
}
