/**
 * @module app — `buildApp(deps)`: the whole HTTP service as a Fastify instance. It never listens
 * and never reads the environment; `main.ts` does both. Tests build it and `inject` into it.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import cookie from '@fastify/cookie'
import { GalleryError } from './errors.ts'
import { systemClock, type Clock } from './clock.ts'
import type { Config } from './config/load-config.ts'
import type { FernetKeyRing } from './crypto/fernet.ts'
import type { ReleasedLeases, Store } from './store/types.ts'
import { isInstanceId, newInstanceId } from './store/leases.ts'
import type { FetchLike, ProviderConfig, ProviderId, ProviderMode } from './providers/types.ts'
import { CONNECTABLE, inboundRoutes, serverToServerRoutes } from './providers/registry.ts'
import { createOAuthService } from './socials/oauth-service.ts'
import { createRevocations } from './socials/revocations.ts'
import { createSyncService } from './socials/sync-service.ts'
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http/error-handler.ts'
import { checkSameOrigin, cookieNames, createSessionManager } from './http/session.ts'
import { checkHost } from './http/host-check.ts'
import { createThrottle } from './http/throttle.ts'
import { createFirebaseIdentity } from './identity/firebase.ts'
import type { AppContext } from './http/context.ts'
import { authRoutes } from './http/routes/auth.ts'
import { socialsRoutes } from './http/routes/socials.ts'
import { pagesRoutes } from './http/routes/pages.ts'
import { socialDataRoutes } from './http/routes/social-data.ts'
import { JOBS_ROUTE, jobsRoutes } from './http/routes/jobs.ts'
import { createRenewalService, type RenewalService } from './socials/renewal-service.ts'
import { createRateGovernor, type QuotaStatus } from './socials/rate-governor.ts'
import { createJobRunner, type JobRunner } from './socials/job-runner.ts'
import type { BlobStore } from './archive/blobs/types.ts'
import { archiveSource, assembleArchiver } from './archive/assemble.ts'
import { archiveSoon, type ArchiveSoon } from './archive/soon.ts'
import type { DeriveOptions } from './archive/images/derive.ts'
import type { DownloadSource } from './archive/download.ts'
import { mediaFileRoutes } from './http/routes/media-files.ts'
import type { ProviderClientFactory } from './socials/client-factory.ts'
import type { Connections, PlatformConnection } from './socials/connections.ts'
import { createWebhookNotifier, type WebhookNotifier } from './webhooks/webhooks.ts'

/**
 * `METHOD path` of the unsafe routes that skip the same-origin check (see the onRequest hook):
 * the platforms' server-to-server callbacks, as the registry declares them, and the jobs endpoint.
 */
const CSRF_EXEMPT_ROUTES: ReadonlySet<string> = new Set([
  ...serverToServerRoutes(),
  `POST ${JOBS_ROUTE}`,
])

export interface AppDeps {
  readonly config: Config
  readonly store: Store
  readonly vault: FernetKeyRing
  readonly logger: FastifyBaseLogger
  readonly clock?: Clock
  /** How to reach the real platforms (default: global fetch). Unused in sandbox mode. */
  readonly fetch?: FetchLike
  /** How webhooks are sent (default: global fetch). */
  readonly webhookFetch?: FetchLike
  /** Pauses of the rate governor (default: real timers); tests pass an instant one. */
  readonly sleep?: (ms: number) => Promise<void>
  /**
   * Sandbox emulators by platform (each its platform's emulator type), for the platforms in
   * sandbox mode; a platform without one here makes its own.
   */
  readonly sandboxes?: Partial<Record<ProviderId, unknown>>
  /** A persistent secret the sandboxes derive theirs from (their tokens survive restarts). */
  readonly sandboxSeed?: string
  /**
   * The media archive's blob store (`MEDIA_STORE_URL`, opened by main.ts); without one nothing is
   * archived and `/media/…` is not served.
   */
  readonly blobs?: BlobStore
  /** The archive's picture conversion (default: 320, 640, 1080 in AVIF, WebP, JPEG); tests shrink it. */
  readonly archiveDerive?: DeriveOptions
  /**
   * Archive right after "Sync now" (default), not only at the scheduler's passes; tests that
   * count what each pass archives turn it off.
   */
  readonly archiveOnSync?: boolean
  /** log2 of scrypt's N for password hashes (default 15); tests lower it. */
  readonly passwordCost?: number
  /**
   * This instance's id, the first half of every lease owner (`<instance id>:<run id>`); letters,
   * digits and `-`. Default: a fresh random one per app.
   */
  readonly instanceId?: string
}

