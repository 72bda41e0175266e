/**
 * @module providers/emulator-core/tokens — signed stateless tokens: `<prefix><claims>.<signature>`,
 * the claims JSON in base64url, signed with HMAC-SHA256 (`signing.ts`). Tokens are signed, not
 * stored, so that tokens kept by the app survive an emulator restart (with a stable secret).
 *
 * The core checks the shape and the signature and hands back the parsed claims object; the
 * platform checks the fields it put there. Expiry is a claim `e` (ms) that each platform reports
 * in its own words (`isExpired`).
 */
import { randomBytes } from 'node:crypto'
import { sameSignature, sign } from './signing.ts'

/** The claim every signed token carries: when it expires, ms. */
export interface ExpiringClaims {
  readonly e: number
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A random nonce for a claim set (so two tokens issued in the same millisecond differ). */
export function tokenNonce(): string {
  return randomBytes(9).toString('base64url')
}

/** A token carrying `claims`, signed with `secret`. */
export function signToken(secret: string, prefix: string, claims: object): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url')
  return `${prefix}${body}.${sign(secret, body)}`
}

/**
 * The claims object of a well-formed, correctly signed token (expiry not checked), else `null`.
 * The signature is compared in constant time; only a JSON object counts as claims.
 */
export function verifyToken(
  secret: string,
  prefix: string,
  token: string,
): Record<string, unknown> | null {
  const match = new RegExp(`^${escapeRegExp(prefix)}([A-Za-z0-9_-]+)\\.([A-Za-z0-9_-]{43})$`).exec(
    token,
  )
  if (match === null) return null
  const [, body = '', sig = ''] = match
  if (!sameSignature(sign(secret, body), sig)) return null
  try {
    const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
    if (typeof value !== 'object' || value === null) return null
    return value as Record<string, unknown>
  } catch {
    return null
  }
}

/** Whether the claims' expiry `e` has come (a token expiring now is expired). */
export function isExpired(claims: ExpiringClaims, now: number): boolean {
  return claims.e <= now
}
