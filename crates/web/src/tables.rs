//! The tables behind the pages, once: each page shows them, `/export/*.csv` downloads them, charts draw them.

use highneeds_usecases::caseload::CensusCounts;

use crate::figures::Figures;
use crate::views::count;

/// A table: column heads and rows of text cells.
pub struct Table {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn heads(h: &[&str]) -> Vec<String> {
    h.iter().map(|s| s.to_string()).collect()
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".to_string(), count)
}

fn pounds_m(p: highneeds_domain::Pence) -> String {
    p.to_millions_string()
}

/// Plans at each census (history), then the forecast's mean and 90 % interval.
pub fn plans(f: &Figures) -> Table {
    let mut rows: Vec<Vec<String>> = f
        .caseload
        .iter()
        .map(|c| {
            vec![
                c.census_year.to_string(),
                "actual".into(),
                count(c.total as f64),
                "".into(),
                "".into(),
            ]
        })
        .collect();
    if let Ok(fc) = &f.forecast {
        for c in &fc.census_years {
            rows.push(vec![
                c.census_year.to_string(),
                "forecast".into(),
                count(c.total.mean),
                opt(c.total.quantile(0.05)),
                opt(c.total.quantile(0.95)),
            ]);
        }
    }
    Table {
        head: heads(&["census (January)", "kind", "plans", "90% low", "90% high"]),
        rows,
    }
}

/// High Needs cost by financial year: the forecast's mean and 90 % interval.
pub fn cost(f: &Figures) -> Table {
    let mut rows = Vec::new();
    if let Ok(fc) = &f.forecast {
        for y in &fc.financial_years {
            let q = |p: f64| {
                y.quantiles
                    .iter()
                    .find(|(l, _)| (l - p).abs() < 1e-9)
                    .map_or("-".to_string(), |(_, v)| pounds_m(*v))
            };
            rows.push(vec![
                y.financial_year.to_string(),
                pounds_m(y.mean),
                q(0.05),
                q(0.95),
            ]);
        }
    }
    Table {
        head: heads(&["financial year", "cost (mean)", "90% low", "90% high"]),
        rows,
    }
}

/// The DSG high needs ledger.
pub fn ledger(f: &Figures) -> Table {
    Table {
        head: heads(&[
            "financial year",
            "income",
            "spend",
            "in-year",
            "closing (cumulative)",
        ]),
        rows: f
            .ledger
            .iter()
            .map(|r| {
                vec![
                    r.budget.financial_year.to_string(),
                    pounds_m(r.income),
                    pounds_m(r.budget.expenditure),
                    pounds_m(r.in_year),
                    pounds_m(r.closing),
                ]
            })
            .collect(),
    }
}

/// Which breakdown of the caseload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    Setting,
    Need,
    AgeGroup,
    Ncy,
}

impl Breakdown {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "setting" => Some(Self::Setting),
            "need" => Some(Self::Need),
            "age_group" | "age" => Some(Self::AgeGroup),
            "ncy" => Some(Self::Ncy),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Self::Setting => "setting",
            Self::Need => "need",
            Self::AgeGroup => "age_group",
            Self::Ncy => "ncy",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Setting => "setting",
            Self::Need => "primary need",
            Self::AgeGroup => "age group",
            Self::Ncy => "national curriculum year",
        }
    }
    /// The categories and counts at one census, in display order.
    pub fn of(self, c: &CensusCounts) -> Vec<(String, u64)> {
        match self {
            Self::Setting => c.by_setting.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            Self::Need => c.by_need.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            Self::AgeGroup => highneeds_domain::AgeGroup::ALL
                .iter()
                .map(|g| {
                    (
                        g.label().to_string(),
                        c.by_age_group.get(g.code()).copied().unwrap_or(0),
                    )
                })
                .collect(),
            Self::Ncy => c
                .by_ncy
                .iter()
                .map(|(k, v)| (format!("NCY {k}"), *v))
                .collect(),
        }
    }
}

/// Plans by one breakdown (rows) and census (columns), with the total and the year's joiners and leavers.
pub fn caseload(f: &Figures, by: Breakdown) -> Table {
    let mut categories: Vec<String> = Vec::new();
    for c in &f.caseload {
        for (k, _) in by.of(c) {
            if !categories.contains(&k) {
                categories.push(k);
            }
        }
    }
    let mut rows = Vec::new();
    for c in &f.caseload {
        let cells = by.of(c);
        let mut row = vec![c.census_year.to_string()];
        for k in &categories {
            row.push(
                cells
                    .iter()
                    .find(|(n, _)| n == k)
                    .map_or("0".into(), |(_, v)| v.to_string()),
            );
        }
        row.push(c.total.to_string());
        row.push(c.joiners.map_or("-".into(), |v| v.to_string()));
        row.push(c.leavers.map_or("-".into(), |v| v.to_string()));
        rows.push(row);
    }
    let mut head = vec!["census".to_string()];
    head.extend(categories);
    head.extend(heads(&["total", "joiners", "leavers"]));
    Table { head, rows }
}

/// Backtest scores per method and horizon.
pub fn accuracy(f: &Figures) -> Table {
    let mut rows = Vec::new();
    if let Ok(r) = &f.backtest {
        for s in &r.scores {
            let cov = |i: usize| {
                s.coverage
                    .map_or("-".into(), |c| format!("{:.0}%", c[i] * 100.0))
            };
            rows.push(vec![
                s.method.code().to_string(),
                s.horizon.to_string(),
                s.cases.to_string(),
                format!("{:.1}%", s.mape * 100.0),
                format!("{:+.1}%", s.bias * 100.0),
                cov(1),
                cov(2),
            ]);
        }
    }
    Table {
        head: heads(&[
            "method",
            "horizon (years)",
            "cases",
            "MAPE",
            "bias",
            "80% coverage",
            "90% coverage",
        ]),
        rows,
    }
}
