//! The store end to end: round trips, re-imports, several LAs, rollback and migrations.

mod common;

use std::path::PathBuf;

use common::*;
use highneeds_domain::{CensusYear, Pence, PopulationCount};
use highneeds_store::{ImportOutcome, Store, StoreError};

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("highneeds.db")
}

fn imported(outcome: ImportOutcome) -> (i64, u64) {
    match outcome {
        ImportOutcome::Imported { import_id, rows } => (import_id, rows),
        other => panic!("expected Imported, got {other:?}"),
    }
}

#[tokio::test]
async fn history_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(&dir)).await.unwrap();
    assert_eq!(store.load_history("E06000037").await.unwrap(), None);
    let h = history(2_000, 1);
    let (id, rows) = imported(
        store
            .import_history(
                &la("E06000037", "West Berkshire"),
                &h,
                &witan_files(10, &h),
                "analyst",
            )
            .await
            .unwrap(),
    );
    assert_eq!(id, 1);
    assert_eq!(rows, 2_000 + 15 * 26 + 48 + 8);
    let loaded = store.load_history("E06000037").await.unwrap().unwrap();
    assert_eq!(loaded, h);
    // Joiners and leavers keep their absent side.
    assert!(loaded.transitions.iter().any(|t| t.before.is_none()));
    assert!(loaded.transitions.iter().any(|t| t.after.is_none()));
    // An empty needs list and an empty group survive.
    assert!(loaded.valid_states[0].needs.is_empty());
    assert_eq!(loaded.valid_states[1].group, "");
}

#[tokio::test]
async fn empty_history_is_some_and_missing_is_a_helpful_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(&dir)).await.unwrap();
    let err = store.require_history("E99").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "LA E99 has no transition data: import witan files first"
    );
    let empty = Default::default();
    store
        .import_history(
            &la("E99", "Nowhere"),
            &empty,
            &[file("witan", "t.csv", 1, 0)],
            "u",
        )
        .await
        .unwrap();
    assert_eq!(store.require_history("E99").await.unwrap(), empty);
}

#[tokio::test]
async fn plans_round_trip_and_upsert() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(&dir)).await.unwrap();
    let wb = la("867", "West Berkshire");
    let p = plans(500, "C", 2);
    let records: u64 = p.iter().map(|h| h.records().len() as u64).sum();
    let (_, rows) = imported(
        store
            .import_plans(&wb, &p, &[file("plans", "plans.csv", 20, records)], "u")
            .await
            .unwrap(),
    );
    assert_eq!(rows, records);
    assert_eq!(store.load_plans("867").await.unwrap(), p);

    // A second file updates the records it names and keeps the rest.
    let q = plans(600, "C", 3);
    store
        .import_plans(&wb, &q[100..], &[file("plans", "plans-2.csv", 21, 0)], "u")
        .await
        .unwrap();
    let loaded = store.load_plans("867").await.unwrap();
    assert_eq!(loaded.len(), 600);
    for (i, h) in loaded.iter().enumerate() {
        let expected = if i < 100 { &p[i] } else { &q[i] };
        if !(100..500).contains(&i) {
            assert_eq!(h, expected);
        } else {
            // Records of the second file replace the first's for the same census; others are kept.
            for r in q[i].records() {
                assert_eq!(h.at(r.census_year), Some(r));
            }
            for r in p[i].records() {
                if q[i].at(r.census_year).is_none() {
                    assert_eq!(h.at(r.census_year), Some(r));
                }
            }
        }
    }
}

#[tokio::test]
async fn budget_round_trip_and_upsert() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(&dir)).await.unwrap();
    let wb = la("867", "West Berkshire");
    let b = budget(4);
    store
        .import_budget(
            &wb,
            &b,
            &[file("budget", "hnb.csv", 30, b.len() as u64)],
            "finance",
        )
        .await
        .unwrap();
    assert_eq!(store.load_budget("867").await.unwrap(), b);

    let mut changed = b[..3].to_vec();
    changed[1].amount = Pence::new(-1);
    let (_, rows) = imported(
        store
            .import_budget(
                &wb,
                &changed,
                &[file("budget", "hnb-v2.csv", 31, 3)],
                "finance",
            )
            .await
            .unwrap(),
    );
    assert_eq!(rows, 3);
    let loaded = store.load_budget("867").await.unwrap();
    assert_eq!(loaded.len(), b.len());
    assert_eq!(loaded[1].amount, Pence::new(-1));
    assert_eq!(loaded[2..], b[2..]);
}

