-- Maintenance windows and unavailability episodes (issue 5, items 3 and 4;
-- R4.6, R5.2-R5.3).

-- Clusters of the provider's infrastructure: a cluster episode reaches every
-- service on it. The identifier is chosen by staff (e.g. `par1-c01`), the
-- name monitoring labels carry.
CREATE TABLE clusters (
    id          TEXT PRIMARY KEY,
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- A service belongs to at most one cluster (kept apart from `services` so
-- that table is not altered).
CREATE TABLE service_clusters (
    service_id  TEXT PRIMARY KEY REFERENCES services(id),
    cluster_id  TEXT NOT NULL REFERENCES clusters(id),
    assigned_at BIGINT NOT NULL
);
CREATE INDEX service_clusters_cluster ON service_clusters (cluster_id);

-- A planned maintenance window (R4.6): start, expected end, impact, reason,
-- contact; `urgent_security_reason` set when staff mark it urgent security
-- maintenance; `send_by` the last instant a notice is in time.
CREATE TABLE maintenance_windows (
    id                     TEXT PRIMARY KEY,
    title                  TEXT NOT NULL,
    start_at               BIGINT NOT NULL,
    end_at                 BIGINT NOT NULL CHECK (end_at > start_at),
    impact                 TEXT NOT NULL,
    reason                 TEXT NOT NULL,
    contact                TEXT NOT NULL,
    urgent_security_reason TEXT,
    send_by                BIGINT NOT NULL,
    created_at             BIGINT NOT NULL
);
CREATE INDEX maintenance_windows_start ON maintenance_windows (start_at);

-- What a window affects: services and clusters, as staff named them.
CREATE TABLE maintenance_targets (
    window_id   TEXT NOT NULL REFERENCES maintenance_windows(id),
    target_kind TEXT NOT NULL CHECK (target_kind IN ('service', 'cluster')),
    target_id   TEXT NOT NULL,
    PRIMARY KEY (window_id, target_kind, target_id)
);

-- The notice of one affected client: its send time and the engine's R4.6
-- outcome (status in_time/late/not_sent, excluded or not, explanation), and
-- the client's services it concerns (JSON array of ids).
CREATE TABLE maintenance_notices (
    window_id        TEXT NOT NULL REFERENCES maintenance_windows(id),
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    notified_at      BIGINT,
    status           TEXT NOT NULL,
    excluded         BIGINT NOT NULL,
    services_json    TEXT NOT NULL,
    explanation_json TEXT NOT NULL,
    PRIMARY KEY (window_id, org_id)
);
CREATE INDEX maintenance_notices_org ON maintenance_notices (org_id, window_id);

-- An unavailability episode (R5.2) on a cluster or a service, open while
-- `end_at` is NULL. (source, idempotency_key) makes pushes idempotent.
-- `exclusion` is an R5.3 reason (ExclusionReason code) with staff's note.
CREATE TABLE episodes (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    cluster_id      TEXT REFERENCES clusters(id),
    service_id      TEXT REFERENCES services(id),
    start_at        BIGINT NOT NULL,
    end_at          BIGINT,
    impacts_service BIGINT NOT NULL DEFAULT 1,
    source          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    exclusion       TEXT,
    exclusion_note  TEXT,
    ticket_id       TEXT,
    version         BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK ((cluster_id IS NULL) <> (service_id IS NULL)),
    CHECK (end_at IS NULL OR end_at > start_at),
    UNIQUE (source, idempotency_key)
);
CREATE INDEX episodes_cluster ON episodes (cluster_id, start_at);
CREATE INDEX episodes_service ON episodes (service_id, start_at);
CREATE INDEX episodes_start ON episodes (start_at);

-- The first answer to a request sent with an `Idempotency-Key`: a replay
-- with the same body gets it again, another body is refused.
CREATE TABLE idempotent_requests (
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    body_hash    TEXT NOT NULL,
    status       BIGINT NOT NULL,
    response     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

-- The private iCalendar feed of a client's maintenance windows: only the
-- token's hash is stored (shown once, rotated by the Administrator).
CREATE TABLE calendar_feeds (
    org_id      TEXT PRIMARY KEY REFERENCES organizations(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
