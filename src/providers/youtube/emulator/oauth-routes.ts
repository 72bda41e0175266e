/**
 * @module providers/youtube/emulator/oauth-routes — Google's OAuth 2.0 for web server apps:
 * - `GET  /o/oauth2/v2/auth` — the consent page (accounts.google.com): choose a demo Google
 *   account, untick scopes (granular consent), Allow or Cancel; `POST` is its form
 * - `POST /token` — code exchange (PKCE S256/plain) and refresh (oauth2.googleapis.com)
 * - `POST /revoke` — revokes a grant, from its access or refresh token
 *
 * and `authenticate`, how every Data API call checks its access token.
 *
 * What Google does and the emulator models: an unknown client or an unregistered redirect URI
 * gets an error page and never a redirect; a code lives ten minutes and is single-use, and a
 * reused code also revokes the tokens issued from it (RFC 6749 §4.1.2); a refresh token comes
 * only with `access_type=offline` on the first consent (or with `prompt=consent`) and does not
 * rotate; revoking either token revokes the whole grant; in a project "in Testing" refresh
 * tokens die 7 days after issue. Errors are Google's `{error, error_description}` with Google's
 * statuses and wording (`invalid_grant` "Bad Request", "Malformed auth code.", "Missing code
 * verifier.", "Invalid code verifier.", "Token has been expired or revoked."; `invalid_client`
 * 401 "The OAuth client was not found." / "Unauthorized").
 */
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { escapeHtml } from '../../../html.ts'
import { YOUTUBE_READONLY_SCOPE } from '../config.ts'
import { one } from '../../emulator-core/query.ts'
import { isExpired } from '../../emulator-core/tokens.ts'
import { authError, oauthError, type CallContext, type Respond } from './errors.ts'
import type { ApplyFaults } from './faults.ts'
import {
  ACCESS_TOKEN_EXPIRES_IN,
  TESTING_REFRESH_TTL_MS,
  type GoogleAccount,
  type TokenClaims,
  type YoutubeEmulatorState,
} from './state.ts'

const HTML = 'text/html; charset=utf-8'

/** Scopes Google knows (of those a YouTube app may ask for), in their full form. */
const KNOWN_SCOPES: ReadonlyMap<string, string> = new Map([
  [YOUTUBE_READONLY_SCOPE, 'View your YouTube account'],
  ['https://www.googleapis.com/auth/youtube', 'Manage your YouTube account'],
  ['https://www.googleapis.com/auth/youtube.upload', 'Manage your YouTube videos'],
  [
    'https://www.googleapis.com/auth/youtube.force-ssl',
    'See, edit, and permanently delete your YouTube videos, ratings, comments and captions',
  ],
  ['openid', 'Associate you with your personal info on Google'],
  ['email', 'See your primary Google Account email address'],
  ['profile', 'See your personal info, including any personal info you’ve made publicly available'],
  [
    'https://www.googleapis.com/auth/userinfo.email',
    'See your primary Google Account email address',
  ],
  ['https://www.googleapis.com/auth/userinfo.profile', 'See your personal info'],
])

/** RFC 7636 §4.1-4.2: 43-128 characters of the unreserved set. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/
/** What a code issued here looks like; anything else is "Malformed auth code." */
const CODE_SHAPE = /^4\/0A[A-Za-z0-9_-]{20,200}$/

export type Authenticate = (token: string | undefined) => {
  account: GoogleAccount
  claims: TokenClaims
}

/** Checks an access token for a Data API call; throws 401 `authError` as Google does. */
export function createAuthenticator(state: YoutubeEmulatorState): Authenticate {
  return (token) => {
    const claims = token === undefined || token === '' ? null : state.parseToken(token)
    if (claims === null || claims.k !== 'a' || claims.c !== state.settings.clientId)
      throw authError()
    const account = state.accountByIndex(claims.a)
    if (
      account === undefined ||
      state.isRevoked(claims) ||
      claims.i < state.accessExpiredBefore ||
      isExpired(claims, state.clock.now())
    )
      throw authError()
    return { account, claims }
  }
}

interface AuthorizeRequest {
  readonly clientId: string
  readonly redirectUri: string
  readonly scopes: string[]
  readonly challenge: { value: string; method: 'S256' | 'plain' } | null
  readonly accessType: 'online' | 'offline'
  readonly prompt: string[]
  readonly includeGrantedScopes: boolean
  readonly loginHint: string | undefined
  readonly state: string | undefined
}