#[tokio::test]
async fn reimport_is_recognised_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = Store::open(&path).await.unwrap();
    let wb = la("867", "West Berkshire");
    let h = history(300, 5);
    let p = plans(50, "C", 5);
    let b = budget(5);
    let (hid, _) = imported(
        store
            .import_history(&wb, &h, &witan_files(100, &h), "a")
            .await
            .unwrap(),
    );
    let (pid, _) = imported(
        store
            .import_plans(&wb, &p, &[file("plans", "p.csv", 200, 9)], "a")
            .await
            .unwrap(),
    );
    let (bid, _) = imported(
        store
            .import_budget(&wb, &b, &[file("budget", "b.csv", 300, 9)], "a")
            .await
            .unwrap(),
    );
    let log = store.import_log(Some("867")).await.unwrap();
    assert_eq!(log.len(), 6);
    let before = dump(&path).await;

    // Same files again, even under another name, by another user, with the LA renamed: nothing changes.
    let renamed = la("867", "West Berks");
    let again = store
        .import_history(&renamed, &h, &witan_files(100, &h), "b")
        .await
        .unwrap();
    assert_eq!(
        again,
        ImportOutcome::AlreadyImported {
            import_id: hid,
            imported_at: log[0].imported_at.clone()
        }
    );
    let mut upper = file("plans", "copy of p.csv", 200, 9);
    upper.sha256 = upper.sha256.to_uppercase();
    let again = store
        .import_plans(&renamed, &p, &[upper], "b")
        .await
        .unwrap();
    assert!(matches!(again, ImportOutcome::AlreadyImported { import_id, .. } if import_id == pid));
    let again = store
        .import_budget(&renamed, &b, &[file("budget", "b.csv", 300, 9)], "b")
        .await
        .unwrap();
    assert!(matches!(again, ImportOutcome::AlreadyImported { import_id, .. } if import_id == bid));
    assert_eq!(dump(&path).await, before);
    assert_eq!(
        store
            .load_history("867")
            .await
            .unwrap()
            .unwrap()
            .transitions
            .len(),
        300
    );
    assert_eq!(store.las().await.unwrap()[0].name, "West Berkshire");

    // A witan set that differs in one file is a new snapshot.
    let mut files = witan_files(100, &h);
    files[3] = file("witan", "valid-states.csv", 999, 8);
    assert!(matches!(
        store.import_history(&wb, &h, &files, "a").await.unwrap(),
        ImportOutcome::Imported { .. }
    ));
    // Going back to the first set is a change too (it replaces the newer snapshot).
    let back = store
        .import_history(&wb, &h, &witan_files(100, &h), "a")
        .await
        .unwrap();
    assert!(
        matches!(back, ImportOutcome::Imported { import_id: 5, .. }),
        "{back:?}"
    );
    // The same hash under another LA is not a re-import for this one.
    let other = store
        .import_plans(
            &la("868", "Other"),
            &p,
            &[file("plans", "p.csv", 200, 9)],
            "a",
        )
        .await
        .unwrap();
    assert!(matches!(other, ImportOutcome::Imported { .. }));
}

