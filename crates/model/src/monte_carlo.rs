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

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Poisson, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

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
}

/// One joiner NCY's mix as a two-level urn: setting first, then the (need, setting) cell within it. By the
/// aggregation property of the Dirichlet this has exactly the law of the flat urn over cells, with far shorter
/// scans (a mix spreads over dozens of cells but a handful of settings).
struct CompiledJoiners {
    rate: f64,
    ncy: usize,
    /// Cells grouped by setting; within a group, largest pseudo-count first.
    states: Vec<u32>,
    alpha: Vec<f64>,
    /// Per setting group: total pseudo-count and the range of its cells, largest group first.
    group_alpha: Vec<f64>,
    group_cells: Vec<(u32, u32)>,
    concentration: f64,
}

impl CompiledJoiners {
    fn new(params: &Parameters, j: &crate::estimate::JoinerNcy, compact: &[u32]) -> Self {
        let mut groups: Vec<(usize, Vec<(u32, f64)>)> = Vec::new();
        for (&st, &a) in j.mix_state.iter().zip(&j.mix_alpha) {
            let (_, _, setting) = params.space.parts(st as usize);
            let cell = (compact[st as usize], a);
            match groups.iter_mut().find(|g| g.0 == setting) {
                Some(g) => g.1.push(cell),
                None => groups.push((setting, vec![cell])),
            }
        }
        let total = |cells: &[(u32, f64)]| cells.iter().map(|c| c.1).sum::<f64>();
        groups.sort_by(|x, y| total(&y.1).total_cmp(&total(&x.1)).then(x.0.cmp(&y.0)));
        let mut out = Self {
            rate: j.rate(),
            ncy: j.ncy,
            states: Vec::new(),
            alpha: Vec::new(),
            group_alpha: Vec::new(),
            group_cells: Vec::new(),
            concentration: j.mix_alpha.iter().sum(),
        };
        for (_, mut cells) in groups {
            cells.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            let start = out.states.len() as u32;
            out.group_alpha.push(total(&cells));
            for (st, a) in cells {
                out.states.push(st);
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
    let sims = simulate(params, options, mc);
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
    let cols = Columns::of(params);
    let compiled = Compiled::new(params, &cols);
    let years = options.years;
    let f = cols.len();
    // Each simulated year's row: the reporting columns, then joiners and leavers.
    let width = f + 2;
    let census0 = params.base_census.year();
    // Population at each projected census for each joiner NCY, and the trend's per-step terms.
    let population: Vec<Vec<f64>> = (1..=years)
        .map(|h| {
            compiled
                .joiners
                .iter()
                .map(|j| params.population.at(census0 + h as i32, j.ncy))
                .collect()
        })
        .collect();
    let damped: Vec<f64> = (1..=years).map(|h| params.trend.damped_time(h)).collect();
    let log_var: Vec<f64> = (1..=years).map(|h| params.trend.log_variance(h)).collect();
    let persistence: Vec<f64> = (1..=years)
        .map(|h| params.trend.persistence_gradient(h))
        .collect();
    let leave_multiplier: Vec<f64> = (1..=years).map(|h| params.leave_multiplier(h)).collect();
    let uplift: Vec<f64> = (1..=years)
        .map(|h| (1.0 + options.cost_uplift).powi(h as i32))
        .collect();
    let n_states = compiled.states();
    let run_one = |scratch: &mut Scratch, sim: u32| -> Vec<f64> {
        let mut rng = stream(mc.seed, u64::from(sim));
        // Joiner trend: level and slope drawn once (bivariate normal), and persistence; mean-preserving.
        let cov = &params.trend.covariance;
        let z1: f64 = StandardNormal.sample(&mut rng);
        let z2: f64 = StandardNormal.sample(&mut rng);
        let l00 = cov[0][0].max(0.0).sqrt();
        let l10 = if l00 > 0.0 { cov[0][1] / l00 } else { 0.0 };
        let l11 = (cov[1][1] - l10 * l10).max(0.0).sqrt();
        let d_level = l00 * z1;
        let d_slope = l10 * z1 + l11 * z2;
        let z3: f64 = StandardNormal.sample(&mut rng);
        let d_persistence = params.trend.persistence_sd * z3;
        scratch.edge_weight.copy_from_slice(&compiled.alpha);
        scratch
            .state_weight
            .copy_from_slice(&compiled.concentration);
        for (((w, g), t), j) in scratch
            .joiner_weight
            .iter_mut()
            .zip(scratch.joiner_group_weight.iter_mut())
            .zip(scratch.joiner_total.iter_mut())
            .zip(&compiled.joiners)
        {
            w.copy_from_slice(&j.alpha);
            g.copy_from_slice(&j.group_alpha);
            *t = j.concentration;
        }
        // `counts` holds this year's children, `occupied` the states with any (in a fixed order, so the
        // simulation is the same whoever runs it); `next` is all zeros between years.
        let Scratch {
            counts,
            next,
            occupied,
            next_occupied,
            edge_weight,
            state_weight,
            joiner_weight,
            joiner_group_weight,
            joiner_total,
            tally,
        } = scratch;
        counts[..n_states].copy_from_slice(&compiled.base);
        let sink = n_states;
        // Occupied states are kept in fixed-size buffers with explicit lengths, so recording a newly occupied
        // state is branch-free (always write, advance the length only if it was empty and not the sink).
        let mut n_occupied = 0;
        for s in 0..n_states {
            if compiled.base[s] > 0 {
                occupied[n_occupied] = s as u32;
                n_occupied += 1;
            }
        }
        let mut out = vec![0.0f64; years as usize * width];
        let sd = params.trend.yearly_sd;
        for h in 0..years as usize {
            let mut joined = 0u64;
            let mut n_next = 0;
            let lm = leave_multiplier[h];
            for &s in &occupied[..n_occupied] {
                let s = s as usize;
                let n = counts[s];
                counts[s] = 0;
                let r = compiled.offsets[s] as usize..compiled.offsets[s + 1] as usize;
                let dest = &compiled.destination[r.clone()];
                let weight = &mut edge_weight[r];
                let mut total = state_weight[s];
                let leave = compiled.leave_edge[s] as usize;
                let adjust = lm != 1.0 && leave < weight.len() && weight.len() > 1;
                for _ in 0..n {
                    let pick = if adjust {
                        adjusted_draw(&mut rng, weight, total, leave, lm)
                    } else {
                        urn_draw(&mut rng, weight, total)
                    };
                    let d = dest[pick] as usize;
                    total += 1.0;
                    let slot = &mut next[d];
                    next_occupied[n_next] = d as u32;
                    n_next += usize::from(*slot == 0) & usize::from(d != sink);
                    *slot += 1;
                }
                state_weight[s] = total;
            }
            // Joiners.
            let x = damped[h];
            let eta: f64 = if sd > 0.0 {
                let z: f64 = StandardNormal.sample(&mut rng);
                sd * z - 0.5 * sd * sd
            } else {
                0.0
            };
            let mult = (params.trend.log_level
                + d_level
                + (params.trend.slope + d_slope) * x
                + persistence[h] * d_persistence
                - 0.5 * log_var[h]
                + eta)
                .exp()
                / params.trend.pooled_rate;
            for (ji, j) in compiled.joiners.iter().enumerate() {
                let lambda = j.rate * mult * population[h][ji];
                if !(lambda > 0.0 && lambda.is_finite()) {
                    continue;
                }
                let n = Poisson::new(lambda).map_or(0.0, |p| p.sample(&mut rng)) as u64;
                joined += n;
                let weight = &mut joiner_weight[ji];
                let group_weight = &mut joiner_group_weight[ji];
                let mut total = joiner_total[ji];
                for _ in 0..n {
                    let g = urn_draw(&mut rng, group_weight, total);
                    total += 1.0;
                    let (a, b) = j.group_cells[g];
                    let within = group_weight[g] - 1.0;
                    let cell = a as usize
                        + urn_draw(&mut rng, &mut weight[a as usize..b as usize], within);
                    let st = j.states[cell];
                    if st != u32::MAX {
                        let slot = &mut next[st as usize];
                        next_occupied[n_next] = st;
                        n_next += usize::from(*slot == 0);
                        *slot += 1;
                    }
                }
                joiner_total[ji] = total;
            }
            let leavers = u64::from(next[sink]);
            next[sink] = 0;
            std::mem::swap(counts, next);
            std::mem::swap(occupied, next_occupied);
            n_occupied = n_next;
            // This year's figures: integer tallies per column, cost in pence.
            tally.iter_mut().for_each(|t| *t = 0);
            let mut cost = 0.0;
            for &s in &occupied[..n_occupied] {
                let s = s as usize;
                let n = counts[s];
                for &c in &compiled.columns[s] {
                    tally[c as usize] += n;
                }
                cost += f64::from(n) * compiled.unit_cost[s];
            }
            // Place funding only when the costs are split (a separate pass keeps the common loop lean).
            let place: f64 = compiled.place_cost.as_ref().map_or(0.0, |p| {
                occupied[..n_occupied]
                    .iter()
                    .map(|&s| f64::from(counts[s as usize]) * p[s as usize])
                    .sum()
            });
            let row = &mut out[h * width..(h + 1) * width];
            for (slot, &t) in row.iter_mut().zip(tally.iter()) {
                *slot = f64::from(t);
            }
            row[cols.cost()] = cost * uplift[h];
            if cols.split {
                row[cols.place_funding()] = place * uplift[h];
                row[cols.top_up()] = (cost - place) * uplift[h];
            }
            row[f] = joined as f64;
            row[f + 1] = leavers as f64;
        }
        // Leave the scratch clean for the next simulation.
        for &s in &occupied[..n_occupied] {
            counts[s as usize] = 0;
        }
        out
    };

    let new_scratch = || Scratch {
        counts: vec![0; n_states + 1],
        next: vec![0; n_states + 1],
        occupied: vec![0; n_states + 1],
        next_occupied: vec![0; n_states + 1],
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
    };
    let run_all = || -> Vec<Vec<f64>> {
        (0..mc.sims)
            .into_par_iter()
            .map_init(new_scratch, run_one)
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
    Simulations { rows, columns: f }
}
