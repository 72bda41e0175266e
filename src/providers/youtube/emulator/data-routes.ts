/**
 * @module providers/youtube/emulator/data-routes — the read side of the YouTube Data API v3:
 * - `GET /youtube/v3/channels?part=…&mine=true` (or `id=UC…`)
 * - `GET /youtube/v3/playlistItems?part=…&playlistId=UU…&maxResults=&pageToken=` (uploads)
 * - `GET /youtube/v3/videos?part=…&id=a,b,…` (at most 50 ids)
 *
 * Every call, in Google's order: faults; the access token (`Authorization: Bearer`, or the
 * `access_token` query parameter), else 401 `authError` / `required` with `WWW-Authenticate`;
 * the quota (`quota.ts`: 1 unit, 403 `quotaExceeded` once spent); the scope (403
 * `insufficientPermissions` without youtube.readonly); then the parameters (`part` required,
 * an unknown part 400 `unknownPart`, a missing filter 400 `missingRequiredParameter`).
 *
 * What a caller sees: its own channel's private videos are listed (`videoPublishedAt` absent)
 * and returned by `videos`; another channel's private videos are neither; unlisted videos of
 * another channel are returned by id but not listed in its uploads. Deleted ids are absent.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { YOUTUBE_READONLY_SCOPE } from '../config.ts'
import { one } from '../../emulator-core/query.ts'
import { uploadsPlaylistId } from './demo-data.ts'
import {
  AUTH_ERROR_MESSAGE,
  apiError,
  noFilter,
  requiredParameter,
  type CallContext,
  type GoogleFailure,
  type Respond,
} from './errors.ts'
import type { ApplyFaults } from './faults.ts'
import type { Authenticate } from './oauth-routes.ts'
import { pageOf } from './paging.ts'
import { chargeQuota } from './quota.ts'
import { etag, renderChannel, renderPlaylistItem, renderVideo } from './render.ts'
import type { EmulatorVideo, GoogleAccount, YoutubeEmulatorState } from './state.ts'

/** Every part Google knows for each resource; those modelled are rendered, others add nothing. */
const CHANNEL_PARTS = new Set([
  'auditDetails',
  'brandingSettings',
  'contentDetails',
  'contentOwnerDetails',
  'id',
  'localizations',
  'snippet',
  'statistics',
  'status',
  'topicDetails',
])
const PLAYLIST_ITEM_PARTS = new Set(['contentDetails', 'id', 'snippet', 'status'])
const VIDEO_PARTS = new Set([
  'contentDetails',
  'fileDetails',
  'id',
  'liveStreamingDetails',
  'localizations',
  'paidProductPlacementDetails',
  'player',
  'processingDetails',
  'recordingDetails',
  'snippet',
  'statistics',
  'status',
  'suggestions',
  'topicDetails',
])

export const MAX_VIDEO_IDS = 50
const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/
const PLAYLIST_ID = /^[A-Za-z0-9_-]{2,64}$/

function parts(query: unknown, known: ReadonlySet<string>): Set<string> {
  const raw = one(query, 'part')
  if (raw === undefined || raw.trim() === '') throw requiredParameter('part')
  const names = raw
    .slice(0, 1000)
    .split(',')
    .map((p) => p.trim())
  for (const name of names) {
    if (!known.has(name)) {
      const shown = `'${name.slice(0, 100)}'`
      throw apiError(400, shown, {
        message: shown,
        domain: 'youtube.part',
        reason: 'unknownPart',
        location: 'part',
        locationType: 'parameter',
      })
    }
  }
  return new Set(names)
}

