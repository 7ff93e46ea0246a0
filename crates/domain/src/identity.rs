//! A client's legal and banking identity: SIRET, IBAN, BIC, SEPA creditor
//! identifier (ICS), mandate reference (RUM), structured postal address and
//! VAT regime.
//!
//! Every type here is *parsed, not validated*: its only constructor is
//! `parse`, which normalises the input (spaces removed, letters upper-cased
//! where the standard is case-insensitive) and either returns a value that is
//! known to be well formed or an error that says exactly what is wrong, so the
//! API and the portal can show it next to the field. A value that exists is
//! valid; storage keeps the normalised text and re-parses it on the way back.
//!
//! SIREN and the French VAT number live in [`crate::company`] and are reused
//! here (a SIRET's first nine digits are a SIREN), not duplicated.
//!
//! Why the care: these values end up in SEPA direct-debit files (pain.008)
//! and on invoices. A bank rejects a whole batch for one malformed IBAN or an
//! unstructured address (since November 2026), and an invoice without the
//! right VAT mention is not a valid French invoice.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::company;

/// Input with every whitespace character removed: people paste identifiers
/// grouped in blocks ("FR76 3000 ...", "123 456 789 00012").
fn compact(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `value mod 97` of an alphanumeric string read as the ISO 7064 number where
/// each letter A..Z stands for 10..35 (used by IBAN and ICS). Computed digit
/// by digit so any length fits in a `u32`. The caller has checked that every
/// character is an ASCII digit or upper-case letter.
fn mod97(s: &str) -> u32 {
    let mut r: u32 = 0;
    for c in s.chars() {
        let v = c.to_digit(36).unwrap_or(0);
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    r
}

macro_rules! string_serde {
    ($t:ident) => {
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $t::parse(&s).map_err(|e| e.to_string())
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl $t {
            /// The normalised text, as stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

// ---- SIRET ---------------------------------------------------------------

/// SIREN of La Poste, whose establishments' SIRETs do not use the Luhn key.
const LA_POSTE_SIREN: &str = "356000000";
/// La Poste's head office, the one La Poste SIRET that keeps the Luhn key.
const LA_POSTE_HEAD_OFFICE: &str = "35600000000048";

/// Why a SIRET was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiretError {
    #[error("a SIRET has 14 digits (the 9 of the SIREN and the 5 of the establishment number)")]
    Format,
    #[error("the SIRET's first 9 digits are not a valid SIREN: {0}")]
    Siren(&'static str),
    #[error("the SIRET's check digit (Luhn over the 14 digits) is wrong")]
    Luhn,
    #[error("a La Poste SIRET (SIREN 356 000 000) must have digits summing to a multiple of 5")]
    LaPosteSum,
}

/// An establishment identifier: SIREN (9 digits) + NIC (5 digits).
///
/// The key is the Luhn check over all 14 digits, except at La Poste
/// (SIREN 356 000 000): INSEE numbers its ~17 000 establishments without a Luhn
/// key, and the rule there is that the digits sum to a multiple of 5; its head
/// office, 356 000 000 00048, keeps an ordinary Luhn key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Siret(String);
string_serde!(Siret);

impl Siret {
    /// Parses 14 digits, spaces allowed ("123 456 782 00010").
    pub fn parse(s: &str) -> Result<Self, SiretError> {
        let d = compact(s);
        if d.len() != 14 || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SiretError::Format);
        }
        company::parse_siren(&d[..9]).map_err(SiretError::Siren)?;
        if &d[..9] == LA_POSTE_SIREN && d != LA_POSTE_HEAD_OFFICE {
            let sum: u32 = d.bytes().map(|b| u32::from(b - b'0')).sum();
            if !sum.is_multiple_of(5) {
                return Err(SiretError::LaPosteSum);
            }
        } else if !crate::company::luhn_ok(&d) {
            return Err(SiretError::Luhn);
        }
        Ok(Siret(d))
    }

    /// The company's SIREN (first 9 digits).
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }

    /// The establishment's internal number (NIC, last 5 digits).
    pub fn nic(&self) -> &str {
        &self.0[9..]
    }
}

impl fmt::Display for Siret {
    /// Grouped as INSEE prints it: `123 456 782 00010`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        write!(f, "{} {} {} {}", &s[..3], &s[3..6], &s[6..9], &s[9..])
    }
}

// ---- IBAN ----------------------------------------------------------------

/// IBAN length per country of the SEPA scheme (EPC list of SEPA countries,
/// lengths from the SWIFT IBAN registry). French overseas departments use
/// the FR prefix, and Jersey, Guernsey and the Isle of Man the GB prefix, so
/// those entries cover them.
const SEPA_IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AL", 28),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("VA", 22),
];

/// The IBAN length of a SEPA country, `None` outside SEPA.
pub fn sepa_iban_length(country: &str) -> Option<usize> {
    SEPA_IBAN_LENGTHS
        .iter()
        .find(|(c, _)| *c == country)
        .map(|(_, l)| *l)
}

/// Why an IBAN was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IbanError {
    #[error("an IBAN starts with a two-letter country code and two check digits")]
    Format,
    #[error("an IBAN has only letters and digits (spaces are allowed between groups)")]
    Character,
    #[error("{0} IBANs are not accepted: SEPA direct debit needs an IBAN of a SEPA country")]
    NotSepa(String),
    #[error("a {country} IBAN has {expected} characters, this one has {found}")]
    Length {
        country: String,
        expected: usize,
        found: usize,
    },
    #[error(
        "the IBAN's check digits are wrong (mod 97 is not 1): a character was probably mistyped"
    )]
    Checksum,
}

/// An International Bank Account Number (ISO 13616) of a SEPA country.
///
/// Stored without spaces, upper-case; [`Display`](fmt::Display) prints the
/// paper format in groups of four. The mod-97 check catches every single
/// mistyped digit or letter (a change of less than 97 times a power of ten)
/// and all but a few chance typos of other kinds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iban(String);
string_serde!(Iban);

impl Iban {
    /// Parses the electronic (`FR1420041010050500013M02606`) or paper
    /// (`FR14 2004 1010 ...`) form, any case.
    pub fn parse(s: &str) -> Result<Self, IbanError> {
        let v = compact(s).to_ascii_uppercase();
        if !v.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(IbanError::Character);
        }
        let b = v.as_bytes();
        if b.len() < 4
            || !b[..2].iter().all(u8::is_ascii_uppercase)
            || !b[2..4].iter().all(u8::is_ascii_digit)
        {
            return Err(IbanError::Format);
        }
        let country = &v[..2];
        let expected =
            sepa_iban_length(country).ok_or_else(|| IbanError::NotSepa(country.to_string()))?;
        if v.len() != expected {
            return Err(IbanError::Length {
                country: country.to_string(),
                expected,
                found: v.len(),
            });
        }
        // ISO 13616: move the first four characters to the end, read letters
        // as 10..35, and the number mod 97 must be 1.
        let rearranged = format!("{}{}", &v[4..], &v[..4]);
        if mod97(&rearranged) != 1 {
            return Err(IbanError::Checksum);
        }
        Ok(Iban(v))
    }

    /// ISO 3166-1 country code of the account's bank.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// The two check digits.
    pub fn check_digits(&self) -> &str {
        &self.0[2..4]
    }

    /// The national account number (BBAN).
    pub fn bban(&self) -> &str {
        &self.0[4..]
    }
}

