-- 0010: provider-neutral connections (issue 13, item 3).
--
-- Identity: `instagram_user_id` becomes `platform_user_id` (the platform's stable account id),
-- `instagram_scoped_id` becomes `platform_scoped_id` (another id the platform names the same
-- account by in its callbacks: Instagram's app-scoped id), and `instagram_account_type` moves into
-- `platform_attributes` (JSON text, facts the platform reports: {"account_type": "BUSINESS"}).
-- The API still presents `instagram_user_id` and `instagram_account_type` on Instagram rows.
--
-- Credentials: `encrypted_access_token` becomes `encrypted_credentials`. `credentials_format` says
-- what its Fernet plaintext is: 1, a bare access token (what the original Python app wrote, and
-- every row before this migration); 2, JSON credentials (access token, its expiry, refresh token,
-- its expiry, granted scopes, issue time). `credentials_version` moves with every write of new
-- credentials (compare-and-swap for renewals). `refresh_token_expires_at` and
-- `credentials_expire_at` (when the connection can no longer be kept alive without the person:
-- the access token's expiry when it is extended, the refresh token's when there is one, NULL for
-- none known) are plain so that the scheduler's queries need no decryption.
--
-- OAuth states keep their PKCE verifier, encrypted. Data-deletion records name their platform.
ALTER TABLE user_social_accounts RENAME COLUMN instagram_user_id TO platform_user_id;
ALTER TABLE user_social_accounts RENAME COLUMN instagram_scoped_id TO platform_scoped_id;
ALTER TABLE user_social_accounts ADD COLUMN platform_attributes TEXT NOT NULL DEFAULT '{}';
UPDATE user_social_accounts
  SET platform_attributes = json_object('account_type', instagram_account_type)
  WHERE instagram_account_type IS NOT NULL;
ALTER TABLE user_social_accounts DROP COLUMN instagram_account_type;

ALTER TABLE user_social_accounts RENAME COLUMN encrypted_access_token TO encrypted_credentials;
ALTER TABLE user_social_accounts ADD COLUMN credentials_format INTEGER NOT NULL DEFAULT 1
  CHECK (credentials_format IN (1, 2));
ALTER TABLE user_social_accounts ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_social_accounts ADD COLUMN refresh_token_expires_at INTEGER;
ALTER TABLE user_social_accounts ADD COLUMN credentials_expire_at INTEGER;
UPDATE user_social_accounts SET credentials_expire_at = token_expires_at;
-- renewals are due by when the connection dies (for Instagram still the token's expiry)
DROP INDEX user_social_accounts_renewal;
CREATE INDEX user_social_accounts_renewal ON user_social_accounts(credentials_expire_at)
  WHERE account_type = 'oauth' AND encrypted_credentials IS NOT NULL;

DROP INDEX user_social_accounts_instagram_ids;
CREATE INDEX user_social_accounts_platform_user ON user_social_accounts(platform, platform_user_id);
CREATE INDEX user_social_accounts_platform_scoped
  ON user_social_accounts(platform, platform_scoped_id);

ALTER TABLE oauth_states ADD COLUMN encrypted_code_verifier TEXT;
-- one name for one thing: `platform` is the social network (as on accounts); "provider" names the
-- code that talks to it (src/providers/<platform>/)
ALTER TABLE oauth_states RENAME COLUMN provider TO platform;

CREATE TABLE data_deletion_requests_0010 (
  confirmation_code TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  platform_user_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('completed')),
  deleted_accounts INTEGER NOT NULL,
  requested_at INTEGER NOT NULL,
  completed_at INTEGER NOT NULL,
  UNIQUE (platform, platform_user_id)
);
INSERT INTO data_deletion_requests_0010
  SELECT confirmation_code, 'instagram', instagram_user_id, status, deleted_accounts, requested_at,
         completed_at
  FROM data_deletion_requests;
DROP TABLE data_deletion_requests;
ALTER TABLE data_deletion_requests_0010 RENAME TO data_deletion_requests;
