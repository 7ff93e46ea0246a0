//! Loading, validation errors with key paths, registry, diff, and a fuzz-like
//! property: the parser never panics, whatever the document.

use ciel_terms::*;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn errors_of(text: &str) -> Vec<TermsError> {
    match parse(text) {
        Ok(_) => panic!("document should be rejected"),
        Err(e) => e.0,
    }
}

/// Replace exactly one occurrence of `from` in the embedded document.
fn mutate(from: &str, to: &str) -> String {
    assert_eq!(
        EMBEDDED_TOML.matches(from).count(),
        1,
        "ambiguous mutation {from:?}"
    );
    EMBEDDED_TOML.replace(from, to)
}

#[test]
fn manifest_has_no_io_runtime_dependency() {
    let manifest = include_str!("../Cargo.toml");
    for banned in ["tokio", "sqlx", "axum"] {
        assert!(
            !manifest.contains(banned),
            "ciel-terms must not depend on {banned}"
        );
    }
}

#[test]
fn embedded_document_loads_with_the_contract_figures() {
    let t = embedded();
    assert_eq!(t.version.id, "cgv-csp-v1.0-20250107");
    assert_eq!(t.version.effective_date, jiff::civil::date(2025, 1, 7));
    let p = &t.availability.penalty_classes["p9990"];
    assert_eq!(p.clause, "A2 II.A.1");
    assert_eq!(p.rule, "R5.5");
    assert_eq!(p.tiers[1].lower.unwrap().0, Decimal::new(9900, 2));
    assert_eq!(t.termination.renewal_notice.notice_days, 90);
    assert_eq!(
        t.late_payment.recovery_indemnity_eur.0,
        Decimal::new(4000, 2)
    );
    assert_eq!(t.support.levels[&SupportLevel::Premium].jo_hours, 10);
    assert_eq!(
        t.support.priority_matrix.rows[&Criticality::C2],
        [Priority::P2, Priority::P2, Priority::P3, Priority::P4]
    );
}

#[test]
fn unknown_key_is_rejected_with_its_path() {
    let doc = mutate("jo_hours = 10\n", "jo_hours = 10\njo_minutes = 3\n");
    let e = errors_of(&doc);
    assert_eq!(e[0].path, "support.levels.premium.jo_minutes");
    assert!(
        e[0].message.contains("unknown field `jo_minutes`"),
        "{}",
        e[0].message
    );
}

#[test]
fn float_rate_is_rejected() {
    let doc = mutate(
        r#"{ lower = "99.00", upper = "99.50", penalty_percent = "10" },"#,
        r#"{ lower = 99.0, upper = "99.50", penalty_percent = "10" },"#,
    );
    let e = errors_of(&doc);
    assert_eq!(
        e[0].path,
        "availability.penalty_classes.p9990.tiers[1].lower"
    );
    assert!(
        e[0].message.contains("floats are refused"),
        "{}",
        e[0].message
    );
}

#[test]
fn negative_duration_is_rejected() {
    let doc = mutate("notice_days = 90\n", "notice_days = -90\n");
    let e = errors_of(&doc);
    assert_eq!(e[0].path, "termination.renewal_notice.notice_days");
}

#[test]
fn tier_gap_and_overlap_are_named() {
    // Gap: moving the 10 % tier's lower bound from 99.00 to 99.20 leaves
    // [99.00, 99.20[ without a tier; the next tier's upper bound is named.
    let doc = mutate(
        r#"{ lower = "99.00", upper = "99.50", penalty_percent = "10" },"#,
        r#"{ lower = "99.20", upper = "99.50", penalty_percent = "10" },"#,
    );
    let e = errors_of(&doc);
    assert_eq!(
        e[0].path,
        "availability.penalty_classes.p9990.tiers[2].upper"
    );
    assert!(e[0].message.contains("gap"), "{}", e[0].message);
    // Overlap: lowering it to 98.00 overlaps the 15 % tier [95.00, 99.00[.
    let doc = mutate(
        r#"{ lower = "99.00", upper = "99.50", penalty_percent = "10" },"#,
        r#"{ lower = "98.00", upper = "99.50", penalty_percent = "10" },"#,
    );
    let e = errors_of(&doc);
    assert_eq!(
        e[0].path,
        "availability.penalty_classes.p9990.tiers[2].upper"
    );
    assert!(e[0].message.contains("overlaps"), "{}", e[0].message);
    // Month tiers: 13-24 changed to 14-24 leaves month 13 uncovered.
    let doc = mutate(
        "{ from_month = 13, to_month = 24",
        "{ from_month = 14, to_month = 24",
    );
    let e = errors_of(&doc);
    assert_eq!(e[0].path, "termination.early.tiers[1].from_month");
    assert!(e[0].message.contains("gap"), "{}", e[0].message);
}

