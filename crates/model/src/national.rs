//! National (multi-LA) forecasts: each LA is fitted and projected on its own, and the forecasts are combined
//! into one for the whole set, in the same shape as a single LA's.
//!
//! LAs' errors are not independent: a national shock (the 2014 reform) moves every LA together. Each pair of
//! LAs' errors is given the correlation [`LA_ERROR_CORRELATION`], so the national variance is
//! (1 − ρ) Σ var + ρ (Σ sd)² (each LA's own interval is unchanged; with ρ = 0 the LAs are independent).
//!
//! * Analytic: means add, variances as above, per series; quantiles are those of the normal with that mean
//!   and variance. Combine the per-LA pieces ([`AnalyticLa`]) in a fixed order with [`combine_analytic`].
//! * Monte-Carlo: simulation *i* of every LA is summed into national simulation *i* ([`MonteCarloSums`]);
//!   then each projected year's national simulations are spread about their mean by the factor that turns
//!   the independent LAs' variance of the total into the correlated one, √(((1 − ρ) Σ var + ρ (Σ sd)²) / Σ var),
//!   and quantiles are taken over them. Each LA's random streams are seeded from (seed, the LA's position in
//!   the caller's order) by [`la_seed`]. Sums are kept as integers (counts exactly, costs, sds and variances
//!   in fixed point), so adding LAs in any order — from any number of threads — gives bit-identical results,
//!   and only the running national sums are held, never every LA's simulations.
//!
//! By setting and by need use the union of the LAs' codes (an LA without a code contributes zero to it).
//! Every LA must start from the same base census.

use std::collections::BTreeMap;

use highneeds_domain::{AgeGroup, CensusYear, Need, Setting};

use crate::analytic;
use crate::estimate::Parameters;
use crate::forecast::{
    base_cost, CensusForecast, Columns, Engine, FinancialYearForecast, Flows, Forecast,
    ProjectionOptions, Summary,
};
use crate::monte_carlo::{self, MonteCarloOptions};
use crate::ModelError;

/// The correlation of any two LAs' forecast errors: England's share of the median LA's error variance in the
/// all-LA model's out-of-sample errors, measured on the censuses up to 2017 only (0.31 / 0.52 / 0.34 at 1 / 2 / 3
/// years; their mean, 0.39, for every horizon; 0.25 before the LA's volatility was measured about its own mean
/// deviation). See docs/decisions.md.
pub const LA_ERROR_CORRELATION: f64 = 0.39;

/// Fixed-point units per plan for the running sums of LAs' sds and variances (order-independent sums).
const SPREAD_SCALE: f64 = 1e6;

/// Most distinct LA notes carried into a national forecast (the rest are counted in one line).
const MAX_NOTES: usize = 12;

/// Fixed-point scale of Monte-Carlo cost sums: 2^16 units per penny.
const COST_SCALE: f64 = 65_536.0;

/// The seed of the LA at `position` in a national Monte-Carlo run: a function of (seed, position) only.
pub fn la_seed(seed: u64, position: u32) -> u64 {
    splitmix(splitmix(seed ^ 0x6E61_7469_6F6E_616C) ^ splitmix(u64::from(position)))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn census_after(base: CensusYear, h: usize) -> CensusYear {
    CensusYear::new(base.year() + h as i32 + 1).unwrap_or(base)
}

fn check_base(have: &mut Option<CensusYear>, base: CensusYear) -> Result<(), ModelError> {
    match *have {
        None => {
            *have = Some(base);
            Ok(())
        }
        Some(b) if b == base => Ok(()),
        Some(b) => Err(ModelError::Invalid(format!(
            "LAs start from different censuses ({b} and {base}): a national forecast needs one base census"
        ))),
    }
}

/// LA notes, counted: "k of N LAs: note", most common first, at most [`MAX_NOTES`].
fn national_notes(first: String, notes: &BTreeMap<String, usize>, las: usize) -> Vec<String> {
    let mut counted: Vec<(&String, &usize)> = notes.iter().collect();
    counted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut out = vec![first];
    for (note, k) in counted.iter().take(MAX_NOTES) {
        out.push(format!("{k} of {las} LAs: {note}"));
    }
    if counted.len() > MAX_NOTES {
        out.push(format!(
            "{} further LA notes not shown (forecast an LA on its own to see its notes)",
            counted.len() - MAX_NOTES
        ));
    }
    out
}

fn add_notes(into: &mut BTreeMap<String, usize>, notes: &[String]) {
    for n in notes {
        *into.entry(n.clone()).or_insert(0) += 1;
    }
}

/// One LA's analytic forecast in the pieces a national forecast adds up (unrounded).
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticLa {
    base_census: CensusYear,
    base_total: u64,
    base_cost: f64,
    settings: Vec<Setting>,
    needs: Vec<Need>,
    per_year: Vec<Vec<Summary>>,
    flows: Vec<(Summary, Summary)>,
    financial: Vec<Summary>,
    notes: Vec<String>,
}

/// Run the analytic engine on one LA, keeping what [`combine_analytic`] needs.
pub fn analytic_la(params: &Parameters, options: &ProjectionOptions) -> AnalyticLa {
    let (mut per_year, flows, financial) = analytic::summaries(params, options);
    // The national forecast shows cost only: an LA's place-funding / top-up split (if any) is dropped.
    let cost_columns = Columns::of(params).cost() + 1;
    per_year
        .iter_mut()
        .for_each(|col| col.truncate(cost_columns));
    let financial = financial.into_iter().next().unwrap_or_default();
    AnalyticLa {
        base_census: params.base_census,
        base_total: params.base_total(),
        base_cost: base_cost(params),
        settings: params.space.settings.clone(),
        needs: params.space.needs.clone(),
        per_year,
        flows,
        financial,
        notes: params.notes.clone(),
    }
}

/// Means, variances and sds summed over LAs.
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    mean: f64,
    var: f64,
    sd: f64,
}

