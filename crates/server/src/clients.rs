//! A client's billing identity (issue 4, item 1): the legal identifiers,
//! the structured address SEPA requires, the VAT regime with its mention,
//! and the SEPA mandate (R2.1, R2.7). Every part is parsed by
//! `ciel_domain::identity`, which cross-checks them (the SIRET belongs to the
//! SIREN, a French VAT number carries the SIREN's key, reverse charge needs a
//! VAT number of another member state); an error names its field.

use crate::auth::{Principal, require_staff};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use ciel_domain::identity::{
    AddressError, AddressInput, Bic, Iban, LegalIdentity, MandateRef, PostalAddress, Siret,
    VatRegime,
};
use ciel_domain::{Email, Permission, StaffRole};
use ciel_store::clients::{self, CompanyIds, Mandate, Profile};
use ciel_store::{StoreError, orgs};
use rust_decimal::Decimal;

/// The VAT regime as entered.
#[derive(Debug, Clone)]
pub enum RegimeInput {
    /// Standard VAT at this rate (percent; R2.1's default is 20).
    Standard(Option<String>),
    /// Exempt, with the mention to print.
    Exempt(String),
    /// Intra-EU reverse charge.
    ReverseCharge,
}

/// A mandate as entered.
#[derive(Debug, Clone)]
pub struct MandateInput {
    pub reference: String,
    pub iban: String,
    pub bic: Option<String>,
    pub signed_on: String,
    /// `core` (default) or `b2b`.
    pub scheme: Option<String>,
}

/// A billing profile as entered; `siren` and `vat_number` replace the
/// organisation's when given.
#[derive(Debug, Clone)]
pub struct ProfileInput {
    pub siren: Option<String>,
    pub siret: Option<String>,
    pub vat_number: Option<String>,
    pub billing_email: String,
    pub address: AddressInput,
    pub vat_regime: RegimeInput,
    pub sepa_mandate: Option<MandateInput>,
}

fn address_field(e: &AddressError) -> String {
    let field = match e {
        AddressError::Missing { field }
        | AddressError::TooLong { field, .. }
        | AddressError::Control { field } => field,
        AddressError::Country(_) => "country",
        AddressError::FrenchPostCode => "post_code",
    };
    format!("address.{field}")
}

/// The field named at the start of a domain error ("siret: ..." → `siret`).
fn field_of(message: &str, default: &str) -> String {
    message
        .split_once(':')
        .map(|(f, _)| f.trim())
        .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .unwrap_or(default)
        .to_owned()
}

fn parse_mandate(m: &MandateInput, today: jiff::civil::Date) -> ApiResult<Mandate> {
    let bad = |f: &str, e: String| Problem::invalid(&format!("sepa_mandate.{f}"), e);
    let reference = MandateRef::parse(&m.reference).map_err(|e| bad("reference", e.to_string()))?;
    let iban = Iban::parse(&m.iban).map_err(|e| bad("iban", e.to_string()))?;
    let bic = m
        .bic
        .as_deref()
        .filter(|b| !b.trim().is_empty())
        .map(|b| Bic::parse(b).map_err(|e| bad("bic", e.to_string())))
        .transpose()?;
    let signed_on: jiff::civil::Date = m
        .signed_on
        .trim()
        .parse()
        .map_err(|_| bad("signed_on", "expected a date YYYY-MM-DD".into()))?;
    if signed_on > today {
        return Err(bad(
            "signed_on",
            "a mandate cannot be signed in the future".into(),
        ));
    }
    let scheme = match m.scheme.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("core") => "core",
        Some("b2b") => "b2b",
        Some(_) => return Err(bad("scheme", "core or b2b".into())),
    };
    Ok(Mandate {
        reference: reference.as_str().to_owned(),
        iban: iban.as_str().to_owned(),
        bic: bic.map(|b| b.as_str().to_owned()),
        signed_on: signed_on.to_string(),
        scheme: scheme.to_owned(),
    })
}

