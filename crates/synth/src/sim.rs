//! The person-level simulation: every child with a plan, census by census, sampled from [`Dynamics`].
// Matrix code over (NCY, need, setting) indices reads better with index loops.
#![allow(clippy::needless_range_loop)]

use highneeds_domain::{
    CensusRecord, CensusYear, ChildId, Ncy, Need, PlanHistory, Setting, State, Urn,
};
use rand::RngExt;
use rand_distr::{Distribution, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::expected::{Dynamics, Grid};
use crate::params::*;

/// Codes created once per LA and cloned into every record (no per-record allocation).
pub struct Vocab {
    pub needs: Vec<Need>,
    pub settings: Vec<Setting>,
    pub ncys: Vec<Ncy>,
}

/// The establishments (URNs) of one LA: per setting, a small fixed set; mainstream and resourced provision
/// are split into primary (first part) and secondary.
pub struct Establishments {
    pub urns: Vec<Vec<Urn>>,
}

impl Establishments {
    pub fn new(la_index: u32, plans: u32) -> Self {
        // Typical number of children with plans per establishment, by setting.
        const PER: [f64; SETTINGS] = [
            6.0, 8.0, 60.0, 60.0, 6.0, 10.0, 60.0, 10.0, 3.0, 1.0, 1.0, 1.0,
        ];
        let shares = crate::calibration::setting_shares_2022();
        let la_offset = (u64::from(la_index) * 2_503) % 900_000;
        let urns = (0..SETTINGS)
            .map(|s| {
                if NO_URN[s] {
                    return Vec::new();
                }
                let n = (f64::from(plans) * shares[s] / PER[s])
                    .ceil()
                    .clamp(2.0, 400.0) as u64;
                (0..n)
                    .filter_map(|e| {
                        let v = 100_000 + (la_offset + s as u64 * 60_000 + e * 37) % 900_000;
                        Urn::parse(&v.to_string()).ok()
                    })
                    .collect()
            })
            .collect();
        Self { urns }
    }

    /// Pick an establishment for a child of NCY position `i` in setting `s` (`u16::MAX` for none).
    fn pick(&self, s: usize, i: usize, rng: &mut Xoshiro256PlusPlus) -> u16 {
        let list = &self.urns[s];
        if list.is_empty() {
            return u16::MAX;
        }
        let (lo, hi) = if matches!(s, MS | RP) && list.len() >= 2 {
            let split = (list.len() * 2).div_ceil(3).min(list.len() - 1);
            if ncy(i) <= 6 {
                (0, split)
            } else {
                (split, list.len())
            }
        } else {
            (0, list.len())
        };
        rng.random_range(lo..hi) as u16
    }

    fn urn(&self, s: usize, e: u16) -> Option<Urn> {
        self.urns[s].get(usize::from(e)).copied()
    }
}

#[derive(Clone, Copy)]
struct Active {
    child: u32,
    i: u8,
    need: u8,
    setting: u8,
    urn: u16,
}

/// Inputs of one LA's simulation.
pub struct SimInput<'a> {
    pub dynamics: &'a Dynamics,
    pub establishments: &'a Establishments,
    pub vocab: &'a Vocab,
    pub first_census: CensusYear,
    pub censuses: usize,
    /// Expected stock at the first census (fractional counts, already scaled).
    pub initial: Grid,
    /// Expected joiners for each transition but the last.
    pub joiners: Vec<f64>,
    /// Plans required at the last census.
    pub target: u32,
    /// Force the last census to exactly `target` plans (see `generate_la`).
    pub force_last: bool,
    pub id_prefix: &'a str,
}

/// Result of the simulation: histories and counts by census, need and setting.
pub struct SimOutput {
    pub histories: Vec<PlanHistory>,
    /// `counts[census][need][setting]`.
    pub counts: Vec<[[u32; SETTINGS]; NEEDS]>,
}

fn pick<const N: usize>(row: &[f64; N], u: f64) -> usize {
    let mut acc = 0.0;
    let mut last = 0;
    for (k, &p) in row.iter().enumerate() {
        if p > 0.0 {
            acc += p;
            last = k;
            if u < acc {
                return k;
            }
        }
    }
    last
}

