/**
 * @module store/types/jobs — the claims and leases of the token-renewal and scheduled-sync jobs,
 * and the writes that finish their work.
 */
import type { AccountStatus, SocialAccountRecord } from './accounts.ts'

export interface RenewalClaim {
  readonly now: number
  /** Tokens expiring at or before this time are due. */
  readonly dueBefore: number
  /** Only tokens issued at or before this time (Meta: at least 24 hours old). */
  readonly issuedBefore: number
  /** The lease the claim takes. */
  readonly leaseUntil: number
  readonly limit: number
}

export interface SyncClaim {
  readonly now: number
  readonly leaseUntil: number
  readonly limit: number
}

/** Renewal and sync work: claims that lease accounts, and the writes that finish the work. */
export interface JobStore {
  /**
   * Atomically leases up to `limit` accounts whose token is due for renewal, unexpired, old
   * enough, and not leased by another worker; returns them. Two concurrent claims never return
   * the same account.
   */
  claimDueRenewals(claim: RenewalClaim): Promise<SocialAccountRecord[]>
  /**
   * Stores a renewed token and its expiry in one write, releasing the lease — only if the stored
   * token is still `previousToken` (compare-and-swap: nothing else replaced it meanwhile).
   */
  completeRenewal(input: {
    accountId: string
    previousToken: string
    encryptedToken: string
    expiresAt: number
    issuedAt: number
    now: number
  }): Promise<boolean>
  /**
   * Records a failed renewal: keeps the token, sets the status, and holds the account until
   * `retryAt` (backoff) before another renewal may claim it — only if the stored token is still
   * `previousToken` (compare-and-swap) and the account is not `revoked`. A renewal that failed
   * because the account was revoked (Meta's deauthorize nulls the token) or reconnected meanwhile
   * changes nothing: the newer state wins. Returns whether the failure was recorded.
   */
  failRenewal(input: {
    accountId: string
    /** The stored (encrypted) token the renewal tried, as claimed: the compare-and-swap key. */
    previousToken: string | null
    status: AccountStatus
    message: string
    retryAt: number
    now: number
  }): Promise<boolean>
  /** Marks OAuth accounts whose token has expired `reauth_required`; returns them. */
  markExpiredTokens(now: number, message: string): Promise<SocialAccountRecord[]>
  /** Marks `active` accounts whose token expires at or before `dueBefore` `refresh_due`. */
  markRefreshDue(dueBefore: number, now: number): Promise<number>

  /**
   * Atomically leases up to `limit` OAuth accounts due for a scheduled sync (`next_sync_at` passed,
   * unset, or further out than `MAX_SYNC_DELAY_MS` — stored before platform back-off was bounded —,
   * token present, not revoked or awaiting reconnection, lease free); returns them.
   */
  claimDueSyncs(claim: SyncClaim): Promise<SocialAccountRecord[]>
  /** Takes the sync lease of one account if nobody holds it; `false` when it is held. */
  acquireSyncLease(accountId: string, now: number, leaseUntil: number): Promise<boolean>
}
