/**
 * @module providers/x/emulator/errors — X's error answers as the emulator gives them: `XFailure`
 * (thrown inside the emulator and turned into its HTTP response), RFC 7807 problems
 * (`application/problem+json`, `{title, detail, type, status}`), the `{errors: […]}` shape of an
 * invalid request, the OAuth shape of the token and revoke endpoints (`{error,
 * error_description}`), the connection a `drop` fault cuts, and `respond`, which runs one call,
 * records it in the call log (path without query, status, client, account, posts read) and
 * answers.
 *
 * Bodies are providers.md §3.4-§3.5's where it quotes them (401, 402, 429 usage-capped, 403
 * client-not-enrolled, 404); the plain 429 body and the invalid-request wording are the
 * emulator's (X's exact text is unconfirmed).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { logCall, pathOnly } from '../../emulator-core/call-log.ts'
import type { XEmulatorState } from './state.ts'

export class XFailure extends Error {
  readonly status: number
  readonly body: Record<string, unknown>
  readonly headers: Record<string, string>
  /** `application/problem+json` for API problems, `application/json` for OAuth errors. */
  readonly contentType: string
  constructor(
    status: number,
    body: Record<string, unknown>,
    contentType = 'application/problem+json',
    headers: Record<string, string> = {},
  ) {
    super(`emulated X error ${status}`)
    this.name = 'XFailure'
    this.status = status
    this.body = body
    this.contentType = contentType
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

/** `{error, error_description}` of X's OAuth endpoints. */
export function oauthError(status: number, error: string, description: string): XFailure {
  return new XFailure(status, { error, error_description: description }, 'application/json')
}

/** 401 of the API (an invalid, expired or revoked access token). */
export function unauthorized(): XFailure {
  return new XFailure(401, {
    title: 'Unauthorized',
    type: 'about:blank',
    status: 401,
    detail: 'Unauthorized',
  })
}

/** 403 for a token without the scopes an endpoint needs (wording the emulator's). */
export function forbiddenScope(needed: readonly string[]): XFailure {
  return new XFailure(403, {
    title: 'Forbidden',
    type: 'about:blank',
    status: 403,
    detail: `Missing scopes: ${needed.join(' ')}`,
  })
}

/** 429 once a 15-minute window is spent. */
export function tooManyRequests(): XFailure {
  return new XFailure(429, {
    title: 'Too Many Requests',
    detail: 'Too Many Requests',
    type: 'about:blank',
    status: 429,
  })
}

/** `429 UsageCapExceeded`, the monthly product cap (xdevplatform/xdk#25). */
export function usageCapped(accountId: string): XFailure {
  return new XFailure(429, {
    account_id: accountId,
    product_name: 'standard-basic',
    title: 'UsageCapExceeded',
    period: 'Monthly',
    scope: 'Product',
    detail: 'Usage cap exceeded: Monthly product cap',
    type: 'https://api.twitter.com/2/problems/usage-capped',
  })
}

/** `402 credits-depleted` (pay-per-use). */
export function creditsDepleted(): XFailure {
  return new XFailure(402, {
    title: 'Payment Required',
    detail: 'credits depleted',
    type: 'https://api.x.com/2/problems/credits-depleted',
  })
}

/** `403 client-not-enrolled`: the App is not attached to a Project. */
export function clientNotEnrolled(clientId: string): XFailure {
  return new XFailure(403, {
    client_id: clientId,
    detail:
      'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
    registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
    title: 'Client Forbidden',
    required_enrollment: 'Appropriate Level of API Access',
    reason: 'client-not-enrolled',
    type: 'https://api.twitter.com/2/problems/client-forbidden',
  })
}

export function serverError(status: number): XFailure {
  return new XFailure(status, {
    title: status === 503 ? 'Service Unavailable' : 'Internal Server Error',
    detail: status === 503 ? 'Service Unavailable' : 'Internal Server Error',
    type: 'about:blank',
    status,
  })
}

/** 400 for an invalid query parameter: `{errors: [{parameters, message}], title, detail, type}`. */
export function invalidRequest(parameter: string, value: string, message: string): XFailure {
  return new XFailure(400, {
    errors: [{ parameters: { [parameter]: [value.slice(0, 100)] }, message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: 'https://api.twitter.com/2/problems/invalid-request',
  })
}

/** A user that does not exist (or no longer): a `{errors}` answer without `data`. */
export function userNotFound(id: string): XFailure {
  return new XFailure(
    404,
    {
      errors: [
        {
          value: id,
          detail: `Could not find user with id: [${id}].`,
          title: 'Not Found Error',
          resource_type: 'user',
          parameter: 'id',
          resource_id: id,
          type: 'https://api.twitter.com/2/problems/resource-not-found',
        },
      ],
    },
    'application/json',
  )
}

/** What a call records besides its path and status; the route fills it in as it learns. */
export interface CallContext {
  clientId: string | null
  accountIndex: number | null
  postsRead: number
  /** Rate-limit headers, sent with the answer whatever it is (X sends them on a 429 too). */
  headers: Record<string, string>
}

export type Respond = (
  request: FastifyRequest,
  reply: FastifyReply,
  work: (ctx: CallContext) => Promise<{ body: unknown }>,
) => Promise<FastifyReply>

export function createResponder(state: XEmulatorState): Respond {
  const record = (request: FastifyRequest, ctx: CallContext, status: number): void => {
    logCall(state.calls, {
      at: state.clock.now(),
      method: request.method,
      path: pathOnly(request.url),
      status,
      clientId: ctx.clientId,
      accountIndex: ctx.accountIndex,
      postsRead: ctx.postsRead,
    })
  }

  return async (request, reply, work) => {
    const ctx: CallContext = { clientId: null, accountIndex: null, postsRead: 0, headers: {} }
    try {
      const result = await work(ctx)
      record(request, ctx, 200)
      return await reply
        .headers(ctx.headers)
        .header('cache-control', 'no-cache, no-store, max-age=0')
        .type('application/json; charset=utf-8')
        .send(result.body)
    } catch (error) {
      if (error instanceof DroppedConnection) {
        record(request, ctx, 0)
        reply.hijack()
        reply.raw.destroy()
        return reply
      }
      if (!(error instanceof XFailure)) throw error
      record(request, ctx, error.status)
      return reply
        .code(error.status)
        .headers({ ...ctx.headers, ...error.headers })
        .header('cache-control', 'no-cache, no-store, max-age=0')
        .type(`${error.contentType}; charset=utf-8`)
        .send(error.body)
    }
  }
}
