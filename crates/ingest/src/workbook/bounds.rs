//! Bounds on what a workbook makes its reader allocate, checked on the raw bytes before calamine reads them.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};

/// Refuse a workbook whose zip entries inflate to more than `limit` bytes: first by the sizes its central
/// directory declares, then (declared sizes can lie) by inflating each entry into nothing, stopping at the limit.
/// A zip that cannot be read is left for the workbook reader to report.
pub(crate) fn check_inflated_size(bytes: &[u8], limit: u64) -> Result<(), String> {
    let too_big = |entry: &str| {
        format!(
            "workbook inflates to more than {limit} bytes (entry {entry:?}): too big to be one LA's file \
             (a zip bomb?); save the sheet as CSV UTF-8 or split it"
        )
    };
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut declared = 0u64;
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index_raw(i) else {
            continue;
        };
        declared = declared.saturating_add(entry.size());
        if declared > limit {
            return Err(too_big(&entry.name().unwrap_or_default()));
        }
    }
    let mut inflated = 0u64;
    for i in 0..zip.len() {
        // An entry that cannot be unpacked here cannot be unpacked by the workbook reader either.
        let Ok(entry) = zip.by_index(i) else {
            continue;
        };
        let name = entry.name().unwrap_or_default().into_owned();
        let mut bounded = entry.take(limit - inflated + 1);
        // A read error part-way still counts what was inflated before it.
        let mut n = 0u64;
        let mut buf = [0u8; 64 * 1024];
        while let Ok(k @ 1..) = bounded.read(&mut buf) {
            n += k as u64;
        }
        inflated += n;
        if inflated > limit {
            return Err(too_big(&name));
        }
    }
    Ok(())
}

/// Most rows calamine expands in one ODS table (its own cap).
const ODS_MAX_ROWS: u64 = 1_048_576;
/// Most columns calamine reads in one ODS row (its own cap).
const ODS_MAX_COLUMNS: u64 = 16_384;

fn too_many_cells(kind: &str, limit: u64) -> String {
    format!(
        "{kind} workbook would hold more than {limit} cells (counting repeated and empty ones between filled \
         cells): too big to be one LA's file; save the sheet as CSV UTF-8 or split it"
    )
}

fn too_much_text(kind: &str) -> String {
    format!(
        "{kind} workbook would hold more than {} bytes of text (counting repeated cells): too big to be one LA's \
         file; save the sheet as CSV UTF-8 or split it",
        super::MAX_TEXT_BYTES
    )
}

fn attribute(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .map(|a| a.value.into_owned())
}

fn repeats(e: &quick_xml::events::BytesStart<'_>, name: &str) -> u64 {
    attribute(e, name)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(1)
}

/// One ODS table as calamine sizes it: rows expanded by their repeat counts up to the last row with a filled
/// cell, each as wide as the widest filled row.
#[derive(Default)]
struct OdsTable {
    rows: u64,
    rows_to_last_filled: u64,
    widest: u64,
}

impl OdsTable {
    fn cells(&self) -> u64 {
        self.rows_to_last_filled.saturating_mul(self.widest)
    }
}

/// Text bytes calamine would hold for an ODS workbook: each cell's characters (and the spaces of `text:s c="N"`,
/// which calamine writes out) times the cell's column repeats and its row's repeats.
#[derive(Default)]
struct OdsText {
    /// The cell being read: its column repeats and its text bytes so far.
    cell: Option<(u64, u64)>,
    row: u64,
    total: u64,
}

impl OdsText {
    fn add(&mut self, n: u64) {
        if let Some((_, bytes)) = self.cell.as_mut() {
            *bytes = bytes.saturating_add(n);
        }
    }
    fn end_cell(&mut self) {
        if let Some((repeats, bytes)) = self.cell.take() {
            self.row = self.row.saturating_add(bytes.saturating_mul(repeats));
        }
    }
    fn end_row(&mut self, repeats: u64) {
        let row = std::mem::take(&mut self.row);
        self.total = self.total.saturating_add(row.saturating_mul(repeats));
    }
}

