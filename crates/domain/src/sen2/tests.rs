//! A hand-worked example: two small returns (2024 and 2025), their stock, flows and transitions.

use chrono::NaiveDate;

use super::*;
use crate::calendar::{CensusYear, Ncy};
use crate::codes::{CanonicalSetting, Sen2Need, SettingMap};
use crate::plan::TransitionKind;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}
fn key(n: u8) -> PersonKey {
    PersonKey([n; 16])
}
fn person(k: u8, pupil: Option<u8>, dob: &str, requests: Vec<Request>) -> Sen2Person {
    Sen2Person {
        key: key(k),
        pupil_key: pupil.map(key),
        date_of_birth: d(dob),
        sex: None,
        requests,
    }
}
fn placement(place: Place, entry: &str, rp: bool) -> Placement {
    Placement {
        place: Some(place),
        rank: 1,
        entry: Some(d(entry)),
        leaving: None,
        sen_unit: false,
        resourced_provision: rp,
    }
}
fn active(placements: Vec<Placement>, needs: Vec<(Sen2Need, u8)>) -> Option<ActivePlan> {
    Some(ActivePlan {
        transferred_from: None,
        placements,
        needs,
    })
}
/// A request that led to a plan: received, assessed (Y) on `decided`, plan issued on `start`.
fn issued(received: &str, decided: &str, start: &str, week20: bool) -> Request {
    Request {
        received: Some(d(received)),
        outcome_date: Some(d(received)),
        outcome: Some(RequestOutcome::Assess),
        exported_to: None,
        assessment: Some(Assessment {
            outcome: Some(AssessmentOutcome::Issue),
            outcome_date: Some(d(decided)),
            week20_exception: week20,
            named_plan: Some(NamedPlan {
                start: Some(d(start)),
                cease_date: None,
                cease_reason: None,
            }),
        }),
        active_plan: None,
    }
}
/// A plan from before the collection period (outcomes H, no dates).
fn historical(start: &str) -> Request {
    Request {
        outcome: Some(RequestOutcome::Historical),
        assessment: Some(Assessment {
            outcome: Some(AssessmentOutcome::Historical),
            named_plan: Some(NamedPlan {
                start: Some(d(start)),
                ..NamedPlan::default()
            }),
            ..Assessment::default()
        }),
        ..Request::default()
    }
}
fn ceased(mut r: Request, on: &str, reason: CeaseReason) -> Request {
    if let Some(p) = r.assessment.as_mut().and_then(|a| a.named_plan.as_mut()) {
        p.cease_date = Some(d(on));
        p.cease_reason = Some(reason);
    }
    r
}
fn with_active(mut r: Request, a: Option<ActivePlan>) -> Request {
    r.active_plan = a;
    r
}

fn register() -> EstablishmentRegister {
    let mut r = EstablishmentRegister::default();
    let e = |t: &str, g: &str| Establishment {
        type_name: t.into(),
        type_group: g.into(),
        phase: "Not applicable".into(),
    };
    r.insert(
        Some(100001),
        None,
        e("Community special school", "Special schools"),
    );
    r.insert(Some(100002), None, e("Academy converter", "Academies"));
    r.insert(Some(100003), None, e("Academy converter", "Academies"));
    r.insert(None, Some(10000001), e("Further education", "Colleges"));
    r
}

fn return_2024() -> Sen2Return {
    let mut transferred = active(
        vec![placement(Place::Urn(100002), "2023-10-01", true)],
        vec![],
    );
    if let Some(a) = transferred.as_mut() {
        a.transferred_from = Some("202".into());
    }
    Sen2Return {
        header: Sen2Header {
            census_year: CensusYear::new(2024).unwrap(),
            reference_date: d("2024-01-18"),
            lea: Some("999".into()),
        },
        persons: vec![
            // Born 15 March 2012: age 11 on 31 August 2023 → NCY 7. Plan 120 days after the request.
            person(
                1,
                None,
                "2012-03-15",
                vec![with_active(
                    issued("2023-02-01", "2023-05-01", "2023-06-01", false),
                    active(
                        vec![placement(Place::Urn(100001), "2023-09-01", false)],
                        vec![(Sen2Need::Asd, 1)],
                    ),
                )],
            ),
            // An old plan that ceased in July 2023 (needs met).
            person(
                2,
                None,
                "2008-10-30",
                vec![ceased(
                    historical("2019-03-01"),
                    "2023-07-31",
                    CeaseReason::NeedsMetWithoutPlan,
                )],
            ),
            // Age 8 → NCY 4; plan 203 days after the request, with a 20-week exception; home educated.
            person(
                3,
                None,
                "2015-05-04",
                vec![with_active(
                    issued("2023-01-10", "2023-06-15", "2023-08-01", true),
                    active(
                        vec![placement(
                            Place::Setting(Sen2Setting::Ehe),
                            "2023-09-01",
                            false,
                        )],
                        vec![(Sen2Need::Slcn, 2), (Sen2Need::Semh, 1)],
                    ),
                )],
            ),
            // Transferred in from LA 202; age 13 → NCY 9; resourced provision in an academy; no need given.
            person(
                4,
                Some(44),
                "2010-01-01",
                vec![with_active(historical("2018-05-05"), transferred)],
            ),
            // A request refused in November 2023.
            person(
                5,
                None,
                "2016-06-06",
                vec![Request {
                    received: Some(d("2023-11-01")),
                    outcome_date: Some(d("2023-12-01")),
                    outcome: Some(RequestOutcome::NotAssess),
                    ..Request::default()
                }],
            ),
        ],
    }
}

