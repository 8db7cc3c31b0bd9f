//! A DBV plan run as a scenario: the unmitigated and mitigated forecasts and DSG ledgers, savings attributed to
//! initiatives (Shapley, exact to the penny), the target check and sufficiency (demand against places).
//!
//! Means (the ledgers, the savings, the balance year) come from the analytic engine: exact expectations,
//! deterministic and fast enough to evaluate every coalition of initiatives. Intervals and probabilities come
//! from the scenario's engine: Monte-Carlo simulations (per-simulation ledgers), or the analytic engine's normal
//! approximation. Where places are enforced with an overflow, the analytic mean moves the mean excess (not the
//! expected excess), a small difference from the simulations near capacity.

pub mod compile;
pub mod ledger;
pub mod shapley;

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use highneeds_domain::scenario::{LeverKind, Scenario, ScenarioEngine};
use highneeds_domain::{BudgetLine, CensusYear, FinancialYear, Pence, Setting, TransitionHistory};

use crate::analytic;
use crate::effects::Effects;
use crate::estimate::Parameters;
use crate::forecast::{base_cost, standard_normal_quantile, Forecast, ProjectionOptions};
use crate::monte_carlo::{self, MonteCarloOptions};
use crate::ModelError;

pub use ledger::{LedgerBasis, LedgerYear, ScenarioMoney};
pub use shapley::Attribution;

/// Settings a scenario sends children to (redirection targets, overflow settings): fit with
/// [`crate::fit_reaching`] over these so the model knows what happens to children there.
pub fn settings_reached(scenario: &Scenario) -> Vec<Setting> {
    let mut out: Vec<Setting> = Vec::new();
    for lever in scenario.initiatives.iter().flat_map(|i| &i.levers) {
        match &lever.kind {
            LeverKind::Redirect { to, .. } => out.push(to.clone()),
            LeverKind::Capacity {
                overflow: Some(o), ..
            } => out.push(o.clone()),
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// One side of the comparison (unmitigated or mitigated).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Plans by setting, need and age group with intervals, and cost per financial year (the scenario's engine).
    pub forecast: Forecast,
    /// The ledger's projected years (means).
    pub ledger: Vec<LedgerYear>,
    /// In-year position per ledger year: 5 % and 95 % points (pence).
    pub in_year_range: Vec<(f64, f64)>,
    /// Placement cost per ledger year: 5 % and 95 % points (pence).
    pub placement_range: Vec<(f64, f64)>,
    /// The first projected year whose in-year position (mean) is not negative.
    pub balance_financial_year: Option<FinancialYear>,
    /// Probability of an in-year balance in the target year, and of no cumulative deficit at its end.
    pub probability_balanced_by_target: f64,
    pub probability_deficit_cleared_by_target: f64,
    /// The in-year shortfall in the target year (expenditure and costs less income; negative = surplus):
    /// mean, 5 % and 95 % points, pence.
    pub target_gap: (f64, f64, f64),
}

/// One initiative's savings, costs and income over the ledger's projected years.
#[derive(Debug, Clone, PartialEq)]
pub struct InitiativeResult {
    pub name: String,
    pub saving: Pence,
    pub saving_by_financial_year: Vec<(FinancialYear, Pence)>,
    pub cost: Pence,
    /// Block transfers, grants and contributions the initiative brings.
    pub income: Pence,
    /// saving + income − cost.
    pub net_saving: Pence,
    pub needs_schools_forum_approval: bool,
}

/// Demand against places at one setting and census.
#[derive(Debug, Clone, PartialEq)]
pub struct SufficiencyRow {
    pub setting: String,
    pub census_year: CensusYear,
    /// Mitigated plans there (analytic mean).
    pub demand: f64,
    pub places: u64,
}

/// Everything a scenario run reports.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioResult {
    pub scenario: String,
    pub target: FinancialYear,
    pub engine: ScenarioEngine,
    pub sims: u32,
    pub seed: u64,
    pub basis: LedgerBasis,
    pub unmitigated: Outcome,
    pub mitigated: Outcome,
    pub initiatives: Vec<InitiativeResult>,
    pub attribution: Attribution,
    /// Σ unmitigated − Σ mitigated expenditure over the projected years.
    pub total_saving: Pence,
    pub sufficiency: Vec<SufficiencyRow>,
    /// Per setting with places: the first census demand exceeds them (within the sufficiency horizon).
    pub first_shortfall: Vec<(String, Option<CensusYear>)>,
    pub sufficiency_years: u32,
    pub notes: Vec<String>,
}

/// What a run needs besides the scenario: the LA's fitted parameters (fit with [`settings_reached`]), its history
/// (placement cost of past censuses) and its budget lines.
pub struct ScenarioInputs<'a> {
    pub params: &'a Parameters,
    pub history: &'a TransitionHistory,
    pub budget: &'a [BudgetLine],
    pub scenario: &'a Scenario,
    /// Worker threads for Monte-Carlo (`None`: every core).
    pub threads: Option<usize>,
    /// Counted up by one as each Monte-Carlo simulation finishes, on both sides (2 × sims in all), for a progress
    /// indicator; `None`: not counted. The analytic engine does not touch it.
    pub progress: Option<&'a AtomicU64>,
}

