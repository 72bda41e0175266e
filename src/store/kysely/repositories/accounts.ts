/**
 * @module store/kysely/repositories/accounts — `AccountStore`: connections, profile links, patches
 * and health.
 */
import { randomUUID } from 'node:crypto'
import { sql, type Kysely, type UpdateObject } from 'kysely'
import { GalleryError } from '../../../errors.ts'
import type {
  AccountPatch,
  AccountStore,
  OAuthAccountInput,
  PublicAccountInput,
} from '../../types.ts'
import type { Database } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { conflict } from '../conflict.ts'
import { insertAccountEvents } from './outbox.ts'
import {
  NEW_ACCOUNT_SYNC_STATE,
  NO_CREDENTIALS,
  accountsByIds,
  newAccountJobs,
  toAccount,
} from '../rows.ts'

/** An `AccountPatch`'s fields that live in the sync job's row (migration 0011), by column. */
const SYNC_JOB_FIELDS = {
  next_sync_at: 'next_run_at',
  sync_lease_until: 'lease_until',
  sync_failures: 'failures',
  sync_run_id: 'run_id',
  sync_cursor: 'cursor',
} as const

/** The sync job's columns an `AccountPatch` sets (nothing when it sets none). */
export function syncJobPatchSet(patch: AccountPatch): UpdateObject<Database, 'account_jobs'> {
  const set: Record<string, unknown> = {}
  for (const [field, column] of Object.entries(SYNC_JOB_FIELDS)) {
    const value = patch[field as keyof typeof SYNC_JOB_FIELDS]
    if (value !== undefined) set[column] = value
  }
  return set
}

/**
 * The account columns an `AccountPatch` sets: a revocation (Meta's deauthorize) stands until the
 * person reconnects. Shared with the sync lease's release (`jobs.ts`).
 */
export function accountPatchSet(
  patch: AccountPatch,
): UpdateObject<Database, 'user_social_accounts'> {
  const {
    now,
    is_active,
    status,
    status_message,
    next_sync_at: _next,
    sync_lease_until: _lease,
    sync_failures: _failures,
    sync_run_id: _run,
    sync_cursor: _cursor,
    ...rest
  } = patch
  return {
    ...rest,
    ...(status === undefined
      ? {}
      : { status: sql<string>`case when status = 'revoked' then status else ${status} end` }),
    ...(status_message === undefined
      ? {}
      : {
          status_message: sql<
            string | null
          >`case when status = 'revoked' then status_message else ${status_message} end`,
        }),
    ...(is_active === undefined ? {} : { is_active: is_active ? 1 : 0 }),
    updated_at: now,
  }
}

