//! Translations of the portal: one flat key → text table per language
//! (`locales/*.toml`), embedded in the binary. A test checks that every
//! language has exactly the same keys.

use ciel_domain::Lang;
use std::collections::HashMap;
use std::sync::OnceLock;

const FR: &str = include_str!("../locales/fr.toml");
const EN: &str = include_str!("../locales/en.toml");

fn table(lang: Lang) -> &'static HashMap<String, String> {
    static TABLES: OnceLock<[HashMap<String, String>; 2]> = OnceLock::new();
    let tables = TABLES.get_or_init(|| [parse(FR), parse(EN)]);
    match lang {
        Lang::Fr => &tables[0],
        Lang::En => &tables[1],
    }
}

/// Flattens `[section] key = "text"` into `section.key`.
fn parse(src: &str) -> HashMap<String, String> {
    let value: toml::Table = src.parse().unwrap_or_default();
    let mut out = HashMap::new();
    fn walk(prefix: &str, t: &toml::Table, out: &mut HashMap<String, String>) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(&key, t, out),
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                other => {
                    out.insert(key, other.to_string());
                }
            }
        }
    }
    walk("", &value, &mut out);
    out
}

/// The texts of one language, handed to every page.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The text of `key`; a missing key shows itself (and fails the tests).
    pub fn t<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        table(self.lang).get(key).map(String::as_str).unwrap_or(key)
    }

    /// The language code, for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_parse_and_have_the_same_keys() {
        let fr = parse(FR);
        let en = parse(EN);
        assert!(fr.len() > 20, "fr.toml did not parse");
        let mut missing: Vec<_> = fr.keys().filter(|k| !en.contains_key(*k)).collect();
        missing.extend(en.keys().filter(|k| !fr.contains_key(*k)));
        assert!(missing.is_empty(), "keys in one language only: {missing:?}");
        assert!(FR.parse::<toml::Table>().is_ok() && EN.parse::<toml::Table>().is_ok());
    }

    #[test]
    fn every_key_used_by_a_template_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let fr = parse(FR);
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("t.t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert!(
                    fr.contains_key(key),
                    "{}: missing key {key}",
                    path.display()
                );
            }
        }
    }
}
