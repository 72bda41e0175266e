/**
 * @module providers/tiktok/emulator/oauth-routes — TikTok Login Kit v2 for the web:
 * - `GET  /v2/auth/authorize/` — the consent page (www.tiktok.com): choose a demo TikTok account,
 *   untick optional permissions, Authorize or Cancel; `POST` is its form
 * - `POST /v2/oauth/token/` — code exchange (PKCE S256) and refresh, which rotates
 * - `POST /v2/oauth/revoke/` — revokes the grant behind a token
 *
 * and `authenticate`, how every v2 API call checks its access token.
 *
 * What the emulator models (providers.md §2.1): `client_key` (not `client_id`), comma-separated
 * scopes, exact redirect URI match (an unknown client or redirect URI gets an error page, never a
 * redirect), `state` echoed, the callback's `code`, `scopes`, `state` or `error=access_denied`
 * with `error_description`; an S256 `code_challenge` required (TikTok requires PKCE for mobile
 * and desktop; the emulator requires it on the web too unless `requirePkce` is false); the token
 * endpoint takes the client credentials in the form body and answers flat JSON with `open_id`,
 * `expires_in` and `refresh_expires_in` as remaining seconds (2 h / 180 d, or 24 h / 365 d with
 * `lifetimes: 'legacy'`); each refresh returns a new refresh token and the previous one stops
 * working at once (`invalid_grant`), the refresh token's end staying where the consent set it;
 * codes are single use (a reused code also revokes what it was exchanged for, RFC 6749 §4.1.2)
 * and live ten minutes. OAuth errors are `{error, error_description, log_id}`, with HTTP 400 or
 * 200 (`oauthErrorStatus`).
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { escapeHtml } from '../../../html.ts'
import { one } from '../../emulator-core/query.ts'
import { isExpired } from '../../emulator-core/tokens.ts'
import { accessTokenInvalid, oauthError, type CallContext, type Respond } from './errors.ts'
import type { ApplyFaults } from './faults.ts'
import {
  LIFETIMES,
  type Grant,
  type TiktokAccount,
  type TiktokEmulatorState,
  type TokenClaims,
} from './state.ts'

const HTML = 'text/html; charset=utf-8'

/** The scopes TikTok knows (those a Display API app may ask for), with their consent wording. */
export const KNOWN_SCOPES: ReadonlyMap<string, string> = new Map([
  ['user.info.basic', 'Read your profile info (avatar, display name)'],
  ['user.info.profile', 'Read your profile details (username, bio, profile link)'],
  ['user.info.stats', 'Read your profile stats (likes, followers, videos)'],
  ['video.list', 'Read your public videos'],
  ['video.upload', 'Upload content to TikTok as drafts'],
  ['video.publish', 'Post content to TikTok'],
])
/** Granted with any consent: the consent screen has no way to untick it. */
const BASIC_SCOPE = 'user.info.basic'

/** RFC 7636 §4.1-4.2: 43-128 characters of the unreserved set. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/

export type Authenticate = (authorization: string | undefined) => {
  account: TiktokAccount
  claims: TokenClaims
}

/** Checks `Authorization: Bearer act.…` for a v2 API call; throws 401 `access_token_invalid`. */
export function createAuthenticator(state: TiktokEmulatorState): Authenticate {
  return (authorization) => {
    const token = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1]
    const claims = token === undefined ? null : state.parseToken(token)
    if (claims === null || claims.k !== 'a' || claims.c !== state.settings.clientKey)
      throw accessTokenInvalid()
    const account = state.accountByIndex(claims.a)
    if (
      account === undefined ||
      state.isRevoked(claims) ||
      claims.i < state.accessExpiredBefore ||
      isExpired(claims, state.clock.now())
    )
      throw accessTokenInvalid()
    return { account, claims }
  }
}

interface AuthorizeRequest {
  readonly clientKey: string
  readonly redirectUri: string
  readonly scopes: string[]
  readonly challenge: string | null
  readonly state: string | undefined
}

type Validated =
  | { ok: true; value: AuthorizeRequest }
  /** An error page; never a redirect (the redirect URI may not be the client's). */
  | { ok: false; error: string; detail: string }

/** The parameters the consent form carries through its hidden fields. */
const CARRIED = [
  'client_key',
  'redirect_uri',
  'response_type',
  'scope',
  'code_challenge',
  'code_challenge_method',
  'state',
] as const

const MAX_PARAM = 2048

