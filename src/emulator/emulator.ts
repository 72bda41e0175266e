/**
 * @module emulator/emulator — a faithful, in-memory model of the Instagram API with Instagram
 * Login: the authorize page, the code exchange (api.instagram.com), long-lived tokens and refresh,
 * `/me`, `/me/media`, `/{id}/children`, signed CDN media URLs, Graph error shapes, usage headers,
 * throttling, and a control interface to shape the world and inject faults.
 *
 * Routes of `plugin`, relative to where it is mounted (all a person needs through the page):
 * - `GET  /oauth/authorize`, `POST /oauth/authorize` — Meta's consent window (www.instagram.com)
 * - `POST /oauth/access_token` — code exchange (api.instagram.com), flat error shape
 * - `GET  /graph/access_token`, `/graph/refresh_access_token`, `/graph/[vNN.N/]{node}[/{edge}]`
 * - `GET  /cdn/v/{media-id}.svg?oe=&oh=` — signed media URLs (403 "URL signature expired")
 *
 * The plugin has no control routes. The world is shaped through `emulator.control` (code, see
 * `controller.ts`); only the standalone `npm run emulator` also serves it over HTTP, gated, as a
 * separate plugin (`control.ts`). HTML answers are `text/html; charset=utf-8`.
 *
 * Facts and their sources: shared/reference/instagram-api.md.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Clock, ManualClock } from '../clock.ts'
import { demoUsers, instagramUserId, renderSvg } from './demo-data.ts'
import { DEFAULT_LIMITS, type EmulatorLimits } from './bounds.ts'
import { createController, type EmulatorControl } from './controller.ts'
import { parseFields, serializeFields, type FieldTree } from './fields.ts'
import { escapeHtml } from '../html.ts'
import {
  EmulatorState,
  LONG_TOKEN_TTL_MS,
  MIN_REFRESH_AGE_MS,
  type EmulatorMedia,
  type EmulatorSettings,
  type EmulatorUser,
  type Fault,
  type TokenClaims,
} from './state.ts'

export interface EmulatorOptions extends Partial<EmulatorSettings> {
  readonly clock: Clock | ManualClock
  /** Absolute URL where the plugin is mounted (for `paging.next` and CDN URLs). */
  readonly baseUrl: () => string
  /** Start with the demo accounts (default true). */
  readonly seedDemo?: boolean
  /** Tighter (or looser) bounds than `DEFAULT_LIMITS`, e.g. for a test. */
  readonly limits?: Partial<EmulatorLimits>
}

export interface Emulator {
  readonly state: EmulatorState
  /** Registers the Meta-facing routes; mount with a prefix, e.g. `/sandbox/instagram`. */
  readonly plugin: (app: FastifyInstance) => Promise<void>
  readonly baseUrl: () => string
  /** Shapes the world (users, posts, faults, clock, settings), validated and bounded. */
  readonly control: EmulatorControl
}

/** Every HTML answer names its charset (the pages also carry `<meta charset>`). */
const HTML = 'text/html; charset=utf-8'
const TEXT = 'text/plain; charset=utf-8'

const KNOWN_SCOPES = new Set([
  'instagram_business_basic',
  'instagram_business_content_publish',
  'instagram_business_manage_comments',
  'instagram_business_manage_messages',
  'instagram_business_manage_insights',
])
const DEFAULT_VERSION = 'v24.0'
const USER_FIELDS = new Set([
  'id',
  'user_id',
  'username',
  'name',
  'account_type',
  'profile_picture_url',
  'followers_count',
  'follows_count',
  'media_count',
  'biography',
  'website',
])
const MEDIA_FIELDS = new Set([
  'id',
  'caption',
  'media_type',
  'media_product_type',
  'media_url',
  'permalink',
  'shortcode',
  'thumbnail_url',
  'timestamp',
  'username',
  'like_count',
  'comments_count',
  'is_comment_enabled',
  'owner',
  'children',
  'alt_text',
])

function graphTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000')
}

function fbtrace(): string {
  return randomBytes(8).toString('base64url')
}

