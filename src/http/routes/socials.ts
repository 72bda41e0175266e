/**
 * @module http/routes/socials — `/api/socials/...`: connect, the OAuth callback, accounts, sync
 * and media. Another user's account is invisible (404, not 403).
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { GalleryError } from '../../errors.ts'
import { STATE_TTL_MS } from '../../socials/oauth-service.ts'
import { sandboxNotice } from '../../socials/messages.ts'
import type { AppContext } from '../context.ts'
import { PageCache } from '../page-cache.ts'
import type { MediaType } from '../../store/types.ts'
import {
  decodeAccountCursor,
  decodeCursor,
  encodeAccountCursor,
  encodeCursor,
  presentAccount,
  presentArchive,
  presentMedia,
} from '../presenters.ts'
import type { LandingOutcome } from '../landing-outcome.ts'
import { CONNECTABLE, PLATFORMS } from '../../providers/registry.ts'
import type { ProviderId } from '../../providers/types.ts'

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
/** Media ids one archive question may carry (the page asks for at most this many). */
const ARCHIVE_IDS_MAX = 100

const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
} as const

function notFound(): GalleryError {
  return new GalleryError('ERR_NOT_FOUND', 'Account not found')
}

/** Public profile links one person may add (each is a row and a line in every listing). */
export const MAX_PROFILE_LINKS_PER_USER = 50
/** Accounts per page of `GET /api/socials/accounts` (and the default page size). */
export const MAX_ACCOUNTS_PAGE = 100

/** Rendered media pages kept per instance (about 600 pages of 50 items). */
const PAGE_CACHE_BYTES = 16 * 1024 * 1024

