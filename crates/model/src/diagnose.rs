//! The diagnostic every Delivering Better Value LA starts with (DESIGN.md §1, issue 4), from the published
//! statistics on current boundaries: where plans grow and how fast (by setting and age group: share, CAGR,
//! contribution to growth), specialist, independent and 20-25 growth, new plans by age group, requests and
//! timeliness, and — where the LA supplies its budget — spend, unit cost and the volume × mix × rate
//! decomposition. Each figure sits beside England's. The drivers are ranked and written as sentences an
//! officer could paste into a Schools Forum paper.
//!
//! Definitions: CAGR = (after / before)^(1 / years) − 1; contribution to growth = the line's change in plans /
//! the change summed over the lines of the table (so a table's contributions add to 100 %); share = the line's
//! plans / the table's total in the later year.

use std::collections::BTreeMap;

use highneeds_domain::published::CurrentSeries;
use highneeds_domain::{AgeGroup, BudgetKind, BudgetLine, CanonicalSetting, LaCode, Measure};

use crate::decomposition::{decompose, Decomposition, SettingSpend};

pub mod new_plans;

pub use new_plans::{new_plans_by_ncy, NewPlansByNcy, TRANSITION_NCYS};

/// The settings counted as specialist places (special schools of every kind and specialist post-16).
pub const SPECIALIST: [CanonicalSetting; 4] = [
    CanonicalSetting::SpecialMaintained,
    CanonicalSetting::SpecialAcademyOrFree,
    CanonicalSetting::SpecialIndependentOrNonMaintained,
    CanonicalSetting::SpecialistPost16,
];

/// One line of a growth table.
#[derive(Debug, Clone, PartialEq)]
pub struct GrowthLine {
    /// Machine code (`mainstream`, `5_10`, `specialist`, …).
    pub code: String,
    pub label: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// Share of the table's total in the later year.
    pub share: Option<f64>,
    /// Compound annual growth rate.
    pub cagr: Option<f64>,
    /// This line's change as a share of the table's total change.
    pub contribution: Option<f64>,
    pub england_cagr: Option<f64>,
    pub england_share: Option<f64>,
    /// England's plans on this line in the later year.
    pub england_after: Option<f64>,
}

/// Plans at one census.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CensusPlans {
    pub census_year: i32,
    pub plans: f64,
    /// Growth on the previous census.
    pub growth: Option<f64>,
    pub england_growth: Option<f64>,
    /// Estimated from predecessor LAs (a boundary change), not published for this LA.
    pub apportioned: bool,
}

/// New plans made in one calendar year, by age group.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlans {
    pub calendar_year: i32,
    pub total: f64,
    /// (age group, plans, share of the year's new plans, England's share).
    pub by_age: Vec<(AgeGroup, f64, f64, Option<f64>)>,
    /// CAGR of new plans from the calendar year before `from` to this year.
    pub cagr: Option<f64>,
    pub england_cagr: Option<f64>,
    pub since: i32,
}

/// The assessment process in one calendar year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessYear {
    pub calendar_year: i32,
    pub requests: Option<f64>,
    pub refused_share: Option<f64>,
    pub england_refused_share: Option<f64>,
    pub plans_issued: Option<f64>,
    pub within_20_weeks: Option<f64>,
    pub england_within_20_weeks: Option<f64>,
    pub mediations: Option<f64>,
    pub tribunals: Option<f64>,
}

/// Spend from the LA's budget file.
#[derive(Debug, Clone, PartialEq)]
pub struct Spend {
    /// (financial year, expenditure £, allocation £ if given, plans at the January census in the year, £ per plan).
    pub years: Vec<SpendYear>,
    /// Between the first and last financial year with spend and plans.
    pub decomposition: Option<SpendGrowth>,
    /// Spend by setting between the first and last financial year with spend (Dudley's sector table), when
    /// every expenditure line of both years names a canonical setting.
    pub by_setting: Vec<SettingSpendLine>,
}

/// One setting's High Needs spend in the first and last financial year.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingSpendLine {
    pub setting: CanonicalSetting,
    pub from: String,
    pub to: String,
    pub spend_before: f64,
    pub spend_after: f64,
    /// Share of the last year's spend.
    pub share: f64,
    /// Compound annual growth of spend.
    pub cagr: Option<f64>,
    /// Share of the spend growth.
    pub contribution: Option<f64>,
    /// Spend per plan at the January census in each year (`None` without plans).
    pub unit_cost_before: Option<f64>,
    pub unit_cost_after: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpendYear {
    pub financial_year: String,
    pub census_year: i32,
    pub expenditure: f64,
    pub allocation: Option<f64>,
    pub plans: Option<f64>,
    pub unit_cost: Option<f64>,
}

