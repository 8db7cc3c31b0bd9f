//! The analytic engine: expected plans per state propagated exactly, and the variance of every reported figure
//! (total, each setting, need, age group and cost) computed exactly for the branching process with *known*
//! transition probabilities, plus the joiner-rate uncertainty (delta method) and a per-year overdispersion
//! factor for the Dirichlet uncertainty of each state's transition probabilities. That factor is an
//! approximation: the Monte-Carlo engine keeps a state's parameters across years (a positive cross-year
//! covariance the factor omits) and also draws the joiner mix; on Exampleshire the two engines' sds agree
//! within about 3 % at 5 years. Use Monte-Carlo for published intervals, analytic for live editing.
//!
//! Variance of a figure f·X_h uses the backward recursion of the law of total variance:
//! with g_h = f and g_{k−1}(s) = Σ_e p_e g_k(dest_e) (the expected contribution to f of a child in s at k−1),
//! Var(f·X_h) = Σ_k Σ_s E[X_{k−1}(s)] (Σ_e p_e g_k(dest_e)² − g_{k−1}(s)²) × DM(s) + Σ_k Var(g_k·J_k) + rate terms.

use rayon::prelude::*;

use crate::effects::{enforce_places_on_means, split_flow, Effects, StepEffects};
use crate::estimate::{Parameters, LEAVE};
use crate::forecast::{
    assemble, base_money, Columns, Engine, Forecast, ProjectionOptions, Summary,
};

/// Expected joiners per state at projection step `h` (1 = first projected census), after the step's levers
/// (rate multipliers, then redirection). Returns the total.
pub(crate) fn expected_joiners(
    params: &Parameters,
    effects: Option<&StepEffects>,
    h: u32,
    out: &mut [f64],
) -> f64 {
    out.iter_mut().for_each(|x| *x = 0.0);
    let census = params.base_census.year() + h as i32;
    let mult = params.trend.multiplier(h);
    let mut total = 0.0;
    for j in &params.joiners {
        let lambda = j.rate() * mult * params.population.at(census, j.ncy);
        for (&st, &p) in j.mix_state.iter().zip(&j.mix_probability) {
            let (m, redirects) = match effects {
                Some(e) => (
                    e.joiner_multiplier(st as usize),
                    e.joiner_redirects(st as usize),
                ),
                None => (1.0, &[][..]),
            };
            let x = lambda * p * m;
            total += x;
            split_flow(st, x, redirects, |d, v| out[d as usize] += v);
        }
    }
    total
}

/// Each outcome of one child in state `s` over projection step `h`: `f(destination or LEAVE, probability)`, with
/// the leaver trend, the step's leave multiplier and movers' redirection applied.
#[inline]
pub(crate) fn for_each_outcome(
    params: &Parameters,
    effects: Option<&StepEffects>,
    h: u32,
    s: usize,
    mut f: impl FnMut(u32, f64),
) {
    let o = &params.outcomes;
    let Some(e) = effects else {
        let lm = params.leave_multiplier(h);
        for edge in o.edges(s) {
            f(o.destination[edge], o.adjusted_probability(s, edge, lm));
        }
        return;
    };
    let lm = params.leave_multiplier(h) * e.leave_multiplier(s);
    for edge in o.edges(s) {
        let d = o.destination[edge];
        let p = o.adjusted_probability(s, edge, lm);
        // Movers into a redirected state from another setting are sent on; the setting is found only for a
        // destination with redirects (it costs a division, and most have none).
        let redirects = if d == LEAVE {
            &[][..]
        } else {
            e.mover_redirects(d as usize)
        };
        if redirects.is_empty() || params.space.setting_of(d as usize) == params.space.setting_of(s)
        {
            f(d, p);
        } else {
            split_flow(d, p, redirects, &mut f);
        }
    }
}

/// Expected plans per state at each step 0..=years (0 = the base census).
pub fn expected_counts(params: &Parameters, years: u32) -> Vec<Vec<f64>> {
    expected_counts_with(params, years, &Effects::none())
}

/// [`expected_counts`] under a scenario's levers.
pub fn expected_counts_with(params: &Parameters, years: u32, effects: &Effects) -> Vec<Vec<f64>> {
    expected_counts_recording(params, years, effects).0
}