export function createAccountRepository(
  db: Kysely<Database>,
  options: KyselyStoreOptions,
): AccountStore {
  return {
    async listAccounts(userId, page) {
      let query = db
        .selectFrom('social_accounts_with_jobs')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('connected_at', 'asc')
        .orderBy('id', 'asc')
      const after = page?.after
      if (after !== undefined)
        query = query.where((eb) =>
          eb.or([
            eb('connected_at', '>', after.connected_at),
            eb.and([eb('connected_at', '=', after.connected_at), eb('id', '>', after.id)]),
          ]),
        )
      if (page !== undefined) query = query.limit(page.limit)
      return (await query.execute()).map(toAccount)
    },
    async getAccount(userId, accountId) {
      const row = await db
        .selectFrom('social_accounts_with_jobs')
        .selectAll()
        .where('id', '=', accountId)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return row === undefined ? null : toAccount(row)
    },
    async upsertOAuthAccount(input: OAuthAccountInput, events) {
      const fields = {
        username: input.username,
        display_name: `@${input.username}`,
        platform_user_id: input.platform_user_id,
        platform_scoped_id: input.platform_scoped_id,
        platform_attributes: JSON.stringify(input.platform_attributes),
        ...input.credentials,
        // new credentials: a renewal that read the old ones no longer applies (compare-and-swap)
        credentials_version: sql<number>`${sql.ref('user_social_accounts.credentials_version')} + 1`,
        is_active: 1,
        posts_count: input.posts_count,
        status: 'active',
        status_message: null,
        profile_url: input.profile_url,
        profile_picture_url: input.profile_picture_url,
        updated_at: input.now,
      }
      const id = randomUUID()
      // one statement (review D11): of two connections of the same account at once (two tabs),
      // one inserts and the other waits for it, then updates, instead of tripping the unique
      // index `user_social_accounts_oauth_unique`. The conflict target names that partial index's
      // columns and, as a literal, its condition, so that both databases infer it.
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('user_social_accounts')
          .values({
            id,
            user_id: input.user_id,
            platform: input.platform,
            account_type: 'oauth',
            connected_at: input.now,
            last_sync: null,
            ...NEW_ACCOUNT_SYNC_STATE,
            ...fields,
            credentials_version: 1,
          })
          .onConflict((oc) =>
            oc
              .columns(['user_id', 'platform', 'platform_user_id'])
              .where('account_type', '=', sql.lit('oauth'))
              .doUpdateSet(fields),
          )
          .returning('id')
          .executeTakeFirstOrThrow()
        // a (re)connection starts fresh: sync soon, no back-off left from the old token (a sync
        // in flight keeps its lease, and finds the new credentials when it next reads them)
        await trx
          .insertInto('account_jobs')
          .values(newAccountJobs(row.id))
          .onConflict((oc) =>
            oc.columns(['account_id', 'kind']).doUpdateSet((eb) => ({
              next_run_at: null,
              failures: 0,
              // the renewal's back-off and lease go; the sync's lease stays with its holder
              lease_until: sql`case when ${eb.ref('account_jobs.kind')} = 'renewal' then null else ${eb.ref('account_jobs.lease_until')} end`,
              lease_owner: sql`case when ${eb.ref('account_jobs.kind')} = 'renewal' then null else ${eb.ref('account_jobs.lease_owner')} end`,
            })),
          )
          .execute()
        const [account] = await accountsByIds(trx, [row.id])
        if (account === undefined)
          throw new Error('the connected account vanished in its transaction')
        // the event of this connection commits with it (the outbox)
        await insertAccountEvents(trx, events, 'account.connected', [account], input.now)
        // an update keeps the stored id: the one made here lands only with an insert
        return { account, created: row.id === id }
      })
    },
    async createPublicAccount(input: PublicAccountInput) {
      const id = randomUUID()
      try {
        await db.transaction().execute(async (trx) => {
          // one creation at a time per user (PostgreSQL: the user's row lock; SQLite: one writer),
          // so that parallel requests cannot pass the count together
          if (options.lockRows === true)
            await trx
              .selectFrom('users')
              .select('id')
              .where('id', '=', input.user_id)
              .forUpdate()
              .execute()
          const { n } = await trx
            .selectFrom('user_social_accounts')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('user_id', '=', input.user_id)
            .where('account_type', '=', 'public')
            .executeTakeFirstOrThrow()
          if (Number(n) >= input.max_per_user)
            throw new GalleryError(
              'ERR_CONFLICT',
              `You already have ${input.max_per_user} profile links, the most one person can add; remove one first`,
            )
          await trx
            .insertInto('user_social_accounts')
            .values({
              id,
              user_id: input.user_id,
              platform: input.platform,
              account_type: 'public',
              username: input.username,
              display_name: `@${input.username}`,
              platform_user_id: null,
              platform_scoped_id: null,
              platform_attributes: '{}',
              ...NO_CREDENTIALS,
              credentials_version: 0,
              is_active: 1,
              connected_at: input.now,
              last_sync: null,
              posts_count: null,
              status: 'active',
              status_message: null,
              profile_url: input.profile_url,
              profile_picture_url: null,
              updated_at: input.now,
              ...NEW_ACCOUNT_SYNC_STATE,
            })
            .execute()
        })
      } catch (error) {
        if (error instanceof GalleryError) throw error
        conflict(options, error, 'This profile is already in your accounts')
      }
      const [account] = await accountsByIds(db, [id])
      if (account === undefined) throw new Error('the new profile link is missing')
      return account
    },
    async updateAccount(accountId, patch: AccountPatch) {
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('user_social_accounts')
          .set(accountPatchSet(patch))
          .where('id', '=', accountId)
          .execute()
        const job = syncJobPatchSet(patch)
        if (Object.keys(job).length > 0)
          await trx
            .updateTable('account_jobs')
            .set(job)
            .where('account_id', '=', accountId)
            .where('kind', '=', 'sync')
            .execute()
      })
    },
    async markHealthy(accountId, dueBefore, now) {
      await db
        .updateTable('user_social_accounts')
        .set({
          status: sql<string>`case when credentials_expire_at <= ${dueBefore} then 'refresh_due' else 'active' end`,
          status_message: null,
          updated_at: now,
        })
        .where('id', '=', accountId)
        .where('status', 'not in', ['revoked', 'reauth_required'])
        // a degraded account whose renewals keep failing stays degraded until one succeeds
        .where((eb) =>
          eb.not(
            eb.and([
              eb('status', '=', 'degraded'),
              eb.exists(
                eb
                  .selectFrom('account_jobs')
                  .select('account_jobs.account_id')
                  .whereRef('account_jobs.account_id', '=', 'user_social_accounts.id')
                  .where('account_jobs.kind', '=', 'renewal')
                  .where('account_jobs.failures', '>', 0),
              ),
            ]),
          ),
        )
        .execute()
    },
    async deleteAccount(userId, accountId) {
      // the account row holds the token; its media (and album children) go with it by cascade
      const result = await db
        .deleteFrom('user_social_accounts')
        .where('id', '=', accountId)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return Number(result.numDeletedRows) === 1
    },
  }
}