impl fmt::Display for Iban {
    /// Paper format: groups of four characters separated by a space.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, chunk) in self.0.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            // Chunks of an ASCII string are ASCII.
            f.write_str(std::str::from_utf8(chunk).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

// ---- BIC -----------------------------------------------------------------

/// Why a BIC was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BicError {
    #[error("a BIC has 8 or 11 characters, this one has {0}")]
    Length(usize),
    #[error("a BIC's first 4 characters (the institution code) are letters")]
    Institution,
    #[error("a BIC's characters 5-6 are the bank's country code, two letters")]
    Country,
    #[error("a BIC's characters 7-8 (the location code) are letters or digits")]
    Location,
    #[error("a BIC's last 3 characters (the branch code) are letters or digits")]
    Branch,
    #[error("a BIC's characters 5-6 are a country code, and {0} is not one")]
    UnknownCountry(String),
}

/// A Business Identifier Code (ISO 9362): institution (4 letters), country
/// (2 letters), location (2 letters or digits), optional branch (3 letters or
/// digits; `XXX` is the head office).
///
/// ISO 9362:2014 allows digits in the institution code, but every code SWIFT
/// issues uses letters; refusing digits there catches the common O/0 typo.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bic(String);
string_serde!(Bic);

impl Bic {
    /// Parses a BIC, any case, spaces ignored.
    pub fn parse(s: &str) -> Result<Self, BicError> {
        let v = compact(s).to_ascii_uppercase();
        let b = v.as_bytes();
        if b.len() != 8 && b.len() != 11 {
            return Err(BicError::Length(v.chars().count()));
        }
        if !b[..4].iter().all(u8::is_ascii_uppercase) {
            return Err(BicError::Institution);
        }
        if !b[4..6].iter().all(u8::is_ascii_uppercase) {
            return Err(BicError::Country);
        }
        // SWIFT also issues BICs for Kosovo under the user-assigned code XK.
        if !is_country_code(&v[4..6]) && &v[4..6] != "XK" {
            return Err(BicError::UnknownCountry(v[4..6].to_string()));
        }
        let alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
        if !b[6..8].iter().all(alnum) {
            return Err(BicError::Location);
        }
        if b.len() == 11 && !b[8..].iter().all(alnum) {
            return Err(BicError::Branch);
        }
        Ok(Bic(v))
    }

    /// Country code of the institution.
    pub fn country(&self) -> &str {
        &self.0[4..6]
    }

    /// The 8-character code of the institution's office (BIC8), the same
    /// for `XXXXFRPP` and `XXXXFRPPXXX`.
    pub fn bic8(&self) -> &str {
        &self.0[..8]
    }

    /// A `0` as the second location character marks a test-and-training BIC,
    /// which a production debit must not use.
    pub fn is_test(&self) -> bool {
        self.0.as_bytes()[7] == b'0'
    }
}

impl fmt::Display for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---- ICS (SEPA creditor identifier) --------------------------------------

/// Why a creditor identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditorIdError {
    #[error(
        "a SEPA creditor identifier is a country code, 2 check digits, a 3-character business code and the national identifier (e.g. FR72ZZZ123456)"
    )]
    Format,
    #[error("a French creditor identifier (ICS) has 13 characters, this one has {0}")]
    FrenchLength(usize),
    #[error("a creditor identifier has at most 35 characters")]
    TooLong,
    #[error(
        "the creditor identifier's check digits are wrong: {found} given, {expected} expected (ISO 7064 mod 97-10)"
    )]
    Checksum { expected: String, found: String },
}

/// A SEPA creditor identifier (in France: ICS, Identifiant Créancier SEPA),
/// printed on every pre-notification (R2.7).
///
/// Layout: country (2 letters), check digits (2), creditor business code
/// (3 letters or digits, `ZZZ` by default, *not* covered by the check), national
/// identifier. The check digits are ISO 7064 mod 97-10 computed over the
/// national identifier followed by the country code and `00`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditorId(String);
string_serde!(CreditorId);

impl CreditorId {
    /// Parses a creditor identifier, any case, spaces ignored.
    pub fn parse(s: &str) -> Result<Self, CreditorIdError> {
        let v = compact(s).to_ascii_uppercase();
        let b = v.as_bytes();
        if b.len() < 8
            || !b.iter().all(u8::is_ascii_alphanumeric)
            || !b[..2].iter().all(u8::is_ascii_uppercase)
            || !b[2..4].iter().all(u8::is_ascii_digit)
        {
            return Err(CreditorIdError::Format);
        }
        if &v[..2] == "FR" {
            if v.len() != 13 {
                return Err(CreditorIdError::FrenchLength(v.len()));
            }
        } else if v.len() > 35 {
            return Err(CreditorIdError::TooLong);
        }
        let expected = format!("{:02}", 98 - mod97(&format!("{}{}00", &v[7..], &v[..2])));
        if expected != v[2..4] {
            return Err(CreditorIdError::Checksum {
                expected,
                found: v[2..4].to_string(),
            });
        }
        Ok(CreditorId(v))
    }

    /// The creditor business code (characters 5-7).
    pub fn business_code(&self) -> &str {
        &self.0[4..7]
    }

    /// The national identifier (after the business code).
    pub fn national_id(&self) -> &str {
        &self.0[7..]
    }
}

impl fmt::Display for CreditorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---- RUM (mandate reference) ---------------------------------------------

/// Why a mandate reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MandateRefError {
    #[error("a mandate reference (RUM) cannot be empty")]
    Empty,
    #[error("a mandate reference (RUM) has at most 35 characters, this one has {0}")]
    TooLong(usize),
    #[error(
        "a mandate reference (RUM) may only use letters A-Z a-z, digits and / - ? : ( ) . , ' + and space; {0:?} is not allowed"
    )]
    Character(char),
    #[error("a mandate reference (RUM) cannot start or end with '/'")]
    EdgeSlash,
    #[error("a mandate reference (RUM) cannot contain '//'")]
    DoubleSlash,
}

/// The unique mandate reference (RUM, Référence Unique de Mandat) of a SEPA
/// direct-debit mandate: at most 35 characters of the SEPA character set.
///
/// Kept exactly as given (case and inner spaces are significant to the
/// debtor's bank); only surrounding whitespace is trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MandateRef(String);
string_serde!(MandateRef);

impl MandateRef {
    /// Parses a mandate reference.
    pub fn parse(s: &str) -> Result<Self, MandateRefError> {
        let v = s.trim();
        if v.is_empty() {
            return Err(MandateRefError::Empty);
        }
        if let Some(c) = v
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(*c)))
        {
            return Err(MandateRefError::Character(c));
        }
        // Only ASCII from here: bytes are characters.
        if v.len() > 35 {
            return Err(MandateRefError::TooLong(v.len()));
        }
        if v.starts_with('/') || v.ends_with('/') {
            return Err(MandateRefError::EdgeSlash);
        }
        if v.contains("//") {
            return Err(MandateRefError::DoubleSlash);
        }
        Ok(MandateRef(v.to_string()))
    }
}

