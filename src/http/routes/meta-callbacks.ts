/**
 * @module http/routes/meta-callbacks — Meta's deauthorize and data-deletion callbacks
 * (server-to-server form POSTs carrying a `signed_request`), the public deletion status page,
 * and a user's own "delete all my social data".
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
import { verifySignedRequest } from '../../providers/instagram/signed-request.ts'
import { NOT_CONFIGURED_MESSAGE } from '../../socials/messages.ts'
import type { AppContext } from '../context.ts'
import { escapeHtml } from '../../html.ts'

export const META_CALLBACK_PATHS: ReadonlySet<string> = new Set([
  '/api/socials/oauth/instagram/deauthorize',
  '/api/socials/oauth/instagram/data-deletion',
])
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'

/** 16 characters from an unambiguous alphabet (80 bits): Meta asks for an alphanumeric code. */
function confirmationCode(): string {
  return [...randomBytes(16)].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join('')
}

export function metaCallbackRoutes(ctx: AppContext, appSecret: string | null) {
  /** The Instagram user id of a verified request; a refusal is logged (never with the body). */
  const verify = (request: FastifyRequest, callback: string): string => {
    try {
      if (appSecret === null) throw new GalleryError('ERR_NOT_CONFIGURED', NOT_CONFIGURED_MESSAGE)
      const body = request.body
      const value =
        typeof body === 'object' && body !== null
          ? (body as Record<string, unknown>).signed_request
          : undefined
      // the app's clock decides freshness (tests and the emulator move it)
      return verifySignedRequest(value, appSecret, ctx.clock.now()).userId
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

  return async function register(app: FastifyInstance): Promise<void> {
    await app.register(async (scope) => {
      await scope.register(formbody, { bodyLimit: 8192 })

      scope.post('/api/socials/oauth/instagram/deauthorize', async (request, reply) => {
        await ctx.throttle.hit('metaCallback', request.ip)
        const userId = verify(request, 'deauthorize')
        const revoked = await ctx.store.revokeInstagramAccounts(
          userId,
          'Access was removed on Instagram. Reconnect the account to keep its gallery up to date.',
          ctx.clock.now(),
        )
        for (const account of revoked) await ctx.webhooks.emitAccount('account.revoked', account)
        request.log.info({ revoked: revoked.length }, 'instagram deauthorize processed')
        return reply.code(200).send({ revoked: revoked.length })
      })

      scope.post('/api/socials/oauth/instagram/data-deletion', async (request, reply) => {
        await ctx.throttle.hit('metaCallback', request.ip)
        const userId = verify(request, 'data-deletion')
        const now = ctx.clock.now()
        const deleted = await ctx.store.deleteInstagramUserData(userId)
        const record = await ctx.store.recordDataDeletion({
          confirmation_code: confirmationCode(),
          instagram_user_id: userId,
          status: 'completed',
          deleted_accounts: deleted,
          requested_at: now,
          completed_at: now,
        })
        await ctx.webhooks.emit('data.deleted', {
          reason: 'instagram_data_deletion_request',
          instagram_user_id: userId,
          confirmation_code: record.confirmation_code,
          deleted_accounts: deleted,
        })
        request.log.info(
          { deleted, confirmation: record.confirmation_code },
          'instagram data deletion processed',
        )
        return reply.code(200).send({
          url: `${ctx.config.publicUrl}/data-deletion/${record.confirmation_code}`,
          confirmation_code: record.confirmation_code,
        })
      })
    })

    app.get<{ Params: { code: string } }>('/data-deletion/:code', async (request, reply) => {
      const code = request.params.code
      const record = /^[A-Z0-9]{16}$/.test(code) ? await ctx.store.findDataDeletion(code) : null
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

    app.delete('/api/socials/data', async (request, reply) => {
      const principal = await ctx.requireUser(request)
      const deleted = await ctx.store.deleteUserSocialData(principal.userId)
      await ctx.webhooks.emit('data.deleted', {
        reason: 'user_request',
        user_id: principal.userId,
        deleted_accounts: deleted,
      })
      request.log.info({ userId: principal.userId, deleted }, 'user deleted all social data')
      return reply.code(200).send({ deleted_accounts: deleted })
    })
  }
}
