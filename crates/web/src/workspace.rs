//! The scenario workspace's figures: the LA's data and fitted models kept per data version (a slider's preview
//! must not load or fit anything), runs of stored scenario versions kept until the data changes, and the preview
//! (`POST /api/v1/scenarios/preview`): a scenario in the file's JSON shape run on the analytic engine, exactly
//! what `highneeds scenario run --engine analytic --format json` prints, with no database write.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use highneeds_domain::scenario::{Scenario, ScenarioEngine};
use highneeds_domain::Setting;
use highneeds_ingest::scenario::read_scenario_json;
use highneeds_model::scenario::{Attributing, ScenarioResult, UnmitigatedSide};
use highneeds_model::Parameters;
use highneeds_usecases::scenario::{self as usecase, LaData};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::views::AppError;
use crate::Shared;

/// A stored scenario version's analytic run (or why it could not run).
pub type StoredRun = Arc<Result<ScenarioResult, String>>;

/// A fitted model's key: the data version and the settings the scenario sends children to.
type FitKey = (Option<i64>, Vec<Setting>);
/// A stored run's key: the data version, the scenario's name and version.
type RunKey = (Option<i64>, String, i64);
/// An unmitigated side's key: the fitted model's, and the scenario without its initiatives (as JSON): what the
/// side reads.
type SideKey = (Option<i64>, Vec<Setting>, String);

/// What the workspace keeps between requests. Everything is keyed by the LA's data version (latest import id),
/// so an import makes it all stale.
#[derive(Default)]
pub struct Workspace {
    data: Mutex<Option<(Option<i64>, Arc<LaData>)>>,
    fits: std::sync::Mutex<HashMap<FitKey, Arc<Parameters>>>,
    runs: Mutex<HashMap<RunKey, StoredRun>>,
    unmitigated: std::sync::Mutex<HashMap<SideKey, Arc<UnmitigatedSide>>>,
}

/// Fitted models and runs kept at most (a new data version clears them).
const KEPT: usize = 64;

/// The LA's history and budget at the current data version.
pub async fn data(state: &Shared) -> Result<(Option<i64>, Arc<LaData>)> {
    let version = state.store.latest_import_id(&state.la_code).await?;
    let mut current = state.workspace.data.lock().await;
    if let Some((v, d)) = current.as_ref().filter(|(v, _)| *v == version) {
        return Ok((*v, d.clone()));
    }
    let loaded = Arc::new(usecase::load_from(&state.store, &state.la_code).await?);
    *current = Some((version, loaded.clone()));
    Ok((version, loaded))
}

/// The fitted model for a scenario (fit once per data version and set of settings the scenario reaches).
fn fitted(
    state: &Shared,
    version: Option<i64>,
    data: &LaData,
    scenario: &Scenario,
) -> Result<Arc<Parameters>> {
    let key = (
        version,
        highneeds_model::scenario::settings_reached(scenario),
    );
    if let Some(p) = state
        .workspace
        .fits
        .lock()
        .ok()
        .and_then(|m| m.get(&key).cloned())
    {
        return Ok(p);
    }
    let params = Arc::new(usecase::fit_for(data, scenario)?);
    if let Ok(mut m) = state.workspace.fits.lock() {
        m.retain(|k, _| k.0 == version);
        if m.len() >= KEPT {
            m.clear();
        }
        m.insert(key, params.clone());
    }
    Ok(params)
}

/// The unmitigated side of a scenario's run: computed once per data version, settings reached and assumptions
/// (the slider's previews differ in their initiatives only, which it does not read).
fn unmitigated(
    state: &Shared,
    version: Option<i64>,
    data: &LaData,
    params: &Parameters,
    scenario: &Scenario,
) -> Result<Arc<UnmitigatedSide>> {
    let mut bare = scenario.clone();
    bare.initiatives.clear();
    let key = (
        version,
        highneeds_model::scenario::settings_reached(scenario),
        highneeds_ingest::scenario::scenario_to_json(&bare),
    );
    if let Some(side) = state
        .workspace
        .unmitigated
        .lock()
        .ok()
        .and_then(|m| m.get(&key).cloned())
    {
        return Ok(side);
    }
    let side = Arc::new(usecase::unmitigated_fitted(data, params, &bare)?);
    if let Ok(mut m) = state.workspace.unmitigated.lock() {
        m.retain(|k, _| k.0 == version);
        if m.len() >= KEPT {
            m.clear();
        }
        m.insert(key, side.clone());
    }
    Ok(side)
}

