/**
 * @module store/kysely/repositories/jobs — `JobStore`: renewal and sync claims, leases and their
 * outcomes.
 */
import { sql, type ExpressionBuilder, type Kysely, type SelectQueryBuilder } from 'kysely'
import type { JobStore, SocialAccountRecord } from '../../types.ts'
import { MAX_SYNC_DELAY_MS } from '../../../socials/platform-backoff.ts'
import type { Database } from '../schema.ts'
import { toAccount } from '../rows.ts'

/** Free, or held by a worker that stopped renewing it before `now`. */
function leaseFree(column: 'renew_lease_until' | 'sync_lease_until', now: number) {
  return (eb: ExpressionBuilder<Database, 'user_social_accounts'>) =>
    eb.or([eb(column, 'is', null), eb(column, '<=', now)])
}

export function createJobRepository(db: Kysely<Database>): JobStore {
  type DueAccounts = SelectQueryBuilder<Database, 'user_social_accounts', { id: string }>

  /**
   * Leases up to `claim.limit` OAuth accounts that can be worked on (token present and unexpired,
   * not revoked or awaiting reconnection), match `due`, and whose `column` lease is free. The
   * lease condition is repeated in the update, so a row leased meanwhile is not taken: two
   * concurrent claims never return the same account.
   */
  async function leaseAccounts(
    column: 'renew_lease_until' | 'sync_lease_until',
    claim: { now: number; leaseUntil: number; limit: number },
    due: (query: DueAccounts) => DueAccounts,
  ): Promise<SocialAccountRecord[]> {
    return db.transaction().execute(async (trx) => {
      const candidates = await due(
        trx
          .selectFrom('user_social_accounts')
          .select('id')
          .where('account_type', '=', 'oauth')
          .where('encrypted_access_token', 'is not', null)
          .where('status', 'not in', ['revoked', 'reauth_required'])
          .where('token_expires_at', '>', claim.now)
          .where(leaseFree(column, claim.now)),
      )
        .limit(claim.limit)
        .execute()
      if (candidates.length === 0) return []
      // RETURNING gives exactly the rows this statement leased (a concurrent claim may have
      // taken some between the select and the update; it waits on their row locks, then skips)
      const rows = await trx
        .updateTable('user_social_accounts')
        .set({ [column]: claim.leaseUntil })
        .where(
          'id',
          'in',
          candidates.map((r) => r.id),
        )
        .where(leaseFree(column, claim.now))
        .returningAll()
        .execute()
      return rows.map(toAccount)
    })
  }

  return {
    async claimDueRenewals(claim) {
      return leaseAccounts('renew_lease_until', claim, (due) =>
        due
          .where('token_expires_at', '<=', claim.dueBefore)
          .where('token_issued_at', '<=', claim.issuedBefore)
          .orderBy('token_expires_at'),
      )
    },
    async completeRenewal(input) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({
          encrypted_access_token: input.encryptedToken,
          token_expires_at: input.expiresAt,
          token_issued_at: input.issuedAt,
          renew_lease_until: null,
          renewal_failures: 0,
          // renewed: no longer due, and a renewal failure no longer stands; other states stay
          status: sql<string>`case when status in ('refresh_due', 'degraded') then 'active' else status end`,
          status_message: sql<
            string | null
          >`case when status in ('refresh_due', 'degraded') then null else status_message end`,
          updated_at: input.now,
        })
        .where('id', '=', input.accountId)
        .where('encrypted_access_token', '=', input.previousToken)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async failRenewal(input) {
      const result = await db
        .updateTable('user_social_accounts')
        .set((eb) => ({
          renew_lease_until: input.retryAt,
          renewal_failures: eb('renewal_failures', '+', 1),
          status: input.status,
          status_message: input.message,
          updated_at: input.now,
        }))
        .where('id', '=', input.accountId)
        // a deauthorize that landed mid-renewal stands (purge keeps revoked rows only for the
        // retention period), and a reconnection's new token is not this failure's business
        .where('status', '!=', 'revoked')
        .where((eb) =>
          input.previousToken === null
            ? eb('encrypted_access_token', 'is', null)
            : eb('encrypted_access_token', '=', input.previousToken),
        )
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async markExpiredTokens(now, message) {
      const rows = await db
        .updateTable('user_social_accounts')
        .set({ status: 'reauth_required', status_message: message, updated_at: now })
        .where('account_type', '=', 'oauth')
        .where('token_expires_at', '<=', now)
        .where('status', 'not in', ['revoked', 'reauth_required'])
        .returningAll()
        .execute()
      return rows.map(toAccount)
    },
    async markRefreshDue(dueBefore, now) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({ status: 'refresh_due', updated_at: now })
        .where('account_type', '=', 'oauth')
        .where('status', '=', 'active')
        .where('encrypted_access_token', 'is not', null)
        .where('token_expires_at', '<=', dueBefore)
        .where('token_expires_at', '>', now)
        .executeTakeFirst()
      return Number(result.numUpdatedRows)
    },

    async claimDueSyncs(claim) {
      return leaseAccounts('sync_lease_until', claim, (due) =>
        due
          .where((eb) =>
            eb.or([
              eb('next_sync_at', 'is', null),
              eb('next_sync_at', '<=', claim.now),
              // further out than the service ever schedules: stored before the 24 h back-off
              // bound (red team F4, e.g. year 2977). Due: the sync then writes a sane time.
              // Decided here, in the one query every scheduler runs, so no repair pass is needed.
              eb('next_sync_at', '>', claim.now + MAX_SYNC_DELAY_MS),
            ]),
          )
          .orderBy(sql`coalesce(next_sync_at, 0)`),
      )
    },
    async acquireSyncLease(accountId, now, leaseUntil) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({ sync_lease_until: leaseUntil })
        .where('id', '=', accountId)
        .where(leaseFree('sync_lease_until', now))
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
  }
}
