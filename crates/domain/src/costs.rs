//! Unit costs: what one plan costs a year in a (need, setting).

use crate::codes::{Need, Setting};
use crate::money::Pence;

/// Annual cost of one plan of this need in this setting (witan.send's `costs.csv` row).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitCost {
    pub need: Need,
    pub setting: Setting,
    pub annual: Pence,
}
