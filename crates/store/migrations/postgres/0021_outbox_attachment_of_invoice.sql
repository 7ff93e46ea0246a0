-- An invoice's e-mail attaches the invoice's own PDF by reference: the
-- file is written once, with the invoice (its evidence, R2.11), instead of
-- a second base64 copy in the outbox (a billing run wrote every PDF twice).
-- `data_base64` stays empty for such an attachment.
ALTER TABLE outbox_attachments ADD COLUMN invoice_id TEXT REFERENCES invoices(id);