/// The variance of a sum of LAs whose errors are pairwise correlated ρ: Σ var + ρ Σ_{i≠j} sd_i sd_j =
/// (1 − ρ) Σ var + ρ (Σ sd)².
pub fn correlated_variance(var_sum: f64, sd_sum: f64, rho: f64) -> f64 {
    (1.0 - rho) * var_sum + rho * sd_sum * sd_sum
}

impl Moments {
    fn add(&mut self, s: &Summary) {
        self.mean += s.mean;
        self.var += s.sd * s.sd;
        self.sd += s.sd;
    }
    fn summary(self, quantiles: &[f64]) -> Summary {
        let var = correlated_variance(self.var, self.sd, LA_ERROR_CORRELATION);
        Summary::normal(self.mean, var, quantiles)
    }
}

/// Combine LAs' analytic forecasts into one: means add; variances as for errors correlated
/// [`LA_ERROR_CORRELATION`]. The result is the
/// same whatever order the LAs come in up to floating-point rounding; pass them in a fixed order for
/// bit-identical output.
pub fn combine_analytic(
    las: &[AnalyticLa],
    options: &ProjectionOptions,
) -> Result<Forecast, ModelError> {
    let quantiles = options.all_quantiles();
    let years = las.iter().map(|l| l.per_year.len()).max().unwrap_or(0);
    let mut base = None;
    let mut base_total = 0u64;
    let mut sums = MomentSums::new(years);
    let mut notes = BTreeMap::new();
    for la in las {
        check_base(&mut base, la.base_census)?;
        base_total += la.base_total;
        sums.add_la(la)?;
        add_notes(&mut notes, &la.notes);
    }
    let Some(base) = base else {
        return Err(ModelError::Invalid("no LAs to combine".into()));
    };
    Ok(Forecast {
        engine: Engine::Analytic,
        sims: None,
        seed: None,
        base_census: base,
        base_total,
        census_years: sums.census_years(base, &quantiles),
        flows: sums.flows(base, &quantiles),
        financial_years: financial_years(
            base,
            sums.financial.iter().map(|m| m.summary(&quantiles)),
        ),
        place_funding: Vec::new(),
        top_up: Vec::new(),
        notes: national_notes(
            format!(
                "national forecast: {} LAs combined (each fitted and projected on its own; means summed; LAs' errors correlated {} \
                 (England's share of an LA's error in the published data), so national shocks widen the interval)",
                las.len(),
                LA_ERROR_CORRELATION
            ),
            &notes,
            las.len(),
        ),
    })
}

/// The LAs' analytic moments summed, per census year ahead: the total, each setting, need and age group, the
/// flows and the financial years.
struct MomentSums {
    total: Vec<Moments>,
    by_setting: BTreeMap<Setting, Vec<Moments>>,
    by_need: BTreeMap<Need, Vec<Moments>>,
    by_age: Vec<Vec<Moments>>,
    joiners: Vec<Moments>,
    leavers: Vec<Moments>,
    financial: Vec<Moments>,
}

