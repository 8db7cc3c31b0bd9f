//! One captured `<Person>` (or `<Header>`) element tree → domain records, with every problem as an issue.
//!
//! Rules (SEN2.md §6): a missing mandatory element (or an unreadable date of birth) refuses the file;
//! data-quality problems are warnings, tallied by kind with the first line and person. Messages name the person
//! by position ("person 17") and never quote a name, date of birth, postcode, UPN or ULN.

use chrono::NaiveDate;
use highneeds_domain::sen2::{
    ActivePlan, Assessment, AssessmentOutcome, CeaseReason, NamedPlan, PersonKey, Place, Placement,
    Request, RequestOutcome, Sen2Header, Sen2Person, Sen2Setting, Sex,
};
use highneeds_domain::{CensusYear, Sen2Need};

use super::key::PersonKeyer;
use super::parse::{parse_date, parse_year, Node};
use crate::issue::{Issue, Severity, MAX_ERRORS_PER_FILE};

/// Longest value quoted back.
const MAX_VALUE_CHARS: usize = 40;

/// Elements whose values are personal and never quoted.
const PERSONAL: [&str; 7] = [
    "surname",
    "forename",
    "personbirthdate",
    "postcode",
    "upn",
    "uniquelearnernumber",
    "ethnicity",
];

struct Tally {
    element: String,
    noun: (&'static str, &'static str),
    what: String,
    count: u64,
    line: u64,
    person: Option<u64>,
}

/// Issues of one SEN2 file: errors (capped) and warnings tallied by kind.
pub(crate) struct Check<'k> {
    file: String,
    pub(crate) keyer: &'k PersonKeyer,
    issues: Vec<Issue>,
    errors: usize,
    tallies: Vec<Tally>,
}

impl<'k> Check<'k> {
    pub(crate) fn new(file: &str, keyer: &'k PersonKeyer) -> Self {
        Self {
            file: file.to_string(),
            keyer,
            issues: Vec::new(),
            errors: 0,
            tallies: Vec::new(),
        }
    }

    pub(crate) fn error(
        &mut self,
        line: Option<u64>,
        element: Option<String>,
        value: Option<&str>,
        rule: String,
    ) {
        self.errors += 1;
        if self.errors <= MAX_ERRORS_PER_FILE {
            self.issues.push(Issue {
                file: self.file.clone(),
                sheet: None,
                line,
                column: element,
                value: value.map(|v| v.chars().take(MAX_VALUE_CHARS).collect()),
                rule,
                severity: Severity::Error,
            });
        }
    }

    /// Count one warning of a kind (element + what); reported once with the count, first line and person.
    pub(crate) fn tally(
        &mut self,
        element: &str,
        noun: (&'static str, &'static str),
        what: &str,
        line: u64,
        person: Option<u64>,
    ) {
        if let Some(t) = self
            .tallies
            .iter_mut()
            .find(|t| t.element == element && t.what == what)
        {
            t.count += 1;
            return;
        }
        self.tallies.push(Tally {
            element: element.to_string(),
            noun,
            what: what.to_string(),
            count: 1,
            line,
            person,
        });
    }

    pub(crate) fn tally_unknown(
        &mut self,
        parent: &str,
        name: &str,
        line: u64,
        person: Option<u64>,
    ) {
        let element = format!(
            "{parent}/{}",
            name.chars().take(MAX_VALUE_CHARS).collect::<String>()
        );
        self.tally(
            &element,
            ("element", "elements"),
            "not in the SEN2 2023-2026 layouts (ignored)",
            line,
            person,
        );
    }

    pub(crate) fn finish(mut self) -> Vec<Issue> {
        if self.errors > MAX_ERRORS_PER_FILE {
            let more = self.errors - MAX_ERRORS_PER_FILE;
            self.issues.push(Issue {
                file: self.file.clone(),
                sheet: None,
                line: None,
                column: None,
                value: None,
                rule: format!(
                    "... and {more} more error{}",
                    if more == 1 { "" } else { "s" }
                ),
                severity: Severity::Error,
            });
        }
        for t in std::mem::take(&mut self.tallies) {
            let noun = if t.count == 1 { t.noun.0 } else { t.noun.1 };
            let at = match t.person {
                Some(p) if t.count == 1 => format!(" (person {p})"),
                Some(p) => format!(" (first: person {p})"),
                None => String::new(),
            };
            self.issues.push(Issue {
                file: self.file.clone(),
                sheet: None,
                line: Some(t.line),
                column: Some(t.element),
                value: None,
                rule: format!("{} {noun} {}{at}", t.count, t.what),
                severity: Severity::Warning,
            });
        }
        self.issues
    }
}

/// The known children of `<Source>` (lower case).
const SOURCE_CHILDREN: &[&str] = &[
    "sourcelevel",
    "lea",
    "softwarecode",
    "release",
    "serialno",
    "datetime",
    "dmo",
    "dco",
];

