use std::path::PathBuf;

use highneeds_domain::{AgeGroup, CanonicalSetting, LaCode, Measure};

use super::*;

fn la(s: &str) -> LaCode {
    s.parse().unwrap()
}

/// The published statistics, read in place (never copied into the repository).
fn shared_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

fn texts(p: &Parsed<PublishedStatistics>) -> Vec<String> {
    p.issues.iter().map(ToString::to_string).collect()
}

#[test]
fn reads_the_real_release() {
    let parsed = read_published_dir(&shared_data());
    let text = texts(&parsed);
    assert!(!parsed.has_errors(), "{text:#?}");
    let s = parsed.value.unwrap();
    let england = LaCode::england();
    // PROVENANCE.md's sanity figures.
    assert_eq!(s.get(england, Measure::Plans, 2022), Some(473_255));
    assert_eq!(s.get(england, Measure::Plans, 2010), Some(228_221));
    assert_eq!(s.get(england, Measure::NewPlans, 2021), Some(62_180));
    // Dudley (E08000027): 3,035 plans in January 2022, 1,647 in 2018; statements 160 in 2018, none after.
    let dudley = la("E08000027");
    assert_eq!(s.get(dudley, Measure::Plans, 2022), Some(3_035));
    assert_eq!(s.get(dudley, Measure::Statements, 2018), Some(160));
    assert_eq!(s.get(dudley, Measure::Statements, 2019), None);
    assert_eq!(s.name(dudley), Some("Dudley"));
    // Age rows add up to the headline for every LA-year (PROVENANCE.md).
    let mut checked = 0;
    for ((l, m, y), v) in &s.figures {
        if *m == Measure::Plans {
            let ages: u64 = AgeGroup::ALL
                .iter()
                .filter_map(|g| s.get(*l, Measure::PlansByAge(*g), *y))
                .sum();
            assert_eq!(ages, *v, "{l} {y}");
            checked += 1;
        }
    }
    assert_eq!(checked, 1_987);
    // England's setting rows: 2016 sum to 256,530 and 2018 to 312,626 (PROVENANCE.md).
    let settings = |y| -> u64 {
        CanonicalSetting::ALL
            .iter()
            .filter_map(|c| s.get(england, Measure::PlansBySetting(*c), y))
            .sum()
    };
    assert_eq!(settings(2016), 256_530);
    assert_eq!(settings(2018), 312_626);
    assert_eq!(settings(2022), 473_255);
    // The quirk is reported, with the gap over LAs: +215 in 2016, −7,193 in 2018.
    assert!(
        text.iter()
            .any(|t| t.contains("census 2016") && t.contains("215 more plans")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("census 2018") && t.contains("7193 fewer plans")),
        "{text:#?}"
    );
    // Requests were not collected in 2014-2015 (empty, i.e. z): no figure for any LA, never a 0.
    assert!(!s
        .figures
        .keys()
        .any(|(_, m, y)| *m == Measure::Requests && *y < 2016));
    assert_eq!(s.get(dudley, Measure::Requests, 2021), Some(474));
    // North and West Northamptonshire report calendar-2021 flows: not flagged (they existed from April 2021).
    assert!(
        !text
            .iter()
            .any(|t| t.contains("E06000061 has figures for 2021")),
        "{text:#?}"
    );
}

#[test]
fn suppressed_cells_are_kept_apart_and_reported() {
    let csv = b"census_year,geographic_level,la_code,la_name,ehc_plans,statements\n\
2022,Local authority,E06000053,Isles of Scilly,c,\n\
2022,Local authority,E09000001,City of London,19,z\n\
2021,Local authority,E09000001,City of London,low,\n";
    let p = parse_caseload("ehcp_caseload_la_2010_2022.csv", csv);
    let text = texts(&p);
    let s = p.value.expect("suppression is not an error");
    assert_eq!(s.get(la("E06000053"), Measure::Plans, 2022), None);
    assert!(s
        .suppressed
        .contains(&(la("E06000053"), Measure::Plans, 2022)));
    assert_eq!(s.get(la("E09000001"), Measure::Plans, 2022), Some(19));
    assert_eq!(s.get(la("E09000001"), Measure::Statements, 2022), None);
    assert!(
        text.iter().any(|t| t.contains("warning: 2 cells in column ehc_plans suppressed (c, x or low): no figure, not 0 (first at line 2)")),
        "{text:?}"
    );
}

