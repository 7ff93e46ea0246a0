//! The binary as a shell user runs it: help, configuration errors, migrate,
//! bootstrap of a staff account, demo data.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn ciel(args: &[&str], stdin: Option<&str>, dir: &std::path::Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ciel"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("CIEL_LOG__LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn help_lists_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = ciel(&["--help"], None, dir.path());
    assert!(out.status.success());
    let help = text(&out);
    for sub in [
        "serve",
        "migrate",
        "demo",
        "default-config",
        "user",
        "terms",
        "sla",
        "support",
        "calc",
    ] {
        assert!(help.contains(sub), "--help lacks {sub}: {help}");
    }
    let serve = text(&ciel(&["serve", "--help"], None, dir.path()));
    assert!(
        serve.contains("--listen") && serve.contains("--demo"),
        "{serve}"
    );
}

#[test]
fn a_new_installation_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("ciel.db").display());
    let out = ciel(&["--database-url", &db, "migrate"], None, dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let out = ciel(
        &[
            "--database-url",
            &db,
            "user",
            "create",
            "--email",
            "chef.exploitation@bytel-cloud.example",
            "--name",
            "Chef",
            "--password-stdin",
        ],
        Some("une-phrase-de-passe-solide\n"),
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("role admin"));
    // The same address twice, a weak password, a bad role: refused with the reason.
    let again = ciel(
        &[
            "--database-url",
            &db,
            "user",
            "create",
            "--email",
            "chef.exploitation@bytel-cloud.example",
            "--name",
            "Chef",
            "--password-stdin",
        ],
        Some("une-phrase-de-passe-solide\n"),
        dir.path(),
    );
    assert!(
        !again.status.success() && text(&again).contains("already exists"),
        "{}",
        text(&again)
    );
    let weak = ciel(
        &[
            "--database-url",
            &db,
            "user",
            "create",
            "--email",
            "a.b@c.example",
            "--name",
            "A",
            "--password-stdin",
        ],
        Some("short\n"),
        dir.path(),
    );
    assert!(
        !weak.status.success() && text(&weak).contains("password"),
        "{}",
        text(&weak)
    );
    let role = ciel(
        &[
            "--database-url",
            &db,
            "user",
            "create",
            "--email",
            "a.b@c.example",
            "--name",
            "A",
            "--role",
            "boss",
        ],
        None,
        dir.path(),
    );
    assert!(!role.status.success() && text(&role).contains("--role"));
    // Without --password-stdin a password is generated and shown once.
    let generated = ciel(
        &[
            "--database-url",
            &db,
            "user",
            "create",
            "--email",
            "n.b@bytel-cloud.example",
            "--name",
            "N",
            "--role",
            "billing",
        ],
        None,
        dir.path(),
    );
    assert!(generated.status.success() && text(&generated).contains("password (shown once)"));
    // Demo data loads once; a second run changes nothing and prints the logins.
    let demo = ciel(&["--database-url", &db, "demo"], None, dir.path());
    assert!(
        demo.status.success() && text(&demo).contains("jeanne.martin@atelier-numerique.example"),
        "{}",
        text(&demo)
    );
    let again = ciel(&["--database-url", &db, "demo"], None, dir.path());
    assert!(
        again.status.success() && text(&again).contains("jeanne.martin@atelier-numerique.example")
    );
}

#[test]
fn configuration_errors_name_the_key_and_secrets_stay_hidden() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[mail]\ntransport = \"pigeon\"\n",
    )
    .unwrap();
    let out = ciel(&["--config", "bad.toml", "migrate"], None, dir.path());
    assert!(!out.status.success());
    assert!(text(&out).contains("mail.transport"), "{}", text(&out));
    let out = ciel(
        &[
            "--database-url",
            "postgres://ciel:hunter2@127.0.0.1:1/none",
            "migrate",
        ],
        None,
        dir.path(),
    );
    assert!(!out.status.success());
    let shown = text(&out);
    assert!(
        !shown.contains("hunter2") && shown.contains("REDACTED"),
        "{shown}"
    );
    let out = ciel(&["default-config"], None, dir.path());
    assert!(out.status.success() && text(&out).contains("[database]"));
}
