use super::*;

fn la(s: &str) -> LaCode {
    s.parse().unwrap()
}

/// LAs growing at constant rates from 100 plans in 2010, for `years` censuses.
fn constant_growth(rates: &[f64], years: i32) -> LaRecords {
    let mut h = LaHistory::new();
    for (k, g) in rates.iter().enumerate() {
        h.insert(
            la(&format!("E060000{:02}", k + 1)),
            (0..years).map(|t| (2010 + t, 100.0 * g.powi(t))).collect(),
        );
    }
    LaRecords::from_plans(h)
}

fn england_only() -> PublishedForecastOptions {
    PublishedForecastOptions {
        indicators: Indicators::NONE,
        ridge: 0.0,
        national_years: 1,
        error_memory: 1.0,
        point: PointEstimate::Mean,
    }
}

#[test]
fn england_growth_worked_example() {
    // Two LAs at +10 % and +20 % a year, 2010-2016. England's growth in 2016 = ln((a16 + b16)/(a15 + b15)); with
    // no indicators each LA's median is its 2016 plans × exp(h·G), and the errors at earlier origins set the
    // width: here those errors are not zero (England's growth rises as the faster LA's share grows).
    let r = constant_growth(&[1.1, 1.2], 7);
    let p = project(&r, 2016, 2, &england_only()).unwrap();
    assert_eq!(p.len(), 4);
    let (a15, b15) = (100.0 * 1.1f64.powi(5), 100.0 * 1.2f64.powi(5));
    let (a16, b16) = (a15 * 1.1, b15 * 1.2);
    let g = ((a16 + b16) / (a15 + b15)).ln();
    for (x, h) in p.iter().filter(|x| x.la == la("E06000001")).zip(1..) {
        let median = a16 * (g * f64::from(h)).exp();
        assert!(
            ((x.p10 * x.p90).sqrt() / median - 1.0).abs() < 1e-9,
            "{x:?} vs median {median}"
        );
        assert!((x.median / median - 1.0).abs() < 1e-9, "{x:?}");
        assert_eq!(x.point(PointEstimate::Median), x.median);
        assert_eq!(x.point(PointEstimate::Mean), x.mean);
        let sd = (x.p90 / x.p10).ln() / (2.0 * Z80);
        assert!(sd > 0.0);
        assert!((x.mean / (median * (sd * sd / 2.0).exp()) - 1.0).abs() < 1e-9);
    }
}

#[test]
fn constant_growth_everywhere_is_forecast_exactly() {
    // Every LA grows 5 % a year: no error at any earlier origin, so no width; England's growth is exact.
    let r = constant_growth(&[1.05, 1.05, 1.05], 8);
    for p in project(&r, 2017, 3, &PublishedForecastOptions::default()).unwrap() {
        let truth = 100.0 * 1.05f64.powi(p.census_year - 2010);
        assert!((p.mean / truth - 1.0).abs() < 1e-9, "{p:?}");
        assert!((p.p10 / truth - 1.0).abs() < 1e-9 && (p.p90 / truth - 1.0).abs() < 1e-9);
    }
}

#[test]
fn no_leak_from_after_the_origin() {
    let mut r = constant_growth(&[1.1, 1.2, 0.95], 9);
    for (k, s) in r.plans.values().enumerate() {
        let flows: BTreeMap<i32, f64> = s
            .iter()
            .map(|(y, v)| (*y, v * 0.1 * (k + 1) as f64))
            .collect();
        r.new_plans
            .insert(*r.plans.keys().nth(k).unwrap(), flows.clone());
        r.requests.insert(*r.plans.keys().nth(k).unwrap(), flows);
    }
    let before = project(&r, 2016, 2, &PublishedForecastOptions::default()).unwrap();
    for s in r.plans.values_mut() {
        s.insert(2017, 1.0);
        s.insert(2018, 1e9);
    }
    for s in r.new_plans.values_mut().chain(r.requests.values_mut()) {
        s.insert(2016, 1e6);
    }
    let after = project(&r, 2016, 2, &PublishedForecastOptions::default()).unwrap();
    assert_eq!(before, after);
}

#[test]
fn known_at_keeps_flows_of_the_calendar_years_before_the_census() {
    let mut r = constant_growth(&[1.1], 5);
    r.new_plans.insert(
        la("E06000001"),
        [(2012, 5.0), (2013, 6.0), (2014, 7.0)].into(),
    );
    let k = r.known_at(2014);
    assert_eq!(k.plans[&la("E06000001")].keys().last(), Some(&2014));
    assert_eq!(k.new_plans[&la("E06000001")].keys().last(), Some(&2013));
}

