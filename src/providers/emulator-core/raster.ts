/**
 * @module providers/emulator-core/raster — the emulators' demo pictures as real JPEGs, as the
 * platforms' CDNs serve them (the archive converts them like any platform picture): each
 * emulator draws its picture as SVG, rendered here once by `sharp` and kept in a bounded memory
 * cache (the same SVG always gives the same bytes). No network, no files.
 */
import { createHash } from 'node:crypto'
import sharp from 'sharp'

const MAX_CACHED = 400
const cache = new Map<string, Promise<Buffer>>()

/** The JPEG of `svg` (rendered once, then from the cache). */
export function rasterize(svg: string): Promise<Buffer> {
  const key = createHash('sha256').update(svg).digest('base64url')
  const known = cache.get(key)
  if (known !== undefined) {
    // most recently used last: the oldest goes first when the cache is full
    cache.delete(key)
    cache.set(key, known)
    return known
  }
  const made = sharp(Buffer.from(svg)).jpeg({ quality: 82, mozjpeg: true }).toBuffer()
  made.catch(() => cache.delete(key))
  cache.set(key, made)
  if (cache.size > MAX_CACHED) {
    const oldest = cache.keys().next().value
    if (oldest !== undefined) cache.delete(oldest)
  }
  return made
}
