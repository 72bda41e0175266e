/**
 * @module archive/images/formats — the sizes and formats the archive derives, their content
 * types, and recognising the original's format from its first bytes and sharp's metadata.
 */

/** Widths of the derived sizes, in pixels. An original narrower than one gets its own width. */
export const PICTURE_WIDTHS = [320, 640, 1080] as const
export type PictureWidth = (typeof PICTURE_WIDTHS)[number]

/** Formats of the derived sizes, best first (what a `<picture>` lists in this order). */
export const VARIANT_FORMATS = ['avif', 'webp', 'jpeg'] as const
export type VariantFormat = (typeof VARIANT_FORMATS)[number]

/** Formats an original may be in (what `derivePicture` reports as `format`). */
export const ORIGINAL_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'tiff'] as const
export type OriginalFormat = (typeof ORIGINAL_FORMATS)[number]

const CONTENT_TYPES: Record<VariantFormat | OriginalFormat, string> = {
  avif: 'image/avif',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  tiff: 'image/tiff',
}

/** The `Content-Type` of a variant or original format. */
export function contentTypeOf(format: VariantFormat | OriginalFormat): string {
  return CONTENT_TYPES[format]
}

/** File extension used in archive URLs (`/media/<hash>/<width>.<ext>`). */
export function extensionOf(format: VariantFormat | OriginalFormat): string {
  return format === 'jpeg' ? 'jpg' : format
}

/**
 * The original format from sharp's `metadata()` (`format`, and `compression` for HEIF
 * containers), or `undefined` for a format sharp reads but we refuse (SVG, PDF, HEVC, JXL…).
 */
export function originalFormatOf(format: string, compression?: string): OriginalFormat | undefined {
  switch (format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'gif':
    case 'tiff':
      return format
    case 'heif':
      return compression === 'av1' ? 'avif' : undefined
    default:
      return undefined
  }
}

/** HEIF brands of HEVC-coded pictures (Apple's HEIC and friends), which this libvips cannot decode. */
const HEVC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs'])
const AVIF_BRANDS = new Set(['avif', 'avis'])

/**
 * Whether the bytes start an ISO-BMFF `ftyp` box naming an HEVC brand (and no AVIF brand): an
 * HEIC/HEIF file, refused as `unsupported_format` whatever the rest of it holds.
 */
export function looksLikeHeic(head: Uint8Array): boolean {
  if (head.length < 16) return false
  const text = (from: number): string => String.fromCharCode(...head.subarray(from, from + 4))
  if (text(4) !== 'ftyp') return false
  const boxSize = Math.min(
    ((head[0] ?? 0) << 24) | ((head[1] ?? 0) << 16) | ((head[2] ?? 0) << 8) | (head[3] ?? 0),
    head.length,
  )
  const brands = [text(8)]
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(text(at))
  if (brands.some((b) => AVIF_BRANDS.has(b))) return false
  return brands.some((b) => HEVC_BRANDS.has(b))
}