/// [`expected_counts_with`], and the children each step's place limits moved (`[h − 1][limit]`).
pub fn expected_counts_recording(
    params: &Parameters,
    years: u32,
    effects: &Effects,
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let mut moved = Vec::with_capacity(years as usize);
    let k = params.space.len();
    let mut means = Vec::with_capacity(years as usize + 1);
    means.push(
        params
            .base_stock
            .iter()
            .map(|&c| f64::from(c))
            .collect::<Vec<f64>>(),
    );
    let mut joiners = vec![0.0; k];
    for h in 1..=years {
        let step = effects.step(h);
        let prev = &means[h as usize - 1];
        let mut next = vec![0.0; k];
        for (s, &m) in prev.iter().enumerate() {
            if m == 0.0 {
                continue;
            }
            for_each_outcome(params, step, h, s, |d, p| {
                if d != LEAVE {
                    next[d as usize] += m * p;
                }
            });
        }
        expected_joiners(params, step, h, &mut joiners);
        for (n, j) in next.iter_mut().zip(&joiners) {
            *n += j;
        }
        moved.push(step.map_or_else(Vec::new, |step| {
            step.places
                .iter()
                .map(|limit| enforce_places_on_means(params, limit, &mut next))
                .collect()
        }));
        means.push(next);
    }
    (means, moved)
}

/// Run the analytic engine.
pub fn project(params: &Parameters, options: &ProjectionOptions) -> Forecast {
    project_with(params, options, &Effects::none())
}

/// Run the analytic engine under a scenario's levers.
pub fn project_with(
    params: &Parameters,
    options: &ProjectionOptions,
    effects: &Effects,
) -> Forecast {
    let means = expected_counts_with(params, options.years, effects);
    project_with_means(params, options, effects, &means)
}

/// [`project_with`] from the expected plans per state already computed under the same effects
/// ([`expected_counts_with`], over at least `options.years`): a scenario's run computes them once for its ledger,
/// its intervals and its sufficiency.
pub fn project_with_means(
    params: &Parameters,
    options: &ProjectionOptions,
    effects: &Effects,
    means: &[Vec<f64>],
) -> Forecast {
    let (per_year, flows, financial) = summaries_from(params, options, effects, means);
    assemble(
        params,
        Engine::Analytic,
        None,
        None,
        per_year,
        flows,
        financial,
    )
}

/// Per-year column summaries, flows and per-FY cost summaries of the analytic engine (what [`project`]
/// assembles into a forecast; the national forecast sums their means and variances).
pub(crate) type AnalyticSummaries = (
    Vec<Vec<Summary>>,
    Vec<(Summary, Summary)>,
    Vec<Vec<Summary>>,
);

pub(crate) fn summaries(params: &Parameters, options: &ProjectionOptions) -> AnalyticSummaries {
    summaries_with(params, options, &Effects::none())
}

fn summaries_with(
    params: &Parameters,
    options: &ProjectionOptions,
    effects: &Effects,
) -> AnalyticSummaries {
    let means = expected_counts_with(params, options.years, effects);
    summaries_from(params, options, effects, &means)
}

fn summaries_from(
    params: &Parameters,
    options: &ProjectionOptions,
    effects: &Effects,
    means: &[Vec<f64>],
) -> AnalyticSummaries {
    let years = options.years;
    let quantiles = options.all_quantiles();
    let cols = Columns::of(params);
    let pass = VariancePass::new(params, options, effects, &cols, means);
    // Each projected year's variances need their own backward pass; they are independent, so run in parallel
    // (the result does not depend on the number of threads: every pass is sequential and self-contained).
    let per_year: Vec<Vec<Summary>> = (1..=years)
        .into_par_iter()
        .map_init(Scratch::default, |scratch, target| {
            pass.summaries_at(target, &quantiles, scratch)
        })
        .collect();
    let financial = financial_years(params, &per_year, &cols, &quantiles);
    let flows = (1..=years)
        .map(|h| flows_at(params, effects, means, h, &quantiles))
        .collect();
    (per_year, flows, financial)
}

