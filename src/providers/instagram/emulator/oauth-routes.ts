/**
 * @module providers/instagram/emulator/oauth-routes — Meta's consent window and token endpoints:
 * - `GET  /oauth/authorize`, `POST /oauth/authorize` — the consent page (www.instagram.com)
 * - `POST /oauth/access_token` — code exchange (api.instagram.com), flat error shape
 * - `GET  /graph/access_token` (short → long-lived), `/graph/refresh_access_token`
 *
 * and `authenticate`, how every Graph call checks its access token (signature, invalidation,
 * expiry, each answered in Meta's words).
 */
import type { FastifyInstance } from 'fastify'
import { escapeHtml } from '../../../html.ts'
import { one } from '../../emulator-core/query.ts'
import { isExpired } from '../../emulator-core/tokens.ts'
import { graphError, oauthError, type Respond } from './errors.ts'
import type { ApplyFaults } from './faults.ts'
import {
  LONG_TOKEN_TTL_MS,
  MIN_REFRESH_AGE_MS,
  type EmulatorState,
  type EmulatorUser,
  type TokenClaims,
} from './state.ts'

/** Every HTML answer names its charset (the pages also carry `<meta charset>`). */
const HTML = 'text/html; charset=utf-8'

const KNOWN_SCOPES = new Set([
  'instagram_business_basic',
  'instagram_business_content_publish',
  'instagram_business_manage_comments',
  'instagram_business_manage_messages',
  'instagram_business_manage_insights',
])

/** Checks an access token; throws Meta's 190 answers. */
export type Authenticate = (token: string | undefined) => {
  user: EmulatorUser
  claims: TokenClaims
  token: string
}

export function createAuthenticator(state: EmulatorState): Authenticate {
  const clock = state.clock

  function authenticate(token: string | undefined): {
    user: EmulatorUser
    claims: TokenClaims
    token: string
  } {
    if (token === undefined || token === '') {
      throw graphError(
        190,
        'An active access token must be used to query information about the current user.',
        {},
        400,
      )
    }
    const claims = state.parseToken(token)
    const user = claims === null ? undefined : state.userByIndex(claims.u)
    if (claims === null || user === undefined)
      throw graphError(190, 'Invalid OAuth access token - Cannot parse access token')
    const invalidation = state.invalidations.get(claims.u)
    if (invalidation !== undefined && claims.i < invalidation.before) {
      const messages: Record<number, string> = {
        458: 'Error validating access token: The user has not authorized application.',
        460: 'Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.',
        467: 'Error validating access token: The user is enrolled in a blocking, logged-in checkpoint',
      }
      throw graphError(
        190,
        messages[invalidation.subcode] ?? 'Error validating access token: The session is invalid.',
        { error_subcode: invalidation.subcode },
      )
    }
    if (isExpired(claims, clock.now())) {
      const at = new Date(claims.e).toUTCString()
      throw graphError(
        190,
        `Error validating access token: Session has expired on ${at}. The current time is ${new Date(clock.now()).toUTCString()}.`,
        { error_subcode: 463 },
      )
    }
    return { user, claims, token }
  }

  return authenticate
}

export interface OAuthRouteDeps {
  readonly state: EmulatorState
  readonly respond: Respond
  readonly applyFaults: ApplyFaults
  readonly authenticate: Authenticate
}

