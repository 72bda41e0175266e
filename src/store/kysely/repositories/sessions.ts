/**
 * @module store/kysely/repositories/sessions — `SessionStore`: sign-in sessions by cookie digest.
 */
import type { Kysely } from 'kysely'
import type { SessionRecord, SessionStore } from '../../types.ts'
import type { Database } from '../schema.ts'

export function createSessionRepository(db: Kysely<Database>): SessionStore {
  return {
    async createSession(record) {
      await db.insertInto('sessions').values(record).execute()
    },
    async findSession(idHash, now): Promise<SessionRecord | null> {
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('id_hash', '=', idHash)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now)
        .executeTakeFirst()
      return row ?? null
    },
    async touchSession(idHash, idleExpiresAt) {
      await db
        .updateTable('sessions')
        .set({ idle_expires_at: idleExpiresAt })
        .where('id_hash', '=', idHash)
        .execute()
    },
    async deleteSession(idHash) {
      await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute()
    },

    async deleteExpiredSessions(now) {
      const result = await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('idle_expires_at', '<=', now)]))
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