/// Spend growth split into volume × mix × rate (mix only when spend is given by setting).
#[derive(Debug, Clone, PartialEq)]
pub struct SpendGrowth {
    pub from: String,
    pub to: String,
    pub factors: Decomposition,
    /// Whether the budget lines named settings, so mix could be separated from rate.
    pub by_setting: bool,
}

/// The whole diagnostic of one LA.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    pub la: LaCode,
    pub from: i32,
    pub to: i32,
    pub caseload: Vec<CensusPlans>,
    pub total: GrowthLine,
    pub by_setting: Vec<GrowthLine>,
    pub by_age: Vec<GrowthLine>,
    /// Specialist places, independent placements, age 20-25.
    pub focus: Vec<GrowthLine>,
    pub new_plans: Option<NewPlans>,
    pub process: Vec<ProcessYear>,
    pub spend: Option<Spend>,
    /// New plans by NCY and need at first plan, from the LA's person-level history (see [`add_person_level`]).
    pub person_level: Option<NewPlansByNcy>,
    /// The drivers, largest first, as sentences.
    pub drivers: Vec<String>,
    /// What the data could not say, and what was estimated.
    pub notes: Vec<String>,
}

/// Why no diagnosis can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiagnoseError {
    #[error("LA {0} is not in the published statistics (on current boundaries); check the code, e.g. E06000037 for West Berkshire")]
    UnknownLa(LaCode),
    #[error("LA {la} has no published plans for census {year} (published years: {available})")]
    MissingYear {
        la: LaCode,
        year: i32,
        available: String,
    },
    #[error("--from {from} must be before --to {to}")]
    Order { from: i32, to: i32 },
}

fn cagr(before: Option<f64>, after: Option<f64>, years: i32) -> Option<f64> {
    match (before, after) {
        (Some(b), Some(a)) if b > 0.0 && a >= 0.0 && years > 0 => {
            Some((a / b).powf(1.0 / f64::from(years)) - 1.0)
        }
        _ => None,
    }
}

fn ratio(n: Option<f64>, d: Option<f64>) -> Option<f64> {
    match (n, d) {
        (Some(n), Some(d)) if d > 0.0 => Some(n / d),
        _ => None,
    }
}

/// A growth table over `lines` (code, label, measures summed), with shares and contributions within the table.
fn table(
    s: &CurrentSeries,
    la: LaCode,
    from: i32,
    to: i32,
    lines: &[(String, String, Vec<Measure>)],
) -> Vec<GrowthLine> {
    let england = LaCode::england();
    let sum = |who: LaCode, ms: &[Measure], y: i32| -> Option<f64> {
        let vals: Vec<f64> = ms.iter().filter_map(|m| s.get(who, *m, y)).collect();
        (!vals.is_empty()).then(|| vals.iter().sum())
    };
    let totals = |who: LaCode, y: i32| -> f64 {
        lines.iter().filter_map(|(_, _, ms)| sum(who, ms, y)).sum()
    };
    let (t_after, e_after) = (totals(la, to), totals(england, to));
    let change: f64 = t_after - totals(la, from);
    lines
        .iter()
        .map(|(code, label, ms)| {
            let before = sum(la, ms, from);
            let after = sum(la, ms, to);
            let e_before = sum(england, ms, from);
            let e_to = sum(england, ms, to);
            GrowthLine {
                code: code.clone(),
                label: label.clone(),
                before,
                after,
                share: ratio(after, Some(t_after)),
                cagr: cagr(before, after, to - from),
                contribution: match (before, after) {
                    (b, Some(a)) if change.abs() > 0.0 => Some((a - b.unwrap_or(0.0)) / change),
                    _ => None,
                },
                england_cagr: cagr(e_before, e_to, to - from),
                england_share: ratio(e_to, Some(e_after)),
                england_after: e_to,
            }
        })
        .collect()
}

