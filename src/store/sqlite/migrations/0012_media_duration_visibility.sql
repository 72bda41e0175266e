-- 0012: what a video is, for every platform (issue 14: YouTube).
--
-- `duration_seconds`: a video's length when its platform says (YouTube always; NULL otherwise).
-- `visibility`: who may see the item on its platform — `public`, `unlisted` or `private`
-- (YouTube's privacy status; every other platform's media are public). The owner's gallery shows
-- all three with a badge; public surfaces (later: feeds, hosted pages) show only `public`.
--
-- Both columns are shown by the media pages, so the gallery version moves with them: the update
-- trigger of 0008 is recreated with them in its column list and comparison.
ALTER TABLE media ADD COLUMN duration_seconds INTEGER;
ALTER TABLE media ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'
  CHECK (visibility IN ('public', 'unlisted', 'private'));

DROP TRIGGER media_gallery_update;
CREATE TRIGGER media_gallery_update
AFTER UPDATE OF id, account_id, user_id, platform_media_id, parent_id, position, media_type,
  media_product_type, media_url, thumbnail_url, permalink, caption, timestamp, duration_seconds,
  visibility ON media
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
  OR OLD.duration_seconds IS NOT NEW.duration_seconds
  OR OLD.visibility IS NOT NEW.visibility
BEGIN
  UPDATE users SET gallery_version = gallery_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;
