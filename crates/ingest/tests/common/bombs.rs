//! Hostile workbooks built in memory (no large binary is committed): zip bombs and sheets whose cells would
//! explode into a dense grid. Shared by ingest's and the CLI's fault tests (`#[path]`) and by
//! `fuzz/make-seeds.rs`-style seeding (see fuzz/README.md).

#![allow(dead_code)]

use std::io::Write;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";

/// Column letters of a 0-based column index (0 → A, 26 → AA).
pub fn column_name(mut col: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// One row of inline-string cells from column A.
pub fn row_xml(row: u32, cells: &[&str]) -> String {
    let mut x = format!(r#"<row r="{row}">"#);
    for (i, c) in cells.iter().enumerate() {
        x.push_str(&format!(
            r#"<c r="{}{row}" t="inlineStr"><is><t>{c}</t></is></c>"#,
            column_name(i as u32)
        ));
    }
    x.push_str("</row>");
    x
}

/// A workbook whose first sheet is `head`, then `body` written `repeat` times (streamed into the deflater, never
/// held whole), then the end of the sheet.
pub fn workbook_streamed(head: &str, body: &[u8], repeat: u64) -> Vec<u8> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let part = |zip: &mut ZipWriter<_>, name: &str, text: &str| {
        zip.start_file(name, opts).expect("start zip entry");
        zip.write_all(text.as_bytes()).expect("write zip entry");
    };
    part(&mut zip, "[Content_Types].xml", CONTENT_TYPES);
    part(&mut zip, "_rels/.rels", RELS);
    part(&mut zip, "xl/workbook.xml", WORKBOOK);
    part(&mut zip, "xl/_rels/workbook.xml.rels", WORKBOOK_RELS);
    zip.start_file("xl/worksheets/sheet1.xml", opts)
        .expect("start sheet");
    zip.write_all(SHEET_HEAD.as_bytes()).expect("write sheet");
    zip.write_all(head.as_bytes()).expect("write sheet");
    for _ in 0..repeat {
        zip.write_all(body).expect("write sheet");
    }
    zip.write_all(SHEET_TAIL.as_bytes()).expect("write sheet");
    zip.finish().expect("finish zip").into_inner()
}

/// A costs workbook (header and one good row) padded with `padding` bytes of XML whitespace: small on disk,
/// `padding` bytes when inflated.
pub fn inflating_costs(padding: u64) -> Vec<u8> {
    let head = format!(
        "{}{}",
        row_xml(1, &["need", "setting", "cost"]),
        row_xml(2, &["ASD", "MSSA", "1000"])
    );
    let chunk = vec![b' '; 1 << 20];
    let whole = padding / chunk.len() as u64;
    let mut wb = workbook_streamed(&head, &chunk, whole);
    if whole == 0 {
        wb = workbook_streamed(&head, &vec![b' '; padding as usize], 1);
    }
    wb
}

/// A transitions-shaped workbook whose rows each have one cell far to the right (column `col`): a few MB of XML
/// that a reader building every row as a dense array of cells would turn into `rows × col` cells.
pub fn far_cells(rows: u32, col: u32) -> Vec<u8> {
    let mut body = String::new();
    let letters = column_name(col);
    for r in 2..rows + 2 {
        body.push_str(&format!(
            r#"<row r="{r}"><c r="{letters}{r}" t="inlineStr"><is><t>x</t></is></c></row>"#
        ));
    }
    let head = row_xml(
        1,
        &[
            "calendar-year",
            "academic-year-1",
            "need-1",
            "setting-1",
            "academic-year-2",
            "need-2",
            "setting-2",
        ],
    );
    workbook_streamed(&head, body.as_bytes(), 1)
}

/// `wb` with every central-directory entry claiming `size` uncompressed bytes (a lying or honest bomb header),
/// left otherwise intact.
pub fn declare_uncompressed_size(mut wb: Vec<u8>, size: u32) -> Vec<u8> {
    let mut i = 0;
    while i + 28 <= wb.len() {
        if wb[i..i + 4] == *b"PK\x01\x02" {
            wb[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
            i += 46;
        } else {
            i += 1;
        }
    }
    wb
}

/// An OpenDocument spreadsheet whose one table is `rows` (XML inside `<table:table>`): what LibreOffice writes,
/// built in memory.
pub fn ods(rows: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Sheet1">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("mimetype", stored).expect("start zip entry");
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .expect("write zip entry");
    zip.start_file("content.xml", deflated)
        .expect("start zip entry");
    zip.write_all(content.as_bytes()).expect("write zip entry");
    zip.start_file("META-INF/manifest.xml", deflated)
        .expect("start zip entry");
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#)
        .expect("write zip entry");
    zip.finish().expect("finish zip").into_inner()
}

/// One ODS row of text cells.
pub fn ods_row(cells: &[&str]) -> String {
    let mut row = String::from("<table:table-row>");
    for c in cells {
        row.push_str(&format!(
            r#"<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>"#
        ));
    }
    row.push_str("</table:table-row>");
    row
}

/// An `.xls` workbook (`bytes`) with its worksheet's DIMENSIONS record claiming `last_row` rows: the record is
/// found by its type and length (0x0200, 14 bytes) and patched in place (a compound file stores its streams
/// uncompressed).
pub fn xls_claiming_rows(mut bytes: Vec<u8>, last_row: u32) -> Vec<u8> {
    let at = bytes
        .windows(4)
        .position(|w| w == [0x00, 0x02, 0x0E, 0x00])
        .expect("the workbook has a BIFF8 DIMENSIONS record");
    bytes[at + 8..at + 12].copy_from_slice(&last_row.to_le_bytes());
    bytes
}

/// An `.xls` workbook (`bytes`) whose first BOUNDSHEET record says its sheet starts at `pos` in the workbook
/// stream (patched in place, as [`xls_claiming_rows`]).
pub fn xls_with_sheet_at(mut bytes: Vec<u8>, pos: u32) -> Vec<u8> {
    let at = bytes
        .windows(2)
        .enumerate()
        .position(|(i, w)| w == [0x85, 0x00] && bytes.get(i + 3) == Some(&0x00))
        .expect("the workbook has a BOUNDSHEET record");
    bytes[at + 4..at + 8].copy_from_slice(&pos.to_le_bytes());
    bytes
}

/// One BIFF record: type, length, data.
fn biff(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut r = typ.to_le_bytes().to_vec();
    r.extend_from_slice(&(data.len() as u16).to_le_bytes());
    r.extend_from_slice(data);
    r
}

/// An `.xls` workbook built from BIFF8 records: the globals (`globals` after a BOF, then one BOUNDSHEET and EOF)
/// and one worksheet (`sheet` between its BOF and EOF), in a compound file. Enough for the bounds, which read it
/// before calamine does.
pub fn xls_from_records(globals: &[(u16, Vec<u8>)], sheet: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let bof = |dt: u16| {
        let mut d = vec![0u8; 16];
        d[0..2].copy_from_slice(&0x0600u16.to_le_bytes());
        d[2..4].copy_from_slice(&dt.to_le_bytes());
        biff(0x0809, &d)
    };
    let mut head = bof(0x0005);
    for (t, d) in globals {
        head.extend(biff(*t, d));
    }
    let boundsheet_len = 4 + 8 + 6; // record header, position + flags + name length and flags, "Sheet1"
    let pos = (head.len() + boundsheet_len + 4) as u32; // + the globals' EOF
    let mut bs = pos.to_le_bytes().to_vec();
    bs.extend_from_slice(&[0, 0, 6, 0]);
    bs.extend_from_slice(b"Sheet1");
    head.extend(biff(0x0085, &bs));
    head.extend(biff(0x000A, &[]));
    head.extend(bof(0x0010));
    for (t, d) in sheet {
        head.extend(biff(*t, d));
    }
    head.extend(biff(0x000A, &[]));
    let mut file =
        cfb::CompoundFile::create_with_version(cfb::Version::V3, std::io::Cursor::new(Vec::new()))
            .expect("a compound file");
    {
        let mut stream = file.create_stream("/Workbook").expect("a stream");
        stream.write_all(&head).expect("the workbook stream");
    }
    file.flush().expect("flush");
    file.into_inner().into_inner()
}
