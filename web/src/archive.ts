/**
 * @module web/archive — every picture and video the page shows comes from our own archive
 * (`/media/<sha256>/<width>.<format>`), never from a platform's servers: a `<picture>` with AVIF
 * and WebP `srcset`s and a JPEG fallback, sized for where it is shown, painted first in the
 * picture's dominant colour and its ThumbHash (a blurred preview drawn on a canvas, so no
 * `data:` URL and the page's CSP stays `img-src 'self'`). An item the archive has not stored yet
 * shows a neutral tile that says so; the gallery asks again and swaps it in when it is ready.
 */
import { thumbHashToRGBA } from 'thumbhash'
import type { MediaChildJson, MediaJson } from './api.ts'
import { h } from './dom.ts'

export type ArchiveJson = MediaJson['archive']
type Format = ArchiveJson['sizes'][number]['format']

/** The archive of the picture that stands for an item in the grid (an album: its first). */
export function previewArchive(item: MediaJson): ArchiveJson {
  const first = item.children[0]
  if (item.media_type === 'CAROUSEL_ALBUM' && item.archive.state !== 'stored' && first)
    return first.archive
  return item.archive
}

/** Whether the archive still has work to do for what the page shows of this item. */
export function awaitsArchive(media: MediaJson | MediaChildJson): boolean {
  const archive = media.archive
  return archive.state === 'pending' || archive.video?.state === 'pending'
}

/** A placeholder in the grid's neutral look ("Archiving…", "Not archived"). */
export function placeholder(text: string, title?: string): HTMLElement {
  return h('span', { class: 'placeholder', role: 'img', 'aria-label': text, title }, text)
}

/** The words for an item that has no picture to show (yet). */
function missing(archive: ArchiveJson): HTMLElement {
  if (archive.state === 'failed')
    return placeholder('Not archived', archive.reason ?? 'This picture could not be archived.')
  // a retry is pending: its reason says why the last try failed
  return placeholder('Archiving…', archive.reason ?? undefined)
}

/** A `srcset` of one format's sizes, narrowest first. */
function srcset(archive: ArchiveJson, format: Format): string {
  return archive.sizes
    .filter((s) => s.format === format)
    .sort((a, b) => a.width - b.width)
    .map((s) => `${s.url} ${s.width}w`)
    .join(', ')
}

/** The URL of the narrowest JPEG at least `width` wide (else the widest; else the original). */
export function jpegUrl(archive: ArchiveJson, width: number): string | null {
  const jpegs = archive.sizes.filter((s) => s.format === 'jpeg').sort((a, b) => a.width - b.width)
  return (jpegs.find((s) => s.width >= width) ?? jpegs.at(-1))?.url ?? archive.original_url
}

/** Base64 (standard) → bytes. */
function bytesOf(base64: string): Uint8Array | null {
  try {
    const text = atob(base64)
    const bytes = new Uint8Array(text.length)
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i)
    return bytes
  } catch {
    return null
  }
}

/** The ThumbHash drawn on a small canvas (stretched by CSS), or `null` when it cannot be. */
function thumbCanvas(thumbhash: string | null): HTMLCanvasElement | null {
  if (thumbhash === null) return null
  const bytes = bytesOf(thumbhash)
  if (bytes === null || bytes.length < 5) return null
  let decoded: { w: number; h: number; rgba: Uint8Array }
  try {
    decoded = thumbHashToRGBA(bytes)
  } catch {
    return null
  }
  const canvas = h('canvas', { class: 'pic-thumb', width: decoded.w, height: decoded.h })
  const context = canvas.getContext('2d')
  if (context === null) return null
  const pixels = context.createImageData(decoded.w, decoded.h)
  pixels.data.set(decoded.rgba)
  context.putImageData(pixels, 0, 0)
  canvas.setAttribute('aria-hidden', 'true')
  return canvas
}

export interface PictureOptions {
  /** The `sizes` attribute: how wide the picture is rendered ("160px", "min(100vw, 1080px)"). */
  readonly sizes: string
  /** Lazy-load (grid tiles) or load at once (the viewer). */
  readonly lazy: boolean
  /** `cover`: fills a square tile; `contain`: the whole picture (the viewer). */
  readonly fit: 'cover' | 'contain'
}

/**
 * An archived picture: its colour and ThumbHash at once, the real picture over them when it has
 * loaded. A picture that fails to load (its last reference was deleted meanwhile) becomes a
 * placeholder, never a broken-image icon.
 */
export function archivedPicture(
  archive: ArchiveJson,
  alt: string,
  options: PictureOptions,
): HTMLElement {
  const fallback = jpegUrl(archive, 320)
  if (archive.state !== 'stored' || fallback === null) return missing(archive)
  const frame = h('span', { class: `pic ${options.fit}` })
  // CSSOM, not a style attribute: the CSP allows no inline styles
  if (archive.color !== null) frame.style.backgroundColor = archive.color
  if (options.fit === 'contain') {
    // the viewer: the whole picture, as large as 62 % of the window's height allows
    const ratio =
      archive.width !== null && archive.height !== null && archive.height > 0
        ? archive.width / archive.height
        : 1
    frame.style.aspectRatio = String(ratio)
    frame.style.width = `min(100%, calc(62vh * ${ratio.toFixed(4)}))`
  }
  const thumb = thumbCanvas(archive.placeholder)
  if (thumb !== null) frame.append(thumb)
  const sources = (['avif', 'webp'] as const)
    .map((format) => ({ format, set: srcset(archive, format) }))
    .filter((s) => s.set !== '')
    .map((s) => h('source', { type: `image/${s.format}`, srcset: s.set, sizes: options.sizes }))
  const jpegs = srcset(archive, 'jpeg')
  const img = h('img', {
    src: fallback,
    ...(jpegs === '' ? {} : { srcset: jpegs, sizes: options.sizes }),
    alt,
    ...(archive.width !== null && archive.height !== null
      ? { width: archive.width, height: archive.height }
      : {}),
    decoding: 'async',
    ...(options.lazy ? { loading: 'lazy' } : { fetchpriority: 'high' }),
  })
  img.addEventListener('load', () => frame.classList.add('loaded'), { once: true })
  img.addEventListener(
    'error',
    () => frame.replaceWith(placeholder('Image unavailable', 'The archive no longer has it.')),
    { once: true },
  )
  frame.append(h('picture', {}, ...sources, img))
  return frame
}

/** A poster for a `<video>` (one URL: the JPEG near the viewer's width), or `null`. */
export function posterUrl(archive: ArchiveJson): string | null {
  return archive.state === 'stored' ? jpegUrl(archive, 1080) : null
}

/** Why an archived video does not play (yet), in plain words; `null` when it plays. */
export function videoProblem(archive: ArchiveJson): string | null {
  const video = archive.video
  if (video === null) return 'This video has no file in the archive.'
  switch (video.state) {
    case 'stored':
      return video.url === null ? 'This video has no file in the archive.' : null
    case 'pending':
      return 'This video is being archived; it will play here when it is ready.'
    case 'skipped':
      return 'This video is too large for the archive (or video archiving is off).'
    case 'failed':
      return 'This video could not be archived.'
    case 'none':
      return 'This video has no file in the archive.'
  }
}