/// The known children of `<Person>` (lower case).
const PERSON_CHILDREN: &[&str] = &[
    "surname",
    "forename",
    "personbirthdate",
    "sex",
    "gendercurrent",
    "ethnicity",
    "postcode",
    "upn",
    "uniquelearnernumber",
    "upnunknown",
    "requests",
];

/// The known children of `<Requests>` (lower case).
const REQUESTS_CHILDREN: &[&str] = &[
    "receiveddate",
    "requestsource",
    "rya",
    "requestoutcomedate",
    "requestoutcome",
    "requestmediation",
    "requesttribunal",
    "exported",
    "assessment",
    "activeplans",
];

/// The known children of `<Assessment>` (lower case).
const ASSESSMENT_CHILDREN: &[&str] = &[
    "assessmentoutcome",
    "assessmentoutcomedate",
    "assessmentmediation",
    "assessmenttribunal",
    "othermediation",
    "othertribunal",
    "week20",
    "namedplan",
];

/// The known children of `<NamedPlan>` (lower case).
const NAMED_PLAN_CHILDREN: &[&str] = &[
    "startdate",
    "plandetail",
    "planres",
    "planwbp",
    "planwpb",
    "pb",
    "oa",
    "dp",
    "ceasedate",
    "ceasereason",
];

/// The known children of `<PlanDetail>` (lower case).
const PLAN_DETAIL_CHILDREN: &[&str] = &[
    "urn",
    "ukprn",
    "sensetting",
    "sensettingother",
    "placementrank",
    "senunitindicator",
    "resourcedprovisionindicator",
];

/// The known children of `<ActivePlans>` (lower case).
const ACTIVE_PLANS_CHILDREN: &[&str] = &[
    "transferla",
    "placementdetail",
    "senneed",
    "reviewmeeting",
    "reviewoutcome",
    "reviewdraft",
    "phasetransferduedate",
    "phasetransferfinaldate",
    "lastreview",
    "res",
    "wbp",
    "wpb",
];

/// The known children of `<PlacementDetail>` (lower case).
const PLACEMENT_DETAIL_CHILDREN: &[&str] = &[
    "urn",
    "ukprn",
    "sensetting",
    "sensettingother",
    "placementrank",
    "entrydate",
    "leavingdate",
    "senunitindicator",
    "resourcedprovisionindicator",
    "res",
    "wbp",
    "wpb",
    "attendancepattern",
];

/// Known children of each element (lower case), to warn about anything else.
fn known(parent: &str) -> &'static [&'static str] {
    match parent {
        "header" => &["collectiondetails", "source"],
        "collectiondetails" => &["collection", "year", "referencedate"],
        "source" => SOURCE_CHILDREN,
        "person" => PERSON_CHILDREN,
        "requests" => REQUESTS_CHILDREN,
        "assessment" => ASSESSMENT_CHILDREN,
        "namedplan" => NAMED_PLAN_CHILDREN,
        "plandetail" => PLAN_DETAIL_CHILDREN,
        "activeplans" => ACTIVE_PLANS_CHILDREN,
        "placementdetail" => PLACEMENT_DETAIL_CHILDREN,
        "senneed" => &["sentype", "sentyperank"],
        _ => &[],
    }
}

/// The header's elements, as SEN2.md spells them.
const HEADER_SPELLINGS: [&str; 14] = [
    "Header",
    "CollectionDetails",
    "Collection",
    "Year",
    "ReferenceDate",
    "Source",
    "SourceLevel",
    "LEA",
    "SoftwareCode",
    "Release",
    "SerialNo",
    "DateTime",
    "DMO",
    "DCO",
];

/// A person's own elements, as SEN2.md spells them.
const PERSON_SPELLINGS: [&str; 11] = [
    "Person",
    "Surname",
    "Forename",
    "PersonBirthDate",
    "Sex",
    "GenderCurrent",
    "Ethnicity",
    "PostCode",
    "UPN",
    "UniqueLearnerNumber",
    "UPNunknown",
];

/// A request's elements, as SEN2.md spells them.
const REQUEST_SPELLINGS: [&str; 9] = [
    "Requests",
    "ReceivedDate",
    "RequestSource",
    "RYA",
    "RequestOutcomeDate",
    "RequestOutcome",
    "RequestMediation",
    "RequestTribunal",
    "Exported",
];

/// An assessment's elements (and `ActivePlans`), as SEN2.md spells them.
const ASSESSMENT_SPELLINGS: [&str; 9] = [
    "Assessment",
    "ActivePlans",
    "AssessmentOutcome",
    "AssessmentOutcomeDate",
    "AssessmentMediation",
    "AssessmentTribunal",
    "OtherMediation",
    "OtherTribunal",
    "Week20",
];

