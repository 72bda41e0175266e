/**
 * @module http/routes/pages — serves the web app built by Vite (`dist/web`): the gallery page,
 * the popup result page and their hashed assets, under a strict Content-Security-Policy (no
 * inline scripts or styles; images and videos only from us and the media hosts in use).
 *
 * The callback's outcome and the sandbox notice are also written into the page on the server,
 * so a person sees them even before (or without) the script.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { PACKAGE_ROOT } from '../../paths.ts'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { GalleryError } from '../../errors.ts'
import {
  callbackOutcomeText,
  connectedText,
  sandboxNotice,
  isCallbackOutcomeCode,
} from '../../socials/messages.ts'
import type { AppContext } from '../context.ts'
import { escapeHtml } from '../../html.ts'
import type { LandingOutcome } from '../landing-outcome.ts'
import { CONNECTABLE, PLATFORMS, isProviderId } from '../../providers/registry.ts'

export const DEFAULT_WEB_ROOT = resolve(PACKAGE_ROOT, 'dist/web')
const ASSET_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  woff2: 'font/woff2',
}

const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#c13584"/><circle cx="16" cy="16" r="7" fill="none" stroke="#fff" stroke-width="3"/></svg>'

function one(query: unknown, key: string): string | undefined {
  const value = (query as Record<string, unknown>)[key]
  return typeof value === 'string' ? value : undefined
}

/**
 * The callback outcome of a landing page, as an HTML notice (escaped). The URL's codes pick one
 * of our own texts; words of the provider are shown only from `verified` (the outcome the callback
 * left in this browser's cookie), never from the URL, which anyone can write.
 */
export function outcomeNotice(query: unknown, verified: LandingOutcome | null): string {
  const connect = one(query, 'connect')
  // the platform's name from the registry: a made-up id names nobody (the codes still show)
  const platform = one(query, 'platform') ?? ''
  const label = isProviderId(platform) ? PLATFORMS[platform].label : 'the platform'
  if (connect === 'success') {
    const text = connectedText(label)
    return `<div class="notice ok" role="status" data-outcome="success"><div><strong>${escapeHtml(text.message)}</strong><p>${escapeHtml(text.next)}</p></div></div>`
  }
  const reason = one(query, 'reason')
  if (connect !== 'error' || reason === undefined || !isCallbackOutcomeCode(reason)) return ''
  const outcome = callbackOutcomeText(reason, label)
  const detail =
    verified?.connect === 'error' && verified.reason === reason ? verified.detail : undefined
  const title = detail === undefined ? outcome.message : `${outcome.message}: ${detail}`
  return `<div class="notice ${reason === 'access_denied' ? 'info' : 'error'}" role="alert" data-outcome="error" data-reason="${reason}"><div><strong>${escapeHtml(title)}</strong><p>${escapeHtml(outcome.next)}</p></div></div>`
}

/** The verified outcome for the page's script (`web/src/notices.ts` reads it), or nothing. */
function outcomeMeta(verified: LandingOutcome | null): string {
  return verified === null
    ? ''
    : `<meta name="psg-outcome" content="${escapeHtml(JSON.stringify(verified))}" />`
}

/** How the page signs people in, as the page reads it from `<meta name="psg-auth">`. */
export type PublicAuthConfig =
  | { readonly mode: 'local' }
  | {
      readonly mode: 'firebase'
      readonly apiKey: string | null
      readonly authDomain: string
      readonly projectId: string
      readonly emulatorUrl: string | null
    }

export function publicAuthConfig(auth: AppContext['config']['auth']): PublicAuthConfig {
  return auth.mode === 'local'
    ? { mode: 'local' }
    : { mode: 'firebase', projectId: auth.projectId, ...auth.web }
}

/**
 * What Firebase's JS SDK needs past `'self'`: its REST endpoints (or the emulator), and for
 * "Sign in with Google" the Google API loader and the auth domain's helper frame.
 * @see https://firebase.google.com/docs/auth/web/redirect-best-practices
 */
function firebaseSources(auth: AppContext['config']['auth']): {
  script: string
  connect: string
  frame: string
} {
  if (auth.mode !== 'firebase') return { script: '', connect: '', frame: '' }
  const emulator = auth.web.emulatorUrl === null ? '' : ` ${auth.web.emulatorUrl}`
  return {
    script: ' https://apis.google.com',
    connect: ` https://identitytoolkit.googleapis.com https://securetoken.googleapis.com${emulator}`,
    frame: ` https://${auth.web.authDomain}${emulator}`,
  }
}

/** Where the server writes into the built pages; each must be there exactly once (checked at boot). */
const HEAD_END = '</head>'
const BANNER_SLOT = '<div id="banner" class="sandbox" role="note" hidden></div>'
const NOTICES_SLOT = '<div id="notices" class="notices" aria-live="polite"></div>'

/**
 * The page, after checking that every slot the server fills is in it exactly once: if the web
 * build's markup changes, the service refuses to start rather than silently serving pages without
 * their notices or sign-in settings.
 */
