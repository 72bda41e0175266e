/**
 * @module store/kysely/repositories/jobs — `JobStore`: renewal and sync claims, leases and their
 * outcomes, on the `account_jobs` table (one row per OAuth account and kind, migration 0011).
 *
 * A lease lives on the job's row: claims, heartbeats and releases write only that small row. An
 * outcome that also changes the account (new credentials, a status) writes both rows in one
 * transaction, conditional on the lease (the job row, locked first on PostgreSQL) and, for
 * credentials, on their version.
 */
import { sql, type ExpressionBuilder, type Kysely, type SelectQueryBuilder } from 'kysely'
import type { AccountLeaseKind, EventMaker, JobStore, SocialAccountRecord } from '../../types.ts'
import { MAX_SYNC_DELAY_MS } from '../../../socials/platform-backoff.ts'
import { isInstanceId, leaseOwner } from '../../leases.ts'
import type { Database } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { accountsByIds } from '../rows.ts'
import { accountPatchSet, syncJobPatchSet } from './accounts.ts'
import { insertAccountEvents } from './outbox.ts'

/** The job row's lease is free, or held by a worker that stopped renewing it before `now`. */
function leaseFree(now: number) {
  return (eb: ExpressionBuilder<Database, 'account_jobs'>) =>
    eb.or([eb('account_jobs.lease_until', 'is', null), eb('account_jobs.lease_until', '<=', now)])
}

/** The owner a claim writes: the caller's, or a fresh one (`<anonymous instance>:<run>`). */
function claimOwner(owner: string | undefined): string {
  return owner ?? leaseOwner('anonymous')
}

