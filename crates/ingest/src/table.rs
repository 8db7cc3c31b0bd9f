//! Tabular input, CSV or XLSX, as rows of trimmed text cells found by header name.
//!
//! Every reader in this crate goes through [`read_table`]: it finds the header, maps the columns a format needs,
//! and hands each data row to the format's parser with its physical line number. Problems with the table itself
//! (empty file, missing column, binary data, over-long or ragged rows, too many rows, corrupt workbook) are
//! reported here.

use crate::issue::Report;
use crate::workbook::load_contained;
pub use crate::workbook::{MAX_CELLS as MAX_XLSX_CELLS, MAX_INFLATED_BYTES};

/// Longest line or record accepted (bytes).
pub const MAX_RECORD_BYTES: usize = 64 * 1024;
/// Most data rows accepted in one file.
pub const MAX_ROWS: u64 = 5_000_000;
/// Largest file accepted (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// One data row: cells by the position of the column in the format's column list.
pub(crate) struct Row<'a> {
    pub line: u64,
    data: RowData<'a>,
    cols: &'a [Option<usize>],
}

enum RowData<'a> {
    /// A CSV record and its bytes as text (validated once per row: UTF-8 is checked before rows are handed on).
    Csv(&'a csv::ByteRecord, &'a str),
    Cells(&'a [String]),
}

impl Row<'_> {
    /// The trimmed cell of the `k`th column of the format ("" if the column is absent), with the quote that
    /// [`neutralise_formula`] puts before formula-like text taken off.
    pub fn get(&self, k: usize) -> &str {
        let Some(Some(i)) = self.cols.get(k) else {
            return "";
        };
        let cell = match self.data {
            RowData::Csv(rec, text) => rec.range(*i).and_then(|r| text.get(r)).unwrap_or("").trim(),
            RowData::Cells(cells) => cells.get(*i).map(|s| s.trim()).unwrap_or(""),
        };
        unneutralise_formula(cell)
    }
}

/// Whether a spreadsheet could take this text for a formula: it starts with `=`, `+`, `-`, `@`, tab or carriage
/// return (OWASP's CSV-injection rule), or it is a quote followed by such text (so that quoting is reversible).
fn looks_like_formula(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => true,
        Some(b'\'') => looks_like_formula(&s[1..]),
        _ => false,
    }
}

/// Text written into an exported CSV or XLSX cell: formula-like text gets a leading `'`, so a spreadsheet shows it
/// as text instead of running it. Readers take the quote off again ([`unneutralise_formula`]), so a round trip
/// gives back the same text. Only for text columns (codes, names, ids), never numbers: `-3` stays a number.
pub fn neutralise_formula(s: &str) -> std::borrow::Cow<'_, str> {
    if looks_like_formula(s) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The inverse of [`neutralise_formula`]: a `'` before formula-like text is taken off; any other text is kept.
pub fn unneutralise_formula(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => s,
    }
}

/// The columns a format reads, by canonical name; the first `required` are required.
pub(crate) struct Columns<'a> {
    pub names: &'a [&'a str],
    pub required: usize,
}

/// Whether the bytes (or the name) are a spreadsheet workbook rather than text.
pub(crate) fn is_workbook(name: &str, bytes: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    [".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"]
        .iter()
        .any(|e| lower.ends_with(e))
        || bytes.starts_with(b"PK\x03\x04")
        || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// Header names compare trimmed, case-insensitively, with `_` and `-` the same.
pub(crate) fn normalise_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .replace('_', "-")
}

