//! Flows in the calendar year before a census: requests and their outcomes, assessments, new plans and how
//! many were issued within 20 weeks (with and without exceptions), cessations by reason, transfers in and out.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::calendar::CensusYear;
use crate::sen2::record::{AssessmentOutcome, CeaseReason, RequestOutcome, Sen2Return};

/// The statutory time limit from request to final plan: 20 weeks.
pub const TWENTY_WEEKS_DAYS: i64 = 140;

/// What happened in calendar year `census_year − 1`, from the return of `census_year`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sen2Flows {
    pub census_year: CensusYear,
    /// Requests for an EHC needs assessment received in the year.
    pub requests: u64,
    /// Those requests by outcome (`None`: no outcome given).
    pub request_outcomes: BTreeMap<Option<RequestOutcome>, u64>,
    /// Assessment decisions made in the year (outcome date in the year), by outcome.
    pub assessment_outcomes: BTreeMap<Option<AssessmentOutcome>, u64>,
    /// Plans issued in the year (named plan start date in the year).
    pub new_plans: u64,
    /// New plans whose request date is known (so timeliness can be measured).
    pub new_plans_timed: u64,
    /// … of which issued within 20 weeks of the request.
    pub new_plans_within_20_weeks: u64,
    /// New plans with a known request date and no 20-week exception (`Week20` not 1).
    pub new_plans_timed_without_exception: u64,
    /// … of which issued within 20 weeks.
    pub new_plans_without_exception_within_20_weeks: u64,
    /// Plans ceased in the year, by reason (`None`: no reason given).
    pub cessations: BTreeMap<Option<CeaseReason>, u64>,
    /// Active plans transferred in from another LA during the year.
    pub transfers_in: u64,
    /// Plans ceased because the person transferred to another LA (reason 5).
    pub transfers_out: u64,
    /// Requests whose person moved to another LA before the assessment was completed.
    pub exported: u64,
}

fn in_year(d: Option<NaiveDate>, year: i32) -> bool {
    d.is_some_and(|d| d.year() == year)
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Sen2Flows {
    /// Share of new plans (with a known request date) issued within 20 weeks, exceptions included.
    pub fn share_within_20_weeks(&self) -> Option<f64> {
        share(self.new_plans_within_20_weeks, self.new_plans_timed)
    }
    /// The same, leaving out plans with a 20-week exception.
    pub fn share_within_20_weeks_excluding_exceptions(&self) -> Option<f64> {
        share(
            self.new_plans_without_exception_within_20_weeks,
            self.new_plans_timed_without_exception,
        )
    }
    /// Plans ceased in the year, all reasons.
    pub fn cessations_total(&self) -> u64 {
        self.cessations.values().sum()
    }

    /// Every figure as `(measure, breakdown, value)`, the long form the store keeps (breakdown `""` for a
    /// total, else an outcome or reason code; `none` where the return gave none).
    pub fn measures(&self) -> Vec<(&'static str, String, u64)> {
        let mut out = vec![
            ("requests", String::new(), self.requests),
            ("new_plans", String::new(), self.new_plans),
            ("new_plans_timed", String::new(), self.new_plans_timed),
            (
                "new_plans_within_20_weeks",
                String::new(),
                self.new_plans_within_20_weeks,
            ),
            (
                "new_plans_timed_without_exception",
                String::new(),
                self.new_plans_timed_without_exception,
            ),
            (
                "new_plans_without_exception_within_20_weeks",
                String::new(),
                self.new_plans_without_exception_within_20_weeks,
            ),
            ("transfers_in", String::new(), self.transfers_in),
            ("transfers_out", String::new(), self.transfers_out),
            ("exported", String::new(), self.exported),
        ];
        for (o, n) in &self.request_outcomes {
            let code = o.map_or("none", |o| o.code());
            out.push(("request_outcome", code.to_string(), *n));
        }
        for (o, n) in &self.assessment_outcomes {
            let code = o.map_or("none", |o| o.code());
            out.push(("assessment_outcome", code.to_string(), *n));
        }
        for (r, n) in &self.cessations {
            let code = r.map_or("none".to_string(), |r| r.code().to_string());
            out.push(("cessations", code, *n));
        }
        out
    }
}

/// The flows of the calendar year before the return's census.
pub fn flows_of(ret: &Sen2Return) -> Sen2Flows {
    let census_year = ret.header.census_year;
    let year = census_year.year() - 1;
    let mut f = Sen2Flows {
        census_year,
        requests: 0,
        request_outcomes: BTreeMap::new(),
        assessment_outcomes: BTreeMap::new(),
        new_plans: 0,
        new_plans_timed: 0,
        new_plans_within_20_weeks: 0,
        new_plans_timed_without_exception: 0,
        new_plans_without_exception_within_20_weeks: 0,
        cessations: BTreeMap::new(),
        transfers_in: 0,
        transfers_out: 0,
        exported: 0,
    };
    for person in &ret.persons {
        for r in &person.requests {
            if in_year(r.received, year) {
                f.requests += 1;
                *f.request_outcomes.entry(r.outcome).or_insert(0) += 1;
                if r.exported_to.is_some() {
                    f.exported += 1;
                }
            }
            if let Some(a) = &r.active_plan {
                if a.transferred_from.is_some() {
                    f.transfers_in += 1;
                }
            }
            let Some(a) = &r.assessment else { continue };
            if in_year(a.outcome_date, year) {
                *f.assessment_outcomes.entry(a.outcome).or_insert(0) += 1;
            }
            let Some(plan) = &a.named_plan else { continue };
            if in_year(plan.start, year) {
                f.new_plans += 1;
                if let (Some(start), Some(received)) = (plan.start, r.received) {
                    let within = (start - received).num_days() <= TWENTY_WEEKS_DAYS;
                    f.new_plans_timed += 1;
                    f.new_plans_within_20_weeks += u64::from(within);
                    if !a.week20_exception {
                        f.new_plans_timed_without_exception += 1;
                        f.new_plans_without_exception_within_20_weeks += u64::from(within);
                    }
                }
            }
            if in_year(plan.cease_date, year) {
                *f.cessations.entry(plan.cease_reason).or_insert(0) += 1;
                if plan.cease_reason == Some(CeaseReason::TransferredToAnotherLa) {
                    f.transfers_out += 1;
                }
            }
        }
    }
    f
}
