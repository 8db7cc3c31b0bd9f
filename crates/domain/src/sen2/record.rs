//! One SEN2 return, pseudonymised: the header and one record per person, with the return's codes as enums.
//!
//! Nothing here names a person: the parser (in `ingest`) replaces surname, forename, date of birth and UPN/ULN
//! by keyed hashes ([`PersonKey`]) before a record is built, and drops postcode and ethnicity.

use std::fmt;

use chrono::NaiveDate;

use crate::calendar::CensusYear;
use crate::codes::Sen2Need;

/// A pseudonym: the first 16 bytes of an HMAC-SHA256 under the LA's secret key. Shown as 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonKey(pub [u8; 16]);

impl PersonKey {
    /// Parse 32 hex digits (as [`fmt::Display`] writes them).
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.len() != 32 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The header of a return: which collection, which census, which LA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sen2Header {
    /// Collection year Y: the January census of Y; activity is for calendar year Y − 1.
    pub census_year: CensusYear,
    /// The census (reference) date, mid-January of Y.
    pub reference_date: NaiveDate,
    /// The DfE three-digit LA number (`LEA`), if given.
    pub lea: Option<String>,
}

/// A whole return after pseudonymisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sen2Return {
    pub header: Sen2Header,
    pub persons: Vec<Sen2Person>,
}

/// Sex as the 2024+ returns code it (2023's `GenderCurrent` is read as the same three values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
    Unknown,
}

/// One person (module 1) with their requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sen2Person {
    /// HMAC of normalised surname, forename and date of birth: the identity matched between returns.
    pub key: PersonKey,
    /// HMAC of the UPN (or, without one, the ULN): a second way to match a person whose name changed.
    pub pupil_key: Option<PersonKey>,
    /// Kept to derive NCY; never stored in the database.
    pub date_of_birth: NaiveDate,
    pub sex: Option<Sex>,
    pub requests: Vec<Request>,
}

/// Module 2: one request for an EHC needs assessment (with what followed from it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub received: Option<NaiveDate>,
    pub outcome_date: Option<NaiveDate>,
    pub outcome: Option<RequestOutcome>,
    /// The person moved to another LA (three-digit code) before the assessment was completed.
    pub exported_to: Option<String>,
    pub assessment: Option<Assessment>,
    pub active_plan: Option<ActivePlan>,
}

/// Whether the LA decided to assess (`RequestOutcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestOutcome {
    /// `Y`: assess.
    Assess,
    /// `N`: not assess.
    NotAssess,
    /// `A`: decision pending.
    Pending,
    /// `W`: withdrawn.
    Withdrawn,
    /// `H`: historical (before the collection period).
    Historical,
}

impl RequestOutcome {
    pub const ALL: [Self; 5] = [
        Self::Assess,
        Self::NotAssess,
        Self::Pending,
        Self::Withdrawn,
        Self::Historical,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Self::Assess => "Y",
            Self::NotAssess => "N",
            Self::Pending => "A",
            Self::Withdrawn => "W",
            Self::Historical => "H",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|o| o.code().eq_ignore_ascii_case(t))
    }
}

/// Module 3: the EHC needs assessment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assessment {
    pub outcome: Option<AssessmentOutcome>,
    pub outcome_date: Option<NaiveDate>,
    /// `Week20 = 1`: a 20-week time-limit exception applies.
    pub week20_exception: bool,
    pub named_plan: Option<NamedPlan>,
}

/// Whether the LA decided to issue a plan (`AssessmentOutcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssessmentOutcome {
    /// `Y`: issue a plan.
    Issue,
    /// `N`: not issue.
    NotIssue,
    /// `A`: decision pending.
    Pending,
    /// `W`: withdrawn.
    Withdrawn,
    /// `H`: historical (before the period, or transferred in).
    Historical,
    /// `S`: plan issued after an assessment completed by another LA.
    OtherLa,
}

impl AssessmentOutcome {
    pub const ALL: [Self; 6] = [
        Self::Issue,
        Self::NotIssue,
        Self::Pending,
        Self::Withdrawn,
        Self::Historical,
        Self::OtherLa,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Self::Issue => "Y",
            Self::NotIssue => "N",
            Self::Pending => "A",
            Self::Withdrawn => "W",
            Self::Historical => "H",
            Self::OtherLa => "S",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|o| o.code().eq_ignore_ascii_case(t))
    }
}

/// Module 4: the plan as issued, and its end if it ceased.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamedPlan {
    /// Date the final plan was issued.
    pub start: Option<NaiveDate>,
    pub cease_date: Option<NaiveDate>,
    pub cease_reason: Option<CeaseReason>,
}

/// Why a plan ceased (`CeaseReason` 1–9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CeaseReason {
    MaximumAge,
    NeedsMetWithoutPlan,
    HigherEducation,
    PaidEmployment,
    TransferredToAnotherLa,
    NoLongerWishesToEngage,
    MovedOutsideEngland,
    Deceased,
    Other,
}

