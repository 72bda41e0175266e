/**
 * @module store/types/archive — the media archive's bookkeeping (migration 0014): one archive
 * row per media item (album children included) with its state and what was made of it, and one
 * row per stored blob (content-addressed by the SHA-256 of the original bytes).
 *
 * References are the archive rows that name a blob (`sha256` or `video_sha256`): a blob with none
 * is garbage. Nothing is counted in a column that a crash could leave wrong: "unreferenced" is a
 * query, and deletion goes through a `deleting` state so that a blob is never deleted while a
 * new reference to it is being written (linking checks `stored` in the same transaction).
 *
 * Archive rows follow their media: deleting a media item (a disconnect, a deauthorize, a post
 * deleted on the platform, a purge) deletes its archive row through `ON DELETE CASCADE`.
 */
import type { SyncClaim } from './jobs.ts'

export type ArchiveState = 'pending' | 'stored' | 'failed'
/** A video's own archive state; `skipped`: not archived (over `ARCHIVE_MAX_VIDEO_MB`, or off). */
export type VideoArchiveState = 'none' | 'pending' | 'stored' | 'failed' | 'skipped'

/** One derived size of a picture: `/media/<sha256>/<width>.<format>`. */
export interface ArchiveVariant {
  readonly width: number
  readonly height: number
  readonly format: 'avif' | 'webp' | 'jpeg'
  readonly bytes: number
}

export interface ArchiveRecord {
  readonly media_id: string
  readonly user_id: string
  readonly account_id: string
  readonly platform: string
  readonly state: ArchiveState
  /** Why it failed (a plain sentence), `null` otherwise. */
  readonly reason: string | null
  /** The picture's URL as last seen, without its query string: a change re-archives it. */
  readonly source: string | null
  readonly attempts: number
  readonly next_attempt_at: number
  readonly lease_until: number | null
  readonly lease_owner: string | null
  /** The original picture's SHA-256 (hex), once stored. */
  readonly sha256: string | null
  readonly width: number | null
  readonly height: number | null
  /** ThumbHash, base64. */
  readonly thumbhash: string | null
  /** Dominant colour, `#rrggbb`. */
  readonly color: string | null
  readonly variants: readonly ArchiveVariant[]
  readonly video_state: VideoArchiveState
  readonly video_sha256: string | null
  readonly video_reason: string | null
  /** Bytes this item holds in the archive (original, sizes, video), for the per-user quota. */
  readonly bytes: number
  readonly created_at: number
  readonly updated_at: number
}

/** What a finished picture (and, with it, its video) records. */
export interface ArchiveResult {
  readonly sha256: string
  readonly width: number
  readonly height: number
  readonly thumbhash: string
  readonly color: string
  readonly variants: readonly ArchiveVariant[]
  readonly video_state: VideoArchiveState
  readonly video_sha256: string | null
  readonly video_reason: string | null
  readonly bytes: number
}

export interface BlobRecord {
  readonly sha256: string
  readonly kind: 'picture' | 'video'
  /** Bytes of every object stored under this hash (original and sizes). */
  readonly bytes: number
  readonly state: 'stored' | 'deleting'
  readonly created_at: number
  readonly updated_at: number
}

