/**
 * @module archive/blobs/s3/s3-blob-store — the blob store on S3-compatible object storage (AWS S3,
 * Google Cloud Storage's XML API, Cloudflare R2, MinIO) through the AWS SDK v3.
 *
 * Only the operations every one of them implements are used: PutObject, GetObject (with
 * `Range`), HeadObject, DeleteObject, CopyObject, ListObjectsV2 and the multipart upload calls.
 * The SDK's default checksums (CRC32 trailers since 3.729) are turned off — requests carry a
 * checksum only where the API requires one, and responses are validated only then — because
 * GCS, R2 and older MinIO reject or mishandle the trailers.
 *
 * Writes go through `@aws-sdk/lib-storage`'s `Upload`: a body that fits in one part
 * (`partSize`, 8 MiB by default) is sent as a single PutObject, a longer one as a multipart
 * upload with at most `queueSize` parts in memory. Objects appear only when the PutObject or
 * the CompleteMultipartUpload succeeds. On any failure (the source, `maxBytes`, the server) a
 * started multipart upload is aborted, so no parts are left to bill; if the abort itself fails the
 * write still throws its original error, with the abort's as `cause` when it had none. (A process
 * that dies mid-upload cannot abort: give the bucket a lifecycle rule that aborts incomplete
 * multipart uploads after a day.)
 *
 * Endpoint, region and credentials default to the SDK's own resolution (`AWS_REGION`,
 * `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`…, profiles, instance roles);
 * this module never reads the environment itself.
 *
 * `delete` asks HeadObject first (DeleteObject does not say whether there was anything), so its
 * answer can race with a concurrent writer. `move` is CopyObject then DeleteObject: objects up to
 * 5 GB (a single copy's limit).
 */
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { createHash } from 'node:crypto'
import { Readable, Transform } from 'node:stream'
import {
  BlobNotFoundError,
  BlobRangeError,
  BlobStoreError,
  BlobTooLargeError,
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
import { BlobMeter } from '../meter.ts'

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024
const MIN_PART_SIZE = 5 * 1024 * 1024
const FALLBACK_CONTENT_TYPE = 'application/octet-stream'

export interface S3BlobStoreOptions {
  readonly bucket: string
  /** Prepended to every key (`media/` → `media/<key>`); a missing trailing `/` is added. */
  readonly prefix: string
  /** For anything but AWS (`https://storage.googleapis.com`, R2's account URL, MinIO's). */
  readonly endpoint?: string
  readonly region?: string
  /** Path-style URLs (`endpoint/bucket/key`), as MinIO and most emulators need. */
  readonly forcePathStyle?: boolean
  readonly credentials?: {
    readonly accessKeyId: string
    readonly secretAccessKey: string
    readonly sessionToken?: string
  }
  /** Bytes per multipart part (≥ 5 MiB), and the largest body sent as one PutObject. */
  readonly partSize?: number
  /** Parts in flight (each held in memory) during a multipart upload; default 2. */
  readonly queueSize?: number
}

function httpStatus(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined
}

function isNotFound(error: unknown): boolean {
  if (httpStatus(error) === 404) return true
  return (
    error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.name === 'NotFound')
  )
}

function cleanPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '')
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`
}

/** Passes the first `limit` bytes, then ends (and stops reading the source). */
function limitBytes(limit: number): Transform {
  let left = limit
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (left <= 0) {
        done()
        return
      }
      const part = chunk.length <= left ? chunk : chunk.subarray(0, left)
      left -= part.length
      done(null, part)
      if (left === 0) this.end()
    },
  })
}

export class S3BlobStore implements BlobStore {
  readonly bucket: string
  readonly prefix: string
  readonly client: S3Client
  readonly #partSize: number
  readonly #queueSize: number
  #closed = false

  constructor(options: S3BlobStoreOptions) {
    if (options.bucket === '') throw new BlobStoreError('an S3 blob store needs a bucket')
    const partSize = options.partSize ?? DEFAULT_PART_SIZE
    if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE)
      throw new BlobStoreError(`partSize must be at least ${MIN_PART_SIZE} bytes`)
    this.bucket = options.bucket
    this.prefix = cleanPrefix(options.prefix)
    this.#partSize = partSize
    this.#queueSize = Math.max(1, options.queueSize ?? 2)
    const config: S3ClientConfig = {
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }
    if (options.endpoint !== undefined) config.endpoint = options.endpoint
    if (options.region !== undefined) config.region = options.region
    if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle
    if (options.credentials !== undefined) config.credentials = { ...options.credentials }
    this.client = new S3Client(config)
  }

  #check(): void {
    if (this.#closed) throw new BlobStoreError('the S3 blob store is closed')
  }

  #objectKey(key: string): string {
    return this.prefix + key
  }

  async write(
    key: string,
    body: Readable | Uint8Array,
    options: BlobWriteOptions,
  ): Promise<BlobWriteResult> {
    this.#check()
    assertBlobKey(key)
    assertMaxBytes(options.maxBytes)
    if (body instanceof Uint8Array) return this.#putBytes(key, body, options)

    const meter = new BlobMeter(key, options.maxBytes)
    // the source's failure reaches the meter (and so the upload) instead of being lost
    body.once('error', (error) => meter.destroy(error))
    body.pipe(meter)
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.#objectKey(key),
        Body: meter,
        ContentType: options.contentType,
      },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      // aborted below, so that a failing abort cannot hide the write's own error
      leavePartsOnError: true,
    })
    try {
      await upload.done()
    } catch (error) {
      body.unpipe(meter)
      body.destroy()
      meter.destroy()
      if (upload.uploadId !== undefined) {
        try {
          await this.client.send(
            new AbortMultipartUploadCommand({
              Bucket: this.bucket,
              Key: this.#objectKey(key),
              UploadId: upload.uploadId,
            }),
          )
        } catch (abortError) {
          if (error instanceof Error && error.cause === undefined) error.cause = abortError
        }
      }
      throw error
    }
    return meter.result()
  }

  async #putBytes(
    key: string,
    body: Uint8Array,
    options: BlobWriteOptions,
  ): Promise<BlobWriteResult> {
    if (options.maxBytes !== undefined && body.byteLength > options.maxBytes)
      throw new BlobTooLargeError(key, options.maxBytes)
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.#objectKey(key),
        Body: body,
        ContentLength: body.byteLength,
        ContentType: options.contentType,
      }),
    )
    return { size: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') }
  }

  async move(from: string, to: string): Promise<void> {
    this.#check()
    assertBlobKey(from)
    assertBlobKey(to)
    if ((await this.head(from)) === null) throw new BlobNotFoundError(from)
    if (from === to) return
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.#objectKey(to),
          // the key alphabet needs no escaping beyond what encodeURI leaves alone
          CopySource: `${this.bucket}/${encodeURI(this.#objectKey(from))}`,
          MetadataDirective: 'COPY',
        }),
      )
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(from)
      throw error
    }
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(from) }),
    )
  }

  async read(key: string, range?: BlobRange): Promise<BlobReadResult | null> {
    this.#check()
    assertBlobKey(key)
    if (range !== undefined) assertBlobRange(key, range)
    let response
    try {
      response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.#objectKey(key),
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end ?? ''}` }),
        }),
      )
    } catch (error) {
      if (isNotFound(error)) return null
      if (range !== undefined && httpStatus(error) === 416) {
        const head = await this.head(key)
        if (head === null) return null
        throw new BlobRangeError(key, range, head.size)
      }
      throw error
    }
    const body = response.Body
    if (!(body instanceof Readable))
      throw new BlobStoreError(`no body in the answer for blob ${key}`)
    const head: BlobHead = {
      size: response.ContentLength ?? 0,
      contentType: response.ContentType ?? FALLBACK_CONTENT_TYPE,
      etag: response.ETag ?? '""',
    }
    if (range === undefined) return { ...head, body }
    // "bytes 0-9/1234"; a server that ignored the Range answers 200 with the whole object
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.ContentRange ?? '')
    const size = Number(match?.[3] ?? head.size)
    const served = { start: Number(match?.[1] ?? 0), end: Number(match?.[2] ?? size - 1) }
    const wanted = resolveBlobRange(key, range, size)
    if (served.start !== wanted.start || served.end < wanted.end) {
      body.destroy()
      throw new BlobStoreError(`the server did not honour the range asked for blob ${key}`)
    }
    // a server that sent more than asked (s3rver for "bytes=0-0") is cut down to the range
    const trimmed =
      served.end === wanted.end ? body : body.pipe(limitBytes(wanted.end - wanted.start + 1))
    if (trimmed !== body) body.once('error', (error) => trimmed.destroy(error))
    return { ...head, size, range: wanted, body: trimmed }
  }

  async head(key: string): Promise<BlobHead | null> {
    this.#check()
    assertBlobKey(key)
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key) }),
      )
      return {
        size: response.ContentLength ?? 0,
        contentType: response.ContentType ?? FALLBACK_CONTENT_TYPE,
        etag: response.ETag ?? '""',
      }
    } catch (error) {
      if (isNotFound(error)) return null
      throw error
    }
  }

  async delete(key: string): Promise<boolean> {
    this.#check()
    assertBlobKey(key)
    const existed = (await this.head(key)) !== null
    if (existed)
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key) }),
      )
    return existed
  }

  async *list(prefix: string): AsyncIterable<BlobListEntry> {
    this.#check()
    assertBlobPrefix(prefix)
    let token: string | undefined
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.#objectKey(prefix),
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      )
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(this.prefix)) continue
        yield { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0 }
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined
    } while (token !== undefined)
  }

  async close(): Promise<void> {
    this.#closed = true
    this.client.destroy()
  }
}