#[tokio::test]
async fn two_las_are_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(&dir)).await.unwrap();
    let (a, b) = (la("E06000037", "West Berkshire"), la("E10000030", "Surrey"));
    let (ha, hb) = (history(400, 7), history(250, 8));
    let (pa, pb) = (plans(40, "A", 7), plans(30, "B", 8));
    store
        .import_history(&a, &ha, &witan_files(1, &ha), "u")
        .await
        .unwrap();
    store
        .import_history(&b, &hb, &witan_files(11, &hb), "u")
        .await
        .unwrap();
    store
        .import_plans(&a, &pa, &[file("plans", "a.csv", 21, 1)], "u")
        .await
        .unwrap();
    store
        .import_plans(&b, &pb, &[file("plans", "b.csv", 22, 1)], "u")
        .await
        .unwrap();
    store
        .import_budget(&b, &budget(1), &[file("budget", "b.csv", 23, 1)], "u")
        .await
        .unwrap();
    // Re-importing A's witan set replaces A's history only.
    let ha2 = history(100, 9);
    store
        .import_history(&a, &ha2, &witan_files(31, &ha2), "u")
        .await
        .unwrap();

    assert_eq!(store.load_history("E06000037").await.unwrap().unwrap(), ha2);
    assert_eq!(store.load_history("E10000030").await.unwrap().unwrap(), hb);
    assert_eq!(store.load_plans("E06000037").await.unwrap(), pa);
    assert_eq!(store.load_plans("E10000030").await.unwrap(), pb);
    assert!(store.load_budget("E06000037").await.unwrap().is_empty());
    assert_eq!(store.load_budget("E10000030").await.unwrap(), budget(1));

    let las = store.las().await.unwrap();
    assert_eq!(las.len(), 2);
    assert_eq!(
        (las[0].code.as_str(), las[0].name.as_str()),
        ("E06000037", "West Berkshire")
    );
    assert_eq!(las[0].transitions, 100);
    assert_eq!(las[0].population_rows, 15 * 26);
    assert_eq!(las[0].unit_costs, 48);
    assert_eq!(las[0].valid_states, 8);
    assert_eq!(las[0].children, 40);
    assert_eq!(
        las[0].plan_records,
        pa.iter().map(|h| h.records().len() as u64).sum::<u64>()
    );
    assert_eq!(las[0].budget_lines, 0);
    assert_eq!(las[1].budget_lines, budget(1).len() as u64);
    let latest_plan = pb
        .iter()
        .flat_map(|h| h.records())
        .map(|r| r.census_year)
        .max();
    let latest_transition = hb.census_span().map(|(_, last)| last);
    assert_eq!(las[1].latest_census, latest_plan.max(latest_transition));

    let log_a = store.import_log(Some("E06000037")).await.unwrap();
    assert!(log_a.iter().all(|e| e.la_code == "E06000037"));
    assert_eq!(log_a.len(), 4 + 1 + 4);
    assert_eq!(
        store.import_log(None).await.unwrap().len(),
        4 + 4 + 1 + 1 + 1 + 4
    );
}

#[tokio::test]
async fn import_log_records_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(&dir)).await.unwrap();
    let h = history(10, 1);
    store
        .import_history(
            &la("867", "West Berkshire"),
            &h,
            &witan_files(1, &h),
            "  jo.bloggs ",
        )
        .await
        .unwrap();
    store
        .import_plans(
            &la("867", "West Berkshire"),
            &[],
            &[file("sen2", "sen2.xml", 9, 0)],
            "",
        )
        .await
        .unwrap();
    let log = store.import_log(None).await.unwrap();
    assert_eq!(log.len(), 5);
    let e = &log[1];
    assert_eq!(e.import_id, 1);
    assert_eq!(e.la_code, "867");
    assert_eq!(e.kind, "witan");
    assert_eq!(e.file_name, "population.csv");
    assert_eq!(e.sha256, hash(2));
    assert_eq!(e.rows, h.population.len() as u64);
    assert_eq!(e.imported_by, "jo.bloggs");
    let t = chrono::DateTime::parse_from_rfc3339(&e.imported_at).unwrap();
    assert_eq!(t.offset().local_minus_utc(), 0);
    assert!(e.imported_at.ends_with('Z'));
    assert_eq!(
        (
            log[4].import_id,
            log[4].kind.as_str(),
            log[4].imported_by.as_str()
        ),
        (2, "sen2", "unknown")
    );
}

#[tokio::test]
async fn refused_imports_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = Store::open(&path).await.unwrap();
    let before = dump(&path).await;
    let wb = la("867", "West Berkshire");
    let p = plans(3, "C", 1);
    let errs = [
        store.import_plans(&wb, &p, &[], "u").await.unwrap_err(),
        store
            .import_plans(
                &wb,
                &p,
                &[file("plans", "p.csv", 1, 1).tap(|f| f.sha256 = "abc".into())],
                "u",
            )
            .await
            .unwrap_err(),
        store
            .import_plans(&la("", "X"), &p, &[file("plans", "p.csv", 1, 1)], "u")
            .await
            .unwrap_err(),
        store
            .import_plans(&la("86'7", "X"), &p, &[file("plans", "p.csv", 1, 1)], "u")
            .await
            .unwrap_err(),
        store
            .import_plans(&la("867", " "), &p, &[file("plans", "p.csv", 1, 1)], "u")
            .await
            .unwrap_err(),
        store
            .import_plans(
                &wb,
                &[p[0].clone(), p[0].clone()],
                &[file("plans", "p.csv", 1, 1)],
                "u",
            )
            .await
            .unwrap_err(),
        store
            .import_budget(
                &wb,
                &[budget(1)[0].clone(), budget(1)[0].clone()],
                &[file("budget", "b.csv", 1, 1)],
                "u",
            )
            .await
            .unwrap_err(),
    ];
    for e in &errs {
        assert!(
            matches!(
                e,
                StoreError::InvalidImport(_) | StoreError::InvalidLa { .. }
            ),
            "{e}"
        );
    }
    assert!(
        errs[5]
            .to_string()
            .contains("child C00000 appears in two plan histories"),
        "{}",
        errs[5]
    );
    assert_eq!(dump(&path).await, before);
    assert!(store.las().await.unwrap().is_empty());
}