/// Joiners and leavers in projected year `h`: means and (Poisson / binomial, plus the joiner rate's) spread.
fn flows_at(
    params: &Parameters,
    effects: &Effects,
    means: &[Vec<f64>],
    h: u32,
    quantiles: &[f64],
) -> (Summary, Summary) {
    let step = effects.step(h);
    let mut joiners = vec![0.0; params.space.len()];
    let joined = expected_joiners(params, step, h, &mut joiners);
    let noise = params.trend.yearly_sd.powi(2).exp_m1();
    let rate_var = params.trend.log_variance(h);
    let (mut left, mut left_var) = (0.0, 0.0);
    for (s, &m) in means[h as usize - 1].iter().enumerate() {
        if m == 0.0 {
            continue;
        }
        let mut p = 0.0;
        for_each_outcome(params, step, h, s, |d, q| {
            if d == LEAVE {
                p += q;
            }
        });
        left += m * p;
        left_var += m * p * (1.0 - p);
    }
    (
        Summary::normal(
            joined,
            joined + joined * joined * (noise + rate_var),
            quantiles,
        ),
        Summary::normal(left, left_var, quantiles),
    )
}

/// Columns are processed in blocks of this many: a block's sums over one state's outcomes stay in registers
/// (the pass is bound by loads and stores of these sums, not by the arithmetic). Rows are padded with zero columns
/// to a whole number of blocks.
const BLOCK: usize = 8;
type Block = [f64; BLOCK];

/// What every target year's backward variance pass shares.
struct VariancePass<'a> {
    params: &'a Parameters,
    effects: &'a Effects,
    cols: &'a Columns,
    means: &'a [Vec<f64>],
    /// Column membership of each state (fixed over time).
    members: Vec<[usize; 4]>,
    cost_uplift: f64,
    /// Blocks per state's row.
    blocks: usize,
    /// Expected joiners arriving at each step 1..=years (index step − 1), the states with any, in state order:
    /// the same for every target year, so computed once.
    joiners: Vec<Vec<(usize, f64)>>,
    /// The states with outcomes.
    has_edges: Vec<usize>,
}

/// The joiners' contribution to each column summed over the steps so far: as it is, × the trend's damped time,
/// × its persistence gradient (the delta method's terms for the trend's uncertainty).
struct JoinerSums {
    c: Vec<f64>,
    cx: Vec<f64>,
    cg: Vec<f64>,
}

/// One pass's working rows, reused from one target year to the next within a rayon split (`map_init`).
#[derive(Default)]
struct Scratch {
    g: Vec<Block>,
    next_g: Vec<Block>,
    /// One state's destinations over a step (other than leaving), with their probabilities.
    outcomes: Vec<(u32, f64)>,
}

impl<'a> VariancePass<'a> {
    fn new(
        params: &'a Parameters,
        options: &ProjectionOptions,
        effects: &'a Effects,
        cols: &'a Columns,
        means: &'a [Vec<f64>],
    ) -> Self {
        let k = params.space.len();
        let has_edges: Vec<usize> = (0..k)
            .filter(|&s| !params.outcomes.edges(s).is_empty())
            .collect();
        let mut expected = vec![0.0; k];
        let joiners = (1..=options.years)
            .map(|step| {
                expected_joiners(params, effects.step(step), step, &mut expected);
                expected
                    .iter()
                    .enumerate()
                    .filter(|(_, &lambda)| lambda != 0.0)
                    .map(|(s, &lambda)| (s, lambda))
                    .collect()
            })
            .collect();
        Self {
            params,
            effects,
            cols,
            means,
            members: (0..k).map(|s| cols.of_state(params, s)).collect(),
            cost_uplift: options.cost_uplift,
            blocks: cols.len().div_ceil(BLOCK),
            has_edges,
            joiners,
        }
    }

    /// The factor on state `s`'s unit cost at census `target`: the uplift, times the levers' cost multiplier.
    fn cost_factor(&self, s: usize, target: u32) -> f64 {
        (1.0 + self.cost_uplift).powi(target as i32)
            * self
                .effects
                .step(target)
                .map_or(1.0, |e| e.cost_multiplier(s))
    }