export function validateAuthorize(q: unknown, state: TiktokEmulatorState): Validated {
  const fail = (error: string, detail: string): Validated => ({ ok: false, error, detail })
  for (const name of CARRIED) {
    if ((one(q, name)?.length ?? 0) > MAX_PARAM)
      return fail('invalid_request', `Parameter too long: ${name}`)
  }
  const clientKey = one(q, 'client_key')
  if (clientKey === undefined || clientKey === '')
    return fail('invalid_request', 'client_key is required')
  if (clientKey !== state.settings.clientKey) return fail('invalid_client', 'client_key is invalid')
  const redirectUri = one(q, 'redirect_uri')
  if (redirectUri === undefined || !state.settings.redirectUris.includes(redirectUri))
    return fail('invalid_request', 'redirect_uri does not match any registered redirect URI')
  const responseType = one(q, 'response_type')
  if (responseType !== 'code')
    return fail('unsupported_response_type', 'response_type must be code')
  const scopes = [
    ...new Set(
      (one(q, 'scope') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ]
  if (scopes.length === 0) return fail('invalid_scope', 'scope is required')
  const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s))
  if (unknown.length > 0) return fail('invalid_scope', `Unknown scope: ${unknown.join(',')}`)
  const challenge = one(q, 'code_challenge')
  const method = one(q, 'code_challenge_method')
  if (challenge === undefined || challenge === '') {
    if (state.settings.requirePkce)
      return fail('invalid_request', 'code_challenge is required (PKCE, S256)')
    if (method !== undefined) return fail('invalid_request', 'code_challenge is required')
  } else {
    if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256')
    if (!PKCE_VALUE.test(challenge)) return fail('invalid_request', 'code_challenge is invalid')
  }
  return {
    ok: true,
    value: {
      clientKey,
      redirectUri,
      scopes,
      challenge: challenge === undefined || challenge === '' ? null : challenge,
      state: one(q, 'state'),
    },
  }
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;background:#f1f1f2;margin:0;display:grid;place-items:center;min-height:100vh;color:#161823}main{background:#fff;border-radius:12px;padding:32px;max-width:460px;width:90%}h1{font-size:22px}.badge{display:inline-block;background:#25f4ee;border-radius:6px;padding:2px 8px;font-size:12px;font-weight:600}fieldset{border:0;padding:0;margin:16px 0}legend{font-weight:600;margin-bottom:6px}label{display:flex;gap:10px;align-items:flex-start;padding:10px;border:1px solid #e3e3e4;border-radius:8px;margin:6px 0;cursor:pointer}button{font:inherit;padding:10px 24px;border-radius:6px;border:0;margin-right:8px;cursor:pointer}.allow{background:#fe2c55;color:#fff}.cancel{background:#fff;color:#161823;border:1px solid #a6a6a9}small{color:#555}code{word-break:break-all}</style></head><body><main>${body}</main></body></html>`
}

function errorPage(v: { error: string; detail: string }): string {
  return page(
    'Error',
    `<span class="badge">SANDBOX · TikTok emulator</span><h1>Something went wrong</h1><p>${escapeHtml(v.detail)}</p><p><strong id="error-code">${escapeHtml(v.error)}</strong></p>`,
  )
}

/** Ticked scopes from the form (one value or a repeated field), only requested ones, basic always. */
function tickedScopes(body: unknown, requested: readonly string[]): string[] {
  const raw =
    typeof body === 'object' && body !== null
      ? (body as Record<string, unknown>).granted_scope
      : undefined
  const values = (Array.isArray(raw) ? raw : [raw]).filter(
    (v): v is string => typeof v === 'string',
  )
  return requested.filter((s) => s === BASIC_SCOPE || values.includes(s))
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}

export interface OAuthRouteDeps {
  readonly state: TiktokEmulatorState
  readonly respond: Respond
  readonly applyFaults: ApplyFaults
}

