/**
 * @module providers/oauth/pkce — Proof Key for Code Exchange (RFC 7636) with the S256 method:
 * a fresh verifier per authorization (32 random bytes, 43 base64url characters, within the
 * RFC's 43–128) and its challenge, `BASE64URL(SHA256(verifier))`. The verifier is kept,
 * encrypted, with the OAuth state and sent with the code exchange; only the challenge travels
 * through the browser.
 */
import { createHash, randomBytes } from 'node:crypto'

/** A new `code_verifier`. */
export function createCodeVerifier(): string {
  return randomBytes(32).toString('base64url')
}

/** The S256 `code_challenge` of a verifier. */
export function codeChallengeS256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}
