//! A DBV plan as a scenario: named initiatives, each a set of levers with a start, a ramp to full effect, an
//! optional end and a cost profile by financial year, over the LA's stored data and its assumptions (horizon,
//! uplift, allocation growth, target financial year, engine, simulations, seed).
//!
//! A value of these types is valid: shares are in 0..=1, changes above −100 %, places non-negative, an end after
//! its start; codes are the LA's own (checked against its history where the scenario is read).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::{CensusYear, DomainError, FinancialYear, Ncy, Need, Pence, Setting};

/// A calendar month, `2025-09`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u8,
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Result<Self, DomainError> {
        if !(1..=12).contains(&month) || !(1990..=2100).contains(&year) {
            return Err(DomainError::OutOfRange {
                what: "month",
                value: format!("{year}-{month:02}"),
                range: "YYYY-MM, 1990-01 to 2100-12".into(),
            });
        }
        Ok(Self {
            year,
            month: month as u8,
        })
    }
    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }
    /// Months since January of year 0: the month's position on one line.
    pub fn ordinal(self) -> i32 {
        self.year * 12 + i32::from(self.month) - 1
    }
    /// The month at an ordinal.
    pub fn from_ordinal(ordinal: i32) -> Option<Self> {
        Self::new(ordinal.div_euclid(12), (ordinal.rem_euclid(12) + 1) as u32).ok()
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DomainError::Invalid {
            what: "month",
            value: s.to_string(),
            expected: "YYYY-MM, e.g. 2025-09",
        };
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Self::new(year, month)
    }
}

/// When a lever acts: full effect `ramp_months` after `start` (a straight line from zero), none from `end` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub start: YearMonth,
    pub ramp_months: u32,
    /// The first month without effect.
    pub end: Option<YearMonth>,
}

impl Timing {
    /// Always on at full effect.
    pub const ALWAYS: Timing = Timing {
        start: YearMonth {
            year: 1990,
            month: 1,
        },
        ramp_months: 0,
        end: None,
    };

    pub fn new(start: YearMonth, ramp_months: u32, end: Option<YearMonth>) -> Result<Self, String> {
        if let Some(end) = end {
            if end <= start {
                return Err(format!("end {end} is not after start {start}"));
            }
        }
        if ramp_months > 240 {
            return Err(format!("ramp_months {ramp_months} is over 240 (20 years)"));
        }
        Ok(Self {
            start,
            ramp_months,
            end,
        })
    }

    /// Share of full effect during month `m` (ordinal): 0 before the start, rising by 1/ramp each month
    /// (the first month at 1/ramp, so a 12-month ramp reaches full effect in its twelfth month), 1 after, 0 from
    /// the end.
    pub fn level(&self, m: i32) -> f64 {
        let start = self.start.ordinal();
        if m < start || self.end.is_some_and(|e| m >= e.ordinal()) {
            return 0.0;
        }
        if self.ramp_months == 0 {
            return 1.0;
        }
        (f64::from(m - start + 1) / f64::from(self.ramp_months)).min(1.0)
    }

    /// Mean share of full effect over the `months` months starting at `first`.
    pub fn mean_level(&self, first: YearMonth, months: u32) -> f64 {
        if months == 0 {
            return 0.0;
        }
        let f = first.ordinal();
        (0..months as i32).map(|k| self.level(f + k)).sum::<f64>() / f64::from(months)
    }

    /// Mean share of full effect over the year of transitions ending at `census` (February before to January).
    pub fn over_year_to_census(&self, census: CensusYear) -> f64 {
        match YearMonth::new(census.year() - 1, 2) {
            Ok(first) => self.mean_level(first, 12),
            Err(_) => 0.0,
        }
    }

    /// Mean share of full effect over the academic year whose January census is `census` (September to August):
    /// what a unit-cost change does to that census's annual cost.
    pub fn over_academic_year_of(&self, census: CensusYear) -> f64 {
        match YearMonth::new(census.year() - 1, 9) {
            Ok(first) => self.mean_level(first, 12),
            Err(_) => 0.0,
        }
    }

