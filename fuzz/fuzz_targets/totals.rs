#![no_main]
//! Any bytes as an aggregate totals file (`forecast --totals`): never a panic, and a value only without errors.

use highneeds_ingest::parse_totals;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = parse_totals("totals.csv", data);
    assert_eq!(parsed.value.is_some(), !parsed.has_errors());
    for issue in &parsed.issues {
        let _ = issue.to_string();
    }
});
