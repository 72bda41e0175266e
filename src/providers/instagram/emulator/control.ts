/**
 * @module providers/instagram/emulator/control — the HTTP control API of the standalone emulator
 * (`npm run emulator`), a thin layer over `emulator.control` (`controller.ts`, which validates and
 * bounds every input). It is a plugin of its own: the standalone server registers it under
 * `/_control`; the app's mounted sandbox never does, so `/sandbox/instagram/_control/…` does not
 * exist.
 *
 * Every request is gated (the shared gate of `emulator-core/control-plugin.ts`), in this order:
 * 1. `Host` must be a loopback name (`localhost`, `127.0.0.1`, `[::1]`, with or without a port),
 *    else 421: a DNS-rebinding page (whose requests carry its own host name) gets nowhere.
 * 2. An `Origin` header, when present, must be the emulator's own origin, else 403: no web page
 *    elsewhere can drive it.
 * 3. `Authorization: Bearer <token>` must carry the per-process token (compared in constant time),
 *    else 401.
 * 4. A body must be `application/json`, else 415 (so no HTML form can post here); it is at most
 *    64 KB (else 413) and nested at most a few levels (else 400).
 *
 * Routes, relative to `/_control`: `GET /state`, `GET /calls`, `POST /users`,
 * `POST /users/:index/media`, `PATCH /media/:id`, `DELETE /media/:id`,
 * `POST /users/:index/invalidate`, `POST /faults`, `DELETE /faults`, `POST /clock`,
 * `POST /settings`, `POST /reset`. Errors answer `{error: {code, message}}`.
 */
import type { FastifyInstance } from 'fastify'
import { field, inputObject } from './bounds.ts'
import type { Emulator } from './index.ts'
import {
  CONTROL_PREFIX,
  gatedControlPlugin,
  idParam,
  indexParam,
  type ControlPluginOptions,
} from '../../emulator-core/control-plugin.ts'

export {
  CONTROL_PREFIX,
  MIN_CONTROL_TOKEN_LENGTH,
  createControlToken,
  type ControlPluginOptions,
} from '../../emulator-core/control-plugin.ts'

/** The gated control routes; register with `{ prefix: CONTROL_PREFIX }`. */
export function controlPlugin(
  emulator: Emulator,
  options: ControlPluginOptions,
): (app: FastifyInstance) => Promise<void> {
  const control = emulator.control
  const limits = emulator.state.limits

  return gatedControlPlugin({
    ...options,
    baseUrl: emulator.baseUrl,
    limits,
    routes: (app) => {
      app.get('/state', async () => control.snapshot())
      app.get('/calls', async () => ({ calls: control.calls() }))
      app.post('/users', async (request, reply) =>
        reply.code(201).send(control.addUser(request.body)),
      )
      app.post('/users/:index/media', async (request, reply) =>
        reply.code(201).send(control.publish(indexParam(request), request.body)),
      )
      app.patch('/media/:id', async (request) => control.editMedia(idParam(request), request.body))
      app.delete('/media/:id', async (request, reply) => {
        control.deleteMedia(idParam(request))
        return reply.code(204).send()
      })
      app.post('/users/:index/invalidate', async (request) =>
        control.invalidate(
          indexParam(request),
          field(inputObject(request.body, 'an invalidation', limits), 'subcode'),
        ),
      )
      app.post('/faults', async (request, reply) =>
        reply.code(201).send(control.addFault(request.body)),
      )
      app.delete('/faults', async () => control.clearFaults())
      app.post('/clock', async (request) => control.moveClock(request.body))
      app.post('/settings', async (request) => control.updateSettings(request.body))
      app.post('/reset', async () => control.reset())
    },
  })
}

/**
 * The standalone emulator as one plugin: the Meta-facing routes at its root and the gated control
 * API under `/_control`. `npm run emulator` (and its tests) serve exactly this.
 */
export function standaloneEmulator(
  emulator: Emulator,
  options: ControlPluginOptions,
): (app: FastifyInstance) => Promise<void> {
  const control = controlPlugin(emulator, options)
  return async (app) => {
    await app.register(emulator.plugin)
    await app.register(control, { prefix: CONTROL_PREFIX })
  }
}
