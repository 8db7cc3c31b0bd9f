//! Estimation: from an LA's transition history to the parameters both engines run on.
//!
//! Per state (NCY, need, setting) the outcomes of a year — leave, or be at (need′, setting′) one NCY older — get a
//! Dirichlet whose pseudo-counts are the observed counts plus a prior of total mass `prior_strength` spread like the
//! pooled outcomes of the same setting at neighbouring NCYs (DESIGN.md §4). Joiners are a rate per head of the
//! resident population by NCY, with a mix over (need, setting), and their overall rate may follow a damped
//! log-linear trend fitted over the history.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::{BTreeMap, BTreeSet};

use highneeds_domain::{CensusYear, Ncy, Need, Setting, TransitionHistory, ValidSetting};

use crate::space::{StateIndex, StateSpace};
use crate::ModelError;

/// Destination code for "left" (plan ceased, moved away or aged out).
pub const LEAVE: u32 = u32::MAX;

/// How the overall joiner rate moves over the projection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JoinerTrend {
    /// Pooled rate, constant: witan.send's assumption.
    Stationary,
    /// Log-linear trend over the history; the yearly step is multiplied by `damping` each further year.
    Damped { damping: f64 },
}

/// What to fit and how.
#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    /// Total pseudo-count mass of each state's prior (chosen by backtest; see `bench/README.md`).
    pub prior_strength: f64,
    pub joiner_trend: JoinerTrend,
    /// Fit only on transitions ending at or before this census (backtests); `None` = all.
    pub base_census: Option<CensusYear>,
    /// Spread of the trend's persistence, as a share of the gap between the damped and an undamped trend
    /// (see [`DEFAULT_PERSISTENCE_SD`]).
    pub persistence_sd: f64,
    /// Weigh the joiner trend (the best-fitting undamped or damped curve, mixed with constant rates) from the
    /// shape of the history instead of a damped `joiner_trend`, which stays the fallback for histories too short
    /// to judge ([`crate::trend_choice`]). A stationary `joiner_trend` is always kept.
    pub trend_from_history: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            prior_strength: 1.0,
            joiner_trend: JoinerTrend::Damped {
                damping: DEFAULT_FALLBACK_DAMPING,
            },
            base_census: None,
            persistence_sd: DEFAULT_PERSISTENCE_SD,
            trend_from_history: true,
        }
    }
}

/// Each state's outcome Dirichlet, as a compressed sparse row table sorted by pseudo-count (largest first).
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeTable {
    /// Edges of state `s` are `offsets[s]..offsets[s + 1]`.
    pub offsets: Vec<u32>,
    /// Destination state, or [`LEAVE`].
    pub destination: Vec<u32>,
    /// Dirichlet pseudo-count of the edge.
    pub alpha: Vec<f64>,
    /// Mean probability of the edge (alpha / the state's total).
    pub probability: Vec<f64>,
    /// Total pseudo-count of each state (its Dirichlet concentration).
    pub concentration: Vec<f64>,
    /// Mean probability of leaving from each state (the LEAVE edge's probability; 0 without one).
    pub leave: Vec<f64>,
}

impl OutcomeTable {
    /// An edge's probability in projected step `h` under a leaver-rate multiplier `m`: leaving × m (capped below
    /// 1), every other outcome scaled so the state's outcomes still sum to 1.
    #[inline]
    pub fn adjusted_probability(&self, state: StateIndex, edge: usize, m: f64) -> f64 {
        let p = self.probability[edge];
        if m == 1.0 {
            return p;
        }
        let leave = self.leave[state];
        let moved = adjusted_leave(leave, m);
        if self.destination[edge] == LEAVE {
            moved
        } else if leave < 1.0 {
            p * (1.0 - moved) / (1.0 - leave)
        } else {
            p
        }
    }
}

/// A leaving probability `p` under multiplier `m`, kept inside [0, 1): certain leaving (p = 1) stays certain.
#[inline]
pub fn adjusted_leave(p: f64, m: f64) -> f64 {
    if p >= 1.0 {
        1.0
    } else {
        (p * m).clamp(0.0, 1.0 - 1e-9)
    }
}

/// A trend in leaving rates: leavers each year relative to what the pooled leaving probabilities expect from
/// that year's stock, ln(observed / expected) = level + slope × t (t = 0 the last fitted year), damped like the
/// joiner trend. Kept only where the history supports it (the slope at least twice its standard error).
#[derive(Debug, Clone, PartialEq)]
pub struct LeaverTrend {
    pub level: f64,
    pub slope: f64,
    pub slope_se: f64,
    pub damping: f64,
}

impl LeaverTrend {
    /// Multiplier on every leaving probability at projection step `h` (1 = the first projected year).
    pub fn multiplier(&self, h: u32) -> f64 {
        let d: f64 = (1..=h).map(|k| self.damping.powi(k as i32)).sum();
        (self.level + self.slope * d).exp()
    }
}

impl OutcomeTable {
    pub fn edges(&self, state: StateIndex) -> std::ops::Range<usize> {
        self.offsets[state] as usize..self.offsets[state + 1] as usize
    }
    pub fn edge_count(&self) -> usize {
        self.destination.len()
    }
}

/// Joiners arriving at one NCY.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinerNcy {
    /// NCY index (0 = NCY −5).
    pub ncy: usize,
    /// Joiners observed at this NCY over the fitted years.
    pub observed: f64,
    /// Population-years of exposure (Σ over fitted years of the population at arrival).
    pub exposure: f64,
    /// Destination states and their Dirichlet pseudo-counts (largest first).
    pub mix_state: Vec<u32>,
    pub mix_alpha: Vec<f64>,
    pub mix_probability: Vec<f64>,
}

impl JoinerNcy {
    /// Pooled joiners per head at this NCY.
    pub fn rate(&self) -> f64 {
        self.observed / self.exposure
    }
}

