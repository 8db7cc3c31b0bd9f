//! Cell parsers shared by the formats: each reports its own error and returns `None` on a bad value.

use rustc_hash::FxHashMap as HashMap;

use highneeds_domain::{CensusYear, Ncy, Need, Pence, Setting};

use crate::issue::Report;
use crate::table::Row;

pub(crate) const RULE_NCY: &str = "is not an NCY (-5..20)";
pub(crate) const RULE_YEAR: &str = "is not a census year (1990..2100)";
pub(crate) const RULE_NEED: &str =
    "is not a need code (1-40 letters, digits, spaces or _-/&+., not NONSEND)";
pub(crate) const RULE_SETTING: &str =
    "is not a setting code (1-40 letters, digits, spaces or _-/&+., not NONSEND)";
pub(crate) const RULE_MONEY: &str = "is not an amount in pounds with at most 2 decimal places (e.g. 1234.56, \
                                      £1,234.56, or (1,234.56) for a negative; commas only between thousands)";

/// A whole number, also written as a float with a zero fraction (`7.0`, as spreadsheets export).
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    if let Ok(v) = s.parse::<i64>() {
        return Some(v);
    }
    let (whole, frac) = s.split_once('.')?;
    if whole.is_empty() || frac.is_empty() || !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    whole.parse().ok()
}

/// This calendar year, by the machine's clock (for plausibility warnings only, never for a rule that rejects).
pub(crate) fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

/// A census year; one more than `years_ahead` after this year is counted in a warning (observed data cannot come
/// from the future; projections, such as population, may run some years ahead).
pub(crate) fn census_year(
    report: &mut Report,
    row: &Row<'_>,
    k: usize,
    col: &str,
    years_ahead: i32,
) -> Option<CensusYear> {
    let s = row.get(k);
    match parse_int(s)
        .and_then(|y| i32::try_from(y).ok())
        .map(CensusYear::new)
    {
        Some(Ok(y)) => {
            let this_year = current_year();
            if y.year() > this_year.saturating_add(years_ahead) {
                let when = if years_ahead == 0 {
                    "after this year".to_string()
                } else {
                    format!("more than {years_ahead} years after this year")
                };
                report.tally(
                    ("row", "rows"),
                    &format!("with a {col} {when} ({this_year}): is the year right?"),
                    Some(row.line),
                );
            }
            Some(y)
        }
        _ => {
            report.cell(row.line, col, s, RULE_YEAR);
            None
        }
    }
}

pub(crate) fn ncy(report: &mut Report, row: &Row<'_>, k: usize, col: &str) -> Option<Ncy> {
    let s = row.get(k);
    match parse_int(s)
        .and_then(|y| i32::try_from(y).ok())
        .map(Ncy::new)
    {
        Some(Ok(n)) => Some(n),
        _ => {
            report.cell(row.line, col, s, RULE_NCY);
            None
        }
    }
}

pub(crate) fn money(report: &mut Report, row: &Row<'_>, k: usize, col: &str) -> Option<Pence> {
    let s = row.get(k);
    match s.parse::<Pence>() {
        Ok(p) => Some(p),
        Err(_) => {
            report.cell(row.line, col, s, RULE_MONEY);
            None
        }
    }
}

/// Need and setting codes, each distinct code parsed and allocated once.
#[derive(Default)]
pub(crate) struct Codes {
    needs: HashMap<String, Need>,
    settings: HashMap<String, Setting>,
}

impl Codes {
    pub(crate) fn need_str(&mut self, s: &str) -> Option<Need> {
        if let Some(n) = self.needs.get(s) {
            return Some(n.clone());
        }
        let n: Need = s.parse().ok()?;
        self.needs.insert(s.to_string(), n.clone());
        Some(n)
    }

    pub(crate) fn setting_str(&mut self, s: &str) -> Option<Setting> {
        if let Some(n) = self.settings.get(s) {
            return Some(n.clone());
        }
        let n: Setting = s.parse().ok()?;
        self.settings.insert(s.to_string(), n.clone());
        Some(n)
    }

    pub(crate) fn need(
        &mut self,
        report: &mut Report,
        row: &Row<'_>,
        k: usize,
        col: &str,
    ) -> Option<Need> {
        let s = row.get(k);
        let n = self.need_str(s);
        if n.is_none() {
            report.cell(row.line, col, s, RULE_NEED);
        }
        n
    }

    pub(crate) fn setting(
        &mut self,
        report: &mut Report,
        row: &Row<'_>,
        k: usize,
        col: &str,
    ) -> Option<Setting> {
        let s = row.get(k);
        let n = self.setting_str(s);
        if n.is_none() {
            report.cell(row.line, col, s, RULE_SETTING);
        }
        n
    }
}

/// witan.send's marker for "no plan on this side"; also accepts `NON-SEND`, any case.
pub(crate) fn is_nonsend(s: &str) -> bool {
    s.eq_ignore_ascii_case("NONSEND") || s.eq_ignore_ascii_case("NON-SEND")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_accept_float_text() {
        assert_eq!(parse_int("7"), Some(7));
        assert_eq!(parse_int("-3"), Some(-3));
        assert_eq!(parse_int("7.0"), Some(7));
        assert_eq!(parse_int("7.00"), Some(7));
        assert_eq!(parse_int("7.5"), None);
        assert_eq!(parse_int("7."), None);
        assert_eq!(parse_int(".0"), None);
        assert_eq!(parse_int("abc"), None);
        assert_eq!(parse_int(""), None);
    }
}
