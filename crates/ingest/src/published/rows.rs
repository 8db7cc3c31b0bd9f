//! What every file of the release shares: the year, geography and count cells, and the collection of figures
//! with duplicate detection.

use std::collections::HashMap;

use highneeds_domain::{CensusYear, LaCode, Measure, PublishedStatistics};

use crate::fields;
use crate::issue::Report;
use crate::table::Row;

/// Symbols the DfE uses for suppressed cells (and `u`, `:` seen in older releases).
const SUPPRESSED: [&str; 5] = ["c", "x", "low", "u", ":"];

/// A count cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell {
    Count(u64),
    /// Empty or `z`: the measure does not apply (e.g. statements after 2018).
    NotApplicable,
    Suppressed,
}

/// The columns every file starts with, as positions in the format's column list.
pub(crate) struct Place {
    pub year: usize,
    pub level: usize,
    pub la: usize,
    pub name: usize,
}

/// Year, LA and name of a row; `None` if a cell is bad (reported) or the row is skipped (regional).
pub(crate) fn where_from(
    report: &mut Report,
    row: &Row<'_>,
    cols: &[&str],
    place: &Place,
) -> Option<(i32, LaCode, String)> {
    let level = row.get(place.level);
    let national = if level.eq_ignore_ascii_case("National") {
        true
    } else if level.eq_ignore_ascii_case("Local authority") {
        false
    } else if level.eq_ignore_ascii_case("Regional") {
        report.tally(
            ("regional row", "regional rows"),
            "skipped (regions are not used)",
            Some(row.line),
        );
        return None;
    } else {
        report.cell(
            row.line,
            cols[place.level],
            level,
            "is not a geographic level this release uses (National, Local authority or Regional)",
        );
        return None;
    };
    let year_text = row.get(place.year);
    let year = fields::parse_int(year_text)
        .and_then(|y| i32::try_from(y).ok())
        .and_then(|y| CensusYear::new(y).ok());
    if year.is_none() {
        report.cell(
            row.line,
            cols[place.year],
            year_text,
            "is not a year (1990..2100)",
        );
    }
    let code_text = row.get(place.la);
    let la = match code_text.parse::<LaCode>() {
        Ok(la) if la.is_england() != national => {
            report.cell(
                row.line,
                cols[place.la],
                code_text,
                if national {
                    "is not England's code E92000001 on a National row"
                } else {
                    "is England's code on a Local authority row"
                },
            );
            None
        }
        Ok(la) => Some(la),
        Err(_) => {
            report.cell(
                row.line,
                cols[place.la],
                code_text,
                "is not an upper-tier LA's ONS code (E06, E08, E09 or E10 and 6 digits; E92000001 for England)",
            );
            None
        }
    };
    Some((year?.year(), la?, row.get(place.name).to_string()))
}

/// A count cell: a whole number ≥ 0, empty/`z` (not applicable), or a suppression symbol.
pub(crate) fn count(report: &mut Report, row: &Row<'_>, k: usize, col: &str) -> Option<Cell> {
    let s = row.get(k);
    if s.is_empty() || s.eq_ignore_ascii_case("z") {
        return Some(Cell::NotApplicable);
    }
    if SUPPRESSED.iter().any(|x| s.eq_ignore_ascii_case(x)) {
        report.tally(
            ("cell", "cells"),
            &format!("in column {col} suppressed (c, x or low): no figure, not 0"),
            Some(row.line),
        );
        return Some(Cell::Suppressed);
    }
    match fields::parse_int(s).and_then(|v| u64::try_from(v).ok()) {
        Some(v) => Some(Cell::Count(v)),
        None => {
            report.cell(
                row.line,
                col,
                s,
                "is not a count: a whole number 0 or more, empty or z (not applicable), or c, x, low (suppressed)",
            );
            None
        }
    }
}

/// Figures being collected from one file, with the line each key was first given on.
#[derive(Default)]
pub(crate) struct Collector {
    pub stats: PublishedStatistics,
    first_line: HashMap<(LaCode, Measure, i32), u64>,
}

impl Collector {
    /// Record the LA's name (the latest year's wins).
    pub fn name(&mut self, la: LaCode, name: &str) {
        if !name.is_empty() {
            self.stats.names.insert(la, name.to_string());
        }
    }

    /// One cell of one row; a key given twice in the file is an error.
    pub fn put(
        &mut self,
        report: &mut Report,
        line: u64,
        la: LaCode,
        measure: Measure,
        year: i32,
        cell: Cell,
    ) {
        let key = (la, measure, year);
        if let Some(first) = self.first_line.get(&key) {
            report.line(
                line,
                format!(
                    "duplicate row: {la} {} in {year} is given again (first at line {first})",
                    measure.label()
                ),
            );
            return;
        }
        self.first_line.insert(key, line);
        match cell {
            Cell::Count(v) => {
                self.stats.figures.insert(key, v);
            }
            Cell::Suppressed => {
                self.stats.suppressed.insert(key);
            }
            Cell::NotApplicable => {}
        }
    }

    /// Add a cell into a sum (several establishment types in one setting). A suppressed part makes the whole
    /// suppressed: a partial sum would undercount.
    pub fn add(&mut self, la: LaCode, measure: Measure, year: i32, cell: Cell) {
        let key = (la, measure, year);
        match cell {
            Cell::Count(v) => {
                if !self.stats.suppressed.contains(&key) {
                    let e = self.stats.figures.entry(key).or_insert(0);
                    *e = e.saturating_add(v);
                }
            }
            Cell::Suppressed => {
                self.stats.figures.remove(&key);
                self.stats.suppressed.insert(key);
            }
            Cell::NotApplicable => {}
        }
    }
}
