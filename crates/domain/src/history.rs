//! What the forecast is estimated from: one LA's transitions between censuses, its resident population,
//! its unit costs and its valid states. witan.send's four input files carry exactly this; person-level
//! files and SEN2 returns are turned into it.

use crate::calendar::CensusYear;
use crate::costs::UnitCost;
use crate::plan::Transition;
use crate::population::PopulationCount;
use crate::valid_states::ValidSetting;

/// One LA's history of transitions with the tables that go with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitionHistory {
    /// One row per child per consecutive census pair (`from_census` → `from_census + 1`).
    pub transitions: Vec<Transition>,
    /// Resident population by census year and NCY (may include projected years).
    pub population: Vec<PopulationCount>,
    /// Annual cost per plan by (need, setting); may be empty.
    pub costs: Vec<UnitCost>,
    /// Which settings suit which NCYs and needs; may be empty (then every state seen is allowed).
    pub valid_states: Vec<ValidSetting>,
}

impl TransitionHistory {
    /// The first census year a transition starts from, and the last it ends at.
    pub fn census_span(&self) -> Option<(CensusYear, CensusYear)> {
        let first = self.transitions.iter().map(|t| t.from_census).min()?;
        let last = self.transitions.iter().map(|t| t.from_census).max()?;
        Some((first, last.next()))
    }

    /// Plans at a census, counted from the transitions that end at it (or start from it, for the first).
    pub fn plans_at(&self, census: CensusYear) -> usize {
        let ending = self
            .transitions
            .iter()
            .filter(|t| t.from_census.next() == census && t.after.is_some())
            .count();
        if ending > 0 {
            return ending;
        }
        self.transitions
            .iter()
            .filter(|t| t.from_census == census && t.before.is_some())
            .count()
    }
}
