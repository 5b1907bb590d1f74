-- When Roster last read a pushed group's members from Dropbox (it created
-- or linked the group, or a full reconciliation re-read it): `groups pushed`
-- says in step only as of then, for members changed in Dropbox directly
-- are seen by a read and by nothing else. 0: never read.
ALTER TABLE pushed_groups ADD COLUMN verified_at BIGINT NOT NULL DEFAULT 0;
