//! The SEN2 reader on the shared samples (read in place at ../shared) and on broken input.

use std::path::{Path, PathBuf};

use highneeds_domain::sen2::{census_of, flows_of, EstablishmentRegister, RequestOutcome};
use highneeds_domain::{CensusYear, SettingMap};
use highneeds_ingest::sen2::{parse_sen2, read_sen2, PersonKeyer};
use highneeds_ingest::Issue;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/formats/sen2-samples")
}
fn keyer() -> PersonKeyer {
    PersonKeyer::new(b"a test key of at least sixteen bytes").unwrap()
}
fn show(issues: &[Issue]) -> Vec<String> {
    issues.iter().map(ToString::to_string).collect()
}

#[test]
fn minimal_sample_reads_cleanly() {
    let parsed = read_sen2(&samples().join("sen2-minimal-example.xml"), &keyer());
    assert_eq!(show(&parsed.issues), Vec::<String>::new());
    let ret = parsed.value.unwrap();
    assert_eq!(ret.header.census_year, CensusYear::new(2025).unwrap());
    assert_eq!(ret.header.lea.as_deref(), Some("999"));
    assert_eq!(ret.persons.len(), 2);
    assert_eq!(parsed.sources[0].rows, 2);
    assert_eq!(parsed.sources[0].sha256.len(), 64);
    println!("{:?}", ret);
}

#[test]
fn mockup_faults_are_warnings_with_counts() {
    let parsed = read_sen2(&samples().join("liia-tools_SEN2-2024-mockup.xml"), &keyer());
    for i in show(&parsed.issues) {
        println!("{i}");
    }
    assert!(!parsed.has_errors());
}
