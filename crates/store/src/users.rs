//! Users: provider staff (members of the provider organisation, with a staff
//! role) and client users (members of a client organisation, Administrators
//! or users with a permission profile, R1.8).

use crate::audit::{self, Actor, Change};
use crate::sql::{Sql, new_id};
use crate::{Page, Result, Scope, StoreError, Tx, time};
use ciel_domain::{Email, Id, Lang, Permissions, StaffRole, id::prefix};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Account state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Invited; no password yet.
    Invited,
    /// Can log in.
    Active,
    /// Cannot log in; kept for the audit trail.
    Disabled,
}

impl UserStatus {
    pub fn code(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "invited" => Ok(UserStatus::Invited),
            "active" => Ok(UserStatus::Active),
            "disabled" => Ok(UserStatus::Disabled),
            other => Err(StoreError::Corrupt(format!("user status {other}"))),
        }
    }
}

/// A user. The password hash is never serialised (audit records and API
/// answers are built from this type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: Id,
    pub org_id: Id,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub staff_role: Option<StaffRole>,
    pub is_org_admin: bool,
    #[serde(serialize_with = "ser_perms")]
    pub permissions: Permissions,
    pub lang: Lang,
    pub status: UserStatus,
    /// R1.8: the address looks like a shared account; the creator was warned.
    pub generic_warning: bool,
    pub created_at: Timestamp,
    pub password_changed_at: Option<Timestamp>,
}

fn ser_perms<S: serde::Serializer>(p: &Permissions, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter())
}

impl User {
    /// The effective permissions: an Administrator holds them all.
    pub fn effective_permissions(&self) -> Permissions {
        if self.is_org_admin {
            Permissions::all()
        } else {
            self.permissions
        }
    }
}

/// Fields of a new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub org_id: Id,
    pub email: Email,
    pub name: String,
    pub staff_role: Option<StaffRole>,
    pub is_org_admin: bool,
    pub permissions: Permissions,
    pub lang: Lang,
    /// Set for accounts created with a password (shell bootstrap); others are
    /// invited and choose theirs.
    pub password_hash: Option<String>,
}

/// Changes to a user's profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub is_org_admin: Option<bool>,
    pub permissions: Option<Permissions>,
    pub lang: Option<Lang>,
    pub status: Option<UserStatus>,
    pub staff_role: Option<StaffRole>,
}

const COLUMNS: &str = "id, org_id, email, name, password_hash, staff_role, is_org_admin, \
    permissions, lang, status, generic_warning, created_at, password_changed_at";

fn from_row(r: &AnyRow) -> Result<User> {
    let role: Option<String> = r.try_get("staff_role")?;
    let perms: String = r.try_get("permissions")?;
    let lang: String = r.try_get("lang")?;
    Ok(User {
        id: Id::from_raw(r.try_get("id")?),
        org_id: Id::from_raw(r.try_get("org_id")?),
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        password_hash: r.try_get("password_hash")?,
        staff_role: role
            .map(|s| StaffRole::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("role {s}"))))
            .transpose()?,
        is_org_admin: r.try_get::<i64, _>("is_org_admin")? != 0,
        permissions: Permissions::from_codes(&perms)
            .map_err(|c| StoreError::Corrupt(format!("permission {c}")))?,
        lang: Lang::parse(&lang).unwrap_or_default(),
        status: UserStatus::parse(&r.try_get::<String, _>("status")?)?,
        generic_warning: r.try_get::<i64, _>("generic_warning")? != 0,
        created_at: time::from_db(r.try_get("created_at")?),
        password_changed_at: time::opt_from_db(r.try_get("password_changed_at")?),
    })
}

/// Creates a user (audited as `action`, e.g. `user.invite` or `staff.create`).
pub async fn create(tx: &mut Tx, actor: &Actor, action: &str, new: NewUser) -> Result<User> {
    let now = actor.recorded_at;
    let user = User {
        id: new_id(prefix::USER, now),
        org_id: new.org_id,
        generic_warning: new.email.is_generic_shared(),
        email: new.email.as_str().to_owned(),
        name: new.name,
        status: if new.password_hash.is_some() {
            UserStatus::Active
        } else {
            UserStatus::Invited
        },
        password_changed_at: new.password_hash.as_ref().map(|_| now),
        password_hash: new.password_hash,
        staff_role: new.staff_role,
        is_org_admin: new.is_org_admin,
        permissions: new.permissions,
        lang: new.lang,
        created_at: now,
    };
    let mut q = Sql::new(&format!("INSERT INTO users ({COLUMNS}) VALUES ("));
    q.bind(&user.id).push(", ").bind(&user.org_id).push(", ");
    q.bind(&user.email).push(", ").bind(&user.name).push(", ");
    q.bind(user.password_hash.clone()).push(", ");
    q.bind(user.staff_role.map(|r| r.code())).push(", ");
    q.bind(i64::from(user.is_org_admin)).push(", ");
    q.bind(user.permissions.to_codes())
        .push(", ")
        .bind(user.lang.code());
    q.push(", ").bind(user.status.code()).push(", ");
    q.bind(i64::from(user.generic_warning)).push(", ").bind(now);
    q.push(", ").bind(user.password_changed_at).push(")");
    q.query()
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::unique(e, "email"))?;
    audit::created(
        &mut **tx,
        actor,
        &user.org_id,
        action,
        "user",
        user.id.as_str(),
        &user,
    )
    .await?;
    Ok(user)
}

/// Reads a user visible to `scope`.
pub async fn get<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    id: &str,
) -> Result<User> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM users WHERE id = "));
    q.bind(id);
    scope.restrict(&mut q, "org_id");
    let row = q
        .query()
        .fetch_optional(ex)
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// A user with the kind and name of its organisation, read in one query:
/// authentication needs all three on every request.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: User,
    /// `provider` (staff) or `client`.
    pub org_kind: String,
    pub org_name: String,
}

