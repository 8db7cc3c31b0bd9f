//! SEN2 censuses, flows and transitions go in and come back out; a second import of other years keeps the first.

use std::collections::BTreeSet;

use highneeds_domain::sen2::{
    transitions_of, CeaseReason, CeasedPlan, CensusPlan, PersonKey, Sen2Census,
};
use highneeds_domain::{CanonicalSetting, CensusYear, Ncy, Sen2Need, Urn};
use highneeds_store::{ImportOutcome, ImportedFile, LaRef, Sen2Import, Sen2ReturnSummary, Store};

fn plan(k: u8, ncy: i32, need: Sen2Need, setting: CanonicalSetting) -> CensusPlan {
    CensusPlan {
        key: PersonKey([k; 16]),
        pupil_key: (k.is_multiple_of(2)).then_some(PersonKey([k + 100; 16])),
        ncy: Ncy::new(ncy).unwrap(),
        need,
        setting,
        urn: (k.is_multiple_of(3)).then(|| Urn::parse("123456").unwrap()),
    }
}

fn census(y: i32, plans: Vec<CensusPlan>, ceased: Vec<CeasedPlan>) -> Sen2Census {
    Sen2Census {
        census_year: CensusYear::new(y).unwrap(),
        plans,
        ceased,
    }
}

fn summary(c: &Sen2Census) -> Sen2ReturnSummary {
    Sen2ReturnSummary {
        census_year: c.census_year,
        reference_date: format!("{}-01-18", c.census_year),
        lea: Some("999".into()),
        persons: (c.plans.len() + c.ceased.len()) as u64,
    }
}

fn file(name: &str, hash: char) -> ImportedFile {
    ImportedFile {
        kind: "sen2".into(),
        file_name: name.into(),
        sha256: hash.to_string().repeat(64),
        rows: 3,
    }
}

#[tokio::test]
async fn censuses_round_trip_and_later_years_extend_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    let la = LaRef {
        code: "E1".into(),
        name: "One".into(),
    };
    let a = census(
        2023,
        vec![
            plan(1, 7, Sen2Need::Asd, CanonicalSetting::Mainstream),
            plan(2, 10, Sen2Need::Semh, CanonicalSetting::SpecialMaintained),
        ],
        vec![],
    );
    let b = census(
        2024,
        vec![
            plan(
                1,
                8,
                Sen2Need::Asd,
                CanonicalSetting::MainstreamResourcedProvisionOrUnit,
            ),
            plan(3, 0, Sen2Need::Slcn, CanonicalSetting::EarlyYears),
        ],
        vec![CeasedPlan {
            key: PersonKey([2; 16]),
            pupil_key: None,
            reason: Some(CeaseReason::MovedOutsideEngland),
        }],
    );
    let first = [a.clone()];
    let data = Sen2Import {
        returns: first.iter().map(summary).collect(),
        censuses: &first,
        ..Sen2Import::default()
    };
    let out = store
        .import_sen2(&la, &data, &[file("a.xml", 'a')], "t")
        .await
        .unwrap();
    assert!(matches!(out, ImportOutcome::Imported { .. }));
    assert_eq!(store.sen2_censuses("E1").await.unwrap(), vec![a.clone()]);

    // 2024 alone: transitions over both stored censuses.
    let all = [a.clone(), b.clone()];
    let (transitions, summaries) = transitions_of(&all);
    assert_eq!(transitions.len(), 3); // 1 mover, 1 leaver, 1 joiner
    let second = [b.clone()];
    let data = Sen2Import {
        returns: second.iter().map(summary).collect(),
        censuses: &second,
        transitions: &transitions,
        key_fingerprint: None,
        transition_years: summaries
            .iter()
            .filter_map(|s| s.from_census)
            .collect::<BTreeSet<_>>(),
        ..Sen2Import::default()
    };
    store
        .import_sen2(&la, &data, &[file("b.xml", 'b')], "t")
        .await
        .unwrap();
    let back = store.sen2_censuses("E1").await.unwrap();
    let mut want_b = b.clone();
    want_b.plans.sort_by_key(|p| p.key);
    assert_eq!(back, vec![a.clone(), want_b]);
    let years: Vec<i32> = store
        .sen2_returns("E1")
        .await
        .unwrap()
        .iter()
        .map(|r| r.census_year.year())
        .collect();
    assert_eq!(years, vec![2023, 2024]);
    let history = store.require_history("E1").await.unwrap();
    assert_eq!(history.transitions, transitions);
    // The same file again: nothing changes.
    let again = store
        .import_sen2(&la, &data, &[file("b.xml", 'b')], "t")
        .await
        .unwrap();
    assert!(matches!(again, ImportOutcome::AlreadyImported { .. }));
    store.close().await;
}

#[path = "common/mod.rs"]
mod common;

/// A witan.send set and SEN2 returns both replace transitions, so "already imported" means the LA's latest
/// history import of any kind: witan W → SEN2 S → W again imports W again and the history is W's once more;
/// then S again imports S again.
#[tokio::test]
async fn witan_then_sen2_then_the_same_witan_set_imports_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    let la = common::la("E1", "One");
    let w = common::history(60, 3);
    let w_files = common::witan_files(7, &w);
    let imported = |o: &ImportOutcome| matches!(o, ImportOutcome::Imported { .. });
    assert!(imported(
        &store.import_history(&la, &w, &w_files, "t").await.unwrap()
    ));
    let w_transitions = store.require_history("E1").await.unwrap().transitions;

    let a = census(
        2030,
        vec![plan(1, 7, Sen2Need::Asd, CanonicalSetting::Mainstream)],
        vec![],
    );
    let b = census(
        2031,
        vec![plan(1, 8, Sen2Need::Asd, CanonicalSetting::Mainstream)],
        vec![],
    );
    let both = [a, b];
    let (transitions, summaries) = transitions_of(&both);
    let data = Sen2Import {
        returns: both.iter().map(summary).collect(),
        censuses: &both,
        transitions: &transitions,
        key_fingerprint: None,
        transition_years: summaries.iter().filter_map(|s| s.from_census).collect(),
        ..Sen2Import::default()
    };
    let s_files = [file("s.xml", '5')];
    assert!(imported(
        &store.import_sen2(&la, &data, &s_files, "t").await.unwrap()
    ));
    assert_ne!(
        store.require_history("E1").await.unwrap().transitions,
        w_transitions
    );

    assert!(imported(
        &store.import_history(&la, &w, &w_files, "t").await.unwrap()
    ));
    assert_eq!(
        store.require_history("E1").await.unwrap().transitions,
        w_transitions
    );
    assert!(imported(
        &store.import_sen2(&la, &data, &s_files, "t").await.unwrap()
    ));
    let again = store.import_sen2(&la, &data, &s_files, "t").await.unwrap();
    assert!(matches!(again, ImportOutcome::AlreadyImported { .. }));
    store.close().await;
}
