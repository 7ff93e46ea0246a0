//! The operations crate is core: no runtime, no database, no HTTP, no clock
//! (ARCHITECTURE.md), checked here as the catalogue checks itself.

use std::{fs, path::Path};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn manifest_has_no_runtime_database_or_http_dependency() {
    let text = fs::read_to_string(crate_dir().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    let mut deps = Vec::new();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = manifest.get(section).and_then(|d| d.as_table()) {
            deps.extend(t.keys().cloned());
        }
    }
    assert!(deps.iter().any(|d| d == "ciel-terms"), "read as {deps:?}");
    for dep in &deps {
        for banned in [
            "tokio", "sqlx", "axum", "reqwest", "lettre", "hyper", "tower",
        ] {
            assert!(
                !dep.starts_with(banned),
                "ciel-operations depends on {dep}: the operational rules are pure"
            );
        }
    }
}

#[test]
fn sources_never_read_the_clock_or_do_io() {
    let mut checked = 0;
    for entry in fs::read_dir(crate_dir().join("src")).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        for banned in [
            concat!("Timestamp::", "now"),
            concat!("Zoned::", "now"),
            concat!("SystemTime::", "now"),
            concat!("Instant::", "now"),
            "std::fs::",
            "std::net::",
            "std::env::var",
            " f64",
            " f32",
        ] {
            assert!(!text.contains(banned), "{} uses {banned}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 7);
}