/// Run a scenario on the analytic engine (on the blocking pool), with the fitted model kept per data version
/// (`version` and `data`: what [`data`] gave the caller, read once per request).
pub async fn run_analytic(
    state: &Shared,
    (version, data): (Option<i64>, Arc<LaData>),
    scenario: Scenario,
    when: Attributing,
) -> Result<ScenarioResult> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let mut scenario = scenario;
        scenario.assumptions.engine = ScenarioEngine::Analytic;
        let params = fitted(&state, version, &data, &scenario)?;
        let side = unmitigated(&state, version, &data, &params, &scenario)?;
        usecase::run_fitted_with(&data, &params, &scenario, when, &side)
    })
    .await
    .context("the scenario run stopped unexpectedly")?
}

/// A stored version's analytic run, savings attributed; kept until the data changes.
pub async fn stored_run(state: &Shared, name: &str, version: i64, body: &str) -> Result<StoredRun> {
    let (data_version, data) = data(state).await?;
    let key = (data_version, name.to_string(), version);
    if let Some(r) = state.workspace.runs.lock().await.get(&key) {
        return Ok(r.clone());
    }
    let label = format!("{name} (stored version {version})");
    let (issues, scenario) = usecase::read_text(&label, body, &data);
    let result = match scenario {
        None => Err(errors(&issues).join("; ")),
        Some(s) => match usecase::target_refusal(&data, &s, &label, body) {
            Some(why) => Err(why),
            None => run_analytic(state, (data_version, data.clone()), s, Attributing::Now)
                .await
                .map_err(|e| format!("{e:#}")),
        },
    };
    let run = Arc::new(result);
    let mut runs = state.workspace.runs.lock().await;
    runs.retain(|k, _| k.0 == data_version);
    if runs.len() >= KEPT {
        runs.clear();
    }
    runs.insert(key, run.clone());
    Ok(run)
}

/// The error issues as the command line prints them (file, line, initiative, field, rule).
pub fn errors(issues: &[highneeds_ingest::Issue]) -> Vec<String> {
    issues
        .iter()
        .filter(|i| i.is_error())
        .map(ToString::to_string)
        .collect()
}

#[derive(Deserialize)]
pub struct PreviewQuery {
    /// `later`: leave the savings' attribution out (the slider's path; `attribution.method` is `pending`).
    attribution: Option<String>,
}

/// The name the preview's messages give the request body.
pub const PREVIEW_LABEL: &str = "scenario.json";

fn refused(status: StatusCode, error: &str, messages: Vec<String>) -> Response {
    (status, Json(json!({"error": error, "issues": messages}))).into_response()
}

/// `POST /api/v1/scenarios/preview` (officers and above; API tokens work): the scenario in the body (the TOML
/// file's shape as JSON) run on the analytic engine. Nothing is stored. Malformed JSON is 400, a scenario the
/// LA's data refuses is 422, each with the command line's messages (file, line, initiative, field).
pub async fn preview(
    State(state): State<Shared>,
    Query(q): Query<PreviewQuery>,
    body: Bytes,
) -> Result<Response, AppError> {
    let when = match q.attribution.as_deref() {
        None | Some("now") => Attributing::Now,
        Some("later") => Attributing::Later,
        Some(other) => {
            return Ok(refused(
                StatusCode::BAD_REQUEST,
                "attribution must be now or later",
                vec![format!("attribution={other:?}")],
            ))
        }
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            "the body is not UTF-8 text",
            Vec::new(),
        ));
    };
    let (version, data) = data(&state).await?;
    let parsed = read_scenario_json(PREVIEW_LABEL, text, Some(&data.codes));
    let Some(scenario) = parsed.value else {
        let malformed = serde_json::from_str::<Value>(text).is_err()
            || serde_json::from_str::<highneeds_ingest::scenario::ScenarioFile>(text).is_err();
        let status = if malformed {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(refused(
            status,
            "the scenario has errors; nothing was run",
            errors(&parsed.issues),
        ));
    };
    if let Some(why) = usecase::target_refusal(&data, &scenario, PREVIEW_LABEL, text) {
        return Ok(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the scenario has errors; nothing was run",
            vec![why],
        ));
    }
    match run_analytic(&state, (version, data), scenario, when).await {
        // Written straight from the result (no `Value` tree): the same bytes as the command line's JSON.
        Ok(r) => Ok(Json(highneeds_usecases::scenario_json::ScenarioJson(&r)).into_response()),
        Err(e) => Ok(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the scenario could not be run",
            vec![format!("{e:#}")],
        )),
    }
}
