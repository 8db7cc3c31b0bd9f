//! Synthetic SEN2 returns for a synthetic LA: what Exampleshire's case-management system would send the DfE
//! for its last censuses, consistent with its person-level histories — fake names, dates of birth that give
//! each child's NCY by the 31 August rule, valid UPNs, requests and new plans in the calendar year before each
//! census for joiners, ceased plans (with a reason) for leavers, placements at the LA's establishments (with a
//! GIAS-shaped register of them) or SEN2 setting codes.
//!
//! No I/O: the CLI writes the XML and the register through `ingest`.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, Weekday};
use highneeds_domain::sen2::{
    ActivePlan, Assessment, AssessmentOutcome, CeaseReason, Establishment, IdentifiedPerson,
    IdentifiedReturn, NamedPlan, Place, Placement, Request, RequestOutcome, Sen2Header,
    Sen2Setting, Sex,
};
use highneeds_domain::{CanonicalSetting, CensusRecord, CensusYear, PlanHistory, Sen2Need};

use crate::SyntheticLa;

/// The returns and the register of the establishments they name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticSen2 {
    pub returns: Vec<IdentifiedReturn>,
    /// `(URN, establishment name, type)` for every URN the returns use, by URN.
    pub establishments: Vec<(u32, String, Establishment)>,
}

const FORENAMES: [&str; 50] = [
    "Ada", "Bram", "Cleo", "Dov", "Edda", "Fenn", "Gale", "Hobb", "Isla", "Jory", "Kit", "Lark",
    "Milo", "Nell", "Odo", "Pia", "Quill", "Rue", "Sol", "Tam", "Ula", "Vane", "Wren", "Xan",
    "Yara", "Zeb", "Arlo", "Bea", "Cass", "Dax", "Elm", "Fay", "Gus", "Hal", "Ivo", "Jem", "Kai",
    "Lux", "Mae", "Nico", "Orla", "Pip", "Rafe", "Skye", "Teo", "Uma", "Vito", "Wynn", "Xia",
    "Zola",
];
const SURNAMES: [&str; 40] = [
    "Ashdown",
    "Brackwater",
    "Coldharbour",
    "Dunmere",
    "Eastlode",
    "Fernwick",
    "Gorsebrook",
    "Hollowmere",
    "Ivybridge",
    "Juniperlee",
    "Kestrelford",
    "Larkspur",
    "Mossgate",
    "Nettlefold",
    "Oakhanger",
    "Pebblecombe",
    "Quarryhill",
    "Rushmoor",
    "Saltmarsh",
    "Thistledown",
    "Underwood",
    "Vetchfield",
    "Willowby",
    "Yarrowdale",
    "Alderholt",
    "Bramblecote",
    "Cindermoor",
    "Dewpond",
    "Elderfield",
    "Foxglove",
    "Gravelly",
    "Heathcote",
    "Inchmere",
    "Jasperly",
    "Knapweed",
    "Lindenholm",
    "Marshcombe",
    "Northcott",
    "Orchardleigh",
    "Pinewold",
];

/// SplitMix64 finaliser (same as the crate's), for per-child deterministic choices.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A unique fake (forename, surname) for child number `i` (unique for every `i`).
pub fn fake_name(i: usize) -> (String, String) {
    let forename = FORENAMES[i % FORENAMES.len()].to_string();
    let mut q = i / FORENAMES.len();
    let mut parts = vec![SURNAMES[q % SURNAMES.len()]];
    q /= SURNAMES.len();
    while q > 0 {
        parts.push(SURNAMES[q % SURNAMES.len()]);
        q /= SURNAMES.len();
    }
    (forename, parts.join("-"))
}

/// A UPN with a correct DfE check letter: LA number, then nine digits from `serial`.
pub fn fake_upn(lea: &str, serial: u64) -> String {
    const LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";
    let digits = format!("{lea:0>3}{:09}", serial % 1_000_000_000);
    let sum: u32 = digits
        .bytes()
        .enumerate()
        .map(|(k, b)| u32::from(b - b'0') * (k as u32 + 2))
        .sum();
    format!("{}{digits}", LETTERS[(sum % 23) as usize] as char)
}

