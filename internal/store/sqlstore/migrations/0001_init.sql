-- {{id}} and {{blob}} are replaced per dialect; times are Unix nanoseconds so
-- both backends store and compare them the same way.
CREATE TABLE users (
    id {{id}},
    username TEXT NOT NULL,
    username_key TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    attributes TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username_key),
    CONSTRAINT users_email_key UNIQUE (email_key)
);

CREATE TABLE groups (
    id {{id}},
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT groups_name_key UNIQUE (name_key)
);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE apps (
    id {{id}},
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    base_url TEXT NOT NULL,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT apps_name_key UNIQUE (name_key)
);

CREATE TABLE app_credentials (
    app_id BIGINT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    sealed {{blob}} NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE assignments (
    id {{id}},
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    group_id BIGINT REFERENCES groups(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX assignments_user ON assignments(app_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX assignments_group ON assignments(app_id, group_id) WHERE group_id IS NOT NULL;
CREATE INDEX assignments_by_user ON assignments(user_id);
CREATE INDEX assignments_by_group ON assignments(group_id);

-- The outbox: one row per target to reconcile; repeated changes coalesce.
CREATE TABLE work_items (
    app_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    reason TEXT NOT NULL,
    generation BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, kind, ref_id)
);
CREATE INDEX work_items_due ON work_items(app_id, due_at);

CREATE TABLE audit_log (
    id {{id}},
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target TEXT NOT NULL,
    app TEXT NOT NULL,
    outcome TEXT NOT NULL,
    message TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log(target_kind, target);
CREATE INDEX audit_log_action ON audit_log(action);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE api_tokens (
    id {{id}},
    name TEXT NOT NULL,
    hash {{blob}} NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0
);
