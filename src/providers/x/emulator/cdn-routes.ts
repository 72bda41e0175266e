/**
 * @module providers/x/emulator/cdn-routes — the emulator's media CDN (pbs.twimg.com and
 * video.twimg.com in the real world): `GET /pbs/media/:key.jpg` (a photo),
 * `GET /pbs/ext_tw_video_thumb/:key.jpg` (a video's or GIF's still),
 * `GET /pbs/profile_images/:userId/avatar_normal.jpg`, and `GET /video/:key/:variant` (`<bit
 * rate>.mp4` or `pl.m3u8`). Pictures are generated (SVG rendered to JPEG); videos are one real
 * 3-second H.264 clip made by ffmpeg. URLs are stable, with no signature or expiry, like X's.
 * Anything else is 404. Not metered, no faults.
 */
import type { FastifyInstance } from 'fastify'
import { rasterize } from '../../emulator-core/raster.ts'
import { demoClips, sendDemoClip } from '../../emulator-core/video-route.ts'
import { renderMediaSvg } from './demo-data.ts'
import type { XEmulatorState } from './state.ts'

const TEXT = 'text/plain; charset=utf-8'

/** The one demo clip every sandbox video plays: 3 s, 360 × 640, deterministic. */
const clips = demoClips('x-sandbox', 3)
const sandboxClip = () => clips(360, 640)
const JPEG = 'image/jpeg'
const CACHE = 'public, max-age=604800'
const KEY_FILE = /^(\d{1,3}_\d{1,19})\.jpg$/

export function cdnRoutes(state: XEmulatorState): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/pbs/media/:file', async (request, reply) => {
      const { file } = request.params as { file: string }
      const key = KEY_FILE.exec(file)?.[1]
      const media = key === undefined ? null : state.findMedia(key)
      if (media === null || media.type !== 'photo')
        return reply.code(404).type(TEXT).send('Not Found')
      return reply
        .type(JPEG)
        .header('cache-control', CACHE)
        .send(await rasterize(renderMediaSvg('photo', media.hue, media.width, media.height)))
    })

    app.get('/pbs/ext_tw_video_thumb/:file', async (request, reply) => {
      const { file } = request.params as { file: string }
      const key = KEY_FILE.exec(file)?.[1]
      const media = key === undefined ? null : state.findMedia(key)
      if (media === null || media.type === 'photo')
        return reply.code(404).type(TEXT).send('Not Found')
      return reply
        .type(JPEG)
        .header('cache-control', CACHE)
        .send(
          await rasterize(
            renderMediaSvg(
              media.type === 'video' ? 'video' : 'GIF',
              media.hue,
              media.width,
              media.height,
            ),
          ),
        )
    })

    app.get('/pbs/profile_images/:userId/:file', async (request, reply) => {
      const { userId, file } = request.params as { userId: string; file: string }
      const account = state.accountById(userId)
      if (account === undefined || file !== 'avatar_normal.jpg')
        return reply.code(404).type(TEXT).send('Not Found')
      return reply
        .type(JPEG)
        .header('cache-control', CACHE)
        .send(
          await rasterize(
            renderMediaSvg(account.username.slice(0, 1).toUpperCase(), account.hue, 48, 48),
          ),
        )
    })

    app.get('/video/:key/:variant', async (request, reply) => {
      const { key, variant } = request.params as { key: string; variant: string }
      const media = /^\d{1,3}_\d{1,19}$/.test(key) ? state.findMedia(key) : null
      if (media === null || media.type === 'photo' || !/^(?:\d{1,9}\.mp4|pl\.m3u8)$/.test(variant))
        return reply.code(404).type(TEXT).send('Not Found')
      if (variant === 'pl.m3u8')
        return reply
          .type('application/x-mpegURL')
          .header('cache-control', CACHE)
          .send('#EXTM3U\n#EXT-X-ENDLIST\n')
      // a real short H.264 clip (made once by ffmpeg; 503 without it); whole, as before
      return sendDemoClip(request, reply, sandboxClip, { cacheControl: CACHE, ranges: false })
    })
  }
}