type Validated =
  | { ok: true; value: AuthorizeRequest }
  /** An error page; never a redirect (the redirect URI may not be the client's). */
  | { ok: false; status: number; error: string; detail: string }

/** The parameters the consent form carries through its hidden fields. */
const CARRIED = [
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'code_challenge',
  'code_challenge_method',
  'access_type',
  'prompt',
  'include_granted_scopes',
  'login_hint',
  'state',
] as const

/** Long enough for any real value, short enough that the page stays small. */
const MAX_PARAM = 2048

export function validateAuthorize(q: unknown, state: YoutubeEmulatorState): Validated {
  const fail = (status: number, error: string, detail: string): Validated => ({
    ok: false,
    status,
    error,
    detail,
  })
  for (const name of CARRIED) {
    if ((one(q, name)?.length ?? 0) > MAX_PARAM)
      return fail(400, 'invalid_request', `Parameter too long: ${name}`)
  }
  const clientId = one(q, 'client_id')
  if (clientId === undefined || clientId === '')
    return fail(400, 'invalid_request', 'Missing required parameter: client_id')
  if (clientId !== state.settings.clientId)
    return fail(401, 'invalid_client', 'The OAuth client was not found.')
  const redirectUri = one(q, 'redirect_uri')
  if (redirectUri === undefined || redirectUri === '')
    return fail(400, 'invalid_request', 'Missing required parameter: redirect_uri')
  if (!state.settings.redirectUris.includes(redirectUri))
    return fail(
      400,
      'redirect_uri_mismatch',
      `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. If you're the app developer, register the redirect URI in the Google Cloud Console. Request details: redirect_uri=${redirectUri}`,
    )
  const responseType = one(q, 'response_type')
  if (responseType === undefined || responseType === '')
    return fail(400, 'invalid_request', 'Required parameter is missing: response_type')
  if (responseType !== 'code')
    return fail(400, 'unsupported_response_type', `Invalid response_type: ${responseType}`)
  const scopeText = one(q, 'scope')
  const scopes = [...new Set((scopeText ?? '').split(' ').filter((s) => s !== ''))]
  if (scopes.length === 0) return fail(400, 'invalid_request', 'Missing required parameter: scope')
  const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s))
  if (unknown.length > 0)
    return fail(
      400,
      'invalid_scope',
      `Some requested scopes were invalid. {invalid=[${unknown.join(', ')}]}`,
    )
  if (!scopes.includes(YOUTUBE_READONLY_SCOPE))
    return fail(
      400,
      'invalid_scope',
      `This emulator serves the YouTube Data API read side: ask for ${YOUTUBE_READONLY_SCOPE}`,
    )
  const challengeValue = one(q, 'code_challenge')
  const methodRaw = one(q, 'code_challenge_method')
  let challenge: AuthorizeRequest['challenge'] = null
  if (challengeValue !== undefined) {
    // Google's default method is plain
    const method = methodRaw ?? 'plain'
    if (method !== 'S256' && method !== 'plain')
      return fail(400, 'invalid_request', 'Invalid code_challenge_method value.')
    if (!PKCE_VALUE.test(challengeValue))
      return fail(400, 'invalid_request', 'Invalid code_challenge value.')
    challenge = { value: challengeValue, method }
  } else if (methodRaw !== undefined) {
    return fail(400, 'invalid_request', 'Missing required parameter: code_challenge')
  }
  const accessType = one(q, 'access_type') ?? 'online'
  if (accessType !== 'online' && accessType !== 'offline')
    return fail(400, 'invalid_request', `Invalid access_type: ${accessType}`)
  const prompt = (one(q, 'prompt') ?? '').split(' ').filter((p) => p !== '')
  if (prompt.some((p) => p !== 'none' && p !== 'consent' && p !== 'select_account'))
    return fail(400, 'invalid_request', `Invalid prompt: ${prompt.join(' ')}`)
  if (prompt.includes('none') && prompt.length > 1)
    return fail(400, 'invalid_request', 'prompt=none cannot be combined with other values')
  const include = one(q, 'include_granted_scopes')
  if (include !== undefined && include !== 'true' && include !== 'false')
    return fail(400, 'invalid_request', `Invalid include_granted_scopes: ${include}`)
  return {
    ok: true,
    value: {
      clientId,
      redirectUri,
      scopes,
      challenge,
      accessType,
      prompt,
      includeGrantedScopes: include === 'true',
      loginHint: one(q, 'login_hint'),
      state: one(q, 'state'),
    },
  }
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,Roboto,sans-serif;background:#f0f4f9;margin:0;display:grid;place-items:center;min-height:100vh;color:#1f1f1f}main{background:#fff;border-radius:28px;padding:36px;max-width:460px;width:90%}h1{font-size:24px;font-weight:400}.badge{display:inline-block;background:#ffe08a;border-radius:6px;padding:2px 8px;font-size:12px;font-weight:600}fieldset{border:0;padding:0;margin:16px 0}legend{font-weight:600;margin-bottom:6px}label{display:flex;gap:10px;align-items:flex-start;padding:10px;border:1px solid #dadce0;border-radius:8px;margin:6px 0;cursor:pointer}button{font:inherit;padding:10px 24px;border-radius:20px;border:0;margin-right:8px;cursor:pointer}.allow{background:#0b57d0;color:#fff}.cancel{background:#fff;color:#0b57d0;border:1px solid #747775}small{color:#444746}code{word-break:break-all}</style></head><body><main>${body}</main></body></html>`
}

