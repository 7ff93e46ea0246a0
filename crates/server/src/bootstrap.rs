//! First start and demo data: the provider's identity, the first staff
//! administrator, and a demo tenant set (three client companies with their
//! Administrators and users, and staff of every role).

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
    Ok(logins)
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
}
