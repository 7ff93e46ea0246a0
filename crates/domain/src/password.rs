//! Password policy. Hashing (argon2id) is done by the shell; this module only
//! says whether a candidate password is acceptable.

/// Minimum length, following NIST SP 800-63B for memorised secrets chosen by
/// users (length beats composition rules).
pub const MIN_LEN: usize = 12;
/// Maximum length, bounding the cost of hashing attacker-provided input.
pub const MAX_LEN: usize = 256;

/// Why a password is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_LEN} characters")]
    TooShort,
    #[error("the password must have at most {MAX_LEN} characters")]
    TooLong,
    #[error("the password must not contain the e-mail address")]
    ContainsEmail,
}

/// Checks a new password against the policy.
pub fn check(password: &str, email: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(PasswordError::TooShort);
    }
    if n > MAX_LEN {
        return Err(PasswordError::TooLong);
    }
    let local = email.split('@').next().unwrap_or_default();
    if local.len() >= 4 && password.to_lowercase().contains(&local.to_lowercase()) {
        return Err(PasswordError::ContainsEmail);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(
            check(&"x".repeat(11), "a@b.fr"),
            Err(PasswordError::TooShort)
        );
        assert_eq!(check(&"x".repeat(12), "a@b.fr"), Ok(()));
        assert_eq!(check(&"é".repeat(12), "a@b.fr"), Ok(()));
        assert_eq!(check(&"x".repeat(256), "a@b.fr"), Ok(()));
        assert_eq!(
            check(&"x".repeat(257), "a@b.fr"),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            check("my-Jeanne.Martin-2026", "jeanne.martin@b.fr"),
            Err(PasswordError::ContainsEmail)
        );
    }
}