trait Tap: Sized {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}
impl<T> Tap for T {}

#[tokio::test]
async fn failure_midway_rolls_back_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = Store::open(&path).await.unwrap();
    let wb = la("867", "West Berkshire");
    let h1 = history(1_500, 1);
    store
        .import_history(&wb, &h1, &witan_files(1, &h1), "u")
        .await
        .unwrap();
    let p1 = plans(800, "C", 1);
    store
        .import_plans(&wb, &p1, &[file("plans", "p1.csv", 50, 1)], "u")
        .await
        .unwrap();
    let before = dump(&path).await;
    let before_cli = sqlite3_dump(&path);

    // 1. A new witan set whose population table repeats a (census, NCY) in the middle: the database's
    //    UNIQUE rule fails after the old snapshot was deleted and 1,500 new transitions were written.
    let mut h2 = history(1_500, 2);
    let dup = PopulationCount {
        population: 1,
        ..h2.population[100]
    };
    h2.population.insert(200, dup);
    let err = store
        .import_history(&wb, &h2, &witan_files(2, &h2), "u")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
    assert!(err.to_string().contains("nothing was saved"), "{err}");
    assert!(
        err.to_string()
            .contains("the population data has two rows for the same census year and NCY"),
        "{err}"
    );

    // 2. A population too large for the database, after the transitions were written.
    let mut h3 = history(1_500, 3);
    h3.population[300].population = u64::MAX;
    let err = store
        .import_history(&wb, &h3, &witan_files(3, &h3), "u")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidImport(_)), "{err}");

    assert_eq!(dump(&path).await, before);
    assert_eq!(store.load_history("867").await.unwrap().unwrap(), h1);
    assert_eq!(store.load_plans("867").await.unwrap(), p1);
    if let Some(cli) = before_cli {
        assert_eq!(sqlite3_dump(&path).unwrap(), cli);
    }
}

#[tokio::test]
async fn failure_inside_a_batch_rolls_back_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let store = Store::open(&path).await.unwrap();
    let wb = la("867", "West Berkshire");
    let p1 = plans(1_200, "C", 1);
    store
        .import_plans(&wb, &p1, &[file("plans", "p1.csv", 50, 1)], "u")
        .await
        .unwrap();
    // Make the database refuse one row in the middle of a 500-row INSERT (as a full disk or a broken
    // rule would), after the LA row, the log rows and earlier batches were written.
    {
        let pool = sqlx::sqlite::SqlitePool::connect_with(
            sqlx::sqlite::SqliteConnectOptions::new().filename(&path),
        )
        .await
        .unwrap();
        sqlx::query(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON plan_records WHEN NEW.child_id = 'C00900' \
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let before = dump(&path).await;
    let before_cli = sqlite3_dump(&path);
    let p2 = plans(1_200, "C", 2); // updates C00000..C00899 before failing on C00900
    let err = store
        .import_plans(
            &la("867", "Renamed"),
            &p2,
            &[file("plans", "p2.csv", 51, 1)],
            "u",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refused for the test"), "{err}");
    assert_eq!(dump(&path).await, before);
    if let Some(cli) = before_cli {
        assert_eq!(sqlite3_dump(&path).unwrap(), cli);
    }
    assert_eq!(store.load_plans("867").await.unwrap(), p1);
    assert_eq!(store.import_log(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn migrations_apply_to_a_fresh_file_and_reopening_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new").join("..").join("fresh.db");
    std::fs::create_dir(dir.path().join("new")).unwrap();
    assert!(!path.exists());
    let store = Store::open(&path).await.unwrap();
    assert!(path.exists());
    assert!(store.las().await.unwrap().is_empty());
    assert!(store.import_log(None).await.unwrap().is_empty());
    store.close().await;
    let first = dump(&path).await;
    assert!(first.contains("table transitions"), "{first}");
    assert!(first.contains("-- _sqlx_migrations\n1|"), "{first}");
    let bytes = std::fs::read(&path).unwrap();

    for _ in 0..2 {
        let store = Store::open(&path).await.unwrap();
        assert!(store.las().await.unwrap().is_empty());
        store.close().await;
        assert_eq!(dump(&path).await, first);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "re-opening changed the file"
        );
    }
}

#[tokio::test]
async fn open_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = dir.path().join("no such folder").join("highneeds.db");
    let err = Store::open(&missing_dir).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("database file "), "{msg}");
    assert!(msg.contains("no such folder"), "{msg}");
    assert!(msg.contains("could not be opened"), "{msg}");

    let not_a_db = dir.path().join("notes.db");
    std::fs::write(
        &not_a_db,
        "these are not the tables you are looking for, not at all, no".repeat(100),
    )
    .unwrap();
    let msg = Store::open(&not_a_db).await.unwrap_err().to_string();
    assert!(msg.contains("notes.db"), "{msg}");
}

#[tokio::test]
async fn concurrent_imports_get_distinct_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let s1 = Store::open(&path).await.unwrap();
    let s2 = Store::open(&path).await.unwrap();
    let (b1, b2) = (budget(1), budget(2));
    let f1 = [file("budget", "a.csv", 1, 1)];
    let f2 = [file("budget", "b.csv", 2, 1)];
    let (la1, la2) = (la("A1", "A"), la("B1", "B"));
    let (r1, r2) = tokio::join!(
        s1.import_budget(&la1, &b1, &f1, "u"),
        s2.import_budget(&la2, &b2, &f2, "u"),
    );
    let mut ids = [imported(r1.unwrap()).0, imported(r2.unwrap()).0];
    ids.sort();
    assert_eq!(ids, [1, 2]);
    assert_eq!(s1.load_budget("B1").await.unwrap(), b2);
}

