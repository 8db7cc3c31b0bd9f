//! The DfE's published statistics: reading the folder the user names, and the all-LA forecast and backtest
//! (`forecast --published`, `backtest --published`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use highneeds_domain::published::CurrentSeries;
use highneeds_domain::{LaCode, Measure, PublishedStatistics};
use highneeds_model::published_forecast::{
    backtest, project, tune, LaProjection, LaRecords, Method, PublishedBacktest,
    PublishedForecastOptions, Tuning,
};
use highneeds_usecases::report::{text, Kind, Report, Table};
use serde_json::json;

pub use highneeds_usecases::published::{la_code, la_records, lifetime_note};

use crate::args::{Format, ReportFormat, WorkbookOut};
use crate::commands::{print_issues, print_rejected};

/// Read the folder, print its warnings (stderr) and put it on current boundaries; errors stop here.
pub fn load(dir: &Path) -> Result<(PublishedStatistics, CurrentSeries)> {
    let loaded = highneeds_usecases::published::load(dir).map_err(print_rejected)?;
    print_issues(&loaded.warnings);
    Ok((loaded.stats, loaded.current))
}

fn options() -> PublishedForecastOptions {
    PublishedForecastOptions::default()
}

/// `forecast --published DIR [--origin Y] --years N`.
pub fn forecast(
    dir: &Path,
    origin: Option<i32>,
    years: u32,
    format: Format,
    workbook: &WorkbookOut,
) -> Result<ExitCode> {
    let (stats, current) = load(dir)?;
    let records = la_records(&current);
    let history = &records.plans;
    let latest = stats
        .census_years()
        .last()
        .copied()
        .ok_or_else(|| anyhow!("no census years in {}", dir.display()))?;
    let origin = origin.unwrap_or(latest);
    if origin > latest {
        bail!("--origin {origin} is after the latest published census ({latest})");
    }
    let projections = project(&records, origin, years, &options())?;
    let mut out = String::new();
    match format {
        Format::Csv => {
            out.push_str("la_code,census_year,mean,median,p10,p90\n");
            for p in &projections {
                let _ = writeln!(
                    out,
                    "{},{},{:.1},{:.1},{:.1},{:.1}",
                    p.la, p.census_year, p.mean, p.median, p.p10, p.p90
                );
            }
        }
        Format::Json => {
            let rows: Vec<_> = projections
                .iter()
                .map(|p| {
                    json!({"la_code": p.la.as_str(), "la_name": stats.name(p.la),
                           "census_year": p.census_year, "base": history.get(&p.la).and_then(|s| s.get(&origin)),
                           "mean": round1(p.mean), "median": round1(p.median),
                           "p10": round1(p.p10), "p90": round1(p.p90)})
                })
                .collect();
            out = serde_json::to_string_pretty(&json!({
                "model": "published-pooled-growth",
                "origin": origin,
                "interval": 0.8,
                "notes": current.notes,
                "las": rows,
            }))?;
        }
        Format::Table => {
            out = text::render(&forecast_report(
                &projections,
                &stats,
                &current,
                &records,
                origin,
            ))
        }
        Format::Xlsx => {
            let mut report = forecast_report(&projections, &stats, &current, &records, origin);
            report.input("published statistics", dir.display());
            report.input("origin", origin);
            report.input("years", years);
            crate::output::workbook::write(workbook, report)?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    println!("{}", out.trim_end());
    Ok(ExitCode::SUCCESS)
}

/// Every LA's forecast for people: one row per LA and projected census.
fn forecast_report(
    projections: &[LaProjection],
    stats: &PublishedStatistics,
    current: &CurrentSeries,
    records: &LaRecords,
    origin: i32,
) -> Report {
    let history = &records.plans;
    let mut r = Report::new(format!(
        "Forecast of EHC plans for every LA from the published statistics, origin January {origin}"
    ));
    r.summary.push(
        "(England's growth carried forward, each LA's deviation predicted from its own trend, new plans and \
         requests relative to England; 80% intervals from the model's own errors at earlier origins)"
            .to_string(),
    );
    let mut t = Table::new(
        "Forecast",
        "EHC plans by LA and January census (mean, median, 80% interval)",
    )
    .column("la_code", Kind::Text)
    .column("name", Kind::Text)
    .column("census", Kind::Year)
    .column("base", Kind::Count)
    .column("mean", Kind::Count)
    .column("median", Kind::Count)
    .column("p10", Kind::Count)
    .column("p90", Kind::Count);
    for p in projections {
        t.push(vec![
            p.la.as_str().into(),
            stats.name(p.la).unwrap_or("").into(),
            p.census_year.into(),
            history
                .get(&p.la)
                .and_then(|s| s.get(&origin))
                .copied()
                .into(),
            p.mean.into(),
            p.median.into(),
            p.p10.into(),
            p.p90.into(),
        ]);
    }
    r.tables.push(t);
    r.notes = current.notes.clone();
    r
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `backtest --published DIR --horizon H [--tune-until Y]`.
pub fn run_backtest(
    dir: &Path,
    horizon: u32,
    tune_until: Option<i32>,
    format: ReportFormat,
    workbook: &WorkbookOut,
) -> Result<ExitCode> {
    let (_, current) = load(dir)?;
    let records = la_records(&current);
    // Apportioned values (boundary changes) are estimates, not outcomes: they are never scored.
    let observed = |la: LaCode, y: i32| !current.apportioned(la, Measure::Plans, y);
    let tuning = match tune_until {
        Some(until) => Some(tune(&records, &observed, horizon, until)?),
        None => None,
    };
    let opts = tuning.as_ref().map_or_else(options, |t| t.chosen);
    let full = backtest(&records, &observed, horizon, &opts)?;
    // Tuned: scored only on the origins after the tuning window.
    let report = match &tuning {
        Some(t) => full.origins_after(t.until),
        None => full,
    };
    match format {
        ReportFormat::Table => print!(
            "{}",
            text::render(&backtest_report(&report, tuning.as_ref()))
        ),
        ReportFormat::Xlsx => {
            let mut r = backtest_report(&report, tuning.as_ref());
            r.input("published statistics", dir.display());
            r.input("horizon", horizon);
            if let Some(y) = tune_until {
                r.input("settings chosen on censuses up to", y);
            }
            r.input("indicators", opts.indicators.describe());
            r.input("ridge", opts.ridge);
            r.input("England's growth over years", opts.national_years);
            r.input("error memory", opts.error_memory);
            r.input("point forecast", opts.point.describe());
            crate::output::workbook::write(workbook, r)?;
        }
        ReportFormat::Json => {
            let mut v = backtest_json(&report);
            v["parameters"] = json!({
                "indicators": opts.indicators.describe(), "ridge": opts.ridge,
                "national_years": opts.national_years, "error_memory": opts.error_memory,
                "point": opts.point.describe(),
            });
            if let Some(t) = &tuning {
                v["tuning"] = json!({
                    "until": t.until, "horizon": t.horizon, "tried": t.tried,
                    "early_mape": t.early_mape, "early_coverage_80": t.early_coverage,
                    "scored_origins_after": t.until,
                });
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn tuning_line(t: &Tuning) -> String {
    let c = &t.chosen;
    let early: Vec<String> = t.early_mape.iter().map(|m| pct(*m)).collect();
    let cov: Vec<String> = t.early_coverage.iter().map(|m| pct(*m)).collect();
    format!(
        "Settings chosen on the censuses up to {} only ({} sets tried; least mean MAPE over horizons 1-{},\n  \
         then 80% coverage nearest 80%, then MAPE with England's error removed):\n  \
         indicators: {}; ridge {}; England's growth over {} year(s); error memory {}; point forecast: the {}\n  \
         (early origins: MAPE {}, 80% coverage {})\n\
         Scored below on the origins after {} only.\n\n",
        t.until,
        t.tried,
        t.horizon,
        c.indicators.describe(),
        c.ridge,
        c.national_years,
        c.error_memory,
        c.point.describe(),
        early.join(" / "),
        cov.join(" / "),
        t.until
    )
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The all-LA model's backtest for people: scores per method and horizon, the model by origin, and the model
/// against the best baseline at each horizon.
pub fn backtest_report(r: &PublishedBacktest, tuning: Option<&Tuning>) -> Report {
    let origins: Vec<String> = r.origins.iter().map(ToString::to_string).collect();
    let mut out = Report::new(format!(
        "Backtest of the all-LA model on the published statistics: origins {}",
        origins.join(", ")
    ));
    if let Some(t) = tuning {
        out.summary_text(&tuning_line(t));
    }
    out.summary.extend(
        [
            "(fit on what was published by each origin, forecast every LA ahead, compare with the published plans; every",
            " method scored on the same LA-years; values estimated across a boundary change are not scored; \"LA only\" =",
            " MAPE after each origin's forecasts are rescaled to the true total, i.e. England's own error removed)",
        ]
        .map(String::from),
    );
    let mut scores = Table::new("Scores", "Accuracy by method and horizon")
        .column("method", Kind::Text)
        .column("horizon", Kind::Count)
        .column("cases", Kind::Count)
        .column("MAPE", Kind::Percent)
        .column("LA only", Kind::Percent)
        .column("bias", Kind::Percent)
        .column("cov 80%", Kind::Percent);
    for s in &r.scores {
        scores.push(vec![
            s.method.code().into(),
            s.horizon.into(),
            s.cases.into(),
            s.mape.into(),
            s.mape_england_removed.into(),
            s.bias.into(),
            s.coverage_80.into(),
        ]);
    }
    out.tables.push(scores);
    let mut by_origin = Table::new(
        "Model by origin",
        format!("The model at horizon {} by origin", r.horizon),
    )
    .column("origin", Kind::Year)
    .column("cases", Kind::Count)
    .column("MAPE", Kind::Percent)
    .column("bias", Kind::Percent)
    .column("cov 80%", Kind::Percent);
    for (o, s) in &r.by_origin {
        by_origin.push(vec![
            (*o).into(),
            s.cases.into(),
            s.mape.into(),
            s.bias.into(),
            s.coverage_80.into(),
        ]);
    }
    out.tables.push(by_origin);
    let mut best = Table::new(
        "Model vs best baseline",
        "The model against the best baseline at each horizon (80% intervals should cover 75-85%)",
    )
    .column("horizon", Kind::Count)
    .column("model MAPE", Kind::Percent)
    .column("best baseline", Kind::Text)
    .column("its MAPE", Kind::Percent)
    .column("model cov 80%", Kind::Percent);
    for h in 1..=r.horizon {
        let best_baseline = r
            .scores
            .iter()
            .filter(|s| s.horizon == h && s.method != Method::Pooled && s.cases > 0)
            .min_by(|a, b| a.mape.total_cmp(&b.mape));
        if let (Some(m), Some(b)) = (r.score(Method::Pooled, h), best_baseline) {
            best.push(vec![
                h.into(),
                m.mape.into(),
                b.method.code().into(),
                b.mape.into(),
                m.coverage_80.into(),
            ]);
        }
    }
    out.tables.push(best);
    out
}

fn backtest_json(r: &PublishedBacktest) -> serde_json::Value {
    json!({
        "origins": r.origins,
        "horizon": r.horizon,
        "scores": r.scores.iter().map(|s| json!({
            "method": s.method.code(), "horizon": s.horizon, "cases": s.cases,
            "mape": s.mape, "mape_england_removed": s.mape_england_removed, "bias": s.bias,
            "coverage_80": s.coverage_80,
        })).collect::<Vec<_>>(),
        "by_origin": r.by_origin.iter().map(|(o, s)| json!({
            "origin": o, "cases": s.cases, "mape": s.mape, "bias": s.bias, "coverage_80": s.coverage_80,
        })).collect::<Vec<_>>(),
    })
}