fn pct(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

fn count(x: f64) -> String {
    highneeds_domain::money::group_thousands(x.round() as i128)
}

/// Diagnose one LA between two census years. `budget` is the LA's own budget file, if it supplied one.
pub fn diagnose(
    s: &CurrentSeries,
    la: LaCode,
    from: i32,
    to: i32,
    budget: Option<&[BudgetLine]>,
) -> Result<Diagnosis, DiagnoseError> {
    check_years(s, la, from, to)?;
    let mut notes = Vec::new();
    let period = Period { s, la, from, to };
    let caseload = caseload(period, &mut notes);
    let total = table(
        s,
        la,
        from,
        to,
        &[("total".into(), "all EHC plans".into(), vec![Measure::Plans])],
    )
    .remove(0);
    let by_setting = by_setting(period, &mut notes);
    let by_age = by_age(period, &mut notes);
    let focus = focus(period, &total);
    let new_plans = latest_new_plans(period, &mut notes);
    let process = process(period);
    let spend = match budget {
        Some(lines) => spend(s, la, lines, &mut notes),
        None => {
            notes.push("no budget file given (--budget): spend, unit cost and the volume × mix × rate decomposition need the LA's High Needs spend, which is not published in this data (nor are allocations, outturn or population)".into());
            None
        }
    };
    let mut diagnosis = Diagnosis {
        la,
        from,
        to,
        caseload,
        total,
        by_setting,
        by_age,
        focus,
        new_plans,
        process,
        spend,
        person_level: None,
        drivers: Vec::new(),
        notes,
    };
    diagnosis.drivers = drivers(&diagnosis);
    Ok(diagnosis)
}

/// What one diagnosis reads: an LA's published series from census `from` to census `to`.
#[derive(Clone, Copy)]
struct Period<'a> {
    s: &'a CurrentSeries,
    la: LaCode,
    from: i32,
    to: i32,
}

/// `from` before `to`, and the LA's plans published in both.
fn check_years(s: &CurrentSeries, la: LaCode, from: i32, to: i32) -> Result<(), DiagnoseError> {
    if from >= to {
        return Err(DiagnoseError::Order { from, to });
    }
    let years = s.years(la, Measure::Plans);
    if years.is_empty() {
        return Err(DiagnoseError::UnknownLa(la));
    }
    for y in [from, to] {
        if s.get(la, Measure::Plans, y).is_none() {
            let available = match (years.first(), years.last()) {
                (Some(a), Some(b)) => format!("{a}-{b}"),
                _ => String::new(),
            };
            return Err(DiagnoseError::MissingYear {
                la,
                year: y,
                available,
            });
        }
    }
    Ok(())
}

/// Plans at each census from `from` to `to`, with the year's growth beside England's (and a note naming the
/// censuses estimated across a boundary change).
fn caseload(period: Period, notes: &mut Vec<String>) -> Vec<CensusPlans> {
    let Period { s, la, from, to } = period;
    let england = LaCode::england();
    let caseload: Vec<CensusPlans> = (from..=to)
        .filter_map(|y| {
            let plans = s.get(la, Measure::Plans, y)?;
            let growth = ratio(Some(plans), s.get(la, Measure::Plans, y - 1)).map(|r| r - 1.0);
            let england_growth = ratio(
                s.get(england, Measure::Plans, y),
                s.get(england, Measure::Plans, y - 1),
            )
            .map(|r| r - 1.0);
            Some(CensusPlans {
                census_year: y,
                plans,
                growth,
                england_growth,
                apportioned: s.apportioned(la, Measure::Plans, y),
            })
        })
        .collect();
    if caseload.iter().any(|c| c.apportioned) {
        let years: Vec<String> = caseload
            .iter()
            .filter(|c| c.apportioned)
            .map(|c| c.census_year.to_string())
            .collect();
        notes.push(format!(
            "{} for census {} are estimated from the predecessor LAs (boundary change): {}",
            la,
            years.join(", "),
            s.notes
                .iter()
                .find(|n| n.contains(la.as_str()))
                .cloned()
                .unwrap_or_default()
        ));
    }
    caseload
}

/// Growth by canonical setting (settings with plans in either year), with notes where the release has none or
/// its setting rows do not add up to the headline.
fn by_setting(period: Period, notes: &mut Vec<String>) -> Vec<GrowthLine> {
    let Period { s, la, from, to } = period;
    let setting_lines: Vec<(String, String, Vec<Measure>)> = CanonicalSetting::ALL
        .iter()
        .map(|c| {
            (
                c.code().to_string(),
                c.label().to_string(),
                vec![Measure::PlansBySetting(*c)],
            )
        })
        .collect();
    let by_setting: Vec<GrowthLine> = table(s, la, from, to, &setting_lines)
        .into_iter()
        .filter(|l| l.before.unwrap_or(0.0) > 0.0 || l.after.unwrap_or(0.0) > 0.0)
        .collect();
    if by_setting.is_empty() {
        notes.push("plans by setting are not in the published data given".into());
    }
    for y in [from, to] {
        let settings: f64 = CanonicalSetting::ALL
            .iter()
            .filter_map(|c| s.get(la, Measure::PlansBySetting(*c), y))
            .sum();
        if let Some(headline) = s.get(la, Measure::Plans, y) {
            if !by_setting.is_empty() && (settings - headline).abs() > 0.5 {
                notes.push(format!(
                    "census {y}: the published setting rows add up to {} plans, not the headline {} (a quirk of the {y} release, kept as published); setting shares use the setting rows",
                    count(settings),
                    count(headline)
                ));
            }
        }
    }
    by_setting
}

