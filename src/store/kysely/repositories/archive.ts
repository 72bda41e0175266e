/**
 * @module store/kysely/repositories/archive — `ArchiveStore`: one archive row per media item,
 * leased one attempt at a time, and the content-addressed blobs those rows reference, with
 * garbage found by a query (no reference counts) and deleted through a `deleting` state.
 *
 * Blob linking and the garbage claim, on PostgreSQL (SQLite serialises writers, so there each
 * transaction sees the other's whole outcome): both lock the blob row, and the order of the two
 * decides.
 * - `completeArchiving` upserts every blob it references (`INSERT … ON CONFLICT DO UPDATE`,
 *   which locks the row, waiting for a garbage claim holding it, and then acts on its latest
 *   committed version) before it writes the reference, and holds those locks until it commits.
 *   A blob found `deleting` rolls everything back (`'blob_deleting'`).
 * - `claimGarbage` first locks its candidates (`FOR UPDATE SKIP LOCKED`: a blob being linked
 *   right now is skipped), then, in a second statement — a fresh READ COMMITTED snapshot, taken
 *   after the locks are held — moves to `deleting` only those still unreferenced and still old.
 *   A link that committed before the lock was taken is seen by that snapshot (the blob stays);
 *   one that comes after waits for the lock and then sees `deleting`. A blob can therefore not
 *   be both referenced and `deleting`. (Belt and braces: a link also bumps the blob's
 *   `updated_at`, so the row no longer passes `updated_at < olderThan` when PostgreSQL re-checks
 *   a row that changed under a waiting lock; the conformance case "complete vs garbage claim"
 *   fails only when both the lock and the re-check are removed, or the link takes no lock.)
 */
import type { ExpressionBuilder, Kysely, RawBuilder, Selectable, Transaction } from 'kysely'
import { sql } from 'kysely'
import type { ArchiveRecord, ArchiveStore, ArchiveVariant, BlobRecord } from '../../types.ts'
import type { ArchiveBlobsTable, Database, MediaArchiveTable } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'
import { leaseOwner } from '../../leases.ts'

const nullableNumber = (value: number | null): number | null =>
  value === null ? null : Number(value)

export function toArchive(row: Selectable<MediaArchiveTable>): ArchiveRecord {
  return {
    ...row,
    attempts: Number(row.attempts),
    next_attempt_at: Number(row.next_attempt_at),
    lease_until: nullableNumber(row.lease_until),
    width: nullableNumber(row.width),
    height: nullableNumber(row.height),
    variants: JSON.parse(row.variants) as ArchiveVariant[],
    bytes: Number(row.bytes),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  }
}

function toBlob(row: Selectable<ArchiveBlobsTable>): BlobRecord {
  return {
    ...row,
    bytes: Number(row.bytes),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  }
}

/**
 * The picture URL of media row `m`, without its query string: a photo's (or album's)
 * `media_url`, a video's `thumbnail_url`, each falling back to the other. (`instr` is SQLite's;
 * migration 0014 gives PostgreSQL the same function.)
 */
function pictureSource(): RawBuilder<string | null> {
  const url = sql`(CASE WHEN m.media_type = 'VIDEO' THEN COALESCE(m.thumbnail_url, m.media_url) ELSE COALESCE(m.media_url, m.thumbnail_url) END)`
  return sql<
    string | null
  >`(CASE WHEN instr(${url}, '?') > 0 THEN substr(${url}, 1, instr(${url}, '?') - 1) ELSE ${url} END)`
}

/** A new (or reset) row's video state: a video's own file is archived too. */
const videoState = sql<
  'pending' | 'none'
>`(CASE WHEN m.media_type = 'VIDEO' THEN 'pending' ELSE 'none' END)`

/** A bound epoch-ms value typed for PostgreSQL where it cannot be inferred (a SELECT list). */
const epoch = (value: number) => sql<number>`CAST(${value} AS BIGINT)`

/** No archive row names the blob of `archive_blobs` (either column: one index each). */
function unreferenced(eb: ExpressionBuilder<Database, 'archive_blobs'>) {
  const naming = (column: 'a.sha256' | 'a.video_sha256') =>
    eb.not(
      eb.exists(
        eb
          .selectFrom('media_archive as a')
          .select(sql.lit(1).as('one'))
          .whereRef(column, '=', 'archive_blobs.sha256'),
      ),
    )
  return sql<boolean>`(${naming('a.sha256')} AND ${naming('a.video_sha256')})`
}

