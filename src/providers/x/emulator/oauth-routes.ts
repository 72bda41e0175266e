/**
 * @module providers/x/emulator/oauth-routes — X's OAuth 2.0 Authorization Code Flow with PKCE:
 * - `GET  /i/oauth2/authorize` — the consent page (x.com): choose a demo X account, Authorize
 *   or Cancel (`error=access_denied`); `POST` is its form
 * - `POST /2/oauth2/token` — code exchange and refresh (api.x.com)
 * - `POST /2/oauth2/revoke` — revokes a grant, from its access or refresh token
 *
 * and `authenticate`, how every API call checks its access token.
 *
 * What X does and the emulator models (providers.md §3.1): PKCE is mandatory (`S256`, accepted
 * in lower case too, or `plain`); `state` is required, at most 500 characters; scopes are
 * space-separated; an unknown client or an unregistered redirect URI gets an error page and never
 * a redirect. A code lives 30 seconds and works once; its `redirect_uri` must match exactly. A
 * confidential client authenticates with HTTP Basic (`unauthorized_client` "Missing valid
 * authorization header" without it), a public one sends `client_id` in the body. Access tokens
 * live 2 hours; a refresh token comes only with `offline.access` and is single-use: each refresh
 * answers a new one and the one sent stops working at once. Failed codes and refresh tokens
 * answer `400 invalid_request` ("Value passed for the authorization code was invalid.", "Value
 * passed for the token was invalid.").
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { escapeHtml } from '../../../html.ts'
import { one } from '../../emulator-core/query.ts'
import { isExpired } from '../../emulator-core/tokens.ts'
import { oauthError, unauthorized, type CallContext, type Respond } from './errors.ts'
import type { ApplyFaults } from './faults.ts'
import {
  ACCESS_TOKEN_EXPIRES_IN,
  type TokenClaims,
  type XAccount,
  type XEmulatorState,
} from './state.ts'

const HTML = 'text/html; charset=utf-8'

/** Scopes X knows (of those a gallery might ask for), with their consent wording. */
const KNOWN_SCOPES: ReadonlyMap<string, string> = new Map([
  ['tweet.read', 'All the posts you can view, including posts from protected accounts'],
  ['users.read', 'Any account you can view, including protected accounts'],
  ['offline.access', 'Stay connected to your account until you revoke access'],
  ['tweet.write', 'Post and repost for you'],
  ['media.write', 'Upload media for you'],
  ['like.read', 'Posts you have liked'],
  ['follows.read', 'People who follow you and people you follow'],
  ['users.email', 'Your email address'],
])

/** RFC 7636 §4.1-4.2: 43-128 characters of the unreserved set. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/
export const INVALID_CODE = 'Value passed for the authorization code was invalid.'
export const INVALID_TOKEN = 'Value passed for the token was invalid.'
const MAX_STATE = 500
const MAX_PARAM = 2048

export type Authenticate = (authorization: string | undefined) => {
  account: XAccount
  claims: TokenClaims
}

/** Checks the `Authorization: Bearer` of an API call; throws X's 401 problem. */
export function createAuthenticator(state: XEmulatorState): Authenticate {
  return (authorization) => {
    const token = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1]
    const claims = token === undefined ? null : state.parseToken(token)
    if (claims === null || claims.k !== 'a' || claims.c !== state.settings.clientId)
      throw unauthorized()
    const account = state.accountByIndex(claims.a)
    if (
      account === undefined ||
      state.isRevoked(claims) ||
      claims.i < state.accessExpiredBefore ||
      isExpired(claims, state.clock.now())
    )
      throw unauthorized()
    return { account, claims }
  }
}

interface AuthorizeRequest {
  readonly clientId: string
  readonly redirectUri: string
  readonly scopes: string[]
  readonly challenge: { value: string; method: 'S256' | 'plain' }
  readonly state: string
}

type Validated = { ok: true; value: AuthorizeRequest } | { ok: false; detail: string }

const CARRIED = [
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
] as const

