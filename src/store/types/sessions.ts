/**
 * @module store/types/sessions — server-side sign-in sessions, stored by the digest of their
 * cookie.
 */

export interface SessionRecord {
  /** SHA-256 of the session cookie value: the raw value is never stored. */
  readonly id_hash: string
  readonly user_id: string
  readonly created_at: number
  /** Absolute expiry. */
  readonly expires_at: number
  /** Idle expiry, pushed forward on use. */
  readonly idle_expires_at: number
}

/** Sign-in sessions (cookie digests with an absolute and an idle expiry). */
export interface SessionStore {
  createSession(record: SessionRecord): Promise<void>
  /** The session if it exists and neither expiry has passed at `now`. */
  findSession(idHash: string, now: number): Promise<SessionRecord | null>
  touchSession(idHash: string, idleExpiresAt: number): Promise<void>
  deleteSession(idHash: string): Promise<void>
  /** Deletes sessions past either expiry at `now`; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>
}
