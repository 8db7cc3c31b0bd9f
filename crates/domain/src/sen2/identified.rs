//! A person as the LA's case-management system holds them, *before* pseudonymisation: what a SEN2 writer needs
//! to write a return (synthetic returns for the demo, tests and benchmarks).
//!
//! The parser never builds this type: a return that is read comes out as [`crate::sen2::Sen2Person`], keyed.

use chrono::NaiveDate;

use crate::sen2::record::{Request, Sen2Header, Sex};

/// One person with their identity, as written into a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifiedPerson {
    pub surname: String,
    pub forename: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub upn: Option<String>,
    pub requests: Vec<Request>,
}

/// A whole return before pseudonymisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifiedReturn {
    pub header: Sen2Header,
    pub persons: Vec<IdentifiedPerson>,
}
