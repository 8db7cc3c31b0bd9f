//! One table model for every report the program prints or writes: a [`Report`] (title, the run's inputs,
//! tables, notes) of [`Table`]s (title, columns with a [`Kind`], rows of typed [`Cell`]s, notes). A table built
//! once is rendered by [`text`] (what the terminal shows), [`xlsx`] (a workbook: one sheet per table and a
//! contents sheet), [`csv`] and [`json`]. Building and rendering do no I/O: the caller writes the bytes.
//!
//! The JSON and CSV contracts other tools read (`forecast --format json|csv`, `scenario run --format json|csv`,
//! …) keep their own renderers, byte for byte; this model drives the text tables and the workbooks.

pub mod csv;
pub mod json;
pub mod text;
pub mod xlsx;

use highneeds_domain::Pence;

/// What a column holds, which decides how its cells are shown: in text, and as a number format in a workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A count (plans, cases): `1,234`; an expected count keeps its decimals in a workbook but shows whole.
    Count,
    /// Money (cells hold pence): `£1,234,567` in text; pounds with `"£"#,##0` in a workbook.
    Money,
    /// Money shown in £ millions in text (`£12.35m`); pounds with `"£"#,##0` in a workbook.
    MoneyMillions,
    /// Money to the penny (cells hold pence): `£1,234.56`; pounds with `"£"#,##0.00` in a workbook.
    MoneyPence,
    /// A share, held as a fraction: `12.3%` (`0.0%`).
    Percent,
    /// A change, held as a fraction, with its sign: `+4.1%` (`+0.0%;-0.0%;0.0%`).
    Change,
    /// A number with this many decimals.
    Decimal(u8),
    /// A year (census or calendar): `2024`, no thousands separator.
    Year,
    /// Words and codes.
    Text,
}

impl Kind {
    /// Whether the column's values are numbers (right-aligned in text).
    pub fn is_number(self) -> bool {
        self != Kind::Text
    }

    /// The workbook number format (Excel's format codes), `None` for text.
    pub fn number_format(self) -> Option<String> {
        Some(match self {
            Kind::Count => "#,##0".to_string(),
            // The £ quoted: a literal every spreadsheet reads the same way, whatever its locale's currency.
            Kind::Money | Kind::MoneyMillions => "\"£\"#,##0".to_string(),
            Kind::MoneyPence => "\"£\"#,##0.00".to_string(),
            Kind::Percent => "0.0%".to_string(),
            Kind::Change => "+0.0%;-0.0%;0.0%".to_string(),
            Kind::Decimal(0) => "0".to_string(),
            Kind::Decimal(n) => format!("0.{}", "0".repeat(usize::from(n.min(10)))),
            Kind::Year => "0".to_string(),
            Kind::Text => return None,
        })
    }
}

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A number (a count, a fraction for percentages, a year).
    Number(f64),
    /// An amount of money.
    Money(Pence),
    /// A number shown by its own kind rather than its column's (a column of indicators: counts beside shares).
    Typed(f64, Kind),
    /// Words or a code.
    Text(String),
    /// No value (not published, not applicable, not finite): `-` in text, an empty cell in a workbook.
    Missing,
}

impl Cell {
    /// A number, or [`Cell::Missing`] if there is none or it is not finite (never shown as 0 or inf).
    pub fn number(x: Option<f64>) -> Cell {
        match x {
            Some(v) if v.is_finite() => Cell::Number(v),
            _ => Cell::Missing,
        }
    }

    /// An amount in pounds (as the published statistics and budget files give it), to the penny.
    pub fn pounds(x: Option<f64>) -> Cell {
        x.and_then(Pence::from_pounds_rounded)
            .map_or(Cell::Missing, Cell::Money)
    }

    /// A number of its own kind, or [`Cell::Missing`] as [`Cell::number`].
    pub fn typed(x: Option<f64>, kind: Kind) -> Cell {
        match x {
            Some(v) if v.is_finite() => Cell::Typed(v, kind),
            _ => Cell::Missing,
        }
    }

    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
}

impl From<f64> for Cell {
    fn from(x: f64) -> Cell {
        Cell::number(Some(x))
    }
}

impl From<Option<f64>> for Cell {
    fn from(x: Option<f64>) -> Cell {
        Cell::number(x)
    }
}

impl From<Pence> for Cell {
    fn from(p: Pence) -> Cell {
        Cell::Money(p)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

macro_rules! cell_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Cell {
            fn from(n: $t) -> Cell {
                Cell::Number(n as f64)
            }
        }
    )*};
}
cell_from_int!(i32, i64, u32, u64, usize);

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// One table: a sheet of its own in a workbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The sheet's name (short: a workbook allows 31 characters, made unique and legal when written).
    pub sheet: String,
    /// What the table shows, in a sentence.
    pub title: String,
    pub columns: Vec<Column>,
    /// Each row has one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// Lines that explain the table (shown under it in text, beside its name on the contents sheet).
    pub notes: Vec<String>,
}

impl Table {
    pub fn new(sheet: impl Into<String>, title: impl Into<String>) -> Table {
        Table {
            sheet: sheet.into(),
            title: title.into(),
            columns: Vec::new(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a column.
    pub fn column(mut self, name: impl Into<String>, kind: Kind) -> Table {
        self.columns.push(Column {
            name: name.into(),
            kind,
        });
        self
    }

    /// Adds a row; a short row is filled with missing cells, so every row has one cell per column.
    pub fn push(&mut self, mut row: Vec<Cell>) {
        row.resize(self.columns.len().max(row.len()), Cell::Missing);
        self.rows.push(row);
    }

    pub fn note(&mut self, n: impl Into<String>) {
        self.notes.push(n.into());
    }
}

/// A whole report: what a command prints, and what its workbook holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub title: String,
    /// Sentences under the title (the base census, the source, what the figures mean).
    pub summary: Vec<String>,
    /// The run's inputs (label, value): the contents sheet lists them.
    pub inputs: Vec<(String, String)>,
    pub tables: Vec<Table>,
    /// The model's notes (fallbacks it took), in plain English.
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(title: impl Into<String>) -> Report {
        Report {
            title: title.into(),
            ..Report::default()
        }
    }

    pub fn input(&mut self, label: impl Into<String>, value: impl ToString) {
        self.inputs.push((label.into(), value.to_string()));
    }

    /// Add a block of text to the summary, a line each (blank lines dropped).
    pub fn summary_text(&mut self, text: &str) {
        self.summary
            .extend(text.lines().filter(|l| !l.is_empty()).map(String::from));
    }
}

#[cfg(test)]
mod tests;
