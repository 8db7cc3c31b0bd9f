//! The behaviour of the synthetic system: who joins at which NCY with which need and where, who leaves, who
//! moves, and which settings suit which NCYs. Plain tables indexed by NCY position (0 = NCY −5), need index
//! (order of [`crate::calibration::NEED_CODES`]) and setting index (order of `CanonicalSetting::ALL`).
//!
//! These are judgement, shaped on the published national picture (see `calibration.rs`) and the seeds
//! (new plans cluster at transition years; post-16 and 19-25 plans accumulate; specialist placements grow).
//! The few free knobs that must hit national targets (setting "pulls" and the joiners' need mix) are
//! calibrated at run time in `expected.rs`.
// Matrix code over (NCY, need, setting) indices reads better with index loops.
#![allow(clippy::needless_range_loop)]

pub const NCYS: usize = 26;
pub const NEEDS: usize = 12;
pub const SETTINGS: usize = 12;

// Setting indices (CanonicalSetting::ALL order).
pub const MS: usize = 0;
pub const RP: usize = 1;
pub const SM: usize = 2;
pub const SA: usize = 3;
pub const SI: usize = 4;
pub const AP: usize = 5;
pub const FE: usize = 6;
pub const SP16: usize = 7;
pub const EY: usize = 8;
pub const EO: usize = 9;
pub const NE: usize = 10;
pub const OT: usize = 11;

// Need indices (NEED_CODES order).
pub const ASD: usize = 0;
pub const SEMH: usize = 1;
pub const SLCN: usize = 2;
pub const MLD: usize = 3;
pub const SLD: usize = 4;
pub const PMLD: usize = 5;
pub const SPLD: usize = 6;
pub const HI: usize = 7;
pub const VI: usize = 8;
pub const MSI: usize = 9;
pub const PD: usize = 10;
pub const OTH: usize = 11;

/// NCY value of an NCY position.
pub const fn ncy(i: usize) -> i32 {
    i as i32 - 5
}

/// NCY range (inclusive) of each setting; the valid-states table written out with the data.
pub const SETTING_RANGE: [(i32, i32); SETTINGS] = [
    (-1, 14), // mainstream (nursery class to sixth form)
    (-1, 14), // resourced provision / SEN unit
    (-2, 15), // maintained special (with sixth form to 19)
    (-2, 15), // academy / free special
    (-2, 15), // independent / non-maintained special
    (0, 11),  // alternative provision / PRU / hospital
    (12, 20), // FE college
    (12, 20), // specialist post-16 institution
    (-5, 0),  // early years
    (0, 20),  // EOTAS / elective home education
    (12, 20), // NEET
    (-5, 20), // other (awaiting provision, …)
];

/// Reporting group of each setting (witan.send's `setting-group`).
pub const SETTING_GROUP: [&str; SETTINGS] = [
    "mainstream",
    "mainstream",
    "special",
    "special",
    "independent",
    "alternative",
    "post16",
    "post16",
    "early_years",
    "alternative",
    "neet",
    "other",
];

/// Settings without an establishment (no URN).
pub const NO_URN: [bool; SETTINGS] = [
    false, false, false, false, false, false, false, false, false, true, true, true,
];

pub fn valid(setting: usize, n: i32) -> bool {
    let (lo, hi) = SETTING_RANGE[setting];
    (lo..=hi).contains(&n)
}

/// Where in the NCY range a joiner appears (NCY at the first census with a plan). Clustered at the
/// transitions into school (−1/0) and secondary (6/7), and post-16 (11/12); age-group totals follow new plans
/// made in 2021 (`NEW_PLANS_AGE_COUNTS_2021`: under 5 23 %, 5-10 46 %, 11-15 25 %, 16-19 5 %, 20-25 0.3 %).
pub const JOIN_NCY: [f64; NCYS] = [
    0.001, 0.004, 0.010, 0.024, 0.058, 0.085, // −5..0
    0.133, 0.080, 0.065, 0.060, 0.058, 0.110, // 1..6
    0.111, 0.045, 0.038, 0.034, 0.033, // 7..11
    0.026, 0.011, 0.007, 0.004, // 12..15
    0.0012, 0.0008, 0.0005, 0.0003, 0.0002, // 16..20
];