#[test]
fn bad_rows_name_line_column_and_rule() {
    let csv = b"census_year,geographic_level,la_code,la_name,ehc_plans\n\
2022,Local authority,E07000001,A district,10\n\
2022,Local authority,E06000037,West Berkshire,1198\n\
2022,Local authority,E06000037,West Berkshire,1198\n\
2022,National,E06000004,Stockton-on-Tees,5\n\
20x2,Local authority,E06000004,Stockton-on-Tees,5\n\
2022,Local authority,E06000004,Stockton-on-Tees,-5\n\
2022,Regional,E12000001,North East,99\n\
2022,Local authority,E06000001,Hartlepool,\n\
2022,County,E06000001,Hartlepool,1\n";
    let p = parse_caseload("ehcp_caseload_la_2010_2022.csv", csv);
    assert!(p.value.is_none(), "a file with errors gives nothing");
    let text = texts(&p);
    let expect = [
        "ehcp_caseload_la_2010_2022.csv:2: column la_code: \"E07000001\" is not an upper-tier LA's ONS code",
        "ehcp_caseload_la_2010_2022.csv:4: duplicate row: E06000037 EHC plans in 2022 is given again (first at line 3)",
        "ehcp_caseload_la_2010_2022.csv:5: column la_code: \"E06000004\" is not England's code E92000001 on a National row",
        "ehcp_caseload_la_2010_2022.csv:6: column census_year: \"20x2\" is not a year",
        "ehcp_caseload_la_2010_2022.csv:7: column ehc_plans: \"-5\" is not a count",
        "ehcp_caseload_la_2010_2022.csv:9: column ehc_plans: \"\" is empty",
        "ehcp_caseload_la_2010_2022.csv:10: column geographic_level: \"County\" is not a geographic level",
        "ehcp_caseload_la_2010_2022.csv: warning: 1 regional row skipped (regions are not used) (line 8)",
    ];
    for e in expect {
        assert!(
            text.iter().any(|t| t.starts_with(e)),
            "missing {e:?} in {text:#?}"
        );
    }
}

#[test]
fn setting_rows_sum_into_canonical_settings() {
    // Two establishment types in one canonical setting add up; a suppressed part makes the sum suppressed.
    let csv = b"census_year,geographic_level,la_code,la_name,establishment_group,establishment_type,setting_canonical,ehc_plans\n\
2022,Local authority,E06000037,West Berkshire,Special school,Special - LA maintained,special_maintained,200\n\
2022,Local authority,E06000037,West Berkshire,Special school,Special - Academy/free,special_academy_free,50\n\
2022,Local authority,E06000037,West Berkshire,Mainstream school,Mainstream - LA maintained,mainstream,300\n\
2022,Local authority,E06000037,West Berkshire,Mainstream school,Mainstream - Academy,mainstream,100\n\
2022,Local authority,E06000037,West Berkshire,Other,Other,other,x\n\
2022,Local authority,E06000037,West Berkshire,Other,Permanently excluded,other,3\n\
2022,Local authority,E06000037,West Berkshire,Total,Total,other,653\n";
    let p = parse_caseload_by_setting("ehcp_caseload_by_setting_la_2019_2022.csv", csv);
    let s = p.value.unwrap();
    let wb = la("E06000037");
    let get = |c| s.get(wb, Measure::PlansBySetting(c), 2022);
    assert_eq!(get(CanonicalSetting::Mainstream), Some(400));
    assert_eq!(get(CanonicalSetting::SpecialMaintained), Some(200));
    assert_eq!(get(CanonicalSetting::Other), None);
    assert!(s
        .suppressed
        .contains(&(wb, Measure::PlansBySetting(CanonicalSetting::Other), 2022)));
    let bad = parse_caseload_by_setting(
        "ehcp_caseload_by_setting_la_2019_2022.csv",
        b"census_year,geographic_level,la_code,la_name,establishment_type,setting_canonical,ehc_plans\n\
2022,Local authority,E06000037,West Berkshire,Special,special,1\n\
2022,Local authority,E06000037,West Berkshire,Mainstream,mainstream,1\n\
2022,Local authority,E06000037,West Berkshire,Mainstream,mainstream,2\n",
    );
    let text = texts(&bad);
    assert!(text[0].starts_with("ehcp_caseload_by_setting_la_2019_2022.csv:2: column setting_canonical: \"special\" is not a canonical setting"), "{text:?}");
    assert!(text[1].contains(":4: duplicate row: E06000037 establishment type \"Mainstream\" in 2022 is given again (first at line 3)"), "{text:?}");
}