impl fmt::Display for MandateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---- Country and postal address -----------------------------------------

/// Officially assigned ISO 3166-1 alpha-2 codes (249).
const ISO_3166_ALPHA2: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ \
EC EE EG EH ER ES ET \
FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU \
ID IE IL IM IN IO IQ IR IS IT \
JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ \
OM \
PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA \
RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ \
VA VC VE VG VI VN VU \
WF WS \
YE YT \
ZA ZM ZW";

fn is_country_code(s: &str) -> bool {
    s.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == s)
}

/// Why a country code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an ISO 3166-1 alpha-2 country code (e.g. FR, BE, DE)")]
pub struct CountryError(pub String);

/// An ISO 3166-1 alpha-2 country code, upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country(String);
string_serde!(Country);

impl Country {
    /// Parses a two-letter code, any case.
    pub fn parse(s: &str) -> Result<Self, CountryError> {
        let v = s.trim().to_ascii_uppercase();
        if is_country_code(&v) {
            Ok(Country(v))
        } else {
            Err(CountryError(s.trim().to_string()))
        }
    }

    /// Whether addresses of this country use five-digit French post codes:
    /// France, Monaco (980xx) and the overseas territories that have their
    /// own ISO code but French post codes.
    pub fn uses_french_post_codes(&self) -> bool {
        matches!(
            self.0.as_str(),
            "FR" | "MC"
                | "GP"
                | "MQ"
                | "GF"
                | "RE"
                | "YT"
                | "PM"
                | "BL"
                | "MF"
                | "WF"
                | "PF"
                | "NC"
        )
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which field of an address is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field} has at most {max} characters in a SEPA file, this one has {found}")]
    TooLong {
        field: &'static str,
        max: usize,
        found: usize,
    },
    #[error("{field} contains a control character")]
    Control { field: &'static str },
    #[error("country: {0}")]
    Country(CountryError),
    #[error("post_code: a French post code has 5 digits")]
    FrenchPostCode,
}

/// The raw fields of an address, as entered (API body, form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressInput {
    pub street_name: String,
    #[serde(default)]
    pub building_number: Option<String>,
    pub post_code: String,
    pub town: String,
    pub country: String,
}

/// A structured postal address, as pain.008.001.08 wants it (`StrtNm`,
/// `BldgNb`, `PstCd`, `TwnNm`, `Ctry`): since November 2026 banks refuse
/// unstructured address lines for SEPA debits, and invoices print the same
/// fields.
///
/// Field lengths are the pain.008 limits (70, 16, 16, 35). Transliteration to
/// the SEPA Latin character set is the file writer's job: names with accents
/// are kept as the client wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "AddressInput", into = "AddressInput")]
pub struct PostalAddress {
    street_name: String,
    building_number: Option<String>,
    post_code: String,
    town: String,
    country: Country,
}

impl PostalAddress {
    /// Checks and normalises (trims, collapses no spaces inside) each field.
    pub fn parse(input: &AddressInput) -> Result<Self, AddressError> {
        fn field(
            name: &'static str,
            v: &str,
            max: usize,
            required: bool,
        ) -> Result<Option<String>, AddressError> {
            let v = v.trim();
            if v.is_empty() {
                return if required {
                    Err(AddressError::Missing { field: name })
                } else {
                    Ok(None)
                };
            }
            if v.chars().any(char::is_control) {
                return Err(AddressError::Control { field: name });
            }
            let n = v.chars().count();
            if n > max {
                return Err(AddressError::TooLong {
                    field: name,
                    max,
                    found: n,
                });
            }
            Ok(Some(v.to_string()))
        }
        let req = |name, v: &str, max| field(name, v, max, true).map(Option::unwrap_or_default);
        let street_name = req("street_name", &input.street_name, 70)?;
        let building_number = match &input.building_number {
            Some(b) => field("building_number", b, 16, false)?,
            None => None,
        };
        let post_code = req("post_code", &input.post_code, 16)?;
        let town = req("town", &input.town, 35)?;
        let country = Country::parse(&input.country).map_err(AddressError::Country)?;
        if country.uses_french_post_codes()
            && (post_code.len() != 5 || !post_code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AddressError::FrenchPostCode);
        }
        Ok(PostalAddress {
            street_name,
            building_number,
            post_code,
            town,
            country,
        })
    }

    pub fn street_name(&self) -> &str {
        &self.street_name
    }
    pub fn building_number(&self) -> Option<&str> {
        self.building_number.as_deref()
    }
    pub fn post_code(&self) -> &str {
        &self.post_code
    }
    pub fn town(&self) -> &str {
        &self.town
    }
    pub fn country(&self) -> &Country {
        &self.country
    }
}

impl TryFrom<AddressInput> for PostalAddress {
    type Error = AddressError;
    fn try_from(i: AddressInput) -> Result<Self, AddressError> {
        PostalAddress::parse(&i)
    }
}

impl From<PostalAddress> for AddressInput {
    fn from(a: PostalAddress) -> Self {
        AddressInput {
            street_name: a.street_name,
            building_number: a.building_number,
            post_code: a.post_code,
            town: a.town,
            country: a.country.0,
        }
    }
}

impl fmt::Display for PostalAddress {
    /// French postal layout: `12 rue de la Paix, 75002 Paris, FR`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(b) = &self.building_number {
            write!(f, "{b} ")?;
        }
        write!(
            f,
            "{}, {} {}, {}",
            self.street_name, self.post_code, self.town, self.country
        )
    }
}

// ---- VAT regime ----------------------------------------------------------

/// The invoice mention of intra-EU reverse charge (CGI art. 242 nonies A,
/// I-13°: the word "Autoliquidation"), with its legal bases.
pub const REVERSE_CHARGE_MENTION: &str =
    "Autoliquidation (art. 283-2 du CGI ; art. 196 de la directive 2006/112/CE)";

/// Why a VAT regime was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VatRegimeError {
    #[error("a standard VAT rate is a percentage above 0 and at most 100, {0} given")]
    Rate(Decimal),
    #[error(
        "an exempt client needs the exemption mention printed on its invoices (e.g. \"TVA non applicable, art. 259-1 du CGI\")"
    )]
    MissingMention,
    #[error("the exemption mention has at most 200 characters")]
    MentionTooLong,
}

/// How VAT applies to a client's invoices (R2.1): the standard rate (20 % by
/// default, `billing.default_vat_percent` of the terms), an exemption with
/// the mention the law requires on the invoice, or the intra-EU reverse
/// charge where the client accounts for the VAT.
///
/// The rate is a [`Decimal`] percentage, never a float. The EN 16931 VAT
/// category code (BT-151) follows from the regime. The variants are private
/// so that every value, built in code or read from JSON
/// (`{"kind": "standard", "rate_percent": "20"}`), went through the checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Regime", into = "Regime")]
pub struct VatRegime(Regime);

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Regime {
    Standard { rate_percent: Decimal },
    Exempt { mention: String },
    ReverseCharge,
}

