//! Every file format `highneeds` reads and writes: witan.send's four CSVs, our person-level `plans.csv`, and the
//! HNB budget file, as CSV or as the first sheet of an XLSX workbook.
//!
//! Readers parse and validate into domain types and collect every problem as an [`Issue`] naming file, line,
//! column, value and rule; broken input is never a panic and never a half result ([`Parsed::value`] is `None`
//! whenever there is an error). Writers ([`write`]) are the exact inverses of the readers.
//!
//! Architecture invariant: no database work, nothing printed.

mod budget;
mod detect;
mod fields;
mod issue;
mod plans;
pub mod published;
pub mod scenario;
pub mod sen2;
mod table;
mod text;
mod totals;
mod witan;
mod workbook;
pub mod write;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use budget::{parse_budget, read_budget, read_budget_with};
pub use detect::{detect_kind, parse_bytes, validate_file, validate_file_with, FileData, FileKind};
pub use issue::{error_count, Issue, Severity, MAX_ERRORS_PER_FILE};
pub use plans::{parse_plans, read_plans, read_plans_with};
pub use published::{parse_published_file, read_published_dir};
pub use table::{
    neutralise_formula, unneutralise_formula, MAX_FILE_BYTES, MAX_INFLATED_BYTES, MAX_RECORD_BYTES,
    MAX_ROWS, MAX_XLSX_CELLS, NO_DATA_ROWS,
};
pub use text::TextEncoding;
pub use totals::{parse_totals, read_totals};
pub use witan::{
    parse_costs, parse_population, parse_transitions, parse_valid_states, read_costs,
    read_population, read_transitions, read_valid_states, read_witan_dir, read_witan_dir_with,
};
pub use workbook::quiet_contained_panics;

/// A file that was read: where from, its SHA-256 (to recognise a re-import) and how many data rows it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// File name as shown to the user.
    pub name: String,
    pub path: PathBuf,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Data rows (not counting the header).
    pub rows: u64,
}

/// The result of reading: the value if there were no errors, every issue found, and the files read.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    /// `None` if and only if an issue is an error.
    pub value: Option<T>,
    pub issues: Vec<Issue>,
    pub sources: Vec<SourceFile>,
}

impl<T> Parsed<T> {
    /// Build a result, dropping the value if any issue is an error.
    pub(crate) fn new(value: Option<T>, issues: Vec<Issue>, sources: Vec<SourceFile>) -> Self {
        let value = if issues.iter().any(Issue::is_error) {
            None
        } else {
            value
        };
        Self {
            value,
            issues,
            sources,
        }
    }

    /// A result with errors only (a value is never returned with an error).
    pub(crate) fn failed(issues: Vec<Issue>, sources: Vec<SourceFile>) -> Self {
        Self {
            value: None,
            issues,
            sources,
        }
    }

    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.is_error())
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| !i.is_error())
    }
    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Parsed<U> {
        Parsed {
            value: self.value.map(f),
            issues: self.issues,
            sources: self.sources,
        }
    }
}

/// Lower-case hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The name a path is shown as: the path as the user gave it (two files of the same name in different folders
/// must not read alike in messages), shortened in the middle if it is very long.
pub(crate) fn display_name(path: &Path) -> String {
    shorten_middle(&path.display().to_string(), MAX_SHOWN_PATH_CHARS)
}

/// Longest path or argument shown whole in a message.
pub const MAX_SHOWN_PATH_CHARS: usize = 200;

/// `text` whole if it has at most `max` characters, else its start and end around an ellipsis saying how many
/// characters were left out (a very long argument must not flood a message).
pub fn shorten_middle(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let keep = max / 2;
    let head: String = text.chars().take(keep).collect();
    let tail: String = text.chars().skip(n - keep).collect();
    format!("{head}…({} characters)…{tail}", n - 2 * keep)
}

pub(crate) fn source(name: &str, path: &Path, bytes: &[u8], rows: u64) -> SourceFile {
    SourceFile {
        name: name.to_string(),
        path: path.to_path_buf(),
        sha256: sha256_hex(bytes),
        rows,
    }
}

/// The rule for a path that is a device, a named pipe or a socket: reading one could block or never end.
pub const NOT_REGULAR: &str =
    "is not a regular file (a device, named pipe or socket): give a file saved on disk";

/// Refuse a path that is not a regular file before anything opens it (opening a named pipe blocks, reading
/// `/dev/zero` never ends). A path that does not exist is left for the reader to report.
pub fn check_regular_file(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err("is a directory, not a file".into()),
        Ok(m) if !m.is_file() => Err(NOT_REGULAR.into()),
        _ => Ok(()),
    }
}

/// Read a whole file, or the issue saying why it could not be read.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, Box<Issue>> {
    let name = display_name(path);
    let fail = |rule: String| -> Box<Issue> {
        Box::new(Issue {
            file: name.clone(),
            sheet: None,
            line: None,
            column: None,
            value: None,
            rule,
            severity: Severity::Error,
        })
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    if meta.is_dir() {
        return Err(fail("is a directory, not a file".into()));
    }
    if !meta.is_file() {
        return Err(fail(NOT_REGULAR.into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "file is larger than {MAX_FILE_BYTES} bytes: too big to be one LA's file"
        )));
    }
    std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))
}

/// How to read a file a user names: its text encoding if the user stated one (`--encoding`); else it is detected
/// (see [`TextEncoding`]). Workbooks have no text encoding and ignore it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    pub encoding: Option<TextEncoding>,
}

/// Read a file and parse it with a byte parser, recording the real path in the source.
pub(crate) fn read_with<T>(path: &Path, parse: impl FnOnce(&str, &[u8]) -> Parsed<T>) -> Parsed<T> {
    read_with_options(path, &ReadOptions::default(), parse)
}

/// [`read_with`], a stated text encoding turning the bytes into UTF-8 first. The source keeps the SHA-256 of the
/// file's own bytes (what recognises a re-import), whatever its encoding.
pub(crate) fn read_with_options<T>(
    path: &Path,
    options: &ReadOptions,
    parse: impl FnOnce(&str, &[u8]) -> Parsed<T>,
) -> Parsed<T> {
    let name = display_name(path);
    let bytes = match read_bytes(path) {
        Ok(b) => b,
        Err(issue) => return Parsed::failed(vec![*issue], Vec::new()),
    };
    let sha256 = sha256_hex(&bytes);
    let text = match stated_text(&name, &bytes, options) {
        Ok(text) => text,
        Err(issue) => return Parsed::failed(vec![*issue], vec![source(&name, path, &bytes, 0)]),
    };
    let mut parsed = parse(&name, &text);
    for s in &mut parsed.sources {
        s.path = path.to_path_buf();
        s.sha256 = sha256.clone();
    }
    parsed
}

/// A text file's bytes in UTF-8 by the stated encoding (unchanged when none is stated or it is a workbook).
pub(crate) fn stated_text<'a>(
    name: &str,
    bytes: &'a [u8],
    options: &ReadOptions,
) -> Result<std::borrow::Cow<'a, [u8]>, Box<Issue>> {
    match options.encoding {
        Some(encoding) if !table::is_workbook(name, bytes) => text::decode(bytes, Some(encoding))
            .map(|d| d.bytes)
            .map_err(|(line, rule)| {
                Box::new(Issue {
                    file: name.to_string(),
                    sheet: None,
                    line,
                    column: None,
                    value: None,
                    rule: format!("(read as {encoding}) {rule}"),
                    severity: Severity::Error,
                })
            }),
        _ => Ok(std::borrow::Cow::Borrowed(bytes)),
    }
}
