//! `highneeds validate`.

use std::process::ExitCode;

use std::path::{Path, PathBuf};

use anyhow::Result;
use highneeds_ingest::{FileKind, Parsed, ReadOptions};
use serde::Serialize;

use crate::args::{ReportFormat, ValidateArgs};
use crate::commands::REJECTED;
use crate::output::workbook;
use highneeds_usecases::report::{Cell, Kind, Report, Table};

#[derive(Serialize)]
struct FileReport {
    file: String,
    kind: Option<String>,
    rows: Option<u64>,
    valid: bool,
    /// Every error, including those past the per-file cap that `errors` stands for with one line.
    error_count: usize,
    errors: Vec<String>,
    warnings: Vec<String>,
    /// Every issue the file has, for the workbook.
    #[serde(skip)]
    issues: Vec<highneeds_ingest::Issue>,
}

impl FileReport {
    fn new<T>(path: &Path, kind: Option<String>, parsed: &Parsed<T>) -> Self {
        Self {
            file: path.display().to_string(),
            kind,
            rows: parsed.sources.first().map(|s| s.rows),
            valid: !parsed.has_errors(),
            error_count: highneeds_ingest::error_count(&parsed.issues),
            errors: parsed.errors().map(ToString::to_string).collect(),
            warnings: parsed.warnings().map(ToString::to_string).collect(),
            issues: parsed.issues.clone(),
        }
    }
}

/// The valid-states file that goes with `path`: one given on the command line in the same folder, or
/// `valid-states.csv` / `.xlsx` beside it — the same one `import` would use.
fn valid_states_for(path: &Path, given: &[PathBuf]) -> Option<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new(""));
    given
        .iter()
        .find(|g| {
            g.parent().unwrap_or(Path::new("")) == dir
                && highneeds_ingest::detect_kind(g) == Some(FileKind::ValidStates)
        })
        .cloned()
        .or_else(|| {
            ["valid-states.csv", "valid-states.xlsx"]
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file())
        })
}

/// Validate one file with the same rules as `import`: transitions and costs are checked against the
/// valid-states file that goes with them, if there is one.
fn validate_one(path: &Path, given: &[PathBuf], options: &ReadOptions) -> Parsed<FileKind> {
    let kind = highneeds_ingest::detect_kind(path);
    if matches!(kind, Some(FileKind::Transitions | FileKind::Costs)) {
        if let Some(vs_path) = valid_states_for(path, given) {
            let vs = highneeds_ingest::read_valid_states(&vs_path);
            if let Some(valid) = vs.value {
                return match kind {
                    Some(FileKind::Costs) => {
                        highneeds_ingest::read_costs(path, Some(&valid)).map(|_| FileKind::Costs)
                    }
                    _ => highneeds_ingest::read_transitions(path, Some(&valid))
                        .map(|_| FileKind::Transitions),
                };
            }
        }
    }
    highneeds_ingest::validate_file_with(path, options)
}

pub fn run(args: ValidateArgs) -> Result<ExitCode> {
    workbook::check(&args.workbook, args.format == ReportFormat::Xlsx)?;
    let mut reports = Vec::new();
    for path in &args.files {
        if highneeds_usecases::sen2::is_sen2(path) {
            let parsed = highneeds_usecases::sen2::validate(path)?;
            reports.push(FileReport::new(path, Some("sen2".into()), &parsed));
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if highneeds_ingest::published::is_release_file(&name) {
            // A file of the DfE's published statistics (read by `--published DIR`).
            let parsed = highneeds_ingest::published::read_published_file(path);
            let kind = (!parsed.has_errors()).then(|| "published statistics".to_string());
            reports.push(FileReport::new(path, kind, &parsed));
            continue;
        }
        let options = ReadOptions {
            encoding: args.encoding,
        };
        let parsed = validate_one(path, &args.files, &options);
        let kind = parsed.value.as_ref().map(ToString::to_string);
        reports.push(FileReport::new(path, kind, &parsed));
    }
    let all_valid = reports.iter().all(|r| r.valid);
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&reports)?),
        ReportFormat::Xlsx => {
            for r in &reports {
                for line in r.errors.iter().chain(&r.warnings) {
                    eprintln!("{line}");
                }
            }
            workbook::write(&args.workbook, report(&reports))?;
        }
        ReportFormat::Table => {
            for r in &reports {
                for e in &r.errors {
                    eprintln!("{e}");
                }
                for w in &r.warnings {
                    eprintln!("{w}");
                }
                let verdict = if r.valid { "valid" } else { "REJECTED" };
                println!(
                    "{}: {} ({}{} rows, {} errors, {} warnings)",
                    r.file,
                    verdict,
                    r.kind
                        .as_deref()
                        .map(|k| format!("{k}, "))
                        .unwrap_or_default(),
                    r.rows.unwrap_or(0),
                    r.error_count,
                    r.warnings.len()
                );
            }
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(REJECTED)
    })
}

/// The files and every issue, as tables: what `--format xlsx` writes.
fn report(reports: &[FileReport]) -> Report {
    let mut r = Report::new(format!(
        "Validation of {} file{}",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" }
    ));
    let mut files = Table::new("Files", "Each file: valid or rejected, its rows and issues")
        .column("file", Kind::Text)
        .column("verdict", Kind::Text)
        .column("kind", Kind::Text)
        .column("rows", Kind::Count)
        .column("errors", Kind::Count)
        .column("warnings", Kind::Count);
    let mut issues = Table::new(
        "Issues",
        "Every error and warning, where it is and the rule it breaks",
    )
    .column("file", Kind::Text)
    .column("sheet", Kind::Text)
    .column("line", Kind::Decimal(0))
    .column("column", Kind::Text)
    .column("value", Kind::Text)
    .column("rule", Kind::Text)
    .column("severity", Kind::Text);
    for f in reports {
        r.input("file", &f.file);
        files.push(vec![
            f.file.as_str().into(),
            if f.valid { "valid" } else { "REJECTED" }.into(),
            f.kind.as_deref().map_or(Cell::Missing, Cell::from),
            Cell::number(f.rows.map(|n| n as f64)),
            f.error_count.into(),
            f.warnings.len().into(),
        ]);
        for i in &f.issues {
            let opt = |s: &Option<String>| s.as_deref().map_or(Cell::Missing, Cell::from);
            issues.push(vec![
                i.file.as_str().into(),
                opt(&i.sheet),
                Cell::number(i.line.map(|n| n as f64)),
                opt(&i.column),
                opt(&i.value),
                i.rule.as_str().into(),
                if i.is_error() { "error" } else { "warning" }.into(),
            ]);
        }
    }
    if reports.iter().any(|f| f.error_count > f.errors.len()) {
        issues.note(format!(
            "a file's errors are listed up to {} (its error count is in Files)",
            highneeds_ingest::MAX_ERRORS_PER_FILE
        ));
    }
    r.tables.push(files);
    r.tables.push(issues);
    r
}
