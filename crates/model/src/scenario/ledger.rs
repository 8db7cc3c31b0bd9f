//! The DSG ledger projected from the forecast (issue: "the unmitigated ledger from the forecast"): future High
//! Needs expenditure = the forecast's placement cost + the budget's other expenditure carried forward with the
//! uplift; income = the budget file's future allocations, else the last actual allocation grown at a stated rate;
//! the opening balance chains from the last actual year. Every figure in integer pence, with checked arithmetic.

use std::collections::BTreeMap;

use highneeds_domain::{BudgetLine, FinancialYear, Pence};

use crate::ledger::{budget_by_year, ledger, YearBudget};
use crate::ModelError;

/// One projected financial year of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerYear {
    pub financial_year: FinancialYear,
    /// Modelled cost of the children's placements (the forecast, rounded once).
    pub placement: Pence,
    /// Expenditure beyond placements (central services, therapies), carried forward with the uplift.
    pub other_expenditure: Pence,
    /// Placement + other expenditure.
    pub expenditure: Pence,
    /// What the initiatives cost (invest-to-save and each lever's cost profile).
    pub initiative_cost: Pence,
    pub allocation: Pence,
    /// The budget file's block transfers and the scenario's.
    pub block_transfers: Pence,
    pub grants: Pence,
    pub deductions: Pence,
    /// Allocation + block transfers + grants − deductions.
    pub income: Pence,
    /// Income − expenditure − initiative cost.
    pub in_year: Pence,
    /// Contributions towards the cumulative deficit (not in-year income).
    pub contributions: Pence,
    pub opening: Pence,
    /// Opening + in-year + contributions.
    pub closing: Pence,
    pub total_dsg: Option<Pence>,
    /// Closing deficit as a share of total DSG, where known and in deficit.
    pub deficit_share_of_dsg: Option<f64>,
}

/// Where the projection starts and how each line was projected.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerBasis {
    pub last_actual: FinancialYear,
    /// Closing balance of the last actual year: the first projected year's opening.
    pub opening: Pence,
    pub last_allocation: Pence,
    pub last_deductions: Pence,
    pub last_total_dsg: Option<Pence>,
    /// Budget-file lines for years after the last actual one (allocations etc. already known).
    pub future: BTreeMap<FinancialYear, YearBudget>,
    /// Other expenditure in the last actual year: its expenditure less the modelled placement cost.
    pub other_expenditure: Pence,
    pub allocation_growth: f64,
    pub uplift: f64,
    /// Plain-English notes on how each line was projected.
    pub notes: Vec<String>,
}

/// Money lines a scenario adds per financial year.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScenarioMoney {
    pub cost: BTreeMap<FinancialYear, Pence>,
    pub block_transfers: BTreeMap<FinancialYear, Pence>,
    pub grants: BTreeMap<FinancialYear, Pence>,
    pub contributions: BTreeMap<FinancialYear, Pence>,
}

fn overflow() -> ModelError {
    ModelError::Invalid("a ledger figure is beyond what can be represented in pence".into())
}

fn add(a: Pence, b: Pence) -> Result<Pence, ModelError> {
    a.checked_add(b).ok_or_else(overflow)
}

fn sub(a: Pence, b: Pence) -> Result<Pence, ModelError> {
    a.pence()
        .checked_sub(b.pence())
        .map(Pence::new)
        .ok_or_else(overflow)
}

fn grown(p: Pence, rate: f64, steps: i32) -> Result<Pence, ModelError> {
    Pence::from_pence_rounded(p.pence() as f64 * (1.0 + rate).powi(steps)).ok_or_else(overflow)
}

