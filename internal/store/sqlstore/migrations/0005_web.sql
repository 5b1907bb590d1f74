-- The admin web UI: local admins (password hashes only), sessions (hashes of
-- their ids only), OAuth state parameters in flight, and each app's OAuth
-- client for "Authenticate with Dropbox Business" (secrets sealed by Roster).
CREATE TABLE web_admins (
    id {{id}},
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    password_hash {{blob}} NOT NULL,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT web_admins_name_key UNIQUE (name_key)
);

CREATE TABLE web_sessions (
    id_hash {{blob}} PRIMARY KEY,
    actor TEXT NOT NULL,
    admin_id BIGINT NOT NULL DEFAULT 0,
    token_id BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions(expires_at);

CREATE TABLE web_oauth_states (
    state_hash {{blob}} PRIMARY KEY,
    session_hash {{blob}} NOT NULL,
    app_id BIGINT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);

CREATE TABLE app_oauth_clients (
    app_id BIGINT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    sealed_secret {{blob}} NOT NULL,
    sealed_refresh {{blob}},
    token_expires_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
