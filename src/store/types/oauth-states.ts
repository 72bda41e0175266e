/**
 * @module store/types/oauth-states — the single-use `state` of an OAuth connection in progress.
 */

export type OAuthReturnMode = 'popup' | 'redirect'

export interface OAuthStateRecord {
  /** SHA-256 of the state value sent to the provider. */
  readonly state_hash: string
  readonly user_id: string
  /** The platform being connected (the callback must be that platform's). */
  readonly platform: string
  /** SHA-256 of the browser-binding cookie value. */
  readonly binding_hash: string
  readonly return_mode: OAuthReturnMode
  /**
   * The PKCE `code_verifier` (RFC 7636) of this authorization, Fernet-encrypted: the token
   * exchange sends it. `null` for a platform without PKCE.
   */
  readonly encrypted_code_verifier: string | null
  readonly created_at: number
  readonly expires_at: number
}

/** OAuth states, each consumed at most once. */
export interface OAuthStateStore {
  createOAuthState(record: OAuthStateRecord): Promise<void>
  /** Deletes and returns the state in one atomic step: of two concurrent calls, one gets it. */
  consumeOAuthState(stateHash: string): Promise<OAuthStateRecord | null>
  deleteExpiredOAuthStates(now: number): Promise<number>
}
