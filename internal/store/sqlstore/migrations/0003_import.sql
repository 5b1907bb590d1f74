-- App users: every member an import downloaded, with its match to the directory.
CREATE TABLE app_users (
    id {{id}},
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    email TEXT NOT NULL,
    given_name TEXT NOT NULL,
    surname TEXT NOT NULL,
    external_id TEXT NOT NULL,
    status TEXT NOT NULL,
    role TEXT NOT NULL,
    state TEXT NOT NULL,
    match_kind TEXT NOT NULL,
    user_id BIGINT NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    seen_at BIGINT NOT NULL,
    CONSTRAINT app_users_member UNIQUE (app_id, member_id)
);
CREATE INDEX app_users_state ON app_users(app_id, state);
