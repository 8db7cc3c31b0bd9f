//! The DfE's published SEN2 statistics by LA (`shared/data/PROVENANCE.md` describes every file): read by column
//! name into [`PublishedStatistics`], keyed by the LA code each row gives.
//!
//! Rules every file shares (`rows`): `geographic_level` is `National` (then `la_code` must be England,
//! E92000001) or `Local authority` (an upper-tier LA code); `Regional` rows are skipped with a warning. A count
//! cell is a whole number ≥ 0; empty or `z` is "not applicable" (no figure); `c`, `x`, `low` (and `u`, `:`)
//! are suppressed: recorded as such with a warning, never read as 0. A row repeating a key is an error. Across
//! files ([`read_published_dir`]): an LA code missing from the headline file, or given figures in a year
//! before it existed (or after it was abolished), is a warning; setting rows that do not add up to the headline
//! (the 2016 and 2018 releases) are reported as warnings with the gap.

mod caseload;
mod flows;
mod lookups;
mod rows;

use std::path::{Path, PathBuf};

use highneeds_domain::geography::{change_creating, change_ending};
use highneeds_domain::{Measure, PublishedStatistics};

use crate::issue::{Issue, Severity};
use crate::{read_bytes, Parsed, SourceFile};

pub use caseload::{parse_caseload, parse_caseload_by_age, parse_caseload_by_setting};
pub use flows::{parse_new_plans, parse_process};
pub use lookups::{parse_process_variables, parse_setting_map};

/// The files of the release, by the name (or prefix) they have in the folder.
const HEADLINE: &str = "ehcp_caseload_la_";
const BY_AGE: &str = "ehcp_caseload_by_age_la_";
const BY_SETTING: &str = "ehcp_caseload_by_setting_la_";
const NEW_PLANS: &str = "ehcp_new_plans_by_age_la_";
const PROCESS: &str = "ehcp_process_mi_la_";
const PROCESS_VARIABLES: &str = "ehcp_process_mi_variables";
const SETTING_MAP: &str = "setting_map_sen2_establishment_type";

/// A parser of one file of the release.
type FileParser = fn(&str, &[u8]) -> Parsed<PublishedStatistics>;

/// Which parser reads a file, from its name.
fn parser_for(name: &str) -> Option<FileParser> {
    // The kind comes from the file's own name, whatever folder the path names.
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    let starts = |p: &str| lower.starts_with(p);
    if starts(HEADLINE) {
        Some(parse_caseload)
    } else if starts(BY_AGE) {
        Some(parse_caseload_by_age)
    } else if starts(BY_SETTING) {
        Some(parse_caseload_by_setting)
    } else if starts(NEW_PLANS) {
        Some(parse_new_plans)
    } else if starts(PROCESS_VARIABLES) {
        Some(parse_process_variables)
    } else if starts(PROCESS) {
        Some(parse_process)
    } else if starts(SETTING_MAP) {
        Some(parse_setting_map)
    } else {
        None
    }
}

/// Parse one file of the release, choosing the reader by the file's name.
pub fn parse_published_file(name: &str, bytes: &[u8]) -> Parsed<PublishedStatistics> {
    match parser_for(name) {
        Some(parse) => parse(name, bytes),
        None => Parsed::failed(
            vec![Issue::about_file(
                name,
                Severity::Error,
                format!(
                    "is not a file of the published EHC plan statistics (expected names starting {HEADLINE}, {BY_AGE}, {BY_SETTING}, {NEW_PLANS}, {PROCESS} …)"
                ),
            )],
            Vec::new(),
        ),
    }
}

/// Whether a file name is one of the release's files (what [`parse_published_file`] reads).
pub fn is_release_file(name: &str) -> bool {
    parser_for(name).is_some()
}

/// Read one file of the release (CSV or XLSX), choosing the reader by its name.
pub fn read_published_file(path: &Path) -> Parsed<PublishedStatistics> {
    crate::read_with(path, parse_published_file)
}

/// Add one file's figures to the whole; a key in two files is an error naming both.
fn merge(
    into: &mut PublishedStatistics,
    from: PublishedStatistics,
    file: &str,
    issues: &mut Vec<Issue>,
) {
    for (key, v) in from.figures {
        if let Some(old) = into.figures.insert(key, v) {
            if old != v {
                issues.push(Issue::about_file(
                    file,
                    Severity::Error,
                    format!(
                        "{} {} in {} is {v} here but {old} in another file of the folder",
                        key.0,
                        key.1.label(),
                        key.2
                    ),
                ));
            }
        }
    }
    into.suppressed.extend(from.suppressed);
    for (la, name) in from.names {
        into.names.entry(la).or_insert(name);
    }
}

/// Read every file of the release in a folder (the files named in PROVENANCE.md; other files are ignored with a
/// warning). The headline caseload file is required; the others add what they have, and a missing one is a
/// warning saying which figures will be missing. Nothing is returned if any file has an error.
pub fn read_published_dir(dir: &Path) -> Parsed<PublishedStatistics> {
    let dir_name = dir.display().to_string();
    let paths = match published_file_paths(dir) {
        Ok(p) => p,
        Err(e) => {
            return Parsed::failed(
                vec![Issue::about_file(
                    &dir_name,
                    Severity::Error,
                    format!("cannot read the folder of published statistics: {e}"),
                )],
                Vec::new(),
            )
        }
    };
    let mut folder = PublishedFolder::default();
    for path in &paths {
        folder.read_file(path);
    }
    folder.report_missing_files(&dir_name);
    cross_checks(&folder.stats, &dir_name, &mut folder.issues);
    Parsed::new(Some(folder.stats), folder.issues, folder.sources)
}