/// A named plan's and a plan detail's elements, as SEN2.md spells them.
const PLAN_SPELLINGS: [&str; 18] = [
    "NamedPlan",
    "StartDate",
    "PlanDetail",
    "PlanRes",
    "PlanWBP",
    "PB",
    "OA",
    "DP",
    "CeaseDate",
    "CeaseReason",
    "URN",
    "UKPRN",
    "SENSetting",
    "SENSettingOther",
    "PlacementRank",
    "SENunitIndicator",
    "ResourcedProvisionIndicator",
    "TransferLA",
];

/// The active plans' elements, as SEN2.md spells them.
const ACTIVE_PLAN_SPELLINGS: [&str; 13] = [
    "PlacementDetail",
    "SENneed",
    "ReviewMeeting",
    "ReviewOutcome",
    "ReviewDraft",
    "PhaseTransferDueDate",
    "PhaseTransferFinalDate",
    "LastReview",
    "Res",
    "WBP",
    "EntryDate",
    "LeavingDate",
    "SENtype",
];

/// Every element SEN2.md names, in the order they are looked up.
const SPELLINGS: [&[&str]; 6] = [
    &HEADER_SPELLINGS,
    &PERSON_SPELLINGS,
    &REQUEST_SPELLINGS,
    &ASSESSMENT_SPELLINGS,
    &PLAN_SPELLINGS,
    &ACTIVE_PLAN_SPELLINGS,
];

/// The spelling SEN2.md uses for an element (for messages).
fn spelled(name: &str) -> String {
    if name == "sentyperank" {
        return "SENtypeRank".into();
    }
    sen2_spelling(name).map_or_else(|| name.to_string(), str::to_string)
}

/// SEN2.md's spelling of an element named in any letter case, if SEN2.md names it.
fn sen2_spelling(name: &str) -> Option<&'static str> {
    SPELLINGS
        .iter()
        .flat_map(|group| group.iter())
        .find(|n| n.eq_ignore_ascii_case(name))
        .copied()
}

/// Where we are in a person: for messages ("Person 17/Requests 2/Assessment").
struct At<'a, 'k> {
    check: &'a mut Check<'k>,
    person: Option<u64>,
    path: String,
}

impl<'a, 'k> At<'a, 'k> {
    fn element(&self, name: &str) -> String {
        if self.path.is_empty() {
            spelled(name)
        } else {
            format!("{}/{}", self.path, spelled(name))
        }
    }

    /// Warn about children we do not know.
    fn unknown_children(&mut self, node: &Node) {
        let known = known(&node.name);
        for c in &node.children {
            if !known.contains(&c.name.as_str()) {
                let parent = spelled(&node.name);
                let name = c.name.clone();
                self.check
                    .tally_unknown(&parent, &name, c.line, self.person);
            }
        }
    }

    fn warn(
        &mut self,
        node_line: u64,
        element: &str,
        noun: (&'static str, &'static str),
        what: &str,
    ) {
        self.check
            .tally(&spelled(element), noun, what, node_line, self.person);
    }

    fn error(&mut self, line: u64, element: &str, value: Option<&str>, rule: String) {
        let el = self.element(element);
        let value = if PERSONAL.contains(&element) {
            None
        } else {
            value
        };
        self.check.error(Some(line), Some(el), value, rule);
    }

    /// An optional element's text: `None` if absent; empty is warned about and treated as absent.
    fn text<'n>(&mut self, node: &'n Node, name: &str) -> Option<(&'n str, u64)> {
        let c = node.first(name)?;
        let v = c.value();
        if v.is_empty() {
            if !c.children.is_empty() {
                self.warn(
                    c.line,
                    name,
                    ("element", "elements"),
                    "holding elements where a value belongs (ignored)",
                );
            } else {
                self.warn(
                    c.line,
                    name,
                    ("element", "elements"),
                    "left empty (treated as absent)",
                );
            }
            return None;
        }
        Some((v, c.line))
    }

    /// A mandatory element: missing refuses the file; present but empty is a warning (absent).
    fn required<'n>(&mut self, node: &'n Node, name: &str) -> Option<(&'n str, u64)> {
        if node.first(name).is_none() {
            let line = node.line;
            self.error(
                line,
                name,
                None,
                format!(
                    "missing: <{}> must have a <{}>",
                    spelled(&node.name),
                    spelled(name)
                ),
            );
            return None;
        }
        self.text(node, name)
    }

    fn date(&mut self, node: &Node, name: &str, required: bool) -> Option<NaiveDate> {
        let (v, line) = if required {
            self.required(node, name)?
        } else {
            self.text(node, name)?
        };
        let d = parse_date(v);
        if d.is_none() {
            self.warn(
                line,
                name,
                ("date", "dates"),
                "not a date YYYY-MM-DD (treated as absent)",
            );
        }
        d
    }

    fn flag(&mut self, node: &Node, name: &str) -> bool {
        let Some((v, line)) = self.text(node, name) else {
            return false;
        };
        match v {
            "1" | "true" | "TRUE" | "True" => true,
            "0" | "false" | "FALSE" | "False" => false,
            _ => {
                self.warn(line, name, ("value", "values"), "not 0 or 1 (treated as 0)");
                false
            }
        }
    }

    fn code<T>(
        &mut self,
        node: &Node,
        name: &str,
        required: bool,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let (v, line) = if required {
            self.required(node, name)?
        } else {
            self.text(node, name)?
        };
        let c = parse(v);
        if c.is_none() {
            self.warn(
                line,
                name,
                ("value", "values"),
                "not a code of the SEN2 code list (treated as absent)",
            );
        }
        c
    }
}

