//! Scenario tests: the ledger worked by hand, each lever kind against the unmitigated run, and the invariants
//! (savings add up to the penny, empty and zero-effect scenarios change nothing, children conserved under
//! redirection, places never exceeded with an overflow, the engines agree).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use highneeds_domain::scenario::*;
use highneeds_domain::{
    BudgetKind, BudgetLine, CensusYear, FinancialYear, Pence, Setting, TransitionHistory,
};
use proptest::prelude::*;

use super::*;
use crate::effects::{Effects, PlaceLimit, StepEffects};
use crate::estimate::fit_reaching;
use crate::forecast::Columns;
use crate::tests::history;
use crate::FitOptions;

fn fy(s: &str) -> FinancialYear {
    s.parse().unwrap()
}

fn line(year: &str, kind: BudgetKind, pounds: i64) -> BudgetLine {
    BudgetLine {
        financial_year: fy(year),
        kind,
        line: String::new(),
        amount: Pence::from_pounds(pounds),
    }
}

/// Opening −£1m in 2020-21; allocations £10m and £10.5m; a £200k deduction and £12m spend in 2021-22.
fn budget() -> Vec<BudgetLine> {
    vec![
        line("2020-21", BudgetKind::OpeningBalance, -1_000_000),
        line("2020-21", BudgetKind::Allocation, 10_000_000),
        line("2020-21", BudgetKind::Expenditure, 11_000_000),
        line("2021-22", BudgetKind::Allocation, 10_500_000),
        line("2021-22", BudgetKind::Deduction, 200_000),
        line("2021-22", BudgetKind::Expenditure, 12_000_000),
    ]
}

#[test]
fn ledger_projection_worked_by_hand() {
    // Closing 2020-21: −1,000,000 + 10,000,000 − 11,000,000 = −2,000,000; 2021-22: −2,000,000 + 10,300,000 −
    // 12,000,000 = −3,700,000. Allocation growth: 10.5/10 − 1 = 5 %. Other spend: 12,000,000 − 11,000,000 modelled.
    let basis = ledger::basis(
        &budget(),
        |y| (y == fy("2021-22")).then_some(1_100_000_000.0),
        None,
        0.02,
    )
    .unwrap();
    assert_eq!(basis.last_actual, fy("2021-22"));
    assert_eq!(basis.opening, Pence::from_pounds(-3_700_000));
    assert!((basis.allocation_growth - 0.05).abs() < 1e-12);
    assert_eq!(basis.other_expenditure, Pence::from_pounds(1_000_000));
    let mut money = ScenarioMoney::default();
    money.cost.insert(fy("2022-23"), Pence::from_pounds(50_000));
    money
        .grants
        .insert(fy("2022-23"), Pence::from_pounds(30_000));
    money
        .block_transfers
        .insert(fy("2022-23"), Pence::from_pounds(100_000));
    money
        .contributions
        .insert(fy("2022-23"), Pence::from_pounds(500_000));
    let rows = ledger::project(
        &basis,
        &[(fy("2021-22"), 1.0e9), (fy("2022-23"), 1_150_000_040.0)],
        &money,
    )
    .unwrap();
    assert_eq!(rows.len(), 1, "the actual year is not projected");
    let r = &rows[0];
    // Allocation 10,500,000 × 1.05 = 11,025,000; deductions 200,000 × 1.05 = 210,000;
    // income = 11,025,000 + 100,000 + 30,000 − 210,000 = 10,945,000.
    assert_eq!(r.allocation, Pence::from_pounds(11_025_000));
    assert_eq!(r.deductions, Pence::from_pounds(210_000));
    assert_eq!(r.income, Pence::from_pounds(10_945_000));
    // Expenditure = 11,500,000.40 + 1,000,000 × 1.02 = 12,520,000.40.
    assert_eq!(r.expenditure, Pence::new(1_252_000_040));
    // In-year = 10,945,000 − 12,520,000.40 − 50,000 = −1,625,000.40; closing = −3,700,000 − 1,625,000.40 + 500,000.
    assert_eq!(r.in_year, Pence::new(-162_500_040));
    assert_eq!(r.closing, Pence::new(-482_500_040));
    assert_eq!(r.opening, Pence::from_pounds(-3_700_000));
}

fn setting(s: &str) -> Setting {
    s.parse().unwrap()
}

