/**
 * @module store/types/oauth-states — the single-use `state` of an OAuth connection in progress.
 */

export type OAuthReturnMode = 'popup' | 'redirect'

export interface OAuthStateRecord {
  /** SHA-256 of the state value sent to the provider. */
  readonly state_hash: string
  readonly user_id: string
  readonly provider: string
  /** SHA-256 of the browser-binding cookie value. */
  readonly binding_hash: string
  readonly return_mode: OAuthReturnMode
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
