//! Properties of generated LAs: size, growth, conservation, ageing, validity, joiner and leaver patterns,
//! national mix, budget, determinism.

use std::collections::BTreeMap;
use std::time::Instant;

use highneeds_domain::{BudgetKind, CensusYear, Pence, TransitionKind};
use highneeds_synth::calibration::{
    age_shares_2022, setting_shares_2022, NEED_CODES, NEED_SHARES_2024,
};
use highneeds_synth::{generate, generate_la, la_sizes, SynthConfig, SyntheticLa};
use proptest::prelude::*;

fn config(plans: u32, seed: u64) -> SynthConfig {
    SynthConfig {
        plans,
        seed,
        ..SynthConfig::default()
    }
}

fn year(y: i32) -> CensusYear {
    CensusYear::new(y).unwrap()
}

fn censuses(la: &SyntheticLa) -> Vec<CensusYear> {
    let mut y = la.first_census;
    let mut out = vec![y];
    while y < la.last_census {
        y = y.next();
        out.push(y);
    }
    out
}

/// The last census lands within ±1.5 % of the asked size or one Poisson sd, whichever is wider (the
/// generator's rule: its dynamics are natural every year, so the size is not forced exactly).
fn tolerance(plans: u32) -> f64 {
    (0.015 * f64::from(plans)).max(f64::from(plans).sqrt())
}

fn assert_near(got: usize, want: u32) {
    assert!(
        (got as f64 - f64::from(want)).abs() <= tolerance(want),
        "{got} plans, asked {want}"
    );
}

#[test]
fn exampleshire_defaults() {
    let la = generate_la(&SynthConfig::default(), 0);
    assert_eq!(la.code, "E99999999");
    assert_eq!(la.name, "Exampleshire");
    assert_eq!(la.first_census, year(2015));
    assert_eq!(la.last_census, year(2024));
    assert_near(la.plans_at(year(2024)), 2_150);
    assert!(la.histories[0].child.as_str().starts_with("EX"));
    assert_eq!(la.histories[0].child.as_str().len(), 8);
    // Roughly 70,000 residents aged 0-25 for 2,150 plans.
    let residents: u64 = la
        .population
        .iter()
        .filter(|p| p.census_year == year(2024))
        .map(|p| p.population)
        .sum();
    assert!((50_000..95_000).contains(&residents), "{residents}");
    // Population for every census and five projected years, every NCY.
    assert_eq!(la.population.len(), (10 + 5) * 26);
    assert!(la.population.iter().any(|p| p.census_year == year(2029)));
}

#[test]
fn deterministic_for_a_seed() {
    let a = generate_la(&config(400, 7), 0);
    let b = generate_la(&config(400, 7), 0);
    assert_eq!(a, b);
    let c = generate_la(&config(400, 8), 0);
    assert_ne!(a.histories, c.histories);
    assert_ne!(a.budget, c.budget);
}

#[test]
fn last_census_has_the_requested_size() {
    for plans in [50, 2_150, 20_000] {
        for seed in [1, 2] {
            let la = generate_la(&config(plans, seed), 0);
            let got = la.plans_at(la.last_census) as f64;
            let want = f64::from(plans);
            assert!(
                (got - want).abs() <= tolerance(plans),
                "{plans} seed {seed}: {got}"
            );
        }
    }
}

#[test]
fn several_las_sum_to_the_requested_size() {
    let cfg = SynthConfig {
        plans: 12_000,
        seed: 3,
        las: 6,
        ..SynthConfig::default()
    };
    let sizes = la_sizes(&cfg);
    assert_eq!(sizes.len(), 6);
    assert_eq!(sizes.iter().sum::<u32>(), 12_000);
    assert!(sizes.iter().max() > sizes.iter().min(), "{sizes:?}");
    let las = generate(&cfg);
    let total: usize = las.iter().map(|la| la.plans_at(la.last_census)).sum();
    assert!((total as f64 - 12_000.0).abs() <= 120.0, "{total}");
    let codes: Vec<&str> = las.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(codes[0], "E99000001");
    assert_eq!(codes[5], "E99000006");
    let mut names: Vec<&str> = las.iter().map(|l| l.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 6);
    // Generating one LA alone gives the same LA.
    assert_eq!(generate_la(&cfg, 4), las[4]);
    // A national-sized split: realistic spread.
    let national = la_sizes(&SynthConfig {
        plans: 640_000,
        las: 153,
        ..SynthConfig::default()
    });
    assert_eq!(national.iter().sum::<u32>(), 640_000);
    let (min, max) = (
        *national.iter().min().unwrap(),
        *national.iter().max().unwrap(),
    );
    assert!(min >= 300 && max <= 25_000 && max > 8_000, "{min}..{max}");
}

