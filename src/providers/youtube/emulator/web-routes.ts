/**
 * @module providers/youtube/emulator/web-routes — the bits of youtube.com the app touches:
 * - `GET|HEAD /web/shorts/:id` — 200 for a Short; 303 with `Location: <base>/web/watch?v=<id>`
 *   for any other video and for unknown ids (what youtube.com does, and how the app tells a
 *   Short apart, since the Data API has no field for it)
 * - `GET /web/watch?v=` — a minimal watch page (title escaped; "Video unavailable" for an
 *   unknown or private video)
 *
 * Fastify answers `HEAD` from the `GET` routes, without a body. Not metered, no faults.
 */
import type { FastifyInstance } from 'fastify'
import { escapeHtml } from '../../../html.ts'
import { one } from '../../emulator-core/query.ts'
import { thumbnailFiles } from './render.ts'
import type { EmulatorVideo, YoutubeEmulatorState } from './state.ts'

const HTML = 'text/html; charset=utf-8'
const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/

/** The `high` picture of a video (`hqdefault.jpg`, or `hqdefault_live.jpg` on air). */
function poster(base: string, video: EmulatorVideo): string {
  return `${base}/vi/${video.id}/${thumbnailFiles(video)[2] ?? 'default.jpg'}`
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} - YouTube (sandbox)</title>
<style>body{font-family:system-ui,Roboto,sans-serif;margin:0;padding:24px;background:#0f0f0f;color:#f1f1f1}.frame{background:#272727;border-radius:12px;display:grid;place-items:center;color:#aaa}img{max-width:100%;border-radius:12px}</style></head><body>${body}</body></html>`
}

export function webRoutes(
  state: YoutubeEmulatorState,
  baseUrl: () => string,
): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/web/shorts/:id', async (request, reply) => {
      const id = (request.params as { id: string }).id
      const found = VIDEO_ID.test(id) ? state.findVideo(id) : null
      if (found === null || !found.video.short)
        return reply
          .code(303)
          .header('location', `${baseUrl()}/web/watch?v=${encodeURIComponent(id)}`)
          .send()
      return reply
        .type(HTML)
        .send(
          page(
            found.video.title,
            `<h1>${escapeHtml(found.video.title)}</h1><img alt="" src="${escapeHtml(poster(baseUrl(), found.video))}">`,
          ),
        )
    })

    app.get('/web/watch', async (request, reply) => {
      const id = one(request.query, 'v') ?? ''
      const found = VIDEO_ID.test(id) ? state.findVideo(id) : null
      if (found === null || found.video.privacy === 'private' || found.account.channel === null)
        return reply
          .type(HTML)
          .send(
            page(
              'Video unavailable',
              '<h1>Video unavailable</h1><p>This video is unavailable.</p>',
            ),
          )
      const { video } = found
      return reply
        .type(HTML)
        .send(
          page(
            video.title,
            `<img alt="" src="${escapeHtml(poster(baseUrl(), video))}"><h1 id="title">${escapeHtml(video.title)}</h1><p>${escapeHtml(found.account.channel.title)}</p><p>${escapeHtml(video.description)}</p>`,
          ),
        )
    })
  }
}