    /// Share of full effect at the January census (places open by then).
    pub fn at_census(&self, census: CensusYear) -> f64 {
        match YearMonth::new(census.year(), 1) {
            Ok(m) => self.level(m.ordinal()),
            Err(_) => 0.0,
        }
    }
}

/// Which children a lever acts on; empty lists mean every need or setting, no range every NCY.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cohort {
    pub needs: Vec<Need>,
    pub settings: Vec<Setting>,
    pub ncy: Option<(Ncy, Ncy)>,
}

impl Cohort {
    pub fn contains(&self, ncy: Ncy, need: &Need, setting: &Setting) -> bool {
        (self.needs.is_empty() || self.needs.contains(need))
            && (self.settings.is_empty() || self.settings.contains(setting))
            && self.ncy.is_none_or(|(lo, hi)| lo <= ncy && ncy <= hi)
    }
}

/// A share in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Share(f64);

impl Share {
    pub fn new(x: f64) -> Result<Self, String> {
        if x.is_finite() && (0.0..=1.0).contains(&x) {
            Ok(Self(x))
        } else {
            Err(format!("{x} is not a share between 0 and 1 (0.5 = 50 %)"))
        }
    }
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A relative change above −100 % and at most +1,000 % (−0.1 = 10 % fewer).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Change(f64);

impl Change {
    pub fn new(x: f64) -> Result<Self, String> {
        if x.is_finite() && (-1.0..=10.0).contains(&x) {
            Ok(Self(x))
        } else {
            Err(format!(
                "{x} is not a change between -1 and 10 (-0.1 = 10 % fewer, 0.05 = 5 % more)"
            ))
        }
    }
    pub fn get(self) -> f64 {
        self.0
    }
}

/// What a lever does.
#[derive(Debug, Clone, PartialEq)]
pub enum LeverKind {
    /// New plans (joiners) in the cohort × (1 + change × effect).
    JoinerRate { change: Change, cohort: Cohort },
    /// Leaving (plans ceased) in the cohort × (1 + change × effect).
    LeaverRate { change: Change, cohort: Cohort },
    /// A share of the joiners and/or movers who would arrive in `from` go to `to` instead (same NCY and need).
    Redirect {
        from: Setting,
        to: Setting,
        share: Share,
        joiners: bool,
        movers: bool,
        cohort: Cohort,
    },
    /// Places added (or removed, negative) at a setting; above the places, children go to `overflow` when given.
    Capacity {
        setting: Setting,
        places: i64,
        overflow: Option<Setting>,
    },
    /// Unit costs of plans in the cohort (needs, settings) × (1 + change × effect).
    UnitCost { change: Change, cohort: Cohort },
    /// Income moved into the High Needs Block from another block, by financial year.
    BlockTransfer {
        amount: BTreeMap<FinancialYear, Pence>,
        needs_schools_forum_approval: bool,
    },
    /// Grant income to the High Needs Block (e.g. the DBV grant), by financial year.
    Grant {
        amount: BTreeMap<FinancialYear, Pence>,
    },
    /// Contributions towards the cumulative deficit (e.g. Safety Valve payments, council contributions): they
    /// reduce the deficit but are not in-year High Needs income.
    DeficitContribution {
        amount: BTreeMap<FinancialYear, Pence>,
    },
    /// Invest-to-save spending (posts with on-costs, revenue costs of capital): its cost profile only.
    InvestToSave,
}

impl LeverKind {
    /// The file's name for the kind.
    pub fn code(&self) -> &'static str {
        match self {
            LeverKind::JoinerRate { .. } => "joiner_rate",
            LeverKind::LeaverRate { .. } => "leaver_rate",
            LeverKind::Redirect { .. } => "redirect",
            LeverKind::Capacity { .. } => "capacity",
            LeverKind::UnitCost { .. } => "unit_cost",
            LeverKind::BlockTransfer { .. } => "block_transfer",
            LeverKind::Grant { .. } => "grant",
            LeverKind::DeficitContribution { .. } => "deficit_contribution",
            LeverKind::InvestToSave => "invest_to_save",
        }
    }
}

