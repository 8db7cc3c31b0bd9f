//! Who is asking: accounts and roles, password hashes (argon2id), sessions (cookie), API tokens (bearer),
//! CSRF tokens and sign-in throttling.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// What an account may do. Each role may do everything the roles before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Aggregate figures only.
    Viewer,
    /// Reads everything, person-level tables included.
    Analyst,
    /// Imports data and edits scenarios.
    Officer,
    /// Accounts, tokens, the audit log.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Analyst, Role::Officer, Role::Admin];

    pub fn code(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Officer => "officer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == text)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> anyhow::Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random bytes: {e}"))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a token, as stored (a token is 256 random bits, so a fast hash is enough).
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// An argon2id hash (PHC string) of a password, with a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no random bytes: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("could not hash the password: {e}"))
}

/// Whether `password` matches the stored hash (false for an unreadable hash).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the username does not exist, so an unknown name takes as long as a wrong
/// password (no user enumeration by timing).
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a password anyone has").unwrap_or_default())
}

/// A new password for an account made without one: 20 characters from a 56-letter alphabet (about 116 bits).
pub fn new_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random bytes: {e}"))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

/// The CSRF token of the sign-in form: HMAC-SHA256 of the browser's pre-sign-in cookie under the server's key
/// (a signed double-submit: a forged form cannot know it without the cookie).
pub fn login_csrf(server_key: &[u8], login_cookie: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(server_key).expect("HMAC takes any key length");
    mac.update(login_cookie.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Compare two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Failed sign-ins per username: after [`SignInThrottle::LIMIT`] failures within the window, sign-in for that
/// name is refused until the window has passed since the first failure.
#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl SignInThrottle {
    pub const LIMIT: u32 = 5;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);

    fn key(username: &str) -> String {
        username.trim().to_lowercase()
    }

    /// Whether the name may try now.
    pub fn allowed(&self, username: &str) -> bool {
        let Ok(map) = self.failures.lock() else {
            return false;
        };
        match map.get(&Self::key(username)) {
            Some((since, n)) => *n < Self::LIMIT || since.elapsed() >= Self::WINDOW,
            None => true,
        }
    }

    pub fn failed(&self, username: &str) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                map.retain(|_, (since, _)| since.elapsed() < Self::WINDOW);
            }
            let e = map
                .entry(Self::key(username))
                .or_insert((Instant::now(), 0));
            if e.0.elapsed() >= Self::WINDOW {
                *e = (Instant::now(), 0);
            }
            e.1 += 1;
        }
    }

    pub fn succeeded(&self, username: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&Self::key(username));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn throttle_refuses_the_sixth_try_and_forgives_on_success() {
        let t = SignInThrottle::default();
        for _ in 0..5 {
            assert!(t.allowed("Alice"));
            t.failed("alice ");
        }
        assert!(!t.allowed("alice"));
        t.succeeded("ALICE");
        assert!(t.allowed("alice"));
    }

    #[test]
    fn login_csrf_depends_on_key_and_cookie() {
        let a = login_csrf(b"k1", "cookie");
        assert_eq!(a.len(), 64);
        assert_ne!(a, login_csrf(b"k2", "cookie"));
        assert_ne!(a, login_csrf(b"k1", "cookie2"));
        assert!(same_secret(&a, &login_csrf(b"k1", "cookie")));
    }
}
