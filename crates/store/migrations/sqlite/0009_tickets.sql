-- Support desk tickets (issue 5, items 1-2; R4.2-R4.5, CG 14).

-- The last reference number given per year: locked by the upsert that
-- takes the next one, so references are unique and gap-free per year.
CREATE TABLE ticket_counters (
    year  BIGINT PRIMARY KEY,
    last  BIGINT NOT NULL
);

CREATE TABLE tickets (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    -- Human-readable, e.g. T-2026-000123.
    reference        TEXT NOT NULL UNIQUE,
    -- JSON array of the organisation's service ids concerned.
    service_ids      TEXT NOT NULL,
    -- 'client_space', 'api' or 'phone' (opened by staff from a call).
    channel          TEXT NOT NULL CHECK (channel IN ('client_space', 'api', 'phone')),
    -- The notification (R4.4, CG 14.3); empty text = not given yet.
    caller           TEXT NOT NULL,
    caller_authorisation TEXT NOT NULL,
    sites            TEXT NOT NULL,
    service_type     TEXT NOT NULL,
    description      TEXT NOT NULL,
    consequences     TEXT NOT NULL,
    contact          TEXT NOT NULL,
    -- C1-C4 given by the client; I1-I4 set by staff (NULL until then).
    criticality      TEXT NOT NULL,
    impact           TEXT,
    -- The priority handled as (R4.2), with the matrix's when downgraded.
    priority         TEXT NOT NULL,
    support_level    TEXT NOT NULL,
    terms_version    TEXT NOT NULL,
    -- 'open', 'paused', 'restored' or 'closed'.
    state            TEXT NOT NULL CHECK (state IN ('open', 'paused', 'restored', 'closed')),
    -- The call or notification instant.
    opened_at        BIGINT NOT NULL,
    -- When the notification became complete (NULL: incomplete, clock suspended).
    completed_at     BIGINT,
    acknowledged_at  BIGINT,
    restored_at      BIGINT,
    closed_at        BIGINT,
    -- R4.5 classification by staff, and its outcome (0/1).
    cause            TEXT,
    billable         BIGINT NOT NULL DEFAULT 0,
    opened_by        TEXT NOT NULL,
    -- Incremented by every change: one change at a time per ticket.
    version          BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL
);
CREATE INDEX tickets_org ON tickets (org_id, opened_at);
CREATE INDEX tickets_queue ON tickets (state, support_level, priority);

-- The conversation and every step of a ticket.
CREATE TABLE ticket_events (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    ticket_id     TEXT NOT NULL REFERENCES tickets(id),
    -- 'message', 'opened', 'completed', 'impact', 'acknowledged', 'paused',
    -- 'resumed', 'restored', 'closed', 'classified', 'alerted'.
    kind          TEXT NOT NULL,
    -- 'client', 'staff' or 'system'.
    side          TEXT NOT NULL,
    author        TEXT NOT NULL,
    body          TEXT NOT NULL,
    -- A pause: its R4.4 reason and the written request behind it.
    pause_reason  TEXT,
    request_ref   TEXT,
    occurred_at   BIGINT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, occurred_at, id);