impl MomentSums {
    fn new(years: usize) -> Self {
        Self {
            total: vec![Moments::default(); years],
            by_setting: BTreeMap::new(),
            by_need: BTreeMap::new(),
            by_age: vec![vec![Moments::default(); AgeGroup::ALL.len()]; years],
            joiners: vec![Moments::default(); years],
            leavers: vec![Moments::default(); years],
            financial: vec![Moments::default(); years],
        }
    }

    /// Add one LA's moments (refused if its columns do not match its settings and needs).
    fn add_la(&mut self, la: &AnalyticLa) -> Result<(), ModelError> {
        let years = self.total.len();
        let cols = Columns {
            settings: la.settings.len(),
            needs: la.needs.len(),
            split: false,
        };
        for (h, col) in la.per_year.iter().enumerate() {
            if col.len() != cols.len() {
                return Err(ModelError::Invalid(
                    "an LA's analytic forecast has the wrong number of columns".into(),
                ));
            }
            self.total[h].add(&col[Columns::TOTAL]);
            for (i, s) in la.settings.iter().enumerate() {
                self.by_setting
                    .entry(s.clone())
                    .or_insert_with(|| vec![Moments::default(); years])[h]
                    .add(&col[cols.setting(i)]);
            }
            for (i, n) in la.needs.iter().enumerate() {
                self.by_need
                    .entry(n.clone())
                    .or_insert_with(|| vec![Moments::default(); years])[h]
                    .add(&col[cols.need(i)]);
            }
            for (g, m) in self.by_age[h].iter_mut().enumerate() {
                m.add(&col[cols.age_group(g)]);
            }
        }
        for (h, (j, l)) in la.flows.iter().enumerate() {
            self.joiners[h].add(j);
            self.leavers[h].add(l);
        }
        for (h, s) in la.financial.iter().enumerate() {
            self.financial[h].add(s);
        }
        Ok(())
    }

    /// The stock forecast of each census year after `base`.
    fn census_years(&self, base: CensusYear, quantiles: &[f64]) -> Vec<CensusForecast> {
        (0..self.total.len())
            .map(|h| CensusForecast {
                census_year: census_after(base, h),
                total: self.total[h].summary(quantiles),
                by_setting: self
                    .by_setting
                    .iter()
                    .map(|(k, v)| (k.to_string(), v[h].summary(quantiles)))
                    .collect(),
                by_need: self
                    .by_need
                    .iter()
                    .map(|(k, v)| (k.to_string(), v[h].summary(quantiles)))
                    .collect(),
                by_age_group: AgeGroup::ALL
                    .iter()
                    .zip(&self.by_age[h])
                    .map(|(g, m)| (*g, m.summary(quantiles)))
                    .collect(),
            })
            .collect()
    }

    /// Joiners and leavers of each year after `base`.
    fn flows(&self, base: CensusYear, quantiles: &[f64]) -> Vec<Flows> {
        (0..self.total.len())
            .map(|h| Flows {
                census_year: census_after(base, h),
                joiners: self.joiners[h].summary(quantiles),
                leavers: self.leavers[h].summary(quantiles),
            })
            .collect()
    }
}

fn financial_years(
    base: CensusYear,
    summaries: impl Iterator<Item = Summary>,
) -> Vec<FinancialYearForecast> {
    summaries
        .enumerate()
        .filter_map(|(i, s)| {
            let fy = highneeds_domain::FinancialYear::starting(base.year() + i as i32).ok()?;
            Some(FinancialYearForecast::from_summary(fy, &s))
        })
        .collect()
}

/// Running national sums of a Monte-Carlo forecast: per simulation and projected year, plans in total, by
/// setting, need and age group, joiners, leavers and cost. Add LAs with [`MonteCarloSums::add_la`] (from one
/// thread or several, merging with [`MonteCarloSums::merge`]) and summarise with [`MonteCarloSums::finish`].
#[derive(Debug, Clone)]
pub struct MonteCarloSums {
    options: ProjectionOptions,
    mc: MonteCarloOptions,
    las: usize,
    base_census: Option<CensusYear>,
    base_total: u64,
    /// Annual cost of the base census's plans, fixed point.
    base_cost: i128,
    /// Every series is indexed `year * sims + sim`.
    total: Vec<u64>,
    by_setting: BTreeMap<Setting, Vec<u64>>,
    by_need: BTreeMap<Need, Vec<u64>>,
    by_age: Vec<Vec<u64>>,
    joiners: Vec<u64>,
    leavers: Vec<u64>,
    /// Cost per simulation and year, fixed point ([`COST_SCALE`] per penny).
    cost: Vec<i128>,
    /// Per year: the LAs' sds and variances of their total plans, summed ([`SPREAD_SCALE`] fixed point).
    sd_sum: Vec<u128>,
    var_sum: Vec<u128>,
    notes: BTreeMap<String, usize>,
}

