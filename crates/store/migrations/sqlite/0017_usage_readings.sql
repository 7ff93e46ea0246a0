-- Usage readings and the month's usage charges (issue 6, item 2; R2.8-R2.10,
-- R3.5, R10.3, R11.5).

-- A port of a colocation emplacement (one colocation service), named as
-- the network knows it. `num` is the compact key the readings use: a
-- bandwidth reading is four integers, so a month of 10 000 ports every
-- 5 minutes (89 million rows) stays a few GB.
CREATE TABLE colocation_ports (
    num         BIGINT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    service_id  TEXT NOT NULL REFERENCES services(id),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (service_id, name)
);
CREATE INDEX colocation_ports_org ON colocation_ports (org_id, service_id);

-- One bandwidth reading of a port (R2.8): in and out in bits/s, at the
-- start of its 5-minute slot (UTC ms). The primary key drops a replayed
-- reading (ON CONFLICT DO NOTHING) and is the month's scan order. No
-- foreign key: the port is checked when the batch is accepted.
CREATE TABLE bandwidth_readings (
    port_num  BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    in_bps    BIGINT NOT NULL CHECK (in_bps >= 0),
    out_bps   BIGINT NOT NULL CHECK (out_bps >= 0),
    PRIMARY KEY (port_num, at)
);

-- Power drawn by an emplacement (R11.5): amperage and/or kVA, exact
-- decimals as text.
CREATE TABLE power_readings (
    service_id  TEXT NOT NULL REFERENCES services(id),
    at          BIGINT NOT NULL,
    amps        TEXT,
    kva         TEXT,
    PRIMARY KEY (service_id, at)
);

-- Backup or PRA storage used by a service (R2.9), in GB, exact decimal.
CREATE TABLE storage_readings (
    service_id  TEXT NOT NULL REFERENCES services(id),
    at          BIGINT NOT NULL,
    gb          TEXT NOT NULL,
    PRIMARY KEY (service_id, at)
);

-- Bytes exchanged by a service during the period starting at `at` (R3.5):
-- the month's total is the sum of the readings starting in it.
CREATE TABLE traffic_readings (
    service_id  TEXT NOT NULL REFERENCES services(id),
    at          BIGINT NOT NULL,
    bytes       BIGINT NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (service_id, at)
);

-- The month-end outcome of R2.9 for one service and month: the days above
-- the subscription, the peak, and, when adjusted, the new level and fee
-- the service takes from the next month (written once; the warning mail
-- is sent with it).
CREATE TABLE usage_adjustments (
    service_id        TEXT NOT NULL REFERENCES services(id),
    month             TEXT NOT NULL,
    org_id            TEXT NOT NULL REFERENCES organizations(id),
    subscribed        TEXT NOT NULL,
    peak              TEXT NOT NULL,
    days_over         BIGINT NOT NULL,
    new_level         TEXT,
    old_fee           TEXT NOT NULL,
    new_fee           TEXT,
    -- First day the new fee applies (YYYY-MM-DD), the 1st of the next month.
    effective_from    TEXT NOT NULL,
    explanation_json  TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (service_id, month)
);
CREATE INDEX usage_adjustments_org ON usage_adjustments (org_id, month);

-- Months whose usage was closed (handed to billing), with what was done.
CREATE TABLE usage_closes (
    month       TEXT PRIMARY KEY,
    report_json TEXT NOT NULL,
    closed_at   BIGINT NOT NULL
);
