-- Backup and PRA operations (issue 7, items 5-6; R9, R10, R6.5).

-- R9.1: the backup plan of a backup service as the client sees it. The
-- scopes are a JSON array of `operations::backup::BackupScope` codes
-- (R9.7); the decision is the R9.7 check as made when the plan was set.
CREATE TABLE backup_plans (
    service_id     TEXT PRIMARY KEY REFERENCES services(id),
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    frequency      TEXT NOT NULL,
    backup_type    TEXT NOT NULL,
    retention_days BIGINT NOT NULL CHECK (retention_days > 0),
    scopes_json    TEXT NOT NULL,
    veeam_licence  TEXT NOT NULL,
    decision_json  TEXT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX backup_plans_org ON backup_plans (org_id, service_id);

-- R9.5: one result of a backup job, pushed by the backup platform. The
-- platform's job id makes a replay a no-op (ON CONFLICT DO NOTHING). No
-- foreign key: the service is checked when the batch is accepted (20 000
-- results a second). `immutable` marks a successful immutable backup: the
-- last one sets the billing after termination (R9.2).
CREATE TABLE backup_job_results (
    service_id  TEXT NOT NULL,
    job_id      TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('success', 'failure')),
    immutable   BIGINT NOT NULL DEFAULT 0,
    message     TEXT NOT NULL DEFAULT '',
    received_at BIGINT NOT NULL,
    PRIMARY KEY (service_id, job_id)
);
CREATE INDEX backup_job_results_service ON backup_job_results (service_id, ended_at);
-- The back office's failed jobs, newest first.
CREATE INDEX backup_job_results_failed ON backup_job_results (ended_at) WHERE status = 'failure';

-- R9.3: a restore from the admin recycle bin, asked of support before the
-- deleted data's bin period expires; support answers.
CREATE TABLE backup_restore_requests (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    service_id    TEXT NOT NULL REFERENCES services(id),
    what          TEXT NOT NULL,
    deleted_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    requested_at  BIGINT NOT NULL,
    requested_by  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('requested', 'restored', 'refused')),
    answer        TEXT NOT NULL DEFAULT '',
    answered_at   BIGINT,
    decision_json TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX backup_restore_requests_org ON backup_restore_requests (org_id, id);
CREATE INDEX backup_restore_requests_open ON backup_restore_requests (state, expires_at);

-- R9.6: a regularisation order sent because the subscribed resources are
-- insufficient; its state (awaiting, signed in time, cancellable) is
-- computed from these instants, never stored.
CREATE TABLE backup_regularisations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    service_id  TEXT NOT NULL REFERENCES services(id),
    reason      TEXT NOT NULL,
    sent_at     BIGINT NOT NULL,
    signed_at   BIGINT,
    version     BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX backup_regularisations_org ON backup_regularisations (org_id, id);

-- R10.2: the client's users designated to trigger a failover and/or change
-- replication and backup policies (JSON array of
-- `operations::pra::PraAction` codes), from `designated_at` until revoked.
CREATE TABLE pra_designations (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    email         TEXT NOT NULL,
    actions_json  TEXT NOT NULL,
    designated_at BIGINT NOT NULL,
    designated_by TEXT NOT NULL,
    revoked_at    BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX pra_designations_org ON pra_designations (org_id, id);

-- R10.1, R6.5: what the provider knows of a protected machine beyond its
-- order line: the criticality it recommends, the client's refusal (no SLA
-- on the machine), and the replication status pushed by the platform.
CREATE TABLE pra_machines (
    service_id              TEXT PRIMARY KEY REFERENCES services(id),
    org_id                  TEXT NOT NULL REFERENCES organizations(id),
    recommended_criticality TEXT CHECK (recommended_criticality IS NULL OR recommended_criticality IN ('c1', 'c2', 'c3')),
    recommended_at          BIGINT,
    refused_at              BIGINT,
    replication_status      TEXT CHECK (replication_status IS NULL OR replication_status IN ('ok', 'lagging', 'failed')),
    last_replication_at     BIGINT,
    replication_reported_at BIGINT,
    version                 BIGINT NOT NULL DEFAULT 0,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX pra_machines_org ON pra_machines (org_id, service_id);

-- R10.3: a test notified by the client, judged when notified (notice
-- days, billed or not); running it records an activation with its kind.
CREATE TABLE pra_tests (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    order_id      TEXT NOT NULL REFERENCES orders(id),
    kind          TEXT NOT NULL CHECK (kind IN ('simple', 'full')),
    notified_at   BIGINT NOT NULL,
    starts_at     BIGINT NOT NULL,
    own_order     TEXT,
    notice_days   BIGINT NOT NULL,
    billed        BIGINT NOT NULL,
    decision_json TEXT NOT NULL,
    activation_id TEXT REFERENCES pra_activations(id),
    created_at    BIGINT NOT NULL
);
CREATE INDEX pra_tests_org ON pra_tests (org_id, id);

-- A test activation whose resources are billed (R10.3: a full test, or a
-- simple test notified too late); the month close bills it as a failover.
ALTER TABLE pra_activations ADD COLUMN test_billed BIGINT NOT NULL DEFAULT 0;