/// The last actual year of the budget (the latest with expenditure), its closing balance and the basis of the
/// projection. `modelled_placement_in_last_actual` is the forecast's placement cost for that year (pence).
pub fn basis(
    lines: &[BudgetLine],
    modelled_placement_in_last_actual: impl Fn(FinancialYear) -> Option<f64>,
    allocation_growth: Option<f64>,
    uplift: f64,
) -> Result<LedgerBasis, ModelError> {
    let (opening, years) = budget_by_year(lines);
    let last = last_actual_year(&years)?;
    let mut notes = Vec::new();
    if opening.is_none() {
        notes.push(no_opening_balance_note(&years, &last));
    }
    let actual: Vec<YearBudget> = years
        .iter()
        .filter(|y| y.financial_year <= last.financial_year)
        .cloned()
        .collect();
    let closing = ledger(opening.unwrap_or(Pence::ZERO), &actual)
        .last()
        .map_or(Pence::ZERO, |r| r.closing);
    let future = years
        .iter()
        .filter(|y| y.financial_year > last.financial_year)
        .map(|y| (y.financial_year, y.clone()))
        .collect();
    let (growth, allocation_note) = allocation_after_budget(allocation_growth, &actual, &last);
    notes.push(allocation_note);
    let (other, other_note) = other_expenditure(&last, modelled_placement_in_last_actual, uplift)?;
    notes.push(other_note);
    Ok(LedgerBasis {
        last_actual: last.financial_year,
        opening: closing,
        last_allocation: last.allocation,
        last_deductions: last.deductions,
        last_total_dsg: last.total_dsg,
        future,
        other_expenditure: other,
        allocation_growth: growth,
        uplift,
        notes,
    })
}

/// The budget's last actual year: the latest financial year with expenditure (an error when none has any).
fn last_actual_year(years: &[YearBudget]) -> Result<YearBudget, ModelError> {
    let Some(last) = years
        .iter()
        .filter(|y| y.expenditure != Pence::ZERO)
        .max_by_key(|y| y.financial_year)
        .cloned()
    else {
        return Err(ModelError::Invalid(
            "the budget has no expenditure lines: import the High Needs budget (hnb-budget.csv) first".into(),
        ));
    };
    Ok(last)
}

/// The note saying the ledger starts from £0.00 in the budget's first year, as it gives no opening balance.
fn no_opening_balance_note(years: &[YearBudget], last: &YearBudget) -> String {
    format!(
        "the budget gives no opening balance: the ledger starts from £0.00 in {}",
        years
            .first()
            .map_or(last.financial_year, |y| y.financial_year)
    )
}

/// The allocation's yearly growth after the budget's years (the scenario's, else the recent mean) and its note.
fn allocation_after_budget(
    allocation_growth: Option<f64>,
    actual: &[YearBudget],
    last: &YearBudget,
) -> (f64, String) {
    let (growth, how) = match allocation_growth {
        Some(g) => (
            g,
            format!("{:+.2} % a year, as the scenario sets", g * 100.0),
        ),
        None => mean_recent_growth(actual),
    };
    let note = format!(
        "allocation after the budget's years: the {} allocation ({}) grown {how}; deductions grown the same; \
         block transfers only where the budget or a lever gives them (each needs Schools Forum approval)",
        last.financial_year, last.allocation
    );
    (growth, note)
}

/// Other expenditure in the last actual year (its expenditure less the modelled placement cost) and its note.
fn other_expenditure(
    last: &YearBudget,
    modelled_placement_in_last_actual: impl Fn(FinancialYear) -> Option<f64>,
    uplift: f64,
) -> Result<(Pence, String), ModelError> {
    let modelled = modelled_placement_in_last_actual(last.financial_year).ok_or_else(|| {
        ModelError::Invalid(format!(
            "the forecast does not cover the budget's last actual year {}: the history's censuses must reach it",
            last.financial_year
        ))
    })?;
    let modelled = Pence::from_pence_rounded(modelled).ok_or_else(overflow)?;
    let other = sub(last.expenditure, modelled)?;
    let note = format!(
        "other expenditure: {} in {} less the modelled placement cost {} = {}, carried forward with the uplift \
         ({:+.2} % a year){}",
        last.expenditure,
        last.financial_year,
        modelled,
        other,
        uplift * 100.0,
        if other.is_negative() {
            " (negative: the unit costs price the placements above the budget's spend lines)"
        } else {
            ""
        }
    );
    Ok((other, note))
}

