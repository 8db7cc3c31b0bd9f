//! Issue #12: one database for every command. `--db` if given, else `$HIGHNEEDS_DB`, else the per-user database
//! in the platform's data folder; `highneeds status` says which and what it holds.

mod common;

use std::path::Path;

use common::{command, run_cmd, synth, Run};

/// The binary with `HIGHNEEDS_DB` set to `db` and a home of its own (so the per-user folders are temporary too).
fn with_env(db: Option<&Path>, home: &Path, args: &[&std::ffi::OsStr]) -> Run {
    let mut cmd = command();
    cmd.env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .args(args);
    if let Some(db) = db {
        cmd.env("HIGHNEEDS_DB", db);
    }
    run_cmd(&mut cmd)
}

#[test]
fn import_then_forecast_with_no_db_option_use_the_same_database() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = tmp.path().join("ex");
    synth(&ex, 300, 2);
    let db = tmp.path().join("la").join("highneeds.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let env_db = Some(db.as_path());
    with_env(
        env_db,
        tmp.path(),
        &[
            "import".as_ref(),
            "budget".as_ref(),
            ex.join("hnb-budget.csv").as_os_str(),
            "--la".as_ref(),
            "E06000001".as_ref(),
        ],
    )
    .ok();
    with_env(
        env_db,
        tmp.path(),
        &[
            "import".as_ref(),
            "witan".as_ref(),
            ex.as_os_str(),
            "--la".as_ref(),
            "E06000001".as_ref(),
        ],
    )
    .ok();
    let forecast = with_env(
        env_db,
        tmp.path(),
        &["forecast".as_ref(), "--years".as_ref(), "2".as_ref()],
    );
    assert!(
        forecast
            .ok()
            .contains(&format!("from E06000001 in {}", db.display())),
        "{}",
        forecast.both()
    );
    let status = with_env(env_db, tmp.path(), &["status".as_ref()]);
    let out = status.ok();
    assert!(
        out.contains(&format!("database: {}", db.display())),
        "{out}"
    );
    assert!(out.contains("from $HIGHNEEDS_DB"), "{out}");
    assert!(out.contains("E06000001"), "{out}");
    // Two imports (the budget, then the four witan files as one); synth's budget has 83 lines.
    assert!(out.contains("imports: 2 "), "{out}");
    assert!(out.contains("83 budget lines"), "{out}");
    let json = with_env(
        env_db,
        tmp.path(),
        &["status".as_ref(), "--format".as_ref(), "json".as_ref()],
    );
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(v["chosen_by"], "environment");
    assert_eq!(v["las"][0]["la_code"], "E06000001");
    assert_eq!(v["las"][0]["budget_lines"], 83);
    assert_eq!(v["las"][0]["imports"], 2);
}

#[test]
fn the_option_beats_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let named = tmp.path().join("named.db");
    let env = tmp.path().join("env.db");
    let r = with_env(
        Some(&env),
        tmp.path(),
        &["status".as_ref(), "--db".as_ref(), named.as_os_str()],
    );
    let out = r.ok();
    assert!(
        out.contains(&format!("database: {}", named.display())),
        "{out}"
    );
    assert!(out.contains("given with --db"), "{out}");
    assert!(out.contains("does not exist yet"), "{out}");
    assert!(!named.exists(), "status created the database");
}

#[test]
fn without_either_the_per_user_database_is_made_in_the_data_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let ex = tmp.path().join("ex");
    synth(&ex, 150, 3);
    with_env(
        None,
        tmp.path(),
        &[
            "import".as_ref(),
            "budget".as_ref(),
            ex.join("hnb-budget.csv").as_os_str(),
        ],
    )
    .ok();
    let expected = tmp
        .path()
        .join("data")
        .join("highneeds")
        .join("highneeds.db");
    assert!(expected.is_file(), "no database at {}", expected.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(expected.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "the data folder is its owner's only");
    }
    let out = with_env(None, tmp.path(), &["status".as_ref()]);
    let text = out.ok();
    assert!(
        text.contains(&format!("database: {}", expected.display())),
        "{text}"
    );
    assert!(text.contains("your own database"), "{text}");
    // The SEN2 keys' folder follows the same rule (on Linux, $XDG_CONFIG_HOME/highneeds).
    #[cfg(target_os = "linux")]
    assert!(
        text.contains(&format!(
            "SEN2 keys are kept in {}",
            tmp.path().join("config").join("highneeds").display()
        )),
        "{text}"
    );
}

#[test]
fn status_shows_where_the_demo_wrote_the_help_examples_files() {
    let tmp = tempfile::tempdir().unwrap();
    with_env(None, tmp.path(), &["demo".as_ref(), "--no-serve".as_ref()]).ok();
    let out = with_env(None, tmp.path(), &["status".as_ref()]);
    let expected = tmp
        .path()
        .join("data")
        .join("highneeds")
        .join("exampleshire");
    assert!(expected.join("plans.csv").is_file());
    assert!(
        out.ok().contains(&format!(
            "the demo's files (the help examples' exampleshire/): {}",
            expected.display()
        )),
        "{}",
        out.both()
    );
}
