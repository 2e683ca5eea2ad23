//! Secrets: passwords hashed with argon2id (always off the async runtime), and API keys, which
//! are 256-bit random strings and so are stored as a fast SHA-256 digest.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::rand_core::RngCore;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

/// OWASP's minimum for argon2id: 19 MiB of memory, two passes, one lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("static argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (algorithm, parameters and salt included).
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| PasswordError::Hashing)
    })
    .await
    .map_err(|_| PasswordError::Hashing)?
}

/// Whether `password` matches `phc_hash`.
pub async fn verify_password(password: String, phc_hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc_hash)
            .map(|parsed| {
                hasher()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password could not be hashed")]
    Hashing,
}

/// A new API key: the text shown once, the prefix kept to recognise it, and the stored digest.
pub struct NewApiKey {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

/// Draws a new API key: `fl_` and 64 hexadecimal digits.
pub fn generate_api_key() -> NewApiKey {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret = format!("fl_{}", hex(&bytes));
    NewApiKey {
        prefix: secret[..11].to_owned(),
        hash: hash_api_key(&secret),
        secret,
    }
}

/// The digest an API key is stored and looked up by.
pub fn hash_api_key(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_random_and_stored_only_as_their_digest() {
        let (a, b) = (generate_api_key(), generate_api_key());
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 67);
        assert!(a.secret.starts_with(&a.prefix) && a.prefix.starts_with("fl_"));
        assert_eq!(a.hash, hash_api_key(&a.secret));
        assert!(!a.hash.contains(&a.secret[3..]));
        assert_eq!(
            hash_api_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
