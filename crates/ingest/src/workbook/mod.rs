//! Spreadsheet workbooks: the first sheet of an `.xlsx`, `.xls` or `.ods` file as rows of text cells.
//!
//! The format is recognised from the bytes (a zip holding an OpenDocument `mimetype` is ODS, another zip is
//! XLSX; a compound file is XLS), never trusted from the name. Calamine reads them, but only after [`bounds`] has
//! checked, without unpacking anything into memory, that the workbook cannot make it allocate more than an LA's
//! file needs: a zip bomb, a sheet claiming cells millions of rows apart, or a row repeated a million times is
//! refused with the rule named instead of exhausting memory.

mod bounds;

use std::io::Cursor;

use calamine::{Data, DataRef, Ods, Range, Reader, Xls, Xlsx};

pub(crate) use bounds::check_inflated_size;

use crate::table::MAX_ROWS;

/// Widest sheet read from a workbook (columns beyond are ignored).
const MAX_COLUMNS: u32 = 1024;
/// Most bytes a workbook may inflate to, all its zip entries together (a zip bomb is refused before it is
/// unpacked into memory). An LA's largest workbook (20,000 transitions) inflates to about 3 MB.
pub const MAX_INFLATED_BYTES: u64 = 256 << 20;
/// Most cells (counting the empty cells left of a filled one in its row) read from a workbook: about 440,000
/// rows of 9 columns, twenty times an LA's largest file.
pub const MAX_CELLS: u64 = 4_000_000;
/// Most bytes of text a workbook's cells may hold together (repeated and shared strings counted each time they
/// are copied into a cell): about 30 bytes for every cell of [`MAX_CELLS`] and more; an LA's largest file holds a
/// few MB.
pub const MAX_TEXT_BYTES: u64 = 256 << 20;

/// A worksheet's non-empty rows as (sheet row number, cells from column A).
pub(crate) struct Sheet {
    pub name: String,
    pub rows: Vec<(u64, Vec<String>)>,
}

/// The kinds of workbook read, by their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Xlsx,
    Xls,
    Ods,
}

const NOT_A_WORKBOOK: &str =
    "not a workbook this reads (.xlsx, .xls or .ods; a binary .xlsb is not read): save \
                              the sheet as .xlsx or as CSV";

fn format_of(bytes: &[u8]) -> Result<Format, String> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(Format::Xls);
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(NOT_A_WORKBOOK.into());
    }
    let Ok(zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Err("corrupt workbook: it is not a readable zip file".into());
    };
    let names: Vec<&[u8]> = zip.file_names_raw().collect();
    if names.contains(&&b"mimetype"[..]) && names.contains(&&b"content.xml"[..]) {
        Ok(Format::Ods)
    } else if names.contains(&&b"xl/workbook.bin"[..]) {
        Err(NOT_A_WORKBOOK.into())
    } else {
        Ok(Format::Xlsx)
    }
}

/// A number cell as the text Excel shows for it: at most 15 significant digits (Excel's own precision), so the
/// binary noise of a computed cell (`=A1*1.1` giving 1234.5600000000001) is not read as a third decimal place.
fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    let shown: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    format!("{shown}")
}

/// A date as ISO text (`2024-08-31`, with the time if it has one): a date cell reads as the date it shows, never
/// as the serial number behind it.
fn date_text(d: &calamine::ExcelDateTime) -> String {
    if d.is_duration() {
        return float_text(d.as_f64());
    }
    let (y, mo, da, h, mi, s, _) = d.to_ymd_hms_milli();
    if (h, mi, s) == (0, 0, 0) {
        format!("{y:04}-{mo:02}-{da:02}")
    } else {
        format!("{y:04}-{mo:02}-{da:02} {h:02}:{mi:02}:{s:02}")
    }
}

fn cell_text(v: DataRef<'_>) -> String {
    match v {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(f),
        DataRef::String(s) => s,
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Bool(b) => if b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(d) => date_text(&d),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s,
        DataRef::Error(e) => format!("#{e:?}"),
        DataRef::Empty => String::new(),
    }
}