fn assumptions(engine: ScenarioEngine) -> Assumptions {
    Assumptions {
        horizon_years: 4,
        uplift: 0.02,
        allocation_growth: None,
        target: fy("2023-24"),
        engine,
        sims: 300,
        seed: 3,
        places: vec![],
    }
}

fn lever(kind: LeverKind) -> Lever {
    Lever {
        kind,
        timing: Timing::new("2021-02".parse().unwrap(), 0, None).unwrap(),
        cost: BTreeMap::new(),
        description: String::new(),
    }
}

fn scenario(levers: Vec<Vec<Lever>>, engine: ScenarioEngine) -> Scenario {
    Scenario {
        name: "test".into(),
        description: String::new(),
        la: None,
        assumptions: assumptions(engine),
        initiatives: levers
            .into_iter()
            .enumerate()
            .map(|(i, levers)| Initiative {
                name: format!("initiative {i}"),
                description: String::new(),
                levers,
            })
            .collect(),
    }
}

/// History whose base census is 2021 (transitions from 2015 to 2020) with costs on every state.
fn la() -> TransitionHistory {
    history(600, 6, 0.05, 11)
}

/// The budget, re-dated so that its last actual year is the base census's financial year (2021-22).
fn run_on(h: &TransitionHistory, s: &Scenario) -> ScenarioResult {
    let params = fit_reaching(h, &FitOptions::default(), &settings_reached(s)).unwrap();
    run(&ScenarioInputs {
        params: &params,
        history: h,
        budget: &budget(),
        scenario: s,
        threads: Some(1),
        progress: None,
    })
    .unwrap()
}

fn expenditure(o: &Outcome) -> Vec<Pence> {
    o.ledger.iter().map(|r| r.expenditure).collect()
}

#[test]
fn an_empty_scenario_is_the_unmitigated_forecast() {
    let r = run_on(&la(), &scenario(vec![], ScenarioEngine::Analytic));
    assert_eq!(r.unmitigated.ledger, r.mitigated.ledger);
    assert_eq!(r.total_saving, Pence::ZERO);
    assert_eq!(r.unmitigated.ledger.len(), 3, "2022-23 to 2024-25");
}

#[test]
fn a_zero_effect_lever_changes_nothing() {
    let zero = lever(LeverKind::JoinerRate {
        change: Change::new(0.0).unwrap(),
        cohort: Cohort::default(),
    });
    let r = run_on(&la(), &scenario(vec![vec![zero]], ScenarioEngine::Analytic));
    assert_eq!(expenditure(&r.unmitigated), expenditure(&r.mitigated));
    assert_eq!(r.initiatives[0].saving, Pence::ZERO);
}

/// Each lever kind against the unmitigated run: the step-1 figure it changes, computed independently.
#[test]
fn each_lever_kind_moves_its_figure_by_hand() {
    let h = la();
    let params = fit_reaching(&h, &FitOptions::default(), &[setting("special")]).unwrap();
    let k = params.space.len();
    let mut base_joiners = vec![0.0; k];
    let j0 = analytic::expected_joiners(&params, None, 1, &mut base_joiners);
    // Joiners −20 % everywhere: 0.8 × the expected joiners.
    let e = StepEffects {
        joiners: vec![0.8; k],
        ..StepEffects::default()
    };
    let mut out = vec![0.0; k];
    let j1 = analytic::expected_joiners(&params, Some(&e), 1, &mut out);
    assert!((j1 - 0.8 * j0).abs() < 1e-9 * j0);
    // Leaving +10 %: each state's leaving probability × 1.1 (states where leaving is not near certain; ageing
    // out at 25 stays certain).
    let leave = |eff: Option<&StepEffects>| {
        let means = analytic::expected_counts(&params, 0);
        let mut left = 0.0;
        for (s, &m) in means[0].iter().enumerate() {
            if params.outcomes.leave[s] > 0.5 {
                continue;
            }
            analytic::for_each_outcome(&params, eff, 1, s, |d, p| {
                if d == crate::estimate::LEAVE {
                    left += m * p;
                }
            });
        }
        left
    };
    let more = StepEffects {
        leave: vec![1.1; k],
        ..StepEffects::default()
    };
    assert!((leave(Some(&more)) - 1.1 * leave(None)).abs() < 1e-6);
    // Unit costs −10 % from the start: the census-1 cost × 0.9, so each FY's placement share from census 1.
    let options = ProjectionOptions {
        years: 1,
        cost_uplift: 0.0,
        quantiles: vec![],
    };
    let cheaper = Effects {
        steps: vec![StepEffects {
            cost: vec![0.9; k],
            cost_to_march: vec![0.9; k],
            cost_from_april: vec![0.9; k],
            ..StepEffects::default()
        }],
    };
    let base = placement_by_fy(&params, &options, &Effects::none())[0].1;
    let cut = placement_by_fy(&params, &options, &cheaper)[0].1;
    let census0 = crate::forecast::base_cost(&params);
    // FY = 5/12 census 0 + 7/12 census 1: only the census-1 part is cut.
    let census1 = (12.0 * base - 5.0 * census0) / 7.0;
    assert!((cut - (5.0 * census0 + 7.0 * 0.9 * census1) / 12.0).abs() < 1e-3);
}

