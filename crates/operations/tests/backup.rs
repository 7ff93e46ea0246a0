//! Backup (R9): option checks, immutability and recycle-bin edges, billing
//! after termination, storage alerts, history after termination.

mod common;

use ciel_operations::backup::BackupOptions;
use ciel_operations::{Operations, ProductParams};
use common::{ops, paris, secs};
use jiff::civil::date;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn option_checks() {
    let ops = ops();
    let imm = |m| BackupOptions {
        immutability_months: Some(m),
        recycle_bin_days: None,
    };
    assert!(ops.check_backup_options(imm(6), true).allowed);
    assert_eq!(
        ops.check_backup_options(imm(7), true).denials(),
        vec!["immutability_out_of_range"]
    );
    assert_eq!(
        ops.check_backup_options(imm(0), true).denials(),
        vec!["immutability_out_of_range"]
    );
    let both = BackupOptions {
        immutability_months: Some(3),
        recycle_bin_days: Some(14),
    };
    assert_eq!(
        ops.check_backup_options(both, false).denials(),
        vec!["options_exclusive", "options_only_on_initial_order"]
    );
    assert!(
        ops.check_backup_options(BackupOptions::default(), false)
            .allowed
    );
    let fr = ops
        .check_backup_options(imm(7), true)
        .reasons
        .render(ciel_operations::Lang::Fr);
    assert!(fr.contains("CS 3.6 (R9.2)"), "{fr}");
}

#[test]
fn immutable_data_cannot_be_deleted_before_its_end() {
    // Backup 31 August 2026 02:00 (+02:00), 6 months: 28 February 2027
    // 02:00 (+01:00) (month end clamps; same wall-clock time).
    let ops = ops();
    let b = paris("2026-08-31 02:00:00");
    let end = paris("2027-02-28 02:00:00");
    assert_eq!(ops.immutability_end(b, 6), end);
    assert_eq!(
        ops.check_immutable_deletion(b, 6, end - secs(1)).denials(),
        vec!["immutable"]
    );
    assert!(ops.check_immutable_deletion(b, 6, end).allowed);
}

#[test]
fn billing_after_termination_until_the_last_immutable_backup_expires() {
    // Terminated 1 July 2026 00:00 Paris. Last immutable backup 30 June
    // 20:00, 6 months → 30 December 20:00; retention 30 days → 30 July:
    // the later is 30 December 20:00. Billed from the termination to 30
    // December included.
    let ops = ops();
    let term = paris("2026-07-01 00:00:00");
    let b = ops.immutable_billing_after_termination(term, paris("2026-06-30 20:00:00"), 6, 30);
    let v = b.value.unwrap();
    assert_eq!(v.until, paris("2026-12-30 20:00:00"));
    assert_eq!(v.last_day, date(2026, 12, 30));
    // Retention longer than immutability: 200 days from 30 June 20:00 =
    // 16 January 2027 20:00.
    let b = ops.immutable_billing_after_termination(term, paris("2026-06-30 20:00:00"), 1, 200);
    assert_eq!(b.value.unwrap().last_day, date(2027, 1, 16));
    // Ends exactly at midnight: the last day billed is the day before.
    let b = ops.immutable_billing_after_termination(term, paris("2026-06-01 00:00:00"), 2, 1);
    assert_eq!(b.value.unwrap().last_day, date(2026, 7, 31));
    // Already over at the termination: nothing billed.
    let b = ops.immutable_billing_after_termination(term, paris("2025-12-01 00:00:00"), 6, 30);
    assert!(b.value.is_none());
}

#[test]
fn recycle_bin_restore_before_expiry() {
    // Deleted 1 March 2026 10:00 (+01:00), 30 days → 31 March 10:00
    // (+02:00). Requested 09:59:59 allowed, 10:00 refused.
    let ops = ops();
    let del = paris("2026-03-01 10:00:00");
    let exp = paris("2026-03-31 10:00:00");
    assert!(
        ops.check_recycle_bin_restore(del, 30, exp - secs(1))
            .allowed
    );
    assert_eq!(
        ops.check_recycle_bin_restore(del, 30, exp).denials(),
        vec!["recycle_bin_expired"]
    );
}

#[test]
fn recycle_bin_in_months_stays_months() {
    // A bin of P1M stated on the order: deleted 31 January 2026 10:00
    // (+01:00) → 28 February 10:00 (month end clamps), not 2 March as 30
    // days would give. A bin of P1M15D: 31 January + 1 month = 28 February,
    // + 15 days = 15 March 10:00 (+01:00).
    let ops = ops();
    let del = paris("2026-01-31 10:00:00");
    let table = [
        (1, 0, "2026-02-28 09:59:59", true),
        (1, 0, "2026-02-28 10:00:00", false),
        (1, 15, "2026-03-15 09:59:59", true),
        (1, 15, "2026-03-15 10:00:00", false),
        (0, 30, "2026-03-02 09:59:59", true),
        (0, 30, "2026-03-02 10:00:00", false),
    ];
    for (months, days, at, allowed) in table {
        let d = ops.check_recycle_bin_restore_span(del, months, days, paris(at));
        assert_eq!(d.allowed, allowed, "P{months}M{days}D at {at}");
        assert_eq!(d.reasons.steps[0].rule, "R9.3");
    }
    // The day-only form is the same rule.
    assert_eq!(
        ops.check_recycle_bin_restore(del, 30, paris("2026-03-02 10:00:00")),
        ops.check_recycle_bin_restore_span(del, 0, 30, paris("2026-03-02 10:00:00"))
    );
}

