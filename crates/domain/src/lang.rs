//! Languages of client-facing text: French by default, English on request.

use serde::{Deserialize, Serialize};

/// A language ciel speaks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// French, the contract's language and the default.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// Parses a tag (`fr`, `en`, `fr-FR`, `en-GB`...), case-insensitively.
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// All languages, default first.
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags() {
        assert_eq!(Lang::parse("fr-FR"), Some(Lang::Fr));
        assert_eq!(Lang::parse("EN_gb"), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(Lang::parse(""), None);
    }
}
