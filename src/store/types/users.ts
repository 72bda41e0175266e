/**
 * @module store/types/users — password sign-up users and users signed in elsewhere (Firebase).
 */

export interface UserRecord {
  readonly id: string
  readonly email: string
  readonly password_hash: string
  readonly created_at: number
}

/** The people who own galleries. */
export interface UserStore {
  createUser(input: { email: string; password_hash: string; now: number }): Promise<UserRecord>
  findUserByEmail(email: string): Promise<UserRecord | null>
  findUserById(id: string): Promise<UserRecord | null>
  /**
   * Makes sure a user signed in elsewhere (Firebase) exists under that id: no password, a
   * reserved-domain placeholder e-mail. Returns whether it was created.
   */
  ensureExternalUser(id: string, now: number): Promise<boolean>
}
