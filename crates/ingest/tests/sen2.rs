//! The SEN2 reader on the shared samples (read in place at ../shared) and on broken input.

use std::path::{Path, PathBuf};

use highneeds_domain::sen2::{
    census_of, flows_of, CeaseReason, EstablishmentRegister, Place, RequestOutcome,
};
use highneeds_domain::{CanonicalSetting, CensusYear, Sen2Need, SettingMap};
use highneeds_ingest::sen2::{parse_sen2, read_sen2, PersonKeyer};
use highneeds_ingest::{Issue, Severity};
use proptest::prelude::*;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/formats/sen2-samples")
}
fn keyer() -> PersonKeyer {
    PersonKeyer::new(b"a test key of at least sixteen bytes").unwrap()
}
fn show(issues: &[Issue]) -> Vec<String> {
    issues.iter().map(ToString::to_string).collect()
}
fn minimal() -> String {
    std::fs::read_to_string(samples().join("sen2-minimal-example.xml")).unwrap()
}
fn mockup() -> String {
    std::fs::read_to_string(samples().join("liia-tools_SEN2-2024-mockup.xml")).unwrap()
}
/// Every name, postcode, UPN and ULN in the two samples: none may appear in any issue.
const PERSONAL: [&str; 16] = [
    "Example",
    "Alex",
    "Sample",
    "Sam",
    "ZZ99",
    "X123456789832",
    "TestFamilyName1",
    "TestFirstname1",
    "RequestRefused",
    "TestFirstname2",
    "AA11AA",
    "AB11CD",
    "X123456789875",
    "1234567890",
    "1234567089",
    "2002-01-01",
];

fn assert_no_personal_data(issues: &[Issue]) {
    for i in show(issues) {
        for p in PERSONAL {
            assert!(!i.contains(p), "{p:?} appears in {i:?}");
        }
    }
}

#[test]
fn minimal_sample_reads_cleanly() {
    let parsed = read_sen2(&samples().join("sen2-minimal-example.xml"), &keyer());
    assert_eq!(show(&parsed.issues), Vec::<String>::new());
    let ret = parsed.value.unwrap();
    assert_eq!(ret.header.census_year, CensusYear::new(2025).unwrap());
    assert_eq!(ret.header.lea.as_deref(), Some("999"));
    assert_eq!(ret.persons.len(), 2);
    assert_eq!(parsed.sources[0].rows, 2);
    assert_eq!(parsed.sources[0].sha256.len(), 64);
    // Person 1: an ASD plan at URN 100000 with resourced provision; person 2: ceased in 2024, reason 2.
    let p1 = &ret.persons[0];
    let active = p1.requests[0].active_plan.as_ref().unwrap();
    assert_eq!(active.primary_need(), Some(Sen2Need::Asd));
    assert_eq!(active.placements[0].place, Some(Place::Urn(100000)));
    assert!(active.placements[0].resourced_provision);
    assert!(p1.pupil_key.is_some());
    assert_eq!(ret.persons[1].pupil_key, None);
    // The keys are the keyer's: same input, same key; another key, another pseudonym.
    let again = read_sen2(&samples().join("sen2-minimal-example.xml"), &keyer());
    assert_eq!(again.value.unwrap().persons[0].key, p1.key);
    let other = PersonKeyer::new(b"another key of sixteen bytes or more").unwrap();
    let theirs = parse_sen2("m.xml", minimal().as_bytes(), &other);
    assert_ne!(theirs.value.unwrap().persons[0].key, p1.key);

    // Census 2025 (reference 16 January 2025): one active plan, born 4 May 2015 → age 9 on 31 August 2024 →
    // NCY 5; URN 100000 is in no register, so its setting is `other`.
    let (census, notes) = census_of(
        &ret,
        &EstablishmentRegister::default(),
        &SettingMap::shipped(),
    );
    assert_eq!(census.plans.len(), 1);
    assert_eq!(census.plans[0].ncy.value(), 5);
    assert_eq!(census.plans[0].setting, CanonicalSetting::Other);
    assert_eq!(notes.establishment_unknown, 1);
    assert_eq!(census.ceased.len(), 1);
    assert_eq!(
        census.ceased[0].reason,
        Some(CeaseReason::NeedsMetWithoutPlan)
    );
    // Flows in 2024: one request (5 Feb), plan 14 June = 130 days: within 20 weeks.
    let f = flows_of(&ret);
    assert_eq!(
        (f.requests, f.new_plans, f.new_plans_within_20_weeks),
        (1, 1, 1)
    );
    assert_eq!(
        f.request_outcomes.get(&Some(RequestOutcome::Assess)),
        Some(&1)
    );
    assert_eq!(f.cessations_total(), 1);
}

