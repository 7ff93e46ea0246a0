-- A client's billing identity (issue 4, R2.1, R2.7): SIRET, billing e-mail,
-- the structured postal address SEPA requires since November 2026, the VAT
-- regime, and the SEPA direct-debit mandate. Validated by ciel-domain's
-- identity types before it is written; the VAT rate is an exact decimal
-- written as text.
CREATE TABLE client_profiles (
    org_id            TEXT PRIMARY KEY REFERENCES organizations(id),
    siret             TEXT,
    billing_email     TEXT NOT NULL,
    street_name       TEXT NOT NULL,
    building_number   TEXT,
    post_code         TEXT NOT NULL,
    town              TEXT NOT NULL,
    country           TEXT NOT NULL,
    vat_regime        TEXT NOT NULL CHECK (vat_regime IN ('standard', 'exempt', 'reverse_charge')),
    vat_rate          TEXT NOT NULL,
    vat_mention       TEXT,
    mandate_reference TEXT UNIQUE,
    mandate_iban      TEXT,
    mandate_bic       TEXT,
    mandate_signed_on TEXT,
    mandate_scheme    TEXT CHECK (mandate_scheme IN ('core', 'b2b')),
    updated_at        BIGINT NOT NULL
);
