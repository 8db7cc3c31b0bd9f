//! The state space: every (NCY, need, setting) as a dense index, so engines work on flat arrays.

use rustc_hash::FxHashMap as HashMap;

use highneeds_domain::{AgeGroup, Ncy, Need, Setting, State};

/// Needs and settings of one LA (its own codes, sorted) and the dense index over (NCY, need, setting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSpace {
    pub needs: Vec<Need>,
    pub settings: Vec<Setting>,
    need_index: HashMap<Need, usize>,
    setting_index: HashMap<Setting, usize>,
}

/// A state's position in the flat arrays.
pub type StateIndex = usize;

impl StateSpace {
    /// Build from the codes seen anywhere; duplicates are removed and codes sorted.
    pub fn new(mut needs: Vec<Need>, mut settings: Vec<Setting>) -> Self {
        needs.sort();
        needs.dedup();
        settings.sort();
        settings.dedup();
        let need_index = needs
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect();
        let setting_index = settings
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, s)| (s, i))
            .collect();
        Self {
            needs,
            settings,
            need_index,
            setting_index,
        }
    }

    pub fn n_needs(&self) -> usize {
        self.needs.len()
    }
    pub fn n_settings(&self) -> usize {
        self.settings.len()
    }
    /// Number of states: 26 NCYs × needs × settings.
    pub fn len(&self) -> usize {
        Ncy::COUNT * self.needs.len() * self.settings.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn need_index(&self, need: &Need) -> Option<usize> {
        self.need_index.get(need).copied()
    }
    pub fn setting_index(&self, setting: &Setting) -> Option<usize> {
        self.setting_index.get(setting).copied()
    }
    pub fn index(&self, ncy: usize, need: usize, setting: usize) -> StateIndex {
        (ncy * self.needs.len() + need) * self.settings.len() + setting
    }
    pub fn index_of(&self, state: &State) -> Option<StateIndex> {
        Some(self.index(
            state.ncy.index(),
            self.need_index(&state.need)?,
            self.setting_index(&state.setting)?,
        ))
    }
    /// The setting index of a state (its last component: one remainder).
    #[inline]
    pub fn setting_of(&self, index: StateIndex) -> usize {
        index % self.settings.len()
    }
    /// (NCY index, need index, setting index) of a state.
    pub fn parts(&self, index: StateIndex) -> (usize, usize, usize) {
        let s = index % self.settings.len();
        let rest = index / self.settings.len();
        (rest / self.needs.len(), rest % self.needs.len(), s)
    }
    pub fn age_group(&self, index: StateIndex) -> AgeGroup {
        let (a, _, _) = self.parts(index);
        Ncy::from_index(a).map_or(AgeGroup::Age20To25, Ncy::age_group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trips() {
        let space = StateSpace::new(
            vec![
                "U".parse().unwrap(),
                "T".parse().unwrap(),
                "T".parse().unwrap(),
            ],
            vec![
                "B".parse().unwrap(),
                "A".parse().unwrap(),
                "C".parse().unwrap(),
            ],
        );
        assert_eq!(space.n_needs(), 2);
        assert_eq!(space.len(), 26 * 2 * 3);
        for i in 0..space.len() {
            let (a, n, s) = space.parts(i);
            assert_eq!(space.index(a, n, s), i);
        }
        assert_eq!(space.setting_index(&"A".parse().unwrap()), Some(0));
    }
}
