//! Problems found in input files: what, where, and how bad.

use std::fmt;

/// How bad a problem is. Errors block the import; warnings are data-quality notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file, naming the file, row, column, value and the rule broken.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issue {
    /// File name as shown to the user, e.g. `transitions.csv`.
    pub file: String,
    /// Worksheet, for XLSX files.
    pub sheet: Option<String>,
    /// Physical line in the file (header = 1); for XLSX the sheet row number.
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    /// The rule broken, in plain English.
    pub rule: String,
    pub severity: Severity,
}

impl Issue {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    /// An issue about a whole file (no line, column or value): a missing file, an unreadable folder.
    pub fn about_file(file: &str, severity: Severity, rule: String) -> Self {
        Self {
            file: file.to_string(),
            sheet: None,
            line: None,
            column: None,
            value: None,
            rule,
            severity,
        }
    }
}

impl fmt::Display for Issue {
    /// `transitions.csv:412: column academic-year-2: "abc" is not an NCY (-5..20)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, "[{sheet}]")?;
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if let Some(column) = &self.column {
            // SEN2 returns are XML: their issues name an element (with the person's position), not a column.
            let what = if self.file.to_ascii_lowercase().ends_with(".xml") {
                "element"
            } else {
                "column"
            };
            write!(f, "{what} {column}: ")?;
        }
        if let Some(value) = &self.value {
            write!(f, "{value:?} ")?;
        }
        f.write_str(&self.rule)
    }
}

/// Most errors reported per file; the rest are counted in one closing issue.
pub const MAX_ERRORS_PER_FILE: usize = 100;

/// Longest value quoted back in an issue (characters).
const MAX_VALUE_CHARS: usize = 60;

fn shorten(value: &str) -> String {
    if value.chars().count() <= MAX_VALUE_CHARS {
        value.to_string()
    } else {
        let mut s: String = value.chars().take(MAX_VALUE_CHARS).collect();
        s.push('…');
        s
    }
}

struct WarningTally {
    /// Singular and plural noun: ("row", "rows").
    noun: (&'static str, &'static str),
    /// What is wrong, after the noun: "where academic-year-2 is not academic-year-1 + 1".
    what: String,
    count: u64,
    first_line: Option<u64>,
}

/// How the issue standing for the errors past the cap begins: `... and 5 more errors`.
const MORE_ERRORS: &str = "... and ";

/// How many errors the issues stand for: the "... and N more errors" issue counts as N, not 1.
pub fn error_count(issues: &[Issue]) -> usize {
    issues
        .iter()
        .filter(|i| i.is_error())
        .map(|i| {
            i.rule
                .strip_prefix(MORE_ERRORS)
                .filter(|_| i.line.is_none())
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(1)
        })
        .sum()
}

/// Collects the issues of one file: errors up to a cap, warnings tallied by kind.
pub(crate) struct Report {
    file: String,
    sheet: Option<String>,
    issues: Vec<Issue>,
    errors: usize,
    tallies: Vec<WarningTally>,
}

impl Report {
    pub(crate) fn new(file: &str) -> Self {
        Self {
            file: file.to_string(),
            sheet: None,
            issues: Vec::new(),
            errors: 0,
            tallies: Vec::new(),
        }
    }

    pub(crate) fn set_sheet(&mut self, sheet: Option<String>) {
        self.sheet = sheet;
    }

    fn push(
        &mut self,
        severity: Severity,
        line: Option<u64>,
        column: Option<&str>,
        value: Option<&str>,
        rule: String,
    ) {
        self.issues.push(Issue {
            file: self.file.clone(),
            sheet: self.sheet.clone(),
            line,
            column: column.map(str::to_string),
            value: value.map(shorten),
            rule,
            severity,
        });
    }

    /// An error about one value in one column.
    pub(crate) fn cell(&mut self, line: u64, column: &str, value: &str, rule: impl Into<String>) {
        self.errors += 1;
        if self.errors <= MAX_ERRORS_PER_FILE {
            self.push(
                Severity::Error,
                Some(line),
                Some(column),
                Some(value),
                rule.into(),
            );
        }
    }

    /// An error about a column as a whole (e.g. missing from the header).
    pub(crate) fn column(&mut self, line: u64, column: &str, rule: impl Into<String>) {
        self.errors += 1;
        if self.errors <= MAX_ERRORS_PER_FILE {
            self.push(Severity::Error, Some(line), Some(column), None, rule.into());
        }
    }

    /// An error about a whole line.
    pub(crate) fn line(&mut self, line: u64, rule: impl Into<String>) {
        self.errors += 1;
        if self.errors <= MAX_ERRORS_PER_FILE {
            self.push(Severity::Error, Some(line), None, None, rule.into());
        }
    }