/// The financial years a scenario's ledger projects: after the budget's last actual year, up to the one starting in
/// the last projected census's year − 1 (the horizon's last financial year). The target must be one of them. `None`
/// when there are none, or when years between the last actual one and the forecast would be missing (the run
/// refuses those).
pub fn projected_financial_years(
    base_census: CensusYear,
    horizon_years: u32,
    budget: &[BudgetLine],
) -> Option<(FinancialYear, FinancialYear)> {
    let (_, years) = crate::ledger::budget_by_year(budget);
    let last_actual = years
        .iter()
        .filter(|y| y.expenditure != Pence::ZERO)
        .map(|y| y.financial_year)
        .max()?;
    let last = FinancialYear::starting(base_census.year() + horizon_years as i32 - 1).ok()?;
    let first = last_actual.next();
    let forecast_first = FinancialYear::starting(base_census.year()).ok()?;
    (first <= last && first >= forecast_first).then_some((first, last))
}

/// The fewest years sufficiency looks ahead (Dudley's 5- and 10-year planning).
pub const SUFFICIENCY_YEARS: u32 = 10;

/// When a run attributes the savings to initiatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attributing {
    /// Now: Shapley values over every coalition of the initiatives that change placements (2^m analytic runs).
    Now,
    /// Later: everything but the attribution (one analytic run per side, milliseconds: what a slider redraws);
    /// the result's attribution is [`Attribution::pending`] and its initiatives' savings are not to be read.
    Later,
}

/// Whether an initiative can change placements (a lever other than money: block transfers, grants, deficit
/// contributions and invest-to-save costs change the ledger's money lines only, so their initiative is a null
/// player of the savings game).
pub fn changes_placements(initiative: &highneeds_domain::scenario::Initiative) -> bool {
    initiative.levers.iter().any(|l| {
        !matches!(
            l.kind,
            LeverKind::BlockTransfer { .. }
                | LeverKind::Grant { .. }
                | LeverKind::DeficitContribution { .. }
                | LeverKind::InvestToSave
        )
    })
}

/// Run a scenario, savings attributed.
pub fn run(inputs: &ScenarioInputs) -> Result<ScenarioResult, ModelError> {
    run_attributing(inputs, Attributing::Now)
}

/// Run a scenario, attributing its savings now or leaving that for later.
pub fn run_attributing(
    inputs: &ScenarioInputs,
    when: Attributing,
) -> Result<ScenarioResult, ModelError> {
    let unmitigated = unmitigated_side(inputs)?;
    run_with_unmitigated(inputs, when, &unmitigated)
}

/// What a run computes without the plan: the unmitigated placement cost, the ledger's basis, the unmitigated
/// ledger and outcome. It reads the fitted model, the history, the budget and the scenario's assumptions only
/// (never its initiatives), so a caller running many variants of one scenario (the workspace's sliders) computes
/// it once: [`run_with_unmitigated`] with it gives exactly what [`run_attributing`] gives.
#[derive(Debug, Clone)]
pub struct UnmitigatedSide {
    /// Unmitigated mean plans per setting over the sufficiency years (what the levers' compiler reads).
    demand: Vec<Vec<f64>>,
    placement: Vec<(FinancialYear, f64)>,
    basis: LedgerBasis,
    ledger: Vec<LedgerYear>,
    outcome: Outcome,
}

/// The projection options a scenario's run uses.
fn run_options(a: &highneeds_domain::scenario::Assumptions) -> ProjectionOptions {
    ProjectionOptions {
        years: a.horizon_years,
        cost_uplift: a.uplift,
        quantiles: vec![0.05, 0.95],
    }
}

