//! What a forecast produces, shared by both engines: per projected census, plans (mean, spread and quantiles)
//! in total and by setting, need and age group; per financial year, cost.

use highneeds_domain::{AgeGroup, CensusYear, FinancialYear, Pence};

use crate::estimate::Parameters;

/// Which engine produced a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Analytic,
    MonteCarlo,
}

impl Engine {
    pub fn code(self) -> &'static str {
        match self {
            Engine::Analytic => "analytic",
            Engine::MonteCarlo => "monte-carlo",
        }
    }
}

/// Options common to both engines.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionOptions {
    /// Years to project after the base census.
    pub years: u32,
    /// Annual uplift of unit costs (0.03 = 3 % a year), applied from the first projected year.
    pub cost_uplift: f64,
    /// Quantiles to report (0..1); 0.05, 0.5 and 0.95 are always included.
    pub quantiles: Vec<f64>,
}

impl Default for ProjectionOptions {
    fn default() -> Self {
        Self {
            years: 5,
            cost_uplift: 0.0,
            quantiles: vec![0.05, 0.5, 0.95],
        }
    }
}

impl ProjectionOptions {
    /// The quantiles to report, sorted, with 5 %, 50 % and 95 % always present.
    pub fn all_quantiles(&self) -> Vec<f64> {
        let mut q: Vec<f64> = self
            .quantiles
            .iter()
            .copied()
            .chain([0.05, 0.5, 0.95])
            .filter(|p| (0.0..=1.0).contains(p))
            .collect();
        q.sort_by(f64::total_cmp);
        q.dedup();
        q
    }
}

/// Mean, standard deviation and quantiles of one figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub mean: f64,
    pub sd: f64,
    /// (probability, value), sorted by probability.
    pub quantiles: Vec<(f64, f64)>,
}

impl Summary {
    pub fn quantile(&self, p: f64) -> Option<f64> {
        self.quantiles
            .iter()
            .find(|(q, _)| (q - p).abs() < 1e-9)
            .map(|(_, v)| *v)
    }
    /// Summary of a normal approximation, clamped at zero (plans and costs are never negative).
    pub fn normal(mean: f64, variance: f64, quantiles: &[f64]) -> Self {
        let sd = variance.max(0.0).sqrt();
        Self {
            mean,
            sd,
            quantiles: quantiles
                .iter()
                .map(|&p| (p, (mean + sd * standard_normal_quantile(p)).max(0.0)))
                .collect(),
        }
    }
    /// Summary of samples: exact quantiles (linear interpolation between order statistics, as numpy's default).
    pub fn of_samples(samples: &mut [f64], quantiles: &[f64]) -> Self {
        let n = samples.len();
        if n == 0 {
            return Self {
                mean: 0.0,
                sd: 0.0,
                quantiles: quantiles.iter().map(|&p| (p, 0.0)).collect(),
            };
        }
        let mean = samples.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        samples.sort_unstable_by(f64::total_cmp);
        let q = quantiles
            .iter()
            .map(|&p| {
                let h = (n - 1) as f64 * p;
                let lo = h.floor() as usize;
                let hi = (lo + 1).min(n - 1);
                (
                    p,
                    samples[lo] + (h - lo as f64) * (samples[hi] - samples[lo]),
                )
            })
            .collect();
        Self {
            mean,
            sd,
            quantiles: q,
        }
    }
}

/// Plans at one projected census.
#[derive(Debug, Clone, PartialEq)]
pub struct CensusForecast {
    pub census_year: CensusYear,
    pub total: Summary,
    /// By the LA's setting codes, in code order.
    pub by_setting: Vec<(String, Summary)>,
    pub by_need: Vec<(String, Summary)>,
    pub by_age_group: Vec<(AgeGroup, Summary)>,
}

/// New plans and ceased plans in the year up to a projected census.
#[derive(Debug, Clone, PartialEq)]
pub struct Flows {
    pub census_year: CensusYear,
    pub joiners: Summary,
    pub leavers: Summary,
}

/// Cost in one financial year, rounded once to whole pence.
#[derive(Debug, Clone, PartialEq)]
pub struct FinancialYearForecast {
    pub financial_year: FinancialYear,
    pub mean: Pence,
    pub sd: Pence,
    pub quantiles: Vec<(f64, Pence)>,
    /// A figure of this year was beyond what whole pence can count (about ±£90 trillion) and stands as 0: the
    /// year's figures must not be shown (the CLI refuses the forecast and names the year).
    pub beyond_pence: bool,
}

