//! First start and demo data: the provider's identity, the first staff
//! administrator, and a demo tenant set (three client companies with their
//! Administrators and users, staff of every role, and a demo tariff pricing
//! every catalogue SKU so an order can be drafted at once).

use crate::state::AppState;
use ciel_domain::{Email, Lang, Permission, Permissions, StaffRole};
use ciel_store::orgs::{NewOrg, Org};
use ciel_store::users::NewUser;
use ciel_store::{Actor, StoreError, orgs, users};

/// The provider named by the contract (CGV et CSP v1.0 20250107).
pub const PROVIDER_NAME: &str = "Bouygues Telecom Business Solution";
const PROVIDER_SIREN: &str = "380104877";
const PROVIDER_VAT: &str = "FR06380104877";
const PROVIDER_ADDRESS: &str =
    "Paroi Nord de la Grande Arche, 1 Parvis de la Défense, 92044 Paris La Défense Cedex";

/// Password of every demo account (printed by `ciel serve --demo`).
pub const DEMO_PASSWORD: &str = "ciel-demo-2026!";

/// Creates the provider organisation if it does not exist yet.
pub async fn ensure_provider(state: &AppState) -> anyhow::Result<Org> {
    if let Some(org) = orgs::provider(state.store().db()).await? {
        return Ok(org);
    }
    let mut tx = state.store().begin().await?;
    let org = orgs::create(
        &mut tx,
        &Actor::system("bootstrap", state.now()),
        NewOrg {
            kind: "provider",
            name: PROVIDER_NAME.into(),
            siren: Some(PROVIDER_SIREN.into()),
            vat_number: Some(PROVIDER_VAT.into()),
            address: PROVIDER_ADDRESS.into(),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(org)
}

/// Creates a staff account with a password, from the shell (`ciel user
/// create`): the way in on a new installation.
pub async fn create_staff_user(
    state: &AppState,
    email: &str,
    name: &str,
    role: StaffRole,
    password: &str,
) -> anyhow::Result<users::User> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    ciel_domain::password::check(password, email.as_str())
        .map_err(|e| anyhow::anyhow!("password: {e}"))?;
    if name.trim().is_empty() {
        anyhow::bail!("--name: required");
    }
    let provider = ensure_provider(state).await?;
    let hash = crate::password::hash(password.to_owned()).await?;
    let mut tx = state.store().begin().await?;
    let user = users::create(
        &mut tx,
        &Actor::system("ciel user create", state.now()),
        "staff.create",
        NewUser {
            org_id: provider.id,
            email,
            name: name.trim().to_owned(),
            staff_role: Some(role),
            is_org_admin: false,
            permissions: Permissions::NONE,
            lang: Lang::Fr,
            password_hash: Some(hash),
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict(_) => {
            anyhow::anyhow!("--email: a user with this address already exists")
        }
        other => other.into(),
    })?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(user)
}

/// One demo login, as printed.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: String,
    pub who: String,
}

struct DemoClient {
    name: &'static str,
    siren: &'static str,
    vat: &'static str,
    address: &'static str,
    users: &'static [(&'static str, &'static str, bool, &'static [Permission])],
}

const CLIENTS: &[DemoClient] = &[
    DemoClient {
        name: "Atelier Numérique Lyonnais SAS",
        siren: "812345676",
        vat: "FR19812345676",
        address: "12 rue de la République, 69002 Lyon",
        users: &[
            (
                "Jeanne Martin",
                "jeanne.martin@atelier-numerique.example",
                true,
                &[],
            ),
            (
                "Paul Durand",
                "paul.durand@atelier-numerique.example",
                false,
                &[Permission::ViewServices, Permission::OpenTickets],
            ),
        ],
    },
    DemoClient {
        name: "Transports Garonne SA",
        siren: "523456788",
        vat: "FR31523456788",
        address: "3 quai des Chartrons, 33000 Bordeaux",
        users: &[
            (
                "Sophie Laurent",
                "sophie.laurent@transports-garonne.example",
                true,
                &[],
            ),
            (
                "Karim Haddad",
                "karim.haddad@transports-garonne.example",
                false,
                &[Permission::ViewInvoices],
            ),
        ],
    },
    DemoClient {
        name: "Clinique du Parc SAS",
        siren: "445566771",
        vat: "FR70445566771",
        address: "8 avenue Foch, 21000 Dijon",
        users: &[
            (
                "Lucas Bernard",
                "lucas.bernard@clinique-du-parc.example",
                true,
                &[],
            ),
            (
                "Emma Petit",
                "emma.petit@clinique-du-parc.example",
                false,
                &[
                    Permission::ViewServices,
                    Permission::OpenTickets,
                    Permission::TriggerPraFailover,
                ],
            ),
        ],
    },
];

