//! Engine benchmarks on Exampleshire (synthetic, 2,150 plans, seed 7, generated in memory):
//! fit, analytic 5-year forecast, Monte-Carlo 1,000 simulations × 5 years; and on a synthetic England
//! (640,000 plans in 153 LAs, seed 1, generated in memory): fitting every LA, and the national analytic
//! forecast from fitted parameters (each LA projected, then combined), both on every core.
//!
//! Run: `cargo bench -p highneeds-model --bench engines` (see `bench/README.md`).

use std::sync::OnceLock;

use divan::{black_box, Bencher};
use highneeds_domain::TransitionHistory;
use highneeds_model::ProjectionOptions;
use highneeds_model::{
    analytic, fit, monte_carlo, national, FitOptions, MonteCarloOptions, Parameters,
};
use highneeds_synth::{generate, generate_la, SynthConfig};
use rayon::prelude::*;

fn main() {
    divan::main();
}

fn history() -> &'static TransitionHistory {
    static HISTORY: OnceLock<TransitionHistory> = OnceLock::new();
    HISTORY.get_or_init(|| {
        let config = SynthConfig {
            plans: 2_150,
            seed: 7,
            ..SynthConfig::default()
        };
        generate_la(&config, 0).transition_history()
    })
}

fn params() -> &'static Parameters {
    static PARAMS: OnceLock<Parameters> = OnceLock::new();
    PARAMS.get_or_init(|| match fit(history(), &FitOptions::default()) {
        Ok(p) => p,
        Err(e) => panic!("Exampleshire does not fit: {e}"),
    })
}

fn five_years() -> ProjectionOptions {
    ProjectionOptions {
        years: 5,
        ..ProjectionOptions::default()
    }
}

/// Estimation from the transition history.
#[divan::bench(sample_count = 30)]
fn fit_exampleshire(bencher: Bencher) {
    let h = history();
    let options = FitOptions::default();
    bencher.bench(|| fit(black_box(h), black_box(&options)));
}

/// Analytic engine, 5 projected years.
#[divan::bench(sample_count = 50)]
fn analytic_5_years(bencher: Bencher) {
    let p = params();
    let options = five_years();
    bencher.bench(|| analytic::project(black_box(p), black_box(&options)));
}

/// Monte-Carlo engine, 1,000 simulations × 5 years, on every core.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn monte_carlo_1000_x_5_years(bencher: Bencher) {
    let p = params();
    let options = five_years();
    let mc = MonteCarloOptions {
        sims: 1_000,
        seed: 1,
        threads: None,
    };
    bencher.bench(|| monte_carlo::project(black_box(p), black_box(&options), black_box(&mc)));
}

fn england() -> &'static [TransitionHistory] {
    static ENGLAND: OnceLock<Vec<TransitionHistory>> = OnceLock::new();
    ENGLAND.get_or_init(|| {
        let config = SynthConfig {
            plans: 640_000,
            las: 153,
            seed: 1,
            ..SynthConfig::default()
        };
        generate(&config)
            .iter()
            .map(|la| la.transition_history())
            .collect()
    })
}

fn england_params() -> &'static [Parameters] {
    static PARAMS: OnceLock<Vec<Parameters>> = OnceLock::new();
    PARAMS.get_or_init(|| {
        england()
            .par_iter()
            .map(|h| match fit(h, &FitOptions::default()) {
                Ok(p) => p,
                Err(e) => panic!("a synthetic LA does not fit: {e}"),
            })
            .collect()
    })
}

/// Estimation of all 153 LAs of a synthetic England, in parallel.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn fit_england_153_las(bencher: Bencher) {
    let las = england();
    let options = FitOptions::default();
    bencher.bench(|| {
        las.par_iter()
            .map(|h| fit(black_box(h), black_box(&options)).is_ok())
            .count()
    });
}

/// National analytic forecast, 5 years, from the 153 LAs' fitted parameters: each LA's means and variances
/// (in parallel), then summed into England's figures.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn analytic_england_153_las(bencher: Bencher) {
    let params = england_params();
    let options = five_years();
    bencher.bench(|| {
        let las: Vec<_> = params
            .par_iter()
            .map(|p| national::analytic_la(black_box(p), &options))
            .collect();
        national::combine_analytic(&las, &options).is_ok()
    });
}
