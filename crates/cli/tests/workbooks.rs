//! `--format xlsx --out FILE` end to end, for every command that writes a workbook: the file is read back with
//! calamine (sheet names, values compared with the same run's JSON or with hand-worked figures) and its number
//! formats are read from the xlsx's own XML (styles.xml → each cell's style → its format code). Where LibreOffice
//! is installed (`soffice`), each workbook is also converted to CSV, every sheet, and must convert without error,
//! showing money with its £ sign.

mod common;

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx};
use common::{command, run, run_cmd, shared, synth, Run};
use quick_xml::events::Event;
use serde_json::Value;

/// A workbook as read back: each sheet's cells (calamine) and each cell's number format (from the XML).
struct Book {
    sheets: Vec<String>,
    cells: HashMap<String, Vec<Vec<Data>>>,
    /// (sheet, row, column) → format code, for cells with a number format.
    formats: HashMap<(String, usize, usize), String>,
    /// The sheets whose first row is frozen.
    frozen: Vec<String>,
}

impl Book {
    fn sheet(&self, name: &str) -> &Vec<Vec<Data>> {
        self.cells
            .get(name)
            .unwrap_or_else(|| panic!("no sheet {name:?} in {:?}", self.sheets))
    }

    /// The data rows (below the header) of a sheet.
    fn rows(&self, name: &str) -> &[Vec<Data>] {
        &self.sheet(name)[1..]
    }

    fn header(&self, name: &str) -> Vec<String> {
        self.sheet(name)[0]
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The column of a sheet with this header.
    fn col(&self, sheet: &str, header: &str) -> usize {
        self.header(sheet)
            .iter()
            .position(|h| h == header)
            .unwrap_or_else(|| panic!("no column {header:?} in {sheet}: {:?}", self.header(sheet)))
    }

    /// The row whose first cell is this text.
    fn row_named(&self, sheet: &str, first: &str) -> (usize, &Vec<Data>) {
        self.sheet(sheet)
            .iter()
            .enumerate()
            .find(|(_, r)| matches!(r.first(), Some(Data::String(x)) if x == first))
            .unwrap_or_else(|| panic!("no row {first:?} in {sheet}"))
    }

    fn format(&self, sheet: &str, row: usize, col: usize) -> &str {
        self.formats
            .get(&(sheet.to_string(), row, col))
            .map_or("General", String::as_str)
    }

    /// A number cell with its format: fails if the cell is text or empty.
    fn number(&self, sheet: &str, row: usize, col: usize) -> (f64, &str) {
        match &self.sheet(sheet)[row][col] {
            Data::Float(x) => (*x, self.format(sheet, row, col)),
            Data::Int(x) => (*x as f64, self.format(sheet, row, col)),
            other => panic!("{sheet} row {row} column {col} is not a number: {other:?}"),
        }
    }

    fn contents_text(&self) -> Vec<String> {
        self.sheet("Contents")
            .iter()
            .flatten()
            .map(ToString::to_string)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    let key =
        |a: &quick_xml::events::attributes::Attribute<'_>| -> String { a.key.as_ref().to_string() };
    e.attributes().flatten().find(|a| key(a) == name).map(|a| {
        a.value
            .to_string()
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    })
}

/// Excel's built-in number formats that a writer may refer to by number instead of writing them out.
fn builtin_format(id: &str) -> Option<&'static str> {
    Some(match id {
        "1" => "0",
        "2" => "0.00",
        "3" => "#,##0",
        "4" => "#,##0.00",
        "9" => "0%",
        "10" => "0.00%",
        _ => return None,
    })
}

/// Style index → format code, from styles.xml (`cellXfs` in order; custom `numFmts` or built-in ids).
fn style_formats(styles: &str) -> Vec<Option<String>> {
    let mut custom: HashMap<String, String> = HashMap::new();
    let mut xfs = Vec::new();
    let mut in_cell_xfs = false;
    let mut reader = quick_xml::Reader::from_str(styles);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() as &str {
                "numFmt" => {
                    custom.insert(
                        attr(&e, "numFmtId").unwrap(),
                        attr(&e, "formatCode").unwrap(),
                    );
                }
                "cellXfs" => in_cell_xfs = true,
                "xf" if in_cell_xfs => xfs.push(attr(&e, "numFmtId").unwrap_or("0".into())),
                _ => {}
            },
            Event::End(e) if AsRef::<str>::as_ref(&e.name()) == "cellXfs" => in_cell_xfs = false,
            Event::Eof => break,
            _ => {}
        }
    }
    xfs.iter()
        .map(|id| {
            custom
                .get(id)
                .cloned()
                .or_else(|| builtin_format(id).map(String::from))
        })
        .collect()
}

