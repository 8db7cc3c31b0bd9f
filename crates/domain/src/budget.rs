//! The High Needs Block budget an LA supplies: allocation, block transfers, deductions and spend by line,
//! per financial year (integer pence).

use std::fmt;
use std::str::FromStr;

use crate::calendar::FinancialYear;
use crate::money::Pence;
use crate::DomainError;

/// What a budget line is, in the DSG ledger's terms (DESIGN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BudgetKind {
    /// DSG balance brought forward at the start of the year (negative = deficit). Usually only the first year.
    OpeningBalance,
    /// High Needs Block allocation.
    Allocation,
    /// Transfer into the HNB from another block (Schools Block transfer); negative for a transfer out.
    BlockTransfer,
    /// Deductions from the allocation (e.g. import/export adjustments, academy recoupment).
    Deduction,
    /// Spend on a line (top-ups, place funding, independent placements, …).
    Expenditure,
    /// Total DSG (all blocks) for the year, to express a deficit as a share of it.
    TotalDsg,
}

impl BudgetKind {
    pub const ALL: [BudgetKind; 6] = [
        Self::OpeningBalance,
        Self::Allocation,
        Self::BlockTransfer,
        Self::Deduction,
        Self::Expenditure,
        Self::TotalDsg,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Self::OpeningBalance => "opening_balance",
            Self::Allocation => "allocation",
            Self::BlockTransfer => "block_transfer",
            Self::Deduction => "deduction",
            Self::Expenditure => "expenditure",
            Self::TotalDsg => "total_dsg",
        }
    }
}

impl FromStr for BudgetKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|k| k.code().eq_ignore_ascii_case(t))
            .ok_or_else(|| DomainError::Invalid {
                what: "budget kind",
                value: s.to_string(),
                expected: "one of opening_balance allocation block_transfer deduction expenditure total_dsg",
            })
    }
}

impl fmt::Display for BudgetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One line of an LA's HNB budget file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetLine {
    pub financial_year: FinancialYear,
    pub kind: BudgetKind,
    /// The LA's name for the line, e.g. "Top-up: maintained special"; may be empty for allocation rows.
    pub line: String,
    pub amount: Pence,
}
