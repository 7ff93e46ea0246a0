-- Catalogue prices and orders (issue 4, items 2-4; R1.1-R1.5, R2.2-R2.4).
-- Prices are exact decimals written as text (never REAL); instants are UTC
-- milliseconds; dates are ISO text (YYYY-MM-DD) read in the terms' zone.

-- One published version of the tariff (R2.2, R2.3). Versions are only ever
-- appended with a later effective date; the prices are the catalog crate's
-- JSON (SKU -> tiers), checked again when read back.
CREATE TABLE price_lists (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    effective_from TEXT NOT NULL UNIQUE,
    prices_json    TEXT NOT NULL,
    published_at   BIGINT NOT NULL,
    -- When the price-change notice went to clients (NULL: no price changed).
    notified_at    BIGINT,
    published_by   TEXT
);

-- An order (Bon de Commande) of one client, pinned to the terms version in
-- force at its date (R1.2). `state_json` is the catalog crate's OrderState
-- (the evidence of each step); `state` and `acceptance_deadline` repeat it
-- for lists and the lapse job.
CREATE TABLE orders (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(id),
    kind                TEXT NOT NULL CHECK (kind IN ('initial', 'amendment')),
    amends_order_id     TEXT REFERENCES orders(id),
    state               TEXT NOT NULL CHECK (state IN ('draft', 'sent', 'lapsed', 'accepted', 'validated', 'refused')),
    state_json          TEXT NOT NULL,
    terms_version       TEXT NOT NULL,
    order_date          TEXT NOT NULL,
    -- R1.5: when the client's written request for an amendment was received.
    request_received_at BIGINT,
    price_list_id       TEXT NOT NULL REFERENCES price_lists(id),
    special_conditions  TEXT NOT NULL DEFAULT '{}',
    sent_at             BIGINT,
    sent_by             TEXT,
    acceptance_deadline BIGINT,
    created_by          TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX orders_org ON orders (org_id, id);
CREATE INDEX orders_deadline ON orders (state, acceptance_deadline);

-- One line: `quantity` identical units of an item (the catalog crate's JSON),
-- priced per unit from the price list in force (monthly fee and one-time
-- fees, exact decimal euros excluding VAT), with its commitment.
CREATE TABLE order_lines (
    id                TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL REFERENCES orders(id),
    org_id            TEXT NOT NULL REFERENCES organizations(id),
    position          BIGINT NOT NULL,
    item_json         TEXT NOT NULL,
    quantity          BIGINT NOT NULL CHECK (quantity > 0),
    unit_price        TEXT NOT NULL,
    setup_fee         TEXT NOT NULL,
    commitment_months BIGINT NOT NULL CHECK (commitment_months >= 0),
    UNIQUE (order_id, position)
);