/// Sample sd of an LA's simulated values.
fn sample_sd(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
}

fn spread_fixed(x: f64) -> u128 {
    if x.is_finite() && x > 0.0 {
        (x * SPREAD_SCALE).round() as u128
    } else {
        0
    }
}

/// The factor that spreads national simulations about their mean so that their variance goes from the
/// independent LAs' Σ var to the correlated (1 − ρ) Σ var + ρ (Σ sd)²; 1 when there is no variance.
pub fn correlation_factor(var_sum: f64, sd_sum: f64, rho: f64) -> f64 {
    if var_sum > 0.0 {
        (correlated_variance(var_sum, sd_sum, rho) / var_sum).sqrt()
    } else {
        1.0
    }
}

/// Spread `samples` about their mean by `factor` (mean-preserving).
fn spread_about_mean(samples: &mut [f64], factor: f64) {
    let n = samples.len().max(1) as f64;
    let mean = samples.iter().sum::<f64>() / n;
    for x in samples.iter_mut() {
        *x = mean + factor * (*x - mean);
    }
}

fn fixed(pence: f64) -> i128 {
    if pence.is_finite() {
        (pence * COST_SCALE).round() as i128
    } else {
        0
    }
}

fn count(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.round() as u64
    } else {
        0
    }
}

fn add_into(into: &mut [u64], from: &[u64]) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

impl MonteCarloSums {
    /// Empty sums for a run of `mc.sims` simulations over `options.years` years. `mc.threads` is not used:
    /// run the whole national forecast inside a thread pool of the size wanted.
    pub fn new(options: &ProjectionOptions, mc: &MonteCarloOptions) -> Self {
        let n = mc.sims as usize * options.years as usize;
        Self {
            options: options.clone(),
            mc: mc.clone(),
            las: 0,
            base_census: None,
            base_total: 0,
            base_cost: 0,
            total: vec![0; n],
            by_setting: BTreeMap::new(),
            by_need: BTreeMap::new(),
            by_age: vec![vec![0; n]; AgeGroup::ALL.len()],
            joiners: vec![0; n],
            leavers: vec![0; n],
            cost: vec![0; n],
            sd_sum: vec![0; options.years as usize],
            var_sum: vec![0; options.years as usize],
            notes: BTreeMap::new(),
        }
    }

    fn len(&self) -> usize {
        self.total.len()
    }

    /// LAs added so far.
    pub fn las(&self) -> usize {
        self.las
    }

    /// Simulate one LA (seeded from the run's seed and `position`, see [`la_seed`]) and add each of its
    /// simulations to the national simulation of the same number.
    pub fn add_la(&mut self, position: u32, params: &Parameters) -> Result<(), ModelError> {
        check_base(&mut self.base_census, params.base_census)?;
        let mc = MonteCarloOptions {
            sims: self.mc.sims,
            seed: la_seed(self.mc.seed, position),
            threads: None,
        };
        let sims = monte_carlo::simulate(params, &self.options, &mc);
        let cols = Columns::of(params);
        let width = sims.width();
        let f = sims.columns;
        let n_sims = self.mc.sims as usize;
        let years = self.options.years as usize;
        let n = self.len();
        let mut setting_rows: Vec<Vec<u64>> = vec![vec![0; n]; cols.settings];
        let mut need_rows: Vec<Vec<u64>> = vec![vec![0; n]; cols.needs];
        for (i, row) in sims.rows.iter().enumerate() {
            for h in 0..years {
                let r = &row[h * width..(h + 1) * width];
                let at = h * n_sims + i;
                self.total[at] += count(r[Columns::TOTAL]);
                for (s, v) in setting_rows.iter_mut().enumerate() {
                    v[at] = count(r[cols.setting(s)]);
                }
                for (s, v) in need_rows.iter_mut().enumerate() {
                    v[at] = count(r[cols.need(s)]);
                }
                for (g, v) in self.by_age.iter_mut().enumerate() {
                    v[at] += count(r[cols.age_group(g)]);
                }
                self.cost[at] += fixed(r[cols.cost()]);
                self.joiners[at] += count(r[f]);
                self.leavers[at] += count(r[f + 1]);
            }
        }
        for h in 0..years {
            let totals: Vec<f64> = sims
                .rows
                .iter()
                .map(|row| count(row[h * width + Columns::TOTAL]) as f64)
                .collect();
            let sd = sample_sd(&totals);
            self.sd_sum[h] += spread_fixed(sd);
            self.var_sum[h] += spread_fixed(sd * sd);
        }
        for (code, v) in params.space.settings.iter().zip(&setting_rows) {
            add_into(
                self.by_setting
                    .entry(code.clone())
                    .or_insert_with(|| vec![0; n]),
                v,
            );
        }
        for (code, v) in params.space.needs.iter().zip(&need_rows) {
            add_into(
                self.by_need
                    .entry(code.clone())
                    .or_insert_with(|| vec![0; n]),
                v,
            );
        }
        self.base_total += params.base_total();
        self.base_cost += fixed(base_cost(params));
        add_notes(&mut self.notes, &params.notes);
        self.las += 1;
        Ok(())
    }