#[test]
fn caseload_grows_like_england() {
    for seed in [1, 2, 3] {
        let la = generate_la(&config(20_000, seed), 0);
        let first = la.plans_at(la.first_census) as f64;
        let last = la.plans_at(la.last_census) as f64;
        let years = f64::from(la.last_census.year() - la.first_census.year());
        let cagr = (last / first).powf(1.0 / years) - 1.0;
        assert!((0.08..=0.11).contains(&cagr), "seed {seed}: cagr {cagr}");
    }
}

#[test]
fn joiner_rates_per_head_trend_upward() {
    let la = generate_la(&config(20_000, 1), 0);
    let th = la.transition_history();
    let pop = |y: CensusYear| -> f64 {
        la.population
            .iter()
            .filter(|p| p.census_year == y)
            .map(|p| p.population as f64)
            .sum()
    };
    let rate = |from: CensusYear| -> f64 {
        let joiners = th
            .transitions
            .iter()
            .filter(|t| t.from_census == from && t.kind() == Some(TransitionKind::Joiner))
            .count() as f64;
        joiners / pop(from.next())
    };
    let early = (rate(year(2015)) + rate(year(2016)) + rate(year(2017))) / 3.0;
    let late = (rate(year(2020)) + rate(year(2021)) + rate(year(2022))) / 3.0;
    let trend = (late / early).powf(1.0 / 5.0) - 1.0;
    assert!((0.04..0.12).contains(&trend), "joiner rate trend {trend}");
}

#[test]
fn children_are_conserved_and_age_one_ncy_a_year() {
    let la = generate_la(&config(2_150, 5), 0);
    let th = la.transition_history();
    let years = censuses(&la);
    for w in years.windows(2) {
        let (a, b) = (w[0], w[1]);
        let ts: Vec<_> = th
            .transitions
            .iter()
            .filter(|t| t.from_census == a)
            .collect();
        let joiners = ts
            .iter()
            .filter(|t| t.kind() == Some(TransitionKind::Joiner))
            .count();
        let leavers = ts
            .iter()
            .filter(|t| t.kind() == Some(TransitionKind::Leaver))
            .count();
        assert_eq!(
            la.plans_at(a) + joiners - leavers,
            la.plans_at(b),
            "{a}→{b}"
        );
        for t in &ts {
            if let (Some(x), Some(y)) = (&t.before, &t.after) {
                assert_eq!(y.ncy.value(), x.ncy.value() + 1);
            }
        }
    }
    for h in &la.histories {
        let r = h.records();
        assert!(!r.is_empty());
        for w in r.windows(2) {
            // No gaps: a plan, once ceased, does not come back.
            assert_eq!(w[1].census_year, w[0].census_year.next(), "{}", h.child);
            assert_eq!(w[1].state.ncy.value(), w[0].state.ncy.value() + 1);
        }
    }
}

#[test]
fn every_state_is_valid() {
    let la = generate_la(&config(3_000, 9), 0);
    assert_eq!(la.valid_states.len(), 12);
    for h in &la.histories {
        for (i, r) in h.records().iter().enumerate() {
            let row = la
                .valid_states
                .iter()
                .find(|v| v.setting == r.state.setting)
                .unwrap_or_else(|| panic!("no valid-states row for {}", r.state.setting));
            assert!(
                row.allows(r.state.ncy, &r.state.need),
                "{} {:?}",
                h.child,
                r.state
            );
            assert!(r.state.need.sen2().is_some());
            let no_urn = matches!(r.state.setting.as_str(), "neet" | "eotas_ehe" | "other");
            assert_eq!(r.urn.is_none(), no_urn, "{:?}", r);
            if let Some(next) = h.records().get(i + 1) {
                if next.state.setting != r.state.setting {
                    assert!(
                        row.moves_to.contains(&next.state.setting),
                        "{:?} → {:?}",
                        r.state,
                        next.state
                    );
                }
            }
        }
    }
    for u in &la.costs {
        let pounds = u.annual.pence() / 100;
        if u.setting.as_str() == "neet" {
            assert_eq!(u.annual, Pence::ZERO);
        } else {
            assert!((3_000..150_000).contains(&pounds), "{u:?}");
        }
    }
    assert_eq!(la.costs.len(), 144);
}

