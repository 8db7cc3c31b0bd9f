//! Pages that need more than the LA's own data: the published statistics (import, diagnose, benchmark) and
//! the chosen scenario's target check.

mod common;

use std::path::Path;

use axum::http::StatusCode;
use common::{get, spawn_app, text, LA};
use highneeds_web::auth::Role;

fn shared_data() -> Option<&'static Path> {
    let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    p.join("ehcp_caseload_la_2010_2022.csv")
        .is_file()
        .then_some(p)
}

/// `import published` stores the release (a re-import replaces its years), and the diagnose and benchmark pages
/// show what `highneeds diagnose` and `highneeds benchmark` print for the same LA.
#[tokio::test]
async fn published_statistics_from_the_database() {
    let Some(dir) = shared_data() else {
        eprintln!("../shared/data not found: skipped");
        return;
    };
    let app = spawn_app().await;
    let viewer = app.session(Role::Viewer).await;
    let before = text(app.send(get("/diagnose", Some(&viewer))).await).await;
    assert!(
        before.contains("import published"),
        "no hint before the import"
    );
    let store = &app.state.store;
    let (rows, _) = highneeds_usecases::published::import(store, dir, LA, "test")
        .await
        .unwrap();
    let (again, _) = highneeds_usecases::published::import(store, dir, LA, "test")
        .await
        .unwrap();
    assert_eq!(rows, again);
    assert_eq!(
        store.published_count().await.unwrap(),
        i64::try_from(rows).unwrap(),
        "re-import added rows"
    );
    assert_eq!(app.audit_actions().await.last().unwrap().1, "import");

    // The same report the command line prints from the folder.
    let loaded = highneeds_usecases::published::load(dir).unwrap();
    let la = highneeds_usecases::published::la_code("E06000037", &loaded.current).unwrap();
    let d = highneeds_model::diagnose::diagnose(&loaded.current, la, 2017, 2022, None).unwrap();
    let cli = highneeds_usecases::diagnose::table(&d, loaded.stats.name(la).unwrap());
    let r = app.send(get("/diagnose?la=E06000037", Some(&viewer))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = text(r).await;
    let first = cli.lines().next().unwrap();
    assert!(
        page.contains(&maud::html! { (first) }.into_string()),
        "diagnose page lacks {first:?}"
    );
    let r = app
        .send(get("/benchmark?la=E06000037", Some(&viewer)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(text(r).await.contains("West Berkshire"));
    // A code that is not an LA is explained, not a failure.
    let r = app.send(get("/diagnose?la=E99999998", Some(&viewer))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(text(r).await.contains("role=\"alert\""));
}

/// The overview shows the target check of the LA's most recently saved scenario.
#[tokio::test]
async fn overview_shows_the_chosen_scenarios_target_check() {
    let app = spawn_app().await;
    let viewer = app.session(Role::Viewer).await;
    let page = text(app.send(get("/", Some(&viewer))).await).await;
    assert!(page.contains("No scenario stored yet"));
    let store = &app.state.store;
    let data = highneeds_usecases::scenario::load_from(store, LA)
        .await
        .unwrap();
    let body = highneeds_usecases::scenario::EXAMPLE
        .replace("engine = \"monte-carlo\"", "engine = \"analytic\"");
    let (issues, scenario) = highneeds_usecases::scenario::read_text("example.toml", &body, &data);
    let scenario = scenario.unwrap_or_else(|| panic!("{issues:?}"));
    store
        .save_scenario(LA, &scenario.name, &body, "test")
        .await
        .unwrap();
    let expected = highneeds_usecases::scenario::run_scenario(&data, &scenario, None).unwrap();
    let page = text(app.send(get("/", Some(&viewer))).await).await;
    assert!(
        page.contains(&format!("target an in-year balance by {}", expected.target)),
        "{page}"
    );
    let with_plan = format!(
        "{:.0}%",
        expected.mitigated.probability_balanced_by_target * 100.0
    );
    assert!(page.contains(&with_plan));
    let json: serde_json::Value =
        serde_json::from_str(&text(app.send(get("/api/v1/scenario", Some(&viewer))).await).await)
            .unwrap();
    assert_eq!(json["scenario"], scenario.name.as_str());
    assert_eq!(json["total_saving_pence"], expected.total_saving.pence());
}