#[test]
fn storage_thresholds_come_from_the_terms() {
    // `backup.storage_alert_percents` of the terms file wins over the
    // product default: a terms version alerting at 50 % only.
    let mut terms = ciel_terms::embedded().clone();
    terms.backup.storage_alert_percents.value = vec![ciel_terms::Dec(d("50"))];
    let ops = Operations::new(&terms, ProductParams::default()).unwrap();
    let a = ops.storage_alert(d("499.99"), d("1000")).unwrap();
    assert_eq!(a.value.threshold, None);
    let a = ops.storage_alert(d("500"), d("1000")).unwrap();
    assert_eq!(a.value.threshold, Some(d("50")));
}

#[test]
fn storage_alert_levels() {
    // Thresholds 80 / 90 / 100 %: the highest reached.
    let ops = ops();
    let table = [
        ("799.9", None),
        ("800", Some("80")),
        ("950", Some("90")),
        ("1000", Some("100")),
        ("1200", Some("100")),
    ];
    for (used, th) in table {
        let a = ops.storage_alert(d(used), d("1000")).unwrap();
        assert_eq!(a.value.threshold, th.map(d), "{used}");
    }
    assert!(ops.storage_alert(d("1"), d("0")).is_err());
}

#[test]
fn history_after_termination() {
    // Termination 1 July 2026 00:00; retention 30 days. Points of 1 May
    // (already gone on 31 May), 20 June (deleted 20 July) and 30 June 22:00
    // (deleted 30 July 22:00 = end of data).
    let ops = ops();
    let term = paris("2026-07-01 00:00:00");
    let points = [
        paris("2026-05-01 22:00:00"),
        paris("2026-06-20 22:00:00"),
        paris("2026-06-30 22:00:00"),
    ];
    let h = ops
        .history_after_termination(&points, 30, None, term)
        .unwrap();
    assert!(h.deletions[0].gone_before_termination);
    assert_eq!(h.deletions[1].deleted_at, paris("2026-07-20 22:00:00"));
    assert_eq!(h.data_ends_at, paris("2026-07-30 22:00:00"));
    // With 6 months of immutability the last point stays until 30 December.
    let h = ops
        .history_after_termination(&points, 30, Some(6), term)
        .unwrap();
    assert_eq!(h.data_ends_at, paris("2026-12-30 22:00:00"));
    assert!(
        ops.history_after_termination(&[term + secs(1)], 30, None, term)
            .is_err()
    );
}

#[test]
fn regularisation_order_thirty_days() {
    // Sent 1 March 2026 16:00; day 30 = 31 March; the delay ends 1 April
    // 00:00 Paris. Signed 31 March 23:59:59: in time. Unsigned at 1 April
    // 00:00: the order may be cancelled.
    use ciel_operations::backup::RegularisationState;
    let ops = ops();
    let sent = paris("2026-03-01 16:00:00");
    let end = paris("2026-04-01 00:00:00");
    let r = ops.regularisation_order(sent, None, end - secs(1));
    assert_eq!((r.ends_at, r.state), (end, RegularisationState::Awaiting));
    let r = ops.regularisation_order(sent, None, end);
    assert_eq!(r.state, RegularisationState::Cancellable);
    assert_eq!(r.reasons.denials(), vec!["not_signed_in_time"]);
    let r = ops.regularisation_order(sent, Some(end - secs(1)), end);
    assert_eq!(r.state, RegularisationState::SignedInTime);
    let r = ops.regularisation_order(sent, Some(end), end);
    assert_eq!(r.state, RegularisationState::Cancellable);
}

#[test]
fn regularisation_reminder_lead_from_the_terms() {
    // The delay of an order sent 1 March ends 1 April 00:00 Paris (summer
    // time from 29 March); 7 calendar days before is 25 March 00:00 Paris
    // (winter time), whatever the change of offset in between.
    let sent = paris("2026-03-01 16:00:00");
    let r = ops().regularisation_order(sent, None, sent);
    assert_eq!(r.remind_from, paris("2026-03-25 00:00:00"));
    // The terms key moves it.
    let mut terms = ciel_terms::embedded().clone();
    terms.backup.regularisation_reminder_days.value = 10;
    let ops = Operations::for_terms(&terms).unwrap();
    let r = ops.regularisation_order(sent, None, sent);
    assert_eq!(r.remind_from, paris("2026-03-22 00:00:00"));
}

#[test]
fn backup_scopes_and_the_veeam_licence() {
    use ciel_operations::backup::{BackupScope, VeeamLicence};
    let ops = ops();
    assert!(
        ops.check_backup_scope(BackupScope::Teams, VeeamLicence::None)
            .allowed
    );
    assert_eq!(
        ops.check_backup_scope(BackupScope::VirtualMachine, VeeamLicence::None)
            .denials(),
        vec!["veeam_licence_missing"]
    );
    let own = ops.check_backup_scope(BackupScope::Files, VeeamLicence::ClientOwned);
    assert!(own.allowed);
    assert_eq!(
        own.notes(),
        vec!["licence_compatibility_client_responsibility"]
    );
}
