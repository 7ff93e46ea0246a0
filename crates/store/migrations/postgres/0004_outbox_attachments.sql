-- Files attached to an outbox message (the order as PDF with the "order
-- sent" notice, R1.3), stored in the message's transaction so the notice and
-- its attachment exist together. Bytes as base64 text: one type on both
-- backends.
CREATE TABLE outbox_attachments (
    id           TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL REFERENCES outbox(id),
    position     BIGINT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data_base64  TEXT NOT NULL,
    UNIQUE (message_id, position)
);