#[test]
fn money_levers_enter_the_ledger_and_are_attributed() {
    let mut grant = lever(LeverKind::Grant {
        amount: [(fy("2022-23"), Pence::from_pounds(250_000))].into(),
    });
    grant.timing = Timing::ALWAYS;
    let mut post = lever(LeverKind::InvestToSave);
    post.cost = [(fy("2023-24"), Pence::from_pounds(40_000))].into();
    let r = run_on(
        &la(),
        &scenario(vec![vec![grant], vec![post]], ScenarioEngine::Analytic),
    );
    let (u, m) = (&r.unmitigated.ledger, &r.mitigated.ledger);
    assert_eq!(m[0].in_year - u[0].in_year, Pence::from_pounds(250_000));
    assert_eq!(u[1].in_year - m[1].in_year, Pence::from_pounds(40_000));
    assert_eq!(r.initiatives[0].income, Pence::from_pounds(250_000));
    assert_eq!(r.initiatives[1].net_saving, Pence::from_pounds(-40_000));
}

#[test]
fn redirection_conserves_children() {
    let h = la();
    let params = fit_reaching(&h, &FitOptions::default(), &[setting("mainstream")]).unwrap();
    let k = params.space.len();
    let (f, t) = (
        params.space.setting_index(&setting("special")).unwrap(),
        params.space.setting_index(&setting("mainstream")).unwrap(),
    );
    let mut redirect = vec![Vec::new(); k];
    let mut moved = 0;
    for (s, out) in redirect.iter_mut().enumerate() {
        let (a, n, st) = params.space.parts(s);
        let target = params.space.index(a, n, t);
        if st == f && !params.outcomes.edges(target).is_empty() {
            out.push((target as u32, 0.6));
            moved += 1;
        }
    }
    assert!(moved > 0);
    let e = Effects {
        steps: vec![StepEffects {
            joiner_redirect: redirect.clone(),
            mover_redirect: redirect,
            ..StepEffects::default()
        }],
    };
    let plain = analytic::expected_counts(&params, 1);
    let sent = analytic::expected_counts_with(&params, 1, &e);
    let total = |v: &[f64]| v.iter().sum::<f64>();
    assert!((total(&plain[1]) - total(&sent[1])).abs() < 1e-9 * total(&plain[1]));
    let at = |v: &[f64], setting: usize| -> f64 {
        v.iter()
            .enumerate()
            .filter(|(s, _)| params.space.parts(*s).2 == setting)
            .map(|(_, &x)| x)
            .sum()
    };
    assert!(
        at(&sent[1], f) < at(&plain[1], f) - 1.0,
        "arrivals in special were sent on"
    );
    // Monte-Carlo: the simulated totals' mean agrees with the analytic total.
    let mc = MonteCarloOptions {
        sims: 400,
        seed: 5,
        threads: Some(1),
    };
    let options = ProjectionOptions {
        years: 1,
        ..ProjectionOptions::default()
    };
    let sims = monte_carlo::simulate_with(&params, &options, &mc, &e, None);
    let mean = sims.rows.iter().map(|r| r[Columns::TOTAL]).sum::<f64>() / 400.0;
    let sd = (sims
        .rows
        .iter()
        .map(|r| (r[Columns::TOTAL] - mean).powi(2))
        .sum::<f64>()
        / 399.0)
        .sqrt();
    assert!((mean - total(&sent[1])).abs() < 4.0 * sd / 20.0 + 1.0);
}