fn return_2025() -> Sen2Return {
    Sen2Return {
        header: Sen2Header {
            census_year: CensusYear::new(2025).unwrap(),
            reference_date: d("2025-01-16"),
            lea: Some("999".into()),
        },
        persons: vec![
            // Same school, need now SEMH.
            person(
                1,
                None,
                "2012-03-15",
                vec![with_active(
                    historical("2023-06-01"),
                    active(
                        vec![placement(Place::Urn(100001), "2023-09-01", false)],
                        vec![(Sen2Need::Semh, 1)],
                    ),
                )],
            ),
            // Moved outside England in 2024.
            person(
                3,
                None,
                "2015-05-04",
                vec![ceased(
                    historical("2023-08-01"),
                    "2024-03-01",
                    CeaseReason::MovedOutsideEngland,
                )],
            ),
            // Person 4 under another name (new key 40), same UPN: now in mainstream without resourced provision.
            person(
                40,
                Some(44),
                "2010-01-01",
                vec![with_active(
                    historical("2018-05-05"),
                    active(
                        vec![placement(Place::Urn(100003), "2024-09-01", false)],
                        vec![(Sen2Need::Mld, 1)],
                    ),
                )],
            ),
            // A new plan for a reception child (born 1 March 2020: age 4 on 31 August 2024 → NCY 0), at an FE
            // college by UKPRN just to exercise the UKPRN path.
            person(
                6,
                None,
                "2020-03-01",
                vec![with_active(
                    issued("2024-03-01", "2024-05-01", "2024-07-01", false),
                    active(
                        vec![placement(Place::Ukprn(10000001), "2024-09-01", false)],
                        vec![(Sen2Need::Pd, 1)],
                    ),
                )],
            ),
        ],
    }
}

fn ncy(n: i32) -> Ncy {
    Ncy::new(n).unwrap()
}

#[test]
fn census_stock_of_a_worked_example() {
    let map = SettingMap::shipped();
    let (census, notes) = census_of(&return_2024(), &register(), &map);
    let got: Vec<_> = census
        .plans
        .iter()
        .map(|p| (p.key, p.ncy, p.need, p.setting, p.urn.map(|u| u.value())))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                key(1),
                ncy(7),
                Sen2Need::Asd,
                CanonicalSetting::SpecialMaintained,
                Some(100001)
            ),
            (
                key(3),
                ncy(4),
                Sen2Need::Semh,
                CanonicalSetting::EotasOrHomeEducation,
                None
            ),
            (
                key(4),
                ncy(9),
                Sen2Need::Unknown,
                CanonicalSetting::MainstreamResourcedProvisionOrUnit,
                Some(100002)
            ),
        ]
    );
    assert_eq!(
        census.ceased,
        vec![CeasedPlan {
            key: key(2),
            pupil_key: None,
            reason: Some(CeaseReason::NeedsMetWithoutPlan)
        }]
    );
    assert_eq!(notes.no_primary_need, 1);
    assert_eq!(notes.lines().len(), 1);
    let stock = stock_by_state(&census);
    assert_eq!(stock.values().sum::<u64>(), 3);
}

