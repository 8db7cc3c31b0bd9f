//! Property: whatever valid domain values go in come back out equal.

use highneeds_domain::{
    AgeGroup, BudgetKind, BudgetLine, CensusRecord, CensusYear, ChildId, FinancialYear, Ncy, Need,
    Pence, PlanHistory, PopulationCount, Setting, State, Transition, TransitionHistory, UnitCost,
    Urn, ValidSetting,
};
use highneeds_store::{ImportedFile, LaRef, Store};
use proptest::prelude::*;

const CODES: &[&str] = &[
    "ASD",
    "SEMH",
    "FE college",
    "I&S",
    "a/b",
    "x+y",
    "1.5",
    "Ñandú",
    "T-1",
    "mainstream_academy",
];

fn code() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(CODES)
}

fn state() -> impl Strategy<Value = State> {
    (-5..=20i32, code(), code()).prop_map(|(n, need, setting)| State {
        ncy: Ncy::new(n).unwrap(),
        need: need.parse::<Need>().unwrap(),
        setting: setting.parse::<Setting>().unwrap(),
    })
}

fn transition() -> impl Strategy<Value = Transition> {
    (
        1990..2100i32,
        proptest::option::of(state()),
        proptest::option::of(state()),
    )
        .prop_filter("a transition has at least one side", |(_, b, a)| {
            b.is_some() || a.is_some()
        })
        .prop_map(|(y, before, after)| Transition {
            from_census: CensusYear::new(y).unwrap(),
            before,
            after,
        })
}

fn history() -> impl Strategy<Value = TransitionHistory> {
    (
        proptest::collection::vec(transition(), 0..60),
        proptest::collection::btree_map((1990..2100i32, -5..=20i32), 0..=i64::MAX as u64, 0..20),
        // (need, setting, age group: 0 = every age) → (annual pence, place-funding pence if split).
        proptest::collection::btree_map(
            (code(), code(), 0usize..=AgeGroup::ALL.len()),
            (any::<i64>(), proptest::option::of(any::<i64>())),
            0..10,
        ),
        proptest::collection::btree_map(
            code(),
            (
                ".{0,12}",
                -5..=20i32,
                -5..=20i32,
                proptest::collection::vec(code(), 0..4),
                proptest::collection::vec(code(), 0..4),
            ),
            0..5,
        ),
    )
        .prop_map(
            |(transitions, population, costs, valid)| TransitionHistory {
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
                    .map(|((n, s, g), (a, place))| UnitCost {
                        need: n.parse().unwrap(),
                        setting: s.parse().unwrap(),
                        annual: Pence::new(a),
                        age_group: g.checked_sub(1).map(|i| AgeGroup::ALL[i]),
                        place_funding: place.map(Pence::new),
                    })
                    .collect(),
                valid_states: valid
                    .into_iter()
                    .map(|(s, (group, lo, hi, needs, moves))| ValidSetting {
                        setting: s.parse().unwrap(),
                        group,
                        min_ncy: Ncy::new(lo).unwrap(),
                        max_ncy: Ncy::new(hi).unwrap(),
                        needs: needs.iter().map(|n| n.parse().unwrap()).collect(),
                        moves_to: moves.iter().map(|n| n.parse().unwrap()).collect(),
                    })
                    .collect(),
            },
        )
}

fn plans() -> impl Strategy<Value = Vec<PlanHistory>> {
    proptest::collection::btree_map(
        "[A-Za-z0-9_.-]{1,10}",
        proptest::collection::btree_map(
            1990..2100i32,
            (state(), proptest::option::of(100_000..99_999_999u32)),
            1..5,
        ),
        0..20,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(id, recs)| {
                let records = recs
                    .into_iter()
                    .map(|(y, (state, urn))| CensusRecord {
                        census_year: CensusYear::new(y).unwrap(),
                        state,
                        urn: urn.map(|u| Urn::parse(&u.to_string()).unwrap()),
                    })
                    .collect();
                PlanHistory::new(ChildId::parse(&id).unwrap(), records).unwrap()
            })
            .collect()
    })
}

fn budget() -> impl Strategy<Value = Vec<BudgetLine>> {
    proptest::collection::btree_map(
        (
            1990..2100i32,
            proptest::sample::select(BudgetKind::ALL.to_vec()),
            ".{0,20}",
        ),
        any::<i64>(),
        0..20,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|((fy, kind, line), amount)| BudgetLine {
                financial_year: FinancialYear::starting(fy).unwrap(),
                kind,
                line,
                amount: Pence::new(amount),
            })
            .collect()
    })
}

fn file(kind: &str, n: u64) -> ImportedFile {
    ImportedFile {
        kind: kind.into(),
        file_name: format!("{kind}.csv"),
        sha256: format!("{n:064x}"),
        rows: n,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn everything_round_trips(h in history(), p in plans(), b in budget()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("p.db")).await.unwrap();
            let la = LaRef { code: "E06000037".into(), name: "West Berkshire".into() };
            store.import_history(&la, &h, &[file("witan", 1)], "u").await.unwrap();
            store.import_plans(&la, &p, &[file("plans", 2)], "u").await.unwrap();
            store.import_budget(&la, &b, &[file("budget", 3)], "u").await.unwrap();
            assert_eq!(store.load_history("E06000037").await.unwrap().unwrap(), h);
            assert_eq!(store.load_plans("E06000037").await.unwrap(), p);
            let mut sorted = b.clone();
            sorted.sort_by(|x, y| (x.financial_year, x.kind, &x.line).cmp(&(y.financial_year, y.kind, &y.line)));
            assert_eq!(store.load_budget("E06000037").await.unwrap(), sorted);
            store.close().await;
        });
    }
}
