//! `highneeds scenario …` against the demo database: the JSON contract, stored versions, and refusals that leave
//! the database as it was.

mod common;

use std::path::{Path, PathBuf};

use common::{command, run, run_cmd, Run};
use serde_json::Value;

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/exampleshire-dbv-stockton.toml"
);
const NAME: &str = "Exampleshire DBV plan (Stockton-like)";

/// The demo database in `dir` (Exampleshire, with the example scenario stored).
fn demo(dir: &Path) -> PathBuf {
    let db = dir.join("ex.db");
    let mut cmd = command();
    cmd.env("HOME", dir.join("home"))
        .env("XDG_DATA_HOME", dir.join("xdg"))
        .current_dir(dir)
        .args(["demo", "--no-serve", "--db"])
        .arg(&db);
    run_cmd(&mut cmd).ok();
    db
}

fn scenario(args: &[&str], db: &Path) -> Run {
    let mut cmd = command();
    cmd.arg("scenario").args(args).arg("--db").arg(db);
    run_cmd(&mut cmd)
}

fn pence(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("not integer pence: {v}"))
}

#[test]
fn the_example_runs_and_its_savings_add_up_to_the_penny() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let list = scenario(&["list"], &db);
    assert!(
        list.ok().contains(&format!("{NAME}  (1 version")),
        "{}",
        list.both()
    );
    let out = scenario(
        &["run", EXAMPLE, "--engine", "analytic", "--format", "json"],
        &db,
    );
    let d: Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(d["scenario"], NAME);
    assert_eq!(d["target_financial_year"], "2027-28");
    let initiatives = d["initiatives"].as_array().unwrap();
    assert_eq!(initiatives.len(), 10);
    let attributed: i64 = initiatives.iter().map(|i| pence(&i["saving_pence"])).sum();
    let sum = |side: &str| -> i64 {
        d[side]["financial_years"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| pence(&f["expenditure_pence"]))
            .sum()
    };
    let total = pence(&d["total_saving_pence"]);
    assert_eq!(attributed, total);
    assert_eq!(sum("unmitigated") - sum("mitigated"), total);
    assert!(total > 0, "the plan saves money");
    for key in ["income_pence", "in_year_pence", "closing_balance_pence"] {
        assert!(d["mitigated"]["financial_years"][0][key].is_i64(), "{key}");
    }
    assert_eq!(
        d["unmitigated"]["financial_years"][0]["financial_year"],
        "2025-26"
    );
    let p = d["probability_balanced_by_target"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert!(d["probability_deficit_cleared_by_target"].is_f64());
    assert!(d["balance_financial_year"].is_null() || d["balance_financial_year"].is_string());
    assert!(d["sufficiency"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["places"].is_u64()));
    // The stored version runs the same (the analytic engine is deterministic).
    let stored = scenario(
        &["run", NAME, "--engine", "analytic", "--format", "json"],
        &db,
    );
    assert_eq!(stored.ok(), out.ok());
}

#[test]
fn the_example_on_monte_carlo_gives_probabilities_and_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let out = scenario(&["run", EXAMPLE], &db);
    let text = out.ok();
    assert!(
        text.contains("monte-carlo engine, 1000 simulations, seed 1"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("  total ") && l.contains('£')),
        "{text}"
    );
    assert!(
        text.contains("probability of an in-year balance in 2027-28"),
        "{text}"
    );
    let csv = scenario(
        &["run", EXAMPLE, "--engine", "analytic", "--format", "csv"],
        &db,
    );
    let lines: Vec<&str> = csv.ok().lines().collect();
    assert!(lines[0].starts_with("scenario,side,financial_year,expenditure_pence"));
    assert_eq!(lines.len(), 1 + 2 * 4, "two sides × four projected years");
}