#[test]
fn flows_of_a_worked_example() {
    let f = flows_of(&return_2024());
    // Requests received in 2023: persons 1, 3 and 5 (person 5 refused).
    assert_eq!(f.requests, 3);
    assert_eq!(
        f.request_outcomes.get(&Some(RequestOutcome::Assess)),
        Some(&2)
    );
    assert_eq!(
        f.request_outcomes.get(&Some(RequestOutcome::NotAssess)),
        Some(&1)
    );
    assert_eq!(
        f.assessment_outcomes.get(&Some(AssessmentOutcome::Issue)),
        Some(&2)
    );
    // New plans: person 1 (1 Feb → 1 Jun = 28+31+30+31 = 120 days, within 140) and person 3 (10 Jan → 1 Aug =
    // 203 days, late, with an exception).
    assert_eq!(f.new_plans, 2);
    assert_eq!(f.new_plans_timed, 2);
    assert_eq!(f.new_plans_within_20_weeks, 1);
    assert_eq!(f.share_within_20_weeks(), Some(0.5));
    assert_eq!(f.new_plans_timed_without_exception, 1);
    assert_eq!(f.share_within_20_weeks_excluding_exceptions(), Some(1.0));
    assert_eq!(
        f.cessations.get(&Some(CeaseReason::NeedsMetWithoutPlan)),
        Some(&1)
    );
    assert_eq!(f.cessations_total(), 1);
    assert_eq!(f.transfers_in, 1);
    assert_eq!(f.transfers_out, 0);
    let m = f.measures();
    assert!(m.contains(&("requests", String::new(), 3)));
    assert!(m.contains(&("cessations", "2".into(), 1)));
    assert!(m.contains(&("request_outcome", "N".into(), 1)));
}

#[test]
fn transitions_of_a_worked_example() {
    let map = SettingMap::shipped();
    let reg = register();
    let (a, _) = census_of(&return_2024(), &reg, &map);
    let (b, notes) = census_of(&return_2025(), &reg, &map);
    assert_eq!(notes, CensusNotes::default());
    // Given in either order.
    let (transitions, summaries) = transitions_of(&[b.clone(), a.clone()]);
    let kinds: Vec<_> = transitions.iter().map(|t| t.kind().unwrap()).collect();
    assert_eq!(
        kinds,
        vec![
            TransitionKind::Stayer, // person 1, need ASD → SEMH
            TransitionKind::Leaver, // person 3, moved outside England
            TransitionKind::Mover,  // person 4/40, matched by UPN: RP → mainstream
            TransitionKind::Joiner, // person 6
        ]
    );
    let s = &summaries[0];
    assert_eq!(s.from_census, Some(CensusYear::new(2024).unwrap()));
    assert_eq!(
        (s.joiners, s.leavers, s.movers, s.stayers, s.need_changes),
        (1, 1, 1, 1, 2)
    );
    assert_eq!(s.matched_by_pupil_key, 1);
    assert_eq!(
        s.leavers_by_reason
            .get(&Some(CeaseReason::MovedOutsideEngland)),
        Some(&1)
    );
    let stayer = &transitions[0];
    assert_eq!(stayer.before.as_ref().unwrap().ncy, ncy(7));
    assert_eq!(stayer.after.as_ref().unwrap().ncy, ncy(8));
    assert_eq!(stayer.after.as_ref().unwrap().need.as_str(), "SEMH");
    let joiner = &transitions[3];
    assert_eq!(
        joiner.after.as_ref().unwrap().setting.as_str(),
        "fe_college"
    );
    assert_eq!(joiner.after.as_ref().unwrap().ncy, ncy(0));
    // No transitions across a gap.
    let mut c = b;
    c.census_year = CensusYear::new(2026).unwrap();
    assert!(transitions_of(&[a, c]).0.is_empty());
}

#[test]
fn ceased_plan_with_active_placements_is_not_stock() {
    let mut r = return_2024();
    let p = &mut r.persons[0];
    p.requests[0] = ceased(
        p.requests[0].clone(),
        "2024-01-01",
        CeaseReason::PaidEmployment,
    );
    let (census, notes) = census_of(&r, &register(), &SettingMap::shipped());
    assert_eq!(census.plans.len(), 2);
    assert_eq!(notes.ceased_but_active, 1);
    // It ceased in 2024, after the period (2023), so it is not a 2023 cessation either.
    assert_eq!(census.ceased.len(), 1);
}

#[test]
fn unknown_establishment_is_other_and_counted() {
    let (census, notes) = census_of(
        &return_2024(),
        &EstablishmentRegister::default(),
        &SettingMap::shipped(),
    );
    let settings: Vec<_> = census.plans.iter().map(|p| p.setting).collect();
    assert_eq!(
        settings,
        vec![
            CanonicalSetting::Other,
            CanonicalSetting::EotasOrHomeEducation,
            CanonicalSetting::Other
        ]
    );
    assert_eq!(notes.establishment_unknown, 2);
}
