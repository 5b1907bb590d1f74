-- Group push (MISSION F7). Rules choose directory groups for an app (a name
-- rule holds its group's id, 0 for a pattern, so a rename keeps it); each
-- pushed group keeps what Roster knows of its Dropbox group and of that
-- group's members, so membership changes go out as differences.
CREATE TABLE group_push_rules (
    id {{id}},
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL,
    pattern TEXT NOT NULL,
    rule_key TEXT NOT NULL,
    link_existing INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CONSTRAINT group_push_rules_key UNIQUE (app_id, rule_key)
);

-- No foreign key to groups: a deleted directory group must still be unlinked.
CREATE TABLE pushed_groups (
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL,
    group_name TEXT NOT NULL,
    remote_id TEXT NOT NULL DEFAULT '',
    remote_name TEXT NOT NULL DEFAULT '',
    link_existing INTEGER NOT NULL DEFAULT 0,
    unlink INTEGER NOT NULL DEFAULT 0,
    delete_in_app INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    synced_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, group_id)
);
CREATE INDEX pushed_groups_group ON pushed_groups(group_id);

-- user_id 0: a member Roster holds no account for, found when linking.
CREATE TABLE pushed_group_members (
    app_id BIGINT NOT NULL,
    group_id BIGINT NOT NULL,
    member_id TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (app_id, group_id, member_id),
    FOREIGN KEY (app_id, group_id) REFERENCES pushed_groups(app_id, group_id) ON DELETE CASCADE
);
