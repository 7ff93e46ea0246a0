//! Who may do what: staff roles of the provider and the permissions a client
//! Administrator gives to its organisation's users (R1.8).

use serde::{Deserialize, Serialize};

/// Roles of the provider's staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Everything, including staff accounts.
    Admin,
    /// Support desk: clients, tickets, maintenance.
    Support,
    /// Billing: invoices, payments, credits.
    Billing,
    /// Datacenter operations: access, remote hands, power.
    Datacenter,
}

impl StaffRole {
    pub const ALL: [StaffRole; 4] = [
        StaffRole::Admin,
        StaffRole::Support,
        StaffRole::Billing,
        StaffRole::Datacenter,
    ];

    /// The stable code used in storage and the API.
    pub fn code(self) -> &'static str {
        match self {
            StaffRole::Admin => "admin",
            StaffRole::Support => "support",
            StaffRole::Billing => "billing",
            StaffRole::Datacenter => "datacenter",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }

    /// Whether this role may create and manage client organisations and their
    /// Administrators (onboarding is done by sales support and admins).
    pub fn manages_clients(self) -> bool {
        matches!(
            self,
            StaffRole::Admin | StaffRole::Support | StaffRole::Billing
        )
    }

    /// Whether this role may manage staff accounts.
    pub fn manages_staff(self) -> bool {
        self == StaffRole::Admin
    }
}

/// A permission a client Administrator can grant to a user of its
/// organisation. Administrators hold all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ViewServices,
    ViewInvoices,
    OpenTickets,
    ManageUsers,
    /// R10.2: only designated users may trigger a PRA failover.
    TriggerPraFailover,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::ViewServices,
        Permission::ViewInvoices,
        Permission::OpenTickets,
        Permission::ManageUsers,
        Permission::TriggerPraFailover,
    ];

    /// The stable code used in storage and the API.
    pub fn code(self) -> &'static str {
        match self {
            Permission::ViewServices => "view_services",
            Permission::ViewInvoices => "view_invoices",
            Permission::OpenTickets => "open_tickets",
            Permission::ManageUsers => "manage_users",
            Permission::TriggerPraFailover => "trigger_pra_failover",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of permissions (a user's profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Permissions(u8);

impl Permissions {
    /// No permission.
    pub const NONE: Permissions = Permissions(0);

    /// Every permission (an Administrator).
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    /// The permissions in their canonical order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// Comma-separated codes, the storage form.
    pub fn to_codes(self) -> String {
        self.iter()
            .map(Permission::code)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Parses the storage form; unknown codes are an error so that a typo in
    /// the database is noticed rather than silently dropping a right.
    pub fn from_codes(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| Permission::parse(c).ok_or_else(|| c.to_owned()))
            .collect()
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = Permissions::NONE;
        for p in iter {
            set.insert(p);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.code()), Some(p));
        }
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.code()), Some(r));
        }
        let set: Permissions = [Permission::OpenTickets, Permission::ViewServices]
            .into_iter()
            .collect();
        assert_eq!(set.to_codes(), "view_services,open_tickets");
        assert_eq!(Permissions::from_codes(&set.to_codes()), Ok(set));
        assert_eq!(Permissions::from_codes(""), Ok(Permissions::NONE));
        assert_eq!(
            Permissions::from_codes("view_services,fly"),
            Err("fly".to_owned())
        );
        assert_eq!(Permissions::all().iter().count(), Permission::ALL.len());
    }
}
