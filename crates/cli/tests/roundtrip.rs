//! synth → import → export gives back the files synth wrote, and synth's transitions conserve plans.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{import, run, synth, witan_demo};
use proptest::prelude::*;

/// `highneeds export KIND --db DB --out OUT`.
fn export(kind: &str, db: &Path, out: &Path) {
    let r = run([
        "export".as_ref(),
        kind.as_ref(),
        "--db".as_ref(),
        db.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(r.ok().starts_with("wrote "), "{}", r.both());
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn sorted_lines(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8(read(p))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// Synth, import all three kinds, export all three kinds, compare.
fn round_trip(plans: u32, seed: u64) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let out = tmp.path().join("out");
    let db = tmp.path().join("hn.db");
    synth(&src, plans, seed);
    for (kind, path) in [
        ("witan", src.clone()),
        ("plans", src.join("plans.csv")),
        ("budget", src.join("hnb-budget.csv")),
    ] {
        let r = import(kind, &path, &db);
        prop_assert!(r.ok().starts_with("imported "), "{}", r.both());
    }
    for kind in ["witan", "plans", "budget"] {
        export(kind, &db, &out);
    }
    for f in [
        "transitions.csv",
        "population.csv",
        "costs.csv",
        "valid-states.csv",
        "plans.csv",
    ] {
        let (a, b) = (read(&src.join(f)), read(&out.join(f)));
        prop_assert!(
            a == b,
            "{f} differs after the round trip (plans {plans}, seed {seed}): {} vs {} bytes",
            a.len(),
            b.len()
        );
    }
    prop_assert_eq!(
        sorted_lines(&src.join("hnb-budget.csv")),
        sorted_lines(&out.join("hnb-budget.csv"))
    );
    check_conservation(&src).map_err(TestCaseError::fail)?;
    Ok(())
}

/// Per calendar year of transitions.csv: plans in SEND on side 1, joiners, leavers, and plans on side 2.
#[derive(Debug, Default, Clone, Copy)]
struct YearFlows {
    start: i64,
    joiners: i64,
    leavers: i64,
    end: i64,
}

fn flows(transitions: &Path) -> BTreeMap<i32, YearFlows> {
    let text = String::from_utf8(read(transitions)).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap().trim_end_matches('\r'),
        "calendar-year,setting-1,need-1,academic-year-1,setting-2,need-2,academic-year-2"
    );
    let mut by_year: BTreeMap<i32, YearFlows> = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.trim_end_matches('\r').split(',').collect();
        assert_eq!(f.len(), 7, "line {l:?}");
        let year: i32 = f[0].parse().unwrap();
        let before = f[1] != "NONSEND";
        let after = f[4] != "NONSEND";
        assert!(before || after, "NONSEND to NONSEND: {l:?}");
        let e = by_year.entry(year).or_default();
        if before {
            e.start += 1;
        } else {
            e.joiners += 1;
        }
        if after {
            e.end += 1;
        } else {
            e.leavers += 1;
        }
    }
    by_year
}

/// For every census pair (t, t+1): plans at t + joiners − leavers = plans at t+1, where plans at t+1 is read from
/// the next year's rows (side 1), and the plans per census agree with plans.csv where there is one.
fn check_conservation(dir: &Path) -> Result<(), String> {
    let by_year = flows(&dir.join("transitions.csv"));
    if by_year.len() < 2 {
        return Err(format!("only {} transition years", by_year.len()));
    }
    let years: Vec<i32> = by_year.keys().copied().collect();
    for w in years.windows(2) {
        let (t, next) = (w[0], w[1]);
        if next != t + 1 {
            return Err(format!("transition years jump from {t} to {next}"));
        }
        let a = by_year[&t];
        let b = by_year[&next];
        if a.start + a.joiners - a.leavers != b.start {
            return Err(format!(
                "{t}->{next}: {} plans + {} joiners - {} leavers = {}, but {} plans at {next}",
                a.start,
                a.joiners,
                a.leavers,
                a.start + a.joiners - a.leavers,
                b.start
            ));
        }
    }
    let plans_csv = dir.join("plans.csv");
    if plans_csv.exists() {
        let text = String::from_utf8(read(&plans_csv)).unwrap();
        let mut per_census: BTreeMap<i32, i64> = BTreeMap::new();
        for l in text.lines().skip(1) {
            let year: i32 = l.split(',').nth(1).unwrap().parse().unwrap();
            *per_census.entry(year).or_default() += 1;
        }
        for (y, f) in &by_year {
            let in_plans = per_census.get(y).copied().unwrap_or(0);
            if in_plans != f.start {
                return Err(format!(
                    "{y}: {} plans in transitions.csv, {in_plans} in plans.csv",
                    f.start
                ));
            }
            let next = per_census.get(&(y + 1)).copied().unwrap_or(0);
            if next != f.end {
                return Err(format!(
                    "{}: {} plans at the end of the {y} transitions, {next} in plans.csv",
                    y + 1,
                    f.end
                ));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 5,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn synth_import_export_round_trips(plans in 50u32..400, seed in any::<u64>()) {
        round_trip(plans, seed)?;
    }
}

#[test]
fn synth_conserves_plans_at_demo_size() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("la");
    let reported = synth(&dir, 2150, 7);
    check_conservation(&dir).unwrap();
    // The last census's plans (side 2 of the last transition year) are what synth reports.
    let by_year = flows(&dir.join("transitions.csv"));
    let (last, f) = by_year.iter().next_back().unwrap();
    assert_eq!(*last, 2023);
    assert_eq!(f.end as u64, reported);
    assert_eq!(by_year.len(), 9, "10 censuses give 9 transition years");
}

/// The check can fail: witan.send's demo is a set of independent cross-sections whose counts do not chain
/// (1,781 plans at the end of the 2013 rows, 1,752 at the start of the 2014 rows).
#[test]
fn conservation_check_catches_the_witan_demo() {
    let err = check_conservation(&witan_demo()).unwrap_err();
    assert!(err.starts_with("2013->2014:"), "{err}");
    assert!(err.contains("= 1781, but 1752 plans at 2014"), "{err}");
}

/// The witan.send demo, imported and exported: transitions and costs come back byte for byte.
#[test]
fn witan_demo_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("w.db");
    let out = tmp.path().join("out");
    import("witan", &witan_demo(), &db).ok();
    export("witan", &db, &out);
    for f in ["transitions.csv", "costs.csv"] {
        assert!(
            read(&witan_demo().join(f)) == read(&out.join(f)),
            "{f} differs"
        );
    }
    // valid-states.csv comes back with LF line ends instead of CRLF, otherwise the same.
    let vs = String::from_utf8(read(&witan_demo().join("valid-states.csv"))).unwrap();
    let back = String::from_utf8(read(&out.join("valid-states.csv"))).unwrap();
    assert_eq!(
        vs.lines().collect::<Vec<_>>(),
        back.lines().collect::<Vec<_>>()
    );
}
