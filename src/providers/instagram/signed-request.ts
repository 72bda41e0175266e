/**
 * @module providers/instagram/signed-request — Meta's `signed_request` (deauthorize and
 * data-deletion callbacks): `base64url(signature) "." base64url(payload)`.
 *
 * The HMAC-SHA256 is computed over the payload segment exactly as received (padding included),
 * compared in constant time, and only then is the payload decoded. `algorithm` must be
 * `HMAC-SHA256` and `user_id` a string (ids exceed 2^53). Every rejection up to there is one
 * generic error: it says nothing about which check failed.
 *
 * A genuine request is then refused when it is not fresh (red team F6): `issued_at` must be an
 * integer no older than `SIGNED_REQUEST_MAX_AGE_SECONDS` and no more than
 * `SIGNED_REQUEST_MAX_FUTURE_SECONDS` ahead of our clock, so a captured request cannot be
 * replayed later (after the user reconnected, it would revoke or delete the new connection).
 * These refusals say plainly what was wrong: only a holder of the secret (or of a genuine
 * request) gets that far, and the answer never repeats the value.
 *
 * Both segments must be canonical base64url (red team F10): the url-safe alphabet, padding either
 * absent or exact, and the unused low bits of the last character zero. Otherwise four spellings
 * of each signature verified. Exact padding stays accepted: the PHP SDK's `make()` pads both
 * segments (security.md §6) and a public implementation reports Meta's data-deletion signature
 * arriving padded; refusing it could refuse every genuine callback.
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

/**
 * How old a `signed_request` may be. Meta signs it when it sends the callback and documents no
 * retry window, so the bound is the usual one for signed webhooks (Stripe's and Slack's default
 * tolerance is 5 minutes): room for delivery and clock drift, short for a replay. A refused
 * callback loses little: the token of a deauthorized app stops working anyway (the next sync
 * marks it "reconnect"), and a person can repeat a data-deletion request or delete in the app.
 */
export const SIGNED_REQUEST_MAX_AGE_SECONDS = 5 * 60
/** How far ahead of our clock `issued_at` may be (clock drift between Meta and this server). */
export const SIGNED_REQUEST_MAX_FUTURE_SECONDS = 60

export interface SignedRequestPayload {
  readonly userId: string
  /** Unix seconds, as signed. */
  readonly issuedAt: number
}

function invalid(): GalleryError {
  return new GalleryError('ERR_VALIDATION', 'Invalid signed_request')
}

/**
 * The bytes of a canonical base64url segment, or `null`: the strict decoder (alphabet, exact
 * padding), and then one spelling per value — Node writes the unused low bits of the last
 * character as zero, so re-encoding must give back the segment (without its padding).
 */
function decodeCanonical(segment: string): Buffer | null {
  const bytes = decodeBase64UrlStrict(segment)
  if (bytes === null || bytes.toString('base64url') !== segment.replace(/=+$/, '')) return null
  return bytes
}

/**
 * Verifies a `signed_request` at `now` (milliseconds, the app's clock).
 * @throws ERR_VALIDATION: "Invalid signed_request", or what made a genuine one unacceptable
 */
export function verifySignedRequest(
  signedRequest: unknown,
  appSecret: string,
  now: number,
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
  const signature = decodeCanonical(sigPart)
  if (signature === null || signature.length !== 32) throw invalid()
  const expected = createHmac('sha256', appSecret).update(payloadPart, 'ascii').digest()
  if (!timingSafeEqual(signature, expected)) throw invalid()
  const payloadBytes = decodeCanonical(payloadPart)
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

  const issuedAt = fields.issued_at
  if (typeof issuedAt !== 'number' || !Number.isSafeInteger(issuedAt)) {
    throw new GalleryError(
      'ERR_VALIDATION',
      'signed_request has no issued_at time (a whole number of seconds)',
    )
  }
  const nowSeconds = now / 1000
  if (issuedAt < nowSeconds - SIGNED_REQUEST_MAX_AGE_SECONDS) {
    throw new GalleryError(
      'ERR_VALIDATION',
      `signed_request is too old (issued more than ${SIGNED_REQUEST_MAX_AGE_SECONDS / 60} minutes ago)`,
    )
  }
  if (issuedAt > nowSeconds + SIGNED_REQUEST_MAX_FUTURE_SECONDS) {
    throw new GalleryError(
      'ERR_VALIDATION',
      `signed_request is dated in the future (more than ${SIGNED_REQUEST_MAX_FUTURE_SECONDS} seconds ahead of this server's clock)`,
    )
  }
  return { userId, issuedAt }
}

/** Builds a signed_request as Meta does (for the emulator and tests): unpadded base64url. */
export function signRequest(payload: Record<string, unknown>, appSecret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
  const signature = createHmac('sha256', appSecret).update(body, 'ascii').digest('base64url')
  return `${signature}.${body}`
}
