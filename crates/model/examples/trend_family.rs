//! Backtest the person-level model on a synthetic family of LAs whose joiner trends persist, fade, reverse or
//! stay flat (issue #11).
//! `cargo run --release -p highneeds-model --example trend_family -- SEED_FROM SEED_TO [DAMPINGS [PERSISTENCE_SDS
//! [MIN_YEARS]]]` (comma-separated lists; `aX` = the trend weighed from the history, damping X where it is too short
//! to judge; MIN_YEARS = fewest transition years an origin's fit has, 3 by default).
use highneeds_model::backtest::{backtest, score, BacktestOptions, Method};
use highneeds_model::estimate::{FitOptions, JoinerTrend};
use highneeds_model::Engine;
use highneeds_synth::{generate_la_shaped, SynthConfig, TrendShape};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let from: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let to: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    // Dampings to try; "aX" = weighed from the history, X where it is too short (written as −1 − X).
    let dampings: Vec<f64> = args
        .get(3)
        .map(|s| {
            s.split(',')
                .map(|x| match x.strip_prefix('a') {
                    Some(f) => -1.0 - f.parse::<f64>().unwrap_or(0.2),
                    None => x.parse().unwrap_or(0.2),
                })
                .collect()
        })
        .unwrap_or_else(|| vec![-1.0 - highneeds_model::DEFAULT_FALLBACK_DAMPING]);
    let persistence_sds: Vec<f64> = args.get(4).map_or_else(
        || vec![FitOptions::default().persistence_sd],
        |s| s.split(',').filter_map(|x| x.parse().ok()).collect(),
    );
    let min_fit_years: usize = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(3);
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
        for (&damping, &persistence_sd) in dampings
            .iter()
            .flat_map(|d| persistence_sds.iter().map(move |p| (d, p)))
        {
            let options = BacktestOptions {
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
            };
            let mut points = Vec::new();
            for h in &histories {
                points.extend(backtest(h, &options).expect("backtest").points);
            }
            for s in score(&points, 3) {
                if matches!(
                    s.method,
                    Method::Trended | Method::Stationary | Method::LinearTrend | Method::LastGrowth
                ) {
                    println!(
                        "{:<10} damping {damping:<4} psd {persistence_sd:<4} {:<18} h{} n{:>3} MAPE {:>5.1}% bias {:>+6.2}% cov90 {}",
                        shape.code(),
                        s.method.code(),
                        s.horizon,
                        s.cases,
                        s.mape * 100.0,
                        s.bias * 100.0,
                        s.coverage.map_or("-".into(), |c| format!("{:.1}%", c[2] * 100.0))
                    );
                }
            }
        }
    }
}