#[test]
fn places_are_never_exceeded_with_an_overflow() {
    let h = la();
    let params = fit_reaching(&h, &FitOptions::default(), &[setting("mainstream")]).unwrap();
    let special = params.space.setting_index(&setting("special")).unwrap();
    let mainstream = params.space.setting_index(&setting("mainstream")).unwrap();
    let base = analytic::expected_counts(&params, 0)[0]
        .iter()
        .enumerate()
        .filter(|(s, _)| params.space.parts(*s).2 == special)
        .map(|(_, &x)| x)
        .sum::<f64>();
    let places = (base * 0.7).round() as u64;
    let limit = PlaceLimit {
        setting: special,
        places: places as f64,
        overflow: mainstream,
        expected_excess: None,
    };
    let e = Effects {
        steps: (0..4)
            .map(|_| StepEffects {
                places: vec![limit.clone()],
                ..StepEffects::default()
            })
            .collect(),
    };
    let options = ProjectionOptions {
        years: 4,
        ..ProjectionOptions::default()
    };
    let mc = MonteCarloOptions {
        sims: 200,
        seed: 9,
        threads: Some(1),
    };
    let sims = monte_carlo::simulate_with(&params, &options, &mc, &e, None);
    let cols = Columns::of(&params);
    let width = sims.width();
    for row in &sims.rows {
        for h in 0..4 {
            assert!(row[h * width + cols.setting(special)] <= places as f64);
        }
    }
    let means = analytic::expected_counts_with(&params, 4, &e);
    for m in &means[1..] {
        let at: f64 = m
            .iter()
            .enumerate()
            .filter(|(s, _)| params.space.parts(*s).2 == special)
            .map(|(_, &x)| x)
            .sum();
        assert!(at <= places as f64 + 1e-6);
    }
}

#[test]
fn engines_agree_on_mitigated_means() {
    let h = la();
    let levers = vec![
        vec![lever(LeverKind::JoinerRate {
            change: Change::new(-0.2).unwrap(),
            cohort: Cohort::default(),
        })],
        vec![lever(LeverKind::LeaverRate {
            change: Change::new(0.15).unwrap(),
            cohort: Cohort::default(),
        })],
        vec![lever(LeverKind::Redirect {
            from: setting("special"),
            to: setting("mainstream"),
            share: Share::new(0.4).unwrap(),
            joiners: true,
            movers: true,
            cohort: Cohort::default(),
        })],
    ];
    let s = scenario(levers, ScenarioEngine::MonteCarlo);
    let params = fit_reaching(&h, &FitOptions::default(), &settings_reached(&s)).unwrap();
    let compiler = compile::Compiler::new(&params, &s, 4);
    let e = compiler.effects(&[true, true, true], 4);
    let options = ProjectionOptions {
        years: 4,
        ..ProjectionOptions::default()
    };
    let a = analytic::project_with(&params, &options, &e);
    let mc = MonteCarloOptions {
        sims: 2000,
        seed: 4,
        threads: None,
    };
    let m = monte_carlo::project_with(&params, &options, &mc, &e);
    for (x, y) in a.census_years.iter().zip(&m.census_years) {
        let se = y.total.sd / (2000f64).sqrt();
        assert!(
            (x.total.mean - y.total.mean).abs() < 4.0 * se + 0.5,
            "{}: analytic {} vs Monte-Carlo {} (se {se})",
            x.census_year,
            x.total.mean,
            y.total.mean
        );
    }
}