/// The attributes any one of which makes calamine fill an ODS cell, with or without a value type.
const ODS_VALUE_ATTRIBUTES: [&str; 7] = [
    "office:value-type",
    "office:value",
    "office:string-value",
    "office:date-value",
    "office:time-value",
    "office:boolean-value",
    "table:formula",
];

/// What calamine would hold for an ODS workbook's `content.xml` so far: the cells of its tables and its text.
#[derive(Default)]
struct OdsContentSize {
    /// Cells of the tables already read to their end.
    total: u64,
    /// The table being read.
    table: OdsTable,
    /// The row being read: its repeat count, its width so far, and its width up to its last filled cell.
    row: Option<(u64, u64, u64)>,
    /// Text bytes of the cells read.
    text: OdsText,
}

impl OdsContentSize {
    /// Count one event of `content.xml` (the end of the file is not counted).
    fn count(&mut self, event: &Event<'_>) {
        match event {
            Event::Start(e) => self.start_element(e, false),
            Event::Empty(e) => self.start_element(e, true),
            Event::Text(t) => self.text.add(t.len() as u64),
            Event::End(e) => self.end_element(e.name().as_ref()),
            _ => {}
        }
    }

    /// Count an opening tag: a row, a cell or a run of spaces (`empty` when the tag also closes itself).
    fn start_element(&mut self, e: &BytesStart<'_>, empty: bool) {
        match e.name().as_ref() {
            "table:table-row" => self.start_row(e, empty),
            "table:table-cell" | "table:covered-table-cell" => self.start_cell(e, empty),
            "text:s" => self.text.add(repeats(e, "text:c")),
            _ => {}
        }
    }

    /// Open a row; a row with no cells (`<table:table-row/>`) only adds its repeats to the table's rows.
    fn start_row(&mut self, e: &BytesStart<'_>, empty: bool) {
        let r = repeats(e, "table:number-rows-repeated");
        self.row = Some((r, 0, 0));
        if empty {
            self.table.rows = self.table.rows.saturating_add(r).min(ODS_MAX_ROWS);
            self.row = None;
        }
    }

    /// Widen the open row by a cell's column repeats, marking it filled if it has a value, and start its text.
    fn start_cell(&mut self, e: &BytesStart<'_>, empty: bool) {
        if let Some((_, width, filled)) = self.row.as_mut() {
            let n = repeats(e, "table:number-columns-repeated");
            *width = width.saturating_add(n).min(ODS_MAX_COLUMNS);
            // Calamine fills a cell from any of its value attributes, with or without a type.
            let has_value = ODS_VALUE_ATTRIBUTES
                .iter()
                .any(|a| attribute(e, a).is_some())
                || !empty;
            if has_value {
                *filled = *width;
            }
            let value = attribute(e, "office:string-value").map_or(0, |v| v.len());
            self.text.cell = Some((n.min(ODS_MAX_COLUMNS), value as u64));
            if empty {
                self.text.end_cell();
            }
        }
    }

    /// Count a closing tag: the end of a cell, of a row or of a table.
    fn end_element(&mut self, name: &str) {
        match name {
            "table:table-cell" | "table:covered-table-cell" => self.text.end_cell(),
            "table:table-row" => self.end_row(),
            "table:table" => {
                self.total = self
                    .total
                    .saturating_add(std::mem::take(&mut self.table).cells());
            }
            _ => {}
        }
    }

    /// Close the open row: add its repeats to the table's rows and its text, and widen the table if it is filled.
    fn end_row(&mut self) {
        if let Some((r, _, filled)) = self.row.take() {
            self.text.end_row(r.min(ODS_MAX_ROWS));
            self.table.rows = self.table.rows.saturating_add(r).min(ODS_MAX_ROWS);
            if filled > 0 {
                self.table.rows_to_last_filled = self.table.rows;
                self.table.widest = self.table.widest.max(filled);
            }
        }
    }