/// The header, or `None` (with errors) when it lacks what every derivation needs.
pub(crate) fn convert_header(node: &Node, check: &mut Check<'_>) -> Option<Sen2Header> {
    let mut at = At {
        check,
        person: None,
        path: "Header".into(),
    };
    at.unknown_children(node);
    let Some(details) = node.first("collectiondetails") else {
        at.error(
            node.line,
            "collectiondetails",
            None,
            "missing: <Header> must have <CollectionDetails>".into(),
        );
        return None;
    };
    let (census_year, reference_date) = convert_collection_details(node, details, &mut at)?;
    let lea = node
        .first("source")
        .and_then(|source| convert_source(source, &mut at, reference_date));
    Some(Sen2Header {
        census_year,
        reference_date,
        lea,
    })
}

/// The header's CollectionDetails: its Year and ReferenceDate, or `None` (with errors) if not SEN2 or unreadable.
fn convert_collection_details(
    header: &Node,
    details: &Node,
    at: &mut At<'_, '_>,
) -> Option<(CensusYear, NaiveDate)> {
    at.path = "Header/CollectionDetails".into();
    at.unknown_children(details);
    if let Some((c, line)) = at.text(details, "collection") {
        if !c.eq_ignore_ascii_case("SEN2") {
            at.error(
                line,
                "collection",
                Some(c),
                "is not SEN2: this is not a SEN2 return".into(),
            );
            return None;
        }
    }
    let year = collection_year(details, at);
    let reference = collection_reference_date(details, at);
    let (Some(census_year), Some(reference_date)) = (year, reference) else {
        if at.check.errors == 0 {
            at.error(
                header.line,
                "collectiondetails",
                None,
                "needs a Year and a ReferenceDate".into(),
            );
        }
        return None;
    };
    if chrono::Datelike::year(&reference_date) != census_year.year() {
        at.warn(
            details.line,
            "referencedate",
            ("date", "dates"),
            "not in the collection Year (the census is taken as January of Year)",
        );
    }
    Some((census_year, reference_date))
}

/// The collection Year (mandatory): `None` if missing, or unreadable (an error).
fn collection_year(details: &Node, at: &mut At<'_, '_>) -> Option<CensusYear> {
    let (v, line) = at.required(details, "year")?;
    let y = parse_year(v);
    if y.is_none() {
        at.error(
            line,
            "year",
            Some(v),
            "is not a collection year (YYYY, 1990..2100)".into(),
        );
    }
    y
}

/// The census ReferenceDate (mandatory): `None` if missing, or unreadable (an error).
fn collection_reference_date(details: &Node, at: &mut At<'_, '_>) -> Option<NaiveDate> {
    let (v, line) = at.required(details, "referencedate")?;
    let d = parse_date(v);
    if d.is_none() {
        at.error(
            line,
            "referencedate",
            Some(v),
            "is not a date YYYY-MM-DD".into(),
        );
    }
    d
}

/// The header's Source: its three-digit LA number, if usable; its DateTime is checked against the ReferenceDate.
fn convert_source(source: &Node, at: &mut At<'_, '_>, reference_date: NaiveDate) -> Option<String> {
    at.path = "Header/Source".into();
    at.unknown_children(source);
    let mut lea = None;
    if let Some((v, line)) = at.text(source, "lea") {
        if v.len() == 3 && v.chars().all(|c| c.is_ascii_digit()) {
            lea = Some(v.to_string());
        } else {
            at.warn(
                line,
                "lea",
                ("value", "values"),
                "not a three-digit LA number (ignored)",
            );
        }
    }
    if let Some((v, line)) = at.text(source, "datetime") {
        if parse_date(v).is_some_and(|d| d < reference_date) {
            at.warn(
                line,
                "datetime",
                ("date", "dates"),
                "before the ReferenceDate: the return says it was made before its census",
            );
        }
    }
    lea
}

