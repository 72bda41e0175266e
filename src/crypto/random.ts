/**
 * @module crypto/random — unguessable values and their digests. Raw secrets (session ids, state
 * values, binding cookies) are never stored: only their SHA-256 digests are.
 */
import { createHash, randomBytes } from 'node:crypto'

/** 32 random bytes (256 bits, above RFC 6749 §10.10's 2^-160 guideline), base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}