/// The census date of a collection year: the third Thursday of January.
pub fn reference_date(census: CensusYear) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(census.year(), 1, Weekday::Thu, 3)
        .unwrap_or_else(|| ymd(census.year(), 1, 18))
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn plus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_add_days(Days::new(days)).unwrap_or(d)
}

/// A date of birth giving NCY `ncy` in the academic year of `census` (31 August rule).
fn date_of_birth(census: CensusYear, ncy: i32, h: u64) -> NaiveDate {
    let ay_start = census.year() - 1;
    let first = ymd(ay_start - ncy - 5, 9, 1);
    // NCY −5 is born during the academic year: keep them born well before the January census (and before a
    // request for them in the autumn).
    let span = if ncy <= -5 { 60 } else { 365 };
    plus(first, h % span)
}

/// The first census of the spell of consecutive censuses that includes `census`.
fn spell_start(h: &PlanHistory, census: CensusYear) -> CensusYear {
    let mut y = census;
    while h.at(y.previous()).is_some() {
        y = y.previous();
    }
    y
}

fn canonical(r: &CensusRecord) -> Option<CanonicalSetting> {
    r.state.setting.as_str().parse().ok()
}

fn placement_of(r: &CensusRecord, entry: NaiveDate, leaving: Option<NaiveDate>) -> Placement {
    let setting = canonical(r);
    let place = match (r.urn, setting) {
        (Some(u), _) => Place::Urn(u.value()),
        (None, Some(CanonicalSetting::EotasOrHomeEducation)) => Place::Setting(Sen2Setting::Ehe),
        (None, Some(CanonicalSetting::NotInEducationOrEmployment)) => {
            Place::Setting(Sen2Setting::Neet)
        }
        (None, Some(CanonicalSetting::EarlyYears)) => Place::Setting(Sen2Setting::Eyp),
        _ => Place::Setting(Sen2Setting::Oth),
    };
    Placement {
        place: Some(place),
        rank: 1,
        entry: Some(entry),
        leaving,
        sen_unit: false,
        resourced_provision: setting == Some(CanonicalSetting::MainstreamResourcedProvisionOrUnit),
    }
}

/// A plan from before the period: outcomes `H`, issued in June of the year before the spell's first census.
fn historical(start: NaiveDate) -> Request {
    Request {
        outcome: Some(RequestOutcome::Historical),
        assessment: Some(Assessment {
            outcome: Some(AssessmentOutcome::Historical),
            named_plan: Some(NamedPlan {
                start: Some(start),
                ..NamedPlan::default()
            }),
            ..Assessment::default()
        }),
        ..Request::default()
    }
}

fn cease_reason(ncy: i32, h: u64) -> CeaseReason {
    if ncy >= 20 {
        CeaseReason::MaximumAge
    } else if ncy >= 12 {
        [
            CeaseReason::PaidEmployment,
            CeaseReason::HigherEducation,
            CeaseReason::NoLongerWishesToEngage,
        ][(h % 3) as usize]
    } else if h.is_multiple_of(5) {
        CeaseReason::TransferredToAnotherLa
    } else {
        CeaseReason::NeedsMetWithoutPlan
    }
}

