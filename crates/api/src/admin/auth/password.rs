//! Password hashing with Argon2id, stored as PHC strings.
//!
//! Why Argon2id: it is memory-hard, so guessing a leaked hash on GPUs or ASICs costs memory as
//! well as time, and it is what OWASP recommends first. Why PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`): the algorithm, its version, its cost
//! parameters and the salt travel with the hash, so costs can be raised later and every
//! existing hash still verifies with the parameters it was made with.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;

/// Hashes with the crate's defaults (Argon2id v19, 19 MiB, 2 passes, 1 lane: OWASP's
/// baseline) and a fresh random salt. CPU-bound: call from a blocking thread.
pub fn hash(password: &str) -> Result<String, String> {
    let hashed: Result<PasswordHash, _> = Argon2::default().hash_password(password.as_bytes());
    hashed.map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// True if `password` matches the PHC string. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as a real check, for usernames that do not exist, so the answer's
/// timing does not tell which usernames do.
pub fn verify_nobody(password: &str) -> bool {
    static NOBODY: OnceLock<String> = OnceLock::new();
    let phc = NOBODY.get_or_init(|| hash("no account has this password").unwrap_or_default());
    verify(password, phc);
    false
}
