/**
 * @module store/kysely/kysely-store — the `Store` implemented once on Kysely, shared by every SQL
 * backend. A backend folder supplies the dialect, its migrations and its error mapping.
 */
import { randomUUID } from 'node:crypto'
import {
  sql,
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  type SelectQueryBuilder,
  type Transaction,
} from 'kysely'
import { GalleryError } from '../../errors.ts'
import type {
  ImportedAccountInput,
  AccountPatch,
  MediaInput,
  MediaQuery,
  MediaRecord,
  MediaType,
  MediaWithChildren,
  OAuthAccountInput,
  OAuthReturnMode,
  OAuthStateRecord,
  PublicAccountInput,
  SessionRecord,
  SocialAccountRecord,
  Store,
  UserRecord,
  WebhookDeliveryRecord,
  WebhookStatus,
} from '../types.ts'
import { ACCOUNT_STATUSES } from '../types.ts'
import { MAX_SYNC_DELAY_MS } from '../../socials/platform-backoff.ts'
import type { Database, MediaTable, SocialAccountsTable, WebhookDeliveriesTable } from './schema.ts'

export interface KyselyStoreOptions {
  /** Recognises the backend's unique-constraint violation. */
  readonly isUniqueViolation: (error: unknown) => boolean
  /** Recognises "the database cannot be reached right now" (answered as ERR_STORE, 503). */
  readonly isUnavailable?: (error: unknown) => boolean
  /**
   * Lock rows read before a dependent write (`SELECT … FOR UPDATE`): needed where transactions
   * really run concurrently (PostgreSQL); SQLite serialises writers and has no such clause.
   */
  readonly lockRows?: boolean
  readonly onClose: () => Promise<void>
}

/**
 * Every store method, with backend outages turned into one clear, retryable error: a request
 * during a database restart answers 503 with the JSON envelope, and recovers by itself after.
 */
function reportingOutages(store: Store, isUnavailable: (error: unknown) => boolean): Store {
  const wrapped: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(store) as [string, (...a: unknown[]) => unknown][]) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method(...args)
      } catch (error) {
        if (error instanceof GalleryError || !isUnavailable(error)) throw error
        throw new GalleryError('ERR_STORE', 'The database is unavailable; try again in a moment', {
          cause: error,
          retryAfterSeconds: 5,
        })
      }
    }
  }
  return wrapped as unknown as Store
}

/** The job-state columns of a new account: nothing leased, nothing failed, sync as soon as can be. */
const NEW_ACCOUNT_JOB_STATE = {
  renew_lease_until: null,
  renewal_failures: 0,
  next_sync_at: null,
  sync_lease_until: null,
  sync_failures: 0,
  last_full_sync: null,
  sync_run_id: null,
  sync_cursor: null,
  media_urls_expire_at: null,
  import_fingerprint: null,
} as const
/**
 * A user signed in elsewhere (Firebase): its own id, a reserved-domain placeholder e-mail and a
 * password hash that matches no password (not `scrypt$…`).
 */
function externalUser(id: string, now: number) {
  return {
    id,
    email: `${id}@users.firebase.invalid`,
    password_hash: '!external',
    created_at: now,
  }
}

/** Ids per `IN (...)` list: well under SQLite's 32,766 bound parameters and PostgreSQL's 65,535. */
const CHUNK = 500
const WEBHOOK_STATUSES: readonly WebhookStatus[] = ['pending', 'delivered', 'failed']
const MEDIA_TYPES: readonly MediaType[] = ['IMAGE', 'VIDEO', 'CAROUSEL_ALBUM']

function toAccount(row: Selectable<SocialAccountsTable>): SocialAccountRecord {
  const status = ACCOUNT_STATUSES.find((s) => s === row.status) ?? 'error'
  return {
    ...row,
    account_type: row.account_type === 'public' ? 'public' : 'oauth',
    is_active: row.is_active === 1,
    status,
  }
}

