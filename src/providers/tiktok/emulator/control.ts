/**
 * @module providers/tiktok/emulator/control — the HTTP control API of the standalone TikTok
 * emulator (`npm run emulator:tiktok`), a thin layer over `emulator.control` (`controller.ts`,
 * which validates and bounds every input). It is a plugin of its own: the standalone server
 * registers it under `/_control`; the app's mounted sandbox never does, so
 * `/sandbox/tiktok/_control/…` does not exist.
 *
 * Every request is gated by the shared gate (`emulator-core/control-plugin.ts`): a loopback
 * `Host` only (421), no foreign `Origin` (403), `Authorization: Bearer <control token>` (401),
 * JSON bodies only (415), at most 64 KB (413) and a few levels deep (400).
 *
 * Routes, relative to `/_control`: `GET /state`, `GET /calls`, `POST /accounts/:index/videos`,
 * `POST /accounts/:index/revoke`, `POST /accounts/:index/authorization-removed` (`{reason?}`),
 * `PATCH /videos/:id`, `POST /videos/:id/private`, `DELETE /videos/:id`, `POST /revoke`
 * (`{token}`), `POST /access-tokens/expire`, `POST /refresh-tokens/expire`,
 * `POST /webhooks/retry`, `POST /faults`, `DELETE /faults`, `POST /clock`, `POST /reset`.
 * Errors answer `{error: {code, message}}`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import {
  CONTROL_PREFIX,
  gatedControlPlugin,
  idParam,
  indexParam,
  type ControlPluginOptions,
} from '../../emulator-core/control-plugin.ts'
import { field, inputObject } from './bounds.ts'
import type { TiktokEmulator } from './index.ts'

export {
  CONTROL_PREFIX,
  MIN_CONTROL_TOKEN_LENGTH,
  createControlToken,
  type ControlPluginOptions,
} from '../../emulator-core/control-plugin.ts'

/** The gated control routes; register with `{ prefix: CONTROL_PREFIX }`. */
export function tiktokControlPlugin(
  emulator: TiktokEmulator,
  options: ControlPluginOptions,
): (app: FastifyInstance) => Promise<void> {
  const control = emulator.control
  const limits = emulator.state.limits
  const bodyField = (request: FastifyRequest, name: string, what: string): unknown =>
    field(inputObject(request.body, what, limits), name)

  return gatedControlPlugin({
    ...options,
    baseUrl: emulator.baseUrl,
    limits,
    routes: (app) => {
      app.get('/state', async () => control.snapshot())
      app.get('/calls', async () => ({ calls: control.calls() }))
      app.post('/accounts/:index/videos', async (request, reply) =>
        reply.code(201).send(control.addVideo(indexParam(request), request.body)),
      )
      app.post('/accounts/:index/revoke', async (request) =>
        control.revokeAccount(indexParam(request)),
      )
      app.post('/accounts/:index/authorization-removed', async (request) =>
        control.sendAuthorizationRemoved(
          indexParam(request),
          bodyField(request, 'reason', 'an authorization removal'),
        ),
      )
      app.patch('/videos/:id', async (request) =>
        control.updateVideo(idParam(request), request.body),
      )
      app.post('/videos/:id/private', async (request) => control.makePrivate(idParam(request)))
      app.delete('/videos/:id', async (request, reply) => {
        control.removeVideo(idParam(request))
        return reply.code(204).send()
      })
      app.post('/revoke', async (request) =>
        control.revokeToken(bodyField(request, 'token', 'a revocation')),
      )
      app.post('/access-tokens/expire', async () => control.expireAccessTokens())
      app.post('/refresh-tokens/expire', async () => control.expireRefreshTokens())
      app.post('/webhooks/retry', async () => control.retryWebhooks())
      app.post('/faults', async (request, reply) =>
        reply.code(201).send(control.addFault(request.body)),
      )
      app.delete('/faults', async () => control.clearFaults())
      app.post('/clock', async (request) => control.moveClock(request.body))
      app.post('/reset', async () => control.reset())
    },
  })
}

/**
 * The standalone emulator as one plugin: the TikTok-facing routes at its root and the gated
 * control API under `/_control`.
 */
export function standaloneTiktokEmulator(
  emulator: TiktokEmulator,
  options: ControlPluginOptions,
): (app: FastifyInstance) => Promise<void> {
  const control = tiktokControlPlugin(emulator, options)
  return async (app) => {
    await app.register(emulator.plugin)
    await app.register(control, { prefix: CONTROL_PREFIX })
  }
}
