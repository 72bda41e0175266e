/**
 * @module archive/blobs/types — the one blob-store interface of the media archive (issue 16),
 * implemented by a local directory (`local/`) and by S3-compatible object storage (`s3/`). Every
 * backend runs the shared conformance suite (test/archive/blobs/conformance.ts).
 *
 * Conventions, checked by the conformance suite:
 * - **Keys** are 1–512 characters of `[a-z0-9/._-]`, `/` separating segments; no leading or
 *   trailing `/`, no empty segment (`//`), no segment starting with `.` (so no `.` or `..`,
 *   and nothing that could reach the local backend's own `.tmp/` and `.meta/` folders) and no
 *   segment longer than 200 characters (a file name's limit is 255 bytes, less the sidecar's). A bad
 *   key throws `BlobKeyError` before any I/O. A key must not also be a folder of other keys
 *   (`a` and `a/b`): object storage allows it, a directory cannot hold it, so do not rely on it.
 * - **Writes stream**: the body is never held whole in memory (at most a few parts of the S3
 *   multipart upload are buffered); its SHA-256 is computed on the way through. An object
 *   becomes visible only when complete — readers see the old object (or none) until then — and a
 *   failed write (source error, `maxBytes` exceeded, store failure) leaves nothing behind.
 * - **Absence** is `null` from `read` and `head`, `false` from `delete`; failures throw.
 * - **Content types** come back exactly as written.
 * - **ETags** are opaque strong validators (quoted), changing whenever the content changes; their
 *   form differs per backend (the local one is the quoted SHA-256, S3's is the server's).
 * - **Ranges** are inclusive like HTTP's: `{ start: 0, end: 0 }` is the first byte; `end` past
 *   the last byte is clamped; no `end` means to the end; `start` at or past the size (every range
 *   of an empty object) throws `BlobRangeError`.
 * - **list** pages through any number of keys and never shows the backend's own temporary files.
 *   Its order is not part of the contract: the local backend and AWS S3, GCS, R2 and MinIO give
 *   ascending byte order, some emulators (s3rver) do not.
 */
import type { Readable } from 'node:stream'

/** The longest key accepted. */
export const MAX_BLOB_KEY_LENGTH = 512
/** The longest segment (between `/`s) accepted. */
export const MAX_BLOB_SEGMENT_LENGTH = 200

export interface BlobWriteOptions {
  /** Stored with the object and given back by `read` and `head`. */
  readonly contentType: string
  /** The most bytes accepted; one more aborts the write with `BlobTooLargeError`. */
  readonly maxBytes?: number
}

export interface BlobWriteResult {
  /** Bytes written. */
  readonly size: number
  /** SHA-256 of the bytes written, lowercase hex. */
  readonly sha256: string
}

/** An inclusive byte range, as in HTTP's `Range: bytes=start-end`. */
export interface BlobRange {
  readonly start: number
  /** The last byte wanted (inclusive); absent or past the end: up to the last byte. */
  readonly end?: number
}

export interface BlobHead {
  /** Total size of the object in bytes. */
  readonly size: number
  readonly contentType: string
  /** Quoted, strong; changes when the content changes. */
  readonly etag: string
}

export interface BlobReadResult extends BlobHead {
  /** The bytes (the whole object, or the range asked for). The caller consumes or destroys it. */
  readonly body: Readable
  /** The inclusive range served when one was asked for (`end` clamped to the last byte). */
  readonly range?: { readonly start: number; readonly end: number }
}

export interface BlobListEntry {
  readonly key: string
  readonly size: number
}

export interface BlobStore {
  /**
   * Streams `body` to `key`, replacing any object there once complete. Concurrent writes of one
   * key end with one of them complete. Throws `BlobTooLargeError` past `maxBytes`, the source's
   * error when it fails; either way nothing is left behind.
   */
  write(
    key: string,
    body: Readable | Uint8Array,
    options: BlobWriteOptions,
  ): Promise<BlobWriteResult>
  /**
   * Moves the object at `from` to `to` (replacing `to`), with its content type: how a write under
   * a temporary key is committed under its content hash. Throws `BlobNotFoundError` when `from`
   * does not exist. Not atomic on S3 (a copy, then a delete of `from`): for a moment both exist.
   */
  move(from: string, to: string): Promise<void>
  /** The object (or a range of it), or `null` when absent; `BlobRangeError` for a range past it. */
  read(key: string, range?: BlobRange): Promise<BlobReadResult | null>
  head(key: string): Promise<BlobHead | null>
  /** Removes the object; idempotent. Returns whether it existed. */
  delete(key: string): Promise<boolean>
  /**
   * Every key starting with `prefix` (a plain string prefix, as in S3; `''` for all). The prefix
   * follows the key alphabet but may end with `/` or be a partial segment.
   */
  list(prefix: string): AsyncIterable<BlobListEntry>
  /** Releases the backend's resources; the store is unusable afterwards. */
  close(): Promise<void>
}

