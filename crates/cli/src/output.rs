//! Rendering results for people (tables) and for other tools (CSV, JSON). The JSON shapes here are contracts:
//! other tools read them, so fields are only ever added, never renamed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use highneeds_domain::money::group_thousands;
use highneeds_domain::Pence;
use highneeds_domain::{Setting, SettingMap};
use highneeds_model::aggregate::AggregateForecast;
use highneeds_model::forecast::{CensusForecast, FinancialYearForecast};
use highneeds_model::{Forecast, Summary};
use highneeds_usecases::report::{Cell, Kind, Report, Table};
use serde::Serialize;

pub use highneeds_usecases::scenario_json::{quantile_key, summary_json};

fn pence_json(f: &FinancialYearForecast) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("mean".into(), f.mean.pence().into());
    for &(p, v) in &f.quantiles {
        m.insert(quantile_key(p), v.pence().into());
    }
    m.insert("sd".into(), f.sd.pence().into());
    serde_json::Value::Object(m)
}

/// Three decimals are plenty for expected counts and keep the JSON readable.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[derive(Serialize)]
struct ForecastJson<'a> {
    model: &'a str,
    engine: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sims: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    base_census_year: i32,
    base_total: u64,
    census_years: Vec<CensusJson>,
    financial_years: Vec<FinancialJson>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct CensusJson {
    census_year: i32,
    total: serde_json::Value,
    by_setting: BTreeMap<String, serde_json::Value>,
    by_need: BTreeMap<String, serde_json::Value>,
    by_age_group: BTreeMap<String, serde_json::Value>,
    joiners: serde_json::Value,
    leavers: serde_json::Value,
    /// Means by canonical setting (through the setting map); absent when no setting maps.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    by_canonical_setting: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize)]
struct FinancialJson {
    financial_year: String,
    cost_pence: serde_json::Value,
    /// The cost's place-funding and top-up parts, when the unit costs give the split.
    #[serde(skip_serializing_if = "Option::is_none")]
    place_funding_pence: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_up_pence: Option<serde_json::Value>,
}

/// Mean plans by canonical setting: the LA's settings summed through the map (`unmapped` for settings the map
/// does not cover). Means add up exactly; quantiles of sums would need the engines, so only means are given.
/// Empty when no setting maps.
pub fn canonical_means(c: &CensusForecast, map: &SettingMap) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    let mut mapped = false;
    for (code, s) in &c.by_setting {
        let key = code
            .parse::<Setting>()
            .ok()
            .and_then(|st| map.canonical_for(&st))
            .map(|cs| {
                mapped = true;
                cs.code().to_string()
            })
            .unwrap_or_else(|| "unmapped".to_string());
        *out.entry(key).or_default() += s.mean;
    }
    if mapped {
        out
    } else {
        BTreeMap::new()
    }
}

pub fn forecast_json(f: &Forecast, map: &SettingMap) -> String {
    let doc = ForecastJson {
        model: "transitions",
        engine: f.engine.code(),
        sims: f.sims,
        seed: f.seed,
        base_census_year: f.base_census.year(),
        base_total: f.base_total,
        census_years: f
            .census_years
            .iter()
            .zip(&f.flows)
            .map(|(c, fl)| CensusJson {
                census_year: c.census_year.year(),
                total: summary_json(&c.total),
                by_setting: c
                    .by_setting
                    .iter()
                    .map(|(k, s)| (k.clone(), summary_json(s)))
                    .collect(),
                by_need: c
                    .by_need
                    .iter()
                    .map(|(k, s)| (k.clone(), summary_json(s)))
                    .collect(),
                by_age_group: c
                    .by_age_group
                    .iter()
                    .map(|(g, s)| (g.code().to_string(), summary_json(s)))
                    .collect(),
                joiners: summary_json(&fl.joiners),
                leavers: summary_json(&fl.leavers),
                by_canonical_setting: canonical_means(c, map)
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::json!({ "mean": round3(v) })))
                    .collect(),
            })
            .collect(),
        financial_years: f
            .financial_years
            .iter()
            .enumerate()
            .map(|(i, y)| FinancialJson {
                financial_year: y.financial_year.to_string(),
                cost_pence: pence_json(y),
                place_funding_pence: f.place_funding.get(i).map(pence_json),
                top_up_pence: f.top_up.get(i).map(pence_json),
            })
            .collect(),
        notes: &f.notes,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// One row per figure: `measure,year,breakdown,key,mean,p05,p50,p95` (+ extra quantiles).
