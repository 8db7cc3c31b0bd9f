//! The DfE's published SEN2 statistics by LA (the *Education, health and care plans* release): EHC plans at
//! each January census (statements before 2015 count as plans), by age group and by setting, new plans made in
//! each calendar year, and the assessment process (requests, refusals, 20-week timeliness, mediation, tribunals).
//!
//! [`PublishedStatistics`] holds the figures as published, keyed by the code the LA had that year; suppressed
//! cells are kept apart from the figures so nothing is silently zero. [`PublishedStatistics::on_current_boundaries`]
//! maps them onto current LAs (see [`crate::geography`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::calendar::AgeGroup;
use crate::codes::CanonicalSetting;
use crate::geography::{continuous_series, ContinuousSeries, LaCode, PublishedSeries};

/// One published measure. Census measures are counted at the January census of the year; flow measures
/// (new plans, requests, …) over the calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// EHC plans and statements (the release's `Total_all`).
    Plans,
    /// Of which statements of SEN (before and during the 2015-2018 transfer).
    Statements,
    PlansByAge(AgeGroup),
    /// Summed over the establishment types mapped to the setting.
    PlansBySetting(CanonicalSetting),
    /// New plans (statements + EHC plans) made in the calendar year.
    NewPlans,
    NewPlansByAge(AgeGroup),
    /// Initial requests for an EHC needs assessment (`inreq_ehc`).
    Requests,
    /// Requests refused (`ass_refused_ehc`).
    RequestsRefused,
    /// EHC plans issued, including exceptions (`tot_inc_exc_ehc`): the 20-week denominator.
    PlansIssued,
    /// Of which issued within 20 weeks (`inc_exc20week_ehc`).
    IssuedWithin20Weeks,
    /// Mediation cases (`new_ehcmediation`).
    Mediations,
    /// Tribunal appeals (`new_ehctribunal`).
    Tribunals,
}

impl Measure {
    /// Whether the year is a calendar year of flows rather than a January census.
    pub fn is_flow(self) -> bool {
        !matches!(
            self,
            Self::Plans | Self::Statements | Self::PlansByAge(_) | Self::PlansBySetting(_)
        )
    }
    pub fn label(self) -> String {
        match self {
            Self::Plans => "EHC plans".into(),
            Self::Statements => "statements".into(),
            Self::PlansByAge(a) => format!("EHC plans, age {}", a.label()),
            Self::PlansBySetting(s) => format!("EHC plans, {}", s.label()),
            Self::NewPlans => "new EHC plans".into(),
            Self::NewPlansByAge(a) => format!("new EHC plans, age {}", a.label()),
            Self::Requests => "requests for assessment".into(),
            Self::RequestsRefused => "requests refused".into(),
            Self::PlansIssued => "plans issued".into(),
            Self::IssuedWithin20Weeks => "plans issued within 20 weeks".into(),
            Self::Mediations => "mediations".into(),
            Self::Tribunals => "tribunal appeals".into(),
        }
    }
}

/// The published figures, keyed by `(LA code as published, measure, year)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishedStatistics {
    pub figures: BTreeMap<(LaCode, Measure, i32), u64>,
    /// Cells published as suppressed (`c`, `x`, `low`): no figure exists for them.
    pub suppressed: BTreeSet<(LaCode, Measure, i32)>,
    /// The LA's name as the release gives it (latest year seen).
    pub names: BTreeMap<LaCode, String>,
}

/// A gap between an LA-year's setting rows and its headline plans (a quirk of the 2016 and 2018 releases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingGap {
    pub la: LaCode,
    pub census_year: i32,
    pub headline: u64,
    pub settings_sum: u64,
}

impl SettingGap {
    /// Setting rows minus headline: positive when the setting rows count more plans.
    pub fn gap(&self) -> i64 {
        self.settings_sum as i64 - self.headline as i64
    }
}

/// The published figures on current boundaries, as `f64` (apportioned values are fractional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurrentSeries {
    pub values: ContinuousSeries<Measure>,
    /// What was mapped, in plain English.
    pub notes: Vec<String>,
}

impl CurrentSeries {
    pub fn get(&self, la: LaCode, measure: Measure, year: i32) -> Option<f64> {
        self.values.get(&(la, measure, year)).map(|v| v.value)
    }
    /// Whether the value was estimated by splitting predecessors' figures.
    pub fn apportioned(&self, la: LaCode, measure: Measure, year: i32) -> bool {
        self.values
            .get(&(la, measure, year))
            .is_some_and(|v| v.apportioned)
    }
    /// Every LA (not England) with a value of `measure` in `year`.
    pub fn las_in(&self, measure: Measure, year: i32) -> Vec<LaCode> {
        self.values
            .keys()
            .filter(|(l, m, y)| *m == measure && *y == year && !l.is_england())
            .map(|(l, _, _)| *l)
            .collect()
    }
    /// Years with a value of `measure` for the LA, in order.
    pub fn years(&self, la: LaCode, measure: Measure) -> Vec<i32> {
        self.values
            .range((la, measure, i32::MIN)..=(la, measure, i32::MAX))
            .map(|((_, _, y), _)| *y)
            .collect()
    }
}

