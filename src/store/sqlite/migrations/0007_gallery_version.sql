-- 0007: a per-user gallery version, bumped by triggers in the same transaction as any change to
-- that user's media or accounts. A server may keep a rendered media page while the version it was
-- rendered at is still current: exact across any number of instances, and no write path can
-- forget to invalidate it.
ALTER TABLE users ADD COLUMN gallery_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER media_gallery_insert AFTER INSERT ON media BEGIN
  UPDATE users SET gallery_version = gallery_version + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER media_gallery_update AFTER UPDATE ON media BEGIN
  UPDATE users SET gallery_version = gallery_version + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER media_gallery_delete AFTER DELETE ON media BEGIN
  UPDATE users SET gallery_version = gallery_version + 1 WHERE id = OLD.user_id;
END;
CREATE TRIGGER accounts_gallery_insert AFTER INSERT ON user_social_accounts BEGIN
  UPDATE users SET gallery_version = gallery_version + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER accounts_gallery_delete AFTER DELETE ON user_social_accounts BEGIN
  UPDATE users SET gallery_version = gallery_version + 1 WHERE id = OLD.user_id;
END;
