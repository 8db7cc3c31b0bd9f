//! Resident population by NCY: the denominator of joiner rates.

use crate::calendar::{CensusYear, Ncy};

/// Resident population (children with and without plans) of one NCY at one January census.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PopulationCount {
    pub census_year: CensusYear,
    pub ncy: Ncy,
    pub population: u64,
}

/// An LA's plan count at one census, with the new plans made in the year up to it where known: what an LA
/// without person-level history (or the published statistics) can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CensusTotal {
    pub census_year: CensusYear,
    pub plans: u64,
    pub new_plans: Option<u64>,
}
