//! Issue #12: files as an LA analyst's Excel saves them. One High Needs budget saved five ways (UTF-8, UTF-8 with a
//! byte-order mark and CRLF, Windows-1252 with £ amounts and brackets, `.xls`, `.ods`: the committed fixtures in
//! `tests/data/excel/`, made by `make-fixtures.py`) reads to the same budget lines; workbooks that would make the
//! reader allocate without bound are refused first.

#[path = "common/bombs.rs"]
mod bombs;

use std::path::PathBuf;

use highneeds_domain::{BudgetKind, BudgetLine, Pence};
use highneeds_ingest::{
    parse_bytes, read_budget, read_budget_with, FileKind, Parsed, ReadOptions, TextEncoding,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/excel")
        .join(name)
}

fn texts<T>(p: &Parsed<T>) -> Vec<String> {
    p.issues.iter().map(ToString::to_string).collect()
}

fn lines(name: &str) -> Vec<BudgetLine> {
    let p = read_budget(&fixture(name));
    assert!(!p.has_errors(), "{name}: {:?}", texts(&p));
    p.value.expect("no errors, so a value")
}

#[test]
fn the_reference_budget_reads_as_written() {
    // Hand-checked against make-fixtures.py's LINES: amounts in pence, the en dash kept.
    let l = lines("hnb-budget.utf8.csv");
    assert_eq!(l.len(), 8);
    assert_eq!(l[0].kind, BudgetKind::OpeningBalance);
    assert_eq!(l[0].amount, Pence::new(-952_851_600));
    assert_eq!(l[2].line, "Academy recoupment – special");
    assert_eq!(l[2].amount, Pence::new(-123_456_789));
    assert_eq!(l[4].amount, Pence::new(812_345_678));
    assert_eq!(l[7].line, "Post-16 further education – FE colleges");
}

#[test]
fn every_way_excel_saves_the_budget_reads_to_the_same_lines() {
    let reference = lines("hnb-budget.utf8.csv");
    for name in [
        "hnb-budget.utf8-bom.csv",
        "hnb-budget.windows-1252.csv",
        "hnb-budget.xls",
        "hnb-budget.ods",
        "hnb-budget.libreoffice.xls",
        "hnb-budget.libreoffice.ods",
        "hnb-budget.libreoffice.xlsx",
    ] {
        assert_eq!(lines(name), reference, "{name}");
    }
}

#[test]
fn a_guessed_encoding_is_said_and_a_stated_one_is_quiet() {
    let guessed = read_budget(&fixture("hnb-budget.windows-1252.csv"));
    let warnings: Vec<String> = guessed.warnings().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    // The first non-ASCII byte is the £ of line 2's "(£9,528,516.00)".
    assert!(
        warnings[0].contains("read as Windows-1252")
            && warnings[0].contains("line 2, reads as '£'"),
        "{warnings:?}"
    );
    let stated = read_budget_with(
        &fixture("hnb-budget.windows-1252.csv"),
        &ReadOptions {
            encoding: Some(TextEncoding::Windows1252),
        },
    );
    assert_eq!(stated.warnings().count(), 0, "{:?}", texts(&stated));
    assert_eq!(stated.value, guessed.value);
    // The source keeps the file's own hash (a re-import is recognised whatever the encoding).
    assert_eq!(stated.sources[0].sha256, guessed.sources[0].sha256);
}

#[test]
fn a_wrongly_stated_encoding_is_refused_with_the_line() {
    let p = read_budget_with(
        &fixture("hnb-budget.windows-1252.csv"),
        &ReadOptions {
            encoding: Some(TextEncoding::Utf8),
        },
    );
    assert!(p.value.is_none());
    let t = texts(&p);
    assert_eq!(t.len(), 1, "{t:?}");
    assert!(
        t[0].contains("hnb-budget.windows-1252.csv:2: (read as UTF-8) is not UTF-8 text"),
        "{t:?}"
    );
    assert!(t[0].contains("--encoding windows-1252"), "{t:?}");
}

