//! `/api/v1`: JSON for everything the pages show, for scripts and Power BI (bearer tokens) and the pages'
//! live editing, with the same role checks (the route table's guard). `/api/v1/openapi.json` describes it,
//! built from the same route table.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::caller::Caller;
use crate::figures::{self, Figures};
use crate::routes::{routes, Access};
use crate::views::AppError;
use crate::Shared;

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Json<Value> {
    let mut paths = serde_json::Map::new();
    for r in routes().iter().filter(|r| r.api) {
        let mut op = json!({
            "summary": r.summary,
            "responses": {"200": {"description": "OK", "content": {"application/json": {}}}},
        });
        match r.access {
            Access::Public => op["security"] = json!([]),
            Access::Least(role) => {
                op["description"] = json!(format!("Needs the {role} role or above."));
                op["responses"]["401"] =
                    json!({"description": "not signed in, or no valid API token"});
                op["responses"]["403"] = json!({"description": "the caller's role is not enough"});
            }
        }
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method.to_lowercase()] = op;
    }
    Json(json!({
        "openapi": "3.1.0",
        "info": {"title": "highneeds API", "version": "1",
                 "description": "EHC plans and High Needs spending of one LA: forecasts, caseload, ledger, accuracy. Money is integer pence."},
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "a token from `highneeds token create --user NAME`"},
            "session": {"type": "apiKey", "in": "cookie", "name": crate::caller::SESSION_COOKIE}}},
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }))
}

fn pence(p: highneeds_domain::Pence) -> i64 {
    p.pence()
}

fn forecast_json(f: &Figures) -> Value {
    match &f.forecast {
        Err(why) => json!({"error": why}),
        Ok(fc) => json!({
            "engine": "analytic",
            "base_census_year": fc.base_census.year(),
            "base_total": fc.base_total,
            "census_years": fc.census_years.iter().map(|c| json!({
                "census_year": c.census_year.year(),
                "total": {"mean": c.total.mean, "p05": c.total.quantile(0.05), "p50": c.total.quantile(0.5), "p95": c.total.quantile(0.95)},
                "by_setting": c.by_setting.iter().map(|(k, s)| (k.clone(), json!(s.mean))).collect::<serde_json::Map<_, _>>(),
                "by_need": c.by_need.iter().map(|(k, s)| (k.clone(), json!(s.mean))).collect::<serde_json::Map<_, _>>(),
                "by_age_group": c.by_age_group.iter().map(|(k, s)| (k.code().to_string(), json!(s.mean))).collect::<serde_json::Map<_, _>>(),
            })).collect::<Vec<_>>(),
            "financial_years": fc.financial_years.iter().map(|y| json!({
                "financial_year": y.financial_year.to_string(),
                "cost_pence": {"mean": pence(y.mean),
                    "p05": y.quantiles.iter().find(|(q, _)| (q - 0.05).abs() < 1e-9).map(|(_, v)| pence(*v)),
                    "p95": y.quantiles.iter().find(|(q, _)| (q - 0.95).abs() < 1e-9).map(|(_, v)| pence(*v))},
            })).collect::<Vec<_>>(),
        }),
    }
}

fn ledger_json(f: &Figures) -> Value {
    json!(f
        .ledger
        .iter()
        .map(|r| json!({
            "financial_year": r.budget.financial_year.to_string(),
            "opening_pence": pence(r.opening), "income_pence": pence(r.income),
            "expenditure_pence": pence(r.budget.expenditure), "in_year_pence": pence(r.in_year),
            "closing_pence": pence(r.closing),
        }))
        .collect::<Vec<_>>())
}

fn caseload_json(f: &Figures) -> Value {
    json!(f
        .caseload
        .iter()
        .map(|c| json!({
            "census_year": c.census_year.year(), "total": c.total,
            "by_setting": c.by_setting, "by_need": c.by_need, "by_age_group": c.by_age_group, "by_ncy": c.by_ncy,
            "joiners": c.joiners, "leavers": c.leavers,
        }))
        .collect::<Vec<_>>())
}

/// `GET /api/v1/forecast`.
pub async fn forecast(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let f = figures::get(&state).await?;
    Ok(Json(forecast_json(&f)))
}

/// `GET /api/v1/ledger`.
pub async fn ledger(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let f = figures::get(&state).await?;
    Ok(Json(ledger_json(&f)))
}

