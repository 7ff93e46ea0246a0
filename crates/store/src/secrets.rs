//! Random secrets (session, CSRF, API and one-time tokens) and their hashes.
//! Only hashes are stored: a database leak does not leak usable tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits from the OS generator, URL-safe base64 (43 characters),
/// with an optional readable prefix (`ciel_pat_` for API tokens).
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a secret, hex. High-entropy secrets need no slow hash.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_hashes_stable() {
        let a = new_secret("ciel_pat_");
        let b = new_secret("ciel_pat_");
        assert_ne!(a, b);
        assert!(a.starts_with("ciel_pat_") && a.len() == 9 + 43);
        assert_eq!(hash_secret("abc"), hash_secret("abc"));
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
