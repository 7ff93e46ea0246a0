//! Loading the configuration: defaults, then the TOML file, then `CIEL_*`
//! variables (`CIEL_SECTION__KEY`, e.g. `CIEL_DATABASE__URL`), then flags.

use ciel_server::Config;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use std::path::Path;

/// Values given as command-line flags (the last layer).
#[derive(Debug, Default, serde::Serialize)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub log_format: Option<String>,
}

/// Builds the configuration from its four layers. Errors name the key at
/// fault (`unknown field `lisen`` in `server`, a bad value's path...).
pub fn load(
    file: Option<&Path>,
    env: &[(String, String)],
    flags: &Overrides,
) -> anyhow::Result<Config> {
    let mut fig = Figment::new();
    if let Some(path) = file {
        if !path.exists() {
            anyhow::bail!("--config {}: no such file", path.display());
        }
        fig = fig.merge(Toml::file_exact(path));
    }
    // Only sectioned variables are configuration (`CIEL_TEST_DATABASE_URL`
    // and other unsectioned CIEL_* variables belong to other tools).
    let vars: Vec<(String, String)> = env
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("CIEL_")?;
            rest.contains("__")
                .then(|| (rest.to_ascii_lowercase().replace("__", "."), v.clone()))
        })
        .collect();
    for (key, value) in vars {
        fig = fig.merge(Serialized::default(&key, parse_env_value(&value)));
    }
    let mut over = Vec::new();
    if let Some(v) = &flags.listen {
        over.push(("server.listen", v.clone()));
    }
    if let Some(v) = &flags.database_url {
        over.push(("database.url", v.clone()));
    }
    if let Some(v) = &flags.log_format {
        over.push(("log.format", v.clone()));
    }
    for (k, v) in over {
        fig = fig.merge(Serialized::default(k, v));
    }
    fig.extract::<Config>().map_err(|e| {
        let msgs: Vec<String> = e
            .into_iter()
            .map(|e| {
                let path = e.path.join(".");
                if path.is_empty() {
                    e.kind.to_string()
                } else {
                    format!("{path}: {}", e.kind)
                }
            })
            .collect();
        anyhow::anyhow!("configuration: {}", msgs.join("; "))
    })
}

/// Environment values are typed like TOML values when they parse as one
/// (numbers, booleans), else taken as strings.
fn parse_env_value(v: &str) -> figment::value::Value {
    if let Ok(n) = v.parse::<i64>() {
        return n.into();
    }
    if let Ok(b) = v.parse::<bool>() {
        return b.into();
    }
    v.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn the_documented_default_file_is_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ciel.toml");
        std::fs::write(&path, ciel_server::config::DEFAULT_CONFIG_TOML).unwrap();
        let from_file = load(Some(&path), &[], &Overrides::default()).unwrap();
        let defaults = Config::default();
        assert_eq!(format!("{from_file:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ciel.toml");
        std::fs::write(
            &path,
            "[server]\nlisten = \"127.0.0.1:9000\"\n[database]\nmax_connections = 3\n",
        )
        .unwrap();
        let vars = env(&[
            ("CIEL_DATABASE__MAX_CONNECTIONS", "5"),
            ("CIEL_DATABASE__URL", "sqlite://from-env.db"),
            ("CIEL_TEST_DATABASE_URL", "postgres://ignored"),
            ("PATH", "/bin"),
        ]);
        let flags = Overrides {
            database_url: Some("sqlite://from-flag.db".into()),
            ..Default::default()
        };
        let c = load(Some(&path), &vars, &flags).unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:9000"); // file
        assert_eq!(c.database.max_connections, 5); // env beats file
        assert_eq!(c.database.url.expose_secret(), "sqlite://from-flag.db"); // flag beats env
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ciel.toml");
        std::fs::write(&path, "[server]\nlisen = \"127.0.0.1:9000\"\n").unwrap();
        let err = load(Some(&path), &[], &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("lisen"), "{err}");
        let err = load(
            None,
            &env(&[("CIEL_MAIL__TRANSPRT", "smtp")]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("transprt"), "{err}");
        let err = load(
            None,
            &[],
            &Overrides {
                listen: Some("nowhere".into()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("server.listen") || err.contains("listen"),
            "{err}"
        );
    }

    #[test]
    fn secrets_are_not_printed() {
        let vars = env(&[
            ("CIEL_DATABASE__URL", "postgres://ciel:hunter2@db/ciel"),
            ("CIEL_MAIL__SMTP__PASSWORD", "s3cret-pass"),
        ]);
        let c = load(None, &vars, &Overrides::default()).unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cret-pass"),
            "{shown}"
        );
        assert_eq!(
            c.database.url.expose_secret(),
            "postgres://ciel:hunter2@db/ciel"
        );
    }
}