/** Registers the consent page and the token endpoints on the emulator's plugin. */
export function oauthRoutes(deps: OAuthRouteDeps): (app: FastifyInstance) => void {
  const { state, respond, applyFaults, authenticate } = deps
  const clock = state.clock

  function validateAuthorize(q: Record<string, unknown>):
    | {
        ok: true
        clientId: string
        redirectUri: string
        scopes: string[]
        state: string | undefined
      }
    | { ok: false; message: string } {
    const clientId = one(q, 'client_id')
    const redirectUri = one(q, 'redirect_uri')
    const responseType = one(q, 'response_type')
    const scope = one(q, 'scope')
    if (clientId !== state.settings.clientId) return { ok: false, message: 'Invalid platform app' }
    if (redirectUri === undefined || !state.settings.redirectUris.includes(redirectUri))
      return { ok: false, message: 'Invalid redirect_uri' }
    if (responseType !== 'code') return { ok: false, message: 'Invalid response_type' }
    const scopes = (scope ?? '').split(/[\s,]+/).filter((s) => s !== '')
    const bad = scopes.filter((s) => !KNOWN_SCOPES.has(s))
    if (scopes.length === 0 || bad.length > 0)
      return { ok: false, message: `Invalid scope: ${bad.length > 0 ? bad.join(',') : '[]'}` }
    if (!scopes.includes('instagram_business_basic'))
      return { ok: false, message: 'Invalid scope: instagram_business_basic is required' }
    return { ok: true, clientId, redirectUri, scopes, state: one(q, 'state') }
  }

  function page(title: string, body: string): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;background:#fafafa;margin:0;display:grid;place-items:center;min-height:100vh}main{background:#fff;border:1px solid #dbdbdb;border-radius:12px;padding:32px;max-width:420px;width:90%}h1{font-size:20px}.badge{display:inline-block;background:#ffe08a;border-radius:6px;padding:2px 8px;font-size:12px;font-weight:600}label{display:block;padding:8px;border:1px solid #eee;border-radius:8px;margin:6px 0;cursor:pointer}button{font:inherit;padding:10px 18px;border-radius:8px;border:0;margin-right:8px;cursor:pointer}.allow{background:#0095f6;color:#fff}.deny{background:#efefef}small{color:#737373}</style></head><body><main>${body}</main></body></html>`
  }

  return (app) => {
    app.get('/oauth/authorize', async (request, reply) => {
      const v = validateAuthorize(request.query as Record<string, unknown>)
      if (!v.ok) {
        return reply
          .code(400)
          .type(HTML)
          .send(
            page(
              'Error',
              `<h1>Sorry, this page isn't available.</h1><p>Invalid Request: Request parameters are invalid: ${escapeHtml(v.message)}</p>`,
            ),
          )
      }
      const choices = state.users
        .map(
          (u, i) =>
            `<label><input type="radio" name="user_index" value="${u.index}"${i === 0 ? ' checked' : ''}> @${escapeHtml(u.username)} <small>${u.account_type === 'PERSONAL' ? 'personal account' : u.account_type === 'BUSINESS' ? 'business account' : 'creator account'} · ${u.media.length} posts</small></label>`,
        )
        .join('')
      const hidden = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state']
        .map((n) => {
          const value = one(request.query, n)
          return value === undefined
            ? ''
            : `<input type="hidden" name="${n}" value="${escapeHtml(value)}">`
        })
        .join('')
      return reply.type(HTML).send(
        page(
          'Log in with Instagram — sandbox',
          `<span class="badge">SANDBOX · Instagram emulator</span><h1>Allow Phoenix Social Gallery to access your Instagram account?</h1>
<p><small>Requested: ${escapeHtml(v.scopes.join(', '))}. Nothing here talks to the real Instagram.</small></p>
<form method="post" action="authorize">${hidden}<fieldset style="border:0;padding:0"><legend>Log in as</legend>${choices}</fieldset>
<p><button class="allow" name="decision" value="allow" type="submit">Allow</button><button class="deny" name="decision" value="deny" type="submit">Deny</button></p></form>`,
        ),
      )
    })

    app.post('/oauth/authorize', async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>
      const v = validateAuthorize(body)
      if (!v.ok)
        return reply
          .code(400)
          .type(HTML)
          .send(page('Error', `<h1>Invalid request</h1><p>${escapeHtml(v.message)}</p>`))
      const target = new URL(v.redirectUri)
      if (one(body, 'decision') !== 'allow') {
        target.searchParams.set('error', 'access_denied')
        target.searchParams.set('error_reason', 'user_denied')
        target.searchParams.set('error_description', 'The user denied your request')
        if (v.state !== undefined) target.searchParams.set('state', v.state)
        return reply.redirect(target.toString(), 302)
      }
      const user = state.userByIndex(Number(one(body, 'user_index')))
      if (user === undefined)
        return reply.code(400).type(HTML).send(page('Error', '<h1>Choose an account</h1>'))
      target.searchParams.set(
        'code',
        state.issueCode(user.index, v.clientId, v.redirectUri, v.scopes),
      )
      if (v.state !== undefined) target.searchParams.set('state', v.state)
      return reply.redirect(`${target.toString()}#_`, 302)
    })

    app.post('/oauth/access_token', async (request, reply) =>
      respond(request, reply, async () => {
        await applyFaults('/oauth/access_token', null)
        const body = request.body
        if (typeof body !== 'object' || body === null)
          throw oauthError('Missing required parameter: client_id')
        for (const name of ['client_id', 'client_secret', 'grant_type', 'redirect_uri', 'code']) {
          if (one(body, name) === undefined) throw oauthError(`Missing required parameter: ${name}`)
        }
        if (one(body, 'client_id') !== state.settings.clientId)
          throw oauthError('Invalid platform app')
        if (one(body, 'client_secret') !== state.settings.clientSecret)
          throw oauthError('Error validating client secret.')
        if (one(body, 'grant_type') !== 'authorization_code')
          throw oauthError('Invalid grant_type: authorization_code is required')
        const code = one(body, 'code') ?? ''
        const issued = state.codes.get(code)
        if (
          issued === undefined ||
          issued.expiresAt <= clock.now() ||
          issued.clientId !== state.settings.clientId
        ) {
          throw oauthError(
            /#_$/.test(code)
              ? 'Invalid authorization code'
              : 'Matching code was not found or was already used',
          )
        }
        if (issued.used) throw oauthError('This authorization code has been used')
        if (one(body, 'redirect_uri') !== issued.redirectUri) {
          throw oauthError(
            'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
          )
        }
        issued.used = true
        const user = state.userByIndex(issued.userIndex)
        if (user === undefined) throw oauthError('Matching code was not found or was already used')
        const { token } = state.issueToken(user.index, 's', issued.scopes)
        // Meta's live answer carries user_id as an unquoted 17-digit number (above 2^53).
        const flat = `{"access_token":${JSON.stringify(token)},"user_id":${user.id},"permissions":${JSON.stringify(issued.scopes)}}`
        const wrapped = `{"data":[{"access_token":${JSON.stringify(token)},"user_id":"${user.id}","permissions":${JSON.stringify(issued.scopes.join(','))}}]}`
        return {
          body: null,
          raw: state.settings.tokenResponseShape === 'flat' ? flat : wrapped,
          userIndex: user.index,
        }
      }),
    )

    app.get('/graph/access_token', async (request, reply) =>
      respond(request, reply, async () => {
        const q = request.query as Record<string, unknown>
        if (one(q, 'grant_type') !== 'ig_exchange_token')
          throw graphError(100, 'Unsupported grant_type: ig_exchange_token is required')
        if (one(q, 'client_secret') !== state.settings.clientSecret)
          throw graphError(
            101,
            'Error validating application. Invalid application secret.',
            {},
            400,
          )
        const auth = authenticate(one(q, 'access_token'))
        await applyFaults('/graph/access_token', auth.user)
        if (auth.claims.k !== 's')
          throw graphError(100, 'The access token provided is already a long-lived token')
        const { token } = state.issueToken(auth.user.index, 'l', auth.claims.p)
        return {
          body: { access_token: token, token_type: 'bearer', expires_in: LONG_TOKEN_TTL_MS / 1000 },
          userIndex: auth.user.index,
        }
      }),
    )

    app.get('/graph/refresh_access_token', async (request, reply) =>
      respond(request, reply, async () => {
        const q = request.query as Record<string, unknown>
        if (one(q, 'grant_type') !== 'ig_refresh_token')
          throw graphError(100, 'Unsupported grant_type: ig_refresh_token is required')
        const auth = authenticate(one(q, 'access_token'))
        await applyFaults('/graph/refresh_access_token', auth.user)
        if (auth.claims.k !== 'l')
          throw graphError(100, 'Only long-lived access tokens can be refreshed')
        // Meta's wording for a refresh under 24 hours is not documented (instagram-api.md §2.4).
        if (clock.now() - auth.claims.i < MIN_REFRESH_AGE_MS)
          throw graphError(
            100,
            'The access token can only be refreshed 24 hours after it was issued',
          )
        const { token } = state.issueToken(auth.user.index, 'l', auth.claims.p)
        return {
          body: { access_token: token, token_type: 'bearer', expires_in: LONG_TOKEN_TTL_MS / 1000 },
          userIndex: auth.user.index,
        }
      }),
    )
  }
}
