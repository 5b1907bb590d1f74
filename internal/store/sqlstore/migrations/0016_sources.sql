-- Directory sources (MISSION D5, D6, D7): a SCIM client or an LDAP directory
-- that feeds users and groups into Roster. A user's or group's source column
-- (migration 0014) holds the name of the source that owns it, or 'api'.
-- config is the kind's non-secret settings as JSON (an LDAP URL, base DN);
-- sealed_secret what Roster needs to reach the source (an LDAP bind
-- password), sealed with Roster's key like an app's token; token_hash the
-- hash of the bearer token a SCIM client presents, like an admin token's.
-- settings are the rules shared by every kind (adopt, deactivate_as).
CREATE TABLE sources (
    id {{id}},
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    settings TEXT NOT NULL DEFAULT '{}',
    sealed_secret {{blob}},
    token_hash {{blob}},
    created_at BIGINT NOT NULL,
    last_request_at BIGINT NOT NULL DEFAULT 0,
    last_run_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    last_error_at BIGINT NOT NULL DEFAULT 0,
    error_count BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT sources_name_key UNIQUE (name_key)
);
CREATE UNIQUE INDEX sources_token_hash ON sources(token_hash);
-- The source's own identifier of a group it owns (SCIM externalId); a
-- user's is one of its attributes.
ALTER TABLE groups ADD COLUMN source_external_id TEXT NOT NULL DEFAULT '';
-- The deletion guard counts an app's members before each batch that
-- off-boards (a SCIM deactivation is one): counted from this index alone,
-- not from the accounts' rows, it takes milliseconds in a 100,000-member team.
CREATE INDEX app_accounts_status ON app_accounts(app_id, status);