#[test]
fn joiners_cluster_at_transition_years_and_leavers_are_older() {
    let la = generate_la(&config(20_000, 2), 0);
    let th = la.transition_history();
    let mut joiners = BTreeMap::<i32, f64>::new();
    let mut leavers = BTreeMap::<i32, f64>::new();
    for t in &th.transitions {
        match (&t.before, &t.after) {
            (None, Some(s)) => *joiners.entry(s.ncy.value()).or_default() += 1.0,
            (Some(s), None) => *leavers.entry(s.ncy.value()).or_default() += 1.0,
            _ => {}
        }
    }
    let mean = |ncys: &[i32]| {
        ncys.iter()
            .map(|n| joiners.get(n).copied().unwrap_or(0.0))
            .sum::<f64>()
            / ncys.len() as f64
    };
    let transition = mean(&[-1, 0, 6, 7]);
    let other = mean(&[2, 3, 4, 5, 8, 9, 10]);
    assert!(
        transition > 1.5 * other,
        "transition {transition} vs other {other}"
    );
    assert!(mean(&[11, 12]) > 1.5 * mean(&[13, 14]));
    let total_leavers: f64 = leavers.values().sum();
    let older: f64 = leavers.range(12..).map(|(_, v)| v).sum();
    assert!(older / total_leavers > 0.6, "{older} of {total_leavers}");
    // Everyone has left by NCY 20.
    assert!(th
        .transitions
        .iter()
        .all(|t| t.after.as_ref().is_none_or(|s| s.ncy.value() <= 20)));
    // Some movers, mostly mainstream → special at the phase transfer, and some need changes.
    let movers = th
        .transitions
        .iter()
        .filter(|t| t.kind() == Some(TransitionKind::Mover))
        .count();
    let need_changes = th.transitions.iter().filter(|t| t.need_changed()).count();
    let stayers = th
        .transitions
        .iter()
        .filter(|t| t.kind() == Some(TransitionKind::Stayer))
        .count();
    assert!(movers > stayers / 30, "{movers} movers, {stayers} stayers");
    let share = need_changes as f64 / (movers + stayers) as f64;
    assert!((0.005..0.04).contains(&share), "need changes {share}");
}

#[test]
fn last_census_matches_national_mix() {
    let la = generate_la(&config(20_000, 1), 0);
    let last = la.last_census;
    let recs: Vec<_> = la.histories.iter().filter_map(|h| h.at(last)).collect();
    let n = recs.len() as f64;
    let mut ages = [0.0; 5];
    let mut settings = BTreeMap::<String, f64>::new();
    let mut needs = BTreeMap::<String, f64>::new();
    for r in &recs {
        let g = match r.state.ncy.age_group().code() {
            "under_5" => 0,
            "5_10" => 1,
            "11_15" => 2,
            "16_19" => 3,
            _ => 4,
        };
        ages[g] += 1.0 / n;
        *settings.entry(r.state.setting.to_string()).or_default() += 1.0 / n;
        *needs.entry(r.state.need.to_string()).or_default() += 1.0 / n;
    }
    eprintln!("ages {ages:?}\nsettings {settings:?}\nneeds {needs:?}");
    for (got, want) in ages.iter().zip(age_shares_2022()) {
        assert!((got - want).abs() < 0.03, "ages {ages:?}");
    }
    for (c, want) in highneeds_domain::CanonicalSetting::ALL
        .iter()
        .zip(setting_shares_2022())
    {
        let got = settings.get(c.code()).copied().unwrap_or(0.0);
        assert!((got - want).abs() < 0.03, "{c}: {got} vs {want}");
    }
    for (code, want) in NEED_CODES.iter().zip(NEED_SHARES_2024) {
        let got = needs.get(*code).copied().unwrap_or(0.0);
        assert!((got - want).abs() < 0.03, "{code}: {got} vs {want}");
    }
}

