//! An LA's own setting codes reach the canonical settings through its setting-map file.

mod common;

use common::{run, witan_demo};

/// `forecast --engine analytic` on witan.send's demo data with a setting map holding `lines`.
fn forecast_with_map(lines: &str, format: &str) -> common::Run {
    let tmp = tempfile::tempdir().unwrap();
    let map = tmp.path().join("map.csv");
    std::fs::write(&map, format!("source,label,setting\n{lines}")).unwrap();
    let demo = witan_demo();
    run([
        "forecast",
        "--witan-dir",
        demo.to_str().unwrap(),
        "--engine",
        "analytic",
        "--format",
        format,
        "--setting-map",
        map.to_str().unwrap(),
    ])
}

#[test]
fn la_codes_map_to_canonical_settings() {
    let r = forecast_with_map(
        "la,A,mainstream\nla,B,mainstream\nla,S,fe_college\n",
        "json",
    );
    let doc: serde_json::Value = serde_json::from_str(r.ok()).unwrap();
    for c in doc["census_years"].as_array().unwrap() {
        let by = &c["by_setting"];
        let canonical = &c["by_canonical_setting"];
        let a_b = by["A"]["mean"].as_f64().unwrap() + by["B"]["mean"].as_f64().unwrap();
        assert!((canonical["mainstream"]["mean"].as_f64().unwrap() - a_b).abs() < 0.01);
        // Everything is counted once: the canonical means add up to the total.
        let sum: f64 = canonical
            .as_object()
            .unwrap()
            .values()
            .map(|v| v["mean"].as_f64().unwrap())
            .sum();
        assert!(
            (sum - c["total"]["mean"].as_f64().unwrap()).abs() < 0.01,
            "{sum}"
        );
        assert!(canonical.get("unmapped").is_some());
    }
}

#[test]
fn a_bad_setting_map_is_named_and_refused() {
    let r = forecast_with_map("la,A,nowhere\n", "table");
    r.assert_no_panic();
    assert_ne!(r.code, Some(0));
    assert!(r.both().contains("map.csv:2:"), "{}", r.both());
}
