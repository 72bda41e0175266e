/**
 * @module http/routes/pages — the minimal web pages: the gallery shell (which also shows the
 * OAuth callback's result) and the popup result page. No inline scripts: a strict CSP applies.
 * The full web app arrives with the web-app issue.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { GalleryError } from '../../errors.ts'
import { CALLBACK_OUTCOMES, SANDBOX_NOTICE, isCallbackOutcomeCode } from '../../socials/messages.ts'
import type { AppContext } from '../context.ts'

const STATIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/static')
const STATIC_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
}

export function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function one(query: unknown, key: string): string | undefined {
  const value = (query as Record<string, unknown>)[key]
  return typeof value === 'string' ? value : undefined
}

/** The callback outcome carried in the landing URL, as an HTML notice (escaped). */
export function outcomeNotice(query: unknown): string {
  const connect = one(query, 'connect')
  if (connect === 'success') {
    return '<div class="notice ok" role="status"><strong>Instagram account connected.</strong> Press “Sync now” to fetch its media.</div>'
  }
  const reason = one(query, 'reason')
  if (connect !== 'error' || reason === undefined || !isCallbackOutcomeCode(reason)) return ''
  const outcome = CALLBACK_OUTCOMES[reason]
  const detail = one(query, 'detail')
  return `<div class="notice error" role="alert" data-reason="${reason}"><strong>${escapeHtml(outcome.message)}</strong>${
    detail === undefined ? '' : `: ${escapeHtml(detail.slice(0, 300))}`
  }<p>${escapeHtml(outcome.next)}</p></div>`
}

export function pagesRoutes(ctx: AppContext) {
  const assets = new Map<string, { body: Buffer; type: string }>()
  for (const name of ['gallery.js', 'gallery.css', 'popup-result.js']) {
    const ext = name.split('.').pop() ?? ''
    assets.set(name, {
      body: readFileSync(resolve(STATIC_DIR, name)),
      type: STATIC_TYPES[ext] ?? 'application/octet-stream',
    })
  }
  const imgSources =
    ctx.instagramMode === 'real'
      ? "'self' https://*.cdninstagram.com https://*.fbcdn.net"
      : "'self'"
  const csp = `default-src 'self'; script-src 'self'; style-src 'self'; img-src ${imgSources}; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`
  const sandboxBanner =
    ctx.instagramMode === 'sandbox'
      ? `<div class="sandbox" role="note"><strong>Sandbox.</strong> ${escapeHtml(SANDBOX_NOTICE.replace(/^Sandbox: /, ''))}</div>`
      : ''

  function html(reply: FastifyReply, title: string, body: string, script: string): FastifyReply {
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .header('cache-control', 'no-store')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="/static/gallery.css"></head><body>${body}<script type="module" src="/static/${script}"></script></body></html>`,
      )
  }

  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/', async (_request, reply) => reply.redirect('/gallery', 302))
    app.get('/gallery', async (request, reply) =>
      html(
        reply,
        'Phoenix Social Gallery',
        `<header><h1>Phoenix Social Gallery</h1><div id="who"></div></header>${sandboxBanner}<main>${outcomeNotice(request.query)}<div id="app" aria-live="polite"></div></main>`,
        'gallery.js',
      ),
    )
    app.get('/oauth/popup-result', async (request, reply) =>
      html(
        reply,
        'Connecting…',
        `<main>${outcomeNotice(request.query)}<p><a href="/gallery">Back to the gallery</a></p></main>`,
        'popup-result.js',
      ),
    )
    app.get<{ Params: { name: string } }>('/static/:name', async (request, reply) => {
      const asset = assets.get(request.params.name)
      if (asset === undefined) throw new GalleryError('ERR_NOT_FOUND', 'No such file')
      return reply.type(asset.type).header('cache-control', 'public, max-age=300').send(asset.body)
    })
  }
}