/// The DfE check letter of a 13-character UPN (CBDS rule 1510).
pub fn upn_check_letter_ok(upn: &str) -> Option<bool> {
    const LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";
    let b = upn.as_bytes();
    if b.len() != 13 || !b[0].is_ascii_uppercase() || !b[1..12].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let last = b[12];
    let last_value = if last.is_ascii_digit() {
        u32::from(last - b'0')
    } else {
        LETTERS.iter().position(|&l| l == last)? as u32
    };
    let mut sum = 0u32;
    for (i, &c) in b[1..12].iter().enumerate() {
        sum += u32::from(c - b'0') * (i as u32 + 2);
    }
    sum += last_value * 13;
    Some(LETTERS[(sum % 23) as usize] == b[0])
}

fn ordered(dates: &[Option<NaiveDate>]) -> bool {
    let known: Vec<NaiveDate> = dates.iter().flatten().copied().collect();
    known.windows(2).all(|w| w[0] <= w[1])
}

/// One person: the key made from their identity, and everything the derivations need. `None` (with an error)
/// when their identity cannot be read.
pub(crate) fn convert_person(
    node: &Node,
    no: u64,
    header: &Sen2Header,
    check: &mut Check<'_>,
) -> Option<Sen2Person> {
    let mut at = At {
        check,
        person: Some(no),
        path: format!("Person {no}"),
    };
    at.unknown_children(node);
    let surname = at.required(node, "surname").map(|(v, _)| v);
    let forename = at.required(node, "forename").map(|(v, _)| v);
    let dob = person_birth_date(node, &mut at);
    if node.first("requests").is_none() {
        at.error(
            node.line,
            "requests",
            None,
            "missing: <Person> must have at least one <Requests>".into(),
        );
    }
    let (Some(surname), Some(forename), Some(date_of_birth)) = (surname, forename, dob) else {
        if node.first("surname").is_some() && node.first("forename").is_some() && dob.is_some() {
            // Present but empty: the person cannot be keyed.
            at.error(
                node.line,
                "person",
                None,
                "has an empty Surname or Forename: the person cannot be identified between returns"
                    .into(),
            );
        }
        return None;
    };
    let key = at.check.keyer.person(surname, forename, date_of_birth);
    if date_of_birth > header.reference_date {
        at.warn(
            node.line,
            "personbirthdate",
            ("person", "persons"),
            "born after the ReferenceDate",
        );
    }
    let sex = person_sex(node, &mut at);
    // Read (so that empties are reported) but never kept.
    let _ = at.text(node, "ethnicity");
    let _ = at.text(node, "postcode");
    let _ = at.text(node, "upnunknown");
    let pupil_key = person_pupil_key(node, &mut at);

    let mut requests = Vec::new();
    for (i, r) in node.all("requests").enumerate() {
        at.path = format!("Person {no}/Requests {}", i + 1);
        requests.push(convert_request(r, &mut at, header, date_of_birth));
    }
    Some(Sen2Person {
        key,
        pupil_key,
        date_of_birth,
        sex,
        requests,
    })
}

/// A person's date of birth (mandatory): `None` if missing, or unreadable (an error that never quotes it).
fn person_birth_date(node: &Node, at: &mut At<'_, '_>) -> Option<NaiveDate> {
    let (v, line) = at.required(node, "personbirthdate")?;
    let d = parse_date(v);
    if d.is_none() {
        at.error(
            line,
            "personbirthdate",
            None,
            "is not a date YYYY-MM-DD".into(),
        );
    }
    d
}

/// A person's Sex, else their GenderCurrent; a value outside the code list is warned about and treated as absent.
fn person_sex(node: &Node, at: &mut At<'_, '_>) -> Option<Sex> {
    if let Some((v, line)) = at.text(node, "sex") {
        match v.to_ascii_uppercase().as_str() {
            "M" => Some(Sex::Male),
            "F" => Some(Sex::Female),
            "U" => Some(Sex::Unknown),
            _ => {
                at.warn(
                    line,
                    "sex",
                    ("value", "values"),
                    "not M, F or U (treated as absent)",
                );
                None
            }
        }
    } else if let Some((v, line)) = at.text(node, "gendercurrent") {
        match v {
            "1" => Some(Sex::Male),
            "2" => Some(Sex::Female),
            "0" | "9" => Some(Sex::Unknown),
            _ => {
                at.warn(
                    line,
                    "gendercurrent",
                    ("value", "values"),
                    "not 0, 1, 2 or 9 (treated as absent)",
                );
                None
            }
        }
    } else {
        None
    }
}

/// The key made from a person's UPN, else their ULN; both are checked, and neither is kept.
fn person_pupil_key(node: &Node, at: &mut At<'_, '_>) -> Option<PersonKey> {
    let mut pupil_key = None;
    if let Some((upn, line)) = at.text(node, "upn") {
        match upn_check_letter_ok(upn) {
            Some(true) => {}
            Some(false) => at.warn(
                line,
                "upn",
                ("person", "persons"),
                "whose UPN fails the DfE check letter (CBDS 1510)",
            ),
            None => at.warn(
                line,
                "upn",
                ("person", "persons"),
                "whose UPN is not a letter and 12 characters",
            ),
        }
        pupil_key = Some(at.check.keyer.pupil("UPN", upn));
    }
    if let Some((uln, line)) = at.text(node, "uniquelearnernumber") {
        if uln.len() != 10 || !uln.chars().all(|c| c.is_ascii_digit()) {
            at.warn(
                line,
                "uniquelearnernumber",
                ("person", "persons"),
                "whose ULN is not 10 digits",
            );
        }
        if pupil_key.is_none() {
            pupil_key = Some(at.check.keyer.pupil("ULN", uln));
        }
    }
    pupil_key
}