#[test]
fn too_few_censuses_to_measure_errors_is_refused() {
    let r = constant_growth(&[1.1, 1.2], 3);
    let e = project(&r, 2012, 1, &england_only()).unwrap_err();
    assert!(e.to_string().contains("4 published censuses"), "{e}");
}

#[test]
fn arithmetic_breaking_settings_are_refused() {
    let r = constant_growth(&[1.1, 1.2], 8);
    for ridge in [f64::NAN, -1.0, f64::INFINITY] {
        let o = PublishedForecastOptions {
            ridge,
            ..PublishedForecastOptions::default()
        };
        assert!(project(&r, 2017, 1, &o).is_err(), "ridge {ridge}");
    }
    let o = PublishedForecastOptions {
        national_years: 0,
        ..PublishedForecastOptions::default()
    };
    assert!(project(&r, 2017, 1, &o).is_err());
}

#[test]
fn baselines_by_hand() {
    // 100, 110, 121, 133.1, 146.41 (2016-2020, +10 %/yr): last growth and 3-year growth both give
    // 146.41 × 1.1² = 177.1561 at h = 2. Linear: x̄ = 2018, ȳ = 122.102, slope = Σ(x−x̄)y/10 = (−200 − 110 + 0 +
    // 133.1 + 292.82)/10 = 11.592 → 122.102 + 11.592 × 4 = 168.470. England at ln 1.05 a year: 146.41 × 1.05².
    let s: BTreeMap<i32, f64> = (0..5).map(|k| (2016 + k, 100.0 * 1.1f64.powi(k))).collect();
    let b = backtest::tests_baselines(&s, 2020, 2, 1.05f64.ln()).unwrap();
    assert!((b[0] - 161.417_025).abs() < 1e-6, "{}", b[0]);
    assert!((b[1] - 177.1561).abs() < 1e-9);
    assert!((b[2] - 177.1561).abs() < 1e-9);
    assert!((b[3] - 168.470).abs() < 1e-9, "{}", b[3]);
    assert_eq!(
        backtest::tests_baselines(&s, 2018, 1, 0.0),
        None,
        "needs 3 years before the origin"
    );
}

#[test]
fn backtest_scores_every_method_on_the_same_cases() {
    let r = constant_growth(&[1.1, 1.2], 7);
    let b = backtest(&r, &|_, _| true, 1, &england_only()).unwrap();
    assert_eq!(b.origins, vec![2013, 2014, 2015]);
    let n: Vec<usize> = b.scores.iter().map(|s| s.cases).collect();
    assert_eq!(n, vec![6; 5]);
    // Constant growth: last-year and 3-year growth are exact; England's growth is not.
    assert!(b.score(Method::LastGrowth, 1).unwrap().mape < 1e-12);
    assert!(b.score(Method::EnglandGrowth, 1).unwrap().mape > 0.01);
}

#[test]
fn backtest_scores_the_point_the_settings_ask_for() {
    // Two LAs at +10 % and +20 % a year: England's growth misses both, so the intervals have width and the mean
    // sits above the median. Each LA-year's median is its origin plans × exp(h·G), G = England's growth in the
    // origin year (no indicators); the median setting scores exactly that, the mean setting something larger.
    let r = constant_growth(&[1.1, 1.2], 8);
    let median = PublishedForecastOptions {
        point: PointEstimate::Median,
        ..england_only()
    };
    let a = backtest(&r, &|_, _| true, 1, &median).unwrap();
    let b = backtest(&r, &|_, _| true, 1, &england_only()).unwrap();
    let pooled = |x: &PublishedBacktest| -> Vec<BacktestCase> {
        x.cases
            .iter()
            .copied()
            .filter(|c| c.method == Method::Pooled)
            .collect()
    };
    let (ma, mb) = (pooled(&a), pooled(&b));
    assert!(!ma.is_empty() && ma.len() == mb.len());
    for (x, y) in ma.iter().zip(&mb) {
        let plans = |la: LaCode, year: i32| r.plans[&la][&year];
        let total = |year: i32| plans(la("E06000001"), year) + plans(la("E06000002"), year);
        let g = (total(x.origin) / total(x.origin - 1)).ln();
        let expected = plans(x.la, x.origin) * g.exp();
        assert!(
            (x.forecast / expected - 1.0).abs() < 1e-9,
            "{x:?} vs {expected}"
        );
        assert!(y.forecast > x.forecast, "mean {y:?} above median {x:?}");
    }
}