#[test]
fn missing_files_and_lifetimes_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ehcp_caseload_la_2010_2022.csv"),
        "census_year,geographic_level,la_code,la_name,ehc_plans\n\
2018,Local authority,E06000058,Bournemouth Christchurch and Poole,100\n\
2021,Local authority,E10000009,Dorset,50\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ehcp_new_plans_by_age_la_2009_2021.csv"),
        "calendar_year,geographic_level,la_code,la_name,age_group,new_plans\n\
2020,Local authority,E06000037,West Berkshire,total,30\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.csv"), "a,b\n1,2\n").unwrap();
    let p = read_published_dir(dir.path());
    let text = texts(&p);
    assert!(!p.has_errors(), "{text:#?}");
    for e in [
        "notes.csv: warning: not a file of the published EHC plan statistics: ignored",
        "warning: no ehcp_caseload_by_age_la_*.csv file in the folder: plans by age group will be missing",
        "warning: LA E06000037 has figures but no headline plans",
        "warning: LA E06000058 has figures for 2018, outside the years it existed",
        "warning: LA E10000009 has figures for 2021, outside the years it existed",
    ] {
        assert!(text.iter().any(|t| t.contains(e)), "missing {e:?} in {text:#?}");
    }
    let empty = tempfile::tempdir().unwrap();
    let p = read_published_dir(empty.path());
    assert!(p.has_errors());
    assert!(texts(&p)[0].contains("no ehcp_caseload_la_*.csv file in the folder"));
    let p = read_published_dir(&empty.path().join("nope"));
    assert!(texts(&p)[0].contains("cannot read the folder of published statistics"));
}

proptest::proptest! {
    /// No bytes make a reader panic, whichever file it thinks it is reading.
    #[test]
    fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), k in 0usize..8) {
        let names = [
            "ehcp_caseload_la_2010_2022.csv",
            "ehcp_caseload_by_age_la_2010_2022.csv",
            "ehcp_caseload_by_setting_la_2019_2022.csv",
            "ehcp_new_plans_by_age_la_2009_2021.csv",
            "ehcp_process_mi_la_2014_2021.csv",
            "ehcp_process_mi_variables.csv",
            "setting_map_sen2_establishment_type.csv",
            "other.csv",
        ];
        let _ = parse_published_file(names[k], &bytes);
        let mut text = b"census_year,geographic_level,la_code,la_name,ehc_plans\n".to_vec();
        text.extend_from_slice(&bytes);
        let _ = parse_published_file(names[0], &text);
    }
}

#[test]
fn process_measures_england_did_not_collect_are_dropped() {
    // England's requests are 0 in 2015: not collected, so no LA's 2015 requests are used (never read as 0).
    let csv = b"calendar_year,geographic_level,la_code,la_name,inreq_ehc,ass_refused_ehc,tot_inc_exc_ehc,inc_exc20week_ehc\n\
2015,National,E92000001,England,0,10935,100,60\n\
2015,Local authority,E08000027,Dudley,12,15,10,6\n\
2016,National,E92000001,England,55235,14795,200,110\n\
2016,Local authority,E08000027,Dudley,267,36,239,217\n";
    let p = parse_process("ehcp_process_mi_la_2014_2021.csv", csv);
    let text = texts(&p);
    let s = p.value.unwrap();
    let dudley = la("E08000027");
    assert_eq!(s.get(dudley, Measure::Requests, 2015), None);
    assert_eq!(s.get(dudley, Measure::RequestsRefused, 2015), Some(15));
    assert_eq!(s.get(dudley, Measure::Requests, 2016), Some(267));
    assert_eq!(s.get(dudley, Measure::IssuedWithin20Weeks, 2016), Some(217));
    assert!(
        text.iter().any(|t| t.contains("column inreq_ehc is 0 for England in 2015: not collected that year, so not used for any LA")),
        "{text:?}"
    );
    let none = parse_process(
        "ehcp_process_mi_la_2014_2021.csv",
        b"calendar_year,geographic_level,la_code,la_name,other\n2016,Local authority,E08000027,Dudley,1\n",
    );
    assert!(none.has_errors());
    assert!(texts(&none)[0].contains("has none of the process columns inreq_ehc"));
}

