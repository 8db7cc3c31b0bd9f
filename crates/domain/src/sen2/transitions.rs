//! Transitions between consecutive censuses, by matching pseudonymised keys: joiners, leavers (with the
//! cessation reason the later return gives), movers, stayers and need changes. The result is the same
//! [`Transition`] list witan.send files give, so forecast and backtest run on it unchanged.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::calendar::CensusYear;
use crate::codes::{CanonicalSetting, Need, Sen2Need, Setting};
use crate::plan::{State, Transition, TransitionKind};
use crate::sen2::census::{CensusPlan, Sen2Census};
use crate::sen2::record::{CeaseReason, PersonKey};

/// Counts for one pair of censuses `from_census` → `from_census + 1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitionSummary {
    pub from_census: Option<CensusYear>,
    pub joiners: u64,
    pub leavers: u64,
    /// Leavers by the cessation reason in the later return (`None`: the later return has no ceased plan for
    /// them — e.g. they moved away without the plan being ceased, or were left out of the return).
    pub leavers_by_reason: BTreeMap<Option<CeaseReason>, u64>,
    pub movers: u64,
    pub stayers: u64,
    /// Stayers and movers whose primary need changed.
    pub need_changes: u64,
    /// People matched by UPN/ULN because their name or date of birth differed between the returns.
    pub matched_by_pupil_key: u64,
}

/// Need and setting codes made once and shared by every state that uses them.
#[derive(Default)]
struct Codes {
    needs: HashMap<Sen2Need, Need>,
    settings: HashMap<CanonicalSetting, Setting>,
}

impl Codes {
    fn state(&mut self, p: &CensusPlan) -> Option<State> {
        let need = match self.needs.get(&p.need) {
            Some(n) => n.clone(),
            None => {
                let n: Need = p.need.code().parse().ok()?;
                self.needs.insert(p.need, n.clone());
                n
            }
        };
        let setting = match self.settings.get(&p.setting) {
            Some(s) => s.clone(),
            None => {
                let s: Setting = p.setting.code().parse().ok()?;
                self.settings.insert(p.setting, s.clone());
                s
            }
        };
        Some(State {
            ncy: p.ncy,
            need,
            setting,
        })
    }
}

/// Transitions between every pair of consecutive censuses among `censuses` (any order; a census year missing
/// between two others gives no transitions across the gap), in census order: for each pair, first everyone in
/// the earlier census (in its order), then the joiners (in the later census's order).
pub fn transitions_of(censuses: &[Sen2Census]) -> (Vec<Transition>, Vec<TransitionSummary>) {
    let mut sorted: Vec<&Sen2Census> = censuses.iter().collect();
    sorted.sort_by_key(|c| c.census_year);
    let mut codes = Codes::default();
    let mut transitions = Vec::new();
    let mut summaries = Vec::new();
    for pair in sorted.windows(2) {
        let [a, b] = pair else { continue };
        if a.census_year.next() != b.census_year {
            continue;
        }
        let (t, s) = pair_transitions(a, b, &mut codes);
        transitions.extend(t);
        summaries.push(s);
    }
    (transitions, summaries)
}

/// The later census of a pair, indexed to find the earlier census's people in it.
struct LaterCensus<'a> {
    census: &'a Sen2Census,
    by_key: HashMap<PersonKey, usize>,
    by_pupil: HashMap<PersonKey, usize>,
    ceased_by_key: HashMap<PersonKey, Option<CeaseReason>>,
    ceased_by_pupil: HashMap<PersonKey, Option<CeaseReason>>,
}