    /// g at `target` into `g`: each state's contribution to each column of one child there.
    fn initial_g(&self, target: u32, g: &mut Vec<Block>) {
        let (k, cols) = (self.params.space.len(), self.cols);
        g.clear();
        g.resize(k * self.blocks, [0.0; BLOCK]);
        let mut set = |s: usize, c: usize, v: f64| g[s * self.blocks + c / BLOCK][c % BLOCK] = v;
        for s in 0..k {
            for &c in &self.members[s] {
                set(s, c, 1.0);
            }
            let factor = self.cost_factor(s, target);
            set(s, cols.cost(), self.params.unit_cost_pence[s] * factor);
            if let Some(place) = &self.params.place_funding_pence {
                set(s, cols.place_funding(), place[s] * factor);
                set(
                    s,
                    cols.top_up(),
                    (self.params.unit_cost_pence[s] - place[s]) * factor,
                );
            }
        }
    }

    /// Means, spreads and quantiles of every column at census `target`.
    fn summaries_at(&self, target: u32, quantiles: &[f64], scratch: &mut Scratch) -> Vec<Summary> {
        let params = self.params;
        let width = self.blocks * BLOCK;
        // g[s * blocks + b][i]: expected contribution to column b·BLOCK + i at `target` of one child in state s
        // at step k.
        self.initial_g(target, &mut scratch.g);
        // Zeroed as for a fresh pass: a row read before it is written (a destination a place limit emptied) must
        // not depend on which target year this thread ran before.
        scratch.next_g.clear();
        scratch.next_g.resize(scratch.g.len(), [0.0; BLOCK]);
        let mut var = vec![0.0f64; width];
        // Σ over steps of the joiners' contribution, × the damped time, × the persistence gradient.
        let mut sums = JoinerSums {
            c: vec![0.0f64; width],
            cx: vec![0.0f64; width],
            cg: vec![0.0f64; width],
        };
        for step in (1..=target).rev() {
            self.add_joiners(step, &scratch.g, &mut var, &mut sums);
            self.add_transitions(step, scratch, &mut var);
            std::mem::swap(&mut scratch.g, &mut scratch.next_g);
        }
        // Uncertainty of the joiner trend's level and slope (delta method on the log rate).
        let cov = &params.trend.covariance;
        let ps2 = params.trend.persistence_sd * params.trend.persistence_sd;
        let JoinerSums {
            c: sum_c,
            cx: sum_cx,
            cg: sum_cg,
        } = &sums;
        for c in 0..width {
            var[c] += sum_c[c] * sum_c[c] * cov[0][0]
                + 2.0 * sum_c[c] * sum_cx[c] * cov[0][1]
                + sum_cx[c] * sum_cx[c] * cov[1][1]
                + sum_cg[c] * sum_cg[c] * ps2;
        }
        let col_mean = self.column_means(target);
        (0..self.cols.len())
            .map(|c| Summary::normal(col_mean[c], var[c], quantiles))
            .collect()
    }

    /// Joiners arriving at `step`: Poisson per state (redirection splits a Poisson into Poissons), with the joiner
    /// rate's yearly noise; their contribution kept in `sums` for the trend's uncertainty.
    fn add_joiners(&self, step: u32, g: &[Block], var: &mut [f64], sums: &mut JoinerSums) {
        let trend = &self.params.trend;
        let (nb, width) = (self.blocks, self.blocks * BLOCK);
        let x = trend.damped_time(step);
        let grad = trend.persistence_gradient(step);
        let noise = trend.yearly_sd.powi(2).exp_m1();
        let mut c_step = vec![0.0f64; width];
        for &(s, lambda) in &self.joiners[step as usize - 1] {
            let row = &g[s * nb..(s + 1) * nb];
            for ((cs, v), gs) in c_step
                .chunks_exact_mut(BLOCK)
                .zip(var.chunks_exact_mut(BLOCK))
                .zip(row)
            {
                for i in 0..BLOCK {
                    cs[i] += lambda * gs[i];
                    v[i] += lambda * gs[i] * gs[i];
                }
            }
        }
        for c in 0..width {
            var[c] += noise * c_step[c] * c_step[c];
            sums.c[c] += c_step[c];
            sums.cx[c] += c_step[c] * x;
            sums.cg[c] += c_step[c] * grad;
        }
    }

