-- Support desk queue and maintenance window changes (issue 5, items 1-3).

-- The queue's sort key, computed by the engine at every change of a
-- ticket's clocks (and when a maintenance window touching it changes), so
-- the queue is one indexed query however many tickets are open:
-- tier 0: a clock runs (or is already breached) and `queue_key` is its due
--   instant in UTC milliseconds, the nearest first (breached ones are past);
-- tier 1: the clock is suspended (pause, incomplete notification) and
--   `queue_key` is its remaining business seconds, frozen while suspended;
-- tier 2: no running clock (restored, P4, closed) and `queue_key` is minus
--   the opening instant (newest first).
-- NULL tier: not computed yet (rows older than this migration), filled in
-- by the queue itself before it reads.
ALTER TABLE tickets ADD COLUMN queue_tier BIGINT;
ALTER TABLE tickets ADD COLUMN queue_key BIGINT;
CREATE INDEX tickets_queue_order ON tickets (queue_tier, queue_key, id);

-- A window's revision (iCalendar SEQUENCE), bumped at each change, its last
-- change and, once cancelled, when.
ALTER TABLE maintenance_windows ADD COLUMN sequence BIGINT NOT NULL DEFAULT 0;
ALTER TABLE maintenance_windows ADD COLUMN updated_at BIGINT;
ALTER TABLE maintenance_windows ADD COLUMN cancelled_at BIGINT;
ALTER TABLE maintenance_windows ADD COLUMN cancel_reason TEXT;

-- The last notice sent to the client (a change or a cancellation), beside
-- `notified_at`, the send time R4.6 counts from for the window as it is now.
ALTER TABLE maintenance_notices ADD COLUMN last_sent_at BIGINT;

-- Windows by target, for the tickets and statements of a service.
CREATE INDEX maintenance_targets_target ON maintenance_targets (target_kind, target_id);
