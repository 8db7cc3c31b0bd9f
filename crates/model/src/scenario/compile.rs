//! Levers → [`Effects`]: what the active initiatives' levers do in each projected year, in the engines' terms.

use highneeds_domain::scenario::{Cohort, LeverKind, Places, Scenario};
use highneeds_domain::{CensusYear, Ncy, Setting};

use crate::effects::{Effects, PlaceLimit, StepEffects};
use crate::estimate::Parameters;
use crate::space::StateIndex;

/// Builds the effects of any set of a scenario's initiatives.
pub struct Compiler<'a> {
    params: &'a Parameters,
    scenario: &'a Scenario,
    /// Unmitigated mean plans per setting at each projected census (`[h][setting]`, h = 0 the base): the places
    /// assumed where the scenario gives no place figures.
    unmitigated_demand: Vec<Vec<f64>>,
}

impl<'a> Compiler<'a> {
    pub fn new(params: &'a Parameters, scenario: &'a Scenario, years: u32) -> Self {
        let means = crate::analytic::expected_counts(params, years);
        let unmitigated_demand = means
            .iter()
            .map(|m| {
                let mut by_setting = vec![0.0; params.space.n_settings()];
                for (s, &v) in m.iter().enumerate() {
                    by_setting[params.space.parts(s).2] += v;
                }
                by_setting
            })
            .collect();
        Self {
            params,
            scenario,
            unmitigated_demand,
        }
    }

    /// The effects of the initiatives marked `active` over `years` projected years.
    pub fn effects(&self, active: &[bool], years: u32) -> Effects {
        let steps = (1..=years).map(|h| self.step(active, h)).collect();
        Effects { steps }
    }

    /// Places at a setting at projected census `h`: the scenario's figure for that census (else the latest
    /// earlier one, else the earliest later one), else the unmitigated forecast's plans there (the places the
    /// forecast needs are assumed found; a capacity lever adds to them).
    pub fn baseline_places(&self, setting: usize, h: u32) -> f64 {
        let census = census_at(self.params, h);
        let code = &self.params.space.settings[setting];
        let of_setting: Vec<&Places> = self
            .scenario
            .assumptions
            .places
            .iter()
            .filter(|p| &p.setting == code)
            .collect();
        let earlier = of_setting
            .iter()
            .filter(|p| p.census_year <= census)
            .max_by_key(|p| p.census_year);
        let later = of_setting
            .iter()
            .filter(|p| p.census_year > census)
            .min_by_key(|p| p.census_year);
        match earlier.or(later) {
            Some(p) => p.places as f64,
            None => self
                .unmitigated_demand
                .get(h as usize)
                .and_then(|d| d.get(setting))
                .copied()
                .unwrap_or(0.0),
        }
    }

    fn step(&self, active: &[bool], h: u32) -> StepEffects {
        let (params, scenario) = (self.params, self.scenario);
        step(self, params, scenario, active, h)
    }
}

/// The effects in projected year `h` (transitions into the census base + h).
fn step(
    compiler: &Compiler,
    params: &Parameters,
    scenario: &Scenario,
    active: &[bool],
    h: u32,
) -> StepEffects {
    let k = params.space.len();
    let census = census_at(params, h);
    let mut e = StepEffects::default();
    let mut added_places: Vec<(usize, f64, Option<usize>)> = Vec::new();
    let levers = scenario
        .initiatives
        .iter()
        .zip(active)
        .filter(|(_, &on)| on)
        .flat_map(|(i, _)| &i.levers);
    for lever in levers {
        let t = &lever.timing;
        match &lever.kind {
            LeverKind::JoinerRate { change, cohort } => {
                let f = t.over_year_to_census(census);
                multiply(params, &mut e.joiners, k, cohort, 1.0 + change.get() * f);
            }
            LeverKind::LeaverRate { change, cohort } => {
                let f = t.over_year_to_census(census);
                multiply(params, &mut e.leave, k, cohort, 1.0 + change.get() * f);
            }
            LeverKind::UnitCost { change, cohort } => {
                let f = t.over_academic_year_of(census);
                multiply(params, &mut e.cost, k, cohort, 1.0 + change.get() * f);
            }
            LeverKind::Redirect {
                from,
                to,
                share,
                joiners,
                movers,
                cohort,
            } => {
                let s = share.get() * t.over_year_to_census(census);
                if s <= 0.0 {
                    continue;
                }
                for (d, target) in redirect_pairs(params, from, to, cohort) {
                    if *joiners {
                        push_redirect(&mut e.joiner_redirect, k, d, target, s);
                    }
                    if *movers {
                        push_redirect(&mut e.mover_redirect, k, d, target, s);
                    }
                }
            }
            LeverKind::Capacity {
                setting,
                places,
                overflow,
            } => {
                if let Some(si) = params.space.setting_index(setting) {
                    let overflow = overflow
                        .as_ref()
                        .and_then(|o| params.space.setting_index(o));
                    added_places.push((si, *places as f64 * t.at_census(census), overflow));
                }
            }
            LeverKind::BlockTransfer { .. }
            | LeverKind::Grant { .. }
            | LeverKind::DeficitContribution { .. }
            | LeverKind::InvestToSave => {}
        }
    }
    cap_redirect_shares(&mut e.joiner_redirect);
    cap_redirect_shares(&mut e.mover_redirect);
    e.places = place_limits(compiler, h, &added_places);
    e
}

