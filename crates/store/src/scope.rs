//! Tenant isolation, in one place.
//!
//! Every read or write of tenant data takes a [`Scope`], derived once per
//! request from the authenticated principal, and calls [`Scope::restrict`] to
//! add its condition. A client principal therefore cannot name a row of
//! another organisation: the row is simply not found (404, never the data).

use crate::sql::Sql;
use ciel_domain::Id;

/// What a principal may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The provider's staff: every organisation.
    Staff,
    /// A client user or token: its own organisation only.
    Org(Id),
}

impl Scope {
    /// Appends ` AND <column> = <org>` for an organisation scope.
    pub(crate) fn restrict(&self, q: &mut Sql, column: &str) {
        if let Scope::Org(org) = self {
            q.push(" AND ").push(column).push(" = ").bind(org);
        }
    }

    /// Whether this scope covers the organisation `org`.
    pub fn covers(&self, org: &Id) -> bool {
        match self {
            Scope::Staff => true,
            Scope::Org(own) => own == org,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_scope_adds_its_condition_staff_adds_none() {
        let org = Id::from_parts("org", &"a".repeat(32));
        let mut q = Sql::new("SELECT 1 FROM users WHERE 1 = 1");
        Scope::Staff.restrict(&mut q, "org_id");
        Scope::Org(org.clone()).restrict(&mut q, "org_id");
        assert!(Scope::Staff.covers(&org));
        assert!(Scope::Org(org.clone()).covers(&org));
        assert!(!Scope::Org(Id::from_parts("org", &"b".repeat(32))).covers(&org));
    }
}