function errorPage(v: { status: number; error: string; detail: string }): string {
  return page(
    'Error',
    `<span class="badge">SANDBOX · Google emulator</span><h1>Access blocked: Authorization Error</h1><p>${escapeHtml(v.detail)}</p><p><strong id="error-code">Error ${v.status}: ${escapeHtml(v.error)}</strong></p>`,
  )
}

/** Ticked scopes from the form: one value or a repeated field, only ones that were requested. */
function tickedScopes(body: unknown, requested: readonly string[]): string[] {
  const raw =
    typeof body === 'object' && body !== null
      ? (body as Record<string, unknown>).granted_scope
      : undefined
  const values = (Array.isArray(raw) ? raw : [raw]).filter(
    (v): v is string => typeof v === 'string',
  )
  return requested.filter((s) => values.includes(s))
}

/** `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1), else `null`. */
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

function pkceMatches(challenge: { value: string; method: 'S256' | 'plain' }, verifier: string) {
  const derived =
    challenge.method === 'S256'
      ? createHash('sha256').update(verifier).digest('base64url')
      : verifier
  return derived === challenge.value
}

const REVOKED = 'Token has been expired or revoked.'

export interface OAuthRouteDeps {
  readonly state: YoutubeEmulatorState
  readonly respond: Respond
  readonly applyFaults: ApplyFaults
}

