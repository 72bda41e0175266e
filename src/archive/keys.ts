/**
 * @module archive/keys — where the archive keeps things in the blob store, and the URLs it serves
 * them at. Everything is named by the SHA-256 of the original bytes (content addressing: the
 * same picture twice is stored once):
 *
 * - `o/<sha256>`: the original (a picture as downloaded, or a video's MP4);
 * - `v/<sha256>/<width>.<format>`: a derived size of a picture (AVIF, WebP, JPEG);
 * - `tmp/<epoch ms>-<random>`: a download on its way, moved under its hash once complete (the
 *   time in the name lets garbage collection drop what a crash left behind).
 *
 * URLs: `/media/<sha256>` (the original) and `/media/<sha256>/<width>.<format>`. They are
 * capability URLs: the hash of the content is unguessable without the content.
 */
import { randomBytes } from 'node:crypto'

export const SHA256_PATTERN = /^[0-9a-f]{64}$/
/** `<width>.<format>` of a derived size. */
export const VARIANT_FILE_PATTERN = /^([1-9][0-9]{0,4})\.(avif|webp|jpeg)$/

export type VariantFormat = 'avif' | 'webp' | 'jpeg'

export const originalKey = (sha256: string): string => `o/${sha256}`
export const variantPrefix = (sha256: string): string => `v/${sha256}/`
export const variantKey = (sha256: string, width: number, format: VariantFormat): string =>
  `${variantPrefix(sha256)}${width}.${format}`

export const TEMP_PREFIX = 'tmp/'
export const tempKey = (now: number): string =>
  `${TEMP_PREFIX}${now}-${randomBytes(12).toString('hex')}`
/** The time a temporary key was made, or `null` for a key that is not one. */
export function tempKeyTime(key: string): number | null {
  const match = /^tmp\/([0-9]{1,15})-[0-9a-f]+$/.exec(key)
  return match === null ? null : Number(match[1])
}

export const originalUrl = (sha256: string): string => `/media/${sha256}`
export const variantUrl = (sha256: string, width: number, format: VariantFormat): string =>
  `/media/${sha256}/${width}.${format}`