function missingCredentials(): GoogleFailure {
  return apiError(
    401,
    AUTH_ERROR_MESSAGE.replace(
      'Request had invalid authentication credentials.',
      'Request is missing required authentication credential.',
    ),
    {
      message: 'Login Required.',
      domain: 'global',
      reason: 'required',
      location: 'Authorization',
      locationType: 'header',
    },
    'UNAUTHENTICATED',
    { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
  )
}

function insufficientPermissions(): GoogleFailure {
  return apiError(
    403,
    'Request had insufficient authentication scopes.',
    { message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' },
    'PERMISSION_DENIED',
    {
      'www-authenticate': `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${YOUTUBE_READONLY_SCOPE}"`,
    },
  )
}

export interface DataRouteDeps {
  readonly state: YoutubeEmulatorState
  readonly baseUrl: () => string
  readonly respond: Respond
  readonly applyFaults: ApplyFaults
  readonly authenticate: Authenticate
}

/** Registers `/youtube/v3/{channels,playlistItems,videos}` on the emulator's plugin. */
export function dataRoutes(deps: DataRouteDeps): (app: FastifyInstance) => void {
  const { state, baseUrl, respond, applyFaults, authenticate } = deps

  /** Faults, token, quota, scope: what every call goes through before its parameters. */
  async function admit(request: FastifyRequest, path: string, ctx: CallContext) {
    await applyFaults(path)
    const bearer = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1]
    const token = bearer ?? one(request.query, 'access_token')
    if (token === undefined || token === '') throw missingCredentials()
    const { account, claims } = authenticate(token)
    ctx.clientId = claims.c
    ctx.accountIndex = account.index
    chargeQuota(state, ctx)
    if (!claims.p.includes(YOUTUBE_READONLY_SCOPE)) throw insufficientPermissions()
    return account
  }

  function listAnswer(kind: string, items: unknown[], fields: Record<string, unknown>) {
    const { pageInfo, ...tokens } = fields
    const body: Record<string, unknown> = { kind, etag: '', ...tokens, pageInfo }
    if (items.length > 0) body.items = items
    body.etag = etag(body)
    return body
  }

  function channels(request: FastifyRequest, account: GoogleAccount) {
    const query = request.query
    const wanted = parts(query, CHANNEL_PARTS)
    const mine = one(query, 'mine')
    const ids = one(query, 'id')
    let found: GoogleAccount[]
    if (mine === 'true') found = account.channel === null ? [] : [account]
    else if (ids !== undefined && ids !== '')
      found = ids
        .split(',')
        .slice(0, MAX_VIDEO_IDS)
        .map((id) => state.channelById(id.trim()))
        .filter((a): a is GoogleAccount => a !== undefined)
    else throw noFilter(['categoryId', 'forHandle', 'forUsername', 'id', 'managedByMe', 'mine'])
    const items = found.flatMap((a) =>
      a.channel === null ? [] : [renderChannel(baseUrl(), a.channel, wanted)],
    )
    return listAnswer('youtube#channelListResponse', items, {
      pageInfo: { totalResults: items.length, resultsPerPage: 5 },
    })
  }

  function playlistItems(request: FastifyRequest, account: GoogleAccount) {
    const query = request.query
    const wanted = parts(query, PLAYLIST_ITEM_PARTS)
    const playlistId = one(query, 'playlistId')
    if (playlistId === undefined || playlistId === '') throw noFilter(['id', 'playlistId'])
    const owner = PLAYLIST_ID.test(playlistId)
      ? state.accounts.find(
          (a) => a.channel !== null && uploadsPlaylistId(a.channel.id) === playlistId,
        )
      : undefined
    const channel = owner?.channel
    if (owner === undefined || channel == null)
      throw apiError(
        404,
        "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.",
        {
          message: 'Playlist not found.',
          domain: 'youtube.playlistItem',
          reason: 'playlistNotFound',
          location: 'playlistId',
          locationType: 'parameter',
        },
      )
    const isOwner = owner.index === account.index
    // the uploads playlist as its viewer sees it: another channel's public videos only
    const visible = channel.videos.filter((v) => isOwner || v.privacy === 'public')
    const page = pageOf(
      visible.map((video, position) => ({ video, position })),
      query,
    )
    const items = page.items.map(({ video, position }) =>
      renderPlaylistItem(baseUrl(), channel, video, position, wanted),
    )
    return listAnswer('youtube#playlistItemListResponse', items, page.fields)
  }

  function videos(request: FastifyRequest, account: GoogleAccount) {
    const query = request.query
    const wanted = parts(query, VIDEO_PARTS)
    const raw = one(query, 'id')
    if (raw === undefined || raw === '') throw noFilter(['chart', 'id', 'myRating'])
    const ids = [...new Set(raw.split(',').map((id) => id.trim()))].filter((id) => id !== '')
    if (ids.length > MAX_VIDEO_IDS || raw.length > MAX_VIDEO_IDS * 13)
      throw apiError(400, 'The request specifies an invalid filter parameter.', {
        message: 'The request specifies an invalid filter parameter.',
        domain: 'youtube.parameter',
        reason: 'invalidFilters',
        location: 'id',
        locationType: 'parameter',
      })
    const items: unknown[] = []
    for (const id of ids) {
      if (!VIDEO_ID.test(id)) continue
      const found = state.findVideo(id)
      if (found === null || found.account.channel === null) continue
      const video: EmulatorVideo = found.video
      if (video.privacy === 'private' && found.account.index !== account.index) continue
      items.push(renderVideo(baseUrl(), found.account.channel, video, wanted))
    }
    return listAnswer('youtube#videoListResponse', items, {
      pageInfo: { totalResults: items.length, resultsPerPage: items.length },
    })
  }

  const lists = { channels, playlistItems, videos } as const

  return (app) => {
    for (const [name, handler] of Object.entries(lists)) {
      const path = `/youtube/v3/${name}`
      app.get(path, async (request, reply) =>
        respond(request, reply, async (ctx) => {
          const account = await admit(request, path, ctx)
          return { body: handler(request, account) }
        }),
      )
    }
  }
}