fn data_text(v: &Data) -> String {
    match v {
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::String(s) => s.clone(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => date_text(d),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
        Data::Empty => String::new(),
    }
}

thread_local! {
    /// Whether this thread is inside [`load_contained`]: a panic there is caught and reported as a corrupt workbook.
    static CONTAINING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The first sheet of a workbook, with any panic of the third-party reader (calamine's XLS parser slices records
/// it has not length-checked: found by fuzzing) caught: `None` then, for the caller to report the workbook as
/// corrupt. See [`quiet_contained_panics`] for what the panic prints.
pub(crate) fn load_contained(bytes: &[u8]) -> Option<Result<Sheet, String>> {
    CONTAINING.with(|c| c.set(true));
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load_first_sheet(bytes)));
    CONTAINING.with(|c| c.set(false));
    loaded.ok()
}

/// Install a panic hook (once, at program start) that stays silent for a panic [`load_contained`] catches, and
/// otherwise does what the hook before it did: a user then sees "corrupt workbook" for a file that made the
/// workbook reader panic, not a panic message. The fuzz targets install it too, so a panic the readers contain is
/// not counted as a crash while any other still is.
pub fn quiet_contained_panics() {
    let before = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !CONTAINING.with(|c| c.get()) {
            before(info);
        }
    }));
}

/// The first sheet of a workbook, or the rule it breaks.
pub(crate) fn load_first_sheet(bytes: &[u8]) -> Result<Sheet, String> {
    match format_of(bytes)? {
        Format::Xlsx => {
            check_inflated_size(bytes, MAX_INFLATED_BYTES)?;
            load_xlsx(bytes)
        }
        Format::Ods => {
            check_inflated_size(bytes, MAX_INFLATED_BYTES)?;
            bounds::check_ods_cells(bytes, MAX_CELLS)?;
            let mut book: Ods<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e| format!("corrupt ODS workbook: {e}"))?;
            first_range(&mut book, "ODS")
        }
        Format::Xls => {
            let rewrapped = bounds::check_xls_cells(bytes, MAX_CELLS)?;
            let mut book: Xls<_> =
                calamine::open_workbook_from_rs(Cursor::new(rewrapped.as_slice()))
                    .map_err(|e| format!("corrupt XLS workbook: {e}"))?;
            first_range(&mut book, "XLS")
        }
    }
}

/// The first sheet of an `.xls` or `.ods` workbook (calamine reads these whole when it opens them: the bounds are
/// checked before).
fn first_range<RS, B>(book: &mut B, kind: &str) -> Result<Sheet, String>
where
    RS: std::io::Read + std::io::Seek,
    B: Reader<RS>,
    B::Error: std::fmt::Display,
{
    let Some(name) = book.sheet_names().first().cloned() else {
        return Err(format!("{kind} workbook has no sheets"));
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| format!("corrupt {kind} workbook: sheet {name:?}: {e}"))?;
    let rows = range_rows(&range)?;
    Ok(Sheet { name, rows })
}

/// A range's non-empty rows, each from column A (the columns left of the range empty).
fn range_rows(range: &Range<Data>) -> Result<Vec<(u64, Vec<String>)>, String> {
    let Some((row0, col0)) = range.start() else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for (i, cells) in range.rows().enumerate() {
        let mut row = vec![String::new(); col0.min(MAX_COLUMNS) as usize];
        for (j, cell) in cells.iter().enumerate() {
            if u64::from(col0) + j as u64 >= u64::from(MAX_COLUMNS) {
                break;
            }
            row.push(data_text(cell));
        }
        while row.last().is_some_and(String::is_empty) {
            row.pop();
        }
        if row.is_empty() {
            continue;
        }
        if rows.len() as u64 > MAX_ROWS {
            return Err(format!(
                "more than {MAX_ROWS} rows: too big to be one LA's file"
            ));
        }
        rows.push((u64::from(row0) + i as u64 + 1, row));
    }
    Ok(rows)
}

