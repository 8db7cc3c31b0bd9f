//! A table as CSV, for a spreadsheet or a script: the header row, then one line per row. Numbers are plain
//! (shares as fractions, money in pounds to the penny), missing values empty, text quoted when needed and
//! neutralised if a spreadsheet would run it as a formula.

use highneeds_ingest::neutralise_formula;

use super::{Cell, Table};

fn field(s: &str) -> String {
    let s = neutralise_formula(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

fn value(c: &Cell) -> String {
    match c {
        Cell::Missing => String::new(),
        Cell::Number(x) | Cell::Typed(x, _) => x.to_string(),
        Cell::Money(p) => {
            let pence = i128::from(p.pence());
            let sign = if pence < 0 { "-" } else { "" };
            format!("{sign}{}.{:02}", pence.abs() / 100, pence.abs() % 100)
        }
        Cell::Text(s) => field(s),
    }
}

/// The table as CSV text (`\n` line ends).
pub fn table(t: &Table) -> String {
    let mut out = t
        .columns
        .iter()
        .map(|c| field(&c.name))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for row in &t.rows {
        out.push_str(&row.iter().map(value).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}
