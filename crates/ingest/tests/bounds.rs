//! Issue #14's faults in the readers: zip bombs, dense-cell bombs, non-regular files, header-only files and
//! implausible values. Each test failed before its fix.

#[path = "common/bombs.rs"]
mod bombs;

use highneeds_ingest::{parse_bytes, FileKind, Parsed};

fn texts<T>(p: &Parsed<T>) -> Vec<String> {
    p.issues.iter().map(ToString::to_string).collect()
}

fn has<T>(p: &Parsed<T>, needle: &str) -> bool {
    texts(p).iter().any(|t| t.contains(needle))
}

#[test]
fn a_workbook_that_inflates_past_the_bound_is_refused() {
    // 300 MB of whitespace inside the sheet: about 300 KB on disk.
    let wb = bombs::inflating_costs(300 << 20);
    assert!(
        wb.len() < 2 << 20,
        "the bomb is small on disk: {}",
        wb.len()
    );
    let p = parse_bytes(FileKind::Costs, "costs.xlsx", &wb);
    assert!(p.value.is_none());
    assert!(
        has(
            &p,
            "workbook inflates to more than 268435456 bytes (entry \"xl/worksheets/sheet1.xml\")"
        ),
        "{:?}",
        texts(&p)
    );
    // The same zip named .ods (an OpenDocument spreadsheet, not read) is bounded before anything else.
    let p = parse_bytes(FileKind::Costs, "costs.ods", &wb);
    assert!(has(&p, "workbook inflates to more than"), "{:?}", texts(&p));
}

#[test]
fn a_workbook_under_the_bound_is_read() {
    let wb = bombs::inflating_costs(1 << 20);
    let p = parse_bytes(FileKind::Costs, "costs.xlsx", &wb);
    assert!(p.value.is_some(), "{:?}", texts(&p));
}

#[test]
fn declared_sizes_over_the_bound_are_refused_before_inflating() {
    let wb = bombs::declare_uncompressed_size(bombs::inflating_costs(0), 0xF000_0000);
    let p = parse_bytes(FileKind::Costs, "costs.xlsx", &wb);
    assert!(p.value.is_none());
    assert!(has(&p, "workbook inflates to more than"), "{:?}", texts(&p));
}

#[test]
fn lying_small_declared_sizes_are_caught_by_inflating() {
    let wb = bombs::declare_uncompressed_size(bombs::inflating_costs(300 << 20), 100);
    let p = parse_bytes(FileKind::Costs, "costs.xlsx", &wb);
    assert!(p.value.is_none());
    assert!(
        has(&p, "workbook inflates to more than") || has(&p, "corrupt XLSX workbook"),
        "{:?}",
        texts(&p)
    );
}

#[test]
fn cells_far_to_the_right_cannot_explode_into_a_dense_grid() {
    // 5,000 rows each with one cell in column ALL (1,000): 5 million cells if every row were built dense.
    let wb = bombs::far_cells(5_000, 1_000);
    let p = parse_bytes(FileKind::Transitions, "transitions.xlsx", &wb);
    assert!(p.value.is_none());
    assert!(has(&p, "has more than 4000000 cells"), "{:?}", texts(&p));
}

#[cfg(unix)]
#[test]
fn devices_and_named_pipes_are_refused_at_once() {
    let p = highneeds_ingest::read_transitions(std::path::Path::new("/dev/zero"), None);
    assert!(p.value.is_none());
    assert!(has(&p, "is not a regular file"), "{:?}", texts(&p));

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("transitions.csv");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path and a mode; no memory is shared.
    assert_eq!(unsafe { libc_mkfifo(c.as_ptr(), 0o600) }, 0);
    // Opening a FIFO with no writer would block forever: the reader must refuse it from its metadata.
    let p = highneeds_ingest::read_transitions(&fifo, None);
    assert!(has(&p, "is not a regular file"), "{:?}", texts(&p));
    let keyer = highneeds_ingest::sen2::PersonKeyer::new(b"sixteen bytes or more of key").unwrap();
    let p = highneeds_ingest::sen2::read_sen2(&fifo, &keyer);
    assert!(has(&p, "is not a regular file"), "{:?}", texts(&p));
}

