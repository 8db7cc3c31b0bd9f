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
    /// Per initiative and lever, computed once: the states in the lever's cohort (rate and cost levers), or the
    /// (state, target) pairs of a redirection.
    cohort_states: Vec<Vec<Vec<u32>>>,
    redirect_pairs: Vec<Vec<Vec<(StateIndex, StateIndex)>>>,
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
        Self::with_demand(params, scenario, unmitigated_demand)
    }

    /// [`Compiler::new`] with the unmitigated demand already known (another compiler's
    /// [`Compiler::unmitigated_demand`] over the same model and years: it reads no initiative).
    pub fn with_demand(
        params: &'a Parameters,
        scenario: &'a Scenario,
        unmitigated_demand: Vec<Vec<f64>>,
    ) -> Self {
        let per_lever = |f: &dyn Fn(&LeverKind) -> Vec<u32>| -> Vec<Vec<Vec<u32>>> {
            scenario
                .initiatives
                .iter()
                .map(|i| i.levers.iter().map(|l| f(&l.kind)).collect())
                .collect()
        };
        let cohort_states = per_lever(&|kind| match kind {
            LeverKind::JoinerRate { cohort, .. }
            | LeverKind::LeaverRate { cohort, .. }
            | LeverKind::UnitCost { cohort, .. } => (0..params.space.len())
                .filter(|&s| in_cohort(params, s, cohort))
                .map(|s| s as u32)
                .collect(),
            _ => Vec::new(),
        });
        let redirect_pairs = scenario
            .initiatives
            .iter()
            .map(|i| {
                i.levers
                    .iter()
                    .map(|l| match &l.kind {
                        LeverKind::Redirect {
                            from, to, cohort, ..
                        } => redirect_pairs(params, from, to, cohort),
                        _ => Vec::new(),
                    })
                    .collect()
            })
            .collect();
        Self {
            params,
            scenario,
            unmitigated_demand,
            cohort_states,
            redirect_pairs,
        }
    }

    /// Unmitigated mean plans per setting at each projected census (`[h][setting]`, h = 0 the base).
    pub fn unmitigated_demand(&self) -> &[Vec<f64>] {
        &self.unmitigated_demand
    }

    /// The effects of the initiatives marked `active` over `years` projected years.
    pub fn effects(&self, active: &[bool], years: u32) -> Effects {
        let steps = (1..=years).map(|h| self.step(active, h)).collect();
        Effects { steps }
    }

    /// Whether the scenario gives its own place figures for a setting (a hard limit), or places follow the
    /// unmitigated forecast's need.
    pub fn has_place_figures(&self, setting: usize) -> bool {
        let code = &self.params.space.settings[setting];
        self.scenario
            .assumptions
            .places
            .iter()
            .any(|p| &p.setting == code)
    }

    /// The effects for Monte-Carlo: where places follow the forecast's need, each limit carries the analytic
    /// engine's expected excess for that year, which every simulation moves (see [`PlaceLimit`]).
    pub fn effects_for_simulation(&self, active: &[bool], years: u32) -> Effects {
        let mut effects = self.effects(active, years);
        let (_, moved) = crate::analytic::expected_counts_recording(self.params, years, &effects);
        for (step, moved) in effects.steps.iter_mut().zip(moved) {
            for (limit, x) in step.places.iter_mut().zip(moved) {
                if limit.expected_excess.is_some() {
                    limit.expected_excess = Some(x);
                }
            }
        }
        effects
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
    // (setting, places added at the census, overflow, the lever's level at the census).
    let mut added_places: Vec<(usize, f64, Option<usize>, f64)> = Vec::new();
    let levers = scenario
        .initiatives
        .iter()
        .enumerate()
        .zip(active)
        .filter(|(_, &on)| on)
        .flat_map(|((i, ini), _)| ini.levers.iter().enumerate().map(move |(j, l)| (i, j, l)));
    for (i, j, lever) in levers {
        let t = &lever.timing;
        let states = &compiler.cohort_states[i][j];
        match &lever.kind {
            LeverKind::JoinerRate { change, .. } => {
                let f = t.over_year_to_census(census);
                multiply(&mut e.joiners, k, states, 1.0 + change.get() * f);
            }
            LeverKind::LeaverRate { change, .. } => {
                let f = t.over_year_to_census(census);
                multiply(&mut e.leave, k, states, 1.0 + change.get() * f);
            }
            LeverKind::UnitCost { change, .. } => {
                let c = change.get();
                let year = t.over_academic_year_of(census);
                multiply(&mut e.cost, k, states, 1.0 + c * year);
                let early = t.over_september_to_march_of(census);
                multiply(&mut e.cost_to_march, k, states, 1.0 + c * early);
                let late = t.over_april_to_august_of(census);
                multiply(&mut e.cost_from_april, k, states, 1.0 + c * late);
            }
            LeverKind::Redirect {
                share,
                joiners,
                movers,
                ..
            } => {
                let s = share.get() * t.over_year_to_census(census);
                if s <= 0.0 {
                    continue;
                }
                for &(d, target) in &compiler.redirect_pairs[i][j] {
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
                    let level = t.at_census(census);
                    added_places.push((si, *places as f64 * level, overflow, level));
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
fn multiply(v: &mut Vec<f64>, k: usize, states: &[u32], factor: f64) {
    if factor == 1.0 {
        return;
    }
    if v.is_empty() {
        *v = vec![1.0; k];
    }
    for &s in states {
        v[s as usize] *= factor.max(0.0);
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

/// The limits enforced at a census: settings where a capacity lever naming an overflow setting is in effect.
fn place_limits(
    compiler: &Compiler,
    h: u32,
    added: &[(usize, f64, Option<usize>, f64)],
) -> Vec<PlaceLimit> {
    let mut limits: Vec<PlaceLimit> = Vec::new();
    let mut settings: Vec<usize> = added.iter().map(|a| a.0).collect();
    settings.sort_unstable();
    settings.dedup();
    for setting in settings {
        let of_setting = || added.iter().filter(move |a| a.0 == setting);
        let Some(overflow) = of_setting().filter(|a| a.3 > 0.0).find_map(|a| a.2) else {
            continue;
        };
        let delta: f64 = of_setting().map(|a| a.1).sum();
        let hard = compiler.has_place_figures(setting);
        let total = compiler.baseline_places(setting, h) + delta;
        limits.push(PlaceLimit {
            setting,
            places: if hard {
                total.round().max(0.0)
            } else {
                total.max(0.0)
            },
            overflow,
            expected_excess: (!hard).then_some(0.0),
        });
    }
    limits
}
