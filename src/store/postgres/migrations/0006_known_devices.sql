-- (PostgreSQL) 0006: browsers a user has signed in from. Their cookie lets the owner past the per-account
-- sign-in limit that slows down password guessing from everywhere else. Only a digest is stored.
CREATE TABLE known_devices (
  digest TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);
CREATE INDEX known_devices_user_id ON known_devices(user_id);
CREATE INDEX known_devices_last_seen_at ON known_devices(last_seen_at);
