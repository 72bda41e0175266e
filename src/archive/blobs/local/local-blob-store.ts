/**
 * @module archive/blobs/local/local-blob-store — the blob store in a local directory (the
 * default, `./data/media`; the path is the caller's).
 *
 * Layout under the root:
 * - `<key>` — the object's bytes, a plain file (so the tree can be inspected, served or copied
 *   with ordinary tools).
 * - `.meta/<key>.json` — its sidecar: `{ "contentType", "size", "sha256" }`. The content type
 *   comes back from here; the ETag is the quoted SHA-256. A sidecar that is missing or does not
 *   match the file's size (a file put there by hand) gives `application/octet-stream` and an
 *   ETag made of size, mtime and inode.
 * - `.tmp/` — writes in progress. `list` never shows them; files there older than an hour (left
 *   by a crash) are removed when the store is opened.
 *
 * A write streams into `.tmp/<random>` (hashing and counting on the way, `maxBytes` enforced),
 * fsyncs it, writes the sidecar the same way, then renames the sidecar and the file into place
 * (sidecar first, so a reader that finds the file finds its sidecar) and fsyncs the folders.
 * Renames within one file system are atomic: a reader sees the old object or the new one, never
 * part of one. The two renames of one key are serialised within this process; two *processes*
 * writing one key at the same moment with different content types could pair one's bytes with
 * the other's sidecar (content-addressed keys always carry the same bytes, so it does not arise).
 * Reads open the file first and serve from that descriptor, so an object replaced or deleted
 * while it is being read is still read whole. Empty folders left by deletes are not pruned.
 */
import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Readable } from 'node:stream'
import {
  BlobNotFoundError,
  BlobStoreError,
  assertBlobKey,
  assertBlobPrefix,
  assertBlobRange,
  assertMaxBytes,
  resolveBlobRange,
  type BlobHead,
  type BlobListEntry,
  type BlobRange,
  type BlobReadResult,
  type BlobStore,
  type BlobWriteOptions,
  type BlobWriteResult,
} from '../types.ts'
import { BlobMeter, bodyStream } from '../meter.ts'

export const TEMP_DIR = '.tmp'
export const META_DIR = '.meta'
/** Temporary files older than this are a crashed write's, removed at open. */
export const STALE_TEMP_MS = 60 * 60 * 1000
const FALLBACK_CONTENT_TYPE = 'application/octet-stream'

export interface LocalBlobStoreOptions {
  /** The root folder (created when missing). */
  readonly path: string
}

interface Sidecar {
  readonly contentType: string
  readonly size: number
  readonly sha256: string
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined
}

/** "No such object": the path is missing, or part of it is a file. */
function isAbsent(error: unknown): boolean {
  const code = errorCode(error)
  return code === 'ENOENT' || code === 'ENOTDIR'
}

async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined)
}

/** Flushes a folder's entries (a rename's durability); a no-op where folders cannot be synced. */
async function syncDir(path: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(path, 'r')
    await handle.sync()
  } catch {
    // Windows and some file systems refuse fsync on a folder; the rename itself is still atomic
  } finally {
    await handle?.close()
  }
}