export function validateAuthorize(q: unknown, state: XEmulatorState): Validated {
  const fail = (detail: string): Validated => ({ ok: false, detail })
  for (const name of CARRIED)
    if ((one(q, name)?.length ?? 0) > MAX_PARAM) return fail(`Parameter too long: ${name}`)
  const clientId = one(q, 'client_id')
  if (clientId === undefined || clientId === '') return fail('Missing client_id')
  if (clientId !== state.settings.clientId) return fail('Invalid client_id: no such app')
  const redirectUri = one(q, 'redirect_uri')
  if (redirectUri === undefined || !state.settings.redirectUris.includes(redirectUri))
    return fail('redirect_uri does not match a callback URL registered for this app')
  if (one(q, 'response_type') !== 'code') return fail('response_type must be code')
  const scopes = [...new Set((one(q, 'scope') ?? '').split(' ').filter((s) => s !== ''))]
  if (scopes.length === 0) return fail('Missing scope')
  const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s))
  if (unknown.length > 0) return fail(`Unknown scope: ${unknown.join(' ')}`)
  const stateParam = one(q, 'state')
  if (stateParam === undefined || stateParam === '') return fail('Missing state')
  if (stateParam.length > MAX_STATE) return fail(`state is longer than ${MAX_STATE} characters`)
  const challenge = one(q, 'code_challenge')
  if (challenge === undefined || !PKCE_VALUE.test(challenge))
    return fail('Missing or invalid code_challenge (PKCE is required)')
  const method = (one(q, 'code_challenge_method') ?? '').toLowerCase()
  if (method !== 's256' && method !== 'plain')
    return fail('code_challenge_method must be S256 or plain')
  return {
    ok: true,
    value: {
      clientId,
      redirectUri,
      scopes,
      challenge: { value: challenge, method: method === 's256' ? 'S256' : 'plain' },
      state: stateParam,
    },
  }
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;background:#000;color:#e7e9ea;margin:0;display:grid;place-items:center;min-height:100vh}main{background:#16181c;border-radius:16px;padding:32px;max-width:460px;width:90%}h1{font-size:22px}.badge{display:inline-block;background:#ffd400;color:#000;border-radius:6px;padding:2px 8px;font-size:12px;font-weight:700}fieldset{border:0;padding:0;margin:16px 0}legend{font-weight:700;margin-bottom:6px}label{display:flex;gap:10px;padding:10px;border:1px solid #2f3336;border-radius:8px;margin:6px 0;cursor:pointer}li{margin:4px 0}button{font:inherit;font-weight:700;padding:10px 24px;border-radius:999px;border:0;margin-right:8px;cursor:pointer}.allow{background:#eff3f4;color:#0f1419}.cancel{background:transparent;color:#eff3f4;border:1px solid #536471}small{color:#71767b}code{word-break:break-all}</style></head><body><main>${body}</main></body></html>`
}