/// Default uncertainty of how long a growth trend persists: nobody knows whether growth fades as the damping
/// assumes or carries on. The log joiner rate gets a normal spread of this share of the gap between the damped
/// path and an undamped trend (mean-preserving), so intervals reach up towards continued growth.
/// Chosen blind with the fallback damping on the synthetic family's tuning seeds 1-200 (docs/decisions.md).
pub const DEFAULT_PERSISTENCE_SD: f64 = 1.5;

/// The damping assumed where the history is too short to judge its trend ([`crate::trend_choice`]): chosen blind
/// on the synthetic family's tuning seeds 1-200 as the most accurate over the four trend shapes among those whose
/// persistent-trend bias was within ±2 % at 1-3 years with two standard errors to spare (docs/decisions.md).
pub const DEFAULT_FALLBACK_DAMPING: f64 = 0.8;

/// The overall joiner rate over time: ln(rate) = level + slope × t, with t = 0 the last fitted year.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    pub kind: JoinerTrend,
    pub log_level: f64,
    pub slope: f64,
    /// Covariance of (level, slope).
    pub covariance: [[f64; 2]; 2],
    /// Year-to-year noise of the log rate beyond Poisson (sd).
    pub yearly_sd: f64,
    /// Joiners per head pooled over the fitted years (what the NCY rates average to).
    pub pooled_rate: f64,
    /// Joiners per head by fitted year, for reports.
    pub observed_rates: Vec<(CensusYear, f64)>,
    /// Spread of the trend's persistence (share of the gap to an undamped trend; see [`FitOptions`]).
    pub persistence_sd: f64,
}

impl Trend {
    /// Damped time for projection step `h` (1 = the first projected year): Σ_{k=1..h} φ^k, or 0 if stationary.
    pub fn damped_time(&self, h: u32) -> f64 {
        match self.kind {
            JoinerTrend::Stationary => 0.0,
            JoinerTrend::Damped { damping } => (1..=h).map(|k| damping.powi(k as i32)).sum(),
        }
    }
    /// Expected overall joiner rate at step `h` relative to the pooled rate.
    pub fn multiplier(&self, h: u32) -> f64 {
        (self.log_level + self.slope * self.damped_time(h)).exp() / self.pooled_rate
    }
    /// How far the log rate at step `h` would be above the damped path if the trend persisted undamped:
    /// slope × (h − D(h)). The spread of persistence (`persistence_sd` of this gap) widens the intervals.
    pub fn persistence_gradient(&self, h: u32) -> f64 {
        match self.kind {
            JoinerTrend::Stationary => 0.0,
            JoinerTrend::Damped { .. } => self.slope.abs() * (f64::from(h) - self.damped_time(h)),
        }
    }
    /// Variance of the log rate at step `h`: uncertainty of level and slope, and of how long the trend
    /// persists (sd `persistence_sd` of the gap to an undamped trend).
    pub fn log_variance(&self, h: u32) -> f64 {
        let x = self.damped_time(h);
        let c = &self.covariance;
        let g = self.persistence_gradient(h);
        c[0][0]
            + 2.0 * x * c[0][1]
            + x * x * c[1][1]
            + g * g * self.persistence_sd * self.persistence_sd
    }
}

/// Resident population by census year and NCY, with carry-forward for missing years.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationTable {
    years: BTreeMap<i32, [Option<f64>; Ncy::COUNT]>,
    /// True when the LA supplied no population: joiners are then modelled as counts (population 1).
    pub missing: bool,
}

impl PopulationTable {
    fn new(history: &TransitionHistory) -> Self {
        let mut years: BTreeMap<i32, [Option<f64>; Ncy::COUNT]> = BTreeMap::new();
        for p in &history.population {
            years
                .entry(p.census_year.year())
                .or_insert([None; Ncy::COUNT])[p.ncy.index()] = Some(p.population as f64);
        }
        let missing = years.is_empty();
        Self { years, missing }
    }

    /// Population at a census and NCY: the year's own figure, else the latest earlier year's (carried forward),
    /// else the earliest later year's.
    pub fn at(&self, census_year: i32, ncy: usize) -> f64 {
        if self.missing {
            return 1.0;
        }
        if let Some(v) = self.years.get(&census_year).and_then(|y| y[ncy]) {
            return v;
        }
        let before = self
            .years
            .range(..census_year)
            .rev()
            .find_map(|(_, y)| y[ncy]);
        before
            .or_else(|| self.years.range(census_year..).find_map(|(_, y)| y[ncy]))
            .unwrap_or(0.0)
    }

    /// The latest census year with any population figure.
    pub fn last_year(&self) -> Option<i32> {
        self.years.keys().next_back().copied()
    }
}

/// Everything the engines need: fitted once, run many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameters {
    pub space: StateSpace,
    /// The census the projection starts from (plans known).
    pub base_census: CensusYear,
    /// Plans per state at the base census.
    pub base_stock: Vec<u32>,
    pub outcomes: OutcomeTable,
    pub joiners: Vec<JoinerNcy>,
    pub trend: Trend,
    /// Leaving rates' trend, where the history supports one.
    pub leaver_trend: Option<LeaverTrend>,
    pub population: PopulationTable,
    /// Annual cost of a plan in each state, pence (0 where the LA gave no cost).
    pub unit_cost_pence: Vec<f64>,
    /// The place-funding part of each state's unit cost (the rest is top-up), when every unit cost gives the split.
    pub place_funding_pence: Option<Vec<f64>>,
    /// Transition years used (the census each starts from).
    pub fitted_years: Vec<CensusYear>,
    /// Plain-English notes on fallbacks taken (shown with the forecast).
    pub notes: Vec<String>,
}

impl Parameters {
    pub fn base_total(&self) -> u64 {
        self.base_stock.iter().map(|&c| u64::from(c)).sum()
    }
    /// Multiplier on leaving probabilities at projection step `h` (1 without a leaver trend).
    pub fn leave_multiplier(&self, h: u32) -> f64 {
        self.leaver_trend.as_ref().map_or(1.0, |t| t.multiplier(h))
    }
}

