-- Directory identity (issue 15). external_key is a user's or group's
-- identity for the world outside Roster (sources such as SCIM and LDAP,
-- exports): a version 7 UUID given at creation and never changed, where id
-- is only this database's row number. source owns the row: 'api' for
-- everything an admin creates; a SCIM or LDAP source sets its own name.
-- external_key of existing rows is filled in by Go after this file
-- (identity.go), which then creates the unique indexes on it: until the
-- fill, every old row holds ''.
ALTER TABLE users ADD COLUMN external_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
ALTER TABLE groups ADD COLUMN external_key TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
-- A source lists what it owns page by page, in id order.
CREATE INDEX users_source ON users(source, id);
CREATE INDEX groups_source ON groups(source, id);
