/**
 * @module store/types/archive-quota — the per-user archive quota (`ARCHIVE_MAX_MB_PER_USER`):
 * beyond it the newest media are kept. What is evicted stays an archive row, `failed` with the
 * quota's reason and holding nothing (its blobs become garbage unless another row references
 * them); when room comes back (an account deleted, posts removed), the newest evicted rows are
 * made `pending` again and archived anew.
 */

/** One stored archive row's weight, for choosing what the quota keeps. */
export interface ArchiveUsage {
  readonly media_id: string
  readonly bytes: number
}

export interface ArchiveQuotaStore {
  /**
   * The user's `stored` archive rows that hold bytes, newest media first (the post's timestamp,
   * then its album position, then id): the order in which the quota keeps them.
   */
  archiveUsage(userId: string): Promise<ArchiveUsage[]>
  /**
   * Makes these rows, if still `stored` and unleased, `failed` with `reason`, holding nothing
   * (no picture, no sizes, no video, 0 bytes). Returns how many changed.
   */
  evictArchives(mediaIds: readonly string[], reason: string, now: number): Promise<number>
  /** The users that have rows `failed` with `reason` (the quota's). */
  usersWithEvictions(reason: string): Promise<string[]>
  /**
   * Makes up to `limit` of the user's rows `failed` with `reason` `pending` again (no attempts,
   * due now), newest media first. Returns how many changed.
   */
  readmitArchives(userId: string, reason: string, limit: number, now: number): Promise<number>
}