/// Growth by age group (groups published in either year), with notes on what the release lacks.
fn by_age(period: Period, notes: &mut Vec<String>) -> Vec<GrowthLine> {
    let Period { s, la, from, to } = period;
    let age_lines: Vec<(String, String, Vec<Measure>)> = AgeGroup::ALL
        .iter()
        .map(|g| {
            (
                g.code().to_string(),
                format!("age {}", g.label()),
                vec![Measure::PlansByAge(*g)],
            )
        })
        .collect();
    let by_age: Vec<GrowthLine> = table(s, la, from, to, &age_lines)
        .into_iter()
        .filter(|l| l.before.is_some() || l.after.is_some())
        .collect();
    if by_age.is_empty() {
        notes.push("plans by age group are not in the published data given".into());
    }
    if from < 2015 {
        notes.push(
            "plans for ages 20-25 exist from 2015 (the 2014 reforms); before that age rows stop at 19, and plans before 2015 are statements of SEN (counted as plans)"
                .to_string(),
        );
    }
    by_age
}

/// The three lines the seeds watch (specialist settings, independent special, age 20-25): they overlap, so each
/// one's contribution and share are against all plans.
fn focus(period: Period, total: &GrowthLine) -> Vec<GrowthLine> {
    let Period { s, la, from, to } = period;
    let england = LaCode::england();
    let mut focus = table(
        s,
        la,
        from,
        to,
        &[
            (
                "specialist".into(),
                "specialist (special schools, INMSS, post-16)".into(),
                SPECIALIST
                    .iter()
                    .map(|c| Measure::PlansBySetting(*c))
                    .collect(),
            ),
            (
                "independent".into(),
                "independent or non-maintained special".into(),
                vec![Measure::PlansBySetting(
                    CanonicalSetting::SpecialIndependentOrNonMaintained,
                )],
            ),
            (
                "20_25".into(),
                "age 20-25".into(),
                vec![Measure::PlansByAge(AgeGroup::Age20To25)],
            ),
        ],
    );
    for l in &mut focus {
        // These lines overlap (they are not one partition): contributions are against all plans.
        let change = total.after.unwrap_or(0.0) - total.before.unwrap_or(0.0);
        l.contribution = match (l.before, l.after) {
            (b, Some(a)) if change.abs() > 0.0 => Some((a - b.unwrap_or(0.0)) / change),
            _ => None,
        };
        l.share = ratio(l.after, total.after);
        l.england_share = ratio(l.england_after, s.get(england, Measure::Plans, to));
    }
    focus
}

/// New plans in the latest calendar year up to `to - 1` (the year before the census), by age beside England's
/// shares, and their growth since `from - 1`; notes say what the release cannot show.
fn latest_new_plans(period: Period, notes: &mut Vec<String>) -> Option<NewPlans> {
    let Period { s, la, from, to } = period;
    let england = LaCode::england();
    let new_plans = (from..to).rev().find_map(|y| {
        let total = s.get(la, Measure::NewPlans, y)?;
        let e_total = s.get(england, Measure::NewPlans, y);
        let by_age = AgeGroup::ALL
            .iter()
            .filter_map(|g| {
                let n = s.get(la, Measure::NewPlansByAge(*g), y)?;
                let e = ratio(s.get(england, Measure::NewPlansByAge(*g), y), e_total);
                Some((*g, n, if total > 0.0 { n / total } else { 0.0 }, e))
            })
            .collect();
        let since = from - 1;
        Some(NewPlans {
            calendar_year: y,
            total,
            by_age,
            cagr: cagr(s.get(la, Measure::NewPlans, since), Some(total), y - since),
            england_cagr: cagr(s.get(england, Measure::NewPlans, since), e_total, y - since),
            since,
        })
    });
    if new_plans.is_none() {
        notes.push(format!(
            "new plans made in {}-{} are not in the published data given",
            from,
            to - 1
        ));
    }
    notes.push(
        "new plans are published by age group only: the share at transition years (NCY -1/0, 6/7, 11/12) and by primary need needs person-level data (SEN2 or plans.csv); the published release has no primary need by LA before 2025"
            .into(),
    );
    new_plans
}

