//! The DSG ledger per financial year, in exact integer pence (DESIGN.md §3):
//! opening balance + income (HNB allocation + block transfers − deductions) − expenditure = closing balance;
//! in-year position = income − expenditure; a negative balance is a deficit.

use std::collections::BTreeMap;

use highneeds_domain::{BudgetKind, BudgetLine, FinancialYear, Pence};

/// One financial year's budget, summed from the LA's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearBudget {
    pub financial_year: FinancialYear,
    pub allocation: Pence,
    pub block_transfers: Pence,
    pub deductions: Pence,
    pub expenditure: Pence,
    pub total_dsg: Option<Pence>,
}

impl YearBudget {
    pub fn new(financial_year: FinancialYear) -> Self {
        Self {
            financial_year,
            allocation: Pence::ZERO,
            block_transfers: Pence::ZERO,
            deductions: Pence::ZERO,
            expenditure: Pence::ZERO,
            total_dsg: None,
        }
    }
    pub fn income(&self) -> Pence {
        self.allocation + self.block_transfers - self.deductions
    }
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub budget: YearBudget,
    pub opening: Pence,
    pub income: Pence,
    pub in_year: Pence,
    pub closing: Pence,
    /// Closing deficit as a share of total DSG (0.05 = 5 %), where total DSG is known and the balance negative.
    pub deficit_share_of_dsg: Option<f64>,
}

/// The budget file's lines grouped by financial year, and the first opening balance given. The ledger starts
/// in the year of that opening balance: years before it are left out (their opening is unknown).
pub fn budget_by_year(lines: &[BudgetLine]) -> (Option<Pence>, Vec<YearBudget>) {
    let mut years: BTreeMap<FinancialYear, YearBudget> = BTreeMap::new();
    let mut opening: Option<(FinancialYear, Pence)> = None;
    for l in lines {
        if l.kind == BudgetKind::OpeningBalance {
            if opening.is_none_or(|(fy, _)| l.financial_year < fy) {
                opening = Some((l.financial_year, l.amount));
            }
            continue;
        }
        let y = years
            .entry(l.financial_year)
            .or_insert_with(|| YearBudget::new(l.financial_year));
        match l.kind {
            BudgetKind::Allocation => y.allocation += l.amount,
            BudgetKind::BlockTransfer => y.block_transfers += l.amount,
            BudgetKind::Deduction => y.deductions += l.amount,
            BudgetKind::Expenditure => y.expenditure += l.amount,
            BudgetKind::TotalDsg => {
                y.total_dsg = Some(y.total_dsg.unwrap_or(Pence::ZERO) + l.amount)
            }
            BudgetKind::OpeningBalance => {}
        }
    }
    let first = opening.map(|o| o.0);
    let years = years
        .into_values()
        .filter(|y| first.is_none_or(|fy| y.financial_year >= fy))
        .collect();
    (opening.map(|o| o.1), years)
}

/// Run the ledger forward from an opening balance.
pub fn ledger(opening: Pence, years: &[YearBudget]) -> Vec<LedgerRow> {
    let mut balance = opening;
    years
        .iter()
        .map(|b| {
            let income = b.income();
            let in_year = income - b.expenditure;
            let closing = balance + in_year;
            let deficit_share_of_dsg = match b.total_dsg {
                Some(dsg) if closing.is_negative() && dsg.pence() > 0 => {
                    Some(-(closing.pence() as f64) / dsg.pence() as f64)
                }
                _ => None,
            };
            let row = LedgerRow {
                budget: b.clone(),
                opening: balance,
                income,
                in_year,
                closing,
                deficit_share_of_dsg,
            };
            balance = closing;
            row
        })
        .collect()
}

/// Extend known budgets into projected years: expenditure from the forecast, allocation grown from the last known
/// year by `allocation_growth` a year (rounded to the penny each year), block transfers and deductions held at
/// the last known year's values, total DSG grown like the allocation.
pub fn project_budgets(
    known: &[YearBudget],
    forecast_expenditure: &[(FinancialYear, Pence)],
    allocation_growth: f64,
) -> Vec<YearBudget> {
    let mut out: Vec<YearBudget> = Vec::new();
    let last = known.last();
    for &(fy, spend) in forecast_expenditure {
        if let Some(k) = known.iter().find(|k| k.financial_year == fy) {
            let mut y = k.clone();
            if y.expenditure == Pence::ZERO {
                y.expenditure = spend;
            }
            out.push(y);
            continue;
        }
        let mut y = YearBudget::new(fy);
        if let Some(l) = last {
            let steps = fy.start_year() - l.financial_year.start_year();
            let factor = (1.0 + allocation_growth).powi(steps);
            y.allocation = grown(l.allocation, factor);
            y.block_transfers = l.block_transfers;
            y.deductions = l.deductions;
            y.total_dsg = l.total_dsg.map(|p| grown(p, factor));
        }
        y.expenditure = spend;
        out.push(y);
    }
    out
}