impl CeaseReason {
    pub const ALL: [Self; 9] = [
        Self::MaximumAge,
        Self::NeedsMetWithoutPlan,
        Self::HigherEducation,
        Self::PaidEmployment,
        Self::TransferredToAnotherLa,
        Self::NoLongerWishesToEngage,
        Self::MovedOutsideEngland,
        Self::Deceased,
        Self::Other,
    ];
    /// The return's code, 1–9.
    pub fn code(self) -> u8 {
        match self {
            Self::MaximumAge => 1,
            Self::NeedsMetWithoutPlan => 2,
            Self::HigherEducation => 3,
            Self::PaidEmployment => 4,
            Self::TransferredToAnotherLa => 5,
            Self::NoLongerWishesToEngage => 6,
            Self::MovedOutsideEngland => 7,
            Self::Deceased => 8,
            Self::Other => 9,
        }
    }
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::MaximumAge => "reached maximum age",
            Self::NeedsMetWithoutPlan => "needs met without an EHC plan",
            Self::HigherEducation => "moved on to higher education",
            Self::PaidEmployment => "moved on to paid employment",
            Self::TransferredToAnotherLa => "transferred to another LA",
            Self::NoLongerWishesToEngage => "young person no longer wishes to engage",
            Self::MovedOutsideEngland => "moved outside England",
            Self::Deceased => "deceased",
            Self::Other => "other",
        }
    }
}

/// Module 5: the plan active at the census, with its placements and needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActivePlan {
    /// Transferred in during the calendar year from this LA (three-digit code).
    pub transferred_from: Option<String>,
    pub placements: Vec<Placement>,
    /// (need, rank): rank 1 is the primary need.
    pub needs: Vec<(Sen2Need, u8)>,
}

impl ActivePlan {
    /// The rank-1 need (the first one if several claim rank 1).
    pub fn primary_need(&self) -> Option<Sen2Need> {
        self.needs.iter().find(|(_, r)| *r == 1).map(|(n, _)| *n)
    }
}

/// Where a placement is: an establishment (URN or UKPRN) or a SEN2 setting code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Urn(u32),
    Ukprn(u32),
    Setting(Sen2Setting),
}

/// A placement (`PlacementDetail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// `None` when the return gives no usable URN, UKPRN or setting code.
    pub place: Option<Place>,
    /// 1 = main, 2 = dual placement.
    pub rank: u8,
    pub entry: Option<NaiveDate>,
    pub leaving: Option<NaiveDate>,
    pub sen_unit: bool,
    pub resourced_provision: bool,
}

impl Placement {
    /// Open at `date`: started on or before it (or no start given) and not left by it.
    pub fn is_open_on(&self, date: NaiveDate) -> bool {
        self.entry.is_none_or(|e| e <= date) && self.leaving.is_none_or(|l| l > date)
    }
}

/// SEN2 setting codes for placements without an establishment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sen2Setting {
    /// Other arrangements by the LA (incl. EOTAS).
    Ola,
    /// Other arrangements by parents or young person.
    Opa,
    /// Elective home education.
    Ehe,
    /// Early-years provider without a URN.
    Eyp,
    /// Other.
    Oth,
    /// Not in education, employment or training.
    Neet,
    /// Not in education: notice to cease issued.
    Niec,
    /// Not in education: other.
    Nieo,
}

impl Sen2Setting {
    pub const ALL: [Self; 8] = [
        Self::Ola,
        Self::Opa,
        Self::Ehe,
        Self::Eyp,
        Self::Oth,
        Self::Neet,
        Self::Niec,
        Self::Nieo,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Self::Ola => "OLA",
            Self::Opa => "OPA",
            Self::Ehe => "EHE",
            Self::Eyp => "EYP",
            Self::Oth => "OTH",
            Self::Neet => "NEET",
            Self::Niec => "NIEC",
            Self::Nieo => "NIEO",
        }
    }
    pub fn from_code(s: &str) -> Option<Self> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|o| o.code().eq_ignore_ascii_case(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hex_round_trip() {
        let k = PersonKey([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255]);
        assert_eq!(k.to_string(), "000102030405060708090a0b0c0d0eff");
        assert_eq!(PersonKey::from_hex(&k.to_string()), Some(k));
        assert_eq!(PersonKey::from_hex("00"), None);
        assert_eq!(PersonKey::from_hex(&"zz".repeat(16)), None);
        assert_eq!(PersonKey::from_hex(&"é".repeat(16)), None);
    }

    #[test]
    fn codes() {
        for r in CeaseReason::ALL {
            assert_eq!(CeaseReason::from_code(r.code()), Some(r));
        }
        assert_eq!(CeaseReason::from_code(0), None);
        assert_eq!(CeaseReason::from_code(10), None);
        assert_eq!(
            RequestOutcome::from_code(" y "),
            Some(RequestOutcome::Assess)
        );
        assert_eq!(
            AssessmentOutcome::from_code("S"),
            Some(AssessmentOutcome::OtherLa)
        );
        assert_eq!(Sen2Setting::from_code("neet"), Some(Sen2Setting::Neet));
        assert_eq!(Sen2Setting::from_code("XYZ"), None);
    }

    #[test]
    fn open_placements() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let p = Placement {
            place: None,
            rank: 1,
            entry: Some(d("2023-09-01")),
            leaving: Some(d("2024-01-10")),
            sen_unit: false,
            resourced_provision: false,
        };
        assert!(p.is_open_on(d("2024-01-09")));
        assert!(!p.is_open_on(d("2024-01-10")));
        assert!(!p.is_open_on(d("2023-08-31")));
    }
}
