-- R9.6: the regularisation pass reminds the client once before the 30-day
-- delay ends and flags the order overdue once after it; each instant is
-- written with a conditional update, so a pass run twice mails nothing
-- twice. Unsigned orders not yet flagged overdue are the pass's work list.
ALTER TABLE backup_regularisations ADD COLUMN reminded_at BIGINT;
ALTER TABLE backup_regularisations ADD COLUMN overdue_at BIGINT;
CREATE INDEX backup_regularisations_open ON backup_regularisations (sent_at)
    WHERE signed_at IS NULL AND overdue_at IS NULL;

-- R11.1: at badge sites (PA3, Toulouse, Dijon), a visit announced by the
-- client with the companions (third parties, by name) who come with a
-- declared badge holder. The desk's check reads the visits of a client at
-- a site still open at an instant; the reception page the site's visits
-- of the day.
CREATE TABLE colo_visits (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    site            TEXT NOT NULL,
    host_person_id  TEXT NOT NULL REFERENCES colo_persons(id),
    window_start    BIGINT NOT NULL,
    window_end      BIGINT NOT NULL CHECK (window_end > window_start),
    purpose         TEXT NOT NULL,
    -- JSON array of names, at least one.
    companions_json TEXT NOT NULL,
    notified_at     BIGINT NOT NULL,
    notified_by     TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX colo_visits_org ON colo_visits (org_id, id);
CREATE INDEX colo_visits_site_end ON colo_visits (site, window_end);
CREATE INDEX colo_visits_end ON colo_visits (window_end);

-- The back office's PRA follow-up lists the failovers still running, of
-- every client.
CREATE INDEX pra_activations_open ON pra_activations (requested_at)
    WHERE closed_at IS NULL;