/// Which states are allowed and which moves, as lookup tables (built once; asked tens of thousands of times).
struct Validity {
    /// [ncy][need][setting]
    allowed: Vec<bool>,
    /// [from][to]
    moves: Vec<bool>,
    n_needs: usize,
    n_settings: usize,
}

impl Validity {
    /// The validity tables for the history's valid-states rows, by setting of the state space.
    fn for_history(
        history: &TransitionHistory,
        space: &StateSpace,
        observed_range: &[Option<(usize, usize)>],
    ) -> Self {
        let mut by_setting: Vec<Option<&ValidSetting>> = vec![None; space.n_settings()];
        for v in &history.valid_states {
            if let Some(i) = space.setting_index(&v.setting) {
                by_setting[i] = Some(v);
            }
        }
        Self::new(space, &by_setting, observed_range)
    }

    fn new(
        space: &StateSpace,
        by_setting: &[Option<&ValidSetting>],
        observed_range: &[Option<(usize, usize)>],
    ) -> Self {
        let (n_needs, n_settings) = (space.n_needs(), space.n_settings());
        let mut allowed = vec![false; Ncy::COUNT * n_needs * n_settings];
        for (a, ncy) in Ncy::all().enumerate() {
            for (n, need) in space.needs.iter().enumerate() {
                for s in 0..n_settings {
                    allowed[(a * n_needs + n) * n_settings + s] = match by_setting[s] {
                        Some(v) => v.allows(ncy, need),
                        None => {
                            matches!(observed_range[s], Some((lo, hi)) if (lo..=hi).contains(&a))
                        }
                    };
                }
            }
        }
        let mut moves = vec![false; n_settings * n_settings];
        for from in 0..n_settings {
            for to in 0..n_settings {
                moves[from * n_settings + to] = from == to
                    || match by_setting[from] {
                        Some(v) => v.moves_to.iter().any(|s| *s == space.settings[to]),
                        None => true,
                    };
            }
        }
        Self {
            allowed,
            moves,
            n_needs,
            n_settings,
        }
    }
    fn allowed(&self, ncy: usize, need: usize, setting: usize) -> bool {
        ncy < Ncy::COUNT && self.allowed[(ncy * self.n_needs + need) * self.n_settings + setting]
    }
    fn may_move(&self, from: usize, to: usize) -> bool {
        self.moves[from * self.n_settings + to]
    }
}

/// Fit the parameters. Fails only on histories no forecast can start from (no transitions, a gap in the census
/// years, no plans at the base census).
pub fn fit(history: &TransitionHistory, options: &FitOptions) -> Result<Parameters, ModelError> {
    fit_reaching(history, options, &[])
}

/// [`fit`], with outcomes estimated also for every valid state of the `reach` settings, whether or not the
/// history's children can reach them: a scenario that redirects children to a setting, or overflows them into it,
/// needs to know what happens to them there. States nobody reaches change no forecast.
pub fn fit_reaching(
    history: &TransitionHistory,
    options: &FitOptions,
    reach: &[Setting],
) -> Result<Parameters, ModelError> {
    options.check()?;
    if options.trend_from_history && options.joiner_trend != JoinerTrend::Stationary {
        return crate::trend_choice::fit_with_chosen_trend(history, options, reach);
    }
    fit_with_given_trend(history, options, reach)
}

/// [`fit_reaching`] with the joiner trend exactly as the options give it (none weighed from the history).
fn fit_with_given_trend(
    history: &TransitionHistory,
    options: &FitOptions,
    reach: &[Setting],
) -> Result<Parameters, ModelError> {
    let mut notes = Vec::new();
    let years = fitted_years(history, options)?;
    let base_census = years[years.len() - 1].next();
    let space = state_space(history);
    let obs = Observations::count(history, &space, &years);
    if obs.base_stock.iter().all(|&c| c == 0) {
        return Err(ModelError::NoPlansAtBase {
            census: base_census,
        });
    }
    let validity = Validity::for_history(history, &space, &obs.observed_range);
    let population = population_noting_absence(history, &mut notes);
    let alpha = options.prior_strength.max(0.0);
    let (joiners, trend) = fit_joiners_and_trend(
        &space,
        &validity,
        &obs,
        &years,
        &population,
        alpha,
        options,
        &mut notes,
    );
    let reach = reached_setting_indices(&space, reach);
    let outcomes = fit_outcomes(&space, &validity, &obs, &joiners, &reach, alpha, &mut notes);
    let leaver_trend = leaver_trend_for(options.joiner_trend, &years, &space, &obs, &mut notes);
    let (unit_cost_pence, place_funding_pence) =
        unit_costs(history, &space, &obs.base_stock, base_census, &mut notes);
    note_population_carried_forward(&population, base_census, &mut notes);
    let params = Parameters {
        space,
        base_census,
        base_stock: obs.base_stock,
        outcomes,
        joiners,
        trend,
        leaver_trend,
        population,
        unit_cost_pence,
        place_funding_pence,
        fitted_years: years,
        notes,
    };
    params.check_finite(options)?;
    Ok(params)
}

/// The resident population table, with a note when the LA supplied none (joiners then count per year).
fn population_noting_absence(
    history: &TransitionHistory,
    notes: &mut Vec<String>,
) -> PopulationTable {
    let population = PopulationTable::new(history);
    if population.missing {
        notes.push(
            "no resident population was supplied: joiners are projected as counts per year, not rates per head"
                .to_string(),
        );
    }
    population
}

