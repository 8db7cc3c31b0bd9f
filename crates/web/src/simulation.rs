//! Monte-Carlo on demand (issue #13, item 6): an officer asks for the full simulation of a stored scenario
//! version; it runs in the background (the page shows a progress indicator and polls), and its result, what
//! `highneeds scenario run --engine monte-carlo --format json` prints, is kept with the version it came from
//! (`scenario_simulations`), with the data version it ran on, who asked and when. The page then shows the
//! probability of an in-year balance by the target year and the intervals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use highneeds_domain::scenario::ScenarioEngine;
use highneeds_store::{ScenarioSimulation, SimulationStart};
use highneeds_usecases::scenario as usecase;
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Role;
use crate::caller::Caller;
use crate::views::AppError;
use crate::{workspace, Shared};

/// A background run: still going (since when, how far), or why it failed.
#[derive(Debug, Clone)]
pub enum Job {
    Running {
        started_at: String,
        progress: Arc<Progress>,
    },
    Failed(String),
}

/// How far a run has gone: simulations finished of the total (both sides: 2 × the scenario's sims; 0 until the
/// scenario has been read).
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub total: AtomicU64,
}

impl Progress {
    /// `(done, total)`.
    pub fn read(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// The runs going on or failed, by scenario name and version (a finished run is in the database).
pub type Jobs = std::sync::Mutex<HashMap<(String, i64), Job>>;

fn job(state: &Shared, name: &str, version: i64) -> Option<Job> {
    state
        .simulations
        .lock()
        .ok()
        .and_then(|j| j.get(&(name.to_string(), version)).cloned())
}

fn set_job(state: &Shared, name: &str, version: i64, job: Option<Job>) {
    if let Ok(mut jobs) = state.simulations.lock() {
        let key = (name.to_string(), version);
        match job {
            Some(j) => jobs.insert(key, j),
            None => jobs.remove(&key),
        };
    }
}

/// Run a stored version on the Monte-Carlo engine and keep the result.
async fn run_and_keep(
    state: &Shared,
    (name, version): (&str, i64),
    actor: &str,
    progress: Arc<Progress>,
) -> Result<()> {
    let versions = state.store.scenario_versions(&state.la_code, name).await?;
    let pick = versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| anyhow!("there is no stored scenario {name:?} version {version}"))?;
    let (data_version, data) = workspace::data(state).await?;
    let label = format!("{name} (stored version {version})");
    let (issues, scenario) = usecase::read_text(&label, &pick.body, &data);
    let Some(mut scenario) = scenario else {
        bail!(workspace::errors(&issues).join("; "));
    };
    if let Some(why) = usecase::target_refusal(&data, &scenario, &label, &pick.body) {
        bail!(why);
    }
    scenario.assumptions.engine = ScenarioEngine::MonteCarlo;
    let (sims, seed) = (scenario.assumptions.sims, scenario.assumptions.seed);
    progress.total.store(2 * u64::from(sims), Ordering::Relaxed);
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        usecase::run_scenario_counting(&data, &scenario, None, Some(&progress.done))
    })
    .await
    .context("the simulation stopped unexpectedly")??;
    let run = ScenarioSimulation {
        la_code: state.la_code.clone(),
        name: name.to_string(),
        version,
        data_version,
        sims,
        seed,
        run_at: highneeds_store::now(),
        run_by: actor.to_string(),
        milliseconds: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        result_json: serde_json::to_string(&highneeds_usecases::scenario_json::ScenarioJson(
            &result,
        ))?,
    };
    state.store.save_simulation(&run).await?;
    state
        .store
        .audit(
            &state.la_code,
            actor,
            "scenario simulated",
            &format!("{name} version {version}: {sims} simulations, seed {seed}"),
        )
        .await?;
    Ok(())
}