impl<'a> LaterCensus<'a> {
    /// Index census `b`'s plans by person and pupil key, and its ceased plans, for matching census `a`'s people.
    fn new(a: &Sen2Census, b: &'a Sen2Census) -> Self {
        let by_key: HashMap<PersonKey, usize> = b
            .plans
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key, i))
            .collect();
        let a_keys: HashSet<PersonKey> = a.plans.iter().map(|p| p.key).collect();
        // The pupil key is a second chance only for people not matched by their main key on either side.
        let by_pupil: HashMap<PersonKey, usize> = b
            .plans
            .iter()
            .enumerate()
            .filter(|(_, p)| !a_keys.contains(&p.key))
            .filter_map(|(i, p)| p.pupil_key.map(|k| (k, i)))
            .collect();
        let ceased_by_key: HashMap<PersonKey, Option<CeaseReason>> =
            b.ceased.iter().map(|c| (c.key, c.reason)).collect();
        let ceased_by_pupil: HashMap<PersonKey, Option<CeaseReason>> = b
            .ceased
            .iter()
            .filter_map(|c| c.pupil_key.map(|k| (k, c.reason)))
            .collect();
        LaterCensus {
            census: b,
            by_key,
            by_pupil,
            ceased_by_key,
            ceased_by_pupil,
        }
    }

    /// Which plan of the later census is this person's: by main key, else by pupil key if not yet matched.
    fn find_person(
        &self,
        p: &CensusPlan,
        matched: &[bool],
        summary: &mut TransitionSummary,
    ) -> Option<usize> {
        match self.by_key.get(&p.key) {
            Some(&i) => Some(i),
            None => {
                let i = p
                    .pupil_key
                    .and_then(|k| self.by_pupil.get(&k).copied())
                    .filter(|&i| !matched[i]);
                if i.is_some() {
                    summary.matched_by_pupil_key += 1;
                }
                i
            }
        }
    }

    /// The cessation reason the later return gives a leaver, by main key, else by pupil key.
    fn leaver_reason(&self, p: &CensusPlan) -> Option<CeaseReason> {
        self.ceased_by_key
            .get(&p.key)
            .copied()
            .or_else(|| {
                p.pupil_key
                    .and_then(|k| self.ceased_by_pupil.get(&k).copied())
            })
            .flatten()
    }
}

/// Transitions from census `a` to census `b`: everyone in `a` (in its order), then the joiners (in `b`'s order).
fn pair_transitions(
    a: &Sen2Census,
    b: &Sen2Census,
    codes: &mut Codes,
) -> (Vec<Transition>, TransitionSummary) {
    let mut summary = TransitionSummary {
        from_census: Some(a.census_year),
        ..TransitionSummary::default()
    };
    let later = LaterCensus::new(a, b);
    let mut matched = vec![false; b.plans.len()];
    let mut out = Vec::with_capacity(a.plans.len() + b.plans.len() / 4);
    for p in &a.plans {
        let t = person_transition(a.census_year, p, &later, &mut matched, codes, &mut summary);
        count_transition(&t, &mut summary);
        out.push(t);
    }
    add_joiners(a.census_year, b, &matched, codes, &mut summary, &mut out);
    (out, summary)
}

/// The transition of one person of the earlier census: to their plan in the later census, or out as a leaver.
fn person_transition(
    from_census: CensusYear,
    p: &CensusPlan,
    later: &LaterCensus,
    matched: &mut [bool],
    codes: &mut Codes,
    summary: &mut TransitionSummary,
) -> Transition {
    let before = codes.state(p);
    let found = later.find_person(p, matched, summary);
    let after = match found {
        Some(i) => {
            matched[i] = true;
            later.census.plans.get(i).and_then(|q| codes.state(q))
        }
        None => {
            let reason = later.leaver_reason(p);
            *summary.leavers_by_reason.entry(reason).or_insert(0) += 1;
            None
        }
    };
    Transition {
        from_census,
        before,
        after,
    }
}

/// Count one earlier-census person's transition as leaver, mover or stayer, and any need change.
fn count_transition(t: &Transition, summary: &mut TransitionSummary) {
    match t.kind() {
        Some(TransitionKind::Leaver) => summary.leavers += 1,
        Some(TransitionKind::Mover) => summary.movers += 1,
        Some(TransitionKind::Stayer) => summary.stayers += 1,
        _ => {}
    }
    if t.need_changed() {
        summary.need_changes += 1;
    }
}

/// Add a joiner transition for every plan of the later census `b` not matched to the earlier census.
fn add_joiners(
    from_census: CensusYear,
    b: &Sen2Census,
    matched: &[bool],
    codes: &mut Codes,
    summary: &mut TransitionSummary,
    out: &mut Vec<Transition>,
) {
    for (i, q) in b.plans.iter().enumerate() {
        if matched[i] {
            continue;
        }
        summary.joiners += 1;
        out.push(Transition {
            from_census,
            before: None,
            after: codes.state(q),
        });
    }
}
