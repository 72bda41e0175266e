/**
 * @module http/routes/media-files — the archive served from our own origin:
 * `GET /media/<sha256>` (the original: a picture, or a video with `Range` for seeking) and
 * `GET /media/<sha256>/<width>.<format>` (a derived size).
 *
 * Capability URLs: the hash names the content, and nobody can guess it without the content, so
 * they work without a session (an `<img>` on the owner's own website, later the public feeds) —
 * and only while an archived item still references the content: when the last reference goes,
 * the URL answers 404 at once (garbage collection removes the bytes later). Content never
 * changes under a URL: a strong `ETag` and a year of `immutable` caching.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { BlobStore } from '../../archive/blobs/types.ts'
import { BlobRangeError } from '../../archive/blobs/types.ts'
import {
  SHA256_PATTERN,
  VARIANT_FILE_PATTERN,
  originalKey,
  variantKey,
} from '../../archive/keys.ts'
import type { VariantFormat } from '../../archive/keys.ts'
import { GalleryError } from '../../errors.ts'
import type { Store } from '../../store/types.ts'

const IMMUTABLE = 'public, max-age=31536000, immutable'

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range); `null` for anything else (served whole). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  if (header === undefined) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return null
  const [, from = '', to = ''] = match
  if (from === '' && to === '') return null
  if (from === '') {
    const suffix = Number(to)
    if (suffix === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(from)
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1)
  if (start >= size || end < start) return 'unsatisfiable'
  return { start, end }
}

export function mediaFileRoutes(deps: { store: Store; blobs: BlobStore }) {
  const { store, blobs } = deps

  async function serve(
    reply: FastifyReply,
    key: string,
    etag: string,
    headers: { range: string | undefined; ifNoneMatch: string | undefined },
    head: boolean,
  ): Promise<FastifyReply> {
    reply
      .header('cache-control', IMMUTABLE)
      .header('etag', etag)
      .header('x-content-type-options', 'nosniff')
      // the owner's own pages (and the public feeds) embed these from other origins
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('accept-ranges', 'bytes')
    if (headers.ifNoneMatch !== undefined && headers.ifNoneMatch.split(/\s*,\s*/).includes(etag))
      return reply.code(304).send()
    if (!head && headers.range === undefined) {
      // the common case (every tile): one read gives the body, its size and its type
      const whole = await blobs.read(key)
      if (whole === null) throw new GalleryError('ERR_NOT_FOUND', 'No such media')
      return reply
        .header('content-type', whole.contentType)
        .header('content-length', String(whole.size))
        .send(whole.body)
    }
    // a range (or HEAD) needs the size first: to resolve a suffix range, or to answer 416
    const meta = await blobs.head(key)
    if (meta === null) throw new GalleryError('ERR_NOT_FOUND', 'No such media')
    const range = parseRange(headers.range, meta.size)
    if (range === 'unsatisfiable')
      return reply.code(416).header('content-range', `bytes */${meta.size}`).send()
    reply.header('content-type', meta.contentType)
    if (head) {
      reply.header('content-length', String(meta.size))
      return reply.code(200).send()
    }
    try {
      const found = await blobs.read(key, range ?? undefined)
      if (found === null) throw new GalleryError('ERR_NOT_FOUND', 'No such media')
      if (range !== null) {
        reply
          .code(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${meta.size}`)
          .header('content-length', String(range.end - range.start + 1))
      } else reply.header('content-length', String(meta.size))
      return reply.send(found.body)
    } catch (error) {
      if (error instanceof BlobRangeError)
        return reply.code(416).header('content-range', `bytes */${meta.size}`).send()
      throw error
    }
  }

  /** The content is still referenced by an archived item (else the URL is dead). */
  async function referenced(sha256: string): Promise<void> {
    if (!SHA256_PATTERN.test(sha256) || !(await store.isBlobReferenced(sha256)))
      throw new GalleryError('ERR_NOT_FOUND', 'No such media')
  }

  return async function routes(app: FastifyInstance): Promise<void> {
    for (const method of ['GET', 'HEAD'] as const) {
      app.route<{ Params: { sha: string } }>({
        method,
        url: '/media/:sha',
        exposeHeadRoute: false,
        handler: async (request, reply) => {
          const { sha } = request.params
          await referenced(sha)
          return serve(
            reply,
            originalKey(sha),
            `"${sha}"`,
            { range: request.headers.range, ifNoneMatch: request.headers['if-none-match'] },
            method === 'HEAD',
          )
        },
      })
      app.route<{ Params: { sha: string; file: string } }>({
        method,
        url: '/media/:sha/:file',
        exposeHeadRoute: false,
        handler: async (request, reply) => {
          const { sha, file } = request.params
          const match = VARIANT_FILE_PATTERN.exec(file)
          if (match === null) throw new GalleryError('ERR_NOT_FOUND', 'No such media')
          await referenced(sha)
          const width = Number(match[1])
          const format = match[2] as VariantFormat
          return serve(
            reply,
            variantKey(sha, width, format),
            `"${sha}-${width}.${format}"`,
            { range: request.headers.range, ifNoneMatch: request.headers['if-none-match'] },
            method === 'HEAD',
          )
        },
      })
    }
  }
}
