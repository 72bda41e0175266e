/**
 * @module providers/instagram/emulator/errors — Meta's error answers as the emulator gives them:
 * `GraphFailure` (thrown inside the emulator and turned into its HTTP response), the Graph error
 * body (`graphError`: `{error: {message, type, code, fbtrace_id}}`), the flat OAuth error of
 * api.instagram.com (`oauthError`), the throttle messages, and `respond`, which runs one call,
 * records it in the call log (paths only, `emulator-core/call-log.ts`) and answers.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { logCall, pathOnly } from '../../emulator-core/call-log.ts'
import type { EmulatorState } from './state.ts'

export function fbtrace(): string {
  return randomBytes(8).toString('base64url')
}

/** An Instagram error answer, thrown inside the emulator and turned into its HTTP response. */
export class GraphFailure extends Error {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly headers: Record<string, string>
  constructor(status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
    super(`emulated Instagram error ${status}`)
    this.status = status
    this.body = body
    this.headers = headers
  }
}

export function graphError(
  code: number,
  message: string,
  extra: Record<string, unknown> = {},
  status = 400,
): GraphFailure {
  return new GraphFailure(status, {
    error: {
      message,
      type: code === 190 ? 'OAuthException' : 'IGApiException',
      code,
      ...extra,
      fbtrace_id: fbtrace(),
    },
  })
}

export function oauthError(message: string, code = 400): GraphFailure {
  return new GraphFailure(400, { error_type: 'OAuthException', code, error_message: message })
}

export const THROTTLE_MESSAGES: Record<number, string> = {
  4: '(#4) Application request limit reached',
  17: '(#17) User request limit reached',
  32: '(#32) Page request limit reached',
  613: 'Calls to this api have exceeded the rate limit.',
  80002: 'There have been too many calls to this Instagram account. Wait a bit and try again.',
}

/** Runs one emulated call and answers it: its result, or the `GraphFailure` it threw. */
export type Respond = (
  request: FastifyRequest,
  reply: FastifyReply,
  work: () => Promise<{
    body: unknown
    headers?: Record<string, string>
    userIndex?: number | null
    raw?: string
  }>,
) => Promise<FastifyReply>

export function createResponder(state: EmulatorState): Respond {
  const clock = state.clock

  function record(request: FastifyRequest, userIndex: number | null, status: number): void {
    logCall(state.calls, {
      at: clock.now(),
      method: request.method,
      path: pathOnly(request.url),
      userIndex,
      status,
    })
  }

  async function respond(
    request: FastifyRequest,
    reply: FastifyReply,
    work: () => Promise<{
      body: unknown
      headers?: Record<string, string>
      userIndex?: number | null
      raw?: string
    }>,
  ): Promise<FastifyReply> {
    let userIndex: number | null = null
    try {
      const result = await work()
      userIndex = result.userIndex ?? null
      record(request, userIndex, 200)
      void reply.headers(result.headers ?? {}).header('cache-control', 'no-store')
      if (result.raw !== undefined)
        return await reply.type('application/json; charset=UTF-8').send(result.raw)
      return await reply.send(result.body)
    } catch (error) {
      if (!(error instanceof GraphFailure)) throw error
      record(request, userIndex, error.status)
      return reply
        .code(error.status)
        .headers(error.headers)
        .header('cache-control', 'no-store')
        .send(error.body)
    }
  }

  return respond
}