    /// Refuse the workbook once its cells so far exceed `limit` or its text so far exceeds the text bound.
    fn check(&self, limit: u64) -> Result<(), String> {
        if self.total.saturating_add(self.table.cells()) > limit {
            return Err(too_many_cells("ODS", limit));
        }
        if self.text.total.saturating_add(self.text.row) > super::MAX_TEXT_BYTES {
            return Err(too_much_text("ODS"));
        }
        Ok(())
    }
}

/// Refuse an ODS workbook whose tables would make calamine hold more than `limit` cells. Calamine expands every
/// `number-columns-repeated` into cells as it reads a row and every `number-rows-repeated` between the first and
/// last filled rows when it builds the sheet, for every table when it opens the file: this counts the same on
/// `content.xml`, streamed (its inflated size is bounded before).
pub(crate) fn check_ods_cells(bytes: &[u8], limit: u64) -> Result<(), String> {
    let corrupt = |e: &dyn std::fmt::Display| format!("corrupt ODS workbook: content.xml: {e}");
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let content = zip.by_name("content.xml").map_err(|e| corrupt(&e))?;
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(content));
    let mut buf = Vec::new();
    let mut size = OdsContentSize::default();
    loop {
        let event = xml.read_event_into(&mut buf).map_err(|e| corrupt(&e))?;
        if matches!(event, Event::Eof) {
            break;
        }
        size.count(&event);
        size.check(limit)?;
        buf.clear();
    }
    Ok(())
}

/// BIFF record types whose first four bytes are the row and column of one cell.
const XLS_CELL_RECORDS: [u16; 7] = [
    0x0203, // Number
    0x0204, // Label
    0x00D6, // RString
    0x0205, // BoolErr
    0x027E, // Rk
    0x00FD, // LabelSst
    0x0201, // Blank
];

/// Every BIFF record of a workbook stream from `pos`, CONTINUE records (0x003C) included: (type, data). Stops at
/// the first record that runs past the end, as calamine does.
fn raw_records(stream: &[u8], pos: usize) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = stream.get(pos..).unwrap_or_default();
    std::iter::from_fn(move || {
        let typ = u16::from_le_bytes([*rest.first()?, *rest.get(1)?]);
        let len = usize::from(u16::from_le_bytes([*rest.get(2)?, *rest.get(3)?]));
        let data = rest.get(4..4 + len)?;
        rest = &rest[4 + len..];
        Some((typ, data))
    })
}

/// The BIFF records of a workbook stream from `pos`, CONTINUE records skipped.
fn biff_records(stream: &[u8], pos: usize) -> impl Iterator<Item = (u16, &[u8])> {
    raw_records(stream, pos).filter(|(typ, _)| *typ != 0x003C)
}

/// The most bytes one shared string can take in UTF-8 (65,535 UTF-16 units of up to 3 bytes each).
const MAX_SHARED_STRING_BYTES: u64 = 3 * 65_535;

