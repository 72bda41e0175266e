/**
 * @module providers/emulator-core/signing — the one HMAC an emulator signs with (SHA-256,
 * base64url), and a constant-time comparison of two signatures.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

/** HMAC-SHA256 of `payload` under `secret`, base64url (43 characters). */
export function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url')
}

/** Whether two strings are equal, compared in constant time once their lengths match. */
export function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}