#[test]
fn england_removed_mape_worked_example() {
    // Two cases at one origin: actual 100 and 300, forecast 110 and 330 (both +10 %): MAPE 10 %; rescaled to the
    // true total (400/440) both are exact, so 0 %. Bias +10 %.
    let case = |la_code: &str, actual, forecast| BacktestCase {
        method: Method::LastGrowth,
        la: la(la_code),
        origin: 2015,
        horizon: 1,
        actual,
        forecast,
        covered: None,
    };
    let b = backtest::tests_from_cases(vec![
        case("E06000001", 100.0, 110.0),
        case("E06000002", 300.0, 330.0),
    ]);
    let s = b.score(Method::LastGrowth, 1).unwrap();
    assert!((s.mape - 0.1).abs() < 1e-12 && (s.bias - 0.1).abs() < 1e-12);
    assert!(s.mape_england_removed.abs() < 1e-12);
}

#[test]
fn tuning_reads_nothing_after_its_year() {
    // Tuning up to 2016 reads censuses up to 2016 only: wild later years change nothing.
    let mut r = constant_growth(&[1.1, 1.2, 0.97], 9);
    let a = tune(&r, &|_, _| true, 1, 2016).unwrap();
    for s in r.plans.values_mut() {
        s.insert(2017, 1e9);
    }
    let b = tune(&r, &|_, _| true, 1, 2016).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a.tried,
        tuning_grid().len() + MEMORY_GRID.len() + POINT_GRID.len()
    );
    assert!(tune(&r, &|_, _| true, 1, 2018)
        .unwrap_err()
        .to_string()
        .contains("no origin after 2018"));
    assert!(tune(&r, &|_, _| true, 1, 2030).is_err(), "beyond the data");
    assert!(
        tune(&r, &|_, _| true, 1, 2013).is_err(),
        "too few censuses to tune on"
    );
}

proptest::proptest! {
    /// p10 ≤ median ≤ mean ≤ p90, all finite and positive, at every horizon up to 10, for any positive history.
    #[test]
    fn intervals_are_ordered(v in proptest::collection::vec(1.0f64..1e4, 5..12),
                             w in proptest::collection::vec(1.0f64..1e4, 12)) {
        let mut h = LaHistory::new();
        h.insert(la("E06000001"), v.iter().enumerate().map(|(k, x)| (2010 + k as i32, *x)).collect());
        h.insert(la("E06000002"), v.iter().rev().enumerate().map(|(k, x)| (2010 + k as i32, *x)).collect());
        h.insert(la("E06000003"), w.iter().take(v.len()).enumerate().map(|(k, x)| (2010 + k as i32, *x)).collect());
        let mut r = LaRecords::from_plans(h);
        r.new_plans.insert(la("E06000001"), w.iter().enumerate().map(|(k, x)| (2009 + k as i32, *x / 10.0)).collect());
        let origin = 2010 + v.len() as i32 - 1;
        let p = project(&r, origin, 10, &PublishedForecastOptions::default()).unwrap();
        proptest::prop_assert_eq!(p.len(), 30);
        for p in p {
            let median = p.median;
            proptest::prop_assert!(((p.p10 * p.p90).sqrt() / median - 1.0).abs() < 1e-9, "{:?}", p);
            proptest::prop_assert!(p.p10.is_finite() && p.p90.is_finite() && p.mean.is_finite());
            proptest::prop_assert!(p.p10 > 0.0 && p.p10 <= median * (1.0 + 1e-12));
            proptest::prop_assert!(median <= p.mean * (1.0 + 1e-12) && p.mean <= p.p90 * (1.0 + 1e-12), "{:?}", p);
        }
    }
}

#[test]
fn volatility_is_the_spread_about_the_las_own_mean_deviation() {
    // Deviations 0.1, 0.3, 0.2, 0.4, 0.0: mean 0.2, squares about it 0.01 + 0.01 + 0 + 0.04 + 0.04 = 0.10 over 4
    // degrees of freedom: 0.025. One value counts as one degree of freedom about zero.
    let (df, v) = spread_about_mean(&[0.1, 0.3, 0.2, 0.4, 0.0]);
    assert_eq!(df, 4.0);
    assert!((v - 0.025).abs() < 1e-15, "{v}");
    assert_eq!(spread_about_mean(&[0.3]), (1.0, 0.09));
    assert_eq!(spread_about_mean(&[]), (0.0, 0.0));
    // Three LAs growing steadily at 0, 5 and 10 % a year: the fastest outgrows England by about 5 % every year
    // (root mean square ≈ 0.047), but steadily, so its volatility is near 0: its own trend is in the point
    // forecast, not in its errors.
    let records = constant_growth(&[1.0, 1.05, 1.10], 8);
    let england = England::new(&records);
    let vol = volatilities(&records, &england, 2017);
    let fastest = vol[&la("E06000003")];
    assert!(fastest < 0.01, "{fastest}");
    let d: Vec<f64> = (2013..=2017)
        .filter_map(|y| deviation(&records, &england, la("E06000003"), y))
        .collect();
    assert!(d.iter().all(|x| *x > 0.03), "{d:?}");
}
