//! `GET /`: plans and High Needs spend, history and forecast with intervals; the DSG ledger.

use axum::extract::State;
use axum::Extension;
use maud::{html, Markup};

use crate::caller::Caller;
use crate::figures::{self, Figures};
use crate::tables;
use crate::views::{line_chart, page, table, AppError, Series};
use crate::Shared;

/// The plans chart: actual totals, then the forecast mean with its 90 % band.
pub fn plans_chart(f: &Figures) -> Markup {
    let actual: Vec<(f64, f64)> = f
        .caseload
        .iter()
        .map(|c| (f64::from(c.census_year.year()), c.total as f64))
        .collect();
    let mut forecast = Vec::new();
    let mut band = Vec::new();
    if let (Ok(fc), Some(last)) = (&f.forecast, actual.last()) {
        forecast.push(*last);
        band.push((last.0, last.1, last.1));
        for c in &fc.census_years {
            let x = f64::from(c.census_year.year());
            forecast.push((x, c.total.mean));
            band.push((
                x,
                c.total.quantile(0.05).unwrap_or(c.total.mean),
                c.total.quantile(0.95).unwrap_or(c.total.mean),
            ));
        }
    }
    let summary = match (actual.first(), actual.last(), forecast.last()) {
        (Some(a), Some(b), Some(c)) => format!(
            "EHC plans rose from {:.0} in {:.0} to {:.0} in {:.0}; the forecast reaches {:.0} in {:.0}. The table below has every figure.",
            a.1, a.0, b.1, b.0, c.1, c.0
        ),
        _ => "No plans imported yet.".to_string(),
    };
    line_chart(
        "plans-chart",
        "EHC plans at each January census: actual and forecast with 90% interval",
        &summary,
        &[
            Series {
                label: "actual",
                class: "actual",
                points: actual,
                band: Vec::new(),
            },
            Series {
                label: "forecast (shaded: 90% interval)",
                class: "forecast",
                points: forecast,
                band,
            },
        ],
        Some("plans-table"),
    )
}

fn pounds(x: f64) -> String {
    highneeds_domain::Pence::from_pence_rounded(x)
        .map_or("-".to_string(), |p| p.to_millions_string())
}

/// The chosen scenario's target check: will the DBV plan balance the books by its target year?
fn target_check(check: Option<&figures::TargetCheck>) -> Markup {
    let Some(check) = check else {
        return html! { p { "No scenario stored yet: officers import one with " code { "highneeds scenario import FILE --db DB" } "." } };
    };
    match &check.result {
        Err(why) => {
            html! { p class="note" { "Scenario " (check.scenario) " (version " (check.version) ") could not be run: " (why) } }
        }
        Ok(r) => {
            let rows = vec![
                vec![
                    format!("in-year balance in {}", r.target),
                    format!(
                        "{:.0}%",
                        r.unmitigated.probability_balanced_by_target * 100.0
                    ),
                    format!("{:.0}%", r.mitigated.probability_balanced_by_target * 100.0),
                ],
                vec![
                    format!("cumulative deficit cleared by the end of {}", r.target),
                    format!(
                        "{:.0}%",
                        r.unmitigated.probability_deficit_cleared_by_target * 100.0
                    ),
                    format!(
                        "{:.0}%",
                        r.mitigated.probability_deficit_cleared_by_target * 100.0
                    ),
                ],
                vec![
                    format!("in-year gap in {} (mean; negative is a surplus)", r.target),
                    pounds(r.unmitigated.target_gap.0),
                    pounds(r.mitigated.target_gap.0),
                ],
                vec![
                    "first year in balance (mean)".to_string(),
                    r.unmitigated
                        .balance_financial_year
                        .map_or("not within the forecast".into(), |y| y.to_string()),
                    r.mitigated
                        .balance_financial_year
                        .map_or("not within the forecast".into(), |y| y.to_string()),
                ],
            ];
            let head: Vec<String> = ["", "without the plan", "with the plan"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            html! {
                p { "Scenario " strong { (r.scenario) } " (stored version " (check.version) "): target an in-year balance by " (r.target)
                    ". Total saving over the forecast: " (r.total_saving.to_millions_string()) "." }
                (table("target-table", "Target check: probabilities and the target year's gap (£m)", &head, &rows, None))
                p class="note" { "90% range of the gap with the plan: " (pounds(r.mitigated.target_gap.1)) " to " (pounds(r.mitigated.target_gap.2)) "." }
            }
        }
    }
}

/// `GET /`.
async fn page_content(state: &Shared, caller: &Caller) -> Result<Markup, AppError> {
    let f = figures::get(state).await?;
    let check = figures::target_check(state).await?;
    let plans = tables::plans(&f);
    let cost = tables::cost(&f);
    let ledger = tables::ledger(&f);
    let content = html! {
        @if let Err(why) = &f.forecast { p class="note" { "No forecast: " (why) } }
        section aria-labelledby="plans-h" {
            h2 id="plans-h" { "EHC plans" }
            (plans_chart(&f))
            (table("plans-table", "EHC plans by census: actual, then forecast (analytic engine) with 90% interval", &plans.head, &plans.rows, Some("/export/forecast.csv")))
            p { a href="/caseload" { "Explore the caseload by setting, need and age group" } }
        }
        section aria-labelledby="cost-h" {
            h2 id="cost-h" { "High Needs cost" }
            (table("cost-table", "Forecast cost of EHC plans by financial year (£m)", &cost.head, &cost.rows, None))
        }
        section aria-labelledby="target-h" {
            h2 id="target-h" { "Target check" }
            (target_check(check.as_deref()))
        }
        section aria-labelledby="ledger-h" {
            h2 id="ledger-h" { "DSG high needs ledger" }
            @if ledger.rows.is_empty() { p { "No budget file imported yet." } }
            @else { (table("ledger-table", "In-year and cumulative DSG balance (£m); negative is a deficit", &ledger.head, &ledger.rows, Some("/export/ledger.csv"))) }
        }
    };
    Ok(page("Overview", Some(caller), &state.la_name, content))
}

pub async fn page_handler(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> Result<Markup, AppError> {
    page_content(&state, &caller).await
}