impl TryFrom<Regime> for VatRegime {
    type Error = VatRegimeError;
    fn try_from(r: Regime) -> Result<Self, VatRegimeError> {
        match r {
            Regime::Standard { rate_percent } => VatRegime::standard(rate_percent),
            Regime::Exempt { mention } => VatRegime::exempt(&mention),
            Regime::ReverseCharge => Ok(VatRegime::reverse_charge()),
        }
    }
}

impl From<VatRegime> for Regime {
    fn from(v: VatRegime) -> Regime {
        v.0
    }
}

impl VatRegime {
    /// The standard regime at a rate in percent (0 < rate <= 100).
    pub fn standard(rate_percent: Decimal) -> Result<Self, VatRegimeError> {
        if rate_percent <= Decimal::ZERO || rate_percent > Decimal::ONE_HUNDRED {
            return Err(VatRegimeError::Rate(rate_percent));
        }
        Ok(VatRegime(Regime::Standard { rate_percent }))
    }

    /// An exemption with its (non-empty) invoice mention.
    pub fn exempt(mention: &str) -> Result<Self, VatRegimeError> {
        let m = mention.trim();
        if m.is_empty() {
            return Err(VatRegimeError::MissingMention);
        }
        if m.chars().count() > 200 {
            return Err(VatRegimeError::MentionTooLong);
        }
        Ok(VatRegime(Regime::Exempt {
            mention: m.to_string(),
        }))
    }

    /// Intra-EU reverse charge: no VAT charged, the client self-assesses;
    /// invoices print [`REVERSE_CHARGE_MENTION`].
    pub fn reverse_charge() -> Self {
        VatRegime(Regime::ReverseCharge)
    }

    pub fn is_reverse_charge(&self) -> bool {
        self.0 == Regime::ReverseCharge
    }

    /// The VAT rate to apply, in percent (0 when exempt or reverse charged).
    pub fn rate_percent(&self) -> Decimal {
        match &self.0 {
            Regime::Standard { rate_percent } => *rate_percent,
            Regime::Exempt { .. } | Regime::ReverseCharge => Decimal::ZERO,
        }
    }

    /// The mention the invoice must print, if any.
    pub fn mention(&self) -> Option<&str> {
        match &self.0 {
            Regime::Standard { .. } => None,
            Regime::Exempt { mention } => Some(mention),
            Regime::ReverseCharge => Some(REVERSE_CHARGE_MENTION),
        }
    }

    /// EN 16931 VAT category code (BT-151): `S`, `E` or `AE`.
    pub fn en16931_category(&self) -> &'static str {
        match &self.0 {
            Regime::Standard { .. } => "S",
            Regime::Exempt { .. } => "E",
            Regime::ReverseCharge => "AE",
        }
    }
}

// ---- Aggregates ----------------------------------------------------------

/// SEPA direct-debit scheme of a mandate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SepaScheme {
    /// The default scheme, with the debtor's 8-week refund right.
    Core,
    /// Business-to-business scheme: no refund, the debtor's bank must hold a
    /// copy of the mandate.
    B2b,
}

/// A signed SEPA direct-debit mandate (R2.7): what pre-notifications and the
/// pain.008 file need about the debtor's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SepaMandate {
    pub reference: MandateRef,
    pub iban: Iban,
    /// Optional for SEPA payments inside the EEA since 2016, kept when given.
    pub bic: Option<Bic>,
    /// Date of signature (`DtOfSgntr`).
    pub signed_on: jiff::civil::Date,
    pub scheme: SepaScheme,
}

/// Why a legal identity was refused (each variant names the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegalIdentityError {
    #[error("company_name is required and has at most 140 characters")]
    Name,
    #[error("siren: a company established in France needs its SIREN")]
    SirenMissing,
    #[error("siren: {0}")]
    Siren(&'static str),
    #[error("siret: a SIRET needs the company's SIREN")]
    SiretWithoutSiren,
    #[error("siret: its first 9 digits ({found}) are not the company's SIREN ({siren})")]
    SiretSiren { siren: String, found: String },
    #[error("vat_number: {0}")]
    Vat(&'static str),
    #[error("vat_regime: reverse charge needs the client's intra-EU VAT number")]
    ReverseChargeWithoutVat,
    #[error(
        "vat_regime: intra-EU reverse charge applies to clients established in another member state, not to a French VAT number"
    )]
    ReverseChargeFrench,
}

/// A client company's legal identity as invoices need it, with the
/// cross-checks between its parts: a company whose address is in France (or a
/// territory using French post codes) has a SIREN; the SIRET belongs to that
/// SIREN; a French VAT number carries the key of the SIREN (checked by
/// [`company::parse_vat_number`]); reverse charge needs a VAT number of
/// another member state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LegalIdentityInput", into = "LegalIdentityInput")]
pub struct LegalIdentity {
    company_name: String,
    siren: Option<String>,
    siret: Option<Siret>,
    vat_number: Option<String>,
    address: PostalAddress,
    vat_regime: VatRegime,
}

/// The fields of a legal identity as entered or stored; reading one into a
/// [`LegalIdentity`] runs every check again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalIdentityInput {
    pub company_name: String,
    #[serde(default)]
    pub siren: Option<String>,
    #[serde(default)]
    pub siret: Option<Siret>,
    #[serde(default)]
    pub vat_number: Option<String>,
    pub address: PostalAddress,
    pub vat_regime: VatRegime,
}

impl TryFrom<LegalIdentityInput> for LegalIdentity {
    type Error = LegalIdentityError;
    fn try_from(i: LegalIdentityInput) -> Result<Self, LegalIdentityError> {
        LegalIdentity::new(
            &i.company_name,
            i.siren.as_deref(),
            i.siret,
            i.vat_number.as_deref(),
            i.address,
            i.vat_regime,
        )
    }
}

impl From<LegalIdentity> for LegalIdentityInput {
    fn from(l: LegalIdentity) -> Self {
        LegalIdentityInput {
            company_name: l.company_name,
            siren: l.siren,
            siret: l.siret,
            vat_number: l.vat_number,
            address: l.address,
            vat_regime: l.vat_regime,
        }
    }
}

