//! The Monte-Carlo engine: each simulation draws its parameters once (every state's transition probabilities
//! from its Dirichlet, each joiner NCY's mix, the joiner trend's level and slope), then steps children through
//! the years one cohort at a time.
//!
//! Reproducibility: every random stream is seeded from (seed, simulation, purpose) alone, so the output does not
//! depend on the number of threads, the machine or the order simulations run in. A state's probabilities are
//! drawn lazily (only states a simulation visits), from a stream of their own, so laziness changes nothing.

use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution, Gamma, Poisson, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::estimate::{Parameters, LEAVE};
use crate::forecast::{assemble, base_cost, Columns, Engine, Forecast, ProjectionOptions, Summary};

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

/// Cohorts up to this size are stepped child by child; larger ones by a chain of binomials.
const SMALL_COHORT: u32 = 16;

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn stream(seed: u64, sim: u64, purpose: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(splitmix(splitmix(splitmix(seed) ^ sim) ^ purpose))
}

#[inline]
fn uniform<R: Rng>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The parameters laid out for simulation: reachable states only, renumbered densely.
struct Compiled {
    /// Original state index of each compact state.
    state: Vec<usize>,
    offsets: Vec<u32>,
    /// Compact destination, or LEAVE.
    destination: Vec<u32>,
    mean_probability: Vec<f64>,
    gamma: Vec<Option<Gamma<f64>>>,
    /// Reporting columns and annual unit cost (pence) of each compact state.
    columns: Vec<[u32; 4]>,
    unit_cost: Vec<f64>,
    base: Vec<u32>,
    joiners: Vec<CompiledJoiners>,
}

struct CompiledJoiners {
    ncy: usize,
    rate: f64,
    states: Vec<u32>,
    mean_probability: Vec<f64>,
    gamma: Vec<Option<Gamma<f64>>>,
}

impl Compiled {
    fn new(params: &Parameters, cols: &Columns) -> Self {
        let k = params.space.len();
        let mut compact = vec![u32::MAX; k];
        let mut state = Vec::new();
        for s in 0..k {
            if !params.outcomes.edges(s).is_empty() || params.base_stock[s] > 0 {
                compact[s] = state.len() as u32;
                state.push(s);
            }
        }
        let gamma_of = |a: f64| Gamma::new(a, 1.0).ok();
        let mut offsets = vec![0u32];
        let mut destination = Vec::new();
        let mut mean_probability = Vec::new();
        let mut gamma = Vec::new();
        for &s in &state {
            for e in params.outcomes.edges(s) {
                let d = params.outcomes.destination[e];
                destination.push(if d == LEAVE || compact[d as usize] == u32::MAX {
                    LEAVE
                } else {
                    compact[d as usize]
                });
                mean_probability.push(params.outcomes.probability[e]);
                gamma.push(gamma_of(params.outcomes.alpha[e]));
            }
            if params.outcomes.edges(s).is_empty() {
                destination.push(LEAVE);
                mean_probability.push(1.0);
                gamma.push(gamma_of(1.0));
            }
            offsets.push(destination.len() as u32);
        }
        let columns = state
            .iter()
            .map(|&s| cols.of_state(params, s).map(|c| c as u32))
            .collect();
        let unit_cost = state.iter().map(|&s| params.unit_cost_pence[s]).collect();
        let base = state.iter().map(|&s| params.base_stock[s]).collect();
        let joiners = params
            .joiners
            .iter()
            .map(|j| CompiledJoiners {
                ncy: j.ncy,
                rate: j.rate(),
                states: j.mix_state.iter().map(|&s| compact[s as usize]).collect(),
                mean_probability: j.mix_probability.clone(),
                gamma: j.mix_alpha.iter().map(|&a| gamma_of(a)).collect(),
            })
            .collect();
        Self {
            state,
            offsets,
            destination,
            mean_probability,
            gamma,
            columns,
            unit_cost,
            base,
            joiners,
        }
    }
}

/// Draw a Dirichlet into `cum` as cumulative probabilities; falls back to the mean if every gamma underflows.
fn draw_dirichlet<R: Rng>(
    rng: &mut R,
    gamma: &[Option<Gamma<f64>>],
    mean: &[f64],
    cum: &mut [f64],
) {
    let mut total = 0.0;
    for (c, g) in cum.iter_mut().zip(gamma) {
        let x = g.as_ref().map_or(0.0, |g| g.sample(rng));
        total += x;
        *c = total;
    }
    if total > 0.0 && total.is_finite() {
        cum.iter_mut().for_each(|c| *c /= total);
    } else {
        let mut acc = 0.0;
        for (c, m) in cum.iter_mut().zip(mean) {
            acc += m;
            *c = acc;
        }
    }
    if let Some(last) = cum.last_mut() {
        *last = 1.0;
    }
}

#[inline]
fn pick(cum: &[f64], u: f64) -> usize {
    cum.iter().position(|&c| u < c).unwrap_or(cum.len() - 1)
}

