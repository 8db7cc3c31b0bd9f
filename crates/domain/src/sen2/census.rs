//! The census stock of one return: every active plan at the reference date with its NCY (from date of birth,
//! 31 August rule), primary need (rank 1) and setting (current placement → canonical setting).

use std::collections::{BTreeMap, HashMap};

use crate::calendar::{CensusYear, Ncy};
use crate::codes::{CanonicalSetting, Sen2Need, SettingMap};
use crate::plan::Urn;
use crate::sen2::record::{
    ActivePlan, CeaseReason, PersonKey, Place, Placement, Sen2Person, Sen2Return,
};

/// One establishment of the user's register (the GIAS "all establishments" export), by its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Establishment {
    /// `TypeOfEstablishment (name)`, e.g. `Community special school`.
    pub type_name: String,
    /// `EstablishmentTypeGroup (name)`, e.g. `Special schools`.
    pub type_group: String,
    /// `PhaseOfEducation (name)`, e.g. `Primary`.
    pub phase: String,
}

/// Establishments by URN and by UKPRN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EstablishmentRegister {
    by_urn: HashMap<u32, Establishment>,
    by_ukprn: HashMap<u32, Establishment>,
}

impl EstablishmentRegister {
    /// Add an establishment under its URN and/or UKPRN (a later entry replaces an earlier one).
    pub fn insert(&mut self, urn: Option<u32>, ukprn: Option<u32>, establishment: Establishment) {
        if let Some(u) = ukprn {
            self.by_ukprn.insert(u, establishment.clone());
        }
        if let Some(u) = urn {
            self.by_urn.insert(u, establishment);
        }
    }
    pub fn by_urn(&self, urn: u32) -> Option<&Establishment> {
        self.by_urn.get(&urn)
    }
    pub fn by_ukprn(&self, ukprn: u32) -> Option<&Establishment> {
        self.by_ukprn.get(&ukprn)
    }
    pub fn len(&self) -> usize {
        self.by_urn.len().max(self.by_ukprn.len())
    }
    pub fn is_empty(&self) -> bool {
        self.by_urn.is_empty() && self.by_ukprn.is_empty()
    }

    /// The canonical setting of an establishment: its type through the map's `gias_type` entries, else its type
    /// group (`gias_group`); a mainstream school becomes resourced provision / SEN unit when the placement says
    /// so.
    pub fn setting_of(
        &self,
        e: &Establishment,
        map: &SettingMap,
        unit_or_resourced: bool,
    ) -> Option<CanonicalSetting> {
        let base = map
            .lookup("gias_type", &e.type_name)
            .or_else(|| map.lookup("gias_group", &e.type_group))?;
        Some(
            if base == CanonicalSetting::Mainstream && unit_or_resourced {
                CanonicalSetting::MainstreamResourcedProvisionOrUnit
            } else {
                base
            },
        )
    }
}

/// One person with an active plan at a census.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CensusPlan {
    pub key: PersonKey,
    pub pupil_key: Option<PersonKey>,
    pub ncy: Ncy,
    pub need: Sen2Need,
    pub setting: CanonicalSetting,
    /// The current placement's URN or UKPRN, when it has one.
    pub urn: Option<Urn>,
}

/// One person whose plan ceased in the calendar year before the census.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CeasedPlan {
    pub key: PersonKey,
    pub pupil_key: Option<PersonKey>,
    pub reason: Option<CeaseReason>,
}

/// What one return says about one census: who had a plan and whose plan ceased in the year before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sen2Census {
    pub census_year: CensusYear,
    pub plans: Vec<CensusPlan>,
    pub ceased: Vec<CeasedPlan>,
}

/// Where the derivation had to guess or leave someone out, with counts (reported as warnings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CensusNotes {
    /// Active plans whose person is listed twice (same key): counted once.
    pub duplicate_persons: u64,
    /// Persons with two active plans: the one with the latest start is kept.
    pub several_active_plans: u64,
    /// Active plans with no rank-1 need: need `UNKNOWN`.
    pub no_primary_need: u64,
    /// Active plans with no placement open at the reference date: the latest placement is used.
    pub no_open_placement: u64,
    /// Active plans with no usable placement at all: setting `other`.
    pub no_placement: u64,
    /// Placements at a URN/UKPRN the register does not have (or whose type the map does not know): `other`.
    pub establishment_unknown: u64,
    /// Active plans whose age puts them outside NCY −5..20: left out of the stock.
    pub ncy_out_of_range: u64,
    /// Plans with a cease date on or before the census yet an active-plan block: not counted as active.
    pub ceased_but_active: u64,
}

