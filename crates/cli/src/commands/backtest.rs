//! `highneeds backtest`.

use std::process::ExitCode;

use anyhow::{bail, Result};
use highneeds_domain::TransitionHistory;
use highneeds_model::backtest::{backtest, BacktestOptions, Method, PopulationUse, Report, LEVELS};
use highneeds_model::backtest_tuning::{origins_after, tune, PersonTuning};
use highneeds_model::{Engine, JoinerTrend, MonteCarloOptions};
use highneeds_usecases::report::{text, Cell, Kind, Report as TableReport, Table};
use serde_json::json;

use crate::args::{BacktestArgs, EngineArg, PopulationArg, ReportFormat};
use crate::commands::{fit_options, load_history};
use crate::output::workbook;

pub fn run(args: BacktestArgs) -> Result<ExitCode> {
    workbook::check(&args.workbook, args.format == ReportFormat::Xlsx)?;
    if args.horizon == 0 || args.horizon > 15 {
        bail!("--horizon must be between 1 and 15, not {}", args.horizon);
    }
    if let Some(dir) = &args.published {
        return crate::commands::published::run_backtest(
            dir,
            args.horizon,
            args.tune_until,
            args.format,
            &args.workbook,
        );
    }
    let (history, source) = load_history(&args.source)?;
    let (options, tuning) =
        tuned_backtest_options(&history, backtest_options(&args)?, args.tune_until)?;
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
        ReportFormat::Json => print_backtest_json(&report, tuning.as_ref())?,
        ReportFormat::Table => print!(
            "{}",
            text::render(&backtest_report(&report, &source, tuning.as_ref()))
        ),
        ReportFormat::Xlsx => write_backtest_workbook(&args, &report, &source, tuning.as_ref())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The backtest settings asked for on the command line: horizon, population, model fit and engine.
fn backtest_options(args: &BacktestArgs) -> Result<BacktestOptions> {
    Ok(BacktestOptions {
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
    })
}

/// The settings to backtest with: tuned on the censuses up to `tune_until` when given, else as asked.
fn tuned_backtest_options(
    history: &TransitionHistory,
    options: BacktestOptions,
    tune_until: Option<i32>,
) -> Result<(BacktestOptions, Option<PersonTuning>)> {
    Ok(match tune_until {
        Some(until) => {
            let t = tune(history, &options, until)?;
            (t.options.clone(), Some(t))
        }
        None => (options, None),
    })
}

/// Prints the backtest as JSON, with the tuning when the settings were tuned.
fn print_backtest_json(report: &Report, tuning: Option<&PersonTuning>) -> Result<()> {
    let mut v = report_json(report);
    if let Some(t) = tuning {
        v["tuning"] = json!({
            "until": t.until.year(), "tried": t.tried, "fallback_damping": fallback(t),
            "persistence_sd": t.options.fit.persistence_sd, "early_mape": t.early_mape,
            "early_coverage_90": t.early_coverage_90, "scored_origins_after": t.until.year(),
        });
    }
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

/// Writes the backtest workbook, with the inputs of the run.
fn write_backtest_workbook(
    args: &BacktestArgs,
    report: &Report,
    source: &str,
    tuning: Option<&PersonTuning>,
) -> Result<()> {
    let mut r = backtest_report(report, source, tuning);
    r.input("source", source);
    r.input("horizon", args.horizon);
    r.input("population", report.population.code());
    r.input("fewest years of transitions", args.min_years);
    r.input(
        "engine",
        match args.model.engine {
            EngineArg::Analytic => "analytic",
            EngineArg::MonteCarlo => "monte-carlo",
        },
    );
    if args.model.engine == EngineArg::MonteCarlo {
        r.input("simulations", args.model.sims);
        r.input("seed", args.model.seed);
    }
    if let Some(y) = args.tune_until {
        r.input("settings chosen on censuses up to", y);
    }
    workbook::write(&args.workbook, r)?;
    Ok(())
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

/// The scores per method and horizon, and the model's forecasts from each origin.
fn backtest_report(r: &Report, source: &str, tuning: Option<&PersonTuning>) -> TableReport {
    let origins: Vec<String> = r.origins.iter().map(ToString::to_string).collect();
    let mut out = TableReport::new(format!(
        "Backtest of {source}: origins {}",
        origins.join(", ")
    ));
    if let Some(t) = tuning {
        out.summary_text(&tuning_line(t));
    }
    out.summary.push(
        "(fit on censuses up to the origin, forecast ahead, compare with the actual plans)"
            .to_string(),
    );
    out.summary.push(r.population.describe().to_string());
    let mut scores = Table::new("Scores", "Accuracy by method and horizon")
        .column("method", Kind::Text)
        .column("horizon", Kind::Count)
        .column("cases", Kind::Count)
        .column("MAPE", Kind::Percent)
        .column("bias", Kind::Percent);
    for l in LEVELS {
        scores = scores.column(format!("cov {}%", level_key(l)), Kind::Percent);
    }
    for s in &r.scores {
        let mut row = vec![
            s.method.code().into(),
            s.horizon.into(),
            s.cases.into(),
            s.mape.into(),
            s.bias.into(),
        ];
        row.extend((0..LEVELS.len()).map(|i| Cell::number(s.coverage.map(|c| c[i]))));
        scores.push(row);
    }
    scores.note("cov = share of actual values inside the interval at that level; MAPE = mean absolute percentage error");
    out.tables.push(scores);
    let mut points = Table::new(
        "Model forecasts",
        "Forecasts of the model (trended), with 90% intervals",
    )
    .column("origin", Kind::Year)
    .column("census", Kind::Year)
    .column("forecast", Kind::Count)
    .column("90% low", Kind::Count)
    .column("90% high", Kind::Count)
    .column("actual", Kind::Count)
    .column("error", Kind::Change);
    for p in r.points.iter().filter(|p| p.method == Method::Trended) {
        points.push(vec![
            p.origin.year().into(),
            (p.origin.year() + p.horizon as i32).into(),
            p.forecast.into(),
            Cell::number(p.interval.map(|i| i.0)),
            Cell::number(p.interval.map(|i| i.1)),
            p.actual.into(),
            p.error_share().into(),
        ]);
    }
    out.tables.push(points);
    out
}