/// An upper bound on the UTF-8 bytes of each shared string in the globals' SST record (and its CONTINUE records),
/// read as calamine reads it: per string a character count, option flags, then the characters (a CONTINUE record
/// in the middle of them starts with a new flags byte), rich-text runs and extended data. `None` if there is no SST
/// or it cannot be read this way.
fn shared_string_bytes(stream: &[u8]) -> Option<Vec<u64>> {
    let mut records = raw_records(stream, 0).skip_while(|(typ, _)| *typ != 0x00FC);
    let (_, first) = records.next()?;
    let mut segments = std::iter::once(first.get(8..)?)
        .chain(records.map_while(|(typ, d)| (typ == 0x003C).then_some(d)));
    let mut data: &[u8] = segments.next()?;
    let mut out = Vec::new();
    loop {
        if data.is_empty() {
            match segments.next() {
                Some(next) => data = next,
                None => return Some(out),
            }
            continue;
        }
        let head = data.get(..3)?;
        let mut chars = u64::from(u16::from_le_bytes([head[0], head[1]]));
        let flags = head[2];
        data = &data[3..];
        let runs = if flags & 0x08 != 0 {
            let r = data.get(..2)?;
            data = &data[2..];
            4 * u64::from(u16::from_le_bytes([r[0], r[1]]))
        } else {
            0
        };
        let ext = if flags & 0x04 != 0 {
            let e = data.get(..4)?;
            data = &data[4..];
            u64::from(u32::from_le_bytes([e[0], e[1], e[2], e[3]]))
        } else {
            0
        };
        let mut wide = flags & 0x01 != 0;
        let mut bytes = 0u64;
        while chars > 0 {
            let per = if wide { 2 } else { 1 };
            let take = chars.min((data.len() / per) as u64);
            bytes += take * if wide { 3 } else { 2 };
            data = &data[take as usize * per..];
            chars -= take;
            if chars > 0 {
                let next = segments.next()?;
                wide = next.first()? & 0x01 != 0;
                data = &next[1..];
            }
        }
        out.push(bytes);
        // Rich-text runs and extended data follow, across CONTINUE records without a flags byte.
        let mut skip = runs.saturating_add(ext);
        while skip > 0 {
            if data.is_empty() {
                data = segments.next()?;
                continue;
            }
            let k = skip.min(data.len() as u64);
            data = &data[k as usize..];
            skip -= k;
        }
    }
}

fn u16_at(d: &[u8], at: usize) -> u32 {
    d.get(at..at + 2)
        .map_or(0, |b| u32::from(u16::from_le_bytes([b[0], b[1]])))
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    d.get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The cells a DIMENSIONS record makes calamine reserve (its arithmetic, wrapping as a release build does).
fn xls_dimension_cells(d: &[u8]) -> u64 {
    let (rf, rl, mut cf, cl) = match d.len() {
        10 => (u16_at(d, 0), u16_at(d, 2), u16_at(d, 4), u16_at(d, 6)),
        14 | 16 => (u32_at(d, 0), u32_at(d, 4), u16_at(d, 8), u16_at(d, 10)),
        _ => return 0,
    };
    if 0xFF < cf || cl < cf {
        cf = 0;
    }
    let (start, end) = if 1 <= rl && 1 <= cl {
        ((rf, cf), (rl - 1, cl - 1))
    } else {
        ((rf, cf), (rf, cf))
    };
    let rows = u64::from(end.0.wrapping_sub(start.0).wrapping_add(1));
    let cols = u64::from(end.1.wrapping_sub(start.1).wrapping_add(1));
    rows.saturating_mul(cols)
}

/// The smallest box holding every cell position seen.
#[derive(Default)]
struct CellBox {
    rows: Option<(u32, u32)>,
    cols: Option<(u32, u32)>,
}

impl CellBox {
    fn add(&mut self, row: u32, first_col: u32, last_col: u32) {
        let widen = |b: Option<(u32, u32)>, lo: u32, hi: u32| {
            Some(b.map_or((lo, hi), |(a, z)| (a.min(lo), z.max(hi))))
        };
        self.rows = widen(self.rows, row, row);
        self.cols = widen(self.cols, first_col, last_col.max(first_col));
    }
    fn cells(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => {
                u64::from(r1 - r0 + 1).saturating_mul(u64::from(c1 - c0 + 1))
            }
            _ => 0,
        }
    }
}

