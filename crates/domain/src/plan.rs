//! Children's plans over censuses: a child's state at a census, their plan history, and transitions.

use std::fmt;

use crate::calendar::{CensusYear, Ncy};
use crate::codes::{Need, Setting};
use crate::DomainError;

/// Where a child with a plan is at a census: (NCY, need, setting), the model's state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct State {
    pub ncy: Ncy,
    pub need: Need,
    pub setting: Setting,
}

/// An anonymised child identifier as the LA supplies it (never a name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChildId(String);

impl ChildId {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        if t.is_empty()
            || t.len() > 64
            || !t.chars().all(|c| c.is_ascii_graphic())
            || t.contains(',')
        {
            return Err(DomainError::Invalid {
                what: "child id",
                value: s.to_string(),
                expected: "1-64 printable characters without spaces or commas",
            });
        }
        Ok(Self(t.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A six-digit establishment URN (or 8-digit UKPRN for post-16 providers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Urn(u32);

impl Urn {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        let ok = (6..=8).contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit());
        match t.parse::<u32>() {
            Ok(v) if ok => Ok(Self(v)),
            _ => Err(DomainError::Invalid {
                what: "establishment URN",
                value: s.to_string(),
                expected: "a 6-digit URN or 8-digit UKPRN",
            }),
        }
    }
    pub fn value(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One child at one census.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CensusRecord {
    pub census_year: CensusYear,
    pub state: State,
    pub urn: Option<Urn>,
}

/// Every census at which one child had a plan, in census order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanHistory {
    pub child: ChildId,
    records: Vec<CensusRecord>,
}

impl PlanHistory {
    /// Build a history; records are sorted by census year. Two records in one census are an error.
    pub fn new(child: ChildId, mut records: Vec<CensusRecord>) -> Result<Self, DomainError> {
        records.sort_by_key(|r| r.census_year);
        if let Some(w) = records
            .windows(2)
            .find(|w| w[0].census_year == w[1].census_year)
        {
            return Err(DomainError::Invalid {
                what: "plan history",
                value: format!("{} twice in census {}", child, w[0].census_year),
                expected: "at most one record per child per census",
            });
        }
        Ok(Self { child, records })
    }
    pub fn records(&self) -> &[CensusRecord] {
        &self.records
    }
    pub fn at(&self, census_year: CensusYear) -> Option<&CensusRecord> {
        self.records
            .binary_search_by_key(&census_year, |r| r.census_year)
            .ok()
            .map(|i| &self.records[i])
    }

    /// The child's transition between `from` and the next census, if they had a plan at either.
    pub fn transition(&self, from: CensusYear) -> Option<Transition> {
        let before = self.at(from).map(|r| r.state.clone());
        let after = self.at(from.next()).map(|r| r.state.clone());
        if before.is_none() && after.is_none() {
            return None;
        }
        Some(Transition {
            from_census: from,
            before,
            after,
        })
    }
}

/// One child between two consecutive January censuses: `from_census` → `from_census + 1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transition {
    pub from_census: CensusYear,
    /// State at the first census; `None` for a joiner.
    pub before: Option<State>,
    /// State at the second census; `None` for a leaver.
    pub after: Option<State>,
}

/// What a transition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransitionKind {
    /// A new plan (or moved into the LA).
    Joiner,
    /// Plan ceased (or moved away, or aged out).
    Leaver,
    /// Setting changed.
    Mover,
    /// Same setting both censuses.
    Stayer,
}

impl TransitionKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Joiner => "joiner",
            Self::Leaver => "leaver",
            Self::Mover => "mover",
            Self::Stayer => "stayer",
        }
    }
}

impl Transition {
    /// `None` only for the impossible empty transition (no plan at either census).
    pub fn kind(&self) -> Option<TransitionKind> {
        match (&self.before, &self.after) {
            (None, Some(_)) => Some(TransitionKind::Joiner),
            (Some(_), None) => Some(TransitionKind::Leaver),
            (Some(a), Some(b)) if a.setting == b.setting => Some(TransitionKind::Stayer),
            (Some(_), Some(_)) => Some(TransitionKind::Mover),
            (None, None) => None,
        }
    }
    /// Whether the primary need changed (stayers and movers only).
    pub fn need_changed(&self) -> bool {
        matches!((&self.before, &self.after), (Some(a), Some(b)) if a.need != b.need)
    }
}

/// Every transition between consecutive censuses `first..last` (the pairs `first→first+1` … `last-1→last`),
/// in census order, then in the order of `histories`.
pub fn transitions_between(
    histories: &[PlanHistory],
    first: CensusYear,
    last: CensusYear,
) -> Vec<Transition> {
    let mut out = Vec::new();
    let mut year = first;
    while year < last {
        out.extend(histories.iter().filter_map(|h| h.transition(year)));
        year = year.next();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(ncy: i32, need: &str, setting: &str) -> State {
        State {
            ncy: Ncy::new(ncy).unwrap(),
            need: need.parse().unwrap(),
            setting: setting.parse().unwrap(),
        }
    }
    fn rec(year: i32, s: State) -> CensusRecord {
        CensusRecord {
            census_year: CensusYear::new(year).unwrap(),
            state: s,
            urn: None,
        }
    }

    #[test]
    fn transitions_from_a_history() {
        let child = ChildId::parse("C0001").unwrap();
        let h = PlanHistory::new(
            child,
            vec![
                rec(2022, state(7, "ASD", "mainstream")),
                rec(2020, state(5, "ASD", "mainstream")),
                rec(2021, state(6, "ASD", "mainstream")),
            ],
        )
        .unwrap();
        let y = |n| CensusYear::new(n).unwrap();
        assert_eq!(
            h.transition(y(2019)).unwrap().kind(),
            Some(TransitionKind::Joiner)
        );
        assert_eq!(
            h.transition(y(2020)).unwrap().kind(),
            Some(TransitionKind::Stayer)
        );
        assert_eq!(
            h.transition(y(2022)).unwrap().kind(),
            Some(TransitionKind::Leaver)
        );
        assert!(h.transition(y(2023)).is_none());
        let moved = Transition {
            from_census: y(2022),
            before: Some(state(7, "ASD", "mainstream")),
            after: Some(state(8, "SEMH", "special_maintained")),
        };
        assert_eq!(moved.kind(), Some(TransitionKind::Mover));
        assert!(moved.need_changed());
    }

    #[test]
    fn duplicate_census_rejected() {
        let child = ChildId::parse("C1").unwrap();
        let r = PlanHistory::new(
            child,
            vec![
                rec(2022, state(7, "ASD", "A")),
                rec(2022, state(7, "ASD", "B")),
            ],
        );
        assert!(r.is_err());
    }

    #[test]
    fn ids_and_urns() {
        assert!(ChildId::parse("a b").is_err());
        assert!(ChildId::parse("").is_err());
        assert_eq!(Urn::parse("123456").unwrap().value(), 123456);
        assert!(Urn::parse("12345").is_err());
        assert!(Urn::parse("12345a").is_err());
    }
}