/// Requests, refusals, plans issued (and within 20 weeks), mediations and tribunals by calendar year, from
/// `from - 1` to `to - 1`, beside England's shares.
fn process(period: Period) -> Vec<ProcessYear> {
    let Period { s, la, from, to } = period;
    let england = LaCode::england();
    (from - 1..to)
        .filter_map(|y| {
            let g = |m| s.get(la, m, y);
            let e = |m| s.get(england, m, y);
            let p = ProcessYear {
                calendar_year: y,
                requests: g(Measure::Requests),
                refused_share: ratio(g(Measure::RequestsRefused), g(Measure::Requests)),
                england_refused_share: ratio(e(Measure::RequestsRefused), e(Measure::Requests)),
                plans_issued: g(Measure::PlansIssued),
                within_20_weeks: ratio(g(Measure::IssuedWithin20Weeks), g(Measure::PlansIssued)),
                england_within_20_weeks: ratio(
                    e(Measure::IssuedWithin20Weeks),
                    e(Measure::PlansIssued),
                ),
                mediations: g(Measure::Mediations),
                tribunals: g(Measure::Tribunals),
            };
            (p.requests.is_some() || p.plans_issued.is_some()).then_some(p)
        })
        .collect()
}

/// The note that says transition years and needs need person-level data.
const NEEDS_PERSON_LEVEL: &str = "new plans are published by age group only";

/// Add what only person-level history can say: new plans by NCY at first plan, the share at transition years
/// and of the three commonest needs (a driver sentence after the published new-plans one).
pub fn add_person_level(d: &mut Diagnosis, history: &highneeds_domain::TransitionHistory) {
    let Some(p) = new_plans_by_ncy(history, d.from, d.to) else {
        d.notes
            .push("the person-level history has no new plans (joiners): nothing to add".into());
        return;
    };
    if p.first_census > d.from + 1 || p.last_census < d.to {
        d.notes.push(format!(
            "person-level new plans cover the censuses {}-{}, not {}-{} as asked",
            p.first_census,
            p.last_census,
            d.from + 1,
            d.to
        ));
    }
    d.notes.retain(|n| !n.starts_with(NEEDS_PERSON_LEVEL));
    let needs: Vec<&str> = p.by_need.iter().take(3).map(|x| x.0.as_str()).collect();
    let sentence = format!(
        "{:.0}% of the {} new plans at the censuses {}-{} started at a transition year (NCY -1/0, 6/7, 11/12), and {:.0}% were for three needs ({}).",
        p.transition_share * 100.0,
        count(p.total as f64),
        p.first_census,
        p.last_census,
        p.top_three_share * 100.0,
        needs.join(", ")
    );
    let at = d
        .drivers
        .iter()
        .position(|s| s.contains("new EHC plans were made in"))
        .map_or(d.drivers.len(), |i| i + 1);
    d.drivers.insert(at, sentence);
    d.person_level = Some(p);
}

/// One financial year of the budget file.
#[derive(Debug, Default)]
struct FinancialYearBudget {
    expenditure: f64,
    allocation: Option<f64>,
    expenditure_by_setting: BTreeMap<CanonicalSetting, f64>,
    /// Whether every expenditure line names a canonical setting.
    every_line_a_setting: bool,
}

/// Spend per financial year from the budget lines; unit cost against the January census inside the year.
fn spend(
    s: &CurrentSeries,
    la: LaCode,
    lines: &[BudgetLine],
    notes: &mut Vec<String>,
) -> Option<Spend> {
    let by_year = budget_by_year(lines);
    let years = spend_years(s, la, &by_year);
    if years.is_empty() {
        notes.push("the budget file has no expenditure lines: no spend figures".into());
        return None;
    }
    let decomposition = spend_decomposition(s, la, &years, &by_year, notes);
    let by_setting = spend_by_setting(s, la, &years, &by_year);
    Some(Spend {
        years,
        decomposition,
        by_setting,
    })
}

/// The budget lines summed by financial year (keyed by its start year).
fn budget_by_year(lines: &[BudgetLine]) -> BTreeMap<i32, FinancialYearBudget> {
    let mut by_year: BTreeMap<i32, FinancialYearBudget> = BTreeMap::new();
    for l in lines {
        let e = by_year
            .entry(l.financial_year.start_year())
            .or_insert_with(|| FinancialYearBudget {
                every_line_a_setting: true,
                ..FinancialYearBudget::default()
            });
        match l.kind {
            BudgetKind::Expenditure => {
                let pounds = l.amount.as_pounds_f64();
                e.expenditure += pounds;
                match l.line.parse::<CanonicalSetting>() {
                    Ok(c) => *e.expenditure_by_setting.entry(c).or_insert(0.0) += pounds,
                    Err(_) => e.every_line_a_setting = false,
                }
            }
            BudgetKind::Allocation => *e.allocation.get_or_insert(0.0) += l.amount.as_pounds_f64(),
            _ => {}
        }
    }
    by_year
}

