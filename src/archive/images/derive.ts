/**
 * @module archive/images/derive — one original picture in, the archive's sizes out.
 *
 * `derivePicture` decodes the original once (EXIF orientation applied, ICC/CMYK/16-bit converted
 * to 8-bit sRGB, shrunk to the largest width while decoding where the format allows), keeps those
 * pixels raw, and encodes every size in AVIF, WebP and JPEG from them, plus the placeholder
 * (ThumbHash and colour). Nothing of the original's metadata survives: the outputs are encoded
 * from raw pixels, so EXIF (GPS), XMP, IPTC and ICC profiles are gone by construction.
 *
 * Qualities (for photos at tile and lightbox sizes; measured on the demo pictures, PSNR against
 * the original, and for encode time on one libvips thread — see BENCHMARKS.md, issue 16):
 * - AVIF quality 45, effort 2, 4:2:0. Effort 4 (sharp's default) takes 5–8 s for one 1080 × 1350
 *   picture here for no better bytes-per-quality; effort 2 takes under 1 s. 4:4:4 chroma costs
 *   about a fifth more bytes for nothing visible on photos. About a third of the JPEG's bytes.
 * - WebP quality 75, effort 4: the same PSNR as the AVIF (about 40.5 dB) for ~15 % more bytes.
 * - JPEG quality 80, mozjpeg (progressive, trellis quantisation, optimised Huffman tables), 4:2:0,
 *   flattened on white: the fallback for browsers without AVIF/WebP.
 *
 * Limits (each an option): 100 megapixels (`limitInputPixels`: refused from the header before any
 * pixel is decoded — a 30,000 × 30,000 PNG never allocates its 2.7 GB), 64 MiB of input bytes,
 * 60 s per picture (sharp's `timeout`). `sequentialRead` lets libvips stream the decode.
 *
 * Odd inputs:
 * - Animated GIF/WebP: the stills are the first frame (sharp reads page 0 only; the other frames
 *   are never decoded). The archive keeps the original for playback.
 * - Alpha: kept in AVIF and WebP; JPEG is flattened on white. An alpha channel that is fully
 *   opaque is dropped (smaller files, same look).
 * - Truncated or otherwise damaged files are refused (`corrupt`, via `failOn: 'error'`) rather
 *   than converted as far as they go: a half-grey picture archived forever is worse than a failed
 *   item the next sync retries. Mere decoder warnings (stray bytes between JPEG markers, common in
 *   phone pictures) are tolerated.
 * - HEIC/HEIF: the prebuilt libvips in sharp decodes AV1 (AVIF) but has no HEVC decoder, so
 *   HEIC is `unsupported_format`, as are SVG, PDF, JPEG 2000/XL and camera RAW, which sharp may
 *   read but a social platform never serves (and SVG rendering is attack surface we do not need).
 */
import { open, stat } from 'node:fs/promises'
import sharp, {
  type AvifOptions,
  type JpegOptions,
  type Metadata,
  type SharpOptions,
  type WebpOptions,
} from 'sharp'
import { PictureError } from './errors.ts'
import {
  PICTURE_WIDTHS,
  VARIANT_FORMATS,
  looksLikeHeic,
  originalFormatOf,
  type OriginalFormat,
  type VariantFormat,
} from './formats.ts'
import { placeholderOf, type RawPixels } from './placeholder.ts'
import { configureSharpForServer } from './sharp-setup.ts'

configureSharpForServer()

export const DEFAULT_LIMIT_INPUT_PIXELS = 100_000_000
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024
export const DEFAULT_TIMEOUT_SECONDS = 60

/** Encoder settings of each variant format (see the module comment for why). */
export const ENCODER_OPTIONS = {
  avif: { quality: 45, effort: 2, chromaSubsampling: '4:2:0' },
  webp: { quality: 75, effort: 4 },
  jpeg: { quality: 80, mozjpeg: true },
} as const satisfies {
  avif: AvifOptions
  webp: WebpOptions
  jpeg: JpegOptions
}

export interface DeriveOptions {
  /** Width × height above which a picture is refused before decoding. Default 100 megapixels. */
  readonly limitInputPixels?: number
  /** Input bytes above which a picture is refused. Default 64 MiB. */
  readonly maxInputBytes?: number
  /** Seconds the decode and each encode may take. Default 60. */
  readonly timeoutSeconds?: number
  /** Target widths. Default `PICTURE_WIDTHS` (320, 640, 1080). */
  readonly widths?: readonly number[]
  /** Formats to encode. Default `VARIANT_FORMATS` (avif, webp, jpeg). */
  readonly formats?: readonly VariantFormat[]
}

export interface PictureVariant {
  readonly width: number
  readonly height: number
  readonly format: VariantFormat
  readonly bytes: Uint8Array
}

export interface DerivedPicture {
  /** Displayed width and height of the original (after EXIF orientation). */
  readonly width: number
  readonly height: number
  /** Format of the original. */
  readonly format: OriginalFormat
  /** Every size in every format, narrowest first, in `VARIANT_FORMATS` order within a size. */
  readonly variants: readonly PictureVariant[]
  /** ThumbHash, standard base64. */
  readonly thumbhash: string
  /** `#rrggbb`. */
  readonly color: string
}

/**
 * The widths to derive for an original `width` pixels wide: every target narrower than it, and
 * the widest target capped at the original (never upscaled). 500 → [320, 500]; 200 → [200].
 */
export function widthsFor(width: number, targets: readonly number[] = PICTURE_WIDTHS): number[] {
  const sorted = [...new Set(targets)].sort((a, b) => a - b)
  const widest = sorted.at(-1) ?? width
  const out = sorted.filter((w) => w < Math.min(width, widest))
  out.push(Math.min(width, widest))
  return out
}