pub fn forecast_csv(f: &Forecast) -> String {
    let qs: Vec<f64> = f
        .census_years
        .first()
        .map(|c| c.total.quantiles.iter().map(|q| q.0).collect())
        .unwrap_or_default();
    let mut out = String::from("measure,year,breakdown,key,mean");
    for &q in &qs {
        let _ = write!(out, ",{}", quantile_key(q));
    }
    out.push('\n');
    let mut row = |measure: &str, year: &str, breakdown: &str, key: &str, s: &Summary| {
        // An LA's own codes may start with + or -: quoted so a spreadsheet shows them instead of running them.
        let key = highneeds_ingest::neutralise_formula(key);
        let _ = write!(out, "{measure},{year},{breakdown},{key},{:.3}", s.mean);
        for &(_, v) in &s.quantiles {
            let _ = write!(out, ",{v:.3}");
        }
        out.push('\n');
    };
    for (c, fl) in f.census_years.iter().zip(&f.flows) {
        let y = c.census_year.to_string();
        row("plans", &y, "total", "all", &c.total);
        for (k, s) in &c.by_setting {
            row("plans", &y, "setting", k, s);
        }
        for (k, s) in &c.by_need {
            row("plans", &y, "need", k, s);
        }
        for (g, s) in &c.by_age_group {
            row("plans", &y, "age_group", g.code(), s);
        }
        row("joiners", &y, "total", "all", &fl.joiners);
        row("leavers", &y, "total", "all", &fl.leavers);
    }
    for (measure, line) in [
        ("cost_pence", &f.financial_years),
        ("place_funding_pence", &f.place_funding),
        ("top_up_pence", &f.top_up),
    ] {
        for y in line {
            let _ = write!(
                out,
                "{measure},{},total,all,{}",
                y.financial_year,
                y.mean.pence()
            );
            for &(_, v) in &y.quantiles {
                let _ = write!(out, ",{}", v.pence());
            }
            out.push('\n');
        }
    }
    out
}

/// "Monte-Carlo, 1000 simulations, seed 1" or "analytic".
fn engine_label(f: &Forecast) -> String {
    match (f.engine, f.sims) {
        (highneeds_model::Engine::MonteCarlo, Some(n)) => {
            format!("Monte-Carlo, {n} simulations, seed {}", f.seed.unwrap_or(0))
        }
        _ => "analytic".to_string(),
    }
}

