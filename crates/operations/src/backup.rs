//! Backup (R9, CS 3): the checks the backup team runs against the options of
//! an order, storage alerts, and what happens to the data and the billing at
//! termination.
//!
//! Readings:
//! - Durations on an order (immutability in months, recycle bin and
//!   retention in days) run from an instant to the same wall-clock time in
//!   Paris N months / days later, half-open: at exactly the end, the period
//!   is over (data may be deleted, a restore request is refused).
//! - "Les données immuables sauvegardées seront conservées pendant la durée
//!   de rétention ... à compter de la dernière sauvegarde immuable" and "ne
//!   peut plus être modifiée ou supprimée ... qu'à l'expiration de la durée
//!   définie lors de la souscription": the last immutable backup is kept
//!   until the later of its retention end and its immutability end, both
//!   counted from it. After termination the monthly backup fee is billed from
//!   the effective termination until that instant (CS 3.6: "jusqu'à
//!   l'expiration de la durée de conservation de la dernière donnée
//!   sauvegardée"); the last billed day is the day before it ends at
//!   midnight, the day it ends otherwise.
//! - History after termination (R9.8, CS 3.10): no new backup is taken; each
//!   restore point stays until its retention (and immutability) ends, then
//!   is deleted automatically; the data ends with the last point's deletion.
//! - Storage alerts (R9.5) use the product's ascending thresholds; the level
//!   is the highest threshold reached (`used / provisioned >= threshold`).

use jiff::{Timestamp, ToSpan, civil::Date};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Decision, Explained, Operations, OperationsError, cite, invalid, step_of};

/// The options of a backup order (R9.2-R9.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BackupOptions {
    pub immutability_months: Option<u32>,
    pub recycle_bin_days: Option<u32>,
}

/// The monthly fee's billing after termination for immutable data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImmutableBilling {
    pub from: Timestamp,
    /// The instant the last immutable backup's conservation ends.
    pub until: Timestamp,
    /// The last calendar day billed (Paris).
    pub last_day: Date,
}

/// A storage alert (R9.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageAlert {
    /// used / provisioned x 100, exact.
    pub percent: Decimal,
    /// The highest threshold reached, if any.
    pub threshold: Option<Decimal>,
    /// Its rank among the thresholds (0 = first), if any.
    pub level: Option<usize>,
}

/// When one restore point is deleted after termination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointDeletion {
    pub point: Timestamp,
    pub deleted_at: Timestamp,
    /// Already past its retention at the termination.
    pub gone_before_termination: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPlan {
    pub deletions: Vec<PointDeletion>,
    /// When the last data is deleted (the termination when none remains).
    pub data_ends_at: Timestamp,
    pub reasons: Decision,
}

/// What a backup covers (R9.7, CS 3.2-3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupScope {
    /// Microsoft 365: e-mail.
    Exchange,
    /// Microsoft 365: instant messaging and calls.
    Teams,
    /// Microsoft 365: document sharing.
    SharePoint,
    /// Microsoft 365: document sharing.
    OneDrive,
    VirtualMachine,
    PhysicalServer,
    Files,
}

impl BackupScope {
    /// Microsoft 365 scopes run on the provider's portal, within the
    /// provisioned storage; the others through Veeam Backup & Replication.
    pub fn is_microsoft_365(self) -> bool {
        matches!(
            self,
            BackupScope::Exchange
                | BackupScope::Teams
                | BackupScope::SharePoint
                | BackupScope::OneDrive
        )
    }
}

/// Who holds the Veeam Backup & Replication licence (CS 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VeeamLicence {
    None,
    /// Bought from the provider.
    FromProvider,
    /// The client's own: its compatibility is the client's responsibility.
    ClientOwned,
}