    /// Transitions from step − 1 to `step`: each state's row one step earlier into `next_g`, and its variance
    /// term. Only states holding children at step − 1 matter: they are the only ones whose variance term is
    /// weighted, and a state read from `g` next time round (a destination or a joiner cell one step earlier) is
    /// one of them — except a destination a place limit emptied (its children moved on the means), whose row still
    /// holds what the buffer held (zero, or the row from two steps later). A known approximation, kept as it was:
    /// the variance ignores the place limits' moves.
    fn add_transitions(&self, step: u32, scratch: &mut Scratch, var: &mut [f64]) {
        let params = self.params;
        let nb = self.blocks;
        let Scratch {
            g,
            next_g,
            outcomes,
        } = scratch;
        let effects = self.effects.step(step);
        let m_prev = &self.means[step as usize - 1];
        for &s in &self.has_edges {
            let m = m_prev[s];
            if m == 0.0 {
                continue;
            }
            outcomes.clear();
            for_each_outcome(params, effects, step, s, |d, p| {
                if d != LEAVE {
                    outcomes.push((d, p));
                }
            });
            let a = params.outcomes.concentration[s];
            // Dirichlet-multinomial overdispersion for a cohort of about m children.
            let dm = (m + a) / (1.0 + a);
            let row = &mut next_g[s * nb..(s + 1) * nb];
            for ((b, out), v) in row.iter_mut().enumerate().zip(var.chunks_exact_mut(BLOCK)) {
                let (mut r, mut e) = ([0.0f64; BLOCK], [0.0f64; BLOCK]);
                for &(d, p) in outcomes.iter() {
                    let gd = &g[d as usize * nb + b];
                    for i in 0..BLOCK {
                        let pg = p * gd[i];
                        r[i] += pg;
                        e[i] += pg * gd[i];
                    }
                }
                for i in 0..BLOCK {
                    v[i] += m * (e[i] - r[i] * r[i]).max(0.0) * dm;
                }
                *out = r;
            }
        }
    }

    /// Every column's mean at census `target`.
    fn column_means(&self, target: u32) -> Vec<f64> {
        let cols = self.cols;
        let mut col_mean = vec![0.0f64; cols.len()];
        for (s, &v) in self.means[target as usize].iter().enumerate() {
            if v == 0.0 {
                continue;
            }
            for &c in &self.members[s] {
                col_mean[c] += v;
            }
            let factor = self.cost_factor(s, target);
            col_mean[cols.cost()] += v * self.params.unit_cost_pence[s] * factor;
            if let Some(place) = &self.params.place_funding_pence {
                col_mean[cols.place_funding()] += v * place[s] * factor;
                col_mean[cols.top_up()] += v * (self.params.unit_cost_pence[s] - place[s]) * factor;
            }
        }
        col_mean
    }
}

/// FY cost = 5/12 × cost of the census in the AY ending in it + 7/12 × the census in the AY starting in it, for
/// each money line (cost, and place funding and top-up when split): `[line][year]`.
/// The variance treats consecutive years as perfectly correlated (an upper bound, as they nearly are).
fn financial_years(
    params: &Parameters,
    per_year: &[Vec<Summary>],
    cols: &Columns,
    quantiles: &[f64],
) -> Vec<Vec<Summary>> {
    cols.money()
        .into_iter()
        .zip(base_money(params))
        .map(|(column, base)| {
            let base = Summary::normal(base, 0.0, quantiles);
            (0..per_year.len())
                .map(|h| {
                    let first = if h == 0 {
                        &base
                    } else {
                        &per_year[h - 1][column]
                    };
                    let second = &per_year[h][column];
                    let mean = (5.0 * first.mean + 7.0 * second.mean) / 12.0;
                    let sd = (5.0 * first.sd + 7.0 * second.sd) / 12.0;
                    Summary::normal(mean, sd * sd, quantiles)
                })
                .collect()
        })
        .collect()
}
