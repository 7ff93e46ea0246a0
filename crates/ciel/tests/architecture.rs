//! Architecture invariants, checked as ordinary tests (see ARCHITECTURE.md):
//! the core crates do no I/O and never read the clock; only the store knows
//! SQL; only the server knows HTTP.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((path.clone(), fs::read_to_string(&path).unwrap()));
        }
    }
}

fn dependencies(krate: &str) -> Vec<String> {
    let manifest: toml::Table =
        fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
    manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

const CORE: &[&str] = &[
    "domain",
    "terms",
    "calendar",
    "engine",
    "catalog",
    "documents",
    "operations",
];

#[test]
fn core_crates_depend_on_no_runtime_database_or_http() {
    for krate in CORE {
        for dep in dependencies(krate) {
            for banned in [
                "tokio", "sqlx", "axum", "reqwest", "lettre", "hyper", "tower",
            ] {
                assert!(
                    !dep.starts_with(banned),
                    "crates/{krate} depends on {dep}: the core does no I/O"
                );
            }
        }
    }
}

#[test]
fn core_crates_never_read_the_clock_or_do_io() {
    for krate in CORE {
        let mut files = Vec::new();
        sources(&root().join("crates").join(krate).join("src"), &mut files);
        for (path, text) in files {
            for banned in [
                "Timestamp::now",
                "Zoned::now",
                "SystemTime::now",
                "Instant::now",
                "std::fs::",
                "std::net::",
                "std::env::var",
            ] {
                assert!(!text.contains(banned), "{} uses {banned}", path.display());
            }
        }
    }
}

#[test]
fn only_the_store_knows_sql_and_only_the_server_knows_http() {
    for krate in [
        "domain",
        "terms",
        "calendar",
        "engine",
        "catalog",
        "documents",
        "operations",
        "mail",
    ] {
        assert!(
            !dependencies(krate).iter().any(|d| d == "sqlx"),
            "{krate} uses sqlx"
        );
        assert!(
            !dependencies(krate).iter().any(|d| d == "axum"),
            "{krate} uses axum"
        );
    }
    assert!(!dependencies("store").iter().any(|d| d == "axum"));
}

#[test]
fn money_is_never_a_float() {
    for krate in ["domain", "terms", "calendar", "engine", "store", "server"] {
        let mut files = Vec::new();
        sources(&root().join("crates").join(krate).join("src"), &mut files);
        for (path, text) in files {
            for line in text.lines() {
                let l = line.to_ascii_lowercase();
                let money = [
                    "amount", "price", "fee", "total", "rate", "penalty", "cents",
                ]
                .iter()
                .any(|w| l.contains(w));
                let float = l.contains(": f64")
                    || l.contains(": f32")
                    || l.contains("<f64>")
                    || l.contains("as f64");
                assert!(
                    !(money && float) || l.contains("latency") || l.contains("duration"),
                    "{}: {line}",
                    path.display()
                );
            }
        }
    }
}
