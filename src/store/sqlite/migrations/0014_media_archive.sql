-- 0014: the media archive's bookkeeping (`src/store/types/archive.ts`).
--
-- `media_archive`: one row per media item (album children included), made by the archiver's
-- enqueue (INSERT … SELECT of the media without one) and deleted with its media through
-- `ON DELETE CASCADE`. `user_id`, `account_id` and `platform` are copied from the media and its
-- account at enqueue (they never change for a media row), so that claims (per platform) and the
-- per-user quota (`archivedBytes`) read this table alone. `source` is the picture URL last seen,
-- without its query string: when the media's current one differs, the enqueue resets the row to
-- `pending`. Claims lease rows to an owner (`lease_until`, `lease_owner`), as every other queue
-- does (0009, 0013). `variants` is JSON text (an array of `{width, height, format, bytes}`).
--
-- `archive_blobs`: one row per stored blob, content-addressed by the SHA-256 of the original
-- bytes. Nothing counts references: a blob is garbage when no `media_archive` row names it in
-- `sha256` or `video_sha256` (a query, answered by the two indexes below), and it was last
-- updated (written or linked) before a grace time. Deletion goes through `deleting`: linking a
-- blob checks in the same transaction that its row is absent or `stored`, so a blob being deleted
-- is never linked again.
--
-- The media pages show the archive state, so the gallery version (0007/0008) moves with it: a
-- new archive row, and a change of `state`, `video_state`, `sha256` or a reason (the API shows it), bump the owner's version
-- like a media change does. A deleted archive row needs no trigger of its own: it goes only with
-- its media, whose delete trigger moves the version.
CREATE TABLE media_archive (
  media_id TEXT PRIMARY KEY REFERENCES media(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  reason TEXT,
  source TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER,
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
  bytes INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
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
  bytes INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'stored',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX archive_blobs_state ON archive_blobs(state, updated_at);

CREATE TRIGGER media_archive_gallery_insert AFTER INSERT ON media_archive BEGIN
  UPDATE users SET gallery_version = gallery_version + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER media_archive_gallery_update
AFTER UPDATE OF media_id, user_id, state, video_state, sha256, reason, video_reason ON media_archive
WHEN OLD.media_id IS NOT NEW.media_id
  OR OLD.user_id IS NOT NEW.user_id
  OR OLD.state IS NOT NEW.state
  OR OLD.video_state IS NOT NEW.video_state
  OR OLD.sha256 IS NOT NEW.sha256
  OR OLD.reason IS NOT NEW.reason
  OR OLD.video_reason IS NOT NEW.video_reason
BEGIN
  UPDATE users SET gallery_version = gallery_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;