#[test]
fn versions_are_kept_and_export_writes_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let file = dir.path().join("mine.toml");
    run([
        "scenario",
        "new",
        "My plan",
        "--out",
        file.to_str().unwrap(),
    ])
    .ok();
    assert!(
        run(["scenario", "new", "Again", "--out", file.to_str().unwrap()]).code != Some(0),
        "never overwrites"
    );
    let first = scenario(&["import", file.to_str().unwrap()], &db);
    assert!(first.ok().contains("as version 1"), "{}", first.both());
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("change = -0.10", "change = -0.05");
    std::fs::write(&file, &text).unwrap();
    assert!(scenario(&["import", file.to_str().unwrap()], &db)
        .ok()
        .contains("as version 2"));
    let show = scenario(&["show", "My plan"], &db);
    assert!(
        show.ok().contains("# version 1 saved") && show.ok().contains("by tester"),
        "{}",
        show.both()
    );
    let out = dir.path().join("back.toml");
    scenario(
        &[
            "export",
            "My plan",
            "--version",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
        &db,
    )
    .ok();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
    let v1 = dir.path().join("v1.toml");
    scenario(
        &[
            "export",
            "My plan",
            "--version",
            "1",
            "--out",
            v1.to_str().unwrap(),
        ],
        &db,
    )
    .ok();
    assert!(std::fs::read_to_string(&v1)
        .unwrap()
        .contains("change = -0.10"));
    // Never over an existing file; written for its owner only.
    let again = scenario(&["export", "My plan", "--out", v1.to_str().unwrap()], &db);
    assert_ne!(again.code, Some(0), "{}", again.both());
    assert!(again.stderr.contains("exists"), "{}", again.both());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&v1).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn an_invalid_scenario_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let before = common::have_sqlite3().then(|| common::dump(&db));
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(EXAMPLE)
        .unwrap()
        .replace("to = \"fe_college\"", "to = \"college\"");
    std::fs::write(&bad, text).unwrap();
    let r = scenario(&["import", bad.to_str().unwrap()], &db);
    r.assert_no_panic();
    assert_eq!(r.code, Some(65), "{}", r.both());
    assert!(
        r.stderr.contains("bad.toml:")
            && r.stderr.contains(
                "(\"h. Post-16 pathways\") lever 1 (redirect) to: \"college\" unknown setting"
            ),
        "{}",
        r.both()
    );
    assert!(r.stderr.contains("nothing was stored"), "{}", r.both());
    let run_bad = scenario(&["run", bad.to_str().unwrap()], &db);
    assert_eq!(run_bad.code, Some(65), "{}", run_bad.both());
    if let Some(before) = before {
        assert_eq!(common::dump(&db), before, "the database changed");
    }
    let list = scenario(&["list"], &db);
    assert_eq!(list.ok().lines().count(), 1, "{}", list.both());
}

#[test]
fn a_target_outside_the_horizon_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let far = dir.path().join("far.toml");
    let text = std::fs::read_to_string(EXAMPLE).unwrap().replace(
        "target_financial_year = \"2027-28\"",
        "target_financial_year = \"2035-36\"",
    );
    std::fs::write(&far, text).unwrap();
    let r = scenario(&["run", far.to_str().unwrap(), "--engine", "analytic"], &db);
    r.assert_no_panic();
    assert_eq!(r.code, Some(65), "{}", r.both());
    assert!(
        r.stderr.contains("far.toml:15: column assumptions.target_financial_year: \"2035-36\" is outside the projected years (2025-26 to 2028-29"),
        "{}",
        r.both()
    );
    let before = common::have_sqlite3().then(|| common::dump(&db));
    let stored = scenario(&["import", far.to_str().unwrap()], &db);
    assert_eq!(stored.code, Some(65), "{}", stored.both());
    if let Some(before) = before {
        assert_eq!(common::dump(&db), before, "the database changed");
    }
}

#[test]
fn scenarios_compare_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo(dir.path());
    let half = dir.path().join("half.toml");
    let text = std::fs::read_to_string(EXAMPLE)
        .unwrap()
        .replace(
            "name = \"Exampleshire DBV plan (Stockton-like)\"",
            "name = \"Half the capacity\"",
        )
        .replace("places = 30", "places = 15");
    std::fs::write(&half, text).unwrap();
    let out = scenario(
        &[
            "compare",
            EXAMPLE,
            half.to_str().unwrap(),
            "--format",
            "json",
        ],
        &db,
    );
    let d: Value = serde_json::from_str(out.ok()).unwrap();
    let runs = d.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["scenario"], "Half the capacity");
    // Fewer places, less saving from initiative e; the unmitigated side is the same data.
    let e = |r: &Value| pence(&r["initiatives"][4]["saving_pence"]);
    assert!(
        e(&runs[1]) < e(&runs[0]),
        "{} vs {}",
        e(&runs[1]),
        e(&runs[0])
    );
    assert_eq!(
        runs[0]["unmitigated"]["financial_years"],
        runs[1]["unmitigated"]["financial_years"]
    );
    let table = scenario(&["compare", EXAMPLE, half.to_str().unwrap()], &db);
    // Each scenario's line of the savings table names it and gives its total saving.
    assert!(
        table
            .ok()
            .lines()
            .any(|l| l.trim_start().starts_with("Half the capacity") && l.contains('£')),
        "{}",
        table.both()
    );
}