#[test]
fn mockup_faults_are_warnings_with_counts() {
    let parsed = read_sen2(&samples().join("liia-tools_SEN2-2024-mockup.xml"), &keyer());
    assert!(!parsed.has_errors(), "{:#?}", show(&parsed.issues));
    let path = samples().join("liia-tools_SEN2-2024-mockup.xml");
    let f = path.display().to_string();
    let expected = [
        "14: warning: element DateTime: 1 date before the ReferenceDate: the return says it was made before its census",
        "29: warning: element UPNunknown: 2 elements left empty (treated as absent) (first: person 1)",
        "27: warning: element UPN: 1 person whose UPN fails the DfE check letter (CBDS 1510) (person 1)",
        "37: warning: element Exported: 3 elements left empty (treated as absent) (first: person 1)",
        "48: warning: element PlanDetail: 2 placements giving more than one of URN, UKPRN and SENSetting (URN, then UKPRN, is used) (first: person 1)",
        "60: warning: element SENSetting: 3 elements left empty (treated as absent) (first: person 1)",
        "61: warning: element SENSettingOther: 3 elements left empty (treated as absent) (first: person 1)",
        "76: warning: element TransferLA: 1 element left empty (treated as absent) (person 1)",
        "77: warning: element PlacementDetail: 2 placements giving more than one of URN, UKPRN and SENSetting (URN, then UKPRN, is used) (first: person 1)",
        "75: warning: element ActivePlans: 1 active plan with no placement open at the ReferenceDate (person 1)",
        "75: warning: element ActivePlans: 1 plan ceased on or before the ReferenceDate yet with ActivePlans (not counted as active) (person 1)",
        "135: warning: element Assessment: 1 request with an Assessment though the RequestOutcome is N or W (person 2)",
        "142: warning: element RequestOutcomeDate: 1 element left empty (treated as absent) (person 2)",
    ];
    let want: Vec<String> = expected.iter().map(|e| format!("{f}:{e}")).collect();
    assert_eq!(show(&parsed.issues), want);
    assert_no_personal_data(&parsed.issues);
    // Nothing dropped silently: both persons are read; the ceased plan is not in the stock, and its cessation
    // (31 December 2023, reason 4) is in the 2023 flows.
    let ret = parsed.value.unwrap();
    assert_eq!(ret.persons.len(), 2);
    assert_eq!(ret.persons[1].requests.len(), 2);
    let (census, notes) = census_of(
        &ret,
        &EstablishmentRegister::default(),
        &SettingMap::shipped(),
    );
    assert!(census.plans.is_empty());
    assert_eq!(notes.ceased_but_active, 1);
    let flows = flows_of(&ret);
    assert_eq!(
        flows.cessations.get(&Some(CeaseReason::PaidEmployment)),
        Some(&1)
    );
    assert_eq!(flows.requests, 3);
}

fn errors_of(name: &str, text: &str) -> Vec<String> {
    let parsed = parse_sen2(name, text.as_bytes(), &keyer());
    assert!(parsed.value.is_none(), "{name} was accepted");
    assert_no_personal_data(&parsed.issues);
    parsed
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(ToString::to_string)
        .collect()
}