fn map_header(
    header: &[String],
    line: u64,
    columns: &Columns<'_>,
    report: &mut Report,
) -> Option<Vec<Option<usize>>> {
    if let [only] = header {
        if only.contains(';') || only.contains('\t') {
            report.line(
                line,
                "header line has no commas: columns must be separated by commas, not semicolons or tabs",
            );
            return None;
        }
    }
    let normalised: Vec<String> = header.iter().map(|h| normalise_header(h)).collect();
    let mut cols = Vec::with_capacity(columns.names.len());
    let mut ok = true;
    for (k, name) in columns.names.iter().enumerate() {
        let want = normalise_header(name);
        let mut found = normalised.iter().enumerate().filter(|(_, h)| **h == want);
        let first = found.next().map(|(i, _)| i);
        if found.next().is_some() {
            report.column(line, name, "appears more than once in the header line");
            ok = false;
        }
        if first.is_none() && k < columns.required {
            let expected: Vec<&str> = columns.names[..columns.required].to_vec();
            report.column(
                line,
                name,
                format!(
                    "missing from the header line (expected columns {})",
                    expected.join(",")
                ),
            );
            ok = false;
        }
        cols.push(first);
    }
    ok.then_some(cols)
}

/// The physical line a record starts on, counted from its byte offset. The csv crate's own line number is one
/// short after a CRLF line end (Excel's on Windows): it records a record's start before it has read the `\n` of
/// the `\r\n` before it (and any blank lines after), so the offset can point at line ends; the record's first
/// byte is the first one after them, and its line is one more than the line ends before that byte.
#[derive(Default)]
struct LineCounter {
    upto: usize,
    newlines: u64,
}

impl LineCounter {
    /// The line of the record starting at byte `offset` (offsets must not go backwards).
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> u64 {
        let skipped = bytes.get(offset..).map_or(0, |rest| {
            rest.iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count()
        });
        let end = (offset + skipped).min(bytes.len());
        if end > self.upto {
            self.newlines += bytes[self.upto..end]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.upto = end;
        }
        self.newlines + 1
    }
}

/// Read a CSV or XLSX table, calling `on_row` for each data row. Returns the number of data rows.
pub(crate) fn read_table(
    name: &str,
    bytes: &[u8],
    columns: &Columns<'_>,
    report: &mut Report,
    on_row: &mut dyn FnMut(&mut Report, &Row<'_>),
) -> u64 {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        report.file(format!(
            "file is larger than {MAX_FILE_BYTES} bytes: too big to be one LA's file"
        ));
        return 0;
    }
    if is_workbook(name, bytes) {
        read_workbook(bytes, columns, report, on_row)
    } else {
        read_csv(bytes, columns, report, on_row)
    }
}

fn read_csv(
    bytes: &[u8],
    columns: &Columns<'_>,
    report: &mut Report,
    on_row: &mut dyn FnMut(&mut Report, &Row<'_>),
) -> u64 {
    let Some(decoded) = crate::text::decode_or_report(bytes, report) else {
        return 0;
    };
    if let Some(note) = decoded.note {
        report.warn_file(note);
    }
    let bytes = &decoded.bytes[..];
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        report.file("empty file: no header line");
        return 0;
    }
    let mut records = CsvRecords::new(bytes);
    let Some((cols, width)) = read_csv_header(&mut records, columns, report) else {
        return 0;
    };
    let rows = read_csv_rows(&mut records, &cols, width, report, on_row);
    warn_if_no_rows(rows, report);
    rows
}

/// A CSV file's records, read one at a time into the same record, with the physical line each starts on.
pub(crate) struct CsvRecords<'b> {
    bytes: &'b [u8],
    reader: csv::Reader<&'b [u8]>,
    record: csv::ByteRecord,
    lines: LineCounter,
}

impl<'b> CsvRecords<'b> {
    /// Records of the decoded bytes: no header row for the csv crate (it is found here), ragged rows allowed.
    pub(crate) fn new(bytes: &'b [u8]) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        Self {
            bytes,
            reader,
            record: csv::ByteRecord::new(),
            lines: LineCounter::default(),
        }
    }

    /// The record last read.
    pub(crate) fn record(&self) -> &csv::ByteRecord {
        &self.record
    }

    /// Read the next record: `Ok(false)` at the end of the file.
    pub(crate) fn next_record(&mut self) -> csv::Result<bool> {
        self.reader.read_byte_record(&mut self.record)
    }

    /// The physical line of a record (or of a read error) at this position (0 if the csv crate gives none).
    pub(crate) fn line_of(&mut self, position: Option<&csv::Position>) -> u64 {
        position.map_or(0, |p| self.lines.line_at(self.bytes, p.byte() as usize))
    }

    /// The physical line the current record starts on.
    pub(crate) fn record_line(&mut self) -> u64 {
        self.record
            .position()
            .map_or(0, |p| self.lines.line_at(self.bytes, p.byte() as usize))
    }
}

