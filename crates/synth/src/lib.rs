//! Synthetic local authorities: realistic person-level histories of children with EHC plans, with the
//! resident population, unit costs, valid states and High Needs Block budget that go with them.
//!
//! Deterministic for a seed (Xoshiro256++ seeded explicitly; no hash-map order reaches the output) and
//! calibrated on real published statistics (see [`calibration`]): the last census has the requested number of
//! plans (within ±1.5 % or one Poisson sd: the dynamics stay natural every year), the national age, setting and need mix, and the caseload grows about 10 % a year *because* joiner
//! rates per head trend upward and the 2014 reforms let plans run to 25 — so a model with a trend can learn
//! it and a stationary model under-predicts.
//!
//! The crate does no I/O: the CLI writes files through the ingest crate.
//!
//! ```
//! use highneeds_synth::{generate_la, SynthConfig};
//! let la = generate_la(&SynthConfig { plans: 300, ..SynthConfig::default() }, 0);
//! assert_eq!(la.name, "Exampleshire");
//! let last = la.histories.iter().filter(|h| h.at(la.last_census).is_some()).count();
//! assert!((283..=317).contains(&last)); // 300 ± √300
//! ```

pub mod calibration;
pub mod expected;
pub mod params;
pub mod sen2;
pub mod sim;
pub mod tables;

use highneeds_domain::{
    transitions_between, BudgetLine, CanonicalSetting, CensusYear, Ncy, PlanHistory,
    PopulationCount, TransitionHistory, UnitCost, ValidSetting,
};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::calibration::{LA_SIZE_LOG_SD_2022, NEED_CODES};
pub use crate::expected::TrendShape;
use crate::expected::{Dynamics, Grid, Volumes, NATIONAL_JOINER_TREND, NATIONAL_POP_GROWTH};
use crate::params::{NCYS, NEEDS, SETTINGS};
use crate::sim::{Establishments, SimInput, SimOutput, Vocab};
use crate::tables::BudgetDraws;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Plans in the last census, summed over the LAs.
    pub plans: u32,
    pub seed: u64,
    /// Number of LAs (at least 1).
    pub las: u32,
    /// Number of January censuses (default 10, at least 8).
    pub censuses: u32,
    /// The last census (default 2024).
    pub last_census: CensusYear,
}

impl Default for SynthConfig {
    /// Exampleshire: one LA of 2,150 plans (the size of witan.send's demo LA), censuses 2015-2024, seed 1.
    fn default() -> Self {
        Self {
            plans: 2_150,
            seed: 1,
            las: 1,
            censuses: 10,
            // 2024 is always a valid census year.
            last_census: CensusYear::new(2024).unwrap_or_else(|_| unreachable!()),
        }
    }
}

impl SynthConfig {
    /// Censuses actually generated: at least 8, and no earlier than the first census year the domain
    /// accepts.
    pub fn census_count(&self) -> u32 {
        let mut n = self.censuses.max(8);
        while n > 1 && CensusYear::new(self.last_census.year() - n as i32 + 1).is_err() {
            n -= 1;
        }
        n
    }
    /// The first census generated.
    pub fn first_census(&self) -> CensusYear {
        let first = self.last_census.year() - self.census_count() as i32 + 1;
        CensusYear::new(first).unwrap_or(self.last_census)
    }
    fn la_count(&self) -> u32 {
        self.las.max(1)
    }
}

/// One synthetic LA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticLa {
    /// ONS-style code: `E99999999` for Exampleshire, `E99000001`… when several LAs are generated.
    pub code: String,
    pub name: String,
    pub first_census: CensusYear,
    pub last_census: CensusYear,
    /// One history per child who had a plan at any census, in child id order.
    pub histories: Vec<PlanHistory>,
    /// Resident population by NCY for every census year and five projected years after the last.
    pub population: Vec<PopulationCount>,
    /// Annual unit cost for every (need, setting).
    pub costs: Vec<UnitCost>,
    pub valid_states: Vec<ValidSetting>,
    /// HNB budget for the six financial years up to the one starting in the last census year.
    pub budget: Vec<BudgetLine>,
}

impl SyntheticLa {
    /// The forecast's input: transitions between the first and last census, with population, costs and
    /// valid states.
    pub fn transition_history(&self) -> TransitionHistory {
        TransitionHistory {
            transitions: transitions_between(&self.histories, self.first_census, self.last_census),
            population: self.population.clone(),
            costs: self.costs.clone(),
            valid_states: self.valid_states.clone(),
        }
    }

