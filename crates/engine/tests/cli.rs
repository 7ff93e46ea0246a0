//! The contract commands of the `ciel` binary, tested from here so that they
//! are checked even while the binary crate is being assembled: the very source
//! file of the binary is compiled into this test.

#[path = "../../ciel/src/contract_cmds.rs"]
#[allow(dead_code)]
mod contract_cmds;

use clap::Parser;
use contract_cmds::{CalcCmd, SlaCmd, SupportCmd, TermsCmd};

#[derive(Parser, Debug)]
#[command(name = "ciel")]
enum Cli {
    #[command(subcommand)]
    Terms(TermsCmd),
    #[command(subcommand)]
    Sla(SlaCmd),
    #[command(subcommand)]
    Support(SupportCmd),
    #[command(subcommand)]
    Calc(CalcCmd),
}

fn run(args: &[&str]) -> anyhow::Result<String> {
    let cli = Cli::try_parse_from(std::iter::once("ciel").chain(args.iter().copied()))?;
    match cli {
        Cli::Terms(c) => c.render(),
        Cli::Sla(c) => c.render(),
        Cli::Support(c) => c.render(),
        Cli::Calc(c) => c.render(),
    }
}

fn repo(p: &str) -> String {
    format!("{}/../../{p}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn support_deadlines_issue_example() {
    let out = run(&[
        "support",
        "deadlines",
        "--level",
        "premium",
        "--criticality",
        "C1",
        "--impact",
        "I2",
        "--notified-at",
        "2026-05-07T17:30:00+02:00",
    ])
    .unwrap();
    assert!(out.contains("Priorité P2"), "{out}");
    assert!(
        out.contains("GTI 4 h : échéance 2026-05-09T11:30:00+02:00"),
        "{out}"
    );
    assert!(
        out.contains("GTR 1 JO : échéance 2026-05-09T17:30:00+02:00"),
        "{out}"
    );
    assert!(out.contains("CG 14.2 (R4.2)"), "{out}");
    // The explanation names the holiday the clocks jumped over.
    assert!(out.contains("2026-05-08 (Victoire 1945)"), "{out}");
    // JSON, with a pause Saturday 08:00-09:00 moving both deadlines by 1 h.
    let out = run(&[
        "support",
        "deadlines",
        "--level",
        "premium",
        "--criticality",
        "C1",
        "--impact",
        "I2",
        "--notified-at",
        "2026-05-07T17:30:00+02:00",
        "--pause",
        "2026-05-09T08:00:00+02:00/2026-05-09T09:00:00+02:00",
        "--format",
        "json",
    ])
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["value"]["gti"]["due_at_local"],
        "2026-05-09T12:30:00+02:00"
    );
    assert_eq!(
        v["value"]["gtr"]["due_at_local"],
        "2026-05-11T08:30:00+02:00"
    );
    assert!(v["explanation"]["steps"].as_array().unwrap().len() >= 3);
    // Errors name the argument.
    let e = run(&[
        "support",
        "deadlines",
        "--level",
        "gold",
        "--criticality",
        "C1",
        "--impact",
        "I2",
        "--notified-at",
        "2026-05-07T17:30:00+02:00",
    ])
    .unwrap_err();
    assert!(e.to_string().contains("--level"), "{e}");
}

#[test]
fn calc_commands() {
    let out = run(&[
        "calc",
        "early-termination",
        "--start",
        "2025-01-15",
        "--term-months",
        "36",
        "--last-day",
        "2026-01-15",
        "--monthly-fee",
        "1000.00",
        "--lang",
        "en",
    ])
    .unwrap();
    assert!(out.contains("Early-termination fee: EUR 19174.19"), "{out}");
    let out = run(&[
        "calc",
        "notice-end",
        "--received",
        "2026-10-03",
        "--term-last-day",
        "2026-12-31",
    ])
    .unwrap();
    assert!(
        out.contains("Dernier jour de service : 2027-01-31"),
        "{out}"
    );
    let out = run(&[
        "calc",
        "late-interest",
        "--amount",
        "1000.00",
        "--due",
        "2025-06-20",
        "--paid",
        "2025-07-10",
        "--format",
        "json",
    ])
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["value"]["total"], "46.93");
}

#[test]
fn terms_commands() {
    let out = run(&["terms", "list"]).unwrap();
    assert!(out.contains("cgv-csp-v1.0-20250107"), "{out}");
    let out = run(&["terms", "show"]).unwrap();
    assert!(out.contains("[availability.penalty_classes.p9990]"));
    let out = run(&[
        "terms",
        "validate",
        &repo("terms/cgv-csp-v1.0-20250107.toml"),
    ])
    .unwrap();
    assert!(
        out.contains("valid terms version cgv-csp-v1.0-20250107"),
        "{out}"
    );
    // A broken file: the error names the key.
    let dir = std::env::temp_dir().join(format!("ciel-terms-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        ciel_engine::ciel_terms::EMBEDDED_TOML.replace("jo_hours = 10", "jo_hours = \"ten\""),
    )
    .unwrap();
    let e = run(&["terms", "validate", bad.to_str().unwrap()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("support.levels.premium.jo_hours"), "{e}");
    // Diff against a modified version given as a file.
    let v2 = dir.join("v2.toml");
    std::fs::write(
        &v2,
        ciel_engine::ciel_terms::EMBEDDED_TOML
            .replace("id = \"cgv-csp-v1.0-20250107\"", "id = \"v2\"")
            .replace(
                "per_year_monthly_fees = \"3\"",
                "per_year_monthly_fees = \"2\"",
            ),
    )
    .unwrap();
    let out = run(&[
        "terms",
        "diff",
        "cgv-csp-v1.0-20250107",
        v2.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        out.contains("penalties.caps.per_year_monthly_fees: \"3\" -> \"2\""),
        "{out}"
    );
    assert!(out.contains("version.id"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sla_verify_example() {
    let out = run(&["sla", "verify", &repo("docs/evidence-example.json")]).unwrap();
    assert!(out.contains("Disponibilité 99,4907 %"), "{out}");
    assert!(out.contains("OK  credit: 120.00 / 120.00"), "{out}");
    let out = run(&[
        "sla",
        "verify",
        &repo("docs/evidence-example.json"),
        "--format",
        "json",
        "--lang",
        "en",
    ])
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["value"]["credit"], "120.00");
}