    /// Add another run's sums (the same options) to these.
    pub fn merge(mut self, other: Self) -> Result<Self, ModelError> {
        if other.las == 0 {
            return Ok(self);
        }
        if self.len() != other.len() {
            return Err(ModelError::Invalid(
                "national sums of different runs cannot be merged".into(),
            ));
        }
        if let Some(b) = other.base_census {
            check_base(&mut self.base_census, b)?;
        }
        let n = self.len();
        add_into(&mut self.total, &other.total);
        for (k, v) in other.by_setting {
            add_into(self.by_setting.entry(k).or_insert_with(|| vec![0; n]), &v);
        }
        for (k, v) in other.by_need {
            add_into(self.by_need.entry(k).or_insert_with(|| vec![0; n]), &v);
        }
        for (a, b) in self.by_age.iter_mut().zip(&other.by_age) {
            add_into(a, b);
        }
        add_into(&mut self.joiners, &other.joiners);
        add_into(&mut self.leavers, &other.leavers);
        for (a, b) in self.cost.iter_mut().zip(&other.cost) {
            *a += b;
        }
        for (a, b) in self.sd_sum.iter_mut().zip(&other.sd_sum) {
            *a += b;
        }
        for (a, b) in self.var_sum.iter_mut().zip(&other.var_sum) {
            *a += b;
        }
        self.base_total += other.base_total;
        self.base_cost += other.base_cost;
        for (k, c) in other.notes {
            *self.notes.entry(k).or_insert(0) += c;
        }
        self.las += other.las;
        Ok(self)
    }

    /// The national forecast: quantiles of the per-simulation national sums.
    pub fn finish(self) -> Result<Forecast, ModelError> {
        let Some(base) = self.base_census else {
            return Err(ModelError::Invalid("no LAs to combine".into()));
        };
        let mut summaries = SampleSummaries {
            samples: vec![0.0f64; self.mc.sims as usize],
            factor: self.correlation_factors(),
            quantiles: self.options.all_quantiles(),
        };
        let (census_years, flows) = self.census_years_and_flows(base, &mut summaries);
        let fy = self.financial_year_summaries(&mut summaries);
        Ok(Forecast {
            engine: Engine::MonteCarlo,
            sims: Some(self.mc.sims),
            seed: Some(self.mc.seed),
            base_census: base,
            base_total: self.base_total,
            census_years,
            flows,
            financial_years: financial_years(base, fy.into_iter()),
            place_funding: Vec::new(),
            top_up: Vec::new(),
            notes: national_notes(
                format!(
                    "national forecast: {} LAs combined (each fitted and simulated on its own; quantiles of the per-simulation national sums, \
                     spread about their mean for LAs' errors correlated {}: England's share of an LA's error in the published data)",
                    self.las,
                    LA_ERROR_CORRELATION
                ),
                &self.notes,
                self.las,
            ),
        })
    }

    /// Per census year ahead, how far the per-simulation national sums are spread about their mean so that the
    /// LAs' errors are correlated [`LA_ERROR_CORRELATION`] (they were simulated independently).
    fn correlation_factors(&self) -> Vec<f64> {
        self.var_sum
            .iter()
            .zip(&self.sd_sum)
            .map(|(v, s)| {
                correlation_factor(
                    *v as f64 / SPREAD_SCALE,
                    *s as f64 / SPREAD_SCALE,
                    LA_ERROR_CORRELATION,
                )
            })
            .collect()
    }