/** `Basic base64(id:secret)` (RFC 6749 §2.3.1, form-encoded parts), else `null`. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const match = /^Basic +([A-Za-z0-9+/=]{1,4096}) *$/i.exec(header ?? '')
  if (match === null) return null
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')),
    }
  } catch {
    return null
  }
}

function pkceMatches(
  challenge: { value: string; method: 'S256' | 'plain' },
  verifier: string,
): boolean {
  const derived =
    challenge.method === 'S256'
      ? createHash('sha256').update(verifier).digest('base64url')
      : verifier
  return derived === challenge.value
}

export interface OAuthRouteDeps {
  readonly state: XEmulatorState
  readonly respond: Respond
  readonly applyFaults: ApplyFaults
}

export function oauthRoutes(deps: OAuthRouteDeps): (app: FastifyInstance) => void {
  const { state, respond, applyFaults } = deps
  const clock = state.clock

  function consentPage(v: AuthorizeRequest, query: unknown): string {
    const accounts = state.accounts
      .map(
        (a, i) =>
          `<label for="account-${a.index}"><input type="radio" id="account-${a.index}" name="account" value="${a.index}"${i === 0 ? ' checked' : ''}><span>${escapeHtml(a.name)}<br><small>@${escapeHtml(a.username)} · ${a.posts.length} posts</small></span></label>`,
      )
      .join('')
    const scopes = v.scopes
      .map(
        (s) =>
          `<li>${escapeHtml(KNOWN_SCOPES.get(s) ?? s)} <small><code>${escapeHtml(s)}</code></small></li>`,
      )
      .join('')
    const hidden = CARRIED.map((name) => {
      const value = one(query, name)
      return value === undefined
        ? ''
        : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`
    }).join('')
    return page(
      'Authorize app - X (sandbox)',
      `<span class="badge">SANDBOX · X emulator</span><h1>Phoenix Social Gallery wants to access your X account</h1>
<p><small>Nothing here talks to the real X. Client <code>${escapeHtml(v.clientId)}</code>.</small></p>
<form id="consent" method="post" action="authorize">${hidden}<fieldset id="accounts"><legend>X account</legend>${accounts}</fieldset>
<p>It will be able to:</p><ul id="scopes">${scopes}</ul>
<p><button class="allow" id="allow" name="decision" value="allow" type="submit">Authorize app</button><button class="cancel" id="cancel" name="decision" value="cancel" type="submit">Cancel</button></p></form>`,
    )
  }

  function errorPage(reply: FastifyReply, detail: string): FastifyReply {
    return reply
      .code(400)
      .type(HTML)
      .send(
        page(
          'Error - X (sandbox)',
          `<span class="badge">SANDBOX · X emulator</span><h1>Something went wrong</h1><p>You weren’t able to give access to the App. Go back and try logging in again.</p><p><small id="error-detail">${escapeHtml(detail)}</small></p>`,
        ),
      )
  }

  function tokenAnswer(
    accountIndex: number,
    grantId: string,
    scopes: string[],
  ): Record<string, unknown> {
    const body: Record<string, unknown> = {
      token_type: 'bearer',
      expires_in: ACCESS_TOKEN_EXPIRES_IN,
      access_token: state.issueToken('a', accountIndex, grantId, scopes),
      scope: scopes.join(' '),
    }
    if (scopes.includes('offline.access'))
      body.refresh_token = state.issueToken('r', accountIndex, grantId, scopes)
    return body
  }

  /** Confidential: HTTP Basic with the secret; public: `client_id` in the body (or Basic's id). */
  function authenticateClient(
    body: unknown,
    authorization: string | undefined,
    ctx: CallContext,
  ): void {
    const basic = basicCredentials(authorization)
    if (state.settings.clientType === 'confidential') {
      if (
        basic === null ||
        basic.id !== state.settings.clientId ||
        basic.secret !== state.settings.clientSecret
      )
        throw oauthError(401, 'unauthorized_client', 'Missing valid authorization header')
      ctx.clientId = basic.id
      return
    }
    const clientId = basic?.id ?? one(body, 'client_id')
    if (clientId === undefined || clientId === '')
      throw oauthError(400, 'invalid_request', 'Missing required parameter [client_id].')
    if (clientId !== state.settings.clientId)
      throw oauthError(400, 'invalid_request', 'Value passed for the client_id was invalid.')
    ctx.clientId = clientId
  }

  function exchangeCode(body: unknown, ctx: CallContext): Record<string, unknown> {
    const code = one(body, 'code')
    if (code === undefined || code === '')
      throw oauthError(400, 'invalid_request', 'Missing required parameter [code].')
    const issued = state.codes.get(code)
    if (issued === undefined || issued.clientId !== state.settings.clientId)
      throw oauthError(400, 'invalid_request', INVALID_CODE)
    ctx.accountIndex = issued.accountIndex
    if (issued.used) {
      // a code used twice revokes what it was exchanged for (RFC 6749 §4.1.2)
      state.revokeGrant(issued.grantId)
      throw oauthError(400, 'invalid_request', INVALID_CODE)
    }
    if (issued.expiresAt <= clock.now()) {
      state.codes.delete(code)
      throw oauthError(400, 'invalid_request', INVALID_CODE)
    }
    if (one(body, 'redirect_uri') !== issued.redirectUri)
      throw oauthError(
        400,
        'invalid_request',
        'Value passed for the redirect uri did not match the uri of the authorization code.',
      )
    const verifier = one(body, 'code_verifier')
    if (verifier === undefined || verifier === '')
      throw oauthError(400, 'invalid_request', 'Missing required parameter [code_verifier].')
    if (!PKCE_VALUE.test(verifier) || !pkceMatches(issued.challenge, verifier))
      throw oauthError(400, 'invalid_request', INVALID_CODE)
    if (state.accountByIndex(issued.accountIndex) === undefined)
      throw oauthError(400, 'invalid_request', INVALID_CODE)
    issued.used = true
    return tokenAnswer(issued.accountIndex, issued.grantId, issued.scopes)
  }

  function refresh(body: unknown, ctx: CallContext): Record<string, unknown> {
    const token = one(body, 'refresh_token')
    if (token === undefined || token === '')
      throw oauthError(400, 'invalid_request', 'Missing required parameter [refresh_token].')
    const claims = state.parseToken(token)
    if (claims === null || claims.k !== 'r') throw oauthError(400, 'invalid_request', INVALID_TOKEN)
    ctx.accountIndex = claims.a
    if (
      claims.c !== state.settings.clientId ||
      state.accountByIndex(claims.a) === undefined ||
      state.isRevoked(claims) ||
      !state.isCurrentRefresh(claims) ||
      isExpired(claims, clock.now())
    )
      throw oauthError(400, 'invalid_request', INVALID_TOKEN)
    // rotation: the answer's refresh token replaces the one sent, which stops working now
    return tokenAnswer(claims.a, claims.g, claims.p)
  }

  return (app) => {
    app.get('/i/oauth2/authorize', async (request, reply) => {
      const v = validateAuthorize(request.query, state)
      if (!v.ok) return errorPage(reply, v.detail)
      return reply.type(HTML).send(consentPage(v.value, request.query))
    })

    app.post('/i/oauth2/authorize', async (request, reply) => {
      const body: unknown = request.body
      const v = validateAuthorize(body, state)
      if (!v.ok) return errorPage(reply, v.detail)
      const target = new URL(v.value.redirectUri)
      if (one(body, 'decision') !== 'allow') {
        target.searchParams.set('error', 'access_denied')
        target.searchParams.set('state', v.value.state)
        return reply.redirect(target.toString(), 302)
      }
      const raw = one(body, 'account') ?? ''
      const account = /^\d{1,9}$/.test(raw) ? state.accountByIndex(Number(raw)) : undefined
      if (account === undefined) return errorPage(reply, 'No such X account')
      const code = state.issueCode({
        accountIndex: account.index,
        clientId: v.value.clientId,
        redirectUri: v.value.redirectUri,
        scopes: v.value.scopes,
        challenge: v.value.challenge,
      })
      target.searchParams.set('state', v.value.state)
      target.searchParams.set('code', code)
      return reply.redirect(target.toString(), 302)
    })

    app.post('/2/oauth2/token', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        await applyFaults('/2/oauth2/token', ctx.headers)
        const body: unknown = request.body
        authenticateClient(body, request.headers.authorization, ctx)
        const grantType = one(body, 'grant_type')
        if (grantType === 'authorization_code') return { body: exchangeCode(body, ctx) }
        if (grantType === 'refresh_token') return { body: refresh(body, ctx) }
        throw oauthError(400, 'invalid_request', 'Missing or invalid grant_type.')
      }),
    )

    app.post('/2/oauth2/revoke', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        await applyFaults('/2/oauth2/revoke', ctx.headers)
        const body: unknown = request.body
        authenticateClient(body, request.headers.authorization, ctx)
        const token = one(body, 'token')
        if (token === undefined || token === '')
          throw oauthError(400, 'invalid_request', 'Missing required parameter [token].')
        const claims = state.parseToken(token)
        // like RFC 7009 §2.2, an unknown or already invalid token is answered as revoked
        if (claims !== null && claims.c === state.settings.clientId) {
          ctx.accountIndex = claims.a
          state.revokeGrant(claims.g)
        }
        return { body: { revoked: true } }
      }),
    )
  }
}
