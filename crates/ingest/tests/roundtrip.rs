//! Writers are exact inverses of the readers.

use std::collections::BTreeSet;
use std::path::Path;

use highneeds_domain::{
    AgeGroup, BudgetKind, BudgetLine, CensusRecord, CensusYear, ChildId, FinancialYear, Ncy, Need,
    Pence, PlanHistory, PopulationCount, Setting, State, Transition, TransitionHistory, UnitCost,
    Urn, ValidSetting,
};
use highneeds_ingest::write::{write_budget, write_plans, write_witan_dir};
use highneeds_ingest::{read_budget, read_plans, read_witan_dir};
use proptest::prelude::*;

// Codes starting with - or + look like formulas to a spreadsheet: exports quote them, readers unquote them.
const NEEDS: [&str; 6] = ["T", "U", "ASD", "SEMH", "Speech & lang.", "-SLCN"];
const SETTINGS: [&str; 6] = [
    "A",
    "B",
    "special_maintained",
    "fe college",
    "x/y-2+z",
    "+1 unit",
];

fn need(i: usize) -> Need {
    NEEDS[i % NEEDS.len()].parse().unwrap()
}
fn setting(i: usize) -> Setting {
    SETTINGS[i % SETTINGS.len()].parse().unwrap()
}

fn state() -> impl Strategy<Value = State> {
    (-5i32..=20, 0..NEEDS.len(), 0..SETTINGS.len()).prop_map(|(n, ni, si)| State {
        ncy: Ncy::new(n).unwrap(),
        need: need(ni),
        setting: setting(si),
    })
}

fn transition() -> impl Strategy<Value = Transition> {
    let sides = prop_oneof![
        (state(), state()).prop_map(|(a, b)| (Some(a), Some(b))),
        state().prop_map(|a| (Some(a), None)),
        state().prop_map(|b| (None, Some(b))),
    ];
    (1990i32..2100, sides).prop_map(|(y, (before, after))| Transition {
        from_census: CensusYear::new(y).unwrap(),
        before,
        after,
    })
}

fn subset(len: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::btree_set(0..len, 0..=len).prop_map(|s| s.into_iter().collect())
}

fn valid_states() -> impl Strategy<Value = Vec<ValidSetting>> {
    let row = (
        subset(NEEDS.len()),
        subset(SETTINGS.len()),
        -5i32..=20,
        -5i32..=20,
        "[a-z0-9]{0,6}",
    );
    prop_oneof![
        Just(Vec::new()),
        proptest::collection::vec(row, SETTINGS.len()).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (needs, moves, a, b, group))| {
                    // The first row allows every need, so every need used is known.
                    let needs = if i == 0 || needs.is_empty() {
                        (0..NEEDS.len()).collect()
                    } else {
                        needs
                    };
                    ValidSetting {
                        setting: setting(i),
                        group,
                        min_ncy: Ncy::new(a.min(b)).unwrap(),
                        max_ncy: Ncy::new(a.max(b)).unwrap(),
                        needs: needs.into_iter().map(need).collect(),
                        moves_to: moves.into_iter().map(setting).collect(),
                    }
                })
                .collect()
        }),
    ]
}

fn history() -> impl Strategy<Value = TransitionHistory> {
    (
        proptest::collection::vec(transition(), 0..40),
        proptest::collection::btree_map((1990i32..2100, -5i32..=20), 1u64..10_000_000, 0..30),
        // (need, setting, age group: 0 = every age), (annual pence up to the £10m bound, place-funding share if
        // split). Populations from 1: a file whose every count is 0 is refused.
        proptest::collection::btree_map(
            (
                0..NEEDS.len(),
                0..SETTINGS.len(),
                0usize..=AgeGroup::ALL.len(),
            ),
            (0i64..=1_000_000_000, proptest::option::of(0u32..=1000)),
            0..10,
        ),
        valid_states(),
    )
        .prop_map(
            |(transitions, population, costs, valid_states)| TransitionHistory {
                transitions,
                population: population
                    .into_iter()
                    .map(|((y, n), p)| PopulationCount {
                        census_year: CensusYear::new(y).unwrap(),
                        ncy: Ncy::new(n).unwrap(),
                        population: p,
                    })
                    .collect(),
                costs: costs
                    .into_iter()
                    .map(|((n, s, g), (p, share))| UnitCost {
                        need: need(n),
                        setting: setting(s),
                        annual: Pence::new(p),
                        age_group: g.checked_sub(1).map(|i| AgeGroup::ALL[i]),
                        place_funding: share.map(|k| Pence::new(p / 1000 * i64::from(k))),
                    })
                    .collect(),
                valid_states,
            },
        )
}

