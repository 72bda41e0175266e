/**
 * @module providers/instagram/emulator — a faithful, in-memory model of the Instagram API with
 * Instagram Login: the authorize page, the code exchange (api.instagram.com), long-lived tokens and
 * refresh, `/me`, `/me/media`, `/{id}/children`, signed CDN media URLs, Graph error shapes, usage
 * headers, throttling, and a control interface to shape the world and inject faults.
 *
 * Routes of `plugin`, relative to where it is mounted (all a person needs through the page):
 * - `GET  /oauth/authorize`, `POST /oauth/authorize` — Meta's consent window (www.instagram.com)
 * - `POST /oauth/access_token` — code exchange (api.instagram.com), flat error shape
 * - `GET  /graph/access_token`, `/graph/refresh_access_token`, `/graph/[vNN.N/]{node}[/{edge}]`
 * - `GET  /cdn/v/{media-id}.svg?oe=&oh=` — signed picture URLs (403 "URL signature expired")
 * - `GET  /cdn/v/{media-id}.mp4?oe=&oh=` — a VIDEO's signed MP4 (a real clip; ranges; 503
 *   without ffmpeg)
 *
 * The plugin has no control routes. The world is shaped through `emulator.control` (code, see
 * `controller.ts`); only the standalone `npm run emulator` also serves it over HTTP, gated, as a
 * separate plugin (`control.ts`). HTML answers are `text/html; charset=utf-8`.
 *
 * The concerns live apart and are composed here: `oauth-routes.ts` (consent page, authorize,
 * tokens), `graph-routes.ts` (nodes, field rendering), `paging.ts`, `cdn-routes.ts`, `faults.ts`,
 * `usage.ts`, `errors.ts`, on the world of `state.ts`. What any platform's emulator shares (fault
 * queue, call log, signed tokens and CDN URLs, the movable clock, the control gate, the
 * standalone runner, the inject fetch) is in `providers/emulator-core/`.
 *
 * Facts and their sources: shared/reference/instagram-api.md.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Clock, ManualClock } from '../../../clock.ts'
import { demoUsers } from './demo-data.ts'
import { DEFAULT_LIMITS, type EmulatorLimits } from './bounds.ts'
import { cdnRoutes } from './cdn-routes.ts'
import { createController, type EmulatorControl } from './controller.ts'
import { createResponder } from './errors.ts'
import { createFaultInjector } from './faults.ts'
import { graphRoutes } from './graph-routes.ts'
import { createAuthenticator, oauthRoutes } from './oauth-routes.ts'
import { EmulatorState, type EmulatorSettings } from './state.ts'
import { createUsage } from './usage.ts'

export interface EmulatorOptions extends Partial<EmulatorSettings> {
  readonly clock: Clock | ManualClock
  /** Absolute URL where the plugin is mounted (for `paging.next` and CDN URLs). */
  readonly baseUrl: () => string
  /** Start with the demo accounts (default true). */
  readonly seedDemo?: boolean
  /** Tighter (or looser) bounds than `DEFAULT_LIMITS`, e.g. for a test. */
  readonly limits?: Partial<EmulatorLimits>
}

export interface Emulator {
  readonly state: EmulatorState
  /** Registers the Meta-facing routes; mount with a prefix, e.g. `/sandbox/instagram`. */
  readonly plugin: (app: FastifyInstance) => Promise<void>
  readonly baseUrl: () => string
  /** Shapes the world (users, posts, faults, clock, settings), validated and bounded. */
  readonly control: EmulatorControl
}

export function createEmulator(options: EmulatorOptions): Emulator {
  const settings: EmulatorSettings = {
    clientId: options.clientId ?? 'sandbox-app-id',
    clientSecret: options.clientSecret ?? randomBytes(24).toString('hex'),
    redirectUris: options.redirectUris ?? [],
    signingSecret: options.signingSecret ?? randomBytes(32).toString('hex'),
    tokenResponseShape: options.tokenResponseShape ?? 'flat',
    cdnTtlMs: options.cdnTtlMs ?? 3 * 86_400_000,
    callsPerHourPerUser: options.callsPerHourPerUser ?? 200,
    latencyMs: options.latencyMs ?? 0,
  }
  const state = new EmulatorState(
    settings,
    options.clock,
    options.seedDemo === false ? [] : demoUsers(),
    { ...DEFAULT_LIMITS, ...options.limits },
  )
  const clock = options.clock
  const baseUrl = options.baseUrl

  const usage = createUsage(state)
  const applyFaults = createFaultInjector(state, usage.usageHeaders)
  const respond = createResponder(state)
  const authenticate = createAuthenticator(state)
  const registerOAuth = oauthRoutes({ state, respond, applyFaults, authenticate })
  const registerGraph = graphRoutes({ state, baseUrl, respond, applyFaults, authenticate, usage })
  const registerCdn = cdnRoutes(state)

  async function plugin(app: FastifyInstance): Promise<void> {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action *; frame-ancestors 'none'",
      )
      // Instagram's login window keeps the opener of an OAuth popup (Meta's own SDK relies on it).
      reply.header('cross-origin-opener-policy', 'unsafe-none')
      return payload
    })
    await app.register(import('@fastify/formbody'))

    registerOAuth(app)
    registerGraph(app)
    registerCdn(app)
  }

  return { state, plugin, baseUrl, control: createController(state, clock) }
}
