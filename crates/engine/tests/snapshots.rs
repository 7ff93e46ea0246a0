//! Snapshot of the rendered explanations of the documented evidence example,
//! in French and English: a change of wording or of a figure shows up in
//! review as a diff of these files. The figures in them were checked by hand
//! against docs/EVIDENCE.md. Regenerate with `UPDATE_SNAPSHOTS=1 cargo test`.

use ciel_engine::{Lang, evidence::verify};
use ciel_terms::Registry;

fn check(name: &str, actual: &str) {
    let path = format!("{}/tests/snapshots/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "snapshot {name} differs; expected:\n{expected}\nactual:\n{actual}"
    );
}

#[test]
fn evidence_example_explanations() {
    let json = include_str!("../../../docs/evidence-example.json");
    let r = verify(&Registry::with_embedded(), json).unwrap();
    check("evidence-example.fr.txt", &r.explanation.render(Lang::Fr));
    check("evidence-example.en.txt", &r.explanation.render(Lang::En));
}
