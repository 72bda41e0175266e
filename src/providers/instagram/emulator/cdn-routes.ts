/**
 * @module providers/instagram/emulator/cdn-routes — the emulator's media CDN,
 * `GET /cdn/v/{media-id}.svg?oe=&oh=` (a picture, a video's poster `t{id}`, a profile picture
 * `p{id}`) and `GET /cdn/v/{media-id}.mp4?oe=&oh=` (a VIDEO's file): signed URLs with an expiry
 * (the signing is the shared core's, `emulator-core/cdn.ts`; a video's URL signs its extension),
 * answered like fbcdn (403 "URL signature expired" / "Bad URL hash"). Pictures are generated
 * (drawn as SVG, served as JPEG: `emulator-core/raster.ts`); videos are a real ~3 s H.264 clip made
 * by ffmpeg at the first request (`emulator-core/video-route.ts`: one per size, shared by every
 * video; 9:16 for Reels, square in albums, with byte ranges; 503 without ffmpeg).
 */
import type { FastifyInstance } from 'fastify'
import { rasterize } from '../../emulator-core/raster.ts'
import { one } from '../../emulator-core/query.ts'
import { demoClips, sendDemoClip } from '../../emulator-core/video-route.ts'
import { renderSvg } from './demo-data.ts'
import type { EmulatorState } from './state.ts'

const TEXT = 'text/plain; charset=utf-8'
const JPEG = 'image/jpeg'
const CACHE = 'public, max-age=86400'

/** The clips every sandbox video plays: Reels portrait 9:16, album videos square. */
const clips = demoClips('instagram-sandbox', 3)
const REEL = { width: 360, height: 640 }
const SQUARE = { width: 480, height: 480 }

/** Registers the CDN route on the emulator's plugin. */
export function cdnRoutes(state: EmulatorState): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/cdn/v/:file', async (request, reply) => {
      const file = (request.params as { file: string }).file
      const match = /^([pt]?)(\d{5,25})\.(svg|mp4)$/.exec(file)
      const q = request.query as Record<string, unknown>
      const oe = one(q, 'oe') ?? ''
      const oh = one(q, 'oh') ?? ''
      if (match === null) return reply.code(404).type(TEXT).send('Not found')
      const [, prefix = '', id = '', ext = ''] = match
      if (ext === 'mp4' && prefix !== '') return reply.code(404).type(TEXT).send('Not found')
      const resource = ext === 'mp4' ? `${id}.mp4` : `${prefix}${id}`
      const verdict = state.verifyCdnUrl(resource, oe, oh)
      if (verdict === 'expired') return reply.code(403).type(TEXT).send('URL signature expired')
      if (verdict === 'bad') return reply.code(403).type(TEXT).send('Bad URL hash')
      if (prefix === 'p') {
        const user = state.users.find((u) => u.user_id === id)
        if (user === undefined) return reply.code(404).type(TEXT).send('Not found')
        return reply
          .type(JPEG)
          .header('cache-control', CACHE)
          .send(
            await rasterize(
              renderSvg(
                {
                  hue: user.index * 67,
                  caption: null,
                  media_type: 'IMAGE',
                  username: user.username,
                },
                user.username,
              ),
            ),
          )
      }
      const found = state.findMedia(id)
      if (found === null) return reply.code(404).type(TEXT).send('Not found')
      if (ext === 'mp4') {
        if (found.media.media_type !== 'VIDEO') return reply.code(404).type(TEXT).send('Not found')
        const size = found.media.media_product_type === 'REELS' ? REEL : SQUARE
        return sendDemoClip(request, reply, () => clips(size.width, size.height), {
          cacheControl: CACHE,
          ranges: true,
        })
      }
      return reply
        .type(JPEG)
        .header('cache-control', CACHE)
        .send(await rasterize(renderSvg(found.media, found.media.media_type)))
    })
  }
}
