/**
 * @module archive/download — fetching a platform's media for the archive: only from the
 * platform's own media origins (its CDNs, `https://*.cdninstagram.com` style patterns from its
 * platform folder) or, in sandbox mode, from its emulator in this app; redirects followed only
 * within those origins; a size bound enforced while the body streams, never after.
 *
 * No URL goes into an error or a log: a CDN URL is a signed capability.
 */
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { FetchLike } from '../providers/types.ts'

/** A download that did not produce a body, with a plain reason and whether to try again. */
export class DownloadError extends Error {
  override name = 'DownloadError'
  /** The HTTP status (0: no answer). */
  readonly status: number
  readonly retryable: boolean
  constructor(message: string, status: number, retryable: boolean) {
    super(message)
    this.status = status
    this.retryable = retryable
  }

  /**
   * The media server refused the address itself (403, 404, 410): a signed URL past its expiry,
   * or media gone. A platform whose URLs are signed may give a fresh one when the item is read
   * again by id.
   */
  get expired(): boolean {
    return this.status === 403 || this.status === 404 || this.status === 410
  }
}

/** Whether `url` is under one of `origins` (`https://host` or `https://*.domain`). */
export function allowedBy(url: URL, origins: readonly string[]): boolean {
  return origins.some((origin) => {
    const match = /^(https?):\/\/(\*\.)?([^/]+)$/.exec(origin)
    if (match === null) return false
    const [, scheme, wildcard, host] = match
    if (`${scheme}:` !== url.protocol || url.port !== '' || host === undefined) return false
    return wildcard === undefined
      ? url.hostname === host
      : url.hostname.endsWith(`.${host}`) && url.hostname.length > host.length + 1
  })
}

export interface DownloadSource {
  /** How the platform's media are fetched (the emulator's inject fetch in sandbox mode). */
  readonly fetch: FetchLike
  /** Where its media may come from; a sandbox names its own base URL's origin. */
  readonly origins: readonly string[]
  /** In sandbox mode: the emulator's base URL, the only place media come from. */
  readonly sandboxBase?: string
  readonly label: string
}

export interface Downloaded {
  readonly body: Readable
  readonly contentType: string
  /** The length the server announced, when it did. */
  readonly length: number | null
}

const MAX_REDIRECTS = 3

/** Starts a download; the caller consumes (or destroys) `body`. */
export async function download(
  source: DownloadSource,
  url: string,
  timeoutMs: number,
): Promise<Downloaded> {
  let current = url
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let parsed: URL
    try {
      parsed = new URL(current)
    } catch {
      throw new DownloadError(`${source.label} gave a media address that is not a URL`, 0, false)
    }
    const sandboxed =
      source.sandboxBase !== undefined && current.startsWith(`${source.sandboxBase}/`)
    if (!sandboxed && !allowedBy(parsed, source.origins))
      throw new DownloadError(
        `${source.label} gave a media address outside its media servers (${parsed.hostname})`,
        0,
        false,
      )
    let response: Response
    try {
      response = await source.fetch(current, {
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch {
      throw new DownloadError(`Could not reach ${source.label}'s media server`, 0, true)
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined)
      const location = response.headers.get('location')
      if (location === null)
        throw new DownloadError(`${source.label} redirected nowhere`, response.status, true)
      current = new URL(location, current).toString()
      continue
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined)
      const status = response.status
      // 403/404/410: a signed URL that expired, or media gone; the next sync gives a fresh one
      const expired = status === 403 || status === 404 || status === 410
      throw new DownloadError(
        expired
          ? `${source.label} no longer serves this media at the address stored (HTTP ${status}); waiting for a fresh one from the next sync`
          : `${source.label}'s media server answered HTTP ${status}`,
        status,
        true,
      )
    }
    const length = Number(response.headers.get('content-length'))
    return {
      body: Readable.fromWeb(response.body as WebReadableStream),
      contentType: (response.headers.get('content-type') ?? 'application/octet-stream')
        .split(';')[0]
        ?.trim()
        .toLowerCase() as string,
      length: Number.isFinite(length) && length > 0 ? length : null,
    }
  }
  throw new DownloadError(`${source.label} redirected too many times`, 0, true)
}

/** Reads a stream into memory, refusing past `maxBytes` (a picture; videos are streamed). */
export async function readBounded(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)
    size += buffer.length
    if (size > maxBytes) {
      body.destroy()
      throw new DownloadError(`The picture is larger than ${maxBytes} bytes`, 200, false)
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}
