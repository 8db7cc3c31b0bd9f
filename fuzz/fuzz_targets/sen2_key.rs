#![no_main]
//! Any bytes as an LA's SEN2 key file: never a panic; a key that reads has a 32-hex-digit fingerprint, and a key
//! other than the fixed one has another fingerprint and keys a person differently (the wrong-key fault of issue
//! #14 is caught by the fingerprint, never by luck).

use chrono::NaiveDate;
use highneeds_ingest::sen2::PersonKeyer;
use libfuzzer_sys::fuzz_target;

const FIXED: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let Ok(key) = PersonKeyer::from_key_file(data) else {
        return;
    };
    let Ok(fixed) = PersonKeyer::from_key_file(FIXED) else {
        return;
    };
    let fingerprint = key.fingerprint();
    assert_eq!(fingerprint.len(), 32);
    assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
    let Some(dob) = NaiveDate::from_ymd_opt(2015, 3, 1) else {
        return;
    };
    let same_fingerprint = fingerprint == fixed.fingerprint();
    let same_person = key.person("Smith", "Ann", dob) == fixed.person("Smith", "Ann", dob);
    assert_eq!(same_fingerprint, same_person);
});