#[test]
fn new_plans_and_age_rows_check_their_age_groups() {
    let p = parse_new_plans(
        "ehcp_new_plans_by_age_la_2009_2021.csv",
        b"calendar_year,geographic_level,la_code,la_name,age_group,new_plans\n\
2021,Local authority,E08000027,Dudley,total,414\n\
2021,Local authority,E08000027,Dudley,5_10,217\n\
2021,Local authority,E08000027,Dudley,teen,3\n",
    );
    let text = texts(&p);
    assert!(text[0].starts_with("ehcp_new_plans_by_age_la_2009_2021.csv:4: column age_group: \"teen\" is not an age group"), "{text:?}");
    let p = parse_caseload_by_age(
        "ehcp_caseload_by_age_la_2010_2022.csv",
        b"census_year,geographic_level,la_code,la_name,age_group,ehc_plans\n\
2022,Local authority,E08000027,Dudley,20_25,195\n\
2022,Local authority,E08000027,Dudley,total,3035\n",
    );
    let s = p.value.unwrap();
    assert_eq!(
        s.get(
            la("E08000027"),
            Measure::PlansByAge(AgeGroup::Age20To25),
            2022
        ),
        Some(195)
    );
    assert_eq!(
        s.figures.len(),
        1,
        "the total row is not a figure of its own"
    );
}

#[test]
fn lookup_files_are_checked() {
    let p = parse_setting_map(
        "setting_map_sen2_establishment_type.csv",
        b"establishment_type,setting_canonical\nHospital School,ap_pru_hospital\nHospital School,other\nOther,elsewhere\n",
    );
    let text = texts(&p);
    assert!(
        text.iter().any(|t| t.contains(
            ":3: establishment type \"Hospital School\" is mapped twice (first at line 2)"
        )),
        "{text:?}"
    );
    assert!(
        text.iter().any(|t| t
            .contains(":4: column setting_canonical: \"elsewhere\" is not a canonical setting")),
        "{text:?}"
    );
    let real = read_published_dir(&shared_data());
    assert!(
        !real.sources.is_empty() && real.sources.len() == 9,
        "{:?}",
        real.sources.len()
    );
}

#[test]
fn a_release_file_saved_as_xlsx_reads_the_same() {
    // An analyst who opened the headline file in Excel and saved it as .xlsx: numbers arrive as floats, empty
    // cells are absent, and errors name the sheet and row.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("caseload").unwrap();
    let head = [
        "census_year",
        "geographic_level",
        "la_code",
        "la_name",
        "ehc_plans",
        "statements",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let rows: [(f64, &str, &str, &str, f64); 3] = [
        (2022.0, "National", "E92000001", "England", 473_255.0),
        (2022.0, "Local authority", "E08000027", "Dudley", 3035.0),
        (2021.0, "Local authority", "E08000027", "Dudley", 2730.0),
    ];
    for (r, (y, level, code, name, plans)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_number(r, 0, *y).unwrap();
        ws.write_string(r, 1, *level).unwrap();
        ws.write_string(r, 2, *code).unwrap();
        ws.write_string(r, 3, *name).unwrap();
        ws.write_number(r, 4, *plans).unwrap();
    }
    ws.write_number(4, 0, 2020.0).unwrap();
    ws.write_string(4, 1, "Local authority").unwrap();
    ws.write_string(4, 2, "E08000027").unwrap();
    ws.write_string(4, 3, "Dudley").unwrap();
    ws.write_number(4, 4, 2340.5).unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let p = parse_published_file("ehcp_caseload_la_2010_2022.xlsx", &bytes);
    let text = texts(&p);
    assert_eq!(
        text,
        ["ehcp_caseload_la_2010_2022.xlsx[caseload]:5: column ehc_plans: \"2340.5\" is not a count: a whole number 0 or more, empty or z (not applicable), or c, x, low (suppressed)"]
    );
    // Without the bad row the workbook reads like the CSV.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in head.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (y, level, code, name, plans)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_number(r, 0, *y).unwrap();
        ws.write_string(r, 1, *level).unwrap();
        ws.write_string(r, 2, *code).unwrap();
        ws.write_string(r, 3, *name).unwrap();
        ws.write_number(r, 4, *plans).unwrap();
    }
    let p = parse_published_file(
        "ehcp_caseload_la_2010_2022.xlsx",
        &wb.save_to_buffer().unwrap(),
    );
    let s = p.value.expect("no errors");
    assert_eq!(s.get(la("E08000027"), Measure::Plans, 2022), Some(3035));
    assert_eq!(
        s.get(LaCode::england(), Measure::Plans, 2022),
        Some(473_255)
    );
}
