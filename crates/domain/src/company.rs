//! French company identifiers: SIREN (9 digits, Luhn key) and the French
//! intra-EU VAT number derived from it.

/// Checks the Luhn key of a digit string (SIREN, SIRET).
pub(crate) fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Parses a SIREN (spaces allowed), returning its 9 digits.
pub fn parse_siren(s: &str) -> Result<String, &'static str> {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a SIREN has 9 digits");
    }
    if !luhn_ok(&digits) {
        return Err("the SIREN's check digit (Luhn) is wrong");
    }
    Ok(digits)
}

/// The French VAT number of a SIREN: `FR` + key + SIREN, where the key is
/// (12 + 3 × (SIREN mod 97)) mod 97.
pub fn french_vat_number(siren: &str) -> String {
    let n: u64 = siren.parse().unwrap_or(0);
    let key = (12 + 3 * (n % 97)) % 97;
    format!("FR{key:02}{siren}")
}

/// Parses an intra-EU VAT number; a French one must match the SIREN given.
pub fn parse_vat_number(s: &str, siren: Option<&str>) -> Result<String, &'static str> {
    let v: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let (country, rest) = v.split_at(v.len().min(2));
    if country.len() != 2
        || !country.bytes().all(|b| b.is_ascii_uppercase())
        || rest.is_empty()
        || rest.len() > 12
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err("a VAT number is a country code followed by up to 12 letters or digits");
    }
    if country == "FR" {
        let siren = siren.ok_or("a French VAT number needs the company's SIREN")?;
        if v != french_vat_number(siren) {
            return Err("the French VAT number does not match the SIREN (wrong key)");
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siren_luhn() {
        // The provider's SIREN from the contract: 380 104 877.
        assert_eq!(parse_siren("380 104 877"), Ok("380104877".into()));
        assert!(parse_siren("380104878").is_err());
        assert!(parse_siren("38010487").is_err());
        assert!(parse_siren("38010487a").is_err());
    }

    #[test]
    fn french_vat_key() {
        // The contract prints FR 06380 104 877: key 06. By hand:
        // 97 × 3 918 606 = 380 104 782, so 380 104 877 mod 97 = 95;
        // (12 + 3 × 95) mod 97 = 297 mod 97 = 6 → key 06.
        assert_eq!(french_vat_number("380104877"), "FR06380104877");
        assert_eq!(
            parse_vat_number("fr 06 380104877", Some("380104877")),
            Ok("FR06380104877".into())
        );
        assert!(parse_vat_number("FR07380104877", Some("380104877")).is_err());
        assert!(parse_vat_number("FR06380104877", None).is_err());
        assert_eq!(
            parse_vat_number("DE123456789", None),
            Ok("DE123456789".into())
        );
        assert!(parse_vat_number("12", None).is_err());
    }
}