/// Each financial year with spend, its January census's plans and the unit cost.
fn spend_years(
    s: &CurrentSeries,
    la: LaCode,
    by_year: &BTreeMap<i32, FinancialYearBudget>,
) -> Vec<SpendYear> {
    by_year
        .iter()
        .filter(|(_, b)| b.expenditure != 0.0)
        .map(|(start, b)| {
            let census_year = start + 1;
            let plans = s.get(la, Measure::Plans, census_year);
            SpendYear {
                financial_year: format!("{start}-{:02}", (start + 1).rem_euclid(100)),
                census_year,
                expenditure: b.expenditure,
                allocation: b.allocation,
                plans,
                unit_cost: ratio(Some(b.expenditure), plans),
            }
        })
        .collect()
}

/// Volume × mix × rate between the first and the last financial year with plans (by setting where every
/// expenditure line names one, else volume × unit cost), with notes on what it leaves out.
fn spend_decomposition(
    s: &CurrentSeries,
    la: LaCode,
    years: &[SpendYear],
    by_year: &BTreeMap<i32, FinancialYearBudget>,
    notes: &mut Vec<String>,
) -> Option<SpendGrowth> {
    let with_plans: Vec<&SpendYear> = years.iter().filter(|y| y.plans.is_some()).collect();
    let (Some(a), Some(b)) = (with_plans.first(), with_plans.last()) else {
        return None;
    };
    if a.census_year >= b.census_year {
        return None;
    }
    let (sa, sb) = (
        by_year.get(&(a.census_year - 1))?,
        by_year.get(&(b.census_year - 1))?,
    );
    let by_setting =
        sa.every_line_a_setting && sb.every_line_a_setting && !sa.expenditure_by_setting.is_empty();
    let plans =
        |c: CanonicalSetting, y: i32| s.get(la, Measure::PlansBySetting(c), y).unwrap_or(0.0);
    let cells: Vec<SettingSpend> = if by_setting {
        note_settings_unpriced_or_unplanned(a.census_year, b.census_year, sa, sb, &plans, notes);
        CanonicalSetting::ALL
            .iter()
            .filter_map(|c| {
                let (n0, n1) = (plans(*c, a.census_year), plans(*c, b.census_year));
                let s0 = sa.expenditure_by_setting.get(c).copied().unwrap_or(0.0);
                let s1 = sb.expenditure_by_setting.get(c).copied().unwrap_or(0.0);
                (n0 > 0.0 || n1 > 0.0).then(|| SettingSpend {
                    plans_before: n0,
                    unit_cost_before: if n0 > 0.0 { s0 / n0 } else { 0.0 },
                    plans_after: n1,
                    unit_cost_after: if n1 > 0.0 { s1 / n1 } else { 0.0 },
                })
            })
            .collect()
    } else {
        notes.push("the budget's expenditure lines do not all name a canonical setting (mainstream, special_maintained, …): spend growth splits into volume × unit cost only; mix and rate are together in the unit cost".into());
        vec![SettingSpend {
            plans_before: a.plans.unwrap_or(0.0),
            unit_cost_before: a.unit_cost.unwrap_or(0.0),
            plans_after: b.plans.unwrap_or(0.0),
            unit_cost_after: b.unit_cost.unwrap_or(0.0),
        }]
    };
    decompose(&cells).map(|factors| SpendGrowth {
        from: a.financial_year.clone(),
        to: b.financial_year.clone(),
        factors,
        by_setting,
    })
}

