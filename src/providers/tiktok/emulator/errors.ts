/**
 * @module providers/tiktok/emulator/errors — TikTok's error answers as the emulator gives them:
 * `TiktokFailure` (thrown inside the emulator and turned into its HTTP response), the v2
 * envelope (`apiError`: `{data: {}, error: {code, message, log_id}}`), the flat OAuth shape of
 * the token and revoke endpoints (`oauthError`: `{error, error_description, log_id}`, with HTTP
 * 400 or, as TikTok has been seen to answer, 200: `settings.oauthErrorStatus`), the connection a
 * `drop` fault cuts, and `respond`, which runs one call, records it in the call log (path without
 * query, status, client and account; `emulator-core/call-log.ts`) and answers.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { logCall, pathOnly } from '../../emulator-core/call-log.ts'
import type { TiktokEmulatorState } from './state.ts'

/** A TikTok error answer, thrown inside the emulator and turned into its HTTP response. */
export class TiktokFailure extends Error {
  readonly status: number
  /** Built at answer time: the `log_id` is the emulator's. */
  readonly body: (logId: string) => Record<string, unknown>
  constructor(status: number, body: (logId: string) => Record<string, unknown>) {
    super(`emulated TikTok error ${status}`)
    this.name = 'TiktokFailure'
    this.status = status
    this.body = body
  }
}

/** Thrown by a `drop` fault: the connection is cut with no answer. */
export class DroppedConnection extends Error {
  constructor() {
    super('emulated dropped connection')
    this.name = 'DroppedConnection'
  }
}

/** `{data: {}, error: {code, message, log_id}}` of the v2 API. */
export function apiError(status: number, code: string, message: string): TiktokFailure {
  return new TiktokFailure(status, (logId) => ({
    data: {},
    error: { code, message, log_id: logId },
  }))
}

/** `{error, error_description, log_id}` of the OAuth endpoints, with the configured status. */
export function oauthError(
  state: TiktokEmulatorState,
  error: string,
  description: string,
): TiktokFailure {
  return new TiktokFailure(state.settings.oauthErrorStatus, (logId) => ({
    error,
    error_description: description,
    log_id: logId,
  }))
}

export function accessTokenInvalid(): TiktokFailure {
  return apiError(
    401,
    'access_token_invalid',
    'The access token is invalid or not found in the request. Please refresh the token and retry.',
  )
}

export function scopeNotAuthorized(scope: string): TiktokFailure {
  return apiError(
    401,
    'scope_not_authorized',
    `The user did not authorize the scope required for completing this request (${scope}).`,
  )
}

export function rateLimitExceeded(): TiktokFailure {
  return apiError(
    429,
    'rate_limit_exceeded',
    'The API rate limit was exceeded. Please try again later.',
  )
}

export function internalError(status = 500): TiktokFailure {
  return apiError(status, 'internal_error', 'Something went wrong on our side. Please try again.')
}

export function invalidParams(message: string): TiktokFailure {
  return apiError(400, 'invalid_params', message)
}

/** What a call records besides its path and status; the route fills it in as it learns. */
export interface CallContext {
  clientKey: string | null
  accountIndex: number | null
}

/** Runs one emulated call and answers it: its result, or the `TiktokFailure` it threw. */
export type Respond = (
  request: FastifyRequest,
  reply: FastifyReply,
  work: (ctx: CallContext) => Promise<{ body: unknown }>,
) => Promise<FastifyReply>

export function createResponder(state: TiktokEmulatorState): Respond {
  const clock = state.clock

  function record(request: FastifyRequest, ctx: CallContext, status: number): void {
    logCall(state.calls, {
      at: clock.now(),
      method: request.method,
      path: pathOnly(request.url),
      status,
      clientKey: ctx.clientKey,
      accountIndex: ctx.accountIndex,
    })
  }

  return async (request, reply, work) => {
    const ctx: CallContext = { clientKey: null, accountIndex: null }
    try {
      const result = await work(ctx)
      record(request, ctx, 200)
      return await reply
        .header('cache-control', 'no-store')
        .header('x-tt-logid', state.logId())
        .type('application/json; charset=utf-8')
        .send(result.body)
    } catch (error) {
      if (error instanceof DroppedConnection) {
        record(request, ctx, 0)
        reply.hijack()
        reply.raw.destroy()
        return reply
      }
      if (!(error instanceof TiktokFailure)) throw error
      record(request, ctx, error.status)
      const logId = state.logId()
      return reply
        .code(error.status)
        .header('cache-control', 'no-store')
        .header('x-tt-logid', logId)
        .type('application/json; charset=utf-8')
        .send(error.body(logId))
    }
  }
}
