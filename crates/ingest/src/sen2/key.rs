//! Pseudonymisation: the keyed hash that stands in for a person's identity.
//!
//! key = first 16 bytes of HMAC-SHA256(secret, "highneeds-sen2-person-v1" 0 SURNAME 0 FORENAME 0 YYYY-MM-DD), names
//! normalised (upper case, letters and digits only, so `O'Neil-Smith ` and `ONEILSMITH` agree). The UPN (or,
//! without one, the ULN) gets its own key under a different label: it is a second way to match a person between
//! returns, not part of the main key, so a UPN first given in a later year (or a temporary UPN replaced by a
//! permanent one) does not change who the person is.

use chrono::NaiveDate;
use highneeds_domain::sen2::PersonKey;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const FINGERPRINT_LABEL: &[u8] = b"highneeds-sen2-key-fingerprint-v1";

/// Why a key file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("the key file is empty: a key file left by a failed creation holds nothing")]
    Empty,
    #[error(transparent)]
    Short(ShortSecret),
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Shortest secret accepted (bytes).
pub const MIN_SECRET_BYTES: usize = 16;

/// The LA's secret key, ready to make pseudonyms. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct PersonKeyer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for PersonKeyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonKeyer(..)")
    }
}

/// Why a secret cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the SEN2 key must be at least {MIN_SECRET_BYTES} bytes, not {0}")]
pub struct ShortSecret(pub usize);

/// Upper case, letters and digits only.
pub fn normalise_name(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

impl PersonKeyer {
    pub fn new(secret: &[u8]) -> Result<Self, ShortSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(ShortSecret(secret.len()));
        }
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .map_err(|_| ShortSecret(secret.len()))?;
        Ok(Self { mac })
    }

    /// Read a key file: hex digits (as `highneeds` writes it, surrounding white space ignored) are the secret's
    /// bytes; any other content is the secret itself. An empty file is its own error (a key file left by a failed
    /// creation holds nothing).
    pub fn from_key_file(bytes: &[u8]) -> Result<Self, KeyFileError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(KeyFileError::Empty);
        }
        let secret = std::str::from_utf8(bytes)
            .ok()
            .and_then(|t| unhex(t.trim()))
            .unwrap_or_else(|| bytes.to_vec());
        Self::new(&secret).map_err(KeyFileError::Short)
    }

    /// A fingerprint of the key, safe to store beside the data it keyed: the first 16 bytes of
    /// HMAC-SHA256(secret, "highneeds-sen2-key-fingerprint-v1"), as 32 hex digits. It tells two keys apart and
    /// reveals nothing about the secret or any person (the label is not a person's name and date of birth).
    pub fn fingerprint(&self) -> String {
        let key = self.hash(&[FINGERPRINT_LABEL]);
        key.to_string()
    }

    fn hash(&self, parts: &[&[u8]]) -> PersonKey {
        let mut mac = self.mac.clone();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                mac.update(&[0]);
            }
            mac.update(p);
        }
        let out = mac.finalize().into_bytes();
        let mut key = [0u8; 16];
        key.copy_from_slice(&out[..16]);
        PersonKey(key)
    }

    /// The person's key from surname, forename and date of birth.
    pub fn person(&self, surname: &str, forename: &str, date_of_birth: NaiveDate) -> PersonKey {
        let dob = date_of_birth.format("%Y-%m-%d").to_string();
        self.hash(&[
            b"highneeds-sen2-person-v1",
            normalise_name(surname).as_bytes(),
            normalise_name(forename).as_bytes(),
            dob.as_bytes(),
        ])
    }

    /// The key of a UPN or ULN (`kind` is `"UPN"` or `"ULN"`).
    pub fn pupil(&self, kind: &str, number: &str) -> PersonKey {
        let n: String = number
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        self.hash(&[b"highneeds-sen2-pupil-v1", kind.as_bytes(), n.as_bytes()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_normalised_and_keyed() {
        let k = PersonKeyer::new(&[7u8; 32]).unwrap();
        let dob = NaiveDate::from_ymd_opt(2015, 5, 4).unwrap();
        let a = k.person("O'Neil-Smith", "Alex ", dob);
        assert_eq!(a, k.person("oneilsmith", "ALEX", dob));
        assert_ne!(a, k.person("ONeilSmith", "Alexa", dob));
        assert_ne!(
            a,
            k.person(
                "ONeilSmith",
                "Alex",
                NaiveDate::from_ymd_opt(2015, 5, 5).unwrap()
            )
        );
        // Surname/forename boundary matters: "AB"+"C" is not "A"+"BC".
        assert_ne!(k.person("AB", "C", dob), k.person("A", "BC", dob));
        let other = PersonKeyer::new(&[8u8; 32]).unwrap();
        assert_ne!(a, other.person("O'Neil-Smith", "Alex", dob));
        assert_eq!(
            k.pupil("UPN", "x123456789832"),
            k.pupil("UPN", "X123456789832 ")
        );
        assert_ne!(k.pupil("UPN", "1234567890"), k.pupil("ULN", "1234567890"));
        assert!(PersonKeyer::new(&[1u8; 15]).is_err());
        assert_eq!(format!("{k:?}"), "PersonKeyer(..)");
    }
}