#[test]
fn truncated_and_non_xml_files_are_refused() {
    let text = minimal();
    let cut = &text[..text.find("<Forename>Sam").unwrap()];
    assert_eq!(
        errors_of("cut.xml", cut),
        vec!["cut.xml:44: the file ends inside <person> before </Message>: it is truncated"]
    );
    assert_eq!(
        errors_of("empty.xml", "  \n"),
        vec!["empty.xml: empty: no XML elements (a SEN2 return starts with <Message>)"]
    );
    let csv = "child_id,census_year\nC1,2024\n";
    assert_eq!(
        errors_of("plans.xml", csv),
        vec!["plans.xml:1: text outside the root element: not an XML SEN2 return"]
    );
    let other = "<?xml version=\"1.0\"?>\n<Workbook><Sheet/></Workbook>";
    assert_eq!(
        errors_of("book.xml", other),
        vec!["book.xml:2: element Workbook: not a SEN2 return: the root element is <Workbook>, expected <Message>"]
    );
    let bad = text.replace("</Surname>", "</Surnam>");
    let e = errors_of("bad.xml", &bad);
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("bad.xml:15: not well-formed XML"), "{e:?}");
    // Broken XML inside a personal element never quotes the text: not the entity's name, not quick-xml's message.
    let surname = text
        .split("<Surname>")
        .nth(1)
        .and_then(|t| t.split("</Surname>").next())
        .unwrap()
        .to_string();
    for broken in [
        text.replacen(
            &format!("<Surname>{surname}"),
            &format!("<Surname>{surname}&Marie;"),
            1,
        ),
        text.replacen(
            &format!("<Surname>{surname}</Surname>"),
            &format!("<Surname>{surname}</Forename>"),
            1,
        ),
        text.replacen(
            &format!("<Surname>{surname}"),
            &format!("<Surname>{surname}&#xZZ;"),
            1,
        ),
    ] {
        let e = errors_of("name.xml", &broken);
        assert!(!e.is_empty());
        for issue in &e {
            assert!(
                !issue.contains("Marie") && !issue.contains(&surname),
                "{issue}"
            );
        }
    }
    let binary: Vec<u8> = (0u8..=255).cycle().take(4000).collect();
    let parsed = parse_sen2("bin.xml", &binary[..], &keyer());
    assert!(parsed.has_errors() && parsed.value.is_none());
}

#[test]
fn schema_level_gaps_refuse_the_file() {
    let text = minimal();
    let no_header = {
        let a = text.find("<Header>").unwrap();
        let b = text.find("</Header>").unwrap() + "</Header>".len();
        format!("{}{}", &text[..a], &text[b..])
    };
    assert!(errors_of("h.xml", &no_header)
        .iter()
        .any(|e| e.contains("<Persons> before a usable <Header>")));
    let no_persons = {
        let a = text.find("<Persons>").unwrap();
        let b = text.find("</Persons>").unwrap() + "</Persons>".len();
        format!("{}{}", &text[..a], &text[b..])
    };
    assert_eq!(
        errors_of("p.xml", &no_persons),
        vec!["p.xml: element Persons: no <Persons>: not a SEN2 return"]
    );
    let no_dob = text.replace("<PersonBirthDate>2008-10-30</PersonBirthDate>", "");
    assert_eq!(
        errors_of("d.xml", &no_dob),
        vec!["d.xml:43: element Person 2/PersonBirthDate: missing: <Person> must have a <PersonBirthDate>"]
    );
    let bad_dob = text.replace("2008-10-30", "30/10/2008");
    assert_eq!(
        errors_of("d.xml", &bad_dob),
        vec!["d.xml:45: element Person 2/PersonBirthDate: is not a date YYYY-MM-DD"]
    );
    let no_outcome = text.replace("<RequestOutcome>H</RequestOutcome>", "");
    assert_eq!(
        errors_of("o.xml", &no_outcome),
        vec!["o.xml:47: element Person 2/Requests 1/RequestOutcome: missing: <Requests> must have a <RequestOutcome>"]
    );
    let not_sen2 = text.replace(
        "<Collection>SEN2</Collection>",
        "<Collection>SCHOOLCENSUS</Collection>",
    );
    assert_eq!(
        errors_of("c.xml", &not_sen2),
        vec!["c.xml:5: element Header/CollectionDetails/Collection: \"SCHOOLCENSUS\" is not SEN2: this is not a SEN2 return"]
    );
}