/// "B12" → (11, 1).
fn cell_ref(r: &str) -> (usize, usize) {
    let letters: String = r.chars().take_while(char::is_ascii_alphabetic).collect();
    let row: usize = r[letters.len()..].parse().unwrap();
    let col = letters
        .bytes()
        .fold(0usize, |acc, b| acc * 26 + usize::from(b - b'A' + 1));
    (row - 1, col - 1)
}

fn read_zip_file(zip: &mut zip::ZipArchive<Cursor<Vec<u8>>>, name: &str) -> String {
    let mut s = String::new();
    zip.by_name(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn read_book(path: &Path) -> Book {
    let bytes = std::fs::read(path).unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    let sheets = wb.sheet_names();
    let mut cells = HashMap::new();
    for s in &sheets {
        let range = wb.worksheet_range(s).unwrap();
        assert_eq!(range.start(), Some((0, 0)), "{s} starts at A1");
        cells.insert(s.clone(), range.rows().map(<[Data]>::to_vec).collect());
    }
    // The sheets' XML parts in workbook order (sheet1.xml is the first sheet, as rust_xlsxwriter names them).
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let styles = style_formats(&read_zip_file(&mut zip, "xl/styles.xml"));
    let mut formats = HashMap::new();
    let mut frozen = Vec::new();
    for (i, s) in sheets.iter().enumerate() {
        let xml = read_zip_file(&mut zip, &format!("xl/worksheets/sheet{}.xml", i + 1));
        let mut reader = quick_xml::Reader::from_str(&xml);
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) | Event::Empty(e) => match e.name().as_ref() as &str {
                    "c" => {
                        let (row, col) = cell_ref(&attr(&e, "r").unwrap());
                        let style: usize = attr(&e, "s").map_or(0, |s| s.parse().unwrap());
                        if let Some(Some(code)) = styles.get(style) {
                            formats.insert((s.clone(), row, col), code.clone());
                        }
                    }
                    "pane"
                        if attr(&e, "state").as_deref() == Some("frozen")
                            && attr(&e, "ySplit").as_deref() == Some("1") =>
                    {
                        frozen.push(s.clone());
                    }
                    _ => {}
                },
                Event::Eof => break,
                _ => {}
            }
        }
    }
    Book {
        sheets,
        cells,
        formats,
        frozen,
    }
}

/// Every table sheet has its header row frozen, and the contents sheet comes first.
fn assert_layout(book: &Book) {
    assert_eq!(book.sheets[0], "Contents");
    for s in &book.sheets[1..] {
        assert!(book.frozen.contains(s), "{s} has no frozen header row");
        assert!(s.chars().count() <= 31, "{s} is too long a sheet name");
    }
}

fn soffice() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| [d.join("soffice"), d.join("libreoffice")])
        .find(|p| p.is_file())
}

/// LibreOffice (headless) converts every sheet of the workbook to CSV without error; the sheets it writes
/// are returned by name. `None` (with a note) where LibreOffice is not installed.
fn libreoffice_converts(path: &Path) -> Option<HashMap<String, String>> {
    let Some(soffice) = soffice() else {
        eprintln!(
            "note: LibreOffice (soffice) not on PATH: the conversion check of {} is skipped",
            path.display()
        );
        return None;
    };
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(soffice)
        .env("HOME", out.path().join("home"))
        .arg("--headless")
        .arg("--convert-to")
        // Comma-separated, quoted text, UTF-8, formatted as shown, every sheet to its own file (-1).
        .arg("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1")
        .arg("--outdir")
        .arg(out.path())
        .arg(path)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "LibreOffice failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&status.stderr)
    );
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut sheets = HashMap::new();
    for e in std::fs::read_dir(out.path()).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(sheet) = name
            .strip_prefix(&format!("{stem}-"))
            .and_then(|n| n.strip_suffix(".csv"))
        {
            sheets.insert(
                sheet.to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            );
        }
    }
    assert!(
        !sheets.is_empty(),
        "LibreOffice wrote no CSV for {}",
        path.display()
    );
    Some(sheets)
}

