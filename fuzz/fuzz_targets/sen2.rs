#![no_main]
//! Any bytes as a SEN2 return (and as a GIAS register): never a panic, and a value only without errors.

use highneeds_ingest::sen2::{looks_like_sen2, parse_establishments, parse_sen2, PersonKeyer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(keyer) = PersonKeyer::new(b"the fuzzing key, sixteen bytes or more") else {
        return;
    };
    let parsed = parse_sen2("fuzz.xml", data, &keyer);
    assert_eq!(parsed.value.is_some(), !parsed.has_errors());
    for issue in &parsed.issues {
        let _ = issue.to_string();
    }
    let _ = looks_like_sen2(data);
    let register = parse_establishments("establishments.csv", data);
    assert_eq!(register.value.is_some(), !register.has_errors());
});
