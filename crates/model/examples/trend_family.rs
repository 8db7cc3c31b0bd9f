//! Backtest the person-level model on a synthetic family of LAs whose joiner trends persist, fade, reverse or
//! stay flat (issue #11), and choose the fallback damping and the persistence spread by the documented procedure.
//! `cargo run --release -p highneeds-model --example trend_family -- SEED_FROM SEED_TO [DAMPINGS [PERSISTENCE_SDS
//! [MIN_YEARS]]]` (comma-separated lists; `aX` = the trend weighed from the history, damping X where it is too short
//! to judge; MIN_YEARS = fewest transition years an origin's fit has, 3 by default). Each seed is one LA of each
//! shape. Prints every (shape, setting, method, horizon) score, the model's 3-year error by the number of yearly
//! rates its fit had, and, when more than one setting is given, the procedure's choice (docs/decisions.md, "Joiner
//! trend chosen from the history" and the entry after it): the fallback with the least MAPE summed over the shapes
//! and h = 1-3 among those whose persistent-trend bias is within ±2 % at every h with two standard errors (across
//! the family's LAs) to spare, at the first persistence sd given; then the persistence sd whose 90 % coverage is
//! nearest 90 % on average over the shapes and horizons.
use std::collections::BTreeMap;

use highneeds_model::backtest::{backtest, score, BacktestOptions, Method, Point};
use highneeds_model::estimate::{FitOptions, JoinerTrend};
use highneeds_model::Engine;
use highneeds_synth::{generate_la_shaped, SynthConfig, TrendShape};

const HORIZON: u32 = 3;
const BIAS_BOUND: f64 = 0.02;

/// One (fallback, persistence sd) setting's model scores: per shape, per horizon, (MAPE, bias, 90 % coverage,
/// standard error of the bias across the family's LAs).
type SettingScores = BTreeMap<&'static str, Vec<(f64, f64, f64, f64)>>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let from: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let to: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    // Dampings to try; "aX" = weighed from the history, X where it is too short (held as −1 − X; see `label`).
    let dampings: Vec<f64> = args.get(3).map_or_else(
        || vec![-1.0 - highneeds_model::DEFAULT_FALLBACK_DAMPING],
        |s| {
            s.split(',')
                .map(|x| match x.strip_prefix('a') {
                    Some(f) => -1.0 - f.parse::<f64>().unwrap_or(0.2),
                    None => x.parse().unwrap_or(0.2),
                })
                .collect()
        },
    );
    let persistence_sds: Vec<f64> = args.get(4).map_or_else(
        || vec![FitOptions::default().persistence_sd],
        |s| s.split(',').filter_map(|x| x.parse().ok()).collect(),
    );
    let min_fit_years: usize = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(3);
    let settings: Vec<(f64, f64)> = dampings
        .iter()
        .flat_map(|&d| persistence_sds.iter().map(move |&p| (d, p)))
        .collect();
    let mut scores: Vec<SettingScores> = vec![BTreeMap::new(); settings.len()];
    for shape in TrendShape::ALL {
        let histories: Vec<_> = (from..=to)
            .map(|seed| {
                let config = SynthConfig {
                    seed,
                    ..SynthConfig::default()
                };
                generate_la_shaped(&config, 0, shape).transition_history()
            })
            .collect();
        for (k, &(damping, persistence_sd)) in settings.iter().enumerate() {
            let options = options(damping, persistence_sd, min_fit_years);
            let mut points = Vec::new();
            let mut by_la = Vec::new();
            for h in &histories {
                let la = backtest(h, &options).expect("backtest").points;
                by_la.push(score(&la, HORIZON));
                points.extend(la);
            }
            let mut model = Vec::new();
            for s in score(&points, HORIZON) {
                let cov90 = s.coverage.map(|c| c[2]);
                println!(
                    "{:<10} damping {:<4} psd {persistence_sd:<4} {:<18} h{} n{:>4} MAPE {:>6.2}% bias {:>+6.2}% cov90 {}",
                    shape.code(),
                    label(damping),
                    s.method.code(),
                    s.horizon,
                    s.cases,
                    s.mape * 100.0,
                    s.bias * 100.0,
                    cov90.map_or("-".into(), |c| format!("{:.1}%", c * 100.0))
                );
                if s.method == Method::Trended {
                    let se = bias_standard_error(&by_la, s.horizon);
                    println!("{:<10} damping {:<4} psd {persistence_sd:<4} model bias h{} standard error across LAs {:.2}%", shape.code(), label(damping), s.horizon, se * 100.0);
                    model.push((s.mape, s.bias, cov90.unwrap_or(f64::NAN), se));
                }
            }
            print_by_origin(shape, damping, persistence_sd, &points);
            scores[k].insert(shape.code(), model);
        }
    }
    if settings.len() > 1 {
        choose(&settings, &scores);
    }
}

