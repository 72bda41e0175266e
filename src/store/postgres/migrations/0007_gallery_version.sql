-- (PostgreSQL) 0007: a per-user gallery version, bumped by triggers in the same transaction as any
-- change to that user's media or accounts. A server may keep a rendered media page while the
-- version it was rendered at is still current: exact across any number of instances, and no write
-- path can forget to invalidate it. Statement-level triggers: one bump per statement and user, not
-- one per row (a sync writes a page of rows in one statement).
ALTER TABLE users ADD COLUMN gallery_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_gallery_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET gallery_version = gallery_version + 1
  WHERE id IN (SELECT DISTINCT user_id FROM changed_rows);
  RETURN NULL;
END
$$;

CREATE TRIGGER media_gallery_insert AFTER INSERT ON media
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_gallery_version();
CREATE TRIGGER media_gallery_update AFTER UPDATE ON media
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_gallery_version();
CREATE TRIGGER media_gallery_delete AFTER DELETE ON media
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_gallery_version();
CREATE TRIGGER accounts_gallery_insert AFTER INSERT ON user_social_accounts
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_gallery_version();
CREATE TRIGGER accounts_gallery_delete AFTER DELETE ON user_social_accounts
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION bump_gallery_version();
