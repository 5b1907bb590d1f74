-- Whether a removed account can still be recovered in the app. Only a full
-- listing of the team tells (get_info does not show removed members), so
-- the reconciliation records it for the sync that follows.
ALTER TABLE app_accounts ADD COLUMN recoverable INTEGER NOT NULL DEFAULT 0;
