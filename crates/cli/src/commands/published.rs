//! The DfE's published statistics: reading the folder the user names, and the all-LA forecast and backtest
//! (`forecast --published`, `backtest --published`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use highneeds_domain::published::CurrentSeries;
use highneeds_domain::{LaCode, Measure, PublishedStatistics};
use highneeds_model::published_forecast::{
    backtest, project, tune, Method, PublishedBacktest, PublishedForecastOptions, Tuning,
};
use serde_json::json;

pub use highneeds_usecases::published::{la_code, la_records, lifetime_note};

use crate::args::{Format, ReportFormat};
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
pub fn forecast(dir: &Path, origin: Option<i32>, years: u32, format: Format) -> Result<ExitCode> {
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
            out.push_str("la_code,census_year,mean,p10,p90\n");
            for p in &projections {
                let _ = writeln!(
                    out,
                    "{},{},{:.1},{:.1},{:.1}",
                    p.la, p.census_year, p.mean, p.p10, p.p90
                );
            }
        }
        Format::Json => {
            let rows: Vec<_> = projections
                .iter()
                .map(|p| {
                    json!({"la_code": p.la.as_str(), "la_name": stats.name(p.la),
                           "census_year": p.census_year, "base": history.get(&p.la).and_then(|s| s.get(&origin)),
                           "mean": round1(p.mean), "p10": round1(p.p10), "p90": round1(p.p90)})
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
            let _ = writeln!(
                out,
                "Forecast of EHC plans for every LA from the published statistics, origin January {origin}"
            );
            let _ = writeln!(
                out,
                "(England's growth carried forward, each LA's deviation predicted from its own trend, new plans and requests
 relative to England; 80% intervals from the model's own errors at earlier origins)\n"
            );
            let _ = writeln!(
                out,
                "{:<10} {:<36} {:>6} {:>9} {:>9} {:>9} {:>9}",
                "la_code", "name", "census", "base", "mean", "p10", "p90"
            );
            for p in &projections {
                let base = history
                    .get(&p.la)
                    .and_then(|s| s.get(&origin))
                    .copied()
                    .unwrap_or(0.0);
                let name: String = stats.name(p.la).unwrap_or("").chars().take(36).collect();
                let _ = writeln!(
                    out,
                    "{:<10} {:<36} {:>6} {:>9.0} {:>9.0} {:>9.0} {:>9.0}",
                    p.la.as_str(),
                    name,
                    p.census_year,
                    base,
                    p.mean,
                    p.p10,
                    p.p90
                );
            }
            for n in &current.notes {
                let _ = writeln!(out, "note: {n}");
            }
        }
    }
    println!("{}", out.trim_end());
    Ok(ExitCode::SUCCESS)
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
        ReportFormat::Table => {
            let mut text = String::new();
            if let Some(t) = &tuning {
                text.push_str(&tuning_line(t));
            }
            text.push_str(&backtest_table(&report));
            print!("{text}");
        }
        ReportFormat::Json => {
            let mut v = backtest_json(&report);
            v["parameters"] = json!({
                "indicators": opts.indicators.describe(), "ridge": opts.ridge,
                "national_years": opts.national_years, "error_memory": opts.error_memory,
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
        "Settings chosen on the censuses up to {} only ({} sets tried, least mean MAPE over horizons 1-{}):\n  \
         indicators: {}; ridge {}; England's growth over {} year(s); error memory {}\n  \
         (early origins: MAPE {}, 80% coverage {})\n\
         Scored below on the origins after {} only.\n\n",
        t.until,
        t.tried,
        t.horizon,
        c.indicators.describe(),
        c.ridge,
        c.national_years,
        c.error_memory,
        early.join(" / "),
        cov.join(" / "),
        t.until
    )
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

pub fn backtest_table(r: &PublishedBacktest) -> String {
    let mut out = String::new();
    let origins: Vec<String> = r.origins.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        out,
        "Backtest of the all-LA model on the published statistics: origins {}",
        origins.join(", ")
    );
    let _ = writeln!(
        out,
        "(fit on what was published by each origin, forecast every LA ahead, compare with the published plans; every\n \
         method scored on the same LA-years; values estimated across a boundary change are not scored; \"LA only\" =\n \
         MAPE after each origin's forecasts are rescaled to the true total, i.e. England's own error removed)\n"
    );
    let _ = writeln!(
        out,
        "{:<24} {:>7} {:>6} {:>7} {:>8} {:>7} {:>8}",
        "method", "horizon", "cases", "MAPE", "LA only", "bias", "cov 80%"
    );
    for s in &r.scores {
        let _ = writeln!(
            out,
            "{:<24} {:>7} {:>6} {:>7} {:>8} {:>7} {:>8}",
            s.method.code(),
            s.horizon,
            s.cases,
            pct(s.mape),
            pct(s.mape_england_removed),
            pct(s.bias),
            s.coverage_80.map(pct).unwrap_or_else(|| "-".into())
        );
    }
    let _ = writeln!(
        out,
        "\nthe model at horizon {} by origin:\n{:<8} {:>6} {:>7} {:>7} {:>8}",
        r.horizon, "origin", "cases", "MAPE", "bias", "cov 80%"
    );
    for (o, s) in &r.by_origin {
        let _ = writeln!(
            out,
            "{:<8} {:>6} {:>7} {:>7} {:>8}",
            o,
            s.cases,
            pct(s.mape),
            pct(s.bias),
            s.coverage_80.map(pct).unwrap_or_else(|| "-".into())
        );
    }
    for h in 1..=r.horizon {
        let best_baseline = r
            .scores
            .iter()
            .filter(|s| s.horizon == h && s.method != Method::Pooled && s.cases > 0)
            .min_by(|a, b| a.mape.total_cmp(&b.mape));
        if let (Some(m), Some(b)) = (r.score(Method::Pooled, h), best_baseline) {
            let _ = writeln!(
                out,
                "{}horizon {h}: model MAPE {} vs the best baseline ({}) {}; 80% intervals cover {} (target 75-85%)",
                if h == 1 { "\n" } else { "" },
                pct(m.mape),
                b.method.code(),
                pct(b.mape),
                m.coverage_80.map(pct).unwrap_or_else(|| "-".into())
            );
        }
    }
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
