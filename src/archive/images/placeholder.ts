/**
 * @module archive/images/placeholder — what a tile shows before any byte of its picture arrives:
 * a ThumbHash (a ~25-byte blurred preview with the picture's aspect ratio) and one colour.
 */
import sharp from 'sharp'
import { rgbaToThumbHash } from 'thumbhash'

/** Raw 8-bit sRGB pixels (3 or 4 channels) of an already oriented, colour-converted picture. */
export interface RawPixels {
  readonly data: Buffer
  readonly width: number
  readonly height: number
  readonly channels: 3 | 4
}

export interface Placeholder {
  /** ThumbHash of a ≤ 100 × 100 RGBA rendering, standard base64. */
  readonly thumbhash: string
  /** `#rrggbb`: the dominant colour, on white where the picture is transparent. */
  readonly color: string
}

const hex = (n: number): string => n.toString(16).padStart(2, '0')

/**
 * The placeholder of a picture, from its smallest derived size (so this costs a 100 px resize).
 *
 * The colour is sharp's `stats().dominant` of the 100 px rendering flattened on white: the centre
 * of the most populated bin of a 16 × 16 × 16 histogram. Unlike a mean (which turns a blue sky
 * over orange sand into grey-brown) it is a colour the picture actually has, which is what a tile
 * painted before the picture loads should look like; the ThumbHash already carries the average.
 */
export async function placeholderOf(pixels: RawPixels): Promise<Placeholder> {
  const raw = { width: pixels.width, height: pixels.height, channels: pixels.channels }
  const small = await sharp(pixels.data, { raw })
    .resize({ width: 100, height: 100, fit: 'inside', withoutEnlargement: true })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  const hash = rgbaToThumbHash(small.info.width, small.info.height, small.data)
  const { dominant } = await sharp(small.data, {
    raw: { width: small.info.width, height: small.info.height, channels: 4 },
  })
    .flatten({ background: '#ffffff' })
    .stats()
  return {
    thumbhash: Buffer.from(hash).toString('base64'),
    color: `#${hex(dominant.r)}${hex(dominant.g)}${hex(dominant.b)}`,
  }
}
