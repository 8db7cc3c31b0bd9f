//! Resident population by NCY: the denominator of joiner rates.

use crate::calendar::{CensusYear, Ncy};

/// Resident population (children with and without plans) of one NCY at one January census.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PopulationCount {
    pub census_year: CensusYear,
    pub ncy: Ncy,
    pub population: u64,
}