#[test]
fn ambiguous_thousands_separators_are_refused_naming_the_cell() {
    let p = parse_bytes(
        FileKind::HnbBudget,
        "hnb-budget.csv",
        b"financial_year,kind,line,amount\n2024-25,allocation,,\"1,23\"\n",
    );
    let t = texts(&p);
    assert_eq!(t.len(), 1, "{t:?}");
    assert!(
        t[0].starts_with("hnb-budget.csv:2: column amount: \"1,23\" is not an amount in pounds"),
        "{t:?}"
    );
    assert!(t[0].contains("commas only between thousands"), "{t:?}");
}

#[test]
fn an_ods_table_repeating_filled_rows_past_the_bound_is_refused() {
    // 300 rows × 16,384 filled columns: 4.9 million cells from a few KB of XML.
    let header = bombs::ods_row(&["need", "setting", "cost"]);
    let wide = r#"<table:table-row table:number-rows-repeated="300"><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row>"#;
    let wb = bombs::ods(&format!("{header}{wide}"));
    assert!(wb.len() < 4096, "{}", wb.len());
    let p = parse_bytes(FileKind::Costs, "costs.ods", &wb);
    assert!(p.value.is_none());
    assert!(
        texts(&p)[0].contains("ODS workbook would hold more than 4000000 cells"),
        "{:?}",
        texts(&p)
    );
}

#[test]
fn an_ods_with_many_wide_rows_is_refused_before_calamine_reads_them() {
    // Each row element repeats its one filled cell 16,384 times: calamine expands every row as it reads it.
    let row = r#"<table:table-row><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row>"#;
    let wb = bombs::ods(&format!(
        "{}{}",
        bombs::ods_row(&["need", "setting", "cost"]),
        row.repeat(300)
    ));
    let p = parse_bytes(FileKind::Costs, "costs.ods", &wb);
    assert!(p.value.is_none());
    assert!(
        texts(&p)[0].contains("more than 4000000 cells"),
        "{:?}",
        texts(&p)
    );
}

#[test]
fn an_ods_ending_in_libreoffice_s_empty_repeated_rows_is_read() {
    let rows = format!(
        "{}{}{}",
        bombs::ods_row(&["need", "setting", "cost"]),
        bombs::ods_row(&["ASD", "MSSA", "1000"]),
        r#"<table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#
    );
    let p = parse_bytes(FileKind::Costs, "costs.ods", &bombs::ods(&rows));
    assert!(!p.has_errors(), "{:?}", texts(&p));
    let costs = match p.value {
        Some(highneeds_ingest::FileData::Costs(c)) => c,
        other => panic!("not costs: {other:?}"),
    };
    assert_eq!(costs.len(), 1);
    assert_eq!(costs[0].annual, Pence::new(100_000));
}

#[test]
fn an_xls_whose_dimensions_claim_billions_of_cells_is_refused() {
    // Without the bound calamine reserves rows × columns cells for it and the process aborts.
    let good = std::fs::read(fixture("hnb-budget.xls")).expect("fixture");
    let bomb = bombs::xls_claiming_rows(good, 0xFFFF_FF00);
    let p = parse_bytes(FileKind::HnbBudget, "hnb-budget.xls", &bomb);
    assert!(p.value.is_none());
    assert!(
        texts(&p)[0].contains("XLS workbook would hold more than 4000000 cells"),
        "{:?}",
        texts(&p)
    );
}

