-- (PostgreSQL) 0005: accounts imported from the original app remember a fingerprint of the record they came
-- from, so a repeated import skips records unchanged at the source, even after the service has
-- synced or renewed them since.
ALTER TABLE user_social_accounts ADD COLUMN import_fingerprint TEXT;