/** Registers the consent page, the token and the revoke endpoints on the emulator's plugin. */
export function oauthRoutes(deps: OAuthRouteDeps): (app: FastifyInstance) => void {
  const { state, respond, applyFaults } = deps
  const clock = state.clock
  const fail = (error: string, description: string) => oauthError(state, error, description)

  function consentPage(v: AuthorizeRequest, query: unknown): string {
    const accounts = state.accounts
      .map(
        (a, i) =>
          `<label for="account-${a.index}"><input type="radio" id="account-${a.index}" name="account" value="${a.index}"${i === 0 ? ' checked' : ''}><span>${escapeHtml(a.displayName)}<br><small>@${escapeHtml(a.username)} · ${a.videos.filter((x) => x.privacy === 'public').length} public videos</small></span></label>`,
      )
      .join('')
    const scopes = v.scopes
      .map((s, i) => {
        const fixed = s === BASIC_SCOPE
        return `<label for="scope-${i}"><input type="checkbox" id="scope-${i}" name="granted_scope" value="${escapeHtml(s)}" checked${fixed ? ' disabled' : ''}><span>${escapeHtml(KNOWN_SCOPES.get(s) ?? s)}<br><small><code>${escapeHtml(s)}</code>${fixed ? ' · required' : ''}</small></span></label>`
      })
      .join('')
    const hidden = CARRIED.map((name) => {
      const value = one(query, name)
      return value === undefined
        ? ''
        : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`
    }).join('')
    return page(
      'Log in | TikTok (sandbox)',
      `<span class="badge">SANDBOX · TikTok emulator</span><h1>Phoenix Social Gallery would like to access your TikTok account</h1>
<p><small>Nothing here talks to the real TikTok. Client key <code>${escapeHtml(v.clientKey)}</code>.</small></p>
<form id="consent" method="post" action="./">${hidden}<fieldset id="accounts"><legend>TikTok account</legend>${accounts}</fieldset>
<fieldset id="scopes"><legend>This app will be able to</legend>${scopes}</fieldset>
<p><button class="allow" id="allow" name="decision" value="allow" type="submit">Authorize</button><button class="cancel" id="cancel" name="decision" value="cancel" type="submit">Cancel</button></p></form>`,
    )
  }

  function sendErrorPage(reply: FastifyReply, v: { error: string; detail: string }) {
    return reply.code(400).type(HTML).send(errorPage(v))
  }

  /** TikTok's flat token answer; lifetimes are remaining seconds. */
  function tokenAnswer(grantId: string, grant: Grant): Record<string, unknown> {
    const now = clock.now()
    const account = state.accountByIndex(grant.accountIndex)
    return {
      access_token: state.issueToken('a', grantId, grant),
      expires_in: Math.floor(LIFETIMES[state.settings.lifetimes].accessMs / 1000),
      open_id: account?.openId ?? '',
      refresh_expires_in: Math.max(1, Math.round((grant.refreshExpiresAt - now) / 1000)),
      refresh_token: state.issueToken('r', grantId, grant),
      scope: grant.scopes.join(','),
      token_type: 'Bearer',
    }
  }

  function authenticateClient(body: unknown, ctx: CallContext): void {
    const clientKey = one(body, 'client_key')
    if (clientKey === undefined || clientKey === '')
      throw fail('invalid_request', 'client_key is required.')
    if (clientKey !== state.settings.clientKey)
      throw fail('invalid_client', 'Client key or secret is invalid.')
    ctx.clientKey = clientKey
    if (one(body, 'client_secret') !== state.settings.clientSecret)
      throw fail('invalid_client', 'Client key or secret is invalid.')
  }

  function exchangeCode(body: unknown, ctx: CallContext): Record<string, unknown> {
    const code = one(body, 'code')
    if (code === undefined || code === '') throw fail('invalid_request', 'code is required.')
    const issued = state.codes.get(code)
    if (issued === undefined || issued.clientKey !== state.settings.clientKey)
      throw fail('invalid_grant', 'Authorization code is invalid.')
    ctx.accountIndex = issued.accountIndex
    if (issued.used) {
      // RFC 6749 §4.1.2: a code used twice revokes what it was exchanged for
      state.revokeGrant(issued.grantId)
      throw fail('invalid_grant', 'Authorization code is expired or has been used.')
    }
    if (issued.expiresAt <= clock.now()) {
      state.codes.delete(code)
      throw fail('invalid_grant', 'Authorization code is expired or has been used.')
    }
    if (one(body, 'redirect_uri') !== issued.redirectUri)
      throw fail('invalid_request', 'redirect_uri does not match the authorization request.')
    const verifier = one(body, 'code_verifier')
    if (issued.challenge !== null) {
      if (
        verifier === undefined ||
        !PKCE_VALUE.test(verifier) ||
        s256(verifier) !== issued.challenge
      )
        throw fail('invalid_request', 'Code verifier or code challenge is invalid.')
    }
    if (state.accountByIndex(issued.accountIndex) === undefined)
      throw fail('invalid_grant', 'Authorization code is invalid.')
    issued.used = true
    const grant: Grant = {
      accountIndex: issued.accountIndex,
      scopes: issued.scopes,
      refreshExpiresAt: clock.now() + LIFETIMES[state.settings.lifetimes].refreshMs,
      generation: 1,
    }
    state.addGrant(issued.grantId, grant)
    return tokenAnswer(issued.grantId, grant)
  }

  function refresh(body: unknown, ctx: CallContext): Record<string, unknown> {
    const token = one(body, 'refresh_token')
    if (token === undefined || token === '')
      throw fail('invalid_request', 'refresh_token is required.')
    const claims = state.parseToken(token)
    if (claims === null || claims.k !== 'r' || claims.c !== state.settings.clientKey)
      throw fail('invalid_grant', 'Refresh token is invalid.')
    ctx.accountIndex = claims.a
    if (
      state.accountByIndex(claims.a) === undefined ||
      state.isRevoked(claims) ||
      claims.i < state.refreshExpiredBefore ||
      isExpired(claims, clock.now())
    )
      throw fail('invalid_grant', 'Refresh token is invalid or expired.')
    // a grant the emulator does not know (restarted) adopts the generation first presented
    const grant: Grant = state.grants.get(claims.g) ?? {
      accountIndex: claims.a,
      scopes: claims.p,
      refreshExpiresAt: claims.e,
      generation: claims.r,
    }
    if (claims.r !== grant.generation)
      throw fail('invalid_grant', 'Refresh token is invalid or expired.')
    // rotation: the presented refresh token stops working now
    grant.generation += 1
    state.addGrant(claims.g, grant)
    return tokenAnswer(claims.g, grant)
  }

  return (app) => {
    app.get('/v2/auth/authorize/', async (request, reply) => {
      const v = validateAuthorize(request.query, state)
      if (!v.ok) return sendErrorPage(reply, v)
      return reply.type(HTML).send(consentPage(v.value, request.query))
    })

    app.post('/v2/auth/authorize/', async (request, reply) => {
      const body: unknown = request.body
      const v = validateAuthorize(body, state)
      if (!v.ok) return sendErrorPage(reply, v)
      const target = new URL(v.value.redirectUri)
      if (one(body, 'decision') !== 'allow') {
        target.searchParams.set('error', 'access_denied')
        target.searchParams.set('error_description', 'The user denied the authorization request.')
        if (v.value.state !== undefined) target.searchParams.set('state', v.value.state)
        return reply.redirect(target.toString(), 302)
      }
      const raw = one(body, 'account') ?? ''
      const account = /^\d{1,9}$/.test(raw) ? state.accountByIndex(Number(raw)) : undefined
      if (account === undefined)
        return reply
          .code(400)
          .type(HTML)
          .send(page('Error', '<h1>Choose an account</h1><p>No such TikTok account.</p>'))
      const granted = tickedScopes(body, v.value.scopes)
      const code = state.issueCode({
        accountIndex: account.index,
        clientKey: v.value.clientKey,
        redirectUri: v.value.redirectUri,
        scopes: granted,
        challenge: v.value.challenge,
      })
      target.searchParams.set('code', code)
      target.searchParams.set('scopes', granted.join(','))
      if (v.value.state !== undefined) target.searchParams.set('state', v.value.state)
      return reply.redirect(target.toString(), 302)
    })

    app.post('/v2/oauth/token/', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        await applyFaults('/v2/oauth/token/')
        const body: unknown = request.body
        authenticateClient(body, ctx)
        const grantType = one(body, 'grant_type')
        if (grantType === 'authorization_code') return { body: exchangeCode(body, ctx) }
        if (grantType === 'refresh_token') return { body: refresh(body, ctx) }
        throw fail(
          grantType === undefined || grantType === ''
            ? 'invalid_request'
            : 'unsupported_grant_type',
          grantType === undefined || grantType === ''
            ? 'grant_type is required.'
            : 'grant_type is not supported.',
        )
      }),
    )

    app.post('/v2/oauth/revoke/', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        await applyFaults('/v2/oauth/revoke/')
        const body: unknown = request.body
        authenticateClient(body, ctx)
        const token = one(body, 'token')
        if (token === undefined || token === '') throw fail('invalid_request', 'token is required.')
        const claims = state.parseToken(token)
        // RFC 7009 §2.2: a token that is invalid already answers like a revoked one
        if (claims !== null && claims.c === state.settings.clientKey) {
          ctx.accountIndex = claims.a
          state.revokeGrant(claims.g)
        }
        return { body: {} }
      }),
    )
  }
}
