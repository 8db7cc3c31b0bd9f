//! Readers against tiny fixtures and the witan.send demo data: exact issue texts.

use std::path::{Path, PathBuf};

use highneeds_domain::{AgeGroup, BudgetKind, CensusYear, Pence};
use highneeds_ingest::{
    detect_kind, parse_budget, parse_costs, parse_plans, parse_population, parse_transitions,
    parse_valid_states, read_witan_dir, validate_file, FileKind, Parsed, Severity,
};

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

/// An issue's text with the fixture folder taken off the paths it names (messages name the path as given).
fn relative(text: String) -> String {
    let root = format!("{}/", data("").display()).replace("//", "/");
    let demo = format!("{WITAN_DEMO}/");
    let mut out = text.replace(&demo, "");
    while let Some(i) = out.find(&root) {
        let rest = &out[i + root.len()..];
        let skip = rest.find('/').map_or(0, |j| j + 1);
        out = format!("{}{}", &out[..i], &rest[skip..]);
    }
    out
}

fn texts<T>(p: &Parsed<T>) -> Vec<String> {
    p.issues.iter().map(|i| relative(i.to_string())).collect()
}

fn errors<T>(p: &Parsed<T>) -> Vec<String> {
    p.errors().map(|i| relative(i.to_string())).collect()
}

const WITAN_DEMO: &str = "/work/shared/peers/witan-send-demo";

#[test]
fn witan_demo_imports_with_no_errors() {
    let dir = Path::new(WITAN_DEMO);
    if !dir.exists() {
        eprintln!("skipped: {WITAN_DEMO} not present");
        return;
    }
    let p = read_witan_dir(dir);
    assert_eq!(errors(&p), Vec::<String>::new());
    let h = p.value.as_ref().expect("history");
    assert_eq!(h.transitions.len(), 8_351);
    assert_eq!(h.plans_at(CensusYear::new(2017).unwrap()), 2_153);
    assert_eq!(h.plans_at(CensusYear::new(2014).unwrap()), 1_781);
    // 310 rows, of which 10 years × NCY 21..25 are ignored.
    assert_eq!(h.population.len(), 310 - 50);
    assert_eq!(h.costs.len(), 88);
    assert!(h.costs.iter().all(|c| c.annual == Pence::from_pounds(1000)));
    assert_eq!(h.valid_states.len(), 19);
    assert_eq!(
        texts(&p),
        [
            "valid-states.csv: warning: a setting is in no setting->setting list, so nobody can move into it: M",
            "population.csv: warning: 50 rows with academic-year 21..25 ignored (plans end at NCY 20, age 25) (first at line 28)",
        ]
    );
    let rows: Vec<(&str, u64)> = p
        .sources
        .iter()
        .map(|s| (s.name.rsplit('/').next().unwrap_or_default(), s.rows))
        .collect();
    assert_eq!(
        rows,
        [
            ("valid-states.csv", 19),
            ("transitions.csv", 8_351),
            ("population.csv", 310),
            ("costs.csv", 88)
        ]
    );
    assert!(p.sources.iter().all(|s| s.sha256.len() == 64));
}

#[test]
fn non_numeric_ncy_names_file_line_column_and_rule() {
    let p = read_witan_dir(&data("bad_ncy"));
    assert!(p.value.is_none());
    assert!(texts(&p).contains(
        &r#"transitions.csv:4: column academic-year-2: "abc" is not an NCY (-5..20)"#.to_string()
    ));
    let e = p
        .errors()
        .find(|i| i.file.ends_with("/transitions.csv"))
        .unwrap();
    assert_eq!(e.line, Some(4));
    assert_eq!(e.column.as_deref(), Some("academic-year-2"));
    assert_eq!(e.value.as_deref(), Some("abc"));
}

#[test]
fn good_folder_gives_warnings_with_counts() {
    let p = read_witan_dir(&data("good"));
    assert_eq!(
        texts(&p),
        [
            "valid-states.csv: warning: setting->setting names a setting that is not a row of the file: Z (first at line 3)",
            "transitions.csv: warning: 1 row with an NCY outside its setting's min..max range in valid-states.csv (line 7)",
            "transitions.csv: warning: 2 rows where academic-year-2 is not academic-year-1 + 1 (a child ages one NCY a year) (first at line 8)",
            "population.csv: warning: 2 rows with academic-year 21..25 ignored (plans end at NCY 20, age 25) (first at line 5)",
        ]
    );
    let h = p.value.unwrap();
    assert_eq!(h.transitions.len(), 8);
    let joiner = &h.transitions[1];
    assert!(joiner.before.is_none());
    assert_eq!(joiner.from_census.year(), 2015);
    let leaver = &h.transitions[4];
    assert!(leaver.after.is_none());
    // Lower-case "non-send" is NONSEND too; a joiner at NCY 20 carries 19 on the NONSEND side.
    assert!(h.transitions[5].before.is_none());
    assert_eq!(h.population.len(), 3);
    assert_eq!(h.costs[1].annual, Pence::new(1_234_567));
}

