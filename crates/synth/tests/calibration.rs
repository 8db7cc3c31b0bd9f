//! The calibration constants embedded in `src/calibration.rs` agree with the published files they were
//! derived from (read in place from `shared/data`; the library itself never reads them). The test is
//! skipped, with a message, when the files are not there (e.g. a clone without the shared folder).

use std::collections::BTreeMap;
use std::path::PathBuf;

use highneeds_synth::calibration::*;

fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"));
    if dir.join("ehcp_caseload_la_2010_2022.csv").exists() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not found", dir.display());
        None
    }
}

type Row = BTreeMap<String, String>;

fn rows(dir: &std::path::Path, file: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(dir.join(file)).expect(file);
    let headers = reader.headers().expect("headers").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn num(row: &Row, col: &str) -> u32 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?}", row[col]))
}

fn national(row: &Row) -> bool {
    row["geographic_level"] == "National"
}

#[test]
fn england_totals_and_growth() {
    let Some(dir) = data_dir() else { return };
    let rows = rows(&dir, "ehcp_caseload_la_2010_2022.csv");
    let total = |year: &str| -> u32 {
        rows.iter()
            .filter(|r| national(r) && r["census_year"] == year)
            .map(|r| num(r, "ehc_plans"))
            .sum()
    };
    assert_eq!(total("2015"), ENGLAND_PLANS_2015);
    assert_eq!(total("2022"), ENGLAND_PLANS_2022);
    let cagr = england_cagr_2015_2022();
    assert!((cagr - 0.102).abs() < 0.001, "{cagr}");
}

#[test]
fn age_mix() {
    let Some(dir) = data_dir() else { return };
    let rows = rows(&dir, "ehcp_caseload_by_age_la_2010_2022.csv");
    for (year, embedded) in [("2022", AGE_COUNTS_2022), ("2015", AGE_COUNTS_2015)] {
        for (code, want) in AGE_GROUP_CODES.iter().zip(embedded) {
            let got: u32 = rows
                .iter()
                .filter(|r| national(r) && r["census_year"] == year && r["age_group"] == *code)
                .map(|r| num(r, "ehc_plans"))
                .sum();
            assert_eq!(got, want, "{year} {code}");
        }
    }
}

#[test]
fn setting_mix() {
    let Some(dir) = data_dir() else { return };
    let rows = rows(&dir, "ehcp_caseload_by_setting_la_2019_2022.csv");
    let mut by_setting = BTreeMap::<String, u32>::new();
    for r in rows
        .iter()
        .filter(|r| national(r) && r["census_year"] == "2022")
    {
        *by_setting
            .entry(r["setting_canonical"].clone())
            .or_default() += num(r, "ehc_plans");
    }
    for (c, want) in highneeds_domain::CanonicalSetting::ALL
        .iter()
        .zip(SETTING_COUNTS_2022)
    {
        assert_eq!(by_setting.get(c.code()).copied().unwrap_or(0), want, "{c}");
    }
    assert_eq!(by_setting.len(), 12, "{by_setting:?}");
}

#[test]
fn new_plans_by_age() {
    let Some(dir) = data_dir() else { return };
    let rows = rows(&dir, "ehcp_new_plans_by_age_la_2009_2021.csv");
    for (code, want) in AGE_GROUP_CODES.iter().zip(NEW_PLANS_AGE_COUNTS_2021) {
        let got: u32 = rows
            .iter()
            .filter(|r| national(r) && r["calendar_year"] == "2021" && r["age_group"] == *code)
            .map(|r| num(r, "new_plans"))
            .sum();
        assert_eq!(got, want, "{code}");
    }
}

#[test]
fn la_size_spread() {
    let Some(dir) = data_dir() else { return };
    let rows = rows(&dir, "ehcp_caseload_la_2010_2022.csv");
    let logs: Vec<f64> = rows
        .iter()
        .filter(|r| !national(r) && r["census_year"] == "2022")
        .map(|r| f64::from(num(r, "ehc_plans")))
        .filter(|&x| x > 50.0)
        .map(f64::ln)
        .collect();
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    let sd = (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!((mean - LA_SIZE_LOG_MEAN_2022).abs() < 0.001, "{mean}");
    assert!((sd - LA_SIZE_LOG_SD_2022).abs() < 0.001, "{sd}");
}