    /// The stock and the flows of each census year after `base`.
    fn census_years_and_flows(
        &self,
        base: CensusYear,
        summaries: &mut SampleSummaries,
    ) -> (Vec<CensusForecast>, Vec<Flows>) {
        let years = self.options.years as usize;
        let mut census_years = Vec::with_capacity(years);
        let mut flows = Vec::with_capacity(years);
        for h in 0..years {
            census_years.push(CensusForecast {
                census_year: census_after(base, h),
                total: summaries.of(&self.total, h),
                by_setting: self
                    .by_setting
                    .iter()
                    .map(|(k, v)| (k.to_string(), summaries.of(v, h)))
                    .collect(),
                by_need: self
                    .by_need
                    .iter()
                    .map(|(k, v)| (k.to_string(), summaries.of(v, h)))
                    .collect(),
                by_age_group: AgeGroup::ALL
                    .iter()
                    .zip(&self.by_age)
                    .map(|(g, v)| (*g, summaries.of(v, h)))
                    .collect(),
            });
            flows.push(Flows {
                census_year: census_after(base, h),
                joiners: summaries.of(&self.joiners, h),
                leavers: summaries.of(&self.leavers, h),
            });
        }
        (census_years, flows)
    }

    /// Financial years per national simulation: 5/12 of the census before, 7/12 of the census after.
    fn financial_year_summaries(&self, summaries: &mut SampleSummaries) -> Vec<Summary> {
        let n_sims = self.mc.sims as usize;
        let years = self.options.years as usize;
        let pence = |x: i128| x as f64 / COST_SCALE;
        let base_cost = pence(self.base_cost);
        // Each census's national cost per simulation, spread like its plans.
        let cost: Vec<Vec<f64>> = (0..years)
            .map(|h| {
                let mut c: Vec<f64> = self.cost[h * n_sims..(h + 1) * n_sims]
                    .iter()
                    .map(|x| pence(*x))
                    .collect();
                spread_about_mean(&mut c, summaries.factor.get(h).copied().unwrap_or(1.0));
                c
            })
            .collect();
        let mut fy = Vec::with_capacity(years);
        for h in 0..years {
            for (i, x) in summaries.samples.iter_mut().enumerate() {
                let first = if h == 0 { base_cost } else { cost[h - 1][i] };
                let second = cost[h][i];
                *x = (5.0 * first + 7.0 * second) / 12.0;
            }
            fy.push(Summary::of_samples(
                &mut summaries.samples,
                &summaries.quantiles,
            ));
        }
        fy
    }
}

/// Summaries of per-simulation national sums, spread by the correlation factor of their year (one buffer
/// reused for every series).
struct SampleSummaries {
    samples: Vec<f64>,
    factor: Vec<f64>,
    quantiles: Vec<f64>,
}

