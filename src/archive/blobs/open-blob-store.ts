/**
 * @module archive/blobs/open-blob-store — the backend `MEDIA_STORE_URL` selects: a plain path or a
 * `file:` URL (the local directory, default `./data/media`) or `s3://bucket/prefix` (S3-compatible
 * object storage; endpoint, region and credentials come from the options, else the SDK's own
 * defaults). The caller reads the environment (config/load-config.ts); this module does not.
 */
import { fileURLToPath } from 'node:url'
import { BlobKeyError, BlobStoreUrlError, assertBlobPrefix, type BlobStore } from './types.ts'
import { openLocalBlobStore } from './local/local-blob-store.ts'
import { S3BlobStore, type S3BlobStoreOptions } from './s3/s3-blob-store.ts'

export type MediaStoreLocation =
  | { readonly kind: 'local'; readonly path: string }
  /** `prefix` is `''` or ends with `/`. */
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }

/** What the S3 backend takes besides the bucket and prefix of the URL. */
export type S3ConnectionOptions = Omit<S3BlobStoreOptions, 'bucket' | 'prefix'>

/**
 * Why `name` is not a valid S3 bucket name (the general-purpose bucket rules, which GCS and R2
 * also satisfy), or `null` when it is.
 */
export function bucketNameProblem(name: string): string | null {
  if (name.length < 3 || name.length > 63) return 'it must be 3 to 63 characters long'
  if (!/^[a-z0-9.-]+$/.test(name)) return 'only lowercase letters, digits, "." and "-" are allowed'
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name))
    return 'it must begin and end with a letter or digit'
  if (name.includes('..')) return 'it must not contain ".."'
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'it must not look like an IP address'
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return 'it uses a reserved prefix'
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3)$/.test(name)) return 'it uses a reserved suffix'
  return null
}

/**
 * Reads a media store location: a plain path (relative or absolute), a `file:` URL, or
 * `s3://bucket[/prefix]`. Throws `BlobStoreUrlError` for anything else. The message quotes only
 * the scheme and bucket, never the whole value (which could carry credentials someone pasted).
 */
export function parseMediaStoreUrl(value: string): MediaStoreLocation {
  const text = value.trim()
  if (text === '') throw new BlobStoreUrlError('the media store location is empty')
  // a scheme of two or more letters; "C:\…" is a Windows drive, so a path
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(text)?.[1]?.toLowerCase()
  if (scheme === undefined) return { kind: 'local', path: text }
  if (scheme === 'file') {
    let path: string
    try {
      path = fileURLToPath(text)
    } catch {
      throw new BlobStoreUrlError('the media store file: URL is not a valid local file URL')
    }
    return { kind: 'local', path }
  }
  if (scheme !== 's3')
    throw new BlobStoreUrlError(
      `unsupported media store scheme "${scheme}:" (use a path, a file: URL or s3://bucket/prefix)`,
    )
  const match = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(text)
  if (match === null)
    throw new BlobStoreUrlError('the media store URL must be s3://bucket/prefix, without ? or #')
  const bucket = match[1] ?? ''
  if (bucket === '') throw new BlobStoreUrlError('the media store URL s3:// names no bucket')
  if (bucket.includes('@') || bucket.includes(':'))
    throw new BlobStoreUrlError(
      'the media store URL must not carry credentials or a port: give the endpoint and credentials through the S3 settings',
    )
  const problem = bucketNameProblem(bucket)
  if (problem !== null)
    throw new BlobStoreUrlError(`"${bucket}" is not a valid S3 bucket name: ${problem}`)
  let prefix = (match[2] ?? '').replace(/^\/+/, '')
  if (prefix !== '' && !prefix.endsWith('/')) prefix = `${prefix}/`
  try {
    assertBlobPrefix(prefix)
  } catch (error) {
    if (error instanceof BlobKeyError)
      throw new BlobStoreUrlError(`the media store prefix is not valid: ${error.message}`)
    throw error
  }
  return { kind: 's3', bucket, prefix }
}

/** Opens the store `location` names; `s3` applies only to an `s3` location. */
export async function openBlobStore(
  location: MediaStoreLocation,
  s3: S3ConnectionOptions = {},
): Promise<BlobStore> {
  if (location.kind === 'local') return openLocalBlobStore({ path: location.path })
  return new S3BlobStore({ ...s3, bucket: location.bucket, prefix: location.prefix })
}