const STAFF: &[(&str, &str, StaffRole)] = &[
    (
        "Claire Morel",
        "claire.morel@bytel-cloud.example",
        StaffRole::Admin,
    ),
    (
        "Hugo Lefèvre",
        "hugo.lefevre@bytel-cloud.example",
        StaffRole::Support,
    ),
    (
        "Inès Garnier",
        "ines.garnier@bytel-cloud.example",
        StaffRole::Billing,
    ),
    (
        "Malik Benali",
        "malik.benali@bytel-cloud.example",
        StaffRole::Datacenter,
    ),
];

/// Loads the demo data once (a second call changes nothing) and returns the
/// logins.
pub async fn load_demo(state: &AppState) -> anyhow::Result<Vec<DemoLogin>> {
    let provider = ensure_provider(state).await?;
    let mut logins = Vec::new();
    if users::find_by_email(state.store().db(), STAFF[0].1)
        .await?
        .is_some()
    {
        for (name, email, role) in STAFF {
            logins.push(DemoLogin {
                email: (*email).into(),
                who: format!("{name}, staff {}", role.code()),
            });
        }
        for c in CLIENTS {
            for (name, email, admin, _) in c.users {
                let what = if *admin { "Administrator" } else { "user" };
                logins.push(DemoLogin {
                    email: (*email).into(),
                    who: format!("{name}, {what} of {}", c.name),
                });
            }
        }
        return Ok(logins);
    }
    let hash = crate::password::hash(DEMO_PASSWORD.to_owned()).await?;
    let actor = Actor::system("ciel demo", state.now());
    let mut tx = state.store().begin().await?;
    for (name, email, role) in STAFF {
        users::create(
            &mut tx,
            &actor,
            "staff.create",
            NewUser {
                org_id: provider.id.clone(),
                email: Email::parse(email)?,
                name: (*name).into(),
                staff_role: Some(*role),
                is_org_admin: false,
                permissions: Permissions::NONE,
                lang: Lang::Fr,
                password_hash: Some(hash.clone()),
            },
        )
        .await?;
        logins.push(DemoLogin {
            email: (*email).into(),
            who: format!("{name}, staff {}", role.code()),
        });
    }
    for c in CLIENTS {
        let org = orgs::create(
            &mut tx,
            &actor,
            NewOrg {
                kind: "client",
                name: c.name.into(),
                siren: Some(c.siren.into()),
                vat_number: Some(c.vat.into()),
                address: c.address.into(),
            },
        )
        .await?;
        for (name, email, admin, perms) in c.users {
            users::create(
                &mut tx,
                &actor,
                "user.invite",
                NewUser {
                    org_id: org.id.clone(),
                    email: Email::parse(email)?,
                    name: (*name).into(),
                    staff_role: None,
                    is_org_admin: *admin,
                    permissions: if *admin {
                        Permissions::all()
                    } else {
                        perms.iter().copied().collect()
                    },
                    lang: Lang::Fr,
                    password_hash: Some(hash.clone()),
                },
            )
            .await?;
            let what = if *admin { "Administrator" } else { "user" };
            logins.push(DemoLogin {
                email: (*email).into(),
                who: format!("{name}, {what} of {}", c.name),
            });
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    publish_demo_tariff(state).await?;
    Ok(logins)
}

/// Name of the demo tariff.
pub const DEMO_TARIFF_NAME: &str = "Tarif de démonstration";

/// Publishes the demo tariff when no price list exists yet, effective on
/// 1 January of the current year (Paris): early enough that a price list
/// staff publish today is a later version, not a clash on the same day.
async fn publish_demo_tariff(state: &AppState) -> anyhow::Result<()> {
    if crate::orders::price_book(state)
        .await
        .map_err(problem)?
        .is_some()
    {
        return Ok(());
    }
    let now = state.now();
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let year = now.to_zoned(paris).year();
    let input = crate::orders::PriceListInput {
        name: format!("{DEMO_TARIFF_NAME} {year}"),
        effective_from: jiff::civil::date(year, 1, 1).to_string(),
        prices: demo_prices(),
    };
    crate::orders::publish_as(state, Actor::system("ciel demo", now), input)
        .await
        .map_err(problem)?;
    Ok(())
}

fn problem(p: crate::problem::Problem) -> anyhow::Error {
    anyhow::anyhow!(
        "{} ({}): {}",
        p.title,
        p.field.unwrap_or_default(),
        p.detail.unwrap_or_default()
    )
}

/// The demo tariff, in euros excluding VAT a month (one-time for setup fees
/// and hour books): one price per catalogue SKU (see
/// `ciel_catalog::catalogue_skus`), with volume tiers on VM storage and hour
/// books (R2.3), and two dedicated server models.
pub fn demo_prices() -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let one = |p: &str| json!([{ "unit_price": p }]);
    let mut m = Map::new();
    let mut put = |sku: String, v: Value| {
        m.insert(sku, v);
    };
    // Cloud VMs, by availability class: vCPU, RAM per GB, storage per GB
    // (from 1 TB, a lower unit price with a flat part: no cliff at the edge).
    for (class, vcpu, ram, gb, gb_above, flat) in [
        ("mono_site", "18", "6", "0.10", "0.08", "20"),
        ("hd_multi_site", "26", "8.5", "0.16", "0.13", "30"),
        ("thd_multi_site", "34", "11", "0.22", "0.18", "40"),
        ("mono_dc", "15", "5", "0.08", "0.06", "20"),
        ("dual_dc", "24", "8", "0.14", "0.11", "30"),
    ] {
        put(format!("cloud_vm.{class}.vcpu"), one(vcpu));
        put(format!("cloud_vm.{class}.ram_gb"), one(ram));
        put(
            format!("cloud_vm.{class}.storage_gb"),
            json!([{ "up_to": "1000", "unit_price": gb },
                   { "unit_price": gb_above, "flat": flat }]),
        );
    }
    put("cloud_vm.setup".into(), one("150"));
    // PRA, per protected machine by criticality (R6.2, R10.1).
    for (c, p) in [("c1", "180"), ("c2", "120"), ("c3", "70")] {
        put(format!("pra.{c}"), one(p));
    }
    put("pra.setup".into(), one("400"));
    // Colocation, in every datacenter of the terms.
    for dc in ciel_terms::embedded().colocation.datacenters.keys() {
        let dc = dc.to_ascii_lowercase();
        put(format!("colocation.{dc}.rack_unit"), one("28"));
        put(format!("colocation.{dc}.power_kva"), one("190"));
        put(format!("colocation.{dc}.bandwidth_mbps"), one("2.5"));
    }
    put("colocation.setup".into(), one("600"));
    // Remote hands, per intervention (R11.3).
    for (kind, p) in [
        ("racking", "95"),
        ("unracking", "95"),
        ("patching", "45"),
        ("reset", "30"),
        ("power_on", "30"),
        ("hardware_reception", "40"),
        ("hardware_removal", "40"),
    ] {
        put(format!("colocation.remote_hands.{kind}"), one(p));
    }
    // Dedicated servers, by model.
    put("dedicated_server.r450_1x8c_64g".into(), one("320"));
    put("dedicated_server.r650_2x16c_256g".into(), one("790"));
    put("dedicated_server.setup".into(), one("250"));
    // External backup and its options (per GB of the backup), Microsoft 365.
    put("backup.storage_gb".into(), one("0.05"));
    put("backup.immutability_gb".into(), one("0.02"));
    put("backup.recycle_bin_gb".into(), one("0.01"));
    put("backup.setup".into(), one("100"));
    put("m365_backup.storage_gb".into(), one("0.04"));
    put("m365_backup.setup".into(), one("50"));
    // Cloud Connect is free (R12.1).
    put("cloud_connect".into(), one("0"));
    put("cloud_connect.setup".into(), one("0"));
    // Support levels (R4.1), managed services (R8.1), hour books (R8.2).
    put("support.standard".into(), one("100"));
    put("support.premium".into(), one("300"));
    put("support.platinum".into(), one("900"));
    put("support.setup".into(), one("0"));
    put("managed_services.standard".into(), one("450"));
    put("managed_services.premium".into(), one("950"));
    put("managed_services.setup".into(), one("300"));
    put(
        "hour_book.hour".into(),
        json!([{ "up_to": "20", "unit_price": "110" },
               { "unit_price": "95", "flat": "300" }]),
    );
    put("hour_book.setup".into(), one("0"));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_identities_are_valid() {
        for c in CLIENTS {
            let siren = ciel_domain::company::parse_siren(c.siren).unwrap();
            assert_eq!(
                ciel_domain::company::parse_vat_number(c.vat, Some(&siren)).unwrap(),
                c.vat
            );
            for (_, email, _, _) in c.users {
                assert!(!Email::parse(email).unwrap().is_generic_shared());
            }
        }
        assert_eq!(
            ciel_domain::company::french_vat_number(PROVIDER_SIREN),
            PROVIDER_VAT
        );
        assert!(ciel_domain::password::check(DEMO_PASSWORD, "x@y.fr").is_ok());
    }

    #[test]
    fn the_demo_tariff_prices_every_catalogue_sku_and_reads_as_a_price_list() {
        let prices = demo_prices();
        let terms = ciel_terms::embedded();
        for sku in
            ciel_catalog::catalogue_skus(terms.colocation.datacenters.keys().map(String::as_str))
        {
            if sku == ciel_catalog::DEDICATED_SERVER_SKU_PATTERN {
                continue;
            }
            assert!(prices.get(&sku).is_some(), "{sku} is not priced");
        }
        let parsed: std::collections::BTreeMap<ciel_catalog::Sku, ciel_catalog::TieredPrice> =
            serde_json::from_value(prices).unwrap();
        assert!(
            parsed
                .keys()
                .any(|s| s.as_str().starts_with("dedicated_server.r"))
        );
    }
}