/** Unwinds a transaction that must change nothing, carrying its answer. */
class Rollback extends Error {
  readonly outcome = 'blob_deleting' as const
}

export function createArchiveRepository(
  db: Kysely<Database>,
  options: Pick<KyselyStoreOptions, 'lockRows'>,
): ArchiveStore {
  async function unreferencedOld(
    trx: Transaction<Database>,
    olderThan: number,
    limit: number,
    lock: boolean,
  ): Promise<string[]> {
    let query = trx
      .selectFrom('archive_blobs')
      .select('sha256')
      .where('state', '=', 'stored')
      .where('updated_at', '<', olderThan)
      .where(unreferenced)
      .orderBy('updated_at')
      .orderBy('sha256')
      .limit(limit)
    if (lock) query = query.forUpdate().skipLocked()
    return (await query.execute()).map((r) => r.sha256)
  }

  return {
    async enqueueArchiving(now, limit) {
      if (limit <= 0) return 0
      return db.transaction().execute(async (trx) => {
        const created = await trx
          .insertInto('media_archive')
          .columns([
            'media_id',
            'user_id',
            'account_id',
            'platform',
            'state',
            'source',
            'next_attempt_at',
            'video_state',
            'created_at',
            'updated_at',
          ])
          .expression(
            trx
              .selectFrom('media as m')
              .select((eb) => [
                'm.id',
                'm.user_id',
                'm.account_id',
                // a lookup by primary key per new row (not a join the planner could turn around)
                eb
                  .selectFrom('user_social_accounts as acc')
                  .select('acc.platform')
                  .whereRef('acc.id', '=', 'm.account_id')
                  .as('platform'),
                sql.lit('pending').as('state'),
                pictureSource().as('source'),
                epoch(now).as('next_attempt_at'),
                videoState.as('video_state'),
                epoch(now).as('created_at'),
                epoch(now).as('updated_at'),
              ])
              .where((eb) =>
                eb.not(
                  eb.exists(
                    eb
                      .selectFrom('media_archive as a')
                      .select(sql.lit(1).as('one'))
                      .whereRef('a.media_id', '=', 'm.id'),
                  ),
                ),
              )
              .orderBy('m.timestamp')
              .orderBy('m.id')
              .limit(limit),
          )
          // two instances enqueueing at once: the second leaves the first's rows
          .onConflict((oc) => oc.column('media_id').doNothing())
          .executeTakeFirst()
        const changed = trx
          .selectFrom('media_archive as a')
          .innerJoin('media as m', 'm.id', 'a.media_id')
          .select('a.media_id')
          .where(sql<boolean>`a.source IS DISTINCT FROM ${pictureSource()}`)
          .limit(limit)
        const reset = await trx
          .updateTable('media_archive')
          .set((eb) => ({
            state: 'pending',
            source: eb
              .selectFrom('media as m')
              .select(pictureSource().as('source'))
              .whereRef('m.id', '=', 'media_archive.media_id'),
            reason: null,
            attempts: 0,
            lease_until: null,
            lease_owner: null,
            next_attempt_at: now,
            video_state: eb
              .selectFrom('media as m')
              .select(videoState.as('video_state'))
              .whereRef('m.id', '=', 'media_archive.media_id'),
            video_reason: null,
            updated_at: now,
          }))
          .where('media_id', 'in', changed)
          .executeTakeFirst()
        return Number(created.numInsertedOrUpdatedRows ?? 0n) + Number(reset.numUpdatedRows)
      })
    },

    async claimArchiving(platform, claim) {
      const owner = claim.owner ?? leaseOwner('anonymous')
      return db.transaction().execute(async (trx) => {
        let query = trx
          .selectFrom('media_archive as a')
          .innerJoin('media as m', 'm.id', 'a.media_id')
          .select('a.media_id')
          .where('a.platform', '=', platform)
          .where('a.state', '=', 'pending')
          .where('a.next_attempt_at', '<=', claim.now)
          .where((eb) =>
            eb.or([eb('a.lease_until', 'is', null), eb('a.lease_until', '<=', claim.now)]),
          )
          .orderBy('m.timestamp')
          .orderBy('m.id')
          .limit(claim.limit)
        if (options.lockRows === true) query = query.forUpdate('a').skipLocked()
        const due = (await query.execute()).map((r) => r.media_id)
        if (due.length === 0) return []
        const rows = await trx
          .updateTable('media_archive')
          .set({ lease_until: claim.leaseUntil, lease_owner: owner })
          .where('media_id', 'in', due)
          .where('state', '=', 'pending')
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', claim.now)]))
          .returningAll()
          .execute()
        const order = new Map(due.map((id, i) => [id, i]))
        return rows
          .map(toArchive)
          .sort((x, y) => (order.get(x.media_id) ?? 0) - (order.get(y.media_id) ?? 0))
      })
    },

    async renewArchiveLease(mediaId, owner, until) {
      const result = await db
        .updateTable('media_archive')
        .set({ lease_until: until })
        .where('media_id', '=', mediaId)
        .where('lease_owner', '=', owner)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },

    async completeArchiving({ mediaId, owner, result, blobs, now }) {
      // one upsert per distinct blob, in hash order: two completions never wait on each other
      // in opposite orders
      const distinct = [...new Map(blobs.map((b) => [b.sha256, b])).values()].sort((x, y) =>
        x.sha256 < y.sha256 ? -1 : x.sha256 > y.sha256 ? 1 : 0,
      )
      try {
        return await db.transaction().execute(async (trx) => {
          let held = trx
            .selectFrom('media_archive')
            .select('media_id')
            .where('media_id', '=', mediaId)
            .where('lease_owner', '=', owner)
          if (options.lockRows === true) held = held.forUpdate()
          if ((await held.executeTakeFirst()) === undefined) return 'lost' as const
          for (const blob of distinct) {
            const row = await trx
              .insertInto('archive_blobs')
              .values({
                sha256: blob.sha256,
                kind: blob.kind,
                bytes: blob.bytes,
                state: 'stored',
                created_at: now,
                updated_at: now,
              })
              .onConflict((oc) =>
                oc.column('sha256').doUpdateSet({
                  updated_at: now,
                  // a reservation (`reserveBlob`) made the row with 0 bytes: the real size now
                  bytes: sql<number>`case when archive_blobs.bytes < excluded.bytes then excluded.bytes else archive_blobs.bytes end`,
                }),
              )
              .returning('state')
              .executeTakeFirstOrThrow()
            if (row.state === 'deleting') throw new Rollback()
          }
          const updated = await trx
            .updateTable('media_archive')
            .set({
              state: 'stored',
              reason: null,
              sha256: result.sha256,
              width: result.width,
              height: result.height,
              thumbhash: result.thumbhash,
              color: result.color,
              variants: JSON.stringify(result.variants),
              video_state: result.video_state,
              video_sha256: result.video_sha256,
              video_reason: result.video_reason,
              bytes: result.bytes,
              lease_until: null,
              lease_owner: null,
              updated_at: now,
            })
            .where('media_id', '=', mediaId)
            .where('lease_owner', '=', owner)
            .executeTakeFirst()
          if (Number(updated.numUpdatedRows) !== 1) return 'lost' as const
          return 'stored' as const
        })
      } catch (error) {
        if (error instanceof Rollback) return error.outcome
        throw error
      }
    },

    async failArchiving({ mediaId, owner, reason, retryAt, now }) {
      const result = await db
        .updateTable('media_archive')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          reason,
          state: retryAt === null ? 'failed' : 'pending',
          ...(retryAt === null ? {} : { next_attempt_at: retryAt }),
          lease_until: null,
          lease_owner: null,
          updated_at: now,
        }))
        .where('media_id', '=', mediaId)
        .where('lease_owner', '=', owner)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },

    async getArchives(mediaIds) {
      if (mediaIds.length === 0) return []
      const rows = await db
        .selectFrom('media_archive')
        .selectAll()
        .where('media_id', 'in', [...mediaIds])
        .execute()
      const order = new Map(mediaIds.map((id, i) => [id, i]))
      return rows
        .map(toArchive)
        .sort((x, y) => (order.get(x.media_id) ?? 0) - (order.get(y.media_id) ?? 0))
    },

    async getBlob(sha256) {
      const row = await db
        .selectFrom('archive_blobs')
        .selectAll()
        .where('sha256', '=', sha256)
        .executeTakeFirst()
      return row === undefined ? null : toBlob(row)
    },

    async claimGarbage(olderThan, limit, now) {
      if (limit <= 0) return []
      return db.transaction().execute(async (trx) => {
        // a crash mid-deletion left these: their objects may be partly gone, finish them first
        const deleting = await trx
          .selectFrom('archive_blobs')
          .selectAll()
          .where('state', '=', 'deleting')
          .orderBy('updated_at')
          .orderBy('sha256')
          .limit(limit)
          .execute()
        const room = limit - deleting.length
        if (room <= 0) return deleting.map(toBlob)
        const lock = options.lockRows === true
        const candidates = await unreferencedOld(trx, olderThan, room, lock)
        if (candidates.length === 0) return deleting.map(toBlob)
        // on PostgreSQL a fresh snapshot, taken with the candidates locked: see the module comment
        const moved = await trx
          .updateTable('archive_blobs')
          .set({ state: 'deleting', updated_at: now })
          .where('sha256', 'in', candidates)
          .where('state', '=', 'stored')
          .where('updated_at', '<', olderThan)
          .where(unreferenced)
          .returningAll()
          .execute()
        return [...deleting, ...moved].map(toBlob)
      })
    },

    async forgetBlob(sha256) {
      await db
        .deleteFrom('archive_blobs')
        .where('sha256', '=', sha256)
        .where('state', '=', 'deleting')
        .execute()
    },

    async archivedBytes(userId) {
      const row = await db
        .selectFrom('media_archive')
        .select(sql<number | string | null>`SUM(bytes)`.as('bytes'))
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return Number(row?.bytes ?? 0)
    },

    async archiveStatus() {
      const rows = await db
        .selectFrom('media_archive')
        .select([
          'platform',
          'state',
          sql<number | string>`COUNT(*)`.as('items'),
          sql<number | string | null>`SUM(bytes)`.as('bytes'),
        ])
        .groupBy(['platform', 'state'])
        .orderBy('platform')
        .orderBy('state')
        .execute()
      return rows.map((r) => ({
        platform: r.platform,
        state: r.state,
        items: Number(r.items),
        bytes: Number(r.bytes ?? 0),
      }))
    },

    async archiveVideoStatus() {
      const rows = await db
        .selectFrom('media_archive')
        .select(['platform', 'video_state', sql<number | string>`COUNT(*)`.as('items')])
        .where('video_state', '!=', 'none')
        .groupBy(['platform', 'video_state'])
        .orderBy('platform')
        .orderBy('video_state')
        .execute()
      return rows.map((r) => ({
        platform: r.platform,
        video_state: r.video_state,
        items: Number(r.items),
      }))
    },

    async blobTotals() {
      const rows = await db
        .selectFrom('archive_blobs')
        .select([
          'kind',
          'state',
          sql<number | string>`COUNT(*)`.as('blobs'),
          sql<number | string | null>`SUM(bytes)`.as('bytes'),
        ])
        .groupBy(['kind', 'state'])
        .orderBy('kind')
        .orderBy('state')
        .execute()
      return rows.map((r) => ({
        kind: r.kind,
        state: r.state,
        blobs: Number(r.blobs),
        bytes: Number(r.bytes ?? 0),
      }))
    },

    async topArchiveUsers(limit) {
      if (limit <= 0) return []
      const rows = await db
        .selectFrom('media_archive as a')
        .innerJoin('users as u', 'u.id', 'a.user_id')
        .select([
          'a.user_id',
          'u.email',
          sql<number | string>`COUNT(*)`.as('items'),
          sql<number | string>`COALESCE(SUM(a.bytes), 0)`.as('bytes'),
        ])
        .groupBy(['a.user_id', 'u.email'])
        .orderBy(sql`COALESCE(SUM(a.bytes), 0)`, 'desc')
        .orderBy('a.user_id')
        .limit(limit)
        .execute()
      return rows.map((r) => ({
        user_id: r.user_id,
        email: r.email,
        items: Number(r.items),
        bytes: Number(r.bytes),
      }))
    },

    async listBlobs(after, limit) {
      if (limit <= 0) return []
      let query = db
        .selectFrom('archive_blobs')
        .selectAll()
        .where('state', '=', 'stored')
        .orderBy('sha256')
        .limit(limit)
      if (after !== null) query = query.where('sha256', '>', after)
      return (await query.execute()).map(toBlob)
    },

    async requeueArchives(sha256s, now) {
      if (sha256s.length === 0) return 0
      const hashes = [...new Set(sha256s)]
      const result = await db
        .updateTable('media_archive')
        .set({
          state: 'pending',
          reason: null,
          attempts: 0,
          next_attempt_at: now,
          video_state: sql<
            'pending' | 'none'
          >`(CASE WHEN video_state = 'none' THEN 'none' ELSE 'pending' END)`,
          video_reason: null,
          updated_at: now,
        })
        .where((eb) => eb.or([eb('sha256', 'in', hashes), eb('video_sha256', 'in', hashes)]))
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        .executeTakeFirst()
      return Number(result.numUpdatedRows)
    },
  }
}
