-- A directory source Roster reads (LDAP) remembers where its last read
-- ended: high_water is the greatest change mark it saw (an OpenLDAP
-- modifyTimestamp, an AD uSNChanged), from which the next incremental read
-- starts; full_sync_at is when a full read last applied, so a schedule knows
-- when the next full read (which notices deletions) is due.
ALTER TABLE sources ADD COLUMN high_water TEXT NOT NULL DEFAULT '';
ALTER TABLE sources ADD COLUMN full_sync_at BIGINT NOT NULL DEFAULT 0;