/// Joiner rates and mix per NCY, then the trend of the overall joiner rate the options ask for.
#[allow(clippy::too_many_arguments)]
fn fit_joiners_and_trend(
    space: &StateSpace,
    validity: &Validity,
    obs: &Observations,
    years: &[CensusYear],
    population: &PopulationTable,
    alpha: f64,
    options: &FitOptions,
    notes: &mut Vec<String>,
) -> (Vec<JoinerNcy>, Trend) {
    let joiners = fit_joiners(space, validity, obs, years, population, alpha, notes);
    let trend = fit_trend(
        years,
        &joiners,
        &obs.joiners_by_year_ncy,
        population,
        options.joiner_trend,
        options.persistence_sd,
        notes,
    );
    (joiners, trend)
}

/// Indices in the state space of the `reach` settings it holds (settings it lacks are skipped).
fn reached_setting_indices(space: &StateSpace, reach: &[Setting]) -> Vec<usize> {
    reach
        .iter()
        .filter_map(|s| space.setting_index(s))
        .collect()
}

/// The leaver trend a joiner trend implies: none with constant rates, else fitted with the same damping.
fn leaver_trend_for(
    joiner_trend: JoinerTrend,
    years: &[CensusYear],
    space: &StateSpace,
    obs: &Observations,
    notes: &mut Vec<String>,
) -> Option<LeaverTrend> {
    match joiner_trend {
        JoinerTrend::Stationary => None,
        JoinerTrend::Damped { damping } => fit_leaver_trend(
            years,
            space.len(),
            &obs.observed,
            &obs.stock_by_year,
            &obs.leavers_by_year,
            damping,
            notes,
        ),
    }
}

/// Note that the population was carried forward when none is supplied after the base census.
fn note_population_carried_forward(
    population: &PopulationTable,
    base_census: CensusYear,
    notes: &mut Vec<String>,
) {
    if let Some(last_pop) = population.last_year() {
        if last_pop <= base_census.year() {
            notes.push(format!(
                "population after {last_pop} not supplied: carried forward from {last_pop}"
            ));
        }
    }
}

/// The transition years to fit on (the census each starts from): consecutive, ending before the requested base.
fn fitted_years(
    history: &TransitionHistory,
    options: &FitOptions,
) -> Result<Vec<CensusYear>, ModelError> {
    let all_years: BTreeSet<CensusYear> =
        history.transitions.iter().map(|t| t.from_census).collect();
    let years: Vec<CensusYear> = match options.base_census {
        Some(base) => all_years
            .iter()
            .copied()
            .filter(|y| y.next() <= base)
            .collect(),
        None => all_years.iter().copied().collect(),
    };
    let Some(&last) = years.last() else {
        return Err(ModelError::NoTransitions);
    };
    if let Some(w) = years.windows(2).find(|w| w[1] != w[0].next()) {
        return Err(ModelError::CensusYearGap {
            after: w[0].next(),
            before: w[1],
        });
    }
    if options.base_census.is_some_and(|base| base != last.next()) {
        return Err(ModelError::NoTransitions);
    }
    Ok(years)
}

/// The state space: every code in the history and valid states.
fn state_space(history: &TransitionHistory) -> StateSpace {
    let mut needs: HashSet<&Need> = HashSet::default();
    let mut settings: HashSet<&Setting> = HashSet::default();
    for t in &history.transitions {
        for s in [&t.before, &t.after].into_iter().flatten() {
            needs.insert(&s.need);
            settings.insert(&s.setting);
        }
    }
    for v in &history.valid_states {
        settings.insert(&v.setting);
        needs.extend(v.needs.iter());
    }
    StateSpace::new(
        needs.into_iter().cloned().collect(),
        settings.into_iter().cloned().collect(),
    )
}

/// What the fitted years' transitions show, counted once.
struct Observations {
    /// Children by (origin state, destination state or [`LEAVE`]).
    observed: HashMap<(usize, u32), f64>,
    /// Setting-level outcomes by NCY: [ncy][setting][setting′, or n_settings = leave].
    setting_outcomes: Vec<Vec<Vec<f64>>>,
    /// Joiners by (NCY, state) and by (census year they joined from, NCY).
    joiners_at: HashMap<(usize, StateIndex), f64>,
    joiners_by_year_ncy: BTreeMap<(CensusYear, usize), f64>,
    base_stock: Vec<u32>,
    /// The NCYs each setting was seen at (settings without valid-states rows are allowed there only).
    observed_range: Vec<Option<(usize, usize)>>,
    /// Children in each state at the start of each fitted year (`[year][state]`), and leavers that year.
    stock_by_year: Vec<f64>,
    leavers_by_year: Vec<f64>,
}

impl Observations {
    fn count(history: &TransitionHistory, space: &StateSpace, years: &[CensusYear]) -> Self {
        let (first, last) = (years[0], years[years.len() - 1]);
        let (n_states, n_settings) = (space.len(), space.n_settings());
        let mut o = Self {
            observed: HashMap::default(),
            setting_outcomes: vec![vec![vec![0.0f64; n_settings + 1]; n_settings]; Ncy::COUNT],
            joiners_at: HashMap::default(),
            joiners_by_year_ncy: BTreeMap::new(),
            base_stock: vec![0u32; n_states],
            observed_range: vec![None; n_settings],
            stock_by_year: vec![0.0f64; years.len() * n_states],
            leavers_by_year: vec![0.0f64; years.len()],
        };
        let used = |y: CensusYear| y >= first && y <= last;
        for t in history.transitions.iter().filter(|t| used(t.from_census)) {
            let before = t
                .before
                .as_ref()
                .and_then(|s| space.index_of(s).map(|i| (i, s)));
            let after = t
                .after
                .as_ref()
                .and_then(|s| space.index_of(s).map(|i| (i, s)));
            // Need and setting indexes come from the state index (parts), not fresh code lookups.
            for (i, s) in before.iter().chain(after.iter()) {
                o.widen(space.parts(*i).2, s.ncy.index());
            }
            if let Some((from, _)) = before {
                let y = (t.from_census.year() - first.year()) as usize;
                o.stock_by_year[y * n_states + from] += 1.0;
                let aged_out = after.is_some() && space.parts(from).0 + 1 >= Ncy::COUNT;
                if after.is_none() || aged_out {
                    o.leavers_by_year[y] += 1.0;
                }
            }
            o.record(space, t.from_census, before.map(|b| b.0), after);
            if t.from_census == last {
                if let Some((to, _)) = after {
                    o.base_stock[to] += 1;
                }
            }
        }
        o
    }

