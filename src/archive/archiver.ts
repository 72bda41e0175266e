/**
 * @module archive/archiver — keeps a copy of every synced picture and video, in the sizes the
 * gallery serves, in the blob store. Runs in the job runner's pass, on any number of instances:
 *
 * 1. `enqueueArchiving` gives every new media item (and one whose picture changed) a `pending`
 *    archive row.
 * 2. Per platform, up to `batch` due rows are leased (the engine's leases: a crashed instance's
 *    rows come back when the lease lapses) and worked on `concurrency` at a time.
 * 3. Each: the picture is downloaded from the platform's media servers (bounded), hashed, and —
 *    unless that content is stored already — its blob is reserved (a row garbage collection
 *    leaves alone for an hour), the original and its sizes are written, and the row records the
 *    result in one transaction. A video's MP4 (up to `maxVideoBytes`, streamed, never whole in
 *    memory) goes the same way. Failures retry with backoff; a picture that cannot be converted
 *    fails for good with its reason.
 *    A platform whose media URLs are signed (Instagram's `oe`, TikTok's covers): an item whose
 *    stored URL has expired, or whose download the media server refuses (403/404/410), is read
 *    again from the platform by id (`urlRefresher`: one re-read per account per batch, for all
 *    its items at once), then downloaded from the fresh URL in the same attempt. When the re-read
 *    cannot be made (the account needs a reconnect, the call budget is spent) the item retries
 *    with backoff, with a reason that says so.
 * 4. Garbage: blobs no row references (media deleted, accounts disconnected) lose their objects,
 *    then their row (`claimGarbage` → delete → `forgetBlob`: a crash in between repeats the
 *    deletes, never leaves an object without a row to find it by). Temporary keys a crash left
 *    are dropped after a day.
 */
import { createHash } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.ts'
import { isGalleryError } from '../errors.ts'
import type { ArchiveRecord, ArchiveVariant, BlobRecord, Store } from '../store/types.ts'
import type { BlobStore } from './blobs/types.ts'
import { BlobTooLargeError } from './blobs/types.ts'
import { derivePicture, type DeriveOptions } from './images/derive.ts'
import { archiveQuota } from './quota.ts'
import { contentTypeOf } from './images/formats.ts'
import { isPictureError } from './images/errors.ts'
import { download, DownloadError, readBounded, type DownloadSource } from './download.ts'
import {
  TEMP_PREFIX,
  originalKey,
  tempKey,
  tempKeyTime,
  variantKey,
  variantPrefix,
} from './keys.ts'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** Tries before an item is `failed` for good, and the waits between them. */
const BACKOFF_MS = [MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 12 * HOUR] as const
/** A reserved blob is safe from garbage collection this long (its writes must end sooner). */
export const BLOB_GRACE_MS = HOUR
/** A temporary key (a download a crash left) is dropped once this old. */
export const TEMP_KEY_MAX_AGE_MS = DAY
/** The lease on an item being archived (renewed while a large video streams). */
const LEASE_MS = 10 * MINUTE

export interface ArchiverOptions {
  readonly store: Store
  readonly blobs: BlobStore
  readonly clock: Clock
  readonly logger: FastifyBaseLogger
  /** Each connectable platform's media source (fetch, allowed origins, label). */
  readonly sources: ReadonlyMap<string, DownloadSource>
  readonly instanceId: string
  /** Videos above this many bytes are not archived; 0: no video archiving. */
  readonly maxVideoBytes: number
  /** Pictures above this many bytes are refused. */
  readonly maxPictureBytes?: number
  /** Items per platform per pass, and how many at once. */
  readonly batch?: number
  readonly concurrency?: number
  readonly timeoutMs?: number
  /** The picture conversion's options (sizes, formats, limits). */
  readonly derive?: DeriveOptions
  /** `ARCHIVE_MAX_MB_PER_USER` in bytes: beyond it the newest media are kept (`quota.ts`). */
  readonly maxBytesPerUser?: number
  /**
   * Reads items again from their platform for fresh URLs (the sync service); absent: an expired
   * URL waits for the next sync.
   */
  readonly urlRefresher?: MediaUrlRefresher
}