export function createJobRepository(
  db: Kysely<Database>,
  options: Pick<KyselyStoreOptions, 'lockRows'> = {},
): JobStore {
  type DueAccounts = SelectQueryBuilder<
    Database,
    'account_jobs' | 'user_social_accounts',
    { account_id: string }
  >

  /**
   * Leases up to `claim.limit` OAuth accounts that can be worked on (credentials present and the
   * connection alive, not revoked or awaiting reconnection), match `due`, and whose `kind` lease
   * is free, to the claim's owner. On PostgreSQL the candidates' job rows are locked `FOR UPDATE
   * SKIP LOCKED`, so concurrent claimers pass over each other's rows instead of queueing on them
   * and coming back empty (D10); the lease condition is repeated in the update, so a row leased
   * meanwhile is never taken.
   */
  async function leaseAccounts(
    kind: AccountLeaseKind,
    claim: { now: number; leaseUntil: number; limit: number; owner?: string },
    due: (query: DueAccounts) => DueAccounts,
  ): Promise<SocialAccountRecord[]> {
    const owner = claimOwner(claim.owner)
    return db.transaction().execute(async (trx) => {
      // The join order is the index's: renewals are due by the account's `credentials_expire_at`
      // (index user_social_accounts_renewal), syncs by the job's `next_run_at` (account_jobs_due).
      // SQLite keeps a CROSS JOIN's order (PostgreSQL plans it as any inner join); the kind is a
      // literal so that SQLite can use the partial index.
      const joined =
        kind === 'renewal'
          ? trx.selectFrom('user_social_accounts').crossJoin('account_jobs')
          : trx.selectFrom('account_jobs').crossJoin('user_social_accounts')
      let candidates = due(
        joined
          .select('account_jobs.account_id')
          .whereRef('account_jobs.account_id', '=', 'user_social_accounts.id')
          .where('account_jobs.kind', '=', sql.lit(kind))
          .where('user_social_accounts.account_type', '=', 'oauth')
          .where('user_social_accounts.encrypted_credentials', 'is not', null)
          .where('user_social_accounts.status', 'not in', ['revoked', 'reauth_required'])
          .where((eb) =>
            eb.or([
              eb('user_social_accounts.credentials_expire_at', 'is', null),
              eb('user_social_accounts.credentials_expire_at', '>', claim.now),
            ]),
          )
          .where(leaseFree(claim.now)),
      ).limit(claim.limit)
      if (options.lockRows === true)
        candidates = candidates.forUpdate(['account_jobs']).skipLocked()
      const ids = (await candidates.execute()).map((r) => r.account_id)
      if (ids.length === 0) return []
      // RETURNING gives exactly the jobs this statement leased
      const leased = await trx
        .updateTable('account_jobs')
        .set({ lease_until: claim.leaseUntil, lease_owner: owner })
        .where('account_id', 'in', ids)
        .where('kind', '=', kind)
        .where(leaseFree(claim.now))
        .returning('account_id')
        .execute()
      // in the claim's order (due first)
      const taken = new Set(leased.map((r) => r.account_id))
      return accountsByIds(
        trx,
        ids.filter((id) => taken.has(id)),
      )
    })
  }

  /**
   * Whether `owner` (when given) holds the `kind` lease of the account, read in `trx`; on
   * PostgreSQL the job row stays locked until `trx` ends, so no claim takes it over in between.
   * Without an owner, only that the job exists.
   */
  async function holds(
    trx: Kysely<Database>,
    kind: AccountLeaseKind,
    accountId: string,
    owner: string | undefined,
  ): Promise<boolean> {
    let query = trx
      .selectFrom('account_jobs')
      .select('account_id')
      .where('account_id', '=', accountId)
      .where('kind', '=', kind)
    if (owner !== undefined) query = query.where('lease_owner', '=', owner)
    if (options.lockRows === true) query = query.forUpdate()
    return (await query.executeTakeFirst()) !== undefined
  }

  /** The account's status before a change in `trx` (PostgreSQL: its row locked until commit). */
  async function statusOf(trx: Kysely<Database>, accountId: string): Promise<string | null> {
    let query = trx.selectFrom('user_social_accounts').select('status').where('id', '=', accountId)
    if (options.lockRows === true) query = query.forUpdate()
    return (await query.executeTakeFirst())?.status ?? null
  }

  /**
   * The event of a change made in `trx`, derived from what it actually did: an account that
   * became `reauth_required` (from any other state) makes `account.reauth_required`; nothing
   * else does.
   */
  async function transitionEvents(
    trx: Kysely<Database>,
    before: string | null,
    accountId: string,
    events: EventMaker | null | undefined,
    now: number,
  ): Promise<void> {
    if (!events || before === 'reauth_required') return
    const [account] = await accountsByIds(trx, [accountId])
    if (account?.status === 'reauth_required')
      await insertAccountEvents(trx, events, 'account.reauth_required', [account], now)
  }

  async function acquire(
    kind: AccountLeaseKind,
    accountId: string,
    now: number,
    leaseUntil: number,
    owner: string | undefined,
  ): Promise<boolean> {
    const result = await db
      .updateTable('account_jobs')
      .set({ lease_until: leaseUntil, lease_owner: claimOwner(owner) })
      .where('account_id', '=', accountId)
      .where('kind', '=', kind)
      .where(leaseFree(now))
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  return {
    async claimDueRenewals(claim) {
      return leaseAccounts('renewal', claim, (due) =>
        due
          .$if(claim.platform !== undefined, (q) =>
            q.where('user_social_accounts.platform', '=', claim.platform ?? ''),
          )
          .where('user_social_accounts.credentials_expire_at', '<=', claim.dueBefore)
          .where('user_social_accounts.token_issued_at', '<=', claim.issuedBefore)
          .orderBy('user_social_accounts.credentials_expire_at'),
      )
    },
    async completeRenewal(input) {
      return db.transaction().execute(async (trx) => {
        // the lease is not asked for: a renewal that stalled past its lease still holds the only
        // tokens a rotating platform will honour (the previous refresh token is spent), so they
        // are kept whenever nothing newer was stored — the version is the compare-and-swap key
        if (!(await holds(trx, 'renewal', input.accountId, undefined))) return false
        // a renewal failure since the last renewal (a competing worker's retry with the spent
        // token, answered invalid_grant) made the account reauth_required: these tokens heal it
        const failedRenewal = sql<boolean>`(status = 'reauth_required' and exists (
          select 1 from account_jobs j
          where j.account_id = user_social_accounts.id and j.kind = 'renewal' and j.failures > 0))`
        const healed = sql<boolean>`(status in ('refresh_due', 'degraded') or ${failedRenewal})`
        const result = await trx
          .updateTable('user_social_accounts')
          .set({
            ...input.credentials,
            credentials_version: input.expectedVersion + 1,
            // renewed: no longer due, and a renewal failure no longer stands; other states stay
            status: sql<string>`case when ${healed} then 'active' else status end`,
            status_message: sql<
              string | null
            >`case when ${healed} then null else status_message end`,
            updated_at: input.now,
          })
          .where('id', '=', input.accountId)
          .where('status', '!=', 'revoked')
          .where('credentials_version', '=', input.expectedVersion)
          .executeTakeFirst()
        if (Number(result.numUpdatedRows) !== 1) return false
        await trx
          .updateTable('account_jobs')
          .set({ lease_until: null, lease_owner: null, failures: 0 })
          .where('account_id', '=', input.accountId)
          .where('kind', '=', 'renewal')
          // this renewal's lease, a failure's back-off hold (no owner), or a lapsed lease: freed;
          // another worker's live lease stays theirs (its renewal will find these newer tokens)
          .$if(input.owner !== undefined, (q) =>
            q.where((eb) =>
              eb.or([
                eb('lease_owner', '=', input.owner ?? ''),
                eb('lease_owner', 'is', null),
                eb('lease_until', '<=', input.now),
              ]),
            ),
          )
          .execute()
        return true
      })
    },
    async failRenewal(input) {
      return db.transaction().execute(async (trx) => {
        if (!(await holds(trx, 'renewal', input.accountId, input.owner))) return false
        const before = await statusOf(trx, input.accountId)
        const result = await trx
          .updateTable('user_social_accounts')
          .set({ status: input.status, status_message: input.message, updated_at: input.now })
          .where('id', '=', input.accountId)
          // a deauthorize that landed mid-renewal stands (purge keeps revoked rows only for the
          // retention period), and a reconnection's new credentials are not this failure's business
          .where('status', '!=', 'revoked')
          .where('credentials_version', '=', input.expectedVersion)
          .executeTakeFirst()
        if (Number(result.numUpdatedRows) !== 1) return false
        await trx
          .updateTable('account_jobs')
          .set((eb) => ({
            // the back-off hold: nobody owns it, so a stopping instance does not release it
            lease_until: input.retryAt,
            lease_owner: null,
            failures: eb('failures', '+', 1),
          }))
          .where('account_id', '=', input.accountId)
          .where('kind', '=', 'renewal')
          .execute()
        await transitionEvents(trx, before, input.accountId, input.events, input.now)
        return true
      })
    },
    async markExpiredTokens(now, message, events, platform) {
      return db.transaction().execute(async (trx) => {
        const rows = await trx
          .updateTable('user_social_accounts')
          .set({ status: 'reauth_required', status_message: message, updated_at: now })
          .where('account_type', '=', 'oauth')
          .where('credentials_expire_at', '<=', now)
          .where('status', 'not in', ['revoked', 'reauth_required'])
          .$if(platform !== undefined, (q) => q.where('platform', '=', platform ?? ''))
          .returning('id')
          .execute()
        // every row returned changed into reauth_required: one event each
        const expired = await accountsByIds(
          trx,
          rows.map((r) => r.id),
        )
        await insertAccountEvents(trx, events, 'account.reauth_required', expired, now)
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

    async syncLoad(platform, now) {
      const row = await db
        .selectFrom('account_jobs')
        .innerJoin('user_social_accounts', 'user_social_accounts.id', 'account_jobs.account_id')
        .select((eb) => [
          eb.fn.countAll<number | string | bigint>().as('accounts'),
          eb.fn
            .sum<number | string | bigint | null>(
              eb.fn.coalesce('user_social_accounts.posts_count', sql.lit(0)),
            )
            .as('posts'),
          eb.fn
            .countAll<number | string | bigint>()
            .filterWhere((w) =>
              w.or([
                w('account_jobs.next_run_at', 'is', null),
                w('account_jobs.next_run_at', '<=', now),
              ]),
            )
            .as('due'),
        ])
        .where('account_jobs.kind', '=', sql.lit('sync'))
        .where('user_social_accounts.platform', '=', platform)
        .where('user_social_accounts.account_type', '=', 'oauth')
        .where('user_social_accounts.encrypted_credentials', 'is not', null)
        .where('user_social_accounts.status', 'not in', ['revoked', 'reauth_required'])
        .where((eb) =>
          eb.or([
            eb('user_social_accounts.credentials_expire_at', 'is', null),
            eb('user_social_accounts.credentials_expire_at', '>', now),
          ]),
        )
        .executeTakeFirst()
      return {
        accounts: Number(row?.accounts ?? 0),
        posts: Number(row?.posts ?? 0),
        due: Number(row?.due ?? 0),
      }
    },
    async claimDueSyncs(claim) {
      return leaseAccounts('sync', claim, (due) =>
        due
          .where((eb) =>
            eb.or([
              eb('account_jobs.next_run_at', 'is', null),
              eb('account_jobs.next_run_at', '<=', claim.now),
              // further out than the service ever schedules: stored before the 24 h back-off
              // bound (red team F4, e.g. year 2977). Due: the sync then writes a sane time.
              // Decided here, in the one query every scheduler runs, so no repair pass is needed.
              eb('account_jobs.next_run_at', '>', claim.now + MAX_SYNC_DELAY_MS),
            ]),
          )
          .orderBy(sql`coalesce(account_jobs.next_run_at, 0)`),
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
        .updateTable('account_jobs')
        .set({ lease_until: null, lease_owner: null })
        .where('account_id', '=', lease.accountId)
        .where('kind', '=', kind)
        .where('lease_owner', '=', lease.owner)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async renewAccountLease(kind, lease, leaseUntil) {
      const result = await db
        .updateTable('account_jobs')
        .set({ lease_until: leaseUntil })
        .where('account_id', '=', lease.accountId)
        .where('kind', '=', kind)
        .where('lease_owner', '=', lease.owner)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async recordSyncProgress(lease, progress) {
      const { leaseUntil, now, sync_run_id, sync_cursor } = progress
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('account_jobs')
          .set({
            lease_until: leaseUntil,
            ...(sync_run_id === undefined ? {} : { run_id: sync_run_id }),
            ...(sync_cursor === undefined ? {} : { cursor: sync_cursor }),
          })
          .where('account_id', '=', lease.accountId)
          .where('kind', '=', 'sync')
          .where('lease_owner', '=', lease.owner)
          .executeTakeFirst()
        if (Number(result.numUpdatedRows) !== 1) return false
        await trx
          .updateTable('user_social_accounts')
          .set({ updated_at: now })
          .where('id', '=', lease.accountId)
          .execute()
        return true
      })
    },
    async releaseSyncLease(lease, patch, events) {
      return db.transaction().execute(async (trx) => {
        if (!(await holds(trx, 'sync', lease.accountId, lease.owner))) return false
        const before = await statusOf(trx, lease.accountId)
        await trx
          .updateTable('user_social_accounts')
          .set(accountPatchSet(patch))
          .where('id', '=', lease.accountId)
          .execute()
        await trx
          .updateTable('account_jobs')
          .set({ ...syncJobPatchSet(patch), lease_until: null, lease_owner: null })
          .where('account_id', '=', lease.accountId)
          .where('kind', '=', 'sync')
          .execute()
        await transitionEvents(trx, before, lease.accountId, events, patch.now)
        return true
      })
    },
    async releaseOwned(instanceId) {
      if (!isInstanceId(instanceId))
        throw new Error(`not an instance id: ${JSON.stringify(instanceId)}`)
      // instance ids hold no LIKE wildcards (`isInstanceId`): this matches exactly its owners
      const mine = `${instanceId}:%`
      return db.transaction().execute(async (trx) => {
        const released = async (kind: 'sync' | 'renewal'): Promise<number> =>
          Number(
            (
              await trx
                .updateTable('account_jobs')
                .set({ lease_until: null, lease_owner: null })
                .where('kind', '=', kind)
                .where('lease_owner', 'like', mine)
                .executeTakeFirst()
            ).numUpdatedRows,
          )
        const syncs = await released('sync')
        const renewals = await released('renewal')
        const webhooks = await trx
          .updateTable('webhook_deliveries')
          .set({ lease_until: null, lease_owner: null })
          .where('lease_owner', 'like', mine)
          .executeTakeFirst()
        return { syncs, renewals, webhooks: Number(webhooks.numUpdatedRows) }
      })
    },
  }
}
