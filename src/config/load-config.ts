/**
 * @module config/load-config — the only place that reads environment variables.
 *
 * Parses everything once, reports every problem in one message, and returns a deeply frozen
 * object. Variable names are a public contract (see `.env.example`).
 */
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { GalleryError } from '../errors.ts'
import { FernetKey } from '../crypto/fernet.ts'
import { GOOGLE_SECURETOKEN_JWKS } from '../identity/firebase.ts'
import { checkWebhookSecrets } from '../webhooks/secrets.ts'
import { readProvidersConfig, type ProvidersConfig } from '../providers/registry.ts'
import type { ConfigReader } from '../providers/types.ts'
import { parseMediaStoreUrl, type MediaStoreLocation } from '../archive/blobs/open-blob-store.ts'

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'postgres'
      /** The connection URL; it holds the password: never log it. */
      readonly url: string
      readonly poolSize: number
      readonly connectTimeoutMs: number
      readonly statementTimeoutMs: number
    }

export interface Config {
  readonly nodeEnv: 'development' | 'production' | 'test'
  readonly port: number
  readonly host: string
  /** Origin users reach, without a trailing slash, e.g. `http://localhost:8080`. */
  readonly publicUrl: string
  readonly dataDir: string
  readonly database: DatabaseConfig
  /** Fernet keys, first encrypts; `null` means "generate a development key in dataDir". */
  readonly encryptionKeys: readonly string[] | null
  readonly logLevel: string
  /**
   * Each connectable platform's section, read by the platform itself through the registry
   * (`providers/instagram/config.ts` reads the `INSTAGRAM_*` variables): its mode (`real`,
   * `sandbox` or `unconfigured`), its settings and how its calls are paced.
   */
  readonly providers: ProvidersConfig
  readonly jobs: {
    /** Bearer secret for `POST /internal/jobs/run-due`; `null` disables the endpoint. */
    readonly secret: string | null
    /** Renew tokens expiring within this many days (≥ 7, the original rule). */
    readonly renewMarginDays: number
    /** In-process scheduler period in seconds; 0 turns it off. */
    readonly intervalSeconds: number
    /** Routine (incremental) sync period per account in minutes; 0 turns scheduled syncs off. */
    readonly syncIntervalMinutes: number
    /** Full reconciliation period per account in hours. */
    readonly fullSyncIntervalHours: number
    /** Refresh stored media URLs this many hours before the earliest one expires. */
    readonly mediaUrlRefreshMarginHours: number
    /** Accounts synced at the same time by one runner. */
    readonly syncConcurrency: number
    /** Token renewals in flight at the same time in one runner. */
    readonly renewalConcurrency: number
    /** Days a revoked account (and its media) is kept for its owner to reconnect. */
    readonly revokedRetentionDays: number
  }
  /**
   * Which proxies' `X-Forwarded-For` to believe for the client address (rate limits, logs):
   * `false` (none, the default), a hop count (the number of proxies in front of the service, each
   * of which appends the address it saw: 1 on Cloud Run, 2 behind a Google load balancer), or a
   * list of proxy addresses / CIDR ranges. "Trust every hop" is refused: it takes the left-most
   * entry, which the client itself wrote.
   */
  readonly trustProxy: false | number | string
  /**
   * The `Host` names requests may carry (DNS-rebinding defence): PUBLIC_URL's host, the loopback
   * names and `ALLOWED_HOSTS`; `null` turns the check off (production without ALLOWED_HOSTS, so
   * platform health checks and extra domains keep working). Lower case, without ports.
   */
  readonly allowedHosts: readonly string[] | null
  /** Who signs people in: local accounts (the default) or Firebase ID tokens. */
  readonly auth:
    | { readonly mode: 'local' }
    | {
        readonly mode: 'firebase'
        readonly projectId: string
        readonly jwksUrl: string
        /** What the web page needs for Firebase's JS SDK; `apiKey` null: the page says how to set it. */
        readonly web: {
          readonly apiKey: string | null
          readonly authDomain: string
          /** Firebase Auth emulator for the page's SDK (development and tests); null: Google's. */
          readonly emulatorUrl: string | null
        }
      }
  /**
   * Outgoing signed webhooks; `null` when `WEBHOOK_URL` is unset. `secrets`: `WEBHOOK_SECRET` split
   * on spaces, each a valid `whsec_<base64>` (24–64 bytes) or plain (≥ 32 characters) secret.
   */
  readonly webhook: { readonly url: string; readonly secrets: readonly string[] } | null
  /** The media archive (issue 16). */
  readonly archive: {
    /** `MEDIA_STORE_URL`: a directory (default `<DATA_DIR>/media`) or `s3://bucket/prefix`. */
    readonly store: MediaStoreLocation
    /** `MEDIA_STORE_S3_PATH_STYLE`: path-style S3 URLs (MinIO, some S3-compatible servers). */
    readonly s3PathStyle: boolean
    /** `ARCHIVE_MAX_VIDEO_MB` in bytes; 0 turns video archiving off. */
    readonly maxVideoBytes: number
    /** `ARCHIVE_MAX_MB_PER_USER` in bytes. */
    readonly maxBytesPerUser: number
  }
}