/// Start a run in the background unless one of that version is going; `false` if one was.
pub fn start(state: &Shared, name: &str, version: i64, actor: &str) -> bool {
    let progress = Arc::new(Progress::default());
    let started_at = highneeds_store::now();
    // Checked and marked under one lock: two officers (or a double click) cannot start the same run twice.
    {
        let Ok(mut jobs) = state.simulations.lock() else {
            return false;
        };
        let key = (name.to_string(), version);
        if matches!(jobs.get(&key), Some(Job::Running { .. })) {
            return false;
        }
        jobs.insert(
            key,
            Job::Running {
                started_at: started_at.clone(),
                progress: progress.clone(),
            },
        );
    }
    let (state, name, actor) = (state.clone(), name.to_string(), actor.to_string());
    tokio::spawn(async move {
        // Marked in the database too: if the server stops before the run ends, the page says so (see `shown`).
        let start = SimulationStart {
            started_at,
            started_by: actor.clone(),
            server: this_server().to_string(),
        };
        let marked = state
            .store
            .simulation_started(&state.la_code, (&name, version), &start)
            .await;
        let ran = match marked {
            Ok(()) => run_and_keep(&state, (&name, version), &actor, progress).await,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = state
            .store
            .simulation_ended(&state.la_code, &name, version)
            .await
        {
            tracing::error!(
                "the end of the simulation of {name:?} version {version} was not recorded: {e:#}"
            );
        }
        match ran {
            Ok(()) => set_job(&state, &name, version, None),
            Err(e) => {
                tracing::error!("the simulation of {name:?} version {version} failed: {e:#}");
                set_job(&state, &name, version, Some(Job::Failed(format!("{e:#}"))));
            }
        }
    });
    true
}

#[derive(Deserialize)]
pub struct SimulateForm {
    name: String,
    version: i64,
}

fn back_to(name: &str, version: i64) -> String {
    let q: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("/scenarios?name={q}&version={version}#simulation-h")
}

/// `POST /scenarios/simulate` (officers): start the Monte-Carlo run of a stored version, then back to its page.
pub async fn simulate(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<SimulateForm>,
) -> Result<Response, AppError> {
    let versions = state
        .store
        .scenario_versions(&state.la_code, &form.name)
        .await?;
    if !versions.iter().any(|v| v.version == form.version) {
        let why = format!(
            "There is no stored scenario {:?} version {}.",
            form.name, form.version
        );
        return Ok((axum::http::StatusCode::NOT_FOUND, why).into_response());
    }
    start(&state, &form.name, form.version, &caller.actor());
    Ok(Redirect::to(&back_to(&form.name, form.version)).into_response())
}

#[derive(Deserialize)]
pub struct Which {
    name: Option<String>,
    version: Option<i64>,
}

/// What the page and the API say of a version's simulation.
pub struct Shown {
    pub job: Option<Job>,
    pub kept: Option<ScenarioSimulation>,
    /// Whether the kept run used the LA's current data.
    pub current: bool,
}

pub async fn shown(state: &Shared, name: &str, version: i64) -> Result<Shown> {
    let kept = state
        .store
        .simulation(&state.la_code, name, version)
        .await?;
    let data_version = state.store.latest_import_id(&state.la_code).await?;
    let current = kept
        .as_ref()
        .is_some_and(|k| k.data_version == data_version);
    let job = match job(state, name, version) {
        Some(j) => Some(j),
        // Marked as started by another server process (this one holds its runs in memory): that process stopped
        // while it ran. A mark of this process with no job is a run ending just now.
        None => state
            .store
            .simulation_start(&state.la_code, name, version)
            .await?
            .filter(|m| m.server != this_server())
            .map(|m| Job::Failed(interrupted(&m.started_at, &m.started_by))),
    };
    Ok(Shown { job, kept, current })
}

/// This server process, as its run marks name it: its start time and process id.
fn this_server() -> &'static str {
    static SERVER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| format!("{} pid {}", highneeds_store::now(), std::process::id()))
}

/// Why a run marked as started is not going on.
fn interrupted(started_at: &str, started_by: &str) -> String {
    format!(
        "it was interrupted: the server stopped while it ran (started {started_at} by {started_by}). Run it again."
    )
}

fn status_code(s: &Shown) -> &'static str {
    match (&s.job, &s.kept) {
        (Some(Job::Running { .. }), _) => "running",
        (Some(Job::Failed(_)), _) => "failed",
        (None, Some(_)) => "done",
        (None, None) => "none",
    }
}

/// `GET /api/v1/scenarios/simulation?name=N&version=V` (viewers and above): the version's Monte-Carlo run:
/// `status` none, running (with `started_at`, `simulations_done` of `simulations_total`), failed (with `error`) or
/// done (with `result`, the CLI's JSON, and who, when, how long, whether the data has changed since). Without them:
/// every kept run, without results.
pub async fn api_status(
    State(state): State<Shared>,
    Query(q): Query<Which>,
) -> Result<Json<Value>, AppError> {
    let (Some(name), Some(version)) = (q.name, q.version) else {
        return Ok(Json(kept_runs(&state).await?));
    };
    let s = shown(&state, &name, version).await?;
    let mut v = json!({"name": name, "version": version, "status": status_code(&s)});
    if let Some(Job::Failed(why)) = &s.job {
        v["error"] = json!(why);
    }
    if let Some(Job::Running {
        started_at,
        progress,
    }) = &s.job
    {
        let (done, total) = progress.read();
        v["started_at"] = json!(started_at);
        v["simulations_done"] = json!(done);
        v["simulations_total"] = json!(total);
    }
    if let Some(k) = &s.kept {
        v["run_at"] = json!(k.run_at);
        v["run_by"] = json!(k.run_by);
        v["milliseconds"] = json!(k.milliseconds);
        v["sims"] = json!(k.sims);
        v["seed"] = json!(k.seed);
        v["current_data"] = json!(s.current);
        v["result"] = serde_json::from_str(&k.result_json).unwrap_or(Value::Null);
    }
    Ok(Json(v))
}

