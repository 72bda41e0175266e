/**
 * @module providers/tiktok/emulator/cdn-routes — the emulator's picture CDN (TikTok's
 * `p16-sign.tiktokcdn-us.com` in the real world) and the few web pages a link leads to:
 * - `GET /cdn/cover/:videoId?x-expires=&x-signature=` — a video's cover (a JPEG);
 * - `GET /cdn/avatar/:openId?x-expires=&x-signature=` — an account's avatar (a JPEG);
 * - `GET /web/@:username/video/:id`, `GET /web/player/v1/:id` — share and embed links.
 *
 * Cover and avatar URLs are signed like TikTok's: `x-expires` is UTC epoch seconds (the start of
 * the current hour plus 6 hours, so a URL stays the same within an hour and lives 5 to 6 hours),
 * `x-signature` a base64 HMAC of the resource and its expiry. An expired URL answers 403, a bad
 * signature 403, an unknown picture 404. Not metered, no faults.
 */
import { createHmac } from 'node:crypto'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { rasterize } from '../../emulator-core/raster.ts'
import { escapeHtml } from '../../../html.ts'
import { sameSignature } from '../../emulator-core/signing.ts'
import { one } from '../../emulator-core/query.ts'
import { renderAvatarSvg, renderCoverSvg } from './demo-data.ts'
import { COVER_TTL_MS, type TiktokEmulatorState } from './state.ts'

const TEXT = 'text/plain; charset=utf-8'
const JPEG = 'image/jpeg'
const HOUR_MS = 3_600_000

/** The `x-expires` of a URL signed at `now`: epoch seconds, 5 to 6 hours ahead. */
export function signedExpiry(now: number): number {
  return Math.floor((Math.floor(now / HOUR_MS) * HOUR_MS + COVER_TTL_MS) / 1000)
}

function signature(state: TiktokEmulatorState, resource: string, expires: string): string {
  return createHmac('sha256', state.settings.signingSecret)
    .update(`cdn:${resource}:${expires}`)
    .digest()
    .subarray(0, 20)
    .toString('base64')
}

/** A signed CDN URL for `resource` (`cover/<id>` or `avatar/<open_id>`) under `base`. */
export function signedUrl(state: TiktokEmulatorState, base: string, resource: string): string {
  const expires = String(signedExpiry(state.clock.now()))
  const url = new URL(`${base}/cdn/${resource}`)
  url.searchParams.set('x-expires', expires)
  url.searchParams.set('x-signature', signature(state, resource, expires))
  return url.toString()
}

type Verdict = 'ok' | 'expired' | 'bad'

function verify(state: TiktokEmulatorState, resource: string, query: unknown): Verdict {
  const expires = one(query, 'x-expires') ?? ''
  const given = one(query, 'x-signature') ?? ''
  if (!/^\d{1,11}$/.test(expires) || !sameSignature(signature(state, resource, expires), given))
    return 'bad'
  return Number(expires) * 1000 <= state.clock.now() ? 'expired' : 'ok'
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><p><strong>SANDBOX · TikTok emulator</strong></p>${body}</body></html>`
}

export function cdnRoutes(state: TiktokEmulatorState): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/cdn/cover/:videoId', async (request, reply) => {
      const { videoId } = request.params as { videoId: string }
      const verdict = verify(state, `cover/${videoId}`, request.query)
      if (verdict !== 'ok')
        return reply
          .code(403)
          .type(TEXT)
          .send(verdict === 'expired' ? 'URL expired' : 'Access Denied')
      const found = /^\d{1,32}$/.test(videoId) ? state.findVideo(videoId) : null
      if (found === null) return reply.code(404).type(TEXT).send('Not Found')
      return reply
        .type(JPEG)
        .header('cache-control', 'public, max-age=3600')
        .send(await rasterize(renderCoverSvg(found.video, found.account.username)))
    })

    app.get('/cdn/avatar/:openId', async (request, reply) => {
      const { openId } = request.params as { openId: string }
      const verdict = verify(state, `avatar/${openId}`, request.query)
      if (verdict !== 'ok')
        return reply
          .code(403)
          .type(TEXT)
          .send(verdict === 'expired' ? 'URL expired' : 'Access Denied')
      const account = state.accountByOpenId(openId)
      if (account === undefined) return reply.code(404).type(TEXT).send('Not Found')
      return reply
        .type(JPEG)
        .header('cache-control', 'public, max-age=3600')
        .send(await rasterize(renderAvatarSvg(account, 168)))
    })

    const videoPage = async (id: string, reply: FastifyReply) => {
      const found = state.findVideo(id)
      if (found === null || found.video.privacy !== 'public')
        return reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(page('Not found', '<p>This video is unavailable.</p>'))
      return reply
        .type('text/html; charset=utf-8')
        .send(
          page(
            found.video.title,
            `<h1>${escapeHtml(found.video.title)}</h1><p>@${escapeHtml(found.account.username)} · ${found.video.durationSeconds}s</p><p>${escapeHtml(found.video.description)}</p>`,
          ),
        )
    }
    app.get('/web/@:username/video/:id', async (request, reply) =>
      videoPage((request.params as { id: string }).id, reply),
    )
    app.get('/web/player/v1/:id', async (request, reply) =>
      videoPage((request.params as { id: string }).id, reply),
    )
  }
}