    fn widen(&mut self, setting: usize, ncy: usize) {
        let r = self.observed_range[setting].get_or_insert((ncy, ncy));
        r.0 = r.0.min(ncy);
        r.1 = r.1.max(ncy);
    }

    /// Count one transition: a joiner, a leaver or a child staying or moving.
    fn record(
        &mut self,
        space: &StateSpace,
        from_census: CensusYear,
        before: Option<StateIndex>,
        after: Option<(StateIndex, &highneeds_domain::State)>,
    ) {
        let n_settings = space.n_settings();
        match (before, after) {
            (None, Some((to, s))) => {
                let a = s.ncy.index();
                *self.joiners_at.entry((a, to)).or_default() += 1.0;
                *self
                    .joiners_by_year_ncy
                    .entry((from_census, a))
                    .or_default() += 1.0;
            }
            (Some(from), None) => {
                *self.observed.entry((from, LEAVE)).or_default() += 1.0;
                let (a, _, s) = space.parts(from);
                self.setting_outcomes[a][s][n_settings] += 1.0;
            }
            (Some(from), Some((to, _))) => {
                let (a, _, s) = space.parts(from);
                let (_, n2, s2) = space.parts(to);
                if a + 1 < Ncy::COUNT {
                    let dest = space.index(a + 1, n2, s2) as u32;
                    *self.observed.entry((from, dest)).or_default() += 1.0;
                } else {
                    *self.observed.entry((from, LEAVE)).or_default() += 1.0;
                }
                self.setting_outcomes[a][s][s2] += 1.0;
            }
            (None, None) => {}
        }
    }
}

/// Joiners per NCY: the pooled rate per head and a Dirichlet mix over (need, setting) whose prior is the mix at
/// the neighbouring NCYs, moved to this NCY where valid.
fn fit_joiners(
    space: &StateSpace,
    validity: &Validity,
    obs: &Observations,
    years: &[CensusYear],
    population: &PopulationTable,
    alpha: f64,
    notes: &mut Vec<String>,
) -> Vec<JoinerNcy> {
    let mut joiner_totals = [0.0f64; Ncy::COUNT];
    let mut joiner_mix: Vec<BTreeMap<StateIndex, f64>> = vec![BTreeMap::new(); Ncy::COUNT];
    for (&(a, to), &c) in &obs.joiners_at {
        joiner_totals[a] += c;
        joiner_mix[a].insert(to, c);
    }
    let mut joiners = Vec::new();
    for a in 0..Ncy::COUNT {
        if joiner_totals[a] <= 0.0 {
            continue;
        }
        let exposure: f64 = years.iter().map(|y| population.at(y.year() + 1, a)).sum();
        if exposure <= 0.0 {
            notes.push(format!(
                "NCY {}: joiners seen but no population: no joiners projected there",
                a as i32 + i32::from(Ncy::MIN)
            ));
            continue;
        }
        let mut prior: BTreeMap<StateIndex, f64> = BTreeMap::new();
        for b in [a.wrapping_sub(1), a + 1] {
            if b >= Ncy::COUNT {
                continue;
            }
            for (&st, &c) in &joiner_mix[b] {
                let (_, n, s) = space.parts(st);
                if validity.allowed(a, n, s) {
                    *prior.entry(space.index(a, n, s)).or_default() += c;
                }
            }
        }
        let prior_total: f64 = prior.values().sum();
        let mut mix: BTreeMap<StateIndex, f64> = joiner_mix[a].clone();
        if prior_total > 0.0 {
            for (st, c) in prior {
                *mix.entry(st).or_default() += alpha * c / prior_total;
            }
        }
        let mut entries: Vec<(StateIndex, f64)> = mix.into_iter().collect();
        entries.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        let total: f64 = entries.iter().map(|e| e.1).sum();
        joiners.push(JoinerNcy {
            ncy: a,
            observed: joiner_totals[a],
            exposure,
            mix_state: entries.iter().map(|e| e.0 as u32).collect(),
            mix_alpha: entries.iter().map(|e| e.1).collect(),
            mix_probability: entries.iter().map(|e| e.1 / total).collect(),
        });
    }
    joiners
}

/// The outcome table over the states reachable from the base stock and joiner destinations.
fn fit_outcomes(
    space: &StateSpace,
    validity: &Validity,
    obs: &Observations,
    joiners: &[JoinerNcy],
    reach: &[usize],
    alpha: f64,
    notes: &mut Vec<String>,
) -> OutcomeTable {
    let n_settings = space.n_settings();
    let mut observed_by_origin: HashMap<StateIndex, Vec<(u32, f64)>> = HashMap::default();
    for (&(from, dest), &c) in &obs.observed {
        observed_by_origin.entry(from).or_default().push((dest, c));
    }
    let prior = OutcomePrior {
        space,
        validity,
        setting_outcomes: &obs.setting_outcomes,
        all_ncy_outcomes: (0..n_settings)
            .map(|s| {
                (0..=n_settings)
                    .map(|o| (0..Ncy::COUNT).map(|a| obs.setting_outcomes[a][s][o]).sum())
                    .collect()
            })
            .collect(),
    };
    let mut edges_of: BTreeMap<StateIndex, Vec<(u32, f64)>> = BTreeMap::new();
    let mut queue: Vec<StateIndex> = obs
        .base_stock
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, _)| i)
        .collect();
    queue.extend(
        joiners
            .iter()
            .flat_map(|j| j.mix_state.iter().map(|&s| s as usize)),
    );
    for &setting in reach {
        for a in 0..Ncy::COUNT {
            for n in 0..space.n_needs() {
                if validity.allowed(a, n, setting) {
                    queue.push(space.index(a, n, setting));
                }
            }
        }
    }
    let mut no_prior_states = 0usize;
    while let Some(origin) = queue.pop() {
        if edges_of.contains_key(&origin) {
            continue;
        }
        let mut outcome: BTreeMap<u32, f64> = BTreeMap::new();
        for &(dest, c) in observed_by_origin.get(&origin).map_or(&[][..], |v| v) {
            *outcome.entry(dest).or_default() += c;
        }
        if !prior.add_to(origin, alpha, &mut outcome) {
            no_prior_states += 1;
        }
        let mut list: Vec<(u32, f64)> = outcome.into_iter().filter(|(_, w)| *w > 0.0).collect();
        list.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        for &(dest, _) in &list {
            if dest != LEAVE && !edges_of.contains_key(&(dest as usize)) {
                queue.push(dest as usize);
            }
        }
        edges_of.insert(origin, list);
    }
    if no_prior_states > 0 {
        notes.push(format!(
            "{no_prior_states} states had no data to estimate from (not seen, no neighbours): children reaching them are treated as leaving"
        ));
    }
    OutcomeTable::from_edges(space.len(), &edges_of)
}