/** Background work, for the in-process scheduler in main.ts and for tests. */
export interface AppJobs {
  readonly runner: JobRunner
  readonly renewal: RenewalService
  readonly webhooks: WebhookNotifier
  /** The first half of the owner of every lease this app takes. */
  readonly instanceId: string
  /**
   * Graceful stop (SIGTERM): no new job pass or claim, the work in flight gets until
   * `deadlineMs`, then every lease this instance owns is released, so that no one waits for them
   * to expire. Call before `app.close()`.
   */
  stop(deadlineMs: number): Promise<{ finishedInTime: boolean; released: ReleasedLeases }>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Background work, for the in-process scheduler in main.ts and for tests. */
    jobs: AppJobs
  }
}

/** One access-log line per request, when it completes (Fastify writes two: incoming and completed). */
class AccessLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10 }
    if (error) reply.log.error({ ...line, err: error }, 'request errored')
    else reply.log.info(line, 'request completed')
  }
}

/**
 * Fastify's setting for TRUST_PROXY. A hop count becomes "the `n` nearest addresses are proxies"
 * (proxy-addr walks the socket address, then X-Forwarded-For right to left), so the client address
 * is the entry the outermost of our proxies appended, never one the client wrote.
 */
function trustedProxies(
  setting: Config['trustProxy'],
): false | string | ((address: string, hop: number) => boolean) {
  if (typeof setting !== 'number') return setting
  return (_address, hop) => hop < setting
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, store } = deps
  const clock = deps.clock ?? systemClock
  const instanceId = deps.instanceId ?? newInstanceId()
  if (!isInstanceId(instanceId)) throw new Error('instanceId: letters, digits and - only')
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: 64 * 1024,
    trustProxy: trustedProxies(config.trustProxy),
    requestIdHeader: false,
    logController: new AccessLog(),
    clientErrorHandler,
    frameworkErrors,
    // a request whose body trickles in is cut off rather than holding a connection forever
    requestTimeout: 30_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
  })
  registerErrorHandling(app)
  const secure = config.publicUrl.startsWith('https:')
  // The API speaks JSON only: other bodies get 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain')
  await app.register(cookie)

  // Decided from the route that matched (its pattern), never from the raw URL: `/%61pi/...` and
  // absolute-form targets (`POST http://host/api/...`) reach the same routes as `/api/...`.
  const allowedHosts = config.allowedHosts === null ? null : new Set(config.allowedHosts)
  const cookies = cookieNames(secure)
  app.addHook('onRequest', async (request) => {
    checkHost(request, allowedHosts)
    const route = request.routeOptions.url
    // Platform callbacks (server-to-server, no cookie, no Origin: signed_request is their proof)
    // and the jobs endpoint (a bearer secret) are the only unsafe routes without the check.
    if (route !== undefined && CSRF_EXEMPT_ROUTES.has(`${request.method} ${route}`)) return
    checkSameOrigin(
      request,
      config.publicUrl,
      request.cookies[cookies.session] !== undefined,
      route === '/api/auth/login' || route === '/api/auth/register',
    )
  })
  // While closing, every answer ends its connection: a browser's keep-alive connection would
  // otherwise hold `close()` open after its last request (Fastify closes only connections idle
  // when the close began), until the browser lets go.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (request, reply, payload) => {
    if (closing) reply.header('connection', 'close')
    reply.header('x-content-type-options', 'nosniff')
    // personal data, job reports and error answers are never cached unless a route says otherwise
    const route = request.routeOptions.url
    if (
      !reply.hasHeader('cache-control') &&
      (route === undefined || route.startsWith('/api/') || route.startsWith('/internal/'))
    )
      reply.header('cache-control', 'no-store')
    if (!reply.hasHeader('referrer-policy'))
      reply.header('referrer-policy', 'strict-origin-when-cross-origin')
    reply.header('x-frame-options', 'DENY')
    if (!reply.hasHeader('cross-origin-opener-policy'))
      reply.header('cross-origin-opener-policy', 'same-origin')
    if (secure) reply.header('strict-transport-security', 'max-age=63072000; includeSubDomains')
    return payload
  })

  // Each connectable platform: real, sandbox (its emulator mounted here, reached in-process) or
  // unconfigured (absent from `connections`: connecting answers 503 with its variables).
  const realFetch: FetchLike = deps.fetch ?? ((input, init) => fetch(input, init))
  const modes: Record<string, ProviderMode> = {}
  const clientSecrets: Partial<Record<ProviderId, string>> = {}
  const connectionList: [string, PlatformConnection][] = []
  /** Where the archive downloads each platform's media from. */
  const mediaSources = new Map<string, DownloadSource>()
  for (const platform of CONNECTABLE) {
    const id = platform.info.id
    const section = (config.providers as Readonly<Record<string, ProviderConfig<unknown>>>)[id]
    if (section === undefined) continue
    modes[id] = section.mode
    if (section.mode === 'unconfigured') continue
    const wiring = await platform.wire({
      app,
      config: section,
      publicUrl: config.publicUrl,
      clock,
      fetch: realFetch,
      ...(deps.sandboxes?.[id] === undefined ? {} : { sandbox: deps.sandboxes[id] }),
      ...(deps.sandboxSeed === undefined ? {} : { sandboxSeed: deps.sandboxSeed }),
    })
    clientSecrets[id] = wiring.clientSecret
    mediaSources.set(id, archiveSource(platform, section.mode, wiring.media))
    const governor = createRateGovernor({
      store,
      clock,
      logger: deps.logger,
      platform: id,
      budgets: wiring.capabilities.budgets,
      pacing: section.pacing,
      ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
    })
    const makeClient: ProviderClientFactory = ({ accountId, onCall, routine }) =>
      wiring.createClient({
        now: () => clock.now(),
        beforeCall: (endpoint) => governor.beforeCall(accountId, endpoint, routine === true),
        onCall: async (info) => {
          onCall?.()
          await governor.afterCall(accountId, info)
        },
      })
    connectionList.push([
      id,
      {
        platform: id,
        label: platform.info.label,
        mode: section.mode,
        makeClient,
        capabilities: wiring.capabilities,
        governor,
        slowDownPercent: section.pacing.slowDownPercent,
        ...(platform.expiredMessage === undefined
          ? {}
          : { expiredMessage: platform.expiredMessage }),
      },
    ])
  }
  const connections: Connections = new Map(connectionList)
  /** Every configured platform's capped quotas over fixed windows, as the operator sees them. */
  const allQuotas = async (): Promise<QuotaStatus[]> =>
    (await Promise.all([...connections.values()].map((c) => c.governor.quotas()))).flat()
  /** What a connect or sync of an unconfigured platform answers: its variables, by the registry. */
  const notConfiguredMessage = (platform: string): string =>
    CONNECTABLE.find(({ info }) => info.id === platform)?.notConfiguredMessage ??
    `${platform} is not a platform this service connects`
  const webhooks = createWebhookNotifier({
    store,
    clock,
    logger: deps.logger,
    target: config.webhook,
    instanceId,
    ...(deps.webhookFetch === undefined ? {} : { fetch: deps.webhookFetch }),
  })
  const renewMarginMs = config.jobs.renewMarginDays * 86_400_000

  const revocations = createRevocations({
    store,
    vault: deps.vault,
    clock,
    logger: deps.logger,
    connections,
    instanceId,
  })
  const sessions = createSessionManager({
    store,
    clock,
    secure,
    outcomeKey: deps.vault.deriveKey('landing-outcome'),
  })
  // Firebase mode: API calls carry a Firebase ID token; the OAuth callback (a top-level navigation
  // without it) finds its user through the state record and the browser-binding cookie
  const identity =
    config.auth.mode === 'firebase'
      ? createFirebaseIdentity({
          projectId: config.auth.projectId,
          jwksUrl: config.auth.jwksUrl,
          clock,
          store,
        })
      : sessions.identity
  // set once the archiver exists (below): archiving right after a sync the person watches
  let soon: ArchiveSoon | undefined
  const ctx: AppContext = {
    config,
    store,
    clock,
    sessions,
    modes,
    archiveSoon: () => soon?.request(),
    passwordCost: deps.passwordCost ?? 15,
    oauth: createOAuthService({
      store,
      vault: deps.vault,
      clock,
      connections,
      notConfiguredMessage,
      webhooks,
      logger: deps.logger,
      revocations,
    }),
    sync: createSyncService({
      store,
      vault: deps.vault,
      clock,
      logger: deps.logger,
      connections,
      notConfiguredMessage,
      webhooks,
      instanceId,
      schedule: {
        intervalMs: Math.max(5, config.jobs.syncIntervalMinutes) * 60_000,
        fullIntervalMs: config.jobs.fullSyncIntervalHours * 3_600_000,
        urlRefreshMarginMs: config.jobs.mediaUrlRefreshMarginHours * 3_600_000,
        renewMarginMs,
      },
    }),
    webhooks,
    throttle: createThrottle(store, clock),
    async requireUser(request) {
      const principal = await identity.authenticate(request)
      if (principal === null) throw new GalleryError('ERR_UNAUTHENTICATED', 'Sign in first')
      return principal
    },
  }

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    try {
      await store.ping()
      // serving works; what the schedule cannot keep is said here (and logged when planned),
      // with the app's quotas over fixed windows (YouTube's day, X's monthly post reads)
      const warnings = ctx.sync.scheduleWarnings()
      const quotas = await allQuotas()
      return {
        status: 'ok',
        database: 'ok',
        ...(quotas.length === 0 ? {} : { quotas }),
        ...(warnings.length === 0 ? {} : { warnings }),
      }
    } catch (error) {
      _request.log.error({ err: error }, 'database not ready')
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable' })
    }
  })
  await app.register(authRoutes(ctx))
  await app.register(socialsRoutes(ctx))
  await app.register(pagesRoutes(ctx))
  await app.register(socialDataRoutes(ctx))
  // what the platforms call on us (Meta's deauthorize and data-deletion callbacks), from the
  // registry; the server-to-server ones are in CSRF_EXEMPT_ROUTES

  await app.register(async (scope) => {
    for (const { platform, route } of inboundRoutes())
      await route.register(scope, {
        store,
        clock,
        throttle: ctx.throttle,
        webhooks,
        publicUrl: config.publicUrl,
        clientSecret: clientSecrets[platform] ?? null,
      })
  })
  const renewal = createRenewalService({
    store,
    vault: deps.vault,
    clock,
    logger: deps.logger,
    connections,
    webhooks,
    marginMs: renewMarginMs,
    concurrency: config.jobs.renewalConcurrency,
    instanceId,
  })
  // the media archive: served from our origin, filled by the job runner (with a blob store)
  const archiver =
    deps.blobs === undefined
      ? undefined
      : assembleArchiver({
          config,
          store,
          blobs: deps.blobs,
          clock,
          logger: deps.logger,
          sources: mediaSources,
          instanceId,
          // an expired signed URL is read again from the platform by id (one call per account)
          urlRefresher: ctx.sync,
          ...(deps.archiveDerive === undefined ? {} : { derive: deps.archiveDerive }),
        })
  if (archiver !== undefined && deps.archiveOnSync !== false) {
    const after = archiveSoon(archiver, deps.logger)
    soon = after
    // an archiving loop under way ends (at its pass's end) before the store closes
    app.addHook('onClose', async () => after.close())
  }
  if (deps.blobs !== undefined) await app.register(mediaFileRoutes({ store, blobs: deps.blobs }))
  const runner = createJobRunner({
    store,
    ...(archiver === undefined ? {} : { archiver }),
    clock,
    logger: deps.logger,
    renewal,
    sync: ctx.sync,
    webhooks,
    revocations,
    quotas: allQuotas,
    concurrency: config.jobs.syncConcurrency,
    syncEnabled: config.jobs.syncIntervalMinutes > 0 && connections.size > 0,
    revokedRetentionMs: config.jobs.revokedRetentionDays * 86_400_000,
    instanceId,
  })
  const jobs: AppJobs = {
    runner,
    renewal,
    webhooks,
    instanceId,
    async stop(deadlineMs) {
      // no more archiving after syncs; the pass under way has the same deadline as the runner's
      const archiving = soon?.close() ?? Promise.resolve()
      const finishedInTime = await runner.stop(deadlineMs)
      await Promise.race([archiving, new Promise((resolve) => setTimeout(resolve, 0).unref())])
      // what is still running past the deadline loses its leases here; its writes are
      // conditional on them, so it stops at its next step without writing more
      const released = await store.releaseOwned(instanceId)
      return { finishedInTime, released }
    },
  }
  app.decorate('jobs', jobs)
  // background webhook deliveries finish before the store closes
  app.addHook('onClose', async () => webhooks.idle())
  await app.register(jobsRoutes(config.jobs.secret, runner))
  return app
}
