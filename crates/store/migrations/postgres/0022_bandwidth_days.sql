-- Bandwidth readings packed by port and Paris day (R2.8; issue 6's
-- targets: 200 000 readings/s ingested, the 95th percentile of 10 000 ports
-- over a month in under 5 s). One row per reading made a month 89 million
-- rows to read back; a day row holds its readings as 16-byte slots (in,
-- out: little-endian u64 bits/s; all bits set = no reading), so a month is
-- 31 rows a port. The readings of bandwidth_readings are moved here by the
-- store at start-up (store::bandwidth::pack_legacy), which leaves that
-- table empty.
CREATE TABLE bandwidth_days (
    port_num  BIGINT NOT NULL,
    -- The Paris date, YYYYMMDD.
    day       BIGINT NOT NULL,
    -- The day's first instant (UTC ms) and the length of a slot (ms).
    start_at  BIGINT NOT NULL,
    step_ms   BIGINT NOT NULL CHECK (step_ms > 0),
    -- Slots holding a reading.
    readings  BIGINT NOT NULL CHECK (readings >= 0),
    data      BYTEA NOT NULL,
    PRIMARY KEY (port_num, day)
);
-- Slots of bits/s barely compress: out of line without trying to.
ALTER TABLE bandwidth_days ALTER COLUMN data SET STORAGE EXTERNAL;