export function socialsRoutes(ctx: AppContext) {
  const pages = new PageCache(PAGE_CACHE_BYTES)

  /**
   * Sends the browser to its landing page. The URL carries only codes; the outcome itself (with
   * the provider's words, and the proof of a success) goes in this browser's outcome cookie.
   */
  function landing(
    reply: FastifyReply,
    mode: 'popup' | 'redirect',
    outcome: LandingOutcome,
  ): FastifyReply {
    const target = mode === 'popup' ? '/oauth/popup-result' : '/gallery'
    const query = new URLSearchParams(
      outcome.connect === 'success'
        ? { connect: 'success', platform: outcome.platform, account: outcome.account }
        : { connect: 'error', platform: outcome.platform, reason: outcome.reason },
    ).toString()
    ctx.sessions.clearBinding(reply)
    ctx.sessions.setOutcome(reply, outcome)
    // The popup comes back from instagram.com (another origin): a same-origin COOP here would
    // put it in a new browsing context group and cut it from its opener.
    void reply.header('cross-origin-opener-policy', 'unsafe-none')
    return reply
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .redirect(`${target}?${query}`, 303)
  }

  return async function register(app: FastifyInstance): Promise<void> {
    // what the page shows: a Connect button per connectable platform (with its mode), and every
    // platform's name, icon and post-link label (profile links exist for all of them)
    const connectable = CONNECTABLE.map(({ info, connectPath, embed }) => {
      const mode = ctx.modes[info.id] ?? 'unconfigured'
      return {
        platform: info.id,
        label: info.label,
        connect_path: connectPath,
        mode,
        connectable: mode !== 'unconfigured',
        sandbox: mode === 'sandbox',
        // the player the page may frame: only the real platform's (the CSP admits it then);
        // `has_player` says whether the platform has one at all (the sandbox says why it is off)
        embed_url: mode === 'real' && embed !== undefined ? embed.urlTemplate : null,
        // the whole shape of an id that player takes, and how to frame it, when not YouTube's
        embed_id_pattern: mode === 'real' ? (embed?.idPattern?.source ?? null) : null,
        embed_frame: mode === 'real' ? (embed?.frame ?? null) : null,
        has_player: embed !== undefined,
        notice:
          mode === 'sandbox'
            ? sandboxNotice([info.label])
            : mode === 'unconfigured'
              ? `${info.label} OAuth not configured`
              : null,
      }
    })
    const platforms = Object.values(PLATFORMS).map((info) => ({
      platform: info.id,
      label: info.label,
      view_label: info.viewLabel,
      icon_path: info.iconPath,
    }))
    app.get('/api/socials/providers', async () => ({ providers: connectable, platforms }))

    /** The connectable platform a route names; any other name is a 404. */
    const connectablePlatform = (name: string): ProviderId => {
      const found = CONNECTABLE.find(({ info }) => info.id === name)
      if (found === undefined) throw notFound()
      return found.info.id
    }

    app.post<{ Params: { platform: string }; Body: { mode?: 'popup' | 'redirect' } | undefined }>(
      '/api/socials/connect/:platform',
      {
        schema: {
          body: {
            type: ['object', 'null'],
            additionalProperties: false,
            properties: { mode: { type: 'string', enum: ['popup', 'redirect'] } },
          },
        },
      },
      async (request, reply) => {
        const platform = connectablePlatform(request.params.platform)
        const principal = await ctx.requireUser(request)
        await ctx.throttle.hit('connect', principal.userId)
        const mode = request.body?.mode ?? 'redirect'
        const { authorizationUrl, binding } = await ctx.oauth.startConnect(
          principal.userId,
          platform,
          mode,
        )
        ctx.sessions.setBinding(reply, binding, STATE_TTL_MS / 1000)
        request.log.info({ userId: principal.userId, platform, mode }, 'connect started')
        const sandbox = ctx.modes[platform] === 'sandbox'
        return reply.header('cache-control', 'no-store').send({
          authorization_url: authorizationUrl,
          expires_in: STATE_TTL_MS / 1000,
          sandbox,
          ...(sandbox ? { notice: sandboxNotice([PLATFORMS[platform].label]) } : {}),
        })
      },
    )

    // Arrives as a cross-site top-level GET from the platform: no JSON errors here, every outcome
    // lands the person on a page that explains it. Its query string is never logged.
    app.get<{ Params: { platform: string } }>(
      '/api/socials/oauth/:platform/callback',
      async (request, reply) => {
        const platform = connectablePlatform(request.params.platform)
        await ctx.throttle.hit('oauthCallback', request.ip)
        const principal = await ctx.sessions.identity.authenticate(request)
        const result = await ctx.oauth.handleCallback(
          platform,
          request.query as Record<string, unknown>,
          principal?.userId ?? null,
          request.cookies[ctx.sessions.names.oauthBinding],
        )
        if (result.ok) {
          request.log.info(
            { accountId: result.account.id, platform, created: result.created },
            'account connected',
          )
          return landing(reply, result.mode, {
            connect: 'success',
            platform,
            account: result.account.id,
          })
        }
        request.log.warn({ platform, outcome: result.code }, 'oauth callback refused')
        return landing(
          reply,
          result.mode,
          result.detail === undefined
            ? { connect: 'error', platform, reason: result.code }
            : { connect: 'error', platform, reason: result.code, detail: result.detail },
        )
      },
    )

    app.get<{ Querystring: { limit?: number; cursor?: string } }>(
      '/api/socials/accounts',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: MAX_ACCOUNTS_PAGE },
              cursor: { type: 'string', maxLength: 200 },
            },
          },
        },
      },
      async (request, reply) => {
        const principal = await ctx.requireUser(request)
        const limit = request.query.limit ?? MAX_ACCOUNTS_PAGE
        let after
        if (request.query.cursor !== undefined) {
          after = decodeAccountCursor(request.query.cursor)
          if (after === null)
            throw new GalleryError('ERR_VALIDATION', 'Invalid cursor', {
              details: [{ path: 'querystring.cursor', message: 'is not a cursor from this API' }],
            })
        }
        const rows = await ctx.store.listAccounts(principal.userId, {
          limit: limit + 1,
          ...(after === undefined ? {} : { after }),
        })
        const page = rows.slice(0, limit)
        const last = page[page.length - 1]
        const now = ctx.clock.now()
        return reply.header('cache-control', 'no-store').send({
          accounts: page.map((a) => presentAccount(a, now)),
          next_cursor: rows.length > limit && last !== undefined ? encodeAccountCursor(last) : null,
          // some platform is the built-in emulator (the page says so)
          sandbox: Object.values(ctx.modes).includes('sandbox'),
        })
      },
    )

    app.post<{ Body: { platform: ProviderId; username: string } }>(
      '/api/socials/accounts',
      {
        schema: {
          body: {
            type: 'object',
            required: ['platform', 'username'],
            additionalProperties: false,
            properties: {
              platform: { type: 'string', enum: Object.keys(PLATFORMS) },
              username: {
                type: 'string',
                minLength: 1,
                maxLength: 64,
                pattern: '^@?[A-Za-z0-9._-]{1,63}$',
              },
            },
          },
        },
      },
      async (request, reply) => {
        const principal = await ctx.requireUser(request)
        await ctx.throttle.hit('profileLink', principal.userId)
        const username = request.body.username.replace(/^@/, '')
        const account = await ctx.store.createPublicAccount({
          user_id: principal.userId,
          platform: request.body.platform,
          username,
          profile_url: PLATFORMS[request.body.platform].profileUrl(encodeURIComponent(username)),
          now: ctx.clock.now(),
          max_per_user: MAX_PROFILE_LINKS_PER_USER,
        })
        return reply.code(201).send({ account: presentAccount(account, ctx.clock.now()) })
      },
    )

    app.delete<{ Params: { id: string } }>(
      '/api/socials/accounts/:id',
      { schema: { params: idParams } },
      async (request, reply) => {
        const principal = await ctx.requireUser(request)
        // the grant is revoked at the platform where it can be, then everything here is deleted
        if (!(await ctx.oauth.disconnect(principal.userId, request.params.id))) throw notFound()
        request.log.info({ accountId: request.params.id }, 'account disconnected')
        return reply.code(204).send()
      },
    )

    app.post<{ Params: { id: string } }>(
      '/api/socials/accounts/:id/sync',
      { schema: { params: idParams } },
      async (request) => {
        const principal = await ctx.requireUser(request)
        // ownership first: a made-up id answers 404 and leaves no throttle row behind
        if ((await ctx.store.getAccount(principal.userId, request.params.id)) === null)
          throw notFound()
        await ctx.throttle.hit('syncNow', principal.userId, request.params.id)
        const result = await ctx.sync.syncAccount(principal.userId, request.params.id)
        // the person is watching: their new pictures are archived now, not at the next pass
        ctx.archiveSoon?.()
        return result
      },
    )

    // The archive of media the page shows before it is finished: the gallery asks again (less
    // and less often) until each is stored or failed. Ids of other people's media, and of media
    // the archive has not seen yet, are left out of the answer: the page keeps waiting for them.
    app.get<{ Querystring: { ids: string } }>(
      '/api/socials/media/archive',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['ids'],
            properties: {
              ids: {
                type: 'string',
                pattern: `^${UUID}(,${UUID}){0,${ARCHIVE_IDS_MAX - 1}}$`,
              },
            },
          },
        },
      },
      async (request, reply) => {
        const principal = await ctx.requireUser(request)
        const ids = [...new Set(request.query.ids.split(','))]
        const [records, sources] = await Promise.all([
          ctx.store.getArchives(ids),
          ctx.store.archiveSources(ids),
        ])
        const types = new Map(sources.map((s) => [s.media_id, s.media_type]))
        const archives: Record<string, ReturnType<typeof presentArchive>> = {}
        for (const record of records)
          if (record.user_id === principal.userId)
            archives[record.media_id] = presentArchive(
              record,
              types.get(record.media_id) === 'VIDEO',
            )
        return reply.header('cache-control', 'no-store').send({ archives })
      },
    )

    app.get<{
      Querystring: {
        account_id?: string
        platform?: ProviderId
        media_type?: MediaType
        limit?: number
        cursor?: string
      }
    }>(
      '/api/socials/media',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              account_id: { type: 'string', pattern: '^[0-9a-f-]{36}$' },
              platform: { type: 'string', enum: Object.keys(PLATFORMS) },
              media_type: { type: 'string', enum: ['IMAGE', 'VIDEO', 'CAROUSEL_ALBUM'] },
              limit: { type: 'integer', minimum: 1, maximum: 100 },
              cursor: { type: 'string', maxLength: 200 },
            },
          },
        },
      },
      async (request, reply) => {
        const principal = await ctx.requireUser(request)
        const { account_id, platform, media_type, cursor } = request.query
        const limit = request.query.limit ?? 24
        let after
        if (cursor !== undefined) {
          after = decodeCursor(cursor)
          if (after === null)
            throw new GalleryError('ERR_VALIDATION', 'Invalid cursor', {
              details: [{ path: 'querystring.cursor', message: 'is not a cursor from this API' }],
            })
        }
        // read before the media: a page rendered from newer data is then only filed under an
        // older version, never the reverse
        const version = await ctx.store.getGalleryVersion(principal.userId)
        const key = `${principal.userId}\n${account_id ?? ''}\n${platform ?? ''}\n${media_type ?? ''}\n${limit}\n${cursor ?? ''}`
        const send = (body: string) =>
          reply
            .type('application/json; charset=utf-8')
            .header('cache-control', 'no-store')
            .send(body)
        const cached = pages.get(key, version)
        if (cached !== undefined) return send(cached)
        if (
          account_id !== undefined &&
          (await ctx.store.getAccount(principal.userId, account_id)) === null
        )
          throw notFound()
        const rows = await ctx.store.listMedia({
          user_id: principal.userId,
          limit: limit + 1,
          ...(account_id === undefined ? {} : { account_id }),
          ...(platform === undefined ? {} : { platform }),
          ...(media_type === undefined ? {} : { media_type }),
          ...(after === undefined ? {} : { after }),
        })
        const page = rows.slice(0, limit)
        const last = page[page.length - 1]
        // each item's (and album child's) copy in the archive: one query for the page
        const ids = page.flatMap((m) => [m.id, ...m.children.map((c) => c.id)])
        const archives = new Map(
          (ids.length === 0 ? [] : await ctx.store.getArchives(ids)).map((a) => [a.media_id, a]),
        )
        const body = JSON.stringify({
          items: page.map((m) => presentMedia(m, archives)),
          next_cursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
        })
        pages.set(key, version, body)
        return send(body)
      },
    )
  }
}