#[test]
fn unknown_setting_is_an_error() {
    let p = read_witan_dir(&data("unknown_setting"));
    assert!(p.value.is_none());
    assert_eq!(
        errors(&p),
        [r#"transitions.csv:3: column setting-2: "Q" unknown setting: not in valid-states.csv"#]
    );
}

#[test]
fn missing_column_is_an_error_at_line_1() {
    let p = validate_file(&data("missing_column/transitions.csv"));
    assert_eq!(
        texts(&p),
        ["transitions.csv:1: column need-2: missing from the header line (expected columns calendar-year,setting-1,need-1,academic-year-1,setting-2,need-2,academic-year-2)"]
    );
    // Recognised by its header even under another name.
    let p = parse_transitions("t.csv", b"calendar-year,setting-1,need-1\n", None);
    assert_eq!(errors(&p).len(), 4);
}

#[test]
fn empty_file() {
    let p = validate_file(&data("empty/transitions.csv"));
    assert_eq!(texts(&p), ["transitions.csv: empty file: no header line"]);
    for bytes in [&b""[..], b"\n\n  \r\n", b"\xEF\xBB\xBF"] {
        let p = parse_population("population.csv", bytes);
        assert_eq!(texts(&p), ["population.csv: empty file: no header line"]);
        assert!(p.value.is_none());
    }
}

#[test]
fn garbage_bytes_name_the_line() {
    let mut bytes = b"need,setting,cost\nT,A,1000.0\n".to_vec();
    bytes.extend_from_slice(b"\xff\xfe\x00garbage,\x80,1\n");
    let p = parse_costs("costs.csv", &bytes, None);
    assert_eq!(
        errors(&p),
        ["costs.csv:3: holds the control character U+0000: this is not a text file (binary data?); save the sheet as CSV UTF-8, or as a workbook"]
    );
    let p = parse_costs("costs.csv", b"\x00\x01\x02\xff\xfe", None);
    assert!(p.value.is_none());
    assert_eq!(p.issues[0].line, Some(1));
}

#[test]
fn over_long_line_is_an_error() {
    let mut text = String::from("calendar-year,academic-year,population\n2016,0,10\n2016,1,");
    text.push_str(&"9".repeat(70_000));
    text.push_str("\n2016,2,12\n");
    let p = parse_population("population.csv", text.as_bytes());
    assert_eq!(
        errors(&p),
        ["population.csv:3: line is longer than 65536 bytes (is a quote left open?)"]
    );
    // An unclosed quote swallows the rest of the file into one record.
    let mut text = String::from("calendar-year,academic-year,population\n2016,\"0,10\n");
    for _ in 0..10_000 {
        text.push_str("2016,1,10\n");
    }
    let p = parse_population("population.csv", text.as_bytes());
    assert_eq!(
        errors(&p),
        ["population.csv:2: line is longer than 65536 bytes (is a quote left open?)"]
    );
}

#[test]
fn ragged_rows_and_error_cap() {
    let mut text = String::from("need,setting,cost\n");
    for _ in 0..150 {
        text.push_str("T,A\n");
    }
    let p = parse_costs("costs.csv", text.as_bytes(), None);
    let e = errors(&p);
    assert_eq!(e.len(), 101);
    assert_eq!(e[0], "costs.csv:2: row has 2 fields, the header has 3");
    assert_eq!(e[100], "costs.csv: ... and 50 more errors");
}

#[test]
fn semicolon_separated_file() {
    let p = parse_costs("costs.csv", b"need;setting;cost\nT;A;1\n", None);
    assert_eq!(
        texts(&p),
        ["costs.csv:1: header line has no commas: columns must be separated by commas, not semicolons or tabs"]
    );
    let p = parse_costs("costs.csv", b"need,setting,cost\nT;A;1\n", None);
    assert_eq!(
        texts(&p),
        ["costs.csv:2: row has 1 field, the header has 3"]
    );
}

#[test]
fn transition_side_rules() {
    let head = "calendar-year,setting-1,need-1,academic-year-1,setting-2,need-2,academic-year-2\n";
    let body = "2016,NONSEND,T,4,A,T,5\n\
                2016,NONSEND,NONSEND,4,NONSEND,NONSEND,5\n\
                2016,NONSEND,NONSEND,22,A,T,5\n\
                2016,A,T,20,NONSEND,NONSEND,21\n\
                2016,A,T,21,NONSEND,NONSEND,22\n\
                1900,A,T,1,A,T,2\n\
                2016,A!,T,1,A,T,2\n";
    let p = parse_transitions("transitions.csv", format!("{head}{body}").as_bytes(), None);
    assert_eq!(
        errors(&p),
        [
            r#"transitions.csv:2: column need-1: "T" is not NONSEND but setting-1 is: a side without a plan is NONSEND in both"#,
            "transitions.csv:3: NONSEND on both sides: a row needs a plan on at least one side",
            r#"transitions.csv:4: column academic-year-1: "22" is not a whole number -6..21"#,
            r#"transitions.csv:6: column academic-year-1: "21" is not an NCY (-5..20)"#,
            r#"transitions.csv:6: column academic-year-2: "22" is not a whole number -6..21"#,
            r#"transitions.csv:7: column calendar-year: "1900" is not a census year (1990..2100)"#,
            r#"transitions.csv:8: column setting-1: "A!" is not a setting code (1-40 letters, digits, spaces or _-/&+., not NONSEND)"#,
        ]
    );
}

#[test]
fn headers_any_order_and_case() {
    let text = "Population , ACADEMIC-YEAR,calendar_year,extra\n10,3,2016,x\n";
    let p = parse_population("population.csv", text.as_bytes());
    assert_eq!(texts(&p), Vec::<String>::new());
    let v = p.value.unwrap();
    assert_eq!((v[0].ncy.value(), v[0].population), (3, 10));
}

#[test]
fn population_rules() {
    let text = "calendar-year,academic-year,population\n2016,0,-4\n2016,26,5\n2016,1,5\n2016,1,6\n2016,2,x\n";
    let p = parse_population("population.csv", text.as_bytes());
    assert_eq!(
        errors(&p),
        [
            r#"population.csv:2: column population: "-4" is negative: a population is 0 or more"#,
            r#"population.csv:3: column academic-year: "26" is not an NCY (-5..25)"#,
            "population.csv:5: duplicate row for calendar-year 2016 and academic-year 1 (first at line 4)",
            r#"population.csv:6: column population: "x" is not a whole number of people"#,
        ]
    );
}

#[test]
fn cost_rules() {
    let text = "need,setting,cost\nT,A,-1\nT,A,1.234\nT,B,5\nT,B,6\nNONSEND,B,1\n";
    let vs = parse_valid_states(
        "valid-states.csv",
        b"setting,setting-group,min-academic-year,max-academic-year,needs,setting->setting\nA,g,0,10,T,A\n",
    );
    assert_eq!(texts(&vs), Vec::<String>::new());
    let p = parse_costs("costs.csv", text.as_bytes(), vs.value.as_deref());
    assert_eq!(
        errors(&p),
        [
            r#"costs.csv:2: column cost: "-1" is negative: a cost is 0 or more"#,
            r#"costs.csv:3: column cost: "1.234" is not an amount in pounds with at most 2 decimal places (e.g. 1234.56, £1,234.56, or (1,234.56) for a negative; commas only between thousands)"#,
            r#"costs.csv:4: column setting: "B" unknown setting: not in valid-states.csv"#,
            r#"costs.csv:5: column setting: "B" unknown setting: not in valid-states.csv"#,
            "costs.csv:5: duplicate cost for need T and setting B (first at line 4)",
            r#"costs.csv:6: column need: "NONSEND" is not a need code (1-40 letters, digits, spaces or _-/&+., not NONSEND)"#,
        ]
    );
}

#[test]
fn costs_by_age_group_and_split_into_place_funding_and_top_up() {
    // Either part gives the other; both must add up to the cost; an age-group row sits beside the all-ages row.
    let text = "need,setting,cost,age-group,place-funding,top-up\n\
                ASD,special,24250.50,,10000,\n\
                ASD,special,30000,16_19,,20000\n\
                SEMH,special,20000,,10000,10000\n\
                SEMH,mainstream,8000,,,\n";
    let p = parse_costs("costs.csv", text.as_bytes(), None);
    assert_eq!(texts(&p), Vec::<String>::new());
    let costs = p.value.unwrap();
    let pounds = |s: &str| s.parse::<Pence>().unwrap();
    assert_eq!(costs[0].age_group, None);
    assert_eq!(costs[0].place_funding, Some(pounds("10000")));
    assert_eq!(costs[0].top_up(), Some(pounds("14250.50")));
    assert_eq!(costs[1].age_group, Some(AgeGroup::Age16To19));
    assert_eq!(costs[1].place_funding, Some(pounds("10000")));
    assert_eq!(costs[2].top_up(), Some(pounds("10000")));
    assert_eq!(costs[3].place_funding, None);
}

#[test]
fn a_character_split_across_two_fields_is_not_utf8_and_reads_as_windows_1252() {
    // "\xC3" and "\xA9" run together are "é" in UTF-8, but neither field is UTF-8 on its own (found by fuzzing):
    // the file is not UTF-8, so it is read as Windows-1252 (said in a warning), where they are "Ã" and "©", and
    // each cell is checked as what it is.
    let p = parse_costs(
        "costs.csv",
        b"need,setting,cost,age-group,place-funding,top-up\nASD,special,24250.50,\xC3,\xA9,\n",
        None,
    );
    let errors = errors(&p);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("costs.csv:2: column age-group: \"Ã\" is not an age group"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("costs.csv:2: column place-funding: \"©\" is not an amount"),
        "{errors:?}"
    );
    assert!(p
        .warnings()
        .any(|w| w.rule.contains("read as Windows-1252")));
}

#[test]
fn cost_split_and_age_group_rules() {
    let text = "need,setting,cost,age-group,place-funding,top-up\n\
                T,A,100,,60,50\n\
                T,B,100,,120,\n\
                T,C,100,,,101\n\
                T,D,100,teens,,\n\
                T,E,100,,-1,\n\
                T,F,100,5_10,,\n\
                T,F,90,5_10,,\n\
                T,F,80,,,\n";
    let p = parse_costs("costs.csv", text.as_bytes(), None);
    assert_eq!(
        errors(&p),
        [
            "costs.csv:2: place-funding £60.00 + top-up £50.00 = £110.00 is not the cost £100.00: the two parts must add up to it",
            r#"costs.csv:3: column place-funding: "120" is more than the cost £100.00"#,
            r#"costs.csv:4: column top-up: "101" is more than the cost £100.00"#,
            r#"costs.csv:5: column age-group: "teens" is not an age group: under_5, 5_10, 11_15, 16_19 or 20_25 (empty = every age)"#,
            r#"costs.csv:6: column place-funding: "-1" is negative: a cost is 0 or more"#,
            "costs.csv:8: duplicate cost for need T and setting F and age group 5_10 (first at line 7)",
        ]
    );
}

#[test]
fn valid_states_rules() {
    let text = "setting,setting-group,min-academic-year,max-academic-year,needs,setting->setting\n\
                A,g,5,3,\"T,U\",\"A,B\"\n\
                B,g,0,21,\"\",A\n\
                A,g,0,3,T,\n";
    let p = parse_valid_states("valid-states.csv", text.as_bytes());
    assert_eq!(
        errors(&p),
        [
            "valid-states.csv:2: min-academic-year 5 is above max-academic-year 3",
            r#"valid-states.csv:3: column max-academic-year: "21" is not an NCY (-5..20)"#,
            r#"valid-states.csv:3: column needs: "" lists no needs: a setting allows at least one need"#,
            r#"valid-states.csv:4: column setting: "A" appears twice: a setting has one row (first at line 2)"#,
        ]
    );
}

#[test]
fn plans_rules_and_warnings() {
    let p = validate_file(&data("plans.csv"));
    assert_eq!(p.value, Some(FileKind::Plans));
    assert_eq!(
        texts(&p),
        [
            "plans.csv: warning: 1 row repeating a child_id already in that census_year (the first row is kept) (line 7)",
            "plans.csv: warning: 1 row with a need code outside the SEN2 list (ASD HI MLD MSI OTH PD PMLD SEMH SLCN SLD SPLD VI DS NSA UNKNOWN) (line 8)",
            "plans.csv: warning: 1 child whose NCY does not rise by exactly one between consecutive censuses (line 4)",
            "plans.csv: warning: 1 child whose plan vanishes and reappears (a gap in census years) (line 6)",
        ]
    );
    let bytes = std::fs::read(data("plans.csv")).unwrap();
    let h = parse_plans("plans.csv", &bytes).value.unwrap();
    assert_eq!(h.len(), 3);
    assert_eq!(h[0].child.as_str(), "C1");
    assert_eq!(h[0].records().len(), 3);
    assert_eq!(h[0].records()[0].urn.map(|u| u.value()), Some(123456));
    assert_eq!(h[1].records().len(), 2);

    let bad = "child_id,census_year,ncy,need,setting,urn\na b,2024,x,ASD,A,12\n";
    assert_eq!(
        errors(&parse_plans("plans.csv", bad.as_bytes())),
        [
            r#"plans.csv:2: column child_id: "a b" is not a child id (1-64 printable characters without spaces or commas)"#,
            r#"plans.csv:2: column ncy: "x" is not an NCY (-5..20)"#,
            r#"plans.csv:2: column urn: "12" is not a URN (6 digits) or UKPRN (8 digits)"#,
        ]
    );
    // The urn column is optional.
    let p = parse_plans(
        "plans.csv",
        b"child_id,census_year,ncy,need,setting\nC1,2024,3,ASD,A\n",
    );
    assert_eq!(p.value.unwrap()[0].records()[0].urn, None);
}

#[test]
fn budget_rules() {
    let bytes = std::fs::read(data("hnb-budget.csv")).unwrap();
    let p = parse_budget("hnb-budget.csv", &bytes);
    assert_eq!(
        texts(&p),
        ["hnb-budget.csv: warning: 1 financial year with expenditure but no allocation (line 4)"]
    );
    let v = p.value.unwrap();
    assert_eq!(v[0].amount, Pence::from_pounds(29_488_313));
    assert_eq!(v[0].kind, BudgetKind::Allocation);
    assert_eq!(v[1].amount, Pence::new(123_450));
    assert_eq!(v[1].line, "Top-up: maintained special");
    assert_eq!(v[3].amount, -Pence::from_pounds(9_528_516));

    let bad = "financial_year,kind,line,amount\n2024-26,spend,x,1\n2024-25,allocation,,1.005\n2024-25,allocation,,5\n2024-25,allocation,,6\n";
    assert_eq!(
        errors(&parse_budget("hnb-budget.csv", bad.as_bytes())),
        [
            r#"hnb-budget.csv:2: column financial_year: "2024-26" is not a financial year like 2024-25"#,
            r#"hnb-budget.csv:2: column kind: "spend" is not a budget kind (opening_balance, allocation, block_transfer, deduction, expenditure, total_dsg)"#,
            r#"hnb-budget.csv:3: column amount: "1.005" is not an amount in pounds with at most 2 decimal places (e.g. 1234.56, £1,234.56, or (1,234.56) for a negative; commas only between thousands)"#,
            r#"hnb-budget.csv:5: duplicate budget line: financial_year 2024-25, kind allocation, line "" (first at line 4)"#,
        ]
    );
}

#[test]
fn detect_kinds() {
    assert_eq!(
        detect_kind(Path::new("x/transitions.csv")),
        Some(FileKind::Transitions)
    );
    assert_eq!(
        detect_kind(Path::new("Valid_States.xlsx")),
        Some(FileKind::ValidStates)
    );
    assert_eq!(
        detect_kind(Path::new("hnb-budget.csv")),
        Some(FileKind::HnbBudget)
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export-2024.csv");
    std::fs::write(&p, "child_id,census_year,ncy,need,setting,urn\n").unwrap();
    assert_eq!(detect_kind(&p), Some(FileKind::Plans));
    std::fs::write(&p, "a,b,c\n").unwrap();
    assert_eq!(detect_kind(&p), None);
    let v = validate_file(&p);
    assert!(v.value.is_none());
    assert!(v.issues[0]
        .rule
        .starts_with("cannot tell what kind of file this is"));
    let v = validate_file(&dir.path().join("nope.csv"));
    assert!(v.issues[0].rule.starts_with("cannot read the file"));
}

#[test]
fn missing_required_files_in_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let p = read_witan_dir(dir.path());
    assert!(p.value.is_none());
    let e: Vec<&str> = p.errors().map(|i| i.file.as_str()).collect();
    assert_eq!(e, ["transitions.csv", "population.csv"]);
    assert!(p.issues.iter().any(
        |i| (i.file == "costs.csv" || i.file.ends_with("/costs.csv"))
            && i.severity == Severity::Warning
    ));
}

#[test]
fn twenty_thousand_rows_parse_fast() {
    let dir = Path::new(WITAN_DEMO);
    let Ok(text) = std::fs::read_to_string(dir.join("transitions.csv")) else {
        return;
    };
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let body: Vec<&str> = lines.collect();
    let mut big = format!("{head}\n");
    for i in 0..20_000 {
        big.push_str(body[i % body.len()]);
        big.push('\n');
    }
    let start = std::time::Instant::now();
    let p = parse_transitions("transitions.csv", big.as_bytes(), None);
    let took = start.elapsed();
    assert_eq!(p.value.unwrap().len(), 20_000);
    eprintln!("20,000 transitions parsed in {took:?} (debug build)");
    assert!(took.as_millis() < 2_000, "took {took:?}");
}
