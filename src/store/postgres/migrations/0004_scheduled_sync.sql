-- (PostgreSQL) 0004: scheduled sync (next run, cross-process lease, backoff, full reconciliation and its
-- resumable cursor, media URL expiry), rate-limit budgets, and the outgoing webhook outbox.
-- "syncing" is no longer a status (a crash could leave it forever): a held sync lease says it.
UPDATE user_social_accounts SET status = 'active' WHERE status = 'syncing';
ALTER TABLE user_social_accounts ADD COLUMN next_sync_at BIGINT;
ALTER TABLE user_social_accounts ADD COLUMN sync_lease_until BIGINT;
ALTER TABLE user_social_accounts ADD COLUMN sync_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_social_accounts ADD COLUMN last_full_sync BIGINT;
ALTER TABLE user_social_accounts ADD COLUMN sync_run_id TEXT;
ALTER TABLE user_social_accounts ADD COLUMN sync_cursor TEXT;
ALTER TABLE user_social_accounts ADD COLUMN media_urls_expire_at BIGINT;
CREATE INDEX user_social_accounts_next_sync ON user_social_accounts(next_sync_at)
  WHERE account_type = 'oauth' AND encrypted_access_token IS NOT NULL;

ALTER TABLE media ADD COLUMN url_expires_at BIGINT;

-- One row per scope ("instagram:app", "instagram:account:<id>"): the last usage Meta reported,
-- a block until Meta's estimated_time_to_regain_access, and a sliding-window call counter.
CREATE TABLE api_budgets (
  scope TEXT PRIMARY KEY,
  usage_percent INTEGER,
  usage_at BIGINT,
  blocked_until BIGINT,
  window_start BIGINT NOT NULL,
  window_calls INTEGER NOT NULL,
  previous_window_calls INTEGER NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_until BIGINT,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
