-- Accounts are found by member id through a 64-bit hash of it instead of
-- the id's text. Dropbox member ids are random, so every index entry lands
-- on a random page; entries of 40-character text spread over three times as
-- many pages as integers, and each page an insert touches is written out
-- again at commit. On an initial push of 100,000 users the text index cost
-- about a fifth of the time. The hash is not unique: lookups compare the id
-- too, and the engine refuses to link a member already linked to another
-- user (the import checks the same before it links).
-- member_key of existing rows is filled in by Go after this file (hash.go).
ALTER TABLE app_accounts ADD COLUMN member_key BIGINT NOT NULL DEFAULT 0;
DROP INDEX app_accounts_member;
CREATE INDEX app_accounts_member_key ON app_accounts(app_id, member_key);
