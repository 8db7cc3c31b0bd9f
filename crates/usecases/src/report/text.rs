//! A report as text for a terminal: each table with aligned columns (numbers right, words left), its notes under
//! it, the report's notes at the end.

use std::fmt::Write as _;

use highneeds_domain::money::group_thousands;
use highneeds_domain::Pence;

use super::{Cell, Kind, Report, Table};

/// Whole pounds, half away from zero.
fn whole_pounds(p: Pence) -> i128 {
    let pence = i128::from(p.pence());
    let abs = (pence.abs() + 50) / 100;
    if pence < 0 {
        -abs
    } else {
        abs
    }
}

fn money(p: Pence) -> String {
    let pounds = whole_pounds(p);
    let sign = if pounds < 0 { "-" } else { "" };
    format!("{sign}£{}", group_thousands(pounds.abs()))
}

/// A cell as a terminal shows it, by its column's kind (a missing figure is `-`, missing text blank).
pub fn cell(c: &Cell, kind: Kind) -> String {
    match (c, kind) {
        (Cell::Missing, Kind::Text) => String::new(),
        (Cell::Missing, _) => "-".to_string(),
        (Cell::Text(s), _) => s.clone(),
        (Cell::Typed(x, k), _) => cell(&Cell::Number(*x), *k),
        (Cell::Money(p), Kind::Money) => money(*p),
        (Cell::Money(p), Kind::MoneyPence) => p.to_string(),
        (Cell::Money(p), _) => p.to_millions_string(),
        (Cell::Number(x), Kind::Count) => group_thousands(x.round() as i128),
        (Cell::Number(x), Kind::Percent) => format!("{:.1}%", x * 100.0),
        (Cell::Number(x), Kind::Change) => format!("{:+.1}%", x * 100.0),
        (Cell::Number(x), Kind::Decimal(n)) => format!("{x:.*}", usize::from(n)),
        (Cell::Number(x), Kind::Year) => format!("{x:.0}"),
        (Cell::Number(x), _) => x.to_string(),
    }
}

/// One table: its title, a header row and the rows, indented by two spaces, columns two spaces apart.
pub fn table(t: &Table) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", t.title);
    if t.rows.is_empty() {
        let _ = writeln!(out, "  (none)");
    } else {
        let shown: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&t.columns)
                    .map(|(c, col)| cell(c, col.kind))
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = t
            .columns
            .iter()
            .enumerate()
            .map(|(i, col)| {
                shown
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([col.name.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let header: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        for row in std::iter::once(&header).chain(&shown) {
            let mut line = String::from(" ");
            for ((s, col), w) in row.iter().zip(&t.columns).zip(&widths) {
                let pad = w.saturating_sub(s.chars().count());
                line.push(' ');
                if col.kind.is_number() {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(s);
                } else {
                    line.push_str(s);
                    line.push_str(&" ".repeat(pad));
                }
                line.push(' ');
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    for n in &t.notes {
        let _ = writeln!(out, "  {n}");
    }
    out
}

/// The whole report: title, summary lines, each table after a blank line, then the notes.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", r.title);
    for s in &r.summary {
        let _ = writeln!(out, "{s}");
    }
    for t in &r.tables {
        out.push('\n');
        out.push_str(&table(t));
    }
    if !r.notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for n in &r.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}
