//! The table model's renderers, on a small report whose every figure is worked by hand.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use highneeds_domain::Pence;

use super::xlsx::{legal_sheet_name, sheet_names, workbook};
use super::{csv, json, text, Cell, Kind, Report, Table};

fn sample() -> Report {
    let mut t = Table::new("Cost", "Cost by financial year")
        .column("FY", Kind::Text)
        .column("cost", Kind::Money)
        .column("share", Kind::Percent)
        .column("plans", Kind::Count)
        .column("growth", Kind::Change);
    t.push(vec![
        "2024-25".into(),
        Pence::new(123_456_789).into(),
        0.125.into(),
        1234.4.into(),
        Cell::number(Some(-0.031)),
    ]);
    t.push(vec![
        "=SUM(A1)".into(),
        Pence::new(-50).into(),
        Cell::Missing,
        f64::NAN.into(),
    ]);
    t.note("a note");
    let mut r = Report::new("A report");
    r.summary.push("one line".into());
    r.input("seed", 7);
    r.tables.push(t);
    r.notes.push("the model's note".into());
    r
}

#[test]
fn text_aligns_numbers_right_and_words_left() {
    let expected = "\
A report
one line

Cost by financial year
  FY              cost  share  plans  growth
  2024-25   £1,234,568  12.5%  1,234   -3.1%
  =SUM(A1)         -£1      -      -       -
  a note

Notes
  - the model's note
";
    assert_eq!(text::render(&sample()), expected);
}

#[test]
fn text_cells_by_kind() {
    let p = Pence::new(1_234_567_891);
    assert_eq!(text::cell(&p.into(), Kind::MoneyMillions), "£12.35m");
    assert_eq!(text::cell(&p.into(), Kind::MoneyPence), "£12,345,678.91");
    assert_eq!(text::cell(&Cell::Number(2024.0), Kind::Year), "2024");
    assert_eq!(text::cell(&Cell::Number(0.04), Kind::Change), "+4.0%");
    assert_eq!(text::cell(&Cell::Number(1.23456), Kind::Decimal(2)), "1.23");
    assert_eq!(
        text::cell(&Cell::Typed(0.5, Kind::Percent), Kind::Count),
        "50.0%"
    );
    // Half a pound rounds away from zero, either side.
    assert_eq!(text::cell(&Pence::new(150).into(), Kind::Money), "£2");
    assert_eq!(text::cell(&Pence::new(-150).into(), Kind::Money), "-£2");
}

#[test]
fn sheet_names_are_legal_and_unique() {
    assert_eq!(legal_sheet_name("a/b:c*d?[e]\\f"), "abcdef");
    assert_eq!(legal_sheet_name("'quoted'"), "quoted");
    assert_eq!(legal_sheet_name(" "), "Table");
    assert_eq!(
        legal_sheet_name("Specialist places, independent placements"),
        "Specialist places, independent"
    );
    let tables: Vec<Table> = ["Plans", "plans", "contents", "Plans"]
        .iter()
        .map(|n| Table::new(*n, ""))
        .collect();
    assert_eq!(
        sheet_names(&tables),
        ["Plans", "plans (2)", "contents (2)", "Plans (3)"]
    );
    let long = vec![
        Table::new("x".repeat(40), ""),
        Table::new("x".repeat(40), ""),
    ];
    let names = sheet_names(&long);
    assert_eq!(names[0], "x".repeat(31));
    assert_eq!(names[1], format!("{} (2)", "x".repeat(27)));
}

#[test]
fn workbook_reads_back_with_numbers_and_formats() {
    let bytes = workbook(&sample()).unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    assert_eq!(wb.sheet_names(), ["Contents", "Cost"]);
    let cost = wb.worksheet_range("Cost").unwrap();
    let rows: Vec<Vec<Data>> = cost.rows().map(<[Data]>::to_vec).collect();
    assert_eq!(rows[0][1], Data::String("cost".into()));
    assert_eq!(rows[1][0], Data::String("2024-25".into()));
    assert_eq!(rows[1][1], Data::Float(1_234_567.89));
    assert_eq!(rows[1][2], Data::Float(0.125));
    assert_eq!(rows[1][3], Data::Float(1234.4));
    assert_eq!(rows[1][4], Data::Float(-0.031));
    // Formula-like text gets its `'` (issue #14); a missing or non-finite figure is an empty cell, never 0.
    assert_eq!(rows[2][0], Data::String("'=SUM(A1)".into()));
    assert_eq!(rows[2][1], Data::Float(-0.5));
    assert_eq!(rows[2][2], Data::Empty);
    assert_eq!(rows[2][3], Data::Empty);
    let contents = wb.worksheet_range("Contents").unwrap();
    let text: Vec<String> = contents
        .rows()
        .flat_map(|r| r.iter().map(ToString::to_string))
        .collect();
    for expected in [
        "A report",
        "one line",
        "seed",
        "7",
        "Cost",
        "Cost by financial year",
        "a note",
    ] {
        assert!(text.iter().any(|t| t == expected), "{expected} in {text:?}");
    }
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut styles = String::new();
    zip.by_name("xl/styles.xml")
        .unwrap()
        .read_to_string(&mut styles)
        .unwrap();
    for code in ["&quot;£&quot;#,##0", "0.0%", "+0.0%;-0.0%;0.0%"] {
        assert!(styles.contains(code), "{code} in {styles}");
    }
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet2.xml")
        .unwrap()
        .read_to_string(&mut sheet)
        .unwrap();
    assert!(
        sheet.contains(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
        ),
        "{sheet}"
    );
}

#[test]
fn csv_and_json_of_a_table() {
    let r = sample();
    assert_eq!(
        csv::table(&r.tables[0]),
        "FY,cost,share,plans,growth\n2024-25,1234567.89,0.125,1234.4,-0.031\n'=SUM(A1),-0.50,,,\n"
    );
    let v = json::report(&r);
    assert_eq!(v["tables"][0]["rows"][0][1], 123_456_789);
    assert_eq!(v["tables"][0]["columns"][1]["kind"], "money_pence");
    assert!(v["tables"][0]["rows"][1][2].is_null());
}
