//! Engine tests on small histories built here (no files): agreement of the engines, conservation of
//! children, reproducibility, and bad-history errors.

use highneeds_domain::{
    CensusYear, Ncy, Pence, PopulationCount, State, Transition, TransitionHistory, UnitCost,
};
use proptest::prelude::*;

use crate::estimate::{fit, FitOptions, JoinerTrend};
use crate::forecast::ProjectionOptions;
use crate::monte_carlo::{self, MonteCarloOptions};
use crate::{analytic, ModelError};

/// A tiny deterministic generator (64-bit LCG), enough to build test histories.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn state(ncy: i32, need: &str, setting: &str) -> State {
    State {
        ncy: Ncy::new(ncy).unwrap(),
        need: need.parse().unwrap(),
        setting: setting.parse().unwrap(),
    }
}

/// A small LA: `start` children, `years` transition years, joiners growing by `growth` a year.
pub(crate) fn history(start: usize, years: i32, growth: f64, seed: u64) -> TransitionHistory {
    history_with_leaving(start, years, growth, 0.0, seed)
}

/// As [`history`], with every leaving probability changing by `leaving_trend` a year (−0.1 = 10 % fewer).
pub(crate) fn history_with_leaving(
    start: usize,
    years: i32,
    growth: f64,
    leaving_trend: f64,
    seed: u64,
) -> TransitionHistory {
    let mut rng = Lcg(seed.wrapping_add(7));
    let needs = ["ASD", "SEMH"];
    let settings = ["mainstream", "special", "post16"];
    let mut children: Vec<State> = (0..start)
        .map(|i| {
            let ncy = (i % 15) as i32;
            let setting = if ncy >= 12 { "post16" } else { settings[i % 2] };
            state(ncy, needs[i % 2], setting)
        })
        .collect();
    let mut transitions = Vec::new();
    let first = 2015;
    for y in 0..years {
        let from = CensusYear::new(first + y).unwrap();
        let mut next = Vec::new();
        for c in &children {
            let a = c.ncy.value();
            let leave_p = (if a >= 13 { 0.35 } else { 0.04 }) * (1.0 + leaving_trend).powi(y);
            if a >= 19 || rng.next() < leave_p {
                transitions.push(Transition {
                    from_census: from,
                    before: Some(c.clone()),
                    after: None,
                });
                continue;
            }
            let setting = if a + 1 >= 12 {
                "post16"
            } else if c.setting.as_str() == "mainstream" && rng.next() < 0.06 {
                "special"
            } else {
                c.setting.as_str()
            };
            let to = state(a + 1, c.need.as_str(), setting);
            transitions.push(Transition {
                from_census: from,
                before: Some(c.clone()),
                after: Some(to.clone()),
            });
            next.push(to);
        }
        let joiners = (start as f64 * 0.12 * (1.0 + growth).powi(y)).round() as usize;
        for i in 0..joiners {
            let ncy = [0, 1, 3, 7, 7, 12][i % 6];
            let setting = if ncy >= 12 {
                "post16"
            } else if i % 3 == 0 {
                "special"
            } else {
                "mainstream"
            };
            let to = state(ncy, needs[(i / 2) % 2], setting);
            transitions.push(Transition {
                from_census: from,
                before: None,
                after: Some(to.clone()),
            });
            next.push(to);
        }
        children = next;
    }
    let population = (first..=first + years + 5)
        .flat_map(|y| {
            Ncy::all().map(move |n| PopulationCount {
                census_year: CensusYear::new(y).unwrap(),
                ncy: n,
                population: 3000,
            })
        })
        .collect();
    let costs = needs
        .iter()
        .flat_map(|n| {
            settings.iter().map(move |s| UnitCost {
                need: n.parse().unwrap(),
                setting: s.parse().unwrap(),
                annual: Pence::from_pounds(if *s == "special" { 25_000 } else { 8_000 }),
                age_group: None,
                place_funding: None,
            })
        })
        .collect();
    TransitionHistory {
        transitions,
        population,
        costs,
        valid_states: vec![],
    }
}

