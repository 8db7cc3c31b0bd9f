//! Hand-calculated checks on Dudley's published figures (rows of `shared/data`, copied here as numbers).

use highneeds_domain::{BudgetKind, BudgetLine, FinancialYear, Pence, PublishedStatistics};

use super::*;

fn la(s: &str) -> LaCode {
    s.parse().unwrap()
}

/// Dudley (E08000027), January 2017 and 2022, from ehcp_caseload_la / _by_setting / _by_age, plus England's
/// headline (228,221 … 473,255 are PROVENANCE.md's England totals).
fn dudley() -> CurrentSeries {
    dudley_statistics().on_current_boundaries()
}

fn dudley_statistics() -> PublishedStatistics {
    let d = la("E08000027");
    let e = LaCode::england();
    let mut p = PublishedStatistics::default();
    let mut put = |who, m, y, v| {
        p.figures.insert((who, m, y), v);
    };
    put(d, Measure::Plans, 2017, 1412);
    put(d, Measure::Plans, 2021, 2730);
    put(d, Measure::Plans, 2022, 3035);
    put(e, Measure::Plans, 2017, 287_290);
    put(e, Measure::Plans, 2021, 430_697);
    put(e, Measure::Plans, 2022, 473_255);
    use CanonicalSetting as C;
    for (c, a, b) in [
        (C::EarlyYears, 5, 6),
        (C::Mainstream, 442, 1115),
        (C::MainstreamResourcedProvisionOrUnit, 19, 72),
        (C::SpecialMaintained, 785, 923),
        (C::SpecialAcademyOrFree, 0, 12),
        (C::SpecialIndependentOrNonMaintained, 40, 182),
        (C::AlternativeProvisionPruHospital, 0, 2),
        (C::FurtherEducation, 76, 445),
        (C::SpecialistPost16, 14, 53),
        (C::NotInEducationOrEmployment, 0, 19),
        (C::Other, 20, 154),
        (C::EotasOrHomeEducation, 11, 52),
    ] {
        if c != C::NotInEducationOrEmployment {
            put(d, Measure::PlansBySetting(c), 2017, a);
        }
        put(d, Measure::PlansBySetting(c), 2022, b);
    }
    use AgeGroup as A;
    for (g, a, b) in [
        (A::Under5, 77, 77),
        (A::Age5To10, 575, 1153),
        (A::Age11To15, 568, 1002),
        (A::Age16To19, 161, 608),
        (A::Age20To25, 31, 195),
    ] {
        put(d, Measure::PlansByAge(g), 2017, a);
        put(d, Measure::PlansByAge(g), 2022, b);
    }
    // New plans (ehcp_new_plans_by_age_la): 2016 total 242; 2021 total 414 = 70 + 217 + 94 + 30 + 3.
    put(d, Measure::NewPlans, 2016, 242);
    put(d, Measure::NewPlans, 2021, 414);
    for (g, v) in [
        (A::Under5, 70),
        (A::Age5To10, 217),
        (A::Age11To15, 94),
        (A::Age16To19, 30),
        (A::Age20To25, 3),
    ] {
        put(d, Measure::NewPlansByAge(g), 2021, v);
    }
    // Process (ehcp_process_mi_la) 2021: 474 requests, 24 refused, 414 issued, 178 within 20 weeks.
    put(d, Measure::Requests, 2021, 474);
    put(d, Measure::RequestsRefused, 2021, 24);
    put(d, Measure::PlansIssued, 2021, 414);
    put(d, Measure::IssuedWithin20Weeks, 2021, 178);
    p
}

fn close(a: Option<f64>, b: f64) {
    let a = a.expect("a value");
    assert!((a - b).abs() < 5e-5, "{a} vs {b}");
}

