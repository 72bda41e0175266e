/**
 * @module http/routes/social-data — a signed-in person's "delete all my social data": every
 * connected account and profile link, their tokens and their media, on every platform.
 * (Deletions a platform asks for arrive through its inbound routes, declared in its folder.)
 */
import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../context.ts'

export function socialDataRoutes(ctx: AppContext) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.delete('/api/socials/data', async (request, reply) => {
      const principal = await ctx.requireUser(request)
      // the grants go back to their platforms first (Google's revoke; queued when unreachable)
      await ctx.oauth.revokeAll(principal.userId)
      // the deletion and its `data.deleted` event: one transaction
      const deleted = await ctx.store.deleteUserSocialData(
        principal.userId,
        ctx.clock.now(),
        ctx.webhooks.events,
      )
      ctx.webhooks.deliverSoon()
      request.log.info({ userId: principal.userId, deleted }, 'user deleted all social data')
      return reply.code(200).send({ deleted_accounts: deleted })
    })
  }
}