/// Notes for the by-setting decomposition between censuses `ca` and `cb`: settings with plans but no spend line
/// (priced at £0 a plan), and spend on settings with no published plans (outside volume × mix × rate).
fn note_settings_unpriced_or_unplanned(
    ca: i32,
    cb: i32,
    sa: &FinancialYearBudget,
    sb: &FinancialYearBudget,
    plans: &dyn Fn(CanonicalSetting, i32) -> f64,
    notes: &mut Vec<String>,
) {
    let unpriced: Vec<&str> = CanonicalSetting::ALL
        .iter()
        .filter(|c| {
            (plans(**c, ca) > 0.0 && !sa.expenditure_by_setting.contains_key(c))
                || (plans(**c, cb) > 0.0 && !sb.expenditure_by_setting.contains_key(c))
        })
        .map(|c| c.code())
        .collect();
    if !unpriced.is_empty() {
        notes.push(format!(
            "the budget has no spend line for settings that have plans ({}): they count as £0 a plan, so the mix factor shows plans moving into or out of them",
            unpriced.join(", ")
        ));
    }
    // Spend on a setting with no published plans in either year has no unit cost: it cannot enter
    // volume × mix × rate, which then explains the rest of the spend. Said, not dropped silently.
    let outside: Vec<String> = CanonicalSetting::ALL
        .iter()
        .filter(|c| {
            plans(**c, ca) <= 0.0
                && plans(**c, cb) <= 0.0
                && (sa.expenditure_by_setting.get(*c).copied().unwrap_or(0.0) != 0.0
                    || sb.expenditure_by_setting.get(*c).copied().unwrap_or(0.0) != 0.0)
        })
        .map(|c| {
            let pounds = |v: Option<&f64>| format!("£{:.0}", v.copied().unwrap_or(0.0));
            format!(
                "{} {} → {}",
                c.code(),
                pounds(sa.expenditure_by_setting.get(c)),
                pounds(sb.expenditure_by_setting.get(c))
            )
        })
        .collect();
    if !outside.is_empty() {
        notes.push(format!(
            "spend on settings with no published plans ({}) is outside volume × mix × rate, which explains the growth of the rest of the spend",
            outside.join("; ")
        ));
    }
}