#[test]
fn dudley_growth_by_hand() {
    let d = diagnose(&dudley(), la("E08000027"), 2017, 2022, None).unwrap();
    // 1,412 → 3,035: CAGR = (3035/1412)^(1/5) − 1 = 2.149433^0.2 − 1 = 0.165366.
    close(d.total.cagr, 0.165366);
    // England 287,290 → 473,255: (1.647307)^0.2 − 1 = 0.104987.
    close(d.total.england_cagr, 0.104987);
    let line = |code: &str| {
        d.by_setting
            .iter()
            .find(|l| l.code == code)
            .unwrap()
            .clone()
    };
    // Mainstream 442 → 1,115: share 1115/3035 = 0.367381; contribution 673/1623 = 0.414664; CAGR 0.203336.
    let m = line("mainstream");
    close(m.share, 0.367381);
    close(m.contribution, 0.414664);
    close(m.cagr, 0.203336);
    // Independent 40 → 182: (4.55)^0.2 − 1 = 0.353945.
    close(line("special_inmss").cagr, 0.353945);
    // NEET had no 2017 row: no CAGR, its 19 plans are all growth (19/1623 = 0.011707).
    let neet = line("neet");
    assert_eq!(neet.cagr, None);
    close(neet.contribution, 0.011707);
    // Contributions of a partition add to 1.
    let sum: f64 = d.by_setting.iter().filter_map(|l| l.contribution).sum();
    assert!((sum - 1.0).abs() < 1e-12);
    // Specialist = maintained 785→923, academy 0→12, INMSS 40→182, post-16 14→53: 839 → 1,170;
    // CAGR (1170/839)^0.2 − 1 = 0.068736; share 1170/3035 = 0.385502; contribution 331/1623 = 0.203943.
    let f = |code: &str| d.focus.iter().find(|l| l.code == code).unwrap().clone();
    close(f("specialist").cagr, 0.068736);
    close(f("specialist").share, 0.385502);
    close(f("specialist").contribution, 0.203943);
    // Age 20-25: 31 → 195: 6.290323^0.2 − 1 = 0.444527.
    close(f("20_25").cagr, 0.444527);
    // Yearly growth 2022: 3035/2730 − 1 = 0.111722 (England 473255/430697 − 1 = 0.098813).
    let y22 = d.caseload.iter().find(|c| c.census_year == 2022).unwrap();
    close(y22.growth, 0.111722);
    close(y22.england_growth, 0.098813);
    // New plans 2021: 414; since 2016 (242): (414/242)^0.2 − 1 = 0.113328; age 5-10 share 217/414 = 0.524155.
    let n = d.new_plans.as_ref().unwrap();
    assert_eq!((n.calendar_year, n.total, n.since), (2021, 414.0, 2016));
    close(n.cagr, 0.113328);
    let (_, _, share, _) = n.by_age.iter().find(|a| a.0 == AgeGroup::Age5To10).unwrap();
    close(Some(*share), 0.524155);
    // Process 2021: refused 24/474 = 0.050633; within 20 weeks 178/414 = 0.429952.
    let p = d.process.iter().find(|p| p.calendar_year == 2021).unwrap();
    close(p.refused_share, 0.050633);
    close(p.within_20_weeks, 0.429952);
    // The drivers: headline first, then mainstream (the largest contribution).
    assert_eq!(
        d.drivers[0],
        "EHC plans rose from 1,412 in January 2017 to 3,035 in January 2022, +16.5% a year (England +10.5% a year)."
    );
    assert_eq!(
        d.drivers[1],
        "Plans in mainstream school grew from 442 to 1,115, +20.3% a year: 41% of the setting growth."
    );
    assert!(d.notes.iter().any(|n| n.contains("no budget file given")));
}

#[test]
fn errors_say_what_is_wrong() {
    let s = dudley();
    assert_eq!(
        diagnose(&s, la("E06000037"), 2017, 2022, None).unwrap_err(),
        DiagnoseError::UnknownLa(la("E06000037"))
    );
    assert_eq!(
        diagnose(&s, la("E08000027"), 2012, 2022, None)
            .unwrap_err()
            .to_string(),
        "LA E08000027 has no published plans for census 2012 (published years: 2017-2022)"
    );
    assert!(matches!(
        diagnose(&s, la("E08000027"), 2022, 2022, None),
        Err(DiagnoseError::Order { .. })
    ));
}

fn line(fy: i32, kind: BudgetKind, line: &str, pounds: i64) -> BudgetLine {
    BudgetLine {
        financial_year: FinancialYear::starting(fy).unwrap(),
        kind,
        line: line.into(),
        amount: Pence::from_pounds_rounded(pounds as f64).unwrap(),
    }
}

