//! A report as an Excel workbook (bytes, written by the caller): a `Contents` sheet with the title, the run's
//! inputs, the list of sheets and the notes, then one sheet per table. A table's sheet is its header row (bold,
//! frozen) and its rows, nothing else, so Excel, Power BI and pivot tables read it as it is. Figures are
//! numbers with number formats (money in pounds as `"£"#,##0`, shares as fractions with `0.0%`), never text;
//! text that a spreadsheet would run as a formula gets a leading `'` (issue #14); column widths fit the longest
//! value.

use std::borrow::Cow;

use highneeds_ingest::neutralise_formula;
use rust_xlsxwriter::{DocProperties, Format, Workbook, Worksheet, XlsxError};

use super::{text, Cell, Kind, Report, Table};

/// The name of the first sheet.
pub const CONTENTS: &str = "Contents";

/// Excel's longest sheet name.
const MAX_SHEET_NAME: usize = 31;

/// A legal sheet name from a table's: no `[]:*?/\`, no `'` at either end, at most 31 characters, not empty.
pub fn legal_sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') && !c.is_control())
        .collect();
    let trimmed = cleaned.trim().trim_matches('\'').trim();
    let short: String = trimmed.chars().take(MAX_SHEET_NAME).collect();
    let short = short.trim_end().to_string();
    if short.is_empty() {
        "Table".to_string()
    } else {
        short
    }
}

/// Sheet names for the tables, in order: legal, and unique ignoring case (as Excel compares them), `Contents`
/// included; a repeated name gets ` (2)`, ` (3)`, … within the 31 characters.
pub fn sheet_names(tables: &[Table]) -> Vec<String> {
    let mut taken: Vec<String> = vec![CONTENTS.to_lowercase()];
    let mut names = Vec::with_capacity(tables.len());
    for t in tables {
        let base = legal_sheet_name(&t.sheet);
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name.to_lowercase()) {
            let suffix = format!(" ({n})");
            let keep = MAX_SHEET_NAME - suffix.chars().count();
            name = format!(
                "{}{suffix}",
                base.chars().take(keep).collect::<String>().trim_end()
            );
            n += 1;
        }
        taken.push(name.to_lowercase());
        names.push(name);
    }
    names
}

fn safe(s: &str) -> Cow<'_, str> {
    neutralise_formula(s)
}

/// How wide a cell is when a workbook shows it (money in whole pounds, not in millions).
fn shown_width(c: &Cell, kind: Kind) -> usize {
    let kind = match (c, kind) {
        (Cell::Money(_), Kind::MoneyPence) => Kind::MoneyPence,
        (Cell::Money(_), _) => Kind::Money,
        _ => kind,
    };
    text::cell(c, kind).chars().count()
}

/// Column width in Excel's units (characters of the default font), from the longest value, a little margin.
fn width(chars: usize) -> f64 {
    (chars.clamp(6, 80) + 2) as f64
}

fn number_format(kind: Kind) -> Format {
    match kind.number_format() {
        Some(f) => Format::new().set_num_format(f),
        None => Format::new(),
    }
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    c: &Cell,
    kind: Kind,
) -> Result<(), XlsxError> {
    match c {
        Cell::Missing => {}
        Cell::Text(s) => {
            sheet.write_string(row, col, safe(s))?;
        }
        Cell::Number(x) => {
            sheet.write_number_with_format(row, col, *x, &number_format(kind))?;
        }
        Cell::Typed(x, own) => {
            sheet.write_number_with_format(row, col, *x, &number_format(*own))?;
        }
        Cell::Money(p) => {
            // Pence are whole: dividing by 100 gives the nearest double to the amount in pounds (exact to the
            // penny for any amount below £90 trillion).
            let kind = match kind {
                Kind::Money | Kind::MoneyMillions | Kind::MoneyPence => kind,
                _ => Kind::MoneyPence,
            };
            sheet.write_number_with_format(
                row,
                col,
                p.pence() as f64 / 100.0,
                &number_format(kind),
            )?;
        }
    }
    Ok(())
}

fn table_sheet(sheet: &mut Worksheet, name: &str, t: &Table) -> Result<(), XlsxError> {
    sheet.set_name(name)?;
    let bold = Format::new().set_bold();
    for (j, col) in t.columns.iter().enumerate() {
        let j = u16::try_from(j).map_err(|_| XlsxError::RowColumnLimitError)?;
        sheet.write_string_with_format(0, j, safe(&col.name), &bold)?;
    }
    for (i, row) in t.rows.iter().enumerate() {
        let i = u32::try_from(i + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (j, (c, col)) in row.iter().zip(&t.columns).enumerate() {
            write_cell(sheet, i, j as u16, c, col.kind)?;
        }
    }
    for (j, col) in t.columns.iter().enumerate() {
        let longest = t
            .rows
            .iter()
            .map(|r| shown_width(&r[j], col.kind))
            .chain([col.name.chars().count()])
            .max()
            .unwrap_or(0);
        sheet.set_column_width(j as u16, width(longest))?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn contents_sheet(sheet: &mut Worksheet, r: &Report, names: &[String]) -> Result<(), XlsxError> {
    sheet.set_name(CONTENTS)?;
    let bold = Format::new().set_bold();
    let mut row = 0u32;
    let mut widths = [0usize; 3];
    let mut put = |sheet: &mut Worksheet, row: u32, col: u16, s: &str, f: Option<&Format>| {
        if col > 0 || row > 0 {
            let w = &mut widths[usize::from(col)];
            *w = (*w).max(s.chars().count());
        }
        match f {
            Some(f) => sheet
                .write_string_with_format(row, col, safe(s), f)
                .map(|_| ()),
            None => sheet.write_string(row, col, safe(s)).map(|_| ()),
        }
    };
    put(sheet, row, 0, &r.title, Some(&bold))?;
    for s in &r.summary {
        row += 1;
        put(sheet, row, 0, s, None)?;
    }
    if !r.inputs.is_empty() {
        row += 2;
        put(sheet, row, 0, "Inputs", Some(&bold))?;
        for (label, value) in &r.inputs {
            row += 1;
            put(sheet, row, 0, label, None)?;
            put(sheet, row, 1, value, None)?;
        }
    }
    row += 2;
    put(sheet, row, 0, "Sheet", Some(&bold))?;
    put(sheet, row, 1, "What it shows", Some(&bold))?;
    for (t, name) in r.tables.iter().zip(names) {
        row += 1;
        put(sheet, row, 0, name, None)?;
        put(sheet, row, 1, &t.title, None)?;
        for n in &t.notes {
            row += 1;
            put(sheet, row, 1, n, None)?;
        }
    }
    if !r.notes.is_empty() {
        row += 2;
        put(sheet, row, 0, "Notes", Some(&bold))?;
        for n in &r.notes {
            row += 1;
            put(sheet, row, 0, n, None)?;
        }
    }
    // Long sentences (summary lines, notes) run on to the right in column A; its width fits labels and sheet
    // names only.
    sheet.set_column_width(0, width(widths[0].min(40)))?;
    sheet.set_column_width(1, width(widths[1].min(100)))?;
    Ok(())
}

/// The workbook's bytes.
pub fn workbook(r: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title(safe(&r.title)));
    let names = sheet_names(&r.tables);
    contents_sheet(wb.add_worksheet(), r, &names)?;
    for (t, name) in r.tables.iter().zip(&names) {
        table_sheet(wb.add_worksheet(), name, t)?;
    }
    wb.save_to_buffer()
}
