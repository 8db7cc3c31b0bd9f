//! XLSX input: the same columns on the first sheet; numbers arrive as floats.

use highneeds_domain::Pence;
use highneeds_ingest::{parse_costs, parse_plans, parse_transitions, read_witan_dir, Issue};
use rust_xlsxwriter::Workbook;

enum Cell<'a> {
    S(&'a str),
    N(f64),
}
use Cell::{N, S};

fn workbook(sheet: &str, rows: &[&[Cell<'_>]]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell {
                S(s) => ws.write_string(r as u32, c as u16, *s).unwrap(),
                N(n) => ws.write_number(r as u32, c as u16, *n).unwrap(),
            };
        }
    }
    wb.save_to_buffer().unwrap()
}

fn texts<T>(p: &highneeds_ingest::Parsed<T>) -> Vec<String> {
    p.issues.iter().map(Issue::to_string).collect()
}

#[test]
fn transitions_from_xlsx_with_float_numbers() {
    let head: Vec<Cell> = [
        "calendar-year",
        "setting-1",
        "need-1",
        "academic-year-1",
        "setting-2",
        "need-2",
        "academic-year-2",
    ]
    .into_iter()
    .map(S)
    .collect();
    let bytes = workbook(
        "Sheet1",
        &[
            &head,
            &[N(2016.0), S("A"), S("T"), N(7.0), S("A"), S("T"), N(8.0)],
            &[
                N(2016.0),
                S("NONSEND"),
                S("NONSEND"),
                N(-1.0),
                S("B"),
                S("U"),
                N(0.0),
            ],
            &[N(2016.0), S("A"), S("T"), N(7.0), S("A"), S("T"), S("abc")],
            &[N(2016.0), S("A"), S("T"), N(7.5), S("A"), S("T"), N(8.0)],
        ],
    );
    let p = parse_transitions("transitions.xlsx", &bytes, None);
    let errors: Vec<String> = p.errors().map(Issue::to_string).collect();
    assert_eq!(
        errors,
        [
            r#"transitions.xlsx[Sheet1]:4: column academic-year-2: "abc" is not an NCY (-5..20)"#,
            r#"transitions.xlsx[Sheet1]:5: column academic-year-1: "7.5" is not an NCY (-5..20)"#,
        ]
    );
    assert_eq!(p.sources[0].rows, 4);
}

#[test]
fn costs_and_plans_from_xlsx() {
    let bytes = workbook(
        "Costs",
        &[
            &[S("need"), S("setting"), S("cost")],
            &[S("T"), S("A"), N(1000.5)],
            &[S("T"), S("B"), N(1000.0)],
        ],
    );
    let p = parse_costs("costs.xlsx", &bytes, None);
    let v = p.value.unwrap();
    assert_eq!(v[0].annual, Pence::new(100_050));
    assert_eq!(v[1].annual, Pence::new(100_000));

    let bytes = workbook(
        "Sheet1",
        &[
            &[
                S("child_id"),
                S("census_year"),
                S("ncy"),
                S("need"),
                S("setting"),
                S("urn"),
            ],
            &[
                S("C1"),
                N(2023.0),
                N(7.0),
                S("ASD"),
                S("mainstream"),
                N(123456.0),
            ],
            &[S("C1"), N(2024.0), N(8.0), S("ASD"), S("mainstream")],
        ],
    );
    let p = parse_plans("plans.xlsx", &bytes);
    assert_eq!(texts(&p), Vec::<String>::new());
    let v = p.value.unwrap();
    assert_eq!(v[0].records().len(), 2);
    assert_eq!(v[0].records()[0].urn.map(|u| u.value()), Some(123_456));
    assert_eq!(v[0].records()[1].urn, None);
}

#[test]
fn missing_column_in_xlsx_names_the_sheet_row() {
    let bytes = workbook("Data", &[&[S("need"), S("cost")], &[S("T"), N(1.0)]]);
    let p = parse_costs("costs.xlsx", &bytes, None);
    assert_eq!(
        texts(&p),
        ["costs.xlsx[Data]:1: column setting: missing from the header line (expected columns need,setting,cost)"]
    );
}

#[test]
fn corrupt_xlsx_is_an_error() {
    for bytes in [&b"PK\x03\x04garbage"[..], b"not a workbook at all", b""] {
        let p = parse_costs("costs.xlsx", bytes, None);
        assert!(p.value.is_none());
        assert_eq!(p.issues.len(), 1, "{:?}", texts(&p));
        assert!(
            p.issues[0].to_string().starts_with("costs.xlsx: "),
            "{}",
            p.issues[0]
        );
    }
    // A truncated real workbook.
    let bytes = workbook("S", &[&[S("need"), S("setting"), S("cost")]]);
    let p = parse_costs("costs.xlsx", &bytes[..bytes.len() / 2], None);
    assert!(p.value.is_none());
    // An empty sheet.
    let p = parse_costs("costs.xlsx", &workbook("S", &[]), None);
    assert_eq!(
        texts(&p),
        [r#"costs.xlsx: empty file: no header line (sheet "S" is empty)"#]
    );
}

#[test]
fn witan_dir_reads_xlsx_files() {
    let dir = tempfile::tempdir().unwrap();
    let t = workbook(
        "Sheet1",
        &[
            &[
                "calendar-year",
                "setting-1",
                "need-1",
                "academic-year-1",
                "setting-2",
                "need-2",
                "academic-year-2",
            ]
            .map(S),
            &[
                N(2016.0),
                S("A"),
                S("ASD"),
                N(7.0),
                S("A"),
                S("ASD"),
                N(8.0),
            ],
        ],
    );
    std::fs::write(dir.path().join("transitions.xlsx"), t).unwrap();
    std::fs::write(
        dir.path().join("population.csv"),
        "calendar-year,academic-year,population\n2016,7,100\n",
    )
    .unwrap();
    let p = read_witan_dir(dir.path());
    assert!(p.errors().next().is_none(), "{:?}", texts(&p));
    assert_eq!(p.value.unwrap().transitions.len(), 1);
    assert!(p.sources[0].name.ends_with("/transitions.xlsx"));
}
