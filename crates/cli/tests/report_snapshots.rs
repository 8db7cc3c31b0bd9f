//! Snapshots of what people read: the forecast table (analytic engine, deterministic), the backtest table and
//! the aggregate fallback. A change to any figure or layout shows up as a snapshot diff to review.

mod common;

use std::path::Path;

use common::{run, synth};

fn forecast_table(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "forecast",
        "--witan-dir",
        dir.to_str().unwrap(),
        "--format",
        "table",
    ];
    args.extend_from_slice(extra);
    let r = run(args);
    r.assert_no_panic();
    // The source line names a temporary folder: keep the snapshot independent of it.
    r.ok().replace(dir.to_str().unwrap(), "DIR")
}

#[test]
fn forecast_table_analytic() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("la");
    synth(&dir, 400, 5);
    insta::assert_snapshot!(
        "forecast_table_analytic",
        forecast_table(&dir, &["--engine", "analytic"])
    );
}

#[test]
fn forecast_table_monte_carlo_small() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("la");
    synth(&dir, 400, 5);
    insta::assert_snapshot!(
        "forecast_table_monte_carlo",
        forecast_table(
            &dir,
            &["--engine", "monte-carlo", "--sims", "200", "--seed", "3"]
        )
    );
}

#[test]
fn backtest_table() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("la");
    synth(&dir, 400, 5);
    let r = run([
        "backtest",
        "--witan-dir",
        dir.to_str().unwrap(),
        "--engine",
        "analytic",
    ]);
    r.assert_no_panic();
    insta::assert_snapshot!(
        "backtest_table",
        r.ok().replace(dir.to_str().unwrap(), "DIR")
    );
}

#[test]
fn aggregate_forecast_table() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("totals.csv");
    std::fs::write(
        &file,
        "census_year,plans,new_plans\n2019,1463,\n2020,1587,267\n2021,1742,254\n2022,1880,273\n2023,2013,272\n2024,2150,280\n",
    )
    .unwrap();
    let r = run([
        "forecast",
        "--totals",
        file.to_str().unwrap(),
        "--years",
        "3",
    ]);
    r.assert_no_panic();
    let text = r.ok().replace(file.to_str().unwrap(), "totals.csv");
    assert!(text.contains("stock-and-flow"));
    insta::assert_snapshot!("aggregate_forecast_table", text);
}