#[cfg(unix)]
extern "C" {
    #[link_name = "mkfifo"]
    fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}

#[test]
fn a_header_only_file_is_valid_with_a_warning() {
    for bytes in [&b"need,setting,cost\n"[..], b"need,setting,cost\n\n\n  \n"] {
        let p = parse_bytes(FileKind::Costs, "costs.csv", bytes);
        assert!(p.value.is_some());
        assert!(
            has(
                &p,
                "costs.csv: warning: has no data rows, only its header line"
            ),
            "{:?}",
            texts(&p)
        );
    }
}

#[test]
fn census_years_after_this_year_are_counted() {
    let text = "calendar-year,academic-year,population\n2099,1,100\n2099,2,100\n2020,1,100\n";
    let p = parse_bytes(FileKind::Population, "population.csv", text.as_bytes());
    assert!(p.value.is_some());
    assert!(
        has(
            &p,
            "warning: 2 rows with a calendar-year more than 30 years after this year"
        ),
        "{:?}",
        texts(&p)
    );
    let text = "census_year,plans,new_plans\n2020,100,10\n2099,100,10\n";
    let p = highneeds_ingest::parse_totals("totals.csv", text.as_bytes());
    assert!(
        has(&p, "warning: 1 row with a census_year after this year"),
        "{:?}",
        texts(&p)
    );
}

#[test]
fn population_all_zero_is_an_error_and_huge_is_a_warning() {
    let zero = "calendar-year,academic-year,population\n2020,1,0\n2020,2,0\n";
    let p = parse_bytes(FileKind::Population, "population.csv", zero.as_bytes());
    assert!(p.value.is_none());
    assert!(
        has(&p, "every population count (2 rows) is 0"),
        "{:?}",
        texts(&p)
    );
    let huge = "calendar-year,academic-year,population\n2020,1,5000000\n2020,2,100\n";
    let p = parse_bytes(FileKind::Population, "population.csv", huge.as_bytes());
    assert!(p.value.is_some());
    assert!(
        has(&p, "1 row with a population above 1,000,000"),
        "{:?}",
        texts(&p)
    );
}

#[test]
fn a_unit_cost_beyond_ten_million_pounds_is_refused() {
    let text =
        "need,setting,cost\nASD,MSSA,92233720368547758\nASD,SP,10000000.01\nASD,XX,10000000\n";
    let p = parse_bytes(FileKind::Costs, "costs.csv", text.as_bytes());
    assert!(p.value.is_none());
    let t = texts(&p);
    assert!(
        t.iter()
            .any(|t| t.contains(":3: column cost: \"10000000.01\" is more than £10,000,000")),
        "{t:?}"
    );
    assert!(t.iter().all(|t| !t.contains(":4:")), "{t:?}");
}

#[test]
fn valid_states_that_forbid_every_move_are_a_warning() {
    let text = "setting,setting-group,min-academic-year,max-academic-year,needs,setting->setting\n\
                MSSA,mainstream,-4,14,ASD,\nSP,special,-4,20,ASD,\n";
    let p = parse_bytes(FileKind::ValidStates, "valid-states.csv", text.as_bytes());
    assert!(
        has(&p, "all 2 settings forbid every move"),
        "{:?}",
        texts(&p)
    );
}

#[test]
fn conflicting_duplicate_urns_in_the_register_are_counted() {
    let text = "URN,TypeOfEstablishment (name),UKPRN,EstablishmentTypeGroup (name),PhaseOfEducation (name)\n\
                100000,Community special school,,Special schools,Primary\n\
                100000,Academy converter,,Academies,Primary\n\
                100001,Academy converter,,Academies,Primary\n\
                100001,Academy converter,,Academies,Primary\n";
    let p = highneeds_ingest::sen2::parse_establishments("establishments.csv", text.as_bytes());
    let t = texts(&p);
    assert!(
        t.iter()
            .any(|t| t
                .contains("1 row repeating a URN or UKPRN with a different TypeOfEstablishment")),
        "{t:?}"
    );
}
