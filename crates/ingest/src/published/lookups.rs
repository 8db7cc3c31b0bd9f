//! The release's two lookup files: the establishment type → canonical setting map and the process variables'
//! descriptions. They carry no figures; they are checked so a damaged folder is noticed.

use std::collections::HashMap;
use std::path::Path;

use highneeds_domain::{CanonicalSetting, PublishedStatistics};

use crate::issue::Report;
use crate::table::{read_table, Columns};
use crate::{source, Parsed};

/// `setting_map_sen2_establishment_type.csv`: `establishment_type,setting_canonical`, one row per type.
pub fn parse_setting_map(name: &str, bytes: &[u8]) -> Parsed<PublishedStatistics> {
    const COLS: [&str; 2] = ["establishment_type", "setting_canonical"];
    let mut report = Report::new(name);
    let mut seen: HashMap<String, u64> = HashMap::new();
    let columns = Columns {
        names: &COLS,
        required: 2,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let estab = row.get(0);
        if estab.is_empty() {
            report.cell(
                row.line,
                COLS[0],
                estab,
                "is empty: every row names an establishment type",
            );
            return;
        }
        if row.get(1).parse::<CanonicalSetting>().is_err() {
            report.cell(row.line, COLS[1], row.get(1), "is not a canonical setting (mainstream, mainstream_rp_unit, special_maintained, special_academy_free, special_inmss, ap_pru_hospital, fe_college, specialist_post16, early_years, eotas_ehe, neet, other)");
        }
        if let Some(first) = seen.get(estab) {
            report.line(
                row.line,
                format!("establishment type {estab:?} is mapped twice (first at line {first})"),
            );
        } else {
            seen.insert(estab.to_string(), row.line);
        }
    });
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(
        Some(PublishedStatistics::default()),
        report.finish(),
        vec![src],
    )
}

/// `ehcp_process_mi_variables.csv`: `column,original_variable,description`; the columns the process reader
/// uses must be described.
pub fn parse_process_variables(name: &str, bytes: &[u8]) -> Parsed<PublishedStatistics> {
    const COLS: [&str; 3] = ["column", "original_variable", "description"];
    const USED: [&str; 6] = [
        "inreq_ehc",
        "ass_refused_ehc",
        "tot_inc_exc_ehc",
        "inc_exc20week_ehc",
        "new_ehcmediation",
        "new_ehctribunal",
    ];
    let mut report = Report::new(name);
    let mut found = Vec::new();
    let columns = Columns {
        names: &COLS,
        required: 3,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let col = row.get(0);
        if col.is_empty() {
            report.cell(row.line, COLS[0], col, "is empty: every row names a column");
        }
        found.push(col.to_ascii_lowercase());
    });
    for used in USED {
        if rows > 0 && !found.iter().any(|f| f == used) {
            report.warn_file(format!(
                "column {used} is not described (the process file's columns may have changed)"
            ));
        }
    }
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(
        Some(PublishedStatistics::default()),
        report.finish(),
        vec![src],
    )
}
