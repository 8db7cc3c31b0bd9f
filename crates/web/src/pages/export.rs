//! `GET /export/*.csv`: every table as CSV. Each download is an export and is written to the audit log.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

use crate::caller::Caller;
use crate::figures;
use crate::tables::{self, Breakdown, Table};
use crate::views::{csv, AppError};
use crate::Shared;

async fn send(
    state: &Shared,
    caller: &Caller,
    name: &str,
    table: Table,
) -> Result<Response, AppError> {
    state
        .store
        .audit(
            &state.la_code,
            &caller.actor(),
            "export",
            &format!("{name} ({} rows)", table.rows.len()),
        )
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv(&table.head, &table.rows),
    )
        .into_response())
}

pub async fn forecast(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, AppError> {
    let f = figures::get(&state).await?;
    send(&state, &caller, "forecast.csv", tables::plans(&f)).await
}

#[derive(Deserialize)]
pub struct By {
    by: Option<String>,
}

pub async fn caseload(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<By>,
) -> Result<Response, AppError> {
    let f = figures::get(&state).await?;
    let by =
        q.by.as_deref()
            .and_then(Breakdown::parse)
            .unwrap_or(Breakdown::Setting);
    send(
        &state,
        &caller,
        &format!("caseload-by-{}.csv", by.code()),
        tables::caseload(&f, by),
    )
    .await
}

pub async fn ledger(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, AppError> {
    let f = figures::get(&state).await?;
    send(&state, &caller, "ledger.csv", tables::ledger(&f)).await
}

pub async fn accuracy(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, AppError> {
    let f = figures::get(&state).await?;
    send(&state, &caller, "accuracy.csv", tables::accuracy(&f)).await
}

#[derive(Deserialize)]
pub struct Census {
    census: Option<i32>,
}

/// Person-level records (analysts and above; the route table enforces it).
pub async fn records(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Census>,
) -> Result<Response, AppError> {
    let (year, rows) = crate::pages::caseload::record_rows(&state, q.census, usize::MAX).await?;
    let head = crate::pages::caseload::RECORD_HEAD
        .iter()
        .map(|s| s.to_string())
        .collect();
    send(
        &state,
        &caller,
        &format!("records-{year}.csv"),
        Table { head, rows },
    )
    .await
}
