//! The benchmark as a report (table text and JSON), as `highneeds benchmark` prints it and the dashboard
//! shows it: an LA against its statistical neighbours and England on published indicators.

use std::fmt::Write as _;

use highneeds_domain::{LaCode, PublishedStatistics};
use highneeds_model::benchmark::{Benchmark, IndicatorKind};
use serde_json::json;

fn value(kind: IndicatorKind, v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if kind.is_count() => format!("{v:.0}"),
        Some(v) if kind == IndicatorKind::NewPlansPer100 => format!("{v:.1}"),
        Some(v) if kind == IndicatorKind::Growth5 => format!("{:+.1}%", v * 100.0),
        Some(v) => format!("{:.1}%", v * 100.0),
    }
}

fn name(stats: &PublishedStatistics, la: LaCode) -> String {
    stats.name(la).unwrap_or("").chars().take(32).collect()
}

pub fn table(b: &Benchmark, stats: &PublishedStatistics) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Benchmark: {} ({}), January {} census",
        name(stats, b.la),
        b.la,
        b.year
    );
    let _ = writeln!(
        out,
        "\nNeighbours {}",
        if b.given {
            "(given by the LA)"
        } else {
            "(nearest on the similarity indicators: distance of z-scores, 0 = identical)"
        }
    );
    let _ = write!(out, "  {:<10} {:<32} {:>8}", "la_code", "name", "distance");
    for k in IndicatorKind::SIMILARITY {
        let _ = write!(out, " {:>10}", short(k));
    }
    out.push('\n');
    let me = highneeds_model::benchmark::Neighbour {
        la: b.la,
        distance: Some(0.0),
        values: Vec::new(),
        closest: Vec::new(),
    };
    for n in std::iter::once(&me).chain(&b.neighbours) {
        let _ = write!(
            out,
            "  {:<10} {:<32} {:>8}",
            n.la.as_str(),
            name(stats, n.la),
            n.distance
                .map(|d| format!("{d:.2}"))
                .unwrap_or_else(|| "-".into())
        );
        for (i, k) in IndicatorKind::SIMILARITY.iter().enumerate() {
            let v = if n.la == b.la {
                b.positions
                    .iter()
                    .find(|p| p.kind == *k)
                    .and_then(|p| p.value)
            } else {
                n.values.get(i).copied().flatten()
            };
            let _ = write!(out, " {:>10}", value(*k, v));
        }
        let why: Vec<&str> = n.closest.iter().map(|k| short(*k)).collect();
        if !why.is_empty() {
            let _ = write!(out, "  closest on {}", why.join(", "));
        }
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\nPosition (rank 1 = highest; quartile 1 = top quarter of LAs)"
    );
    let _ = writeln!(
        out,
        "  {:<38} {:>9} {:>11} {:>9} {:>10} {:>8} {:>11}",
        "indicator", "LA", "neighbours", "England", "rank", "quartile", "among nbrs"
    );
    for p in &b.positions {
        let _ = writeln!(
            out,
            "  {:<38} {:>9} {:>11} {:>9} {:>10} {:>8} {:>11}",
            p.kind.label(),
            value(p.kind, p.value),
            value(p.kind, p.neighbours_median),
            value(p.kind, p.england),
            p.rank_england
                .map(|(r, n)| format!("{r}/{n}"))
                .unwrap_or_else(|| "-".into()),
            p.quartile
                .map(|q| q.to_string())
                .unwrap_or_else(|| "-".into()),
            p.rank_neighbours
                .map(|(r, n)| format!("{r}/{n}"))
                .unwrap_or_else(|| "-".into()),
        );
    }
    let _ = writeln!(
        out,
        "  (neighbours = their median; flows and process rates are for the calendar year before the census)"
    );
    let _ = writeln!(out, "\nNotes");
    for n in &b.notes {
        let _ = writeln!(out, "  - {n}");
    }
    out
}

fn short(k: IndicatorKind) -> &'static str {
    match k {
        IndicatorKind::Plans => "plans",
        IndicatorKind::Growth5 => "growth/yr",
        IndicatorKind::Age16To25 => "16-25",
        IndicatorKind::Mainstream => "mainstream",
        IndicatorKind::Specialist => "specialist",
        IndicatorKind::Independent => "independ.",
        _ => "",
    }
}

/// The benchmark as JSON (`highneeds benchmark --format json`).
pub fn to_json(b: &Benchmark, stats: &PublishedStatistics) -> serde_json::Value {
    json!({
        "la_code": b.la.as_str(),
        "la_name": stats.name(b.la),
        "census_year": b.year,
        "neighbours_given": b.given,
        "similarity_indicators": IndicatorKind::SIMILARITY.iter().map(|k| k.code()).collect::<Vec<_>>(),
        "neighbours": b.neighbours.iter().map(|n| json!({
            "la_code": n.la.as_str(), "la_name": stats.name(n.la), "distance": n.distance,
            "closest_on": n.closest.iter().map(|k| k.code()).collect::<Vec<_>>(),
            "values": IndicatorKind::SIMILARITY.iter().zip(&n.values)
                .map(|(k, v)| (k.code().to_string(), json!(v)))
                .collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
        "indicators": b.positions.iter().map(|p| json!({
            "code": p.kind.code(), "label": p.kind.label(), "value": p.value,
            "neighbours_median": p.neighbours_median, "england": p.england,
            "rank": p.rank_england.map(|r| r.0), "of": p.rank_england.map(|r| r.1),
            "quartile": p.quartile, "rank_among_neighbours": p.rank_neighbours.map(|r| r.0),
        })).collect::<Vec<_>>(),
        "notes": b.notes,
    })
}
