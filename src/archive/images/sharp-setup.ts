/**
 * @module archive/images/sharp-setup — sharp's process-wide settings for a server, applied once
 * when the picture pipeline is first imported.
 *
 * - `sharp.cache(false)`: libvips' operation cache pays off when the same input is processed again
 *   and again (an image server resizing one file per request); the archive converts each picture
 *   once, so the cache would only hold up to 50 MB of decoded pixels nobody asks for again.
 * - `sharp.concurrency(1)`: one libvips worker thread per image. Parallelism comes from converting
 *   several variants and pictures at once on libuv's thread pool (4 threads), bounded by the
 *   archiver's own per-provider concurrency, so a burst of archiving cannot take both cores from
 *   the request path. It is also sharp's own default on glibc Linux (the Debian image) without
 *   jemalloc, where more threads fragment the heap and resident memory only grows.
 */
import sharp from 'sharp'

let applied = false

/** Applies the settings above (idempotent). */
export function configureSharpForServer(): void {
  if (applied) return
  applied = true
  sharp.cache(false)
  sharp.concurrency(1)
}
