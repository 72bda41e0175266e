/**
 * @module providers/youtube/emulator/cdn-routes — the emulator's picture CDN (i.ytimg.com and
 * yt3.ggpht.com in the real world): `GET /vi/:videoId/:file` (`default.jpg`, `mqdefault.jpg`,
 * `hqdefault.jpg`, and `sddefault.jpg` / `maxresdefault.jpg` for HD videos; `*_live.jpg` for a
 * broadcast live or upcoming) and `GET /avatars/:channelId/:size` (`s88-c-k`, `s240-c-k`,
 * `s800-c-k`). The pictures are generated JPEGs (drawn as SVG by `renderVideoSvg`, `renderAvatarSvg`). URLs are
 * stable, with no signature or expiry: YouTube's thumbnails do not expire. Anything else is 404.
 * Not metered, no faults.
 */
import type { FastifyInstance } from 'fastify'
import { rasterize } from '../../emulator-core/raster.ts'
import { renderAvatarSvg, renderVideoSvg } from './demo-data.ts'
import { AVATAR_SIZES, thumbnailFiles } from './render.ts'
import type { YoutubeEmulatorState } from './state.ts'

const TEXT = 'text/plain; charset=utf-8'
const JPEG = 'image/jpeg'
const CACHE = 'public, max-age=7200'

export function cdnRoutes(state: YoutubeEmulatorState): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/vi/:videoId/:file', async (request, reply) => {
      const { videoId, file } = request.params as { videoId: string; file: string }
      const found = /^[A-Za-z0-9_-]{11}$/.test(videoId) ? state.findVideo(videoId) : null
      if (
        found === null ||
        found.account.channel === null ||
        !thumbnailFiles(found.video).includes(file)
      )
        return reply.code(404).type(TEXT).send('Not Found')
      return reply
        .type(JPEG)
        .header('cache-control', CACHE)
        .send(await rasterize(renderVideoSvg(found.video, found.account.channel.title)))
    })

    app.get('/avatars/:channelId/:size', async (request, reply) => {
      const { channelId, size } = request.params as { channelId: string; size: string }
      const channel = state.channelById(channelId)?.channel
      const px = Object.hasOwn(AVATAR_SIZES, size)
        ? AVATAR_SIZES[size as keyof typeof AVATAR_SIZES]
        : undefined
      if (channel == null || px === undefined) return reply.code(404).type(TEXT).send('Not Found')
      return reply
        .type(JPEG)
        .header('cache-control', CACHE)
        .send(await rasterize(renderAvatarSvg(channel, px)))
    })
  }
}