function toMedia(row: Selectable<MediaTable>): MediaRecord {
  const { seen_sync_id: _seen, created_at: _created, ...rest } = row
  return { ...rest, media_type: MEDIA_TYPES.find((t) => t === row.media_type) ?? 'IMAGE' }
}

function toWebhook(row: Selectable<WebhookDeliveriesTable>): WebhookDeliveryRecord {
  return { ...row, status: WEBHOOK_STATUSES.find((s) => s === row.status) ?? 'failed' }
}

/** The columns an edit on the platform changes. */
const MEDIA_CONTENT_COLUMNS = [
  'media_type',
  'media_product_type',
  'permalink',
  'caption',
  'timestamp',
  'position',
  'parent_id',
] as const
/** Signed CDN URLs rotate by themselves: a change here alone is a refresh, not an edit. */
const MEDIA_URL_COLUMNS = ['media_url', 'thumbnail_url', 'url_expires_at'] as const

type MediaContent = Pick<
  MediaTable,
  (typeof MEDIA_CONTENT_COLUMNS)[number] | (typeof MEDIA_URL_COLUMNS)[number]
>

function compareMedia(
  a: Selectable<MediaTable>,
  b: MediaContent,
): 'updated' | 'refreshed' | 'unchanged' {
  if (!MEDIA_CONTENT_COLUMNS.every((column) => a[column] === b[column])) return 'updated'
  return MEDIA_URL_COLUMNS.every((column) => a[column] === b[column]) ? 'unchanged' : 'refreshed'
}

/** Free, or held by a worker that stopped renewing it before `now`. */
function leaseFree(column: 'renew_lease_until' | 'sync_lease_until', now: number) {
  return (eb: ExpressionBuilder<Database, 'user_social_accounts'>) =>
    eb.or([eb(column, 'is', null), eb(column, '<=', now)])
}

/**
 * A sliding-window estimate of the calls in the last `windowMs`: the previous window's calls
 * weighted by how much of it still overlaps, plus the current window's.
 */
function windowState(
  row: { window_start: number; window_calls: number; previous_window_calls: number } | undefined,
  now: number,
  windowMs: number,
): { windowStart: number; calls: number; previous: number; estimate: number } {
  const windowStart = Math.floor(now / windowMs) * windowMs
  let calls = 0
  let previous = 0
  if (row?.window_start === windowStart) {
    calls = row.window_calls
    previous = row.previous_window_calls
  } else if (row?.window_start === windowStart - windowMs) {
    previous = row.window_calls
  }
  const overlap = 1 - (now - windowStart) / windowMs
  return { windowStart, calls, previous, estimate: previous * overlap + calls }
}

/** When one more call fits under `cap` again (the previous window's weight keeps shrinking). */
function capRetryAt(
  state: { windowStart: number; calls: number; previous: number },
  cap: number,
  windowMs: number,
): number {
  // whole milliseconds, rounded up, without floating-point noise turning 1200000.0000002 into 1200001
  const after = (fraction: number): number => Math.ceil(windowMs * fraction - 1e-6)
  const room = cap - 1 - state.calls
  if (room >= 0 && state.previous > 0) {
    return state.windowStart + after(1 - room / state.previous)
  }
  // this window is full by itself: wait for the next one and for its weight to fall enough
  const nextStart = state.windowStart + windowMs
  return nextStart + after(Math.max(0, 1 - (cap - 1) / Math.max(1, state.calls)))
}

/** Accounts connected to this Instagram user, matched on the professional or app-scoped id. */
function ofInstagramUser(instagramId: string) {
  return (eb: ExpressionBuilder<Database, 'user_social_accounts'>) =>
    eb.or([eb('instagram_user_id', '=', instagramId), eb('instagram_scoped_id', '=', instagramId)])
}

