/**
 * @module http/error-handler — every error leaves as the one JSON envelope
 * `{ "error": { "code", "message", "errors"? } }`. 5xx details are logged, never returned.
 */
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { GalleryError, isGalleryError, toEnvelope } from '../errors.ts'

function fromFastify(error: FastifyError): GalleryError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GalleryError('ERR_PAYLOAD_TOO_LARGE', 'Request body is too large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GalleryError(
        'ERR_UNSUPPORTED_MEDIA_TYPE',
        'Unsupported content type; send application/json',
      )
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GalleryError('ERR_VALIDATION', 'Request body is empty; send a JSON object')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new GalleryError('ERR_VALIDATION', 'Request body is not valid JSON')
    default:
      break
  }
  if (error.validation !== undefined) {
    const details = error.validation.map((issue) => {
      const base =
        issue.instancePath === ''
          ? (error.validationContext ?? 'request')
          : `${error.validationContext ?? ''}${issue.instancePath.replace(/\//g, '.')}`
      const extra: Record<string, unknown> = issue.params
      const field =
        typeof extra.missingProperty === 'string'
          ? `${base}.${extra.missingProperty}`
          : typeof extra.additionalProperty === 'string'
            ? `${base}.${extra.additionalProperty}`
            : base
      const message =
        typeof extra.additionalProperty === 'string'
          ? 'is not allowed'
          : (issue.message ?? 'is invalid')
      return { path: field, message }
    })
    const first = details[0]
    return new GalleryError(
      'ERR_VALIDATION',
      first === undefined ? 'Invalid request' : `Invalid request: ${first.path} ${first.message}`,
      { details },
    )
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new GalleryError('ERR_VALIDATION', 'Malformed request')
  }
  return null
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((rawError: FastifyError, request, reply) => {
    const error = isGalleryError(rawError)
      ? rawError
      : (fromFastify(rawError) ??
        new GalleryError('ERR_INTERNAL', 'Internal server error', { cause: rawError }))
    if (error.status >= 500)
      request.log.error({ err: error.code === 'ERR_INTERNAL' ? rawError : error }, 'request failed')
    else request.log.info({ code: error.code }, 'request rejected')
    if (error.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(error.retryAfterSeconds))
    return reply.code(error.status).header('cache-control', 'no-store').send(toEnvelope(error))
  })
  app.setNotFoundHandler((request, reply) => {
    return reply
      .code(404)
      .send(
        toEnvelope(
          new GalleryError(
            'ERR_NOT_FOUND',
            `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`,
          ),
        ),
      )
  })
}

/**
 * Requests Node's HTTP parser refuses (malformed framing, headers over 16 KB) never reach a route:
 * they get the same JSON envelope (400 `ERR_VALIDATION`), then the connection is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  // as Node itself: nothing more is written once a response on this socket has begun
  const current = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent === true) {
    socket.destroy()
    return
  }
  const message =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'Request headers are too large (16 KB at most)'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'The request took too long to arrive'
        : 'Malformed HTTP request'
  const body = JSON.stringify(toEnvelope(new GalleryError('ERR_VALIDATION', message)))
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  )
}

/** Fastify's own refusals before routing (a URL that does not decode): the same envelope. */
export function frameworkErrors(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  void reply
    .code(400)
    .header('cache-control', 'no-store')
    .send(
      toEnvelope(
        new GalleryError(
          'ERR_VALIDATION',
          error.code === 'FST_ERR_BAD_URL' ? 'The URL is not validly encoded' : 'Malformed request',
        ),
      ),
    )
}
