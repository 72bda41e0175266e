/**
 * @module archive/blobs/meter — what both backends put between a write's source and its
 * destination: a pass-through that hashes (SHA-256) and counts the bytes as they go, and fails
 * with `BlobTooLargeError` at the first byte past `maxBytes`.
 */
import { createHash, type Hash } from 'node:crypto'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { BlobTooLargeError, type BlobWriteResult } from './types.ts'

export class BlobMeter extends Transform {
  readonly #hash: Hash = createHash('sha256')
  readonly #key: string
  readonly #maxBytes: number | undefined
  #size = 0

  constructor(key: string, maxBytes: number | undefined) {
    super()
    this.#key = key
    this.#maxBytes = maxBytes
  }

  override _transform(chunk: unknown, _encoding: BufferEncoding, done: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array)
    this.#size += bytes.byteLength
    if (this.#maxBytes !== undefined && this.#size > this.#maxBytes) {
      done(new BlobTooLargeError(this.#key, this.#maxBytes))
      return
    }
    this.#hash.update(bytes)
    done(null, bytes)
  }

  /** Size and digest; valid once the stream has ended. */
  result(): BlobWriteResult {
    return { size: this.#size, sha256: this.#hash.digest('hex') }
  }
}

/** A Readable of the body: the stream itself, or the bytes as one chunk. */
export function bodyStream(body: Readable | Uint8Array): Readable {
  return body instanceof Uint8Array ? Readable.from([body], { objectMode: false }) : body
}
