//! The all-LA model's blind tuning in detail (issue #11): the settings chosen on the censuses up to UNTIL, the
//! tuning origins' scores with the mean and with the median as the point, England's share of an LA's error
//! variance by horizon (national sums' correlation), and the score after the window.
//! `cargo run --release -p highneeds-model --example published_variants -- ../shared/data 2017`
use highneeds_domain::Measure;
use highneeds_model::published_forecast::{
    backtest, national_share, tune, LaHistory, LaRecords, Method, PublishedForecastOptions,
    POINT_GRID,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).map_or("../shared/data", |s| s.as_str()));
    let until: i32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2017);
    let stats = highneeds_ingest::read_published_dir(&dir)
        .value
        .expect("published folder");
    let current = stats.on_current_boundaries();
    let series = |measure: Measure| -> LaHistory {
        let mut h = LaHistory::new();
        for ((la, m, y), v) in &current.values {
            if *m == measure && !la.is_england() {
                h.entry(*la).or_default().insert(*y, v.value);
            }
        }
        h
    };
    let records = LaRecords {
        plans: series(Measure::Plans),
        new_plans: series(Measure::NewPlans),
        requests: series(Measure::Requests),
    };
    let observed = |la, y| !current.apportioned(la, Measure::Plans, y);
    let t = tune(&records, &observed, 3, until).expect("tune");
    println!("chosen {:?}", t.chosen);
    println!("early mape {:?} cov {:?}", t.early_mape, t.early_coverage);
    // The tuning origins with each point forecast (the third stage's choice), raw and with England's error removed.
    for point in POINT_GRID {
        let options = PublishedForecastOptions { point, ..t.chosen };
        let early = backtest(&records.known_at(until), &observed, 3, &options).expect("early");
        for h in 1..=3 {
            if let (Some(m), Some(e)) = (
                early.score(Method::Pooled, h),
                early.score(Method::EnglandGrowth, h),
            ) {
                println!(
                    "early {} h{h} model MAPE {:.2}% (LA only {:.2}%) bias {:+.2}% cov80 {:.1}% | England {:.2}% (LA only {:.2}%)",
                    point.describe(),
                    m.mape * 100.0,
                    m.mape_england_removed * 100.0,
                    m.bias * 100.0,
                    m.coverage_80.unwrap_or(f64::NAN) * 100.0,
                    e.mape * 100.0,
                    e.mape_england_removed * 100.0
                );
            }
        }
    }
    // How strongly LAs' errors move together, measured at the last tuning census: England's share of the
    // median LA's error variance by horizon (the correlation national sums of person-level forecasts use).
    let share = national_share(&records, until, 5, &t.chosen).expect("national share");
    let share: Vec<String> = share.iter().map(|r| format!("{r:.3}")).collect();
    println!(
        "national share of error variance at {until}, h = 1-5: {}",
        share.join(" ")
    );
    let full = backtest(&records, &observed, 3, &t.chosen).expect("backtest");
    let after = full.origins_after(until);
    for h in 1..=3 {
        let m = after.score(Method::Pooled, h).expect("score");
        let e = after.score(Method::EnglandGrowth, h).expect("score");
        println!(
            "h{h} model MAPE {:.2}% (LA only {:.2}%) bias {:+.2}% cov80 {:.1}% | England {:.2}%",
            m.mape * 100.0,
            m.mape_england_removed * 100.0,
            m.bias * 100.0,
            m.coverage_80.unwrap_or(f64::NAN) * 100.0,
            e.mape * 100.0
        );
    }
}