fn plans() -> impl Strategy<Value = Vec<PlanHistory>> {
    let record = (state(), proptest::option::of(0u32..=99_999_999));
    let child = proptest::collection::btree_map(1990i32..2100, record, 1..6);
    proptest::collection::btree_map("[A-Za-z0-9_.-]{1,12}", child, 0..20).prop_map(|children| {
        children
            .into_iter()
            .map(|(id, recs)| {
                let records = recs
                    .into_iter()
                    .map(|(y, (state, urn))| CensusRecord {
                        census_year: CensusYear::new(y).unwrap(),
                        state,
                        urn: urn.map(|u| Urn::parse(&format!("{u:06}")).unwrap()),
                    })
                    .collect();
                PlanHistory::new(ChildId::parse(&id).unwrap(), records).unwrap()
            })
            .collect()
    })
}

fn budget() -> impl Strategy<Value = Vec<BudgetLine>> {
    let key = (
        2000i32..2090,
        0..BudgetKind::ALL.len(),
        "[A-Za-z0-9 :,\"'£()=+@-]{0,16}",
    );
    proptest::collection::vec((key, -10i64.pow(14)..10i64.pow(14)), 0..30).prop_map(|rows| {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for ((y, k, line), amount) in rows {
            let line = line.trim().to_string();
            if seen.insert((y, k, line.clone())) {
                out.push(BudgetLine {
                    financial_year: FinancialYear::starting(y).unwrap(),
                    kind: BudgetKind::ALL[k],
                    line,
                    amount: Pence::new(amount),
                });
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn witan_dir_round_trips(h in history()) {
        let dir = tempfile::tempdir().unwrap();
        write_witan_dir(&h, dir.path()).unwrap();
        let back = read_witan_dir(dir.path());
        let errors: Vec<String> = back.errors().map(|i| i.to_string()).collect();
        prop_assert!(errors.is_empty(), "{errors:?}");
        prop_assert_eq!(back.value.unwrap(), h);
    }

    #[test]
    fn plans_round_trip(p in plans()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plans.csv");
        write_plans(&p, &path).unwrap();
        let back = read_plans(&path);
        let errors: Vec<String> = back.errors().map(|i| i.to_string()).collect();
        prop_assert!(errors.is_empty(), "{errors:?}");
        prop_assert_eq!(back.value.unwrap(), p);
    }

    #[test]
    fn budget_round_trips(b in budget()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hnb-budget.csv");
        write_budget(&b, &path).unwrap();
        let back = read_budget(&path);
        let errors: Vec<String> = back.errors().map(|i| i.to_string()).collect();
        prop_assert!(errors.is_empty(), "{errors:?}");
        prop_assert_eq!(back.value.unwrap(), b);
    }
}

#[test]
fn witan_demo_writes_back_byte_for_byte() {
    let demo = Path::new("/work/shared/peers/witan-send-demo");
    if !demo.exists() {
        return;
    }
    let h = read_witan_dir(demo).value.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_witan_dir(&h, dir.path()).unwrap();
    // witan.send's valid-states.csv has CRLF line ends and it and population.csv lack a final newline.
    for f in [
        "transitions.csv",
        "costs.csv",
        "valid-states.csv",
        "population.csv",
    ] {
        let mut a = std::fs::read_to_string(demo.join(f))
            .unwrap()
            .replace("\r\n", "\n")
            .into_bytes();
        let b = std::fs::read(dir.path().join(f)).unwrap();
        if a.last() != Some(&b'\n') {
            a.push(b'\n');
        }
        if f != "population.csv" {
            assert!(a == b, "{f} differs");
        }
    }
    let again = read_witan_dir(dir.path()).value.unwrap();
    assert_eq!(again, h);
    // No temp files left behind.
    let names: BTreeSet<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn cost_text_like_witan() {
    use highneeds_ingest::write::pounds_text;
    assert_eq!(pounds_text(Pence::from_pounds(1000)), "1000.0");
    assert_eq!(pounds_text(Pence::new(123_450)), "1234.5");
    assert_eq!(pounds_text(Pence::new(123_456)), "1234.56");
    assert_eq!(pounds_text(Pence::new(-5)), "-0.05");
}

/// Issue #14, fault 7: text that a spreadsheet would run as a formula is written with a leading quote (OWASP's
/// CSV-injection rule) and read back as the same text.
#[test]
fn formula_like_text_is_neutralised_in_exports_and_read_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hnb-budget.csv");
    let lines: Vec<BudgetLine> = [
        "=HYPERLINK(\"http://x\")",
        "+1",
        "-2",
        "@SUM(A1)",
        "'=quoted",
        "plain",
    ]
    .iter()
    .enumerate()
    .map(|(i, l)| BudgetLine {
        financial_year: FinancialYear::starting(2024 + i as i32).unwrap(),
        kind: BudgetKind::ALL[0],
        line: (*l).to_string(),
        amount: Pence::new(100),
    })
    .collect();
    write_budget(&lines, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    for cell in [
        "'=HYPERLINK",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "''=quoted",
        ",plain,",
    ] {
        assert!(text.contains(cell), "{cell} not in\n{text}");
    }
    for line in text.lines().skip(1) {
        let third = line.split(',').nth(2).unwrap().trim_start_matches('"');
        assert!(!third.starts_with(['=', '+', '-', '@']), "{line}");
    }
    assert_eq!(read_budget(&path).value.unwrap(), lines);
}
