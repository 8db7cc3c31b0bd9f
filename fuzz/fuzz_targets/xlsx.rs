#![no_main]
//! Any bytes as a workbook (.xlsx, .xls or .ods: recognised by the bytes, not the name) of every kind (the first
//! byte picks the kind): never a panic.

use highneeds_ingest::{parse_bytes, FileKind};
use libfuzzer_sys::fuzz_target;

// A panic of the third-party workbook reader is caught by ingest and refused as a corrupt workbook, as in the
// program; only a panic that escapes ingest is a crash (see fuzz/README.md).
fuzz_target!(init: { highneeds_ingest::quiet_contained_panics(); }, |data: &[u8]| {
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
