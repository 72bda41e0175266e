/**
 * @module providers/instagram/emulator/cdn-routes — the emulator's media CDN,
 * `GET /cdn/v/{media-id}.svg?oe=&oh=`: signed URLs with an expiry (the signing is the shared
 * core's, `emulator-core/cdn.ts`), answered like fbcdn (403 "URL signature expired" / "Bad URL
 * hash"), serving generated pictures (drawn as SVG, served as JPEG: `emulator-core/raster.ts`).
 */
import type { FastifyInstance } from 'fastify'
import { rasterize } from '../../emulator-core/raster.ts'
import { one } from '../../emulator-core/query.ts'
import { renderSvg } from './demo-data.ts'
import type { EmulatorState } from './state.ts'

const TEXT = 'text/plain; charset=utf-8'
const JPEG = 'image/jpeg'

/** Registers the CDN route on the emulator's plugin. */
export function cdnRoutes(state: EmulatorState): (app: FastifyInstance) => void {
  return (app) => {
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
          .type(JPEG)
          .header('cache-control', 'public, max-age=86400')
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
      return reply
        .type(JPEG)
        .header('cache-control', 'public, max-age=86400')
        .send(await rasterize(renderSvg(found.media, found.media.media_type)))
    })
  }
}
