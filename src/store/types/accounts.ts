/**
 * @module store/types/accounts — a user's social accounts (OAuth connections and public profile
 * links), their health states, and the writes that connect, patch and delete them.
 */

import type { EventMaker } from './outbox.ts'

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

/** The columns that hold a connection's sealed credentials (see `socials/credentials.ts`). */
export interface CredentialColumns {
  readonly encrypted_credentials: string
  readonly credentials_format: 1 | 2
  readonly token_expires_at: number | null
  readonly token_issued_at: number
  readonly refresh_token_expires_at: number | null
  readonly credentials_expire_at: number | null
}

/** A `user_social_accounts` record (the token stays encrypted; the API never returns it). */
export interface SocialAccountRecord {
  readonly id: string
  readonly user_id: string
  readonly platform: string
  /** `oauth` for connected accounts, `public` for manual profile links. */
  readonly account_type: 'oauth' | 'public'
  readonly username: string
  readonly display_name: string
  /**
   * The platform's stable id of the account, a string (Instagram's professional account id,
   * `user_id` of `/me`, exceeds 2^53). The API also presents it as `instagram_user_id` on
   * Instagram rows.
   */
  readonly platform_user_id: string | null
  /**
   * Another id the platform names the same account by in its callbacks (Instagram: the app-scoped
   * id, `id` of `/me`); `null` when it has none.
   */
  readonly platform_scoped_id: string | null
  /** Facts the platform reports about the account (Instagram: `account_type`). */
  readonly platform_attributes: Readonly<Record<string, string>>
  /** The sealed credentials (`socials/credentials.ts`); the API never returns them. */
  readonly encrypted_credentials: string | null
  /** 1: a bare access token (the original app's); 2: sealed JSON credentials. */
  readonly credentials_format: 1 | 2
  /** Moves with every write of new credentials: the compare-and-swap key of a renewal. */
  readonly credentials_version: number
  /** The access token's expiry. */
  readonly token_expires_at: number | null
  readonly token_issued_at: number | null
  readonly refresh_token_expires_at: number | null
  /** When the connection can no longer be kept alive without the person (`null`: no end known). */
  readonly credentials_expire_at: number | null
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
  /**
   * Who holds the renewal lease, `<instance id>:<run id>`; `null` when nobody does (a failed
   * renewal's back-off is a `renew_lease_until` without an owner).
   */
  readonly renew_lease_owner: string | null
  /** Consecutive failed renewals (reset by a success). */
  readonly renewal_failures: number
  /** When the scheduler syncs this account next (`null`: as soon as possible). */
  readonly next_sync_at: number | null
  /** A sync in progress holds the account until this time (cross-process single flight). */
  readonly sync_lease_until: number | null
  /** Who holds the sync lease, `<instance id>:<run id>`; `null` when nobody does. */
  readonly sync_lease_owner: string | null
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

export interface OAuthAccountInput {
  readonly user_id: string
  readonly platform: string
  readonly username: string
  readonly platform_user_id: string
  readonly platform_scoped_id: string | null
  readonly platform_attributes: Readonly<Record<string, string>>
  /** Sealed by `socials/credentials.ts`; written with a new `credentials_version`. */
  readonly credentials: CredentialColumns
  readonly posts_count: number | null
  readonly profile_url: string
  readonly profile_picture_url: string | null
  readonly now: number
}

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

/** A user's social accounts. */
export interface AccountStore {
  /**
   * The user's accounts, oldest connection first. With `page`, at most `limit` of them after the
   * keyset `after` (the last one of the previous page); without it, all of them.
   */
  listAccounts(userId: string, page?: AccountPage): Promise<SocialAccountRecord[]>
  /** The account if it belongs to `userId`; another user's account is `null`. */
  getAccount(userId: string, accountId: string): Promise<SocialAccountRecord | null>
  /**
   * Creates, or updates the same user's record for the same platform account (no duplicate), in
   * one atomic statement: concurrent connections of the same account (two tabs) give one record
   * and no error. `created` says whether this call made it.
   */
  upsertOAuthAccount(
    input: OAuthAccountInput,
    /** With webhooks on: `account.connected` is written with the connection, atomically. */
    events?: EventMaker | null,
  ): Promise<{ account: SocialAccountRecord; created: boolean }>

  /**
   * @throws ERR_CONFLICT when the user already lists that public profile, or already has
   * `max_per_user` public profile links.
   */
  createPublicAccount(input: PublicAccountInput): Promise<SocialAccountRecord>
  /** Applies the patch; a `revoked` account keeps its status and message (only a reconnect clears it). */
  updateAccount(accountId: string, patch: AccountPatch): Promise<void>
  /**
   * After a successful sync: `refresh_due` if the connection *as stored now* runs out at or before
   * `dueBefore`, else `active` — unless the account meanwhile became `revoked` or
   * `reauth_required`, or is `degraded` by failing renewals (those states stand).
   */
  markHealthy(accountId: string, dueBefore: number, now: number): Promise<void>
  /** Deletes the account, its token and all its media in one transaction. */
  deleteAccount(userId: string, accountId: string): Promise<boolean>
}