/// Means by one breakdown (setting, need, age group) in every projected census: one row per key, one column per
/// census.
fn breakdown_table(
    sheet: &str,
    title: &str,
    key: &str,
    years: &[CensusForecast],
    values: impl Fn(&CensusForecast) -> Vec<(String, f64)>,
) -> Table {
    let mut t = Table::new(sheet, title).column(key, Kind::Text);
    for c in years {
        t = t.column(c.census_year.to_string(), Kind::Count);
    }
    let mut keys: Vec<String> = Vec::new();
    let per_year: Vec<Vec<(String, f64)>> = years.iter().map(&values).collect();
    for (k, _) in per_year.iter().flatten() {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    for k in keys {
        let mut row = vec![Cell::text(k.clone())];
        for y in &per_year {
            row.push(Cell::number(y.iter().find(|(kk, _)| *kk == k).map(|v| v.1)));
        }
        t.push(row);
    }
    t
}

/// Plans per projected census with the 90 % interval, joiners and leavers (and any extra quantiles asked for).
/// A table of plans at each census with their 90% interval (rows pushed by the caller; more columns may follow).
pub fn plans_at_censuses(sheet: &str, title: &str) -> Table {
    Table::new(sheet, title)
        .column("census", Kind::Year)
        .column("plans", Kind::Count)
        .column("90% low", Kind::Count)
        .column("90% high", Kind::Count)
}

fn plans_table(f: &Forecast) -> Table {
    let extra: Vec<f64> = f
        .census_years
        .first()
        .map(|c| c.total.quantiles.iter().map(|q| q.0).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|q| ![0.05, 0.5, 0.95].iter().any(|s| (q - s).abs() < 1e-9))
        .collect();
    let mut t = plans_at_censuses(
        "Plans",
        "EHC plans at each January census (means, 90% interval)",
    );
    for q in &extra {
        t = t.column(quantile_key(*q), Kind::Count);
    }
    t = t
        .column("joiners", Kind::Count)
        .column("leavers", Kind::Count);
    for (c, fl) in f.census_years.iter().zip(&f.flows) {
        let mut row: Vec<Cell> = vec![
            c.census_year.year().into(),
            c.total.mean.into(),
            c.total.quantile(0.05).into(),
            c.total.quantile(0.95).into(),
        ];
        row.extend(extra.iter().map(|q| Cell::number(c.total.quantile(*q))));
        row.extend([fl.joiners.mean.into(), fl.leavers.mean.into()]);
        t.push(row);
    }
    t
}

/// Cost per financial year with the 90 % interval (and place funding and top-up when the unit costs split).
fn cost_table(f: &Forecast) -> Table {
    let split = !f.place_funding.is_empty();
    let mut t = Table::new(
        "Cost",
        "Cost of the plans by financial year (means, 90% interval)",
    )
    .column("FY", Kind::Text)
    .column("cost", Kind::MoneyMillions)
    .column("90% low", Kind::MoneyMillions)
    .column("90% high", Kind::MoneyMillions);
    if split {
        t = t
            .column("place funding", Kind::MoneyMillions)
            .column("top-up", Kind::MoneyMillions);
    }
    for (i, y) in f.financial_years.iter().enumerate() {
        let mut row = vec![
            Cell::text(y.financial_year.to_string()),
            y.mean.into(),
            y.quantile(0.05).map_or(Cell::Missing, Cell::Money),
            y.quantile(0.95).map_or(Cell::Missing, Cell::Money),
        ];
        if let (Some(p), Some(u)) = (f.place_funding.get(i), f.top_up.get(i)) {
            row.extend([p.mean.into(), u.mean.into()]);
        }
        t.push(row);
    }
    t
}

/// The forecast for people: plans per census with the 90 % interval, means by setting, need and age group in
/// every census, and cost by financial year.
pub fn forecast_report(f: &Forecast, source: &str, map: &SettingMap) -> Report {
    let mut r = Report::new(format!(
        "Forecast of EHC plans from {source} ({})",
        engine_label(f)
    ));
    r.summary.push(format!(
        "January {}: {} plans (actual)",
        f.base_census,
        group_thousands(i128::from(f.base_total))
    ));
    r.tables.push(plans_table(f));
    let years = &f.census_years;
    r.tables.push(breakdown_table(
        "By setting",
        "Plans by setting (means)",
        "setting",
        years,
        |c| {
            c.by_setting
                .iter()
                .map(|(k, s)| (k.clone(), s.mean))
                .collect()
        },
    ));
    let differs = years.last().is_some_and(|last| {
        let canonical = canonical_means(last, map);
        !canonical.is_empty() && canonical.keys().ne(last.by_setting.iter().map(|(k, _)| k))
    });
    if differs {
        r.tables.push(breakdown_table(
            "By canonical setting",
            "Plans by canonical setting, through the setting map (means)",
            "canonical setting",
            years,
            |c| canonical_means(c, map).into_iter().collect(),
        ));
    }
    r.tables.push(breakdown_table(
        "By need",
        "Plans by need (means)",
        "need",
        years,
        |c| c.by_need.iter().map(|(k, s)| (k.clone(), s.mean)).collect(),
    ));
    r.tables.push(breakdown_table(
        "By age group",
        "Plans by age group (means)",
        "age group",
        years,
        |c| {
            c.by_age_group
                .iter()
                .map(|(g, s)| (g.label().to_string(), s.mean))
                .collect()
        },
    ));
    if f.financial_years.iter().any(|y| y.mean != Pence::ZERO) {
        r.tables.push(cost_table(f));
    }
    r.notes = f.notes.clone();
    r
}

/// The aggregate fallback in the forecast contract's shape: `model` says which ran; totals only.
pub fn aggregate_json(f: &AggregateForecast) -> String {
    let doc = serde_json::json!({
        "model": f.model.code(),
        "engine": "analytic",
        "base_census_year": f.base_census.year(),
        "base_total": f.base_total.round() as u64,
        "census_years": f.census_years.iter().map(|(y, s)| serde_json::json!({
            "census_year": y.year(),
            "total": summary_json(s),
        })).collect::<Vec<_>>(),
        "financial_years": [],
        "notes": f.notes,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

pub fn aggregate_csv(f: &AggregateForecast) -> String {
    let mut out = String::from("measure,year,breakdown,key,mean");
    if let Some((_, s)) = f.census_years.first() {
        for &(q, _) in &s.quantiles {
            let _ = write!(out, ",{}", quantile_key(q));
        }
    }
    out.push('\n');
    for (y, s) in &f.census_years {
        let _ = write!(out, "plans,{y},total,all,{:.3}", s.mean);
        for &(_, v) in &s.quantiles {
            let _ = write!(out, ",{v:.3}");
        }
        out.push('\n');
    }
    out
}

/// The aggregate fallback for people: plans per census with the 90 % interval.
pub fn aggregate_report(f: &AggregateForecast, source: &str) -> Report {
    let mut r = Report::new(format!(
        "Forecast of EHC plans from {source} ({} model: aggregate counts only)",
        f.model.code()
    ));
    r.summary.push(format!(
        "January {}: {} plans (actual)",
        f.base_census,
        group_thousands(f.base_total.round() as i128)
    ));
    let mut t = plans_at_censuses(
        "Plans",
        "EHC plans at each January census (means, 90% interval)",
    );
    for (y, s) in &f.census_years {
        t.push(vec![
            y.year().into(),
            s.mean.into(),
            s.quantile(0.05).into(),
            s.quantile(0.95).into(),
        ]);
    }
    r.tables.push(t);
    r.notes = f.notes.clone();
    r
}

pub mod scenario;
pub mod workbook;
