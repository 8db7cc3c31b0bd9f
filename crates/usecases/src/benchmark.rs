//! The benchmark as a report (table text and JSON), as `highneeds benchmark` prints it and the dashboard
//! shows it: an LA against its statistical neighbours and England on published indicators.

use highneeds_domain::{LaCode, PublishedStatistics};
use highneeds_model::benchmark::{Benchmark, IndicatorKind};
use serde_json::json;

use crate::report::{text, Cell, Kind, Report, Table};

/// How an indicator's values are shown: plans as a count, new plans per 100 with one decimal, growth with its
/// sign, the rest as shares.
fn kind_of(k: IndicatorKind) -> Kind {
    if k.is_count() {
        Kind::Count
    } else if k == IndicatorKind::NewPlansPer100 {
        Kind::Decimal(1)
    } else if k == IndicatorKind::Growth5 {
        Kind::Change
    } else {
        Kind::Percent
    }
}

fn name(stats: &PublishedStatistics, la: LaCode) -> String {
    stats.name(la).unwrap_or("").to_string()
}

fn neighbours_table(b: &Benchmark, stats: &PublishedStatistics) -> Table {
    let mut t = Table::new(
        "Neighbours",
        if b.given {
            "Neighbours (given by the LA)"
        } else {
            "Neighbours (nearest on the similarity indicators: distance of z-scores, 0 = identical)"
        },
    )
    .column("la_code", Kind::Text)
    .column("name", Kind::Text)
    .column("distance", Kind::Decimal(2));
    for k in IndicatorKind::SIMILARITY {
        t = t.column(short(k), kind_of(k));
    }
    t = t.column("closest on", Kind::Text);
    let me = highneeds_model::benchmark::Neighbour {
        la: b.la,
        distance: Some(0.0),
        values: Vec::new(),
        closest: Vec::new(),
    };
    for n in std::iter::once(&me).chain(&b.neighbours) {
        let mut row = vec![
            n.la.as_str().into(),
            name(stats, n.la).into(),
            n.distance.into(),
        ];
        for (i, k) in IndicatorKind::SIMILARITY.iter().enumerate() {
            let v = if n.la == b.la {
                b.positions
                    .iter()
                    .find(|p| p.kind == *k)
                    .and_then(|p| p.value)
            } else {
                n.values.get(i).copied().flatten()
            };
            row.push(v.into());
        }
        let why: Vec<&str> = n.closest.iter().map(|k| short(*k)).collect();
        row.push(if why.is_empty() {
            Cell::Missing
        } else {
            why.join(", ").into()
        });
        t.push(row);
    }
    t
}

fn position_table(b: &Benchmark) -> Table {
    let mut t = Table::new(
        "Position",
        "Position (rank 1 = highest; quartile 1 = top quarter of LAs)",
    )
    .column("indicator", Kind::Text)
    .column("LA", Kind::Decimal(1))
    .column("neighbours", Kind::Decimal(1))
    .column("England", Kind::Decimal(1))
    .column("rank", Kind::Count)
    .column("of LAs", Kind::Count)
    .column("quartile", Kind::Count)
    .column("among nbrs", Kind::Count)
    .column("of", Kind::Count);
    for p in &b.positions {
        let k = kind_of(p.kind);
        t.push(vec![
            p.kind.label().into(),
            Cell::typed(p.value, k),
            Cell::typed(p.neighbours_median, k),
            Cell::typed(p.england, k),
            Cell::number(p.rank_england.map(|r| r.0 as f64)),
            Cell::number(p.rank_england.map(|r| r.1 as f64)),
            Cell::number(p.quartile.map(f64::from)),
            Cell::number(p.rank_neighbours.map(|r| r.0 as f64)),
            Cell::number(p.rank_neighbours.map(|r| r.1 as f64)),
        ]);
    }
    t.note("(neighbours = their median; flows and process rates are for the calendar year before the census)");
    t
}

/// The benchmark as a report: the neighbours, then the LA's position on each indicator.
pub fn report(b: &Benchmark, stats: &PublishedStatistics) -> Report {
    let mut r = Report::new(format!(
        "Benchmark: {} ({}), January {} census",
        name(stats, b.la),
        b.la,
        b.year
    ));
    r.tables.push(neighbours_table(b, stats));
    r.tables.push(position_table(b));
    r.notes = b.notes.clone();
    r
}

/// The report as text (what `highneeds benchmark` prints and the dashboard shows).
pub fn table(b: &Benchmark, stats: &PublishedStatistics) -> String {
    text::render(&report(b, stats))
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
