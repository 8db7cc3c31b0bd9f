//! The establishment register: the public GIAS "all establishments" CSV export (get-information-about-schools
//! .service.gov.uk → Downloads → "All establishment data"), read by its own column names. Only the columns
//! that place a child are kept: `URN`, `UKPRN`, `TypeOfEstablishment (name)`, `EstablishmentTypeGroup (name)`,
//! `PhaseOfEducation (name)`; the other hundred-odd columns are ignored. GIAS writes the file in Windows-1252,
//! so text that is not UTF-8 is read leniently (only the type names matter, and they are ASCII).

use std::path::Path;

use highneeds_domain::sen2::{Establishment, EstablishmentRegister};

use crate::issue::Report;
use crate::table::CsvRecords;
use crate::{read_with, source, Parsed, MAX_FILE_BYTES, MAX_RECORD_BYTES, MAX_ROWS};

/// The GIAS columns read; the first two are required.
pub const REGISTER_COLUMNS: [&str; 5] = [
    "URN",
    "TypeOfEstablishment (name)",
    "UKPRN",
    "EstablishmentTypeGroup (name)",
    "PhaseOfEducation (name)",
];

const ROW: (&str, &str) = ("row", "rows");

fn digits(s: &str, len: usize) -> Option<u32> {
    let t = s.trim();
    (t.len() == len && t.chars().all(|c| c.is_ascii_digit()))
        .then(|| t.parse().ok())
        .flatten()
}

/// Parse a GIAS all-establishments CSV.
pub fn parse_establishments(name: &str, bytes: &[u8]) -> Parsed<EstablishmentRegister> {
    let mut report = Report::new(name);
    let mut register = EstablishmentRegister::default();
    if bytes.len() as u64 > MAX_FILE_BYTES {
        report.file(format!("file is larger than {MAX_FILE_BYTES} bytes"));
        return Parsed::new(None, report.finish(), vec![]);
    }
    // GIAS downloads are Windows-1252: names with accents read as they are, never as replacement characters.
    let Some(decoded) = crate::text::decode_or_report(bytes, &mut report) else {
        return Parsed::new(None, report.finish(), vec![]);
    };
    // No note when it was: GIAS always publishes Windows-1252, so the guess is expected, not news.
    let mut records = CsvRecords::new(&decoded.bytes[..]);
    let rows = read_register_rows(&mut records, &mut register, &mut report);
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(register), report.finish(), vec![src])
}

/// The header line, then every establishment row added to the register; returns the number of rows counted
/// (an empty file is reported here).
fn read_register_rows(
    records: &mut CsvRecords<'_>,
    register: &mut EstablishmentRegister,
    report: &mut Report,
) -> u64 {
    let mut rows = 0u64;
    let mut cols: Option<Vec<Option<usize>>> = None;
    let mut any_line = false;
    while let Some(line) = next_register_line(records, report) {
        any_line = true;
        let rec = records.record();
        if rec.as_slice().len() > MAX_RECORD_BYTES {
            report.line(
                line,
                format!("line is longer than {MAX_RECORD_BYTES} bytes"),
            );
            break;
        }
        let Some(c) = &cols else {
            let Some(found) = register_columns(rec, line, report) else {
                break;
            };
            cols = Some(found);
            continue;
        };
        rows += 1;
        if rows > MAX_ROWS {
            report.line(line, format!("more than {MAX_ROWS} rows"));
            break;
        }
        add_establishment(rec, c, line, register, report);
    }
    if !any_line {
        report.file("empty file: no header line");
    }
    rows
}

/// Read the next record: the line it starts on, or `None` at the end of the file or (reported) when it cannot be
/// read.
fn next_register_line(records: &mut CsvRecords<'_>, report: &mut Report) -> Option<u64> {
    match records.next_record() {
        Ok(true) => Some(records.record_line()),
        Ok(false) => None,
        Err(e) => {
            let line = records.line_of(e.position());
            report.line(line, format!("cannot read the row: {e}"));
            None
        }
    }
}

/// Where the header line has each of [`REGISTER_COLUMNS`] (any case), or `None` (reported) when `URN` or
/// `TypeOfEstablishment (name)` is missing.
fn register_columns(
    rec: &csv::ByteRecord,
    line: u64,
    report: &mut Report,
) -> Option<Vec<Option<usize>>> {
    let header: Vec<String> = rec
        .iter()
        .map(|b| String::from_utf8_lossy(b).trim().to_ascii_lowercase())
        .collect();
    let found: Vec<Option<usize>> = REGISTER_COLUMNS
        .iter()
        .map(|n| header.iter().position(|h| *h == n.to_ascii_lowercase()))
        .collect();
    let mut ok = true;
    for (k, n) in REGISTER_COLUMNS.iter().enumerate().take(2) {
        if found[k].is_none() {
            report.column(
                line,
                n,
                "missing from the header line: is this GIAS's all-establishments CSV export?",
            );
            ok = false;
        }
    }
    ok.then_some(found)
}

/// One establishment row, found by its URN or UKPRN and placed by its type: skipped (tallied) without either
/// number or without a type, tallied when it repeats a number with another type (the later row is used).
fn add_establishment(
    rec: &csv::ByteRecord,
    c: &[Option<usize>],
    line: u64,
    register: &mut EstablishmentRegister,
    report: &mut Report,
) {
    let field = |k: Option<usize>| -> String {
        k.and_then(|k| rec.get(k))
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
            .unwrap_or_default()
    };
    let urn = digits(&field(c[0]), 6);
    let ukprn = digits(&field(c[2]), 8);
    if urn.is_none() && ukprn.is_none() {
        report.tally(
            ROW,
            "with neither a 6-digit URN nor an 8-digit UKPRN (skipped)",
            Some(line),
        );
        return;
    }
    let type_name = field(c[1]);
    if type_name.is_empty() {
        report.tally(
            ROW,
            "with no TypeOfEstablishment (name) (skipped)",
            Some(line),
        );
        return;
    }
    let establishment = Establishment {
        type_name,
        type_group: field(c[3]),
        phase: field(c[4]),
    };
    let earlier = urn
        .and_then(|u| register.by_urn(u))
        .or_else(|| ukprn.and_then(|u| register.by_ukprn(u)));
    if earlier.is_some_and(|e| e.type_name != establishment.type_name) {
        report.tally(
            ROW,
            "repeating a URN or UKPRN with a different TypeOfEstablishment (the later row is used)",
            Some(line),
        );
    }
    register.insert(urn, ukprn, establishment);
}

/// Read a GIAS all-establishments CSV file.
pub fn read_establishments(path: &Path) -> Parsed<EstablishmentRegister> {
    read_with(path, parse_establishments)
}