fn any_lever() -> impl Strategy<Value = Lever> {
    let change = (-0.5f64..0.5).prop_map(|c| Change::new(c).unwrap());
    let start = (2019i32..2024, 1u32..=12).prop_map(|(y, m)| YearMonth::new(y, m).unwrap());
    let kind = prop_oneof![
        (change.clone(), 0..3usize).prop_map(|(change, n)| LeverKind::JoinerRate {
            change,
            cohort: Cohort {
                needs: [
                    vec![],
                    vec!["ASD".parse().unwrap()],
                    vec!["SEMH".parse().unwrap()]
                ][n]
                    .clone(),
                ..Cohort::default()
            }
        }),
        change.clone().prop_map(|change| LeverKind::LeaverRate {
            change,
            cohort: Cohort::default()
        }),
        change.prop_map(|change| LeverKind::UnitCost {
            change,
            cohort: Cohort {
                settings: vec![setting("special")],
                ..Cohort::default()
            }
        }),
        (0.0f64..1.0, any::<bool>()).prop_map(|(share, movers)| LeverKind::Redirect {
            from: setting("special"),
            to: setting("mainstream"),
            share: Share::new(share).unwrap(),
            joiners: true,
            movers,
            cohort: Cohort::default(),
        }),
        (-40i64..80).prop_map(|places| LeverKind::Capacity {
            setting: setting("special"),
            places,
            overflow: Some(setting("mainstream")),
        }),
    ];
    (kind, start, 0u32..24, 0i64..100_000).prop_map(|(kind, start, ramp, cost)| Lever {
        kind,
        timing: Timing::new(start, ramp, None).unwrap(),
        cost: [(fy("2022-23"), Pence::from_pounds(cost))].into(),
        description: String::new(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Attributions add up to the total saving to the penny, per year and in total, whatever the levers; and the
    /// total is the unmitigated less the mitigated expenditure.
    #[test]
    fn savings_add_up_to_the_penny(levers in proptest::collection::vec(proptest::collection::vec(any_lever(), 1..3), 1..6)) {
        let r = run_on(&la(), &scenario(levers, ScenarioEngine::Analytic));
        let attributed: i64 = r.initiatives.iter().map(|i| i.saving.pence()).sum();
        let direct: i64 = r.unmitigated.ledger.iter().zip(&r.mitigated.ledger)
            .map(|(u, m)| u.expenditure.pence() - m.expenditure.pence()).sum();
        prop_assert_eq!(attributed, r.total_saving.pence());
        prop_assert_eq!(direct, r.total_saving.pence());
        for (k, row) in r.unmitigated.ledger.iter().zip(&r.mitigated.ledger).enumerate() {
            let by_year: i64 = r.initiatives.iter().map(|i| i.saving_by_financial_year[k].1.pence()).sum();
            prop_assert_eq!(by_year, row.0.expenditure.pence() - row.1.expenditure.pence());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// The unmitigated side reads no initiative: computed once on the scenario without its initiatives (as the
    /// workspace caches it), it gives exactly the run computed whole, whatever the levers.
    #[test]
    fn the_unmitigated_side_does_not_depend_on_the_initiatives(levers in proptest::collection::vec(proptest::collection::vec(any_lever(), 1..3), 1..5)) {
        let h = la();
        let s = scenario(levers, ScenarioEngine::Analytic);
        let params = fit_reaching(&h, &FitOptions::default(), &settings_reached(&s)).unwrap();
        let budget = budget();
        let inputs = ScenarioInputs { params: &params, history: &h, budget: &budget, scenario: &s, threads: Some(1), progress: None };
        let whole = run_attributing(&inputs, Attributing::Later).unwrap();
        let mut bare = s.clone();
        bare.initiatives.clear();
        let side = unmitigated_side(&ScenarioInputs { scenario: &bare, ..inputs }).unwrap();
        let parts = run_with_unmitigated(&inputs, Attributing::Later, &side).unwrap();
        prop_assert_eq!(parts, whole);
    }
}

#[test]
fn census_of_projected_years() {
    let params = fit_reaching(&la(), &FitOptions::default(), &[]).unwrap();
    assert_eq!(params.base_census, CensusYear::new(2021).unwrap());
}

/// Parameters fitted once for the property tests below (reaching mainstream).
fn reaching_mainstream() -> &'static Parameters {
    static P: std::sync::OnceLock<Parameters> = std::sync::OnceLock::new();
    P.get_or_init(|| fit_reaching(&la(), &FitOptions::default(), &[setting("mainstream")]).unwrap())
}

fn setting_total(params: &Parameters, v: &[f64], setting: usize) -> f64 {
    v.iter()
        .enumerate()
        .filter(|(s, _)| params.space.parts(*s).2 == setting)
        .map(|(_, &x)| x)
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Whatever share of joiners and/or movers is redirected, and whatever places are enforced with an overflow,
    /// no child is lost or made: every projected census holds as many children as without the levers, in the means;
    /// and every Monte-Carlo simulation stays within the places.
    #[test]
    fn redirection_and_overflow_conserve_children(
        share in 0.0f64..1.0,
        joiners in any::<bool>(),
        movers in any::<bool>(),
        fraction in 0.3f64..1.5,
        seed in 0u64..1000,
    ) {
        let params = reaching_mainstream();
        let k = params.space.len();
        let special = params.space.setting_index(&setting("special")).unwrap();
        let mainstream = params.space.setting_index(&setting("mainstream")).unwrap();
        let mut redirect = vec![Vec::new(); k];
        for (s, out) in redirect.iter_mut().enumerate() {
            let (a, n, st) = params.space.parts(s);
            let target = params.space.index(a, n, mainstream);
            if st == special && !params.outcomes.edges(target).is_empty() {
                out.push((target as u32, share));
            }
        }
        let base = setting_total(params, &analytic::expected_counts(params, 0)[0], special);
        let places = (base * fraction).round() as u64;
        let step = StepEffects {
            joiner_redirect: if joiners { redirect.clone() } else { Vec::new() },
            mover_redirect: if movers { redirect } else { Vec::new() },
            places: vec![PlaceLimit { setting: special, places: places as f64, overflow: mainstream, expected_excess: None }],
            ..StepEffects::default()
        };
        // One year: the levers only relabel where children are, so the total is the unmitigated one.
        let e = Effects { steps: vec![step.clone()] };
        let plain = analytic::expected_counts(params, 1);
        let moved = analytic::expected_counts_with(params, 1, &e);
        let total = |v: &[f64]| v.iter().sum::<f64>();
        prop_assert!((total(&plain[1]) - total(&moved[1])).abs() < 1e-9 * total(&plain[1]));
        prop_assert!(setting_total(params, &moved[1], special) <= places as f64 + 1e-6);
        let options = ProjectionOptions { years: 3, ..ProjectionOptions::default() };
        let mc = MonteCarloOptions { sims: 20, seed, threads: Some(1) };
        let sims = monte_carlo::simulate_with(params, &options, &mc, &Effects { steps: vec![step; 3] }, None);
        let cols = Columns::of(params);
        let width = sims.width();
        for row in &sims.rows {
            for h in 0..3 {
                prop_assert!(row[h * width + cols.setting(special)] <= places as f64);
            }
        }
    }
}

/// A unit-cost change from April saves nothing in the financial year before it (review finding: the academic
/// year's mean multiplier used to leak September-March savings into the earlier year).
#[test]
fn a_unit_cost_change_from_april_saves_nothing_before_april() {
    let mut cut = lever(LeverKind::UnitCost {
        change: Change::new(-0.1).unwrap(),
        cohort: Cohort::default(),
    });
    cut.timing = Timing::new("2023-04".parse().unwrap(), 0, None).unwrap();
    let r = run_on(&la(), &scenario(vec![vec![cut]], ScenarioEngine::Analytic));
    let by_year = &r.initiatives[0].saving_by_financial_year;
    assert_eq!(by_year[0], (fy("2022-23"), Pence::ZERO));
    // From April 2023 every placement costs 10 % less: the saving is a tenth of the unmitigated placement cost.
    for (k, (year, saving)) in by_year.iter().enumerate().skip(1) {
        let placement = r.unmitigated.ledger[k].placement.pence();
        assert_eq!(r.unmitigated.ledger[k].financial_year, *year);
        assert!(
            (saving.pence() - placement / 10).abs() <= 1,
            "{year}: {saving} of {placement}"
        );
    }
}

/// A capacity lever that adds no places, or starts after the horizon, changes nothing in either engine (review
/// finding: a limit at the mean used to clip every simulation above it).
#[test]
fn capacity_that_adds_nothing_changes_nothing_in_either_engine() {
    for (places, start) in [(0, "2022-09"), (40, "2040-09")] {
        let mut l = lever(LeverKind::Capacity {
            setting: setting("special"),
            places,
            overflow: Some(setting("mainstream")),
        });
        l.timing = Timing::new(start.parse().unwrap(), 0, None).unwrap();
        let r = run_on(&la(), &scenario(vec![vec![l]], ScenarioEngine::MonteCarlo));
        assert_eq!(
            r.unmitigated.ledger, r.mitigated.ledger,
            "{places} places from {start}"
        );
        assert_eq!(
            r.unmitigated.forecast.census_years,
            r.mitigated.forecast.census_years
        );
    }
}

#[test]
fn engines_agree_with_capacity_and_unit_cost_levers() {
    let h = la();
    let levers = vec![
        vec![
            lever(LeverKind::Capacity {
                setting: setting("mainstream"),
                places: 25,
                overflow: Some(setting("special")),
            }),
            lever(LeverKind::Redirect {
                from: setting("special"),
                to: setting("mainstream"),
                share: Share::new(0.7).unwrap(),
                joiners: true,
                movers: true,
                cohort: Cohort::default(),
            }),
        ],
        vec![lever(LeverKind::UnitCost {
            change: Change::new(-0.1).unwrap(),
            cohort: Cohort::default(),
        })],
    ];
    let s = scenario(levers, ScenarioEngine::MonteCarlo);
    let params = fit_reaching(&h, &FitOptions::default(), &settings_reached(&s)).unwrap();
    let compiler = compile::Compiler::new(&params, &s, 4);
    let options = ProjectionOptions {
        years: 4,
        ..ProjectionOptions::default()
    };
    let a = analytic::project_with(&params, &options, &compiler.effects(&[true, true], 4));
    let mc = MonteCarloOptions {
        sims: 2000,
        seed: 8,
        threads: None,
    };
    let m = monte_carlo::project_with(
        &params,
        &options,
        &mc,
        &compiler.effects_for_simulation(&[true, true], 4),
    );
    let cols = |c: &crate::forecast::CensusForecast| -> Vec<(f64, f64)> {
        c.by_setting.iter().map(|(_, s)| (s.mean, s.sd)).collect()
    };
    for (x, y) in a.census_years.iter().zip(&m.census_years) {
        for ((am, _), (mm, msd)) in cols(x).into_iter().zip(cols(y)) {
            let se = msd / (2000f64).sqrt();
            assert!(
                (am - mm).abs() < 4.0 * se + 1.0,
                "{}: analytic {am} vs Monte-Carlo {mm} (se {se})",
                x.census_year
            );
        }
    }
    for (x, y) in a.financial_years.iter().zip(&m.financial_years) {
        let (am, mm) = (x.mean.pence() as f64, y.mean.pence() as f64);
        let se = y.sd.pence() as f64 / (2000f64).sqrt();
        assert!(
            (am - mm).abs() < 4.0 * se + 1.0,
            "{}: cost {am} vs {mm}",
            x.financial_year
        );
    }
}

/// The order initiatives are listed in does not change what each is credited with (to the penny, but for the
/// rounding of an exact tie, which goes to the earlier initiative: at most a penny a year).
#[test]
fn reordering_initiatives_keeps_their_savings() {
    let a = vec![lever(LeverKind::JoinerRate {
        change: Change::new(-0.2).unwrap(),
        cohort: Cohort::default(),
    })];
    let b = vec![lever(LeverKind::LeaverRate {
        change: Change::new(0.2).unwrap(),
        cohort: Cohort::default(),
    })];
    let c = vec![lever(LeverKind::UnitCost {
        change: Change::new(-0.05).unwrap(),
        cohort: Cohort {
            settings: vec![setting("special")],
            ..Cohort::default()
        },
    })];
    let forward = run_on(
        &la(),
        &scenario(
            vec![a.clone(), b.clone(), c.clone()],
            ScenarioEngine::Analytic,
        ),
    );
    let backward = run_on(&la(), &scenario(vec![c, b, a], ScenarioEngine::Analytic));
    for (i, j) in [(0, 2), (1, 1), (2, 0)] {
        for (x, y) in forward.initiatives[i]
            .saving_by_financial_year
            .iter()
            .zip(&backward.initiatives[j].saving_by_financial_year)
        {
            assert!((x.1.pence() - y.1.pence()).abs() <= 1, "{x:?} vs {y:?}");
        }
    }
    assert_eq!(forward.total_saving, backward.total_saving);
}

/// The target check worked by hand on three simulations of two years: in-year positions (pence) −10, 5, 20 in the
/// target year (the second), contributions 0; opening −30.
#[test]
fn probabilities_worked_by_hand() {
    let row = |fy_: &str, opening: i64| LedgerYear {
        financial_year: fy(fy_),
        placement: Pence::ZERO,
        other_expenditure: Pence::ZERO,
        expenditure: Pence::ZERO,
        initiative_cost: Pence::ZERO,
        allocation: Pence::ZERO,
        block_transfers: Pence::ZERO,
        grants: Pence::ZERO,
        deductions: Pence::ZERO,
        income: Pence::ZERO,
        in_year: Pence::new(5),
        contributions: Pence::ZERO,
        opening: Pence::new(opening),
        closing: Pence::ZERO,
        total_dsg: None,
        deficit_share_of_dsg: None,
    };
    let ledger = vec![row("2025-26", -30), row("2026-27", 0)];
    // Year 1: 10, 20, 40; year 2: −10, 5, 20. Closings: −30+10−10 = −30, −30+20+5 = −5, −30+40+20 = 30.
    let samples = vec![vec![10.0, 20.0, 40.0], vec![-10.0, 5.0, 20.0]];
    let (_, balanced, cleared, gap) = from_samples(&ledger, &samples, 1, &ScenarioMoney::default());
    assert!((balanced - 2.0 / 3.0).abs() < 1e-12);
    assert!((cleared - 1.0 / 3.0).abs() < 1e-12);
    // Gaps 10, −5, −20: mean −5; numpy's linear 5 % point −20 + 0.1 × 15 = −18.5, 95 % point −5 + 0.9 × 15 = 8.5.
    assert!(
        (gap.0 + 5.0).abs() < 1e-12 && (gap.1 + 18.5).abs() < 1e-12 && (gap.2 - 8.5).abs() < 1e-9,
        "{gap:?}"
    );
    // Normal: in-year 5 with sd 5 in the target year → Φ(1) = 0.8413; closing 0 → 0.5.
    let (_, p, q, _) = from_normal(&ledger, &[5.0, 5.0], 1);
    assert!((p - 0.841_344_7).abs() < 1e-6, "{p}");
    assert!((q - 0.5).abs() < 1e-6, "{q}");
}

/// Years between the budget's last actual year and the forecast are not silently skipped (review finding).
#[test]
fn a_gap_between_the_budget_and_the_forecast_is_refused() {
    let h = la();
    let s = scenario(vec![], ScenarioEngine::Analytic);
    let params = fit_reaching(&h, &FitOptions::default(), &[]).unwrap();
    let old: Vec<BudgetLine> = budget()
        .into_iter()
        .filter(|l| l.financial_year == fy("2020-21"))
        .map(|mut l| {
            l.financial_year = fy("2019-20");
            l
        })
        .collect();
    let e = run(&ScenarioInputs {
        params: &params,
        history: &h,
        budget: &old,
        scenario: &s,
        threads: Some(1),
        progress: None,
    })
    .unwrap_err();
    assert!(
        e.to_string().contains(
            "the budget's last actual year is 2019-20 but the forecast starts at 2021-22"
        ),
        "{e}"
    );
    assert_eq!(projected_financial_years(params.base_census, 4, &old), None);
    assert_eq!(
        projected_financial_years(params.base_census, 4, &budget()),
        Some((fy("2022-23"), fy("2024-25")))
    );
}

#[test]
fn money_outside_the_projected_years_is_named() {
    let mut grant = lever(LeverKind::Grant {
        amount: [
            (fy("2021-22"), Pence::from_pounds(500_000)),
            (fy("2022-23"), Pence::from_pounds(500_000)),
        ]
        .into(),
    });
    grant.timing = Timing::ALWAYS;
    let r = run_on(
        &la(),
        &scenario(vec![vec![grant]], ScenarioEngine::Analytic),
    );
    assert_eq!(r.initiatives[0].income, Pence::from_pounds(500_000));
    assert!(
        r.notes.iter().any(|n| n == "initiative 0: £500,000.00 in 2021-22 is outside the projected years (2022-23 to 2024-25) and not counted"),
        "{:?}",
        r.notes
    );
}

/// The progress counter a page shows while Monte-Carlo runs: every simulation of both sides counted once, the
/// result unchanged by counting; the analytic engine counts nothing.
#[test]
fn the_progress_counter_counts_each_side_s_simulations_once() {
    let h = la();
    let mut lever_a = lever(LeverKind::JoinerRate {
        change: Change::new(-0.1).unwrap(),
        cohort: Cohort::default(),
    });
    lever_a.timing = Timing::new("2022-09".parse().unwrap(), 0, None).unwrap();
    for (engine, expected) in [
        (ScenarioEngine::MonteCarlo, 2 * 37),
        (ScenarioEngine::Analytic, 0),
    ] {
        let mut s = scenario(vec![vec![lever_a.clone()]], engine);
        s.assumptions.sims = 37;
        let params = fit_reaching(&h, &FitOptions::default(), &settings_reached(&s)).unwrap();
        let done = AtomicU64::new(0);
        let inputs = ScenarioInputs {
            params: &params,
            history: &h,
            budget: &budget(),
            scenario: &s,
            threads: Some(2),
            progress: Some(&done),
        };
        let counted = run(&inputs).unwrap();
        assert_eq!(done.load(Ordering::Relaxed), expected, "{engine:?}");
        let uncounted = run(&ScenarioInputs {
            progress: None,
            ..inputs
        })
        .unwrap();
        assert_eq!(counted.mitigated.ledger, uncounted.mitigated.ledger);
        assert_eq!(counted.total_saving, uncounted.total_saving);
    }
}