    /// An error about the whole file.
    pub(crate) fn file(&mut self, rule: impl Into<String>) {
        self.errors += 1;
        if self.errors <= MAX_ERRORS_PER_FILE {
            self.push(Severity::Error, None, None, None, rule.into());
        }
    }

    /// A warning about the whole file, reported once as given.
    pub(crate) fn warn_file(&mut self, rule: impl Into<String>) {
        self.push(Severity::Warning, None, None, None, rule.into());
    }

    /// Count one occurrence of a kind of warning; reported once with the count at the end.
    pub(crate) fn tally(
        &mut self,
        noun: (&'static str, &'static str),
        what: &str,
        line: Option<u64>,
    ) {
        if let Some(t) = self
            .tallies
            .iter_mut()
            .find(|t| t.noun == noun && t.what == what)
        {
            t.count += 1;
            if t.first_line.is_none() {
                t.first_line = line;
            }
            return;
        }
        self.tallies.push(WarningTally {
            noun,
            what: what.to_string(),
            count: 1,
            first_line: line,
        });
    }

    /// Close the report: add the "and N more errors" line and the tallied warnings.
    pub(crate) fn finish(mut self) -> Vec<Issue> {
        if self.errors > MAX_ERRORS_PER_FILE {
            let more = self.errors - MAX_ERRORS_PER_FILE;
            let s = if more == 1 { "" } else { "s" };
            self.push(
                Severity::Error,
                None,
                None,
                None,
                format!("{MORE_ERRORS}{more} more error{s}"),
            );
        }
        for t in std::mem::take(&mut self.tallies) {
            let noun = if t.count == 1 { t.noun.0 } else { t.noun.1 };
            let at = match t.first_line {
                Some(l) if t.count == 1 => format!(" (line {l})"),
                Some(l) => format!(" (first at line {l})"),
                None => String::new(),
            };
            self.push(
                Severity::Warning,
                None,
                None,
                None,
                format!("{} {noun} {}{at}", t.count, t.what),
            );
        }
        self.issues
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let mut i = Issue {
            file: "transitions.csv".into(),
            sheet: None,
            line: Some(412),
            column: Some("academic-year-2".into()),
            value: Some("abc".into()),
            rule: "is not an NCY (-5..20)".into(),
            severity: Severity::Error,
        };
        assert_eq!(
            i.to_string(),
            r#"transitions.csv:412: column academic-year-2: "abc" is not an NCY (-5..20)"#
        );
        i.sheet = Some("Sheet1".into());
        i.file = "plans.xlsx".into();
        assert_eq!(
            i.to_string(),
            r#"plans.xlsx[Sheet1]:412: column academic-year-2: "abc" is not an NCY (-5..20)"#
        );
        i.sheet = None;
        i.file = "transitions.csv".into();
        i.column = None;
        i.value = None;
        i.rule = "row has 6 fields, the header has 7".into();
        assert_eq!(
            i.to_string(),
            "transitions.csv:412: row has 6 fields, the header has 7"
        );
        i.line = None;
        i.severity = Severity::Warning;
        assert_eq!(
            i.to_string(),
            "transitions.csv: warning: row has 6 fields, the header has 7"
        );
    }

    #[test]
    fn xml_issues_name_an_element() {
        let i = Issue {
            file: "sen2-2024.xml".into(),
            sheet: None,
            line: Some(27),
            column: Some("Person 17/UPN".into()),
            value: None,
            rule: "fails the check letter".into(),
            severity: Severity::Warning,
        };
        assert_eq!(
            i.to_string(),
            "sen2-2024.xml:27: warning: element Person 17/UPN: fails the check letter"
        );
    }

    #[test]
    fn caps_errors_and_tallies_warnings() {
        let mut r = Report::new("x.csv");
        for l in 0..105 {
            r.line(l, "bad");
        }
        r.tally(("row", "rows"), "where it is odd", Some(7));
        r.tally(("row", "rows"), "where it is odd", Some(9));
        r.tally(("child", "children"), "who vanish", Some(3));
        let issues = r.finish();
        assert_eq!(issues.len(), 103);
        assert_eq!(issues[100].to_string(), "x.csv: ... and 5 more errors");
        assert_eq!(error_count(&issues), 105);
        assert_eq!(
            issues[101].to_string(),
            "x.csv: warning: 2 rows where it is odd (first at line 7)"
        );
        assert_eq!(
            issues[102].to_string(),
            "x.csv: warning: 1 child who vanish (line 3)"
        );
    }
}