/// One lever of an initiative.
#[derive(Debug, Clone, PartialEq)]
pub struct Lever {
    pub kind: LeverKind,
    pub timing: Timing,
    /// What the lever costs the High Needs Block, by financial year.
    pub cost: BTreeMap<FinancialYear, Pence>,
    pub description: String,
}

/// One initiative of the plan: what savings are attributed to.
#[derive(Debug, Clone, PartialEq)]
pub struct Initiative {
    pub name: String,
    pub description: String,
    pub levers: Vec<Lever>,
}

/// Which engine a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioEngine {
    Analytic,
    MonteCarlo,
}

/// Places at a setting at a census (the LA's sufficiency baseline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    pub setting: Setting,
    pub census_year: CensusYear,
    pub places: u64,
}

/// A run's assumptions: with the database, enough to reproduce it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumptions {
    /// Census years projected after the base census.
    pub horizon_years: u32,
    /// Yearly uplift of unit costs and of other expenditure.
    pub uplift: f64,
    /// Yearly growth of the allocation beyond the budget file's years; `None`: the mean growth of the last three
    /// actual allocations.
    pub allocation_growth: Option<f64>,
    pub target: FinancialYear,
    pub engine: ScenarioEngine,
    pub sims: u32,
    pub seed: u64,
    /// Places by setting and census year (the sufficiency baseline).
    pub places: Vec<Places>,
}

/// A named set of initiatives.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The LA the scenario is for (its code), when it says.
    pub la: Option<String>,
    pub assumptions: Assumptions,
    pub initiatives: Vec<Initiative>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(s: &str) -> YearMonth {
        s.parse().unwrap()
    }

    #[test]
    fn months_parse_and_order() {
        assert_eq!(ym("2025-09").to_string(), "2025-09");
        assert!(ym("2025-09") < ym("2026-01"));
        assert!("2025-13".parse::<YearMonth>().is_err());
        assert!("2025-9".parse::<YearMonth>().is_err());
        assert_eq!(
            YearMonth::from_ordinal(ym("2025-12").ordinal() + 1),
            Some(ym("2026-01"))
        );
    }

    #[test]
    fn a_twelve_month_ramp_from_september_worked_by_hand() {
        let t = Timing::new(ym("2025-09"), 12, None).unwrap();
        // Year to the January 2026 census (Feb 2025 - Jan 2026): Sep..Jan at 1/12..5/12 → 15/12 / 12.
        let census = CensusYear::new(2026).unwrap();
        assert!((t.over_year_to_census(census) - 15.0 / 144.0).abs() < 1e-12);
        // Year to January 2027: Feb..Aug 2026 at 6/12..12/12 (sum 63/12), Sep..Jan full (5) → (63/12 + 5) / 12.
        let next = CensusYear::new(2027).unwrap();
        assert!((t.over_year_to_census(next) - (63.0 / 12.0 + 5.0) / 12.0).abs() < 1e-12);
        // The academic year 2025/26 (census 2026): Sep..Aug at 1/12..12/12 → 78/144.
        assert!((t.over_academic_year_of(census) - 78.0 / 144.0).abs() < 1e-12);
        assert!((t.at_census(census) - 5.0 / 12.0).abs() < 1e-12);
    }

    #[test]
    fn an_end_stops_the_effect() {
        let t = Timing::new(ym("2025-04"), 0, Some(ym("2026-04"))).unwrap();
        assert_eq!(t.level(ym("2026-03").ordinal()), 1.0);
        assert_eq!(t.level(ym("2026-04").ordinal()), 0.0);
        assert!(Timing::new(ym("2025-04"), 0, Some(ym("2025-04"))).is_err());
    }

    #[test]
    fn shares_and_changes_are_bounded() {
        assert!(Share::new(1.2).is_err());
        assert!(Share::new(f64::NAN).is_err());
        assert!(Change::new(-1.5).is_err());
        assert!(Change::new(-0.1).is_ok());
    }
}