/// The first sheet of an XLSX workbook, read cell by cell (never as a whole range: a cell far from the others
/// would make a range of billions of empty cells), bounded in rows and cells as it is read.
fn load_xlsx(bytes: &[u8]) -> Result<Sheet, String> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| format!("corrupt XLSX workbook: {e}"))?;
    let names = book.sheet_names();
    let Some(name) = names.first().cloned() else {
        return Err("XLSX workbook has no sheets".into());
    };
    let mut reader = book
        .worksheet_cells_reader(&name)
        .map_err(|e| format!("corrupt XLSX workbook: sheet {name:?}: {e}"))?;
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    let mut distinct_rows = 0u64;
    let mut last_row = None;
    // Cells the rows below will hold: each row holds every column up to its last filled one.
    let mut slots = 0u64;
    let mut row_width = 0u64;
    let mut text_bytes = 0u64;
    loop {
        let cell = match reader.next_cell() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => return Err(format!("corrupt XLSX workbook: sheet {name:?}: {e}")),
        };
        let (row, col) = cell.get_position();
        if col >= MAX_COLUMNS {
            continue;
        }
        let text = cell_text(cell.get_value().clone());
        if text.is_empty() {
            continue;
        }
        // A shared string is copied into every cell that uses it: count each copy.
        text_bytes = text_bytes.saturating_add(text.len() as u64);
        if text_bytes > MAX_TEXT_BYTES {
            return Err(format!(
                "sheet {name:?} would hold more than {MAX_TEXT_BYTES} bytes of text (counting every use of a shared \
                 string): too big to be one LA's file"
            ));
        }
        if last_row != Some(row) {
            last_row = Some(row);
            row_width = 0;
            distinct_rows += 1;
            if distinct_rows > MAX_ROWS + 1 {
                return Err(format!(
                    "more than {MAX_ROWS} rows: too big to be one LA's file"
                ));
            }
        }
        // Cells of one row come in column order in a well-formed sheet; a row given twice or out of order only
        // makes this count larger than the rows built below, never smaller.
        let width = u64::from(col) + 1;
        slots += width.saturating_sub(row_width).max(1);
        row_width = row_width.max(width);
        if slots > MAX_CELLS {
            return Err(format!(
                "sheet {name:?} has more than {MAX_CELLS} cells (counting the empty ones left of a filled \
                 cell): too big to be one LA's file"
            ));
        }
        cells.push((row, col, text));
    }
    drop(reader);
    cells.sort_by_key(|c| (c.0, c.1));
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    for (row, col, text) in cells {
        let line = u64::from(row) + 1;
        if rows.last().map(|r| r.0) != Some(line) {
            rows.push((line, Vec::new()));
        }
        if let Some((_, r)) = rows.last_mut() {
            let col = col as usize;
            if r.len() <= col {
                r.resize(col + 1, String::new());
            }
            if let Some(slot) = r.get_mut(col) {
                *slot = text;
            }
        }
    }
    Ok(Sheet { name, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_excel_shows_them() {
        assert_eq!(float_text(29_488_313.0), "29488313");
        assert_eq!(float_text(8_123_456.78), "8123456.78");
        // 0.1 + 0.2 is 0.30000000000000004 in binary; Excel shows 0.3.
        assert_eq!(float_text(0.1 + 0.2), "0.3");
        assert_eq!(float_text(1234.56 * 3.0), "3703.68");
        assert_eq!(float_text(-0.5), "-0.5");
        assert_eq!(float_text(f64::NAN), "NaN");
    }

    #[test]
    fn date_cells_read_as_dates() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        // Serial 45383 is 2024-04-01 in the 1900 date system (Excel's default), 2028-04-02 in the 1904 one.
        let d = ExcelDateTime::new(45383.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(date_text(&d), "2024-04-01");
        let d = ExcelDateTime::new(45383.0, ExcelDateTimeType::DateTime, true);
        assert_eq!(date_text(&d), "2028-04-02");
        let d = ExcelDateTime::new(45383.75, ExcelDateTimeType::DateTime, false);
        assert_eq!(date_text(&d), "2024-04-01 18:00:00");
    }
}
