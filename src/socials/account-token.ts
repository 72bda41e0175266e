/**
 * @module socials/account-token — reading an account's stored platform token, the one place that
 * decides when a token can no longer be used and what the person is told to do about it.
 */
import { GalleryError } from '../errors.ts'
import type { FernetKeyRing } from '../crypto/fernet.ts'
import type { SocialAccountRecord } from '../store/types.ts'

export const TOKEN_EXPIRED_MESSAGE = 'The Instagram token has expired; reconnect the account'

/**
 * The account's token, decrypted only for the call about to be made, with the stored ciphertext
 * (the compare-and-swap key of a renewal).
 * @throws ERR_REAUTH_REQUIRED when there is no token, it has expired at `now`, or no configured
 *   key decrypts it.
 */
export function readAccountToken(
  vault: FernetKeyRing,
  account: SocialAccountRecord,
  now: number,
): { plaintext: string; encrypted: string } {
  const encrypted = account.encrypted_access_token
  if (encrypted === null) {
    throw new GalleryError(
      'ERR_REAUTH_REQUIRED',
      'This account has no Instagram token; reconnect it',
    )
  }
  if (account.token_expires_at !== null && account.token_expires_at <= now) {
    throw new GalleryError('ERR_REAUTH_REQUIRED', TOKEN_EXPIRED_MESSAGE)
  }
  try {
    return { plaintext: vault.decrypt(encrypted), encrypted }
  } catch {
    throw new GalleryError(
      'ERR_REAUTH_REQUIRED',
      'The stored Instagram token cannot be decrypted with the configured keys; reconnect the account',
    )
  }
}
