#![no_main]
//! Any bytes as a budget CSV: never a panic, and a value only without errors.

use highneeds_ingest::{parse_bytes, FileKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = parse_bytes(FileKind::HnbBudget, "budget.csv", data);
    assert_eq!(parsed.value.is_some(), !parsed.has_errors());
    for issue in &parsed.issues {
        let _ = issue.to_string();
    }
});