/// The header line (blank lines before it skipped): the format's columns and the header's width, or `None` (with
/// the fault reported) when it cannot be read.
fn read_csv_header(
    records: &mut CsvRecords<'_>,
    columns: &Columns<'_>,
    report: &mut Report,
) -> Option<(Vec<Option<usize>>, usize)> {
    loop {
        match records.next_record() {
            Ok(true) => {}
            Ok(false) => {
                report.file("empty file: no header line");
                return None;
            }
            Err(e) => {
                report.file(format!("cannot read the header line: {e}"));
                return None;
            }
        }
        let line = records.record_line();
        let rec = &records.record;
        if rec.as_slice().len() + rec.len() > MAX_RECORD_BYTES {
            report.line(
                line,
                format!("header line is longer than {MAX_RECORD_BYTES} bytes"),
            );
            return None;
        }
        let Ok(text) = std::str::from_utf8(rec.as_slice()) else {
            report.line(line, "header line is not UTF-8 text (binary data, or a file saved in another encoding: save it as CSV UTF-8)");
            return None;
        };
        if text.trim().is_empty() && rec.len() <= 1 {
            continue;
        }
        let header: Vec<String> = rec
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect();
        let cols = map_header(&header, line, columns, report)?;
        return Some((cols, rec.len()));
    }
}

/// The data rows after the header, each checked and handed to `on_row`; returns the number of rows counted.
fn read_csv_rows(
    records: &mut CsvRecords<'_>,
    cols: &[Option<usize>],
    width: usize,
    report: &mut Report,
    on_row: &mut dyn FnMut(&mut Report, &Row<'_>),
) -> u64 {
    let mut rows = 0u64;
    loop {
        match records.next_record() {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = records.line_of(e.position());
                report.line(line, format!("cannot read the row: {e}"));
                break;
            }
        }
        let line = records.record_line();
        rows += 1;
        if rows > MAX_ROWS {
            report.line(
                line,
                format!("more than {MAX_ROWS} rows: too big to be one LA's file"),
            );
            break;
        }
        match check_csv_row(&records.record, line, width, report) {
            CsvRow::Text(text) => on_row(
                report,
                &Row {
                    line,
                    data: RowData::Csv(&records.record, text),
                    cols,
                },
            ),
            CsvRow::Blank => rows -= 1,
            CsvRow::Refused => {}
        }
    }
    rows
}

/// A CSV data record once checked.
enum CsvRow<'r> {
    /// A row to hand on, with its bytes as text.
    Text(&'r str),
    /// A blank line: skipped, and not counted as a row.
    Blank,
    /// A row refused (and reported): too long, not UTF-8 text, or not as wide as the header.
    Refused,
}

/// Check one data record at its line: its length, its text and its width against the header's.
fn check_csv_row<'r>(
    rec: &'r csv::ByteRecord,
    line: u64,
    width: usize,
    report: &mut Report,
) -> CsvRow<'r> {
    if rec.as_slice().len() + rec.len() > MAX_RECORD_BYTES {
        report.line(
            line,
            format!("line is longer than {MAX_RECORD_BYTES} bytes (is a quote left open?)"),
        );
        return CsvRow::Refused;
    }
    let Some(text) = csv_row_text(rec) else {
        report.line(line, "is not UTF-8 text (binary data, or a file saved in another encoding: save it as CSV UTF-8)");
        return CsvRow::Refused;
    };
    if rec.len() != width {
        if rec.len() == 1
            && rec
                .get(0)
                .is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
        {
            return CsvRow::Blank;
        }
        let n = rec.len();
        let s = if n == 1 { "" } else { "s" };
        report.line(
            line,
            format!("row has {n} field{s}, the header has {width}"),
        );
        return CsvRow::Refused;
    }
    CsvRow::Text(text)
}

