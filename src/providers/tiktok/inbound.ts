/**
 * @module providers/tiktok/inbound — what TikTok calls on us: its webhook, whose
 * `authorization.removed` event (the person removed the app, deleted their account, or was
 * banned) revokes the matching connections like Meta's deauthorize.
 *
 * TikTok signs each delivery (developers.tiktok.com/doc/webhooks-verification):
 * `TikTok-Signature: t=<unix seconds>,s=<hex HMAC-SHA256(client secret, "<t>.<raw body>")>`. The
 * signature is checked over the raw body, in constant time, before anything is parsed; a
 * timestamp more than 5 minutes old (or a minute ahead) is refused, so a recorded delivery cannot
 * be replayed later. Every event answers 200 once verified (TikTok retries anything else for 72
 * hours); events other than `authorization.removed` are acknowledged and ignored.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GalleryError } from '../../errors.ts'
import type { InboundDeps, InboundRoute } from '../types.ts'
import { TIKTOK_NOT_CONFIGURED_MESSAGE } from './config.ts'

export const TIKTOK_WEBHOOK_PATH = '/api/socials/oauth/tiktok/webhook'
/** How old a delivery's timestamp may be. */
export const MAX_WEBHOOK_AGE_MS = 5 * 60_000
/** How far ahead of our clock a timestamp may be (clock skew). */
export const MAX_WEBHOOK_SKEW_MS = 60_000
const BODY_LIMIT = 16 * 1024

function refused(reason: string): GalleryError {
  return new GalleryError('ERR_UNAUTHENTICATED', `TikTok webhook refused: ${reason}`)
}

/** Checks `header` against `rawBody`; @throws ERR_UNAUTHENTICATED with a fixed reason. */
export function verifyTiktokSignature(
  header: unknown,
  rawBody: string,
  clientSecret: string,
  now: number,
): void {
  if (typeof header !== 'string' || header.length > 256) throw refused('no signature')
  const parts = new Map(
    header.split(',').map((part) => {
      const at = part.indexOf('=')
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const
    }),
  )
  const t = parts.get('t') ?? ''
  const s = parts.get('s') ?? ''
  if (!/^\d{1,12}$/.test(t) || !/^[0-9a-f]{64}$/.test(s)) throw refused('a malformed signature')
  const at = Number(t) * 1000
  if (at < now - MAX_WEBHOOK_AGE_MS || at > now + MAX_WEBHOOK_SKEW_MS)
    throw refused('a stale timestamp')
  const expected = createHmac('sha256', clientSecret).update(`${t}.${rawBody}`).digest()
  if (!timingSafeEqual(expected, Buffer.from(s, 'hex'))) throw refused('a bad signature')
}

/** The event of a verified body; `null` when it is not one this version reads. */
function eventOf(rawBody: string): { event: string; openId: string | null } | null {
  let body: unknown
  try {
    body = JSON.parse(rawBody)
  } catch {
    return null
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
  const b = body as Record<string, unknown>
  if (typeof b.event !== 'string') return null
  const openId =
    typeof b.user_openid === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(b.user_openid)
      ? b.user_openid
      : null
  return { event: b.event, openId }
}

const webhook: InboundRoute = {
  method: 'POST',
  path: TIKTOK_WEBHOOK_PATH,
  serverToServer: true,
  async register(app: FastifyInstance, deps: InboundDeps) {
    await app.register(async (scope) => {
      // the signature covers the exact bytes: the body stays a string until it is verified
      scope.removeAllContentTypeParsers()
      scope.addContentTypeParser(
        '*',
        { parseAs: 'string', bodyLimit: BODY_LIMIT },
        (_request, body, done) => done(null, body),
      )
      scope.post(TIKTOK_WEBHOOK_PATH, async (request: FastifyRequest, reply) => {
        await deps.throttle.hit('tiktokWebhook', request.ip)
        if (deps.clientSecret === null)
          throw new GalleryError('ERR_NOT_CONFIGURED', TIKTOK_NOT_CONFIGURED_MESSAGE)
        const raw = typeof request.body === 'string' ? request.body : ''
        try {
          verifyTiktokSignature(
            request.headers['tiktok-signature'],
            raw,
            deps.clientSecret,
            deps.clock.now(),
          )
        } catch (error) {
          // a fixed reason, never the body or the header
          request.log.warn(
            { reason: error instanceof GalleryError ? error.message : 'unknown' },
            'tiktok webhook refused',
          )
          throw error
        }
        const event = eventOf(raw)
        if (event?.event !== 'authorization.removed' || event.openId === null) {
          request.log.info({ event: event?.event ?? 'unreadable' }, 'tiktok webhook ignored')
          return reply.code(200).send({ ignored: true })
        }
        const revoked = await deps.store.revokeByPlatformIdentity(
          'tiktok',
          event.openId,
          'Access was removed on TikTok. Reconnect the account to keep its gallery up to date.',
          deps.clock.now(),
          deps.webhooks.events,
        )
        if (revoked.length > 0) deps.webhooks.deliverSoon()
        request.log.info({ revoked: revoked.length }, 'tiktok authorization.removed processed')
        return reply.code(200).send({ revoked: revoked.length })
      })
    })
  },
}

export const TIKTOK_INBOUND_ROUTES: readonly InboundRoute[] = [webhook]
