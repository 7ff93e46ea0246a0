-- Services and the charges handed to billing (issue 4, items 5 and 9; R1.6-R1.7,
-- R2.5, R3.1-R3.6, R12.2).

-- One service per recurring line of a validated order (`quantity` identical
-- units billed together, as a subscription item). `state_json` is the catalog
-- crate's ServiceState (the evidence of every step); the other columns
-- repeat it for lists and for the daily pass, which reads only the services
-- whose `next_due_at` has come (the index below).
CREATE TABLE services (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    order_id       TEXT NOT NULL REFERENCES orders(id),
    order_line_id  TEXT NOT NULL UNIQUE REFERENCES order_lines(id),
    -- ItemKind code (cloud_vm, pra, colocation...).
    kind           TEXT NOT NULL,
    label          TEXT NOT NULL,
    item_json      TEXT NOT NULL,
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    -- Monthly fee of the line (quantity x unit price), exact decimal euros excluding VAT.
    monthly_fee    TEXT NOT NULL,
    terms_version  TEXT NOT NULL,
    -- 'ordered' or 'provisioned' (ServiceState's name).
    state          TEXT NOT NULL CHECK (state IN ('ordered', 'provisioned')),
    state_json     TEXT NOT NULL,
    -- Start day and last day of the fixed term (YYYY-MM-DD), once provisioned.
    start_date     TEXT,
    term_last_day  TEXT,
    -- The first instant a time-driven step is due (NULL: none).
    next_due_at    BIGINT,
    -- Incremented by every step: a step applies only to the version it read.
    version        BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX services_org ON services (org_id, id);
CREATE INDEX services_order ON services (order_id);
CREATE INDEX services_due ON services (next_due_at);

-- An amount handed to billing once (termination fees, product-return
-- indemnities, hour-book overruns, billable tickets...). The source and its
-- stable key make the hand-over idempotent: a step run twice or a job re-run
-- after a crash finds the row already there. A revised amount (R2.11) is a
-- new row under a new key, never an update of an invoiced one.
CREATE TABLE charges (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    source_kind      TEXT NOT NULL,
    source_id        TEXT NOT NULL,
    charge_key       TEXT NOT NULL,
    -- The rule that produced it, e.g. R3.1.
    rule             TEXT NOT NULL,
    label            TEXT NOT NULL,
    -- Exact decimal euros excluding VAT, rounded to the cent.
    amount           TEXT NOT NULL,
    -- The explanation (JSON) citing the clauses applied.
    explanation_json TEXT NOT NULL DEFAULT '{}',
    -- When the fact occurred (the day billing dates the line by).
    occurred_at      BIGINT NOT NULL,
    -- Set by the billing run that invoices it.
    invoice_id       TEXT,
    created_at       BIGINT NOT NULL,
    UNIQUE (source_kind, source_id, charge_key)
);
CREATE INDEX charges_pending ON charges (org_id, invoice_id);
