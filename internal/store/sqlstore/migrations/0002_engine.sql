-- Work items become tasks (state 'task') after too many failed attempts; an
-- admin retries or dismisses them.
ALTER TABLE work_items ADD COLUMN state TEXT NOT NULL DEFAULT 'queued';
CREATE INDEX work_items_state ON work_items(state, app_id);

-- The known state ("shadow") of each provisioned account: what Roster last saw
-- or did in the app. No foreign key to users: an account outlives a deleted
-- user until it is reconciled away.
CREATE TABLE app_accounts (
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    member_id TEXT NOT NULL,
    email TEXT NOT NULL,
    given_name TEXT NOT NULL,
    surname TEXT NOT NULL,
    external_id TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    silent INTEGER NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, user_id)
);
CREATE UNIQUE INDEX app_accounts_member ON app_accounts(app_id, member_id);