impl LegalIdentity {
    /// Builds an identity from parsed parts and raw SIREN / VAT text (empty
    /// text counts as absent).
    pub fn new(
        company_name: &str,
        siren: Option<&str>,
        siret: Option<Siret>,
        vat_number: Option<&str>,
        address: PostalAddress,
        vat_regime: VatRegime,
    ) -> Result<Self, LegalIdentityError> {
        let name = company_name.trim();
        if name.is_empty() || name.chars().count() > 140 || name.chars().any(char::is_control) {
            return Err(LegalIdentityError::Name);
        }
        let siren = match siren.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(company::parse_siren(s).map_err(LegalIdentityError::Siren)?),
            None if address.country().uses_french_post_codes() => {
                return Err(LegalIdentityError::SirenMissing);
            }
            None => None,
        };
        if let Some(s) = &siret {
            match &siren {
                None => return Err(LegalIdentityError::SiretWithoutSiren),
                Some(siren) if s.siren() != siren => {
                    return Err(LegalIdentityError::SiretSiren {
                        siren: siren.clone(),
                        found: s.siren().to_string(),
                    });
                }
                Some(_) => {}
            }
        }
        let vat_number = match vat_number.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => Some(
                company::parse_vat_number(v, siren.as_deref()).map_err(LegalIdentityError::Vat)?,
            ),
            None => None,
        };
        if vat_regime.is_reverse_charge() {
            match &vat_number {
                None => return Err(LegalIdentityError::ReverseChargeWithoutVat),
                Some(v) if v.starts_with("FR") => {
                    return Err(LegalIdentityError::ReverseChargeFrench);
                }
                Some(_) => {}
            }
        }
        Ok(LegalIdentity {
            company_name: name.to_string(),
            siren,
            siret,
            vat_number,
            address,
            vat_regime,
        })
    }

    pub fn company_name(&self) -> &str {
        &self.company_name
    }
    /// The 9-digit SIREN (absent for a company established abroad).
    pub fn siren(&self) -> Option<&str> {
        self.siren.as_deref()
    }
    pub fn siret(&self) -> Option<&Siret> {
        self.siret.as_ref()
    }
    /// The normalised intra-EU VAT number.
    pub fn vat_number(&self) -> Option<&str> {
        self.vat_number.as_deref()
    }
    pub fn address(&self) -> &PostalAddress {
        &self.address
    }
    pub fn vat_regime(&self) -> &VatRegime {
        &self.vat_regime
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    // ---- SIRET ----

    #[test]
    fn siret_table() {
        // 732 829 320 00074 (Google France). Luhn by hand, digits from the
        // right, every second one doubled (minus 9 above 9):
        // kept 4,0,0,2,9,8,3 = 26; doubled 7→5, 0, 0, 3→6, 2→4, 2→4, 7→5 = 24;
        // 26 + 24 = 50, a multiple of 10. Its SIREN 732 829 320: kept
        // 0,3,2,2,7 = 14, doubled 2→4, 9→9, 8→7, 3→6 = 26; 40 → valid.
        let ok = Siret::parse("732 829 320 00074").unwrap();
        assert_eq!(ok.as_str(), "73282932000074");
        assert_eq!(ok.siren(), "732829320");
        assert_eq!(ok.nic(), "00074");
        assert_eq!(ok.to_string(), "732 829 320 00074");

        let cases: &[(&str, Result<(), SiretError>)] = &[
            // Last digit +1: the Luhn sum becomes 51.
            ("73282932000075", Err(SiretError::Luhn)),
            ("7328293200007", Err(SiretError::Format)),
            ("732829320000740", Err(SiretError::Format)),
            ("7328293200007A", Err(SiretError::Format)),
            ("", Err(SiretError::Format)),
            // SIREN 732 829 321: its Luhn sum is 41.
            (
                "73282932100074",
                Err(SiretError::Siren("the SIREN's check digit (Luhn) is wrong")),
            ),
            // La Poste's head office keeps the Luhn key: kept 8,0,0,0,0,0,5 = 13,
            // doubled 4→8, 6→3 (12-9), 3→6 = 17 (others 0); 30.
            ("35600000000048", Ok(())),
            // La Poste establishments: digit sum a multiple of 5.
            // 3+5+6+0+1 = 15 (Luhn would refuse: 1 + 3 + 5 + 6 = 15).
            ("35600000000001", Ok(())),
            // 3+5+6+6 = 20.
            ("35600000000006", Ok(())),
            // 3+5+6+1+4 = 19.
            ("35600000000014", Err(SiretError::LaPosteSum)),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Siret::parse(input).map(|_| ()),
                *expected,
                "SIRET {input:?}"
            );
        }
    }

    // ---- IBAN ----

    /// Example IBANs of the SWIFT IBAN registry (also those of the EPC), one
    /// per SEPA country supported, in paper format.
    const EXAMPLE_IBANS: &[&str] = &[
        "AD12 0001 2030 2003 5910 0100",
        "AL47 2121 1009 0000 0002 3569 8741",
        "AT61 1904 3002 3457 3201",
        "BE68 5390 0754 7034",
        "BG80 BNBG 9661 1020 3456 78",
        "CH93 0076 2011 6238 5295 7",
        "CY17 0020 0128 0000 0012 0052 7600",
        "CZ65 0800 0000 1920 0014 5399",
        "DE89 3704 0044 0532 0130 00",
        "DK50 0040 0440 1162 43",
        "EE38 2200 2210 2014 5685",
        "ES91 2100 0418 4502 0005 1332",
        "FI21 1234 5600 0007 85",
        "FR14 2004 1010 0505 0001 3M02 606",
        "GB29 NWBK 6016 1331 9268 19",
        "GI75 NWBK 0000 0000 7099 453",
        "GR16 0110 1250 0000 0001 2300 695",
        "HR12 1001 0051 8630 0016 0",
        "HU42 1177 3016 1111 1018 0000 0000",
        "IE29 AIBK 9311 5212 3456 78",
        "IS14 0159 2600 7654 5510 7303 39",
        "IT60 X054 2811 1010 0000 0123 456",
        "LI21 0881 0000 2324 013A A",
        "LT12 1000 0111 0100 1000",
        "LU28 0019 4006 4475 0000",
        "LV80 BANK 0000 4351 9500 1",
        "MC58 1122 2000 0101 2345 6789 030",
        "MD24 AG00 0225 1000 1310 4168",
        "ME25 5050 0001 2345 6789 51",
        "MK07 2501 2000 0058 984",
        "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
        "NL91 ABNA 0417 1643 00",
        "NO93 8601 1117 947",
        "PL61 1090 1014 0000 0712 1981 2874",
        "PT50 0002 0123 1234 5678 9015 4",
        "RO49 AAAA 1B31 0075 9384 0000",
        "SE45 5000 0000 0583 9825 7466",
        "SI56 2633 0001 2039 086",
        "SK31 1200 0000 1987 4263 7541",
        "SM86 U032 2509 8000 0000 0270 100",
        "VA59 0011 2300 0012 3456 78",
    ];

    #[test]
    fn every_sepa_country_has_an_example_that_parses_and_prints_back() {
        assert_eq!(EXAMPLE_IBANS.len(), SEPA_IBAN_LENGTHS.len());
        for paper in EXAMPLE_IBANS {
            let iban = Iban::parse(paper).unwrap_or_else(|e| panic!("{paper}: {e}"));
            assert_eq!(iban.to_string(), *paper, "paper format");
            assert_eq!(
                iban.as_str(),
                paper.replace(' ', ""),
                "stored without spaces"
            );
            assert_eq!(
                Some(iban.as_str().len()),
                sepa_iban_length(iban.country()),
                "{paper}"
            );
            assert_eq!(Iban::parse(&paper.to_lowercase()), Ok(iban));
        }
    }

    #[test]
    fn iban_mod97_by_hand() {
        // BE68 5390 0754 7034 rearranged: 539007547034 BE68 → 539007547034 11 14 68.
        // 539007547034111468 mod 97, in chunks of 9 digits:
        // 539007547 mod 97 = 539007547 - 97 × 5556778 (= 539007466) = 81;
        // 81 034111468 → 81034111468 - 97 × 835403210 (= 81034111370) = 98 = 97 + 1.
        // Remainder 1: valid.
        assert!(Iban::parse("BE68539007547034").is_ok());
        // Check digits 69 instead of 68: the remainder becomes 2.
        assert_eq!(Iban::parse("BE69539007547034"), Err(IbanError::Checksum));
    }

    #[test]
    fn iban_errors_name_what_is_wrong() {
        let cases: &[(&str, IbanError)] = &[
            ("FR15 2004 1010 0505 0001 3M02 606", IbanError::Checksum),
            ("DE88 3704 0044 0532 0130 00", IbanError::Checksum),
            (
                "FR14 2004 1010 0505 0001 3M02 60",
                IbanError::Length {
                    country: "FR".into(),
                    expected: 27,
                    found: 26,
                },
            ),
            (
                "NO93 8601 1117 9470",
                IbanError::Length {
                    country: "NO".into(),
                    expected: 15,
                    found: 16,
                },
            ),
            (
                "BR18 0036 0305 0000 1000 9795 493C 1",
                IbanError::NotSepa("BR".into()),
            ),
            ("FR14-2004-1010", IbanError::Character),
            ("FRXX 2004", IbanError::Format),
            ("14FR 2004", IbanError::Format),
            ("FR1", IbanError::Format),
            ("", IbanError::Format),
            ("FR14 2004 1010 0505 0001 3M02 60é", IbanError::Character),
        ];
        for (input, err) in cases {
            assert_eq!(Iban::parse(input).as_ref(), Err(err), "IBAN {input:?}");
        }
    }

    // ---- BIC ----

    #[test]
    fn bic_table() {
        let ok = Bic::parse("bnpa frpp xxx").unwrap();
        assert_eq!(ok.as_str(), "BNPAFRPPXXX");
        assert_eq!(ok.bic8(), "BNPAFRPP");
        assert_eq!(ok.country(), "FR");
        assert!(!ok.is_test());
        assert!(Bic::parse("DEUTDEFF500").is_ok());
        assert!(Bic::parse("AGRIFRPP882").is_ok());
        // Kosovo: XK is not in ISO 3166-1 but SWIFT uses it.
        assert!(Bic::parse("RBKOXKPR").is_ok());
        assert!(Bic::parse("BNPAFRP0").unwrap().is_test());
        let cases: &[(&str, BicError)] = &[
            ("BNPAFRP", BicError::Length(7)),
            ("BNPAFRPPXX", BicError::Length(10)),
            ("BNPAFRPPXXXX", BicError::Length(12)),
            ("BNP1FRPP", BicError::Institution),
            ("BNPA1RPP", BicError::Country),
            ("BNPAZZPP", BicError::UnknownCountry("ZZ".into())),
            ("BNPAFRP_", BicError::Location),
            ("BNPAFRPPXX_", BicError::Branch),
        ];
        for (input, err) in cases {
            assert_eq!(Bic::parse(input).as_ref(), Err(err), "BIC {input:?}");
        }
    }

    // ---- ICS ----

    #[test]
    fn creditor_id_table() {
        // FR72ZZZ123456: national id 123456, then FR00 → 15 27 0 0:
        // N = 123456 152700 = 123456 × 10^6 + 152700.
        // 10^2 ≡ 3, 10^4 ≡ 9, 10^6 ≡ 27 (mod 97); 123456 = 97 × 1272 + 72;
        // 72 × 27 = 1944 = 97 × 20 + 4; 152700 = 97 × 1574 + 22; 4 + 22 = 26;
        // check = 98 - 26 = 72.
        let ics = CreditorId::parse("fr72 zzz 123456").unwrap();
        assert_eq!(ics.as_str(), "FR72ZZZ123456");
        assert_eq!(ics.business_code(), "ZZZ");
        assert_eq!(ics.national_id(), "123456");
        // The business code is outside the check.
        assert!(CreditorId::parse("FR72ABC123456").is_ok());
        // FR51ZZZ500000: 500000 = 97 × 5154 + 62; 62 × 27 = 1674 = 97 × 17 + 25;
        // 25 + 22 = 47; 98 - 47 = 51.
        assert!(CreditorId::parse("FR51ZZZ500000").is_ok());
        // The Deutsche Bundesbank's example creditor identifier.
        assert!(CreditorId::parse("DE98ZZZ09999999999").is_ok());
        let cases: &[(&str, CreditorIdError)] = &[
            (
                "FR73ZZZ123456",
                CreditorIdError::Checksum {
                    expected: "72".into(),
                    found: "73".into(),
                },
            ),
            ("FR72ZZZ12345", CreditorIdError::FrenchLength(12)),
            ("FR72ZZZ1234567", CreditorIdError::FrenchLength(14)),
            ("F172ZZZ123456", CreditorIdError::Format),
            ("FRAAZZZ123456", CreditorIdError::Format),
            ("FR72ZZZ1234-6", CreditorIdError::Format),
            ("FR72", CreditorIdError::Format),
        ];
        for (input, err) in cases {
            assert_eq!(CreditorId::parse(input).as_ref(), Err(err), "ICS {input:?}");
        }
    }

    // ---- RUM ----

    #[test]
    fn mandate_ref_table() {
        let max = "A".repeat(35);
        let over = "A".repeat(36);
        let ok = [
            "RUM-2026/000123",
            max.as_str(),
            "Client (Lyon) ?:.,'+ 42",
            "  trimmed  ",
            // Single slashes inside are fine.
            "A/B/C",
        ];
        for r in ok {
            assert!(MandateRef::parse(r).is_ok(), "{r:?}");
        }
        assert_eq!(
            MandateRef::parse("  trimmed  ").unwrap().as_str(),
            "trimmed"
        );
        let cases: &[(&str, MandateRefError)] = &[
            ("", MandateRefError::Empty),
            ("   ", MandateRefError::Empty),
            (over.as_str(), MandateRefError::TooLong(36)),
            ("/ABC", MandateRefError::EdgeSlash),
            ("ABC/", MandateRefError::EdgeSlash),
            ("A//B", MandateRefError::DoubleSlash),
            ("ABC_1", MandateRefError::Character('_')),
            ("Société", MandateRefError::Character('é')),
            ("A\tB", MandateRefError::Character('\t')),
        ];
        for (input, err) in cases {
            assert_eq!(MandateRef::parse(input).as_ref(), Err(err), "RUM {input:?}");
        }
    }

    // ---- Address ----

    fn addr(street: &str, nb: Option<&str>, pc: &str, town: &str, c: &str) -> AddressInput {
        AddressInput {
            street_name: street.into(),
            building_number: nb.map(Into::into),
            post_code: pc.into(),
            town: town.into(),
            country: c.into(),
        }
    }

    #[test]
    fn address_table() {
        let a = PostalAddress::parse(&addr(
            " rue de la Paix ",
            Some("12"),
            "75002",
            "Paris",
            "fr",
        ))
        .unwrap();
        assert_eq!(a.street_name(), "rue de la Paix");
        assert_eq!(a.country().as_str(), "FR");
        assert_eq!(a.to_string(), "12 rue de la Paix, 75002 Paris, FR");
        assert!(
            PostalAddress::parse(&addr("Unter den Linden", None, "10117", "Berlin", "DE")).is_ok()
        );
        assert!(
            PostalAddress::parse(&addr(
                "Downing Street",
                Some("10"),
                "SW1A 2AA",
                "London",
                "GB"
            ))
            .is_ok()
        );
        assert!(
            PostalAddress::parse(&addr(
                "boulevard des Moulins",
                Some("7"),
                "98000",
                "Monaco",
                "MC"
            ))
            .is_ok()
        );
        assert_eq!(
            PostalAddress::parse(&addr("rue", Some(" "), "97400", "Saint-Denis", "RE"))
                .unwrap()
                .building_number(),
            None
        );
        let long70 = "x".repeat(70);
        assert!(PostalAddress::parse(&addr(&long70, None, "75002", "Paris", "FR")).is_ok());
        let long71 = "é".repeat(71);
        let cases: Vec<(AddressInput, AddressError)> = vec![
            (
                addr("rue", None, "7500", "Paris", "FR"),
                AddressError::FrenchPostCode,
            ),
            (
                addr("rue", None, "75O02", "Paris", "FR"),
                AddressError::FrenchPostCode,
            ),
            (
                addr("rue", None, "980000", "Monaco", "MC"),
                AddressError::FrenchPostCode,
            ),
            (
                addr(&long71, None, "75002", "Paris", "FR"),
                AddressError::TooLong {
                    field: "street_name",
                    max: 70,
                    found: 71,
                },
            ),
            (
                addr("rue", None, "75002", "", "FR"),
                AddressError::Missing { field: "town" },
            ),
            (
                addr("", None, "75002", "Paris", "FR"),
                AddressError::Missing {
                    field: "street_name",
                },
            ),
            (
                addr("rue", None, " ", "Paris", "FR"),
                AddressError::Missing { field: "post_code" },
            ),
            (
                addr("rue", Some("12345678901234567"), "75002", "Paris", "FR"),
                AddressError::TooLong {
                    field: "building_number",
                    max: 16,
                    found: 17,
                },
            ),
            (
                addr("rue\nbis", None, "75002", "Paris", "FR"),
                AddressError::Control {
                    field: "street_name",
                },
            ),
            (
                addr("rue", None, "75002", "Paris", "XX"),
                AddressError::Country(CountryError("XX".into())),
            ),
            (
                addr("rue", None, "75002", "Paris", "FRA"),
                AddressError::Country(CountryError("FRA".into())),
            ),
        ];
        for (input, err) in cases {
            assert_eq!(PostalAddress::parse(&input), Err(err.clone()), "{input:?}");
        }
    }

    #[test]
    fn country_list_has_the_249_assigned_codes() {
        let codes: Vec<&str> = ISO_3166_ALPHA2.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(codes.iter().all(|c| c.len() == 2));
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, codes, "sorted and without duplicates");
        // Every SEPA IBAN country is a country.
        for (c, _) in SEPA_IBAN_LENGTHS {
            assert!(is_country_code(c), "{c}");
        }
    }

    // ---- VAT ----

    #[test]
    fn vat_regimes() {
        let std = VatRegime::standard(dec("20")).unwrap();
        assert_eq!(std.rate_percent(), dec("20"));
        assert_eq!(std.mention(), None);
        assert_eq!(std.en16931_category(), "S");
        assert!(VatRegime::standard(dec("100")).is_ok());
        assert!(VatRegime::standard(dec("5.5")).is_ok());
        assert_eq!(
            VatRegime::standard(dec("0")),
            Err(VatRegimeError::Rate(dec("0")))
        );
        assert_eq!(
            VatRegime::standard(dec("100.01")),
            Err(VatRegimeError::Rate(dec("100.01")))
        );
        assert_eq!(VatRegime::exempt("  "), Err(VatRegimeError::MissingMention));
        let ex = VatRegime::exempt("TVA non applicable, art. 293 B du CGI").unwrap();
        assert_eq!(ex.rate_percent(), Decimal::ZERO);
        assert_eq!(ex.mention(), Some("TVA non applicable, art. 293 B du CGI"));
        assert_eq!(ex.en16931_category(), "E");
        let rc = VatRegime::reverse_charge();
        assert_eq!(rc.rate_percent(), Decimal::ZERO);
        let m = rc.mention().unwrap();
        assert!(m.starts_with("Autoliquidation"));
        assert!(m.contains("283-2") && m.contains("196") && m.contains("2006/112/CE"));
        assert_eq!(rc.en16931_category(), "AE");
    }

    // ---- Legal identity ----

    fn paris() -> PostalAddress {
        PostalAddress::parse(&addr("rue de la Paix", Some("12"), "75002", "Paris", "FR")).unwrap()
    }

    #[test]
    fn legal_identity_cross_checks() {
        let std = VatRegime::standard(dec("20")).unwrap();
        // The provider of the contract: SIREN 380 104 877, VAT FR06 380104877
        // (key worked in company.rs: (12 + 3 × 95) mod 97 = 6).
        let id = LegalIdentity::new(
            " Ciel SAS ",
            Some("380 104 877"),
            None,
            Some("FR 06 380104877"),
            paris(),
            std.clone(),
        )
        .unwrap();
        assert_eq!(id.company_name(), "Ciel SAS");
        assert_eq!(id.siren(), Some("380104877"));
        assert_eq!(id.vat_number(), Some("FR06380104877"));
        // Stored and read back, the identity is checked again.
        let stored = serde_json::to_value(&id).unwrap();
        assert_eq!(
            serde_json::from_value::<LegalIdentity>(stored.clone()).unwrap(),
            id
        );
        let mut tampered = stored;
        tampered["vat_number"] = serde_json::json!("FR07380104877");
        assert!(serde_json::from_value::<LegalIdentity>(tampered).is_err());

        let other = Siret::parse("73282932000074").unwrap();
        assert_eq!(
            LegalIdentity::new(
                "X",
                Some("380104877"),
                Some(other),
                None,
                paris(),
                std.clone()
            ),
            Err(LegalIdentityError::SiretSiren {
                siren: "380104877".into(),
                found: "732829320".into()
            })
        );
        assert_eq!(
            LegalIdentity::new("X", None, None, None, paris(), std.clone()),
            Err(LegalIdentityError::SirenMissing)
        );
        assert_eq!(
            LegalIdentity::new("", Some("380104877"), None, None, paris(), std.clone()),
            Err(LegalIdentityError::Name)
        );
        assert!(matches!(
            LegalIdentity::new(
                "X",
                Some("380104877"),
                None,
                Some("FR07380104877"),
                paris(),
                std
            ),
            Err(LegalIdentityError::Vat(_))
        ));
        assert_eq!(
            LegalIdentity::new(
                "X",
                Some("380104877"),
                None,
                Some("FR06380104877"),
                paris(),
                VatRegime::reverse_charge()
            ),
            Err(LegalIdentityError::ReverseChargeFrench)
        );
        let brussels = PostalAddress::parse(&addr(
            "Rue de la Loi",
            Some("16"),
            "1000",
            "Bruxelles",
            "BE",
        ))
        .unwrap();
        assert_eq!(
            LegalIdentity::new(
                "B",
                None,
                None,
                None,
                brussels.clone(),
                VatRegime::reverse_charge()
            ),
            Err(LegalIdentityError::ReverseChargeWithoutVat)
        );
        assert!(
            LegalIdentity::new(
                "B",
                None,
                None,
                Some("BE0123456789"),
                brussels,
                VatRegime::reverse_charge()
            )
            .is_ok()
        );
    }

    #[test]
    fn string_forms_round_trip_through_try_from() {
        let iban = Iban::parse(EXAMPLE_IBANS[13]).unwrap();
        let s: String = iban.clone().into();
        assert_eq!(Iban::try_from(s), Ok(iban));
        assert!(
            Iban::try_from("FR00".to_string())
                .unwrap_err()
                .contains("IBAN")
        );
        let a = paris();
        let raw: AddressInput = a.clone().into();
        assert_eq!(PostalAddress::try_from(raw), Ok(a));
    }

    #[test]
    fn json_forms_go_through_parse() {
        use serde_json::json;
        let iban: Iban =
            serde_json::from_value(json!("fr14 2004 1010 0505 0001 3m02 606")).unwrap();
        assert_eq!(
            serde_json::to_value(&iban).unwrap(),
            json!("FR1420041010050500013M02606")
        );
        assert!(
            serde_json::from_value::<Iban>(json!("FR15 2004 1010 0505 0001 3M02 606")).is_err()
        );
        assert!(serde_json::from_value::<MandateRef>(json!("A//B")).is_err());
        let a: PostalAddress = serde_json::from_value(json!({
            "street_name": "rue de la Paix", "building_number": "12",
            "post_code": "75002", "town": "Paris", "country": "fr"
        }))
        .unwrap();
        assert_eq!(a, paris());
        assert!(
            serde_json::from_value::<PostalAddress>(json!({
                "street_name": "rue", "post_code": "7500", "town": "Paris", "country": "FR"
            }))
            .is_err()
        );
        let v = serde_json::to_value(VatRegime::standard(dec("20")).unwrap()).unwrap();
        assert_eq!(v, json!({ "kind": "standard", "rate_percent": "20" }));
        let rc: VatRegime = serde_json::from_value(json!({ "kind": "reverse_charge" })).unwrap();
        assert_eq!(rc, VatRegime::reverse_charge());
        for bad in [
            json!({ "kind": "standard", "rate_percent": "150" }),
            json!({ "kind": "standard", "rate_percent": 20.0 }),
            json!({ "kind": "exempt", "mention": " " }),
            json!({ "kind": "zero_rated" }),
        ] {
            assert!(
                serde_json::from_value::<VatRegime>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    // ---- properties ----

    /// Check digits computed the long way, independently of `mod97`: the
    /// rearranged IBAN turned into a decimal string, reduced 9 digits at a time.
    fn check_digits(country: &str, bban: &str) -> String {
        let digits: String = format!("{bban}{country}00")
            .chars()
            .map(|c| c.to_digit(36).unwrap().to_string())
            .collect();
        let mut r: u64 = 0;
        for chunk in digits.as_bytes().chunks(7) {
            let s = format!("{r}{}", std::str::from_utf8(chunk).unwrap());
            r = s.parse::<u64>().unwrap() % 97;
        }
        format!("{:02}", 98 - r)
    }

    fn luhn_key(digits: &str) -> char {
        (b'0'..=b'9')
            .map(char::from)
            .find(|k| crate::company::luhn_ok(&format!("{digits}{k}")))
            .unwrap()
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Siret::parse(&s);
            let _ = Iban::parse(&s);
            let _ = Bic::parse(&s);
            let _ = CreditorId::parse(&s);
            let _ = MandateRef::parse(&s);
            let _ = Country::parse(&s);
            let _ = VatRegime::exempt(&s);
            let _ = PostalAddress::parse(&addr(&s, Some(&s), &s, &s, &s));
        }

        #[test]
        fn parse_never_panics_on_near_misses(s in "[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 /]{0,36}") {
            let _ = Iban::parse(&s);
            let _ = Bic::parse(&s);
            let _ = CreditorId::parse(&s);
            let _ = MandateRef::parse(&s);
        }

        #[test]
        fn an_iban_with_one_digit_changed_never_validates(
            which in 0..EXAMPLE_IBANS.len(),
            pos in 0usize..64,
            delta in 1u8..10,
        ) {
            let iban = EXAMPLE_IBANS[which].replace(' ', "");
            let digit_positions: Vec<usize> = iban
                .bytes()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            let i = digit_positions[pos % digit_positions.len()];
            let mut bytes = iban.into_bytes();
            bytes[i] = b'0' + (bytes[i] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(Iban::parse(&changed), Err(IbanError::Checksum));
        }

        #[test]
        fn generated_french_ibans_round_trip(bban in "[0-9]{10}[0-9A-Z]{11}[0-9]{2}") {
            let electronic = format!("FR{}{bban}", check_digits("FR", &bban));
            let iban = Iban::parse(&electronic).unwrap();
            prop_assert_eq!(iban.as_str(), electronic.as_str());
            prop_assert_eq!(Iban::parse(&format!("{iban}")), Ok(iban.clone()));
            prop_assert_eq!(Iban::parse(&iban.to_string().to_lowercase()), Ok(iban));
        }

        #[test]
        fn generated_sirets_round_trip(siren8 in "[1-9][0-9]{7}", nic4 in "[0-9]{4}") {
            let siren = format!("{siren8}{}", luhn_key(&siren8));
            prop_assume!(siren != LA_POSTE_SIREN);
            let body = format!("{siren}{nic4}");
            let siret = format!("{body}{}", luhn_key(&body));
            let parsed = Siret::parse(&siret).unwrap();
            prop_assert_eq!(parsed.siren(), siren.as_str());
            prop_assert_eq!(Siret::parse(&format!("{parsed}")), Ok(parsed));
        }

        #[test]
        fn valid_mandate_refs_round_trip(r in "[A-Za-z0-9][A-Za-z0-9?:().,'+ -]{0,33}[A-Za-z0-9]") {
            let m = MandateRef::parse(&r).unwrap();
            prop_assert_eq!(MandateRef::parse(&format!("{m}")), Ok(m));
        }

        #[test]
        fn ics_round_trip(national in "[0-9]{6}", code in "[A-Z0-9]{3}") {
            let check = check_digits("FR", &national);
            let ics = format!("FR{check}{code}{national}");
            let parsed = CreditorId::parse(&ics).unwrap();
            prop_assert_eq!(CreditorId::parse(&format!("{parsed}")), Ok(parsed));
        }
    }
}
