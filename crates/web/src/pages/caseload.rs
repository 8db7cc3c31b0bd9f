//! `GET /caseload`: plans by setting, need or age group at every census, joiners and leavers; each bar links
//! to the table row behind it. `GET /caseload/records`: the person-level records (analysts and above).

use axum::extract::{Query, State};
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;

use crate::caller::Caller;
use crate::figures;
use crate::tables::{self, Breakdown};
use crate::views::{bar_chart, page, table, AppError};
use crate::Shared;

#[derive(Deserialize)]
pub struct Choice {
    by: Option<String>,
    census: Option<i32>,
}

/// `GET /caseload?by=setting|need|age_group&census=YYYY`.
pub async fn page_handler(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(choice): Query<Choice>,
) -> Result<Markup, AppError> {
    let f = figures::get(&state).await?;
    let by = choice
        .by
        .as_deref()
        .and_then(Breakdown::parse)
        .unwrap_or(Breakdown::Setting);
    let census = choice
        .census
        .and_then(|y| f.caseload.iter().find(|c| c.census_year.year() == y))
        .or(f.caseload.last());
    let t = tables::caseload(&f, by);
    let content = html! {
        nav aria-label="Breakdown" class="tabs" {
            ul { @for b in [Breakdown::Setting, Breakdown::Need, Breakdown::AgeGroup, Breakdown::Ncy] {
                li { a href=(format!("/caseload?by={}", b.code())) aria-current=[(b == by).then_some("page")] { "By " (b.label()) } }
            } }
        }
        @if let Some(c) = census {
            h2 { "Plans by " (by.label()) ", January " (c.census_year) }
            @let bars: Vec<(String, f64, String)> = by.of(c).into_iter()
                .map(|(k, v)| (k, v as f64, format!("/caseload?by={}&census={}#caseload-table", by.code(), c.census_year.year())))
                .collect();
            (bar_chart("caseload-chart", &format!("Plans by {} in January {}", by.label(), c.census_year), &bars))
            p { "Each bar links to the table below. Other censuses: "
                @for other in &f.caseload { a href=(format!("/caseload?by={}&census={}", by.code(), other.census_year.year())) { (other.census_year) } " " }
            }
        } @else {
            p { "No plans imported yet." }
        }
        (table("caseload-table", &format!("Plans by {} and census; joiners and leavers in the year to each census", by.label()), &t.head, &t.rows, Some(&format!("/export/caseload.csv?by={}", by.code()))))
        @if caller.role().is_some_and(|r| r >= crate::auth::Role::Analyst) {
            p { a href="/caseload/records" { "Person-level records (analysts)" } }
        }
    };
    Ok(page("Caseload", Some(&caller), &state.la_name, content))
}

#[derive(Deserialize)]
pub struct RecordsQuery {
    census: Option<i32>,
}

/// The rows of the person-level table: child id, census, NCY, need, setting (at most `limit`).
pub async fn record_rows(
    state: &Shared,
    census: Option<i32>,
    limit: usize,
) -> Result<(i32, Vec<Vec<String>>), AppError> {
    let plans = state.store.load_plans(&state.la_code).await?;
    let latest = plans
        .iter()
        .flat_map(|h| h.records().iter().map(|r| r.census_year.year()))
        .max()
        .unwrap_or(0);
    let year = census.unwrap_or(latest);
    let mut rows = Vec::new();
    for h in &plans {
        for r in h.records().iter().filter(|r| r.census_year.year() == year) {
            if rows.len() >= limit {
                break;
            }
            rows.push(vec![
                h.child.as_str().to_string(),
                r.census_year.to_string(),
                r.state.ncy.to_string(),
                r.state.need.to_string(),
                r.state.setting.to_string(),
            ]);
        }
    }
    Ok((year, rows))
}

pub const RECORD_HEAD: [&str; 5] = ["child id", "census", "NCY", "need", "setting"];

/// `GET /caseload/records?census=YYYY` (analysts and above).
pub async fn records(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<RecordsQuery>,
) -> Result<Markup, AppError> {
    let (year, rows) = record_rows(&state, q.census, 500).await?;
    let head: Vec<String> = RECORD_HEAD.iter().map(|s| s.to_string()).collect();
    let content = html! {
        p class="note" { "Person-level data: pseudonymised child ids as the LA supplied them. Do not copy outside the LA." }
        (table("records-table", &format!("Plan records at the January {year} census (first 500)"), &head, &rows, Some(&format!("/export/records.csv?census={year}"))))
    };
    Ok(page("Plan records", Some(&caller), &state.la_name, content))
}