/// The mean growth of the last three actual allocations (fewer if fewer are known; 0 if only one).
fn mean_recent_growth(actual: &[YearBudget]) -> (f64, String) {
    let allocations: Vec<(FinancialYear, f64)> = actual
        .iter()
        .filter(|y| y.allocation.pence() > 0)
        .map(|y| (y.financial_year, y.allocation.pence() as f64))
        .collect();
    let rates: Vec<f64> = allocations
        .windows(2)
        .rev()
        .take(3)
        .filter(|w| w[1].0 == w[0].0.next())
        .map(|w| w[1].1 / w[0].1 - 1.0)
        .collect();
    if rates.is_empty() {
        return (
            0.0,
            "by 0 % (fewer than two consecutive actual allocations)".into(),
        );
    }
    let g = rates.iter().sum::<f64>() / rates.len() as f64;
    (
        g,
        format!(
            "by {:+.2} % a year, the mean growth of the last {} actual allocations",
            g * 100.0,
            rates.len()
        ),
    )
}

/// The ledger over the projected years, from each year's modelled placement cost (pence, rounded once here).
pub fn project(
    basis: &LedgerBasis,
    placement: &[(FinancialYear, f64)],
    money: &ScenarioMoney,
) -> Result<Vec<LedgerYear>, ModelError> {
    let mut balance = basis.opening;
    let mut rows = Vec::new();
    for &(fy, cost) in placement.iter().filter(|(fy, _)| *fy > basis.last_actual) {
        let steps = fy.start_year() - basis.last_actual.start_year();
        let known = basis.future.get(&fy);
        let allocation = match known.filter(|k| k.allocation != Pence::ZERO) {
            Some(k) => k.allocation,
            None => grown(basis.last_allocation, basis.allocation_growth, steps)?,
        };
        let deductions = match known.filter(|k| k.deductions != Pence::ZERO) {
            Some(k) => k.deductions,
            None => grown(basis.last_deductions, basis.allocation_growth, steps)?,
        };
        let total_dsg = match known.and_then(|k| k.total_dsg) {
            Some(t) => Some(t),
            None => match basis.last_total_dsg {
                Some(t) => Some(grown(t, basis.allocation_growth, steps)?),
                None => None,
            },
        };
        let get = |m: &BTreeMap<FinancialYear, Pence>| m.get(&fy).copied().unwrap_or(Pence::ZERO);
        let block_transfers = add(
            known.map_or(Pence::ZERO, |k| k.block_transfers),
            get(&money.block_transfers),
        )?;
        let grants = get(&money.grants);
        let placement = Pence::from_pence_rounded(cost).ok_or_else(overflow)?;
        let other_expenditure = grown(basis.other_expenditure, basis.uplift, steps)?;
        let expenditure = add(placement, other_expenditure)?;
        let initiative_cost = get(&money.cost);
        let income = sub(add(add(allocation, block_transfers)?, grants)?, deductions)?;
        let in_year = sub(sub(income, expenditure)?, initiative_cost)?;
        let contributions = get(&money.contributions);
        let closing = add(add(balance, in_year)?, contributions)?;
        let deficit_share_of_dsg = match total_dsg {
            Some(d) if closing.is_negative() && d.pence() > 0 => {
                Some(-(closing.pence() as f64) / d.pence() as f64)
            }
            _ => None,
        };
        rows.push(LedgerYear {
            financial_year: fy,
            placement,
            other_expenditure,
            expenditure,
            initiative_cost,
            allocation,
            block_transfers,
            grants,
            deductions,
            income,
            in_year,
            contributions,
            opening: balance,
            closing,
            total_dsg,
            deficit_share_of_dsg,
        });
        balance = closing;
    }
    Ok(rows)
}