fn json(r: &Run) -> Value {
    serde_json::from_str(r.ok()).unwrap_or_else(|e| panic!("{e}: {}", r.both()))
}

fn close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn forecast_workbook_matches_its_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("la");
    synth(&dir, 400, 5);
    let base = ["forecast", "--witan-dir", s(&dir), "--engine", "analytic"];
    let v = json(&run(base.iter().copied().chain(["--format", "json"])));
    let file = tmp.path().join("forecast.xlsx");
    let r = run(base
        .iter()
        .copied()
        .chain(["--format", "xlsx", "--out", s(&file)]));
    assert!(r.ok().contains("wrote"), "{}", r.both());
    let book = read_book(&file);
    assert_eq!(
        book.sheets,
        [
            "Contents",
            "Plans",
            "By setting",
            "By need",
            "By age group",
            "Cost"
        ]
    );
    assert_layout(&book);
    // Plans: one row per projected census, the mean as JSON gives it (three decimals), as a count.
    let years = v["census_years"].as_array().unwrap();
    assert_eq!(book.rows("Plans").len(), years.len());
    for (i, y) in years.iter().enumerate() {
        let (census, f) = book.number("Plans", i + 1, 0);
        assert_eq!(census, y["census_year"].as_f64().unwrap());
        assert_eq!(f, "0");
        let (mean, f) = book.number("Plans", i + 1, book.col("Plans", "plans"));
        assert!((mean - y["total"]["mean"].as_f64().unwrap()).abs() < 0.0005);
        assert_eq!(f, "#,##0");
        let (p95, _) = book.number("Plans", i + 1, book.col("Plans", "90% high"));
        assert!((p95 - y["total"]["p95"].as_f64().unwrap()).abs() < 0.0005);
    }
    // By setting: the last census's mainstream plans, as in the JSON.
    let last = years.last().unwrap();
    let (row, _) = book.row_named("By setting", "mainstream");
    let col = book.col("By setting", &last["census_year"].to_string());
    let (mainstream, _) = book.number("By setting", row, col);
    assert!(
        (mainstream - last["by_setting"]["mainstream"]["mean"].as_f64().unwrap()).abs() < 0.0005
    );
    // Cost: pounds to the penny (the JSON's integer pence / 100), with a £ format.
    let fys = v["financial_years"].as_array().unwrap();
    assert_eq!(book.rows("Cost").len(), fys.len());
    for (i, fy) in fys.iter().enumerate() {
        assert_eq!(
            book.sheet("Cost")[i + 1][0],
            Data::String(fy["financial_year"].as_str().unwrap().into())
        );
        let (cost, f) = book.number("Cost", i + 1, 1);
        close(cost, fy["cost_pence"]["mean"].as_f64().unwrap() / 100.0);
        assert_eq!(f, "\"£\"#,##0");
    }
    let contents = book.contents_text();
    for want in [
        "Inputs",
        "engine",
        "analytic",
        "highneeds version",
        "Plans",
        "Notes",
    ] {
        assert!(contents.iter().any(|c| c == want), "{want} in {contents:?}");
    }
    if let Some(csv) = libreoffice_converts(&file) {
        let cost = &csv["Cost"];
        assert!(cost.starts_with("FY,cost,90% low,90% high"), "{cost}");
        assert!(
            cost.contains("\"£7,533,098\""),
            "LibreOffice shows pounds: {cost}"
        );
        assert!(csv.contains_key("By age group"));
    }
}

