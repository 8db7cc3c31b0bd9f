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

use crate::estimate::{Parameters, LEAVE};
use crate::forecast::{
    assemble, base_money, Columns, Engine, Forecast, ProjectionOptions, Summary,
};

/// Expected joiners per state at projection step `h` (1 = first projected census).
pub(crate) fn expected_joiners(params: &Parameters, h: u32, out: &mut [f64]) -> f64 {
    out.iter_mut().for_each(|x| *x = 0.0);
    let census = params.base_census.year() + h as i32;
    let mult = params.trend.multiplier(h);
    let mut total = 0.0;
    for j in &params.joiners {
        let lambda = j.rate() * mult * params.population.at(census, j.ncy);
        total += lambda;
        for (&st, &p) in j.mix_state.iter().zip(&j.mix_probability) {
            out[st as usize] += lambda * p;
        }
    }
    total
}

/// Expected plans per state at each step 0..=years (0 = the base census).
pub fn expected_counts(params: &Parameters, years: u32) -> Vec<Vec<f64>> {
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
        let prev = &means[h as usize - 1];
        let mut next = vec![0.0; k];
        let lm = params.leave_multiplier(h);
        for (s, &m) in prev.iter().enumerate() {
            if m == 0.0 {
                continue;
            }
            for e in params.outcomes.edges(s) {
                let d = params.outcomes.destination[e];
                if d != LEAVE {
                    next[d as usize] += m * params.outcomes.adjusted_probability(s, e, lm);
                }
            }
        }
        expected_joiners(params, h, &mut joiners);
        for (n, j) in next.iter_mut().zip(&joiners) {
            *n += j;
        }
        means.push(next);
    }
    means
}

