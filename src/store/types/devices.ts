/**
 * @module store/types/devices — the browsers each user signed in from before (they skip the per-
 * account sign-in limit, so a password guesser cannot lock the owner out).
 */

/** Known devices, by the digest of their device cookie. */
export interface DeviceStore {
  /**
   * Records that `userId` signed in from the browser holding a device cookie with this digest
   * (SHA-256; the cookie value is never stored). Seen again: `last_seen_at` moves. A digest
   * already recorded for another user is left with that user.
   */
  rememberDevice(input: { digest: string; user_id: string; now: number }): Promise<void>

  /** Whether this device digest belongs to `userId`. */
  isKnownDevice(digest: string, userId: string): Promise<boolean>
}