fn convert_request(
    node: &Node,
    at: &mut At<'_, '_>,
    header: &Sen2Header,
    dob: NaiveDate,
) -> Request {
    at.unknown_children(node);
    let base = at.path.clone();
    let received = at.date(node, "receiveddate", false);
    let outcome_date = at.date(node, "requestoutcomedate", false);
    let outcome = at.code(node, "requestoutcome", true, RequestOutcome::from_code);
    for f in ["rya", "requestmediation", "requesttribunal"] {
        let _ = at.flag(node, f);
    }
    if let Some((v, line)) = at.text(node, "requestsource") {
        if !matches!(v, "1" | "2" | "3" | "4" | "5") {
            at.warn(
                line,
                "requestsource",
                ("value", "values"),
                "not a RequestSource code 1-5 (ignored)",
            );
        }
    }
    let exported_to = at.text(node, "exported").map(|(v, _)| v.to_string());
    if received.is_some_and(|r| r < dob) {
        at.warn(
            node.line,
            "receiveddate",
            ("request", "requests"),
            "received before the person was born",
        );
    }
    let assessment = match node.first("assessment") {
        Some(a) => Some(convert_assessment(
            a,
            at,
            &base,
            outcome,
            [received, outcome_date],
        )),
        None => {
            check_request_without_assessment(node, at, outcome, [received, outcome_date]);
            None
        }
    };
    let mut active_plan = None;
    if let Some(a) = node.first("activeplans") {
        at.path = format!("{base}/ActivePlans");
        active_plan = Some(convert_active(a, at, header));
        let ceased = assessment
            .as_ref()
            .and_then(|a| a.named_plan.as_ref())
            .and_then(|p| p.cease_date)
            .is_some_and(|d| d <= header.reference_date);
        if ceased {
            at.warn(a.line, "activeplans", ("plan", "plans"), "ceased on or before the ReferenceDate yet with ActivePlans (not counted as active)");
        }
    }
    at.path = base;
    Request {
        received,
        outcome_date,
        outcome,
        exported_to,
        assessment,
        active_plan,
    }
}

/// A request with no Assessment: its outcome should not be "assess", and its two dates should be in order.
fn check_request_without_assessment(
    node: &Node,
    at: &mut At<'_, '_>,
    outcome: Option<RequestOutcome>,
    [received, outcome_date]: [Option<NaiveDate>; 2],
) {
    if outcome == Some(RequestOutcome::Assess) {
        at.warn(
            node.line,
            "requests",
            ("request", "requests"),
            "with RequestOutcome Y (assess) but no Assessment",
        );
    }
    if !ordered(&[received, outcome_date]) {
        at.warn(
            node.line,
            "requests",
            ("request", "requests"),
            "whose dates are out of order (ReceivedDate ≤ RequestOutcomeDate)",
        );
    }
}

/// A request's Assessment (and its NamedPlan), checked against the request's outcome and dates.
fn convert_assessment(
    a: &Node,
    at: &mut At<'_, '_>,
    base: &str,
    outcome: Option<RequestOutcome>,
    [received, outcome_date]: [Option<NaiveDate>; 2],
) -> Assessment {
    at.path = format!("{base}/Assessment");
    at.unknown_children(a);
    let outcome_a = at.code(a, "assessmentoutcome", true, AssessmentOutcome::from_code);
    let a_date = at.date(a, "assessmentoutcomedate", false);
    for f in [
        "assessmentmediation",
        "assessmenttribunal",
        "othermediation",
        "othertribunal",
    ] {
        let _ = at.flag(a, f);
    }
    let week20_exception = at.flag(a, "week20");
    if matches!(
        outcome,
        Some(RequestOutcome::NotAssess | RequestOutcome::Withdrawn)
    ) {
        at.warn(
            a.line,
            "assessment",
            ("request", "requests"),
            "with an Assessment though the RequestOutcome is N or W",
        );
    }
    let named_plan = match a.first("namedplan") {
        Some(p) => Some(convert_named_plan(
            p,
            at,
            base,
            [received, outcome_date, a_date],
        )),
        None => {
            if !ordered(&[received, outcome_date, a_date]) {
                at.warn(a.line, "assessment", ("request", "requests"), "whose dates are out of order (ReceivedDate ≤ RequestOutcomeDate ≤ AssessmentOutcomeDate)");
            }
            None
        }
    };
    if outcome_a == Some(AssessmentOutcome::Issue) && named_plan.is_none() {
        at.warn(
            a.line,
            "assessment",
            ("assessment", "assessments"),
            "with outcome Y (issue a plan) but no NamedPlan",
        );
    }
    Assessment {
        outcome: outcome_a,
        outcome_date: a_date,
        week20_exception,
        named_plan,
    }
}