#[test]
fn engines_agree_on_means() {
    let h = history(800, 6, 0.08, 1);
    let params = fit(&h, &FitOptions::default()).unwrap();
    let options = ProjectionOptions::default();
    let a = analytic::project(&params, &options);
    let m = simulate(&params, &options, 4000, 3);
    for (x, y) in a.census_years.iter().zip(&m.census_years) {
        let rel = (x.total.mean - y.total.mean).abs() / x.total.mean;
        assert!(
            rel < 0.005,
            "{}: analytic {} vs MC {}",
            x.census_year,
            x.total.mean,
            y.total.mean
        );
        // The analytic spread matches the simulated one: with 4,000 simulations the simulated sd has a standard
        // error of about 1.1 %; the analytic sd is 1.4 / 1.6 / 2.3 / 2.5 / 2.6 % smaller at years 1-5 (measured
        // on this history; the analytic engine's approximation). A missing variance component (trend
        // persistence, parameter uncertainty) would take it well outside 0.92-1.05.
        let ratio = x.total.sd / y.total.sd;
        assert!(
            (0.92..1.05).contains(&ratio),
            "sd analytic {} vs MC {}",
            x.total.sd,
            y.total.sd
        );
    }
    for (x, y) in a.financial_years.iter().zip(&m.financial_years) {
        let rel = (x.mean.pence() - y.mean.pence()).abs() as f64 / x.mean.pence() as f64;
        assert!(
            rel < 0.005,
            "{}: cost analytic {} vs MC {}",
            x.financial_year,
            x.mean,
            y.mean
        );
    }
}

#[test]
fn same_seed_same_forecast_whatever_the_threads() {
    let h = history(300, 5, 0.05, 2);
    let params = fit(&h, &FitOptions::default()).unwrap();
    let options = ProjectionOptions::default();
    let one = monte_carlo::project(
        &params,
        &options,
        &MonteCarloOptions {
            sims: 200,
            seed: 9,
            threads: Some(1),
        },
    );
    let two = monte_carlo::project(
        &params,
        &options,
        &MonteCarloOptions {
            sims: 200,
            seed: 9,
            threads: Some(2),
        },
    );
    assert_eq!(one, two);
    let other = monte_carlo::project(
        &params,
        &options,
        &MonteCarloOptions {
            sims: 200,
            seed: 10,
            threads: Some(2),
        },
    );
    assert_ne!(one, other);
}

/// The Monte-Carlo engine on every core.
fn simulate(
    params: &crate::Parameters,
    options: &ProjectionOptions,
    sims: u32,
    seed: u64,
) -> crate::Forecast {
    monte_carlo::project(
        params,
        options,
        &MonteCarloOptions {
            sims,
            seed,
            threads: None,
        },
    )
}

fn fit_stationary(h: &TransitionHistory) -> crate::Parameters {
    let options = FitOptions {
        joiner_trend: JoinerTrend::Stationary,
        ..FitOptions::default()
    };
    fit(h, &options).unwrap()
}

#[test]
fn trend_is_found_and_lifts_the_forecast() {
    let h = history(600, 7, 0.10, 4);
    let trended = fit(&h, &FitOptions::default()).unwrap();
    let stationary = fit_stationary(&h);
    assert!(
        trended.trend.slope > 0.05 && trended.trend.slope < 0.15,
        "slope {}",
        trended.trend.slope
    );
    let options = ProjectionOptions::default();
    let t = analytic::project(&trended, &options);
    let s = analytic::project(&stationary, &options);
    assert!(
        t.census_years[4].total.mean > s.census_years[4].total.mean,
        "{} vs {}: {:?}",
        t.census_years[4].total.mean,
        s.census_years[4].total.mean,
        trended.notes
    );
}

#[test]
fn bad_histories_are_refused_clearly() {
    let empty = TransitionHistory::default();
    assert_eq!(
        fit(&empty, &FitOptions::default()),
        Err(ModelError::NoTransitions)
    );
    let mut gap = history(100, 4, 0.0, 5);
    gap.transitions.retain(|t| t.from_census.year() != 2016);
    let e = fit(&gap, &FitOptions::default()).unwrap_err();
    assert!(e.to_string().contains("census year gap"), "{e}");
    let mut gone = history(100, 3, 0.0, 5);
    for t in &mut gone.transitions {
        if t.from_census.year() == 2017 {
            t.after = None;
        }
    }
    gone.transitions
        .retain(|t| t.before.is_some() || t.after.is_some());
    assert!(matches!(
        fit(&gone, &FitOptions::default()),
        Err(ModelError::NoPlansAtBase { .. })
    ));
}

