-- PRA activations and tests (issue 5, item 5; R6, R10.3-R10.4).
--
-- An activation concerns the protected machines of one PRA order: each
-- machine is a service (one order line per machine, CS 4.2), so the RTO
-- performance of a criticality (R6.3) is computed over all of them, and the
-- penalty (R6.4) is a share of each machine service's own monthly fee.
CREATE TABLE pra_activations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    order_id     TEXT NOT NULL REFERENCES orders(id),
    -- The client's failover request (RTO and RPO run from it, R6.2).
    requested_at BIGINT NOT NULL,
    -- Who asked, as the request names them (an authorised user, R10.2).
    requester    TEXT NOT NULL,
    -- A test is excluded from availability and from the RTO commitments;
    -- `test_kind` is `simple` or `full` (R10.3), NULL for a real failover.
    test_kind    TEXT CHECK (test_kind IS NULL OR test_kind IN ('simple', 'full')),
    note         TEXT NOT NULL DEFAULT '',
    -- Return to nominal: the activation is over.
    closed_at    BIGINT CHECK (closed_at IS NULL OR closed_at >= requested_at),
    version      BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX pra_activations_org ON pra_activations (org_id, id);
CREATE INDEX pra_activations_requested ON pra_activations (requested_at);

-- One protected machine of an activation: when it was reachable again and
-- the last replication or backup point it was restored from.
CREATE TABLE pra_activation_machines (
    activation_id       TEXT NOT NULL REFERENCES pra_activations(id),
    service_id          TEXT NOT NULL REFERENCES services(id),
    machine             TEXT NOT NULL,
    criticality         TEXT NOT NULL CHECK (criticality IN ('c1', 'c2', 'c3')),
    -- The client refused the recommended criticality: no SLA (R6.5).
    criticality_refused BIGINT NOT NULL DEFAULT 0,
    reachable_at        BIGINT,
    recovery_point_at   BIGINT,
    PRIMARY KEY (activation_id, service_id)
);
CREATE INDEX pra_activation_machines_service ON pra_activation_machines (service_id);
