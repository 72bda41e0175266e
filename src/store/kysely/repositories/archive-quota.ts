/**
 * @module store/kysely/repositories/archive-quota — `ArchiveQuotaStore`: which archive rows the
 * per-user quota keeps (newest media first), evicting the rest and re-admitting them when room
 * comes back. Eviction only touches `stored`, unleased rows, so it never races an archiver.
 */
import { sql, type Kysely } from 'kysely'
import type { ArchiveQuotaStore } from '../../types.ts'
import type { Database } from '../schema.ts'

/** Ids per statement (SQLite's variable limit is far above; PostgreSQL has none this low). */
const CHUNK = 500

export function createArchiveQuotaRepository(db: Kysely<Database>): ArchiveQuotaStore {
  return {
    async archiveUsage(userId) {
      const rows = await db
        .selectFrom('media_archive as a')
        .innerJoin('media as m', 'm.id', 'a.media_id')
        .select(['a.media_id', 'a.bytes'])
        .where('a.user_id', '=', userId)
        .where('a.state', '=', 'stored')
        .where('a.bytes', '>', 0)
        .orderBy('m.timestamp', 'desc')
        .orderBy('m.position')
        .orderBy('m.id')
        .execute()
      return rows.map((r) => ({ media_id: r.media_id, bytes: Number(r.bytes) }))
    },

    async evictArchives(mediaIds, reason, now) {
      let changed = 0
      for (let i = 0; i < mediaIds.length; i += CHUNK) {
        const result = await db
          .updateTable('media_archive')
          .set({
            state: 'failed',
            reason,
            sha256: null,
            width: null,
            height: null,
            thumbhash: null,
            color: null,
            variants: '[]',
            video_state: 'skipped',
            video_sha256: null,
            video_reason: null,
            bytes: 0,
            updated_at: now,
          })
          .where('media_id', 'in', mediaIds.slice(i, i + CHUNK))
          .where('state', '=', 'stored')
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
          .executeTakeFirst()
        changed += Number(result.numUpdatedRows)
      }
      return changed
    },

    async usersWithEvictions(reason) {
      const rows = await db
        .selectFrom('media_archive')
        .select('user_id')
        .distinct()
        .where('state', '=', 'failed')
        .where('reason', '=', reason)
        .execute()
      return rows.map((r) => r.user_id)
    },

    async readmitArchives(userId, reason, limit, now) {
      if (limit <= 0) return 0
      const chosen = await db
        .selectFrom('media_archive as a')
        .innerJoin('media as m', 'm.id', 'a.media_id')
        .select('a.media_id')
        .where('a.user_id', '=', userId)
        .where('a.state', '=', 'failed')
        .where('a.reason', '=', reason)
        .orderBy('m.timestamp', 'desc')
        .orderBy('m.position')
        .orderBy('m.id')
        .limit(limit)
        .execute()
      if (chosen.length === 0) return 0
      const result = await db
        .updateTable('media_archive')
        .set({
          state: 'pending',
          reason: null,
          attempts: 0,
          next_attempt_at: now,
          // a video's own copy is wanted again too
          video_state: sql<
            'pending' | 'none'
          >`(CASE WHEN (SELECT m.media_type FROM media m WHERE m.id = media_archive.media_id) = 'VIDEO' THEN 'pending' ELSE 'none' END)`,
          updated_at: now,
        })
        .where(
          'media_id',
          'in',
          chosen.map((r) => r.media_id),
        )
        .where('state', '=', 'failed')
        .where('reason', '=', reason)
        .executeTakeFirst()
      return Number(result.numUpdatedRows)
    },
  }
}