/// An Assessment's NamedPlan: its details are checked (places, flags, codes) but only its start and cease are
/// kept; `earlier` are the request's and assessment's dates, which must come before its start.
fn convert_named_plan(
    p: &Node,
    at: &mut At<'_, '_>,
    base: &str,
    earlier: [Option<NaiveDate>; 3],
) -> NamedPlan {
    at.path = format!("{base}/Assessment/NamedPlan");
    at.unknown_children(p);
    let start = at.date(p, "startdate", true);
    for (i, d) in p.all("plandetail").enumerate() {
        at.path = format!("{base}/Assessment/NamedPlan/PlanDetail {}", i + 1);
        at.unknown_children(d);
        let _ = place(d, at);
        for f in ["senunitindicator", "resourcedprovisionindicator"] {
            let _ = at.flag(d, f);
        }
    }
    at.path = format!("{base}/Assessment/NamedPlan");
    let _ = at.code(p, "planres", false, |v| {
        matches!(v, "A" | "B").then_some(())
    });
    if p.first("planwbp").is_some() {
        let _ = at.code(p, "planwbp", false, |v| {
            matches!(v, "A" | "T" | "S").then_some(())
        });
    } else {
        let _ = at.code(p, "planwpb", false, |v| {
            matches!(v, "A" | "T" | "S").then_some(())
        });
    }
    let _ = at.code(p, "dp", false, |v| {
        matches!(v, "E" | "S" | "H" | "I").then_some(())
    });
    for f in ["pb", "oa"] {
        let _ = at.flag(p, f);
    }
    let cease_date = at.date(p, "ceasedate", false);
    let cease_reason = at.code(p, "ceasereason", false, |v| {
        v.parse::<u8>().ok().and_then(CeaseReason::from_code)
    });
    if cease_date.is_some() != cease_reason.is_some() {
        at.warn(
            p.line,
            "namedplan",
            ("plan", "plans"),
            "with a CeaseDate but no CeaseReason, or a reason but no date",
        );
    }
    let [received, outcome_date, a_date] = earlier;
    if !ordered(&[received, outcome_date, a_date, start, cease_date]) {
        at.warn(p.line, "namedplan", ("request", "requests"), "whose dates are out of order (ReceivedDate ≤ RequestOutcomeDate ≤ AssessmentOutcomeDate ≤ StartDate ≤ CeaseDate)");
    }
    NamedPlan {
        start,
        cease_date,
        cease_reason,
    }
}

/// The place of a PlanDetail or PlacementDetail: URN, else UKPRN, else SENSetting.
fn place(node: &Node, at: &mut At<'_, '_>) -> Option<Place> {
    let urn = at.text(node, "urn").and_then(|(v, line)| {
        let ok = v.len() == 6 && v.chars().all(|c| c.is_ascii_digit());
        if !ok {
            at.warn(
                line,
                "urn",
                ("value", "values"),
                "not a 6-digit URN (ignored)",
            );
        }
        ok.then(|| v.parse().ok()).flatten()
    });
    let ukprn = at.text(node, "ukprn").and_then(|(v, line)| {
        let ok = v.len() == 8 && v.chars().all(|c| c.is_ascii_digit());
        if !ok {
            at.warn(
                line,
                "ukprn",
                ("value", "values"),
                "not an 8-digit UKPRN (ignored)",
            );
        }
        ok.then(|| v.parse().ok()).flatten()
    });
    let setting = at.code(node, "sensetting", false, Sen2Setting::from_code);
    let _ = at.text(node, "sensettingother");
    let given =
        usize::from(urn.is_some()) + usize::from(ukprn.is_some()) + usize::from(setting.is_some());
    let name = node.name.clone();
    if given > 1 {
        at.warn(
            node.line,
            &name,
            ("placement", "placements"),
            "giving more than one of URN, UKPRN and SENSetting (URN, then UKPRN, is used)",
        );
    } else if given == 0 {
        at.warn(
            node.line,
            &name,
            ("placement", "placements"),
            "with no usable URN, UKPRN or SENSetting",
        );
    }
    urn.map(Place::Urn)
        .or(ukprn.map(Place::Ukprn))
        .or(setting.map(Place::Setting))
}

fn rank(node: &Node, at: &mut At<'_, '_>, name: &str) -> u8 {
    match at.text(node, name) {
        Some(("1", _)) => 1,
        Some(("2", _)) => 2,
        Some((_, line)) => {
            at.warn(
                line,
                name,
                ("value", "values"),
                "not a rank 1 or 2 (taken as 1)",
            );
            1
        }
        None => 1,
    }
}