/// Round fractional counts to integers summing to the rounded total (largest remainder; ties by position).
pub fn round_counts(values: &[f64]) -> Vec<u32> {
    let total = values.iter().sum::<f64>().round().max(0.0) as u64;
    let mut out: Vec<u32> = values.iter().map(|v| v.max(0.0).floor() as u32).collect();
    let assigned: u64 = out.iter().map(|&c| u64::from(c)).sum();
    let mut rest: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i, v.max(0.0) - v.max(0.0).floor()))
        .collect();
    rest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for &(i, _) in rest.iter().take(total.saturating_sub(assigned) as usize) {
        out[i] += 1;
    }
    out
}

/// Simulate every child with a plan, census by census: the first census's stock, then each year's stayers
/// (aged one year, perhaps moved or with a new need), leavers and joiners.
pub fn simulate(input: &SimInput<'_>, rng: &mut Xoshiro256PlusPlus) -> SimOutput {
    let mut records: Vec<Vec<CensusRecord>> = Vec::new();
    let mut counts = vec![[[0u32; SETTINGS]; NEEDS]; input.censuses];

    let mut active = first_census_stock(input, rng, &mut records);
    let mut year = input.first_census;
    record(input, &active, year, &mut records, &mut counts[0]);

    let transitions = input.censuses.saturating_sub(1);
    let mut next: Vec<Active> = Vec::with_capacity(active.len() * 2);
    for t in 0..transitions {
        next.clear();
        for a in &active {
            if let Some(stayer) = next_year_plan(input, a, rng) {
                next.push(stayer);
            }
        }
        let forced = t + 1 >= transitions && input.force_last;
        let joiner_ncys = if forced {
            forced_joiner_ncys(input.target as usize, &mut next, rng)
        } else {
            poisson_joiner_ncys(input.joiners.get(t).copied().unwrap_or(0.0), rng)
        };
        for i in joiner_ncys {
            let child = new_child(&mut records);
            next.push(new_joiner(input, child, i, rng));
        }
        std::mem::swap(&mut active, &mut next);
        year = year.next();
        record(input, &active, year, &mut records, &mut counts[t + 1]);
    }

    SimOutput {
        histories: plan_histories(records, input.id_prefix),
        counts,
    }
}

/// A new child: an empty list of census records, and its index.
fn new_child(records: &mut Vec<Vec<CensusRecord>>) -> u32 {
    records.push(Vec::new());
    (records.len() - 1) as u32
}

/// First census: the expected stock, rounded, needs drawn given NCY and setting.
fn first_census_stock(
    input: &SimInput<'_>,
    rng: &mut Xoshiro256PlusPlus,
    records: &mut Vec<Vec<CensusRecord>>,
) -> Vec<Active> {
    let d = input.dynamics;
    let mut active: Vec<Active> = Vec::new();
    let flat: Vec<f64> = input.initial.iter().flatten().copied().collect();
    let initial = round_counts(&flat);
    for (cell, &c) in initial.iter().enumerate() {
        let (i, s) = (cell / SETTINGS, cell % SETTINGS);
        if c == 0 {
            continue;
        }
        let need_row = d.init_need_given(i, s);
        for _ in 0..c {
            let k = pick(&need_row, rng.random::<f64>());
            let urn = input.establishments.pick(s, i, rng);
            let child = new_child(records);
            active.push(Active {
                child,
                i: i as u8,
                need: k as u8,
                setting: s as u8,
                urn,
            });
        }
    }
    active
}