impl FinancialYearForecast {
    pub(crate) fn from_summary(financial_year: FinancialYear, s: &Summary) -> Self {
        let mut beyond_pence = false;
        let mut round = |x: f64| {
            Pence::from_pence_rounded(x).unwrap_or_else(|| {
                beyond_pence = true;
                Pence::ZERO
            })
        };
        let mean = round(s.mean);
        let sd = round(s.sd);
        let quantiles = s.quantiles.iter().map(|&(p, v)| (p, round(v))).collect();
        Self {
            financial_year,
            mean,
            sd,
            quantiles,
            beyond_pence,
        }
    }
    pub fn quantile(&self, p: f64) -> Option<Pence> {
        self.quantiles
            .iter()
            .find(|(q, _)| (q - p).abs() < 1e-9)
            .map(|(_, v)| *v)
    }
}

/// A whole forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub engine: Engine,
    /// Simulations run (Monte-Carlo only).
    pub sims: Option<u32>,
    pub seed: Option<u64>,
    pub base_census: CensusYear,
    pub base_total: u64,
    pub census_years: Vec<CensusForecast>,
    /// Joiners and leavers in the year up to each projected census.
    pub flows: Vec<Flows>,
    pub financial_years: Vec<FinancialYearForecast>,
    /// The cost split into place funding and top-up, per financial year, when the unit costs give the split
    /// (empty otherwise). Means add up to the cost's mean to the penny.
    pub place_funding: Vec<FinancialYearForecast>,
    pub top_up: Vec<FinancialYearForecast>,
    pub notes: Vec<String>,
}

/// Column layout of the per-year figures both engines compute: total, settings, needs, age groups, cost, and
/// (when the unit costs give the split) place funding and top-up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Columns {
    pub settings: usize,
    pub needs: usize,
    pub split: bool,
}

impl Columns {
    pub fn of(params: &Parameters) -> Self {
        Self {
            settings: params.space.n_settings(),
            needs: params.space.n_needs(),
            split: params.place_funding_pence.is_some(),
        }
    }
    pub const TOTAL: usize = 0;
    pub fn setting(&self, s: usize) -> usize {
        1 + s
    }
    pub fn need(&self, n: usize) -> usize {
        1 + self.settings + n
    }
    pub fn age_group(&self, g: usize) -> usize {
        1 + self.settings + self.needs + g
    }
    pub fn cost(&self) -> usize {
        1 + self.settings + self.needs + AgeGroup::ALL.len()
    }
    pub fn place_funding(&self) -> usize {
        self.cost() + 1
    }
    pub fn top_up(&self) -> usize {
        self.cost() + 2
    }
    /// The money columns: cost, then place funding and top-up when split.
    pub fn money(&self) -> Vec<usize> {
        if self.split {
            vec![self.cost(), self.place_funding(), self.top_up()]
        } else {
            vec![self.cost()]
        }
    }
    pub fn len(&self) -> usize {
        self.cost() + if self.split { 3 } else { 1 }
    }
    /// The columns a state counts in (total, its setting, need, age group), cost excluded.
    pub fn of_state(&self, params: &Parameters, state: usize) -> [usize; 4] {
        let (_, n, s) = params.space.parts(state);
        let g = params.space.age_group(state) as usize;
        [
            Self::TOTAL,
            self.setting(s),
            self.need(n),
            self.age_group(g),
        ]
    }
}

/// Annual cost (pence) of the base census's plans.
pub(crate) fn base_cost(params: &Parameters) -> f64 {
    params
        .base_stock
        .iter()
        .zip(&params.unit_cost_pence)
        .map(|(&n, &c)| f64::from(n) * c)
        .sum()
}

/// The base census's annual money lines, in the order of [`Columns::money`]: cost, then place funding and top-up.
pub(crate) fn base_money(params: &Parameters) -> Vec<f64> {
    let cost = base_cost(params);
    match &params.place_funding_pence {
        None => vec![cost],
        Some(place) => {
            let place: f64 = params
                .base_stock
                .iter()
                .zip(place)
                .map(|(&n, &c)| f64::from(n) * c)
                .sum();
            vec![cost, place, cost - place]
        }
    }
}

