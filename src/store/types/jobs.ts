/**
 * @module store/types/jobs — the claims and leases of the token-renewal and scheduled-sync jobs,
 * and the writes that finish their work.
 *
 * Every lease names its owner, `<instance id>:<run id>` (`src/store/leases.ts`). A claim writes
 * it; the holder renews the lease on a timer; every write made under the lease is conditional on
 * still owning it and says whether it applied, so a run that lost its lease (stalled past it, and
 * another took over) writes nothing more. The job state lives on the account row for now (the
 * `*_lease_until` / `*_lease_owner` columns); moving it into a table of its own is a later step.
 */
import type {
  AccountPatch,
  AccountStatus,
  CredentialColumns,
  SocialAccountRecord,
} from './accounts.ts'
import type { EventMaker } from './outbox.ts'

/** A lease held on one account: the account and the owner that claimed it. */
export interface HeldLease {
  readonly accountId: string
  /** `<instance id>:<run id>`. */
  readonly owner: string
}

/** The leases on an account row: the token renewal's and the sync's. */
export type AccountLeaseKind = 'renewal' | 'sync'

/** What `releaseOwned` released. */
export interface ReleasedLeases {
  readonly syncs: number
  readonly renewals: number
  readonly webhooks: number
}

export interface RenewalClaim {
  /** Only accounts of this platform (each platform renews by its own policy); default: any. */
  readonly platform?: string
  readonly now: number
  /** Tokens expiring at or before this time are due. */
  readonly dueBefore: number
  /** Only tokens issued at or before this time (Meta: at least 24 hours old). */
  readonly issuedBefore: number
  /** The lease the claim takes. */
  readonly leaseUntil: number
  readonly limit: number
  /** Who takes it (`<instance id>:<run id>`); default: a fresh owner, read it from the records. */
  readonly owner?: string
}

/** What `syncLoad` reports. */
export interface SyncLoad {
  readonly accounts: number
  /** The sum of their `posts_count` (unknown counts as 0). */
  readonly posts: number
  /** Of them, due now (or never scheduled). */
  readonly due: number
}

export interface SyncClaim {
  readonly now: number
  readonly leaseUntil: number
  readonly limit: number
  /** Who takes it (`<instance id>:<run id>`); default: a fresh owner, read it from the records. */
  readonly owner?: string
}

/** Renewal and sync work: claims that lease accounts, and the writes that finish the work. */
export interface JobStore {
  /**
   * Atomically leases up to `limit` accounts whose connection is due for renewal (runs out at or
   * before `dueBefore`), still alive, whose token is old
   * enough, and not leased by another worker, to `claim.owner`; returns them. Two concurrent
   * claims never return the same account, and (PostgreSQL: `FOR UPDATE SKIP LOCKED`) neither
   * comes back empty while due accounts are left.
   */
  claimDueRenewals(claim: RenewalClaim): Promise<SocialAccountRecord[]>
  /**
   * Stores renewed credentials in one write (with the next version) — only if the stored
   * credentials are still at `expectedVersion` (compare-and-swap: nothing replaced them meanwhile,
   * no reconnection, no revocation). The lease is not required: a renewal that stalled past it
   * holds the only tokens a rotating platform still honours. Heals `refresh_due`, `degraded`, and
   * a `reauth_required` that a renewal failure set since the last renewal. Frees the renewal
   * lease when it is `owner`'s, a back-off hold or lapsed; another owner's live lease stays.
   */
  completeRenewal(input: {
    accountId: string
    owner?: string
    /** The `credentials_version` the renewal read. */
    expectedVersion: number
    credentials: CredentialColumns
    now: number
  }): Promise<boolean>
  /**
   * Records a failed renewal: keeps the credentials, sets the status, and holds the account until
   * `retryAt` (backoff) before another renewal may claim it — only if the stored credentials are
   * still at `expectedVersion` (compare-and-swap) and the account is not `revoked`. A renewal that
   * failed because the account was revoked (a deauthorize deletes the credentials) or reconnected
   * meanwhile changes nothing: the newer state wins. With `owner`, only while the renewal lease
   * is still this owner's. The back-off hold has no owner. Returns whether it was recorded.
   */
  failRenewal(input: {
    accountId: string
    owner?: string
    /** The `credentials_version` the renewal read: the compare-and-swap key. */
    expectedVersion: number
    status: AccountStatus
    message: string
    retryAt: number
    now: number
    /** With webhooks on: `account.reauth_required` when this write made it so, atomically. */
    events?: EventMaker | null
  }): Promise<boolean>
  /**
   * Marks OAuth accounts whose connection has run out (`credentials_expire_at` passed: the access
   * token of a platform that extends it, the refresh token of one that refreshes)
   * `reauth_required`; returns them.
   */
  markExpiredTokens(
    now: number,
    message: string,
    /** With webhooks on: one `account.reauth_required` per account marked, atomically. */
    events?: EventMaker | null,
    /** Only accounts of this platform (the message names it); default: any. */
    platform?: string,
  ): Promise<SocialAccountRecord[]>
  /** Marks `active` accounts whose connection runs out at or before `dueBefore` `refresh_due`. */
  markRefreshDue(dueBefore: number, now: number): Promise<number>