/// The CSV and XLSX files in a folder of published statistics, sorted by path.
fn published_file_paths(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|x| {
                    x.eq_ignore_ascii_case("csv") || x.eq_ignore_ascii_case("xlsx")
                })
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// What reading a folder of published statistics gathers, file by file.
#[derive(Default)]
struct PublishedFolder {
    /// The figures of every file read, merged.
    stats: PublishedStatistics,
    issues: Vec<Issue>,
    sources: Vec<SourceFile>,
    /// Which of the release's files (headline, by age, by setting, new plans, process) the folder holds.
    seen: [bool; 5],
}

impl PublishedFolder {
    /// Read one file of the folder into the whole; a file that is not one of the release's is ignored with a warning.
    fn read_file(&mut self, path: &Path) {
        // Messages name the path; the file's kind comes from its own name.
        let name = crate::display_name(path);
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(parse) = parser_for(&base) else {
            self.issues.push(Issue::about_file(
                &name,
                Severity::Warning,
                "not a file of the published EHC plan statistics: ignored".into(),
            ));
            return;
        };
        self.mark_seen(&base);
        let bytes = match read_bytes(path) {
            Ok(b) => b,
            Err(issue) => {
                self.issues.push(*issue);
                return;
            }
        };
        let parsed = parse(&name, &bytes);
        self.issues.extend(parsed.issues);
        for mut s in parsed.sources {
            s.path = path.to_path_buf();
            self.sources.push(s);
        }
        if let Some(v) = parsed.value {
            merge(&mut self.stats, v, &name, &mut self.issues);
        }
    }

    /// Note which of the release's files a file name is (the process variables lookup is not the process file).
    fn mark_seen(&mut self, base: &str) {
        let lower = base.to_ascii_lowercase();
        for (k, prefix) in [HEADLINE, BY_AGE, BY_SETTING, NEW_PLANS, PROCESS]
            .iter()
            .enumerate()
        {
            if lower.starts_with(prefix) && !lower.starts_with(PROCESS_VARIABLES) {
                self.seen[k] = true;
            }
        }
    }

    /// Report each of the release's files the folder lacks: the headline file is an error, the others warnings.
    fn report_missing_files(&mut self, dir_name: &str) {
        let missing = [
            (
                HEADLINE,
                "EHC plans by LA (ehcp_caseload_la_*.csv) are required",
            ),
            (BY_AGE, "plans by age group will be missing"),
            (BY_SETTING, "plans by setting will be missing"),
            (NEW_PLANS, "new plans will be missing"),
            (
                PROCESS,
                "requests, timeliness and tribunals will be missing",
            ),
        ];
        for (k, (prefix, what)) in missing.iter().enumerate() {
            if !self.seen[k] {
                self.issues.push(Issue::about_file(
                    dir_name,
                    if k == 0 {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    format!("no {prefix}*.csv file in the folder: {what}"),
                ));
            }
        }
    }
}

/// Checks across files: unknown LAs, LAs outside their lifetime, setting rows against the headline.
fn cross_checks(stats: &PublishedStatistics, dir: &str, issues: &mut Vec<Issue>) {
    let headline_las: std::collections::BTreeSet<_> = stats
        .figures
        .keys()
        .filter(|(_, m, _)| *m == Measure::Plans)
        .map(|(la, _, _)| *la)
        .collect();
    let mut unknown = std::collections::BTreeSet::new();
    let mut out_of_life = std::collections::BTreeSet::new();
    for (la, m, y) in stats.figures.keys().chain(stats.suppressed.iter()) {
        if !headline_las.is_empty() && !headline_las.contains(la) {
            unknown.insert(*la);
        }
        // Flow years are calendar years: a successor LA reports the calendar year before its first census.
        let slack = i32::from(m.is_flow());
        if let Some(c) = change_creating(*la) {
            if *y < c.first_year - slack {
                out_of_life.insert((*la, *y, c.description));
            }
        }
        if let Some(c) = change_ending(*la) {
            if *y >= c.first_year {
                out_of_life.insert((*la, *y, c.description));
            }
        }
    }
    for la in unknown {
        issues.push(Issue::about_file(
            dir,
            Severity::Warning,
            format!("LA {la} has figures but no headline plans in ehcp_caseload_la_*.csv (unknown LA code): its figures are kept but it has no caseload series"),
        ));
    }
    for (la, y, what) in out_of_life {
        issues.push(Issue::about_file(
            dir,
            Severity::Warning,
            format!("LA {la} has figures for {y}, outside the years it existed ({what})"),
        ));
    }
    let gaps = stats.setting_gaps();
    let mut by_year: std::collections::BTreeMap<i32, (u64, i64)> =
        std::collections::BTreeMap::new();
    for g in &gaps {
        if g.la.is_england() {
            continue;
        }
        let e = by_year.entry(g.census_year).or_insert((0, 0));
        e.0 += 1;
        e.1 += g.gap();
    }
    for (year, (las, gap)) in by_year {
        issues.push(Issue::about_file(
            dir,
            Severity::Warning,
            format!(
                "census {year}: the setting rows of {las} LA{} do not add up to the headline plans (the setting rows count {} plans in all, as published); setting shares that year use the setting rows, growth uses the headline",
                if las == 1 { "" } else { "s" },
                if gap >= 0 { format!("{gap} more") } else { format!("{} fewer", -gap) },
            ),
        ));
    }
}

#[cfg(test)]
mod tests;
