//! New plans from person-level history: the NCY at first plan, the share at transition years and the share of
//! the three commonest needs (West Berkshire's diagnostic: 62 % at transition years, 69 % in ASD, SEMH, SLCN).

use std::collections::BTreeMap;

use highneeds_domain::TransitionHistory;

/// NCYs at the school transitions: nursery/reception (−1/0), primary to secondary (6/7), post-16 (11/12).
pub const TRANSITION_NCYS: [i32; 6] = [-1, 0, 6, 7, 11, 12];

/// New plans (joiners) at the censuses `first..=last`, by NCY and need at their first census with a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlansByNcy {
    pub first_census: i32,
    pub last_census: i32,
    pub total: usize,
    /// (NCY, plans, share), by NCY.
    pub by_ncy: Vec<(i32, usize, f64)>,
    /// Share at [`TRANSITION_NCYS`].
    pub transition_share: f64,
    /// (need, plans, share), commonest first (ties by code).
    pub by_need: Vec<(String, usize, f64)>,
    /// Share of the three commonest needs.
    pub top_three_share: f64,
}

/// The joiners arriving at censuses `from + 1 ..= to` (the plans new since the `from` census); if the history
/// has none there, every joiner it holds. `None` if it has no joiners at all.
pub fn new_plans_by_ncy(history: &TransitionHistory, from: i32, to: i32) -> Option<NewPlansByNcy> {
    let joiners = |lo: i32, hi: i32| -> Vec<(i32, i32, String)> {
        history
            .transitions
            .iter()
            .filter(|t| t.before.is_none())
            .filter_map(|t| {
                let after = t.after.as_ref()?;
                let census = t.from_census.year() + 1;
                (lo..=hi)
                    .contains(&census)
                    .then(|| (census, after.ncy.value(), after.need.as_str().to_string()))
            })
            .collect()
    };
    let mut rows = joiners(from + 1, to);
    if rows.is_empty() {
        rows = joiners(i32::MIN, i32::MAX);
    }
    if rows.is_empty() {
        return None;
    }
    let total = rows.len();
    let first_census = rows.iter().map(|r| r.0).min().unwrap_or(from);
    let last_census = rows.iter().map(|r| r.0).max().unwrap_or(to);
    let mut ncy: BTreeMap<i32, usize> = BTreeMap::new();
    let mut need: BTreeMap<String, usize> = BTreeMap::new();
    for (_, n, d) in &rows {
        *ncy.entry(*n).or_insert(0) += 1;
        *need.entry(d.clone()).or_insert(0) += 1;
    }
    let share = |n: usize| n as f64 / total as f64;
    let transition: usize = TRANSITION_NCYS.iter().filter_map(|n| ncy.get(n)).sum();
    let mut by_need: Vec<(String, usize, f64)> =
        need.into_iter().map(|(d, n)| (d, n, share(n))).collect();
    by_need.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top_three_share = by_need.iter().take(3).map(|x| x.2).sum();
    Some(NewPlansByNcy {
        first_census,
        last_census,
        total,
        by_ncy: ncy.into_iter().map(|(n, c)| (n, c, share(c))).collect(),
        transition_share: share(transition),
        by_need,
        top_three_share,
    })
}

#[cfg(test)]
mod tests {
    use highneeds_domain::{CensusYear, Ncy, State, Transition};

    use super::*;

    fn joiner(census: i32, ncy: i32, need: &str) -> Transition {
        Transition {
            from_census: CensusYear::new(census - 1).unwrap(),
            before: None,
            after: Some(State {
                ncy: Ncy::new(ncy).unwrap(),
                need: need.parse().unwrap(),
                setting: "MMSIA".parse().unwrap(),
            }),
        }
    }

    #[test]
    fn transition_years_and_top_needs_by_hand() {
        // Ten joiners at the 2023 census: NCYs 0, 0, 7, 7, 12, 3, 4, −1, 9, 7 → at transition years
        // (−1, 0, 6, 7, 11, 12): 0, 0, 7, 7, 12, −1, 7 = 7 of 10 = 70 %.
        // Needs ASD ×4, SEMH ×3, SLCN ×2, MLD ×1 → top three 9 / 10 = 90 %.
        // One joiner at the 2021 census and one stayer are outside --from 2021 --to 2023's window or not new.
        let ncys = [0, 0, 7, 7, 12, 3, 4, -1, 9, 7];
        let needs = [
            "ASD", "ASD", "ASD", "ASD", "SEMH", "SEMH", "SEMH", "SLCN", "SLCN", "MLD",
        ];
        let mut h = TransitionHistory::default();
        for (n, d) in ncys.iter().zip(needs) {
            h.transitions.push(joiner(2023, *n, d));
        }
        h.transitions.push(joiner(2021, 5, "PD"));
        let mut stayer = joiner(2023, 8, "VI");
        stayer.before = stayer.after.clone();
        h.transitions.push(stayer);
        let p = new_plans_by_ncy(&h, 2021, 2023).unwrap();
        assert_eq!((p.total, p.first_census, p.last_census), (10, 2023, 2023));
        assert!((p.transition_share - 0.7).abs() < 1e-12);
        assert!((p.top_three_share - 0.9).abs() < 1e-12);
        assert_eq!(p.by_need[0], ("ASD".to_string(), 4, 0.4));
        assert_eq!(p.by_ncy.iter().find(|x| x.0 == 7).map(|x| x.1), Some(3));
        // A window with no joiners falls back to every joiner in the history (11).
        assert_eq!(new_plans_by_ncy(&h, 2010, 2012).unwrap().total, 11);
        assert_eq!(
            new_plans_by_ncy(&TransitionHistory::default(), 2010, 2012),
            None
        );
    }
}
