//! The scenario workspace (issue #13): the preview API's contract, its refusals and role checks, and the pages
//! (save, versions, export, roles, savings that add up).

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{get, post, spawn_app, text, Session, TestApp, LA};
use highneeds_domain::scenario::ScenarioEngine;
use highneeds_ingest::scenario::scenario_to_json;
use highneeds_usecases::scenario::{read_text, run_scenario, EXAMPLE};
use highneeds_web::auth::Role;
use serde_json::Value;

/// The example scenario as the API takes it (the TOML file's shape as JSON).
async fn example_json(app: &TestApp) -> (String, highneeds_domain::scenario::Scenario) {
    let data = highneeds_usecases::scenario::load_from(&app.state.store, LA)
        .await
        .unwrap();
    let (issues, scenario) = read_text("example.toml", EXAMPLE, &data);
    let scenario = scenario.unwrap_or_else(|| panic!("{issues:?}"));
    (scenario_to_json(&scenario), scenario)
}

fn preview_request(query: &str, body: &str, session: Option<&common::Session>) -> Request<Body> {
    let mut r = Request::post(format!("/api/v1/scenarios/preview{query}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(s) = session {
        r = r
            .header(header::COOKIE, &s.cookie)
            .header("x-csrf-token", &s.csrf);
    }
    r.body(Body::from(body.to_string())).unwrap()
}

async fn json_of(response: axum::http::Response<Body>) -> Value {
    serde_json::from_str(&text(response).await).unwrap()
}

/// The preview returns exactly what `highneeds scenario run --engine analytic --format json` prints (the use-case
/// run afresh, fit included, rendered by the CLI's renderer); `?attribution=later` the same ledgers with the
/// savings left pending (null, never 0). Nothing is stored.
#[tokio::test]
async fn preview_is_the_cli_json_and_stores_nothing() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    let (body, mut scenario) = example_json(&app).await;
    scenario.assumptions.engine = ScenarioEngine::Analytic;
    let data = highneeds_usecases::scenario::load_from(&app.state.store, LA)
        .await
        .unwrap();
    // As printed and read back, as a client reads the command's output (serde_json's float reader is not exact
    // to the last bit, so both sides go through text).
    let printed = highneeds_usecases::scenario_json::json_value(
        &run_scenario(&data, &scenario, None).unwrap(),
    )
    .unwrap();
    let expected: Value = serde_json::from_str(&printed.to_string()).unwrap();
    let audit_before = app.audit_actions().await.len();

    let r = app.send(preview_request("", &body, Some(&officer))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let got = json_of(r).await;
    assert_eq!(differences(&got, &expected, ""), Vec::<String>::new());
    assert_eq!(got["engine"], "analytic");
    assert_eq!(got["attribution"]["method"], "shapley-exact");
    // The savings add up to the total to the penny (the model's invariant, seen through the API).
    let sum: i64 = got["initiatives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["saving_pence"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, got["total_saving_pence"].as_i64().unwrap());
    // Money-only initiatives (i. block transfer, j. grant) save nothing by themselves.
    assert_eq!(got["initiatives"][8]["saving_pence"], 0);
    assert!(got["total_saving_pence"].as_i64().unwrap() != 0);

    let later = json_of(
        app.send(preview_request("?attribution=later", &body, Some(&officer)))
            .await,
    )
    .await;
    assert_eq!(later["attribution"]["method"], "pending");
    assert!(later["initiatives"][0]["saving_pence"].is_null());
    assert_eq!(
        later["initiatives"][0]["cost_pence"],
        expected["initiatives"][0]["cost_pence"]
    );
    for key in [
        "unmitigated",
        "mitigated",
        "total_saving_pence",
        "balance_financial_year",
        "sufficiency",
    ] {
        assert_eq!(later[key], expected[key], "{key}");
    }

    assert!(
        app.state.store.scenarios(LA).await.unwrap().is_empty(),
        "preview stored a scenario"
    );
    assert_eq!(
        app.audit_actions().await.len(),
        audit_before,
        "preview wrote to the audit log"
    );
}

/// Officers and above only (viewers and analysts 403, nobody 401); a browser needs its CSRF token; an officer's
/// API token works.
#[tokio::test]
async fn preview_role_checks_and_tokens() {
    let app = spawn_app().await;
    let (body, _) = example_json(&app).await;
    for role in [Role::Viewer, Role::Analyst] {
        let s = app.session(role).await;
        let r = app
            .send(preview_request("?attribution=later", &body, Some(&s)))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
    }
    let r = app.send(preview_request("", &body, None)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let officer = app.session(Role::Officer).await;
    let no_csrf = Request::post("/api/v1/scenarios/preview")
        .header(header::COOKIE, &officer.cookie)
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(app.send(no_csrf).await.status(), StatusCode::FORBIDDEN);
    let (_, token) = highneeds_web::accounts::create_token(
        &app.state.store,
        LA,
        "test",
        &officer.user.username,
        "script",
    )
    .await
    .unwrap();
    let with_token = Request::post("/api/v1/scenarios/preview?attribution=later")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap();
    assert_eq!(app.send(with_token).await.status(), StatusCode::OK);
}

/// Invalid input: malformed JSON is 400, a scenario the LA's data refuses is 422, each with the same messages the
/// command line prints (file, line, initiative, field).
#[tokio::test]
async fn preview_refuses_with_the_clis_messages() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    let r = app
        .send(preview_request(
            "",
            "{\"name\": \"x\",\n  \"assumptions\": ",
            Some(&officer),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let got = json_of(r).await;
    let message = got["issues"][0].as_str().unwrap();
    assert!(
        message.starts_with("scenario.json:2: not a valid scenario"),
        "{message}"
    );

    let (body, _) = example_json(&app).await;
    let bad = body.replacen("\"fe_college\"", "\"college\"", 1);
    assert_ne!(bad, body);
    let r = app.send(preview_request("", &bad, Some(&officer))).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let got = json_of(r).await;
    let data = highneeds_usecases::scenario::load_from(&app.state.store, LA)
        .await
        .unwrap();
    let codes = highneeds_usecases::scenario::codes_of(&data.history);
    let cli: Vec<String> =
        highneeds_ingest::scenario::read_scenario_json("scenario.json", &bad, Some(&codes))
            .issues
            .iter()
            .map(ToString::to_string)
            .collect();
    assert_eq!(got["issues"], serde_json::json!(cli));
    let first = cli[0].as_str();
    assert!(
        first.contains("initiative 8 (\"h. Post-16 pathways\") lever 1 (redirect) to"),
        "{first}"
    );
    // A target outside the projected years.
    let late = body.replacen("\"2027-28\"", "\"2040-41\"", 1);
    let r = app.send(preview_request("", &late, Some(&officer))).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let got = json_of(r).await;
    assert!(
        got["issues"][0]
            .as_str()
            .unwrap()
            .contains("assumptions.target_financial_year"),
        "{got}"
    );
}

/// An officer saves the example through the form (a new version, audited), the page shows it with savings that add
/// up to the total to the penny; a bad file is refused naming line and field, nothing stored; viewers and analysts
/// see the page but cannot save, and get no what-if controls.
#[tokio::test]
async fn scenario_pages_save_show_export_and_refuse() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    let form = format!(
        "toml={}",
        form_urlencoded::byte_serialize(EXAMPLE.as_bytes()).collect::<String>()
    );
    let r = app
        .send(post("/scenarios/save", Some(&officer), &form, true))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", text(r).await);
    let name = "Exampleshire DBV plan (Stockton-like)";
    let versions = app.state.store.scenario_versions(LA, name).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].saved_by, officer.user.username);
    let (actor, action, detail) = app.audit_actions().await.last().unwrap().clone();
    assert_eq!(
        (actor.as_str(), action.as_str()),
        (officer.user.username.as_str(), "scenario saved")
    );
    assert!(detail.ends_with("version 1"), "{detail}");

    let url = format!(
        "/scenarios?name={}",
        form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );
    let page = text(app.send(get(&url, Some(&officer))).await).await;
    assert!(page.contains("id=\"whatif\""), "officer has no what-if");
    assert!(page.contains("type=\"range\""));
    // The savings cells add up to the total cell, to the penny.
    let table = page.split("id=\"savings-table\"").nth(1).unwrap();
    let pence = |marker: &str| -> Vec<i64> {
        table
            .split(marker)
            .skip(1)
            .map(|s| s.split('"').next().unwrap().parse().unwrap())
            .collect()
    };
    let savings = pence("class=\"saving\" data-pence=\"");
    let total = pence("id=\"total-saving\" data-pence=\"");
    assert_eq!(savings.len(), 10);
    assert_eq!(savings.iter().sum::<i64>(), total[0]);
    assert!(total[0] != 0);

    // A refused file: line, initiative and field named; nothing stored.
    let bad = EXAMPLE.replacen("share = 0.25", "share = 1.25", 1);
    let line = bad
        .lines()
        .position(|l| l.starts_with("share = 1.25"))
        .unwrap()
        + 1;
    let form = format!(
        "toml={}",
        form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>()
    );
    let r = app
        .send(post("/scenarios/save", Some(&officer), &form, true))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = text(r).await;
    assert!(
        refused.contains(&format!("scenario.toml:{line}: column initiative 8")),
        "{refused}"
    );
    assert!(refused.contains("share"), "{refused}");
    assert_eq!(
        app.state
            .store
            .scenario_versions(LA, name)
            .await
            .unwrap()
            .len(),
        1
    );

    // Export: the stored TOML, audited.
    let r = app
        .send(get(
            &format!(
                "/scenarios/export?name={}&version=1",
                form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
            ),
            Some(&officer),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(text(r).await, EXAMPLE);
    assert_eq!(app.audit_actions().await.last().unwrap().1, "export");

    for role in [Role::Viewer, Role::Analyst] {
        let s = app.session(role).await;
        let r = app.send(get(&url, Some(&s))).await;
        assert_eq!(r.status(), StatusCode::OK, "{role}");
        let page = text(r).await;
        assert!(!page.contains("id=\"whatif\""), "{role} sees the what-if");
        assert!(!page.contains("/scenarios/edit"), "{role} sees edit links");
        let form = format!(
            "toml={}",
            form_urlencoded::byte_serialize(EXAMPLE.as_bytes()).collect::<String>()
        );
        let r = app
            .send(post("/scenarios/save", Some(&s), &form, true))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} saved");
    }
    assert_eq!(
        app.state
            .store
            .scenario_versions(LA, name)
            .await
            .unwrap()
            .len(),
        1
    );
    // Copy: the same file under a new name, in the edit form (nothing stored until saved).
    let copy = text(
        app.send(get(
            &format!(
                "/scenarios/edit?copy={}",
                form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
            ),
            Some(&officer),
        ))
        .await,
    )
    .await;
    assert!(
        copy.contains("name = &quot;Copy of Exampleshire DBV plan (Stockton-like)&quot;"),
        "{copy}"
    );
    assert!(copy.contains("[[initiative.lever]]"));
    // Side by side: the unmitigated forecast and the scenario in one table.
    let r = app
        .send(get(
            &format!(
                "/scenarios/compare?name={}",
                form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
            ),
            Some(&officer),
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let cmp = text(r).await;
    assert!(cmp.contains("id=\"compare-table\"") && cmp.contains("without any plan"));
    // The cumulative position and the plans side by side too; the plans are the use-case's analytic run's means.
    assert!(cmp.contains("id=\"compare-cumulative\""));
    let (_, mut scenario) = example_json(&app).await;
    scenario.assumptions.engine = ScenarioEngine::Analytic;
    let data = highneeds_usecases::scenario::load_from(&app.state.store, LA)
        .await
        .unwrap();
    let run = run_scenario(&data, &scenario, None).unwrap();
    let plans = cmp
        .split("id=\"compare-plans\"")
        .nth(1)
        .expect("the plans table");
    for (u, m) in run
        .unmitigated
        .forecast
        .census_years
        .iter()
        .zip(&run.mitigated.forecast.census_years)
    {
        let row = format!(
            "{}</th><td>{:.0}</td><td>{:.0}</td>",
            u.census_year.year(),
            u.total.mean,
            m.total.mean
        );
        assert!(plans.contains(&row), "{row} not in {plans}");
    }
    // An unknown scenario is 404.
    let r = app
        .send(get("/scenarios?name=nothing", Some(&officer)))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// Where two JSON values differ (paths), for a readable failure.
fn differences(a: &Value, b: &Value, at: &str) -> Vec<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    differences(
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        &format!("{at}.{k}"),
                    )
                })
                .collect()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .flat_map(|(i, (p, q))| differences(p, q, &format!("{at}[{i}]")))
            .collect(),
        _ if a == b => Vec::new(),
        _ => vec![format!("{at}: {a} vs {b}")],
    }
}

/// The shipped example saved by `officer` as version 1: its name, the name as a query value, and the URL of its
/// simulation's status.
async fn example_saved(app: &TestApp, officer: &Session) -> (&'static str, String, String) {
    let form = format!(
        "toml={}",
        form_urlencoded::byte_serialize(EXAMPLE.as_bytes()).collect::<String>()
    );
    app.send(post("/scenarios/save", Some(officer), &form, true))
        .await;
    let name = "Exampleshire DBV plan (Stockton-like)";
    let q: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let status_url = format!("/api/v1/scenarios/simulation?name={q}&version=1");
    (name, q, status_url)
}

/// The stored example's version 1 page as `who` sees it (`q`: the name as a query value).
async fn version_page(app: &TestApp, q: &str, who: &Session) -> String {
    text(
        app.send(get(&format!("/scenarios?name={q}&version=1"), Some(who)))
            .await,
    )
    .await
}

/// Monte-Carlo on demand (item 6): an officer starts the full simulation of a stored version; it runs in the
/// background, the API says `running` then `done`, and the result (the CLI's JSON for that version on the
/// Monte-Carlo engine: same seed, same figures) is kept with the version, audited, and shown on the page with its
/// probability of balance. Viewers see it but cannot start one.
#[tokio::test]
async fn monte_carlo_on_demand_is_kept_with_its_version() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    let viewer = app.session(Role::Viewer).await;
    let (name, q, status_url) = example_saved(&app, &officer).await;
    let status = json_of(app.send(get(&status_url, Some(&viewer))).await).await;
    assert_eq!(status["status"], "none");

    // A version that was never saved cannot be run (and leaves no job behind).
    let r = app
        .send(post(
            "/scenarios/simulate",
            Some(&officer),
            &format!("name={q}&version=9"),
            true,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(app.state.simulations.lock().unwrap().is_empty());
    // A viewer may not start one; an officer may.
    let start = format!("name={q}&version=1");
    let r = app
        .send(post("/scenarios/simulate", Some(&viewer), &start, true))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .send(post("/scenarios/simulate", Some(&officer), &start, true))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Going on, the page and the API say how far: simulations finished of both sides' (2 × the example's 1,000),
    // never going back (in a debug build the run takes seconds, so this is seen running).
    let page = version_page(&app, &q, &viewer).await;
    if page.contains("data-status=\"running\"") {
        assert!(page.contains("id=\"simulation-progress\""), "{page}");
    }
    let mut done = Value::Null;
    let mut last_count = 0;
    for _ in 0..600 {
        let s = json_of(app.send(get(&status_url, Some(&viewer))).await).await;
        assert_ne!(s["status"], "failed", "{s}");
        if s["status"] == "done" {
            assert!(s.get("simulations_done").is_none(), "{s}");
            done = s;
            break;
        }
        let (count, total) = (
            s["simulations_done"].as_u64().unwrap(),
            s["simulations_total"].as_u64().unwrap(),
        );
        assert!(total == 0 || total == 2_000, "{s}");
        assert!(count <= total, "{s}");
        assert!(count >= last_count, "{s}");
        last_count = count;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(done["status"], "done", "not done within a minute");
    assert_eq!(done["run_by"], officer.user.username.as_str());
    assert_eq!(done["current_data"], true);

    // The same run through the use-case (as the CLI makes it) gives the same figures.
    let (_, mut scenario) = example_json(&app).await;
    scenario.assumptions.engine = ScenarioEngine::MonteCarlo;
    let data = highneeds_usecases::scenario::load_from(&app.state.store, LA)
        .await
        .unwrap();
    let printed = highneeds_usecases::scenario_json::json_value(
        &run_scenario(&data, &scenario, None).unwrap(),
    )
    .unwrap();
    let expected: Value = serde_json::from_str(&printed.to_string()).unwrap();
    assert_eq!(done["result"], expected);
    assert_eq!(done["result"]["engine"], "monte-carlo");

    let kept = app
        .state
        .store
        .simulation(LA, name, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.sims, scenario.assumptions.sims);
    let (actor, action, detail) = app.audit_actions().await.last().unwrap().clone();
    assert_eq!(
        (actor.as_str(), action.as_str()),
        (officer.user.username.as_str(), "scenario simulated")
    );
    assert!(
        detail.starts_with(&format!(
            "{name} version 1: {} simulations",
            scenario.assumptions.sims
        )),
        "{detail}"
    );

    // The page shows the probability, as a percentage of the kept figure; a viewer gets no button.
    let p = expected["mitigated"]["probability_balanced_by_target"]
        .as_f64()
        .unwrap();
    let page = version_page(&app, &q, &viewer).await;
    assert!(page.contains("data-status=\"done\""), "{page}");
    assert!(
        page.contains(&format!("id=\"mc-p-balanced\">{:.0} %", p * 100.0)),
        "{page}"
    );
    assert!(page.contains("id=\"mc-table\""));
    assert!(!page.contains("id=\"simulate\""), "a viewer has the button");
    let page = version_page(&app, &q, &officer).await;
    assert!(page.contains("Run the simulation again"));
}

/// A run the server stopped during is not forgotten: its start is marked in the database with the server process,
/// and another process says it was interrupted, with who started it and when; running it again clears it.
#[tokio::test]
async fn a_simulation_the_server_stopped_during_is_reported_interrupted() {
    let app = spawn_app().await;
    let officer = app.session(Role::Officer).await;
    let (name, q, status_url) = example_saved(&app, &officer).await;
    // A mark left by another server process.
    let left = highneeds_store::SimulationStart {
        started_at: "2026-12-02T09:00:00Z".into(),
        started_by: "someone".into(),
        server: "2026-12-02T08:59:00Z pid 1".into(),
    };
    app.state
        .store
        .simulation_started(LA, (name, 1), &left)
        .await
        .unwrap();
    let s = json_of(app.send(get(&status_url, Some(&officer))).await).await;
    assert_eq!(s["status"], "failed", "{s}");
    let error = s["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("interrupted")
            && error.contains("2026-12-02T09:00:00Z")
            && error.contains("someone"),
        "{error}"
    );
    let page = version_page(&app, &q, &officer).await;
    assert!(page.contains("interrupted"), "{page}");
    assert!(
        page.contains("id=\"simulate\""),
        "no button to run it again"
    );

    let r = app
        .send(post(
            "/scenarios/simulate",
            Some(&officer),
            &format!("name={q}&version=1"),
            true,
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut last = Value::Null;
    for _ in 0..600 {
        last = json_of(app.send(get(&status_url, Some(&officer))).await).await;
        if last["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(last["status"], "done", "{last}");
    assert_eq!(
        app.state.store.simulation_start(LA, name, 1).await.unwrap(),
        None
    );
}