#[test]
fn budget_looks_like_a_deficit_la() {
    let la = generate_la(&SynthConfig::default(), 0);
    let fys: Vec<_> = {
        let mut v: Vec<_> = la.budget.iter().map(|b| b.financial_year).collect();
        v.dedup();
        v
    };
    assert_eq!(fys.len(), 6);
    assert_eq!(fys[0].to_string(), "2019-20");
    assert_eq!(fys[5].to_string(), "2024-25");
    let sum = |fy, kind| -> Pence {
        la.budget
            .iter()
            .filter(|b| b.financial_year == fy && b.kind == kind)
            .map(|b| b.amount)
            .sum()
    };
    let opening: Vec<_> = la
        .budget
        .iter()
        .filter(|b| b.kind == BudgetKind::OpeningBalance)
        .collect();
    assert_eq!(opening.len(), 1);
    assert!(opening[0].amount.is_negative());
    assert_eq!(opening[0].financial_year, fys[0]);
    let last = fys[5];
    let spend = sum(last, BudgetKind::Expenditure);
    let allocation = sum(last, BudgetKind::Allocation);
    // West Berkshire / Stockton scale: HNB spend roughly £35-45m for about 2,150 plans.
    assert!(
        (Pence::from_pounds(33_000_000)..Pence::from_pounds(48_000_000)).contains(&spend),
        "{spend}"
    );
    for &fy in &fys[2..] {
        assert!(
            sum(fy, BudgetKind::Expenditure) > sum(fy, BudgetKind::Allocation),
            "{fy}"
        );
    }
    // Allocation grows 5-8 % a year; spend grows faster.
    let growth = |kind| {
        (sum(last, kind).as_pounds_f64() / sum(fys[0], kind).as_pounds_f64()).powf(0.2) - 1.0
    };
    let ag = growth(BudgetKind::Allocation);
    assert!((0.049..0.081).contains(&ag), "{ag}");
    assert!(growth(BudgetKind::Expenditure) > ag);
    assert!(sum(last, BudgetKind::TotalDsg).pence() > allocation.pence() * 4);
    assert!(sum(last, BudgetKind::Deduction) > Pence::ZERO);
    assert!(la.budget.iter().all(|b| b.amount.pence() % 100 == 0));
    assert!(la
        .budget
        .iter()
        .filter(|b| b.kind == BudgetKind::Expenditure)
        .all(|b| !b.amount.is_negative()));
}

#[test]
fn fewer_censuses_and_other_years() {
    let cfg = SynthConfig {
        plans: 1_000,
        censuses: 8,
        last_census: year(2022),
        ..SynthConfig::default()
    };
    let la = generate_la(&cfg, 0);
    assert_eq!(la.first_census, year(2015));
    assert_near(la.plans_at(year(2022)), 1_000);
    assert_eq!(la.plans_at(year(2023)), 0);
    // `censuses` below 8 is raised to 8.
    let la = generate_la(
        &SynthConfig {
            censuses: 3,
            ..cfg.clone()
        },
        0,
    );
    assert_eq!(la.first_census, year(2015));
    // More censuses: still the right size, still growing.
    let la = generate_la(
        &SynthConfig {
            censuses: 14,
            last_census: year(2024),
            ..cfg.clone()
        },
        0,
    );
    assert_eq!(la.first_census, year(2011));
    assert_near(la.plans_at(year(2024)), 1_000);
    assert!(la.plans_at(year(2011)) < 500);
    // Never before the first year the domain accepts.
    let early = SynthConfig {
        last_census: year(1995),
        ..cfg
    };
    assert_eq!(early.census_count(), 6);
    let la = generate_la(&early, 0);
    assert_eq!(la.first_census, year(1990));
    assert_near(la.plans_at(year(1995)), 1_000);
}

#[test]
fn generation_is_fast() {
    let start = Instant::now();
    let la = generate_la(&SynthConfig::default(), 0);
    let elapsed = start.elapsed();
    eprintln!(
        "2,150-plan LA in {elapsed:?} ({} histories)",
        la.histories.len()
    );
    // Generous bound for unoptimised test builds on a busy machine.
    assert!(elapsed.as_millis() < 500, "{elapsed:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn conservation_for_any_seed_and_size(seed in 0u64..1_000_000, plans in 1u32..400) {
        let la = generate_la(&config(plans, seed), 0);
        let th = la.transition_history();
        for w in censuses(&la).windows(2) {
            let ts = th.transitions.iter().filter(|t| t.from_census == w[0]);
            let (mut j, mut l) = (0usize, 0usize);
            for t in ts {
                match t.kind() {
                    Some(TransitionKind::Joiner) => j += 1,
                    Some(TransitionKind::Leaver) => l += 1,
                    _ => {}
                }
            }
            prop_assert_eq!(la.plans_at(w[0]) + j - l, la.plans_at(w[1]));
        }
        let got = la.plans_at(la.last_census) as f64;
        prop_assert!((got - f64::from(plans)).abs() <= tolerance(plans), "{} vs {}", got, plans);
    }
}

/// A whole country, one LA at a time (run with `--ignored`; prints the time).
#[test]
#[ignore]
fn national_set_timing() {
    let cfg = SynthConfig {
        plans: 640_000,
        las: 153,
        ..SynthConfig::default()
    };
    let start = Instant::now();
    let mut total = 0;
    let mut records = 0;
    for i in 0..cfg.las {
        let la = generate_la(&cfg, i);
        total += la.plans_at(la.last_census);
        records += la
            .histories
            .iter()
            .map(|h| h.records().len())
            .sum::<usize>();
    }
    eprintln!(
        "640,000 plans in 153 LAs: {:?} ({records} census records)",
        start.elapsed()
    );
    assert!((total as f64 - 640_000.0).abs() < 6_400.0, "{total}");
}