/// Per-thread working memory, reused across simulations.
struct Scratch {
    counts: Vec<u32>,
    next: Vec<u32>,
    cum: Vec<f64>,
    drawn_in: Vec<u32>,
    joiner_cum: Vec<Vec<f64>>,
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
        let mut col = Vec::with_capacity(f);
        for c in 0..width {
            for (x, r) in samples.iter_mut().zip(results) {
                *x = r[h * width + c];
            }
            col.push(Summary::of_samples(&mut samples, &quantiles));
        }
        let leavers = col.pop();
        let joiners = col.pop();
        if let (Some(j), Some(l)) = (joiners, leavers) {
            flows.push((j, l));
        }
        per_year.push(col);
    }
    // Financial years per simulation, then summarised.
    let base = base_cost(params);
    let mut financial = Vec::with_capacity(years as usize);
    for h in 0..years as usize {
        for (x, r) in samples.iter_mut().zip(results) {
            let first = if h == 0 {
                base
            } else {
                r[(h - 1) * width + f - 1]
            };
            let second = r[h * width + f - 1];
            *x = (5.0 * first + 7.0 * second) / 12.0;
        }
        financial.push(Summary::of_samples(&mut samples, &quantiles));
    }
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
    let uplift: Vec<f64> = (1..=years)
        .map(|h| (1.0 + options.cost_uplift).powi(h as i32))
        .collect();

    let run_one = |scratch: &mut Scratch, sim: u32| -> Vec<f64> {
        let sim64 = u64::from(sim);
        let mut rng = stream(mc.seed, sim64, u64::MAX);
        let n_states = compiled.state.len() as u64;
        // Joiner trend: level and slope drawn once (bivariate normal), mean-preserving.
        let cov = &params.trend.covariance;
        let z1: f64 = StandardNormal.sample(&mut rng);
        let z2: f64 = StandardNormal.sample(&mut rng);
        let l00 = cov[0][0].max(0.0).sqrt();
        let l10 = if l00 > 0.0 { cov[0][1] / l00 } else { 0.0 };
        let l11 = (cov[1][1] - l10 * l10).max(0.0).sqrt();
        let d_level = l00 * z1;
        let d_slope = l10 * z1 + l11 * z2;
        for (j, jc) in compiled.joiners.iter().zip(scratch.joiner_cum.iter_mut()) {
            let mut jr = stream(mc.seed, sim64, n_states + j.ncy as u64);
            draw_dirichlet(&mut jr, &j.gamma, &j.mean_probability, jc);
        }
        scratch.counts.clear();
        scratch.counts.extend_from_slice(&compiled.base);
        let stamp = sim + 1;
        let mut out = vec![0.0f64; years as usize * width];
        let sd = params.trend.yearly_sd;
        for h in 0..years as usize {
            scratch.next.iter_mut().for_each(|x| *x = 0);
            let mut leavers = 0u64;
            let mut joined = 0u64;
            for s in 0..compiled.state.len() {
                let n = scratch.counts[s];
                if n == 0 {
                    continue;
                }
                let r = compiled.offsets[s] as usize..compiled.offsets[s + 1] as usize;
                if scratch.drawn_in[s] != stamp {
                    scratch.drawn_in[s] = stamp;
                    let mut pr = stream(mc.seed, sim64, s as u64);
                    draw_dirichlet(
                        &mut pr,
                        &compiled.gamma[r.clone()],
                        &compiled.mean_probability[r.clone()],
                        &mut scratch.cum[r.clone()],
                    );
                }
                let cum = &scratch.cum[r.clone()];
                let dest = &compiled.destination[r];
                if n <= SMALL_COHORT {
                    for _ in 0..n {
                        let d = dest[pick(cum, uniform(&mut rng))];
                        if d != LEAVE {
                            scratch.next[d as usize] += 1;
                        } else {
                            leavers += 1;
                        }
                    }
                } else {
                    let mut left = u64::from(n);
                    let mut prev = 0.0;
                    for (i, (&c, &d)) in cum.iter().zip(dest).enumerate() {
                        if left == 0 {
                            break;
                        }
                        let p = c - prev;
                        let remaining = 1.0 - prev;
                        prev = c;
                        let x = if i + 1 == cum.len() || remaining <= p {
                            left
                        } else {
                            let q = (p / remaining).clamp(0.0, 1.0);
                            Binomial::new(left, q).map_or(0, |b| b.sample(&mut rng))
                        };
                        left -= x.min(left);
                        if d != LEAVE {
                            scratch.next[d as usize] += x as u32;
                        } else {
                            leavers += x;
                        }
                    }
                }
            }
            // Joiners.
            let x = damped[h];
            let eta: f64 = if sd > 0.0 {
                let z: f64 = StandardNormal.sample(&mut rng);
                sd * z - 0.5 * sd * sd
            } else {
                0.0
            };
            let mult = (params.trend.log_level + d_level + (params.trend.slope + d_slope) * x
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
                let cum = &scratch.joiner_cum[ji];
                for _ in 0..n {
                    let st = j.states[pick(cum, uniform(&mut rng))];
                    if st != u32::MAX {
                        scratch.next[st as usize] += 1;
                    }
                }
            }
            std::mem::swap(&mut scratch.counts, &mut scratch.next);
            let row = &mut out[h * width..(h + 1) * width];
            row[f] = joined as f64;
            row[f + 1] = leavers as f64;
            for (s, &n) in scratch.counts.iter().enumerate() {
                if n == 0 {
                    continue;
                }
                let v = f64::from(n);
                for &c in &compiled.columns[s] {
                    row[c as usize] += v;
                }
                row[f - 1] += v * compiled.unit_cost[s] * uplift[h];
            }
        }
        out
    };

    let new_scratch = || Scratch {
        counts: Vec::with_capacity(compiled.state.len()),
        next: vec![0; compiled.state.len()],
        cum: vec![0.0; compiled.destination.len()],
        drawn_in: vec![0; compiled.state.len()],
        joiner_cum: compiled
            .joiners
            .iter()
            .map(|j| vec![0.0; j.states.len()])
            .collect(),
    };
    let run_all = || -> Vec<Vec<f64>> {
        (0..mc.sims)
            .into_par_iter()
            .map_init(new_scratch, run_one)
            .collect()
    };
    let results = match mc.threads {
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
        rows: results,
        columns: f,
    }
}
