//! `GET /diagnose` and `GET /benchmark`: the DBV diagnostic and the statistical neighbours from the DfE's
//! published statistics stored by `highneeds import published DIR`, as the command line gives them.

use axum::extract::{Query, State};
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;

use highneeds_domain::{LaCode, Measure};
use highneeds_usecases::published::{la_code, lifetime_note, Loaded};

use crate::caller::Caller;
use crate::figures;
use crate::views::{page, AppError};
use crate::Shared;

#[derive(Deserialize)]
pub struct Choice {
    pub la: Option<String>,
}

/// The LA to show: the one asked for, else this server's LA if the release has it.
fn chosen(state: &Shared, loaded: &Loaded, asked: Option<&str>) -> Result<Option<LaCode>, String> {
    match asked.filter(|s| !s.is_empty()) {
        Some(code) => la_code(code, &loaded.current)
            .map(Some)
            .map_err(|e| format!("{e:#}")),
        None => Ok(la_code(&state.la_code, &loaded.current).ok()),
    }
}

fn chooser(action: &str, loaded: &Loaded, selected: Option<LaCode>) -> Markup {
    html! {
        form method="get" action=(action) class="inline" {
            label for="la" { "Local authority" }
            select id="la" name="la" {
                @for (code, name) in &loaded.stats.names {
                    @if !code.is_england() && !loaded.current.years(*code, Measure::Plans).is_empty() {
                        option value=(code.as_str()) selected[Some(*code) == selected] { (name) " (" (code.as_str()) ")" }
                    }
                }
            }
            button type="submit" { "Show" }
        }
    }
}

fn none_imported() -> Markup {
    html! { p { "The DfE's published statistics are not in the database yet: an officer imports them with "
    code { "highneeds import published DIR --db DB" } "." } }
}

/// The diagnostic report text of an LA (latest census and five before), with this LA's person-level history.
pub async fn diagnose_report(
    state: &Shared,
    loaded: &Loaded,
    la: LaCode,
) -> Result<(String, serde_json::Value), AppError> {
    let years = loaded.current.years(la, Measure::Plans);
    let to = years.last().copied().unwrap_or(0);
    let budget = if la.as_str() == state.la_code {
        Some(state.store.load_budget(&state.la_code).await?)
    } else {
        None
    };
    let history = if la.as_str() == state.la_code {
        state.store.load_history(&state.la_code).await?
    } else {
        None
    };
    let mut d = highneeds_model::diagnose::diagnose(
        &loaded.current,
        la,
        to - 5,
        to,
        budget.as_deref().filter(|b| !b.is_empty()),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(h) = &history {
        highneeds_model::diagnose::add_person_level(&mut d, h);
    }
    if let Some(n) = lifetime_note(la) {
        d.notes.push(n);
    }
    let name = loaded.stats.name(la).unwrap_or("").to_string();
    Ok((
        highneeds_usecases::diagnose::table(&d, &name),
        highneeds_usecases::diagnose::to_json(&d, &name),
    ))
}

/// The benchmark report of an LA: 10 computed neighbours at its latest census.
pub fn benchmark_report(
    loaded: &Loaded,
    la: LaCode,
) -> Result<(String, serde_json::Value), AppError> {
    let year = loaded
        .current
        .years(la, Measure::Plans)
        .last()
        .copied()
        .unwrap_or(0);
    let b = highneeds_model::benchmark::benchmark(&loaded.current, la, year, &[], 10)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((
        highneeds_usecases::benchmark::table(&b, &loaded.stats),
        highneeds_usecases::benchmark::to_json(&b, &loaded.stats),
    ))
}

async fn report_page(
    state: &Shared,
    caller: &Caller,
    title: &str,
    action: &str,
    asked: Option<&str>,
    diagnose: bool,
) -> Result<Markup, AppError> {
    let Some(loaded) = figures::published(state).await? else {
        return Ok(page(title, Some(caller), &state.la_name, none_imported()));
    };
    let content = match chosen(state, &loaded, asked) {
        Err(why) => {
            html! { (chooser(action, &loaded, None)) p class="error" role="alert" { (why) } }
        }
        Ok(None) => {
            html! { p { (state.la_name) " is not in the published statistics: choose an LA to compare." } (chooser(action, &loaded, None)) }
        }
        Ok(Some(la)) => {
            let text = if diagnose {
                diagnose_report(state, &loaded, la).await?.0
            } else {
                benchmark_report(&loaded, la)?.0
            };
            html! { (chooser(action, &loaded, Some(la))) pre class="report" tabindex="0" aria-label=(title) { (text) } }
        }
    };
    Ok(page(title, Some(caller), &state.la_name, content))
}

pub async fn diagnose(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Choice>,
) -> Result<Markup, AppError> {
    report_page(
        &state,
        &caller,
        "Diagnose",
        "/diagnose",
        q.la.as_deref(),
        true,
    )
    .await
}

pub async fn benchmark(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Choice>,
) -> Result<Markup, AppError> {
    report_page(
        &state,
        &caller,
        "Benchmark",
        "/benchmark",
        q.la.as_deref(),
        false,
    )
    .await
}

/// For the API: the report JSON of the asked (or this server's) LA; `None` when nothing is imported or the
/// LA is not in the release.
pub async fn report_json(
    state: &Shared,
    asked: Option<&str>,
    diagnose: bool,
) -> Result<serde_json::Value, AppError> {
    let Some(loaded) = figures::published(state).await? else {
        return Ok(
            serde_json::json!({"error": "the published statistics are not imported (highneeds import published DIR)"}),
        );
    };
    match chosen(state, &loaded, asked) {
        Err(why) => Ok(serde_json::json!({"error": why})),
        Ok(None) => Ok(
            serde_json::json!({"error": format!("{} is not in the published statistics: give ?la=CODE", state.la_code)}),
        ),
        Ok(Some(la)) => Ok(if diagnose {
            diagnose_report(state, &loaded, la).await?.1
        } else {
            benchmark_report(&loaded, la)?.1
        }),
    }
}