impl PublishedStatistics {
    pub fn get(&self, la: LaCode, measure: Measure, year: i32) -> Option<u64> {
        self.figures.get(&(la, measure, year)).copied()
    }

    pub fn name(&self, la: LaCode) -> Option<&str> {
        self.names.get(&la).map(String::as_str)
    }

    /// Census years with a headline figure for England (or any LA when England is absent).
    pub fn census_years(&self) -> Vec<i32> {
        let years: BTreeSet<i32> = self
            .figures
            .keys()
            .filter(|(_, m, _)| *m == Measure::Plans)
            .map(|(_, _, y)| *y)
            .collect();
        years.into_iter().collect()
    }

    /// Every LA-year whose setting rows do not add up to the headline plans.
    pub fn setting_gaps(&self) -> Vec<SettingGap> {
        let mut sums: BTreeMap<(LaCode, i32), u64> = BTreeMap::new();
        for ((la, m, y), v) in &self.figures {
            if let Measure::PlansBySetting(_) = m {
                let sum = sums.entry((*la, *y)).or_insert(0);
                *sum = sum.saturating_add(*v);
            }
        }
        sums.into_iter()
            .filter_map(|((la, y), settings_sum)| {
                let headline = self.get(la, Measure::Plans, y)?;
                (headline != settings_sum).then_some(SettingGap {
                    la,
                    census_year: y,
                    headline,
                    settings_sum,
                })
            })
            .collect()
    }

    /// Every measure on current boundaries (see [`crate::geography`] for the apportioning rule). Each measure is
    /// mapped as its own series; breakdowns (age, setting) are split with the successors' shares of that
    /// breakdown's total, so they still add up.
    pub fn on_current_boundaries(&self) -> CurrentSeries {
        // Group measures into families that share successor shares: headline, by age, by setting, …
        let family = |m: Measure| -> u8 {
            match m {
                Measure::Plans => 0,
                Measure::Statements => 1,
                Measure::PlansByAge(_) => 2,
                Measure::PlansBySetting(_) => 3,
                Measure::NewPlans => 4,
                Measure::NewPlansByAge(_) => 5,
                Measure::Requests => 6,
                Measure::RequestsRefused => 7,
                Measure::PlansIssued => 8,
                Measure::IssuedWithin20Weeks => 9,
                Measure::Mediations => 10,
                Measure::Tribunals => 11,
            }
        };
        let mut by_family: BTreeMap<u8, PublishedSeries<Measure>> = BTreeMap::new();
        for ((la, m, y), v) in &self.figures {
            by_family
                .entry(family(*m))
                .or_default()
                .insert((*la, *m, *y), *v as f64);
        }
        let mut out = CurrentSeries::default();
        for (fam, series) in by_family {
            let (mapped, notes) = continuous_series(&series);
            out.values.extend(mapped);
            if fam == 0 {
                out.notes = notes;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn la(s: &str) -> LaCode {
        s.parse().unwrap()
    }

    #[test]
    fn huge_setting_counts_saturate_instead_of_overflowing() {
        // Three settings of i64::MAX each (a count cell accepts that much): found by fuzzing, it overflowed.
        let mut p = PublishedStatistics::default();
        let a = la("E06000001");
        p.figures.insert((a, Measure::Plans, 2020), 10);
        for c in [
            CanonicalSetting::Mainstream,
            CanonicalSetting::Other,
            CanonicalSetting::NotInEducationOrEmployment,
        ] {
            p.figures
                .insert((a, Measure::PlansBySetting(c), 2020), i64::MAX as u64);
        }
        let gaps = p.setting_gaps();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].settings_sum, u64::MAX);
    }

    #[test]
    fn gaps_and_boundaries() {
        let mut p = PublishedStatistics::default();
        let wb = la("E06000037");
        p.figures.insert((wb, Measure::Plans, 2018), 938);
        p.figures.insert(
            (
                wb,
                Measure::PlansBySetting(CanonicalSetting::Mainstream),
                2018,
            ),
            500,
        );
        p.figures.insert(
            (
                wb,
                Measure::PlansBySetting(CanonicalSetting::SpecialMaintained),
                2018,
            ),
            400,
        );
        let gaps = p.setting_gaps();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].gap(), -38);
        let n = la("E10000021");
        p.figures.insert((n, Measure::Plans, 2021), 4847);
        p.figures
            .insert((la("E06000061"), Measure::Plans, 2022), 2842);
        p.figures
            .insert((la("E06000062"), Measure::Plans, 2022), 2847);
        let c = p.on_current_boundaries();
        // 4,847 × 2,842 / 5,689 = 2,421.37
        let north = c.get(la("E06000061"), Measure::Plans, 2021).unwrap();
        assert!((north - 2421.37).abs() < 0.01, "{north}");
        assert!(c.apportioned(la("E06000061"), Measure::Plans, 2021));
        assert_eq!(c.get(n, Measure::Plans, 2021), None);
        assert_eq!(c.years(wb, Measure::Plans), vec![2018]);
    }
}