/// Spend by setting between the first and the last financial year (where every expenditure line names a
/// setting in both): share, growth, contribution and unit cost.
fn spend_by_setting(
    s: &CurrentSeries,
    la: LaCode,
    years: &[SpendYear],
    by_year: &BTreeMap<i32, FinancialYearBudget>,
) -> Vec<SettingSpendLine> {
    let (Some(a), Some(b)) = (years.first(), years.last()) else {
        return Vec::new();
    };
    if a.census_year >= b.census_year {
        return Vec::new();
    }
    let (Some(sa), Some(sb)) = (
        by_year.get(&(a.census_year - 1)),
        by_year.get(&(b.census_year - 1)),
    ) else {
        return Vec::new();
    };
    if !(sa.every_line_a_setting && sb.every_line_a_setting) {
        return Vec::new();
    }
    let change = b.expenditure - a.expenditure;
    CanonicalSetting::ALL
        .iter()
        .filter_map(|c| {
            let before = sa.expenditure_by_setting.get(c).copied().unwrap_or(0.0);
            let after = sb.expenditure_by_setting.get(c).copied().unwrap_or(0.0);
            if before == 0.0 && after == 0.0 {
                return None;
            }
            let per_plan = |spend: f64, census: i32| {
                ratio(Some(spend), s.get(la, Measure::PlansBySetting(*c), census))
            };
            Some(SettingSpendLine {
                setting: *c,
                from: a.financial_year.clone(),
                to: b.financial_year.clone(),
                spend_before: before,
                spend_after: after,
                share: if b.expenditure != 0.0 {
                    after / b.expenditure
                } else {
                    0.0
                },
                cagr: cagr(Some(before), Some(after), b.census_year - a.census_year),
                contribution: (change != 0.0).then(|| (after - before) / change),
                unit_cost_before: per_plan(before, a.census_year),
                unit_cost_after: per_plan(after, b.census_year),
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
/// The drivers as sentences, largest first: growth of all plans, spend's decomposition, the settings and ages
/// that contributed most, the seeds' focus lines, new plans and requests for assessment.
fn drivers(d: &Diagnosis) -> Vec<String> {
    let mut out = Vec::new();
    out.extend(caseload_sentence(d));
    out.extend(spend_sentence(d.spend.as_ref()));
    out.extend(contribution_sentences(&d.by_setting, &d.by_age));
    out.extend(focus_sentences(&d.focus));
    out.extend(d.new_plans.as_ref().map(new_plans_sentence));
    out.extend(requests_sentence(&d.process));
    out
}

/// " (England x a year)" where England's growth is known.
fn vs_england(l: &GrowthLine) -> String {
    match l.england_cagr {
        Some(e) => format!(" (England {} a year)", pct(e)),
        None => String::new(),
    }
}

fn caseload_sentence(d: &Diagnosis) -> Option<String> {
    let (from, to, total) = (d.from, d.to, &d.total);
    let (Some(b), Some(a), Some(g)) = (total.before, total.after, total.cagr) else {
        return None;
    };
    Some(format!(
        "EHC plans rose from {} in January {from} to {} in January {to}, {} a year{}.",
        count(b),
        count(a),
        pct(g),
        vs_england(total)
    ))
}

fn spend_sentence(spend: Option<&Spend>) -> Option<String> {
    let d = spend?.decomposition.as_ref()?;
    let f = &d.factors;
    Some(if d.by_setting {
        format!(
            "High Needs spend changed by {} from {} to {}: {} from the number of plans, {} from the mix of settings and {} from unit costs within settings.",
            pct(f.spend - 1.0), d.from, d.to, pct(f.volume - 1.0), pct(f.mix - 1.0), pct(f.rate - 1.0)
        )
    } else {
        format!(
            "High Needs spend changed by {} from {} to {}: {} from the number of plans and {} from the average cost per plan.",
            pct(f.spend - 1.0), d.from, d.to, pct(f.volume - 1.0), pct(f.mix * f.rate - 1.0)
        )
    })
}

/// The four settings and ages that contributed most to growth.
fn contribution_sentences(by_setting: &[GrowthLine], by_age: &[GrowthLine]) -> Vec<String> {
    let mut ranked: Vec<(&GrowthLine, &str)> = by_setting
        .iter()
        .map(|l| (l, "setting"))
        .chain(by_age.iter().map(|l| (l, "age")))
        .filter(|(l, _)| l.contribution.is_some_and(|c| c > 0.0))
        .collect();
    ranked.sort_by(|a, b| {
        b.0.contribution
            .unwrap_or(0.0)
            .total_cmp(&a.0.contribution.unwrap_or(0.0))
    });
    ranked
        .iter()
        .take(4)
        .filter_map(|(l, kind)| {
            let (Some(b), Some(a), Some(c)) = (l.before, l.after, l.contribution) else {
                return None;
            };
            let growth = l
                .cagr
                .map(|g| format!(", {} a year{}", pct(g), vs_england(l)))
                .unwrap_or_else(|| " (none before)".into());
            let what = if *kind == "setting" {
                format!("Plans in {}", l.label)
            } else {
                format!("Plans for {}", l.label.replace("age ", "ages "))
            };
            Some(format!(
                "{what} grew from {} to {}{growth}: {:.0}% of the {kind} growth.",
                count(b),
                count(a),
                c * 100.0,
            ))
        })
        .collect()
}

fn focus_sentences(focus: &[GrowthLine]) -> Vec<String> {
    focus
        .iter()
        .filter_map(|l| {
            let (Some(b), Some(a), Some(g)) = (l.before, l.after, l.cagr) else {
                return None;
            };
            Some(format!(
                "{} grew from {} to {} plans, {} a year{}, now {:.0}% of all plans.",
                capitalise(&l.label),
                count(b),
                count(a),
                pct(g),
                vs_england(l),
                l.share.unwrap_or(0.0) * 100.0
            ))
        })
        .collect()
}

fn new_plans_sentence(n: &NewPlans) -> String {
    let top = n
        .by_age
        .iter()
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(g, _, sh, e)| {
            format!(
                "; the largest group is age {} ({:.0}%{})",
                g.label(),
                sh * 100.0,
                e.map(|e| format!(", England {:.0}%", e * 100.0))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let growth = n
        .cagr
        .map(|g| {
            format!(
                ", {} a year since {}{}",
                pct(g),
                n.since,
                n.england_cagr
                    .map(|e| format!(" (England {})", pct(e)))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    format!(
        "{} new EHC plans were made in {}{growth}{top}.",
        count(n.total),
        n.calendar_year
    )
}

/// Requests for assessment in the latest year that has them: the change since the first, refusals and timeliness.
fn requests_sentence(process: &[ProcessYear]) -> Option<String> {
    let p = process.iter().rev().find(|p| p.requests.is_some())?;
    let r = p.requests?;
    let first = process.iter().find(|p| p.requests.is_some());
    let trend = match first.and_then(|f| f.requests.map(|r0| (f.calendar_year, r0))) {
        Some((y0, r0)) if y0 < p.calendar_year => format!(
            " ({} from {} in {y0})",
            if r >= r0 { "up" } else { "down" },
            count(r0)
        ),
        _ => String::new(),
    };
    let share = |v: Option<f64>, e: Option<f64>, what: &str| {
        v.map(|v| {
            format!(
                "; {:.0}% {what}{}",
                v * 100.0,
                e.map(|e| format!(" (England {:.0}%)", e * 100.0))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default()
    };
    let refused = share(p.refused_share, p.england_refused_share, "were refused");
    let timely = share(
        p.within_20_weeks,
        p.england_within_20_weeks,
        "of plans were issued within 20 weeks",
    );
    Some(format!(
        "{} requests for an EHC needs assessment were made in {}{trend}{refused}{timely}.",
        count(r),
        p.calendar_year
    ))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
