/**
 * @module store/kysely/repositories/deletions — `DeletionStore`: Meta's deauthorize and data
 * deletion, "delete all my data".
 */
import type { ExpressionBuilder, Kysely } from 'kysely'
import type { DeletionStore } from '../../types.ts'
import type { Database } from '../schema.ts'
import { toAccount } from '../rows.ts'

/** Accounts connected to this Instagram user, matched on the professional or app-scoped id. */
function ofInstagramUser(instagramId: string) {
  return (eb: ExpressionBuilder<Database, 'user_social_accounts'>) =>
    eb.or([eb('instagram_user_id', '=', instagramId), eb('instagram_scoped_id', '=', instagramId)])
}

export function createDeletionRepository(db: Kysely<Database>): DeletionStore {
  return {
    async revokeInstagramAccounts(instagramId, message, now) {
      const rows = await db
        .updateTable('user_social_accounts')
        .set({
          status: 'revoked',
          status_message: message,
          encrypted_access_token: null,
          token_expires_at: null,
          is_active: 0,
          sync_run_id: null,
          sync_cursor: null,
          updated_at: now,
        })
        .where('account_type', '=', 'oauth')
        // the id columns may hold another provider's ids: a Meta deauthorize is about Instagram's
        .where('platform', '=', 'instagram')
        .where('status', '!=', 'revoked')
        .where(ofInstagramUser(instagramId))
        .returningAll()
        .execute()
      return rows.map(toAccount)
    },
    async deleteInstagramUserData(instagramId) {
      const result = await db
        .deleteFrom('user_social_accounts')
        .where('platform', '=', 'instagram')
        .where(ofInstagramUser(instagramId))
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    },
    async deleteUserSocialData(userId) {
      const result = await db
        .deleteFrom('user_social_accounts')
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    },
    async recordDataDeletion(record) {
      return db.transaction().execute(async (trx) => {
        const existing = await trx
          .selectFrom('data_deletion_requests')
          .selectAll()
          .where('instagram_user_id', '=', record.instagram_user_id)
          .executeTakeFirst()
        if (existing === undefined) {
          await trx.insertInto('data_deletion_requests').values(record).execute()
          return record
        }
        await trx
          .updateTable('data_deletion_requests')
          .set({
            completed_at: record.completed_at,
            deleted_accounts: existing.deleted_accounts + record.deleted_accounts,
          })
          .where('confirmation_code', '=', existing.confirmation_code)
          .execute()
        return {
          ...record,
          confirmation_code: existing.confirmation_code,
          requested_at: existing.requested_at,
          deleted_accounts: existing.deleted_accounts + record.deleted_accounts,
        }
      })
    },
    async findDataDeletion(code) {
      const row = await db
        .selectFrom('data_deletion_requests')
        .selectAll()
        .where('confirmation_code', '=', code)
        .executeTakeFirst()
      return row === undefined ? null : { ...row, status: 'completed' }
    },
  }
}