/** How the archiver gets fresh media URLs (`SyncService` is one). */
export interface MediaUrlRefresher {
  /** Whether `platform`'s media URLs are signed (they expire) and can be read again by id. */
  signsMediaUrls(platform: string): boolean
  /**
   * Reads these media items (our ids) of one account again and stores their current URLs;
   * `missing`: the ids the platform no longer has. @throws GalleryError when it cannot
   * (`ERR_REAUTH_REQUIRED` with "<Platform> needs you to reconnect @name", `ERR_RATE_LIMITED`).
   */
  refreshMediaUrls(
    userId: string,
    accountId: string,
    mediaIds: readonly string[],
  ): Promise<{ readonly refreshed: number; readonly missing: readonly string[] }>
}

export interface ArchiveReport {
  readonly queued: number
  readonly stored: number
  readonly retried: number
  readonly failed: number
  /** Copies not kept because their owner's archive was over its quota. */
  readonly evicted: number
  readonly deleted_blobs: number
}

export interface Archiver {
  runDue(): Promise<ArchiveReport>
}

interface Outcome {
  readonly kind: 'stored' | 'retried' | 'failed' | 'lost'
}

export function createArchiver(options: ArchiverOptions): Archiver {
  const { store, blobs, clock, logger } = options
  const batch = options.batch ?? 20
  const concurrency = Math.max(1, options.concurrency ?? 3)
  const timeoutMs = options.timeoutMs ?? 60_000
  const maxPictureBytes = options.maxPictureBytes ?? 64 * 1024 * 1024
  let run = 0
  const quota =
    options.maxBytesPerUser === undefined
      ? undefined
      : archiveQuota({ store, clock, logger, limitBytes: options.maxBytesPerUser })
  /** People whose archive grew since the quota last looked. */
  const grown = new Set<string>()

  async function fail(
    record: ArchiveRecord,
    owner: string,
    reason: string,
    retryable: boolean,
  ): Promise<Outcome> {
    const now = clock.now()
    const wait = BACKOFF_MS[record.attempts]
    const retryAt = retryable && wait !== undefined ? now + wait : null
    await store.failArchiving({ mediaId: record.media_id, owner, reason, retryAt, now })
    logger.info(
      { mediaId: record.media_id, platform: record.platform, retry: retryAt !== null },
      `archiving failed: ${reason}`,
    )
    return { kind: retryAt === null ? 'failed' : 'retried' }
  }

  /** Writes the original and every size of a picture not stored yet. */
  async function storePicture(sha256: string, bytes: Buffer, contentType: string) {
    const derived = await derivePicture(bytes, options.derive)
    const variants: ArchiveVariant[] = []
    let total = bytes.length
    await blobs.write(originalKey(sha256), bytes, { contentType })
    for (const variant of derived.variants) {
      await blobs.write(variantKey(sha256, variant.width, variant.format), variant.bytes, {
        contentType: contentTypeOf(variant.format),
      })
      total += variant.bytes.length
      variants.push({
        width: variant.width,
        height: variant.height,
        format: variant.format,
        bytes: variant.bytes.length,
      })
    }
    return { derived, variants, total }
  }

  /** The picture's archive, from the stored blob when this content is known already. */
  async function picture(source: DownloadSource, url: string) {
    const got = await download(source, url, timeoutMs)
    const bytes = await readBounded(got.body, maxPictureBytes)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    // reserved first, whether the content is known or not: from here garbage collection leaves
    // the blob alone for its grace time, so what a known item made of it cannot be deleted
    // under us while this item is still being archived (its video may take minutes)
    if ((await store.reserveBlob({ sha256, kind: 'picture', now: clock.now() })) === 'deleting')
      throw new DownloadError(
        'The picture is being removed from the archive; trying again',
        0,
        true,
      )
    const known = await store.getArchiveByBlob(sha256)
    if (known !== null && known.width !== null) {
      // the same picture under another item: reuse what was made of it
      return {
        sha256,
        width: known.width,
        height: known.height ?? 0,
        thumbhash: known.thumbhash ?? '',
        color: known.color ?? '#808080',
        variants: known.variants,
        bytes: 0,
        blobBytes: null,
      }
    }
    const contentType = got.contentType.startsWith('image/') ? got.contentType : 'image/jpeg'
    const { derived, variants, total } = await storePicture(sha256, bytes, contentType)
    return {
      sha256,
      width: derived.width,
      height: derived.height,
      thumbhash: derived.thumbhash,
      color: derived.color,
      variants,
      bytes: total,
      blobBytes: total,
    }
  }

  /** A video over `ARCHIVE_MAX_VIDEO_MB`, known from its announced length or while streaming. */
  const tooLarge = () => ({
    skipped: `The video is larger than the archive's limit (${mb(options.maxVideoBytes)})`,
  })

  /** The video's MP4, streamed to a temporary key, then moved under its hash. */
  async function video(
    source: DownloadSource,
    url: string,
    renew: () => Promise<void>,
  ): Promise<{ sha256: string; bytes: number } | { skipped: string }> {
    const got = await download(source, url, timeoutMs * 10)
    if (!got.contentType.startsWith('video/')) {
      got.body.destroy()
      return { skipped: `${source.label} did not serve a video file for this item` }
    }
    if (got.length !== null && got.length > options.maxVideoBytes) {
      got.body.destroy()
      return tooLarge()
    }
    const temp = tempKey(clock.now())
    const beat = setInterval(() => void renew().catch(() => undefined), LEASE_MS / 3)
    try {
      const written = await blobs.write(temp, got.body, {
        contentType: 'video/mp4',
        maxBytes: options.maxVideoBytes,
      })
      const reserved = await store.reserveBlob({
        sha256: written.sha256,
        kind: 'video',
        now: clock.now(),
      })
      if (reserved === 'deleting') {
        await blobs.delete(temp)
        throw new DownloadError(
          'The video is being removed from the archive; trying again',
          0,
          true,
        )
      }
      if ((await blobs.head(originalKey(written.sha256))) === null)
        await blobs.move(temp, originalKey(written.sha256))
      else await blobs.delete(temp)
      return { sha256: written.sha256, bytes: written.size }
    } catch (error) {
      if (error instanceof BlobTooLargeError) return tooLarge()
      throw error
    } finally {
      clearInterval(beat)
    }
  }

  /**
   * One item. With `deferExpired`, a download the media server refuses as expired is not
   * recorded: `'expired'` tells the caller to read the item again first.
   */
  async function archiveOne(
    record: ArchiveRecord,
    owner: string,
    deferExpired = false,
  ): Promise<Outcome | 'expired'> {
    const source = options.sources.get(record.platform)
    if (source === undefined)
      return fail(record, owner, `${record.platform} is not configured here`, true)
    const [media] = await store.archiveSources([record.media_id])
    if (media === undefined) return { kind: 'lost' } // deleted meanwhile: the row went with it
    if (media.picture_url === null)
      return fail(record, owner, `${source.label} gave no picture for this item`, false)
    try {
      const pic = await picture(source, media.picture_url)
      let videoPart: {
        video_state: ArchiveRecord['video_state']
        video_sha256: string | null
        video_reason: string | null
        bytes: number
      } = { video_state: 'none', video_sha256: null, video_reason: null, bytes: 0 }
      if (media.video_url !== null) {
        if (options.maxVideoBytes <= 0) {
          videoPart = {
            video_state: 'skipped',
            video_sha256: null,
            video_reason: 'Video archiving is off (ARCHIVE_MAX_VIDEO_MB=0)',
            bytes: 0,
          }
        } else {
          const got = await video(source, media.video_url, async () => {
            await store.renewArchiveLease(record.media_id, owner, clock.now() + LEASE_MS)
          })
          videoPart =
            'skipped' in got
              ? { video_state: 'skipped', video_sha256: null, video_reason: got.skipped, bytes: 0 }
              : {
                  video_state: 'stored',
                  video_sha256: got.sha256,
                  video_reason: null,
                  bytes: got.bytes,
                }
        }
      }
      // a picture reused from another item is listed too: linking checks it is not being deleted
      const blobsUsed = [
        { sha256: pic.sha256, kind: 'picture' as const, bytes: pic.blobBytes ?? 0 },
        ...(videoPart.video_sha256 === null
          ? []
          : [{ sha256: videoPart.video_sha256, kind: 'video' as const, bytes: videoPart.bytes }]),
      ]
      const done = await store.completeArchiving({
        mediaId: record.media_id,
        owner,
        result: {
          sha256: pic.sha256,
          width: pic.width,
          height: pic.height,
          thumbhash: pic.thumbhash,
          color: pic.color,
          variants: pic.variants,
          video_state: videoPart.video_state,
          video_sha256: videoPart.video_sha256,
          video_reason: videoPart.video_reason,
          bytes: pic.bytes + videoPart.bytes,
        },
        blobs: blobsUsed,
        now: clock.now(),
      })
      if (done === 'blob_deleting')
        return fail(record, owner, 'The archive was removing this content; trying again', true)
      if (done === 'stored') grown.add(record.user_id)
      return { kind: done === 'stored' ? 'stored' : 'lost' }
    } catch (error) {
      if (isPictureError(error)) return fail(record, owner, error.message, false)
      if (error instanceof DownloadError && deferExpired && error.expired) return 'expired'
      if (error instanceof DownloadError) return fail(record, owner, error.message, error.retryable)
      logger.warn({ mediaId: record.media_id, err: error }, 'archiving failed unexpectedly')
      return fail(record, owner, 'The archive could not store this item; trying again', true)
    }
  }

  async function archivePlatform(platform: string): Promise<Outcome[]> {
    const owner = `${options.instanceId}:archive-${++run}`
    const now = clock.now()
    const claimed = await store.claimArchiving(platform, {
      now,
      leaseUntil: now + LEASE_MS,
      limit: batch,
      owner,
    })
    const refresher =
      options.urlRefresher?.signsMediaUrls(platform) === true ? options.urlRefresher : null
    // signed URLs already past their expiry are read again before any download
    const expiredBefore = new Set<string>()
    if (refresher !== null && claimed.length > 0) {
      for (const state of await store.mediaUrlStates(claimed.map((r) => r.media_id)))
        if (state.url_expires_at !== null && state.url_expires_at <= now)
          expiredBefore.add(state.id)
    }
    const outcomes: Outcome[] = []
    const deferred: ArchiveRecord[] = []
    await inPool(claimed, async (record) => {
      if (expiredBefore.has(record.media_id)) {
        deferred.push(record)
        return
      }
      const outcome = await archiveOne(record, owner, refresher !== null)
      if (outcome === 'expired') deferred.push(record)
      else outcomes.push(outcome)
    })
    if (refresher === null || deferred.length === 0) return outcomes
    // one re-read per account for all its expired items, then their downloads
    const byAccount = new Map<string, ArchiveRecord[]>()
    for (const record of deferred)
      byAccount.set(record.account_id, [...(byAccount.get(record.account_id) ?? []), record])
    const label = options.sources.get(platform)?.label ?? platform
    for (const [accountId, records] of byAccount) {
      const userId = records[0]?.user_id ?? ''
      let missing: ReadonlySet<string>
      try {
        const read = await refresher.refreshMediaUrls(
          userId,
          accountId,
          records.map((r) => r.media_id),
        )
        missing = new Set(read.missing)
      } catch (error) {
        const reason = refreshFailure(error, label)
        if (!isGalleryError(error))
          logger.warn({ accountId, err: error }, 'reading media again failed unexpectedly')
        for (const record of records) outcomes.push(await fail(record, owner, reason, true))
        continue
      }
      await inPool(records, async (record) => {
        if (missing.has(record.media_id)) {
          outcomes.push(
            await fail(
              record,
              owner,
              `${label} no longer has this post; the next full sync removes it from the gallery`,
              true,
            ),
          )
          return
        }
        const outcome = await archiveOne(record, owner)
        outcomes.push(outcome === 'expired' ? { kind: 'retried' } : outcome)
      })
    }
    return outcomes
  }

  /** Runs `fn` over `items`, `concurrency` at a time. */
  async function inPool<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0
    const worker = async (): Promise<void> => {
      for (;;) {
        const item = items[next++]
        if (item === undefined) return
        await fn(item)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  }

  return {
    async runDue() {
      const queued = await store.enqueueArchiving(clock.now(), 1000)
      const outcomes = (
        await Promise.all([...options.sources.keys()].map((platform) => archivePlatform(platform)))
      ).flat()
      const count = (kind: Outcome['kind']) => outcomes.filter((o) => o.kind === kind).length
      // the quota before collection: what it evicts is collected after its grace time
      const users = [...grown]
      grown.clear()
      const evicted = quota === undefined ? 0 : await quota.enforce(users)
      const readmitted = quota === undefined ? 0 : await quota.readmit()
      const deleted = (await collectGarbage(store, blobs, clock.now())).blobs.length
      return {
        queued: queued + readmitted,
        stored: count('stored'),
        retried: count('retried'),
        failed: count('failed'),
        evicted,
        deleted_blobs: deleted,
      }
    },
  }
}

/** Why an item whose URL expired waits: the re-read could not be made, in plain words. */
function refreshFailure(error: unknown, label: string): string {
  if (!isGalleryError(error))
    return `The address ${label} gave for this picture expired and a fresh one could not be read; trying again later`
  switch (error.code) {
    case 'ERR_REAUTH_REQUIRED':
      // "Instagram needs you to reconnect @name"
      return `${error.message} before this picture can be archived`
    case 'ERR_RATE_LIMITED':
      return `The address ${label} gave for this picture expired, and ${label}'s call allowance is spent for now; trying again later`
    default:
      return `The address ${label} gave for this picture expired and a fresh one could not be read (${error.message}); trying again later`
  }
}

/** What one garbage collection removed. */
export interface GarbageReport {
  /** The blobs whose objects and rows were deleted. */
  readonly blobs: readonly BlobRecord[]
  /** Temporary keys older than `TEMP_KEY_MAX_AGE_MS` that were dropped. */
  readonly tempKeys: number
}

/**
 * Deletes the objects of up to `limit` unreferenced blobs last touched `graceMs` before `now`,
 * then their rows; and temporary keys older than `TEMP_KEY_MAX_AGE_MS`. The archiver's pass runs
 * it with the defaults; `npm run archive -- gc` too.
 */
export async function collectGarbage(
  store: Store,
  blobs: BlobStore,
  now: number,
  graceMs: number = BLOB_GRACE_MS,
  limit = 100,
): Promise<GarbageReport> {
  const garbage = await store.claimGarbage(now - graceMs, limit, now)
  for (const blob of garbage) {
    for await (const entry of blobs.list(variantPrefix(blob.sha256))) await blobs.delete(entry.key)
    await blobs.delete(originalKey(blob.sha256))
    await store.forgetBlob(blob.sha256)
  }
  let tempKeys = 0
  for await (const entry of blobs.list(TEMP_PREFIX)) {
    const made = tempKeyTime(entry.key)
    if (made !== null && made < now - TEMP_KEY_MAX_AGE_MS && (await blobs.delete(entry.key)))
      tempKeys++
  }
  return { blobs: garbage, tempKeys }
}

const mb = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))} MB`