export interface ArchiveStore {
  /**
   * Creates `pending` archive rows for up to `limit` media items that have none (with
   * `source` from their picture URL), and resets to `pending` the rows whose media's picture
   * source changed (a new picture under the same post). Returns how many rows it created or
   * reset. `source` is the picture URL (a photo's `media_url`, a video's `thumbnail_url`)
   * without its query string.
   */
  enqueueArchiving(now: number, limit: number): Promise<number>
  /**
   * Leases up to `claim.limit` due `pending` rows (`next_attempt_at` ≤ now, lease free) of
   * `platform` to `claim.owner`; concurrent claims never return the same row (PostgreSQL:
   * `FOR UPDATE SKIP LOCKED`). Oldest media first.
   */
  claimArchiving(platform: string, claim: SyncClaim): Promise<ArchiveRecord[]>
  /** Extends a held lease; `false` when `owner` no longer holds it. */
  renewArchiveLease(mediaId: string, owner: string, until: number): Promise<boolean>
  /**
   * Records a stored picture, if `owner` holds the row: in one transaction, upserts the blob
   * rows it references (`stored`; a row found `deleting` makes the whole call return
   * `'blob_deleting'` and change nothing — write the blob again and retry), sets the row
   * `stored` and releases the lease. `'lost'` when the lease is gone.
   */
  completeArchiving(input: {
    mediaId: string
    owner: string
    result: ArchiveResult
    /** The blobs the result references, with their bytes. */
    blobs: readonly { sha256: string; kind: 'picture' | 'video'; bytes: number }[]
    now: number
  }): Promise<'stored' | 'lost' | 'blob_deleting'>
  /**
   * Records a failed attempt, if `owner` holds the row: `attempts + 1`, the reason, and either
   * another try at `retryAt` (state stays `pending`) or, with `retryAt` null, `failed` for good.
   */
  failArchiving(input: {
    mediaId: string
    owner: string
    reason: string
    retryAt: number | null
    now: number
  }): Promise<boolean>
  /** The archive rows of these media ids (missing ids are left out). */
  getArchives(mediaIds: readonly string[]): Promise<ArchiveRecord[]>
  /** The blob row, or `null`. */
  getBlob(sha256: string): Promise<BlobRecord | null>
  /**
   * Moves up to `limit` blobs that no archive row references and that were last updated before
   * `olderThan` (a blob just written is given time to be linked) to `deleting`, and returns them,
   * plus those already `deleting` (a crash mid-deletion). The caller deletes the objects, then
   * calls `forgetBlob`.
   */
  claimGarbage(olderThan: number, limit: number, now: number): Promise<BlobRecord[]>
  /** Deletes a `deleting` blob row once its objects are gone. */
  forgetBlob(sha256: string): Promise<void>
  /** Bytes a user's archive holds (the sum of `bytes` of their rows). */
  archivedBytes(userId: string): Promise<number>
  /** Counts and bytes by platform and state, for `npm run archive -- status`. */
  archiveStatus(): Promise<
    { platform: string; state: ArchiveState; items: number; bytes: number }[]
  >
  /** Counts by platform and video state of the rows of videos (`video_state` other than `none`). */
  archiveVideoStatus(): Promise<
    { platform: string; video_state: VideoArchiveState; items: number }[]
  >
  /** Counts and bytes of the blob table by kind and state. */
  blobTotals(): Promise<
    { kind: BlobRecord['kind']; state: BlobRecord['state']; blobs: number; bytes: number }[]
  >
  /** The `limit` users whose archives hold the most bytes, most first (ties by user id). */
  topArchiveUsers(
    limit: number,
  ): Promise<{ user_id: string; email: string; items: number; bytes: number }[]>
  /**
   * Up to `limit` `stored` blobs with a hash after `after` (`null`: from the first), in hash
   * order: a page of `npm run archive -- verify`.
   */
  listBlobs(after: string | null, limit: number): Promise<BlobRecord[]>
  /**
   * Sends the archive rows that name one of these blobs (as their picture or their video) back
   * to `pending`, due at `now`, with no attempts counted, so the archiver downloads them again;
   * a row leased right now is left alone. The rows keep naming the blobs until they are archived
   * again (garbage collection leaves them). Returns how many rows changed.
   */
  requeueArchives(sha256s: readonly string[], now: number): Promise<number>
}

/** Where an item's picture and video come from (the media row's current URLs). */
export interface ArchiveSource {
  readonly media_id: string
  readonly media_type: string
  /** A photo's `media_url`, a video's poster (`thumbnail_url`); `null` when the platform gave none. */
  readonly picture_url: string | null
  /** A video's `media_url` (its MP4), `null` for pictures and for videos played elsewhere. */
  readonly video_url: string | null
}

/** What the archiver and the media routes read and write beside `ArchiveStore`. */
export interface ArchiveLinkStore {
  /** The current source URLs of these media items (missing ids are left out). */
  archiveSources(mediaIds: readonly string[]): Promise<ArchiveSource[]>
  /**
   * Before its objects are written: makes the blob's row exist (`stored`, bytes 0 until
   * `completeArchiving` records them) or, when it exists, moves its `updated_at` to `now`, so
   * garbage collection leaves it alone for its grace time. `'deleting'` (and nothing changed)
   * when collection is removing it: write again later.
   */
  reserveBlob(input: {
    sha256: string
    kind: 'picture' | 'video'
    now: number
  }): Promise<'reserved' | 'deleting'>
  /** A `stored` archive row whose picture is this content (to reuse its sizes), or `null`. */
  getArchiveByBlob(sha256: string): Promise<ArchiveRecord | null>
  /** Whether a `stored` archive row names this content as its picture or its stored video. */
  isBlobReferenced(sha256: string): Promise<boolean>
}