/// A request's ActivePlans: its transfer, placements and needs, each checked.
fn convert_active(node: &Node, at: &mut At<'_, '_>, header: &Sen2Header) -> ActivePlan {
    at.unknown_children(node);
    let base = at.path.clone();
    let transferred_from = at.text(node, "transferla").map(|(v, _)| v.to_string());
    check_active_plan_reviews(node, at);
    let mut placements = Vec::new();
    for (i, p) in node.all("placementdetail").enumerate() {
        at.path = format!("{base}/PlacementDetail {}", i + 1);
        placements.push(convert_placement(p, at));
    }
    at.path = base.clone();
    check_active_plan_placements(node, at, &placements, header);
    let mut needs = Vec::new();
    for (i, n) in node.all("senneed").enumerate() {
        at.path = format!("{base}/SENneed {}", i + 1);
        needs.extend(convert_need(n, at));
    }
    at.path = base;
    check_active_plan_needs(node, at, &needs);
    ActivePlan {
        transferred_from,
        placements,
        needs,
    }
}

/// An active plan's review dates and ReviewOutcome: checked, never kept.
fn check_active_plan_reviews(node: &Node, at: &mut At<'_, '_>) {
    for d in [
        "reviewmeeting",
        "reviewdraft",
        "phasetransferduedate",
        "phasetransferfinaldate",
        "lastreview",
    ] {
        let _ = at.date(node, d, false);
    }
    let _ = at.code(node, "reviewoutcome", false, |v| {
        matches!(v, "A" | "C" | "M").then_some(())
    });
}

/// One PlacementDetail: its place, rank, entry and leaving dates, and unit flags.
fn convert_placement(p: &Node, at: &mut At<'_, '_>) -> Placement {
    at.unknown_children(p);
    let place = place(p, at);
    let rank = rank(p, at, "placementrank");
    let entry = at.date(p, "entrydate", true);
    let leaving = at.date(p, "leavingdate", false);
    if let (Some(e), Some(l)) = (entry, leaving) {
        if l < e {
            at.warn(
                p.line,
                "placementdetail",
                ("placement", "placements"),
                "whose LeavingDate is before its EntryDate",
            );
        }
    }
    let sen_unit = at.flag(p, "senunitindicator");
    let resourced_provision = at.flag(p, "resourcedprovisionindicator");
    Placement {
        place,
        rank,
        entry,
        leaving,
        sen_unit,
        resourced_provision,
    }
}

/// An active plan should have a placement, and one open at the ReferenceDate.
fn check_active_plan_placements(
    node: &Node,
    at: &mut At<'_, '_>,
    placements: &[Placement],
    header: &Sen2Header,
) {
    if placements.is_empty() {
        at.warn(
            node.line,
            "activeplans",
            ("active plan", "active plans"),
            "with no PlacementDetail",
        );
    } else if !placements
        .iter()
        .any(|p| p.is_open_on(header.reference_date))
    {
        at.warn(
            node.line,
            "activeplans",
            ("active plan", "active plans"),
            "with no placement open at the ReferenceDate",
        );
    }
}

/// One SENneed: its SEN2 need and rank, or `None` when the need is not usable (its rank is still checked).
fn convert_need(n: &Node, at: &mut At<'_, '_>) -> Option<(Sen2Need, u8)> {
    at.unknown_children(n);
    let need = at.code(n, "sentype", false, |v| {
        v.parse::<Sen2Need>()
            .ok()
            .filter(|n| *n != Sen2Need::Unknown)
    });
    if need == Some(Sen2Need::Nsa) {
        at.warn(
            n.line,
            "sentype",
            ("need", "needs"),
            "coded NSA, a school census code not valid in SEN2 (kept)",
        );
    }
    let r = rank(n, at, "sentyperank");
    need.map(|need| (need, r))
}

/// An active plan should have a SENneed, and exactly one usable need of rank 1.
fn check_active_plan_needs(node: &Node, at: &mut At<'_, '_>, needs: &[(Sen2Need, u8)]) {
    let rank1 = needs.iter().filter(|(_, r)| *r == 1).count();
    if node.first("senneed").is_none() {
        at.warn(
            node.line,
            "activeplans",
            ("active plan", "active plans"),
            "with no SENneed (primary need UNKNOWN)",
        );
    } else if rank1 != 1 {
        at.warn(
            node.line,
            "senneed",
            ("active plan", "active plans"),
            "without exactly one usable need of rank 1",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upn_check_letters() {
        assert_eq!(upn_check_letter_ok("X123456789832"), Some(true));
        assert_eq!(upn_check_letter_ok("X123456789875"), Some(false));
        assert_eq!(upn_check_letter_ok("X12345678983"), None);
        assert_eq!(upn_check_letter_ok("x123456789832"), None);
    }
}
