//! Years and school years: census year, academic year, financial year, NCY and age group.
//!
//! Conventions (DESIGN.md §3):
//! - a **census year** `2024` is the January 2024 SEN2 census;
//! - an **academic year** runs September–August and is written `2023/24`;
//! - a **financial year** runs April–March and is written `2024-25`;
//! - **NCY** = age on 31 August before the academic year − 4 (Reception = 0, Year 7 = 7), range −5..=20.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use crate::DomainError;

/// Earliest and latest years we accept anywhere (a typo guard, not a business rule).
const FIRST_YEAR: i32 = 1990;
const LAST_YEAR: i32 = 2100;

fn check_year(year: i32, what: &'static str) -> Result<i32, DomainError> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&year) {
        Ok(year)
    } else {
        Err(DomainError::OutOfRange {
            what,
            value: year.to_string(),
            range: format!("{FIRST_YEAR}..{LAST_YEAR}"),
        })
    }
}

/// A January census: `CensusYear(2024)` is the census of January 2024.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CensusYear(i32);

impl CensusYear {
    pub fn new(year: i32) -> Result<Self, DomainError> {
        check_year(year, "census year").map(Self)
    }
    pub fn year(self) -> i32 {
        self.0
    }
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
    pub fn previous(self) -> Self {
        Self(self.0 - 1)
    }
    /// The academic year the census falls in: January 2024 is in 2023/24.
    pub fn academic_year(self) -> AcademicYear {
        AcademicYear { start: self.0 - 1 }
    }
}

impl fmt::Display for CensusYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for CensusYear {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let year: i32 = s.trim().parse().map_err(|_| DomainError::Invalid {
            what: "census year",
            value: s.to_string(),
            expected: "a year such as 2024",
        })?;
        Self::new(year)
    }
}

/// An academic year, September to August, written `2023/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AcademicYear {
    start: i32,
}

impl AcademicYear {
    /// The academic year starting in September of `start`.
    pub fn starting(start: i32) -> Result<Self, DomainError> {
        check_year(start, "academic year").map(|start| Self { start })
    }
    pub fn start_year(self) -> i32 {
        self.start
    }
    /// 31 August before the academic year starts: the date ages are taken on.
    pub fn age_reference_date(self) -> NaiveDate {
        // Valid for every year in FIRST_YEAR..=LAST_YEAR.
        NaiveDate::from_ymd_opt(self.start, 8, 31).unwrap_or(NaiveDate::MIN)
    }
    /// The academic year containing a date (September starts a new one).
    pub fn containing(date: NaiveDate) -> Self {
        let start = if date.month() >= 9 {
            date.year()
        } else {
            date.year() - 1
        };
        Self { start }
    }
}

impl fmt::Display for AcademicYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:02}", self.start, (self.start + 1).rem_euclid(100))
    }
}

impl FromStr for AcademicYear {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_two_part_year(s, '/', "academic year", "2023/24").and_then(Self::starting)
    }
}

/// A financial year, April to March, written `2024-25`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FinancialYear {
    start: i32,
}

impl FinancialYear {
    /// The financial year starting in April of `start`.
    pub fn starting(start: i32) -> Result<Self, DomainError> {
        check_year(start, "financial year").map(|start| Self { start })
    }
    pub fn start_year(self) -> i32 {
        self.start
    }
    pub fn next(self) -> Self {
        Self {
            start: self.start + 1,
        }
    }
    /// The academic year that ends inside this financial year (April–August: 5 months).
    pub fn academic_year_ending(self) -> AcademicYear {
        AcademicYear {
            start: self.start - 1,
        }
    }
    /// The academic year that starts inside this financial year (September–March: 7 months).
    pub fn academic_year_starting(self) -> AcademicYear {
        AcademicYear { start: self.start }
    }
    /// FY value from academic-year values: 5/12 of the AY that ends in it plus 7/12 of the AY that starts in it.
    ///
    /// FY 2024-25 = 5/12 × AY 2023/24 + 7/12 × AY 2024/25.
    pub fn blend(ending_ay_value: f64, starting_ay_value: f64) -> f64 {
        (5.0 * ending_ay_value + 7.0 * starting_ay_value) / 12.0
    }
}

impl fmt::Display for FinancialYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.start, (self.start + 1).rem_euclid(100))
    }
}

impl FromStr for FinancialYear {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_two_part_year(s, '-', "financial year", "2024-25").and_then(Self::starting)
    }
}

/// Parse `2023/24` or `2023/2024` (with `sep`) into its first year, checking the second follows it.
fn parse_two_part_year(
    s: &str,
    sep: char,
    what: &'static str,
    example: &'static str,
) -> Result<i32, DomainError> {
    let invalid = || DomainError::Invalid {
        what,
        value: s.to_string(),
        expected: example,
    };
    let (a, b) = s.trim().split_once(sep).ok_or_else(invalid)?;
    let start: i32 = a.parse().map_err(|_| invalid())?;
    let end: i32 = b.parse().map_err(|_| invalid())?;
    let follows = match b.len() {
        2 => end == (start + 1).rem_euclid(100),
        4 => end == start + 1,
        _ => false,
    };
    if follows {
        Ok(start)
    } else {
        Err(invalid())
    }
}