/// A record's bytes as text, if they are text. The record's bytes are its fields run together: valid UTF-8
/// overall, and every field must start and end on a character boundary (a character split across two fields is
/// not text either).
fn csv_row_text(rec: &csv::ByteRecord) -> Option<&str> {
    std::str::from_utf8(rec.as_slice()).ok().filter(|t| {
        (0..rec.len()).all(|i| {
            rec.range(i)
                .is_some_and(|r| t.is_char_boundary(r.start) && t.is_char_boundary(r.end))
        })
    })
}

/// The rule `validate` shows for a file with a header and nothing else (an import refuses to replace stored
/// data with it unless told to).
pub const NO_DATA_ROWS: &str = "has no data rows, only its header line: importing it would replace \
                                stored data with nothing (import refuses that unless --replace-with-empty is given)";

fn warn_if_no_rows(rows: u64, report: &mut Report) {
    if rows == 0 {
        report.warn_file(NO_DATA_ROWS);
    }
}

fn read_workbook(
    bytes: &[u8],
    columns: &Columns<'_>,
    report: &mut Report,
    on_row: &mut dyn FnMut(&mut Report, &Row<'_>),
) -> u64 {
    // The workbook parser is third-party code over untrusted bytes: contain any panic as a corrupt file.
    let sheet = match load_contained(bytes) {
        Some(Ok(sheet)) => sheet,
        Some(Err(msg)) => {
            report.file(msg);
            return 0;
        }
        None => {
            report.file("corrupt workbook: it could not be read");
            return 0;
        }
    };
    report.set_sheet(Some(sheet.name.clone()));
    let mut iter = sheet.rows.iter();
    let Some((header_line, header)) = iter.next() else {
        report.set_sheet(None);
        report.file(format!(
            "empty file: no header line (sheet {:?} is empty)",
            sheet.name
        ));
        return 0;
    };
    let Some(cols) = map_header(header, *header_line, columns, report) else {
        return 0;
    };
    let mut rows = 0u64;
    for (line, cells) in iter {
        rows += 1;
        let len: usize = cells.iter().map(|c| c.len() + 1).sum();
        if len > MAX_RECORD_BYTES {
            report.line(
                *line,
                format!("row is longer than {MAX_RECORD_BYTES} bytes"),
            );
            continue;
        }
        on_row(
            report,
            &Row {
                line: *line,
                data: RowData::Cells(cells),
                cols: &cols,
            },
        );
    }
    warn_if_no_rows(rows, report);
    rows
}

/// The header cells of a file, normalised, if they can be read (for detecting a file's kind).
pub(crate) fn header_of(name: &str, bytes: &[u8]) -> Option<Vec<String>> {
    if is_workbook(name, bytes) {
        let sheet = load_contained(bytes)?.ok()?;
        let (_, header) = sheet.rows.into_iter().next()?;
        return Some(header.iter().map(|h| normalise_header(h)).collect());
    }
    // The header is within the first record's bound: decode no more than that, cut at a line end (a cut inside a
    // UTF-8 character would make the text look like another encoding).
    let head = match bytes.get(..2 * MAX_RECORD_BYTES) {
        // UTF-16 (a byte-order mark): an even number of bytes, its units whole.
        Some(head) if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") => {
            &head[..head.len() & !1]
        }
        Some(head) => head
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(head, |end| &head[..=end]),
        None => bytes,
    };
    let decoded = crate::text::decode(head, None).ok()?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&decoded.bytes[..]);
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).ok()? {
        if rec.as_slice().len() > MAX_RECORD_BYTES {
            return None;
        }
        let text = std::str::from_utf8(rec.as_slice()).ok()?;
        if text.trim().is_empty() && rec.len() <= 1 {
            continue;
        }
        return Some(
            rec.iter()
                .map(|b| normalise_header(&String::from_utf8_lossy(b)))
                .collect(),
        );
    }
    None
}
