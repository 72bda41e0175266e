-- (PostgreSQL) 0002: Meta data-deletion requests, so that a repeated request answers the same confirmation code
-- and a public status page can show its state.
CREATE TABLE data_deletion_requests (
  confirmation_code TEXT PRIMARY KEY,
  instagram_user_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('completed')),
  deleted_accounts INTEGER NOT NULL,
  requested_at BIGINT NOT NULL,
  completed_at BIGINT NOT NULL
);
