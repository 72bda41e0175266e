/**
 * @module providers/instagram/emulator/graph-routes — the Graph nodes,
 * `GET /graph/[vNN.N/]{node}[/{edge}]`: `/me` (or the user's ids), `/me/media`, a media node and
 * `/{id}/children`, with Meta's field rendering (`fields=` with expansion, unknown fields refused
 * as Meta refuses them), usage headers on every answer, and the hourly budget.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { one } from '../../emulator-core/query.ts'
import { instagramUserId } from './demo-data.ts'
import { graphError, type Respond } from './errors.ts'
import type { ApplyFaults } from './faults.ts'
import { parseFields, type FieldTree } from './fields.ts'
import type { Authenticate } from './oauth-routes.ts'
import { createPager } from './paging.ts'
import type { EmulatorMedia, EmulatorState, EmulatorUser } from './state.ts'
import type { Usage } from './usage.ts'

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

export interface GraphRouteDeps {
  readonly state: EmulatorState
  readonly baseUrl: () => string
  readonly respond: Respond
  readonly applyFaults: ApplyFaults
  readonly authenticate: Authenticate
  readonly usage: Usage
}

/** Registers `/graph/*` (the nodes and edges) on the emulator's plugin. */
export function graphRoutes(deps: GraphRouteDeps): (app: FastifyInstance) => void {
  const { state, baseUrl, respond, applyFaults, authenticate } = deps
  const { usageHeaders, requireBudget } = deps.usage

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
          // a VIDEO's media_url is its MP4 (Meta: a signed CDN URL); the picture is thumbnail_url
          out.media_url = state.signCdnUrl(
            baseUrl(),
            media.id,
            media.media_type === 'VIDEO' ? 'mp4' : 'svg',
          )
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

  const pageOf = createPager(baseUrl, renderMedia)

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

  return (app) => {
    app.get('/graph/*', async (request, reply) => {
      const path = (request.params as { '*': string })['*']
      const parts = path.split('/').filter((p) => p !== '')
      return respond(request, reply, async () => {
        const result = await graphNode(request, parts)
        const claims = state.parseToken(one(request.query, 'access_token') ?? '')
        return { ...result, userIndex: claims?.u ?? null }
      })
    })
  }
}