#[test]
fn a_binary_xlsb_or_other_file_named_as_a_workbook_is_refused_with_the_rule() {
    // A CSV renamed .xls is not a workbook: the name says workbook, the bytes say otherwise, and neither is trusted.
    let p = parse_bytes(
        FileKind::Costs,
        "costs.xls",
        b"need,setting,cost\nASD,MSSA,1000\n",
    );
    assert!(
        texts(&p)[0].contains("not a workbook this reads (.xlsx, .xls or .ods"),
        "{:?}",
        texts(&p)
    );
    let p = parse_bytes(
        FileKind::Costs,
        "costs.xls",
        &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0],
    );
    assert!(
        texts(&p)[0].contains("corrupt XLS workbook"),
        "{:?}",
        texts(&p)
    );
}

#[test]
fn an_xls_sheet_said_to_start_past_the_stream_is_refused_not_a_panic() {
    // Calamine slices the stream at the sheet's offset without a check (found by fuzzing, issue #14).
    let good = std::fs::read(fixture("hnb-budget.xls")).expect("fixture");
    let bad = bombs::xls_with_sheet_at(good, 167_773_560);
    let p = parse_bytes(FileKind::HnbBudget, "hnb-budget.xls", &bad);
    assert!(p.value.is_none());
    let t = texts(&p);
    assert!(
        t[0].contains("corrupt XLS workbook: a sheet starts at byte 167773560, past the end"),
        "{t:?}"
    );
}

