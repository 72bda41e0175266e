/**
 * @module store/kysely/repositories/maintenance — `MaintenanceStore`: import, purge, re-encryption,
 * ping, close.
 */
import { randomUUID } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import type { ImportedAccountInput, MaintenanceStore } from '../../types.ts'
import type { Database } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { NEW_ACCOUNT_SYNC_STATE, externalUser, newAccountJobs } from '../rows.ts'

export function createMaintenanceRepository(
  db: Kysely<Database>,
  options: KyselyStoreOptions,
): MaintenanceStore {
  return {
    async importAccount(input: ImportedAccountInput, dryRun: boolean) {
      return db.transaction().execute(async (trx) => {
        const user = await trx
          .selectFrom('users')
          .select('id')
          .where('id', '=', input.user_id)
          .executeTakeFirst()
        if (user === undefined && !dryRun)
          await trx.insertInto('users').values(externalUser(input.user_id, input.now)).execute()
        let match = trx
          .selectFrom('user_social_accounts')
          .selectAll()
          .where('user_id', '=', input.user_id)
          .where('platform', '=', input.platform)
          .where('account_type', '=', input.account_type)
        match =
          input.account_type === 'oauth'
            ? match.where('platform_user_id', '=', input.platform_user_id)
            : match.where('username', '=', input.username)
        const existing = await match.executeTakeFirst()
        if (existing?.import_fingerprint === input.import_fingerprint) return 'unchanged'
        const fields = {
          username: input.username,
          display_name: input.display_name,
          platform_user_id: input.platform_user_id,
          // the original app's bare token (format 1), its lifetime beside it
          encrypted_credentials: input.encrypted_access_token,
          credentials_format: 1,
          token_expires_at: input.token_expires_at,
          token_issued_at: input.token_issued_at,
          refresh_token_expires_at: null,
          credentials_expire_at: input.token_expires_at,
          is_active: input.is_active ? 1 : 0,
          connected_at: input.connected_at,
          last_sync: input.last_sync,
          posts_count: input.posts_count,
          status: input.status,
          status_message: input.status_message,
          profile_url: input.profile_url,
        }
        if (existing !== undefined) {
          const keepToken = (existing.token_expires_at ?? 0) > (input.token_expires_at ?? 0)
          const keepSync = (existing.last_sync ?? 0) > (input.last_sync ?? 0)
          if (!dryRun)
            await trx
              .updateTable('user_social_accounts')
              .set({
                ...fields,
                ...(keepToken
                  ? {
                      encrypted_credentials: existing.encrypted_credentials,
                      credentials_format: existing.credentials_format,
                      token_expires_at: existing.token_expires_at,
                      token_issued_at: existing.token_issued_at,
                      refresh_token_expires_at: existing.refresh_token_expires_at,
                      credentials_expire_at: existing.credentials_expire_at,
                      status: existing.status,
                      status_message: existing.status_message,
                    }
                  : { credentials_version: sql<number>`credentials_version + 1` }),
                ...(keepSync
                  ? { last_sync: existing.last_sync, posts_count: existing.posts_count }
                  : {}),
                import_fingerprint: input.import_fingerprint,
                updated_at: input.now,
              })
              .where('id', '=', existing.id)
              .execute()
          // an imported token that replaces the stored one: sync with it soon
          if (!dryRun && !keepToken && existing.account_type === 'oauth')
            await trx
              .updateTable('account_jobs')
              .set({ next_run_at: null })
              .where('account_id', '=', existing.id)
              .where('kind', '=', 'sync')
              .execute()
          return 'updated'
        }
        if (!dryRun) {
          const id = randomUUID()
          await trx
            .insertInto('user_social_accounts')
            .values({
              id,
              user_id: input.user_id,
              platform: input.platform,
              account_type: input.account_type,
              platform_scoped_id: null,
              platform_attributes: '{}',
              credentials_version: 1,
              profile_picture_url: null,
              updated_at: input.now,
              ...NEW_ACCOUNT_SYNC_STATE,
              import_fingerprint: input.import_fingerprint,
              ...fields,
            })
            .execute()
          if (input.account_type === 'oauth')
            await trx.insertInto('account_jobs').values(newAccountJobs(id)).execute()
        }
        return 'created'
      })
    },
    async purge(input) {
      const deleted = (result: { numDeletedRows: bigint }): number => Number(result.numDeletedRows)
      // a revoked account is kept a while so that its owner sees why and can reconnect; revoked
      // rows are not touched by jobs, so `updated_at` is the time of the revocation
      const revoked = deleted(
        await db
          .deleteFrom('user_social_accounts')
          .where('status', '=', 'revoked')
          .where('updated_at', '<=', input.revokedBefore)
          .executeTakeFirst(),
      )
      const webhooks = deleted(
        await db
          .deleteFrom('webhook_deliveries')
          .where('status', 'in', ['delivered', 'failed'])
          .where('updated_at', '<=', input.webhooksBefore)
          .executeTakeFirst(),
      )
      const budgets = deleted(
        await db
          .deleteFrom('api_budgets')
          .where('updated_at', '<=', input.budgetsBefore)
          .where((eb) =>
            eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<=', input.now)]),
          )
          .executeTakeFirst(),
      )
      const devices = deleted(
        await db
          .deleteFrom('known_devices')
          .where('last_seen_at', '<=', input.devicesBefore)
          .executeTakeFirst(),
      )
      return {
        revoked_accounts: revoked,
        webhook_deliveries: webhooks,
        api_budgets: budgets,
        known_devices: devices,
      }
    },

    async listStoredTokens({ afterId, limit }) {
      let query = db
        .selectFrom('user_social_accounts')
        .select(['id', 'encrypted_credentials'])
        .where('encrypted_credentials', 'is not', null)
      if (afterId !== null) query = query.where('id', '>', afterId)
      const rows = await query.orderBy('id').limit(limit).execute()
      return rows.flatMap((row) =>
        row.encrypted_credentials === null
          ? []
          : [{ id: row.id, encrypted_credentials: row.encrypted_credentials }],
      )
    },
    async replaceToken(input) {
      const result = await db
        .updateTable('user_social_accounts')
        // the same credentials under the first key: the version stays (a renewal that read them
        // may still write its newer ones)
        .set({ encrypted_credentials: input.encryptedToken, updated_at: input.now })
        .where('id', '=', input.accountId)
        .where('encrypted_credentials', '=', input.previousToken)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },

    async ping() {
      await sql`select 1`.execute(db)
    },
    async close() {
      await db.destroy()
      await options.onClose()
    },
  }
}