/** The base class of every error a blob store throws on purpose. */
export class BlobStoreError extends Error {
  override name = 'BlobStoreError'
}

/** A key (or list prefix) outside the key rules. */
export class BlobKeyError extends BlobStoreError {
  override name = 'BlobKeyError'
  readonly key: string
  constructor(key: string, reason: string) {
    super(`invalid blob key ${JSON.stringify(key.slice(0, 80))}: ${reason}`)
    this.key = key
  }
}

/** A write's body exceeded its `maxBytes`; nothing was stored. */
export class BlobTooLargeError extends BlobStoreError {
  override name = 'BlobTooLargeError'
  readonly key: string
  readonly maxBytes: number
  constructor(key: string, maxBytes: number) {
    super(`blob ${key} is larger than the ${maxBytes} bytes allowed; nothing was stored`)
    this.key = key
    this.maxBytes = maxBytes
  }
}

/** A range that starts at or past the end of the object, or is not a range at all. */
export class BlobRangeError extends BlobStoreError {
  override name = 'BlobRangeError'
  readonly key: string
  /** The object's size when known (for a `Content-Range: bytes *\/size` answer). */
  readonly size: number | undefined
  constructor(key: string, range: BlobRange, size: number | undefined, reason?: string) {
    const asked = `${range.start}-${range.end ?? ''}`
    super(
      reason === undefined
        ? `range ${asked} is not satisfiable for blob ${key}${size === undefined ? '' : ` of ${size} bytes`}`
        : `invalid range ${asked} for blob ${key}: ${reason}`,
    )
    this.key = key
    this.size = size
  }
}

/** The object an operation needs (the source of a move) does not exist. */
export class BlobNotFoundError extends BlobStoreError {
  override name = 'BlobNotFoundError'
  readonly key: string
  constructor(key: string) {
    super(`blob ${key} does not exist`)
    this.key = key
  }
}

/** A `MEDIA_STORE_URL` (or other store location) that names no usable store. */
export class BlobStoreUrlError extends BlobStoreError {
  override name = 'BlobStoreUrlError'
}

const KEY_ALPHABET = /^[a-z0-9/._-]+$/

function keyProblem(value: string, isPrefix: boolean): string | null {
  if (value.length > MAX_BLOB_KEY_LENGTH) return `longer than ${MAX_BLOB_KEY_LENGTH} characters`
  if (!KEY_ALPHABET.test(value)) return 'only a-z, 0-9, "/", ".", "_" and "-" are allowed'
  if (value.startsWith('/')) return 'it must not start with "/"'
  const segments = value.split('/')
  // a prefix may end with "/" (an empty last segment) or stop in the middle of a segment
  if (isPrefix && segments.at(-1) === '') segments.pop()
  for (const segment of segments) {
    if (segment === '') return 'empty segment ("//" or a trailing "/")'
    if (segment.startsWith('.')) return 'a segment must not start with "." (no "." or "..")'
    if (segment.length > MAX_BLOB_SEGMENT_LENGTH)
      return `a segment is longer than ${MAX_BLOB_SEGMENT_LENGTH} characters`
  }
  return null
}

/** Throws `BlobKeyError` unless `key` follows the key rules. */
export function assertBlobKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new BlobKeyError(String(key), 'empty')
  const problem = keyProblem(key, false)
  if (problem !== null) throw new BlobKeyError(key, problem)
}

/** Throws `BlobKeyError` unless `prefix` is `''` or the start of a possible key. */
export function assertBlobPrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw new BlobKeyError(String(prefix), 'not a string')
  if (prefix === '') return
  const problem = keyProblem(prefix, true)
  if (problem !== null) throw new BlobKeyError(prefix, problem)
}

/** Throws `BlobRangeError` for a range that is not one (negative, fractional, end before start). */
export function assertBlobRange(key: string, range: BlobRange): void {
  const { start, end } = range
  if (!Number.isSafeInteger(start) || start < 0)
    throw new BlobRangeError(key, range, undefined, 'start must be a whole number ≥ 0')
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start))
    throw new BlobRangeError(key, range, undefined, 'end must be a whole number ≥ start')
}

/**
 * The inclusive range served for `range` of an object of `size` bytes (`end` clamped), or
 * `BlobRangeError` when it starts at or past the end.
 */
export function resolveBlobRange(
  key: string,
  range: BlobRange,
  size: number,
): { start: number; end: number } {
  assertBlobRange(key, range)
  if (range.start >= size) throw new BlobRangeError(key, range, size)
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) }
}

/** Throws `BlobStoreError` unless `maxBytes` is absent or a whole number ≥ 0. */
export function assertMaxBytes(maxBytes: number | undefined): void {
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 0))
    throw new BlobStoreError(`maxBytes must be a whole number ≥ 0, not ${String(maxBytes)}`)
}