/// Phase band of an NCY for need tilts: 0 early years/reception, 1 primary, 2 secondary, 3 post-16.
pub fn band(n: i32) -> usize {
    match n {
        i32::MIN..=0 => 0,
        1..=6 => 1,
        7..=11 => 2,
        _ => 3,
    }
}

/// Need mix of joiners by phase band, relative to the base mix: SLCN and ASD found young, SEMH and SpLD older.
pub const NEED_TILT: [[f64; 4]; NEEDS] = [
    [1.0, 1.15, 0.95, 0.8], // ASD
    [0.2, 0.9, 2.0, 1.6],   // SEMH
    [2.6, 1.0, 0.35, 0.3],  // SLCN
    [0.4, 1.15, 1.2, 1.0],  // MLD
    [1.3, 0.9, 0.7, 1.0],   // SLD
    [2.2, 0.8, 0.4, 0.4],   // PMLD
    [0.05, 0.8, 1.7, 1.8],  // SPLD
    [1.6, 1.0, 0.8, 0.7],   // HI
    [1.6, 1.0, 0.8, 0.7],   // VI
    [1.8, 1.0, 0.7, 0.6],   // MSI
    [1.6, 1.0, 0.8, 0.9],   // PD
    [1.0, 1.0, 1.0, 1.2],   // OTH
];

/// Where joiners are placed, by NCY, before need tilts and calibrated pulls.
pub fn join_place(n: i32) -> [f64; SETTINGS] {
    //      MS    RP    SM    SA    SI    AP     FE    SP16  EY    EO    NE    OT
    match n {
        i32::MIN..=-2 => [
            0.0, 0.0, 0.08, 0.04, 0.0, 0.0, 0.0, 0.0, 0.35, 0.0, 0.0, 0.20,
        ],
        -1 => [
            0.30, 0.03, 0.10, 0.06, 0.0, 0.0, 0.0, 0.0, 0.20, 0.0, 0.0, 0.06,
        ],
        0 => [
            0.68, 0.06, 0.09, 0.06, 0.005, 0.0, 0.0, 0.0, 0.06, 0.005, 0.0, 0.04,
        ],
        1..=6 => [
            0.72, 0.07, 0.08, 0.06, 0.01, 0.005, 0.0, 0.0, 0.0, 0.01, 0.0, 0.035,
        ],
        7..=11 => [
            0.62, 0.06, 0.10, 0.08, 0.04, 0.03, 0.0, 0.0, 0.0, 0.03, 0.0, 0.04,
        ],
        12..=15 => [
            0.20, 0.02, 0.05, 0.04, 0.02, 0.0, 0.45, 0.08, 0.0, 0.02, 0.08, 0.06,
        ],
        _ => [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.55, 0.15, 0.0, 0.05, 0.15, 0.10,
        ],
    }
}

/// How a need changes where a child is placed (multiplies `join_place`): complex needs in special schools,
/// SEMH in alternative provision and independent schools, sensory and specific needs in mainstream.
pub fn place_tilt(need: usize, setting: usize) -> f64 {
    let special = matches!(setting, SM | SA);
    match need {
        PMLD | SLD | MSI => match setting {
            MS => 0.25,
            SM | SA => 4.0,
            SI | SP16 => 2.0,
            _ => 1.0,
        },
        SEMH => match setting {
            AP => 4.0,
            SI => 2.0,
            EO => 2.0,
            _ => 1.0,
        },
        ASD if setting == SI => 1.5,
        SPLD | HI | VI | SLCN if setting == MS => 1.2,
        SPLD | HI | VI | SLCN if special => 0.5,
        _ => 1.0,
    }
}

