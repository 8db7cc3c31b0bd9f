#![no_main]
//! Any bytes as any file of the DfE's published EHC plan release (the first byte picks which): never a panic,
//! and a value only without errors.

use highneeds_ingest::parse_published_file;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 7] = [
    "ehcp_caseload_la_2010_2022.csv",
    "ehcp_caseload_by_age_la_2010_2022.csv",
    "ehcp_caseload_by_setting_la_2019_2022.csv",
    "ehcp_new_plans_by_age_la_2009_2021.csv",
    "ehcp_process_mi_la_2014_2021.csv",
    "ehcp_process_mi_variables.csv",
    "setting_map_sen2_establishment_type.csv",
];

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(which) % NAMES.len()];
    let parsed = parse_published_file(name, bytes);
    assert_eq!(parsed.value.is_some(), !parsed.has_errors());
    for issue in &parsed.issues {
        let _ = issue.to_string();
    }
    if let Some(stats) = parsed.value {
        let _ = stats.setting_gaps();
        let _ = stats.on_current_boundaries();
    }
});
