/**
 * @module providers/tiktok/emulator/data-routes — the read side of TikTok's v2 Display API
 * (open.tiktokapis.com):
 * - `GET  /v2/user/info/?fields=…`
 * - `POST /v2/video/list/?fields=…` with JSON `{cursor?, max_count?}` (1-20, default 10)
 * - `POST /v2/video/query/?fields=…` with JSON `{filters: {video_ids: [1-20 ids]}}`
 *
 * Every call, in this order: faults; the access token (`Authorization: Bearer act.…`, else 401
 * `access_token_invalid`); the endpoint's sliding minute (`ratePerMinute`, 600: else 429
 * `rate_limit_exceeded`); the scope a requested field needs (401 `scope_not_authorized`); then
 * the parameters (`fields` required and known, the body's bounds: else 400 `invalid_params`).
 * Answers are the `{data, error: {code: "ok", message: "", log_id}}` envelope, with only the
 * requested fields.
 *
 * What a caller sees: `video/list` pages through the account's **public** videos, newest first,
 * `cursor` being the `create_time` (ms) of the page's last video and `has_more` whether older
 * ones remain; a private video never lists. `video/query` returns the account's own public
 * videos among the ids asked for (a private, deleted or foreign id is simply absent: whether
 * TikTok returns an owner's private video there is UNCONFIRMED). Covers are signed URLs
 * (`cdn-routes.ts`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { one } from '../../emulator-core/query.ts'
import {
  invalidParams,
  rateLimitExceeded,
  scopeNotAuthorized,
  type CallContext,
  type Respond,
} from './errors.ts'
import type { ApplyFaults } from './faults.ts'
import type { Authenticate } from './oauth-routes.ts'
import { signedUrl } from './cdn-routes.ts'
import type { EmulatorVideo, TiktokAccount, TiktokEmulatorState, TokenClaims } from './state.ts'

/** Each user field and the scope it needs (T8). */
const USER_FIELD_SCOPES: ReadonlyMap<string, string> = new Map([
  ['open_id', 'user.info.basic'],
  ['union_id', 'user.info.basic'],
  ['avatar_url', 'user.info.basic'],
  ['avatar_url_100', 'user.info.basic'],
  ['avatar_large_url', 'user.info.basic'],
  ['display_name', 'user.info.basic'],
  ['bio_description', 'user.info.profile'],
  ['profile_deep_link', 'user.info.profile'],
  ['is_verified', 'user.info.profile'],
  ['username', 'user.info.profile'],
  ['follower_count', 'user.info.stats'],
  ['following_count', 'user.info.stats'],
  ['likes_count', 'user.info.stats'],
  ['video_count', 'user.info.stats'],
])

/** The video object's fields (T10); all need `video.list`. */
const VIDEO_FIELD_NAMES: ReadonlySet<string> = new Set([
  'id',
  'create_time',
  'cover_image_url',
  'share_url',
  'video_description',
  'duration',
  'height',
  'width',
  'title',
  'embed_html',
  'embed_link',
  'like_count',
  'comment_count',
  'share_count',
  'view_count',
])

export const MAX_COUNT = 20
export const DEFAULT_MAX_COUNT = 10

function fieldsOf(request: FastifyRequest, known: ReadonlySet<string>): string[] {
  const raw = one(request.query, 'fields')
  if (raw === undefined || raw.trim() === '') throw invalidParams('fields is required.')
  const names = [
    ...new Set(
      raw
        .slice(0, 2000)
        .split(',')
        .map((f) => f.trim())
        .filter((f) => f !== ''),
    ),
  ]
  const unknown = names.filter((n) => !known.has(n))
  if (unknown.length > 0) throw invalidParams(`Invalid fields: ${unknown.join(',').slice(0, 200)}`)
  return names
}

function requireScope(claims: TokenClaims, scope: string): void {
  if (!claims.p.includes(scope)) throw scopeNotAuthorized(scope)
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body))
    throw invalidParams('The request body must be a JSON object.')
  return body as Record<string, unknown>
}

export interface DataRouteDeps {
  readonly state: TiktokEmulatorState
  readonly baseUrl: () => string
  readonly respond: Respond
  readonly applyFaults: ApplyFaults
  readonly authenticate: Authenticate
}

