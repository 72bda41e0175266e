-- 0008: the gallery version moves only with what the media pages show.
--
-- 0007's media UPDATE trigger fired on every update of a media row, including a sync marking an
-- unchanged row seen (`seen_sync_id`): every sync emptied the page cache, and each marked row
-- wrote the user row once more. Now it fires only when a column the pages show, filter or sort by
-- actually changes value (`presentMedia`, its children, `listMedia`): id, account_id, user_id,
-- platform_media_id, parent_id, position, media_type, media_product_type, media_url,
-- thumbnail_url, permalink, caption, timestamp. Writes to seen_sync_id, url_expires_at,
-- created_at or updated_at alone leave it, and so does a write that keeps every value.
--
-- A correction to 0007's comment: the version does not move with "any change to" a user's
-- accounts. It moves when an account is connected (INSERT) or disconnected (DELETE, its media
-- going with it); updates of an account row (status, token, sync progress, profile) do not move
-- it, since no media page shows an account column.
--
-- Also (D14): indexes for the hourly purge of expired sessions (`expires_at <= now OR
-- idle_expires_at <= now`), which otherwise scans the whole table.
DROP TRIGGER media_gallery_update;
CREATE TRIGGER media_gallery_update
AFTER UPDATE OF id, account_id, user_id, platform_media_id, parent_id, position, media_type,
  media_product_type, media_url, thumbnail_url, permalink, caption, timestamp ON media
WHEN OLD.id IS NOT NEW.id
  OR OLD.account_id IS NOT NEW.account_id
  OR OLD.user_id IS NOT NEW.user_id
  OR OLD.platform_media_id IS NOT NEW.platform_media_id
  OR OLD.parent_id IS NOT NEW.parent_id
  OR OLD.position IS NOT NEW.position
  OR OLD.media_type IS NOT NEW.media_type
  OR OLD.media_product_type IS NOT NEW.media_product_type
  OR OLD.media_url IS NOT NEW.media_url
  OR OLD.thumbnail_url IS NOT NEW.thumbnail_url
  OR OLD.permalink IS NOT NEW.permalink
  OR OLD.caption IS NOT NEW.caption
  OR OLD.timestamp IS NOT NEW.timestamp
BEGIN
  UPDATE users SET gallery_version = gallery_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;

CREATE INDEX sessions_expires_at ON sessions(expires_at);
CREATE INDEX sessions_idle_expires_at ON sessions(idle_expires_at);