/** An Instagram error answer, thrown inside the emulator and turned into its HTTP response. */
class GraphFailure extends Error {
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

function graphError(
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

function oauthError(message: string, code = 400): GraphFailure {
  return new GraphFailure(400, { error_type: 'OAuthException', code, error_message: message })
}

const THROTTLE_MESSAGES: Record<number, string> = {
  4: '(#4) Application request limit reached',
  17: '(#17) User request limit reached',
  32: '(#32) Page request limit reached',
  613: 'Calls to this api have exceeded the rate limit.',
  80002: 'There have been too many calls to this Instagram account. Wait a bit and try again.',
}

function one(query: unknown, name: string): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined
  const value = (query as Record<string, unknown>)[name]
  return typeof value === 'string' ? value : undefined
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export function createEmulator(options: EmulatorOptions): Emulator {
  const settings: EmulatorSettings = {
    clientId: options.clientId ?? 'sandbox-app-id',
    clientSecret: options.clientSecret ?? randomBytes(24).toString('hex'),
    redirectUris: options.redirectUris ?? [],
    signingSecret: options.signingSecret ?? randomBytes(32).toString('hex'),
    tokenResponseShape: options.tokenResponseShape ?? 'flat',
    cdnTtlMs: options.cdnTtlMs ?? 3 * 86_400_000,
    callsPerHourPerUser: options.callsPerHourPerUser ?? 200,
    latencyMs: options.latencyMs ?? 0,
  }
  const state = new EmulatorState(
    settings,
    options.clock,
    options.seedDemo === false ? [] : demoUsers(),
    { ...DEFAULT_LIMITS, ...options.limits },
  )
  const clock = options.clock
  const baseUrl = options.baseUrl

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
    if (claims.e <= clock.now()) {
      const at = new Date(claims.e).toUTCString()
      throw graphError(
        190,
        `Error validating access token: Session has expired on ${at}. The current time is ${new Date(clock.now()).toUTCString()}.`,
        { error_subcode: 463 },
      )
    }
    return { user, claims, token }
  }

  function usageHeaders(user: EmulatorUser): Record<string, string> {
    const cap = state.settings.callsPerHourPerUser
    const pct = Math.min(100, Math.round((100 * state.callsInLastHour(user.index)) / cap))
    const regain = pct >= 100 ? minutesToRegain(user.index) : 0
    return {
      'x-app-usage': JSON.stringify({
        call_count: pct,
        total_cputime: Math.round(pct / 4),
        total_time: Math.round(pct / 3),
      }),
      'x-business-use-case-usage': JSON.stringify({
        [user.user_id]: [
          {
            type: 'instagram',
            call_count: pct,
            total_cputime: Math.round(pct / 4),
            total_time: Math.round(pct / 3),
            estimated_time_to_regain_access: regain,
          },
        ],
      }),
    }
  }

  function minutesToRegain(userIndex: number): number {
    const since = clock.now() - 3_600_000
    const oldest = state.calls.find((c) => c.userIndex === userIndex && c.at > since)
    return oldest === undefined
      ? 0
      : Math.max(1, Math.ceil((oldest.at + 3_600_000 - clock.now()) / 60_000))
  }

  async function applyFaults(path: string, user: EmulatorUser | null): Promise<void> {
    if (state.settings.latencyMs > 0) await delay(state.settings.latencyMs)
    const fault: Fault | null = state.takeFault(path)
    if (fault === null) return
    switch (fault.kind) {
      case 'http_5xx':
        throw new GraphFailure(fault.status ?? 500, {
          error: {
            message: 'An unexpected error has occurred. Please retry your request later.',
            type: 'OAuthException',
            is_transient: true,
            code: 2,
            fbtrace_id: fbtrace(),
          },
        })
      case 'timeout':
        await delay(fault.hang_ms ?? 30_000)
        throw new GraphFailure(504, {
          error: { message: 'Gateway timeout', code: 2, is_transient: true, fbtrace_id: fbtrace() },
        })
      case 'throttle': {
        const headers: Record<string, string> = user === null ? {} : usageHeaders(user)
        if (user !== null) {
          headers['x-business-use-case-usage'] = JSON.stringify({
            [user.user_id]: [
              {
                type: 'instagram',
                call_count: 100,
                total_cputime: 30,
                total_time: 40,
                estimated_time_to_regain_access: fault.minutes ?? 15,
              },
            ],
          })
        }
        throw new GraphFailure(
          400,
          {
            error: {
              message: THROTTLE_MESSAGES[fault.code] ?? 'Rate limited',
              type: 'OAuthException',
              is_transient: true,
              code: fault.code,
              fbtrace_id: fbtrace(),
            },
          },
          headers,
        )
      }
      case 'graph_error':
        throw graphError(
          fault.code,
          fault.message,
          fault.subcode === undefined ? {} : { error_subcode: fault.subcode },
          fault.status ?? 400,
        )
    }
  }

  function requireBudget(user: EmulatorUser): void {
    if (state.callsInLastHour(user.index) >= state.settings.callsPerHourPerUser) {
      const headers = usageHeaders(user)
      throw new GraphFailure(
        400,
        {
          error: {
            message: THROTTLE_MESSAGES[80002],
            type: 'OAuthException',
            is_transient: true,
            code: 80002,
            fbtrace_id: fbtrace(),
          },
        },
        headers,
      )
    }
  }

  function renderUser(user: EmulatorUser, fields: FieldTree): Record<string, unknown> {
    const out: Record<string, unknown> = { id: user.id }
    for (const name of fields.keys()) {
      if (!USER_FIELDS.has(name))
        throw graphError(100, `Tried accessing nonexisting field (${name}) on node type (User)`)
      const values: Record<string, unknown> = {
        id: user.id,
        user_id: user.user_id,
        username: user.username,
        name: user.name,
        account_type: user.account_type,
        profile_picture_url: state.signCdnUrl(baseUrl(), `p${user.user_id}`),
        followers_count: user.followers_count,
        follows_count: user.follows_count,
        media_count: user.media.length,
        biography: `Demo account of the Phoenix Social Gallery sandbox`,
      }
      if (name in values) out[name] = values[name]
    }
    return out
  }

  function renderMedia(
    media: EmulatorMedia,
    fields: FieldTree,
    isChild: boolean,
  ): Record<string, unknown> {
    const out: Record<string, unknown> = { id: media.id }
    for (const [name, sub] of fields) {
      if (!MEDIA_FIELDS.has(name))
        throw graphError(100, `Tried accessing nonexisting field (${name}) on node type (IGMedia)`)
      switch (name) {
        case 'caption':
          if (!isChild && media.caption !== null) out.caption = media.caption
          break
        case 'media_type':
        case 'media_product_type':
        case 'shortcode':
        case 'username':
        case 'like_count':
        case 'comments_count':
          out[name] = media[name]
          break
        case 'media_url':
          out.media_url = state.signCdnUrl(baseUrl(), media.id)
          break
        case 'thumbnail_url':
          if (media.media_type === 'VIDEO')
            out.thumbnail_url = state.signCdnUrl(baseUrl(), `t${media.id}`)
          break
        case 'permalink':
          if (!isChild)
            out.permalink = `https://www.instagram.com/${media.media_product_type === 'REELS' ? 'reel' : 'p'}/${media.shortcode}/`
          break
        case 'timestamp':
          out.timestamp = graphTimestamp(media.timestamp)
          break
        case 'is_comment_enabled':
          out.is_comment_enabled = true
          break
        case 'owner':
          out.owner = { id: instagramUserId(media.owner_index) }
          break
        case 'children':
          if (media.media_type === 'CAROUSEL_ALBUM') {
            const childFields = sub ?? new Map([['id', null]])
            out.children = { data: media.children.map((c) => renderMedia(c, childFields, true)) }
          }
          break
        default:
          break
      }
    }
    return out
  }

  function pageOf(
    items: EmulatorMedia[],
    query: Record<string, unknown>,
    nodePath: string,
    fields: FieldTree,
    version: string,
    token: string,
    isChild: boolean,
  ): Record<string, unknown> {
    const limitRaw = one(query, 'limit')
    let limit = 25
    if (limitRaw !== undefined) {
      if (!/^\d{1,6}$/.test(limitRaw)) throw graphError(100, '(#100) Param limit must be a number')
      limit = Math.min(100, Math.max(1, Number(limitRaw)))
    }
    const after = one(query, 'after')
    let start = 0
    if (after !== undefined) {
      const id = Buffer.from(after, 'base64').toString('utf8')
      const index = items.findIndex((m) => m.id === id)
      if (index < 0) throw graphError(100, 'Invalid cursor', { error_subcode: 2018 })
      start = index + 1
    }
    const slice = items.slice(start, start + limit)
    const data = slice.map((m) => renderMedia(m, fields, isChild))
    const first = slice[0]
    const last = slice[slice.length - 1]
    if (first === undefined || last === undefined) return { data }
    const cursors = {
      before: Buffer.from(first.id).toString('base64'),
      after: Buffer.from(last.id).toString('base64'),
    }
    const paging: Record<string, unknown> = { cursors }
    if (start + limit < items.length) {
      const next = new URL(`${baseUrl()}/graph/${version}/${nodePath}`)
      next.searchParams.set('access_token', token)
      next.searchParams.set('fields', serializeFields(fields))
      next.searchParams.set('limit', String(limit))
      next.searchParams.set('after', cursors.after)
      paging.next = next.toString()
    }
    return { data, paging }
  }

  async function graphNode(
    request: FastifyRequest,
    parts: string[],
  ): Promise<{ body: unknown; headers: Record<string, string> }> {
    const query = request.query as Record<string, unknown>
    let version = DEFAULT_VERSION
    if (parts[0] !== undefined && /^v\d+\.\d$/.test(parts[0])) version = parts.shift() ?? version
    const [node, edge, extra] = parts
    if (node === undefined || node === '' || extra !== undefined)
      throw graphError(100, 'Unsupported request - method type: get')
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1]
    const auth = authenticate(one(query, 'access_token') ?? bearer)
    await applyFaults(request.url.split('?')[0] ?? '', auth.user)
    requireBudget(auth.user)
    const fieldsRaw = one(query, 'fields')
    const fields = fieldsRaw === undefined ? new Map([['id', null]]) : parseFields(fieldsRaw)
    if (fields === null)
      throw graphError(
        100,
        `Syntax error "Expected end of string instead of "${fieldsRaw ?? ''}"." at character 0: ${fieldsRaw ?? ''}`,
        { error_subcode: 2500 },
      )
    const user = auth.user
    const isUser = node === 'me' || node === user.id || node === user.user_id
    if (isUser) {
      if (edge === undefined) return { body: renderUser(user, fields), headers: usageHeaders(user) }
      if (edge === 'media')
        return {
          body: pageOf(
            user.media,
            query,
            `${user.user_id}/media`,
            fields,
            version,
            auth.token,
            false,
          ),
          headers: usageHeaders(user),
        }
      throw graphError(100, `Tried accessing nonexisting field (${edge}) on node type (User)`)
    }
    const found = state.findMedia(node)
    if (found === null || found.owner.index !== user.index) {
      throw graphError(
        100,
        `Unsupported get request. Object with ID '${node}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        { error_subcode: 33 },
      )
    }
    if (edge === undefined)
      return {
        body: renderMedia(found.media, fields, found.parent !== null),
        headers: usageHeaders(user),
      }
    if (edge === 'children') {
      return {
        body: pageOf(
          found.media.children,
          query,
          `${node}/children`,
          fields,
          version,
          auth.token,
          true,
        ),
        headers: usageHeaders(user),
      }
    }
    throw graphError(100, `Tried accessing nonexisting field (${edge}) on node type (IGMedia)`)
  }

  function record(request: FastifyRequest, userIndex: number | null, status: number): void {
    state.calls.push({
      at: clock.now(),
      method: request.method,
      path: request.url.split('?')[0] ?? '',
      userIndex,
      status,
    })
    if (state.calls.length > 50_000) state.calls.splice(0, state.calls.length - 50_000)
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

  async function plugin(app: FastifyInstance): Promise<void> {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action *; frame-ancestors 'none'",
      )
      // Instagram's login window keeps the opener of an OAuth popup (Meta's own SDK relies on it).
      reply.header('cross-origin-opener-policy', 'unsafe-none')
      return payload
    })
    await app.register(import('@fastify/formbody'))

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

    app.get('/graph/*', async (request, reply) => {
      const path = (request.params as { '*': string })['*']
      const parts = path.split('/').filter((p) => p !== '')
      return respond(request, reply, async () => {
        const result = await graphNode(request, parts)
        const claims = state.parseToken(one(request.query, 'access_token') ?? '')
        return { ...result, userIndex: claims?.u ?? null }
      })
    })

    app.get('/cdn/v/:file', async (request, reply) => {
      const file = (request.params as { file: string }).file
      const match = /^([pt]?)(\d{5,25})\.svg$/.exec(file)
      const q = request.query as Record<string, unknown>
      const oe = one(q, 'oe') ?? ''
      const oh = one(q, 'oh') ?? ''
      if (match === null) return reply.code(404).type(TEXT).send('Not found')
      const [, prefix = '', id = ''] = match
      const verdict = state.verifyCdnUrl(`${prefix}${id}`, oe, oh)
      if (verdict === 'expired') return reply.code(403).type(TEXT).send('URL signature expired')
      if (verdict === 'bad') return reply.code(403).type(TEXT).send('Bad URL hash')
      if (prefix === 'p') {
        const user = state.users.find((u) => u.user_id === id)
        if (user === undefined) return reply.code(404).type(TEXT).send('Not found')
        return reply
          .type('image/svg+xml')
          .header('cache-control', 'public, max-age=86400')
          .send(
            renderSvg(
              { hue: user.index * 67, caption: null, media_type: 'IMAGE', username: user.username },
              user.username,
            ),
          )
      }
      const found = state.findMedia(id)
      if (found === null) return reply.code(404).type(TEXT).send('Not found')
      return reply
        .type('image/svg+xml')
        .header('cache-control', 'public, max-age=86400')
        .send(renderSvg(found.media, found.media.media_type))
    })
  }

  return { state, plugin, baseUrl, control: createController(state, clock) }
}