/// Assemble a forecast from per-year column summaries and per-FY cost summaries.
pub(crate) fn assemble(
    params: &Parameters,
    engine: Engine,
    sims: Option<u32>,
    seed: Option<u64>,
    per_year: Vec<Vec<Summary>>,
    flows: Vec<(Summary, Summary)>,
    financial: Vec<Vec<Summary>>,
) -> Forecast {
    let census_years = census_forecasts(params, per_year);
    let (financial_years, place_funding, top_up) = money_by_financial_year(params, &financial);
    let flows = flows_by_census_year(params, flows);
    Forecast {
        engine,
        sims,
        seed,
        base_census: params.base_census,
        base_total: params.base_total(),
        census_years,
        flows,
        financial_years,
        place_funding,
        top_up,
        notes: params.notes.clone(),
    }
}

/// The census year `h + 1` years after the base census (the base census if out of range).
fn projected_census_year(params: &Parameters, h: usize) -> CensusYear {
    CensusYear::new(params.base_census.year() + h as i32 + 1).unwrap_or(params.base_census)
}

/// Each projected census year's plans: total, by setting, by need and by age group.
fn census_forecasts(params: &Parameters, per_year: Vec<Vec<Summary>>) -> Vec<CensusForecast> {
    let cols = Columns::of(params);
    per_year
        .into_iter()
        .enumerate()
        .map(|(h, col)| CensusForecast {
            census_year: projected_census_year(params, h),
            total: col[Columns::TOTAL].clone(),
            by_setting: params
                .space
                .settings
                .iter()
                .enumerate()
                .map(|(i, s)| (s.to_string(), col[cols.setting(i)].clone()))
                .collect(),
            by_need: params
                .space
                .needs
                .iter()
                .enumerate()
                .map(|(i, n)| (n.to_string(), col[cols.need(i)].clone()))
                .collect(),
            by_age_group: AgeGroup::ALL
                .iter()
                .enumerate()
                .map(|(i, g)| (*g, col[cols.age_group(i)].clone()))
                .collect(),
        })
        .collect()
}

/// Cost, place funding and top-up per financial year from `financial[line][year]` (lines in the order of
/// [`Columns::money`]).
fn money_by_financial_year(
    params: &Parameters,
    financial: &[Vec<Summary>],
) -> (
    Vec<FinancialYearForecast>,
    Vec<FinancialYearForecast>,
    Vec<FinancialYearForecast>,
) {
    let line = |k: usize| money_line(params, financial, k);
    let financial_years = line(0);
    let place_funding = line(1);
    let mut top_up = line(2);
    // Rounded once each, the means could miss the cost by a penny: top-up is the cost less place funding.
    for ((t, c), p) in top_up.iter_mut().zip(&financial_years).zip(&place_funding) {
        t.mean = c.mean - p.mean;
    }
    (financial_years, place_funding, top_up)
}

/// One money line's summaries by financial year (empty if the line is absent).
fn money_line(
    params: &Parameters,
    financial: &[Vec<Summary>],
    k: usize,
) -> Vec<FinancialYearForecast> {
    financial
        .get(k)
        .map(|years| {
            years
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let fy = FinancialYear::starting(params.base_census.year() + i as i32).ok()?;
                    Some(FinancialYearForecast::from_summary(fy, s))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Joiners and leavers for each projected census year.
fn flows_by_census_year(params: &Parameters, flows: Vec<(Summary, Summary)>) -> Vec<Flows> {
    flows
        .into_iter()
        .enumerate()
        .map(|(h, (joiners, leavers))| Flows {
            census_year: projected_census_year(params, h),
            joiners,
            leavers,
        })
        .collect()
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
pub fn standard_normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantiles() {
        assert!((standard_normal_quantile(0.95) - 1.644_853_6).abs() < 1e-6);
        assert!((standard_normal_quantile(0.5)).abs() < 1e-12);
        assert!((standard_normal_quantile(0.01) + 2.326_347_9).abs() < 1e-6);
    }

    #[test]
    fn sample_quantiles_match_numpy_linear() {
        // numpy.percentile([1,2,3,4,5,6,7,8,9,10], [5, 50, 95]) = [1.45, 5.5, 9.55]
        let mut v: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        let s = Summary::of_samples(&mut v, &[0.05, 0.5, 0.95]);
        assert!((s.quantile(0.05).unwrap() - 1.45).abs() < 1e-12);
        assert!((s.quantile(0.5).unwrap() - 5.5).abs() < 1e-12);
        assert!((s.quantile(0.95).unwrap() - 9.55).abs() < 1e-12);
        assert!((s.mean - 5.5).abs() < 1e-12);
    }
}
