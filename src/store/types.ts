/**
 * @module store/types — the one storage interface every backend implements.
 *
 * Conventions, checked by the shared conformance suite (test/store/store-conformance.ts):
 * - Times are Unix epoch milliseconds (numbers). Ids are opaque strings made by the store.
 * - A lookup that finds nothing returns `null`; nothing is swallowed: store failures throw.
 * - A uniqueness violation throws `GalleryError('ERR_CONFLICT')`.
 * - Every multi-row change happens in one transaction.
 * - Deleting an account deletes its media, and deleting an album its children, through the
 *   schema's `ON DELETE CASCADE` foreign keys (which every backend must declare and enforce).
 * - Records keep the original app's snake_case field names (`user_social_accounts`).
 */

export interface UserRecord {
  readonly id: string
  readonly email: string
  readonly password_hash: string
  readonly created_at: number
}

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

/**
 * Connection health, a state machine (see `socials/account-health.ts`): `active` → `refresh_due`
 * (token inside the renewal margin) → `active` when renewed; `degraded` after transient failures
 * (retried with backoff); `rate_limited` while Instagram's budget is exhausted; `reauth_required`
 * on code 190, an expired token or an impossible renewal; `revoked` after a deauthorize; `error`
 * for failures a retry cannot fix (the message says which).
 */
export const ACCOUNT_STATUSES = [
  'active',
  'refresh_due',
  'degraded',
  'rate_limited',
  'reauth_required',
  'revoked',
  'error',
] as const
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number]

/** A `user_social_accounts` record (the token stays encrypted; the API never returns it). */
export interface SocialAccountRecord {
  readonly id: string
  readonly user_id: string
  readonly platform: string
  /** `oauth` for connected accounts, `public` for manual profile links. */
  readonly account_type: 'oauth' | 'public'
  readonly username: string
  readonly display_name: string
  /** Instagram professional account id (`user_id` of `/me`), a string: ids exceed 2^53. */
  readonly instagram_user_id: string | null
  /** App-scoped id (`id` of `/me`, `user_id` of the code exchange). */
  readonly instagram_scoped_id: string | null
  /** `BUSINESS` or `MEDIA_CREATOR` as Instagram reports it. */
  readonly instagram_account_type: string | null
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
  readonly profile_picture_url: string | null
  readonly updated_at: number
  /** A renewal in progress holds the account until this time (cross-process single flight). */
  readonly renew_lease_until: number | null
  /** Consecutive failed renewals (reset by a success). */
  readonly renewal_failures: number
  /** When the scheduler syncs this account next (`null`: as soon as possible). */
  readonly next_sync_at: number | null
  /** A sync in progress holds the account until this time (cross-process single flight). */
  readonly sync_lease_until: number | null
  /** Consecutive failed syncs (reset by a success), for backoff. */
  readonly sync_failures: number
  /** When the last complete full reconciliation finished. */
  readonly last_full_sync: number | null
  /** The run id of an interrupted full reconciliation that the next sync resumes. */
  readonly sync_run_id: string | null
  /** Provider paging cursor after the last page stored by that run (never holds a token). */
  readonly sync_cursor: string | null
  /** The earliest expiry among the account's stored media URLs, when the provider tells it. */
  readonly media_urls_expire_at: number | null
}

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

export interface OAuthAccountInput {
  readonly user_id: string
  readonly platform: string
  readonly username: string
  readonly instagram_user_id: string
  readonly instagram_scoped_id: string
  readonly instagram_account_type: string
  readonly encrypted_access_token: string
  readonly token_expires_at: number
  readonly token_issued_at: number
  readonly posts_count: number | null
  readonly profile_url: string
  readonly profile_picture_url: string | null
  readonly now: number
}

/** An account record from the original app (Firestore `user_social_accounts`), validated. */
export interface ImportedAccountInput {
  readonly user_id: string
  readonly platform: string
  readonly account_type: 'oauth' | 'public'
  readonly username: string
  readonly display_name: string
  readonly instagram_user_id: string | null
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

export interface PublicAccountInput {
  readonly user_id: string
  readonly platform: string
  readonly username: string
  readonly profile_url: string
  readonly now: number
  /** The user may have at most this many public profile links (checked in the same transaction). */
  readonly max_per_user: number
}

/** A keyset page of a user's accounts (ordered by `connected_at`, then `id`). */
export interface AccountPage {
  readonly limit: number
  readonly after?: { readonly connected_at: number; readonly id: string }
}

export type AccountPatch = Partial<
  Pick<
    SocialAccountRecord,
    | 'status'
    | 'status_message'
    | 'last_sync'
    | 'posts_count'
    | 'is_active'
    | 'next_sync_at'
    | 'sync_lease_until'
    | 'sync_failures'
    | 'last_full_sync'
    | 'sync_run_id'
    | 'sync_cursor'
    | 'media_urls_expire_at'
  >
> & { readonly now: number }

export interface SyncClaim {
  readonly now: number
  readonly leaseUntil: number
  readonly limit: number
}

/** A change a page of media made: what `upsertMediaPage` reports. */
export interface MediaPageResult {
  readonly added: number
  /** Items whose content (caption, type, permalink, children, ...) changed. */
  readonly updated: number
  /** Items whose only change was fresh media URLs (signed CDN URLs rotate): not an edit. */
  readonly refreshed: number
  /** Items that were already stored before this page (changed or not). */
  readonly known: number
}

/** A sliding-window API budget for one scope (the app, or one account's token). */
export interface ApiCallReservation {
  readonly scope: string
  /** Scopes whose block also stops this call (e.g. the app-wide one). */
  readonly blockedBy: readonly string[]
  /** Calls allowed per window in `scope`; `null` means no cap (only blocks apply). */
  readonly cap: number | null
  readonly windowMs: number
  readonly now: number
}

export type ApiCallVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'blocked' | 'cap'; readonly retryAt: number }