export function dataRoutes(deps: DataRouteDeps): (app: FastifyInstance) => void {
  const { state, baseUrl, respond, applyFaults, authenticate } = deps

  const ok = (data: unknown) => ({
    body: { data, error: { code: 'ok', message: '', log_id: state.logId() } },
  })

  /** Faults, the token, then the endpoint's minute: what every call goes through first. */
  async function admit(request: FastifyRequest, path: string, ctx: CallContext) {
    await applyFaults(path)
    const auth = authenticate(request.headers.authorization)
    ctx.clientKey = auth.claims.c
    ctx.accountIndex = auth.account.index
    if (!state.admit(path)) throw rateLimitExceeded()
    return auth
  }

  function renderVideo(video: EmulatorVideo, owner: TiktokAccount, fields: readonly string[]) {
    const base = baseUrl()
    const share = `${base}/web/@${encodeURIComponent(owner.username)}/video/${video.id}`
    const n = Number(BigInt(video.id) % 9973n)
    const values: Record<string, unknown> = {
      id: video.id,
      create_time: video.createTime,
      cover_image_url: signedUrl(state, base, `cover/${video.id}`),
      share_url: share,
      video_description: video.description,
      duration: video.durationSeconds,
      height: video.height,
      width: video.width,
      title: video.title,
      embed_html: `<blockquote class="tiktok-embed" cite="${share}" data-video-id="${video.id}"><section></section></blockquote>`,
      embed_link: `${base}/web/player/v1/${video.id}`,
      like_count: n * 3,
      comment_count: n % 97,
      share_count: n % 41,
      view_count: n * 29,
    }
    return Object.fromEntries(fields.map((f) => [f, values[f]]))
  }

  const publicVideos = (account: TiktokAccount) =>
    account.videos.filter((v) => v.privacy === 'public')

  return (app) => {
    app.get('/v2/user/info/', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        const { account, claims } = await admit(request, '/v2/user/info/', ctx)
        const fields = fieldsOf(request, new Set(USER_FIELD_SCOPES.keys()))
        for (const f of fields) requireScope(claims, USER_FIELD_SCOPES.get(f) ?? 'user.info.basic')
        const base = baseUrl()
        const avatar = signedUrl(state, base, `avatar/${account.openId}`)
        const values: Record<string, unknown> = {
          open_id: account.openId,
          union_id: account.unionId,
          avatar_url: avatar,
          avatar_url_100: avatar,
          avatar_large_url: avatar,
          display_name: account.displayName,
          bio_description: account.bio,
          profile_deep_link: `${base}/web/@${encodeURIComponent(account.username)}`,
          is_verified: account.verified,
          username: account.username,
          follower_count: account.followerCount,
          following_count: account.followingCount,
          likes_count: account.likesCount,
          video_count: publicVideos(account).length,
        }
        return ok({ user: Object.fromEntries(fields.map((f) => [f, values[f]])) })
      }),
    )

    app.post('/v2/video/list/', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        const { account, claims } = await admit(request, '/v2/video/list/', ctx)
        requireScope(claims, 'video.list')
        const fields = fieldsOf(request, VIDEO_FIELD_NAMES)
        const body = bodyObject(request.body)
        const maxCount = body.max_count ?? DEFAULT_MAX_COUNT
        if (
          typeof maxCount !== 'number' ||
          !Number.isInteger(maxCount) ||
          maxCount < 1 ||
          maxCount > MAX_COUNT
        )
          throw invalidParams(`max_count must be an integer from 1 to ${MAX_COUNT}.`)
        const cursor = body.cursor ?? 0
        if (typeof cursor !== 'number' || !Number.isSafeInteger(cursor) || cursor < 0)
          throw invalidParams('cursor must be a UTC Unix timestamp in milliseconds.')
        const older = publicVideos(account).filter(
          (v) => cursor === 0 || v.createTime * 1000 < cursor,
        )
        const page = older.slice(0, maxCount)
        const last = page[page.length - 1]
        return ok({
          videos: page.map((v) => renderVideo(v, account, fields)),
          cursor: last === undefined ? cursor : last.createTime * 1000,
          has_more: older.length > page.length,
        })
      }),
    )

    app.post('/v2/video/query/', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        const { account, claims } = await admit(request, '/v2/video/query/', ctx)
        requireScope(claims, 'video.list')
        const fields = fieldsOf(request, VIDEO_FIELD_NAMES)
        const body = bodyObject(request.body)
        const filters = body.filters
        const ids =
          typeof filters === 'object' && filters !== null && !Array.isArray(filters)
            ? (filters as Record<string, unknown>).video_ids
            : undefined
        if (
          !Array.isArray(ids) ||
          ids.length < 1 ||
          ids.length > MAX_COUNT ||
          !ids.every((id) => typeof id === 'string' && id.length <= 32)
        )
          throw invalidParams(`filters.video_ids must list 1 to ${MAX_COUNT} video ids.`)
        const own = new Map(publicVideos(account).map((v) => [v.id, v]))
        const found = [...new Set(ids as string[])]
          .map((id) => own.get(id))
          .filter((v): v is EmulatorVideo => v !== undefined)
        return ok({ videos: found.map((v) => renderVideo(v, account, fields)) })
      }),
    )
  }
}