/// One person's record in the return of `census`, or `None` if they have nothing to report there.
fn person_in(
    h: &PlanHistory,
    i: usize,
    census: CensusYear,
    lea: &str,
    seed: u64,
) -> Option<IdentifiedPerson> {
    let now = h.at(census);
    let before = h.at(census.previous());
    if now.is_none() && before.is_none() {
        return None;
    }
    let first = h.records().first()?;
    let hash = mix(seed ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let (forename, surname) = fake_name(i);
    let period = census.year() - 1;
    let mut request = match now {
        Some(_) if before.is_none() => joiner_request(first, period, hash),
        Some(_) => historical(ymd(spell_start(h, census).year() - 1, 6, 15)),
        None => leaver_request(h, census, before?, period, hash),
    };
    if let Some(rec) = now {
        request.active_plan = Some(active_plan_at(&request, rec, before, period, hash));
    }
    Some(IdentifiedPerson {
        surname,
        forename,
        date_of_birth: date_of_birth(first.census_year, first.state.ncy.value(), hash >> 32),
        sex: if hash.is_multiple_of(2) {
            Sex::Female
        } else {
            Sex::Male
        },
        upn: Some(fake_upn(lea, i as u64 + 1)),
        requests: vec![request],
    })
}

/// A joiner's request: received, assessed and a new plan issued in the calendar year `period` before the census.
fn joiner_request(first: &CensusRecord, period: i32, hash: u64) -> Request {
    let born = date_of_birth(first.census_year, first.state.ncy.value(), hash >> 32);
    let received = plus(ymd(period, 1, 15), hash % 150).max(plus(born, 1));
    let start = plus(received, 70 + (hash >> 8) % 110).min(ymd(period, 12, 31));
    let weeks = (start - received).num_days().max(0) as u64;
    Request {
        received: Some(received),
        outcome_date: Some(plus(received, 30)),
        outcome: Some(RequestOutcome::Assess),
        exported_to: None,
        assessment: Some(Assessment {
            outcome: Some(AssessmentOutcome::Issue),
            outcome_date: Some(plus(received, weeks * 3 / 4)),
            week20_exception: (hash >> 16).is_multiple_of(10),
            named_plan: Some(NamedPlan {
                start: Some(start),
                ..NamedPlan::default()
            }),
        }),
        active_plan: None,
    }
}

/// A leaver's historical plan, ceased in July of the calendar year `period` before the census, with a reason.
fn leaver_request(
    h: &PlanHistory,
    census: CensusYear,
    before: &CensusRecord,
    period: i32,
    hash: u64,
) -> Request {
    let mut r = historical(ymd(spell_start(h, census.previous()).year() - 1, 6, 15));
    if let Some(p) = r.assessment.as_mut().and_then(|a| a.named_plan.as_mut()) {
        p.cease_date = Some(ymd(period, 7, 31));
        p.cease_reason = Some(cease_reason(before.state.ncy.value(), hash >> 20));
    }
    r
}

/// The plan active at the census for a person in `rec`: their placements (moved or not) and their needs.
fn active_plan_at(
    request: &Request,
    rec: &CensusRecord,
    before: Option<&CensusRecord>,
    period: i32,
    hash: u64,
) -> ActivePlan {
    let plan_start = request
        .assessment
        .as_ref()
        .and_then(|a| a.named_plan.as_ref())
        .and_then(|p| p.start)
        .unwrap_or(ymd(period, 9, 1));
    ActivePlan {
        transferred_from: None,
        placements: placements_at(rec, before, plan_start, period),
        needs: needs_of(rec, hash),
    }
}

/// Placements at the census: the current setting from September (or the plan's start), after the previous
/// census's setting ended in July if the person moved setting or establishment.
fn placements_at(
    rec: &CensusRecord,
    before: Option<&CensusRecord>,
    plan_start: NaiveDate,
    period: i32,
) -> Vec<Placement> {
    let term = ymd(period, 9, 1);
    let mut placements = Vec::new();
    if let Some(prev) = before {
        if prev.state.setting != rec.state.setting || prev.urn != rec.urn {
            // Moved in September: the old placement ended in July.
            placements.push(placement_of(
                prev,
                ymd(period - 1, 9, 1),
                Some(ymd(period, 7, 20)),
            ));
        }
    }
    placements.push(placement_of(rec, plan_start.max(term), None));
    placements
}

/// The ranked SEN2 needs of a person in `rec`: their primary need, and for one in three a secondary need.
fn needs_of(rec: &CensusRecord, hash: u64) -> Vec<(Sen2Need, u8)> {
    let need: Sen2Need = rec.state.need.as_str().parse().unwrap_or(Sen2Need::Oth);
    let mut needs = vec![(need, 1)];
    if (hash >> 24).is_multiple_of(3) {
        let second = if need == Sen2Need::Slcn {
            Sen2Need::Asd
        } else {
            Sen2Need::Slcn
        };
        needs.push((second, 2));
    }
    needs
}

/// The three-digit LA number of a synthetic LA: the last three digits of its code (Exampleshire: 999).
pub fn lea_of(la: &SyntheticLa) -> String {
    let digits: String = la.code.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    if n >= 3 {
        digits[n - 3..].to_string()
    } else {
        "999".to_string()
    }
}

fn establishment(
    setting: CanonicalSetting,
    primary: bool,
) -> Option<(&'static str, Establishment)> {
    let e = |t: &str, g: &str, p: &str| Establishment {
        type_name: t.into(),
        type_group: g.into(),
        phase: p.into(),
    };
    let phase = if primary { "Primary" } else { "Secondary" };
    Some(match setting {
        CanonicalSetting::Mainstream | CanonicalSetting::MainstreamResourcedProvisionOrUnit => (
            "School",
            e(
                "Community school",
                "Local authority maintained schools",
                phase,
            ),
        ),
        CanonicalSetting::SpecialMaintained => (
            "Special School",
            e(
                "Community special school",
                "Special schools",
                "Not applicable",
            ),
        ),
        CanonicalSetting::SpecialAcademyOrFree => (
            "Academy Special School",
            e("Academy special converter", "Academies", "Not applicable"),
        ),
        CanonicalSetting::SpecialIndependentOrNonMaintained => (
            "Independent Special School",
            e(
                "Other independent special school",
                "Independent schools",
                "Not applicable",
            ),
        ),
        CanonicalSetting::AlternativeProvisionPruHospital => (
            "Pupil Referral Unit",
            e(
                "Pupil referral unit",
                "Local authority maintained schools",
                "Not applicable",
            ),
        ),
        CanonicalSetting::FurtherEducation => {
            ("College", e("Further education", "Colleges", "16 plus"))
        }
        CanonicalSetting::SpecialistPost16 => (
            "Specialist College",
            e("Special post 16 institution", "Special schools", "16 plus"),
        ),
        CanonicalSetting::EarlyYears => (
            "Nursery School",
            e(
                "LA nursery school",
                "Local authority maintained schools",
                "Nursery",
            ),
        ),
        _ => return None,
    })
}

/// Returns for the last `count` censuses of `la`, and the register of the establishments they name.
pub fn sen2_returns(la: &SyntheticLa, count: u32, seed: u64) -> SyntheticSen2 {
    let lea = lea_of(la);
    let last = la.last_census.year();
    let first = (last - count.max(1) as i32 + 1).max(la.first_census.year());
    let mut returns = Vec::new();
    for y in first..=last {
        let Ok(census) = CensusYear::new(y) else {
            continue;
        };
        let persons = la
            .histories
            .iter()
            .enumerate()
            .filter_map(|(i, h)| person_in(h, i, census, &lea, seed))
            .collect();
        returns.push(IdentifiedReturn {
            header: Sen2Header {
                census_year: census,
                reference_date: reference_date(census),
                lea: Some(lea.clone()),
            },
            persons,
        });
    }
    let mut urns: BTreeMap<u32, (CanonicalSetting, bool)> = BTreeMap::new();
    for h in &la.histories {
        for r in h.records() {
            if let (Some(u), Some(s)) = (r.urn, canonical(r)) {
                urns.entry(u.value())
                    .or_insert((s, r.state.ncy.value() <= 6));
            }
        }
    }
    let establishments = urns
        .into_iter()
        .filter_map(|(urn, (s, primary))| {
            let (kind, e) = establishment(s, primary)?;
            Some((urn, format!("{} {kind} {urn}", la.name), e))
        })
        .collect();
    SyntheticSen2 {
        returns,
        establishments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn names_are_unique_and_upns_check() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..200_000 {
            assert!(seen.insert(fake_name(i)));
        }
        assert_eq!(fake_upn("123", 456_789_832), "X123456789832");
        assert_eq!(
            reference_date(CensusYear::new(2024).unwrap()),
            ymd(2024, 1, 18)
        );
        // Born 1 Sep 2011 .. 31 Aug 2012 → NCY 7 in 2023/24.
        for h in [0, 100, 364] {
            let dob = date_of_birth(CensusYear::new(2024).unwrap(), 7, h);
            let ncy = highneeds_domain::Ncy::from_date_of_birth(
                dob,
                CensusYear::new(2024).unwrap().academic_year(),
            )
            .unwrap();
            assert_eq!(ncy.value(), 7);
            assert!(dob.year() == 2011 || dob.year() == 2012);
        }
    }
}
