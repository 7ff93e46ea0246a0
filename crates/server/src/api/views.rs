//! What the API shows of stored records: explicit types, so that a new
//! column never leaks into an answer by accident.

use crate::accounts::Warning;
use ciel_domain::{Lang, Permission, StaffRole};
use ciel_store::{
    Page, audit::AuditEntry, orgs::Org, outbox::Message, tokens::ApiToken, users::User,
};
use serde::Serialize;
use utoipa::ToSchema;

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    pub id: String,
    /// `provider` or `client`.
    pub kind: String,
    pub name: String,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub address: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl From<Org> for OrgView {
    fn from(o: Org) -> Self {
        OrgView {
            id: o.id.to_string(),
            kind: o.kind,
            name: o.name,
            siren: o.siren,
            vat_number: o.vat_number,
            address: o.address,
            created_at: o.created_at,
        }
    }
}

/// A user: provider staff (with a role) or a client user (Administrator or
/// user with permissions).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    /// `staff` or `client`.
    pub kind: &'static str,
    pub staff_role: Option<StaffRole>,
    /// A client Administrator (R1.8): holds every permission.
    pub is_admin: bool,
    /// Effective permissions.
    pub permissions: Vec<Permission>,
    pub lang: Lang,
    /// `invited`, `active` or `disabled`.
    pub status: &'static str,
    /// The address looks like a shared account (R1.8 discourages them).
    pub generic_shared_account: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id.to_string(),
            org_id: u.org_id.to_string(),
            email: u.email.clone(),
            name: u.name.clone(),
            kind: if u.staff_role.is_some() {
                "staff"
            } else {
                "client"
            },
            staff_role: u.staff_role,
            is_admin: u.is_org_admin,
            permissions: if u.staff_role.is_some() {
                Vec::new()
            } else {
                u.effective_permissions().iter().collect()
            },
            lang: u.lang,
            status: u.status.code(),
            generic_shared_account: u.generic_warning,
            created_at: u.created_at,
        }
    }
}

/// A created user, with the warnings the creator must see.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserView,
    pub warnings: Vec<Warning>,
}

/// A created client organisation with its invited Administrator.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOrg {
    pub organization: OrgView,
    pub administrator: UserView,
    pub warnings: Vec<Warning>,
}

/// An API token (never its secret, except once at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub user_id: String,
    pub org_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<jiff::Timestamp>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        TokenView {
            id: t.id.to_string(),
            name: t.name,
            user_id: t.user_id.to_string(),
            org_id: t.org_id.to_string(),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A new token with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenView,
    /// The bearer secret. It is stored hashed and cannot be shown again.
    pub secret: String,
}

/// One audit record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: String,
    pub org_id: Option<String>,
    /// `staff`, `client`, `token` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// When ciel recorded the change.
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: jiff::Timestamp,
    /// When the event really happened (staff may back-date it).
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: jiff::Timestamp,
    pub request_id: Option<String>,
}

impl From<AuditEntry> for AuditView {
    fn from(a: AuditEntry) -> Self {
        AuditView {
            id: a.id.to_string(),
            org_id: a.org_id.map(|o| o.to_string()),
            actor_kind: a.actor_kind,
            actor_id: a.actor_id,
            actor_label: a.actor_label,
            action: a.action,
            entity_kind: a.entity_kind,
            entity_id: a.entity_id,
            before: a.before,
            after: a.after,
            recorded_at: a.recorded_at,
            occurred_at: a.occurred_at,
            request_id: a.request_id,
        }
    }
}

/// A notice e-mailed by ciel, kept as evidence with its send time (R13).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub org_id: Option<String>,
    pub template: String,
    pub lang: Lang,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<jiff::Timestamp>,
    pub message_id: String,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        MessageView {
            id: m.id.to_string(),
            org_id: m.org_id.map(|o| o.to_string()),
            template: m.template,
            lang: m.lang,
            to: m.to_addr,
            subject: m.subject,
            body_text: redact_links(&m.body_text),
            status: m.status,
            created_at: m.created_at,
            sent_at: m.sent_at,
            message_id: m.message_id,
        }
    }
}

macro_rules! list_type {
    ($name:ident, $item:ty) => {
        /// A page of a list.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; absent on the last page.
            pub next_cursor: Option<String>,
        }

        impl<T: Into<$item>> From<Page<T>> for $name {
            fn from(p: Page<T>) -> Self {
                $name {
                    items: p.items.into_iter().map(Into::into).collect(),
                    next_cursor: p.next_cursor,
                }
            }
        }
    };
}

list_type!(OrgList, OrgView);
list_type!(UserList, UserView);
list_type!(TokenList, TokenView);
list_type!(AuditList, AuditView);
list_type!(MessageList, MessageView);

/// Hides the secret of invitation and reset links: the stored message keeps
/// them (it is what was sent), but nobody reading the records may use them.
pub fn redact_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let cut = ["/invitation/", "/password/reset/"]
            .iter()
            .find_map(|m| line.find(m).map(|i| i + m.len()));
        match cut {
            Some(i) => {
                out.push_str(&line[..i]);
                out.push('…');
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_are_redacted() {
        let t = "Bonjour\nhttps://x/invitation/SECRET123\nfin\n";
        assert_eq!(
            super::redact_links(t),
            "Bonjour\nhttps://x/invitation/…\nfin\n"
        );
    }
}
