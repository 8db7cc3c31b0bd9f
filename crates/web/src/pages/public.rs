//! `GET /public`: the transparency view, no sign-in. Aggregates only; counts under the threshold (5 unless the
//! server is told otherwise) are withheld, with secondary suppression so totals and differences cannot reveal them.

use axum::extract::State;
use maud::{html, Markup};
use serde_json::{json, Value};

use highneeds_usecases::disclosure::{suppress, Cell};

use crate::figures::{self, Figures};
use crate::tables::Breakdown;
use crate::views::{page, table, AppError};
use crate::Shared;

/// One breakdown of a census as published: the census year, (category, cell) pairs and the total.
pub struct Published {
    pub census_year: i32,
    pub cells: Vec<(String, Cell)>,
    pub total: Cell,
}

/// One suppressed breakdown of the latest census: (category, cell) and the total.
pub fn suppressed(f: &Figures, by: Breakdown, threshold: u64) -> Option<Published> {
    let c = f.caseload.last()?;
    let cells = by.of(c);
    let counts: Vec<u64> = cells.iter().map(|(_, v)| *v).collect();
    let (shown, total) = suppress(&counts, threshold);
    Some(Published {
        census_year: c.census_year.year(),
        cells: cells.into_iter().map(|(k, _)| k).zip(shown).collect(),
        total,
    })
}

/// Totals at each census, each on its own suppressed (a total under the threshold is withheld).
pub fn totals(f: &Figures, threshold: u64) -> Vec<(i32, Cell)> {
    f.caseload
        .iter()
        .map(|c| (c.census_year.year(), suppress(&[c.total], threshold).1))
        .collect()
}

/// The public figures as JSON (the API's `/api/v1/public/caseload`).
pub fn as_json(state: &Shared, f: &Figures) -> Value {
    let t = state.public_threshold;
    let cell = |c: Cell| match c {
        Cell::Shown(n) => json!(n),
        Cell::Withheld => json!(null),
    };
    let breakdown = |by: Breakdown| {
        suppressed(f, by, t).map(|Published { census_year: year, cells, total }| {
            json!({"census_year": year, "total": cell(total),
                   "cells": cells.into_iter().map(|(k, c)| json!({"category": k, "plans": cell(c)})).collect::<Vec<_>>()})
        })
    };
    json!({
        "la": {"code": state.la_code, "name": state.la_name},
        "suppression": {"threshold": t, "rule": format!("counts from 1 to {} are withheld (null), with secondary suppression so totals cannot reveal them", t - 1)},
        "totals": totals(f, t).into_iter().map(|(y, c)| json!({"census_year": y, "plans": cell(c)})).collect::<Vec<_>>(),
        "by_setting": breakdown(Breakdown::Setting),
        "by_need": breakdown(Breakdown::Need),
        "by_age_group": breakdown(Breakdown::AgeGroup),
    })
}

fn rows_with_total(cells: &[(String, Cell)], total: Cell) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = cells
        .iter()
        .map(|(k, c)| vec![k.clone(), c.text()])
        .collect();
    rows.push(vec!["total".to_string(), total.text()]);
    rows
}

pub async fn page_handler(State(state): State<Shared>) -> Result<Markup, AppError> {
    let f = figures::get(&state).await?;
    let t = state.public_threshold;
    let total_rows: Vec<Vec<String>> = totals(&f, t)
        .into_iter()
        .map(|(y, c)| vec![y.to_string(), c.text()])
        .collect();
    let content = html! {
        p { "EHC plans in " (state.la_name) ", from the council's own records. Figures for groups of fewer than " (t)
            " children are withheld and marked " strong { "[c]" } "; where one withheld figure could be worked out from a total, another is withheld too." }
        (table("public-totals", "EHC plans at each January census", &["census".to_string(), "plans".to_string()], &total_rows, None))
        @for by in [Breakdown::Setting, Breakdown::Need, Breakdown::AgeGroup] {
            @if let Some(Published { census_year: year, cells, total }) = suppressed(&f, by, t) {
                @let rows = rows_with_total(&cells, total);
                (table(&format!("public-{}", by.code()), &format!("EHC plans by {}, January {year} ([c]: withheld)", by.label()), &[by.label().to_string(), "plans".to_string()], &rows, None))
            }
        }
        p { "The same figures as JSON: " a href="/api/v1/public/caseload" { "/api/v1/public/caseload" } }
    };
    Ok(page("Public view", None, &state.la_name, content))
}