/// `GET /api/v1/scenario`: the chosen scenario's target check (`null` when none is stored).
pub async fn scenario(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let Some(check) = figures::target_check(&state).await? else {
        return Ok(Json(json!(null)));
    };
    let outcome = |o: &highneeds_model::scenario::Outcome| {
        json!({
            "probability_balanced_by_target": o.probability_balanced_by_target,
            "probability_deficit_cleared_by_target": o.probability_deficit_cleared_by_target,
            "target_gap_pence": {"mean": o.target_gap.0.round(), "p05": o.target_gap.1.round(), "p95": o.target_gap.2.round()},
            "balance_financial_year": o.balance_financial_year.map(|y| y.to_string()),
        })
    };
    Ok(Json(match &check.result {
        Err(why) => json!({"scenario": check.scenario, "version": check.version, "error": why}),
        Ok(r) => json!({
            "scenario": check.scenario, "version": check.version,
            "target_financial_year": r.target.to_string(),
            "total_saving_pence": r.total_saving.pence(),
            "unmitigated": outcome(&r.unmitigated),
            "mitigated": outcome(&r.mitigated),
        }),
    }))
}

/// `GET /api/v1/caseload`.
pub async fn caseload(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let f = figures::get(&state).await?;
    Ok(Json(caseload_json(&f)))
}

/// `GET /api/v1/overview`.
pub async fn overview(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let f = figures::get(&state).await?;
    Ok(Json(json!({
        "la": {"code": state.la_code, "name": state.la_name},
        "plans": f.caseload.iter().map(|c| json!({"census_year": c.census_year.year(), "total": c.total})).collect::<Vec<_>>(),
        "forecast": forecast_json(&f),
        "ledger": ledger_json(&f),
    })))
}

/// `GET /api/v1/accuracy`.
pub async fn accuracy(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let f = figures::get(&state).await?;
    Ok(Json(match &f.backtest {
        Err(why) => json!({"error": why}),
        Ok(r) => json!({
            "origins": r.origins.iter().map(|o| o.year()).collect::<Vec<_>>(),
            "scores": r.scores.iter().map(|s| json!({
                "method": s.method.code(), "horizon": s.horizon, "cases": s.cases,
                "mape": s.mape, "bias": s.bias, "coverage": s.coverage,
            })).collect::<Vec<_>>(),
        }),
    }))
}

/// `GET /api/v1/public/caseload` (no sign-in: suppressed).
pub async fn public_caseload(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let f = figures::get(&state).await?;
    Ok(Json(crate::pages::public::as_json(&state, &f)))
}

/// `GET /api/v1/diagnose?la=CODE`.
pub async fn diagnose(
    State(state): State<Shared>,
    Query(q): Query<crate::pages::published::Choice>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        crate::pages::published::report_json(&state, q.la.as_deref(), true).await?,
    ))
}

/// `GET /api/v1/benchmark?la=CODE`.
pub async fn benchmark(
    State(state): State<Shared>,
    Query(q): Query<crate::pages::published::Choice>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(
        crate::pages::published::report_json(&state, q.la.as_deref(), false).await?,
    ))
}

/// `GET /api/v1/imports`.
pub async fn imports(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let log = state.store.import_log(Some(&state.la_code)).await?;
    Ok(Json(json!(log
        .iter()
        .map(|e| json!({
            "import_id": e.import_id, "kind": e.kind, "file_name": e.file_name, "sha256": e.sha256,
            "rows": e.rows, "imported_at": e.imported_at, "imported_by": e.imported_by,
        }))
        .collect::<Vec<_>>())))
}

#[derive(Deserialize)]
pub struct Census {
    census: Option<i32>,
}

/// `GET /api/v1/records?census=YYYY` (analysts and above): person-level; audited as an export.
pub async fn records(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<Census>,
) -> Result<Response, AppError> {
    let (year, rows) = crate::pages::caseload::record_rows(&state, q.census, usize::MAX).await?;
    state
        .store
        .audit(
            &state.la_code,
            &caller.actor(),
            "export",
            &format!("records {year} via API ({} rows)", rows.len()),
        )
        .await?;
    let records: Vec<Value> = rows
        .into_iter()
        .map(|r| json!({"child_id": r[0], "census_year": year, "ncy": r[2], "need": r[3], "setting": r[4]}))
        .collect();
    Ok(Json(json!({"census_year": year, "records": records})).into_response())
}

/// `GET /api/v1/audit` (admins).
pub async fn audit(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let log = state.store.audit_log(&state.la_code, 1000).await?;
    Ok(Json(json!(log
        .iter()
        .map(|a| json!({
            "seq": a.seq, "at": a.at, "actor": a.actor, "action": a.action, "detail": a.detail,
        }))
        .collect::<Vec<_>>())))
}

/// `GET /api/v1/users` (admins).
pub async fn users(State(state): State<Shared>) -> Result<Json<Value>, AppError> {
    let users = state.store.users(&state.la_code).await?;
    Ok(Json(json!(users.iter().map(|u| json!({
        "username": u.username, "role": u.role, "disabled": u.disabled, "created_at": u.created_at,
    })).collect::<Vec<_>>())))
}
