-- Operation records: the whole record as JSON, plus the columns lists filter and sort on.
-- The same statements run on SQLite and Postgres. Times are milliseconds since the epoch.
CREATE TABLE IF NOT EXISTS operations (
    operation_id   TEXT PRIMARY KEY,
    operation_type TEXT NOT NULL,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    -- The backend that runs it (`backends.owner`).
    owner          TEXT NOT NULL,
    record         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS operations_by_created ON operations (created_at, operation_id);
CREATE INDEX IF NOT EXISTS operations_by_status ON operations (status, created_at);
CREATE INDEX IF NOT EXISTS operations_by_type ON operations (operation_type, created_at);

-- The backends writing to this store, each with its last sign of life: the operations of one
-- that stopped (its heartbeat stale, or its process gone on this host) are interrupted.
CREATE TABLE IF NOT EXISTS backends (
    owner        TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
