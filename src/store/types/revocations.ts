/**
 * @module store/types/revocations — grants a disconnect could not revoke at the platform, kept
 * (sealed) to be revoked in the background (migration 0013).
 */
import type { SyncClaim } from './jobs.ts'

/** What a disconnect leaves to revoke later: the grant's sealed credentials (format 2). */
export interface PendingRevocationInput {
  readonly id: string
  readonly platform: string
  readonly encrypted_credentials: string
  /** The first retry. */
  readonly next_attempt_at: number
  /** Given up after this (the grant ends by itself, or enough time has passed). */
  readonly expires_at: number
  readonly last_error: string | null
  readonly now: number
}

export interface PendingRevocationRecord {
  readonly id: string
  readonly platform: string
  readonly encrypted_credentials: string
  readonly attempts: number
  readonly next_attempt_at: number
  readonly lease_until: number | null
  readonly lease_owner: string | null
  readonly last_error: string | null
  readonly expires_at: number
  readonly created_at: number
}

/** Revocations to retry. */
export interface RevocationStore {
  /**
   * Deletes the user's account and, in the same transaction, queues `revocation` (a crash
   * between the two loses neither). `false` (and nothing queued) when there was no such account.
   */
  deleteAccountRevokingLater(
    userId: string,
    accountId: string,
    revocation: PendingRevocationInput,
  ): Promise<boolean>
  /** Queues a revocation on its own (the account is deleted by a later statement). */
  queueRevocation(revocation: PendingRevocationInput): Promise<void>
  /**
   * Leases up to `limit` due revocations (not expired) to `claim.owner`; concurrent claims never
   * return the same one (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
   */
  claimDueRevocations(claim: SyncClaim): Promise<PendingRevocationRecord[]>
  /** Removes a revocation that is done (confirmed, moot, or given up), if `owner` holds it. */
  finishRevocation(id: string, owner: string): Promise<boolean>
  /** Schedules another attempt and releases the lease, if `owner` holds it. */
  retryRevocation(input: {
    id: string
    owner: string
    attempts: number
    nextAttemptAt: number
    lastError: string
  }): Promise<boolean>
  /** Deletes revocations past their `expires_at`; returns how many. */
  purgeExpiredRevocations(now: number): Promise<number>
}