export interface ApiBudgetRecord {
  readonly scope: string
  readonly usage_percent: number | null
  readonly usage_at: number | null
  readonly blocked_until: number | null
}

export type WebhookStatus = 'pending' | 'delivered' | 'failed'

export interface WebhookDeliveryRecord {
  readonly id: string
  readonly event_type: string
  /** The exact JSON body that is signed and sent. */
  readonly payload: string
  readonly status: WebhookStatus
  readonly attempts: number
  readonly next_attempt_at: number
  readonly lease_until: number | null
  readonly last_error: string | null
  readonly created_at: number
  readonly updated_at: number
}

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

export type MediaType = 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM'

/** Media as read from the provider, ready to store. */
export interface MediaInput {
  readonly platform_media_id: string
  readonly media_type: MediaType
  readonly media_product_type: string | null
  readonly media_url: string | null
  readonly thumbnail_url: string | null
  readonly permalink: string | null
  readonly caption: string | null
  readonly timestamp: number
  /** When the media URLs stop working, if the provider says (Instagram's `oe` parameter). */
  readonly url_expires_at: number | null
  readonly children: readonly Omit<MediaInput, 'children'>[]
}

export interface MediaRecord extends Omit<MediaInput, 'children'> {
  readonly id: string
  readonly account_id: string
  readonly user_id: string
  /** The album's record id, for album children; `null` for top-level media. */
  readonly parent_id: string | null
  /** Order within the album. */
  readonly position: number
  readonly updated_at: number
}

export interface MediaWithChildren extends MediaRecord {
  readonly children: readonly MediaRecord[]
}

export interface MediaCursor {
  readonly timestamp: number
  readonly id: string
}

export interface MediaQuery {
  readonly user_id: string
  readonly account_id?: string
  readonly media_type?: MediaType
  readonly limit: number
  /** Return items strictly after this position in newest-first order. */
  readonly after?: MediaCursor
}

export interface DataDeletionRecord {
  readonly confirmation_code: string
  readonly instagram_user_id: string
  readonly status: 'completed'
  readonly deleted_accounts: number
  readonly requested_at: number
  readonly completed_at: number
}

export interface Store {
  createUser(input: { email: string; password_hash: string; now: number }): Promise<UserRecord>
  findUserByEmail(email: string): Promise<UserRecord | null>
  findUserById(id: string): Promise<UserRecord | null>
  /**
   * Makes sure a user signed in elsewhere (Firebase) exists under that id: no password, a
   * reserved-domain placeholder e-mail. Returns whether it was created.
   */
  ensureExternalUser(id: string, now: number): Promise<boolean>

  createSession(record: SessionRecord): Promise<void>
  /** The session if it exists and neither expiry has passed at `now`. */
  findSession(idHash: string, now: number): Promise<SessionRecord | null>
  touchSession(idHash: string, idleExpiresAt: number): Promise<void>
  deleteSession(idHash: string): Promise<void>
  /** Deletes sessions past either expiry at `now`; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>

  /**
   * Records that `userId` signed in from the browser holding a device cookie with this digest
   * (SHA-256; the cookie value is never stored). Seen again: `last_seen_at` moves. A digest
   * already recorded for another user is left with that user.
   */
  rememberDevice(input: { digest: string; user_id: string; now: number }): Promise<void>
  /**
   * A number that changes, in the same transaction, with any change to the user's media or
   * accounts (database triggers): a media page rendered at a version is current while it stays.
   * 0 for an unknown user.
   */
  getGalleryVersion(userId: string): Promise<number>
  /** Whether this device digest belongs to `userId`. */
  isKnownDevice(digest: string, userId: string): Promise<boolean>

  createOAuthState(record: OAuthStateRecord): Promise<void>
  /** Deletes and returns the state in one atomic step: of two concurrent calls, one gets it. */
  consumeOAuthState(stateHash: string): Promise<OAuthStateRecord | null>
  deleteExpiredOAuthStates(now: number): Promise<number>

