//! Client billing profiles: what invoices and direct debits need to know of a
//! client company. The values arrive validated (the server parses them with
//! `ciel_domain::identity`); the store keeps their canonical text.

use crate::audit::{self, Actor, Change};
use crate::sql::Sql;
use crate::{Result, Scope, StoreError, Tx, orgs, time};
use ciel_domain::Id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// A SEPA direct-debit mandate as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mandate {
    /// RUM, unique across clients.
    pub reference: String,
    pub iban: String,
    pub bic: Option<String>,
    /// `YYYY-MM-DD`.
    pub signed_on: String,
    /// `core` or `b2b`.
    pub scheme: String,
}

/// A client's billing profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub org_id: Id,
    pub siret: Option<String>,
    pub billing_email: String,
    pub street_name: String,
    pub building_number: Option<String>,
    pub post_code: String,
    pub town: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `standard`, `exempt` or `reverse_charge`.
    pub vat_regime: String,
    /// Percent, exact decimal text (e.g. `20`).
    pub vat_rate: String,
    /// The mention printed on invoices (exemption, reverse charge).
    pub vat_mention: Option<String>,
    pub mandate: Option<Mandate>,
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "org_id, siret, billing_email, street_name, building_number, post_code, town, \
    country, vat_regime, vat_rate, vat_mention, mandate_reference, mandate_iban, mandate_bic, \
    mandate_signed_on, mandate_scheme, updated_at";

fn from_row(r: &AnyRow) -> Result<Profile> {
    let reference: Option<String> = r.try_get("mandate_reference")?;
    let mandate = match reference {
        Some(reference) => Some(Mandate {
            reference,
            iban: r
                .try_get::<Option<String>, _>("mandate_iban")?
                .unwrap_or_default(),
            bic: r.try_get("mandate_bic")?,
            signed_on: r
                .try_get::<Option<String>, _>("mandate_signed_on")?
                .unwrap_or_default(),
            scheme: r
                .try_get::<Option<String>, _>("mandate_scheme")?
                .unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Profile {
        org_id: Id::from_raw(r.try_get("org_id")?),
        siret: r.try_get("siret")?,
        billing_email: r.try_get("billing_email")?,
        street_name: r.try_get("street_name")?,
        building_number: r.try_get("building_number")?,
        post_code: r.try_get("post_code")?,
        town: r.try_get("town")?,
        country: r.try_get("country")?,
        vat_regime: r.try_get("vat_regime")?,
        vat_rate: r.try_get("vat_rate")?,
        vat_mention: r.try_get("vat_mention")?,
        mandate,
        updated_at: time::from_db(r.try_get("updated_at")?),
    })
}

/// The billing profile of an organisation visible to `scope`, if it has one.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
) -> Result<Option<Profile>> {
    let mut q = Sql::new(&format!(
        "SELECT {COLUMNS} FROM client_profiles WHERE org_id = "
    ));
    q.bind(org_id);
    scope.restrict(&mut q, "org_id");
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Company identifiers kept on the organisation itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyIds {
    pub siren: Option<String>,
    pub vat_number: Option<String>,
}

/// Writes (creates or replaces) a client's billing profile and its company
/// identifiers, audited with before and after.
pub async fn put(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    ids: CompanyIds,
    profile: Profile,
) -> Result<Profile> {
    let org = orgs::get(&mut **tx, scope, profile.org_id.as_str()).await?;
    if org.kind != "client" {
        return Err(StoreError::NotFound);
    }
    let before = get(&mut **tx, scope, org.id.as_str()).await?;
    let mut q = Sql::new("UPDATE organizations SET siren = ");
    q.bind(ids.siren.clone())
        .push(", vat_number = ")
        .bind(ids.vat_number.clone());
    q.push(" WHERE id = ").bind(&org.id);
    q.query().execute(&mut **tx).await?;
    let m = profile.mandate.clone();
    let mut q = Sql::new(&format!("INSERT INTO client_profiles ({COLUMNS}) VALUES ("));
    q.bind(&org.id)
        .push(", ")
        .bind(profile.siret.clone())
        .push(", ");
    q.bind(&profile.billing_email)
        .push(", ")
        .bind(&profile.street_name)
        .push(", ");
    q.bind(profile.building_number.clone())
        .push(", ")
        .bind(&profile.post_code)
        .push(", ");
    q.bind(&profile.town)
        .push(", ")
        .bind(&profile.country)
        .push(", ");
    q.bind(&profile.vat_regime)
        .push(", ")
        .bind(&profile.vat_rate)
        .push(", ");
    q.bind(profile.vat_mention.clone()).push(", ");
    q.bind(m.as_ref().map(|m| m.reference.clone())).push(", ");
    q.bind(m.as_ref().map(|m| m.iban.clone())).push(", ");
    q.bind(m.as_ref().and_then(|m| m.bic.clone())).push(", ");
    q.bind(m.as_ref().map(|m| m.signed_on.clone())).push(", ");
    q.bind(m.as_ref().map(|m| m.scheme.clone())).push(", ");
    q.bind(profile.updated_at)
        .push(") ON CONFLICT (org_id) DO UPDATE SET ");
    q.push(
        "siret = excluded.siret, billing_email = excluded.billing_email, \
         street_name = excluded.street_name, building_number = excluded.building_number, \
         post_code = excluded.post_code, town = excluded.town, country = excluded.country, \
         vat_regime = excluded.vat_regime, vat_rate = excluded.vat_rate, \
         vat_mention = excluded.vat_mention, mandate_reference = excluded.mandate_reference, \
         mandate_iban = excluded.mandate_iban, mandate_bic = excluded.mandate_bic, \
         mandate_signed_on = excluded.mandate_signed_on, mandate_scheme = excluded.mandate_scheme, \
         updated_at = excluded.updated_at",
    );
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::unique(e, "sepa_mandate.reference"))?;
    #[derive(Serialize)]
    struct Snapshot<'a> {
        company: CompanyIds,
        profile: Option<&'a Profile>,
    }
    let before_ids = CompanyIds {
        siren: org.siren.clone(),
        vat_number: org.vat_number.clone(),
    };
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&org.id),
            action: "client_profile.put",
            entity_kind: "organization",
            entity_id: org.id.as_str(),
            before: Some(&Snapshot {
                company: before_ids,
                profile: before.as_ref(),
            }),
            after: Some(&Snapshot {
                company: ids,
                profile: Some(&profile),
            }),
        },
    )
    .await?;
    Ok(profile)
}