/// The unmitigated side of a scenario's run (see [`UnmitigatedSide`]); the assumptions are checked here (the
/// budget reaching the forecast, the target within the projected years).
pub fn unmitigated_side(inputs: &ScenarioInputs) -> Result<UnmitigatedSide, ModelError> {
    let ScenarioInputs {
        params,
        history,
        budget,
        scenario,
        ..
    } = inputs;
    let a = &scenario.assumptions;
    let n = scenario.initiatives.len();
    let options = run_options(a);
    let none = vec![false; n];
    let compiler = compile::Compiler::new(params, scenario, a.horizon_years.max(SUFFICIENCY_YEARS));
    let unmitigated_placement =
        placement_by_fy(params, &options, &compiler.effects(&none, a.horizon_years));
    let historic =
        |fy: FinancialYear| modelled_placement(params, history, &unmitigated_placement, fy);
    let basis = ledger::basis(budget, historic, a.allocation_growth, a.uplift)?;
    let last_fy = unmitigated_placement.last().map(|p| p.0);
    if let Some((first, _)) = unmitigated_placement.first() {
        if basis.last_actual.next() < *first {
            return Err(ModelError::Invalid(format!(
                "the budget's last actual year is {} but the forecast starts at {} (base census {}): the years \
                 between would be left out of the ledger; import the budget's outturn up to {}",
                basis.last_actual,
                first,
                params.base_census,
                first.start_year() - 1
            )));
        }
    }
    if a.target <= basis.last_actual || last_fy.is_none_or(|l| a.target > l) {
        return Err(ModelError::Invalid(format!(
            "target financial year {} is outside the projected years ({} to {}): choose a year in that range or a \
             longer horizon",
            a.target,
            basis.last_actual.next(),
            last_fy.map_or("none".into(), |l| l.to_string())
        )));
    }
    let unmitigated_ledger =
        ledger::project(&basis, &unmitigated_placement, &ScenarioMoney::default())?;
    let mc = MonteCarloOptions {
        sims: a.sims,
        seed: a.seed,
        threads: inputs.threads,
    };
    let none_effects = Effects::none();
    let means = analytic::expected_counts_with(params, a.horizon_years, &none_effects);
    let outcome = outcome(
        params,
        &options,
        &mc,
        a.engine,
        (&none_effects, &means),
        unmitigated_ledger.clone(),
        &ScenarioMoney::default(),
        a.target,
        inputs.progress,
    );
    Ok(UnmitigatedSide {
        demand: compiler.unmitigated_demand().to_vec(),
        placement: unmitigated_placement,
        basis,
        ledger: unmitigated_ledger,
        outcome,
    })
}

/// [`run_attributing`] with the unmitigated side already computed (by [`unmitigated_side`] on the same inputs,
/// or on the same scenario with other initiatives: it does not read them).
pub fn run_with_unmitigated(
    inputs: &ScenarioInputs,
    when: Attributing,
    side: &UnmitigatedSide,
) -> Result<ScenarioResult, ModelError> {
    let ScenarioInputs {
        params, scenario, ..
    } = inputs;
    let a = &scenario.assumptions;
    let options = run_options(a);
    let all = vec![true; scenario.initiatives.len()];
    let compiler = compile::Compiler::with_demand(params, scenario, side.demand.clone());
    // The plan's effects and expected plans over the sufficiency years, computed once: the ledger, the intervals
    // and the sufficiency read their first years (each step depends on the earlier ones only).
    let years = a.horizon_years.max(SUFFICIENCY_YEARS);
    let all_effects = compiler.effects(&all, years);
    let all_means = analytic::expected_counts_with(params, years, &all_effects);
    let basis = side.basis.clone();
    let unmitigated_ledger = side.ledger.clone();
    let money = scenario_money(scenario, &all);
    let mitigated_placement = placement_from_means(params, &options, &all_effects, &all_means).0;
    let mitigated_ledger = ledger::project(&basis, &mitigated_placement, &money)?;
    let ledger_years: Vec<FinancialYear> = unmitigated_ledger
        .iter()
        .map(|r| r.financial_year)
        .collect();
    let attribution = savings_attribution(inputs, when, &options, &compiler, &ledger_years, side);
    let total_saving = sum_expenditure(&unmitigated_ledger)? - sum_expenditure(&mitigated_ledger)?;
    let initiatives = initiative_results(scenario, &attribution, &ledger_years);
    let unmitigated = side.outcome.clone();
    let mitigated = mitigated_outcome(
        inputs,
        &options,
        &compiler,
        (&all, &all_effects, &all_means),
        mitigated_ledger,
        &money,
    );
    let (sufficiency, first_shortfall, sufficiency_years) =
        sufficiency(params, scenario, &compiler, &all_means);
    let notes = scenario_notes(scenario, &basis, &ledger_years, &attribution);
    Ok(ScenarioResult {
        scenario: scenario.name.clone(),
        target: a.target,
        engine: a.engine,
        sims: a.sims,
        seed: a.seed,
        basis,
        unmitigated,
        mitigated,
        initiatives,
        attribution,
        total_saving,
        sufficiency,
        first_shortfall,
        sufficiency_years,
        notes,
    })
}

/// The savings' attribution to initiatives against the unmitigated placement cost: now (Shapley values) or pending.
fn savings_attribution(
    inputs: &ScenarioInputs,
    when: Attributing,
    options: &ProjectionOptions,
    compiler: &compile::Compiler,
    ledger_years: &[FinancialYear],
    side: &UnmitigatedSide,
) -> Attribution {
    let ScenarioInputs {
        params, scenario, ..
    } = inputs;
    let a = &scenario.assumptions;
    let placement_of = |active: &[bool]| {
        placement_by_fy(params, options, &compiler.effects(active, a.horizon_years))
    };
    match when {
        Attributing::Now => {
            attribute_savings(scenario, ledger_years, &side.placement, placement_of)
        }
        Attributing::Later => Attribution::pending(scenario.initiatives.len()),
    }
}