/// Without `name` and `version`: every kept run of the LA's scenarios (no results).
async fn kept_runs(state: &Shared) -> Result<Value> {
    let data_version = state.store.latest_import_id(&state.la_code).await?;
    let runs = state.store.simulations(&state.la_code).await?;
    Ok(json!({"simulations": runs.iter().map(|r| json!({
        "name": r.name, "version": r.version, "sims": r.sims, "run_at": r.run_at, "run_by": r.run_by,
        "current_data": r.data_version == data_version,
    })).collect::<Vec<_>>()}))
}

/// What the page says of a run going on (the page's script says the same as it polls).
fn progress_text((done, total): (u64, u64)) -> String {
    match (done, total) {
        (_, 0) => "starting…".into(),
        (d, t) if d >= t => format!("all {t} simulations done; attributing the savings…"),
        (d, t) => format!("{d} of {t} simulations done…"),
    }
}

fn pct(p: f64) -> String {
    format!("{:.0} %", p * 100.0)
}

fn millions(pence: &Value) -> String {
    pence
        .as_i64()
        .map_or("–".into(), |p| format!("£{:.2}m", p as f64 / 1e8))
}

/// The kept result's probabilities and in-year intervals by financial year.
fn result_view(result: &Value) -> Markup {
    let m = &result["mitigated"];
    let years = m["financial_years"].as_array().cloned().unwrap_or_default();
    html! {
        ul {
            li { "Probability of an in-year balance by " (result["target_financial_year"].as_str().unwrap_or("the target year")) ": "
                strong id="mc-p-balanced" { (m["probability_balanced_by_target"].as_f64().map_or("–".into(), pct)) } }
            li { "Probability the cumulative deficit is cleared by then: "
                strong id="mc-p-cleared" { (m["probability_deficit_cleared_by_target"].as_f64().map_or("–".into(), pct)) } }
            li { "Gap to balance in the target year: " (millions(&m["target_gap_pence"]["mean"]))
                " (90 % range " (millions(&m["target_gap_pence"]["p05"])) " to " (millions(&m["target_gap_pence"]["p95"])) ")" }
        }
        div class="table-wrap" {
            table id="mc-table" {
                caption { "In-year DSG position with the plan, by financial year (£m; 90 % range from the simulations)" }
                thead { tr { th scope="col" { "financial year" } th scope="col" { "in-year (mean)" } th scope="col" { "5th percentile" } th scope="col" { "95th percentile" } } }
                tbody { @for y in &years {
                    tr { th scope="row" { (y["financial_year"].as_str().unwrap_or("")) }
                        td class="num" { (millions(&y["in_year_pence"])) }
                        td class="num" { (millions(&y["in_year_p05_pence"])) }
                        td class="num" { (millions(&y["in_year_p95_pence"])) } }
                } }
            }
        }
    }
}

/// The page's section: the kept result, the run going on, or the button.
pub fn section(caller: &Caller, name: &str, version: i64, s: &Shown) -> Markup {
    let officer = caller.role().is_some_and(|r| r >= Role::Officer);
    let status = status_code(s);
    html! {
        section aria-labelledby="simulation-h" id="simulation" data-status=(status) data-name=(name) data-version=(version) {
            h2 id="simulation-h" { "Monte-Carlo simulation" }
            p { "The figures above are means from the analytic engine. The full simulation gives the probability of balance and the ranges." }
            @match &s.job {
                Some(Job::Running { started_at, progress }) => {
                    p role="status" { "Running since " (started_at) ": "
                        span id="simulation-progress-text" { (progress_text(progress.read())) } " "
                        @match progress.read() {
                            (done, total) if total > 0 => {
                                progress id="simulation-progress" aria-label="Monte-Carlo simulations finished" value=(done) max=(total) {}
                            }
                            _ => { progress id="simulation-progress" aria-label="Monte-Carlo simulations finished" {} }
                        }
                    }
                    noscript { p { a href=(back_to(name, version)) { "Refresh" } " to see the result." } }
                }
                Some(Job::Failed(why)) => { p class="note" role="alert" { "The last run failed: " (why) } }
                None => {}
            }
            @if let Some(k) = &s.kept {
                p { (k.sims) " simulations (seed " (k.seed) "), run " (k.run_at) " by " (k.run_by) " in " (format!("{:.1}", k.milliseconds as f64 / 1000.0)) " s."
                    @if !s.current { " " strong { "The data has changed since: run it again for current figures." } } }
                @if let Ok(result) = serde_json::from_str::<Value>(&k.result_json) { (result_view(&result)) }
            } @else if s.job.is_none() { p { "Not run yet for this version." } }
            @if officer && !matches!(s.job, Some(Job::Running { .. })) {
                form method="post" action="/scenarios/simulate" {
                    input type="hidden" name="csrf" value=(caller.csrf());
                    input type="hidden" name="name" value=(name);
                    input type="hidden" name="version" value=(version);
                    button type="submit" id="simulate" { @if s.kept.is_some() { "Run the simulation again" } @else { "Run the Monte-Carlo simulation" } }
                }
            }
        }
    }
}
