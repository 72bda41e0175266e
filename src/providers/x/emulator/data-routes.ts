/**
 * @module providers/x/emulator/data-routes — the read side of the X API v2 the gallery uses:
 * - `GET /2/users/me?user.fields=…`
 * - `GET /2/users/:id/tweets?max_results=&pagination_token=&since_id=&until_id=&exclude=&expansions=&media.fields=&tweet.fields=`
 *
 * Every call, in this order: faults; the access token (401 problem); the 15-minute window of the
 * user and endpoint (75 and 900 requests; `x-rate-limit-limit/remaining/reset` on every answer,
 * 429 once spent); the App's billing (`402 credits-depleted` once credits are spent, `429
 * UsageCapExceeded` once the month's post reads reach the cap); the scopes; the parameters
 * (`{errors}` 400 `invalid-request`). A timeline reaches only the newest 3,200 posts of the
 * account (replies and reposts included in that count); `exclude` then leaves replies and
 * reposts out. Fields are returned only when asked for, as X does; `post.fields` is accepted as
 * well as `tweet.fields`. Each post returned is billed (post reads), `/2/users/me` is a user read.
 */
import type { FastifyInstance } from 'fastify'
import { one } from '../../emulator-core/query.ts'
import {
  creditsDepleted,
  forbiddenScope,
  invalidRequest,
  tooManyRequests,
  usageCapped,
  userNotFound,
  type CallContext,
} from './errors.ts'
import type { Respond } from './errors.ts'
import type { ApplyFaults } from './faults.ts'
import type { Authenticate } from './oauth-routes.ts'
import {
  TIMELINE_WINDOW,
  type EmulatorMedia,
  type EmulatorPost,
  type RateEndpoint,
  type XAccount,
  type XEmulatorState,
} from './state.ts'

const USER_FIELDS = new Set([
  'affiliation',
  'confirmed_email',
  'connection_status',
  'created_at',
  'description',
  'entities',
  'id',
  'is_identity_verified',
  'location',
  'most_recent_tweet_id',
  'name',
  'parody',
  'pinned_tweet_id',
  'profile_banner_url',
  'profile_image_url',
  'protected',
  'public_metrics',
  'receives_your_dm',
  'subscription',
  'subscription_type',
  'url',
  'username',
  'verified',
  'verified_followers_count',
  'verified_type',
  'withheld',
])
const POST_FIELDS = new Set([
  'article',
  'attachments',
  'author_id',
  'card_uri',
  'community_id',
  'context_annotations',
  'conversation_id',
  'created_at',
  'display_text_range',
  'edit_controls',
  'edit_history_tweet_ids',
  'entities',
  'geo',
  'id',
  'in_reply_to_user_id',
  'lang',
  'media_metadata',
  'note_tweet',
  'possibly_sensitive',
  'public_metrics',
  'referenced_tweets',
  'reply_settings',
  'scopes',
  'source',
  'suggested_source_links',
  'text',
  'withheld',
])
const MEDIA_FIELDS = new Set([
  'alt_text',
  'duration_ms',
  'height',
  'media_key',
  'non_public_metrics',
  'organic_metrics',
  'preview_image_url',
  'promoted_metrics',
  'public_metrics',
  'type',
  'url',
  'variants',
  'width',
])
const EXPANSIONS = new Set([
  'article.cover_media',
  'article.media_entities',
  'attachments.media_keys',
  'attachments.media_source_tweet',
  'attachments.poll_ids',
  'author_id',
  'edit_history_tweet_ids',
  'entities.mentions.username',
  'geo.place_id',
  'in_reply_to_user_id',
  'entities.note.mentions.username',
  'referenced_tweets.id',
  'referenced_tweets.id.attachments.media_keys',
  'referenced_tweets.id.author_id',
])
const EXCLUDES = new Set(['replies', 'retweets'])

/** The bit rates of a video's MP4 variants (kbit/s × 1000), by height. */
const VIDEO_VARIANTS = [
  { bitRate: 256_000, width: 480, height: 270 },
  { bitRate: 832_000, width: 640, height: 360 },
  { bitRate: 2_176_000, width: 1280, height: 720 },
] as const