/// An amount grown by `factor`, rounded to the penny.
fn grown(p: Pence, factor: f64) -> Pence {
    Pence::from_pence_rounded(p.pence() as f64 * factor).unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(s: &str) -> FinancialYear {
        s.parse().unwrap()
    }

    fn line(year: &str, kind: BudgetKind, pounds: i64) -> BudgetLine {
        BudgetLine {
            financial_year: fy(year),
            kind,
            line: String::new(),
            amount: Pence::from_pounds(pounds),
        }
    }

    #[test]
    fn west_berkshire_2024_25() {
        // seeds/001 §7.1: unmitigated HNB spend 2024-25 £40,895,301 against a budget of £29,488,313 (including the
        // Schools Block transfer), with £9,528,516 of deficit from previous years.
        let mut y = YearBudget::new(fy("2024-25"));
        y.allocation = Pence::from_pounds(29_488_313);
        y.expenditure = Pence::from_pounds(40_895_301);
        let rows = ledger(-Pence::from_pounds(9_528_516), &[y]);
        let row = &rows[0];
        assert_eq!(row.in_year, -Pence::from_pounds(11_406_988));
        assert_eq!(row.closing, -Pence::from_pounds(20_935_504));
        assert_eq!(row.closing.to_string(), "-£20,935,504.00");
        // The paper states a cumulative deficit of £20,939,248: £3,744 more than its own three figures give.
        let stated = -Pence::from_pounds(20_939_248);
        assert_eq!(row.closing - stated, Pence::from_pounds(3_744));
    }

    #[test]
    fn ledger_identity_and_carry() {
        let mut a = YearBudget::new(fy("2023-24"));
        a.allocation = Pence::from_pounds(1_000);
        a.block_transfers = Pence::from_pounds(50);
        a.deductions = Pence::from_pounds(10);
        a.expenditure = Pence::from_pounds(1_200);
        a.total_dsg = Some(Pence::from_pounds(10_000));
        let mut b = YearBudget::new(fy("2024-25"));
        b.allocation = Pence::from_pounds(1_100);
        b.expenditure = Pence::from_pounds(1_000);
        let rows = ledger(Pence::from_pounds(-25), &[a, b]);
        assert_eq!(rows[0].income, Pence::from_pounds(1_040));
        assert_eq!(rows[0].in_year, Pence::from_pounds(-160));
        assert_eq!(rows[0].closing, Pence::from_pounds(-185));
        assert_eq!(rows[0].deficit_share_of_dsg, Some(0.0185));
        assert_eq!(rows[1].opening, rows[0].closing);
        assert_eq!(rows[1].closing, Pence::from_pounds(-85));
        assert_eq!(rows[1].deficit_share_of_dsg, None);
    }

    #[test]
    fn budget_lines_grouped() {
        let lines = vec![
            line("2024-25", BudgetKind::Allocation, 100),
            line("2024-25", BudgetKind::Expenditure, 70),
            line("2024-25", BudgetKind::Expenditure, 50),
            line("2023-24", BudgetKind::OpeningBalance, -9),
            line("2024-25", BudgetKind::OpeningBalance, -30),
        ];
        let (opening, years) = budget_by_year(&lines);
        assert_eq!(opening, Some(Pence::from_pounds(-9)));
        // An opening-balance line alone makes no year: 2023-24 has no flows.
        assert!(years.iter().all(|y| y.financial_year != fy("2023-24")));
        let y = years
            .iter()
            .find(|y| y.financial_year == fy("2024-25"))
            .unwrap();
        assert_eq!(y.expenditure, Pence::from_pounds(120));
    }

    #[test]
    fn ledger_starts_at_the_opening_balance_year() {
        let lines = vec![
            line("2023-24", BudgetKind::Allocation, 100),
            line("2023-24", BudgetKind::Expenditure, 120),
            line("2024-25", BudgetKind::OpeningBalance, -20),
            line("2024-25", BudgetKind::Allocation, 100),
            line("2024-25", BudgetKind::Expenditure, 110),
        ];
        let (opening, years) = budget_by_year(&lines);
        let rows = ledger(opening.unwrap_or(Pence::ZERO), &years);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].opening, Pence::from_pounds(-20));
        assert_eq!(rows[0].closing, Pence::from_pounds(-30));
    }

    #[test]
    fn projected_years_grow_allocation() {
        let mut k = YearBudget::new(fy("2024-25"));
        k.allocation = Pence::from_pounds(1_000_000);
        k.expenditure = Pence::from_pounds(1_200_000);
        let out = project_budgets(
            &[k],
            &[
                (fy("2024-25"), Pence::from_pounds(1)),
                (fy("2025-26"), Pence::from_pounds(1_300_000)),
                (fy("2026-27"), Pence::from_pounds(1_400_000)),
            ],
            0.05,
        );
        assert_eq!(out[0].expenditure, Pence::from_pounds(1_200_000)); // known spend kept
        assert_eq!(out[1].allocation, Pence::from_pounds(1_050_000));
        assert_eq!(out[2].allocation, Pence::from_pounds(1_102_500));
        assert_eq!(out[2].expenditure, Pence::from_pounds(1_400_000));
    }
}
