//! Which format a file is, and validating any file on its own (`highneeds validate FILE...`).

use std::fmt;
use std::path::Path;

use highneeds_domain::{
    BudgetLine, PlanHistory, PopulationCount, Transition, UnitCost, ValidSetting,
};

use crate::issue::{Issue, Severity};
use crate::table::{header_of, normalise_header};
use crate::{budget, display_name, plans, read_bytes, witan, Parsed, ReadOptions};

/// The file formats ingest reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    Transitions,
    Population,
    Costs,
    ValidStates,
    Plans,
    HnbBudget,
}

impl FileKind {
    pub const ALL: [FileKind; 6] = [
        Self::Transitions,
        Self::Population,
        Self::Costs,
        Self::ValidStates,
        Self::Plans,
        Self::HnbBudget,
    ];

    /// The file stem the format is recognised by: `transitions`, `valid-states`, `hnb-budget`, …
    pub fn stem(self) -> &'static str {
        match self {
            Self::Transitions => "transitions",
            Self::Population => "population",
            Self::Costs => "costs",
            Self::ValidStates => "valid-states",
            Self::Plans => "plans",
            Self::HnbBudget => "hnb-budget",
        }
    }

    /// The format's columns; the first [`FileKind::required_columns`] are required.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Transitions => &witan::TRANSITION_COLUMNS,
            Self::Population => &witan::POPULATION_COLUMNS,
            Self::Costs => &witan::COST_COLUMNS,
            Self::ValidStates => &witan::VALID_STATE_COLUMNS,
            Self::Plans => &plans::PLAN_COLUMNS,
            Self::HnbBudget => &budget::BUDGET_COLUMNS,
        }
    }

    pub fn required_columns(self) -> usize {
        match self {
            Self::Plans | Self::HnbBudget => self.columns().len() - 1,
            _ => self.columns().len(),
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stem())
    }
}

/// A parsed file of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileData {
    Transitions(Vec<Transition>),
    Population(Vec<PopulationCount>),
    Costs(Vec<UnitCost>),
    ValidStates(Vec<ValidSetting>),
    Plans(Vec<PlanHistory>),
    HnbBudget(Vec<BudgetLine>),
}

fn kind_from_stem(path: &Path) -> Option<FileKind> {
    let stem = path.file_stem()?.to_string_lossy();
    let stem = normalise_header(&stem);
    FileKind::ALL.into_iter().find(|k| k.stem() == stem)
}

/// The kind a header line belongs to: the kind with most of its columns present (at least two, and at least
/// half of its required ones), so a file missing one column is still recognised and told which.
fn kind_from_header(header: &[String]) -> Option<FileKind> {
    let has = |c: &str| header.iter().any(|h| *h == normalise_header(c));
    FileKind::ALL
        .into_iter()
        .map(|k| {
            let required = &k.columns()[..k.required_columns()];
            let present = required.iter().filter(|c| has(c)).count();
            (k, present, required.len())
        })
        .filter(|(_, present, required)| *present >= 2 && 2 * present >= *required)
        .max_by_key(|(_, present, required)| {
            (
                *present == *required,
                *present,
                std::cmp::Reverse(*required),
            )
        })
        .map(|(k, _, _)| k)
}

/// What kind of file this is: by its name (`transitions.csv`, `plans.xlsx`, …), else by its header line.
pub fn detect_kind(path: &Path) -> Option<FileKind> {
    if let Some(k) = kind_from_stem(path) {
        return Some(k);
    }
    let bytes = read_bytes(path).ok()?;
    kind_from_header(&header_of(&display_name(path), &bytes)?)
}

/// Parse bytes as a file of the given kind (CSV, or XLSX if the name or the bytes say so). No cross-file checks.
pub fn parse_bytes(kind: FileKind, name: &str, bytes: &[u8]) -> Parsed<FileData> {
    match kind {
        FileKind::Transitions => {
            witan::parse_transitions(name, bytes, None).map(FileData::Transitions)
        }
        FileKind::Population => witan::parse_population(name, bytes).map(FileData::Population),
        FileKind::Costs => witan::parse_costs(name, bytes, None).map(FileData::Costs),
        FileKind::ValidStates => witan::parse_valid_states(name, bytes).map(FileData::ValidStates),
        FileKind::Plans => plans::parse_plans(name, bytes).map(FileData::Plans),
        FileKind::HnbBudget => budget::parse_budget(name, bytes).map(FileData::HnbBudget),
    }
}

/// Check one file on its own: find its kind, parse it, and report every issue. The value is the kind if the
/// file has no errors.
pub fn validate_file(path: &Path) -> Parsed<FileKind> {
    validate_file_with(path, &ReadOptions::default())
}

/// [`validate_file`], with the encoding the user stated.
pub fn validate_file_with(path: &Path, options: &ReadOptions) -> Parsed<FileKind> {
    let name = display_name(path);
    let raw = match read_bytes(path) {
        Ok(b) => b,
        Err(issue) => return Parsed::failed(vec![*issue], Vec::new()),
    };
    let bytes = match crate::stated_text(&name, &raw, options) {
        Ok(text) => text,
        Err(issue) => {
            return Parsed::failed(vec![*issue], vec![crate::source(&name, path, &raw, 0)])
        }
    };
    let kind = kind_from_stem(path)
        .or_else(|| header_of(&name, &bytes).and_then(|h| kind_from_header(&h)));
    let Some(kind) = kind else {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            let issue = Issue {
                file: name.clone(),
                sheet: None,
                line: None,
                column: None,
                value: None,
                rule: "empty file: no header line".into(),
                severity: Severity::Error,
            };
            return Parsed::failed(vec![issue], vec![crate::source(&name, path, &bytes, 0)]);
        }
        let stems: Vec<&str> = FileKind::ALL.iter().map(|k| k.stem()).collect();
        let issue = Issue {
            file: name,
            sheet: None,
            line: None,
            column: None,
            value: None,
            rule: format!(
                "cannot tell what kind of file this is: name it {}.csv (or .xlsx), or give it one of their header lines",
                stems.join(".csv, ")
            ),
            severity: Severity::Error,
        };
        return Parsed::failed(
            vec![issue],
            vec![crate::source(&display_name(path), path, &bytes, 0)],
        );
    };
    let mut parsed = parse_bytes(kind, &name, &bytes);
    let sha256 = crate::sha256_hex(&raw);
    for s in &mut parsed.sources {
        s.path = path.to_path_buf();
        s.sha256 = sha256.clone();
    }
    parsed.map(|_| kind)
}
