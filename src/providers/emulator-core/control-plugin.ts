/**
 * @module providers/emulator-core/control-plugin — the gate every standalone emulator's HTTP
 * control API sits behind. The platform gives its routes; the gate is the same for all.
 *
 * Every request is gated, in this order:
 * 1. `Host` must be a loopback name (`localhost`, `127.0.0.1`, `[::1]`, with or without a port),
 *    else 421: a DNS-rebinding page (whose requests carry its own host name) gets nowhere.
 * 2. An `Origin` header, when present, must be the emulator's own origin, else 403: no web page
 *    elsewhere can drive it.
 * 3. `Authorization: Bearer <token>` must carry the per-process token (compared in constant time),
 *    else 401.
 * 4. A body must be `application/json`, else 415 (so no HTML form can post here); it is at most
 *    `bodyBytes` (else 413) and nested at most `depth` levels (else 400).
 *
 * Errors answer `{error: {code, message}}`; a `ControlError` thrown by a route answers its status.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ControlError, parseJsonBody } from './control-input.ts'

export const CONTROL_PREFIX = '/_control'
/** The shortest control token accepted (`EMULATOR_CONTROL_TOKEN`). */
export const MIN_CONTROL_TOKEN_LENGTH = 32

export interface ControlPluginOptions {
  /** The bearer token every request must carry, at least 32 characters. */
  readonly token: string
}

export interface ControlGateOptions extends ControlPluginOptions {
  /** The emulator's own base URL; an `Origin` other than its origin is refused. */
  readonly baseUrl: () => string
  /** Bytes of one JSON body, and its nesting depth. */
  readonly limits: { readonly bodyBytes: number; readonly depth: number }
  /** The platform's control routes, registered behind the gate. */
  readonly routes: (app: FastifyInstance) => void
}

/** A fresh per-process control token: 32 random bytes, base64url. */
export function createControlToken(): string {
  return randomBytes(32).toString('base64url')
}

/** `localhost`, `127.0.0.1` or `[::1]`, optionally with a port. */
const LOOPBACK_HOST = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

export function refuse(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  return reply.code(status).send({ error: { code, message } })
}

/** The gated control routes; register with `{ prefix: CONTROL_PREFIX }`. */
export function gatedControlPlugin(
  options: ControlGateOptions,
): (app: FastifyInstance) => Promise<void> {
  if (options.token.length < MIN_CONTROL_TOKEN_LENGTH)
    throw new Error(
      `the emulator control token must be at least ${MIN_CONTROL_TOKEN_LENGTH} characters`,
    )
  const expected = digest(options.token)
  const limits = options.limits

  return async (app) => {
    app.addHook('onRequest', async (request, reply) => {
      if (!LOOPBACK_HOST.test(request.headers.host ?? ''))
        return refuse(
          reply,
          421,
          'ERR_MISDIRECTED',
          'the control API answers on a loopback host name only',
        )
      const origin = request.headers.origin
      if (origin !== undefined && origin !== new URL(options.baseUrl()).origin)
        return refuse(reply, 403, 'ERR_FORBIDDEN', 'cross-origin requests are refused')
      const presented = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1]
      // digests of equal length: the comparison takes the same time whatever was sent
      if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
        void reply.header('www-authenticate', 'Bearer realm="emulator control"')
        return refuse(
          reply,
          401,
          'ERR_UNAUTHENTICATED',
          'give Authorization: Bearer <control token>',
        )
      }
      const type = request.headers['content-type']
      const hasBody =
        request.headers['transfer-encoding'] !== undefined ||
        Number(request.headers['content-length'] ?? 0) > 0
      const mediaType = (type ?? '').split(';')[0]?.trim().toLowerCase()
      if ((type !== undefined || hasBody) && mediaType !== 'application/json')
        return refuse(reply, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'send JSON (application/json)')
      return undefined
    })
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', 'no-store')
      return payload
    })

    app.removeAllContentTypeParsers()
    app.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: limits.bodyBytes },
      (_request, body, done) => {
        try {
          done(null, parseJsonBody(String(body), limits))
        } catch (error) {
          done(error as Error, undefined)
        }
      },
    )
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof ControlError)
        return refuse(reply, error.status, error.code, error.message)
      if (error.statusCode === 413)
        return refuse(reply, 413, 'ERR_TOO_LARGE', `the body is over ${limits.bodyBytes} bytes`)
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
        return refuse(reply, error.statusCode, 'ERR_VALIDATION', error.message)
      request.log.error({ err: error }, 'emulator control request failed')
      return refuse(reply, 500, 'ERR_INTERNAL', 'Internal server error')
    })

    options.routes(app)
  }
}

/** A path parameter naming an index (a user, an account); anything but plain digits names none. */
export function indexParam(request: FastifyRequest): number {
  const raw = (request.params as { index?: string }).index ?? ''
  return /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN
}

/** The `:id` path parameter. */
export function idParam(request: FastifyRequest): string {
  return (request.params as { id?: string }).id ?? ''
}