    /// Plans at a census.
    pub fn plans_at(&self, census: CensusYear) -> usize {
        self.histories
            .iter()
            .filter(|h| h.at(census).is_some())
            .count()
    }
}

/// Years of population projected after the last census.
pub const PROJECTED_YEARS: i32 = 5;
/// Financial years of budget generated.
pub const BUDGET_YEARS: i32 = 6;
/// Plans per head of the 0-25 population in the last census, typical LA (England 2024: about 3 %).
pub const TYPICAL_PREVALENCE: f64 = 0.031;

/// SplitMix64 finaliser: a well-mixed 64-bit value from another.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of LA `index` (and `u64::MAX` for the size draw).
fn derive_seed(seed: u64, index: u64) -> u64 {
    mix(mix(seed) ^ mix(index.wrapping_add(0x5EED)))
}

fn normal(rng: &mut Xoshiro256PlusPlus, sd: f64) -> f64 {
    Normal::new(0.0, sd).map(|d| d.sample(rng)).unwrap_or(0.0)
}

/// Sizes (plans in the last census) of the `las` LAs, summing exactly to `plans`. Lognormal spread like
/// England's LAs in 2022 (σ of ln size 0.61: from a few hundred to several thousand plans). With one LA, all
/// the plans. Every LA gets at least one plan when there are enough.
pub fn la_sizes(config: &SynthConfig) -> Vec<u32> {
    let k = config.la_count() as usize;
    if k == 1 {
        return vec![config.plans];
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(derive_seed(config.seed, u64::MAX));
    let weights: Vec<f64> = (0..k)
        .map(|_| normal(&mut rng, LA_SIZE_LOG_SD_2022).exp())
        .collect();
    let sum: f64 = weights.iter().sum();
    let shares: Vec<f64> = weights
        .iter()
        .map(|w| w / sum * f64::from(config.plans))
        .collect();
    let mut sizes = sim::round_counts(&shares);
    // The rounded total equals `plans` (shares sum to it exactly up to float error); fix any drift.
    let mut total: i64 = sizes.iter().map(|&s| i64::from(s)).sum();
    while total != i64::from(config.plans) {
        let largest = (0..k)
            .max_by_key(|&i| (sizes[i], std::cmp::Reverse(i)))
            .unwrap_or(0);
        if total > i64::from(config.plans) {
            sizes[largest] -= 1;
            total -= 1;
        } else {
            sizes[largest] += 1;
            total += 1;
        }
    }
    if config.plans as usize >= k {
        while let Some(empty) = sizes.iter().position(|&s| s == 0) {
            let largest = (0..k)
                .max_by_key(|&i| (sizes[i], std::cmp::Reverse(i)))
                .unwrap_or(0);
            sizes[largest] -= 1;
            sizes[empty] += 1;
        }
    }
    sizes
}

const NAME_FIRST: [&str; 24] = [
    "North", "South", "East", "West", "Upper", "Lower", "Great", "Little", "Kings", "Queens",
    "Ash", "Oak", "Elm", "Bex", "Wold", "Marsh", "Brook", "Stone", "Red", "Black", "White",
    "Green", "Long", "High",
];
const NAME_SECOND: [&str; 18] = [
    "shire", "borough", "ford", "field", "bury", "minster", "ham", "ton", "wick", "mouth", "dale",
    "port", "by", "stead", "worth", "cester", "mere", "leigh",
];

/// (code, name, child id prefix) of LA `index` of `las`.
pub fn la_identity(las: u32, index: u32) -> (String, String, String) {
    if las <= 1 {
        return ("E99999999".into(), "Exampleshire".into(), "EX".into());
    }
    let i = index as usize;
    let pairs = NAME_FIRST.len() * NAME_SECOND.len();
    let mut name = format!(
        "{}{}",
        NAME_FIRST[i % NAME_FIRST.len()],
        NAME_SECOND[(i / NAME_FIRST.len()) % NAME_SECOND.len()]
    );
    if i >= pairs {
        name.push_str(&format!(" {}", i / pairs + 1));
    }
    let letter = |n: usize| char::from(b'A' + (n % 26) as u8);
    let prefix = format!("{}{}{}", letter(i / 676), letter(i / 26), letter(i));
    (format!("E99{:06}", index + 1), name, prefix)
}

fn vocab() -> Vocab {
    let needs = NEED_CODES
        .iter()
        .map(|c| {
            c.parse()
                .unwrap_or_else(|_| unreachable!("SEN2 codes are valid"))
        })
        .collect();
    let settings = CanonicalSetting::ALL
        .iter()
        .map(|c| {
            c.code()
                .parse()
                .unwrap_or_else(|_| unreachable!("canonical codes are valid"))
        })
        .collect();
    Vocab {
        needs,
        settings,
        ncys: Ncy::all().collect(),
    }
}

/// Simulations tried per LA before the last census is forced to its target size.
const MAX_ATTEMPTS: u32 = 64;

/// Generate LA `index` (0-based) of the configuration. Each LA has its own seed derived from
/// `(config.seed, index)`, so LAs can be generated one at a time, in any order, with identical results.
pub fn generate_la(config: &SynthConfig, index: u32) -> SyntheticLa {
    generate_la_shaped(config, index, TrendShape::Persistent)
}

/// [`generate_la`] with the joiner trend following `shape` over the history (persistent is [`generate_la`]).
pub fn generate_la_shaped(config: &SynthConfig, index: u32, shape: TrendShape) -> SyntheticLa {
    let sizes = la_sizes(config);
    let target = sizes.get(index as usize).copied().unwrap_or(0);
    let (code, name, prefix) = la_identity(config.la_count(), index);
    let censuses = config.census_count() as usize;
    let first_census = config.first_census();
    let last_census = config.last_census;
    let la_seed = derive_seed(config.seed, u64::from(index));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(la_seed);

    let character = LaCharacter::draw(&mut rng, config.census_count());
    let dynamics = Dynamics::new(&character.pulls, &character.need_base);
    let (volumes, initial) = volumes_for_target(&dynamics, &character, censuses, shape, target);

    let vocab = vocab();
    let establishments = Establishments::new(index, target);
    let input = SimInput {
        dynamics: &dynamics,
        establishments: &establishments,
        vocab: &vocab,
        first_census,
        censuses,
        initial,
        joiners: volumes.joiners.clone(),
        target,
        force_last: false,
        id_prefix: &prefix,
    };
    let out = simulate_to_target(input, la_seed, &mut rng);

    let residents = f64::from(target.max(1)) / character.prevalence;
    let population = tables::population(
        first_census,
        last_census,
        PROJECTED_YEARS,
        residents,
        character.pop_growth,
        &character.pop_noise,
    );
    let costs = tables::costs(&vocab, &character.cost_factor);
    let valid_states = tables::valid_states(&vocab);
    let first_fy = (last_census.year() - BUDGET_YEARS + 1).max(first_census.year());
    let budget = tables::budget(
        &out.counts,
        first_census,
        first_fy,
        &character.cost_factor,
        &character.budget,
    );

    SyntheticLa {
        code,
        name,
        first_census,
        last_census,
        histories: out.histories,
        population,
        costs,
        valid_states,
        budget,
    }
}

/// This LA's character: a little different from the national picture in growth, size and mix.
struct LaCharacter {
    /// Trend in joiner rates per head a year.
    trend: f64,
    /// Growth of the resident population a year.
    pop_growth: f64,
    /// Plans per head of the 0-25 population in the last census.
    prevalence: f64,
    /// Multiplicative shock to the joiner volume of each census year.
    shocks: Vec<f64>,
    /// Setting pulls (calibrated, with this LA's noise).
    pulls: [f64; SETTINGS],
    /// Base need mix of joiners (calibrated, with this LA's noise).
    need_base: [f64; NEEDS],
    /// Unit cost factor by setting.
    cost_factor: [f64; SETTINGS],
    /// Noise on the resident population by NCY.
    pop_noise: [f64; NCYS],
    /// Budget draws for the financial years.
    budget: BudgetDraws,
}

impl LaCharacter {
    /// Draw the LA's character from its stream, in the stream's fixed order (every later draw depends on it).
    fn draw(rng: &mut Xoshiro256PlusPlus, census_count: u32) -> Self {
        let trend = (NATIONAL_JOINER_TREND + normal(rng, 0.012)).clamp(0.03, 0.12);
        let pop_growth = (NATIONAL_POP_GROWTH + normal(rng, 0.002)).clamp(0.0, 0.012);
        let prevalence = TYPICAL_PREVALENCE * normal(rng, 0.1).exp();
        let shocks: Vec<f64> = (0..census_count as usize)
            .map(|_| normal(rng, 0.04).exp())
            .collect();
        let calibrated = expected::calibrated(census_count);
        let mut pulls = calibrated.pulls;
        pulls.iter_mut().for_each(|p| *p *= normal(rng, 0.12).exp());
        let mut need_base = calibrated.need_base;
        need_base
            .iter_mut()
            .for_each(|p| *p *= normal(rng, 0.06).exp());
        let mut cost_factor = [1.0; SETTINGS];
        cost_factor
            .iter_mut()
            .for_each(|c| *c = normal(rng, 0.08).exp());
        let mut pop_noise = [1.0; NCYS];
        pop_noise
            .iter_mut()
            .for_each(|c| *c = normal(rng, 0.015).exp());
        let budget = draw_budget(rng);
        Self {
            trend,
            pop_growth,
            prevalence,
            shocks,
            pulls,
            need_base,
            cost_factor,
            pop_noise,
            budget,
        }
    }
}

/// Draw the LA's budget character: income, allocation growth, deductions and transfers by financial year,
/// opening deficit and the HNB's share of the DSG.
fn draw_budget(rng: &mut Xoshiro256PlusPlus) -> BudgetDraws {
    BudgetDraws {
        income_ratio: rng.random_range(0.70..0.80),
        allocation_growth: rng.random_range(0.05..0.08),
        deduction_share: (0..BUDGET_YEARS)
            .map(|_| rng.random_range(0.02..0.04))
            .collect(),
        transfer_share: (0..BUDGET_YEARS)
            .map(|_| {
                if rng.random_bool(0.4) {
                    rng.random_range(0.005..0.02)
                } else {
                    0.0
                }
            })
            .collect(),
        opening_deficit_share: rng.random_range(0.03..0.12),
        hnb_share_of_dsg: rng.random_range(0.15..0.19),
    }
}

/// Joiner volumes and first-census stock sized so that the last census has `target` plans in expectation.
fn volumes_for_target(
    dynamics: &Dynamics,
    character: &LaCharacter,
    censuses: usize,
    shape: TrendShape,
    target: u32,
) -> (Volumes, Grid) {
    let unit = Volumes::shaped(
        censuses - 1,
        character.trend,
        character.pop_growth,
        &character.shocks,
        shape,
    );
    let unit_run = expected::run_settings(dynamics, &unit);
    let per_unit = unit_run.last().map(expected::total).unwrap_or(0.0);
    let scale = if per_unit > 0.0 {
        f64::from(target) / per_unit
    } else {
        0.0
    };
    let volumes = unit.scaled(scale);
    let mut initial = unit_run[0];
    initial.iter_mut().flatten().for_each(|x| *x *= scale);
    (volumes, initial)
}

/// Natural dynamics every year, so the last census is not an artefact: simulate with streams derived from
/// the LA's seed until the last census lands within tolerance of the target (within ±1.5 % or one Poisson
/// sd, whichever is wider); only if none of MAX_ATTEMPTS does is the last year's intake forced, on `rng`.
fn simulate_to_target(
    input: SimInput<'_>,
    la_seed: u64,
    rng: &mut Xoshiro256PlusPlus,
) -> SimOutput {
    let target = input.target;
    let tolerance = (0.015 * f64::from(target)).max(f64::from(target).sqrt());
    for attempt in 0..MAX_ATTEMPTS {
        let mut sim_rng =
            Xoshiro256PlusPlus::seed_from_u64(derive_seed(la_seed, u64::from(attempt) + 1));
        let candidate = sim::simulate(&input, &mut sim_rng);
        let last: u32 = candidate
            .counts
            .last()
            .map_or(0, |c| c.iter().flatten().sum());
        if (f64::from(last) - f64::from(target)).abs() <= tolerance {
            return candidate;
        }
    }
    let mut forced = input;
    forced.force_last = true;
    sim::simulate(&forced, rng)
}

/// Generate every LA of the configuration (for large national sets prefer [`generate_la`] one at a time).
pub fn generate(config: &SynthConfig) -> Vec<SyntheticLa> {
    (0..config.la_count())
        .map(|i| generate_la(config, i))
        .collect()
}

/// Sanity: the needs and settings tables have the sizes the domain expects.
const _: () = assert!(NEEDS == 12 && SETTINGS == 12 && NCYS == Ncy::COUNT);