/// The census ending projected year `h`.
pub(crate) fn census_at(params: &Parameters, h: u32) -> CensusYear {
    CensusYear::new(params.base_census.year() + h as i32).unwrap_or(params.base_census)
}

/// Multiply the entry of every state in the cohort by `factor` (the vector made all ones first if empty).
fn multiply(params: &Parameters, v: &mut Vec<f64>, k: usize, cohort: &Cohort, factor: f64) {
    if factor == 1.0 {
        return;
    }
    if v.is_empty() {
        *v = vec![1.0; k];
    }
    for (s, slot) in v.iter_mut().enumerate() {
        if in_cohort(params, s, cohort) {
            *slot *= factor.max(0.0);
        }
    }
}

fn in_cohort(params: &Parameters, s: StateIndex, cohort: &Cohort) -> bool {
    let (a, n, st) = params.space.parts(s);
    let Some(ncy) = Ncy::from_index(a) else {
        return false;
    };
    cohort.contains(ncy, &params.space.needs[n], &params.space.settings[st])
}

/// (state in `from`, the same NCY and need in `to`) for the cohort's states whose counterpart has outcomes (a
/// child can only be sent where the model knows what happens next: a valid state).
fn redirect_pairs(
    params: &Parameters,
    from: &Setting,
    to: &Setting,
    cohort: &Cohort,
) -> Vec<(StateIndex, StateIndex)> {
    let space = &params.space;
    let (Some(f), Some(t)) = (space.setting_index(from), space.setting_index(to)) else {
        return Vec::new();
    };
    let mut pairs = Vec::new();
    for a in 0..Ncy::COUNT {
        for n in 0..space.n_needs() {
            let d = space.index(a, n, f);
            let target = space.index(a, n, t);
            if in_cohort(params, d, cohort) && !params.outcomes.edges(target).is_empty() {
                pairs.push((d, target));
            }
        }
    }
    pairs
}

fn push_redirect(
    v: &mut Vec<Vec<(u32, f64)>>,
    k: usize,
    d: StateIndex,
    target: StateIndex,
    s: f64,
) {
    if v.is_empty() {
        *v = vec![Vec::new(); k];
    }
    v[d].push((target as u32, s));
}

/// Shares out of one state add to at most 1: several redirections out of one setting are scaled down together.
fn cap_redirect_shares(v: &mut [Vec<(u32, f64)>]) {
    for r in v.iter_mut() {
        let total: f64 = r.iter().map(|x| x.1).sum();
        if total > 1.0 {
            r.iter_mut().for_each(|x| x.1 /= total);
        }
    }
}

/// The limits enforced at a census: settings with a capacity lever naming an overflow setting.
fn place_limits(
    compiler: &Compiler,
    h: u32,
    added: &[(usize, f64, Option<usize>)],
) -> Vec<PlaceLimit> {
    let mut limits: Vec<PlaceLimit> = Vec::new();
    let mut settings: Vec<usize> = added.iter().map(|a| a.0).collect();
    settings.sort_unstable();
    settings.dedup();
    for setting in settings {
        let Some(overflow) = added.iter().filter(|a| a.0 == setting).find_map(|a| a.2) else {
            continue;
        };
        let delta: f64 = added.iter().filter(|a| a.0 == setting).map(|a| a.1).sum();
        let total = (compiler.baseline_places(setting, h) + delta)
            .round()
            .max(0.0);
        limits.push(PlaceLimit {
            setting,
            places: total as u64,
            overflow,
        });
    }
    limits
}