impl SampleSummaries {
    /// The summary of year `h` of `series` (simulations of each year side by side).
    fn of(&mut self, series: &[u64], h: usize) -> Summary {
        let n_sims = self.samples.len();
        for (x, &v) in self
            .samples
            .iter_mut()
            .zip(&series[h * n_sims..(h + 1) * n_sims])
        {
            *x = v as f64;
        }
        spread_about_mean(
            &mut self.samples,
            self.factor.get(h).copied().unwrap_or(1.0),
        );
        Summary::of_samples(&mut self.samples, &self.quantiles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::{fit, FitOptions};
    use highneeds_domain::TransitionHistory;
    use highneeds_synth::{generate_la, SynthConfig};

    /// A small synthetic LA (Exampleshire's generator with fewer plans, to keep debug-build tests quick).
    fn exampleshire_history() -> TransitionHistory {
        let config = SynthConfig {
            plans: 600,
            seed: 7,
            ..SynthConfig::default()
        };
        generate_la(&config, 0).transition_history()
    }

    fn exampleshire_params() -> Parameters {
        fit(&exampleshire_history(), &FitOptions::default()).unwrap()
    }

    fn options() -> ProjectionOptions {
        ProjectionOptions {
            years: 3,
            ..ProjectionOptions::default()
        }
    }

    #[test]
    fn two_copies_double_the_analytic_mean_and_variance() {
        let params = exampleshire_params();
        let one = analytic::project(&params, &options());
        let la = analytic_la(&params, &options());
        let both = combine_analytic(&[la.clone(), la], &options()).unwrap();
        assert_eq!(both.base_total, 2 * one.base_total);
        for (a, b) in one.census_years.iter().zip(&both.census_years) {
            assert!((b.total.mean - 2.0 * a.total.mean).abs() < 1e-6 * a.total.mean);
            // Two copies, each sd a, correlated 0.39: 0.61 × 2a² + 0.39 × (2a)² = 2.78 a².
            assert!((b.total.sd - 2.78f64.sqrt() * a.total.sd).abs() < 1e-6 * a.total.sd);
            assert_eq!(a.by_setting.len(), b.by_setting.len());
            for ((ka, sa), (kb, sb)) in a.by_setting.iter().zip(&b.by_setting) {
                assert_eq!(ka, kb);
                assert!((sb.mean - 2.0 * sa.mean).abs() < 1e-6 * sa.mean.max(1.0));
            }
        }
        for (a, b) in one.financial_years.iter().zip(&both.financial_years) {
            let diff = b.mean.pence() - 2 * a.mean.pence();
            assert!(diff.abs() <= 2, "{diff}");
        }
        assert!(both.notes[0].contains("2 LAs combined"));
    }

    #[test]
    fn two_copies_double_the_monte_carlo_mean() {
        let params = exampleshire_params();
        let mc = MonteCarloOptions {
            sims: 200,
            seed: 3,
            threads: None,
        };
        let mut sums = MonteCarloSums::new(&options(), &mc);
        sums.add_la(0, &params).unwrap();
        let single = sums.clone().finish().unwrap();
        // The same LA at the same position twice: every national simulation is exactly twice the LA's, then
        // spread about the mean as for two LAs correlated 0.39 (the spread assumes LAs simulated apart, as they
        // are at different positions): √((0.61 × 2a² + 0.39 × (2a)²) / 2a²) = √1.39. One LA is not spread.
        sums.add_la(0, &params).unwrap();
        let double = sums.finish().unwrap();
        let f = 1.39f64.sqrt();
        for (a, b) in single.census_years.iter().zip(&double.census_years) {
            let m = a.total.mean;
            assert!((b.total.mean - 2.0 * m).abs() < 1e-9);
            for (&(p, x), &(q, y)) in a.total.quantiles.iter().zip(&b.total.quantiles) {
                assert_eq!(p, q);
                let expect = 2.0 * m + f * (2.0 * x - 2.0 * m);
                assert!((y - expect).abs() < 1e-6 * expect, "{p}: {y} vs {expect}");
            }
        }
        assert!(double.notes[0].contains("2 LAs combined"));
    }

    #[test]
    fn monte_carlo_quantiles_come_from_per_simulation_sums() {
        let params = exampleshire_params();
        let opts = options();
        let mc = MonteCarloOptions {
            sims: 101,
            seed: 9,
            threads: Some(1),
        };
        let mut sums = MonteCarloSums::new(&opts, &mc);
        sums.add_la(0, &params).unwrap();
        sums.add_la(1, &params).unwrap();
        let national = sums.finish().unwrap();
        // By hand: simulate each LA with its own seed, add simulation i to simulation i, take quantiles.
        let run = |position| {
            monte_carlo::simulate(
                &params,
                &opts,
                &MonteCarloOptions {
                    sims: mc.sims,
                    seed: la_seed(mc.seed, position),
                    threads: Some(1),
                },
            )
        };
        let (a, b) = (run(0), run(1));
        let width = a.width();
        let h = 2;
        let mut sums: Vec<f64> = a
            .rows
            .iter()
            .zip(&b.rows)
            .map(|(x, y)| x[h * width + Columns::TOTAL] + y[h * width + Columns::TOTAL])
            .collect();
        // Spread about their mean for LAs correlated 0.39: factor √((0.61 (s_a² + s_b²) + 0.39 (s_a + s_b)²) /
        // (s_a² + s_b²)), s = each LA's sample sd of its total.
        let sd = |x: &[f64]| {
            let m = x.iter().sum::<f64>() / x.len() as f64;
            (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
        };
        let (sa, sb) = (
            sd(&a.rows.iter().map(|x| x[h * width]).collect::<Vec<_>>()),
            sd(&b.rows.iter().map(|x| x[h * width]).collect::<Vec<_>>()),
        );
        let f =
            ((0.61 * (sa * sa + sb * sb) + 0.39 * (sa + sb).powi(2)) / (sa * sa + sb * sb)).sqrt();
        let mean = sums.iter().sum::<f64>() / sums.len() as f64;
        sums.iter_mut().for_each(|x| *x = mean + f * (*x - mean));
        let expect = Summary::of_samples(&mut sums, &opts.all_quantiles());
        let got = &national.census_years[h].total;
        assert!((got.mean - expect.mean).abs() < 1e-9 * expect.mean);
        assert!(
            (got.sd - expect.sd).abs() < 1e-6 * expect.sd,
            "{got:?} vs {expect:?}"
        );
        for ((p, x), (q, y)) in got.quantiles.iter().zip(&expect.quantiles) {
            assert_eq!(p, q);
            assert!((x - y).abs() < 1e-6 * y, "{p}: {x} vs {y}");
        }
        // Wider than independent LAs would give.
        assert!(got.sd > 1.01 * sd(&national_independent_sums(&a, &b, h)));
        // Summing per-LA quantiles instead would give wider intervals than the per-simulation sums.
        let mut la_a: Vec<f64> = a.rows.iter().map(|x| x[h * width]).collect();
        let mut la_b: Vec<f64> = b.rows.iter().map(|x| x[h * width]).collect();
        let qa = Summary::of_samples(&mut la_a, &[0.05, 0.95]);
        let qb = Summary::of_samples(&mut la_b, &[0.05, 0.95]);
        let summed_width =
            qa.quantiles[1].1 - qa.quantiles[0].1 + qb.quantiles[1].1 - qb.quantiles[0].1;
        let q = |p| national.census_years[h].total.quantile(p).unwrap();
        assert!(q(0.95) - q(0.05) < summed_width);
    }

    #[test]
    fn monte_carlo_sums_do_not_depend_on_order_or_merging() {
        let params = exampleshire_params();
        let mc = MonteCarloOptions {
            sims: 50,
            seed: 1,
            threads: None,
        };
        let mut forward = MonteCarloSums::new(&options(), &mc);
        for p in 0..3 {
            forward.add_la(p, &params).unwrap();
        }
        let mut left = MonteCarloSums::new(&options(), &mc);
        left.add_la(2, &params).unwrap();
        let mut right = MonteCarloSums::new(&options(), &mc);
        right.add_la(1, &params).unwrap();
        right.add_la(0, &params).unwrap();
        let merged = right.merge(left).unwrap();
        assert_eq!(forward.finish().unwrap(), merged.finish().unwrap());
    }

    fn national_independent_sums(
        a: &monte_carlo::Simulations,
        b: &monte_carlo::Simulations,
        h: usize,
    ) -> Vec<f64> {
        let width = a.width();
        a.rows
            .iter()
            .zip(&b.rows)
            .map(|(x, y)| x[h * width + Columns::TOTAL] + y[h * width + Columns::TOTAL])
            .collect()
    }

    #[test]
    fn correlated_variance_worked_examples() {
        // Two LAs with sds 3 and 4: independent 9 + 16 = 25; correlated 0.5: 25 + 2 × 0.5 × 3 × 4 = 37
        // (= 0.5 × 25 + 0.5 × 7²); perfectly correlated: 7² = 49.
        assert_eq!(correlated_variance(25.0, 7.0, 0.0), 25.0);
        assert_eq!(correlated_variance(25.0, 7.0, 0.5), 37.0);
        assert_eq!(correlated_variance(25.0, 7.0, 1.0), 49.0);
        assert!((correlation_factor(25.0, 7.0, 0.5) - (37.0f64 / 25.0).sqrt()).abs() < 1e-15);
        assert_eq!(
            correlation_factor(0.0, 0.0, 0.5),
            1.0,
            "no variance, nothing to spread"
        );
        // Spreading 1, 2, 3 (mean 2) by 2 gives 0, 2, 4.
        let mut x = [1.0, 2.0, 3.0];
        spread_about_mean(&mut x, 2.0);
        assert_eq!(x, [0.0, 2.0, 4.0]);
    }

    #[test]
    fn different_base_censuses_are_refused() {
        let params = exampleshire_params();
        let history = exampleshire_history();
        let last = params.base_census;
        let earlier = CensusYear::new(last.year() - 1).unwrap();
        let other = fit(
            &history,
            &FitOptions {
                base_census: Some(earlier),
                ..FitOptions::default()
            },
        )
        .unwrap();
        let a = analytic_la(&params, &options());
        let b = analytic_la(&other, &options());
        assert!(combine_analytic(&[a, b], &options()).is_err());
    }
}
