/**
 * @module store/kysely/repositories/oauth-states — `OAuthStateStore`: single-use OAuth states.
 */
import type { Kysely } from 'kysely'
import type { OAuthReturnMode, OAuthStateRecord, OAuthStateStore } from '../../types.ts'
import type { Database } from '../schema.ts'

export function createOAuthStateRepository(db: Kysely<Database>): OAuthStateStore {
  return {
    async createOAuthState(record) {
      await db.insertInto('oauth_states').values(record).execute()
    },
    async consumeOAuthState(stateHash): Promise<OAuthStateRecord | null> {
      const row = await db
        .deleteFrom('oauth_states')
        .where('state_hash', '=', stateHash)
        .returningAll()
        .executeTakeFirst()
      if (row === undefined) return null
      const return_mode: OAuthReturnMode = row.return_mode === 'popup' ? 'popup' : 'redirect'
      return { ...row, return_mode }
    },
    async deleteExpiredOAuthStates(now) {
      const result = await db
        .deleteFrom('oauth_states')
        .where('expires_at', '<=', now)
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