async function writeSynced(path: string, data: string): Promise<void> {
  const handle = await open(path, 'wx')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Opens (creating it when missing) the store at `options.path`; removes stale temporary files. */
export async function openLocalBlobStore(options: LocalBlobStoreOptions): Promise<LocalBlobStore> {
  const root = resolve(options.path)
  await mkdir(join(root, TEMP_DIR), { recursive: true })
  await mkdir(join(root, META_DIR), { recursive: true })
  const cutoff = Date.now() - STALE_TEMP_MS
  for (const name of await readdir(join(root, TEMP_DIR))) {
    const path = join(root, TEMP_DIR, name)
    const info = await stat(path).catch(() => null)
    if (info !== null && info.mtimeMs < cutoff) await removeQuietly(path)
  }
  return new LocalBlobStore(root)
}

export class LocalBlobStore implements BlobStore {
  readonly root: string
  #closed = false
  /** The tail of each key's queue of commits (renames and unlinks), for this process. */
  readonly #locks = new Map<string, Promise<void>>()

  /** Use `openLocalBlobStore`, which prepares the folder. */
  constructor(root: string) {
    this.root = root
  }

  #check(): void {
    if (this.#closed) throw new BlobStoreError('the local blob store is closed')
  }

  #dataPath(key: string): string {
    return join(this.root, ...key.split('/'))
  }

  #metaPath(key: string): string {
    return join(this.root, META_DIR, ...`${key}.json`.split('/'))
  }

  #tempPath(suffix: string): string {
    return join(this.root, TEMP_DIR, `${randomUUID()}.${suffix}`)
  }

  /** Runs `fn` after every earlier commit of these keys (in this process) has finished. */
  async #locked<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)]
    const before = Promise.all(unique.map((k) => this.#locks.get(k) ?? Promise.resolve()))
    const run = before.then(fn)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    for (const k of unique) this.#locks.set(k, tail)
    try {
      return await run
    } finally {
      for (const k of unique) if (this.#locks.get(k) === tail) this.#locks.delete(k)
    }
  }

  async #readSidecar(key: string, size: number): Promise<Sidecar | null> {
    let text: string
    try {
      text = await readFile(this.#metaPath(key), 'utf8')
    } catch (error) {
      if (isAbsent(error)) return null
      throw error
    }
    try {
      const parsed = JSON.parse(text) as Partial<Sidecar>
      if (
        typeof parsed.contentType === 'string' &&
        typeof parsed.sha256 === 'string' &&
        parsed.size === size
      )
        return { contentType: parsed.contentType, size, sha256: parsed.sha256 }
    } catch {
      // a damaged sidecar reads as none
    }
    return null
  }

  /** Opens the object's file, or `null` when there is none. */
  async #openData(key: string): Promise<{ handle: FileHandle; head: BlobHead } | null> {
    let handle: FileHandle
    try {
      handle = await open(this.#dataPath(key), 'r')
    } catch (error) {
      if (isAbsent(error) || errorCode(error) === 'EISDIR') return null
      throw error
    }
    try {
      const info = await handle.stat()
      if (!info.isFile()) {
        await handle.close()
        return null
      }
      const sidecar = await this.#readSidecar(key, info.size)
      const head: BlobHead =
        sidecar === null
          ? {
              size: info.size,
              contentType: FALLBACK_CONTENT_TYPE,
              etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}-${info.ino.toString(16)}"`,
            }
          : { size: info.size, contentType: sidecar.contentType, etag: `"${sidecar.sha256}"` }
      return { handle, head }
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  async write(
    key: string,
    body: Readable | Uint8Array,
    options: BlobWriteOptions,
  ): Promise<BlobWriteResult> {
    this.#check()
    assertBlobKey(key)
    assertMaxBytes(options.maxBytes)
    const dataTemp = this.#tempPath('data')
    const metaTemp = this.#tempPath('meta')
    try {
      const meter = new BlobMeter(key, options.maxBytes)
      await pipeline(
        bodyStream(body),
        meter,
        createWriteStream(dataTemp, { flags: 'wx', flush: true }),
      )
      const result = meter.result()
      const sidecar: Sidecar = { contentType: options.contentType, ...result }
      await writeSynced(metaTemp, JSON.stringify(sidecar))
      await this.#locked([key], async () => {
        const dataPath = this.#dataPath(key)
        const metaPath = this.#metaPath(key)
        await mkdir(dirname(metaPath), { recursive: true })
        await mkdir(dirname(dataPath), { recursive: true })
        await rename(metaTemp, metaPath)
        await rename(dataTemp, dataPath)
        await syncDir(dirname(metaPath))
        await syncDir(dirname(dataPath))
      })
      return result
    } catch (error) {
      // a stream that failed part-way is destroyed by pipeline; the temporary files go
      if (!(body instanceof Uint8Array)) body.destroy()
      await removeQuietly(dataTemp)
      await removeQuietly(metaTemp)
      throw error
    }
  }

  async move(from: string, to: string): Promise<void> {
    this.#check()
    assertBlobKey(from)
    assertBlobKey(to)
    await this.#locked([from, to], async () => {
      const opened = await this.#openData(from)
      if (opened === null) throw new BlobNotFoundError(from)
      const { handle } = opened
      let sidecar: Sidecar | null
      try {
        sidecar = await this.#readSidecar(from, (await handle.stat()).size)
      } finally {
        await handle.close()
      }
      if (from === to) return
      const dataPath = this.#dataPath(to)
      const metaPath = this.#metaPath(to)
      await mkdir(dirname(dataPath), { recursive: true })
      if (sidecar === null) {
        await removeQuietly(metaPath)
      } else {
        const metaTemp = this.#tempPath('meta')
        try {
          await writeSynced(metaTemp, JSON.stringify(sidecar))
          await mkdir(dirname(metaPath), { recursive: true })
          await rename(metaTemp, metaPath)
        } catch (error) {
          await removeQuietly(metaTemp)
          throw error
        }
      }
      await rename(this.#dataPath(from), dataPath)
      await removeQuietly(this.#metaPath(from))
      await syncDir(dirname(dataPath))
      await syncDir(dirname(this.#dataPath(from)))
    })
  }

  async read(key: string, range?: BlobRange): Promise<BlobReadResult | null> {
    this.#check()
    assertBlobKey(key)
    if (range !== undefined) assertBlobRange(key, range)
    const opened = await this.#openData(key)
    if (opened === null) return null
    const { handle, head } = opened
    try {
      if (range === undefined) {
        return { ...head, body: handle.createReadStream({ autoClose: true }) }
      }
      const served = resolveBlobRange(key, range, head.size)
      return {
        ...head,
        range: served,
        body: handle.createReadStream({ start: served.start, end: served.end, autoClose: true }),
      }
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  async head(key: string): Promise<BlobHead | null> {
    this.#check()
    assertBlobKey(key)
    const opened = await this.#openData(key)
    if (opened === null) return null
    await opened.handle.close()
    return opened.head
  }

  async delete(key: string): Promise<boolean> {
    this.#check()
    assertBlobKey(key)
    return this.#locked([key], async () => {
      let existed = true
      try {
        const info = await stat(this.#dataPath(key))
        if (!info.isFile()) return false
        await unlink(this.#dataPath(key))
      } catch (error) {
        if (!isAbsent(error)) throw error
        existed = false
      }
      await removeQuietly(this.#metaPath(key))
      return existed
    })
  }

  async *list(prefix: string): AsyncIterable<BlobListEntry> {
    this.#check()
    assertBlobPrefix(prefix)
    // start in the deepest folder the prefix names in full
    const cut = prefix.lastIndexOf('/')
    const base = cut < 0 ? '' : prefix.slice(0, cut + 1)
    yield* this.#walk(base, prefix)
  }

  async *#walk(relDir: string, prefix: string): AsyncGenerator<BlobListEntry> {
    let entries
    try {
      entries = await readdir(join(this.root, ...relDir.split('/')), { withFileTypes: true })
    } catch (error) {
      if (isAbsent(error)) return
      throw error
    }
    // keys never have a segment starting with "." (the store's own folders, stray files)
    const named = entries
      .filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isDirectory()))
      .map((e) => ({ entry: e, sortKey: e.isDirectory() ? `${e.name}/` : e.name }))
      // byte order of the full keys: a folder sorts as its name followed by "/"
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
    for (const { entry } of named) {
      const rel = relDir + entry.name
      if (entry.isDirectory()) {
        const sub = `${rel}/`
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) yield* this.#walk(sub, prefix)
      } else if (rel.startsWith(prefix)) {
        const info = await stat(join(this.root, ...rel.split('/'))).catch((error: unknown) => {
          if (isAbsent(error)) return null // deleted while listing
          throw error
        })
        if (info !== null) yield { key: rel, size: info.size }
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await Promise.all(this.#locks.values())
  }
}
