/**
 * @module providers/emulator-core/cdn — signed media URLs with an expiry, as platform CDNs hand
 * them out: the expiry (hex seconds) and a truncated HMAC of `resource:expiry` travel in the
 * query. The expiry is the start of the current UTC day plus the TTL, so a URL stays the same
 * within a day (caches keep it) and expires on the clock the emulator runs on.
 *
 * The query parameter names and the signature's prefix are the platform's (Meta: `oe`, `oh=00_…`).
 */
import { sameSignature, sign } from './signing.ts'

export type CdnVerdict = 'ok' | 'expired' | 'bad'

const DAY_MS = 86_400_000

/** The expiry of a URL signed at `now`: hex seconds, upper case. */
export function cdnExpiry(now: number, ttlMs: number): string {
  const expires = Math.floor((Math.floor(now / DAY_MS) * DAY_MS + ttlMs) / 1000)
  return expires.toString(16).toUpperCase()
}

/** The signature of `resource` until `expiry`: `prefix` and 32 characters of HMAC. */
export function cdnSignature(
  secret: string,
  resource: string,
  expiry: string,
  prefix = '',
): string {
  return `${prefix}${sign(secret, `${resource}:${expiry}`).slice(0, 32)}`
}

/** `bad` for a malformed expiry or a wrong signature, `expired` once the expiry has come. */
export function verifyCdn(
  secret: string,
  resource: string,
  expiry: string,
  signature: string,
  now: number,
  prefix = '',
): CdnVerdict {
  const expected = cdnSignature(secret, resource, expiry, prefix)
  if (!/^[0-9A-F]{1,12}$/.test(expiry) || !sameSignature(expected, signature)) return 'bad'
  return parseInt(expiry, 16) * 1000 <= now ? 'expired' : 'ok'
}