impl CensusNotes {
    /// Each non-zero note as (count, plain-English description).
    pub fn lines(&self) -> Vec<(u64, &'static str)> {
        [
            (self.duplicate_persons, "persons listed twice with the same name and date of birth (counted once)"),
            (self.several_active_plans, "persons with more than one active plan (the latest is kept)"),
            (self.no_primary_need, "active plans with no rank-1 need (need UNKNOWN)"),
            (self.no_open_placement, "active plans with no placement open at the reference date (the latest placement is used)"),
            (self.no_placement, "active plans with no usable placement (setting other)"),
            (self.establishment_unknown, "placements at a URN/UKPRN not in the establishment register or of an unmapped type (setting other)"),
            (self.ncy_out_of_range, "active plans of a person whose age is outside NCY -5..20 (left out of the stock)"),
            (self.ceased_but_active, "plans ceased on or before the reference date that also have active placements (not counted as active)"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect()
    }
}

/// The plan of a request, if active at the reference date: `(plan start, active plan)`.
fn active_plans(person: &Sen2Person, ret: &Sen2Return, notes: &mut CensusNotes) -> Vec<usize> {
    let reference = ret.header.reference_date;
    let mut out = Vec::new();
    for (i, r) in person.requests.iter().enumerate() {
        if r.active_plan.is_none() {
            continue;
        }
        let ceased = r
            .assessment
            .as_ref()
            .and_then(|a| a.named_plan.as_ref())
            .and_then(|p| p.cease_date)
            .is_some_and(|d| d <= reference);
        if ceased {
            notes.ceased_but_active += 1;
            continue;
        }
        out.push(i);
    }
    out
}

fn plan_start(person: &Sen2Person, i: usize) -> Option<chrono::NaiveDate> {
    person
        .requests
        .get(i)?
        .assessment
        .as_ref()?
        .named_plan
        .as_ref()?
        .start
}

/// The current placement: rank 1 open at the date, else any open, else the latest by entry date.
fn current_placement(
    placements: &[Placement],
    date: chrono::NaiveDate,
    notes: &mut CensusNotes,
) -> Option<Placement> {
    let usable = || placements.iter().filter(|p| p.place.is_some());
    let open = usable()
        .filter(|p| p.is_open_on(date))
        .min_by_key(|p| p.rank);
    if let Some(p) = open {
        return Some(p.clone());
    }
    let latest = usable().max_by_key(|p| (p.entry, std::cmp::Reverse(p.rank)));
    match latest {
        Some(p) => {
            notes.no_open_placement += 1;
            Some(p.clone())
        }
        None => {
            notes.no_placement += 1;
            None
        }
    }
}

/// The canonical setting of a placement.
pub fn placement_setting(
    placement: &Placement,
    register: &EstablishmentRegister,
    map: &SettingMap,
) -> Option<CanonicalSetting> {
    let unit = placement.sen_unit || placement.resourced_provision;
    match placement.place? {
        Place::Urn(u) => register
            .by_urn(u)
            .and_then(|e| register.setting_of(e, map, unit)),
        Place::Ukprn(u) => register
            .by_ukprn(u)
            .and_then(|e| register.setting_of(e, map, unit)),
        Place::Setting(s) => map.lookup("sen2_setting", s.code()),
    }
}

/// The census a return describes: the stock of active plans at its reference date and the plans ceased in the
/// calendar year before, with notes on what had to be assumed.
pub fn census_of(
    ret: &Sen2Return,
    register: &EstablishmentRegister,
    map: &SettingMap,
) -> (Sen2Census, CensusNotes) {
    let mut notes = CensusNotes::default();
    let census_year = ret.header.census_year;
    let period = census_year.year() - 1;
    let mut plans: Vec<CensusPlan> = Vec::new();
    let mut seen: BTreeMap<PersonKey, ()> = BTreeMap::new();
    let mut ceased: Vec<CeasedPlan> = Vec::new();
    let mut ceased_seen: BTreeMap<PersonKey, ()> = BTreeMap::new();
    for person in &ret.persons {
        add_ceased_plan(person, period, &mut ceased_seen, &mut ceased);
        let Some(plan) = latest_active_plan(person, ret, &mut notes) else {
            continue;
        };
        if seen.insert(person.key, ()).is_some() {
            notes.duplicate_persons += 1;
            continue;
        }
        if let Some(p) = census_plan(person, plan, ret, register, map, &mut notes) {
            plans.push(p);
        }
    }
    (
        Sen2Census {
            census_year,
            plans,
            ceased,
        },
        notes,
    )
}

/// Add the person's first plan ceased in calendar year `period` (the year before the census), once per person.
fn add_ceased_plan(
    person: &Sen2Person,
    period: i32,
    ceased_seen: &mut BTreeMap<PersonKey, ()>,
    ceased: &mut Vec<CeasedPlan>,
) {
    for r in &person.requests {
        let Some(plan) = r.assessment.as_ref().and_then(|a| a.named_plan.as_ref()) else {
            continue;
        };
        if let Some(d) = plan.cease_date {
            if chrono::Datelike::year(&d) == period && ceased_seen.insert(person.key, ()).is_none()
            {
                ceased.push(CeasedPlan {
                    key: person.key,
                    pupil_key: person.pupil_key,
                    reason: plan.cease_reason,
                });
            }
        }
    }
}

/// The person's active plan at the reference date: of several, the one with the latest start.
fn latest_active_plan<'a>(
    person: &'a Sen2Person,
    ret: &Sen2Return,
    notes: &mut CensusNotes,
) -> Option<&'a ActivePlan> {
    let mut active = active_plans(person, ret, notes);
    if active.is_empty() {
        return None;
    }
    if active.len() > 1 {
        notes.several_active_plans += 1;
        active.sort_by_key(|&i| (plan_start(person, i), i));
    }
    let &i = active.last()?;
    person.requests.get(i).and_then(|r| r.active_plan.as_ref())
}

