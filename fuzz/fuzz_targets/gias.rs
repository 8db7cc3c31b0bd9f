#![no_main]
//! Any bytes as a GIAS all-establishments register (the SEN2 import's `--establishments`): never a panic, and a
//! value only without errors.

use highneeds_ingest::sen2::parse_establishments;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = parse_establishments("establishments.csv", data);
    assert_eq!(parsed.value.is_some(), !parsed.has_errors());
    for issue in &parsed.issues {
        let _ = issue.to_string();
    }
});