/// The mitigated side's outcome on the scenario's engine, from the whole plan's effects and expected plans.
fn mitigated_outcome(
    inputs: &ScenarioInputs,
    options: &ProjectionOptions,
    compiler: &compile::Compiler,
    (all, all_effects, all_means): (&[bool], &Effects, &[Vec<f64>]),
    mitigated_ledger: Vec<LedgerYear>,
    money: &ScenarioMoney,
) -> Outcome {
    let ScenarioInputs {
        params, scenario, ..
    } = inputs;
    let a = &scenario.assumptions;
    let mc = MonteCarloOptions {
        sims: a.sims,
        seed: a.seed,
        threads: inputs.threads,
    };
    // Monte-Carlo's place limits carry the expected excess each simulation moves; the analytic engine reads none.
    let simulated;
    let mitigated_effects = match a.engine {
        ScenarioEngine::MonteCarlo => {
            simulated = compiler.effects_for_simulation(all, a.horizon_years);
            &simulated
        }
        ScenarioEngine::Analytic => all_effects,
    };
    outcome(
        params,
        options,
        &mc,
        a.engine,
        (mitigated_effects, all_means),
        mitigated_ledger,
        money,
        a.target,
        inputs.progress,
    )
}

/// Each initiative's share of the savings, per projected year (Shapley values over the coalitions of
/// initiatives; those that change no placement are skipped): placement is the only expenditure the levers
/// change, so a coalition's saving is the unmitigated placement spend less its own, in whole pence.
fn attribute_savings(
    scenario: &Scenario,
    ledger_years: &[FinancialYear],
    unmitigated_placement: &[(FinancialYear, f64)],
    placement_of: impl Fn(&[bool]) -> Vec<(FinancialYear, f64)> + Sync,
) -> Attribution {
    let rounded = |placement: &[(FinancialYear, f64)]| -> Vec<i64> {
        placement
            .iter()
            .filter(|(fy, _)| ledger_years.contains(fy))
            .map(|(_, c)| Pence::from_pence_rounded(*c).map_or(0, Pence::pence))
            .collect()
    };
    let base_spend = rounded(unmitigated_placement);
    let null: Vec<bool> = scenario
        .initiatives
        .iter()
        .map(|i| !changes_placements(i))
        .collect();
    shapley::attribute_skipping_null(&null, |active| {
        rounded(&placement_of(active))
            .iter()
            .zip(&base_spend)
            .map(|(m, u)| u - m)
            .collect()
    })
}

/// The basis's notes, money the scenario puts outside the projected years, and how the savings were attributed.
fn scenario_notes(
    scenario: &Scenario,
    basis: &LedgerBasis,
    ledger_years: &[FinancialYear],
    attribution: &Attribution,
) -> Vec<String> {
    let n = scenario.initiatives.len();
    let mut notes = basis.notes.clone();
    notes.extend(money_outside(scenario, ledger_years));
    if !attribution.exact && !attribution.pending {
        notes.push(format!(
            "{n} initiatives: savings attributed over {} sampled orders (standard errors given), not every coalition",
            attribution.orders
        ));
    }
    notes
}

fn sum_expenditure(rows: &[LedgerYear]) -> Result<Pence, ModelError> {
    rows.iter().try_fold(Pence::ZERO, |acc, r| {
        acc.checked_add(r.expenditure).ok_or_else(|| {
            ModelError::Invalid(
                "total expenditure is beyond what can be represented in pence".into(),
            )
        })
    })
}

/// Placement cost per financial year of the projection (means, pence, not yet rounded): FY starting in the base
/// census's year + i = 5/12 × the April-August part of census i's annual cost + 7/12 × the September-March part of
/// census i + 1's (census 0 = the base, as known). A unit-cost lever's multiplier is taken over each part's own
/// months, so a change from April saves nothing in the financial year before.
pub fn placement_by_fy(
    params: &Parameters,
    options: &ProjectionOptions,
    effects: &Effects,
) -> Vec<(FinancialYear, f64)> {
    placement_by_fy_with_blend(params, options, effects).0
}

/// [`placement_by_fy`], and what blending each census's whole-year cost gives (as the engines' own financial-year
/// figures do): their ratio corrects per-simulation figures.
fn placement_by_fy_with_blend(
    params: &Parameters,
    options: &ProjectionOptions,
    effects: &Effects,
) -> (Vec<(FinancialYear, f64)>, Vec<f64>) {
    let means = analytic::expected_counts_with(params, options.years, effects);
    placement_from_means(params, options, effects, &means)
}

