//! The HNB budget file `hnb-budget.csv`: `financial_year,kind,line,amount`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use highneeds_domain::{BudgetKind, BudgetLine, FinancialYear};

use crate::fields;
use crate::issue::Report;
use crate::table::{read_table, Columns};
use crate::{read_with_options, source, Parsed, ReadOptions};

pub(crate) const BUDGET_COLUMNS: [&str; 4] = ["financial_year", "kind", "amount", "line"];

/// Parse an `hnb-budget.csv`: amounts in pounds (at most 2 d.p.; `£` and thousands separators accepted).
pub fn parse_budget(name: &str, bytes: &[u8]) -> Parsed<Vec<BudgetLine>> {
    let mut report = Report::new(name);
    let mut out = Vec::new();
    let mut seen: HashMap<(FinancialYear, BudgetKind, String), u64> = HashMap::new();
    // Per financial year: first expenditure line, and whether it has an allocation.
    let mut years: BTreeMap<FinancialYear, (Option<u64>, bool)> = BTreeMap::new();
    let columns = Columns {
        names: &BUDGET_COLUMNS,
        required: 3,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let fy_text = row.get(0);
        let fy = fy_text.parse::<FinancialYear>().ok();
        if fy.is_none() {
            report.cell(
                row.line,
                "financial_year",
                fy_text,
                "is not a financial year like 2024-25",
            );
        }
        let kind_text = row.get(1);
        let kind = kind_text.parse::<BudgetKind>().ok();
        if kind.is_none() {
            report.cell(
                row.line,
                "kind",
                kind_text,
                "is not a budget kind (opening_balance, allocation, block_transfer, deduction, expenditure, total_dsg)",
            );
        }
        let amount = fields::money(report, row, 2, "amount");
        let line_text = row.get(3).to_string();
        let (Some(financial_year), Some(kind), Some(amount)) = (fy, kind, amount) else {
            return;
        };
        let key = (financial_year, kind, line_text);
        if let Some(first) = seen.get(&key) {
            report.line(
                row.line,
                format!(
                    "duplicate budget line: financial_year {}, kind {}, line {:?} (first at line {first})",
                    key.0, key.1, key.2
                ),
            );
            return;
        }
        seen.insert(key.clone(), row.line);
        let entry = years.entry(financial_year).or_insert((None, false));
        match kind {
            BudgetKind::Expenditure => {
                entry.0.get_or_insert(row.line);
            }
            BudgetKind::Allocation => entry.1 = true,
            _ => {}
        }
        out.push(BudgetLine {
            financial_year: key.0,
            kind: key.1,
            line: key.2,
            amount,
        });
    });
    for (_, (expenditure_line, allocated)) in years {
        if let (Some(line), false) = (expenditure_line, allocated) {
            report.tally(
                ("financial year", "financial years"),
                "with expenditure but no allocation",
                Some(line),
            );
        }
    }
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(out), report.finish(), vec![src])
}

/// Read an `hnb-budget.csv` (or `.xlsx`) file.
pub fn read_budget(path: &Path) -> Parsed<Vec<BudgetLine>> {
    read_budget_with(path, &ReadOptions::default())
}

/// [`read_budget`], with the encoding the user stated.
pub fn read_budget_with(path: &Path, options: &ReadOptions) -> Parsed<Vec<BudgetLine>> {
    read_with_options(path, options, parse_budget)
}
