-- Terms versions over running orders (issue 4, items 6 and 9; R1.2, CG 2.4).

-- A published terms document. Its publication is the notice to the clients
-- with running orders; the version applies to them at
-- `applies_to_running_from` (the end of the objection delay, not before the
-- effective date) unless they object.
CREATE TABLE terms_versions (
    -- The document's `version.id`.
    id                       TEXT PRIMARY KEY,
    toml                     TEXT NOT NULL,
    -- YYYY-MM-DD: orders dated from it are pinned to it.
    effective_date           TEXT NOT NULL,
    -- The notice instant.
    published_at             BIGINT NOT NULL,
    published_by             TEXT,
    -- The objection delay in calendar days, from the version in force when
    -- it was notified (`contract.new_version_applies_after_days`).
    objection_days           BIGINT NOT NULL,
    applies_to_running_from  BIGINT NOT NULL
);

-- A client's written objection to a version, for one order (one per pair).
CREATE TABLE terms_objections (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    order_id    TEXT NOT NULL REFERENCES orders(id),
    version_id  TEXT NOT NULL REFERENCES terms_versions(id),
    -- When the written objection was received (staff may back-date it).
    received_at BIGINT NOT NULL,
    recorded_by TEXT,
    recorded_at BIGINT NOT NULL,
    UNIQUE (order_id, version_id)
);
CREATE INDEX terms_objections_org ON terms_objections (org_id, order_id);

-- The evidence written by the `terms.apply` job: a version began to govern
-- an order (once per pair, so the job can run twice).
CREATE TABLE terms_applications (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    order_id    TEXT NOT NULL REFERENCES orders(id),
    version_id  TEXT NOT NULL REFERENCES terms_versions(id),
    -- When it began to govern, and why (governance reason code).
    applied_at  BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    UNIQUE (order_id, version_id)
);
CREATE INDEX terms_applications_org ON terms_applications (org_id, order_id);
