-- Billing (issue 6; R2.4, R2.11, R2.12, R7.5): the invoices of 0011 become
-- full documents, with their lines, their number from a locked counter row,
-- their Factur-X PDF, and the billing runs that write them.

-- An invoice or a credit note (R2.11: an issued document never changes; a
-- correction is a credit note referencing the invoice it corrects). Amounts
-- are written as on the document, positive for both kinds: the kind gives
-- the direction (a credit note reduces what the client owes).
ALTER TABLE invoices ADD COLUMN kind TEXT NOT NULL DEFAULT 'invoice'
    CHECK (kind IN ('invoice', 'credit_note'));
ALTER TABLE invoices ADD COLUMN corrects_invoice_id TEXT REFERENCES invoices(id);
-- The month billed ("YYYY-MM") of a monthly invoice; NULL for a credit note.
ALTER TABLE invoices ADD COLUMN period TEXT;
-- The billing run that wrote it (NULL for a credit note written by staff).
ALTER TABLE invoices ADD COLUMN run_id TEXT;
-- The language of the PDF (fr, en).
ALTER TABLE invoices ADD COLUMN lang TEXT NOT NULL DEFAULT 'fr';
ALTER TABLE invoices ADD COLUMN total_excl_vat TEXT NOT NULL DEFAULT '0';
ALTER TABLE invoices ADD COLUMN total_vat TEXT NOT NULL DEFAULT '0';
-- Seller and buyer as they were at issue (the document must not change when
-- a profile does): JSON.
ALTER TABLE invoices ADD COLUMN parties_json TEXT NOT NULL DEFAULT '{}';
-- One monthly invoice per client and month: a run re-run writes nothing twice.
CREATE UNIQUE INDEX invoices_org_period ON invoices (org_id, period);

-- The lines, each with the explanation of the rules that produced it.
-- `offer` is the service's ItemKind code (cloud_vm, colocation...) when the
-- line comes from a service, for the accounting accounts per offer.
CREATE TABLE invoice_lines (
    invoice_id       TEXT NOT NULL REFERENCES invoices(id),
    position         BIGINT NOT NULL,
    -- recurring, pro_rata, setup, charge (engine::billing::LineKind).
    kind             TEXT NOT NULL,
    -- service or charge, and its identifier.
    source_kind      TEXT NOT NULL,
    source_id        TEXT NOT NULL,
    offer            TEXT,
    label            TEXT NOT NULL,
    period_start     TEXT,
    period_end       TEXT,
    quantity         TEXT NOT NULL,
    unit_price       TEXT NOT NULL,
    -- Exact decimal euros excluding VAT, rounded to the cent (R2.12);
    -- negative for a credit deducted from a monthly invoice (R7.5).
    amount           TEXT NOT NULL,
    vat_percent      TEXT NOT NULL,
    rule             TEXT NOT NULL,
    explanation_json TEXT NOT NULL,
    PRIMARY KEY (invoice_id, position)
);
CREATE INDEX invoice_lines_source ON invoice_lines (source_kind, source_id);

-- The numbering counter (R2.11): one row per sequence, read and incremented
-- under a row lock in the invoice's own transaction, so a number is used
-- only if its invoice is written (a database sequence would leave gaps).
CREATE TABLE invoice_counters (
    sequence    TEXT PRIMARY KEY,
    next_value  BIGINT NOT NULL
);

-- The Factur-X PDF (PDF/A-3b with the CII XML embedded), written with the
-- invoice; bytes as base64 text, one type on both backends.
CREATE TABLE invoice_documents (
    invoice_id  TEXT PRIMARY KEY REFERENCES invoices(id),
    pdf_base64  TEXT NOT NULL,
    xml         TEXT NOT NULL,
    sha256      TEXT NOT NULL
);

-- A billing run for one month: its progress and result. Each client is one
-- item, done in its own transaction with its invoice; a run resumed after a
-- crash continues with the items still pending.
CREATE TABLE billing_runs (
    id           TEXT PRIMARY KEY,
    -- "YYYY-MM", the month whose invoice (dated the 1st) is built.
    period       TEXT NOT NULL,
    -- running, done, failed.
    state        TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    total_items  BIGINT NOT NULL DEFAULT 0,
    done_items   BIGINT NOT NULL DEFAULT 0,
    invoices     BIGINT NOT NULL DEFAULT 0,
    -- Sum of the invoices' totals including VAT, exact decimal text.
    amount       TEXT NOT NULL DEFAULT '0',
    error        TEXT,
    started_by   TEXT,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX billing_runs_period ON billing_runs (period, started_at);

CREATE TABLE billing_run_items (
    run_id      TEXT NOT NULL REFERENCES billing_runs(id),
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    -- pending, invoiced, empty (nothing to bill), failed.
    state       TEXT NOT NULL CHECK (state IN ('pending', 'invoiced', 'empty', 'failed')),
    invoice_id  TEXT REFERENCES invoices(id),
    error       TEXT,
    PRIMARY KEY (run_id, org_id)
);
CREATE INDEX billing_run_items_state ON billing_run_items (run_id, state);