#[test]
fn semantic_errors_are_all_reported() {
    let doc = mutate("jo_hours = 10\n", "jo_hours = 8\n").replace(
        r#"p1_calendar = { value = "always""#,
        r#"p1_calendar = { value = "nope""#,
    );
    let e = errors_of(&doc);
    let paths: Vec<_> = e.iter().map(|x| x.path.as_str()).collect();
    assert!(
        paths.contains(&"support.levels.premium.jo_hours"),
        "{paths:?}"
    );
    assert!(paths.contains(&"support.p1_calendar.value"), "{paths:?}");
}

#[test]
fn missing_rule_id_is_rejected() {
    let doc = mutate(
        "order_acceptance_days = { value = 30, clause = \"CG 2.1\", rule = \"R1.3\" }",
        "order_acceptance_days = { value = 30, clause = \"CG 2.1\", rule = \"1.3\" }",
    );
    let e = errors_of(&doc);
    assert_eq!(e[0].path, "contract.order_acceptance_days.rule");
}

#[test]
fn registry_and_diff() {
    let mut r = Registry::with_embedded();
    let v2 = EMBEDDED_TOML
        .replace(
            "id = \"cgv-csp-v1.0-20250107\"",
            "id = \"cgv-csp-v1.1-20260101\"",
        )
        .replace(
            "effective_date = \"2025-01-07\"",
            "effective_date = \"2026-01-01\"",
        )
        .replace("notice_days = 90\n", "notice_days = 60\n");
    assert_eq!(r.add_toml(&v2).unwrap(), "cgv-csp-v1.1-20260101");
    assert!(r.add_toml(&v2).is_err(), "duplicate id");
    assert_eq!(r.list().len(), 2);
    assert_eq!(
        r.in_force_on(jiff::civil::date(2025, 6, 1))
            .unwrap()
            .version
            .id,
        "cgv-csp-v1.0-20250107"
    );
    assert_eq!(
        r.in_force_on(jiff::civil::date(2026, 1, 1))
            .unwrap()
            .version
            .id,
        "cgv-csp-v1.1-20260101"
    );
    assert!(r.in_force_on(jiff::civil::date(2024, 1, 1)).is_none());
    let d = diff(
        r.get("cgv-csp-v1.0-20250107").unwrap(),
        r.get("cgv-csp-v1.1-20260101").unwrap(),
    );
    let paths: Vec<_> = d.iter().map(|x| x.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "termination.renewal_notice.notice_days",
            "version.effective_date",
            "version.id"
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random text: an error, never a panic.
    #[test]
    fn parser_never_panics_on_random_text(s in "\\PC{0,400}") {
        let _ = parse(&s);
    }

    /// Mutated real document: delete a slice, duplicate a slice or replace one
    /// byte. Whatever comes out, parsing returns (Ok or Err) without panicking,
    /// and an error always says something.
    #[test]
    fn parser_never_panics_on_mutated_documents(a in 0usize..EMBEDDED_TOML.len(), len in 0usize..200, op in 0u8..4, byte in 32u8..127) {
        let src = EMBEDDED_TOML.as_bytes();
        let b = (a + len).min(src.len());
        let mut out = Vec::with_capacity(src.len() + len);
        match op {
            0 => { out.extend_from_slice(&src[..a]); out.extend_from_slice(&src[b..]); }
            1 => { out.extend_from_slice(&src[..b]); out.extend_from_slice(&src[a..b]); out.extend_from_slice(&src[b..]); }
            2 => { out.extend_from_slice(src); out[a] = byte; }
            _ => { out.extend_from_slice(&src[..a]); out.push(b'-'); out.extend_from_slice(&src[a..]); }
        }
        let text = String::from_utf8_lossy(&out);
        if let Err(e) = parse(&text) {
            prop_assert!(!e.0.is_empty());
            prop_assert!(e.0.iter().all(|x| !x.message.is_empty()));
        }
    }
}

/// Pathological nesting must be an error, not a stack overflow.
#[test]
fn deep_nesting_is_an_error() {
    for open in ["[", "{a="] {
        let doc = format!("x = {}", open.repeat(20_000));
        assert!(parse(&doc).is_err());
    }
    let doc = format!("{}1", "a.".repeat(5_000));
    assert!(parse(&doc).is_err());
}
