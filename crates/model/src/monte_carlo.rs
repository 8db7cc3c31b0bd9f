//! The Monte-Carlo engine: each simulation draws its parameters once (every state's transition probabilities
//! from its Dirichlet, each joiner NCY's mix, the joiner trend's level and slope), then steps children through
//! the years.
//!
//! Transition probabilities are drawn once per simulation *implicitly*: each state's children are drawn from a
//! Pólya urn (see [`urn_draw`]), which has exactly the law of a Dirichlet draw followed by independent
//! categorical draws, and costs no gamma variates — that is most of the engine's speed.
//!
//! Reproducibility: each simulation has one random stream seeded from (seed, simulation) alone and visits
//! states in a fixed order, so the output does not depend on the number of threads, the machine or the order
//! simulations run in.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Hypergeometric, Poisson, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::effects::{Effects, StepEffects};
use crate::estimate::{Parameters, LEAVE};
use crate::forecast::{
    assemble, base_money, Columns, Engine, Forecast, ProjectionOptions, Summary,
};

/// Monte-Carlo settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MonteCarloOptions {
    pub sims: u32,
    pub seed: u64,
    /// Worker threads; `None` uses every core. The result is identical whatever the number.
    pub threads: Option<usize>,
}

impl Default for MonteCarloOptions {
    fn default() -> Self {
        Self {
            sims: 1000,
            seed: 1,
            threads: None,
        }
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random stream of one simulation: a function of (seed, simulation) only.
fn stream(seed: u64, sim: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(splitmix(splitmix(seed) ^ sim))
}

#[inline]
fn uniform<R: Rng>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The parameters laid out for simulation: reachable states only, renumbered densely.
struct Compiled {
    offsets: Vec<u32>,
    /// Compact destination; the sink (index = number of states) for leaving.
    destination: Vec<u32>,
    /// Dirichlet pseudo-count of each edge.
    alpha: Vec<f64>,
    /// Dirichlet concentration (sum of pseudo-counts) of each state.
    concentration: Vec<f64>,
    /// Position of each state's leaving edge within its edges (`u32::MAX` if it has none).
    leave_edge: Vec<u32>,
    /// Reporting columns and annual unit cost (pence) of each compact state.
    columns: Vec<[u32; 4]>,
    unit_cost: Vec<f64>,
    /// Place-funding part of each compact state's unit cost, when the costs give the split.
    place_cost: Option<Vec<f64>>,
    base: Vec<u32>,
    joiners: Vec<CompiledJoiners>,
    /// Full state index of each compact state, the compact index of each full state (u32::MAX if none), and
    /// each compact state's setting (the sink's is `u32::MAX`).
    full: Vec<usize>,
    compact: Vec<u32>,
    setting: Vec<u32>,
}

/// One joiner NCY's mix as a two-level urn: setting first, then the (need, setting) cell within it. By the
/// aggregation property of the Dirichlet this has exactly the law of the flat urn over cells, with far shorter
/// scans (a mix spreads over dozens of cells but a handful of settings).
struct CompiledJoiners {
    rate: f64,
    ncy: usize,
    /// Cells grouped by setting; within a group, largest pseudo-count first.
    states: Vec<u32>,
    /// The full state index of each cell (for the levers, which speak of full states).
    full_states: Vec<u32>,
    alpha: Vec<f64>,
    /// Per setting group: total pseudo-count and the range of its cells, largest group first.
    group_alpha: Vec<f64>,
    group_cells: Vec<(u32, u32)>,
    concentration: f64,
}

impl CompiledJoiners {
    fn new(params: &Parameters, j: &crate::estimate::JoinerNcy, compact: &[u32]) -> Self {
        // (setting, its cells as (compact state, pseudo-count, full state)).
        type Cell = (u32, f64, u32);
        let mut groups: Vec<(usize, Vec<Cell>)> = Vec::new();
        for (&st, &a) in j.mix_state.iter().zip(&j.mix_alpha) {
            let (_, _, setting) = params.space.parts(st as usize);
            let cell = (compact[st as usize], a, st);
            match groups.iter_mut().find(|g| g.0 == setting) {
                Some(g) => g.1.push(cell),
                None => groups.push((setting, vec![cell])),
            }
        }
        let total = |cells: &[Cell]| cells.iter().map(|c| c.1).sum::<f64>();
        groups.sort_by(|x, y| total(&y.1).total_cmp(&total(&x.1)).then(x.0.cmp(&y.0)));
        let mut out = Self {
            rate: j.rate(),
            ncy: j.ncy,
            states: Vec::new(),
            full_states: Vec::new(),
            alpha: Vec::new(),
            group_alpha: Vec::new(),
            group_cells: Vec::new(),
            concentration: j.mix_alpha.iter().sum(),
        };
        for (_, mut cells) in groups {
            cells.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            let start = out.states.len() as u32;
            out.group_alpha.push(total(&cells));
            for (st, a, full) in cells {
                out.states.push(st);
                out.full_states.push(full);
                out.alpha.push(a);
            }
            out.group_cells.push((start, out.states.len() as u32));
        }
        out
    }
}

impl Compiled {
    fn new(params: &Parameters, cols: &Columns) -> Self {
        let k = params.space.len();
        let mut compact = vec![u32::MAX; k];
        let mut state = Vec::new();
        for (s, slot) in compact.iter_mut().enumerate() {
            if !params.outcomes.edges(s).is_empty() || params.base_stock[s] > 0 {
                *slot = state.len() as u32;
                state.push(s);
            }
        }
        let mut offsets = vec![0u32];
        let mut destination = Vec::new();
        let mut alpha = Vec::new();
        let mut concentration = Vec::new();
        let mut leave_edge = Vec::new();
        for &s in &state {
            let edges = params.outcomes.edges(s);
            // Leaving is a destination like any other: the sink state after the last compact state.
            let sink = state.len() as u32;
            if edges.is_empty() {
                destination.push(sink);
                alpha.push(1.0);
            }
            for e in edges {
                let d = params.outcomes.destination[e];
                destination.push(if d == LEAVE {
                    sink
                } else {
                    compact[d as usize]
                });
                alpha.push(params.outcomes.alpha[e]);
            }
            let from = *offsets.last().unwrap_or(&0) as usize;
            concentration.push(alpha[from..].iter().sum());
            leave_edge.push(
                destination[from..]
                    .iter()
                    .position(|&d| d == sink)
                    .map_or(u32::MAX, |p| p as u32),
            );
            offsets.push(destination.len() as u32);
        }
        let columns = state
            .iter()
            .map(|&s| cols.of_state(params, s).map(|c| c as u32))
            .collect();
        let unit_cost = state.iter().map(|&s| params.unit_cost_pence[s]).collect();
        let place_cost = params
            .place_funding_pence
            .as_ref()
            .map(|place| state.iter().map(|&s| place[s]).collect());
        let base = state.iter().map(|&s| params.base_stock[s]).collect();
        let joiners = params
            .joiners
            .iter()
            .map(|j| CompiledJoiners::new(params, j, &compact))
            .collect();
        let mut setting: Vec<u32> = state
            .iter()
            .map(|&s| params.space.parts(s).2 as u32)
            .collect();
        setting.push(u32::MAX);
        Self {
            offsets,
            destination,
            alpha,
            concentration,
            leave_edge,
            columns,
            unit_cost,
            place_cost,
            base,
            joiners,
            full: state,
            compact,
            setting,
        }
    }

    /// One year's levers in compact terms. `trend_leave` is the leaver trend's multiplier that year.
    fn step(&self, params: &Parameters, e: &StepEffects, trend_leave: f64) -> CompiledStep {
        let n = self.states();
        let compact_redirects = |r: &[(u32, f64)]| -> Vec<(u32, f64)> {
            r.iter()
                .filter_map(|&(t, share)| {
                    let c = *self.compact.get(t as usize)?;
                    (c != u32::MAX).then_some((c, share))
                })
                .collect()
        };
        let by_compact = |per_state: &[Vec<(u32, f64)>]| -> Vec<Vec<(u32, f64)>> {
            (0..=n)
                .map(
                    |c| match self.full.get(c).and_then(|&full| per_state.get(full)) {
                        Some(r) => compact_redirects(r),
                        None => Vec::new(),
                    },
                )
                .collect()
        };
        let joiners = self
            .joiners
            .iter()
            .map(|j| {
                let m: Vec<f64> = j
                    .full_states
                    .iter()
                    .map(|&full| e.joiner_multiplier(full as usize))
                    .collect();
                let top = m.iter().copied().fold(0.0f64, f64::max);
                (m, top)
            })
            .collect();
        let places = e
            .places
            .iter()
            .map(|limit| {
                let states = (0..n)
                    .filter(|&c| self.setting[c] as usize == limit.setting)
                    .map(|c| {
                        let (a, need, _) = params.space.parts(self.full[c]);
                        let target = params.space.index(a, need, limit.overflow);
                        (c as u32, self.compact[target])
                    })
                    .collect();
                (
                    states,
                    limit.places.max(0.0).floor() as u64,
                    limit.expected_excess,
                )
            })
            .collect();
        CompiledStep {
            leave: self
                .full
                .iter()
                .map(|&s| trend_leave * e.leave_multiplier(s))
                .collect(),
            joiners,
            joiner_redirect: by_compact(&e.joiner_redirect),
            mover_redirect: by_compact(&e.mover_redirect),
            places,
        }
    }

    fn states(&self) -> usize {
        self.base.len()
    }
}

/// Draw one outcome from a Pólya urn whose weights are `weight` (the Dirichlet pseudo-counts plus the outcomes
/// already drawn) with sum `total`, then add one to the drawn outcome's weight. A sequence of urn draws has
/// exactly the law of drawing the probabilities once from the Dirichlet and then drawing outcomes independently
/// (Blackwell–MacQueen), so parameter uncertainty is drawn once per simulation without a single gamma variate.
#[inline]
fn urn_draw<R: Rng>(rng: &mut R, weight: &mut [f64], total: f64) -> usize {
    let mut u = uniform(rng) * total;
    let mut pick = weight.len() - 1;
    for (i, w) in weight.iter().enumerate() {
        if u < *w {
            pick = i;
            break;
        }
        u -= w;
    }
    weight[pick] += 1.0;
    pick
}

/// An outcome other than leaving, drawn from the urn's current weights (for leavers a falling leaving rate
/// keeps). `total` is the sum of all weights. Returns `leave` itself only if the state has no other outcome.
#[inline]
fn stay_draw<R: Rng>(rng: &mut R, weight: &[f64], total: f64, leave: usize) -> usize {
    let mut u = uniform(rng) * (total - weight[leave]);
    let mut pick = leave;
    for (i, w) in weight.iter().enumerate() {
        if i == leave {
            continue;
        }
        pick = i;
        if u < *w {
            break;
        }
        u -= w;
    }
    pick
}

/// Draw one child's outcome from state's urn under a leaving-rate multiplier `m` (≠ 1): the urn draws as usual
/// (and keeps that draw, so the simulation's parameters stay one Dirichlet draw), then the outcome is thinned
/// towards or away from leaving so that P(leave) = m × the urn's predictive leaving probability.
#[inline]
fn adjusted_draw<R: Rng>(
    rng: &mut R,
    weight: &mut [f64],
    total: f64,
    leave: usize,
    m: f64,
) -> usize {
    let pl = weight[leave] / total;
    let pick = urn_draw(rng, weight, total);
    if m > 1.0 {
        if pick != leave && pl < 1.0 {
            let c = (pl * (m - 1.0) / (1.0 - pl)).min(1.0);
            if uniform(rng) < c {
                return leave;
            }
        }
        pick
    } else if pick == leave && uniform(rng) < 1.0 - m {
        stay_draw(rng, weight, total + 1.0, leave)
    } else {
        pick
    }
}

/// Per-thread working memory, reused across simulations.
struct Scratch {
    counts: Vec<u32>,
    next: Vec<u32>,
    occupied: Vec<u32>,
    next_occupied: Vec<u32>,
    /// How many entries of `occupied` and `next_occupied` are in use.
    n_occupied: usize,
    n_next: usize,
    /// Children per reporting column (cost excluded) in the year being recorded.
    tally: Vec<u32>,
    /// Urn weights per edge and per state (pseudo-counts plus draws so far) in the current simulation.
    edge_weight: Vec<f64>,
    state_weight: Vec<f64>,
    joiner_weight: Vec<Vec<f64>>,
    joiner_group_weight: Vec<Vec<f64>>,
    joiner_total: Vec<f64>,
}

/// Every simulation's yearly rows: the reporting columns (see `Columns`), then joiners and leavers.
pub(crate) struct Simulations {
    pub(crate) rows: Vec<Vec<f64>>,
    pub(crate) columns: usize,
}

impl Simulations {
    pub(crate) fn width(&self) -> usize {
        self.columns + 2
    }
}

/// Run the Monte-Carlo engine.
pub fn project(
    params: &Parameters,
    options: &ProjectionOptions,
    mc: &MonteCarloOptions,
) -> Forecast {
    project_with(params, options, mc, &Effects::none())
}

/// Run the Monte-Carlo engine under a scenario's levers.
pub fn project_with(
    params: &Parameters,
    options: &ProjectionOptions,
    mc: &MonteCarloOptions,
    effects: &Effects,
) -> Forecast {
    let sims = simulate_with(params, options, mc, effects, None);
    forecast_of(params, options, mc, &sims)
}

/// Each simulation's placement cost per financial year (pence): FY starting in the base census's year + i =
/// 5/12 × census i + 7/12 × census i + 1, census 0 being the base as known.
pub(crate) fn placement_by_fy_per_simulation(
    params: &Parameters,
    sims: &Simulations,
) -> Vec<(highneeds_domain::FinancialYear, Vec<f64>)> {
    let cols = Columns::of(params);
    let width = sims.width();
    let base = crate::forecast::base_cost(params);
    let years = sims.rows.first().map_or(0, |r| r.len() / width);
    (0..years)
        .filter_map(|h| {
            let fy =
                highneeds_domain::FinancialYear::starting(params.base_census.year() + h as i32)
                    .ok()?;
            let per_sim = sims
                .rows
                .iter()
                .map(|r| {
                    let first = if h == 0 {
                        base
                    } else {
                        r[(h - 1) * width + cols.cost()]
                    };
                    (5.0 * first + 7.0 * r[h * width + cols.cost()]) / 12.0
                })
                .collect();
            Some((fy, per_sim))
        })
        .collect()
}

/// Summarise simulations into a forecast.
pub(crate) fn forecast_of(
    params: &Parameters,
    options: &ProjectionOptions,
    mc: &MonteCarloOptions,
    sims: &Simulations,
) -> Forecast {
    let results = &sims.rows;
    let f = sims.columns;
    let width = sims.width();
    let years = options.years;
    let quantiles = options.all_quantiles();
    let mut samples = vec![0.0f64; results.len()];
    let mut per_year = Vec::with_capacity(years as usize);
    let mut flows = Vec::with_capacity(years as usize);
    for h in 0..years as usize {
        // Each column's summary sorts its own copy of the samples: independent, so in parallel.
        let mut col: Vec<Summary> = (0..width)
            .into_par_iter()
            .map(|c| {
                let mut column: Vec<f64> = results.iter().map(|r| r[h * width + c]).collect();
                Summary::of_samples(&mut column, &quantiles)
            })
            .collect();
        let leavers = col.pop();
        let joiners = col.pop();
        if let (Some(j), Some(l)) = (joiners, leavers) {
            flows.push((j, l));
        }
        per_year.push(col);
    }
    // Financial years per simulation, then summarised, for each money line (cost; place funding, top-up).
    let cols = Columns::of(params);
    let mut financial = Vec::new();
    for (column, base) in cols.money().into_iter().zip(base_money(params)) {
        let mut line = Vec::with_capacity(years as usize);
        for h in 0..years as usize {
            for (x, r) in samples.iter_mut().zip(results) {
                let first = if h == 0 {
                    base
                } else {
                    r[(h - 1) * width + column]
                };
                let second = r[h * width + column];
                *x = (5.0 * first + 7.0 * second) / 12.0;
            }
            line.push(Summary::of_samples(&mut samples, &quantiles));
        }
        financial.push(line);
    }
    debug_assert_eq!(f, cols.len());
    assemble(
        params,
        Engine::MonteCarlo,
        Some(mc.sims),
        Some(mc.seed),
        per_year,
        flows,
        financial,
    )
}

pub(crate) fn simulate(
    params: &Parameters,
    options: &ProjectionOptions,
    mc: &MonteCarloOptions,
) -> Simulations {
    simulate_with(params, options, mc, &Effects::none(), None)
}

/// Every simulation's yearly rows under a scenario's levers; `progress` (if any) counts the simulations finished.
pub(crate) fn simulate_with(
    params: &Parameters,
    options: &ProjectionOptions,
    mc: &MonteCarloOptions,
    effects: &Effects,
    progress: Option<&AtomicU64>,
) -> Simulations {
    let cols = Columns::of(params);
    let compiled = Compiled::new(params, &cols);
    let run = Run::new(params, options, &compiled, cols, effects);
    let run_all = || -> Vec<Vec<f64>> {
        (0..mc.sims)
            .into_par_iter()
            .map_init(
                || Scratch::new(&compiled, &cols),
                |scratch, sim| {
                    let rows = run.simulate_one(scratch, mc.seed, sim);
                    if let Some(done) = progress {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    rows
                },
            )
            .collect()
    };
    let rows = match mc.threads {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
        {
            Ok(pool) => pool.install(run_all),
            Err(_) => run_all(),
        },
        None => run_all(),
    };
    Simulations {
        rows,
        columns: cols.len(),
    }
}

/// One run's fixed inputs per projected year, computed once and shared by every simulation.
struct Run<'a> {
    params: &'a Parameters,
    compiled: &'a Compiled,
    cols: Columns,
    years: u32,
    /// Population at each projected census for each joiner NCY, and the joiner trend's per-step terms.
    population: Vec<Vec<f64>>,
    damped: Vec<f64>,
    log_var: Vec<f64>,
    persistence: Vec<f64>,
    /// The leaver trend's multiplier per step.
    leave_multiplier: Vec<f64>,
    /// The levers, per step, in compact-state terms (`None`: no lever acts that year).
    levers: Vec<Option<CompiledStep>>,
    /// The uplift of unit costs per step.
    uplift: Vec<f64>,
    /// Unit cost and place funding per compact state, uplift and levers included, for the steps where a lever
    /// changes unit costs (`None`: the compiled costs × the uplift).
    unit_cost: Vec<Option<Vec<f64>>>,
    place_cost: Vec<Option<Vec<f64>>>,
}

/// A place limit over compact states: (state, its overflow state or u32::MAX) for the setting's states, the
/// places, and the expected excess (see `PlaceLimit`).
type PlaceRule = (Vec<(u32, u32)>, u64, Option<f64>);

/// One year's levers over compact states.
struct CompiledStep {
    /// Leave multiplier per compact state (levers × the leaver trend).
    leave: Vec<f64>,
    /// Per joiner NCY: each cell's multiplier and the largest (joiners are drawn at the largest rate, then
    /// thinned: exact for Poisson arrivals).
    joiners: Vec<(Vec<f64>, f64)>,
    /// Redirections by compact destination: (compact target, share).
    joiner_redirect: Vec<Vec<(u32, f64)>>,
    mover_redirect: Vec<Vec<(u32, f64)>>,
    /// Place limits: the compact states of the setting, each with its compact overflow state (u32::MAX if none),
    /// the places, and the expected excess to move where places follow the forecast's need.
    places: Vec<PlaceRule>,
}

impl<'a> Run<'a> {
    fn new(
        params: &'a Parameters,
        options: &ProjectionOptions,
        compiled: &'a Compiled,
        cols: Columns,
        effects: &Effects,
    ) -> Self {
        let years = options.years;
        let census0 = params.base_census.year();
        let steps = 1..=years;
        let leave_multiplier: Vec<f64> =
            steps.clone().map(|h| params.leave_multiplier(h)).collect();
        let levers = steps
            .clone()
            .map(|h| {
                effects
                    .step(h)
                    .map(|e| compiled.step(params, e, leave_multiplier[h as usize - 1]))
            })
            .collect();
        let uplift: Vec<f64> = steps
            .clone()
            .map(|h| (1.0 + options.cost_uplift).powi(h as i32))
            .collect();
        let priced = |h: u32, per_state: &[f64]| -> Option<Vec<f64>> {
            let e = effects.step(h).filter(|e| !e.cost.is_empty())?;
            Some(
                per_state
                    .iter()
                    .zip(&compiled.full)
                    .map(|(&u, &full)| u * uplift[h as usize - 1] * e.cost_multiplier(full))
                    .collect(),
            )
        };
        let unit_cost = steps
            .clone()
            .map(|h| priced(h, &compiled.unit_cost))
            .collect();
        let place_cost = steps
            .clone()
            .map(|h| compiled.place_cost.as_ref().and_then(|p| priced(h, p)))
            .collect();
        Self {
            params,
            compiled,
            cols,
            years,
            population: steps
                .clone()
                .map(|h| {
                    compiled
                        .joiners
                        .iter()
                        .map(|j| params.population.at(census0 + h as i32, j.ncy))
                        .collect()
                })
                .collect(),
            damped: steps.clone().map(|h| params.trend.damped_time(h)).collect(),
            log_var: steps
                .clone()
                .map(|h| params.trend.log_variance(h))
                .collect(),
            persistence: steps
                .clone()
                .map(|h| params.trend.persistence_gradient(h))
                .collect(),
            leave_multiplier,
            levers,
            uplift,
            unit_cost,
            place_cost,
        }
    }

    /// One simulation: its yearly rows (reporting columns, then joiners and leavers).
    fn simulate_one(&self, scratch: &mut Scratch, seed: u64, sim: u32) -> Vec<f64> {
        let mut rng = stream(seed, u64::from(sim));
        let trend = TrendDraw::sample(self.params, &mut rng);
        scratch.start(self.compiled);
        let width = self.cols.len() + 2;
        let mut out = vec![0.0f64; self.years as usize * width];
        for h in 0..self.years as usize {
            let levers = self.levers[h].as_ref();
            self.move_children(scratch, &mut rng, h, levers);
            let mult = trend.joiner_multiplier(self, h, &mut rng);
            let joined = self.add_joiners(scratch, &mut rng, h, mult, levers);
            let sink = self.compiled.states();
            let leavers = u64::from(scratch.next[sink]);
            scratch.next[sink] = 0;
            if let Some(levers) = levers {
                for (states, places, expected) in &levers.places {
                    scratch.enforce_places(&mut rng, states, *places, *expected);
                }
            }
            scratch.end_year();
            let row = &mut out[h * width..(h + 1) * width];
            self.record(scratch, h, row);
            row[width - 2] = joined as f64;
            row[width - 1] = leavers as f64;
        }
        scratch.finish();
        out
    }

    /// Every child of this year's states to its outcome (a state, or the sink for leaving), into `next`.
    fn move_children(
        &self,
        scratch: &mut Scratch,
        rng: &mut Xoshiro256PlusPlus,
        h: usize,
        levers: Option<&CompiledStep>,
    ) {
        let c = self.compiled;
        let sink = c.states();
        let Scratch {
            counts,
            next,
            occupied,
            next_occupied,
            n_occupied,
            n_next,
            edge_weight,
            state_weight,
            ..
        } = scratch;
        *n_next = 0;
        for &s in &occupied[..*n_occupied] {
            let s = s as usize;
            let n = counts[s];
            counts[s] = 0;
            let r = c.offsets[s] as usize..c.offsets[s + 1] as usize;
            let dest = &c.destination[r.clone()];
            let weight = &mut edge_weight[r];
            let mut total = state_weight[s];
            let leave = c.leave_edge[s] as usize;
            let lm = levers.map_or(self.leave_multiplier[h], |l| l.leave[s]);
            let adjust = lm != 1.0 && leave < weight.len() && weight.len() > 1;
            for _ in 0..n {
                let pick = if adjust {
                    adjusted_draw(rng, weight, total, leave, lm)
                } else {
                    urn_draw(rng, weight, total)
                };
                let mut d = dest[pick] as usize;
                total += 1.0;
                if let Some(l) = levers {
                    if d != sink && c.setting[d] != c.setting[s] {
                        d = redirected(rng, d, &l.mover_redirect[d]);
                    }
                }
                let slot = &mut next[d];
                next_occupied[*n_next] = d as u32;
                *n_next += usize::from(*slot == 0) & usize::from(d != sink);
                *slot += 1;
            }
            state_weight[s] = total;
        }
    }

    /// This year's joiners, drawn per NCY (Poisson, then each child's cell from the mix urn), into `next`.
    fn add_joiners(
        &self,
        scratch: &mut Scratch,
        rng: &mut Xoshiro256PlusPlus,
        h: usize,
        mult: f64,
        levers: Option<&CompiledStep>,
    ) -> u64 {
        let mut joined = 0u64;
        for (ji, j) in self.compiled.joiners.iter().enumerate() {
            let (cell_mult, top) = match levers {
                Some(l) => (Some(&l.joiners[ji].0), l.joiners[ji].1),
                None => (None, 1.0),
            };
            let lambda = j.rate * mult * self.population[h][ji] * top;
            if !(lambda > 0.0 && lambda.is_finite()) {
                continue;
            }
            let n = Poisson::new(lambda).map_or(0.0, |p| p.sample(rng)) as u64;
            let weight = &mut scratch.joiner_weight[ji];
            let group_weight = &mut scratch.joiner_group_weight[ji];
            let mut total = scratch.joiner_total[ji];
            for _ in 0..n {
                let g = urn_draw(rng, group_weight, total);
                total += 1.0;
                let (a, b) = j.group_cells[g];
                let within = group_weight[g] - 1.0;
                let cell = a as usize + urn_draw(rng, &mut weight[a as usize..b as usize], within);
                let mut st = j.states[cell];
                if st == u32::MAX {
                    continue;
                }
                if let (Some(m), Some(l)) = (cell_mult, levers) {
                    if m[cell] < top && uniform(rng) * top >= m[cell] {
                        continue;
                    }
                    st = redirected(rng, st as usize, &l.joiner_redirect[st as usize]) as u32;
                }
                joined += 1;
                let slot = &mut scratch.next[st as usize];
                scratch.next_occupied[scratch.n_next] = st;
                scratch.n_next += usize::from(*slot == 0);
                *slot += 1;
            }
            scratch.joiner_total[ji] = total;
        }
        joined
    }

    /// This year's figures into `row`: integer tallies per column, cost in pence.
    fn record(&self, scratch: &mut Scratch, h: usize, row: &mut [f64]) {
        let (c, cols) = (self.compiled, self.cols);
        let (unit_cost, scale) = match &self.unit_cost[h] {
            Some(priced) => (priced.as_slice(), 1.0),
            None => (c.unit_cost.as_slice(), self.uplift[h]),
        };
        scratch.tally.iter_mut().for_each(|t| *t = 0);
        let mut cost = 0.0;
        for &s in &scratch.occupied[..scratch.n_occupied] {
            let s = s as usize;
            let n = scratch.counts[s];
            for &col in &c.columns[s] {
                scratch.tally[col as usize] += n;
            }
            cost += f64::from(n) * unit_cost[s];
        }
        // Place funding only when the costs are split (a separate pass keeps the common loop lean).
        let place_per_state = match (&self.place_cost[h], &c.place_cost) {
            (Some(priced), _) => Some(priced.as_slice()),
            (None, Some(compiled)) => Some(compiled.as_slice()),
            (None, None) => None,
        };
        let place: f64 = place_per_state.map_or(0.0, |p| {
            scratch.occupied[..scratch.n_occupied]
                .iter()
                .map(|&s| f64::from(scratch.counts[s as usize]) * p[s as usize])
                .sum()
        });
        for (slot, &t) in row.iter_mut().zip(scratch.tally.iter()) {
            *slot = f64::from(t);
        }
        row[cols.cost()] = cost * scale;
        if cols.split {
            row[cols.place_funding()] = place * scale;
            row[cols.top_up()] = (cost - place) * scale;
        }
    }
}

/// Where one child arriving in `d` ends up under the redirections out of `d` (one uniform draw, only when any).
#[inline]
fn redirected(rng: &mut Xoshiro256PlusPlus, d: usize, redirects: &[(u32, f64)]) -> usize {
    if redirects.is_empty() {
        return d;
    }
    let mut u = uniform(rng);
    for &(t, share) in redirects {
        if u < share {
            return t as usize;
        }
        u -= share;
    }
    d
}

/// A simulation's draw of the joiner trend: level and slope (bivariate normal) and persistence, drawn once.
struct TrendDraw {
    d_level: f64,
    d_slope: f64,
    d_persistence: f64,
}

impl TrendDraw {
    fn sample(params: &Parameters, rng: &mut Xoshiro256PlusPlus) -> Self {
        let cov = &params.trend.covariance;
        let z1: f64 = StandardNormal.sample(rng);
        let z2: f64 = StandardNormal.sample(rng);
        let l00 = cov[0][0].max(0.0).sqrt();
        let l10 = if l00 > 0.0 { cov[0][1] / l00 } else { 0.0 };
        let l11 = (cov[1][1] - l10 * l10).max(0.0).sqrt();
        let z3: f64 = StandardNormal.sample(rng);
        Self {
            d_level: l00 * z1,
            d_slope: l10 * z1 + l11 * z2,
            d_persistence: params.trend.persistence_sd * z3,
        }
    }

    /// The joiner rate's multiplier (relative to the pooled rate) in year `h`, with this year's noise drawn;
    /// mean-preserving.
    fn joiner_multiplier(&self, run: &Run, h: usize, rng: &mut Xoshiro256PlusPlus) -> f64 {
        let t = &run.params.trend;
        let sd = t.yearly_sd;
        let eta: f64 = if sd > 0.0 {
            let z: f64 = StandardNormal.sample(rng);
            sd * z - 0.5 * sd * sd
        } else {
            0.0
        };
        (t.log_level
            + self.d_level
            + (t.slope + self.d_slope) * run.damped[h]
            + run.persistence[h] * self.d_persistence
            - 0.5 * run.log_var[h]
            + eta)
            .exp()
            / t.pooled_rate
    }
}

impl Scratch {
    fn new(compiled: &Compiled, cols: &Columns) -> Self {
        let n_states = compiled.states();
        Self {
            counts: vec![0; n_states + 1],
            next: vec![0; n_states + 1],
            occupied: vec![0; n_states + 1],
            next_occupied: vec![0; n_states + 1],
            n_occupied: 0,
            n_next: 0,
            tally: vec![0; cols.cost()],
            edge_weight: vec![0.0; compiled.destination.len()],
            state_weight: vec![0.0; n_states],
            joiner_weight: compiled
                .joiners
                .iter()
                .map(|j| vec![0.0; j.states.len()])
                .collect(),
            joiner_group_weight: compiled
                .joiners
                .iter()
                .map(|j| vec![0.0; j.group_alpha.len()])
                .collect(),
            joiner_total: vec![0.0; compiled.joiners.len()],
        }
    }

    /// Urns back to their pseudo-counts and the base census's children in place.
    fn start(&mut self, compiled: &Compiled) {
        self.edge_weight.copy_from_slice(&compiled.alpha);
        self.state_weight.copy_from_slice(&compiled.concentration);
        for (((w, g), t), j) in self
            .joiner_weight
            .iter_mut()
            .zip(self.joiner_group_weight.iter_mut())
            .zip(self.joiner_total.iter_mut())
            .zip(&compiled.joiners)
        {
            w.copy_from_slice(&j.alpha);
            g.copy_from_slice(&j.group_alpha);
            *t = j.concentration;
        }
        let n_states = compiled.states();
        self.counts[..n_states].copy_from_slice(&compiled.base);
        // Occupied states are kept in fixed-size buffers with explicit lengths, so recording a newly occupied
        // state is branch-free (always write, advance the length only if it was empty and not the sink).
        self.n_occupied = 0;
        for s in 0..n_states {
            if compiled.base[s] > 0 {
                self.occupied[self.n_occupied] = s as u32;
                self.n_occupied += 1;
            }
        }
    }

    /// `next` becomes this year's children (`counts`); `next` is all zeros again.
    fn end_year(&mut self) {
        std::mem::swap(&mut self.counts, &mut self.next);
        std::mem::swap(&mut self.occupied, &mut self.next_occupied);
        self.n_occupied = self.n_next;
    }

    /// Leave the scratch clean for the next simulation.
    fn finish(&mut self) {
        for &s in &self.occupied[..self.n_occupied] {
            self.counts[s as usize] = 0;
        }
    }

    /// Children in `next` above `places` at a setting's states (or, where places follow the forecast's need, the
    /// expected excess rounded at random to a whole child) move to their overflow states, chosen uniformly at
    /// random among the setting's children that can move (multivariate hypergeometric, state by state).
    fn enforce_places(
        &mut self,
        rng: &mut Xoshiro256PlusPlus,
        states: &[(u32, u32)],
        places: u64,
        expected: Option<f64>,
    ) {
        let count = |&(s, o): &(u32, u32)| {
            if o == u32::MAX {
                0
            } else {
                u64::from(self.next[s as usize])
            }
        };
        let movable: u64 = states.iter().map(count).sum();
        let excess = match expected {
            None => {
                let total: u64 = states
                    .iter()
                    .map(|&(s, _)| u64::from(self.next[s as usize]))
                    .sum();
                total.saturating_sub(places)
            }
            Some(x) if x > 0.0 => {
                let whole = x.floor();
                whole as u64 + u64::from(uniform(rng) < x - whole)
            }
            Some(_) => 0,
        };
        let (mut excess, mut remaining) = (excess.min(movable), movable);
        for &(s, overflow) in states {
            if excess == 0 {
                break;
            }
            if overflow == u32::MAX {
                continue;
            }
            let n = u64::from(self.next[s as usize]);
            if n == 0 {
                continue;
            }
            let moved = if n == remaining {
                excess
            } else {
                Hypergeometric::new(remaining, n, excess).map_or(0, |d| d.sample(rng))
            };
            let moved = moved.min(n).min(excess);
            remaining -= n;
            excess -= moved;
            if moved == 0 {
                continue;
            }
            self.next[s as usize] -= moved as u32;
            let slot = &mut self.next[overflow as usize];
            self.next_occupied[self.n_next] = overflow;
            self.n_next += usize::from(*slot == 0);
            *slot += moved as u32;
        }
    }
}
