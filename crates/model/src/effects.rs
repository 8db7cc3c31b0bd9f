//! What a scenario's levers change in each projected year, in the engines' own terms (states and settings by
//! index). Both engines apply the same [`Effects`], so a lever means the same thing in the analytic means and in
//! the Monte-Carlo simulations. `scenario::compile` builds them from the levers; an empty [`Effects`] leaves a
//! forecast exactly as it was.
//!
//! Order within a projected year (census h−1 → census h): children move or leave (leaving probabilities × the
//! leave multiplier; movers arriving in a redirected state from another setting are sent on with the given
//! shares), joiners arrive (rates × the joiner multiplier, then redirected with the given shares), then places are
//! enforced (children above a setting's places move to the overflow setting, same NCY and need). Unit costs at
//! census h are multiplied by the cost multiplier.

use crate::estimate::Parameters;
use crate::space::StateIndex;

/// A redirection out of one state: `(target state, share)`; shares of one state add to at most 1.
pub type Redirects = Vec<(u32, f64)>;

/// Places at one setting at a census, and where children above them go.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceLimit {
    /// Setting index.
    pub setting: usize,
    /// Places (children) at the census; children above move to `overflow`.
    pub places: u64,
    /// Setting index children above `places` move to (same NCY and need).
    pub overflow: usize,
}

/// The levers' effect in one projected year. Empty vectors mean "no change" (the common case stays fast).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepEffects {
    /// Multiplier on each state's leaving probability (on top of any leaver trend), by state; empty = 1.
    pub leave: Vec<f64>,
    /// Multiplier on the expected joiners arriving in each state; empty = 1.
    pub joiners: Vec<f64>,
    /// Joiners arriving in a state sent to other states, by state; empty = none.
    pub joiner_redirect: Vec<Redirects>,
    /// Children arriving in a state from another setting sent to other states, by state; empty = none.
    pub mover_redirect: Vec<Redirects>,
    /// Places enforced at the census ending the year.
    pub places: Vec<PlaceLimit>,
    /// Multiplier on each state's unit cost at the census ending the year; empty = 1.
    pub cost: Vec<f64>,
}

impl StepEffects {
    pub fn is_empty(&self) -> bool {
        self.leave.is_empty()
            && self.joiners.is_empty()
            && self.joiner_redirect.is_empty()
            && self.mover_redirect.is_empty()
            && self.places.is_empty()
            && self.cost.is_empty()
    }
    #[inline]
    pub fn leave_multiplier(&self, s: StateIndex) -> f64 {
        self.leave.get(s).copied().unwrap_or(1.0)
    }
    #[inline]
    pub fn joiner_multiplier(&self, s: StateIndex) -> f64 {
        self.joiners.get(s).copied().unwrap_or(1.0)
    }
    #[inline]
    pub fn cost_multiplier(&self, s: StateIndex) -> f64 {
        self.cost.get(s).copied().unwrap_or(1.0)
    }
    #[inline]
    pub fn joiner_redirects(&self, s: StateIndex) -> &[(u32, f64)] {
        self.joiner_redirect.get(s).map_or(&[], |r| r.as_slice())
    }
    #[inline]
    pub fn mover_redirects(&self, s: StateIndex) -> &[(u32, f64)] {
        self.mover_redirect.get(s).map_or(&[], |r| r.as_slice())
    }
}

/// Every projected year's effects: `steps[h − 1]` for projected year h.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    pub steps: Vec<StepEffects>,
}

impl Effects {
    /// No lever: the unmitigated forecast.
    pub fn none() -> Self {
        Self::default()
    }
    /// The effects of projected year `h` (1 = the first).
    #[inline]
    pub fn step(&self, h: u32) -> Option<&StepEffects> {
        self.steps
            .get((h as usize).wrapping_sub(1))
            .filter(|s| !s.is_empty())
    }
    pub fn is_empty(&self) -> bool {
        self.steps.iter().all(StepEffects::is_empty)
    }
}

/// Where `share` of a flow of `p` into `dest` goes: calls `f(state, probability)` for the part that stays and
/// each redirected part. `redirects` are the destination's (target, share) pairs.
#[inline]
pub fn split_flow(dest: u32, p: f64, redirects: &[(u32, f64)], mut f: impl FnMut(u32, f64)) {
    if redirects.is_empty() {
        f(dest, p);
        return;
    }
    let moved: f64 = redirects.iter().map(|r| r.1).sum();
    f(dest, p * (1.0 - moved).max(0.0));
    for &(t, share) in redirects {
        f(t, p * share);
    }
}

/// Children above a setting's places, moved to the overflow setting in proportion to where they are (means):
/// used by the analytic engine. Returns the children moved.
pub fn enforce_places_on_means(params: &Parameters, limit: &PlaceLimit, counts: &mut [f64]) -> f64 {
    let space = &params.space;
    let states: Vec<StateIndex> = (0..counts.len())
        .filter(|&s| space.parts(s).2 == limit.setting && counts[s] > 0.0)
        .collect();
    let total: f64 = states.iter().map(|&s| counts[s]).sum();
    let excess = total - limit.places as f64;
    if excess <= 0.0 || total <= 0.0 {
        return 0.0;
    }
    let share = excess / total;
    let mut moved = 0.0;
    for s in states {
        let (a, n, _) = space.parts(s);
        let target = space.index(a, n, limit.overflow);
        if params.outcomes.edges(target).is_empty() {
            continue;
        }
        let m = counts[s] * share;
        counts[s] -= m;
        counts[target] += m;
        moved += m;
    }
    moved
}