/** A comma-separated list of known values; 400 `invalid-request` naming the first unknown one. */
function list(query: unknown, name: string, known: ReadonlySet<string>): Set<string> {
  const raw = one(query, name)
  if (raw === undefined) return new Set()
  const values = raw.slice(0, 2000).split(',')
  for (const value of values)
    if (!known.has(value))
      throw invalidRequest(
        name,
        raw,
        `The \`${name}\` query parameter value [${value.slice(0, 100)}] is not one of [${[...known].join(',')}]`,
      )
  return new Set(values)
}

const SNOWFLAKE = /^\d{1,19}$/

function idParam(query: unknown, name: string): bigint | null {
  const raw = one(query, name)
  if (raw === undefined) return null
  if (!SNOWFLAKE.test(raw))
    throw invalidRequest(
      name,
      raw,
      `The \`${name}\` query parameter value [${raw.slice(0, 100)}] does not match ^[0-9]{1,19}$`,
    )
  return BigInt(raw)
}

/** `pagination_token`: the id of the last post of the previous page, base32hex (0-9a-v). */
function pageToken(query: unknown): bigint | null {
  const raw = one(query, 'pagination_token')
  if (raw === undefined) return null
  if (!/^[0-9a-v]{1,16}$/.test(raw))
    throw invalidRequest(
      'pagination_token',
      raw,
      `The \`pagination_token\` query parameter value [${raw.slice(0, 100)}] is not valid`,
    )
  return [...raw].reduce((n, c) => n * 32n + BigInt(parseInt(c, 32)), 0n)
}

export interface DataRouteDeps {
  readonly state: XEmulatorState
  readonly baseUrl: () => string
  readonly respond: Respond
  readonly applyFaults: ApplyFaults
  readonly authenticate: Authenticate
}