/// The person's place in the census stock: NCY, primary need and setting (`None` if the NCY is out of range).
fn census_plan(
    person: &Sen2Person,
    plan: &ActivePlan,
    ret: &Sen2Return,
    register: &EstablishmentRegister,
    map: &SettingMap,
    notes: &mut CensusNotes,
) -> Option<CensusPlan> {
    let academic_year = ret.header.census_year.academic_year();
    let Ok(ncy) = Ncy::from_date_of_birth(person.date_of_birth, academic_year) else {
        notes.ncy_out_of_range += 1;
        return None;
    };
    let need = plan.primary_need().unwrap_or_else(|| {
        notes.no_primary_need += 1;
        Sen2Need::Unknown
    });
    let placement = current_placement(&plan.placements, ret.header.reference_date, notes);
    let (setting, urn) = placement_setting_and_urn(placement.as_ref(), register, map, notes);
    Some(CensusPlan {
        key: person.key,
        pupil_key: person.pupil_key,
        ncy,
        need,
        setting,
        urn,
    })
}

/// The setting and URN/UKPRN of the current placement (`other` if there is none or it is not known).
fn placement_setting_and_urn(
    placement: Option<&Placement>,
    register: &EstablishmentRegister,
    map: &SettingMap,
    notes: &mut CensusNotes,
) -> (CanonicalSetting, Option<Urn>) {
    match placement {
        Some(p) => {
            let setting = placement_setting(p, register, map).unwrap_or_else(|| {
                notes.establishment_unknown += 1;
                CanonicalSetting::Other
            });
            let urn = match p.place {
                Some(Place::Urn(u)) | Some(Place::Ukprn(u)) => Urn::parse(&format!("{u:06}")).ok(),
                _ => None,
            };
            (setting, urn)
        }
        None => (CanonicalSetting::Other, None),
    }
}

/// Active plans by (NCY, need, setting): the stock table.
pub fn stock_by_state(census: &Sen2Census) -> BTreeMap<(Ncy, Sen2Need, CanonicalSetting), u64> {
    let mut out = BTreeMap::new();
    for p in &census.plans {
        *out.entry((p.ncy, p.need, p.setting)).or_insert(0) += 1;
    }
    out
}
