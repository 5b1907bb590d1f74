-- Worker processes sharing this database, kept alive by heartbeats.
CREATE TABLE fleet_workers (
    owner TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    alive_until BIGINT NOT NULL
);

-- One lane per app instance: only its holder calls the app, so the app's
-- call budget is spent by one pacer across the fleet.
CREATE TABLE app_lanes (
    app_id BIGINT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    since BIGINT NOT NULL
);
