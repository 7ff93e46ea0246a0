-- The spine: organisations, users, sessions, tokens, audit log, jobs, outbox.
-- Instants are BIGINT milliseconds since the Unix epoch, UTC. Flags are 0/1.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('provider', 'client')),
    name        TEXT NOT NULL,
    siren       TEXT,
    vat_number  TEXT,
    address     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organizations(id),
    email               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    password_hash       TEXT,
    staff_role          TEXT,
    is_org_admin        BIGINT NOT NULL DEFAULT 0,
    permissions         TEXT NOT NULL DEFAULT '',
    lang                TEXT NOT NULL DEFAULT 'fr',
    status              TEXT NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
    generic_warning     BIGINT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    password_changed_at BIGINT
);
CREATE INDEX users_org ON users (org_id, id);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id),
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_org ON api_tokens (org_id, id);

CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id);

CREATE TABLE login_failures (
    throttle_key TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (throttle_key, at);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    org_id      TEXT,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT,
    actor_label TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    recorded_at BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    request_id  TEXT
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    dedup_key    TEXT UNIQUE,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at       BIGINT NOT NULL,
    locked_by    TEXT,
    locked_until BIGINT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX jobs_due ON jobs (status, run_at);

CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    org_id      TEXT,
    template    TEXT NOT NULL,
    lang        TEXT NOT NULL,
    to_addr     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body_text   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT,
    message_id  TEXT NOT NULL,
    last_error  TEXT
);
CREATE INDEX outbox_org ON outbox (org_id, id);