export function createKyselyStore(db: Kysely<Database>, options: KyselyStoreOptions): Store {
  const conflict = (error: unknown, message: string): never => {
    if (options.isUniqueViolation(error))
      throw new GalleryError('ERR_CONFLICT', message, { cause: error })
    throw error
  }

  /**
   * Writes one item given its stored row (if any). Unchanged rows are not written here: their ids
   * go to `unchanged` and are marked seen in one statement per page.
   */
  async function upsertOne(
    trx: Transaction<Database>,
    account: { id: string; user_id: string },
    item: Omit<MediaInput, 'children'>,
    existing: Selectable<MediaTable> | undefined,
    parentId: string | null,
    position: number,
    syncId: string,
    now: number,
    unchanged: string[],
  ): Promise<{ id: string; change: 'added' | 'updated' | 'refreshed' | 'unchanged' }> {
    const content: MediaContent = {
      media_type: item.media_type,
      media_product_type: item.media_product_type,
      media_url: item.media_url,
      thumbnail_url: item.thumbnail_url,
      url_expires_at: item.url_expires_at,
      permalink: item.permalink,
      caption: item.caption,
      timestamp: item.timestamp,
      position,
      parent_id: parentId,
    }
    if (existing === undefined) {
      const id = randomUUID()
      await trx
        .insertInto('media')
        .values({
          id,
          account_id: account.id,
          user_id: account.user_id,
          platform_media_id: item.platform_media_id,
          ...content,
          seen_sync_id: syncId,
          created_at: now,
          updated_at: now,
        })
        .execute()
      return { id, change: 'added' }
    }
    const change = compareMedia(existing, content)
    if (change === 'unchanged') unchanged.push(existing.id)
    else
      await trx
        .updateTable('media')
        .set({ ...content, seen_sync_id: syncId, updated_at: now })
        .where('id', '=', existing.id)
        .execute()
    return { id: existing.id, change }
  }

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

  /** The stored rows of these platform ids for one account, in as few queries as the driver allows. */
  async function storedMedia(
    trx: Transaction<Database>,
    accountId: string,
    platformIds: readonly string[],
  ): Promise<Map<string, Selectable<MediaTable>>> {
    const found = new Map<string, Selectable<MediaTable>>()
    for (let i = 0; i < platformIds.length; i += CHUNK) {
      const rows = await trx
        .selectFrom('media')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('platform_media_id', 'in', platformIds.slice(i, i + CHUNK))
        .execute()
      for (const row of rows) found.set(row.platform_media_id, row)
    }
    return found
  }

  const store: Store = {
    async createUser({ email, password_hash, now }) {
      const record: UserRecord = { id: randomUUID(), email, password_hash, created_at: now }
      try {
        await db.insertInto('users').values(record).execute()
      } catch (error) {
        conflict(error, 'A user with this email already exists')
      }
      return record
    },
    async findUserByEmail(email) {
      return (
        (await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst()) ??
        null
      )
    },
    async findUserById(id) {
      return (
        (await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()) ?? null
      )
    },

    async ensureExternalUser(id, now) {
      const result = await db
        .insertInto('users')
        .values(externalUser(id, now))
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1
    },

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

    async rememberDevice(input) {
      await db
        .insertInto('known_devices')
        .values({
          digest: input.digest,
          user_id: input.user_id,
          created_at: input.now,
          last_seen_at: input.now,
        })
        .onConflict((oc) =>
          oc
            .column('digest')
            .doUpdateSet({ last_seen_at: input.now })
            .where('known_devices.user_id', '=', input.user_id),
        )
        .execute()
    },

    async getGalleryVersion(userId) {
      const row = await db
        .selectFrom('users')
        .select('gallery_version')
        .where('id', '=', userId)
        .executeTakeFirst()
      return row === undefined ? 0 : Number(row.gallery_version)
    },

    async isKnownDevice(digest, userId) {
      const row = await db
        .selectFrom('known_devices')
        .select('user_id')
        .where('digest', '=', digest)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return row !== undefined
    },

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

    async listAccounts(userId, page) {
      let query = db
        .selectFrom('user_social_accounts')
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
        .selectFrom('user_social_accounts')
        .selectAll()
        .where('id', '=', accountId)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return row === undefined ? null : toAccount(row)
    },
    async upsertOAuthAccount(input: OAuthAccountInput) {
      return db.transaction().execute(async (trx) => {
        const existing = await trx
          .selectFrom('user_social_accounts')
          .select('id')
          .where('user_id', '=', input.user_id)
          .where('platform', '=', input.platform)
          .where('account_type', '=', 'oauth')
          .where('instagram_user_id', '=', input.instagram_user_id)
          .executeTakeFirst()
        const fields = {
          username: input.username,
          display_name: `@${input.username}`,
          instagram_user_id: input.instagram_user_id,
          instagram_scoped_id: input.instagram_scoped_id,
          instagram_account_type: input.instagram_account_type,
          encrypted_access_token: input.encrypted_access_token,
          token_expires_at: input.token_expires_at,
          token_issued_at: input.token_issued_at,
          is_active: 1,
          posts_count: input.posts_count,
          status: 'active',
          status_message: null,
          profile_url: input.profile_url,
          profile_picture_url: input.profile_picture_url,
          updated_at: input.now,
          // a (re)connection starts fresh: sync soon, no backoff left from the old token
          next_sync_at: null,
          sync_failures: 0,
          renewal_failures: 0,
          renew_lease_until: null,
        }
        let id: string
        if (existing === undefined) {
          id = randomUUID()
          await trx
            .insertInto('user_social_accounts')
            .values({
              id,
              user_id: input.user_id,
              platform: input.platform,
              account_type: 'oauth',
              connected_at: input.now,
              last_sync: null,
              ...NEW_ACCOUNT_JOB_STATE,
              ...fields,
            })
            .execute()
        } else {
          id = existing.id
          await trx.updateTable('user_social_accounts').set(fields).where('id', '=', id).execute()
        }
        const row = await trx
          .selectFrom('user_social_accounts')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
        return { account: toAccount(row), created: existing === undefined }
      })
    },
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
            ? match.where('instagram_user_id', '=', input.instagram_user_id)
            : match.where('username', '=', input.username)
        const existing = await match.executeTakeFirst()
        if (existing?.import_fingerprint === input.import_fingerprint) return 'unchanged'
        const fields = {
          username: input.username,
          display_name: input.display_name,
          instagram_user_id: input.instagram_user_id,
          encrypted_access_token: input.encrypted_access_token,
          token_expires_at: input.token_expires_at,
          token_issued_at: input.token_issued_at,
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
                      encrypted_access_token: existing.encrypted_access_token,
                      token_expires_at: existing.token_expires_at,
                      token_issued_at: existing.token_issued_at,
                      status: existing.status,
                      status_message: existing.status_message,
                    }
                  : { next_sync_at: null }),
                ...(keepSync
                  ? { last_sync: existing.last_sync, posts_count: existing.posts_count }
                  : {}),
                import_fingerprint: input.import_fingerprint,
                updated_at: input.now,
              })
              .where('id', '=', existing.id)
              .execute()
          return 'updated'
        }
        if (!dryRun)
          await trx
            .insertInto('user_social_accounts')
            .values({
              id: randomUUID(),
              user_id: input.user_id,
              platform: input.platform,
              account_type: input.account_type,
              instagram_scoped_id: null,
              instagram_account_type: null,
              profile_picture_url: null,
              updated_at: input.now,
              ...NEW_ACCOUNT_JOB_STATE,
              import_fingerprint: input.import_fingerprint,
              ...fields,
            })
            .execute()
        return 'created'
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
              instagram_user_id: null,
              instagram_scoped_id: null,
              instagram_account_type: null,
              encrypted_access_token: null,
              token_expires_at: null,
              token_issued_at: null,
              is_active: 1,
              connected_at: input.now,
              last_sync: null,
              posts_count: null,
              status: 'active',
              status_message: null,
              profile_url: input.profile_url,
              profile_picture_url: null,
              updated_at: input.now,
              ...NEW_ACCOUNT_JOB_STATE,
            })
            .execute()
        })
      } catch (error) {
        if (error instanceof GalleryError) throw error
        conflict(error, 'This profile is already in your accounts')
      }
      const row = await db
        .selectFrom('user_social_accounts')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
      return toAccount(row)
    },
    async updateAccount(accountId, patch: AccountPatch) {
      const { now, is_active, status, status_message, ...rest } = patch
      await db
        .updateTable('user_social_accounts')
        .set({
          ...rest,
          // a revocation (Meta's deauthorize) stands until the person reconnects
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
        })
        .where('id', '=', accountId)
        .execute()
    },
    async markHealthy(accountId, dueBefore, now) {
      await db
        .updateTable('user_social_accounts')
        .set({
          status: sql<string>`case when token_expires_at <= ${dueBefore} then 'refresh_due' else 'active' end`,
          status_message: null,
          updated_at: now,
        })
        .where('id', '=', accountId)
        .where('status', 'not in', ['revoked', 'reauth_required'])
        .where((eb) =>
          eb.not(eb.and([eb('status', '=', 'degraded'), eb('renewal_failures', '>', 0)])),
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

    async upsertMediaPage(account, syncId, items, now) {
      return db.transaction().execute(async (trx) => {
        let added = 0
        let updated = 0
        let refreshed = 0
        const stored = await storedMedia(
          trx,
          account.id,
          items.flatMap((item) => [
            item.platform_media_id,
            ...item.children.map((c) => c.platform_media_id),
          ]),
        )
        const unchanged: string[] = []
        const done = new Set<string>()
        for (const item of items) {
          // an item listed twice in one page is stored once
          if (done.has(item.platform_media_id)) continue
          done.add(item.platform_media_id)
          const before = stored.get(item.platform_media_id)
          const parent = await upsertOne(
            trx,
            account,
            item,
            before,
            null,
            0,
            syncId,
            now,
            unchanged,
          )
          let childEdited = false
          let childRefreshed = false
          const keep: string[] = []
          for (const [position, child] of item.children.entries()) {
            const existing = stored.get(child.platform_media_id)
            const result = await upsertOne(
              trx,
              account,
              child,
              existing,
              parent.id,
              position,
              syncId,
              now,
              unchanged,
            )
            keep.push(result.id)
            if (result.change === 'added' || result.change === 'updated') childEdited = true
            if (result.change === 'refreshed') childRefreshed = true
          }
          let removedChildren = 0
          if (item.media_type === 'CAROUSEL_ALBUM' || before?.media_type === 'CAROUSEL_ALBUM') {
            // children Instagram no longer lists in this album
            let stale = trx.deleteFrom('media').where('parent_id', '=', parent.id)
            if (keep.length > 0) stale = stale.where('id', 'not in', keep)
            removedChildren = Number((await stale.executeTakeFirst()).numDeletedRows)
          }
          if (parent.change === 'added') added++
          else if (parent.change === 'updated' || childEdited || removedChildren > 0) updated++
          else if (parent.change === 'refreshed' || childRefreshed) refreshed++
        }
        for (let i = 0; i < unchanged.length; i += CHUNK) {
          await trx
            .updateTable('media')
            .set({ seen_sync_id: syncId })
            .where('id', 'in', unchanged.slice(i, i + CHUNK))
            .execute()
        }
        const known = done.size - added
        return { added, updated, refreshed, known }
      })
    },
    async removeMediaNotSeen(accountId, syncId) {
      // album children go with their album by cascade
      const result = await db
        .deleteFrom('media')
        .where('account_id', '=', accountId)
        .where('parent_id', 'is', null)
        .where((eb) => eb.or([eb('seen_sync_id', 'is', null), eb('seen_sync_id', '!=', syncId)]))
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    },
    async summarizeMedia(accountId) {
      const row = await db
        .selectFrom('media')
        .select((eb) => [
          eb.fn.countAll<number | string | bigint>().filterWhere('parent_id', 'is', null).as('n'),
          eb.fn.min('url_expires_at').as('expires'),
        ])
        .where('account_id', '=', accountId)
        .executeTakeFirst()
      const expires = row?.expires
      return {
        count: Number(row?.n ?? 0),
        urlsExpireAt: expires === null || expires === undefined ? null : Number(expires),
      }
    },
    async listMedia(query: MediaQuery): Promise<MediaWithChildren[]> {
      let q = db
        .selectFrom('media')
        .selectAll()
        .where('user_id', '=', query.user_id)
        .where('parent_id', 'is', null)
      if (query.account_id !== undefined) q = q.where('account_id', '=', query.account_id)
      if (query.media_type !== undefined) q = q.where('media_type', '=', query.media_type)
      const after = query.after
      if (after !== undefined) {
        q = q.where((eb) =>
          eb.or([
            eb('timestamp', '<', after.timestamp),
            eb.and([eb('timestamp', '=', after.timestamp), eb('id', '<', after.id)]),
          ]),
        )
      }
      const rows = await q
        .orderBy('timestamp', 'desc')
        .orderBy('id', 'desc')
        .limit(query.limit)
        .execute()
      const albumIds = rows.filter((r) => r.media_type === 'CAROUSEL_ALBUM').map((r) => r.id)
      const children =
        albumIds.length === 0
          ? []
          : await db
              .selectFrom('media')
              .selectAll()
              .where('parent_id', 'in', albumIds)
              .orderBy('position')
              .execute()
      const byParent = new Map<string, MediaRecord[]>()
      for (const child of children) {
        if (child.parent_id === null) continue
        const list = byParent.get(child.parent_id) ?? []
        list.push(toMedia(child))
        byParent.set(child.parent_id, list)
      }
      return rows.map((row) => ({ ...toMedia(row), children: byParent.get(row.id) ?? [] }))
    },

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
      await db
        .updateTable('user_social_accounts')
        .set((eb) => ({
          renew_lease_until: input.retryAt,
          renewal_failures: eb('renewal_failures', '+', 1),
          status: input.status,
          status_message: input.message,
          updated_at: input.now,
        }))
        .where('id', '=', input.accountId)
        .execute()
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

    async reserveApiCall(r) {
      return db.transaction().execute(async (trx) => {
        if (options.lockRows === true) {
          // make sure the row exists, then lock it: concurrent reservations count one by one
          await trx
            .insertInto('api_budgets')
            .values({
              scope: r.scope,
              usage_percent: null,
              usage_at: null,
              blocked_until: null,
              window_start: 0,
              window_calls: 0,
              previous_window_calls: 0,
              updated_at: r.now,
            })
            .onConflict((oc) => oc.column('scope').doNothing())
            .execute()
        }
        // only this scope's row is locked: the blockers (the app-wide row every call reads) are
        // read without a lock, so calls for different accounts never queue behind each other
        let ownRow = trx.selectFrom('api_budgets').selectAll().where('scope', '=', r.scope)
        if (options.lockRows === true) ownRow = ownRow.forUpdate()
        const rows = [
          ...(await ownRow.execute()),
          ...(r.blockedBy.length === 0
            ? []
            : await trx
                .selectFrom('api_budgets')
                .selectAll()
                .where('scope', 'in', [...r.blockedBy])
                .execute()),
        ]
        const blockedUntil = Math.max(0, ...rows.map((row) => row.blocked_until ?? 0))
        if (blockedUntil > r.now)
          return { allowed: false, reason: 'blocked', retryAt: blockedUntil }
        const own = rows.find((row) => row.scope === r.scope)
        const window = windowState(own, r.now, r.windowMs)
        if (r.cap !== null && window.estimate + 1 > r.cap) {
          return { allowed: false, reason: 'cap', retryAt: capRetryAt(window, r.cap, r.windowMs) }
        }
        const counts = {
          window_start: window.windowStart,
          window_calls: window.calls + 1,
          previous_window_calls: window.previous,
          updated_at: r.now,
        }
        await trx
          .insertInto('api_budgets')
          .values({
            scope: r.scope,
            usage_percent: null,
            usage_at: null,
            blocked_until: null,
            ...counts,
          })
          .onConflict((oc) => oc.column('scope').doUpdateSet(counts))
          .execute()
        return { allowed: true }
      })
    },
    async recordApiUsage(input) {
      const changes = {
        ...(input.usagePercent === null
          ? {}
          : { usage_percent: input.usagePercent, usage_at: input.now }),
        ...(input.blockedUntil === null ? {} : { blocked_until: input.blockedUntil }),
        updated_at: input.now,
      }
      await db
        .insertInto('api_budgets')
        .values({
          scope: input.scope,
          usage_percent: input.usagePercent,
          usage_at: input.usagePercent === null ? null : input.now,
          blocked_until: input.blockedUntil,
          window_start: 0,
          window_calls: 0,
          previous_window_calls: 0,
          updated_at: input.now,
        })
        .onConflict((oc) => oc.column('scope').doUpdateSet(changes))
        .execute()
    },
    async getApiBudgets(scopes) {
      if (scopes.length === 0) return []
      return db
        .selectFrom('api_budgets')
        .select(['scope', 'usage_percent', 'usage_at', 'blocked_until'])
        .where('scope', 'in', [...scopes])
        .execute()
    },

    async enqueueWebhook(input) {
      await db
        .insertInto('webhook_deliveries')
        .values({
          id: input.id,
          event_type: input.event_type,
          payload: input.payload,
          status: 'pending',
          attempts: 0,
          next_attempt_at: input.now,
          lease_until: null,
          last_error: null,
          created_at: input.now,
          updated_at: input.now,
        })
        .execute()
    },
    async claimDueWebhooks(claim) {
      return db.transaction().execute(async (trx) => {
        const due = await trx
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', claim.now)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', claim.now)]))
          .orderBy('next_attempt_at')
          .orderBy('created_at')
          .limit(claim.limit)
          .execute()
        if (due.length === 0) return []
        const rows = await trx
          .updateTable('webhook_deliveries')
          .set({ lease_until: claim.leaseUntil })
          .where(
            'id',
            'in',
            due.map((r) => r.id),
          )
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', claim.now)]))
          .returningAll()
          .execute()
        return rows.map(toWebhook).sort((a, b) => a.created_at - b.created_at)
      })
    },
    async finishWebhookAttempt(input) {
      await db
        .updateTable('webhook_deliveries')
        .set({
          status: input.status,
          attempts: input.attempts,
          next_attempt_at: input.nextAttemptAt,
          last_error: input.lastError,
          lease_until: null,
          updated_at: input.now,
        })
        .where('id', '=', input.id)
        .execute()
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
        .select(['id', 'encrypted_access_token'])
        .where('encrypted_access_token', 'is not', null)
      if (afterId !== null) query = query.where('id', '>', afterId)
      const rows = await query.orderBy('id').limit(limit).execute()
      return rows.flatMap((row) =>
        row.encrypted_access_token === null
          ? []
          : [{ id: row.id, encrypted_access_token: row.encrypted_access_token }],
      )
    },
    async replaceToken(input) {
      const result = await db
        .updateTable('user_social_accounts')
        .set({ encrypted_access_token: input.encryptedToken, updated_at: input.now })
        .where('id', '=', input.accountId)
        .where('encrypted_access_token', '=', input.previousToken)
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
  return options.isUnavailable === undefined
    ? store
    : reportingOutages(store, options.isUnavailable)
}
