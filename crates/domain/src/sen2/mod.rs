//! The SEN2 person-level return, pseudonymised, and what is derived from it (pure; no I/O, no XML).
//!
//! - [`record`]: the return as types — a [`Sen2Return`] of [`Sen2Person`]s keyed by [`PersonKey`] (never a
//!   name), their requests, assessments, plans, placements and needs, with the return's codes as enums;
//! - [`census`]: the stock of active plans at the reference date ([`census_of`]): NCY from date of birth (the
//!   31 August rule), primary need (rank 1), setting from the current placement through an
//!   [`EstablishmentRegister`] (URN/UKPRN → type) or the return's setting code, mapped by the [`SettingMap`];
//! - [`flows`]: requests, assessments, new plans (and the share within 20 weeks), cessations by reason and
//!   transfers in the calendar year before the census ([`flows_of`]);
//! - [`transitions`]: joiners, leavers (with cessation reason), movers and stayers between consecutive
//!   censuses by matching keys ([`transitions_of`]), as the [`crate::Transition`]s the model is fitted on.
//!
//! [`SettingMap`]: crate::SettingMap

pub mod census;
pub mod flows;
pub mod identified;
pub mod record;
pub mod transitions;

pub use census::{
    census_of, placement_setting, stock_by_state, CeasedPlan, CensusNotes, CensusPlan,
    Establishment, EstablishmentRegister, Sen2Census,
};
pub use flows::{flows_of, Sen2Flows, TWENTY_WEEKS_DAYS};
pub use identified::{IdentifiedPerson, IdentifiedReturn};
pub use record::{
    ActivePlan, Assessment, AssessmentOutcome, CeaseReason, NamedPlan, PersonKey, Place, Placement,
    Request, RequestOutcome, Sen2Header, Sen2Person, Sen2Return, Sen2Setting, Sex,
};
pub use transitions::{transitions_of, TransitionSummary};

#[cfg(test)]
mod tests;
