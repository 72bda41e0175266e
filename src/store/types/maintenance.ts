/**
 * @module store/types/maintenance — purge, the import from the original app, token re-encryption,
 * liveness and shutdown.
 */
import type { AccountStatus } from './accounts.ts'

/** An account record from the original app (Firestore `user_social_accounts`), validated. */
export interface ImportedAccountInput {
  readonly user_id: string
  readonly platform: string
  readonly account_type: 'oauth' | 'public'
  readonly username: string
  readonly display_name: string
  /** The platform's account id (the original app's `instagram_user_id`). */
  readonly platform_user_id: string | null
  /** The original app's Fernet token of a bare access token (stored as format 1). */
  readonly encrypted_access_token: string | null
  readonly token_expires_at: number | null
  readonly token_issued_at: number | null
  readonly is_active: boolean
  readonly connected_at: number
  readonly last_sync: number | null
  readonly posts_count: number | null
  readonly status: AccountStatus
  readonly status_message: string | null
  readonly profile_url: string
  /** A digest of the source record: equal digests mean "unchanged at the source". */
  readonly import_fingerprint: string
  readonly now: number
}

export type ImportOutcome = 'created' | 'updated' | 'unchanged'

export interface PurgeInput {
  readonly now: number
  /** Revoked accounts (and their media) not reconnected since this time are deleted. */
  readonly revokedBefore: number
  /** Delivered or failed webhooks older than this are deleted. */
  readonly webhooksBefore: number
  /** Budget rows neither blocked nor updated since this time are deleted. */
  readonly budgetsBefore: number
  /** Known devices not seen since this time are forgotten. */
  readonly devicesBefore: number
}

export interface PurgeReport {
  readonly revoked_accounts: number
  readonly webhook_deliveries: number
  readonly api_budgets: number
  readonly known_devices: number
}

/** Whole-database work: purge, import, key rotation, liveness and shutdown. */
export interface MaintenanceStore {
  /**
   * Creates or updates an account imported from the original app, matched like a connection (the
   * same user and Instagram account, or the same public profile), creating its user when missing
   * (an externally authenticated user: no password, no sign-in). A record whose source fingerprint
   * was imported before is `unchanged`. An update never replaces a token with one that expires
   * sooner (the service may have renewed it) nor newer sync results with older ones. With `dryRun`
   * nothing is written; the outcome says what would happen.
   */
  importAccount(input: ImportedAccountInput, dryRun: boolean): Promise<ImportOutcome>

  /**
   * Deletes what nobody needs any more: long-revoked accounts (with their media), old finished
   * webhook deliveries and idle budget rows. (Expired sessions and states have their own calls.)
   */
  purge(input: PurgeInput): Promise<PurgeReport>

  /** Stored tokens in id order, `limit` at a time after `afterId` (for re-encryption). */
  listStoredTokens(input: {
    afterId: string | null
    limit: number
  }): Promise<{ id: string; encrypted_credentials: string }[]>
  /** Replaces sealed credentials with their re-encryption, only if still `previousToken`. */
  replaceToken(input: {
    accountId: string
    previousToken: string
    encryptedToken: string
    now: number
  }): Promise<boolean>

  /** Cheap liveness check of the backing database. */
  ping(): Promise<void>
  close(): Promise<void>
}
