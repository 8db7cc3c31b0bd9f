//! `highneeds backtest`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{bail, Result};
use highneeds_model::backtest::{backtest, BacktestOptions, Method, PopulationUse, Report, LEVELS};
use highneeds_model::backtest_tuning::{origins_after, tune, PersonTuning};
use highneeds_model::{Engine, JoinerTrend, MonteCarloOptions};
use serde_json::json;

use crate::args::{BacktestArgs, EngineArg, PopulationArg, ReportFormat};
use crate::commands::{fit_options, load_history};

pub fn run(args: BacktestArgs) -> Result<ExitCode> {
    if args.horizon == 0 || args.horizon > 15 {
        bail!("--horizon must be between 1 and 15, not {}", args.horizon);
    }
    if let Some(dir) = &args.published {
        return crate::commands::published::run_backtest(
            dir,
            args.horizon,
            args.tune_until,
            args.format,
        );
    }
    let (history, source) = load_history(&args.source)?;
    let options = BacktestOptions {
        horizon: args.horizon,
        population: match args.population {
            PopulationArg::CarryForward => PopulationUse::CarryForward,
            PopulationArg::Supplied => PopulationUse::Supplied,
        },
        fit: fit_options(&args.model)?,
        engine: match args.model.engine {
            EngineArg::Analytic => Engine::Analytic,
            EngineArg::MonteCarlo => Engine::MonteCarlo,
        },
        monte_carlo: MonteCarloOptions {
            sims: args.model.sims,
            seed: args.model.seed,
            threads: args.model.threads,
        },
        min_fit_years: args.min_years,
    };
    let (options, tuning) = match args.tune_until {
        Some(until) => {
            let t = tune(&history, &options, until)?;
            (t.options.clone(), Some(t))
        }
        None => (options, None),
    };
    let report = backtest(&history, &options)?;
    let report = match &tuning {
        Some(t) => origins_after(&report, t.until, options.horizon),
        None => report,
    };
    if report.origins.is_empty() {
        return Err(highneeds_usecases::backtest::nothing_to_backtest(
            &history,
            &source,
            args.min_years,
        ));
    }
    match args.format {
        ReportFormat::Json => {
            let mut v = report_json(&report);
            if let Some(t) = &tuning {
                v["tuning"] = json!({
                    "until": t.until.year(), "tried": t.tried, "fallback_damping": fallback(t),
                    "persistence_sd": t.options.fit.persistence_sd, "early_mape": t.early_mape,
                    "early_coverage_90": t.early_coverage_90, "scored_origins_after": t.until.year(),
                });
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        ReportFormat::Table => {
            if let Some(t) = &tuning {
                print!("{}", tuning_line(t));
            }
            print!("{}", report_table(&report, &source));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn fallback(t: &PersonTuning) -> f64 {
    match t.options.fit.joiner_trend {
        JoinerTrend::Damped { damping } => damping,
        JoinerTrend::Stationary => 0.0,
    }
}

fn tuning_line(t: &PersonTuning) -> String {
    format!(
        "Settings chosen on the censuses up to {} only ({} sets tried): damping {} where the history is too short to \
         judge its trend (least MAPE), persistence sd {} (90% coverage nearest 90%); early origins: MAPE {}, 90% \
         coverage {}\nScored below on the origins after {} only.\n\n",
        t.until,
        t.tried,
        fallback(t),
        t.options.fit.persistence_sd,
        pct(t.early_mape),
        pct(t.early_coverage_90),
        t.until
    )
}

fn level_key(l: f64) -> String {
    format!("{}", (l * 100.0).round() as i64)
}

fn report_json(r: &Report) -> serde_json::Value {
    json!({
        "origins": r.origins.iter().map(|o| o.year()).collect::<Vec<_>>(),
        "population": r.population.code(),
        "scores": r.scores.iter().map(|s| json!({
            "method": s.method.code(),
            "horizon": s.horizon,
            "cases": s.cases,
            "mape": s.mape,
            "bias": s.bias,
            "coverage": s.coverage.map(|c| {
                LEVELS
                    .iter()
                    .zip(c)
                    .map(|(l, v)| (level_key(*l), json!((v * 10_000.0).round() / 10_000.0)))
                    .collect::<serde_json::Map<_, _>>()
            }),
        })).collect::<Vec<_>>(),
        "points": r.points.iter().map(|p| json!({
            "method": p.method.code(),
            "origin": p.origin.year(),
            "horizon": p.horizon,
            "target": p.origin.year() + p.horizon as i32,
            "actual": p.actual,
            "forecast": p.forecast,
            "p05": p.interval.map(|i| i.0),
            "p95": p.interval.map(|i| i.1),
        })).collect::<Vec<_>>(),
    })
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn report_table(r: &Report, source: &str) -> String {
    let mut out = String::new();
    let origins: Vec<String> = r.origins.iter().map(ToString::to_string).collect();
    let _ = writeln!(out, "Backtest of {source}: origins {}", origins.join(", "));
    let _ = writeln!(
        out,
        "(fit on censuses up to the origin, forecast ahead, compare with the actual plans)\n{}\n",
        r.population.describe()
    );
    let _ = writeln!(
        out,
        "{:<20} {:>7} {:>5} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "method", "horizon", "cases", "MAPE", "bias", "cov 50%", "cov 80%", "cov 90%", "cov 95%"
    );
    for s in &r.scores {
        let cov = s
            .coverage
            .map(|c| c.map(pct))
            .unwrap_or_else(|| ["-".into(), "-".into(), "-".into(), "-".into()]);
        let _ = writeln!(
            out,
            "{:<20} {:>7} {:>5} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8}",
            s.method.code(),
            s.horizon,
            s.cases,
            pct(s.mape),
            pct(s.bias),
            cov[0],
            cov[1],
            cov[2],
            cov[3]
        );
    }
    let _ = writeln!(
        out,
        "\nforecasts of the model (trended), with 90% intervals:"
    );
    for p in r.points.iter().filter(|p| p.method == Method::Trended) {
        let (lo, hi) = p.interval.unwrap_or((f64::NAN, f64::NAN));
        let _ = writeln!(
            out,
            "  from {} to {}: {:.0} [{:.0} – {:.0}] vs actual {:.0} ({})",
            p.origin,
            p.origin.year() + p.horizon as i32,
            p.forecast,
            lo,
            hi,
            p.actual,
            if p.error_share().is_finite() {
                format!("{:+.1}%", p.error_share() * 100.0)
            } else {
                "n/a".to_string()
            }
        );
    }
    out
}
