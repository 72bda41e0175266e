-- (PostgreSQL) 0003: token renewal leases (one renewal per account at a time, across processes) and the
-- count of consecutive renewal failures.
ALTER TABLE user_social_accounts ADD COLUMN renew_lease_until BIGINT;
ALTER TABLE user_social_accounts ADD COLUMN renewal_failures INTEGER NOT NULL DEFAULT 0;
CREATE INDEX user_social_accounts_renewal ON user_social_accounts(token_expires_at)
  WHERE account_type = 'oauth' AND encrypted_access_token IS NOT NULL;
