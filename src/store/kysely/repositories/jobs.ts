/**
 * @module store/kysely/repositories/jobs — `JobStore`: renewal and sync claims, leases and their
 * outcomes.
 */
import {
  sql,
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  type SelectQueryBuilder,
} from 'kysely'
import type { AccountLeaseKind, EventMaker, JobStore, SocialAccountRecord } from '../../types.ts'
import { MAX_SYNC_DELAY_MS } from '../../../socials/platform-backoff.ts'
import { isInstanceId, leaseOwner } from '../../leases.ts'
import type { Database, SocialAccountsTable } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { toAccount } from '../rows.ts'
import { accountPatchSet } from './accounts.ts'
import { insertEvents } from './outbox.ts'

const COLUMNS = {
  renewal: { until: 'renew_lease_until', owner: 'renew_lease_owner' },
  sync: { until: 'sync_lease_until', owner: 'sync_lease_owner' },
} as const

/** Free, or held by a worker that stopped renewing it before `now`. */
function leaseFree(column: 'renew_lease_until' | 'sync_lease_until', now: number) {
  return (eb: ExpressionBuilder<Database, 'user_social_accounts'>) =>
    eb.or([eb(column, 'is', null), eb(column, '<=', now)])
}

/** The connection can still be kept alive at `now` (a refresh token may outlive its access token). */
function connectionAlive(now: number) {
  return (eb: ExpressionBuilder<Database, 'user_social_accounts'>) =>
    eb.or([eb('credentials_expire_at', 'is', null), eb('credentials_expire_at', '>', now)])
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
          .where('encrypted_credentials', 'is not', null)
          .where('status', 'not in', ['revoked', 'reauth_required'])
          .where(connectionAlive(claim.now))
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

  /** The account's status before a change in `trx` (PostgreSQL: its row locked until commit). */
  async function statusOf(trx: Kysely<Database>, accountId: string): Promise<string | null> {
    let query = trx.selectFrom('user_social_accounts').select('status').where('id', '=', accountId)
    if (options.lockRows === true) query = query.forUpdate()
    return (await query.executeTakeFirst())?.status ?? null
  }

  /**
   * The event of a change made in `trx`, derived from what it actually did: a row that became
   * `reauth_required` (from any other state) makes `account.reauth_required`; nothing else does.
   */
  async function transitionEvents(
    trx: Kysely<Database>,
    before: string | null,
    rows: readonly Selectable<SocialAccountsTable>[],
    events: EventMaker | null | undefined,
    now: number,
  ): Promise<void> {
    const [row] = rows
    if (!events || row === undefined) return
    if (row.status === 'reauth_required' && before !== 'reauth_required')
      await insertEvents(trx, [events.account('account.reauth_required', toAccount(row), now)], now)
  }

  async function acquire(
    kind: AccountLeaseKind,
    accountId: string,
    now: number,
    leaseUntil: number,
    owner: string | undefined,
  ): Promise<boolean> {
    const result = await db
      .updateTable('user_social_accounts')
      .set({ [COLUMNS[kind].until]: leaseUntil, [COLUMNS[kind].owner]: claimOwner(owner) })
      .where('id', '=', accountId)
      .where(leaseFree(COLUMNS[kind].until, now))
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  return {
    async claimDueRenewals(claim) {
      return leaseAccounts('renewal', claim, (due) =>
        due
          .where('credentials_expire_at', '<=', claim.dueBefore)
          .where('token_issued_at', '<=', claim.issuedBefore)
          .orderBy('credentials_expire_at'),
      )
    },
    async completeRenewal(input) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({
          ...input.credentials,
          credentials_version: input.expectedVersion + 1,
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
        .where('credentials_version', '=', input.expectedVersion)
        .$if(input.owner !== undefined, (q) => q.where('renew_lease_owner', '=', input.owner ?? ''))
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async failRenewal(input) {
      return db.transaction().execute(async (trx) => {
        const before = await statusOf(trx, input.accountId)
        const rows = await trx
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
          // retention period), and a reconnection's new credentials are not this failure's business
          .where('status', '!=', 'revoked')
          .$if(input.owner !== undefined, (q) =>
            q.where('renew_lease_owner', '=', input.owner ?? ''),
          )
          .where('credentials_version', '=', input.expectedVersion)
          .returningAll()
          .execute()
        await transitionEvents(trx, before, rows, input.events, input.now)
        return rows.length === 1
      })
    },
    async markExpiredTokens(now, message, events) {
      return db.transaction().execute(async (trx) => {
        const rows = await trx
          .updateTable('user_social_accounts')
          .set({ status: 'reauth_required', status_message: message, updated_at: now })
          .where('account_type', '=', 'oauth')
          .where('credentials_expire_at', '<=', now)
          .where('status', 'not in', ['revoked', 'reauth_required'])
          .returningAll()
          .execute()
        // every row returned changed into reauth_required: one event each
        const expired = rows.map(toAccount)
        if (events)
          await insertEvents(
            trx,
            expired.map((a) => events.account('account.reauth_required', a, now)),
            now,
          )
        return expired
      })
    },
    async markRefreshDue(dueBefore, now) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({ status: 'refresh_due', updated_at: now })
        .where('account_type', '=', 'oauth')
        .where('status', '=', 'active')
        .where('encrypted_credentials', 'is not', null)
        .where('credentials_expire_at', '<=', dueBefore)
        .where('credentials_expire_at', '>', now)
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
      return acquire('sync', accountId, now, leaseUntil, owner)
    },
    async acquireAccountLease(kind, accountId, now, leaseUntil, owner) {
      return acquire(kind, accountId, now, leaseUntil, owner)
    },
    async releaseAccountLease(kind, lease) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({ [COLUMNS[kind].until]: null, [COLUMNS[kind].owner]: null })
        .where('id', '=', lease.accountId)
        .where(COLUMNS[kind].owner, '=', lease.owner)
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
    async releaseSyncLease(lease, patch, events) {
      return db.transaction().execute(async (trx) => {
        const before = await statusOf(trx, lease.accountId)
        const rows = await trx
          .updateTable('user_social_accounts')
          .set({ ...accountPatchSet(patch), sync_lease_until: null, sync_lease_owner: null })
          .where('id', '=', lease.accountId)
          .where('sync_lease_owner', '=', lease.owner)
          .returningAll()
          .execute()
        await transitionEvents(trx, before, rows, events, patch.now)
        return rows.length === 1
      })
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
