-- Payments, SEPA direct-debit batches, dunning and disputes (issue 6 items
-- 5-7; R2.6, R2.7, R3.3, R3.4, R7.5). Amounts are exact decimal euros as
-- text, instants UTC milliseconds, days `YYYY-MM-DD` in Europe/Paris.

-- Money received from a client. `excess` records what the client chose to do
-- with what went beyond the invoices due (a payment larger than what is due
-- without that choice is refused).
CREATE TABLE payments (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    amount        TEXT NOT NULL,
    received_on   TEXT NOT NULL,
    method        TEXT NOT NULL CHECK (method IN ('sepa_direct_debit', 'transfer', 'other')),
    reference     TEXT NOT NULL,
    excess        TEXT CHECK (excess IN ('keep_as_credit', 'refund')),
    recorded_by   TEXT,
    -- The imported file's name, when the payment came from an import.
    imported_from TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX payments_org ON payments (org_id, received_on);

-- What part of a payment settles what invoice. A rejection deletes the
-- allocations of its payment (the audit log keeps them).
CREATE TABLE payment_allocations (
    payment_id  TEXT NOT NULL REFERENCES payments(id),
    invoice_id  TEXT NOT NULL REFERENCES invoices(id),
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    amount      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX payment_allocations_invoice ON payment_allocations (invoice_id);

-- The bank's rejection of a direct debit (or a returned transfer): the
-- payment no longer counts (R3.3: the client is emailed 8 days to regularise).
CREATE TABLE payment_rejections (
    payment_id    TEXT PRIMARY KEY REFERENCES payments(id),
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    reason_code   TEXT NOT NULL,
    rejected_on   TEXT NOT NULL,
    recorded_by   TEXT,
    imported_from TEXT,
    created_at    BIGINT NOT NULL
);

-- Money given back to a client: the excess of a payment, or a credit once
-- all its services have ended (R7.5).
CREATE TABLE refunds (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    amount      TEXT NOT NULL,
    refunded_on TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('payment_excess', 'credit_after_services_ended')),
    payment_id  TEXT REFERENCES payments(id),
    reference   TEXT NOT NULL,
    recorded_by TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX refunds_org ON refunds (org_id);

-- A pain.008.001.08 file as written, and the invoices it collects.
CREATE TABLE sepa_batches (
    id              TEXT PRIMARY KEY,
    collection_date TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    transactions    BIGINT NOT NULL,
    total           TEXT NOT NULL,
    xml             TEXT NOT NULL,
    created_by      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE TABLE sepa_batch_items (
    batch_id          TEXT NOT NULL REFERENCES sepa_batches(id),
    invoice_id        TEXT NOT NULL REFERENCES invoices(id),
    org_id            TEXT NOT NULL REFERENCES organizations(id),
    end_to_end_id     TEXT NOT NULL,
    amount            TEXT NOT NULL,
    -- FRST for a mandate's first collection, RCUR after.
    sequence_type     TEXT NOT NULL,
    mandate_reference TEXT NOT NULL,
    PRIMARY KEY (batch_id, invoice_id)
);
CREATE INDEX sepa_batch_items_invoice ON sepa_batch_items (invoice_id);
CREATE INDEX sepa_batch_items_mandate ON sepa_batch_items (mandate_reference);

-- The follow-up of an unpaid invoice past due (R2.6): the formal notice,
-- the day the sanction may be chosen (15 days later) and the staff choice.
CREATE TABLE dunning (
    invoice_id      TEXT PRIMARY KEY REFERENCES invoices(id),
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    notice_sent_at  BIGINT NOT NULL,
    sanction_from   BIGINT NOT NULL,
    -- accelerate, suspend, guarantee, terminate; NULL while undecided.
    sanction        TEXT CHECK (sanction IN ('accelerate', 'suspend', 'guarantee', 'terminate')),
    sanction_note   TEXT,
    sanction_at     BIGINT,
    sanction_by     TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX dunning_queue ON dunning (sanction, sanction_from);

-- R2.6 "make every unpaid invoice due": an issued invoice never changes
-- (R2.11), so the receivable's new due instant is kept beside it.
CREATE TABLE invoice_accelerations (
    invoice_id  TEXT PRIMARY KEY REFERENCES invoices(id),
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    due_at      BIGINT NOT NULL,
    decided_by  TEXT,
    created_at  BIGINT NOT NULL
);

-- A client's contest of an invoice (R2.7), and the provider's answer.
CREATE TABLE invoice_disputes (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    invoice_id   TEXT NOT NULL REFERENCES invoices(id),
    reason       TEXT NOT NULL,
    opened_by    TEXT,
    opened_at    BIGINT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('open', 'accepted', 'rejected')),
    answer       TEXT,
    answered_by  TEXT,
    answered_at  BIGINT
);
CREATE INDEX invoice_disputes_org ON invoice_disputes (org_id, state);
