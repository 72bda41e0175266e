/**
 * @module store/kysely/kysely-store — the `Store` implemented once on Kysely, shared by every SQL
 * backend. A backend folder supplies the dialect, its migrations and its error mapping.
 */
import { randomUUID } from 'node:crypto'
import { sql, type ExpressionBuilder, type Kysely, type Selectable, type Transaction } from 'kysely'
import { GalleryError } from '../../errors.ts'
import type {
  AccountPatch,
  AccountStatus,
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
} from '../types.ts'
import type { Database, MediaTable, SocialAccountsTable } from './schema.ts'

export interface KyselyStoreOptions {
  /** Recognises the backend's unique-constraint violation. */
  readonly isUniqueViolation: (error: unknown) => boolean
  readonly onClose: () => Promise<void>
}

const ACCOUNT_STATUSES: readonly AccountStatus[] = [
  'revoked',
  'degraded',
  'active',
  'syncing',
  'reauth_required',
  'rate_limited',
  'error',
]
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

/** The columns a sync may change; equal columns mean "unchanged, do not rewrite". */
const MEDIA_CONTENT_COLUMNS = [
  'media_type',
  'media_product_type',
  'media_url',
  'thumbnail_url',
  'permalink',
  'caption',
  'timestamp',
  'position',
  'parent_id',
] as const

function sameContent(
  a: Selectable<MediaTable>,
  b: Omit<
    MediaTable,
    | 'id'
    | 'created_at'
    | 'updated_at'
    | 'seen_sync_id'
    | 'account_id'
    | 'user_id'
    | 'platform_media_id'
  >,
): boolean {
  return MEDIA_CONTENT_COLUMNS.every((column) => a[column] === b[column])
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

  async function upsertOne(
    trx: Transaction<Database>,
    account: { id: string; user_id: string },
    item: Omit<MediaInput, 'children'>,
    parentId: string | null,
    position: number,
    syncId: string,
    now: number,
  ): Promise<{ id: string; change: 'added' | 'updated' | 'unchanged' }> {
    const existing = await trx
      .selectFrom('media')
      .selectAll()
      .where('account_id', '=', account.id)
      .where('platform_media_id', '=', item.platform_media_id)
      .executeTakeFirst()
    const content = {
      media_type: item.media_type,
      media_product_type: item.media_product_type,
      media_url: item.media_url,
      thumbnail_url: item.thumbnail_url,
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
    const unchanged = sameContent(existing, content)
    await trx
      .updateTable('media')
      .set(
        unchanged
          ? { seen_sync_id: syncId }
          : { ...content, seen_sync_id: syncId, updated_at: now },
      )
      .where('id', '=', existing.id)
      .execute()
    return { id: existing.id, change: unchanged ? 'unchanged' : 'updated' }
  }

  return {
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

    async listAccounts(userId) {
      const rows = await db
        .selectFrom('user_social_accounts')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('connected_at', 'asc')
        .orderBy('id', 'asc')
        .execute()
      return rows.map(toAccount)
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
              renew_lease_until: null,
              renewal_failures: 0,
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
    async createPublicAccount(input: PublicAccountInput) {
      const id = randomUUID()
      try {
        await db
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
            renew_lease_until: null,
            renewal_failures: 0,
          })
          .execute()
      } catch (error) {
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
      const { now, is_active, ...rest } = patch
      await db
        .updateTable('user_social_accounts')
        .set({
          ...rest,
          ...(is_active === undefined ? {} : { is_active: is_active ? 1 : 0 }),
          updated_at: now,
        })
        .where('id', '=', accountId)
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
        for (const item of items) {
          const parent = await upsertOne(trx, account, item, null, 0, syncId, now)
          let childChanged = false
          const keep: string[] = []
          for (const [position, child] of item.children.entries()) {
            const result = await upsertOne(trx, account, child, parent.id, position, syncId, now)
            keep.push(result.id)
            if (result.change !== 'unchanged') childChanged = true
          }
          let stale = trx.deleteFrom('media').where('parent_id', '=', parent.id)
          if (keep.length > 0) stale = stale.where('id', 'not in', keep)
          const removedChildren = Number((await stale.executeTakeFirst()).numDeletedRows)
          if (parent.change === 'added') added++
          else if (parent.change === 'updated' || childChanged || removedChildren > 0) updated++
        }
        return { added, updated }
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
      const result = await db
        .updateTable('user_social_accounts')
        .set({
          status: 'revoked',
          status_message: message,
          encrypted_access_token: null,
          token_expires_at: null,
          is_active: 0,
          updated_at: now,
        })
        .where('account_type', '=', 'oauth')
        .where(ofInstagramUser(instagramId))
        .executeTakeFirst()
      return Number(result.numUpdatedRows)
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
      return db.transaction().execute(async (trx) => {
        const due = await trx
          .selectFrom('user_social_accounts')
          .select('id')
          .where('account_type', '=', 'oauth')
          .where('encrypted_access_token', 'is not', null)
          .where('status', 'not in', ['revoked', 'reauth_required'])
          .where('token_expires_at', '<=', claim.dueBefore)
          .where('token_expires_at', '>', claim.now)
          .where('token_issued_at', '<=', claim.issuedBefore)
          .where((eb) =>
            eb.or([eb('renew_lease_until', 'is', null), eb('renew_lease_until', '<=', claim.now)]),
          )
          .orderBy('token_expires_at')
          .limit(claim.limit)
          .execute()
        if (due.length === 0) return []
        const ids = due.map((r) => r.id)
        // the lease condition is repeated in the update: a row leased meanwhile is not taken
        await trx
          .updateTable('user_social_accounts')
          .set({ renew_lease_until: claim.leaseUntil })
          .where('id', 'in', ids)
          .where((eb) =>
            eb.or([eb('renew_lease_until', 'is', null), eb('renew_lease_until', '<=', claim.now)]),
          )
          .execute()
        const rows = await trx
          .selectFrom('user_social_accounts')
          .selectAll()
          .where('id', 'in', ids)
          .where('renew_lease_until', '=', claim.leaseUntil)
          .execute()
        return rows.map(toAccount)
      })
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
          status: 'active',
          status_message: null,
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
      const result = await db
        .updateTable('user_social_accounts')
        .set({ status: 'reauth_required', status_message: message, updated_at: now })
        .where('account_type', '=', 'oauth')
        .where('token_expires_at', '<=', now)
        .where('status', 'not in', ['revoked', 'reauth_required'])
        .executeTakeFirst()
      return Number(result.numUpdatedRows)
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
