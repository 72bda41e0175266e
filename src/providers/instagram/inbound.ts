/**
 * @module providers/instagram/inbound — what Meta calls on us: the deauthorize and data-deletion
 * callbacks (server-to-server form POSTs carrying a `signed_request`, exempt from the same-origin
 * check), and the public deletion status page Meta links people to. Declared on the Instagram
 * platform (`platform.ts`) and mounted by `buildApp` from the registry.
 *
 * A bad `signed_request` answers 400 and is logged without the body; a genuine one that is not
 * fresh (older than 5 minutes or dated in the future, e.g. a replay) answers 400 saying so. The
 * deauthorize callback revokes the matching accounts and deletes their tokens; the data-deletion
 * callback deletes everything held for that Instagram user and answers Meta's
 * `{url, confirmation_code}`.
 */
import { randomBytes } from 'node:crypto'
import formbody from '@fastify/formbody'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GalleryError } from '../../errors.ts'
import { escapeHtml } from '../../html.ts'
import { NOT_CONFIGURED_MESSAGE } from '../../socials/messages.ts'
import type { InboundDeps, InboundRoute } from '../types.ts'
import { verifySignedRequest } from './signed-request.ts'

export const DEAUTHORIZE_PATH = '/api/socials/oauth/instagram/deauthorize'
export const DATA_DELETION_PATH = '/api/socials/oauth/instagram/data-deletion'
export const DELETION_STATUS_PATH = '/data-deletion/:code'

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'

/** 16 characters from an unambiguous alphabet (80 bits): Meta asks for an alphanumeric code. */
function confirmationCode(): string {
  return [...randomBytes(16)].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('')
}

/** The Instagram user id of a verified request; a refusal is logged (never with the body). */
function verify(request: FastifyRequest, deps: InboundDeps, callback: string): string {
  try {
    if (deps.clientSecret === null)
      throw new GalleryError('ERR_NOT_CONFIGURED', NOT_CONFIGURED_MESSAGE)
    const body = request.body
    const value =
      typeof body === 'object' && body !== null
        ? (body as Record<string, unknown>).signed_request
        : undefined
    // the app's clock decides freshness (tests and the emulator move it)
    return verifySignedRequest(value, deps.clientSecret, deps.clock.now()).userId
  } catch (error) {
    // the reason is one of the verifier's fixed sentences: it never holds the value
    request.log.warn(
      error instanceof GalleryError
        ? { code: error.code, reason: error.message }
        : { code: 'unknown' },
      `${callback} callback refused`,
    )
    throw error
  }
}

/** A signed form POST from Meta, in its own scope with the form parser (8 KiB at most). */
function signedCallback(
  path: string,
  handle: (
    request: FastifyRequest,
    deps: InboundDeps,
  ) => Promise<{ status: number; body: unknown }>,
): InboundRoute {
  return {
    method: 'POST',
    path,
    serverToServer: true,
    async register(app: FastifyInstance, deps: InboundDeps) {
      await app.register(async (scope) => {
        await scope.register(formbody, { bodyLimit: 8192 })
        scope.post(path, async (request, reply) => {
          const answer = await handle(request, deps)
          return reply.code(answer.status).send(answer.body)
        })
      })
    },
  }
}

const deauthorize = signedCallback(DEAUTHORIZE_PATH, async (request, deps) => {
  await deps.throttle.hit('metaCallback', request.ip)
  const userId = verify(request, deps, 'deauthorize')
  const revoked = await deps.store.revokeByPlatformIdentity(
    'instagram',
    userId,
    'Access was removed on Instagram. Reconnect the account to keep its gallery up to date.',
    deps.clock.now(),
    // one `account.revoked` per account changed, committed with the revocation
    deps.webhooks.events,
  )
  if (revoked.length > 0) deps.webhooks.deliverSoon()
  request.log.info({ revoked: revoked.length }, 'instagram deauthorize processed')
  return { status: 200, body: { revoked: revoked.length } }
})

const dataDeletion = signedCallback(DATA_DELETION_PATH, async (request, deps) => {
  await deps.throttle.hit('metaCallback', request.ip)
  const userId = verify(request, deps, 'data-deletion')
  const now = deps.clock.now()
  // the deletion, its confirmation record and its `data.deleted` event: one transaction
  const { deleted, record } = await deps.store.deletePlatformUserData(
    { platform: 'instagram', platformUserId: userId, confirmationCode: confirmationCode(), now },
    deps.webhooks.events,
  )
  deps.webhooks.deliverSoon()
  request.log.info(
    { deleted, confirmation: record.confirmation_code },
    'instagram data deletion processed',
  )
  return {
    status: 200,
    body: {
      url: `${deps.publicUrl}/data-deletion/${record.confirmation_code}`,
      confirmation_code: record.confirmation_code,
    },
  }
})

/** The status page of a data-deletion request (the `url` Meta shows the person). */
const deletionStatus: InboundRoute = {
  method: 'GET',
  path: DELETION_STATUS_PATH,
  serverToServer: false,
  async register(app, deps) {
    app.get<{ Params: { code: string } }>(DELETION_STATUS_PATH, async (request, reply) => {
      const code = request.params.code
      const record = /^[A-Z0-9]{16}$/.test(code) ? await deps.store.findDataDeletion(code) : null
      const body =
        record === null
          ? `<h1>Unknown deletion request</h1><p>No data-deletion request has the code ${escapeHtml(code.slice(0, 40))}.</p>`
          : `<h1>Data deletion ${escapeHtml(record.confirmation_code)}</h1><p>Status: <strong>completed</strong> on ${escapeHtml(new Date(record.completed_at).toUTCString())}.</p><p>Every connected Instagram account of this Instagram user, its access token and its media were deleted from Phoenix Social Gallery.</p>`
      return reply
        .code(record === null ? 404 : 200)
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'")
        .header('cache-control', 'no-store')
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Data deletion status</title></head><body><main>${body}</main></body></html>`,
        )
    })
  },
}

/** Meta's callbacks and the deletion status page, in the order they are mounted. */
export const INSTAGRAM_INBOUND_ROUTES: readonly InboundRoute[] = [
  deauthorize,
  dataDeletion,
  deletionStatus,
]