/** Registers the consent page, `/token` and `/revoke` on the emulator's plugin. */
export function oauthRoutes(deps: OAuthRouteDeps): (app: FastifyInstance) => void {
  const { state, respond, applyFaults } = deps
  const clock = state.clock

  function consentPage(v: AuthorizeRequest, query: unknown): string {
    const hint = state.accounts.find((a) => a.email === v.loginHint)
    const chosen = hint ?? state.accounts[0]
    const accounts = state.accounts
      .map(
        (a) =>
          `<label for="account-${a.index}"><input type="radio" id="account-${a.index}" name="account" value="${a.index}"${a === chosen ? ' checked' : ''}><span>${escapeHtml(a.name)}<br><small>${escapeHtml(a.email)} · ${a.channel === null ? 'no YouTube channel' : `${escapeHtml(a.channel.title)} (${escapeHtml(a.channel.customUrl)})`}</small></span></label>`,
      )
      .join('')
    const scopes = v.scopes
      .map(
        (s, i) =>
          `<label for="scope-${i}"><input type="checkbox" id="scope-${i}" name="granted_scope" value="${escapeHtml(s)}" checked><span>${escapeHtml(KNOWN_SCOPES.get(s) ?? s)}<br><small><code>${escapeHtml(s)}</code></small></span></label>`,
      )
      .join('')
    const hidden = CARRIED.map((name) => {
      const value = one(query, name)
      return value === undefined
        ? ''
        : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`
    }).join('')
    return page(
      'Sign in - Google Accounts (sandbox)',
      `<span class="badge">SANDBOX · Google emulator</span><h1>Choose an account to continue to Phoenix Social Gallery</h1>
<p><small>Nothing here talks to the real Google. Client <code>${escapeHtml(v.clientId)}</code>.</small></p>
<form id="consent" method="post" action="auth">${hidden}<fieldset id="accounts"><legend>Google account</legend>${accounts}</fieldset>
<fieldset id="scopes"><legend>Phoenix Social Gallery wants to access your Google Account</legend>${scopes}</fieldset>
<p><button class="allow" id="allow" name="decision" value="allow" type="submit">Allow</button><button class="cancel" id="cancel" name="decision" value="cancel" type="submit">Cancel</button></p></form>`,
    )
  }

  function sendErrorPage(
    reply: FastifyReply,
    v: { status: number; error: string; detail: string },
  ): FastifyReply {
    return reply.code(v.status).type(HTML).send(errorPage(v))
  }

  function tokenAnswer(
    accountIndex: number,
    grantId: string,
    scopes: string[],
    withRefresh: boolean,
  ): Record<string, unknown> {
    const body: Record<string, unknown> = {
      access_token: state.issueToken('a', accountIndex, grantId, scopes),
      expires_in: ACCESS_TOKEN_EXPIRES_IN,
    }
    if (withRefresh) {
      body.refresh_token = state.issueToken('r', accountIndex, grantId, scopes)
    }
    body.scope = scopes.join(' ')
    body.token_type = 'Bearer'
    if (withRefresh && state.settings.publishingStatus === 'testing')
      body.refresh_token_expires_in = TESTING_REFRESH_TTL_MS / 1000 - 1
    return body
  }

  function authenticateClient(body: unknown, authorization: string | undefined, ctx: CallContext) {
    const basic = basicCredentials(authorization)
    const clientId = basic?.id ?? one(body, 'client_id')
    const secret = basic?.secret ?? one(body, 'client_secret')
    if (clientId === undefined || clientId === '')
      throw oauthError(400, 'invalid_request', 'Could not determine client ID from request.')
    if (clientId !== state.settings.clientId)
      throw oauthError(401, 'invalid_client', 'The OAuth client was not found.')
    ctx.clientId = clientId
    if (secret !== state.settings.clientSecret)
      throw oauthError(401, 'invalid_client', 'Unauthorized')
  }

  function exchangeCode(body: unknown, ctx: CallContext): Record<string, unknown> {
    const code = one(body, 'code')
    if (code === undefined || code === '')
      throw oauthError(400, 'invalid_request', 'Missing required parameter: code')
    if (!CODE_SHAPE.test(code)) throw oauthError(400, 'invalid_grant', 'Malformed auth code.')
    const issued = state.codes.get(code)
    if (issued === undefined || issued.clientId !== state.settings.clientId)
      throw oauthError(400, 'invalid_grant', 'Bad Request')
    ctx.accountIndex = issued.accountIndex
    if (issued.used) {
      // RFC 6749 §4.1.2: a code used twice revokes what it was exchanged for
      state.revokeGrant(issued.grantId, issued.accountIndex)
      throw oauthError(400, 'invalid_grant', 'Bad Request')
    }
    if (issued.expiresAt <= clock.now()) {
      state.codes.delete(code)
      throw oauthError(400, 'invalid_grant', 'Bad Request')
    }
    const redirectUri = one(body, 'redirect_uri')
    if (redirectUri === undefined || redirectUri === '')
      throw oauthError(400, 'invalid_request', 'Missing parameter: redirect_uri')
    if (redirectUri !== issued.redirectUri)
      throw oauthError(400, 'redirect_uri_mismatch', 'Bad Request')
    const verifier = one(body, 'code_verifier')
    if (issued.challenge !== null) {
      if (verifier === undefined || verifier === '')
        throw oauthError(400, 'invalid_grant', 'Missing code verifier.')
      if (!PKCE_VALUE.test(verifier) || !pkceMatches(issued.challenge, verifier))
        throw oauthError(400, 'invalid_grant', 'Invalid code verifier.')
    } else if (verifier !== undefined) {
      throw oauthError(400, 'invalid_grant', 'code_verifier or verifier is not needed.')
    }
    if (state.accountByIndex(issued.accountIndex) === undefined)
      throw oauthError(400, 'invalid_grant', 'Bad Request')
    issued.used = true
    return tokenAnswer(issued.accountIndex, issued.grantId, issued.scopes, issued.offline)
  }

  function refresh(body: unknown, ctx: CallContext): Record<string, unknown> {
    const token = one(body, 'refresh_token')
    if (token === undefined || token === '')
      throw oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token')
    const claims = state.parseToken(token)
    if (claims === null || claims.k !== 'r') throw oauthError(400, 'invalid_grant', 'Bad Request')
    ctx.accountIndex = claims.a
    if (
      claims.c !== state.settings.clientId ||
      state.accountByIndex(claims.a) === undefined ||
      state.isRevoked(claims) ||
      isExpired(claims, clock.now())
    )
      throw oauthError(400, 'invalid_grant', REVOKED)
    // the refresh token does not rotate: the answer carries none
    return tokenAnswer(claims.a, claims.g, claims.p, false)
  }

  return (app) => {
    app.get('/o/oauth2/v2/auth', async (request, reply) => {
      const v = validateAuthorize(request.query, state)
      if (!v.ok) return sendErrorPage(reply, v)
      if (v.value.prompt.includes('none')) {
        // no Google session in the emulator: the person must interact
        const target = new URL(v.value.redirectUri)
        if (v.value.state !== undefined) target.searchParams.set('state', v.value.state)
        target.searchParams.set('error', 'interaction_required')
        return reply.redirect(target.toString(), 302)
      }
      return reply.type(HTML).send(consentPage(v.value, request.query))
    })

    app.post('/o/oauth2/v2/auth', async (request, reply) => {
      const body: unknown = request.body
      const v = validateAuthorize(body, state)
      if (!v.ok) return sendErrorPage(reply, v)
      const target = new URL(v.value.redirectUri)
      if (v.value.state !== undefined) target.searchParams.set('state', v.value.state)
      if (one(body, 'decision') !== 'allow') {
        target.searchParams.set('error', 'access_denied')
        return reply.redirect(target.toString(), 302)
      }
      const raw = one(body, 'account') ?? ''
      const account = /^\d{1,9}$/.test(raw) ? state.accountByIndex(Number(raw)) : undefined
      if (account === undefined)
        return reply
          .code(400)
          .type(HTML)
          .send(page('Error', '<h1>Choose an account</h1><p>No such Google account.</p>'))
      const ticked = tickedScopes(body, v.value.scopes)
      const before = state.consented.get(account.index) ?? []
      // incremental authorization: the new grant carries the scopes granted before
      const granted = v.value.includeGrantedScopes ? [...new Set([...before, ...ticked])] : ticked
      const offline =
        v.value.accessType === 'offline' &&
        (v.value.prompt.includes('consent') || !state.consented.has(account.index))
      state.consented.set(account.index, [...new Set([...before, ...ticked])])
      const code = state.issueCode({
        accountIndex: account.index,
        clientId: v.value.clientId,
        redirectUri: v.value.redirectUri,
        scopes: granted,
        challenge: v.value.challenge,
        offline,
      })
      target.searchParams.set('code', code)
      target.searchParams.set('scope', granted.join(' '))
      target.searchParams.set('authuser', '0')
      target.searchParams.set('prompt', 'consent')
      return reply.redirect(target.toString(), 302)
    })

    app.post('/token', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        await applyFaults('/token')
        const body: unknown = request.body
        authenticateClient(body, request.headers.authorization, ctx)
        const grantType = one(body, 'grant_type')
        if (grantType === undefined || grantType === '')
          throw oauthError(400, 'invalid_request', 'Missing required parameter: grant_type')
        if (grantType === 'authorization_code') return { body: exchangeCode(body, ctx) }
        if (grantType === 'refresh_token') return { body: refresh(body, ctx) }
        throw oauthError(
          400,
          'unsupported_grant_type',
          `Invalid grant_type: ${grantType.slice(0, 100)}`,
        )
      }),
    )

    app.post('/revoke', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        await applyFaults('/revoke')
        const token = one(request.body, 'token') ?? one(request.query, 'token')
        if (token === undefined || token === '')
          throw oauthError(400, 'invalid_request', 'Missing required parameter: token')
        const claims = state.parseToken(token)
        if (
          claims === null ||
          claims.c !== state.settings.clientId ||
          state.isRevoked(claims) ||
          isExpired(claims, clock.now())
        )
          throw oauthError(400, 'invalid_token', 'Token expired or revoked')
        ctx.clientId = claims.c
        ctx.accountIndex = claims.a
        state.revokeGrant(claims.g, claims.a)
        return { body: {} }
      }),
    )
  }
}