/// National curriculum year, −5..=20. Reception is 0, Year 11 is 11, 20 is age 24 at the start of the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ncy(i8);

impl Ncy {
    pub const MIN: i8 = -5;
    pub const MAX: i8 = 20;
    /// Number of NCYs in the range (26).
    pub const COUNT: usize = (Self::MAX - Self::MIN + 1) as usize;

    pub fn new(ncy: i32) -> Result<Self, DomainError> {
        if (i32::from(Self::MIN)..=i32::from(Self::MAX)).contains(&ncy) {
            Ok(Self(ncy as i8))
        } else {
            Err(DomainError::OutOfRange {
                what: "NCY",
                value: ncy.to_string(),
                range: format!("{}..{}", Self::MIN, Self::MAX),
            })
        }
    }
    pub fn value(self) -> i32 {
        i32::from(self.0)
    }
    /// 0-based position in −5..=20, for dense arrays.
    pub fn index(self) -> usize {
        (self.0 - Self::MIN) as usize
    }
    pub fn from_index(index: usize) -> Option<Self> {
        let v = index as i32 + i32::from(Self::MIN);
        Self::new(v).ok()
    }
    /// Every NCY from −5 to 20.
    pub fn all() -> impl Iterator<Item = Ncy> {
        (Self::MIN..=Self::MAX).map(Ncy)
    }
    /// One year older, or `None` past NCY 20 (the plan ends at 25).
    pub fn next(self) -> Option<Self> {
        Self::new(self.value() + 1).ok()
    }
    /// Age on 31 August before the academic year: NCY + 4.
    pub fn age_at_start_of_year(self) -> i32 {
        self.value() + 4
    }
    /// NCY in an academic year of a child born on `date_of_birth` (the 31 August rule).
    ///
    /// Born 15 March 2012 → age 11 on 31 August 2023 → NCY 7 in 2023/24.
    pub fn from_date_of_birth(
        date_of_birth: NaiveDate,
        academic_year: AcademicYear,
    ) -> Result<Self, DomainError> {
        let age = age_on(date_of_birth, academic_year.age_reference_date());
        Self::new(age - 4)
    }
    /// The DfE age group at a census, from age on 31 August before the census.
    pub fn age_group(self) -> AgeGroup {
        AgeGroup::from_age(self.age_at_start_of_year())
    }
}

impl fmt::Display for Ncy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Ncy {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v: i32 = s.trim().parse().map_err(|_| DomainError::Invalid {
            what: "NCY",
            value: s.to_string(),
            expected: "a whole number -5..20",
        })?;
        Self::new(v)
    }
}

/// Completed years of age on `on` for someone born on `born` (negative if not yet born: −1).
pub fn age_on(born: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - born.year();
    if (on.month(), on.day()) < (born.month(), born.day()) {
        age -= 1;
    }
    age
}

/// The DfE's age groups for EHC plan statistics (age on 31 August before the census).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgeGroup {
    Under5,
    Age5To10,
    Age11To15,
    Age16To19,
    Age20To25,
}

impl AgeGroup {
    pub const ALL: [AgeGroup; 5] = [
        AgeGroup::Under5,
        AgeGroup::Age5To10,
        AgeGroup::Age11To15,
        AgeGroup::Age16To19,
        AgeGroup::Age20To25,
    ];

    pub fn from_age(age: i32) -> Self {
        match age {
            i32::MIN..=4 => Self::Under5,
            5..=10 => Self::Age5To10,
            11..=15 => Self::Age11To15,
            16..=19 => Self::Age16To19,
            _ => Self::Age20To25,
        }
    }
    /// The code used in published statistics and our outputs: `under_5`, `5_10`, `11_15`, `16_19`, `20_25`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Under5 => "under_5",
            Self::Age5To10 => "5_10",
            Self::Age11To15 => "11_15",
            Self::Age16To19 => "16_19",
            Self::Age20To25 => "20_25",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Under5 => "under 5",
            Self::Age5To10 => "5-10",
            Self::Age11To15 => "11-15",
            Self::Age16To19 => "16-19",
            Self::Age20To25 => "20-25",
        }
    }
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.code() == code)
    }
}

