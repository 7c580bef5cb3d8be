-- The build records: one row per uploaded vesselinfo, keyed by its ID (the
-- hash of its text). Archives are not stored: every server rebuilds them.
CREATE TABLE builds (
    id            text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    vesselinfo    bytea       NOT NULL,
    created       timestamptz NOT NULL DEFAULT now(),
    last_download timestamptz
);