#[test]
fn spend_by_setting_decomposes_into_volume_mix_rate() {
    // FY 2016-17 holds the January 2017 census, FY 2021-22 January 2022. Spend by setting (invented, round):
    // mainstream 442 × £10,000 → 1,115 × £10,200; the other settings put in "special_maintained" lines at
    // £20,000 → £20,400 per plan of the 2017 and 2022 counts of every non-mainstream setting.
    let s = dudley();
    let mut lines = vec![
        line(2016, BudgetKind::Allocation, "", 25_000_000),
        line(2016, BudgetKind::Expenditure, "mainstream", 4_420_000),
        line(2021, BudgetKind::Expenditure, "mainstream", 11_373_000),
    ];
    // Non-mainstream: 1412 − 442 = 970 (2017), 3035 − 1115 = 1920 (2022), all priced under special_maintained.
    lines.push(line(
        2016,
        BudgetKind::Expenditure,
        "special_maintained",
        19_400_000,
    ));
    lines.push(line(
        2021,
        BudgetKind::Expenditure,
        "special_maintained",
        39_168_000,
    ));
    let d = diagnose(&s, la("E08000027"), 2017, 2022, Some(&lines)).unwrap();
    let spend = d.spend.unwrap();
    assert_eq!(spend.years.len(), 2);
    assert_eq!(spend.years[0].financial_year, "2016-17");
    close(spend.years[0].unit_cost, 23_820_000.0 / 1412.0);
    let g = spend.decomposition.unwrap();
    assert!(g.by_setting);
    // Spend 23,820,000 → 50,541,000: ×2.121789. Volume 3035/1412 = 2.149433. Product of factors = spend.
    let f = g.factors;
    assert!((f.spend - 50_541_000.0 / 23_820_000.0).abs() < 1e-9);
    assert!((f.volume - 3035.0 / 1412.0).abs() < 1e-9);
    assert!((f.volume * f.mix * f.rate - f.spend).abs() < 1e-9);
    // Dudley's sector table: mainstream £4,420,000 → £11,373,000: share of 2021-22 spend 11.373 / 50.541 =
    // 0.225025; CAGR (11.373 / 4.42)^(1/5) − 1 = 0.208066; contribution (11.373 − 4.42) / (50.541 − 23.82)
    // = 6.953 / 26.721 = 0.260207; per plan £4,420,000 / 442 = £10,000 and £11,373,000 / 1,115 = £10,200.
    let m = spend
        .by_setting
        .iter()
        .find(|l| l.setting == CanonicalSetting::Mainstream)
        .unwrap();
    close(Some(m.share), 0.225_025);
    close(m.cagr, 0.208_066);
    close(m.contribution, 0.260_207);
    close(m.unit_cost_before, 10_000.0);
    close(m.unit_cost_after, 10_200.0);
    let sum: f64 = spend.by_setting.iter().filter_map(|l| l.contribution).sum();
    assert!((sum - 1.0).abs() < 1e-12);
}

proptest::proptest! {
    /// For any setting counts: shares of the later year add to 1 and contributions to the change add to 1.
    #[test]
    fn shares_and_contributions_add_up(
        before in proptest::collection::vec(0u64..500, 12),
        after in proptest::collection::vec(0u64..500, 12),
    ) {
        let la = la("E06000037");
        let mut p = PublishedStatistics::default();
        let (b, a): (u64, u64) = (before.iter().sum(), after.iter().sum());
        proptest::prop_assume!(b > 0 && a > 0 && a != b);
        p.figures.insert((la, Measure::Plans, 2017), b);
        p.figures.insert((la, Measure::Plans, 2022), a);
        for (k, c) in CanonicalSetting::ALL.iter().enumerate() {
            p.figures.insert((la, Measure::PlansBySetting(*c), 2017), before[k]);
            p.figures.insert((la, Measure::PlansBySetting(*c), 2022), after[k]);
        }
        let d = diagnose(&p.on_current_boundaries(), la, 2017, 2022, None).unwrap();
        let shares: f64 = d.by_setting.iter().filter_map(|l| l.share).sum();
        let contributions: f64 = d.by_setting.iter().filter_map(|l| l.contribution).sum();
        proptest::prop_assert!((shares - 1.0).abs() < 1e-9);
        proptest::prop_assert!((contributions - 1.0).abs() < 1e-9);
        proptest::prop_assert!(!d.drivers.is_empty());
    }
}

/// Spend on a setting with no published plans in either year cannot be priced per plan: the decomposition
/// covers the rest and a note names what it leaves out (review finding: it used to vanish silently).
/// AP/PRU/hospital is given no plans in either year here.
#[test]
fn spend_on_a_setting_without_plans_is_named_not_dropped() {
    // Dudley's figures with no plans in AP/PRU/hospital in 2022 either (it has none in 2017).
    let mut p = dudley_statistics();
    let ap = Measure::PlansBySetting(CanonicalSetting::AlternativeProvisionPruHospital);
    p.figures.insert((la("E08000027"), ap, 2022), 0);
    let s = p.on_current_boundaries();
    let lines = vec![
        line(2016, BudgetKind::Expenditure, "mainstream", 4_420_000),
        line(2021, BudgetKind::Expenditure, "mainstream", 11_373_000),
        line(
            2016,
            BudgetKind::Expenditure,
            "special_maintained",
            19_400_000,
        ),
        line(
            2021,
            BudgetKind::Expenditure,
            "special_maintained",
            39_168_000,
        ),
        line(2016, BudgetKind::Expenditure, "ap_pru_hospital", 1_000_000),
        line(2021, BudgetKind::Expenditure, "ap_pru_hospital", 1_500_000),
    ];
    let d = diagnose(&s, la("E08000027"), 2017, 2022, Some(&lines)).unwrap();
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("ap_pru_hospital £1000000 → £1500000")),
        "{:?}",
        d.notes
    );
}
