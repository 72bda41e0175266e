/**
 * @module providers/youtube/emulator/errors — Google's error answers as the emulator gives them:
 * `GoogleFailure` (thrown inside the emulator and turned into its HTTP response), the Data API
 * shape (`apiError`: `{error: {code, message, errors: [{message, domain, reason}], status}}`),
 * the OAuth shape of the token and revoke endpoints (`oauthError`: `{error, error_description}`,
 * RFC 6749 §5.2), the connection a `drop` fault cuts, and `respond`, which runs one call, records
 * it in the call log (path without query, status, quota cost, client and account;
 * `emulator-core/call-log.ts`) and answers.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { logCall, pathOnly } from '../../emulator-core/call-log.ts'
import type { YoutubeEmulatorState } from './state.ts'

/** A Google error answer, thrown inside the emulator and turned into its HTTP response. */
export class GoogleFailure extends Error {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly headers: Record<string, string>
  constructor(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(`emulated Google error ${status}`)
    this.name = 'GoogleFailure'
    this.status = status
    this.body = body
    this.headers = headers
  }
}

/** Thrown by a `drop` fault: the connection is cut with no answer. */
export class DroppedConnection extends Error {
  constructor() {
    super('emulated dropped connection')
    this.name = 'DroppedConnection'
  }
}

export interface ErrorEntry {
  readonly message: string
  readonly domain: string
  readonly reason: string
  readonly location?: string
  readonly locationType?: 'parameter' | 'header'
}

/** `{error: {code, message, errors, status?}}`; `status` only where Google sends one. */
export function apiError(
  code: number,
  message: string,
  entry: ErrorEntry,
  status?: string,
  headers: Record<string, string> = {},
): GoogleFailure {
  return new GoogleFailure(
    code,
    { error: { code, message, errors: [entry], ...(status === undefined ? {} : { status }) } },
    headers,
  )
}

/** `{error, error_description}` of Google's OAuth endpoints. */
export function oauthError(status: number, error: string, description: string): GoogleFailure {
  return new GoogleFailure(status, { error, error_description: description })
}

/** A required query parameter is missing (`Required parameter: part`). */
export function requiredParameter(name: string): GoogleFailure {
  return apiError(400, `Required parameter: ${name}`, {
    message: `Required parameter: ${name}`,
    domain: 'global',
    reason: 'required',
    location: name,
    locationType: 'parameter',
  })
}

/** None of a list call's filters was given (`mine`, `id`…). */
export function noFilter(names: readonly string[]): GoogleFailure {
  const message = `No filter selected. Expected one of: ${names.join(', ')}`
  return apiError(400, message, {
    message,
    domain: 'youtube.parameter',
    reason: 'missingRequiredParameter',
    location: names[0] ?? 'id',
    locationType: 'parameter',
  })
}

/** An invalid parameter value (`Invalid value '100'. Values must be within the range: [0, 50]`). */
export function invalidParameter(name: string, message: string): GoogleFailure {
  return apiError(400, message, {
    message,
    domain: 'global',
    reason: 'invalidParameter',
    location: name,
    locationType: 'parameter',
  })
}

export const AUTH_ERROR_MESSAGE =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'

/** 401 `authError`: an invalid, expired or revoked access token. */
export function authError(): GoogleFailure {
  return apiError(
    401,
    AUTH_ERROR_MESSAGE,
    {
      message: 'Invalid Credentials',
      domain: 'global',
      reason: 'authError',
      location: 'Authorization',
      locationType: 'header',
    },
    'UNAUTHENTICATED',
    { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
  )
}

export const QUOTA_MESSAGE =
  'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.'

export function quotaExceeded(): GoogleFailure {
  return apiError(403, QUOTA_MESSAGE, {
    message: QUOTA_MESSAGE,
    domain: 'youtube.quota',
    reason: 'quotaExceeded',
  })
}

/** A request Google refuses as malformed (`badRequest`). */
export function badRequest(): GoogleFailure {
  return apiError(
    400,
    'Request contains an invalid argument.',
    { message: 'Request contains an invalid argument.', domain: 'global', reason: 'badRequest' },
    'INVALID_ARGUMENT',
  )
}

export function backendError(status: number): GoogleFailure {
  return status === 503
    ? apiError(
        503,
        'The service is currently unavailable.',
        { message: 'Backend Error', domain: 'global', reason: 'backendError' },
        'UNAVAILABLE',
      )
    : apiError(
        status,
        'Internal error encountered.',
        { message: 'Backend Error', domain: 'global', reason: 'backendError' },
        'INTERNAL',
      )
}

export function rateLimit(
  reason: 'rateLimitExceeded' | 'userRateLimitExceeded',
  retryAt: number,
): GoogleFailure {
  const base = reason === 'rateLimitExceeded' ? 'Rate Limit Exceeded' : 'User-rate limit exceeded.'
  const retry = new Date(retryAt).toISOString().replace(/\.\d{3}Z$/, 'Z')
  return apiError(403, `${base} Retry after ${retry}`, {
    message: base,
    domain: 'usageLimits',
    reason,
  })
}

/** What a call records besides its path and status; the route fills it in as it learns. */
export interface CallContext {
  cost: number
  clientId: string | null
  accountIndex: number | null
}

/** Runs one emulated call and answers it: its result, or the `GoogleFailure` it threw. */
export type Respond = (
  request: FastifyRequest,
  reply: FastifyReply,
  work: (ctx: CallContext) => Promise<{ body: unknown; headers?: Record<string, string> }>,
) => Promise<FastifyReply>

export function createResponder(state: YoutubeEmulatorState): Respond {
  const clock = state.clock

  function record(request: FastifyRequest, ctx: CallContext, status: number): void {
    logCall(state.calls, {
      at: clock.now(),
      method: request.method,
      path: pathOnly(request.url),
      status,
      cost: ctx.cost,
      clientId: ctx.clientId,
      accountIndex: ctx.accountIndex,
    })
  }

  return async (request, reply, work) => {
    const ctx: CallContext = { cost: 0, clientId: null, accountIndex: null }
    try {
      const result = await work(ctx)
      record(request, ctx, 200)
      return await reply
        .headers(result.headers ?? {})
        .header('cache-control', 'no-cache, no-store, max-age=0, must-revalidate')
        .type('application/json; charset=UTF-8')
        .send(result.body)
    } catch (error) {
      if (error instanceof DroppedConnection) {
        // status 0: no answer was given
        record(request, ctx, 0)
        reply.hijack()
        reply.raw.destroy()
        return reply
      }
      if (!(error instanceof GoogleFailure)) throw error
      record(request, ctx, error.status)
      return reply
        .code(error.status)
        .headers(error.headers)
        .header('cache-control', 'private')
        .type('application/json; charset=UTF-8')
        .send(error.body)
    }
  }
}
