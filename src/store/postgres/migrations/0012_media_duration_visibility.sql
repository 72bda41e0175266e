-- (PostgreSQL) 0012: what a video is, for every platform (issue 14: YouTube).
--
-- `duration_seconds`: a video's length when its platform says (YouTube always; NULL otherwise).
-- `visibility`: who may see the item on its platform — `public`, `unlisted` or `private`
-- (YouTube's privacy status; every other platform's media are public). The owner's gallery shows
-- all three with a badge; public surfaces (later: feeds, hosted pages) show only `public`.
--
-- Both columns are shown by the media pages, so the gallery version moves with them: the update
-- trigger's function of 0008 compares them too.
ALTER TABLE media ADD COLUMN duration_seconds INTEGER;
ALTER TABLE media ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'
  CHECK (visibility IN ('public', 'unlisted', 'private'));

CREATE OR REPLACE FUNCTION bump_gallery_version_on_media_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (
    SELECT o.user_id AS old_user, n.user_id AS new_user
    FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
    WHERE (o.id, o.account_id, o.user_id, o.platform_media_id, o.parent_id, o.position,
           o.media_type, o.media_product_type, o.media_url, o.thumbnail_url, o.permalink,
           o.caption, o.timestamp, o.duration_seconds, o.visibility)
      IS DISTINCT FROM
          (n.id, n.account_id, n.user_id, n.platform_media_id, n.parent_id, n.position,
           n.media_type, n.media_product_type, n.media_url, n.thumbnail_url, n.permalink,
           n.caption, n.timestamp, n.duration_seconds, n.visibility)
  )
  UPDATE users SET gallery_version = gallery_version + 1
  WHERE id IN (SELECT old_user FROM changed UNION SELECT new_user FROM changed);
  RETURN NULL;
END
$$;