  /**
   * Atomically leases up to `limit` OAuth accounts due for a scheduled sync (`next_sync_at` passed,
   * unset, or further out than `MAX_SYNC_DELAY_MS` — stored before platform back-off was bounded —,
   * token present, not revoked or awaiting reconnection, lease free); returns them.
   */
  claimDueSyncs(claim: SyncClaim): Promise<SocialAccountRecord[]>
  /**
   * What syncing `platform` weighs at `now`: its OAuth accounts the scheduler syncs (token
   * present, not revoked or awaiting reconnection, not run out), the posts they count, and how
   * many of them are due. Plans the intervals of a platform whose calls share a daily quota.
   */
  syncLoad(platform: string, now: number): Promise<SyncLoad>
  /**
   * Takes the sync lease of one account for `owner` (default: none) if nobody holds it; `false`
   * when it is held.
   */
  acquireSyncLease(
    accountId: string,
    now: number,
    leaseUntil: number,
    owner?: string,
  ): Promise<boolean>

  /**
   * Takes the `kind` lease of one account for `owner` if nobody holds it (a renewal's back-off
   * counts as held); `false` when it is held. The refresher takes the renewal lease this way
   * before refreshing credentials ahead of a call.
   */
  acquireAccountLease(
    kind: AccountLeaseKind,
    accountId: string,
    now: number,
    leaseUntil: number,
    owner: string,
  ): Promise<boolean>
  /** Frees the `kind` lease if `lease.owner` still holds it; returns whether it did. */
  releaseAccountLease(kind: AccountLeaseKind, lease: HeldLease): Promise<boolean>
  /**
   * The heartbeat: extends the lease to `leaseUntil` if `lease.owner` still holds it; `false` when
   * someone else does (or nobody), and then nothing is written.
   */
  renewAccountLease(kind: AccountLeaseKind, lease: HeldLease, leaseUntil: number): Promise<boolean>
  /**
   * A sync run's progress, under its lease: extends the lease and writes the run id and paging
   * cursor given — only if `lease.owner` still holds the sync lease. Returns whether it applied.
   */
  recordSyncProgress(
    lease: HeldLease,
    progress: {
      leaseUntil: number
      sync_run_id?: string | null
      sync_cursor?: string | null
      now: number
    },
  ): Promise<boolean>
  /**
   * A sync's outcome: applies `patch` (as `updateAccount` does: a revocation stands) and clears
   * the sync lease — only if `lease.owner` still holds it; a run that lost its lease neither
   * writes its outcome nor clears the new holder's lease. Returns whether it applied.
   */
  releaseSyncLease(
    lease: HeldLease,
    patch: Omit<AccountPatch, 'sync_lease_until'>,
    /** With webhooks on: `account.reauth_required` when this write made it so, atomically. */
    events?: EventMaker | null,
  ): Promise<boolean>
  /**
   * Releases every lease (sync, renewal, webhook delivery) whose owner is of this instance
   * (`<instanceId>:…`): what a stopping instance does last, so nobody waits for them to expire.
   * A renewal's back-off (no owner) stays. @throws when `instanceId` is not an instance id.
   */
  releaseOwned(instanceId: string): Promise<ReleasedLeases>
}
