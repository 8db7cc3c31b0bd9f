//! The words of the domain, as types: census, academic and financial years, NCY and age groups, needs and
//! settings, money in pence, plan histories and transitions.
//!
//! Architecture invariant: this crate does no I/O and has no knowledge of file formats or databases. Values are
//! parsed once ("parse, don't validate"): a value of these types is always valid.

pub mod budget;
pub mod calendar;
pub mod codes;
pub mod costs;
pub mod geography;
pub mod history;
pub mod money;
pub mod plan;
pub mod population;
pub mod published;
pub mod scenario;
pub mod sen2;
pub mod valid_states;

pub use budget::{BudgetKind, BudgetLine};
pub use calendar::{AcademicYear, AgeGroup, CensusYear, FinancialYear, Ncy};
pub use codes::{CanonicalSetting, Need, Sen2Need, Setting, SettingMap, NONSEND};
pub use costs::UnitCost;
pub use geography::LaCode;
pub use history::TransitionHistory;
pub use money::Pence;
pub use plan::{
    transitions_between, CensusRecord, ChildId, PlanHistory, State, Transition, TransitionKind, Urn,
};
pub use population::{CensusTotal, PopulationCount};
pub use published::{Measure, PublishedStatistics};
pub use valid_states::ValidSetting;

/// A value that is not what the domain allows. The message names the value and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{value:?} is not a valid {what}: expected {expected}")]
    Invalid {
        what: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{value:?} is not a {what} ({range})")]
    OutOfRange {
        what: &'static str,
        value: String,
        range: String,
    },
}