/// Staff who manage clients set a client's billing profile (a mandate is a
/// signed paper: clients do not edit it themselves).
pub async fn put_profile(
    state: &AppState,
    p: &Principal,
    org_id: &str,
    input: ProfileInput,
) -> ApiResult<(Profile, CompanyIds)> {
    // Another organisation's identifiers answer 404 before any role check.
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    if org.kind != "client" {
        return Err(Problem::not_found());
    }
    require_staff(p, StaffRole::manages_clients)?;
    let billing_email = Email::parse(&input.billing_email)
        .map_err(|e| Problem::invalid("billing_email", e.to_string()))?;
    let address = PostalAddress::parse(&input.address)
        .map_err(|e| Problem::invalid(&address_field(&e), e.to_string()))?;
    let regime = match &input.vat_regime {
        RegimeInput::Standard(rate) => {
            let rate: Decimal = match rate.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                None => Decimal::from(20),
                Some(r) => r.parse().map_err(|_| {
                    Problem::invalid("vat_regime.rate", "a decimal percentage such as 20 or 5.5")
                })?,
            };
            VatRegime::standard(rate)
                .map_err(|e| Problem::invalid("vat_regime.rate", e.to_string()))?
        }
        RegimeInput::Exempt(mention) => VatRegime::exempt(mention)
            .map_err(|e| Problem::invalid("vat_regime.mention", e.to_string()))?,
        RegimeInput::ReverseCharge => VatRegime::reverse_charge(),
    };
    let siret = input
        .siret
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Siret::parse(s).map_err(|e| Problem::invalid("siret", e.to_string())))
        .transpose()?;
    let siren = input.siren.clone().or(org.siren.clone());
    let vat_number = input.vat_number.clone().or(org.vat_number.clone());
    let identity = LegalIdentity::new(
        &org.name,
        siren.as_deref(),
        siret.clone(),
        vat_number.as_deref(),
        address.clone(),
        regime.clone(),
    )
    .map_err(|e| {
        let msg = e.to_string();
        Problem::invalid(&field_of(&msg, "siren"), msg)
    })?;
    let now = state.now();
    let today = now
        .to_zoned(jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC))
        .date();
    let mandate = input
        .sepa_mandate
        .as_ref()
        .map(|m| parse_mandate(m, today))
        .transpose()?;
    let kind = match regime.en16931_category() {
        "AE" => "reverse_charge",
        "E" => "exempt",
        _ => "standard",
    };
    let profile = Profile {
        org_id: org.id.clone(),
        siret: siret.map(|s| s.as_str().to_owned()),
        billing_email: billing_email.as_str().to_owned(),
        street_name: address.street_name().to_owned(),
        building_number: address.building_number().map(str::to_owned),
        post_code: address.post_code().to_owned(),
        town: address.town().to_owned(),
        country: address.country().as_str().to_owned(),
        vat_regime: kind.to_owned(),
        vat_rate: regime.rate_percent().normalize().to_string(),
        vat_mention: regime.mention().map(str::to_owned),
        mandate,
        updated_at: now,
    };
    // The identifiers as the identity check normalised them.
    let ids = CompanyIds {
        siren: identity.siren().map(str::to_owned),
        vat_number: identity.vat_number().map(str::to_owned),
    };
    let mut tx = state.store().begin().await?;
    let saved = clients::put(&mut tx, &p.actor(now), &p.scope, ids.clone(), profile)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(f) => Problem::conflict(
                f,
                "this mandate reference (RUM) is already used by another client",
            ),
            other => other.into(),
        })?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok((saved, ids))
}

/// Who may read a client's billing profile: staff, or the client's users who
/// see invoices (Administrators included). Others of the organisation: 403;
/// other organisations: 404.
pub async fn get_profile(
    state: &AppState,
    p: &Principal,
    org_id: &str,
) -> ApiResult<(Option<Profile>, CompanyIds)> {
    let org = orgs::get(state.store().db(), &p.scope, org_id).await?;
    if org.kind != "client" {
        return Err(Problem::not_found());
    }
    if !p.is_staff() && !p.can(Permission::ViewInvoices) {
        return Err(Problem::forbidden(
            "the billing profile is shown to users who see invoices",
        ));
    }
    let profile = clients::get(state.store().db(), &p.scope, org.id.as_str()).await?;
    Ok((
        profile,
        CompanyIds {
            siren: org.siren,
            vat_number: org.vat_number,
        },
    ))
}