#[cfg(unix)]
#[test]
fn a_workbook_is_private_never_overwritten_silently_and_needs_out() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("la");
    synth(&dir, 300, 2);
    let file = tmp.path().join("f.xlsx");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "forecast",
            "--witan-dir",
            s(&dir),
            "--engine",
            "analytic",
            "--years",
            "2",
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    // --format xlsx without --out, and --out without --format xlsx: usage errors (exit 2), nothing written.
    let r = run(args(&["--format", "xlsx"]));
    assert_eq!(r.code, Some(2), "{}", r.both());
    assert!(r.stderr.contains("--out"), "{}", r.both());
    let r = run(args(&["--out", s(&file)]));
    assert_eq!(r.code, Some(2), "{}", r.both());
    assert!(!file.exists());
    run(args(&["--format", "xlsx", "--out", s(&file)])).ok();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "readable by its owner only");
    // An existing file is refused and left as it was; --force replaces it.
    std::fs::write(&file, b"mine").unwrap();
    let r = run(args(&["--format", "xlsx", "--out", s(&file)]));
    assert_eq!(r.code, Some(1), "{}", r.both());
    assert!(r.stderr.contains("exists"), "{}", r.both());
    assert_eq!(std::fs::read(&file).unwrap(), b"mine");
    run(args(&["--format", "xlsx", "--out", s(&file), "--force"])).ok();
    assert!(read_book(&file).sheets.contains(&"Plans".to_string()));
    // A folder that does not exist: an error, no file, no temp file left behind.
    let missing = tmp.path().join("no-such-folder").join("f.xlsx");
    let r = run(args(&["--format", "xlsx", "--out", s(&missing)]));
    assert_eq!(r.code, Some(1), "{}", r.both());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.ends_with(".new"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn backtest_workbook_matches_its_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("la");
    synth(&dir, 400, 5);
    let base = [
        "backtest",
        "--witan-dir",
        s(&dir),
        "--engine",
        "analytic",
        "--horizon",
        "2",
    ];
    let v = json(&run(base.iter().copied().chain(["--format", "json"])));
    let file = tmp.path().join("backtest.xlsx");
    run(base
        .iter()
        .copied()
        .chain(["--format", "xlsx", "--out", s(&file)]))
    .ok();
    let book = read_book(&file);
    assert_eq!(book.sheets, ["Contents", "Scores", "Model forecasts"]);
    assert_layout(&book);
    let scores = v["scores"].as_array().unwrap();
    assert_eq!(book.rows("Scores").len(), scores.len());
    for (i, sc) in scores.iter().enumerate() {
        assert_eq!(
            book.sheet("Scores")[i + 1][0],
            Data::String(sc["method"].as_str().unwrap().into())
        );
        let (mape, f) = book.number("Scores", i + 1, book.col("Scores", "MAPE"));
        close(mape, sc["mape"].as_f64().unwrap());
        assert_eq!(f, "0.0%");
        let c90 = book.col("Scores", "cov 90%");
        match sc["coverage"]["90"].as_f64() {
            // JSON rounds coverage to 4 decimals.
            Some(c) => assert!((book.number("Scores", i + 1, c90).0 - c).abs() < 0.00005),
            None => assert_eq!(book.sheet("Scores")[i + 1][c90], Data::Empty),
        }
    }
    let trended: Vec<&Value> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["method"] == "model (trended)")
        .collect();
    assert_eq!(book.rows("Model forecasts").len(), trended.len());
    let (actual, f) = book.number("Model forecasts", 1, book.col("Model forecasts", "actual"));
    close(actual, trended[0]["actual"].as_f64().unwrap());
    assert_eq!(f, "#,##0");
    let (_, f) = book.number("Model forecasts", 1, book.col("Model forecasts", "error"));
    assert_eq!(f, "+0.0%;-0.0%;0.0%");
    libreoffice_converts(&file);
}

