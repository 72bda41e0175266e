/**
 * @module store/kysely/repositories/media — `MediaStore`: media pages, reconciliation, listing,
 * gallery version.
 */
import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable, Transaction } from 'kysely'
import type {
  MediaInput,
  MediaPageResult,
  MediaQuery,
  MediaRecord,
  MediaStore,
  MediaUrlState,
  MediaWithChildren,
} from '../../types.ts'
import type { Database, MediaTable } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { toMedia } from '../rows.ts'
import {
  itemChange,
  planMediaPage,
  tallyMediaPage,
  type MediaChange,
  type PlannedMedia,
} from '../../media-diff.ts'

/** Ids per `IN (...)` list: well under SQLite's 32,766 bound parameters and PostgreSQL's 65,535. */
const CHUNK = 500

export function createMediaRepository(
  db: Kysely<Database>,
  options: Pick<KyselyStoreOptions, 'lockRows'> = {},
): MediaStore {
  /**
   * Whether `owner` holds the account's sync lease, read in `trx`; on PostgreSQL the sync job row
   * stays locked until `trx` ends, so no claim can take the lease over in between.
   */
  async function holdsSyncLease(
    trx: Transaction<Database>,
    accountId: string,
    owner: string,
  ): Promise<boolean> {
    let query = trx
      .selectFrom('account_jobs')
      .select('account_id')
      .where('account_id', '=', accountId)
      .where('kind', '=', 'sync')
      .where('lease_owner', '=', owner)
    if (options.lockRows === true) query = query.forUpdate()
    return (await query.executeTakeFirst()) !== undefined
  }

  /**
   * Writes one planned row. Unchanged rows are not written here: their ids go to `unchanged` and
   * are marked seen in one statement per page.
   */
  async function write(
    trx: Transaction<Database>,
    account: { id: string; user_id: string },
    row: PlannedMedia,
    syncId: string,
    now: number,
    unchanged: string[],
  ): Promise<void> {
    if (row.change === 'added')
      await trx
        .insertInto('media')
        .values({
          id: row.id,
          account_id: account.id,
          user_id: account.user_id,
          platform_media_id: row.item.platform_media_id,
          ...row.content,
          seen_sync_id: syncId,
          created_at: now,
          updated_at: now,
        })
        .execute()
    else if (row.change === 'unchanged') unchanged.push(row.id)
    else
      await trx
        .updateTable('media')
        .set({ ...row.content, seen_sync_id: syncId, updated_at: now })
        .where('id', '=', row.id)
        .execute()
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

  function upsertMediaPage(
    account: { id: string; user_id: string },
    syncId: string,
    items: readonly MediaInput[],
    now: number,
  ): Promise<MediaPageResult>
  function upsertMediaPage(
    account: { id: string; user_id: string },
    syncId: string,
    items: readonly MediaInput[],
    now: number,
    leaseOwner: string,
  ): Promise<MediaPageResult | null>
  async function upsertMediaPage(
    account: { id: string; user_id: string },
    syncId: string,
    items: readonly MediaInput[],
    now: number,
    leaseOwner?: string,
  ): Promise<MediaPageResult | null> {
    return db.transaction().execute(async (trx) => {
      if (leaseOwner !== undefined && !(await holdsSyncLease(trx, account.id, leaseOwner)))
        return null
      const stored = await storedMedia(
        trx,
        account.id,
        items.flatMap((item) => [
          item.platform_media_id,
          ...item.children.map((c) => c.platform_media_id),
        ]),
      )
      const unchanged: string[] = []
      const changes: MediaChange[] = []
      for (const item of planMediaPage(items, stored, randomUUID)) {
        await write(trx, account, item, syncId, now, unchanged)
        for (const child of item.children) await write(trx, account, child, syncId, now, unchanged)
        let removedChildren = 0
        if (item.album) {
          // children Instagram no longer lists in this album
          const keep = item.children.map((child) => child.id)
          let stale = trx.deleteFrom('media').where('parent_id', '=', item.id)
          if (keep.length > 0) stale = stale.where('id', 'not in', keep)
          removedChildren = Number((await stale.executeTakeFirst()).numDeletedRows)
        }
        changes.push(itemChange(item, removedChildren))
      }
      for (let i = 0; i < unchanged.length; i += CHUNK) {
        await trx
          .updateTable('media')
          .set({ seen_sync_id: syncId })
          .where('id', 'in', unchanged.slice(i, i + CHUNK))
          .execute()
      }
      return tallyMediaPage(changes)
    })
  }

  function removeMediaNotSeen(accountId: string, syncId: string): Promise<number>
  function removeMediaNotSeen(
    accountId: string,
    syncId: string,
    leaseOwner: string,
  ): Promise<number | null>
  async function removeMediaNotSeen(
    accountId: string,
    syncId: string,
    leaseOwner?: string,
  ): Promise<number | null> {
    return db.transaction().execute(async (trx) => {
      if (leaseOwner !== undefined && !(await holdsSyncLease(trx, accountId, leaseOwner)))
        return null
      // album children go with their album by cascade
      const result = await trx
        .deleteFrom('media')
        .where('account_id', '=', accountId)
        .where('parent_id', 'is', null)
        .where((eb) => eb.or([eb('seen_sync_id', 'is', null), eb('seen_sync_id', '!=', syncId)]))
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    })
  }

  return {
    upsertMediaPage,
    removeMediaNotSeen,
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
    async newestMediaId(accountId) {
      const row = await db
        .selectFrom('media')
        .select('platform_media_id')
        .where('account_id', '=', accountId)
        .where('parent_id', 'is', null)
        .orderBy('timestamp', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst()
      return row?.platform_media_id ?? null
    },
    async storedMediaHints(accountId, platformIds) {
      const found = new Map<string, { media_product_type: string | null }>()
      for (let i = 0; i < platformIds.length; i += CHUNK) {
        const rows = await db
          .selectFrom('media')
          .select(['platform_media_id', 'media_product_type'])
          .where('account_id', '=', accountId)
          .where('platform_media_id', 'in', platformIds.slice(i, i + CHUNK))
          .execute()
        for (const row of rows)
          found.set(row.platform_media_id, { media_product_type: row.media_product_type })
      }
      return found
    },
    async listMedia(query: MediaQuery): Promise<MediaWithChildren[]> {
      let q = db
        .selectFrom('media')
        .selectAll()
        .where('user_id', '=', query.user_id)
        .where('parent_id', 'is', null)
      if (query.account_id !== undefined) q = q.where('account_id', '=', query.account_id)
      const platform = query.platform
      if (platform !== undefined)
        q = q.where('account_id', 'in', (eb) =>
          eb
            .selectFrom('user_social_accounts')
            .select('id')
            .where('user_id', '=', query.user_id)
            .where('platform', '=', platform),
        )
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
    async mediaUrlStates(mediaIds): Promise<MediaUrlState[]> {
      const found: MediaUrlState[] = []
      for (let i = 0; i < mediaIds.length; i += CHUNK) {
        const rows = await db
          .selectFrom('media')
          .select(['id', 'account_id', 'platform_media_id', 'url_expires_at'])
          .where('id', 'in', mediaIds.slice(i, i + CHUNK))
          .execute()
        for (const row of rows)
          found.push({
            id: row.id,
            account_id: row.account_id,
            platform_media_id: row.platform_media_id,
            url_expires_at: row.url_expires_at === null ? null : Number(row.url_expires_at),
          })
      }
      return found
    },
    async refreshMediaUrls(accountId, items, now) {
      const fresh = items.flatMap((item) => [item, ...item.children])
      if (fresh.length === 0) return 0
      return db.transaction().execute(async (trx) => {
        const stored = await storedMedia(
          trx,
          accountId,
          fresh.map((f) => f.platform_media_id),
        )
        let changed = 0
        for (const item of fresh) {
          const row = stored.get(item.platform_media_id)
          if (row === undefined) continue
          const expires = row.url_expires_at === null ? null : Number(row.url_expires_at)
          if (
            row.media_url === item.media_url &&
            row.thumbnail_url === item.thumbnail_url &&
            expires === item.url_expires_at
          )
            continue
          await trx
            .updateTable('media')
            .set({
              media_url: item.media_url,
              thumbnail_url: item.thumbnail_url,
              url_expires_at: item.url_expires_at,
              updated_at: now,
            })
            .where('id', '=', row.id)
            .execute()
          changed++
        }
        return changed
      })
    },
    async getGalleryVersion(userId) {
      const row = await db
        .selectFrom('users')
        .select('gallery_version')
        .where('id', '=', userId)
        .executeTakeFirst()
      return row === undefined ? 0 : Number(row.gallery_version)
    },
  }
}
