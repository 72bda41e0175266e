/**
 * @module store/kysely/repositories/deletions — `DeletionStore`: Meta's deauthorize and data
 * deletion, "delete all my data".
 */
import { sql, type ExpressionBuilder, type Kysely } from 'kysely'
import type { DataDeletionRecord, DeletionStore } from '../../types.ts'
import { insertAccountEvents, insertEvents } from './outbox.ts'
import type { Database } from '../schema.ts'
import { accountsByIds } from '../rows.ts'

/**
 * Accounts of `platform` connected to this platform user, matched on its account id or its scoped
 * id (the ids may coincide with another platform's: the platform is always part of the match).
 */
function ofPlatformUser(platform: string, platformUserId: string) {
  return (eb: ExpressionBuilder<Database, 'user_social_accounts'>) =>
    eb.and([
      eb('platform', '=', platform),
      eb.or([
        eb('platform_user_id', '=', platformUserId),
        eb('platform_scoped_id', '=', platformUserId),
      ]),
    ])
}

/**
 * Records a completed data-deletion request; a repeated request for the same platform user keeps
 * its first confirmation code, with the new completion time and the accounts added up.
 */
async function recordDeletion(
  trx: Kysely<Database>,
  record: DataDeletionRecord,
): Promise<DataDeletionRecord> {
  const existing = await trx
    .selectFrom('data_deletion_requests')
    .selectAll()
    .where('platform', '=', record.platform)
    .where('platform_user_id', '=', record.platform_user_id)
    .executeTakeFirst()
  if (existing === undefined) {
    await trx.insertInto('data_deletion_requests').values(record).execute()
    return record
  }
  const deleted = existing.deleted_accounts + record.deleted_accounts
  await trx
    .updateTable('data_deletion_requests')
    .set({ completed_at: record.completed_at, deleted_accounts: deleted })
    .where('confirmation_code', '=', existing.confirmation_code)
    .execute()
  return {
    ...record,
    confirmation_code: existing.confirmation_code,
    requested_at: existing.requested_at,
    deleted_accounts: deleted,
  }
}

export function createDeletionRepository(db: Kysely<Database>): DeletionStore {
  return {
    async revokeByPlatformIdentity(platform, platformUserId, message, now, events) {
      return db.transaction().execute(async (trx) => {
        const rows = await trx
          .updateTable('user_social_accounts')
          .set({
            status: 'revoked',
            status_message: message,
            encrypted_credentials: null,
            credentials_format: 1,
            credentials_version: sql<number>`credentials_version + 1`,
            token_expires_at: null,
            refresh_token_expires_at: null,
            credentials_expire_at: null,
            is_active: 0,
            updated_at: now,
          })
          .where('account_type', '=', 'oauth')
          .where('status', '!=', 'revoked')
          .where(ofPlatformUser(platform, platformUserId))
          .returning('id')
          .execute()
        const ids = rows.map((r) => r.id)
        // an interrupted full reconciliation is not resumed with a connection that is gone
        if (ids.length > 0)
          await trx
            .updateTable('account_jobs')
            .set({ run_id: null, cursor: null })
            .where('account_id', 'in', ids)
            .where('kind', '=', 'sync')
            .execute()
        // one event per account this revocation changed (a replay changes none: no event)
        const revoked = await accountsByIds(trx, ids)
        await insertAccountEvents(trx, events, 'account.revoked', revoked, now)
        return revoked
      })
    },
    async deleteUserSocialData(userId, now, events) {
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .deleteFrom('user_social_accounts')
          .where('user_id', '=', userId)
          .executeTakeFirst()
        const deleted = Number(result.numDeletedRows)
        if (events && now !== undefined)
          await insertEvents(
            trx,
            [
              events.dataDeleted(
                { reason: 'user_request', user_id: userId, deleted_accounts: deleted },
                now,
              ),
            ],
            now,
          )
        return deleted
      })
    },
    async deletePlatformUserData(input, events) {
      // the deletion, its confirmation record and its event: one transaction
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .deleteFrom('user_social_accounts')
          .where(ofPlatformUser(input.platform, input.platformUserId))
          .executeTakeFirst()
        const deleted = Number(result.numDeletedRows)
        const record = await recordDeletion(trx, {
          confirmation_code: input.confirmationCode,
          platform: input.platform,
          platform_user_id: input.platformUserId,
          status: 'completed',
          deleted_accounts: deleted,
          requested_at: input.now,
          completed_at: input.now,
        })
        if (events)
          await insertEvents(
            trx,
            [
              events.dataDeleted(
                {
                  reason: `${input.platform}_data_deletion_request`,
                  platform: input.platform,
                  platform_user_id: input.platformUserId,
                  ...(input.platform === 'instagram'
                    ? { instagram_user_id: input.platformUserId }
                    : {}),
                  confirmation_code: record.confirmation_code,
                  deleted_accounts: deleted,
                },
                input.now,
              ),
            ],
            input.now,
          )
        return { deleted, record }
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
