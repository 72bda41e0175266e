-- (PostgreSQL) 0013: revocations the platform did not confirm, retried in the background (issue 14).
--
-- A disconnect asks the platform to revoke the grant (Google's revoke endpoint), then deletes
-- what we hold. When the platform cannot be reached, the local delete still happens, and the
-- grant's credentials move here — sealed as they were on the account (Fernet, format 2), never
-- in clear — in the same transaction, to be revoked by the job runner with backoff. A row goes
-- when the platform confirms, when it says the grant is already gone, after its last attempt,
-- or at `expires_at` (the grant ends by itself, or a week has passed).
CREATE TABLE pending_revocations (
  id TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  encrypted_credentials TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_until BIGINT,
  lease_owner TEXT,
  last_error TEXT,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX pending_revocations_due ON pending_revocations(next_attempt_at);