#[test]
fn an_unfittable_trend_widens_the_intervals() {
    // Two transition years: too few for a trend, so the joiner rate is held but its slope is uncertain.
    let h = history(400, 2, 0.05, 8);
    let fallback = fit(&h, &FitOptions::default()).unwrap();
    let stationary = fit_stationary(&h);
    assert!(fallback
        .notes
        .iter()
        .any(|n| n.contains("fewer than 3 years")));
    let options = ProjectionOptions::default();
    let f = analytic::project(&fallback, &options);
    let s = analytic::project(&stationary, &options);
    assert!((f.census_years[4].total.mean - s.census_years[4].total.mean).abs() < 1e-6);
    assert!(
        f.census_years[4].total.sd > 1.2 * s.census_years[4].total.sd,
        "{} vs {}",
        f.census_years[4].total.sd,
        s.census_years[4].total.sd
    );
}

#[test]
fn no_population_falls_back_to_counts_and_says_so() {
    let mut h = history(200, 4, 0.0, 6);
    h.population.clear();
    let params = fit(&h, &FitOptions::default()).unwrap();
    assert!(params
        .notes
        .iter()
        .any(|n| n.contains("no resident population")));
    let f = analytic::project(&params, &ProjectionOptions::default());
    assert!(f
        .census_years
        .iter()
        .all(|c| c.total.mean.is_finite() && c.total.mean > 0.0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Children are conserved: each simulated year, plans = last year's plans + joiners − leavers,
    /// the parts add up to the total, and nothing is negative.
    #[test]
    fn children_conserved(start in 20usize..300, years in 3i32..6, seed in 0u64..1000, growth in 0.0f64..0.15) {
        let h = history(start, years, growth, seed);
        let params = fit(&h, &FitOptions::default()).unwrap();
        let options = ProjectionOptions { years: 4, ..ProjectionOptions::default() };
        let sims = monte_carlo::simulate(&params, &options, &MonteCarloOptions { sims: 20, seed, threads: Some(1) });
        let f = sims.columns;
        let w = sims.width();
        let cols = crate::forecast::Columns::of(&params);
        for row in &sims.rows {
            let mut previous = params.base_total() as f64;
            for y in 0..4 {
                let r = &row[y * w..(y + 1) * w];
                let (total, joiners, leavers) = (r[0], r[f], r[f + 1]);
                prop_assert_eq!(total, previous + joiners - leavers);
                let settings: f64 = (0..cols.settings).map(|s| r[cols.setting(s)]).sum();
                let needs: f64 = (0..cols.needs).map(|n| r[cols.need(n)]).sum();
                let ages: f64 = (0..5).map(|g| r[cols.age_group(g)]).sum();
                prop_assert_eq!(settings, total);
                prop_assert_eq!(needs, total);
                prop_assert_eq!(ages, total);
                prop_assert!(r.iter().all(|v| *v >= 0.0));
                previous = total;
            }
        }
    }
}

/// Costs split into place funding and top-up, with an age-group override: the base year prices by hand, and
/// the engines agree on the place funding (top-up is the cost less place funding by construction, so it is not
/// tested as a sum: see `place_funding_is_its_share_of_cost_in_both_engines`).
#[test]
fn place_funding_and_top_up_lines_and_age_group_costs() {
    let mut h = history(800, 6, 0.08, 1);
    for c in &mut h.costs {
        // £10,000 place funding in special, £6,000 elsewhere; the rest is top-up.
        let place = if c.setting.as_str() == "special" {
            10_000
        } else {
            6_000
        };
        c.place_funding = Some(Pence::from_pounds(place));
    }
    // Post-16 ASD in post16 costs £12,000 (£6,000 + £6,000) for 16-19s instead of £8,000.
    h.costs.push(UnitCost {
        need: "ASD".parse().unwrap(),
        setting: "post16".parse().unwrap(),
        age_group: Some(highneeds_domain::AgeGroup::Age16To19),
        annual: Pence::from_pounds(12_000),
        place_funding: Some(Pence::from_pounds(6_000)),
    });
    let params = fit(&h, &FitOptions::default()).unwrap();
    // Hand-priced base year: every plan at its (need, setting, age group) cost.
    let space = &params.space;
    let (mut cost, mut place) = (0i64, 0i64);
    for (i, &n) in params.base_stock.iter().enumerate() {
        let (_, need, setting) = space.parts(i);
        let special = space.settings[setting].as_str() == "special";
        let post16_asd = space.settings[setting].as_str() == "post16"
            && space.needs[need].as_str() == "ASD"
            && space.age_group(i) == highneeds_domain::AgeGroup::Age16To19;
        let (c, p) = match (special, post16_asd) {
            (true, _) => (25_000, 10_000),
            (false, true) => (12_000, 6_000),
            (false, false) => (8_000, 6_000),
        };
        cost += i64::from(n) * c;
        place += i64::from(n) * p;
    }
    let base = crate::forecast::base_money(&params);
    assert_eq!(
        base,
        vec![
            cost as f64 * 100.0,
            place as f64 * 100.0,
            (cost - place) as f64 * 100.0
        ]
    );

    let options = ProjectionOptions::default();
    let a = analytic::project(&params, &options);
    let m = simulate(&params, &options, 2000, 5);
    for f in [&a, &m] {
        assert_eq!(f.place_funding.len(), f.financial_years.len());
        assert!(f.place_funding.iter().all(|p| p.mean.pence() > 0));
    }
    for (x, y) in a.place_funding.iter().zip(&m.place_funding) {
        let rel = (x.mean.pence() - y.mean.pence()).abs() as f64 / x.mean.pence() as f64;
        assert!(
            rel < 0.005,
            "place funding analytic {} vs MC {}",
            x.mean,
            y.mean
        );
    }
    // Without a split no lines are shown.
    let plain = fit(&history(300, 5, 0.05, 2), &FitOptions::default()).unwrap();
    let f = analytic::project(&plain, &options);
    assert!(f.place_funding.is_empty() && f.top_up.is_empty());
}

/// Place funding is 40 % of every state's cost: each engine's place-funding line (its own column, not derived
/// from the cost line) must be 40 % of its cost line in every financial year, to the penny of rounding.
#[test]
fn place_funding_is_its_share_of_cost_in_both_engines() {
    let mut h = history(600, 6, 0.08, 4);
    for c in &mut h.costs {
        c.place_funding = Some(Pence::new(c.annual.pence() * 2 / 5));
    }
    let params = fit(&h, &FitOptions::default()).unwrap();
    let options = ProjectionOptions::default();
    for f in [
        analytic::project(&params, &options),
        simulate(&params, &options, 500, 9),
    ] {
        assert_eq!(f.place_funding.len(), f.financial_years.len());
        for (c, p) in f.financial_years.iter().zip(&f.place_funding) {
            let expected = c.mean.pence() as f64 * 0.4;
            assert!(
                (p.mean.pence() as f64 - expected).abs() <= 1.0,
                "{}: place funding {} vs 40 % of {}",
                c.financial_year,
                p.mean,
                c.mean
            );
        }
    }
}

/// Leaving rates falling 12 % a year: the fit finds the trend (slope ≈ ln 0.88), the forecast projects fewer
/// leavers than pooled rates would, and the two engines still agree; constant leaving finds no trend.
#[test]
fn leaving_rate_trend_is_found_and_projected() {
    let h = history_with_leaving(3000, 8, 0.05, -0.12, 4);
    let params = fit(&h, &FitOptions::default()).unwrap();
    let t = params.leaver_trend.clone().expect("a leaver trend");
    assert!((t.slope - 0.88f64.ln()).abs() < 0.04, "slope {}", t.slope);
    assert!(params
        .notes
        .iter()
        .any(|n| n.starts_with("leaving rates trend by")));
    assert!(params.leave_multiplier(1) < 1.0);
    let options = ProjectionOptions::default();
    let a = analytic::project(&params, &options);
    let stationary = fit_stationary(&h);
    assert!(stationary.leaver_trend.is_none());
    let pooled = analytic::project(&stationary, &options);
    assert!(a.flows[0].leavers.mean < pooled.flows[0].leavers.mean);
    let m = simulate(&params, &options, 3000, 2);
    for ((x, y), (fx, fy)) in a
        .census_years
        .iter()
        .zip(&m.census_years)
        .zip(a.flows.iter().zip(&m.flows))
    {
        let rel = (x.total.mean - y.total.mean).abs() / x.total.mean;
        assert!(
            rel < 0.005,
            "{}: analytic {} vs MC {}",
            x.census_year,
            x.total.mean,
            y.total.mean
        );
        let rel = (fx.leavers.mean - fy.leavers.mean).abs() / fx.leavers.mean;
        assert!(
            rel < 0.03,
            "leavers analytic {} vs MC {}",
            fx.leavers.mean,
            fy.leavers.mean
        );
    }
    let constant = fit(
        &history_with_leaving(3000, 8, 0.05, 0.0, 4),
        &FitOptions::default(),
    )
    .unwrap();
    assert!(constant.leaver_trend.is_none());
}