type Env = Readonly<Record<string, string | undefined>>

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])
/** The names a browser on the same machine uses for the service (`Host` header spelling). */
const LOOPBACK_HOST_NAMES = ['localhost', '127.0.0.1', '[::1]']
const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/

export function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_HOSTS.has(hostname) || hostname.endsWith('.localhost')) return true
  return isIP(hostname) === 4 && hostname.startsWith('127.')
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/**
 * The environment readers of the loader, every problem pushed to `problems`: the loader uses
 * them, and lends them to each platform's config reader (`ConfigReader`), so a platform's values
 * are validated exactly like the core's.
 */
export function envReaders(
  env: Env,
  problems: string[],
): Pick<ConfigReader, 'read' | 'integer'> & {
  readonly url: (name: string, fallback: string, opts?: { path?: boolean }) => string
} {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name)
    if (raw === undefined) return fallback
    const n = Number(raw)
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`)
      return fallback
    }
    return n
  }
  const url = (name: string, fallback: string, opts: { path?: boolean } = {}): string => {
    const raw = read(name) ?? fallback
    let parsed: URL
    try {
      parsed = new URL(raw)
    } catch {
      problems.push(`${name} must be an absolute URL (got "${raw}")`)
      return fallback
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      problems.push(`${name} must use https (got "${parsed.protocol}")`)
    } else if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
      problems.push(
        `${name} must use https; plain http is accepted only for loopback hosts (got "${raw}")`,
      )
    }
    if (
      parsed.search !== '' ||
      parsed.hash !== '' ||
      parsed.username !== '' ||
      parsed.password !== ''
    ) {
      problems.push(`${name} must not contain a query string, fragment or credentials`)
    }
    return opts.path === false ? parsed.origin : raw.replace(/\/+$/, '')
  }

  return { read, integer, url }
}

/**
 * Parses and validates the environment.
 * @throws GalleryError ERR_CONFIG_INVALID listing every problem found.
 */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const problems: string[] = []
  const { read, integer, url } = envReaders(env, problems)

  const nodeEnvRaw = read('NODE_ENV') ?? 'development'
  let nodeEnv: Config['nodeEnv'] = 'development'
  if (nodeEnvRaw === 'production' || nodeEnvRaw === 'development' || nodeEnvRaw === 'test')
    nodeEnv = nodeEnvRaw
  else problems.push(`NODE_ENV must be development, production or test (got "${nodeEnvRaw}")`)

  const port = integer('PORT', 8080, 0, 65535)
  const host = read('HOST') ?? (nodeEnv === 'production' ? '0.0.0.0' : '127.0.0.1')
  const publicUrl = url('PUBLIC_URL', `http://localhost:${port === 0 ? 8080 : port}`, {
    path: false,
  })
  const rawPublic = read('PUBLIC_URL')
  if (rawPublic !== undefined && /^https?:\/\/[^/]+\/.+/.test(rawPublic.replace(/\/+$/, ''))) {
    problems.push('PUBLIC_URL must be an origin (scheme, host and port) without a path')
  }

  const dataDir = resolve(cwd, read('DATA_DIR') ?? './data')
  const databaseUrl = read('DATABASE_URL') ?? `sqlite:${resolve(dataDir, 'gallery.db')}`
  let database: DatabaseConfig = { kind: 'sqlite', path: resolve(dataDir, 'gallery.db') }
  const poolSize = integer('DATABASE_POOL_SIZE', 10, 1, 200)
  const connectTimeoutMs = integer('DATABASE_CONNECT_TIMEOUT_MS', 5_000, 100, 120_000)
  const statementTimeoutMs = integer('DATABASE_STATEMENT_TIMEOUT_MS', 30_000, 100, 600_000)
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (path === '')
      problems.push('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/gallery.db')
    else database = { kind: 'sqlite', path: path === ':memory:' ? ':memory:' : resolve(cwd, path) }
  } else if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // a host, or a Unix socket folder (Cloud SQL: postgres://u:p@/db?host=/cloudsql/…), which
    // WHATWG URLs cannot parse but `pg` accepts
    let valid = /^postgres(ql)?:\/\/([^@/]*@)?\/[^/?]+\?(.*&)?host=\/[^&]+/.test(databaseUrl)
    try {
      valid ||= new URL(databaseUrl).hostname !== ''
    } catch {
      // not a URL, and not the socket form either
    }
    if (valid)
      database = {
        kind: 'postgres',
        url: databaseUrl,
        poolSize,
        connectTimeoutMs,
        statementTimeoutMs,
      }
    else
      problems.push(
        'DATABASE_URL must be postgres://user:password@host:port/database (it is not a valid URL)',
      )
  } else {
    problems.push(
      'DATABASE_URL must be sqlite:<path> (e.g. sqlite:./data/gallery.db) or postgres://user:password@host:port/database',
    )
  }

  let encryptionKeys: string[] | null = null
  const rawKeys = read('SOCIAL_TOKEN_ENCRYPTION_KEY')
  if (rawKeys !== undefined) {
    encryptionKeys = rawKeys
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '')
    encryptionKeys.forEach((key, index) => {
      try {
        new FernetKey(key)
      } catch {
        problems.push(
          `SOCIAL_TOKEN_ENCRYPTION_KEY key #${index + 1} is not a Fernet key (32 bytes, url-safe base64, 44 characters)`,
        )
      }
    })
    if (encryptionKeys.length === 0) problems.push('SOCIAL_TOKEN_ENCRYPTION_KEY is empty')
  } else if (nodeEnv === 'production') {
    problems.push('SOCIAL_TOKEN_ENCRYPTION_KEY is required when NODE_ENV=production')
  }

  // each connectable platform reads its own variables (INSTAGRAM_* for Instagram)
  const providers = readProvidersConfig({ nodeEnv, publicUrl, problems, read, integer, url })

  const jobsSecret = read('JOBS_SECRET') ?? null
  if (jobsSecret !== null && jobsSecret.length < 32)
    problems.push('JOBS_SECRET must be at least 32 characters')
  const jobs = {
    secret: jobsSecret,
    renewMarginDays: integer('TOKEN_RENEW_MARGIN_DAYS', 30, 7, 59),
    intervalSeconds: integer('SCHEDULER_INTERVAL_SECONDS', nodeEnv === 'test' ? 0 : 300, 0, 86_400),
    syncIntervalMinutes: integer('SYNC_INTERVAL_MINUTES', 60, 0, 10_080),
    fullSyncIntervalHours: integer('SYNC_FULL_INTERVAL_HOURS', 24, 1, 720),
    mediaUrlRefreshMarginHours: integer('MEDIA_URL_REFRESH_MARGIN_HOURS', 24, 1, 168),
    syncConcurrency: integer('SYNC_CONCURRENCY', 4, 1, 64),
    renewalConcurrency: integer('RENEWAL_CONCURRENCY', 4, 1, 64),
    revokedRetentionDays: integer('REVOKED_ACCOUNT_RETENTION_DAYS', 30, 0, 3650),
  }
  if (jobs.syncIntervalMinutes > 0 && jobs.syncIntervalMinutes < 5) {
    problems.push('SYNC_INTERVAL_MINUTES must be 0 (off) or at least 5')
  }
  const trustRaw = read('TRUST_PROXY') ?? 'false'
  let trustProxy: Config['trustProxy'] = false
  if (trustRaw === 'false') trustProxy = false
  else if (trustRaw === 'true')
    problems.push(
      'TRUST_PROXY=true would believe the left-most X-Forwarded-For entry, which any client can write: give the number of proxies in front of the service instead (1 on Cloud Run, 2 behind a Google Cloud load balancer), or their addresses',
    )
  else if (/^\d+$/.test(trustRaw)) {
    const hops = Number(trustRaw)
    if (hops >= 1 && hops <= 10) trustProxy = hops
    else problems.push(`TRUST_PROXY as a hop count must be from 1 to 10 (got "${trustRaw}")`)
  } else if (
    trustRaw
      .split(',')
      .map((part) => part.trim())
      .every((part) => isIP(part.split('/')[0] ?? '') !== 0)
  )
    trustProxy = trustRaw
  else
    problems.push(
      `TRUST_PROXY must be false, a number of proxy hops (e.g. 1) or proxy addresses/CIDR ranges (got "${trustRaw}")`,
    )

  const extraHosts: string[] = []
  for (const name of (read('ALLOWED_HOSTS') ?? '').split(',')) {
    const host = name.trim().toLowerCase()
    if (host === '') continue
    if (HOST_NAME.test(host) || isIP(host.replace(/^\[|\]$/g, '')) !== 0) extraHosts.push(host)
    else
      problems.push(
        `ALLOWED_HOSTS: "${name.trim()}" is not a host name (give names such as gallery.example.com, without scheme or port)`,
      )
  }
  const allowedHosts =
    nodeEnv === 'production' && extraHosts.length === 0
      ? null
      : [
          ...new Set([
            new URL(publicUrl).hostname.toLowerCase(),
            ...LOOPBACK_HOST_NAMES,
            ...extraHosts,
          ]),
        ]

  let auth: Config['auth'] = { mode: 'local' }
  const authMode = read('AUTH_MODE') ?? 'local'
  if (authMode === 'firebase') {
    const projectId = read('FIREBASE_PROJECT_ID')
    const jwksUrl = url('FIREBASE_JWKS_URL', GOOGLE_SECURETOKEN_JWKS)
    const apiKey = read('FIREBASE_WEB_API_KEY') ?? null
    if (apiKey !== null && !/^[A-Za-z0-9_-]{20,100}$/.test(apiKey))
      problems.push(
        'FIREBASE_WEB_API_KEY must be the Web API key of your Firebase project (Project settings → General)',
      )
    const authDomain = read('FIREBASE_AUTH_DOMAIN')
    if (authDomain !== undefined && !/^[a-z0-9.-]{3,253}(:\d{1,5})?$/i.test(authDomain))
      problems.push(`FIREBASE_AUTH_DOMAIN must be a host name such as my-project.firebaseapp.com`)
    // on a bad value `url` records the problem and returns the (valid) fallback
    const emulatorUrl =
      read('FIREBASE_AUTH_EMULATOR_URL') === undefined
        ? null
        : new URL(url('FIREBASE_AUTH_EMULATOR_URL', 'http://127.0.0.1:9099')).origin
    if (projectId === undefined || !/^[a-z][a-z0-9-]{4,29}$/.test(projectId))
      problems.push('AUTH_MODE=firebase needs FIREBASE_PROJECT_ID (your Firebase project id)')
    else
      auth = {
        mode: 'firebase',
        projectId,
        jwksUrl,
        web: { apiKey, authDomain: authDomain ?? `${projectId}.firebaseapp.com`, emulatorUrl },
      }
  } else if (authMode !== 'local') {
    problems.push(`AUTH_MODE must be local or firebase (got "${authMode}")`)
  }

  let webhook: Config['webhook'] = null
  const webhookSecret = read('WEBHOOK_SECRET')
  if (read('WEBHOOK_URL') !== undefined) {
    const webhookUrl = url('WEBHOOK_URL', 'https://invalid.example')
    const checked = checkWebhookSecrets('WEBHOOK_SECRET', webhookSecret ?? '')
    if (checked.secrets.length === 0)
      problems.push(
        'WEBHOOK_SECRET (at least 32 characters) is required when WEBHOOK_URL is set: whsec_<base64 of 24 to 64 random bytes>, or a plain secret',
      )
    else if (checked.problems.length > 0) problems.push(...checked.problems)
    else webhook = { url: webhookUrl, secrets: checked.secrets }
  } else if (webhookSecret !== undefined) {
    problems.push('WEBHOOK_SECRET is set but WEBHOOK_URL is not')
  }

  const logLevel = read('LOG_LEVEL') ?? (nodeEnv === 'test' ? 'silent' : 'info')
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(
      `LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "${logLevel}")`,
    )
  }

  if (problems.length > 0) {
    throw new GalleryError(
      'ERR_CONFIG_INVALID',
      `Invalid configuration:\n- ${problems.join('\n- ')}`,
      {
        details: problems.map((message) => ({ path: 'env', message })),
      },
    )
  }
  let mediaStore: MediaStoreLocation = { kind: 'local', path: resolve(dataDir, 'media') }
  const mediaStoreUrl = read('MEDIA_STORE_URL')
  if (mediaStoreUrl !== undefined) {
    try {
      const parsed = parseMediaStoreUrl(mediaStoreUrl)
      mediaStore =
        parsed.kind === 'local' ? { kind: 'local', path: resolve(cwd, parsed.path) } : parsed
    } catch (error) {
      problems.push(`MEDIA_STORE_URL: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const pathStyle = read('MEDIA_STORE_S3_PATH_STYLE')
  if (pathStyle !== undefined && !['true', 'false'].includes(pathStyle))
    problems.push('MEDIA_STORE_S3_PATH_STYLE must be true or false')
  const archive = {
    store: mediaStore,
    s3PathStyle: pathStyle === 'true',
    maxVideoBytes: integer('ARCHIVE_MAX_VIDEO_MB', 100, 0, 10_000) * 1024 * 1024,
    maxBytesPerUser: integer('ARCHIVE_MAX_MB_PER_USER', 2048, 1, 10_000_000) * 1024 * 1024,
  }

  return deepFreeze({
    nodeEnv,
    port,
    host,
    publicUrl,
    dataDir,
    database,
    encryptionKeys,
    logLevel,
    providers,
    jobs,
    trustProxy,
    allowedHosts,
    auth,
    webhook,
    archive,
  })
}
