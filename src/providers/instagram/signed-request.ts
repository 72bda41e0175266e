/**
 * @module providers/instagram/signed-request — Meta's `signed_request` (deauthorize and
 * data-deletion callbacks): `base64url(signature) "." base64url(payload)`.
 *
 * The HMAC-SHA256 is computed over the payload segment exactly as received (padding included),
 * compared in constant time, and only then is the payload decoded. `algorithm` must be
 * `HMAC-SHA256` and `user_id` a string (ids exceed 2^53). Every rejection is one generic error.
 *
 * @see https://developers.facebook.com/docs/development/create-an-app/app-dashboard/data-deletion-callback/
 * @see shared/reference/security.md §6
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { GalleryError } from '../../errors.ts'
import { decodeBase64UrlStrict } from '../../crypto/fernet.ts'

/** Meta's requests are small; anything longer is refused before any work. */
export const MAX_SIGNED_REQUEST_LENGTH = 4096
const SEGMENT = /^[A-Za-z0-9_-]+={0,2}$/

export interface SignedRequestPayload {
  readonly userId: string
  readonly issuedAt: number | null
}

function invalid(): GalleryError {
  return new GalleryError('ERR_VALIDATION', 'Invalid signed_request')
}

export function verifySignedRequest(
  signedRequest: unknown,
  appSecret: string,
): SignedRequestPayload {
  if (
    typeof signedRequest !== 'string' ||
    signedRequest.length > MAX_SIGNED_REQUEST_LENGTH ||
    appSecret === ''
  )
    throw invalid()
  const parts = signedRequest.split('.')
  if (parts.length !== 2) throw invalid()
  const [sigPart = '', payloadPart = ''] = parts
  if (!SEGMENT.test(sigPart) || !SEGMENT.test(payloadPart)) throw invalid()
  const signature = decodeBase64UrlStrict(sigPart)
  if (signature === null || signature.length !== 32) throw invalid()
  const expected = createHmac('sha256', appSecret).update(payloadPart, 'ascii').digest()
  if (!timingSafeEqual(signature, expected)) throw invalid()
  const payloadBytes = decodeBase64UrlStrict(payloadPart)
  if (payloadBytes === null) throw invalid()
  let payload: unknown
  try {
    payload = JSON.parse(payloadBytes.toString('utf8'))
  } catch {
    throw invalid()
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalid()
  const fields = payload as Record<string, unknown>
  if (fields.algorithm !== 'HMAC-SHA256') throw invalid()
  const userId = fields.user_id
  if (typeof userId !== 'string' || !/^\d{1,30}$/.test(userId)) throw invalid()
  const issuedAt =
    typeof fields.issued_at === 'number' && Number.isSafeInteger(fields.issued_at)
      ? fields.issued_at
      : null
  return { userId, issuedAt }
}

/** Builds a signed_request as Meta does (for the emulator and tests). */
export function signRequest(payload: Record<string, unknown>, appSecret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
  const signature = createHmac('sha256', appSecret).update(body, 'ascii').digest('base64url')
  return `${signature}.${body}`
}
