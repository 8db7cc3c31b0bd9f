//! Which settings suit which NCYs and needs, and where a child in a setting may move to
//! (witan.send's `valid-states.csv`).

use crate::calendar::Ncy;
use crate::codes::{Need, Setting};

/// One setting's row of the valid-states table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValidSetting {
    pub setting: Setting,
    /// A reporting group (witan.send's `setting-group`), free text.
    pub group: String,
    pub min_ncy: Ncy,
    pub max_ncy: Ncy,
    /// Needs allowed in the setting.
    pub needs: Vec<Need>,
    /// Settings a child in this setting may move to.
    pub moves_to: Vec<Setting>,
}

impl ValidSetting {
    /// Whether a child of this NCY and need may be in this setting.
    pub fn allows(&self, ncy: Ncy, need: &Need) -> bool {
        (self.min_ncy..=self.max_ncy).contains(&ncy) && self.needs.iter().any(|n| n == need)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_by_range_and_need() {
        let v = ValidSetting {
            setting: "A".parse().unwrap(),
            group: "group1".into(),
            min_ncy: Ncy::new(-3).unwrap(),
            max_ncy: Ncy::new(15).unwrap(),
            needs: vec!["T".parse().unwrap()],
            moves_to: vec![],
        };
        let t: Need = "T".parse().unwrap();
        assert!(v.allows(Ncy::new(-3).unwrap(), &t));
        assert!(v.allows(Ncy::new(15).unwrap(), &t));
        assert!(!v.allows(Ncy::new(16).unwrap(), &t));
        assert!(!v.allows(Ncy::new(0).unwrap(), &"U".parse().unwrap()));
    }
}