/// The cells calamine allocates for one worksheet substream at `pos`: the largest of what its DIMENSIONS
/// records reserve and the box its cells span (calamine builds the sheet as a dense range over that box).
fn xls_sheet_cells(stream: &[u8], pos: usize, shared: Option<&[u64]>) -> (u64, u64) {
    let mut text = 0u64;
    let mut reserved = 0u64;
    let mut cells = CellBox::default();
    let mut seen_bof = false;
    let mut depth = 0usize;
    // Where calamine puts a STRING record's cell: the last FORMULA's position, (0, 0) before any.
    let mut formula_at = (0u32, 0u32);
    for (typ, d) in biff_records(stream, pos) {
        if depth > 0 {
            match typ {
                0x0809 => depth += 1,
                0x000A => depth -= 1,
                _ => {}
            }
            continue;
        }
        match typ {
            0x0809 if seen_bof => depth += 1,
            0x0809 => seen_bof = true,
            0x000A => break,
            0x0200 => reserved = reserved.saturating_add(xls_dimension_cells(d)),
            0x00BD if d.len() >= 6 => cells.add(u16_at(d, 0), u16_at(d, 2), u16_at(d, d.len() - 2)),
            0x0006 if d.len() >= 4 => {
                formula_at = (u16_at(d, 0), u16_at(d, 2));
                cells.add(formula_at.0, formula_at.1, formula_at.1);
            }
            0x0207 => cells.add(formula_at.0, formula_at.1, formula_at.1),
            // A LABELSST cell holds a copy of its shared string.
            0x00FD if d.len() >= 10 => {
                cells.add(u16_at(d, 0), u16_at(d, 2), u16_at(d, 2));
                let index = u32_at(d, 6) as usize;
                let bytes = shared.map_or(MAX_SHARED_STRING_BYTES, |s| {
                    s.get(index).copied().unwrap_or(0)
                });
                text = text.saturating_add(bytes);
            }
            t if XLS_CELL_RECORDS.contains(&t) && d.len() >= 4 => {
                cells.add(u16_at(d, 0), u16_at(d, 2), u16_at(d, 2))
            }
            _ => {}
        }
    }
    (reserved.max(cells.cells()), text)
}

/// Refuse an `.xls` workbook whose worksheets would make calamine allocate more than `limit` cells: calamine
/// reads every worksheet when it opens the file, reserving what each DIMENSIONS record claims and building each
/// sheet as a dense range over the box its cells span (two cells 65,535 rows and columns apart are 4 billion).
///
/// The workbook stream is read with the `cfb` crate (a compound file it cannot read is refused) and returned
/// re-wrapped in a new, well-formed compound file holding that stream alone: calamine's own compound-file reader
/// then never sees the original container (fuzzing found it slicing past the end of malformed ones).
pub(crate) fn check_xls_cells(bytes: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let corrupt = |e: &dyn std::fmt::Display| format!("corrupt XLS workbook: {e}");
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| corrupt(&e))?;
    let mut stream = file
        .open_stream("/Workbook")
        .or_else(|_| file.open_stream("/Book"))
        .map_err(|e| corrupt(&e))?;
    let mut workbook = Vec::new();
    (&mut stream)
        .take(bytes.len() as u64)
        .read_to_end(&mut workbook)
        .map_err(|e| corrupt(&e))?;
    let shared = shared_string_bytes(&workbook);
    let (mut total, mut text) = (0u64, 0u64);
    for (typ, d) in biff_records(&workbook, 0) {
        match typ {
            0x000A => break,
            0x0085 => {
                let pos = u32_at(d, 0) as usize;
                // Calamine slices the stream at a sheet's offset unchecked (found by fuzzing).
                if pos >= workbook.len() {
                    return Err(corrupt(&format!(
                        "a sheet starts at byte {pos}, past the end of the workbook stream ({} bytes)",
                        workbook.len()
                    )));
                }
                let (cells, sheet_text) = xls_sheet_cells(&workbook, pos, shared.as_deref());
                total = total.saturating_add(cells);
                text = text.saturating_add(sheet_text);
                if total > limit {
                    return Err(too_many_cells("XLS", limit));
                }
                if text > super::MAX_TEXT_BYTES {
                    return Err(too_much_text("XLS"));
                }
            }
            _ => {}
        }
    }
    rewrap(&workbook).map_err(|e| corrupt(&e))
}

/// A new compound file (version 3, as Excel writes) holding `workbook` as its `Workbook` stream.
fn rewrap(workbook: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut file =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))?;
    {
        let mut stream = file.create_stream("/Workbook")?;
        stream.write_all(workbook)?;
    }
    file.flush()?;
    Ok(file.into_inner().into_inner())
}