#[test]
fn diagnose_workbook_has_hand_worked_figures() {
    let data = shared("data");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("diagnose.xlsx");
    let base = [
        "diagnose",
        "--la",
        "E06000037",
        "--published",
        s(&data),
        "--from",
        "2017",
        "--to",
        "2022",
    ];
    let v = json(&run(base.iter().copied().chain(["--format", "json"])));
    run(base
        .iter()
        .copied()
        .chain(["--format", "xlsx", "--out", s(&file)]))
    .ok();
    let book = read_book(&file);
    assert_layout(&book);
    for sheet in [
        "Drivers",
        "Plans",
        "By setting",
        "By age group",
        "Specialist and young adults",
    ] {
        assert!(
            book.sheets.iter().any(|s| s == sheet),
            "{sheet} in {:?}",
            book.sheets
        );
    }
    // ehcp_caseload_la_2010_2022.csv: West Berkshire 897 plans in January 2017, 1,198 in 2022;
    // growth 2021→2022 and the CAGR (1198 / 897)^(1/5) − 1 = 0.0595779 (see published.rs).
    let plans = book.sheet("Plans");
    let row_of = |year: f64| {
        plans
            .iter()
            .position(|r| r[0] == Data::Float(year))
            .unwrap_or_else(|| panic!("no census {year}"))
    };
    let (p2017, f) = book.number("Plans", row_of(2017.0), 1);
    assert_eq!((p2017, f), (897.0, "#,##0"));
    let (p2022, _) = book.number("Plans", row_of(2022.0), 1);
    assert_eq!(p2022, 1198.0);
    let (growth, f) = book.number("Plans", row_of(2022.0), book.col("Plans", "growth"));
    let caseload = v["caseload"].as_array().unwrap();
    let last = caseload.iter().find(|c| c["census_year"] == 2022).unwrap();
    close(growth, last["growth"].as_f64().unwrap());
    assert_eq!(f, "+0.0%;-0.0%;0.0%");
    // By setting: shares as fractions with a percent format, as in the JSON.
    let first = &v["by_setting"][0];
    let (row, _) = book.row_named("By setting", first["label"].as_str().unwrap());
    let (share, f) = book.number("By setting", row, book.col("By setting", "share"));
    close(share, first["share"].as_f64().unwrap());
    assert_eq!(f, "0.0%");
    let (after, _) = book.number("By setting", row, book.col("By setting", "2022"));
    close(after, first["after"].as_f64().unwrap());
    let contents = book.contents_text();
    assert!(
        contents.iter().any(|c| c.contains("West Berkshire")),
        "{contents:?}"
    );
    libreoffice_converts(&file);
}

#[test]
fn diagnose_workbook_with_a_budget_has_spend_in_pounds() {
    let data = shared("data");
    let tmp = tempfile::tempdir().unwrap();
    let budget = tmp.path().join("hnb-budget.csv");
    // Expenditure £12,345,678.90 and £13,000,000.00; allocation £11,000,000.00 in the first year.
    std::fs::write(
        &budget,
        "financial_year,kind,line,amount\n\
         2020-21,allocation,HNB,11000000\n\
         2020-21,expenditure,all,12345678.90\n\
         2021-22,expenditure,all,13000000\n",
    )
    .unwrap();
    let file = tmp.path().join("d.xlsx");
    let r = run([
        "diagnose",
        "--la",
        "E06000037",
        "--published",
        s(&data),
        "--budget",
        s(&budget),
        "--format",
        "xlsx",
        "--out",
        s(&file),
    ]);
    r.ok();
    let book = read_book(&file);
    let (row, _) = book.row_named("Spend", "2020-21");
    let (spend, f) = book.number("Spend", row, book.col("Spend", "expenditure"));
    assert_eq!((spend, f), (12_345_678.9, "\"£\"#,##0"));
    let (alloc, _) = book.number("Spend", row, book.col("Spend", "allocation"));
    assert_eq!(alloc, 11_000_000.0);
    let (row, _) = book.row_named("Spend", "2021-22");
    assert_eq!(
        book.sheet("Spend")[row][book.col("Spend", "allocation")],
        Data::Empty
    );
    if let Some(csv) = libreoffice_converts(&file) {
        assert!(csv["Spend"].contains("\"£12,345,679\""), "{}", csv["Spend"]);
    }
}