export function dataRoutes(deps: DataRouteDeps): (app: FastifyInstance) => void {
  const { state, baseUrl, respond, applyFaults, authenticate } = deps

  /** Faults, the token, the window, the billing: what every data call goes through first. */
  async function admit(
    path: string,
    authorization: string | undefined,
    endpoint: RateEndpoint,
    ctx: CallContext,
  ): Promise<XAccount> {
    await applyFaults(path, ctx.headers)
    const { account, claims } = authenticate(authorization)
    ctx.clientId = claims.c
    ctx.accountIndex = account.index
    const window = state.countRequest(account.index, endpoint)
    Object.assign(ctx.headers, {
      'x-rate-limit-limit': String(window.limit),
      'x-rate-limit-remaining': String(window.remaining),
      'x-rate-limit-reset': String(Math.ceil(window.resetAt / 1000)),
    })
    if (!window.allowed) throw tooManyRequests()
    if (state.creditMicros !== null && state.creditMicros <= 0) throw creditsDepleted()
    if (state.postsReadThisMonth() >= state.settings.monthlyPostCap)
      throw usageCapped('1500000000000000999')
    const needed = ['tweet.read', 'users.read'].filter((s) => !claims.p.includes(s))
    if (needed.length > 0) throw forbiddenScope(needed)
    return account
  }

  const mediaUrl = (m: EmulatorMedia): string => `${baseUrl()}/pbs/media/${m.key}.jpg`

  function renderMedia(m: EmulatorMedia, fields: ReadonlySet<string>): Record<string, unknown> {
    const out: Record<string, unknown> = { media_key: m.key, type: m.type }
    if (fields.has('url') && m.type === 'photo') out.url = mediaUrl(m)
    if (fields.has('preview_image_url') && m.type !== 'photo')
      out.preview_image_url = `${baseUrl()}/pbs/ext_tw_video_thumb/${m.key}.jpg`
    if (fields.has('width')) out.width = m.width
    if (fields.has('height')) out.height = m.height
    if (fields.has('duration_ms') && m.durationMs !== null) out.duration_ms = m.durationMs
    if (fields.has('alt_text') && m.altText !== null) out.alt_text = m.altText
    if (fields.has('variants') && m.type !== 'photo') {
      const video = `${baseUrl()}/video/${m.key}`
      out.variants =
        m.type === 'animated_gif'
          ? [{ bit_rate: 0, content_type: 'video/mp4', url: `${video}/0.mp4` }]
          : [
              { content_type: 'application/x-mpegURL', url: `${video}/pl.m3u8` },
              ...VIDEO_VARIANTS.map((v) => ({
                bit_rate: v.bitRate,
                content_type: 'video/mp4',
                url: `${video}/${v.bitRate}.mp4`,
              })),
            ]
    }
    return out
  }

  function renderPost(p: EmulatorPost, fields: ReadonlySet<string>): Record<string, unknown> {
    const out: Record<string, unknown> = { id: p.id, text: p.text, edit_history_tweet_ids: [p.id] }
    if (fields.has('created_at')) out.created_at = new Date(p.createdAt).toISOString()
    if (fields.has('attachments') && p.media.length > 0)
      out.attachments = { media_keys: p.media.map((m) => m.key) }
    return out
  }

  return (app) => {
    app.get('/2/users/me', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        const account = await admit('/2/users/me', request.headers.authorization, 'me', ctx)
        const fields = list(request.query, 'user.fields', USER_FIELDS)
        const data: Record<string, unknown> = {
          id: account.id,
          name: account.name,
          username: account.username,
        }
        if (fields.has('profile_image_url'))
          data.profile_image_url = `${baseUrl()}/pbs/profile_images/${account.id}/avatar_normal.jpg`
        if (fields.has('public_metrics'))
          data.public_metrics = {
            followers_count: account.followers,
            following_count: 42,
            tweet_count: account.posts.length,
            listed_count: 1,
            like_count: 0,
            media_count: account.posts.filter((p) => p.media.length > 0).length,
          }
        state.bill(0, 1)
        return { body: { data } }
      }),
    )

    app.get('/2/users/:id/tweets', async (request, reply) =>
      respond(request, reply, async (ctx) => {
        const { id } = request.params as { id: string }
        await admit(request.url.split('?')[0] ?? '', request.headers.authorization, 'timeline', ctx)
        const q = request.query
        if (!SNOWFLAKE.test(id))
          throw invalidRequest(
            'id',
            id,
            `The \`id\` query parameter value [${id.slice(0, 100)}] does not match ^[0-9]{1,19}$`,
          )
        const rawMax = one(q, 'max_results')
        const max = rawMax === undefined ? 10 : Number(rawMax)
        if (!/^\d{1,3}$/.test(rawMax ?? '10') || max < 5 || max > 100)
          throw invalidRequest(
            'max_results',
            rawMax ?? '',
            `The \`max_results\` query parameter value [${(rawMax ?? '').slice(0, 10)}] is not between 5 and 100`,
          )
        const excludes = list(q, 'exclude', EXCLUDES)
        const expansions = list(q, 'expansions', EXPANSIONS)
        const mediaFields = list(q, 'media.fields', MEDIA_FIELDS)
        const postFields = new Set([
          ...list(q, 'tweet.fields', POST_FIELDS),
          ...list(q, 'post.fields', POST_FIELDS),
        ])
        const since = idParam(q, 'since_id')
        const until = idParam(q, 'until_id')
        const after = pageToken(q)
        const target = state.accountById(id)
        if (target === undefined) throw userNotFound(id)

        const reachable = target.posts
          .slice(0, TIMELINE_WINDOW)
          .filter(
            (p) =>
              !(excludes.has('replies') && p.reply) &&
              !(excludes.has('retweets') && p.retweet) &&
              (since === null || BigInt(p.id) > since) &&
              (until === null || BigInt(p.id) < until) &&
              (after === null || BigInt(p.id) < after),
          )
        const page = reachable.slice(0, max)
        ctx.postsRead = page.length
        state.bill(page.length, 0)
        if (page.length === 0) return { body: { meta: { result_count: 0 } } }
        const first = page[0] as EmulatorPost
        const last = page[page.length - 1] as EmulatorPost
        const meta: Record<string, unknown> = {
          result_count: page.length,
          newest_id: first.id,
          oldest_id: last.id,
        }
        if (reachable.length > page.length) meta.next_token = BigInt(last.id).toString(32)
        const body: Record<string, unknown> = { data: page.map((p) => renderPost(p, postFields)) }
        if (expansions.has('attachments.media_keys')) {
          const media = page.flatMap((p) => p.media).map((m) => renderMedia(m, mediaFields))
          if (media.length > 0) body.includes = { media }
        }
        body.meta = meta
        return { body }
      }),
    )
  }
}