/// [`placement_by_fy_with_blend`] from the expected plans per state under the same effects (over at least
/// `options.years`).
fn placement_from_means(
    params: &Parameters,
    options: &ProjectionOptions,
    effects: &Effects,
    means: &[Vec<f64>],
) -> (Vec<(FinancialYear, f64)>, Vec<f64>) {
    let means = &means[..means.len().min(options.years as usize + 1)];
    // Each census's cost under a multiplier chosen from the step's effects.
    let cost_with =
        |h: usize, m: &[f64], pick: &dyn Fn(&crate::effects::StepEffects, usize) -> f64| -> f64 {
            if h == 0 {
                return base_cost(params);
            }
            let uplift = (1.0 + options.cost_uplift).powi(h as i32);
            let step = effects.step(h as u32);
            m.iter()
                .enumerate()
                .filter(|(_, &v)| v != 0.0)
                .map(|(s, &v)| {
                    v * params.unit_cost_pence[s] * uplift * step.map_or(1.0, |e| pick(e, s))
                })
                .sum()
        };
    let whole: Vec<f64> = means
        .iter()
        .enumerate()
        .map(|(h, m)| cost_with(h, m, &|e, s| e.cost_multiplier(s)))
        .collect();
    let to_march: Vec<f64> = means
        .iter()
        .enumerate()
        .map(|(h, m)| cost_with(h, m, &|e, s| e.cost_to_march_multiplier(s)))
        .collect();
    let from_april: Vec<f64> = means
        .iter()
        .enumerate()
        .map(|(h, m)| cost_with(h, m, &|e, s| e.cost_from_april_multiplier(s)))
        .collect();
    let mut exact = Vec::new();
    let mut blend = Vec::new();
    for i in 0..options.years as usize {
        let Ok(fy) = FinancialYear::starting(params.base_census.year() + i as i32) else {
            continue;
        };
        exact.push((fy, (5.0 * from_april[i] + 7.0 * to_march[i + 1]) / 12.0));
        blend.push((5.0 * whole[i] + 7.0 * whole[i + 1]) / 12.0);
    }
    (exact, blend)
}

/// The modelled placement cost of a financial year: from the projection when it covers it, else from the
/// history's plans at the two censuses the year spans (priced at today's unit costs).
fn modelled_placement(
    params: &Parameters,
    history: &TransitionHistory,
    projected: &[(FinancialYear, f64)],
    fy: FinancialYear,
) -> Option<f64> {
    if let Some((_, c)) = projected.iter().find(|(y, _)| *y == fy) {
        return Some(*c);
    }
    let first = CensusYear::new(fy.start_year()).ok()?;
    let second = first.next();
    let cost = |census: CensusYear| -> Option<f64> {
        if census == params.base_census {
            return Some(base_cost(params));
        }
        let mut total = 0.0;
        let mut seen = false;
        for t in history
            .transitions
            .iter()
            .filter(|t| t.from_census.next() == census)
        {
            if let Some(s) = t.after.as_ref().and_then(|s| params.space.index_of(s)) {
                total += params.unit_cost_pence[s];
                seen = true;
            }
        }
        seen.then_some(total)
    };
    Some((5.0 * cost(first)? + 7.0 * cost(second)?) / 12.0)
}

/// The money lines of the active initiatives' levers.
pub fn scenario_money(scenario: &Scenario, active: &[bool]) -> ScenarioMoney {
    let mut m = ScenarioMoney::default();
    let add = |map: &mut BTreeMap<FinancialYear, Pence>, fy: FinancialYear, p: Pence| {
        let slot = map.entry(fy).or_insert(Pence::ZERO);
        *slot = slot.checked_add(p).unwrap_or(*slot);
    };
    for (initiative, _) in scenario
        .initiatives
        .iter()
        .zip(active)
        .filter(|(_, &on)| on)
    {
        for lever in &initiative.levers {
            for (&fy, &p) in &lever.cost {
                add(&mut m.cost, fy, p);
            }
            let (map, amounts) = match &lever.kind {
                LeverKind::BlockTransfer { amount, .. } => (&mut m.block_transfers, amount),
                LeverKind::Grant { amount } => (&mut m.grants, amount),
                LeverKind::DeficitContribution { amount } => (&mut m.contributions, amount),
                _ => continue,
            };
            for (&fy, &p) in amounts {
                add(map, fy, p);
            }
        }
    }
    m
}