/// Run the analytic engine.
pub fn project(params: &Parameters, options: &ProjectionOptions) -> Forecast {
    let (per_year, flows, financial) = summaries(params, options);
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
    let years = options.years;
    let quantiles = options.all_quantiles();
    let cols = Columns::of(params);
    let f = cols.len();
    let k = params.space.len();
    let means = expected_counts(params, years);
    let uplift = |h: u32| (1.0 + options.cost_uplift).powi(h as i32);

    // Column membership of each state (fixed over time), and which states ever matter.
    let members: Vec<[usize; 4]> = (0..k).map(|s| cols.of_state(params, s)).collect();
    let has_edges: Vec<usize> = (0..k)
        .filter(|&s| !params.outcomes.edges(s).is_empty())
        .collect();

    // Each projected year's variances need their own backward pass; they are independent, so run in parallel
    // (the result does not depend on the number of threads: every pass is sequential and self-contained).
    let per_year: Vec<Vec<Summary>> = (1..=years)
        .into_par_iter()
        .map(|target| {
            let mut joiners = vec![0.0; k];
            // g[s * f + c]: expected contribution to column c at `target` of one child in state s at step k.
            let mut g = vec![0.0f64; k * f];
            for s in 0..k {
                for &c in &members[s] {
                    g[s * f + c] = 1.0;
                }
                g[s * f + cols.cost()] = params.unit_cost_pence[s] * uplift(target);
                if let Some(place) = &params.place_funding_pence {
                    g[s * f + cols.place_funding()] = place[s] * uplift(target);
                    g[s * f + cols.top_up()] =
                        (params.unit_cost_pence[s] - place[s]) * uplift(target);
                }
            }
            let mut var = vec![0.0f64; f];
            let mut sum_c = vec![0.0f64; f];
            let mut sum_cx = vec![0.0f64; f];
            let mut sum_cg = vec![0.0f64; f];
            let mut next_g = vec![0.0f64; k * f];
            let mut e2 = vec![0.0f64; f];
            for step in (1..=target).rev() {
                // Joiners arriving at `step`: Poisson per state.
                expected_joiners(params, step, &mut joiners);
                let x = params.trend.damped_time(step);
                let grad = params.trend.persistence_gradient(step);
                let noise = params.trend.yearly_sd.powi(2).exp_m1();
                let mut c_step = vec![0.0f64; f];
                for (s, &lambda) in joiners.iter().enumerate() {
                    if lambda == 0.0 {
                        continue;
                    }
                    // Zipped slices (no indexing) so the loops over columns vectorise.
                    let gs = &g[s * f..(s + 1) * f];
                    for ((cs, v), &gv) in c_step.iter_mut().zip(var.iter_mut()).zip(gs) {
                        *cs += lambda * gv;
                        *v += lambda * gv * gv;
                    }
                }
                for c in 0..f {
                    var[c] += noise * c_step[c] * c_step[c];
                    sum_c[c] += c_step[c];
                    sum_cx[c] += c_step[c] * x;
                    sum_cg[c] += c_step[c] * grad;
                }
                // Transitions from step − 1 to step. Only states holding children at step − 1 matter: they are the
                // only ones whose variance term is weighted, and every state read from `g` next time round (a
                // destination or a joiner cell one step earlier) is one of them, so other rows may hold stale values.
                let m_prev = &means[step as usize - 1];
                let lm = params.leave_multiplier(step);
                for &s in &has_edges {
                    if m_prev[s] == 0.0 {
                        continue;
                    }
                    e2.iter_mut().for_each(|v| *v = 0.0);
                    let row = &mut next_g[s * f..(s + 1) * f];
                    row.iter_mut().for_each(|v| *v = 0.0);
                    for e in params.outcomes.edges(s) {
                        let d = params.outcomes.destination[e];
                        if d == LEAVE {
                            continue;
                        }
                        let p = params.outcomes.adjusted_probability(s, e, lm);
                        let gd = &g[d as usize * f..(d as usize + 1) * f];
                        for ((r, e), &gv) in row.iter_mut().zip(e2.iter_mut()).zip(gd) {
                            *r += p * gv;
                            *e += p * gv * gv;
                        }
                    }
                    let m = m_prev[s];
                    if m > 0.0 {
                        let a = params.outcomes.concentration[s];
                        // Dirichlet-multinomial overdispersion for a cohort of about m children.
                        let dm = (m + a) / (1.0 + a);
                        for ((v, &e), &r) in var.iter_mut().zip(e2.iter()).zip(row.iter()) {
                            *v += m * (e - r * r).max(0.0) * dm;
                        }
                    }
                }
                std::mem::swap(&mut g, &mut next_g);
            }
            // Uncertainty of the joiner trend's level and slope (delta method on the log rate).
            let cov = &params.trend.covariance;
            for c in 0..f {
                var[c] += sum_c[c] * sum_c[c] * cov[0][0]
                    + 2.0 * sum_c[c] * sum_cx[c] * cov[0][1]
                    + sum_cx[c] * sum_cx[c] * cov[1][1]
                    + sum_cg[c]
                        * sum_cg[c]
                        * params.trend.persistence_sd
                        * params.trend.persistence_sd;
            }
            let m = &means[target as usize];
            let mut col_mean = vec![0.0f64; f];
            for (s, &v) in m.iter().enumerate() {
                if v == 0.0 {
                    continue;
                }
                for &c in &members[s] {
                    col_mean[c] += v;
                }
                col_mean[cols.cost()] += v * params.unit_cost_pence[s] * uplift(target);
                if let Some(place) = &params.place_funding_pence {
                    col_mean[cols.place_funding()] += v * place[s] * uplift(target);
                    col_mean[cols.top_up()] +=
                        v * (params.unit_cost_pence[s] - place[s]) * uplift(target);
                }
            }
            (0..f)
                .map(|c| Summary::normal(col_mean[c], var[c], &quantiles))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut joiners = vec![0.0; k];
    let financial = financial_years(params, &per_year, &cols, &quantiles);
    let flows = (1..=years)
        .map(|h| {
            let joined = expected_joiners(params, h, &mut joiners);
            let noise = params.trend.yearly_sd.powi(2).exp_m1();
            let rate_var = params.trend.log_variance(h);
            let (mut left, mut left_var) = (0.0, 0.0);
            for (s, &m) in means[h as usize - 1].iter().enumerate() {
                if m == 0.0 {
                    continue;
                }
                let lm = params.leave_multiplier(h);
                let p: f64 = params
                    .outcomes
                    .edges(s)
                    .filter(|&e| params.outcomes.destination[e] == LEAVE)
                    .map(|e| params.outcomes.adjusted_probability(s, e, lm))
                    .sum();
                left += m * p;
                left_var += m * p * (1.0 - p);
            }
            (
                Summary::normal(
                    joined,
                    joined + joined * joined * (noise + rate_var),
                    &quantiles,
                ),
                Summary::normal(left, left_var, &quantiles),
            )
        })
        .collect();
    (per_year, flows, financial)
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
