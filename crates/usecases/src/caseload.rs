//! The caseload at each census from an LA's stored history: plans by setting, need and age group, and the
//! joiners and leavers of the year before. What the caseload explorer and the public view show.

use std::collections::BTreeMap;

use highneeds_domain::{CensusYear, State, TransitionHistory};

/// Plans at one census, and the flows in the year up to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CensusCounts {
    pub census_year: CensusYear,
    pub total: u64,
    pub by_setting: BTreeMap<String, u64>,
    pub by_need: BTreeMap<String, u64>,
    /// By age group code (`under_5`, `5_10`, …), in age order of [`highneeds_domain::AgeGroup::ALL`] when
    /// iterated through that list.
    pub by_age_group: BTreeMap<String, u64>,
    /// By national curriculum year (−5 … 20).
    pub by_ncy: BTreeMap<i32, u64>,
    /// New plans and ended plans in the year up to this census (`None` at the first census).
    pub joiners: Option<u64>,
    pub leavers: Option<u64>,
}

impl CensusCounts {
    fn new(census_year: CensusYear) -> Self {
        CensusCounts {
            census_year,
            total: 0,
            by_setting: BTreeMap::new(),
            by_need: BTreeMap::new(),
            by_age_group: BTreeMap::new(),
            by_ncy: BTreeMap::new(),
            joiners: None,
            leavers: None,
        }
    }

    fn count(&mut self, s: &State) {
        self.total += 1;
        *self.by_setting.entry(s.setting.to_string()).or_default() += 1;
        *self.by_need.entry(s.need.to_string()).or_default() += 1;
        *self
            .by_age_group
            .entry(s.ncy.age_group().code().to_string())
            .or_default() += 1;
        *self.by_ncy.entry(s.ncy.value()).or_default() += 1;
    }
}

/// The caseload at every census the history covers, oldest first. A census's stock is the children with a
/// state at it: the `before` side of the transitions starting there, and for the last census the `after`
/// side of the transitions ending there.
pub fn census_counts(history: &TransitionHistory) -> Vec<CensusCounts> {
    let Some((first, last)) = history.census_span() else {
        return Vec::new();
    };
    let mut out: BTreeMap<CensusYear, CensusCounts> = BTreeMap::new();
    for t in &history.transitions {
        if let Some(before) = &t.before {
            out.entry(t.from_census)
                .or_insert_with(|| CensusCounts::new(t.from_census))
                .count(before);
        }
        let to = t.from_census.next();
        let at_to = out.entry(to).or_insert_with(|| CensusCounts::new(to));
        if to == last {
            if let Some(after) = &t.after {
                at_to.count(after);
            }
        }
        match (&t.before, &t.after) {
            (None, Some(_)) => *at_to.joiners.get_or_insert(0) += 1,
            (Some(_), None) => *at_to.leavers.get_or_insert(0) += 1,
            _ => {
                at_to.joiners.get_or_insert(0);
                at_to.leavers.get_or_insert(0);
            }
        }
    }
    out.retain(|y, _| *y >= first && *y <= last);
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use highneeds_domain::{Ncy, Need, Setting, Transition};

    fn state(ncy: i32, need: &str, setting: &str) -> Option<State> {
        Some(State {
            ncy: Ncy::new(ncy).unwrap(),
            need: need.parse::<Need>().unwrap(),
            setting: setting.parse::<Setting>().unwrap(),
        })
    }

    fn t(year: i32, before: Option<State>, after: Option<State>) -> Transition {
        Transition {
            from_census: CensusYear::new(year).unwrap(),
            before,
            after,
        }
    }

    /// Worked example: 2022 has two children (A in MSSA at NCY 3, B in SPSI at NCY 12); A stays and moves up a
    /// year, B leaves, C joins at NCY 0. So 2023 has A (NCY 4, 5-10) and C (NCY 0, under 5): one joiner, one leaver.
    #[test]
    fn counts_stock_and_flows_per_census() {
        let history = TransitionHistory {
            transitions: vec![
                t(2022, state(3, "ASD", "MSSA"), state(4, "ASD", "MSSA")),
                t(2022, state(12, "SLCN", "SPSI"), None),
                t(2022, None, state(0, "ASD", "MSSA")),
            ],
            ..Default::default()
        };
        let c = census_counts(&history);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].census_year.year(), 2022);
        assert_eq!(c[0].total, 2);
        assert_eq!(c[0].by_setting.get("SPSI"), Some(&1));
        assert_eq!(c[0].by_age_group.get("16_19"), Some(&1));
        assert_eq!((c[0].joiners, c[0].leavers), (None, None));
        assert_eq!(c[1].total, 2);
        assert_eq!(c[1].by_setting.get("MSSA"), Some(&2));
        assert_eq!(c[1].by_need.get("ASD"), Some(&2));
        assert_eq!(c[1].by_age_group.get("under_5"), Some(&1));
        assert_eq!(c[1].by_age_group.get("5_10"), Some(&1));
        assert_eq!(c[1].by_ncy.get(&0), Some(&1));
        assert_eq!(c[1].by_ncy.get(&4), Some(&1));
        assert_eq!((c[1].joiners, c[1].leavers), (Some(1), Some(1)));
    }
}