function requireSlots(name: string, html: string, slots: readonly string[]): string {
  for (const slot of slots) {
    if (html.split(slot).length !== 2)
      throw new GalleryError(
        'ERR_CONFIG_INVALID',
        `The built page ${name} must hold ${slot} exactly once (the server writes there); rebuild it with "npm run build:web"`,
      )
  }
  return html
}

export function pagesRoutes(ctx: AppContext, webRoot: string = DEFAULT_WEB_ROOT) {
  const read = (name: string): string => {
    const path = resolve(webRoot, name)
    if (!existsSync(path)) {
      throw new GalleryError(
        'ERR_CONFIG_INVALID',
        `The web pages are not built (${path} is missing): run "npm run build:web"`,
      )
    }
    return readFileSync(path, 'utf8')
  }
  const galleryHtml = requireSlots('index.html', read('index.html'), [
    HEAD_END,
    BANNER_SLOT,
    NOTICES_SLOT,
  ])
  const popupHtml = requireSlots('popup-result.html', read('popup-result.html'), [HEAD_END])
  const assets = new Map<string, { body: Buffer; type: string }>()
  const assetDir = resolve(webRoot, 'assets')
  for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
    const type = ASSET_TYPES[name.split('.').pop() ?? '']
    if (type !== undefined) assets.set(name, { body: readFileSync(resolve(assetDir, name)), type })
  }
  const firebase = firebaseSources(ctx.config.auth)
  // pictures and videos come only from our own archive (`/media/…`): no platform's media server
  // is ever reached from the page, so visitors' browsers never talk to Meta's, TikTok's or X's
  const real = CONNECTABLE.filter((p) => ctx.modes[p.info.id] === 'real')
  // the players of the platforms reached for real (YouTube's privacy-enhanced one); a sandbox
  // shows the poster and a link instead
  const players = real.flatMap((p) => (p.embed === undefined ? [] : [` ${p.embed.origin}`]))
  const frameSources = `${firebase.frame}${players.join('')}`
  const mediaSources = "'self'"
  const csp = [
    "default-src 'self'",
    `script-src 'self'${firebase.script}`,
    "style-src 'self'",
    `img-src ${mediaSources}`,
    `media-src ${mediaSources}`,
    `connect-src 'self'${firebase.connect}`,
    ...(frameSources === '' ? [] : [`frame-src${frameSources}`]),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
  const sandboxed = CONNECTABLE.filter((p) => ctx.modes[p.info.id] === 'sandbox').map(
    (p) => p.info.label,
  )
  const banner =
    sandboxed.length > 0
      ? `<div id="banner" class="sandbox" role="note"><strong>Sandbox. </strong>${escapeHtml(sandboxNotice(sandboxed).replace(/^Sandbox: /, ''))}</div>`
      : '<div id="banner" class="sandbox" role="note" hidden></div>'

  /**
   * COOP: the gallery opens the OAuth popup and must keep a handle on it
   * (`same-origin-allow-popups`); the popup result page arrives from Instagram's origin and must
   * keep its opener (`unsafe-none`), or it could not report back.
   */
  function page(
    reply: FastifyReply,
    html: string,
    coop: 'same-origin-allow-popups' | 'unsafe-none',
  ): FastifyReply {
    return reply
      .type('text/html; charset=utf-8')
      .header('cross-origin-opener-policy', coop)
      .header('content-security-policy', csp)
      .header('cache-control', 'no-store')
      .send(html)
  }

  const authMeta = `<meta name="psg-auth" content="${escapeHtml(JSON.stringify(publicAuthConfig(ctx.config.auth)))}" />`

  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/', async (_request, reply) => reply.redirect('/gallery', 302))
    app.get('/gallery', async (request, reply) => {
      const verified = ctx.sessions.takeOutcome(request, reply)
      return page(
        reply,
        galleryHtml
          .replace(HEAD_END, `${authMeta}${outcomeMeta(verified)}${HEAD_END}`)
          .replace(BANNER_SLOT, banner)
          .replace(
            NOTICES_SLOT,
            `<div id="notices" class="notices" aria-live="polite">${outcomeNotice(request.query, verified)}</div>`,
          ),
        'same-origin-allow-popups',
      )
    })
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      app.get(path, async (_request, reply) =>
        reply
          .type('image/svg+xml; charset=utf-8')
          .header('cache-control', 'public, max-age=86400')
          .send(FAVICON),
      )
    }
    // the popup hands the verified outcome to its opener (postMessage, our origin only)
    app.get('/oauth/popup-result', async (request, reply) => {
      const verified = ctx.sessions.takeOutcome(request, reply)
      return page(
        reply,
        popupHtml.replace(HEAD_END, `${outcomeMeta(verified)}${HEAD_END}`),
        'unsafe-none',
      )
    })
    app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
      const asset = assets.get(request.params.name)
      if (asset === undefined) throw new GalleryError('ERR_NOT_FOUND', 'No such file')
      // file names carry a content hash: cache for a year
      return reply
        .type(asset.type)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(asset.body)
    })
  }
}