/// A child's plan at the next census: one NCY older, perhaps in another setting (and establishment) or with
/// another need; `None` if the plan ceases (a leaver, or past the last NCY).
fn next_year_plan(
    input: &SimInput<'_>,
    a: &Active,
    rng: &mut Xoshiro256PlusPlus,
) -> Option<Active> {
    let d = input.dynamics;
    let (i, s) = (usize::from(a.i), usize::from(a.setting));
    if i + 1 >= NCYS || rng.random::<f64>() < d.leave[i][s] {
        return None;
    }
    let ni = i + 1;
    let to = pick(&d.moves[ni][s], rng.random::<f64>());
    let mut k = usize::from(a.need);
    if rng.random::<f64>() < 1.0 - d.need_change[k][k] {
        let mut row = d.need_change[k];
        row[k] = 0.0;
        let sum: f64 = row.iter().sum();
        k = pick(&row, rng.random::<f64>() * sum);
    }
    let phase_change = matches!(to, MS | RP) && (ncy(ni) == 7 || ncy(ni) == 12);
    let urn = if to != s || phase_change {
        input.establishments.pick(to, ni, rng)
    } else {
        a.urn
    };
    Some(Active {
        child: a.child,
        i: ni as u8,
        need: k as u8,
        setting: to as u8,
        urn,
    })
}

/// Joiners' NCY positions for a year of expected joiner volume `volume`: Poisson by NCY.
fn poisson_joiner_ncys(volume: f64, rng: &mut Xoshiro256PlusPlus) -> Vec<usize> {
    let mut joiner_ncys: Vec<usize> = Vec::new();
    for (i, &share) in JOIN_NCY.iter().enumerate() {
        let lambda = volume * share;
        let n = if lambda > 0.0 {
            Poisson::new(lambda).map(|p| p.sample(rng)).unwrap_or(0.0) as usize
        } else {
            0
        };
        joiner_ncys.extend(std::iter::repeat_n(i, n));
    }
    joiner_ncys
}

/// Only if `force_last`: the last transition's joiners (and, if too many stay, random leavers from `next`)
/// set so the last census is exactly `target` plans (a fallback: it distorts the last year's dynamics).
fn forced_joiner_ncys(
    target: usize,
    next: &mut Vec<Active>,
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<usize> {
    let mut joiner_ncys: Vec<usize> = Vec::new();
    while next.len() > target {
        let victim = rng.random_range(0..next.len());
        next.swap_remove(victim);
    }
    for _ in next.len()..target {
        joiner_ncys.push(pick(&JOIN_NCY, rng.random::<f64>()));
    }
    joiner_ncys.sort_unstable();
    joiner_ncys
}

/// A joiner's new plan in NCY position `i`: need, then setting given need, then establishment.
fn new_joiner(input: &SimInput<'_>, child: u32, i: usize, rng: &mut Xoshiro256PlusPlus) -> Active {
    let d = input.dynamics;
    let k = pick(&d.join_need[i], rng.random::<f64>());
    let s = pick(&d.join_place[i][k], rng.random::<f64>());
    let urn = input.establishments.pick(s, i, rng);
    Active {
        child,
        i: i as u8,
        need: k as u8,
        setting: s as u8,
        urn,
    }
}

/// Each child's plan history, with a child id of the LA's prefix and the child's number.
fn plan_histories(records: Vec<Vec<CensusRecord>>, id_prefix: &str) -> Vec<PlanHistory> {
    let width = 6;
    records
        .into_iter()
        .enumerate()
        .filter_map(|(n, recs)| {
            let id = ChildId::parse(&format!("{id_prefix}{:0width$}", n + 1)).ok()?;
            PlanHistory::new(id, recs).ok()
        })
        .collect()
}

fn record(
    input: &SimInput<'_>,
    active: &[Active],
    year: CensusYear,
    records: &mut [Vec<CensusRecord>],
    counts: &mut [[u32; SETTINGS]; NEEDS],
) {
    for a in active {
        let (i, k, s) = (
            usize::from(a.i),
            usize::from(a.need),
            usize::from(a.setting),
        );
        counts[k][s] += 1;
        records[a.child as usize].push(CensusRecord {
            census_year: year,
            state: State {
                ncy: input.vocab.ncys[i],
                need: input.vocab.needs[k].clone(),
                setting: input.vocab.settings[s].clone(),
            },
            urn: input.establishments.urn(s, a.urn),
        });
    }
}
