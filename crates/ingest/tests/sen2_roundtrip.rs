//! synth → SEN2 XML → read → derive gives back synth's own stock (by NCY, need and setting) at every census
//! and exactly synth's transitions between them.

use std::collections::BTreeMap;

use highneeds_domain::sen2::{census_of, stock_by_state, transitions_of, EstablishmentRegister};
use highneeds_domain::{
    transitions_between, CanonicalSetting, CensusYear, Ncy, Sen2Need, SettingMap, State,
};
use highneeds_ingest::sen2::write::{write_establishments, write_sen2_to};
use highneeds_ingest::sen2::{parse_establishments, parse_sen2, PersonKeyer};
use highneeds_synth::{generate_la, sen2::sen2_returns, SynthConfig};
use proptest::prelude::*;

type Stock = BTreeMap<(Ncy, Sen2Need, CanonicalSetting), u64>;

fn register(
    establishments: &[(u32, String, highneeds_domain::sen2::Establishment)],
) -> EstablishmentRegister {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("establishments.csv");
    write_establishments(establishments, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let parsed = parse_establishments("establishments.csv", &bytes);
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    parsed.value.unwrap()
}

fn key(t: &Option<State>) -> Option<(i32, String, String)> {
    t.as_ref()
        .map(|s| (s.ncy.value(), s.need.to_string(), s.setting.to_string()))
}

fn check(plans: u32, seed: u64) {
    let config = SynthConfig {
        plans,
        seed,
        las: 1,
        censuses: 8,
        last_census: CensusYear::new(2024).unwrap(),
    };
    let la = generate_la(&config, 0);
    let synthetic = sen2_returns(&la, 3, seed);
    assert_eq!(synthetic.returns.len(), 3);
    let reg = register(&synthetic.establishments);
    let keyer = PersonKeyer::new(&seed.to_le_bytes().repeat(4)).unwrap();
    let map = SettingMap::shipped();
    let mut censuses = Vec::new();
    for ret in &synthetic.returns {
        let mut xml = Vec::new();
        write_sen2_to(ret, &mut xml).unwrap();
        let parsed = parse_sen2("sen2.xml", &xml[..], &keyer);
        let shown: Vec<String> = parsed.issues.iter().map(ToString::to_string).collect();
        assert!(shown.is_empty(), "{shown:#?}");
        let read = parsed.value.unwrap();
        let (census, notes) = census_of(&read, &reg, &map);
        assert!(notes.lines().is_empty(), "{notes:?}");
        // Synth's own records at this census.
        let mut want: Stock = BTreeMap::new();
        for h in &la.histories {
            if let Some(r) = h.at(ret.header.census_year) {
                let need: Sen2Need = r.state.need.as_str().parse().unwrap();
                let setting: CanonicalSetting = r.state.setting.as_str().parse().unwrap();
                *want.entry((r.state.ncy, need, setting)).or_insert(0) += 1;
            }
        }
        assert_eq!(
            stock_by_state(&census),
            want,
            "census {}",
            ret.header.census_year
        );
        censuses.push(census);
    }
    let (got, summaries) = transitions_of(&censuses);
    let first = synthetic.returns[0].header.census_year;
    let want = transitions_between(&la.histories, first, la.last_census);
    let sorted = |ts: &[highneeds_domain::Transition]| {
        let mut v: Vec<_> = ts
            .iter()
            .map(|t| (t.from_census, key(&t.before), key(&t.after)))
            .collect();
        v.sort();
        v
    };
    assert_eq!(got.len(), want.len());
    assert_eq!(sorted(&got), sorted(&want));
    // Every leaver's cessation reason comes from the later return.
    for s in &summaries {
        assert_eq!(s.leavers_by_reason.get(&None), None, "{s:?}");
        assert_eq!(s.matched_by_pupil_key, 0);
    }
}

#[test]
fn exampleshire_round_trips() {
    check(2150, 7);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn any_synthetic_la_round_trips(plans in 60u32..600, seed in 0u64..1_000_000) {
        check(plans, seed);
    }
}