/// Notes naming each initiative's money (costs, transfers, grants, contributions) in years the ledger does not
/// project: not counted, and said so.
fn money_outside(scenario: &Scenario, ledger_years: &[FinancialYear]) -> Vec<String> {
    let (Some(first), Some(last)) = (ledger_years.first(), ledger_years.last()) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for initiative in &scenario.initiatives {
        for lever in &initiative.levers {
            let amounts = match &lever.kind {
                LeverKind::BlockTransfer { amount, .. }
                | LeverKind::Grant { amount }
                | LeverKind::DeficitContribution { amount } => Some(amount),
                _ => None,
            };
            for (fy, p) in lever.cost.iter().chain(amounts.into_iter().flatten()) {
                if !ledger_years.contains(fy) {
                    notes.push(format!(
                        "{}: {p} in {fy} is outside the projected years ({first} to {last}) and not counted",
                        initiative.name
                    ));
                }
            }
        }
    }
    notes
}

fn initiative_results(
    scenario: &Scenario,
    attribution: &Attribution,
    ledger_years: &[FinancialYear],
) -> Vec<InitiativeResult> {
    let in_years = |map: &BTreeMap<FinancialYear, Pence>| -> Pence {
        map.iter()
            .filter(|(fy, _)| ledger_years.contains(fy))
            .map(|(_, &p)| p)
            .sum()
    };
    scenario
        .initiatives
        .iter()
        .enumerate()
        .map(|(i, initiative)| {
            let active: Vec<bool> = (0..scenario.initiatives.len()).map(|j| j == i).collect();
            let money = scenario_money(scenario, &active);
            let saving_by_financial_year: Vec<(FinancialYear, Pence)> = ledger_years
                .iter()
                .zip(&attribution.shares[i])
                .map(|(&fy, &p)| (fy, Pence::new(p)))
                .collect();
            let saving: Pence = saving_by_financial_year.iter().map(|x| x.1).sum();
            let cost = in_years(&money.cost);
            let income = in_years(&money.block_transfers)
                + in_years(&money.grants)
                + in_years(&money.contributions);
            InitiativeResult {
                name: initiative.name.clone(),
                saving,
                saving_by_financial_year,
                cost,
                income,
                net_saving: saving + income - cost,
                needs_schools_forum_approval: initiative.levers.iter().any(|l| {
                    matches!(
                        l.kind,
                        LeverKind::BlockTransfer {
                            needs_schools_forum_approval: true,
                            ..
                        }
                    )
                }),
            }
        })
        .collect()
}

/// One side's forecast, intervals and probabilities, on the scenario's engine.
#[allow(clippy::too_many_arguments)]
fn outcome(
    params: &Parameters,
    options: &ProjectionOptions,
    mc: &MonteCarloOptions,
    engine: ScenarioEngine,
    (effects, means): (&Effects, &[Vec<f64>]),
    ledger: Vec<LedgerYear>,
    money: &ScenarioMoney,
    target: FinancialYear,
    progress: Option<&AtomicU64>,
) -> Outcome {
    // The engines blend each census's whole-year cost into financial years; the ledger splits it at April (see
    // `placement_by_fy`). Their ratio, a few parts in a thousand where a unit-cost lever starts mid-year, corrects
    // the engine's per-simulation (or per-year spread) figures onto the ledger's basis.
    let (exact, blend) = placement_from_means(params, options, effects, means);
    let factor = |fy: FinancialYear| -> f64 { ledger_basis_factor(&exact, &blend, fy) };
    let (forecast, in_year_samples, placement_range) = match engine {
        ScenarioEngine::MonteCarlo => {
            let (forecast, samples, range) =
                monte_carlo_side(params, options, mc, effects, &ledger, &factor, progress);
            (forecast, Some(samples), range)
        }
        ScenarioEngine::Analytic => {
            let (forecast, range) =
                analytic_side(params, options, effects, means, &ledger, &factor);
            (forecast, None, range)
        }
    };
    let balance_financial_year = ledger
        .iter()
        .find(|r| !r.in_year.is_negative())
        .map(|r| r.financial_year);
    let (in_year_range, p_balanced, p_cleared, gap) =
        target_probabilities(&ledger, in_year_samples, &forecast, &factor, money, target);
    Outcome {
        forecast,
        ledger,
        in_year_range,
        placement_range,
        balance_financial_year,
        probability_balanced_by_target: p_balanced,
        probability_deficit_cleared_by_target: p_cleared,
        target_gap: gap,
    }
}

/// The ledger's placement cost over the engine's for a financial year (1 where unknown or the engine's is 0).
fn ledger_basis_factor(exact: &[(FinancialYear, f64)], blend: &[f64], fy: FinancialYear) -> f64 {
    exact
        .iter()
        .zip(blend)
        .find(|((y, _), _)| *y == fy)
        .map_or(1.0, |((_, e), b)| if *b > 0.0 { e / b } else { 1.0 })
}

