/**
 * @module archive/quota — `ARCHIVE_MAX_MB_PER_USER`: beyond it the newest media are kept. After
 * each archiving pass, a person whose archive grew past the limit loses the copies of their
 * oldest media (the rows say why: the gallery shows "Not archived" with `QUOTA_REASON`, and the
 * logs name the user); their blobs go with the next garbage collection unless another item still
 * references them. When room comes back (an account disconnected, posts deleted), the newest
 * evicted items are queued again, a few at a time, while the archive stays below 90 % of the
 * limit (the margin keeps a person at the limit from evicting and re-archiving the same item at
 * every pass).
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.ts'
import type { Store } from '../store/types.ts'

/** The reason an item's copy was not kept (also how its rows are found again). */
export const QUOTA_REASON =
  'Not kept: this archive is full, and the newest posts are kept first. Free room (disconnect an account or delete posts) or ask the operator for a larger quota'

const MINUTE = 60_000
/** How often evicted items are looked at for room. */
const READMIT_EVERY_MS = 10 * MINUTE
/** Re-admission fills up to this share of the limit. */
const READMIT_FILL = 0.9
/** At most this many items re-admitted per person per look. */
const READMIT_MAX = 200

export interface ArchiveQuota {
  /** Evicts the oldest copies of these people beyond the limit; returns how many. */
  enforce(userIds: Iterable<string>): Promise<number>
  /** Queues evicted items again where there is room (at most every 10 minutes); returns how many. */
  readmit(): Promise<number>
}

export function archiveQuota(options: {
  readonly store: Store
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  readonly limitBytes: number
}): ArchiveQuota {
  const { store, clock, logger, limitBytes } = options
  let lastReadmit = Number.NEGATIVE_INFINITY

  return {
    async enforce(userIds) {
      let evicted = 0
      for (const userId of new Set(userIds)) {
        const usage = await store.archiveUsage(userId)
        let total = 0
        const over: string[] = []
        for (const row of usage) {
          total += row.bytes
          if (total > limitBytes) over.push(row.media_id)
        }
        if (over.length === 0) continue
        const changed = await store.evictArchives(over, QUOTA_REASON, clock.now())
        evicted += changed
        logger.warn(
          { userId, evicted: changed, limitMb: Math.round(limitBytes / (1024 * 1024)) },
          "a person's archive is over ARCHIVE_MAX_MB_PER_USER: the copies of their oldest media were not kept",
        )
      }
      return evicted
    },

    async readmit() {
      const now = clock.now()
      if (now - lastReadmit < READMIT_EVERY_MS) return 0
      lastReadmit = now
      let readmitted = 0
      for (const userId of await store.usersWithEvictions(QUOTA_REASON)) {
        const usage = await store.archiveUsage(userId)
        const bytes = usage.reduce((sum, row) => sum + row.bytes, 0)
        const room = limitBytes * READMIT_FILL - bytes
        if (room <= 0) continue
        // as many as fit at this person's average item size (at least one)
        const average = usage.length === 0 ? room : bytes / usage.length
        const count = Math.max(1, Math.min(READMIT_MAX, Math.floor(room / Math.max(1, average))))
        readmitted += await store.readmitArchives(userId, QUOTA_REASON, count, now)
      }
      return readmitted
    },
  }
}
