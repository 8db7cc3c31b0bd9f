//! EHC plans at each January census: the headline by LA, by age group and by setting.

use std::collections::HashMap;
use std::path::Path;

use highneeds_domain::{AgeGroup, CanonicalSetting, LaCode, Measure, PublishedStatistics};

use super::rows::{count, where_from, Cell, Collector, Place};
use crate::issue::Report;
use crate::table::{read_table, Columns};
use crate::{source, Parsed};

const PLACE: Place = Place {
    year: 0,
    level: 1,
    la: 2,
    name: 3,
};

/// `ehcp_caseload_la_2010_2022.csv`: `census_year,geographic_level,la_code,la_name,ehc_plans[,statements]`.
pub fn parse_caseload(name: &str, bytes: &[u8]) -> Parsed<PublishedStatistics> {
    const COLS: [&str; 6] = [
        "census_year",
        "geographic_level",
        "la_code",
        "la_name",
        "ehc_plans",
        "statements",
    ];
    let mut report = Report::new(name);
    let mut c = Collector::default();
    let columns = Columns {
        names: &COLS,
        required: 5,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let at = where_from(report, row, &COLS, &PLACE);
        let plans = count(report, row, 4, COLS[4]);
        let statements = count(report, row, 5, COLS[5]);
        let (Some((year, la, la_name)), Some(plans), Some(statements)) = (at, plans, statements)
        else {
            return;
        };
        if plans == Cell::NotApplicable {
            report.cell(
                row.line,
                COLS[4],
                "",
                "is empty: every LA-year has a headline number of plans (statements count as plans before 2015)",
            );
            return;
        }
        c.name(la, &la_name);
        c.put(report, row.line, la, Measure::Plans, year, plans);
        c.put(report, row.line, la, Measure::Statements, year, statements);
    });
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(c.stats), report.finish(), vec![src])
}

/// `ehcp_caseload_by_age_la_2010_2022.csv`: `…,age_group,ehc_plans` with age groups under_5, 5_10, 11_15,
/// 16_19, 20_25 (a `total` row, if present, must equal the headline and is ignored).
pub fn parse_caseload_by_age(name: &str, bytes: &[u8]) -> Parsed<PublishedStatistics> {
    const COLS: [&str; 6] = [
        "census_year",
        "geographic_level",
        "la_code",
        "la_name",
        "age_group",
        "ehc_plans",
    ];
    let mut report = Report::new(name);
    let mut c = Collector::default();
    let columns = Columns {
        names: &COLS,
        required: 6,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let at = where_from(report, row, &COLS, &PLACE);
        let group_text = row.get(4);
        let group = if group_text.eq_ignore_ascii_case("total") {
            Some(None)
        } else {
            match AgeGroup::from_code(group_text) {
                Some(g) => Some(Some(g)),
                None => {
                    report.cell(
                        row.line,
                        COLS[4],
                        group_text,
                        "is not an age group (under_5, 5_10, 11_15, 16_19, 20_25 or total)",
                    );
                    None
                }
            }
        };
        let plans = count(report, row, 5, COLS[5]);
        let (Some((year, la, la_name)), Some(group), Some(plans)) = (at, group, plans) else {
            return;
        };
        c.name(la, &la_name);
        if let Some(g) = group {
            c.put(report, row.line, la, Measure::PlansByAge(g), year, plans);
        }
    });
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(c.stats), report.finish(), vec![src])
}

/// `ehcp_caseload_by_setting_la_*.csv`: `…,establishment_type,setting_canonical,ehc_plans`; establishment types
/// are summed into their canonical setting (the file's own `setting_canonical` column, the mapping in
/// `setting_map_sen2_establishment_type.csv`). A `Total` establishment row is ignored.
pub fn parse_caseload_by_setting(name: &str, bytes: &[u8]) -> Parsed<PublishedStatistics> {
    const COLS: [&str; 7] = [
        "census_year",
        "geographic_level",
        "la_code",
        "la_name",
        "establishment_type",
        "setting_canonical",
        "ehc_plans",
    ];
    let mut report = Report::new(name);
    let mut c = Collector::default();
    let mut seen: HashMap<(LaCode, i32, String), u64> = HashMap::new();
    let columns = Columns {
        names: &COLS,
        required: 7,
    };
    let rows = read_table(name, bytes, &columns, &mut report, &mut |report, row| {
        let at = where_from(report, row, &COLS, &PLACE);
        let estab = row.get(4);
        if estab.eq_ignore_ascii_case("total") {
            return;
        }
        if estab.is_empty() {
            report.cell(
                row.line,
                COLS[4],
                estab,
                "is empty: every row names an establishment type",
            );
        }
        let setting_text = row.get(5);
        let setting = setting_text.parse::<CanonicalSetting>().ok();
        if setting.is_none() {
            report.cell(
                row.line,
                COLS[5],
                setting_text,
                "is not a canonical setting (mainstream, mainstream_rp_unit, special_maintained, special_academy_free, special_inmss, ap_pru_hospital, fe_college, specialist_post16, early_years, eotas_ehe, neet, other)",
            );
        }
        let plans = count(report, row, 6, COLS[6]);
        let (Some((year, la, la_name)), Some(setting), Some(plans), false) =
            (at, setting, plans, estab.is_empty())
        else {
            return;
        };
        match seen.entry((la, year, estab.to_string())) {
            std::collections::hash_map::Entry::Occupied(first) => {
                report.line(
                    row.line,
                    format!(
                        "duplicate row: {la} establishment type {estab:?} in {year} is given again (first at line {})",
                        first.get()
                    ),
                );
                return;
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(row.line);
            }
        }
        c.name(la, &la_name);
        c.add(la, Measure::PlansBySetting(setting), year, plans);
    });
    let src = source(name, Path::new(name), bytes, rows);
    Parsed::new(Some(c.stats), report.finish(), vec![src])
}
