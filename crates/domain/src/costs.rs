//! Unit costs: what one plan costs a year in a (need, setting), optionally for one age group, and optionally
//! split into place funding (the place element, e.g. £10,000 a special-school place) and top-up.

use crate::calendar::AgeGroup;
use crate::codes::{Need, Setting};
use crate::money::Pence;

/// Annual cost of one plan of this need in this setting (witan.send's `costs.csv` row), for every age or for
/// one age group (a more specific row wins over an all-ages row of the same need and setting).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitCost {
    pub need: Need,
    pub setting: Setting,
    /// `None` = every age group.
    pub age_group: Option<AgeGroup>,
    pub annual: Pence,
    /// The place-funding part of `annual`, where the LA gives the split; the rest is top-up.
    /// Invariant (checked where rows are read): 0 ≤ place funding ≤ annual.
    pub place_funding: Option<Pence>,
}

impl UnitCost {
    /// A cost for every age with no place-funding / top-up split (witan.send's plain row).
    pub fn plain(need: Need, setting: Setting, annual: Pence) -> Self {
        Self {
            need,
            setting,
            age_group: None,
            annual,
            place_funding: None,
        }
    }
    /// The top-up part: annual cost less place funding (`None` without a split).
    pub fn top_up(&self) -> Option<Pence> {
        self.place_funding.map(|p| self.annual - p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_up_is_the_rest_of_the_annual_cost() {
        // A special-school place: £10,000 place funding + £14,250.50 top-up = £24,250.50.
        let mut c = UnitCost::plain(
            "ASD".parse().unwrap(),
            "special".parse().unwrap(),
            "24250.50".parse().unwrap(),
        );
        assert_eq!(c.top_up(), None);
        c.place_funding = Some("10000".parse().unwrap());
        assert_eq!(c.top_up(), Some("14250.50".parse().unwrap()));
    }
}
