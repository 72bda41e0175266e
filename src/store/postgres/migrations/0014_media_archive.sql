-- (PostgreSQL) 0014: the media archive's bookkeeping (`src/store/types/archive.ts`).
--
-- `media_archive`: one row per media item (album children included), made by the archiver's
-- enqueue (INSERT … SELECT of the media without one) and deleted with its media through
-- `ON DELETE CASCADE`. `user_id`, `account_id` and `platform` are copied from the media and its
-- account at enqueue (they never change for a media row), so that claims (per platform) and the
-- per-user quota (`archivedBytes`) read this table alone. `source` is the picture URL last seen,
-- without its query string: when the media's current one differs, the enqueue resets the row to
-- `pending`. Claims lease rows to an owner (`lease_until`, `lease_owner`; `FOR UPDATE SKIP
-- LOCKED`), as every other queue does (0009, 0013). `variants` is JSON text (an array of
-- `{width, height, format, bytes}`), the same text as on SQLite.
--
-- `archive_blobs`: one row per stored blob, content-addressed by the SHA-256 of the original
-- bytes. Nothing counts references: a blob is garbage when no `media_archive` row names it in
-- `sha256` or `video_sha256` (a query, answered by the two indexes below), and it was last
-- updated (written or linked) before a grace time. Deletion goes through `deleting`: linking a
-- blob locks its row and checks, in the same transaction, that it is absent or `stored`; the
-- garbage claim locks the rows it moves (see `repositories/archive.ts`).
--
-- The media pages show the archive state, so the gallery version (0007/0008) moves with it: a
-- new archive row, and a change of `state`, `video_state`, `sha256` or a reason (the API shows it), bump the owner's version
-- like a media change does — statement-level triggers, one bump per statement and user (0007's
-- function for inserts; for updates, old and new rows compared as 0008 does). A deleted archive
-- row needs no trigger of its own: it goes only with its media, whose delete trigger moves the
-- version.
--
-- `instr(text, text)`: SQLite's name for `strpos`, so that the shared query layer strips a URL's
-- query string (`substr(url, 1, instr(url, '?') - 1)`) with the same SQL on both backends.
CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS INTEGER
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT strpos(haystack, needle) $$;

CREATE TABLE media_archive (
  media_id TEXT PRIMARY KEY REFERENCES media(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  reason TEXT,
  source TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_until BIGINT,
  lease_owner TEXT,
  sha256 TEXT,
  width INTEGER,
  height INTEGER,
  thumbhash TEXT,
  color TEXT,
  variants TEXT NOT NULL DEFAULT '[]',
  video_state TEXT NOT NULL DEFAULT 'none',
  video_sha256 TEXT,
  video_reason TEXT,
  bytes BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
-- claims: the due `pending` rows of one platform
CREATE INDEX media_archive_claim ON media_archive(platform, state, next_attempt_at);
-- `archivedBytes` (covering)
CREATE INDEX media_archive_user ON media_archive(user_id, bytes);
-- the garbage query: is a blob still referenced?
CREATE INDEX media_archive_sha256 ON media_archive(sha256);
CREATE INDEX media_archive_video_sha256 ON media_archive(video_sha256);

CREATE TABLE archive_blobs (
  sha256 TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  bytes BIGINT NOT NULL,
  state TEXT NOT NULL DEFAULT 'stored',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX archive_blobs_state ON archive_blobs(state, updated_at);

CREATE TRIGGER media_archive_gallery_insert AFTER INSERT ON media_archive
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_gallery_version();

CREATE FUNCTION bump_gallery_version_on_archive_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (
    SELECT o.user_id AS old_user, n.user_id AS new_user
    FROM old_rows o FULL JOIN new_rows n ON n.media_id = o.media_id
    WHERE (o.media_id, o.user_id, o.state, o.video_state, o.sha256, o.reason, o.video_reason)
      IS DISTINCT FROM
          (n.media_id, n.user_id, n.state, n.video_state, n.sha256, n.reason, n.video_reason)
  )
  UPDATE users SET gallery_version = gallery_version + 1
  WHERE id IN (SELECT old_user FROM changed UNION SELECT new_user FROM changed);
  RETURN NULL;
END
$$;

CREATE TRIGGER media_archive_gallery_update AFTER UPDATE ON media_archive
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_gallery_version_on_archive_update();