#[tokio::test]
async fn latest_census_counts_the_census_transitions_end_at() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(&dir)).await.unwrap();
    let mut h = history(50, 1);
    for t in &mut h.transitions {
        t.from_census = CensusYear::new(2022).unwrap();
    }
    store
        .import_history(&la("867", "WB"), &h, &witan_files(1, &h), "u")
        .await
        .unwrap();
    assert_eq!(
        store.las().await.unwrap()[0].latest_census,
        Some(CensusYear::new(2023).unwrap())
    );
}

#[tokio::test]
async fn a_monte_carlo_run_is_kept_with_its_scenario_version() {
    use highneeds_store::ScenarioSimulation;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_path(&dir)).await.unwrap();
    let h = history(200, 1);
    store
        .import_history(
            &la("E06000037", "West Berkshire"),
            &h,
            &witan_files(10, &h),
            "analyst",
        )
        .await
        .unwrap();
    let v1 = store
        .save_scenario("E06000037", "Plan", "name = \"Plan\"\n", "officer")
        .await
        .unwrap();
    let run = |milliseconds: u64, json: &str| ScenarioSimulation {
        la_code: "E06000037".into(),
        name: "Plan".into(),
        version: v1,
        data_version: Some(1),
        sims: 1000,
        // Above i64::MAX: the seed's bits survive the signed column.
        seed: u64::MAX - 7,
        run_at: "2026-12-02T11:00:00.000Z".into(),
        run_by: "officer".into(),
        milliseconds,
        result_json: json.into(),
    };
    assert_eq!(
        store.simulation("E06000037", "Plan", v1).await.unwrap(),
        None
    );
    store.save_simulation(&run(500, "{\"a\":1}")).await.unwrap();
    // A second run of the same version replaces the first.
    store.save_simulation(&run(250, "{\"a\":2}")).await.unwrap();
    let kept = store
        .simulation("E06000037", "Plan", v1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept, run(250, "{\"a\":2}"));
    // A version that was never saved cannot have a run.
    let mut orphan = run(100, "{}");
    orphan.version = v1 + 1;
    assert!(store.save_simulation(&orphan).await.is_err());
    assert_eq!(
        store.simulation("E06000037", "Plan", v1 + 1).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn after_close_the_database_file_alone_holds_everything() {
    // Someone backing up or moving the database copies the `.db` file: once a command's store is closed, that file
    // must hold its import, not leave it in the write-ahead log beside it. Another connection to the same file (a
    // server reading it) means the closing pool is never SQLite's last connection, which is when SQLite would fold
    // the log in by itself.
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(&dir);
    let reader = Store::open(&path).await.unwrap();
    assert!(reader.las().await.unwrap().is_empty());
    let store = Store::open(&path).await.unwrap();
    let h = history(200, 1);
    store
        .import_history(
            &la("E06000037", "West Berkshire"),
            &h,
            &witan_files(10, &h),
            "analyst",
        )
        .await
        .unwrap();
    store.close().await;
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let alone = Store::open(&copy).await.unwrap();
    assert_eq!(
        alone.load_history("E06000037").await.unwrap(),
        Some(h),
        "the file alone lost the import"
    );
    alone.close().await;
    reader.close().await;
}
