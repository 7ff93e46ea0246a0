-- Colocation availability (issue 5, item 7; R5.6): episodes of network,
-- power or ambient temperature loss in a datacenter (a code of the terms'
-- `colocation.datacenters`: MLB, PA3, TLS, DIJ), open while `end_at` is
-- NULL. (source, idempotency_key) makes pushes idempotent; overlapping
-- episodes are stored as reported and merged when the yearly figure is
-- computed. `exclusion` is an R5.3 reason (ExclusionReason code) with
-- staff's note.
CREATE TABLE datacenter_episodes (
    id              TEXT PRIMARY KEY,
    datacenter      TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('network', 'power', 'temperature')),
    start_at        BIGINT NOT NULL,
    end_at          BIGINT,
    source          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    exclusion       TEXT,
    exclusion_note  TEXT,
    version         BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK (end_at IS NULL OR end_at > start_at),
    UNIQUE (source, idempotency_key)
);
CREATE INDEX datacenter_episodes_dc ON datacenter_episodes (datacenter, start_at);
