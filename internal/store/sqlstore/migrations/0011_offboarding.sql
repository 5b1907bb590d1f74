-- An off-boarding and the intent it was started under: the deactivation
-- settings in force when the user left the app, so that a later change of
-- settings never reaches back to earlier leavers (it is applied to them
-- only on an admin's explicit request). phase is 'grace' while a removal
-- waits for remove_due_at, else 'final'. held: the deletion guard holds it
-- for an admin; confirmed_by: the admin who confirmed or released it; kept:
-- an admin cancelled the removal (the member stays suspended).
CREATE TABLE offboardings (
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    settings TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    phase TEXT NOT NULL DEFAULT 'final',
    remove_due_at BIGINT NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    confirmed_by TEXT NOT NULL DEFAULT '',
    kept INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, user_id)
);
CREATE INDEX offboardings_due ON offboardings(phase, remove_due_at);
CREATE INDEX offboardings_held ON offboardings(app_id, held);

-- Off-boardings made, for the deletion guard's sliding window.
CREATE TABLE offboard_events (
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    irreversible INTEGER NOT NULL,
    confirmed INTEGER NOT NULL
);
CREATE INDEX offboard_events_at ON offboard_events(app_id, at);
