-- A client may decline a sent order before its deadline (state 'declined').
-- The state CHECK of 0003 cannot be altered in place on SQLite, so orders and
-- their lines are rebuilt (same columns, same data) with the wider CHECK; the
-- same statements run on PostgreSQL.
CREATE TABLE orders_new (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(id),
    kind                TEXT NOT NULL CHECK (kind IN ('initial', 'amendment')),
    amends_order_id     TEXT REFERENCES orders_new(id),
    state               TEXT NOT NULL CHECK (state IN ('draft', 'sent', 'lapsed', 'accepted', 'validated', 'refused', 'declined')),
    state_json          TEXT NOT NULL,
    terms_version       TEXT NOT NULL,
    order_date          TEXT NOT NULL,
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
INSERT INTO orders_new (id, org_id, kind, amends_order_id, state, state_json, terms_version,
    order_date, request_received_at, price_list_id, special_conditions, sent_at, sent_by,
    acceptance_deadline, created_by, created_at, updated_at)
SELECT id, org_id, kind, amends_order_id, state, state_json, terms_version,
    order_date, request_received_at, price_list_id, special_conditions, sent_at, sent_by,
    acceptance_deadline, created_by, created_at, updated_at FROM orders;

CREATE TABLE order_lines_new (
    id                TEXT PRIMARY KEY,
    order_id          TEXT NOT NULL REFERENCES orders_new(id),
    org_id            TEXT NOT NULL REFERENCES organizations(id),
    position          BIGINT NOT NULL,
    item_json         TEXT NOT NULL,
    quantity          BIGINT NOT NULL CHECK (quantity > 0),
    unit_price        TEXT NOT NULL,
    setup_fee         TEXT NOT NULL,
    commitment_months BIGINT NOT NULL CHECK (commitment_months >= 0),
    UNIQUE (order_id, position)
);
INSERT INTO order_lines_new (id, order_id, org_id, position, item_json, quantity, unit_price,
    setup_fee, commitment_months)
SELECT id, order_id, org_id, position, item_json, quantity, unit_price, setup_fee,
    commitment_months FROM order_lines;

DROP TABLE order_lines;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
ALTER TABLE order_lines_new RENAME TO order_lines;
CREATE INDEX orders_org ON orders (org_id, id);
CREATE INDEX orders_deadline ON orders (state, acceptance_deadline);