/** Converts one original picture (bytes, or a file path) into the archive's sizes. */
export async function derivePicture(
  input: Buffer | string,
  options: DeriveOptions = {},
): Promise<DerivedPicture> {
  const limitInputPixels = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS
  const maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS
  const formats = options.formats ?? VARIANT_FORMATS

  const size = typeof input === 'string' ? (await stat(input)).size : input.length
  if (size === 0) throw new PictureError('not_a_picture', 'The file is empty.')
  if (size > maxInputBytes)
    throw new PictureError('too_large', `It has ${size} bytes; the limit is ${maxInputBytes}.`)
  const head = typeof input === 'string' ? await readHead(input, 64) : input.subarray(0, 64)
  if (looksLikeHeic(head))
    throw new PictureError('unsupported_format', 'HEIC and HEIF pictures cannot be decoded here.')

  const sharpOptions: SharpOptions = {
    limitInputPixels,
    sequentialRead: true,
    failOn: 'error',
    animated: false,
    pages: 1,
  }
  let meta: Metadata
  try {
    meta = await sharp(input, sharpOptions).metadata()
  } catch (error) {
    throw classify(error, 'header')
  }
  const format = originalFormatOf(meta.format, meta.compression)
  if (format === undefined)
    throw new PictureError('unsupported_format', `The format is ${String(meta.format)}.`)
  const storedWidth = meta.width
  const storedHeight = meta.pageHeight ?? meta.height
  if (!(storedWidth > 0 && storedHeight > 0)) throw new PictureError('corrupt', 'It has no size.')
  if (storedWidth * storedHeight > limitInputPixels) throw new PictureError('too_many_pixels')
  const swap = (meta.orientation ?? 1) >= 5
  const width = swap ? storedHeight : storedWidth
  const height = swap ? storedWidth : storedHeight
  const widths = widthsFor(width, options.widths)
  const widest = widths.at(-1) ?? width

  // One decode: oriented, sRGB, 8-bit, at the widest size (JPEG and WebP shrink while decoding).
  let base: RawPixels
  try {
    const { data, info } = await sharp(input, sharpOptions)
      .timeout({ seconds: timeoutSeconds })
      .rotate()
      .resize({ width: widest, withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
    base = dropOpaqueAlpha({
      data,
      width: info.width,
      height: info.height,
      channels: info.channels === 4 ? 4 : 3,
    })
  } catch (error) {
    throw classify(error, 'pixels')
  }

  try {
    const sizes = await Promise.all(
      widths.map((w) =>
        w === base.width ? Promise.resolve(base) : resizeRaw(base, w, timeoutSeconds),
      ),
    )
    const smallest = sizes[0] ?? base
    // Widest first: libuv's pool (4 threads) starts jobs in submission order, and the 1080 AVIF
    // is the longest job, so starting it first shortens the picture's wall time.
    const jobs = sizes.flatMap((pixels) => formats.map((f) => ({ pixels, f }))).reverse()
    const [encoded, placeholder] = await Promise.all([
      Promise.all(jobs.map(({ pixels, f }) => encode(pixels, f, timeoutSeconds))),
      placeholderOf(smallest),
    ])
    const variants = encoded.reverse()
    return { width, height, format, variants, ...placeholder }
  } catch (error) {
    throw classify(error, 'pixels')
  }
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(bytes)
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

function rawInput(pixels: RawPixels): SharpOptions {
  return {
    raw: { width: pixels.width, height: pixels.height, channels: pixels.channels },
    limitInputPixels: false,
  }
}

async function resizeRaw(pixels: RawPixels, width: number, seconds: number): Promise<RawPixels> {
  const { data, info } = await sharp(pixels.data, rawInput(pixels))
    .timeout({ seconds })
    .resize({ width })
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: pixels.channels }
}

async function encode(
  pixels: RawPixels,
  format: VariantFormat,
  seconds: number,
): Promise<PictureVariant> {
  const image = sharp(pixels.data, rawInput(pixels)).timeout({ seconds })
  const encoded =
    format === 'avif'
      ? image.avif(ENCODER_OPTIONS.avif)
      : format === 'webp'
        ? image.webp(ENCODER_OPTIONS.webp)
        : image.flatten({ background: '#ffffff' }).jpeg(ENCODER_OPTIONS.jpeg)
  const bytes = await encoded.toBuffer()
  return { width: pixels.width, height: pixels.height, format, bytes: new Uint8Array(bytes) }
}

/** The same pixels without their alpha channel when every pixel is fully opaque. */
function dropOpaqueAlpha(pixels: RawPixels): RawPixels {
  if (pixels.channels !== 4) return pixels
  const { data } = pixels
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return pixels
  const rgb = Buffer.allocUnsafe((data.length / 4) * 3)
  for (let i = 0, o = 0; i < data.length; i += 4, o += 3) {
    rgb[o] = data[i] ?? 0
    rgb[o + 1] = data[i + 1] ?? 0
    rgb[o + 2] = data[i + 2] ?? 0
  }
  return { data: rgb, width: pixels.width, height: pixels.height, channels: 3 }
}

/** A libvips failure as a `PictureError` (its message kept as the cause, not shown). */
function classify(error: unknown, stage: 'header' | 'pixels'): PictureError {
  if (error instanceof PictureError) return error
  const message = error instanceof Error ? error.message : String(error)
  const reason = /exceeds pixel limit/i.test(message)
    ? 'too_many_pixels'
    : /timeout/i.test(message)
      ? 'timeout'
      : stage === 'header' && /unsupported image format|buffer is empty/i.test(message)
        ? 'not_a_picture'
        : 'corrupt'
  return new PictureError(reason, undefined, { cause: error })
}
