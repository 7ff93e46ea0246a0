//! Client billing profiles in the API (issue 4, item 1).

use super::ApiJson;
use crate::auth::Principal;
use crate::clients::{self, MandateInput, ProfileInput, RegimeInput};
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use ciel_domain::identity::AddressInput;
use ciel_store::clients::{CompanyIds, Profile};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A structured postal address (SEPA pain.008 requires one).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub street_name: String,
    pub building_number: Option<String>,
    pub post_code: String,
    pub town: String,
    /// ISO 3166-1 alpha-2, e.g. `FR`.
    pub country: String,
}

/// The VAT regime of the client's invoices (R2.1).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VatRegimeBody {
    /// `standard`, `exempt` or `reverse_charge`.
    pub kind: String,
    /// Standard rate in percent, as a decimal string (default `20`).
    pub rate: Option<String>,
    /// The mention printed on invoices; required when exempt.
    pub mention: Option<String>,
}

/// A signed SEPA direct-debit mandate (R2.7).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MandateBody {
    /// Unique mandate reference (RUM), at most 35 characters.
    pub reference: String,
    pub iban: String,
    pub bic: Option<String>,
    /// Signature date, `YYYY-MM-DD`.
    pub signed_on: String,
    /// `core` (default) or `b2b`.
    pub scheme: Option<String>,
}

/// A client's billing profile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingProfileRequest {
    /// Replaces the organisation's SIREN when given.
    pub siren: Option<String>,
    pub siret: Option<String>,
    /// Replaces the organisation's VAT number when given.
    pub vat_number: Option<String>,
    pub billing_email: String,
    pub address: AddressBody,
    pub vat_regime: VatRegimeBody,
    pub sepa_mandate: Option<MandateBody>,
}

/// A client's billing profile as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillingProfileView {
    pub org_id: String,
    pub siren: Option<String>,
    pub siret: Option<String>,
    pub vat_number: Option<String>,
    pub billing_email: String,
    pub address: AddressBody,
    pub vat_regime: VatRegimeBody,
    pub sepa_mandate: Option<MandateBody>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
}

fn view(p: Profile, ids: CompanyIds) -> BillingProfileView {
    BillingProfileView {
        org_id: p.org_id.to_string(),
        siren: ids.siren,
        siret: p.siret,
        vat_number: ids.vat_number,
        billing_email: p.billing_email,
        address: AddressBody {
            street_name: p.street_name,
            building_number: p.building_number,
            post_code: p.post_code,
            town: p.town,
            country: p.country,
        },
        vat_regime: VatRegimeBody {
            kind: p.vat_regime,
            rate: Some(p.vat_rate),
            mention: p.vat_mention,
        },
        sepa_mandate: p.mandate.map(|m| MandateBody {
            reference: m.reference,
            iban: m.iban,
            bic: m.bic,
            signed_on: m.signed_on,
            scheme: Some(m.scheme),
        }),
        updated_at: p.updated_at,
    }
}

/// A client's billing profile (staff; the client's users who see invoices).
#[utoipa::path(get, path = "/api/v1/organizations/{org_id}/billing-profile", tag = "accounts",
    params(("org_id" = String, Path)),
    responses((status = 200, body = BillingProfileView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_billing_profile(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
) -> ApiResult<Json<BillingProfileView>> {
    match clients::get_profile(&s, &p, &org_id).await? {
        (Some(profile), ids) => Ok(Json(view(profile, ids))),
        (None, _) => Err(Problem::not_found().detail("this client has no billing profile yet")),
    }
}

/// Sets a client's billing profile: legal identifiers, structured address,
/// VAT regime and SEPA mandate, cross-checked (staff who manage clients).
#[utoipa::path(put, path = "/api/v1/organizations/{org_id}/billing-profile", tag = "accounts",
    params(("org_id" = String, Path)), request_body = BillingProfileRequest,
    responses((status = 200, body = BillingProfileView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_billing_profile(
    State(s): State<AppState>,
    p: Principal,
    Path(org_id): Path<String>,
    ApiJson(r): ApiJson<BillingProfileRequest>,
) -> ApiResult<Json<BillingProfileView>> {
    let vat_regime = match r.vat_regime.kind.as_str() {
        "standard" => RegimeInput::Standard(r.vat_regime.rate),
        "exempt" => RegimeInput::Exempt(r.vat_regime.mention.unwrap_or_default()),
        "reverse_charge" => RegimeInput::ReverseCharge,
        _ => {
            return Err(Problem::invalid(
                "vat_regime.kind",
                "standard, exempt or reverse_charge",
            ));
        }
    };
    let input = ProfileInput {
        siren: r.siren,
        siret: r.siret,
        vat_number: r.vat_number,
        billing_email: r.billing_email,
        address: AddressInput {
            street_name: r.address.street_name,
            building_number: r.address.building_number,
            post_code: r.address.post_code,
            town: r.address.town,
            country: r.address.country,
        },
        vat_regime,
        sepa_mandate: r.sepa_mandate.map(|m| MandateInput {
            reference: m.reference,
            iban: m.iban,
            bic: m.bic,
            signed_on: m.signed_on,
            scheme: m.scheme,
        }),
    };
    let (profile, ids) = clients::put_profile(&s, &p, &org_id, input).await?;
    Ok(Json(view(profile, ids)))
}