/// Probability that a plan held at a census at NCY `n` in `setting` has gone by the next census (ceased,
/// moved away, or aged out at NCY 20). `old_regime` is the statements era before the 2014 reforms, used only
/// to build the first census's stock (most plans ended at 16-19, none ran past 19).
pub fn leave_prob(n: i32, setting: usize, old_regime: bool) -> f64 {
    if n >= 20 || (old_regime && n >= 15) {
        return 1.0;
    }
    let base: f64 = if old_regime {
        match n {
            i32::MIN..=-1 => 0.03,
            0..=10 => 0.025,
            11 => 0.45,
            _ => 0.45,
        }
    } else {
        match n {
            i32::MIN..=-1 => 0.03,
            0..=6 => 0.022,
            7..=10 => 0.028,
            11 => 0.085,
            12 => 0.06,
            13 => 0.12,
            14 => 0.15,
            15 => 0.17,
            _ => 0.28,
        }
    };
    let factor = match setting {
        NE => 2.0,
        OT => 1.2,
        MS => 1.1,
        SM | SA | SI => 0.8,
        SP16 => 0.8,
        _ => 1.0,
    };
    (base * factor).min(1.0)
}

/// (probability of moving out, destination weights) for a child in `from` reaching NCY `next`.
/// If `from` is not valid at `next` the move is forced (probability 1).
pub fn move_out(next: i32, from: usize) -> (f64, [f64; SETTINGS]) {
    let (m, w) = match from {
        EY => move_out_of_early_years(next),
        MS | RP => move_out_of_mainstream(next, from == RP),
        SM | SA => move_out_of_special(next),
        SI => move_out_of_independent_special(next),
        AP => move_out_of_alternative_provision(next),
        FE => MOVE_OUT_OF_FE_COLLEGE,
        SP16 => MOVE_OUT_OF_SPECIALIST_POST16,
        EO => move_out_of_eotas(next),
        NE => MOVE_OUT_OF_NEET,
        _ => move_out_of_other(next),
    };
    let m = if valid(from, next) { m } else { 1.0 };
    (m, w)
}

// What `move_out` gives for each setting left: (probability of moving out, destination weights), the
// weights in setting order MS, RP, SM, SA, SI, AP, FE, SP16, EY, EO, NE, OT.

/// Leaving early years: most start school at reception (NCY 0), the rest stay till they must go.
fn move_out_of_early_years(next: i32) -> (f64, [f64; SETTINGS]) {
    let m = match next {
        i32::MIN..=-1 => 0.03,
        0 => 0.85,
        _ => 1.0,
    };
    let w = [
        0.62, 0.08, 0.16, 0.10, 0.01, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.03,
    ];
    (m, w)
}

/// Leaving mainstream (`rp`: resourced provision / SEN unit): peaks at secondary transfer and post-16.
fn move_out_of_mainstream(next: i32, rp: bool) -> (f64, [f64; SETTINGS]) {
    match next {
        i32::MIN..=6 => (
            if rp { 0.05 } else { 0.035 },
            [
                0.15, 0.2, 0.35, 0.25, 0.04, 0.04, 0.0, 0.0, 0.0, 0.06, 0.0, 0.06,
            ],
        ),
        7 => (
            if rp { 0.2 } else { 0.12 },
            [
                0.3, 0.15, 0.40, 0.30, 0.06, 0.02, 0.0, 0.0, 0.0, 0.03, 0.0, 0.04,
            ],
        ),
        8..=11 => (
            if rp { 0.05 } else { 0.04 },
            [
                0.1, 0.08, 0.30, 0.25, 0.12, 0.10, 0.0, 0.0, 0.0, 0.10, 0.0, 0.05,
            ],
        ),
        12 => (
            if rp { 0.8 } else { 0.75 },
            [
                0.0, 0.0, 0.03, 0.03, 0.0, 0.0, 0.80, 0.06, 0.0, 0.0, 0.06, 0.04,
            ],
        ),
        13 => (
            0.1,
            [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.70, 0.0, 0.0, 0.0, 0.20, 0.10,
            ],
        ),
        _ => (
            0.6,
            [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.60, 0.05, 0.0, 0.0, 0.25, 0.10,
            ],
        ),
    }
}

