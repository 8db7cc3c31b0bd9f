//! Imports of ~25,000 rows must take well under a second and loading a 20,000-row history well under
//! 100 ms (release). Debug builds only get a loose bound; run
//! `cargo test --release -p highneeds-store --test speed -- --nocapture` for the real figures.

mod common;

use std::time::{Duration, Instant};

use common::*;
use highneeds_store::Store;

/// (import bound, load bound): strict in release, loose in debug builds.
fn bounds() -> (Duration, Duration) {
    if cfg!(debug_assertions) {
        (Duration::from_secs(10), Duration::from_secs(5))
    } else {
        (Duration::from_millis(900), Duration::from_millis(100))
    }
}

#[tokio::test]
async fn imports_and_loads_of_25k_rows_are_fast() {
    let (import_bound, load_bound) = bounds();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("speed.db")).await.unwrap();
    let wb = la("867", "West Berkshire");

    let h = history(25_000, 1);
    let t = Instant::now();
    store
        .import_history(&wb, &h, &witan_files(1, &h), "u")
        .await
        .unwrap();
    let import_history = t.elapsed();

    // Replacing the snapshot (deletes 25k rows, writes 25k) is the common re-import.
    let h2 = history(20_000, 2);
    let t = Instant::now();
    store
        .import_history(&wb, &h2, &witan_files(2, &h2), "u")
        .await
        .unwrap();
    let replace_history = t.elapsed();

    let p = plans(8_400, "C", 1);
    let records: usize = p.iter().map(|h| h.records().len()).sum();
    let t = Instant::now();
    store
        .import_plans(&wb, &p, &[file("plans", "p.csv", 9, 0)], "u")
        .await
        .unwrap();
    let import_plans = t.elapsed();
    let p2 = plans(8_400, "C", 2);
    let t = Instant::now();
    store
        .import_plans(&wb, &p2, &[file("plans", "p2.csv", 10, 0)], "u")
        .await
        .unwrap();
    let upsert_plans = t.elapsed();

    let t = Instant::now();
    let loaded = store.load_history("867").await.unwrap().unwrap();
    let first_load = t.elapsed();
    assert_eq!(loaded, h2);
    // Best of five: the machine may be busy with other work (2 cores).
    let mut load_history = first_load;
    for _ in 0..4 {
        let t = Instant::now();
        let again = store.load_history("867").await.unwrap().unwrap();
        load_history = load_history.min(t.elapsed());
        assert_eq!(again.transitions.len(), 20_000);
    }
    let t = Instant::now();
    let loaded_plans = store.load_plans("867").await.unwrap();
    let load_plans = t.elapsed();
    assert_eq!(loaded_plans.len(), 8_400);

    eprintln!(
        "import 25,000 transitions (+{} other rows): {import_history:?}; replace with 20,000: {replace_history:?}; \
         import {records} plan records: {import_plans:?}; upsert again: {upsert_plans:?}; \
         load 20,000-transition history: {first_load:?} first, {load_history:?} best of 5; load plans: {load_plans:?}",
        h.population.len() + h.costs.len() + h.valid_states.len()
    );
    assert!(records > 20_000, "{records}");
    for (what, took, bound) in [
        ("history import", import_history, import_bound),
        ("history replace", replace_history, import_bound),
        ("plans import", import_plans, import_bound),
        ("plans upsert", upsert_plans, import_bound),
        ("history load", load_history, load_bound),
    ] {
        assert!(took < bound, "{what} took {took:?}, bound {bound:?}");
    }
}
