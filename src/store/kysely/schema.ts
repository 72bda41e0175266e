/**
 * @module store/kysely/schema — table types for the shared Kysely query layer.
 * Booleans are stored as 0/1 integers so that SQLite and PostgreSQL share the same queries.
 */
import type { Generated } from 'kysely'
export interface UsersTable {
  id: string
  email: string
  password_hash: string
  created_at: number
  /** Bumped by triggers on every change to the user's media or accounts (migration 0007). */
  gallery_version: Generated<number>
}
export interface SessionsTable {
  id_hash: string
  user_id: string
  created_at: number
  expires_at: number
  idle_expires_at: number
}
export interface OAuthStatesTable {
  state_hash: string
  user_id: string
  platform: string
  binding_hash: string
  return_mode: string
  /** The PKCE verifier, Fernet-encrypted (migration 0010); `null` for a platform without PKCE. */
  encrypted_code_verifier: string | null
  created_at: number
  expires_at: number
}
export interface SocialAccountsTable {
  id: string
  user_id: string
  platform: string
  account_type: string
  username: string
  display_name: string
  platform_user_id: string | null
  platform_scoped_id: string | null
  /** JSON text: an object of strings (migration 0010). */
  platform_attributes: string
  encrypted_credentials: string | null
  /** 1: a bare access token (the original app's); 2: JSON credentials (migration 0010). */
  credentials_format: number
  credentials_version: number
  token_expires_at: number | null
  token_issued_at: number | null
  refresh_token_expires_at: number | null
  credentials_expire_at: number | null
  is_active: number
  connected_at: number
  last_sync: number | null
  posts_count: number | null
  status: string
  status_message: string | null
  profile_url: string
  profile_picture_url: string | null
  updated_at: number
  last_full_sync: number | null
  media_urls_expire_at: number | null
  import_fingerprint: string | null
}
/** One job's state on one OAuth account (migration 0011): `sync` or `renewal`. */
export interface AccountJobsTable {
  account_id: string
  kind: 'sync' | 'renewal'
  lease_until: number | null
  /** `<instance id>:<run id>` of the worker holding the lease; `null` for a renewal back-off. */
  lease_owner: string | null
  failures: number
  /** sync: when the scheduler runs it next (`null`: as soon as possible). */
  next_run_at: number | null
  /** sync: the interrupted full reconciliation's run id and paging cursor. */
  run_id: string | null
  cursor: string | null
}

/** The job-state columns `social_accounts_with_jobs` adds to an account row (their old names). */
export interface AccountJobColumns {
  next_sync_at: number | null
  sync_lease_until: number | null
  sync_lease_owner: string | null
  sync_failures: number
  sync_run_id: string | null
  sync_cursor: string | null
  renew_lease_until: number | null
  renew_lease_owner: string | null
  renewal_failures: number
}

export interface MediaTable {
  id: string
  account_id: string
  user_id: string
  platform_media_id: string
  parent_id: string | null
  position: number
  media_type: string
  media_product_type: string | null
  media_url: string | null
  thumbnail_url: string | null
  permalink: string | null
  caption: string | null
  timestamp: number
  seen_sync_id: string | null
  url_expires_at: number | null
  duration_seconds: number | null
  /** `public`, `unlisted` or `private` (migration 0012). */
  visibility: string
  created_at: number
  updated_at: number
}
export interface DataDeletionRequestsTable {
  confirmation_code: string
  platform: string
  platform_user_id: string
  status: string
  deleted_accounts: number
  requested_at: number
  completed_at: number
}
export interface ApiBudgetsTable {
  scope: string
  usage_percent: number | null
  usage_at: number | null
  blocked_until: number | null
  window_start: number
  window_calls: number
  previous_window_calls: number
  updated_at: number
}
/** Revocations to retry (migration 0013). */
export interface PendingRevocationsTable {
  id: string
  platform: string
  encrypted_credentials: string
  attempts: number
  next_attempt_at: number
  lease_until: number | null
  lease_owner: string | null
  last_error: string | null
  expires_at: number
  created_at: number
}
export interface WebhookDeliveriesTable {
  id: string
  event_type: string
  payload: string
  status: string
  attempts: number
  next_attempt_at: number
  lease_until: number | null
  /** `<instance id>:<run id>` of the attempt holding the lease (migration 0009). */
  lease_owner: string | null
  last_error: string | null
  created_at: number
  updated_at: number
}
export interface KnownDevicesTable {
  digest: string
  user_id: string
  created_at: number
  last_seen_at: number
}
/** One media item's archive state (migration 0014); deleted with its media. */
export interface MediaArchiveTable {
  media_id: string
  user_id: string
  account_id: string
  platform: string
  state: 'pending' | 'stored' | 'failed'
  reason: string | null
  source: string | null
  attempts: number
  next_attempt_at: number
  lease_until: number | null
  lease_owner: string | null
  sha256: string | null
  width: number | null
  height: number | null
  thumbhash: string | null
  color: string | null
  /** JSON text: an array of `ArchiveVariant`. */
  variants: string
  video_state: 'none' | 'pending' | 'stored' | 'failed' | 'skipped'
  video_sha256: string | null
  video_reason: string | null
  bytes: number
  created_at: number
  updated_at: number
}
/** One stored blob, by the SHA-256 of its original bytes (migration 0014). */
export interface ArchiveBlobsTable {
  sha256: string
  kind: 'picture' | 'video'
  bytes: number
  state: 'stored' | 'deleting'
  created_at: number
  updated_at: number
}
export interface Database {
  known_devices: KnownDevicesTable
  api_budgets: ApiBudgetsTable
  webhook_deliveries: WebhookDeliveriesTable
  data_deletion_requests: DataDeletionRequestsTable
  users: UsersTable
  sessions: SessionsTable
  oauth_states: OAuthStatesTable
  user_social_accounts: SocialAccountsTable
  account_jobs: AccountJobsTable
  /** A view (migration 0011): read-only. */
  social_accounts_with_jobs: SocialAccountsTable & AccountJobColumns
  media: MediaTable
  pending_revocations: PendingRevocationsTable
  media_archive: MediaArchiveTable
  archive_blobs: ArchiveBlobsTable
}