#[test]
fn layouts_are_read_by_name_in_any_order_and_case() {
    // Elements reordered, lower-cased, a 2023 GenderCurrent, a namespace prefix, an unknown element, CRLF.
    let text = minimal()
        .replace("<Sex>F</Sex>", "<GenderCurrent>2</GenderCurrent>")
        .replace(
            "<SENtype>ASD</SENtype><SENtypeRank>1</SENtypeRank>",
            "<sentyperank>1</sentyperank><sentype>asd</sentype>",
        )
        .replace("<Requests>", "<Requests><FutureField>x</FutureField>")
        .replace("PostCode", "Postcode")
        .replace('\n', "\r\n");
    let parsed = parse_sen2("x.xml", text.as_bytes(), &keyer());
    let shown = show(&parsed.issues);
    assert_eq!(
        shown,
        vec!["x.xml:18: warning: element Requests/futurefield: 2 elements not in the SEN2 2023-2026 layouts (ignored) (first: person 1)"]
    );
    let ret = parsed.value.unwrap();
    let a = ret.persons[0].requests[0].active_plan.as_ref().unwrap();
    assert_eq!(a.primary_need(), Some(Sen2Need::Asd));
    let base = parse_sen2("m.xml", minimal().as_bytes(), &keyer())
        .value
        .unwrap();
    assert_eq!(ret.persons[0].key, base.persons[0].key);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    /// Any bytes, and any corruption of a real return: never a panic, and a value only without errors.
    #[test]
    fn never_panics(cut in 0usize..3000, flip in 0usize..3000, byte in any::<u8>(), junk in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut bytes = mockup().into_bytes();
        let n = bytes.len();
        bytes[flip % n] = byte;
        bytes.truncate(cut % (n + 1));
        bytes.extend_from_slice(&junk);
        let parsed = parse_sen2("fuzz.xml", &bytes[..], &keyer());
        prop_assert_eq!(parsed.value.is_some(), !parsed.has_errors());
        for i in &parsed.issues {
            let _ = i.to_string();
        }
        let parsed = parse_sen2("junk.xml", &junk[..], &keyer());
        prop_assert!(parsed.value.is_none() || !parsed.has_errors());
    }
}

