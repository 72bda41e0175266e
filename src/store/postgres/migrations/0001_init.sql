-- (PostgreSQL) 0001: users, sessions, OAuth states, social accounts, media. Times are epoch milliseconds.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  idle_expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions(user_id);

CREATE TABLE oauth_states (
  state_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider TEXT NOT NULL,
  binding_hash TEXT NOT NULL,
  return_mode TEXT NOT NULL CHECK (return_mode IN ('popup', 'redirect')),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_states_expires_at ON oauth_states(expires_at);

CREATE TABLE user_social_accounts (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  platform TEXT NOT NULL,
  account_type TEXT NOT NULL CHECK (account_type IN ('oauth', 'public')),
  username TEXT NOT NULL,
  display_name TEXT NOT NULL,
  instagram_user_id TEXT,
  instagram_scoped_id TEXT,
  instagram_account_type TEXT,
  encrypted_access_token TEXT,
  token_expires_at BIGINT,
  token_issued_at BIGINT,
  is_active INTEGER NOT NULL DEFAULT 1,
  connected_at BIGINT NOT NULL,
  last_sync BIGINT,
  posts_count INTEGER,
  status TEXT NOT NULL,
  status_message TEXT,
  profile_url TEXT NOT NULL,
  profile_picture_url TEXT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX user_social_accounts_user ON user_social_accounts(user_id, connected_at);
CREATE UNIQUE INDEX user_social_accounts_oauth_unique
  ON user_social_accounts(user_id, platform, instagram_user_id) WHERE account_type = 'oauth';
CREATE UNIQUE INDEX user_social_accounts_public_unique
  ON user_social_accounts(user_id, platform, username) WHERE account_type = 'public';
CREATE INDEX user_social_accounts_instagram_ids
  ON user_social_accounts(instagram_user_id, instagram_scoped_id);

CREATE TABLE media (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES user_social_accounts(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  platform_media_id TEXT NOT NULL,
  parent_id TEXT REFERENCES media(id) ON DELETE CASCADE,
  position INTEGER NOT NULL DEFAULT 0,
  media_type TEXT NOT NULL,
  media_product_type TEXT,
  media_url TEXT,
  thumbnail_url TEXT,
  permalink TEXT,
  caption TEXT,
  timestamp BIGINT NOT NULL,
  seen_sync_id TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX media_account_platform_id ON media(account_id, platform_media_id);
-- keyset pagination, newest first, per user and per account
CREATE INDEX media_user_feed ON media(user_id, timestamp DESC, id DESC) WHERE parent_id IS NULL;
CREATE INDEX media_account_feed ON media(account_id, timestamp DESC, id DESC) WHERE parent_id IS NULL;
CREATE INDEX media_parent ON media(parent_id, position);
