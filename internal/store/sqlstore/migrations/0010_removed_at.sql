-- When an account was removed (by Roster, or first seen removed), in Unix
-- nanoseconds; 0 unless status is removed. Dropbox can recover a removed
-- member for 7 days and does not say when it was removed, so Roster keeps
-- the time itself to know when the window has passed. A removed account
-- already recorded dates from its last write, the closest record there is.
ALTER TABLE app_accounts ADD COLUMN removed_at BIGINT NOT NULL DEFAULT 0;
UPDATE app_accounts SET removed_at = updated_at WHERE status = 'removed';
