/**
 * @module store/kysely/repositories/jobs — `JobStore`: renewal and sync claims, leases and their
 * outcomes.
 */
import { sql, type ExpressionBuilder, type Kysely, type SelectQueryBuilder } from 'kysely'
import type { AccountLeaseKind, JobStore, SocialAccountRecord } from '../../types.ts'
import { MAX_SYNC_DELAY_MS } from '../../../socials/platform-backoff.ts'
import { isInstanceId, leaseOwner } from '../../leases.ts'
import type { Database } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { toAccount } from '../rows.ts'
import { accountPatchSet } from './accounts.ts'

const COLUMNS = {
  renewal: { until: 'renew_lease_until', owner: 'renew_lease_owner' },
  sync: { until: 'sync_lease_until', owner: 'sync_lease_owner' },
} as const

/** Free, or held by a worker that stopped renewing it before `now`. */
function leaseFree(column: 'renew_lease_until' | 'sync_lease_until', now: number) {
  return (eb: ExpressionBuilder<Database, 'user_social_accounts'>) =>
    eb.or([eb(column, 'is', null), eb(column, '<=', now)])
}

/** The owner a claim writes: the caller's, or a fresh one (`<anonymous instance>:<run>`). */
function claimOwner(owner: string | undefined): string {
  return owner ?? leaseOwner('anonymous')
}

export function createJobRepository(
  db: Kysely<Database>,
  options: Pick<KyselyStoreOptions, 'lockRows'> = {},
): JobStore {
  type DueAccounts = SelectQueryBuilder<Database, 'user_social_accounts', { id: string }>

  /**
   * Leases up to `claim.limit` OAuth accounts that can be worked on (token present and unexpired,
   * not revoked or awaiting reconnection), match `due`, and whose `kind` lease is free, to the
   * claim's owner. On PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`, so concurrent
   * claimers pass over each other's rows instead of queueing on them and coming back empty (D10);
   * the lease condition is repeated in the update, so a row leased meanwhile is never taken.
   */
  async function leaseAccounts(
    kind: AccountLeaseKind,
    claim: { now: number; leaseUntil: number; limit: number; owner?: string },
    due: (query: DueAccounts) => DueAccounts,
  ): Promise<SocialAccountRecord[]> {
    const column = COLUMNS[kind].until
    const owner = claimOwner(claim.owner)
    return db.transaction().execute(async (trx) => {
      let candidates = due(
        trx
          .selectFrom('user_social_accounts')
          .select('id')
          .where('account_type', '=', 'oauth')
          .where('encrypted_access_token', 'is not', null)
          .where('status', 'not in', ['revoked', 'reauth_required'])
          .where('token_expires_at', '>', claim.now)
          .where(leaseFree(column, claim.now)),
      ).limit(claim.limit)
      if (options.lockRows === true) candidates = candidates.forUpdate().skipLocked()
      const ids = (await candidates.execute()).map((r) => r.id)
      if (ids.length === 0) return []
      // RETURNING gives exactly the rows this statement leased
      const rows = await trx
        .updateTable('user_social_accounts')
        .set({ [column]: claim.leaseUntil, [COLUMNS[kind].owner]: owner })
        .where('id', 'in', ids)
        .where(leaseFree(column, claim.now))
        .returningAll()
        .execute()
      return rows.map(toAccount)
    })
  }

  return {
    async claimDueRenewals(claim) {
      return leaseAccounts('renewal', claim, (due) =>
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
          renew_lease_owner: null,
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
        .$if(input.owner !== undefined, (q) => q.where('renew_lease_owner', '=', input.owner ?? ''))
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async failRenewal(input) {
      const result = await db
        .updateTable('user_social_accounts')
        .set((eb) => ({
          // the back-off hold: nobody owns it, so a stopping instance does not release it
          renew_lease_until: input.retryAt,
          renew_lease_owner: null,
          renewal_failures: eb('renewal_failures', '+', 1),
          status: input.status,
          status_message: input.message,
          updated_at: input.now,
        }))
        .where('id', '=', input.accountId)
        // a deauthorize that landed mid-renewal stands (purge keeps revoked rows only for the
        // retention period), and a reconnection's new token is not this failure's business
        .where('status', '!=', 'revoked')
        .$if(input.owner !== undefined, (q) => q.where('renew_lease_owner', '=', input.owner ?? ''))
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
      return leaseAccounts('sync', claim, (due) =>
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
    async acquireSyncLease(accountId, now, leaseUntil, owner) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({ sync_lease_until: leaseUntil, sync_lease_owner: claimOwner(owner) })
        .where('id', '=', accountId)
        .where(leaseFree('sync_lease_until', now))
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async renewAccountLease(kind, lease, leaseUntil) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({ [COLUMNS[kind].until]: leaseUntil })
        .where('id', '=', lease.accountId)
        .where(COLUMNS[kind].owner, '=', lease.owner)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async recordSyncProgress(lease, progress) {
      const { leaseUntil, now, ...columns } = progress
      const result = await db
        .updateTable('user_social_accounts')
        .set({ ...columns, sync_lease_until: leaseUntil, updated_at: now })
        .where('id', '=', lease.accountId)
        .where('sync_lease_owner', '=', lease.owner)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async releaseSyncLease(lease, patch) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({ ...accountPatchSet(patch), sync_lease_until: null, sync_lease_owner: null })
        .where('id', '=', lease.accountId)
        .where('sync_lease_owner', '=', lease.owner)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async releaseOwned(instanceId) {
      if (!isInstanceId(instanceId))
        throw new Error(`not an instance id: ${JSON.stringify(instanceId)}`)
      // instance ids hold no LIKE wildcards (`isInstanceId`): this matches exactly its owners
      const mine = `${instanceId}:%`
      return db.transaction().execute(async (trx) => {
        const syncs = await trx
          .updateTable('user_social_accounts')
          .set({ sync_lease_until: null, sync_lease_owner: null })
          .where('sync_lease_owner', 'like', mine)
          .executeTakeFirst()
        const renewals = await trx
          .updateTable('user_social_accounts')
          .set({ renew_lease_until: null, renew_lease_owner: null })
          .where('renew_lease_owner', 'like', mine)
          .executeTakeFirst()
        const webhooks = await trx
          .updateTable('webhook_deliveries')
          .set({ lease_until: null, lease_owner: null })
          .where('lease_owner', 'like', mine)
          .executeTakeFirst()
        return {
          syncs: Number(syncs.numUpdatedRows),
          renewals: Number(renewals.numUpdatedRows),
          webhooks: Number(webhooks.numUpdatedRows),
        }
      })
    },
  }
}
