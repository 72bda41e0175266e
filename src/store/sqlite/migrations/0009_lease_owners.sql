-- 0009: every lease names its owner, `<instance id>:<run id>` (review D1, D2, D6, D8).
--
-- A lease used to be only a time: any writer released it, and a run that had lost it went on
-- writing (and deleting). Now claims write the owner, the holder renews the lease on a timer,
-- every write made under a lease is conditional on `owner = mine`, and a stopping instance
-- releases the leases it owns (their owners start with its instance id).
--
-- The job state stays on the existing columns for now; moving it into a table of its own (one
-- row per job and account) is a later step.
--
-- A renewal failure's back-off is stored as a `renew_lease_until` with no owner: nobody holds
-- it, so a stopping instance does not release it.
ALTER TABLE user_social_accounts ADD COLUMN sync_lease_owner TEXT;
ALTER TABLE user_social_accounts ADD COLUMN renew_lease_owner TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT;