impl fmt::Display for AgeGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn ncy_from_date_of_birth_worked_example() {
        // DESIGN.md §3: born 15 March 2012 → age 11 on 31 August 2023 → NCY 7 in 2023/24.
        let ay: AcademicYear = "2023/24".parse().unwrap();
        assert_eq!(
            Ncy::from_date_of_birth(date(2012, 3, 15), ay)
                .unwrap()
                .value(),
            7
        );
    }

    #[test]
    fn ncy_31_august_rule() {
        let ay = AcademicYear::starting(2023).unwrap();
        // Born on 31 August 2019: 4 on 31 August 2023 → Reception (0).
        assert_eq!(
            Ncy::from_date_of_birth(date(2019, 8, 31), ay)
                .unwrap()
                .value(),
            0
        );
        // Born a day later: still 3 on 31 August 2023 → nursery (−1).
        assert_eq!(
            Ncy::from_date_of_birth(date(2019, 9, 1), ay)
                .unwrap()
                .value(),
            -1
        );
        // Year 11: age 15 at the start.
        assert_eq!(
            Ncy::from_date_of_birth(date(2008, 1, 10), ay)
                .unwrap()
                .value(),
            11
        );
        // Born during the academic year: NCY −5.
        assert_eq!(
            Ncy::from_date_of_birth(date(2023, 12, 1), ay)
                .unwrap()
                .value(),
            -5
        );
        // Age 24 at the start: NCY 20; 25 is out of range.
        assert_eq!(
            Ncy::from_date_of_birth(date(1999, 5, 1), ay)
                .unwrap()
                .value(),
            20
        );
        assert!(Ncy::from_date_of_birth(date(1998, 5, 1), ay).is_err());
    }

    #[test]
    fn leap_day_birthday() {
        // 29 February 2012: on 31 August 2023 the birthday has passed → 11 → NCY 7.
        let ay = AcademicYear::starting(2023).unwrap();
        assert_eq!(
            Ncy::from_date_of_birth(date(2012, 2, 29), ay)
                .unwrap()
                .value(),
            7
        );
        assert_eq!(age_on(date(2012, 2, 29), date(2013, 2, 28)), 0);
        assert_eq!(age_on(date(2012, 2, 29), date(2013, 3, 1)), 1);
    }

    #[test]
    fn age_groups_from_ncy() {
        let group = |n: i32| Ncy::new(n).unwrap().age_group().code();
        assert_eq!(group(-5), "under_5");
        assert_eq!(group(0), "under_5"); // Reception: age 4
        assert_eq!(group(1), "5_10");
        assert_eq!(group(6), "5_10"); // Year 6: age 10
        assert_eq!(group(7), "11_15");
        assert_eq!(group(11), "11_15"); // Year 11: age 15
        assert_eq!(group(12), "16_19");
        assert_eq!(group(15), "16_19");
        assert_eq!(group(16), "20_25");
        assert_eq!(group(20), "20_25");
    }

    #[test]
    fn year_formats_round_trip() {
        let ay: AcademicYear = "2023/24".parse().unwrap();
        assert_eq!(ay.to_string(), "2023/24");
        assert_eq!("2023/2024".parse::<AcademicYear>().unwrap(), ay);
        assert!("2023/25".parse::<AcademicYear>().is_err());
        let fy: FinancialYear = "2024-25".parse().unwrap();
        assert_eq!(fy.to_string(), "2024-25");
        assert_eq!(
            "1999-00".parse::<FinancialYear>().unwrap().to_string(),
            "1999-00"
        );
        assert!("2024-24".parse::<FinancialYear>().is_err());
        assert!("abc".parse::<FinancialYear>().is_err());
        assert_eq!(fy.academic_year_ending().to_string(), "2023/24");
        assert_eq!(fy.academic_year_starting().to_string(), "2024/25");
        let census = CensusYear::new(2024).unwrap();
        assert_eq!(census.academic_year().to_string(), "2023/24");
    }

    #[test]
    fn financial_year_blend_worked_example() {
        // FY 2024-25 = 5/12 × AY 2023/24 + 7/12 × AY 2024/25: £1,200 then £2,400 → £500 + £1,400 = £1,900.
        assert_eq!(FinancialYear::blend(1_200.0, 2_400.0), 1_900.0);
        // Equal years blend to themselves.
        assert_eq!(FinancialYear::blend(12.0, 12.0), 12.0);
    }

    #[test]
    fn ncy_range() {
        assert!(Ncy::new(-6).is_err());
        assert!(Ncy::new(21).is_err());
        assert_eq!(Ncy::all().count(), Ncy::COUNT);
        assert_eq!(Ncy::new(20).unwrap().next(), None);
        for n in Ncy::all() {
            assert_eq!(Ncy::from_index(n.index()), Some(n));
        }
        assert!(" 7 ".parse::<Ncy>().is_ok());
        assert!("abc".parse::<Ncy>().is_err());
    }

    #[test]
    fn academic_year_containing() {
        assert_eq!(
            AcademicYear::containing(date(2024, 1, 18)).to_string(),
            "2023/24"
        );
        assert_eq!(
            AcademicYear::containing(date(2024, 9, 1)).to_string(),
            "2024/25"
        );
        assert_eq!(
            AcademicYear::containing(date(2024, 8, 31)).to_string(),
            "2023/24"
        );
    }
}