/// The prior of a state's outcomes: the same setting's outcomes at NCY−1..NCY+1 (weights ½, 1, ½), else at every
/// NCY, over valid moves only.
struct OutcomePrior<'a> {
    space: &'a StateSpace,
    validity: &'a Validity,
    setting_outcomes: &'a [Vec<Vec<f64>>],
    all_ncy_outcomes: Vec<Vec<f64>>,
}

impl OutcomePrior<'_> {
    /// Add the prior (total mass `alpha`) to `outcome`. Returns false when the state had nothing to learn from
    /// (no observations and no prior), in which case its children leave.
    fn add_to(&self, origin: StateIndex, alpha: f64, outcome: &mut BTreeMap<u32, f64>) -> bool {
        let n_settings = self.space.n_settings();
        let (a, n, s) = self.space.parts(origin);
        if a + 1 >= Ncy::COUNT {
            // Aged out at 25: everyone leaves.
            outcome.clear();
            outcome.insert(LEAVE, 1.0);
            return true;
        }
        let mask = |o: usize| -> bool {
            o == n_settings || (self.validity.may_move(s, o) && self.validity.allowed(a + 1, n, o))
        };
        let mut weights = vec![0.0f64; n_settings + 1];
        for (b, w) in [(a.wrapping_sub(1), 0.5), (a, 1.0), (a + 1, 0.5)] {
            if b < Ncy::COUNT {
                for (o, slot) in weights.iter_mut().enumerate() {
                    if mask(o) {
                        *slot += w * self.setting_outcomes[b][s][o];
                    }
                }
            }
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            for (o, slot) in weights.iter_mut().enumerate() {
                if mask(o) {
                    *slot = self.all_ncy_outcomes[s][o];
                }
            }
        }
        let mut learned = true;
        if weights.iter().sum::<f64>() <= 0.0 {
            weights[n_settings] = 1.0;
            learned = !outcome.is_empty();
        }
        let total: f64 = weights.iter().sum();
        for (o, w) in weights.iter().enumerate() {
            if *w > 0.0 {
                let dest = if o == n_settings {
                    LEAVE
                } else {
                    self.space.index(a + 1, n, o) as u32
                };
                *outcome.entry(dest).or_default() += alpha * w / total;
            }
        }
        if outcome.values().sum::<f64>() <= 0.0 {
            outcome.insert(LEAVE, 1.0);
        }
        learned
    }
}

impl OutcomeTable {
    /// The compressed table from each state's (destination, pseudo-count) list, largest first.
    pub fn from_edges(n_states: usize, edges_of: &BTreeMap<StateIndex, Vec<(u32, f64)>>) -> Self {
        let mut outcomes = OutcomeTable {
            offsets: Vec::with_capacity(n_states + 1),
            destination: Vec::new(),
            alpha: Vec::new(),
            probability: Vec::new(),
            concentration: vec![0.0; n_states],
            leave: vec![0.0; n_states],
        };
        outcomes.offsets.push(0);
        for st in 0..n_states {
            if let Some(list) = edges_of.get(&st) {
                let total: f64 = list.iter().map(|e| e.1).sum();
                outcomes.concentration[st] = total;
                for &(dest, w) in list {
                    outcomes.destination.push(dest);
                    outcomes.alpha.push(w);
                    outcomes.probability.push(w / total);
                    if dest == LEAVE {
                        outcomes.leave[st] += w / total;
                    }
                }
            }
            outcomes.offsets.push(outcomes.destination.len() as u32);
        }
        outcomes
    }
}

/// Unit costs per state (pence a year): all-ages rows first, then age-group rows over them (the specific row
/// wins); the place-funding part when every row gives the split.
fn unit_costs(
    history: &TransitionHistory,
    space: &StateSpace,
    base_stock: &[u32],
    base_census: CensusYear,
    notes: &mut Vec<String>,
) -> (Vec<f64>, Option<Vec<f64>>) {
    let n_states = space.len();
    let mut unit_cost_pence = vec![0.0f64; n_states];
    let mut place_pence = vec![0.0f64; n_states];
    let mut costed = vec![false; n_states];
    let split =
        history.costs.iter().all(|c| c.place_funding.is_some()) && !history.costs.is_empty();
    if !split && history.costs.iter().any(|c| c.place_funding.is_some()) {
        notes.push(
            "place funding and top-up are not shown separately: only some unit costs give the split".to_string(),
        );
    }
    for general in [true, false] {
        for c in history
            .costs
            .iter()
            .filter(|c| c.age_group.is_none() == general)
        {
            let (Some(n), Some(s)) = (space.need_index(&c.need), space.setting_index(&c.setting))
            else {
                continue;
            };
            for a in 0..Ncy::COUNT {
                let i = space.index(a, n, s);
                if c.age_group.is_some_and(|g| g != space.age_group(i)) {
                    continue;
                }
                unit_cost_pence[i] = c.annual.pence() as f64;
                place_pence[i] = c.place_funding.map_or(0.0, |p| p.pence() as f64);
                costed[i] = true;
            }
        }
    }
    if history.costs.is_empty() {
        notes.push("no unit costs were supplied: costs are shown as zero".to_string());
    } else {
        let uncosted: u64 = base_stock
            .iter()
            .zip(&costed)
            .filter(|(_, &c)| !c)
            .map(|(&n, _)| u64::from(n))
            .sum();
        if uncosted > 0 {
            notes.push(format!(
                "{uncosted} plans at the {base_census} census are in a (need, setting) with no unit cost: priced at zero"
            ));
        }
    }
    (unit_cost_pence, split.then_some(place_pence))
}

