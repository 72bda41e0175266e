/**
 * @module providers/instagram/config — Instagram's section of the configuration: the `INSTAGRAM_*`
 * environment variables (their names are a public contract, see `.env.example`), read once by
 * `loadConfig` through the registry.
 *
 * Mode: `real` when INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET are set, else `sandbox` (the
 * built-in emulator) outside production and `unconfigured` in production.
 */
import type { ConfigReader, ProviderConfig } from '../types.ts'

export const INSTAGRAM_SCOPES = [
  'instagram_business_basic',
  'instagram_business_content_publish',
  'instagram_business_manage_comments',
  'instagram_business_manage_messages',
  'instagram_business_manage_insights',
] as const
export type InstagramScope = (typeof INSTAGRAM_SCOPES)[number]

/** The name of the per-account hourly budget (`INSTAGRAM_CALLS_PER_HOUR_PER_ACCOUNT` overrides it). */
export const ACCOUNT_HOURLY_BUDGET = 'account_hourly'

/** Endpoint settings shared by the `real` and `sandbox` modes (the sandbox overrides URLs and ids). */
export interface InstagramConfig {
  readonly clientId: string
  readonly clientSecret: string
  readonly redirectUri: string
  readonly authorizeUrl: string
  readonly tokenUrl: string
  readonly graphUrl: string
  readonly graphVersion: string
  readonly scopes: readonly InstagramScope[]
  readonly mediaPageSize: number
  readonly requestTimeoutMs: number
}

export function readInstagramConfig(env: ConfigReader): ProviderConfig<InstagramConfig> {
  const { read, integer, url, problems } = env
  const clientId = read('INSTAGRAM_CLIENT_ID')
  const clientSecret = read('INSTAGRAM_CLIENT_SECRET')
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    problems.push('INSTAGRAM_CLIENT_ID and INSTAGRAM_CLIENT_SECRET must be set together')
  }
  const hasCredentials = clientId !== undefined && clientSecret !== undefined
  const mode = hasCredentials ? 'real' : env.nodeEnv === 'production' ? 'unconfigured' : 'sandbox'

  const scopes: InstagramScope[] = []
  for (const scope of (read('INSTAGRAM_SCOPES') ?? 'instagram_business_basic').split(/[\s,]+/)) {
    if (scope === '') continue
    if ((INSTAGRAM_SCOPES as readonly string[]).includes(scope))
      scopes.push(scope as InstagramScope)
    else
      problems.push(
        `INSTAGRAM_SCOPES: "${scope}" is not an allowed scope (${INSTAGRAM_SCOPES.join(', ')})`,
      )
  }
  if (!scopes.includes('instagram_business_basic')) {
    problems.push('INSTAGRAM_SCOPES must include instagram_business_basic')
  }
  const graphVersion = read('INSTAGRAM_GRAPH_VERSION') ?? 'v24.0'
  if (!/^v\d{1,3}\.\d$/.test(graphVersion)) {
    problems.push(`INSTAGRAM_GRAPH_VERSION must look like v24.0 (got "${graphVersion}")`)
  }

  const settings: InstagramConfig = {
    clientId: clientId ?? '',
    clientSecret: clientSecret ?? '',
    redirectUri: url(
      'INSTAGRAM_REDIRECT_URI',
      `${env.publicUrl}/api/socials/oauth/instagram/callback`,
    ),
    authorizeUrl: url('INSTAGRAM_AUTHORIZE_URL', 'https://www.instagram.com/oauth/authorize'),
    tokenUrl: url('INSTAGRAM_TOKEN_URL', 'https://api.instagram.com/oauth/access_token'),
    graphUrl: url('INSTAGRAM_GRAPH_URL', 'https://graph.instagram.com'),
    graphVersion,
    scopes,
    mediaPageSize: integer('INSTAGRAM_MEDIA_PAGE_SIZE', 25, 1, 100),
    requestTimeoutMs: integer('INSTAGRAM_REQUEST_TIMEOUT_MS', 15_000, 100, 120_000),
  }
  const pacing = {
    limits: {
      [ACCOUNT_HOURLY_BUDGET]: integer('INSTAGRAM_CALLS_PER_HOUR_PER_ACCOUNT', 200, 1, 100_000),
    },
    slowDownPercent: integer('INSTAGRAM_SLOWDOWN_PERCENT', 80, 1, 100),
    maxPauseMs: integer('INSTAGRAM_SLOWDOWN_MAX_PAUSE_MS', 5_000, 0, 60_000),
  }
  return { mode, settings, pacing }
}
