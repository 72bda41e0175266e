-- (PostgreSQL) 0011: job state in a table of its own (issue 13, item 3; review §1.4).
--
-- The sync's and the renewal's leases, failure counts, the next scheduled sync and the cursor of
-- an interrupted full reconciliation move off the account row into `account_jobs`, one row per
-- OAuth account and kind (`sync`, `renewal`), made with the account (profile links have none).
-- A lease, its owner and its heartbeat now write a small row nobody else writes, instead of the
-- account row that connections, revocations and syncs also update. Columns: `lease_until` and
-- `lease_owner` (`<instance id>:<run id>`; a renewal back-off is a `lease_until` without owner),
-- `failures` (consecutive), `next_run_at` (sync: when the scheduler runs it next, NULL as soon as
-- possible), `run_id` and `cursor` (sync: the interrupted full reconciliation).
--
-- Records keep their shape: `social_accounts_with_jobs` is the account row with its two jobs'
-- state under the names records have always had (`next_sync_at`, `sync_lease_until`, …). It
-- lists the account's columns by name, so a later migration that adds an account column
-- recreates it.
CREATE TABLE account_jobs (
  account_id TEXT NOT NULL REFERENCES user_social_accounts(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('sync', 'renewal')),
  lease_until BIGINT,
  lease_owner TEXT,
  failures INTEGER NOT NULL DEFAULT 0,
  next_run_at BIGINT,
  run_id TEXT,
  cursor TEXT,
  PRIMARY KEY (account_id, kind)
);
-- the scheduler's due syncs (the renewal's due time is the account's credentials_expire_at)
CREATE INDEX account_jobs_due ON account_jobs(next_run_at) WHERE kind = 'sync';
CREATE INDEX account_jobs_owner ON account_jobs(lease_owner) WHERE lease_owner IS NOT NULL;

INSERT INTO account_jobs (account_id, kind, lease_until, lease_owner, failures, next_run_at,
                          run_id, cursor)
  SELECT id, 'sync', sync_lease_until, sync_lease_owner, sync_failures, next_sync_at, sync_run_id,
         sync_cursor
  FROM user_social_accounts WHERE account_type = 'oauth';
INSERT INTO account_jobs (account_id, kind, lease_until, lease_owner, failures)
  SELECT id, 'renewal', renew_lease_until, renew_lease_owner, renewal_failures
  FROM user_social_accounts WHERE account_type = 'oauth';

DROP INDEX user_social_accounts_next_sync;
ALTER TABLE user_social_accounts DROP COLUMN sync_lease_until;
ALTER TABLE user_social_accounts DROP COLUMN sync_lease_owner;
ALTER TABLE user_social_accounts DROP COLUMN sync_failures;
ALTER TABLE user_social_accounts DROP COLUMN next_sync_at;
ALTER TABLE user_social_accounts DROP COLUMN sync_run_id;
ALTER TABLE user_social_accounts DROP COLUMN sync_cursor;
ALTER TABLE user_social_accounts DROP COLUMN renew_lease_until;
ALTER TABLE user_social_accounts DROP COLUMN renew_lease_owner;
ALTER TABLE user_social_accounts DROP COLUMN renewal_failures;

CREATE VIEW social_accounts_with_jobs AS
  SELECT a.id, a.user_id, a.platform, a.account_type, a.username, a.display_name,
         a.platform_user_id, a.platform_scoped_id, a.platform_attributes,
         a.encrypted_credentials, a.credentials_format, a.credentials_version,
         a.token_expires_at, a.token_issued_at, a.refresh_token_expires_at,
         a.credentials_expire_at, a.is_active, a.connected_at, a.last_sync, a.posts_count,
         a.status, a.status_message, a.profile_url, a.profile_picture_url, a.updated_at,
         a.last_full_sync, a.media_urls_expire_at, a.import_fingerprint,
         s.next_run_at AS next_sync_at,
         s.lease_until AS sync_lease_until,
         s.lease_owner AS sync_lease_owner,
         COALESCE(s.failures, 0) AS sync_failures,
         s.run_id AS sync_run_id,
         s.cursor AS sync_cursor,
         r.lease_until AS renew_lease_until,
         r.lease_owner AS renew_lease_owner,
         COALESCE(r.failures, 0) AS renewal_failures
  FROM user_social_accounts a
  LEFT JOIN account_jobs s ON s.account_id = a.id AND s.kind = 'sync'
  LEFT JOIN account_jobs r ON r.account_id = a.id AND r.kind = 'renewal';
