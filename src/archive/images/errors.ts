/**
 * @module archive/images/errors — why a picture could not be converted, as a closed set of reasons.
 *
 * A `PictureError` is the failure of one item, never of the process: the archiver records its
 * `reason` on the item (`failed` with a reason) and moves on. Messages are plain and carry no
 * file paths or libvips internals; the libvips message is kept as the `cause` for the logs.
 */

/** The closed set of reasons a picture is refused. */
export const PICTURE_ERROR_REASONS = [
  /** Not an image at all: a text or HTML file named `.jpg`, an empty file. */
  'not_a_picture',
  /** An image format we do not convert: HEIC/HEIF (HEVC), SVG, PDF, JPEG XL, JPEG 2000, RAW… */
  'unsupported_format',
  /** Width × height above the pixel limit (a decompression bomb), refused from the header alone. */
  'too_many_pixels',
  /** A recognised format whose data is broken: truncated, bad header, undecodable pixels. */
  'corrupt',
  /** More input bytes than the byte cap. */
  'too_large',
  /** Decoding and encoding took longer than the time limit. */
  'timeout',
] as const

export type PictureErrorReason = (typeof PICTURE_ERROR_REASONS)[number]

const MESSAGES: Record<PictureErrorReason, string> = {
  not_a_picture: 'The file is not a picture.',
  unsupported_format: 'The picture is in a format the archive does not convert.',
  too_many_pixels: 'The picture has too many pixels to convert safely.',
  corrupt: 'The picture is damaged or incomplete.',
  too_large: 'The picture file is too large.',
  timeout: 'Converting the picture took too long.',
}

export class PictureError extends Error {
  override readonly name = 'PictureError'
  readonly reason: PictureErrorReason

  constructor(reason: PictureErrorReason, detail?: string, options: { cause?: unknown } = {}) {
    super(
      detail === undefined ? MESSAGES[reason] : `${MESSAGES[reason]} ${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.reason = reason
  }
}

export function isPictureError(value: unknown): value is PictureError {
  return value instanceof PictureError
}
