-- Credit notes (issue 6, R2.11): the reason staff give for a correction,
-- printed on the credit note and kept with it (NULL for an invoice).
ALTER TABLE invoices ADD COLUMN reason TEXT;