/// Monte-Carlo side: the forecast, each simulation's in-year position per ledger year and the placement cost's
/// 5 % and 95 % points per ledger year, on the ledger's basis.
fn monte_carlo_side(
    params: &Parameters,
    options: &ProjectionOptions,
    mc: &MonteCarloOptions,
    effects: &Effects,
    ledger: &[LedgerYear],
    factor: &impl Fn(FinancialYear) -> f64,
    progress: Option<&AtomicU64>,
) -> (Forecast, Vec<Vec<f64>>, Vec<(f64, f64)>) {
    let sims = monte_carlo::simulate_with(params, options, mc, effects, progress);
    let forecast = monte_carlo::forecast_of(params, options, mc, &sims);
    let mut placement = monte_carlo::placement_by_fy_per_simulation(params, &sims);
    for (fy, per_sim) in &mut placement {
        let f = factor(*fy);
        per_sim.iter_mut().for_each(|p| *p *= f);
    }
    let range = ledger
        .iter()
        .map(|row| {
            placement
                .iter()
                .find(|(fy, _)| *fy == row.financial_year)
                .map_or((0.0, 0.0), |(_, per_sim)| {
                    let mut v = per_sim.clone();
                    v.sort_by(f64::total_cmp);
                    (quantile(&v, 0.05), quantile(&v, 0.95))
                })
        })
        .collect();
    let samples = in_year_per_simulation(ledger, &placement);
    (forecast, samples, range)
}

/// Analytic side: the forecast and the placement cost's 5 % and 95 % points per ledger year (normal, on the
/// ledger's basis).
fn analytic_side(
    params: &Parameters,
    options: &ProjectionOptions,
    effects: &Effects,
    means: &[Vec<f64>],
    ledger: &[LedgerYear],
    factor: &impl Fn(FinancialYear) -> f64,
) -> (Forecast, Vec<(f64, f64)>) {
    let forecast = analytic::project_with_means(params, options, effects, means);
    let z = standard_normal_quantile(0.95);
    let range = ledger
        .iter()
        .map(|row| {
            let sd = fy_sd(&forecast, row.financial_year) * factor(row.financial_year);
            let m = row.placement.pence() as f64;
            ((m - z * sd).max(0.0), m + z * sd)
        })
        .collect();
    (forecast, range)
}

/// In-year range and the chances of balancing and clearing the deficit by the target financial year, from the
/// simulations' samples if there are any, else from the forecast's spread.
fn target_probabilities(
    ledger: &[LedgerYear],
    in_year_samples: Option<Vec<Vec<f64>>>,
    forecast: &Forecast,
    factor: &impl Fn(FinancialYear) -> f64,
    money: &ScenarioMoney,
    target: FinancialYear,
) -> Probabilities {
    let upto: Vec<usize> = (0..ledger.len())
        .filter(|&i| ledger[i].financial_year <= target)
        .collect();
    let t = upto.last().copied().unwrap_or(0);
    match in_year_samples {
        Some(samples) => from_samples(ledger, &samples, t, money),
        None => {
            let sds: Vec<f64> = ledger
                .iter()
                .map(|r| fy_sd(forecast, r.financial_year) * factor(r.financial_year))
                .collect();
            from_normal(ledger, &sds, t)
        }
    }
}

/// Each simulation's in-year position per ledger year (pence): the mean ledger's income, other expenditure and
/// costs with the simulation's placement cost (rounded per year, as the ledger is).
fn in_year_per_simulation(
    ledger: &[LedgerYear],
    placement: &[(FinancialYear, Vec<f64>)],
) -> Vec<Vec<f64>> {
    ledger
        .iter()
        .map(|row| {
            let fixed = (row.income.pence()
                - row.other_expenditure.pence()
                - row.initiative_cost.pence()) as f64;
            placement
                .iter()
                .find(|(fy, _)| *fy == row.financial_year)
                .map_or_else(Vec::new, |(_, sims)| {
                    sims.iter().map(|p| fixed - p.round()).collect()
                })
        })
        .collect()
}

type Probabilities = (Vec<(f64, f64)>, f64, f64, (f64, f64, f64));

fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

fn from_samples(
    ledger: &[LedgerYear],
    samples: &[Vec<f64>],
    t: usize,
    money: &ScenarioMoney,
) -> Probabilities {
    let range = samples
        .iter()
        .map(|s| {
            let mut v = s.clone();
            v.sort_by(f64::total_cmp);
            (quantile(&v, 0.05), quantile(&v, 0.95))
        })
        .collect();
    let sims = samples.first().map_or(0, Vec::len);
    if sims == 0 || ledger.is_empty() {
        return (range, 0.0, 0.0, (0.0, 0.0, 0.0));
    }
    let opening = ledger[0].opening.pence() as f64;
    let contributions = |i: usize| {
        money
            .contributions
            .get(&ledger[i].financial_year)
            .map_or(0.0, |p| p.pence() as f64)
    };
    let (mut balanced, mut cleared) = (0usize, 0usize);
    let mut gaps: Vec<f64> = Vec::with_capacity(sims);
    // Simulation k's path runs across the years' sample vectors.
    #[allow(clippy::needless_range_loop)]
    for k in 0..sims {
        let closing: f64 = opening
            + (0..=t)
                .map(|i| samples[i][k] + contributions(i))
                .sum::<f64>();
        balanced += usize::from(samples[t][k] >= 0.0);
        cleared += usize::from(closing >= 0.0);
        gaps.push(-samples[t][k]);
    }
    let mean = gaps.iter().sum::<f64>() / sims as f64;
    gaps.sort_by(f64::total_cmp);
    (
        range,
        balanced as f64 / sims as f64,
        cleared as f64 / sims as f64,
        (mean, quantile(&gaps, 0.05), quantile(&gaps, 0.95)),
    )
}

