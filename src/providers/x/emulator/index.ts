/**
 * @module providers/x/emulator — a faithful, in-memory model of X's OAuth 2.0 (Authorization
 * Code Flow with PKCE) and the read side of the X API v2 the gallery uses: the consent page,
 * code exchange with mandatory PKCE and 30-second single-use codes, confidential (HTTP Basic) and
 * public clients, rotating single-use refresh tokens, revocation, `/2/users/me`, a user's
 * timeline with X's fields, expansions, paging, `since_id`, `exclude` and the 3,200-post window,
 * the 15-minute rate windows with their headers, the monthly usage cap and pay-per-use credits,
 * a media CDN, faults, a call log, and a control interface to shape the world.
 *
 * Routes of `plugin`, relative to where it is mounted (the app mounts it at `/sandbox/x`):
 * - `GET|POST /i/oauth2/authorize` — the consent page (x.com) and its form
 * - `POST /2/oauth2/token`, `POST /2/oauth2/revoke` — api.x.com
 * - `GET /2/users/me`, `GET /2/users/:id/tweets` — api.x.com
 * - `GET /pbs/…`, `GET /video/…` — pbs.twimg.com, video.twimg.com
 *
 * The plugin has no control routes: the world is shaped through `emulator.control`
 * (`controller.ts`); only the standalone `npm run emulator:x` also serves it over HTTP, gated
 * (`control.ts`).
 *
 * Facts and their sources: shared/reference/providers.md §3.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyError, FastifyInstance } from 'fastify'
import type { Clock, ManualClock } from '../../../clock.ts'
import { DEFAULT_LIMITS, type XEmulatorLimits } from './bounds.ts'
import { cdnRoutes } from './cdn-routes.ts'
import { createXController, type XEmulatorControl } from './controller.ts'
import { dataRoutes } from './data-routes.ts'
import { demoAccounts } from './demo-data.ts'
import { createResponder, invalidRequest, oauthError, serverError } from './errors.ts'
import { createFaultInjector } from './faults.ts'
import { createAuthenticator, oauthRoutes } from './oauth-routes.ts'
import { DEFAULT_MONTHLY_POST_CAP, XEmulatorState, type ClientType } from './state.ts'

export type { XEmulatorControl } from './controller.ts'
export type { XEmulatorLimits } from './bounds.ts'
export type { XEmulatorState } from './state.ts'

export const DEFAULT_CLIENT_ID = 'c2FuZGJveC14LWNsaWVudDoxOmNp'

export interface XEmulatorOptions {
  readonly clock: Clock | ManualClock
  /** Absolute URL where the plugin is mounted (media URLs). */
  readonly baseUrl: () => string
  readonly clientId?: string
  /** Default random. */
  readonly clientSecret?: string
  /** Default `confidential` (a Web App: HTTP Basic at the token endpoint). */
  readonly clientType?: ClientType
  readonly redirectUris?: readonly string[]
  /** Signs tokens; keep it stable to keep tokens valid across restarts. Default random. */
  readonly signingSecret?: string
  /** Post reads a month before `429 UsageCapExceeded` (default 3,000,000). */
  readonly monthlyPostCap?: number
  /** Requests per 15 minutes per user (defaults: 75 for `/2/users/me`, 900 for timelines). */
  readonly rateLimits?: { readonly me?: number; readonly timeline?: number }
  /** Start with the demo accounts (default true). */
  readonly seedDemo?: boolean
  readonly limits?: Partial<XEmulatorLimits>
}

export interface XEmulator {
  readonly state: XEmulatorState
  /** Registers the X-facing routes; mount with a prefix, e.g. `/sandbox/x`. */
  readonly plugin: (app: FastifyInstance) => Promise<void>
  readonly baseUrl: () => string
  readonly control: XEmulatorControl
}

export function createXEmulator(options: XEmulatorOptions): XEmulator {
  const clock = options.clock
  const state = new XEmulatorState(
    {
      clientId: options.clientId ?? DEFAULT_CLIENT_ID,
      clientSecret: options.clientSecret ?? randomBytes(37).toString('base64url'),
      clientType: options.clientType ?? 'confidential',
      redirectUris: options.redirectUris ?? [],
      signingSecret: options.signingSecret ?? randomBytes(32).toString('hex'),
      monthlyPostCap: options.monthlyPostCap ?? DEFAULT_MONTHLY_POST_CAP,
      rateLimits: {
        me: options.rateLimits?.me ?? 75,
        timeline: options.rateLimits?.timeline ?? 900,
      },
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
      // the app's OAuth popup tells the gallery that opened it how the connection ended
      reply.header('cross-origin-opener-policy', 'unsafe-none')
      return payload
    })
    await app.register(import('@fastify/formbody'))
    // a body Fastify cannot read answers in X's shapes
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const status =
        error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 500
      if (status === 500) request.log.error({ err: error }, 'X emulator request failed')
      const path = request.url.split('?')[0] ?? ''
      const failure = path.includes('/2/oauth2/')
        ? status === 500
          ? oauthError(500, 'server_error', 'Internal error')
          : oauthError(400, 'invalid_request', 'Bad Request')
        : status === 500
          ? serverError(500)
          : invalidRequest('body', '', 'The request body could not be read')
      return reply
        .code(failure.status)
        .type(`${failure.contentType}; charset=utf-8`)
        .send(failure.body)
    })

    registerOAuth(app)
    registerData(app)
    registerCdn(app)
  }

  return { state, plugin, baseUrl, control: createXController(state, clock) }
}
