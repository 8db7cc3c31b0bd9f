//! `highneeds demo --no-serve`: builds Exampleshire, recognises its own re-import, and reports in JSON.

mod common;

use std::path::Path;

use common::{command, run_cmd, Run};

/// Run the demo with HOME and XDG_DATA_HOME inside `home`, so nothing outside the temp folder is touched.
fn demo(home: &Path, db: &Path, extra: &[&str]) -> Run {
    let mut cmd = command();
    cmd.env("HOME", home.join("home"))
        .env("XDG_DATA_HOME", home.join("xdg"))
        .current_dir(home)
        .arg("demo")
        .arg("--db")
        .arg(db)
        .arg("--no-serve")
        .args(extra);
    run_cmd(&mut cmd)
}

/// The number after "EHC plans in January 2024: " (with thousands separators).
fn plans_in_table(out: &str) -> u64 {
    let line = out
        .lines()
        .find(|l| l.starts_with("EHC plans in January"))
        .unwrap_or_else(|| panic!("no plans line in\n{out}"));
    let n = line.rsplit(": ").next().unwrap().replace(',', "");
    n.trim()
        .parse()
        .unwrap_or_else(|_| panic!("plans line {line:?}"))
}

const PLANS: std::ops::RangeInclusive<u64> = 2_042..=2_258;

fn import_count(db: &Path) -> Option<String> {
    if !common::have_sqlite3() {
        return None;
    }
    let o = std::process::Command::new("sqlite3")
        .arg(db)
        .arg("select operation from imports order by import_id;")
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn demo_builds_exampleshire_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("ex.db");
    let r = demo(tmp.path(), &db, &[]);
    let out = r.ok().to_string();
    assert!(out.contains("Exampleshire"), "{}", r.both());
    let plans = plans_in_table(&out);
    assert!(PLANS.contains(&plans), "{plans} plans\n{out}");
    assert!(db.is_file(), "no database at {}", db.display());
    assert!(tmp.path().join("exampleshire/transitions.csv").is_file());
    assert!(tmp.path().join("exampleshire/sen2/sen2-2024.xml").is_file());
    assert!(out.contains("from the SEN2 returns"), "{}", r.both());
    assert!(out.contains("2023 → 2024: "), "{}", r.both());
    let dump = common::dump(&db);
    let imports = import_count(&db);
    if let Some(i) = &imports {
        assert_eq!(i, "history\nplans\nbudget\nhistory\n");
    }

    // Second run: the same files are recognised, nothing is imported again.
    let r2 = demo(tmp.path(), &db, &[]);
    let out2 = r2.ok().to_string();
    assert!(out2.contains("Exampleshire"));
    assert_eq!(plans_in_table(&out2), plans);
    assert_eq!(import_count(&db), imports, "the demo imported again");
    if common::have_sqlite3() {
        assert!(
            common::dump(&db) == dump,
            "the second demo changed the database"
        );
    }
    // HOME and XDG_DATA_HOME were not written to when --db is given.
    assert!(!tmp.path().join("home").exists());
    assert!(!tmp.path().join("xdg").exists());
}

#[test]
fn demo_json() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("ex.db");
    let r = demo(tmp.path(), &db, &["--format", "json"]);
    let v: serde_json::Value =
        serde_json::from_str(r.ok()).unwrap_or_else(|e| panic!("not JSON: {e}\n{}", r.both()));
    let plans = v["plans"].as_u64().expect("plans is an integer");
    assert!(PLANS.contains(&plans), "{plans} plans");
    assert_eq!(v["la"]["name"], "Exampleshire");
    assert_eq!(v["la"]["code"], "E99999999");
    assert_eq!(v["census_year"], 2024);
    let by_setting: u64 = v["by_setting"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_u64().unwrap())
        .sum();
    let by_need: u64 = v["by_need"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(by_setting, plans);
    assert_eq!(by_need, plans);
    let forecast = v["forecast"].as_array().unwrap();
    assert_eq!(forecast.len(), 5);
    assert_eq!(forecast[0]["census_year"], 2025);
    assert!(!v["ledger"].as_array().unwrap().is_empty());

    // And the same demo run again in JSON still parses with the same count.
    let r = demo(tmp.path(), &db, &["--format", "json"]);
    let again: serde_json::Value = serde_json::from_str(r.ok()).unwrap();
    assert_eq!(again["plans"], plans);
}

/// Without --db the demo uses $XDG_DATA_HOME/highneeds.
#[test]
fn demo_default_database_goes_to_xdg_data_home() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = command();
    cmd.env("HOME", tmp.path().join("home"))
        .env("XDG_DATA_HOME", tmp.path().join("xdg"))
        .current_dir(tmp.path())
        .args(["demo", "--no-serve"]);
    let r = run_cmd(&mut cmd);
    assert!(r.ok().contains("Exampleshire"));
    assert!(tmp.path().join("xdg/highneeds/highneeds.db").is_file());
    assert!(!tmp.path().join("home").exists());
}
