/**
 * @module store/kysely/repositories/archive-links — `ArchiveLinkStore`: the media's current
 * source URLs, blob reservations before their objects are written, and the reference checks the
 * `/media/…` routes make.
 */
import type { Kysely, Selectable } from 'kysely'
import type { ArchiveLinkStore, ArchiveRecord } from '../../types.ts'
import type { Database, MediaArchiveTable } from '../schema.ts'
import type { KyselyStoreOptions } from '../options.ts'

export function createArchiveLinkRepository(
  db: Kysely<Database>,
  options: KyselyStoreOptions,
  toArchive: (row: Selectable<MediaArchiveTable>) => ArchiveRecord,
): ArchiveLinkStore {
  return {
    async archiveSources(mediaIds) {
      if (mediaIds.length === 0) return []
      const rows = await db
        .selectFrom('media')
        .select(['id', 'media_type', 'media_url', 'thumbnail_url'])
        .where('id', 'in', [...mediaIds])
        .execute()
      return rows.map((row) => {
        const video = row.media_type === 'VIDEO'
        return {
          media_id: row.id,
          media_type: row.media_type,
          picture_url: video
            ? (row.thumbnail_url ?? null)
            : (row.media_url ?? row.thumbnail_url ?? null),
          video_url: video ? row.media_url : null,
        }
      })
    },
    async reserveBlob({ sha256, kind, now }) {
      return db.transaction().execute(async (trx) => {
        await trx
          .insertInto('archive_blobs')
          .values({ sha256, kind, bytes: 0, state: 'stored', created_at: now, updated_at: now })
          .onConflict((oc) => oc.column('sha256').doNothing())
          .execute()
        let query = trx.selectFrom('archive_blobs').select('state').where('sha256', '=', sha256)
        // PostgreSQL: the row is locked, so a garbage claim waits for this and sees the new time
        if (options.lockRows === true) query = query.forUpdate()
        const row = await query.executeTakeFirst()
        if (row === undefined || row.state === 'deleting') return 'deleting'
        await trx
          .updateTable('archive_blobs')
          .set({ updated_at: now })
          .where('sha256', '=', sha256)
          .execute()
        return 'reserved'
      })
    },
    async getArchiveByBlob(sha256) {
      const row = await db
        .selectFrom('media_archive')
        .selectAll()
        .where('sha256', '=', sha256)
        .where('state', '=', 'stored')
        .limit(1)
        .executeTakeFirst()
      return row === undefined ? null : toArchive(row)
    },
    async isBlobReferenced(sha256) {
      const row = await db
        .selectFrom('media_archive')
        .select('media_id')
        .where((eb) =>
          eb.or([
            eb.and([eb('sha256', '=', sha256), eb('state', '=', 'stored')]),
            eb.and([eb('video_sha256', '=', sha256), eb('video_state', '=', 'stored')]),
          ]),
        )
        .limit(1)
        .executeTakeFirst()
      return row !== undefined
    },
  }
}