/// Where a regularisation order stands (R9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegularisationState {
    /// Sent, not yet signed, the delay running.
    Awaiting,
    SignedInTime,
    /// Not signed within the delay: the provider may cancel the order and
    /// bill the time spent (a signature after the delay is still recorded,
    /// the provider may accept it).
    Cancellable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regularisation {
    /// The first instant past the delay.
    pub ends_at: Timestamp,
    /// From when the client is reminded to sign (R9.6): `ends_at` moved
    /// back `backup.regularisation_reminder_days` calendar days in the
    /// terms' zone.
    pub remind_from: Timestamp,
    pub state: RegularisationState,
    pub reasons: Decision,
}

impl Operations {
    /// R9.6 (CS 3.1): a regularisation order sent at `sent_at` because the
    /// resources subscribed are insufficient; deployment waits for its
    /// signature, and without it within `backup.regularisation_order_days`
    /// the provider may cancel. CS 4.3 gives PRA the same 30 days; the terms
    /// hold one parameter for both.
    pub fn regularisation_order(
        &self,
        sent_at: Timestamp,
        signed_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Regularisation {
        let p = &self.terms.backup.regularisation_order_days;
        let ends_at = self.delay_end(sent_at, p.value);
        let signed = signed_at.filter(|t| *t <= now);
        let state = match signed {
            Some(t) if t < ends_at => RegularisationState::SignedInTime,
            _ if now >= ends_at => RegularisationState::Cancellable,
            _ => RegularisationState::Awaiting,
        };
        let base = step_of(p)
            .input("sent_at", sent_at)
            .input("days", p.value)
            .input("now", now);
        let step = match state {
            RegularisationState::Awaiting => base.outcome("note:awaiting_signature").text(
                format!(
                    "bon de commande de régularisation en attente de signature jusqu'au {} (exclu) ; déploiement en attente",
                    self.show(ends_at)
                ),
                format!(
                    "regularisation order awaiting signature until {} (excluded); deployment on hold",
                    self.show(ends_at)
                ),
            ),
            RegularisationState::SignedInTime => base.outcome("allow:signed_in_time").text(
                "bon de commande de régularisation signé dans le délai : le déploiement reprend",
                "regularisation order signed in time: deployment resumes",
            ),
            RegularisationState::Cancellable => base.outcome("deny:not_signed_in_time").text(
                format!(
                    "bon de commande de régularisation non signé sous {} jours : la commande peut être annulée et le temps passé facturé",
                    p.value
                ),
                format!(
                    "regularisation order not signed within {} days: the order may be cancelled and the time spent billed",
                    p.value
                ),
            ),
        };
        let reminder = &self.terms.backup.regularisation_reminder_days;
        Regularisation {
            ends_at,
            remind_from: self
                .sub_calendar(ends_at, jiff::Span::new().days(i64::from(reminder.value))),
            state,
            reasons: Decision::from_steps(vec![step]),
        }
    }

    /// R9.7: may a backup of this scope be set up? Machine, server and file
    /// backups need a Veeam Backup & Replication licence; Microsoft 365
    /// scopes need none and are limited by the provisioned storage (see
    /// [`Operations::storage_alert`]).
    pub fn check_backup_scope(&self, scope: BackupScope, licence: VeeamLicence) -> Decision {
        let base = cite::step(cite::SCOPE)
            .input("scope", format!("{scope:?}"))
            .input("licence", format!("{licence:?}"));
        let step = match (scope.is_microsoft_365(), licence) {
            (true, _) => base.outcome("allow:microsoft_365_scope").text(
                "sauvegarde Microsoft 365 (Exchange, Teams, SharePoint, OneDrive) : usage limité au stockage provisionné",
                "Microsoft 365 backup (Exchange, Teams, SharePoint, OneDrive): use limited to the provisioned storage",
            ),
            (false, VeeamLicence::None) => base.outcome("deny:veeam_licence_missing").text(
                "sauvegarde de machines, serveurs ou fichiers : une licence Veeam Backup & Replication est requise",
                "machine, server or file backup: a Veeam Backup & Replication licence is required",
            ),
            (false, VeeamLicence::FromProvider) => base.outcome("allow:veeam_licence").text(
                "licence Veeam Backup & Replication fournie par le prestataire",
                "Veeam Backup & Replication licence supplied by the provider",
            ),
            (false, VeeamLicence::ClientOwned) => base
                .outcome("note:licence_compatibility_client_responsibility")
                .text(
                    "licence Veeam du client : sa compatibilité avec le service relève du client",
                    "client's own Veeam licence: its compatibility with the service is the client's responsibility",
                ),
        };
        Decision::from_steps(vec![step])
    }

    /// R9.2, R9.4: the options an order may carry. Immutability at most
    /// `backup.immutability_max_months`; immutability and recycle bin
    /// exclusive; both only on the initial order.
    pub fn check_backup_options(&self, o: BackupOptions, initial_order: bool) -> Decision {
        let b = &self.terms.backup;
        let mut steps = Vec::new();
        if let Some(m) = o.immutability_months {
            let max = b.immutability_max_months.value;
            steps.push(if m == 0 || m > max {
                step_of(&b.immutability_max_months)
                    .input("immutability_months", m)
                    .outcome("deny:immutability_out_of_range")
                    .text(
                        format!("durée d'immuabilité de {m} mois hors de 1 à {max} mois"),
                        format!("immutability of {m} months outside 1 to {max} months"),
                    )
            } else {
                step_of(&b.immutability_max_months)
                    .input("immutability_months", m)
                    .outcome("allow:immutability_in_range")
                    .text(
                        format!("durée d'immuabilité de {m} mois, au plus {max}"),
                        format!("immutability of {m} months, at most {max}"),
                    )
            });
        }
        if o.recycle_bin_days == Some(0) {
            steps.push(
                cite::step(cite::RECYCLE_BIN)
                    .outcome("deny:recycle_bin_zero_days")
                    .text("durée de corbeille nulle", "recycle bin duration of zero"),
            );
        }
        if b.immutability_and_recycle_bin_exclusive.value
            && o.immutability_months.is_some()
            && o.recycle_bin_days.is_some()
        {
            steps.push(
                step_of(&b.immutability_and_recycle_bin_exclusive)
                    .outcome("deny:options_exclusive")
                    .text(
                        "immuabilité et corbeille admin sont exclusives l'une de l'autre",
                        "immutability and admin recycle bin exclude each other",
                    ),
            );
        }
        let any = o.immutability_months.is_some() || o.recycle_bin_days.is_some();
        if b.options_only_on_initial_order.value && any && !initial_order {
            steps.push(
                step_of(&b.options_only_on_initial_order)
                    .outcome("deny:options_only_on_initial_order")
                    .text(
                        "ces options doivent être spécifiées dès la commande initiale",
                        "these options must be set on the initial order",
                    ),
            );
        }
        Decision::from_steps(steps)
    }

    /// The end of immutability of a backup taken at `backup_at`.
    pub fn immutability_end(&self, backup_at: Timestamp, months: u32) -> Timestamp {
        self.add_calendar(backup_at, i64::from(months).months())
    }

    /// May immutable data taken at `backup_at` be deleted at `at`?
    pub fn check_immutable_deletion(
        &self,
        backup_at: Timestamp,
        months: u32,
        at: Timestamp,
    ) -> Decision {
        let end = self.immutability_end(backup_at, months);
        let p = &self.terms.backup.immutability_max_months;
        let s = step_of(p)
            .input("backup_at", backup_at)
            .input("immutability_months", months)
            .input("at", at);
        Decision::from_steps(vec![if at < end {
            s.outcome("deny:immutable").text(
                format!(
                    "donnée immuable jusqu'au {} : ni modification ni suppression",
                    self.show(end)
                ),
                format!(
                    "data immutable until {}: neither modified nor deleted",
                    self.show(end)
                ),
            )
        } else {
            s.outcome("allow:immutability_expired").text(
                format!("immuabilité expirée le {}", self.show(end)),
                format!("immutability expired on {}", self.show(end)),
            )
        }])
    }

    /// The instant the last immutable backup's conservation ends: the later
    /// of its immutability end and its retention end.
    pub fn immutable_kept_until(
        &self,
        last_immutable_backup: Timestamp,
        immutability_months: u32,
        retention_days: u32,
    ) -> Timestamp {
        let imm = self.immutability_end(last_immutable_backup, immutability_months);
        let ret = self.add_calendar(last_immutable_backup, i64::from(retention_days).days());
        imm.max(ret)
    }

    /// R9.2: the monthly backup fee billed after the effective termination,
    /// until the conservation of the last immutable backup ends. `None` when
    /// it ended at or before the termination.
    pub fn immutable_billing_after_termination(
        &self,
        termination_effective: Timestamp,
        last_immutable_backup: Timestamp,
        immutability_months: u32,
        retention_days: u32,
    ) -> Explained<Option<ImmutableBilling>> {
        let until =
            self.immutable_kept_until(last_immutable_backup, immutability_months, retention_days);
        let p = &self.terms.backup.immutability_max_months;
        let step = step_of(p)
            .input("termination_effective", termination_effective)
            .input("last_immutable_backup", last_immutable_backup)
            .input("immutability_months", immutability_months)
            .input("retention_days", retention_days);
        let value = (until > termination_effective).then(|| {
            let last_instant = until
                .checked_sub(jiff::SignedDuration::from_nanos(1))
                .unwrap_or(until);
            ImmutableBilling {
                from: termination_effective,
                until,
                last_day: self.day_of(last_instant),
            }
        });
        let step = match value {
            Some(b) => step.outcome(format!("note:billed_until={}", b.last_day)).text(
                format!(
                    "dernière sauvegarde immuable du {} conservée jusqu'au {} : prestation mensuelle due de la résiliation effective jusqu'au {} inclus",
                    self.show(last_immutable_backup),
                    self.show(until),
                    b.last_day
                ),
                format!(
                    "last immutable backup of {} kept until {}: monthly fee due from the effective termination to {} included",
                    self.show(last_immutable_backup),
                    self.show(until),
                    b.last_day
                ),
            ),
            None => step.outcome("note:not_billed").text(
                format!(
                    "conservation de la dernière sauvegarde immuable terminée le {}, avant la résiliation : rien à facturer",
                    self.show(until)
                ),
                format!(
                    "conservation of the last immutable backup ended on {}, before the termination: nothing to bill",
                    self.show(until)
                ),
            ),
        };
        Explained {
            value,
            explanation: ciel_engine::Explanation { steps: vec![step] },
        }
    }

    /// R9.3: may the client ask support to restore data deleted at
    /// `deleted_at` from the recycle bin, at `requested_at`?
    pub fn check_recycle_bin_restore(
        &self,
        deleted_at: Timestamp,
        bin_days: u32,
        requested_at: Timestamp,
    ) -> Decision {
        self.check_recycle_bin_restore_span(deleted_at, 0, bin_days, requested_at)
    }

    /// The instant data deleted at `deleted_at` leaves a recycle bin stated
    /// on the order in months and days (`P1M`, `P30D`): months stay months.
    pub fn recycle_bin_expiry(&self, deleted_at: Timestamp, months: u32, days: u32) -> Timestamp {
        self.add_calendar(deleted_at, i64::from(months).months().days(i64::from(days)))
    }

    /// R9.3 for a bin stated in months and days, as orders state it.
    pub fn check_recycle_bin_restore_span(
        &self,
        deleted_at: Timestamp,
        bin_months: u32,
        bin_days: u32,
        requested_at: Timestamp,
    ) -> Decision {
        let expiry = self.recycle_bin_expiry(deleted_at, bin_months, bin_days);
        let mut s = cite::step(cite::RECYCLE_BIN).input("deleted_at", deleted_at);
        if bin_months > 0 {
            s = s.input("bin_months", bin_months);
        }
        let s = s
            .input("bin_days", bin_days)
            .input("requested_at", requested_at);
        Decision::from_steps(vec![if requested_at < expiry {
            s.outcome("allow:recycle_bin_not_expired").text(
                format!(
                    "donnée en corbeille jusqu'au {} (exclu) : restauration possible par le support",
                    self.show(expiry)
                ),
                format!(
                    "data in the recycle bin until {} (excluded): support can restore it",
                    self.show(expiry)
                ),
            )
        } else {
            s.outcome("deny:recycle_bin_expired").text(
                format!(
                    "délai de corbeille expiré le {} : restauration impossible",
                    self.show(expiry)
                ),
                format!(
                    "recycle bin period expired on {}: no restore possible",
                    self.show(expiry)
                ),
            )
        }])
    }

    /// R9.5: the storage alert of a usage reading.
    pub fn storage_alert(
        &self,
        used: Decimal,
        provisioned: Decimal,
    ) -> Result<Explained<StorageAlert>, OperationsError> {
        if provisioned <= Decimal::ZERO || used < Decimal::ZERO {
            return Err(invalid(
                "provisioned must be positive and used non-negative",
            ));
        }
        let percent = used * Decimal::from(100) / provisioned;
        let t = &self.product.storage_alert_percents;
        let level = t
            .iter()
            .rposition(|p| used * Decimal::from(100) >= provisioned * *p);
        let threshold = level.map(|i| t[i]);
        let shown = percent.round_dp(2).normalize();
        let step = cite::step(cite::STORAGE)
            .input("used", used)
            .input("provisioned", provisioned)
            .outcome(match threshold {
                Some(th) => format!("note:storage_alert={}", th.normalize()),
                None => "allow:storage_ok".to_string(),
            })
            .text(
                match threshold {
                    Some(th) => format!(
                        "stockage utilisé à {shown} % : seuil d'alerte de {} % atteint",
                        th.normalize()
                    ),
                    None => format!("stockage utilisé à {shown} % : sous les seuils d'alerte"),
                },
                match threshold {
                    Some(th) => format!(
                        "storage {shown} % used: alert threshold of {} % reached",
                        th.normalize()
                    ),
                    None => format!("storage {shown} % used: below the alert thresholds"),
                },
            );
        Ok(Explained {
            value: StorageAlert {
                percent,
                threshold,
                level,
            },
            explanation: ciel_engine::Explanation { steps: vec![step] },
        })
    }

    /// R9.8: which restore points are deleted when after termination.
    pub fn history_after_termination(
        &self,
        points: &[Timestamp],
        retention_days: u32,
        immutability_months: Option<u32>,
        termination_effective: Timestamp,
    ) -> Result<HistoryPlan, OperationsError> {
        if points.iter().any(|p| *p > termination_effective) {
            return Err(invalid("a restore point is after the termination"));
        }
        let mut sorted = points.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let deletions: Vec<PointDeletion> = sorted
            .iter()
            .map(|p| {
                let deleted_at = match immutability_months {
                    Some(m) => self.immutable_kept_until(*p, m, retention_days),
                    None => self.add_calendar(*p, i64::from(retention_days).days()),
                };
                PointDeletion {
                    point: *p,
                    deleted_at,
                    gone_before_termination: deleted_at <= termination_effective,
                }
            })
            .collect();
        let data_ends_at = deletions
            .iter()
            .map(|d| d.deleted_at)
            .max()
            .unwrap_or(termination_effective)
            .max(termination_effective);
        let kept = deletions
            .iter()
            .filter(|d| !d.gone_before_termination)
            .count();
        let step = cite::step(cite::HISTORY)
            .input("retention_days", retention_days)
            .input("points", sorted.len())
            .outcome(format!("note:data_ends_at={data_ends_at}"))
            .text(
                format!(
                    "historique mis à disposition selon la rétention de {retention_days} jours : {kept} point(s) conservé(s), chacun supprimé automatiquement à la fin de sa rétention ; dernière donnée supprimée le {}",
                    self.show(data_ends_at)
                ),
                format!(
                    "history kept for the {retention_days}-day retention: {kept} point(s) kept, each deleted automatically when its retention ends; last data deleted on {}",
                    self.show(data_ends_at)
                ),
            );
        Ok(HistoryPlan {
            deletions,
            data_ends_at,
            reasons: Decision::from_steps(vec![step]),
        })
    }
}
