#![no_main]
//! Any text as an LA's own setting map (`forecast --setting-map`), laid over the shipped one: never a panic.

use highneeds_domain::SettingMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut map = SettingMap::shipped();
    if let Err(e) = map.overlay(text) {
        let _ = e.message.len() + e.line;
    }
});
