//! Secrets: passwords hashed with argon2id (always off the async runtime); API keys and session
//! ids, which are 256-bit random strings and so are stored as a fast SHA-256 digest.

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

/// Passwords hashed at once unless [`limit_password_hashing`] says otherwise: each hash holds
/// 19 MiB, so a burst of sign-ins must queue rather than all hash at once.
const DEFAULT_HASHES_AT_ONCE: usize = 2;

static HASHING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();

/// Sets how many passwords may be hashed at once (the first call wins; call it before serving).
pub fn limit_password_hashing(at_once: usize) {
    let _ = HASHING.set(tokio::sync::Semaphore::new(at_once.max(1)));
}

/// Runs argon2 work off the async runtime once a hashing slot is free.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let slots = HASHING.get_or_init(|| tokio::sync::Semaphore::new(DEFAULT_HASHES_AT_ONCE));
    let _slot = slots.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// Hashes a password into a PHC string (algorithm, parameters and salt included).
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| PasswordError::Hashing)
    })
    .await
    .ok_or(PasswordError::Hashing)?
}

/// Whether `password` matches `phc_hash`. Without a hash (no such account) a fixed hash is
/// verified instead, so that an unknown email takes as long to refuse as a wrong password.
pub async fn verify_password_or_dummy(password: String, phc_hash: Option<String>) -> bool {
    match phc_hash {
        Some(hash) => verify_password(password, hash).await,
        None => {
            let dummy = dummy_hash().await;
            verify_password(password, dummy).await;
            false
        }
    }
}

/// A hash of a random password nobody knows, made once per process with the same parameters.
async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            hash_password(random_token(16))
                .await
                .unwrap_or_else(|_| String::from("$argon2id$v=19$m=19456,t=2,p=1$invalid"))
        })
        .await
        .clone()
}

/// Whether `password` matches `phc_hash`.
pub async fn verify_password(password: String, phc_hash: String) -> bool {
    hashing(move || {
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

/// The shortest and longest passwords accepted.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 12..=256;

/// Why a chosen password is refused, if it is.
pub fn password_problem(password: &str, email: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < *PASSWORD_CHARS.start() {
        Some(format!(
            "must be at least {} characters",
            PASSWORD_CHARS.start()
        ))
    } else if chars > *PASSWORD_CHARS.end() {
        Some(format!(
            "must be at most {} characters",
            PASSWORD_CHARS.end()
        ))
    } else if password.trim().eq_ignore_ascii_case(email.trim()) {
        Some("must not be your email address".to_owned())
    } else {
        None
    }
}

/// A password for an account an admin creates or resets, shown once and replaced at first
/// sign-in: 20 characters from an alphabet without look-alikes (about 114 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    // 256 is not a multiple of 56; the slight bias costs under a bit of the 114.
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// A new session: the id the browser keeps in its cookie and the digest the server stores.
pub struct NewSessionId {
    pub secret: String,
    pub hash: String,
}

/// Draws a session id: 256 random bits as 64 hexadecimal digits.
pub fn generate_session_id() -> NewSessionId {
    let secret = random_token(32);
    NewSessionId {
        hash: hash_session_id(&secret),
        secret,
    }
}

/// The digest a session id is stored and looked up by.
pub fn hash_session_id(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `bytes` random bytes as hexadecimal digits.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
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
    let secret = format!("fl_{}", hex::encode(bytes));
    NewApiKey {
        prefix: secret[..11].to_owned(),
        hash: hash_api_key(&secret),
        secret,
    }
}

/// The digest an API key is stored and looked up by.
pub fn hash_api_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_random_and_stored_only_as_their_digest() {
        let (a, b) = (generate_session_id(), generate_session_id());
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 64);
        assert_eq!(a.hash, hash_session_id(&a.secret));
        assert_ne!(a.hash, a.secret);
    }

    #[test]
    fn generated_passwords_pass_the_policy_and_differ() {
        let (a, b) = (generate_password(), generate_password());
        assert_ne!(a, b);
        assert_eq!(a.chars().count(), 20);
        assert_eq!(password_problem(&a, "a@example.com"), None);
        assert!(!a.contains(['0', 'O', 'l', '1', 'I']));
    }

    #[test]
    fn short_long_and_email_passwords_are_refused() {
        assert_eq!(
            password_problem("short", "a@example.com").as_deref(),
            Some("must be at least 12 characters")
        );
        assert!(password_problem(&"x".repeat(257), "a@example.com").is_some());
        assert_eq!(
            password_problem("Someone@Example.com", "someone@example.com").as_deref(),
            Some("must not be your email address")
        );
        assert_eq!(
            password_problem("correct horse battery", "a@example.com"),
            None
        );
    }

    #[tokio::test]
    async fn unknown_accounts_are_refused_after_the_same_work() {
        let hash = hash_password("a long enough password".into())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            verify_password_or_dummy("a long enough password".into(), Some(hash.clone())).await
        );
        assert!(!verify_password_or_dummy("wrong password here".into(), Some(hash)).await);
        assert!(!verify_password_or_dummy("a long enough password".into(), None).await);
    }

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
