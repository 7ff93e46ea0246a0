-- Colocation operations (issue 7, items 1-4; R11.1-R11.6).
--
-- Every instant is UTC milliseconds; every amount exact decimal text. The
-- rules (who may enter, deadlines, power levels, decommissioning steps) are
-- computed by the pure `operations` crate from these facts, never stored as
-- conclusions, except what was sent or charged (evidence).

-- People a client declares as allowed to come to its equipment (R11.1).
CREATE TABLE colo_persons (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    name       TEXT NOT NULL,
    -- The official ID the person will show (CS 2.3.3): `national_id`,
    -- `passport`, `residence_permit` or `driving_licence`.
    id_kind    TEXT NOT NULL,
    company    TEXT NOT NULL,
    -- No longer declared from this instant (kept: requests name it).
    removed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX colo_persons_org ON colo_persons (org_id, id);

-- Temporary access requests at sites that grant only them (MLB).
CREATE TABLE colo_access_requests (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    site            TEXT NOT NULL,
    window_start    BIGINT NOT NULL,
    window_end      BIGINT NOT NULL CHECK (window_end > window_start),
    purpose         TEXT NOT NULL,
    -- Third parties announced beforehand, JSON array of names.
    companions_json TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'refused', 'cancelled')),
    decided_at      BIGINT,
    decided_by      TEXT,
    decision_note   TEXT NOT NULL DEFAULT '',
    version         BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX colo_access_requests_org ON colo_access_requests (org_id, id);
-- The desk's check reads the requests still open at an instant: a range on
-- the end of the window, per site.
CREATE INDEX colo_access_requests_site_end ON colo_access_requests (site, window_end);
CREATE INDEX colo_access_requests_pending ON colo_access_requests (status, window_start);

CREATE TABLE colo_access_request_people (
    request_id TEXT NOT NULL REFERENCES colo_access_requests(id),
    person_id  TEXT NOT NULL REFERENCES colo_persons(id),
    PRIMARY KEY (request_id, person_id)
);
CREATE INDEX colo_access_request_people_person ON colo_access_request_people (person_id, request_id);

-- Permanent nominative badges (PA3, Toulouse, Dijon) and their history.
CREATE TABLE colo_badges (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    person_id  TEXT NOT NULL REFERENCES colo_persons(id),
    site       TEXT NOT NULL,
    -- The state after the last event (lists); the check replays events.
    state      TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'revoked')),
    version    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX colo_badges_org ON colo_badges (org_id, id);
CREATE INDEX colo_badges_person_site ON colo_badges (person_id, site);

CREATE TABLE colo_badge_events (
    badge_id    TEXT NOT NULL REFERENCES colo_badges(id),
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('issued', 'suspended', 'reactivated', 'revoked')),
    valid_until BIGINT,
    note        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (badge_id, seq)
);

-- Prevention plans signed at the first intervention, per client and site
-- (R11.2); the reminder is sent once per plan.
CREATE TABLE colo_prevention_plans (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    site             TEXT NOT NULL,
    signed_at        BIGINT NOT NULL,
    signatory        TEXT NOT NULL,
    preventer        TEXT NOT NULL,
    reminder_sent_at BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX colo_prevention_plans_org_site ON colo_prevention_plans (org_id, site, signed_at);
CREATE INDEX colo_prevention_plans_reminder ON colo_prevention_plans (reminder_sent_at, signed_at);

-- Remote hands ordered per intervention (R11.3), priced from the price
-- list of the colocation's order; done, its price goes to `charges`.
CREATE TABLE colo_remote_hands (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    service_id    TEXT NOT NULL REFERENCES services(id),
    kind          TEXT NOT NULL,
    description   TEXT NOT NULL,
    price         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('ordered', 'done', 'cancelled')),
    minutes_spent BIGINT,
    done_at       BIGINT,
    version       BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX colo_remote_hands_org ON colo_remote_hands (org_id, id);
CREATE INDEX colo_remote_hands_status ON colo_remote_hands (status, id);

-- The 7-day deadlines of R11.4: a client's change request (the provider
-- answers in writing), the provider's inventory and cabling request (the
-- client answers), a damage notice (the client repairs).
CREATE TABLE colo_deadlines (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    service_id      TEXT NOT NULL REFERENCES services(id),
    kind            TEXT NOT NULL CHECK (kind IN ('change_answer', 'inventory', 'damage_repair')),
    subject         TEXT NOT NULL,
    detail          TEXT NOT NULL,
    opened_at       BIGINT NOT NULL,
    done_at         BIGINT,
    -- Change requests: `approved` or `refused`; others: NULL.
    decision        TEXT,
    answer          TEXT NOT NULL DEFAULT '',
    -- Damage repaired by the provider at the client's cost (R11.4).
    repair_cost     TEXT,
    alert_sent_at   BIGINT,
    breach_sent_at  BIGINT,
    version         BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX colo_deadlines_org ON colo_deadlines (org_id, id);
CREATE INDEX colo_deadlines_open ON colo_deadlines (done_at, opened_at);

-- Power level of each colocation service after its latest reading, and
-- every crossing into `near` or `above` (R11.5), mailed once.
CREATE TABLE colo_power_states (
    service_id TEXT PRIMARY KEY REFERENCES services(id),
    level      TEXT NOT NULL CHECK (level IN ('normal', 'near', 'above')),
    at         BIGINT NOT NULL
);

CREATE TABLE colo_power_alerts (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    service_id TEXT NOT NULL REFERENCES services(id),
    at         BIGINT NOT NULL,
    level      TEXT NOT NULL CHECK (level IN ('near', 'above')),
    amps       TEXT,
    kva        TEXT,
    explanation_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (service_id, at, level)
);
CREATE INDEX colo_power_alerts_org ON colo_power_alerts (org_id, id);

-- Decommissioning at a colocation termination (R11.6): the facts (photo
-- proof, registered formal notice) and the steps applied, as the
-- operations crate's `DecommissionState` JSON.
CREATE TABLE colo_decommissions (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    service_id     TEXT NOT NULL UNIQUE REFERENCES services(id),
    effective_date TEXT NOT NULL,
    state_json     TEXT NOT NULL,
    -- Set while steps remain to apply: the pass reads only these.
    open           BIGINT NOT NULL DEFAULT 1,
    version        BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);
CREATE INDEX colo_decommissions_org ON colo_decommissions (org_id, id);
CREATE INDEX colo_decommissions_open ON colo_decommissions (open);

-- The timestamped photo proving the space is empty: bytes as base64 text
-- (one type on both backends), served only as a download.
CREATE TABLE colo_decommission_photos (
    decommission_id TEXT PRIMARY KEY REFERENCES colo_decommissions(id),
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    taken_at        BIGINT NOT NULL,
    uploaded_at     BIGINT NOT NULL,
    data_base64     TEXT NOT NULL
);
