/**
 * @module providers/youtube/emulator — a faithful, in-memory model of Google OAuth 2.0 (web
 * server apps) and the read side of the YouTube Data API v3: the consent page with granular
 * consent, code exchange with PKCE, refresh without rotation, revocation, `channels`,
 * `playlistItems` and `videos` with Google's parts, paging, error shapes and project quota, a
 * thumbnail CDN, youtube.com's Shorts probe, faults, a call log, and a control interface to shape
 * the world.
 *
 * Routes of `plugin`, relative to where it is mounted (the app mounts it at `/sandbox/youtube`):
 * - `GET|POST /o/oauth2/v2/auth` — the consent page (accounts.google.com) and its form
 * - `POST /token`, `POST /revoke` — oauth2.googleapis.com
 * - `GET /youtube/v3/{channels,playlistItems,videos}` — www.googleapis.com (1 quota unit each)
 * - `GET /vi/:videoId/:file`, `GET /avatars/:channelId/:size` — i.ytimg.com, yt3.ggpht.com
 * - `GET|HEAD /web/shorts/:id`, `GET /web/watch?v=` — www.youtube.com
 *
 * The plugin has no control routes. The world is shaped through `emulator.control` (code, see
 * `controller.ts`); only the standalone `npm run emulator:youtube` also serves it over HTTP,
 * gated (`control.ts`). HTML answers are `text/html; charset=utf-8` under a tight CSP.
 *
 * The concerns live apart and are composed here: `oauth-routes.ts`, `data-routes.ts`,
 * `render.ts`, `paging.ts`, `quota.ts`, `cdn-routes.ts`, `web-routes.ts`, `faults.ts`,
 * `errors.ts`, on the world of `state.ts` (bounded by `bounds.ts`, seeded by `demo-data.ts`).
 * What every platform's emulator shares is in `providers/emulator-core/`.
 *
 * Facts and their sources: shared/reference/providers.md §1.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyError, FastifyInstance } from 'fastify'
import type { Clock, ManualClock } from '../../../clock.ts'
import { DEFAULT_DAILY_QUOTA_UNITS } from '../config.ts'
import { DEFAULT_LIMITS, type YoutubeEmulatorLimits } from './bounds.ts'
import { cdnRoutes } from './cdn-routes.ts'
import { createYoutubeController, type YoutubeEmulatorControl } from './controller.ts'
import { dataRoutes } from './data-routes.ts'
import { demoAccounts } from './demo-data.ts'
import { apiError, backendError, createResponder, oauthError } from './errors.ts'
import { createFaultInjector } from './faults.ts'
import { createAuthenticator, oauthRoutes } from './oauth-routes.ts'
import { YoutubeEmulatorState, type PublishingStatus } from './state.ts'
import { webRoutes } from './web-routes.ts'

export type { YoutubeEmulatorControl } from './controller.ts'
export type { YoutubeEmulatorLimits } from './bounds.ts'
export type { YoutubeEmulatorState } from './state.ts'

export const DEFAULT_CLIENT_ID = 'sandbox-youtube-client.apps.googleusercontent.com'

export interface YoutubeEmulatorOptions {
  readonly clock: Clock | ManualClock
  /** Absolute URL where the plugin is mounted (for thumbnail URLs and redirects). */
  readonly baseUrl: () => string
  /** Default `sandbox-youtube-client.apps.googleusercontent.com`. */
  readonly clientId?: string
  /** Default random. */
  readonly clientSecret?: string
  /** Registered OAuth redirect URIs (exact match). */
  readonly redirectUris?: readonly string[]
  /** Signs tokens; keep it stable to keep tokens valid across restarts. Default random. */
  readonly signingSecret?: string
  /** The project's daily quota (default 10,000). */
  readonly dailyQuotaUnits?: number
  /** Default `production`. */
  readonly publishingStatus?: PublishingStatus
  /** Start with the demo accounts (default true). */
  readonly seedDemo?: boolean
  /** Tighter (or looser) bounds than `DEFAULT_LIMITS`, e.g. for a test. */
  readonly limits?: Partial<YoutubeEmulatorLimits>
}

export interface YoutubeEmulator {
  /** The world; `state.settings.clientId` / `clientSecret` are what the app must send. */
  readonly state: YoutubeEmulatorState
  /** Registers the Google-facing routes; mount with a prefix, e.g. `/sandbox/youtube`. */
  readonly plugin: (app: FastifyInstance) => Promise<void>
  readonly baseUrl: () => string
  /** Shapes the world (accounts, videos, grants, quota, faults, clock), validated and bounded. */
  readonly control: YoutubeEmulatorControl
}

export function createYoutubeEmulator(options: YoutubeEmulatorOptions): YoutubeEmulator {
  const clock = options.clock
  const state = new YoutubeEmulatorState(
    {
      clientId: options.clientId ?? DEFAULT_CLIENT_ID,
      clientSecret: options.clientSecret ?? `GOCSPX-${randomBytes(21).toString('base64url')}`,
      redirectUris: options.redirectUris ?? [],
      signingSecret: options.signingSecret ?? randomBytes(32).toString('hex'),
      dailyQuotaUnits: options.dailyQuotaUnits ?? DEFAULT_DAILY_QUOTA_UNITS,
      publishingStatus: options.publishingStatus ?? 'production',
    },
    clock,
    options.seedDemo === false ? [] : demoAccounts(clock.now()),
    { ...DEFAULT_LIMITS, ...options.limits },
  )
  const baseUrl = options.baseUrl
  const respond = createResponder(state)
  const applyFaults = createFaultInjector(state)
  const authenticate = createAuthenticator(state)
  const registerOAuth = oauthRoutes({ state, respond, applyFaults })
  const registerData = dataRoutes({ state, baseUrl, respond, applyFaults, authenticate })
  const registerCdn = cdnRoutes(state)
  const registerWeb = webRoutes(state, baseUrl)

  async function plugin(app: FastifyInstance): Promise<void> {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action *; frame-ancestors 'none'",
      )
      reply.header('x-content-type-options', 'nosniff')
      // Google's consent window keeps the opener of an OAuth popup (its redirect back too), so
      // the app's popup can tell the gallery that opened it how the connection ended
      reply.header('cross-origin-opener-policy', 'unsafe-none')
      return payload
    })
    await app.register(import('@fastify/formbody'))
    // a body Fastify cannot read (wrong type, too large, malformed) answers in Google's shapes
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const status =
        error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 500
      if (status === 500) request.log.error({ err: error }, 'YouTube emulator request failed')
      const path = request.url.split('?')[0] ?? ''
      const failure =
        path.endsWith('/token') || path.endsWith('/revoke')
          ? oauthError(
              status === 500 ? 500 : 400,
              status === 500 ? 'internal_failure' : 'invalid_request',
              status === 500 ? 'Internal error encountered.' : 'Bad Request',
            )
          : status === 500
            ? backendError(500)
            : apiError(status, 'Bad Request', {
                message: 'Bad Request',
                domain: 'global',
                reason: 'badRequest',
              })
      return reply.code(failure.status).send(failure.body)
    })

    registerOAuth(app)
    registerData(app)
    registerCdn(app)
    registerWeb(app)
  }

  return { state, plugin, baseUrl, control: createYoutubeController(state, clock) }
}
