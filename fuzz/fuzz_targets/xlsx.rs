#![no_main]
//! Any bytes as a workbook (.xlsx, .xls or .ods: recognised by the bytes, not the name) of every kind (the first
//! byte picks the kind): never a panic.

use highneeds_ingest::{parse_bytes, FileKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let kind = FileKind::ALL[usize::from(*first) % FileKind::ALL.len()];
    let parsed = parse_bytes(kind, "file.xlsx", rest);
    assert_eq!(parsed.value.is_some(), !parsed.has_errors());
    for issue in &parsed.issues {
        let _ = issue.to_string();
    }
});
