/**
 * @module providers/tiktok/emulator — a faithful, in-memory model of TikTok Login Kit v2 (web)
 * and the read side of the v2 Display API: the consent page, code exchange with PKCE S256,
 * rotating refresh tokens, revocation, `user/info`, `video/list` and `video/query` with their
 * `fields`, cursors, scopes, error envelope and per-endpoint rate limit, a signed cover CDN whose
 * URLs expire, the `authorization.removed` webhook, faults, a call log, and a control interface
 * to shape the world.
 *
 * Routes of `plugin`, relative to where it is mounted (the app mounts it at `/sandbox/tiktok`):
 * - `GET|POST /v2/auth/authorize/` — the consent page (www.tiktok.com) and its form
 * - `POST /v2/oauth/token/`, `POST /v2/oauth/revoke/` — open.tiktokapis.com
 * - `GET /v2/user/info/`, `POST /v2/video/list/`, `POST /v2/video/query/` — open.tiktokapis.com
 * - `GET /cdn/cover/:id`, `GET /cdn/avatar/:openId` — the signed picture CDN
 * - `GET /web/@:username/video/:id`, `GET /web/player/v1/:id` — share and embed links
 *
 * The plugin has no control routes. The world is shaped through `emulator.control` (code, see
 * `controller.ts`); only the standalone `npm run emulator:tiktok` also serves it over HTTP,
 * gated (`control.ts`).
 *
 * The concerns live apart and are composed here: `oauth-routes.ts`, `data-routes.ts`,
 * `cdn-routes.ts`, `webhook.ts`, `faults.ts`, `errors.ts`, on the world of `state.ts` (bounded
 * by `bounds.ts`, seeded by `demo-data.ts`). What every platform's emulator shares is in
 * `providers/emulator-core/`.
 *
 * Facts and their sources: shared/reference/providers.md §2.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyError, FastifyInstance } from 'fastify'
import type { Clock, ManualClock } from '../../../clock.ts'
import type { FetchLike } from '../../types.ts'
import { DEFAULT_LIMITS, type TiktokEmulatorLimits } from './bounds.ts'
import { cdnRoutes } from './cdn-routes.ts'
import { createTiktokController, type TiktokEmulatorControl } from './controller.ts'
import { dataRoutes } from './data-routes.ts'
import { demoAccounts } from './demo-data.ts'
import { createResponder, internalError, invalidParams, oauthError } from './errors.ts'
import { createFaultInjector } from './faults.ts'
import { createAuthenticator, oauthRoutes } from './oauth-routes.ts'
import { TiktokEmulatorState, type Lifetimes } from './state.ts'

export type { TiktokEmulatorControl } from './controller.ts'
export type { TiktokEmulatorLimits } from './bounds.ts'
export type { TiktokEmulatorState } from './state.ts'

export const DEFAULT_CLIENT_KEY = 'sbawsandboxtiktokkey'
/** TikTok's limit: 600 requests per endpoint per minute (T11). */
export const DEFAULT_RATE_PER_MINUTE = 600

export interface TiktokEmulatorOptions {
  readonly clock: Clock | ManualClock
  /** Absolute URL where the plugin is mounted (for cover URLs, links and redirects). */
  readonly baseUrl: () => string
  /** Default `sbawsandboxtiktokkey`. */
  readonly clientKey?: string
  /** Default random. */
  readonly clientSecret?: string
  /** Registered redirect URIs (exact match). */
  readonly redirectUris?: readonly string[]
  /** Signs tokens and CDN URLs; keep it stable to keep tokens valid across restarts. */
  readonly signingSecret?: string
  /** `current` (2 h / 180 d, default) or `legacy` (24 h / 365 d). */
  readonly lifetimes?: Lifetimes
  /** The HTTP status of OAuth errors: 400 (default) or 200, as TikTok has been seen to send. */
  readonly oauthErrorStatus?: 200 | 400
  /** Requests per endpoint per sliding minute (default 600). */
  readonly ratePerMinute?: number
  /** Whether the authorize step requires PKCE S256 (default true). */
  readonly requirePkce?: boolean
  /** Where `authorization.removed` events are POSTed (the app's TikTok webhook callback). */
  readonly webhookUrl?: string
  /** How webhook events are POSTed (global `fetch` in the standalone emulator, a test's own). */
  readonly fetch?: FetchLike
  /** Start with the demo accounts (default true). */
  readonly seedDemo?: boolean
  readonly limits?: Partial<TiktokEmulatorLimits>
}

export interface TiktokEmulator {
  /** The world; `state.settings.clientKey` / `clientSecret` are what the app must send. */
  readonly state: TiktokEmulatorState
  /** Registers the TikTok-facing routes; mount with a prefix, e.g. `/sandbox/tiktok`. */
  readonly plugin: (app: FastifyInstance) => Promise<void>
  readonly baseUrl: () => string
  /** Shapes the world (videos, grants, webhooks, faults, clock), validated and bounded. */
  readonly control: TiktokEmulatorControl
}

const OAUTH_PATHS = ['/v2/oauth/token/', '/v2/oauth/revoke/']

export function createTiktokEmulator(options: TiktokEmulatorOptions): TiktokEmulator {
  const clock = options.clock
  const state = new TiktokEmulatorState(
    {
      clientKey: options.clientKey ?? DEFAULT_CLIENT_KEY,
      clientSecret: options.clientSecret ?? randomBytes(24).toString('base64url'),
      redirectUris: options.redirectUris ?? [],
      signingSecret: options.signingSecret ?? randomBytes(32).toString('hex'),
      lifetimes: options.lifetimes ?? 'current',
      oauthErrorStatus: options.oauthErrorStatus ?? 400,
      ratePerMinute: options.ratePerMinute ?? DEFAULT_RATE_PER_MINUTE,
      requirePkce: options.requirePkce ?? true,
      webhookUrl: options.webhookUrl ?? null,
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

  async function plugin(app: FastifyInstance): Promise<void> {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action *; frame-ancestors 'none'",
      )
      reply.header('x-content-type-options', 'nosniff')
      // the consent window keeps its opener, so the app's popup can report how it ended
      reply.header('cross-origin-opener-policy', 'unsafe-none')
      return payload
    })
    await app.register(import('@fastify/formbody'))
    // a body Fastify cannot read (wrong type, too large, malformed) answers in TikTok's shapes
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const client =
        error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
      if (!client) request.log.error({ err: error }, 'TikTok emulator request failed')
      const path = request.url.split('?')[0] ?? ''
      const logId = state.logId()
      const failure = !client
        ? internalError(500)
        : OAUTH_PATHS.some((p) => path.endsWith(p))
          ? oauthError(state, 'invalid_request', 'The request is malformed.')
          : invalidParams('The request body is malformed.')
      return reply.code(failure.status).send(failure.body(logId))
    })

    registerOAuth(app)
    registerData(app)
    registerCdn(app)
  }

  return {
    state,
    plugin,
    baseUrl,
    control: createTiktokController(state, clock, options.fetch),
  }
}
