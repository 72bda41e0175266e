-- (PostgreSQL) 0010: provider-neutral connections (issue 13, item 3). See the SQLite twin for
-- what each column means; the two stay column for column the same.
ALTER TABLE user_social_accounts RENAME COLUMN instagram_user_id TO platform_user_id;
ALTER TABLE user_social_accounts RENAME COLUMN instagram_scoped_id TO platform_scoped_id;
ALTER TABLE user_social_accounts ADD COLUMN platform_attributes TEXT NOT NULL DEFAULT '{}';
UPDATE user_social_accounts
  SET platform_attributes = json_build_object('account_type', instagram_account_type)::text
  WHERE instagram_account_type IS NOT NULL;
ALTER TABLE user_social_accounts DROP COLUMN instagram_account_type;

ALTER TABLE user_social_accounts RENAME COLUMN encrypted_access_token TO encrypted_credentials;
ALTER TABLE user_social_accounts ADD COLUMN credentials_format INTEGER NOT NULL DEFAULT 1
  CHECK (credentials_format IN (1, 2));
ALTER TABLE user_social_accounts ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_social_accounts ADD COLUMN refresh_token_expires_at BIGINT;
ALTER TABLE user_social_accounts ADD COLUMN credentials_expire_at BIGINT;
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

ALTER TABLE data_deletion_requests RENAME COLUMN instagram_user_id TO platform_user_id;
ALTER TABLE data_deletion_requests ADD COLUMN platform TEXT NOT NULL DEFAULT 'instagram';
ALTER TABLE data_deletion_requests ALTER COLUMN platform DROP DEFAULT;
ALTER TABLE data_deletion_requests DROP CONSTRAINT data_deletion_requests_instagram_user_id_key;
ALTER TABLE data_deletion_requests ADD CONSTRAINT data_deletion_requests_platform_user
  UNIQUE (platform, platform_user_id);
