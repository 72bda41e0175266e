-- (PostgreSQL) 0008: the gallery version moves only with what the media pages show.
--
-- 0007's media UPDATE trigger fired on every update of media, including a sync marking unchanged
-- rows seen (`seen_sync_id`): every sync emptied the page cache. Now the statement-level trigger
-- compares each updated row's old and new values (the transition tables, joined on id) and bumps
-- the version only of users for whom a column the pages show, filter or sort by actually changed
-- (`presentMedia`, its children, `listMedia`): id, account_id, user_id, platform_media_id,
-- parent_id, position, media_type, media_product_type, media_url, thumbnail_url, permalink,
-- caption, timestamp. Writes to seen_sync_id, url_expires_at, created_at or updated_at alone leave
-- it, and so does a write that keeps every value. Still one bump per statement and user; the join
-- of a 1,000-row page is one hash join in memory. (`UPDATE OF columns` cannot be used: PostgreSQL
-- refuses transition tables on triggers with column lists.)
--
-- A correction to 0007's comment: the version does not move with "any change to" a user's
-- accounts. It moves when an account is connected (INSERT) or disconnected (DELETE, its media
-- going with it); updates of an account row (status, token, sync progress, profile) do not move
-- it, since no media page shows an account column.
--
-- Also (D14): indexes for the hourly purge of expired sessions (`expires_at <= now OR
-- idle_expires_at <= now`), which otherwise scans the whole table.
DROP TRIGGER media_gallery_update ON media;

CREATE FUNCTION bump_gallery_version_on_media_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (
    SELECT o.user_id AS old_user, n.user_id AS new_user
    FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
    WHERE (o.id, o.account_id, o.user_id, o.platform_media_id, o.parent_id, o.position,
           o.media_type, o.media_product_type, o.media_url, o.thumbnail_url, o.permalink,
           o.caption, o.timestamp)
      IS DISTINCT FROM
          (n.id, n.account_id, n.user_id, n.platform_media_id, n.parent_id, n.position,
           n.media_type, n.media_product_type, n.media_url, n.thumbnail_url, n.permalink,
           n.caption, n.timestamp)
  )
  UPDATE users SET gallery_version = gallery_version + 1
  WHERE id IN (SELECT old_user FROM changed UNION SELECT new_user FROM changed);
  RETURN NULL;
END
$$;

CREATE TRIGGER media_gallery_update AFTER UPDATE ON media
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_gallery_version_on_media_update();

CREATE INDEX sessions_expires_at ON sessions(expires_at);
CREATE INDEX sessions_idle_expires_at ON sessions(idle_expires_at);