/// Leaving a maintained or academy special school: rare before post-16, certain after NCY 15.
fn move_out_of_special(next: i32) -> (f64, [f64; SETTINGS]) {
    match next {
        i32::MIN..=11 => (
            0.025,
            [
                0.1, 0.05, 0.35, 0.35, 0.35, 0.05, 0.0, 0.0, 0.0, 0.05, 0.0, 0.05,
            ],
        ),
        12 => (
            0.3,
            [
                0.0, 0.0, 0.0, 0.0, 0.05, 0.0, 0.50, 0.35, 0.0, 0.0, 0.05, 0.05,
            ],
        ),
        13..=15 => (
            0.1,
            [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.45, 0.35, 0.0, 0.0, 0.10, 0.10,
            ],
        ),
        _ => (
            1.0,
            [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.50, 0.30, 0.0, 0.0, 0.12, 0.08,
            ],
        ),
    }
}

/// Leaving an independent or non-maintained special school: mostly to specialist post-16 after school age.
fn move_out_of_independent_special(next: i32) -> (f64, [f64; SETTINGS]) {
    match next {
        i32::MIN..=11 => (
            0.04,
            [
                0.0, 0.0, 0.4, 0.4, 0.0, 0.05, 0.0, 0.0, 0.0, 0.10, 0.0, 0.05,
            ],
        ),
        12 => (
            0.3,
            [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.30, 0.60, 0.0, 0.0, 0.10, 0.0,
            ],
        ),
        13..=15 => (
            0.1,
            [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.60, 0.0, 0.0, 0.15, 0.0,
            ],
        ),
        _ => (
            1.0,
            [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.20, 0.70, 0.0, 0.0, 0.10, 0.0,
            ],
        ),
    }
}

/// Leaving alternative provision: back to school up to NCY 11, to FE or NEET after.
fn move_out_of_alternative_provision(next: i32) -> (f64, [f64; SETTINGS]) {
    let m = 0.3;
    let w = if next <= 11 {
        [0.35, 0.0, 0.2, 0.2, 0.1, 0.0, 0.0, 0.0, 0.0, 0.1, 0.0, 0.05]
    } else {
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6, 0.0, 0.0, 0.0, 0.3, 0.1]
    };
    (m, w)
}

/// Leaving an FE college, at any NCY.
const MOVE_OUT_OF_FE_COLLEGE: (f64, [f64; SETTINGS]) = (
    0.05,
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.0, 0.0, 0.6, 0.2],
);

/// Leaving a specialist post-16 institution, at any NCY.
const MOVE_OUT_OF_SPECIALIST_POST16: (f64, [f64; SETTINGS]) = (
    0.04,
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 0.0, 0.0, 0.0, 0.4, 0.2],
);

/// Leaving EOTAS / elective home education: to school up to NCY 11, to FE, specialist post-16 or NEET after.
fn move_out_of_eotas(next: i32) -> (f64, [f64; SETTINGS]) {
    match next {
        i32::MIN..=11 => (
            0.15,
            [0.3, 0.0, 0.2, 0.2, 0.15, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05],
        ),
        12 => (
            0.3,
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6, 0.1, 0.0, 0.0, 0.3, 0.0],
        ),
        _ => (
            0.15,
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 0.2, 0.0, 0.0, 0.4, 0.0],
        ),
    }
}

/// Leaving NEET, at any NCY.
const MOVE_OUT_OF_NEET: (f64, [f64; SETTINGS]) = (
    0.2,
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6, 0.2, 0.0, 0.0, 0.0, 0.2],
);