/// The columns of a [`Member`], for a query joining `users u` and
/// `organizations o`.
pub(crate) static MEMBER_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let cols: Vec<String> = COLUMNS
        .split(',')
        .map(|c| format!("u.{}", c.trim()))
        .collect();
    format!(
        "{}, o.kind AS org_kind, o.name AS org_name",
        cols.join(", ")
    )
});

/// Decodes a row selected with [`MEMBER_COLUMNS`].
pub(crate) fn member_from_row(r: &AnyRow) -> Result<Member> {
    Ok(Member {
        user: from_row(r)?,
        org_kind: r.try_get("org_kind")?,
        org_name: r.try_get("org_name")?,
    })
}

/// Reads a user and its organisation by user id (unscoped: authentication
/// happens before any scope exists).
pub async fn get_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
) -> Result<Option<Member>> {
    let mut q = Sql::new(&format!(
        "SELECT {} FROM users u JOIN organizations o ON o.id = u.org_id WHERE u.id = ",
        *MEMBER_COLUMNS
    ));
    q.bind(id);
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(member_from_row)
        .transpose()
}

/// Finds a user by e-mail across organisations: only for authentication,
/// which happens before any scope exists.
pub async fn find_by_email<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    email: &str,
) -> Result<Option<User>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM users WHERE email = "));
    q.bind(email.trim().to_ascii_lowercase());
    q.query()
        .fetch_optional(ex)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Lists users of one organisation (or staff, with the provider's id)
/// visible to `scope`, oldest first.
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    scope: &Scope,
    org_id: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<User>> {
    let mut q = Sql::new(&format!("SELECT {COLUMNS} FROM users WHERE org_id = "));
    q.bind(org_id);
    scope.restrict(&mut q, "org_id");
    if let Some(c) = cursor {
        q.push(" AND id > ").bind(c);
    }
    q.push(" ORDER BY id LIMIT ").bind(limit + 1);
    crate::fetch_page(&q, ex, limit, from_row, |x| &x.id).await
}

/// Number of active or invited Administrators of an organisation.
pub async fn count_admins<'e, E: Executor<'e, Database = Any>>(ex: E, org_id: &Id) -> Result<i64> {
    let mut q = Sql::new(
        "SELECT COUNT(*) AS n FROM users WHERE is_org_admin = 1 AND status <> 'disabled' AND org_id = ",
    );
    q.bind(org_id);
    Ok(q.query().fetch_one(ex).await?.try_get("n")?)
}

/// Applies a profile change to a user visible to `scope` (audited with
/// before and after).
pub async fn update_profile(
    tx: &mut Tx,
    actor: &Actor,
    scope: &Scope,
    id: &str,
    change: ProfileChange,
) -> Result<User> {
    let before = get(&mut **tx, scope, id).await?;
    let mut after = before.clone();
    if let Some(v) = change.name {
        after.name = v;
    }
    if let Some(v) = change.is_org_admin {
        after.is_org_admin = v;
    }
    if let Some(v) = change.permissions {
        after.permissions = v;
    }
    if let Some(v) = change.lang {
        after.lang = v;
    }
    if let Some(v) = change.status {
        after.status = v;
    }
    if let Some(v) = change.staff_role {
        after.staff_role = Some(v);
    }
    let mut q = Sql::new("UPDATE users SET name = ");
    q.bind(&after.name)
        .push(", is_org_admin = ")
        .bind(i64::from(after.is_org_admin));
    q.push(", permissions = ")
        .bind(after.permissions.to_codes());
    q.push(", lang = ").bind(after.lang.code());
    q.push(", status = ").bind(after.status.code());
    q.push(", staff_role = ")
        .bind(after.staff_role.map(|r| r.code()));
    q.push(" WHERE id = ").bind(&after.id);
    q.query().execute(&mut **tx).await?;
    if after.status == UserStatus::Disabled {
        crate::sessions::delete_for_user(&mut **tx, &after.id).await?;
    }
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&after.org_id),
            action: "user.update",
            entity_kind: "user",
            entity_id: after.id.as_str(),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(after)
}

/// Sets a user's password hash, activates an invited user, and ends every
/// session of that user (a password change logs out everywhere).
pub async fn set_password(tx: &mut Tx, actor: &Actor, id: &Id, hash: &str) -> Result<()> {
    let before = get(&mut **tx, &Scope::Staff, id.as_str()).await?;
    let status = if before.status == UserStatus::Invited {
        UserStatus::Active
    } else {
        before.status
    };
    let mut q = Sql::new("UPDATE users SET password_hash = ");
    q.bind(hash)
        .push(", password_changed_at = ")
        .bind(actor.recorded_at);
    q.push(", status = ")
        .bind(status.code())
        .push(" WHERE id = ")
        .bind(id);
    q.query().execute(&mut **tx).await?;
    crate::sessions::delete_for_user(&mut **tx, id).await?;
    let after = User {
        status,
        password_changed_at: Some(actor.recorded_at),
        ..before.clone()
    };
    audit::record(
        &mut **tx,
        actor,
        Change {
            org_id: Some(&before.org_id),
            action: "user.password_set",
            entity_kind: "user",
            entity_id: id.as_str(),
            before: Some(&before),
            after: Some(&after),
        },
    )
    .await?;
    Ok(())
}

/// Count of users (any organisation): tells an empty database.
pub async fn count<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64> {
    Ok(Sql::new("SELECT COUNT(*) AS n FROM users")
        .query()
        .fetch_one(ex)
        .await?
        .try_get("n")?)
}
