//! Constant-time comparison of shared secrets (VK `secret`, Telegram secret token, Meta verify token).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// True when `got` equals the configured `expected` secret. Both sides are hashed first so the
/// comparison takes the same time whatever the lengths; a missing or empty secret never matches.
pub fn secret_matches(expected: &str, got: Option<&str>) -> bool {
    let Some(got) = got else { return false };
    if expected.is_empty() {
        return false;
    }
    let expected = Sha256::digest(expected.as_bytes());
    let got = Sha256::digest(got.as_bytes());
    expected.ct_eq(&got).into()
}

#[cfg(test)]
mod tests {
    use super::secret_matches;

    #[test]
    fn matches_only_the_same_secret() {
        assert!(secret_matches(
            "vk-fixture-secret-7Hq2",
            Some("vk-fixture-secret-7Hq2")
        ));
        assert!(!secret_matches(
            "vk-fixture-secret-7Hq2",
            Some("not-the-secret")
        ));
        assert!(!secret_matches("vk-fixture-secret-7Hq2", None));
        assert!(!secret_matches("", Some("")));
    }
}