/// Uncertainty (sd of the yearly log growth of the joiner rate) assumed when too few years exist to fit a trend:
/// ±5 % a year, about the spread of growth rates across English LAs 2015-2022.
const UNKNOWN_SLOPE_SD: f64 = 0.05;

/// Fewest fitted years a leaver trend needs (one more than the joiner trend: the effect is smaller and noisier).
const LEAVER_TREND_MIN_YEARS: usize = 4;

/// Fit ln(observed leavers / expected leavers) = level + slope × t over the fitted years, where expected =
/// Σ over that year's starting stock of each state's pooled leaving share (observed counts only). Kept only if
/// the slope is at least twice its standard error; either way a note says what was found.
fn fit_leaver_trend(
    years: &[CensusYear],
    n_states: usize,
    observed: &HashMap<(usize, u32), f64>,
    stock_by_year: &[f64],
    leavers_by_year: &[f64],
    damping: f64,
    notes: &mut Vec<String>,
) -> Option<LeaverTrend> {
    if years.len() < LEAVER_TREND_MIN_YEARS {
        return None;
    }
    let (mut total, mut left) = (vec![0.0f64; n_states], vec![0.0f64; n_states]);
    for (&(from, dest), &c) in observed {
        total[from] += c;
        if dest == LEAVE {
            left[from] += c;
        }
    }
    let share: Vec<f64> = total
        .iter()
        .zip(&left)
        .map(|(&t, &l)| if t > 0.0 { l / t } else { 0.0 })
        .collect();
    let last = years.last()?.year();
    let mut points = Vec::new();
    for (y, year) in years.iter().enumerate() {
        let stock = &stock_by_year[y * n_states..(y + 1) * n_states];
        let expected: f64 = stock.iter().zip(&share).map(|(n, p)| n * p).sum();
        let observed = leavers_by_year[y];
        if expected > 0.0 && observed > 0.0 {
            points.push((
                f64::from(year.year() - last),
                (observed / expected).ln(),
                observed,
            ));
        }
    }
    if points.len() < LEAVER_TREND_MIN_YEARS {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    let level = my - slope * mx;
    let rss: f64 = points
        .iter()
        .map(|p| (p.1 - level - slope * p.0).powi(2))
        .sum();
    let poisson_var = points.iter().map(|p| 1.0 / p.2).sum::<f64>() / n;
    let s2 = (rss / (n - 2.0)).max(poisson_var);
    let slope_se = (s2 / sxx).sqrt();
    let pct = |x: f64| format!("{:+.1}%", (x.exp() - 1.0) * 100.0);
    if slope.abs() >= 2.0 * slope_se {
        notes.push(format!(
            "leaving rates trend by {} a year (± {:.1} points, {} years): projected with the same damping as joiners",
            pct(slope),
            slope_se * 100.0,
            points.len()
        ));
        Some(LeaverTrend {
            level,
            slope,
            slope_se,
            damping,
        })
    } else {
        notes.push(format!(
            "leaving rates: no trend supported by the history ({} a year ± {:.1} points): pooled rates used",
            pct(slope),
            slope_se * 100.0
        ));
        None
    }
}

/// Fit ln(joiners per head) = level + slope × (year − last year) by least squares.
fn fit_trend(
    years: &[CensusYear],
    joiners: &[JoinerNcy],
    by_year_ncy: &BTreeMap<(CensusYear, usize), f64>,
    population: &PopulationTable,
    kind: JoinerTrend,
    persistence_sd: f64,
    notes: &mut Vec<String>,
) -> Trend {
    let rates = YearlyJoinerRates::new(years, joiners, by_year_ncy, population);
    match kind {
        JoinerTrend::Stationary => rates.constant(None, persistence_sd, notes),
        JoinerTrend::Damped { .. } if rates.logs.len() < 3 => rates.constant(
            Some("fewer than 3 years of joiners, too few to fit a trend"),
            persistence_sd,
            notes,
        ),
        JoinerTrend::Damped { .. } => rates.line(kind, persistence_sd),
    }
}

/// The history's overall joiner rate per head, year by year: what a joiner trend is fitted to.
struct YearlyJoinerRates {
    /// Joiners over exposure, pooled over every fitted year.
    pooled_rate: f64,
    /// Each fitted year with an exposure, and its rate.
    observed_rates: Vec<(CensusYear, f64)>,
    /// Poisson part of the variance of a yearly log rate: about 1 / joiners.
    poisson_var: f64,
    /// (year − the last fitted year, 0 or negative; log rate) of the years with joiners.
    logs: Vec<(f64, f64)>,
}

impl YearlyJoinerRates {
    fn new(
        years: &[CensusYear],
        joiners: &[JoinerNcy],
        by_year_ncy: &BTreeMap<(CensusYear, usize), f64>,
        population: &PopulationTable,
    ) -> Self {
        let total_j: f64 = joiners.iter().map(|j| j.observed).sum();
        let total_e: f64 = joiners.iter().map(|j| j.exposure).sum();
        let pooled_rate = if total_e > 0.0 {
            total_j / total_e
        } else {
            0.0
        };
        let last = years.last().map_or(0, |y| y.year());
        let mut points = Vec::new();
        for &y in years {
            let j: f64 = joiners
                .iter()
                .map(|jn| by_year_ncy.get(&(y, jn.ncy)).copied().unwrap_or(0.0))
                .sum();
            let e: f64 = joiners
                .iter()
                .map(|jn| population.at(y.year() + 1, jn.ncy))
                .sum();
            if e > 0.0 {
                points.push((y, f64::from(y.year() - last), j, e));
            }
        }
        let poisson_var = if points.is_empty() {
            0.0
        } else {
            points.iter().map(|p| 1.0 / p.2.max(1.0)).sum::<f64>() / points.len() as f64
        };
        Self {
            pooled_rate,
            observed_rates: points.iter().map(|p| (p.0, p.2 / p.3)).collect(),
            poisson_var,
            logs: points
                .iter()
                .filter(|p| p.2 > 0.0)
                .map(|p| (p.1, (p.2 / p.3).ln()))
                .collect(),
        }
    }

    /// Constant rates: chosen (`why` is `None`), or a wanted trend that cannot be fitted, whose growth is unknown
    /// rather than zero: the slope gets a prior of mean 0 and sd UNKNOWN_SLOPE_SD, so the intervals say so.
    fn constant(self, why: Option<&str>, persistence_sd: f64, notes: &mut Vec<String>) -> Trend {
        let n = self.logs.len() as f64;
        let slope_var = if why.is_some() {
            UNKNOWN_SLOPE_SD * UNKNOWN_SLOPE_SD
        } else {
            0.0
        };
        if let Some(why) = why {
            notes.push(format!("joiner rate held constant: {why}"));
        }
        let mean_log = if self.pooled_rate > 0.0 {
            self.pooled_rate.ln()
        } else {
            0.0
        };
        let resid_var = if self.logs.len() >= 2 {
            self.logs
                .iter()
                .map(|(_, l)| (l - mean_log).powi(2))
                .sum::<f64>()
                / (n - 1.0)
        } else {
            self.poisson_var
        };
        let extra = (resid_var - self.poisson_var).max(0.0);
        Trend {
            // A wanted-but-unfittable trend keeps its damped time axis (slope 0) so the slope's prior variance
            // widens the intervals; a chosen stationary model has no slope at all.
            // (undamped: an unknown growth rate is not known to fade either).
            kind: if why.is_some() {
                JoinerTrend::Damped { damping: 1.0 }
            } else {
                JoinerTrend::Stationary
            },
            log_level: mean_log,
            slope: 0.0,
            covariance: [
                [resid_var.max(self.poisson_var) / n.max(1.0), 0.0],
                [0.0, slope_var],
            ],
            yearly_sd: extra.sqrt(),
            pooled_rate: self.pooled_rate,
            observed_rates: self.observed_rates,
            persistence_sd,
        }
    }

    /// A straight line through the log rates (least squares; 3 years or more), level at the last fitted year.
    fn line(self, kind: JoinerTrend, persistence_sd: f64) -> Trend {
        let logs = &self.logs;
        let n = logs.len() as f64;
        let mx = logs.iter().map(|p| p.0).sum::<f64>() / n;
        let my = logs.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = logs.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = logs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = sxy / sxx;
        let level = my - slope * mx; // at t = 0, the last fitted year
        let rss: f64 = logs
            .iter()
            .map(|p| (p.1 - level - slope * p.0).powi(2))
            .sum();
        let s2 = (rss / (n - 2.0)).max(self.poisson_var);
        // Var(level at t=0) = s²(1/n + mx²/sxx); Var(slope) = s²/sxx; Cov = −s² mx / sxx.
        let covariance = [
            [s2 * (1.0 / n + mx * mx / sxx), -s2 * mx / sxx],
            [-s2 * mx / sxx, s2 / sxx],
        ];
        Trend {
            kind,
            log_level: level,
            slope,
            covariance,
            yearly_sd: (s2 - self.poisson_var).max(0.0).sqrt(),
            pooled_rate: self.pooled_rate,
            observed_rates: self.observed_rates,
            persistence_sd,
        }
    }
}

#[cfg(test)]
mod leaving_tests {
    use super::*;

    #[test]
    fn adjusted_probabilities_worked_example() {
        // One state: leave 0.2, stay 0.5, move 0.3. Leaving × 1.5 → 0.3; the rest × 0.7 / 0.8 → 0.4375, 0.2625.
        let table = OutcomeTable {
            offsets: vec![0, 3],
            destination: vec![1, LEAVE, 2],
            alpha: vec![5.0, 2.0, 3.0],
            probability: vec![0.5, 0.2, 0.3],
            concentration: vec![10.0],
            leave: vec![0.2],
        };
        let p: Vec<f64> = (0..3)
            .map(|e| table.adjusted_probability(0, e, 1.5))
            .collect();
        for (got, want) in p.iter().zip([0.4375, 0.3, 0.2625]) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // A multiplier that would push leaving past 1 is capped; certain leaving stays certain.
        assert!(adjusted_leave(0.8, 2.0) < 1.0);
        assert_eq!(adjusted_leave(1.0, 0.5), 1.0);
        assert_eq!(table.adjusted_probability(0, 0, 1.0), 0.5);
    }

    #[test]
    fn leaver_trend_multiplier_is_damped() {
        // level 0, slope ln 0.9, damping 0.5: step 1 → 0.9^0.5, step 2 → 0.9^0.75.
        let t = LeaverTrend {
            level: 0.0,
            slope: 0.9f64.ln(),
            slope_se: 0.01,
            damping: 0.5,
        };
        assert!((t.multiplier(1) - 0.9f64.powf(0.5)).abs() < 1e-12);
        assert!((t.multiplier(2) - 0.9f64.powf(0.75)).abs() < 1e-12);
    }
}