/// The analytic engine's spread of a financial year's cost (pence).
fn fy_sd(forecast: &Forecast, fy: FinancialYear) -> f64 {
    forecast
        .financial_years
        .iter()
        .find(|f| f.financial_year == fy)
        .map_or(0.0, |f| f.sd.pence() as f64)
}

/// Normal approximation from each ledger year's spread of placement cost `sds` (years perfectly correlated, as the
/// analytic engine's financial-year spreads assume).
fn from_normal(ledger: &[LedgerYear], sds: &[f64], t: usize) -> Probabilities {
    let z = standard_normal_quantile(0.95);
    let range = ledger
        .iter()
        .zip(sds)
        .map(|(r, &s)| {
            let m = r.in_year.pence() as f64;
            (m - z * s, m + z * s)
        })
        .collect();
    let Some(row) = ledger.get(t) else {
        return (range, 0.0, 0.0, (0.0, 0.0, 0.0));
    };
    let prob = |mean: f64, sd: f64| {
        if sd > 0.0 {
            normal_cdf(mean / sd)
        } else if mean >= 0.0 {
            1.0
        } else {
            0.0
        }
    };
    let s = sds[t];
    let cumulative_sd: f64 = sds[..=t].iter().sum();
    let m = row.in_year.pence() as f64;
    (
        range,
        prob(m, s),
        prob(row.closing.pence() as f64, cumulative_sd),
        (-m, -m - z * s, -m + z * s),
    )
}

/// Φ(x), by the complementary error function (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-(x * x) / 2.0).exp();
    if x >= 0.0 {
        1.0 - erfc / 2.0
    } else {
        erfc / 2.0
    }
}

/// Sufficiency rows, each setting's first shortfall, and the years looked ahead.
type Sufficiency = (Vec<SufficiencyRow>, Vec<(String, Option<CensusYear>)>, u32);

/// Demand (mitigated means) against places by setting and census over at least [`SUFFICIENCY_YEARS`] years,
/// for settings with a baseline figure or a capacity lever.
fn sufficiency(
    params: &Parameters,
    scenario: &Scenario,
    compiler: &compile::Compiler,
    means: &[Vec<f64>],
) -> Sufficiency {
    let years = scenario.assumptions.horizon_years.max(SUFFICIENCY_YEARS);
    let mut settings: Vec<usize> = scenario
        .assumptions
        .places
        .iter()
        .filter_map(|p| params.space.setting_index(&p.setting))
        .collect();
    for lever in scenario.initiatives.iter().flat_map(|i| &i.levers) {
        if let LeverKind::Capacity { setting, .. } = &lever.kind {
            settings.extend(params.space.setting_index(setting));
        }
    }
    settings.sort_unstable();
    settings.dedup();
    let mut rows = Vec::new();
    let mut first = Vec::new();
    for s in settings {
        let name = params.space.settings[s].to_string();
        let mut shortfall = None;
        for h in 1..=years {
            let census = compile::census_at(params, h);
            let demand: f64 = means[h as usize]
                .iter()
                .enumerate()
                .filter(|(st, _)| params.space.parts(*st).2 == s)
                .map(|(_, &v)| v)
                .sum();
            let places = places_at(params, scenario, compiler, s, h);
            if shortfall.is_none() && demand > places as f64 + 0.5 {
                shortfall = Some(census);
            }
            rows.push(SufficiencyRow {
                setting: name.clone(),
                census_year: census,
                demand,
                places,
            });
        }
        first.push((name, shortfall));
    }
    (rows, first, years)
}

/// Places at a setting at a census: the baseline plus every capacity lever's places in effect by then.
fn places_at(
    params: &Parameters,
    scenario: &Scenario,
    compiler: &compile::Compiler,
    setting: usize,
    h: u32,
) -> u64 {
    let census = compile::census_at(params, h);
    let mut total = compiler.baseline_places(setting, h);
    for lever in scenario.initiatives.iter().flat_map(|i| &i.levers) {
        if let LeverKind::Capacity {
            setting: s, places, ..
        } = &lever.kind
        {
            if params.space.setting_index(s) == Some(setting) {
                total += *places as f64 * lever.timing.at_census(census);
            }
        }
    }
    total.round().max(0.0) as u64
}

#[cfg(test)]
mod tests;