#[test]
fn benchmark_workbook_matches_its_json() {
    let data = shared("data");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("benchmark.xlsx");
    let base = ["benchmark", "--la", "E08000027", "--published", s(&data)];
    let v = json(&run(base.iter().copied().chain(["--format", "json"])));
    run(base
        .iter()
        .copied()
        .chain(["--format", "xlsx", "--out", s(&file)]))
    .ok();
    let book = read_book(&file);
    assert_eq!(book.sheets, ["Contents", "Neighbours", "Position"]);
    assert_layout(&book);
    // The LA first, then its neighbours in the JSON's order.
    let neighbours = v["neighbours"].as_array().unwrap();
    assert_eq!(book.rows("Neighbours").len(), 1 + neighbours.len());
    assert_eq!(
        book.sheet("Neighbours")[1][0],
        Data::String("E08000027".into())
    );
    for (i, n) in neighbours.iter().enumerate() {
        assert_eq!(
            book.sheet("Neighbours")[i + 2][0],
            Data::String(n["la_code"].as_str().unwrap().into())
        );
    }
    // Each indicator with its own format: plans a count, shares and growth as percentages.
    for ind in v["indicators"].as_array().unwrap() {
        let (row, _) = book.row_named("Position", ind["label"].as_str().unwrap());
        let col = book.col("Position", "LA");
        let Some(want) = ind["value"].as_f64() else {
            assert_eq!(book.sheet("Position")[row][col], Data::Empty);
            continue;
        };
        let (got, f) = book.number("Position", row, col);
        close(got, want);
        let expected = match ind["code"].as_str().unwrap() {
            "plans" => "#,##0",
            "growth_5y" => "+0.0%;-0.0%;0.0%",
            "new_plans_per_100" => "0.0",
            _ => "0.0%",
        };
        assert_eq!(f, expected, "{}", ind["code"]);
        if let Some(rank) = ind["rank"].as_f64() {
            assert_eq!(
                book.number("Position", row, book.col("Position", "rank")).0,
                rank
            );
        }
    }
    libreoffice_converts(&file);
}

#[test]
fn validate_workbook_lists_files_and_issues() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("la");
    synth(&dir, 200, 3);
    let bad = tmp.path().join("hnb-budget.csv");
    // Line 3 has an amount that is not a number.
    std::fs::write(
        &bad,
        "financial_year,kind,line,amount\n2023-24,allocation,HNB,100\n2023-24,expenditure,all,lots\n",
    )
    .unwrap();
    let file = tmp.path().join("validate.xlsx");
    let transitions = dir.join("transitions.csv");
    let r = run([
        "validate",
        s(&transitions),
        s(&bad),
        "--format",
        "xlsx",
        "--out",
        s(&file),
    ]);
    // A rejected file gives the same exit status as the table's (rejected data), workbook written or not.
    let table = run(["validate", s(&transitions), s(&bad)]);
    assert_ne!(table.code, Some(0), "{}", table.both());
    assert_eq!(r.code, table.code, "{}", r.both());
    let book = read_book(&file);
    assert_eq!(book.sheets, ["Contents", "Files", "Issues"]);
    assert_layout(&book);
    let lines = std::fs::read_to_string(&transitions)
        .unwrap()
        .lines()
        .count();
    let (row, _) = book.row_named("Files", s(&transitions));
    assert_eq!(book.sheet("Files")[row][1], Data::String("valid".into()));
    assert_eq!(
        book.number("Files", row, book.col("Files", "rows")),
        ((lines - 1) as f64, "#,##0")
    );
    let (row, _) = book.row_named("Files", s(&bad));
    assert_eq!(book.sheet("Files")[row][1], Data::String("REJECTED".into()));
    assert_eq!(
        book.number("Files", row, book.col("Files", "errors")).0,
        1.0
    );
    let issues = book.rows("Issues");
    let error = issues
        .iter()
        .position(|r| r[book.col("Issues", "severity")] == Data::String("error".into()))
        .expect("the error is listed");
    assert_eq!(
        book.number("Issues", error + 1, book.col("Issues", "line"))
            .0,
        3.0
    );
    assert_eq!(
        issues[error][book.col("Issues", "value")],
        Data::String("lots".into())
    );
    libreoffice_converts(&file);
}

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/exampleshire-dbv-stockton.toml"
);

fn demo(dir: &Path) -> PathBuf {
    let db = dir.join("ex.db");
    let mut cmd = command();
    cmd.env("HOME", dir.join("home"))
        .env("XDG_DATA_HOME", dir.join("xdg"))
        .current_dir(dir)
        .args(["demo", "--no-serve", "--db"])
        .arg(&db);
    run_cmd(&mut cmd).ok();
    db
}