#[test]
fn gias_export_is_read_by_its_column_names() {
    use highneeds_domain::sen2::{placement_setting, Placement};
    use highneeds_ingest::sen2::parse_establishments;
    // GIAS's real header (abridged: the export has ~130 columns), Windows-1252 text (0xE9 = é) in a name.
    let mut csv = b"URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (code),\
TypeOfEstablishment (name),EstablishmentTypeGroup (code),EstablishmentTypeGroup (name),EstablishmentStatus (name),\
PhaseOfEducation (code),PhaseOfEducation (name),UKPRN\n"
        .to_vec();
    csv.extend_from_slice(b"100001,201,City of London,3614,Sir John Cass's Foundation Primary School,02,Voluntary aided school,4,Local authority maintained schools,Open,2,Primary,10079319\n");
    csv.extend_from_slice(b"100002,201,City of London,7001,\"Ecole Saint-Andr\xe9, Special\",07,Community special school,4,Special schools,Open,0,Not applicable,\n");
    csv.extend_from_slice(
        b",,,,Big College,18,Further education,1,Colleges,Open,0,16 plus,10001234\n",
    );
    csv.extend_from_slice(b"abc,,,,Broken,,,,,,,,\n");
    let parsed = parse_establishments("edubasealldata.csv", &csv);
    let shown = show(&parsed.issues);
    assert_eq!(
        shown,
        vec!["edubasealldata.csv: warning: 1 row with neither a 6-digit URN nor an 8-digit UKPRN (skipped) (line 5)"]
    );
    assert_eq!(parsed.sources[0].rows, 4);
    let reg = parsed.value.unwrap();
    let map = SettingMap::shipped();
    let at = |place: Place, rp: bool| {
        placement_setting(
            &Placement {
                place: Some(place),
                rank: 1,
                entry: None,
                leaving: None,
                sen_unit: false,
                resourced_provision: rp,
            },
            &reg,
            &map,
        )
    };
    assert_eq!(
        at(Place::Urn(100001), false),
        Some(CanonicalSetting::Mainstream)
    );
    assert_eq!(
        at(Place::Urn(100001), true),
        Some(CanonicalSetting::MainstreamResourcedProvisionOrUnit)
    );
    assert_eq!(
        at(Place::Ukprn(10079319), false),
        Some(CanonicalSetting::Mainstream)
    );
    assert_eq!(
        at(Place::Urn(100002), true),
        Some(CanonicalSetting::SpecialMaintained)
    );
    assert_eq!(
        at(Place::Ukprn(10001234), false),
        Some(CanonicalSetting::FurtherEducation)
    );
    assert_eq!(at(Place::Urn(999999), false), None);
    // Not a GIAS file: named, refused.
    let bad = parse_establishments("x.csv", b"child_id,census_year\nC1,2024\n");
    assert!(bad.value.is_none());
    assert_eq!(
        show(&bad.issues),
        vec![
            "x.csv:1: column URN: missing from the header line: is this GIAS's all-establishments CSV export?",
            "x.csv:1: column TypeOfEstablishment (name): missing from the header line: is this GIAS's all-establishments CSV export?",
        ]
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(minimal().as_bytes());
    let parsed = parse_sen2("bom.xml", &bytes[..], &keyer());
    assert_eq!(show(&parsed.issues), Vec::<String>::new());
    assert_eq!(parsed.value.unwrap().persons.len(), 2);
}

fn byte_errors(name: &str, bytes: &[u8]) -> Vec<String> {
    let parsed = parse_sen2(name, bytes, &keyer());
    assert!(parsed.value.is_none(), "{name} was accepted");
    assert_no_personal_data(&parsed.issues);
    parsed.errors().map(ToString::to_string).collect()
}

#[test]
fn other_encodings_are_refused_with_a_clear_message() {
    let utf16: Vec<u8> = std::iter::once(0xFEFFu16)
        .chain(minimal().encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(
        byte_errors("u16.xml", &utf16),
        vec!["u16.xml:1: the file is UTF-16 text: a SEN2 return is UTF-8 XML (save or export it as UTF-8)"]
    );
    // A Windows-1252 é in a name, undeclared: refused, naming the line but not the name.
    let latin1 = minimal().replace("Alex", "Al\u{e9}x");
    let bytes: Vec<u8> = latin1.chars().map(|c| c as u32 as u8).collect();
    let e = byte_errors("l1.xml", &bytes);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("l1.xml:15: is not UTF-8 text here"),
        "{e:?}"
    );
    // Declared as Windows-1252: decoded, and the person's key is the key of the same name written in UTF-8.
    let declared = latin1.replace("encoding=\"UTF-8\"", "encoding=\"windows-1252\"");
    let bytes: Vec<u8> = declared.chars().map(|c| c as u32 as u8).collect();
    let parsed = parse_sen2("w.xml", &bytes[..], &keyer());
    assert_eq!(show(&parsed.issues), Vec::<String>::new());
    let utf8 = parse_sen2("u.xml", latin1.as_bytes(), &keyer());
    assert_eq!(
        parsed.value.unwrap().persons[0].key,
        utf8.value.unwrap().persons[0].key
    );
    // The hash is of the file's own bytes.
    assert_eq!(
        parsed.sources[0].sha256,
        highneeds_ingest::sha256_hex(&bytes)
    );
}
