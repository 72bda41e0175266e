/**
 * @module providers/x/emulator/control — the HTTP control API of the standalone X emulator
 * (`npm run emulator:x`), a thin layer over `emulator.control` (`controller.ts`, which validates
 * and bounds every input). The standalone server registers it under `/_control`; the app's
 * mounted sandbox never does, so `/sandbox/x/_control/…` does not exist.
 *
 * Every request is gated by the shared gate (`emulator-core/control-plugin.ts`): a loopback
 * `Host` only (421), no foreign `Origin` (403), `Authorization: Bearer <control token>` (401),
 * JSON bodies only (415), at most 64 KB (413) and a few levels deep (400).
 *
 * Routes, relative to `/_control`: `GET /state`, `GET /calls`, `GET /usage`, `POST /usage`,
 * `POST /accounts`, `POST /accounts/:index/posts`, `POST /accounts/:index/revoke`,
 * `DELETE /posts/:id`, `POST /revoke` (`{token}`), `POST /access-tokens/expire`,
 * `POST /faults`, `DELETE /faults`, `POST /clock`, `POST /reset`.
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
import type { XEmulator } from './index.ts'

export {
  CONTROL_PREFIX,
  MIN_CONTROL_TOKEN_LENGTH,
  createControlToken,
  type ControlPluginOptions,
} from '../../emulator-core/control-plugin.ts'

/** The gated control routes; register with `{ prefix: CONTROL_PREFIX }`. */
export function xControlPlugin(
  emulator: XEmulator,
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
      app.get('/usage', async () => control.usage())
      app.post('/usage', async (request) => control.setUsage(request.body))
      app.post('/accounts', async (request, reply) =>
        reply.code(201).send(control.addAccount(request.body)),
      )
      app.post('/accounts/:index/posts', async (request, reply) =>
        reply.code(201).send(control.addPost(indexParam(request), request.body)),
      )
      app.post('/accounts/:index/revoke', async (request) =>
        control.revokeAccount(indexParam(request)),
      )
      app.delete('/posts/:id', async (request, reply) => {
        control.removePost(idParam(request))
        return reply.code(204).send()
      })
      app.post('/revoke', async (request) =>
        control.revokeToken(bodyField(request, 'token', 'a revocation')),
      )
      app.post('/access-tokens/expire', async () => control.expireAccessTokens())
      app.post('/faults', async (request, reply) =>
        reply.code(201).send(control.addFault(request.body)),
      )
      app.delete('/faults', async () => control.clearFaults())
      app.post('/clock', async (request) => control.moveClock(request.body))
      app.post('/reset', async () => control.reset())
    },
  })
}

/** The standalone emulator as one plugin: X's routes at its root, the gated control API under `/_control`. */
export function standaloneXEmulator(
  emulator: XEmulator,
  options: ControlPluginOptions,
): (app: FastifyInstance) => Promise<void> {
  const control = xControlPlugin(emulator, options)
  return async (app) => {
    await app.register(emulator.plugin)
    await app.register(control, { prefix: CONTROL_PREFIX })
  }
}