/// Standard error of the model's mean bias at `horizon` across LAs (each LA's own mean bias one observation, as an
/// LA's origins share its trend and are not independent).
fn bias_standard_error(by_la: &[Vec<highneeds_model::backtest::Score>], horizon: u32) -> f64 {
    let biases: Vec<f64> = by_la
        .iter()
        .filter_map(|scores| {
            scores
                .iter()
                .find(|s| s.method == Method::Trended && s.horizon == horizon && s.cases > 0)
                .map(|s| s.bias)
        })
        .collect();
    let n = biases.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let mean = biases.iter().sum::<f64>() / n;
    (biases.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt()
}

/// A damping as given on the command line: "aX" for the trend weighed from the history with fallback X.
fn label(damping: f64) -> String {
    if damping < 0.0 {
        // Rounded back to the digits given (−1 − X is not exact in binary).
        format!("a{}", ((-1.0 - damping) * 1e6).round() / 1e6)
    } else {
        damping.to_string()
    }
}

fn options(damping: f64, persistence_sd: f64, min_fit_years: usize) -> BacktestOptions {
    BacktestOptions {
        engine: Engine::Analytic,
        min_fit_years,
        fit: FitOptions {
            joiner_trend: JoinerTrend::Damped {
                damping: if damping < 0.0 {
                    -1.0 - damping
                } else {
                    damping
                },
            },
            trend_from_history: damping < 0.0,
            persistence_sd,
            ..FitOptions::default()
        },
        ..BacktestOptions::default()
    }
}

/// The model's and constant rates' 3-year bias and MAPE by origin (every LA of the family has the same first
/// census, so the origin says how many yearly rates the fit had).
fn print_by_origin(shape: TrendShape, damping: f64, persistence_sd: f64, points: &[Point]) {
    let mut by: BTreeMap<(i32, &'static str), (f64, f64, usize)> = BTreeMap::new();
    for p in points.iter().filter(|p| p.horizon == HORIZON) {
        if !matches!(p.method, Method::Trended | Method::Stationary) {
            continue;
        }
        let e = p.error_share();
        let cell = by
            .entry((p.origin.year(), p.method.code()))
            .or_insert((0.0, 0.0, 0));
        cell.0 += e;
        cell.1 += e.abs();
        cell.2 += 1;
    }
    for ((origin, method), (sum, abs, n)) in by {
        let n_f = n as f64;
        println!(
            "{:<10} damping {:<4} psd {persistence_sd:<4} origin {origin} {method:<18} h{HORIZON} n{n:>4} MAPE {:>6.2}% bias {:>+6.2}%",
            shape.code(),
            label(damping),
            abs / n_f * 100.0,
            sum / n_f * 100.0,
        );
    }
}

fn choose(settings: &[(f64, f64)], scores: &[SettingScores]) {
    let first_sd = settings[0].1;
    let summed = |s: &SettingScores| s.values().flatten().map(|c| c.0).sum::<f64>() * 100.0;
    // Within the bound with two standard errors to spare: a setting at the bound's edge on the tuning seeds is
    // outside it about half the time on fresh ones.
    let persistent_ok = |s: &SettingScores| {
        s.get("persistent")
            .is_some_and(|cells| cells.iter().all(|c| c.1.abs() + 2.0 * c.3 <= BIAS_BOUND))
    };
    let mut fallback: Option<(f64, f64)> = None;
    for (k, &(damping, sd)) in settings.iter().enumerate() {
        if sd != first_sd {
            continue;
        }
        let (total, ok) = (summed(&scores[k]), persistent_ok(&scores[k]));
        println!("choice step 1: damping {} summed MAPE {total:.2} persistent bias within ±2 % by two standard errors: {ok}", label(damping));
        if ok && fallback.is_none_or(|(_, best)| total < best) {
            fallback = Some((damping, total));
        }
    }
    let Some((damping, _)) = fallback else {
        println!("choice: no fallback keeps the persistent bias within ±2 %");
        return;
    };
    let mut best: Option<(f64, f64)> = None;
    for (k, &(d, sd)) in settings.iter().enumerate() {
        if d != damping {
            continue;
        }
        let cells: Vec<f64> = scores[k].values().flatten().map(|c| c.2).collect();
        let off = cells.iter().map(|c| (c - 0.9).abs()).sum::<f64>() / cells.len() as f64 * 100.0;
        println!(
            "choice step 2: damping {} psd {sd} mean |90 % coverage − 90 %| {off:.2} points",
            label(d)
        );
        if best.is_none_or(|(_, b)| off < b) {
            best = Some((sd, off));
        }
    }
    if let Some((sd, _)) = best {
        println!(
            "choice: fallback damping {} persistence sd {sd}",
            label(damping).trim_start_matches('a')
        );
    }
}
