//! Client billing profiles (issue 4, item 1): legal identity, structured
//! address, VAT regime and SEPA mandate, validated and scoped.

use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};

fn profile(siret: &str, iban: &str, reference: &str) -> Value {
    // 812 345 676 is Atelier Numérique's SIREN (Luhn-valid); SIRET
    // 812 345 676 0001 + key 7: the Luhn sum of 81234567600017 is a
    // multiple of 10. FR76 3000 6000 0112 3456 7890 189 is the classic
    // example IBAN (mod 97 = 1).
    json!({
        "siret": siret,
        "billing_email": "compta@atelier-numerique.example",
        "address": {"street_name": "rue de la République", "building_number": "12", "post_code": "69002", "town": "Lyon", "country": "FR"},
        "vat_regime": {"kind": "standard"},
        "sepa_mandate": {"reference": reference, "iban": iban, "bic": "BNPAFRPP", "signed_on": "2026-04-30"}
    })
}

pub async fn billing_profiles_are_validated_and_scoped(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let admin_b = app.login(ADMIN_B, DEMO_PASSWORD).await;
    let org_a = org_of(&admin_a).await;
    let org_b = org_of(&admin_b).await;
    let path_a = format!("/api/v1/organizations/{org_a}/billing-profile");
    let path_b = format!("/api/v1/organizations/{org_b}/billing-profile");
    // Not set yet.
    assert_eq!(staff.get_json(&path_a).await.0, 404);
    let good = profile(
        "812 345 676 00017",
        "fr76 3000 6000 0112 3456 7890 189",
        "RUM-ATELIER-0001",
    );
    let (status, body) = staff.api(Method::PUT, &path_a, Some(good.clone())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["siret"], "81234567600017");
    assert_eq!(body["sepa_mandate"]["iban"], "FR7630006000011234567890189");
    assert_eq!(body["sepa_mandate"]["scheme"], "core");
    assert_eq!(body["vat_regime"]["rate"], "20");
    assert_eq!(body["siren"], "812345676");
    // Each wrong part is refused on its field, and nothing changes.
    let cases: Vec<(Value, &str)> = vec![
        (
            profile("81234567600017", "FR7630006000011234567890188", "RUM-X"),
            "sepa_mandate.iban",
        ),
        (
            profile("52345678800018", "FR7630006000011234567890189", "RUM-X"),
            "siret",
        ),
        (
            profile("81234567600018", "FR7630006000011234567890189", "RUM-X"),
            "siret",
        ),
        (
            profile("81234567600017", "FR7630006000011234567890189", "RUM//X"),
            "sepa_mandate.reference",
        ),
    ];
    for (body, field) in cases {
        let (status, p) = staff.api(Method::PUT, &path_a, Some(body)).await;
        assert_eq!((status, p["field"].as_str()), (422, Some(field)), "{p}");
    }
    let mut future = good.clone();
    future["sepa_mandate"]["signed_on"] = json!("2026-05-08");
    let (status, p) = staff.api(Method::PUT, &path_a, Some(future)).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("sepa_mandate.signed_on")),
        "{p}"
    );
    let mut short_code = good.clone();
    short_code["address"]["post_code"] = json!("6902");
    let (status, p) = staff.api(Method::PUT, &path_a, Some(short_code)).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("address.post_code")),
        "{p}"
    );
    let mut reverse = good.clone();
    reverse["vat_regime"] = json!({"kind": "reverse_charge"});
    let (status, p) = staff.api(Method::PUT, &path_a, Some(reverse)).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (422, Some("vat_regime")),
        "French VAT number: {p}"
    );
    let (_, kept) = staff.get_json(&path_a).await;
    assert_eq!(kept["sepa_mandate"]["reference"], "RUM-ATELIER-0001");
    // A mandate reference is unique across clients.
    let mut taken = profile(
        "52345678800018",
        "FR7630006000011234567890189",
        "RUM-ATELIER-0001",
    );
    taken["address"]["post_code"] = json!("33000");
    let (status, p) = staff.api(Method::PUT, &path_b, Some(taken)).await;
    assert_eq!(
        (status, p["field"].as_str()),
        (409, Some("sepa_mandate.reference")),
        "{p}"
    );
    // The client's Administrator reads its own, not another's, and cannot edit.
    assert_eq!(admin_a.get_json(&path_a).await.0, 200);
    assert_eq!(admin_a.get_json(&path_b).await.0, 404);
    assert_eq!(
        admin_a
            .api(Method::PUT, &path_a, Some(good.clone()))
            .await
            .0,
        403
    );
    let paul = app.login(USER_A, DEMO_PASSWORD).await;
    assert_eq!(paul.get_json(&path_a).await.0, 403);
    // The change is audited with before and after.
    let (_, audit) = staff.get_json("/api/v1/audit?limit=50").await;
    let entry = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "client_profile.put")
        .unwrap();
    assert_eq!(
        entry["after"]["profile"]["mandate"]["reference"],
        "RUM-ATELIER-0001"
    );
    assert!(entry["before"]["profile"].is_null());
    app.stop().await;
}