#[test]
fn scenario_run_and_compare_workbooks_match_their_json() {
    let tmp = tempfile::tempdir().unwrap();
    let db = demo(tmp.path());
    let base = [
        "scenario",
        "run",
        EXAMPLE,
        "--engine",
        "analytic",
        "--db",
        s(&db),
    ];
    let v = json(&run(base.iter().copied().chain(["--format", "json"])));
    let file = tmp.path().join("scenario.xlsx");
    run(base
        .iter()
        .copied()
        .chain(["--format", "xlsx", "--out", s(&file)]))
    .ok();
    let book = read_book(&file);
    assert_eq!(
        book.sheets,
        [
            "Contents",
            "DSG ledger",
            "Initiatives",
            "Target check",
            "Sufficiency"
        ]
    );
    assert_layout(&book);
    // Savings by initiative: the JSON's pence in pounds, to the penny, with a £ format; the total row too.
    for i in v["initiatives"].as_array().unwrap() {
        let (row, _) = book.row_named("Initiatives", i["name"].as_str().unwrap());
        let (saving, f) = book.number("Initiatives", row, book.col("Initiatives", "saving"));
        close(saving, i["saving_pence"].as_f64().unwrap() / 100.0);
        assert_eq!(f, "\"£\"#,##0");
        let (net, _) = book.number("Initiatives", row, book.col("Initiatives", "net"));
        close(net, i["net_saving_pence"].as_f64().unwrap() / 100.0);
    }
    let (row, _) = book.row_named("Initiatives", "total");
    close(
        book.number("Initiatives", row, 1).0,
        v["total_saving_pence"].as_f64().unwrap() / 100.0,
    );
    // The ledger: closing balances of the mitigated side per financial year.
    let mitigated = v["mitigated"]["financial_years"].as_array().unwrap();
    for fy in mitigated {
        let (row, _) = book.row_named("DSG ledger", fy["financial_year"].as_str().unwrap());
        let (closing, f) = book.number(
            "DSG ledger",
            row,
            book.col("DSG ledger", "cumulative mitig."),
        );
        close(
            closing,
            fy["closing_balance_pence"].as_f64().unwrap() / 100.0,
        );
        assert_eq!(f, "\"£\"#,##0");
    }
    // The target check: probabilities as percentages.
    let target = v["target_financial_year"].as_str().unwrap();
    let (row, _) = book.row_named(
        "Target check",
        &format!("probability of an in-year balance in {target}"),
    );
    let (p, f) = book.number("Target check", row, book.col("Target check", "mitigated"));
    close(p, v["probability_balanced_by_target"].as_f64().unwrap());
    assert_eq!(f, "0.0%");
    libreoffice_converts(&file);

    // compare: two scenarios side by side.
    let file = tmp.path().join("compare.xlsx");
    run([
        "scenario",
        "compare",
        EXAMPLE,
        EXAMPLE,
        "--db",
        s(&db),
        "--format",
        "xlsx",
        "--out",
        s(&file),
    ])
    .ok();
    let book = read_book(&file);
    assert_eq!(
        book.sheets,
        ["Contents", "In-year position", "Savings and target"]
    );
    let (row, _) = book.row_named(
        "In-year position",
        mitigated[0]["financial_year"].as_str().unwrap(),
    );
    let (in_year, f) = book.number("In-year position", row, 2);
    close(
        in_year,
        mitigated[0]["in_year_pence"].as_f64().unwrap() / 100.0,
    );
    assert_eq!(f, "\"£\"#,##0");
    libreoffice_converts(&file);
}