  /**
   * The user's accounts, oldest connection first. With `page`, at most `limit` of them after the
   * keyset `after` (the last one of the previous page); without it, all of them.
   */
  listAccounts(userId: string, page?: AccountPage): Promise<SocialAccountRecord[]>
  /** The account if it belongs to `userId`; another user's account is `null`. */
  getAccount(userId: string, accountId: string): Promise<SocialAccountRecord | null>
  /** Creates, or updates the same user's record for the same Instagram account (no duplicate). */
  upsertOAuthAccount(
    input: OAuthAccountInput,
  ): Promise<{ account: SocialAccountRecord; created: boolean }>
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
   * @throws ERR_CONFLICT when the user already lists that public profile, or already has
   * `max_per_user` public profile links.
   */
  createPublicAccount(input: PublicAccountInput): Promise<SocialAccountRecord>
  /** Applies the patch; a `revoked` account keeps its status and message (only a reconnect clears it). */
  updateAccount(accountId: string, patch: AccountPatch): Promise<void>
  /**
   * After a successful sync: `refresh_due` if the token *as stored now* expires at or before
   * `dueBefore`, else `active` — unless the account meanwhile became `revoked` or
   * `reauth_required`, or is `degraded` by failing renewals (those states stand).
   */
  markHealthy(accountId: string, dueBefore: number, now: number): Promise<void>
  /** Deletes the account, its token and all its media in one transaction. */
  deleteAccount(userId: string, accountId: string): Promise<boolean>

  /**
   * Upserts one page of top-level media (and their album children) in one transaction, marking
   * them seen by `syncId`. Unchanged items are not rewritten.
   */
  upsertMediaPage(
    account: { id: string; user_id: string },
    syncId: string,
    items: readonly MediaInput[],
    now: number,
  ): Promise<MediaPageResult>
  /** Deletes the account's top-level media (and children) not seen by `syncId`. */
  removeMediaNotSeen(accountId: string, syncId: string): Promise<number>
  /** How many top-level media the account has and when its earliest media URL expires. */
  summarizeMedia(accountId: string): Promise<{ count: number; urlsExpireAt: number | null }>
  listMedia(query: MediaQuery): Promise<MediaWithChildren[]>

  /**
   * Marks every OAuth account connected to this Instagram user (matched on the professional or
   * the app-scoped id) `revoked` and deletes its token. Returns the accounts changed (none when
   * they were already revoked: a replayed callback changes nothing).
   */
  revokeInstagramAccounts(
    instagramId: string,
    message: string,
    now: number,
  ): Promise<SocialAccountRecord[]>
  /** Deletes every account (and its media) of this Instagram user, for all users. */
  deleteInstagramUserData(instagramId: string): Promise<number>
  /** Deletes all of a user's social accounts and media. Returns how many accounts. */
  deleteUserSocialData(userId: string): Promise<number>
  /**
   * Records a completed data-deletion request; a repeated request for the same Instagram user
   * keeps its first confirmation code (returned), with the new completion time.
   */
  recordDataDeletion(record: DataDeletionRecord): Promise<DataDeletionRecord>
  findDataDeletion(confirmationCode: string): Promise<DataDeletionRecord | null>

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
   * `retryAt` (backoff) before another renewal may claim it.
   */
  failRenewal(input: {
    accountId: string
    status: AccountStatus
    message: string
    retryAt: number
    now: number
  }): Promise<void>
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

  /**
   * Counts one call against `scope`'s sliding-window cap, unless a block on `scope` or one of
   * `blockedBy` is in force or the cap is reached — all in one atomic step.
   */
  reserveApiCall(reservation: ApiCallReservation): Promise<ApiCallVerdict>
  /** Records the usage Meta reported for a scope and, when throttled, blocks it until a time. */
  recordApiUsage(input: {
    scope: string
    usagePercent: number | null
    blockedUntil: number | null
    now: number
  }): Promise<void>
  getApiBudgets(scopes: readonly string[]): Promise<ApiBudgetRecord[]>

  enqueueWebhook(input: {
    id: string
    event_type: string
    payload: string
    now: number
  }): Promise<void>
  /** Leases up to `limit` pending deliveries whose next attempt is due. */
  claimDueWebhooks(claim: SyncClaim): Promise<WebhookDeliveryRecord[]>
  finishWebhookAttempt(input: {
    id: string
    status: WebhookStatus
    attempts: number
    nextAttemptAt: number
    lastError: string | null
    now: number
  }): Promise<void>

  /**
   * Deletes what nobody needs any more: long-revoked accounts (with their media), old finished
   * webhook deliveries and idle budget rows. (Expired sessions and states have their own calls.)
   */
  purge(input: PurgeInput): Promise<PurgeReport>

  /** Stored tokens in id order, `limit` at a time after `afterId` (for re-encryption). */
  listStoredTokens(input: {
    afterId: string | null
    limit: number
  }): Promise<{ id: string; encrypted_access_token: string }[]>
  /** Replaces a token with its re-encryption, only if it is still `previousToken`. */
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