/// Leaving other (awaiting provision): resolves quickly, to early years, school or post-16 by NCY.
fn move_out_of_other(next: i32) -> (f64, [f64; SETTINGS]) {
    let m = 0.45;
    let w = match next {
        i32::MIN..=-1 => [0.2, 0.0, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6, 0.0, 0.0, 0.0],
        0..=11 => [
            0.4, 0.05, 0.2, 0.15, 0.1, 0.05, 0.0, 0.0, 0.0, 0.05, 0.0, 0.0,
        ],
        _ => [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.2, 0.0, 0.0, 0.3, 0.0],
    };
    (m, w)
}

/// Annual probability that a child's primary need is re-recorded, and to what (rows sum to 1 over others).
pub fn need_change(from: usize) -> (f64, [f64; NEEDS]) {
    let mut w = [0.0; NEEDS];
    let rate = match from {
        SLCN => {
            w[ASD] = 0.5;
            w[SEMH] = 0.3;
            w[MLD] = 0.2;
            0.04
        }
        MLD => {
            w[SEMH] = 0.4;
            w[ASD] = 0.4;
            w[SLD] = 0.2;
            0.015
        }
        OTH => {
            w[ASD] = 0.4;
            w[SEMH] = 0.4;
            w[MLD] = 0.2;
            0.02
        }
        ASD => {
            w[SEMH] = 0.7;
            w[OTH] = 0.3;
            0.005
        }
        SEMH => {
            w[ASD] = 0.8;
            w[OTH] = 0.2;
            0.005
        }
        SLD => {
            w[PMLD] = 0.3;
            w[MLD] = 0.7;
            0.003
        }
        _ => {
            w[OTH] = 0.5;
            w[MLD] = 0.5;
            0.003
        }
    };
    (rate, w)
}

/// Annual unit cost in pounds by setting, before need modifiers (a typical LA, 2023/24 prices): mainstream
/// top-up, resourced provision, maintained special, academy/free special, INMSS, AP, FE, specialist post-16,
/// early years, EOTAS, NEET, other.
pub const SETTING_COST: [f64; SETTINGS] = [
    8_000.0, 18_000.0, 24_000.0, 26_000.0, 60_000.0, 20_000.0, 9_000.0, 45_000.0, 6_000.0,
    20_000.0, 0.0, 5_000.0,
];

/// Need modifiers on unit cost (complex and sensory needs cost more).
pub const NEED_COST: [f64; NEEDS] = [
    1.05, 1.10, 0.90, 0.90, 1.25, 1.40, 0.85, 1.00, 1.00, 1.30, 1.10, 0.95,
];

/// Resident population shape by NCY position (a January census): NCY −5 is only the babies born since
/// September (about 5/12 of a cohort); fewer 18-24s, who leave for work and university.
pub const POP_SHAPE: [f64; NCYS] = [
    0.42, 0.95, 0.96, 0.97, 0.98, // −5..−1
    0.99, 1.00, 1.01, 1.02, 1.03, 1.03, 1.04, // 0..6
    1.04, 1.04, 1.04, 1.03, 1.02, // 7..11
    1.00, 0.98, 0.93, 0.90, // 12..15
    0.88, 0.87, 0.87, 0.88, 0.88, // 16..20
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_consistent() {
        assert!((JOIN_NCY.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        for n in -5..=20 {
            let p = join_place(n);
            assert!(
                p.iter().enumerate().any(|(s, &w)| w > 0.0 && valid(s, n)),
                "{n}"
            );
            for from in 0..SETTINGS {
                let (m, w) = move_out(n, from);
                assert!((0.0..=1.0).contains(&m));
                if !valid(from, n) {
                    assert!(
                        w.iter().enumerate().any(|(s, &x)| x > 0.0 && valid(s, n)),
                        "no way out of {from} at {n}"
                    );
                }
            }
        }
        for k in 0..NEEDS {
            let (r, w) = need_change(k);
            assert!(r < 0.05 && w[k] == 0.0 && (w.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
    }
}