#[test]
fn forecast_workbooks_of_totals_and_extra_quantiles() {
    let tmp = tempfile::tempdir().unwrap();
    let totals = tmp.path().join("totals.csv");
    std::fs::write(
        &totals,
        "census_year,plans,new_plans\n2019,1463,\n2020,1587,267\n2021,1742,254\n2022,1880,273\n2023,2013,272\n2024,2150,280\n",
    )
    .unwrap();
    let base = ["forecast", "--totals", s(&totals), "--years", "3"];
    let v = json(&run(base.iter().copied().chain(["--format", "json"])));
    let file = tmp.path().join("totals.xlsx");
    run(base
        .iter()
        .copied()
        .chain(["--format", "xlsx", "--out", s(&file)]))
    .ok();
    let book = read_book(&file);
    assert_eq!(book.sheets, ["Contents", "Plans"]);
    assert_layout(&book);
    for (i, y) in v["census_years"].as_array().unwrap().iter().enumerate() {
        // The JSON rounds means to three decimals; the workbook keeps the model's mean.
        let (mean, f) = book.number("Plans", i + 1, 1);
        assert!((mean - y["total"]["mean"].as_f64().unwrap()).abs() < 0.0005);
        assert_eq!(f, "#,##0");
    }
    libreoffice_converts(&file);

    // --quantiles 0.1,0.9: a p10 and a p90 column beside the 90 % interval.
    let dir = tmp.path().join("la");
    synth(&dir, 300, 4);
    let base = [
        "forecast",
        "--witan-dir",
        s(&dir),
        "--engine",
        "analytic",
        "--years",
        "2",
        "--quantiles",
        "0.1,0.9",
    ];
    let v = json(&run(base.iter().copied().chain(["--format", "json"])));
    let file = tmp.path().join("q.xlsx");
    run(base
        .iter()
        .copied()
        .chain(["--format", "xlsx", "--out", s(&file)]))
    .ok();
    let book = read_book(&file);
    let (p10, _) = book.number("Plans", 1, book.col("Plans", "p10"));
    assert!((p10 - v["census_years"][0]["total"]["p10"].as_f64().unwrap()).abs() < 0.0005);
}

#[test]
fn published_forecast_and_backtest_workbooks_match_their_json() {
    let data = shared("data");
    let tmp = tempfile::tempdir().unwrap();
    let base = ["forecast", "--published", s(&data), "--years", "2"];
    let v = json(&run(base.iter().copied().chain(["--format", "json"])));
    let file = tmp.path().join("published.xlsx");
    run(base
        .iter()
        .copied()
        .chain(["--format", "xlsx", "--out", s(&file)]))
    .ok();
    let book = read_book(&file);
    assert_eq!(book.sheets, ["Contents", "Forecast"]);
    assert_layout(&book);
    let las = v["las"].as_array().unwrap();
    assert_eq!(book.rows("Forecast").len(), las.len());
    // Dudley's 2023 row: base 3,035 (published, January 2022), mean and interval as the JSON (one decimal).
    let sheet = book.sheet("Forecast");
    let row = sheet
        .iter()
        .position(|r| r[0] == Data::String("E08000027".into()) && r[2] == Data::Float(2023.0))
        .expect("Dudley 2023");
    assert_eq!(
        book.number("Forecast", row, book.col("Forecast", "base")),
        (3035.0, "#,##0")
    );
    let dudley = las
        .iter()
        .find(|l| l["la_code"] == "E08000027" && l["census_year"] == 2023)
        .unwrap();
    let (mean, _) = book.number("Forecast", row, book.col("Forecast", "mean"));
    assert!((mean - dudley["mean"].as_f64().unwrap()).abs() <= 0.05);
    libreoffice_converts(&file);

    let base = ["backtest", "--published", s(&data), "--horizon", "1"];
    let v = json(&run(base.iter().copied().chain(["--format", "json"])));
    let file = tmp.path().join("published-backtest.xlsx");
    run(base
        .iter()
        .copied()
        .chain(["--format", "xlsx", "--out", s(&file)]))
    .ok();
    let book = read_book(&file);
    assert_eq!(
        book.sheets,
        [
            "Contents",
            "Scores",
            "Model by origin",
            "Model vs best baseline"
        ]
    );
    for (i, sc) in v["scores"].as_array().unwrap().iter().enumerate() {
        let (mape, f) = book.number("Scores", i + 1, book.col("Scores", "MAPE"));
        close(mape, sc["mape"].as_f64().unwrap());
        assert_eq!(f, "0.0%");
        let (la_only, _) = book.number("Scores", i + 1, book.col("Scores", "LA only"));
        close(la_only, sc["mape_england_removed"].as_f64().unwrap());
    }
    libreoffice_converts(&file);
}
