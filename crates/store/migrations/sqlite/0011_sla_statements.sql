-- Monthly SLA statements and their credits (issue 5, item 6; R5-R7), and
-- the receivable side of invoices that R7.5 checks before a credit.

-- One statement per service and calendar month (Europe/Paris, "YYYY-MM").
-- The figures repeat what `statement_json` (the engine's Statement) holds,
-- for lists and the review queue; `evidence_json` is the engine's Evidence
-- it was computed from (format ciel-sla-evidence/1) and `explanation_json`
-- the rules applied. `state` is 'open' while corrections may recompute it
-- (until `correctable_until`), 'frozen' after review or after that instant.
-- `review` is 'none' (no credit), 'proposed', 'approved' or 'rejected'
-- (with the reason, reviewer and instant); an approved credit is handed to
-- billing (`charge_id`). `version` serialises recomputations and reviews.
CREATE TABLE sla_statements (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(id),
    service_id          TEXT NOT NULL REFERENCES services(id),
    month               TEXT NOT NULL,
    terms_version       TEXT NOT NULL,
    offer               TEXT NOT NULL,
    monthly_fee         TEXT NOT NULL,
    month_minutes       BIGINT NOT NULL,
    unavailable_minutes BIGINT NOT NULL,
    -- Rate shown with 4 decimals; the exact comparison is in the statement.
    rate                TEXT NOT NULL,
    guaranteed_rate     TEXT NOT NULL,
    -- The R5.5 tier hit ("99.5 <= rate < 99.9"), NULL when met or no table.
    penalty_tier        TEXT,
    -- Availability penalty, percent of the monthly fee (R5.5).
    penalty_percent     TEXT NOT NULL,
    -- Sum of the events' penalties before caps, EUR (R7.3).
    raw_penalty         TEXT NOT NULL,
    -- JSON array of the caps applied: "month" (R7.2), "year" (R7.2).
    caps_applied        TEXT NOT NULL,
    -- JSON array of the PRA RTO penalties, percent, one per activation (R6.4).
    pra_penalties       TEXT NOT NULL,
    -- How the events were combined (R7.3: the largest per event).
    combination_rule    TEXT NOT NULL,
    -- Credit proposed for the month, EUR rounded to the cent (>= 0).
    credit              TEXT NOT NULL,
    statement_json      TEXT NOT NULL,
    evidence_json       TEXT NOT NULL,
    explanation_json    TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('open', 'frozen')),
    correctable_until   BIGINT NOT NULL,
    review              TEXT NOT NULL CHECK (review IN ('none', 'proposed', 'approved', 'rejected')),
    review_reason       TEXT,
    reviewed_by         TEXT,
    reviewed_at         BIGINT,
    charge_id           TEXT,
    version             BIGINT NOT NULL DEFAULT 0,
    computed_at         BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    UNIQUE (service_id, month)
);
CREATE INDEX sla_statements_org ON sla_statements (org_id, id);
CREATE INDEX sla_statements_month ON sla_statements (month, id);
CREATE INDEX sla_statements_review ON sla_statements (review, id);

-- Invoices as receivables: what the billing run (issue 6) will write, and
-- what R7.5 reads ("every invoice already due is paid"). `paid_at` is NULL
-- while unpaid; `total` is exact decimal euros including VAT.
CREATE TABLE invoices (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    number     TEXT NOT NULL UNIQUE,
    issued_at  BIGINT NOT NULL,
    due_at     BIGINT NOT NULL,
    total      TEXT NOT NULL,
    paid_at    BIGINT
);
CREATE INDEX invoices_org_due ON invoices (org_id, due_at);