#[test]
fn workbooks_the_fuzzer_crashed_calamine_with_are_refused_without_a_panic() {
    // `fuzz/artifacts/xlsx` crashes (the kind byte taken off): a sheet offset past the stream, and a compound file
    // that calamine's own reader sliced past its end (it now reads a re-wrapped container). A panic would be
    // contained as "corrupt workbook: it could not be read"; each must be refused with its own rule instead.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("fixture");
        let p = parse_bytes(FileKind::HnbBudget, "hnb-budget.xls", &bytes);
        let t = texts(&p);
        assert!(
            !t.iter().any(|i| i.contains("it could not be read")),
            "{}: {t:?}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 2);
}

fn refused_with<T>(p: &Parsed<T>, rule: &str) {
    assert!(p.value.is_none());
    assert!(texts(p).iter().any(|t| t.contains(rule)), "{:?}", texts(p));
}

#[test]
fn an_xls_string_record_before_any_formula_counts_at_a1() {
    // Calamine puts a STRING record's cell at the last FORMULA's position, (0, 0) before any: with one label at
    // row 65,535 that is a dense grid of 65,536 × 256 cells.
    let label = |row: u16, col: u16| {
        let mut d = row.to_le_bytes().to_vec();
        d.extend_from_slice(&col.to_le_bytes());
        d.extend_from_slice(&[0, 0, 1, 0, 0, b'x']);
        (0x0204, d)
    };
    let wb = bombs::xls_from_records(&[], &[label(65_535, 255), (0x0207, vec![1, 0, 0, b'y'])]);
    refused_with(
        &parse_bytes(FileKind::Costs, "costs.xls", &wb),
        "XLS workbook would hold more than 4000000 cells",
    );
}

#[test]
fn an_xls_shared_string_copied_into_many_cells_is_counted_each_time() {
    // One shared string of 60,000 characters (spread over CONTINUE records, as Excel writes long ones) used by
    // 3,000 cells: calamine copies it into each, 180 MB of characters, 360 MB at two UTF-8 bytes each: refused.
    let chars = 60_000usize;
    let mut sst = vec![1, 0, 0, 0, 1, 0, 0, 0];
    sst.extend_from_slice(&(chars as u16).to_le_bytes());
    sst.push(0); // compressed (one byte a character)
    let body = vec![b'a'; chars];
    let first = 8_224 - sst.len();
    sst.extend_from_slice(&body[..first]);
    let mut globals = vec![(0x00FC, sst)];
    for piece in body[first..].chunks(8_000) {
        let mut cont = vec![0u8]; // the CONTINUE's flags byte: compressed
        cont.extend_from_slice(piece);
        globals.push((0x003C, cont));
    }
    let cells: Vec<(u16, Vec<u8>)> = (0..3_000u16)
        .map(|row| {
            let mut d = row.to_le_bytes().to_vec();
            d.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // column 0, format 0, shared string 0
            (0x00FD, d)
        })
        .collect();
    let wb = bombs::xls_from_records(&globals, &cells);
    assert!(wb.len() < 200_000, "{}", wb.len());
    refused_with(
        &parse_bytes(FileKind::Costs, "costs.xls", &wb),
        "XLS workbook would hold more than 268435456 bytes of text",
    );
    // The same string in 1,500 cells (at most 180 MB) is within the bound — read from the SST, not assumed at the
    // 196,605-byte worst case (295 MB): refused only as what it is (no costs header).
    let few: Vec<(u16, Vec<u8>)> = cells.into_iter().take(1_500).collect();
    let wb = bombs::xls_from_records(&globals, &few);
    let p = parse_bytes(FileKind::Costs, "costs.xls", &wb);
    assert!(
        !texts(&p).iter().any(|t| t.contains("bytes of text")),
        "{:?}",
        texts(&p)
    );
}

#[test]
fn an_ods_cell_with_a_value_but_no_type_is_counted() {
    let rows = format!(
        "{}{}",
        bombs::ods_row(&["need", "setting", "cost"]),
        r#"<table:table-row table:number-rows-repeated="300"><table:table-cell table:number-columns-repeated="16384" office:value="1"/></table:table-row>"#
    );
    refused_with(
        &parse_bytes(FileKind::Costs, "costs.ods", &bombs::ods(&rows)),
        "more than 4000000 cells",
    );
}

#[test]
fn ods_spaces_written_out_by_calamine_are_counted_as_text() {
    // `<text:s text:c="N"/>` is N spaces in the cell's string: 300 million bytes from a few hundred.
    let rows = format!(
        "{}{}",
        bombs::ods_row(&["need", "setting", "cost"]),
        r#"<table:table-row><table:table-cell office:value-type="string"><text:p>a<text:s text:c="300000000"/></text:p></table:table-cell></table:table-row>"#
    );
    refused_with(
        &parse_bytes(FileKind::Costs, "costs.ods", &bombs::ods(&rows)),
        "ODS workbook would hold more than 268435456 bytes of text",
    );
}

#[test]
fn a_long_utf16_file_is_recognised_by_its_header() {
    // The kind is read from the header within the first 128 KiB: for UTF-16 that cut must keep whole units.
    let mut text = String::from("financial_year,kind,line,amount\r\n");
    let mut k = 0;
    while text.len() < 150_000 {
        k += 1;
        text.push_str(&format!(
            "2024-25,expenditure,Top-up – special school {k},1\r\n"
        ));
    }
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("budget-export.csv");
    std::fs::write(&path, &bytes).unwrap();
    let p = highneeds_ingest::validate_file(&path);
    assert_eq!(p.value, Some(FileKind::HnbBudget), "{:?}", texts(&p));
}

#[test]
fn line_numbers_are_right_in_a_crlf_file_as_excel_saves_it() {
    // The csv crate counts a CRLF line end late: its line numbers were one short for every Windows-saved file.
    for (ending, name) in [("\r\n", "crlf"), ("\n", "lf")] {
        let text = [
            "financial_year,kind,line,amount",
            "2024-25,allocation,,5",
            "",
            "2024-25,allocation,,x",
            "2024-25,allocation,,5",
            "",
        ]
        .join(ending);
        let p = parse_bytes(FileKind::HnbBudget, "hnb-budget.csv", text.as_bytes());
        assert_eq!(
            texts(&p),
            [
                "hnb-budget.csv:4: column amount: \"x\" is not an amount in pounds with at most 2 decimal places (e.g. 1234.56, £1,234.56, or (1,234.56) for a negative; commas only between thousands)",
                "hnb-budget.csv:5: duplicate budget line: financial_year 2024-25, kind allocation, line \"\" (first at line 2)",
            ],
            "{name}"
        );
    }
}
