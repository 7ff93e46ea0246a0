-- Prepaid hour books (issue 4, item 7; R8.2-R8.3, CS 5.3).

-- One book per hour-book line of a validated order: the purchase. The
-- unique order line makes creating it at validation idempotent.
CREATE TABLE hour_books (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    order_id       TEXT NOT NULL REFERENCES orders(id),
    order_line_id  TEXT NOT NULL UNIQUE REFERENCES order_lines(id),
    -- Hours bought (the item's hours x the line's quantity).
    hours          BIGINT NOT NULL CHECK (hours > 0),
    -- Price of one hour on the order, exact decimal euros excluding VAT: the
    -- rate an authorised overrun is billed at (R8.2).
    hourly_rate    TEXT NOT NULL,
    terms_version  TEXT NOT NULL,
    purchased_at   BIGINT NOT NULL,
    -- Incremented by every intervention: one recorded at a time per book.
    version        BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);
CREATE INDEX hour_books_org ON hour_books (org_id, id);

-- Time spent by staff, with what it took from the book and why.
CREATE TABLE hour_book_interventions (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    book_id          TEXT NOT NULL REFERENCES hour_books(id),
    -- 'normal' (R8.2), 'server_restoration' or 'data_recovery' (R8.3).
    kind             TEXT NOT NULL CHECK (kind IN ('normal', 'server_restoration', 'data_recovery')),
    started_at       BIGINT NOT NULL,
    ended_at         BIGINT NOT NULL CHECK (ended_at > started_at),
    description      TEXT NOT NULL,
    -- The staff member who did the work.
    staff_id         TEXT NOT NULL,
    staff_label      TEXT NOT NULL,
    -- Exact decimal minutes: the R8.2 charge and its part beyond the balance.
    charged_minutes  TEXT NOT NULL,
    overrun_minutes  TEXT NOT NULL,
    explanation_json TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX hour_book_interventions_book ON hour_book_interventions (book_id, ended_at);

-- The client's written agreement to go beyond the book (R8.2).
CREATE TABLE hour_book_authorisations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    book_id      TEXT NOT NULL REFERENCES hour_books(id),
    -- Who gave it for the client, when, and the writing it was given in.
    given_by     TEXT NOT NULL,
    given_at     BIGINT NOT NULL,
    reference    TEXT NOT NULL,
    max_minutes  BIGINT NOT NULL CHECK (max_minutes > 0),
    recorded_by  TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX hour_book_authorisations_book ON hour_book_authorisations (book_id, given_at);
