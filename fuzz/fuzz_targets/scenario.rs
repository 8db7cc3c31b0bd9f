#![no_main]
//! Any bytes as a scenario file, TOML and JSON, with and without the LA's codes: never a panic, a value only
//! without errors, and an accepted scenario writes back to a file that reads to the same scenario.

use highneeds_ingest::scenario::{
    read_scenario_json, read_scenario_toml, scenario_to_json, scenario_to_toml, ScenarioCodes,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let codes = ScenarioCodes {
        needs: vec!["ASD".parse().unwrap(), "SEMH".parse().unwrap()],
        settings: vec!["mainstream".parse().unwrap(), "special_inmss".parse().unwrap()],
    };
    for known in [None, Some(&codes)] {
        let parsed = read_scenario_toml("plan.toml", text, known);
        assert_eq!(parsed.value.is_some(), !parsed.has_errors());
        parsed.issues.iter().for_each(|i| drop(i.to_string()));
        if let Some(s) = &parsed.value {
            let again = read_scenario_toml("again.toml", &scenario_to_toml(s), known);
            assert_eq!(again.value.as_ref(), Some(s));
            let json = read_scenario_json("again.json", &scenario_to_json(s), known);
            assert_eq!(json.value.as_ref(), Some(s));
        }
        let parsed = read_scenario_json("plan.json", text, known);
        assert_eq!(parsed.value.is_some(), !parsed.has_errors());
    }
});
