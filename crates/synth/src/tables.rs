//! The tables that go with the histories: resident population, unit costs, valid states and the HNB budget.
// Matrix code over (NCY, need, setting) indices reads better with index loops.
#![allow(clippy::needless_range_loop)]

use highneeds_domain::{
    BudgetKind, BudgetLine, CensusYear, FinancialYear, Ncy, Pence, PopulationCount, UnitCost,
    ValidSetting,
};

use crate::params::*;
use crate::sim::Vocab;

/// Resident population by NCY for every census year `first..=last + projected` (whole people).
pub fn population(
    first: CensusYear,
    last: CensusYear,
    projected: i32,
    total_0_25_last: f64,
    growth: f64,
    noise: &[f64; NCYS],
) -> Vec<PopulationCount> {
    let weight: f64 = (0..NCYS).map(|i| POP_SHAPE[i] * noise[i]).sum();
    let unit = total_0_25_last / weight;
    let mut out = Vec::new();
    let mut year = first;
    while year.year() <= last.year() + projected {
        let factor = (1.0 + growth).powi(year.year() - last.year());
        for (i, n) in Ncy::all().enumerate() {
            out.push(PopulationCount {
                census_year: year,
                ncy: n,
                population: (unit * POP_SHAPE[i] * noise[i] * factor).round().max(0.0) as u64,
            });
        }
        year = year.next();
    }
    out
}

/// Annual unit cost in whole pounds of a need in a setting, for this LA.
pub fn unit_cost_pounds(need: usize, setting: usize, la_factor: &[f64; SETTINGS]) -> i64 {
    (SETTING_COST[setting] * NEED_COST[need] * la_factor[setting]).round() as i64
}

pub fn costs(vocab: &Vocab, la_factor: &[f64; SETTINGS]) -> Vec<UnitCost> {
    let mut out = Vec::with_capacity(NEEDS * SETTINGS);
    for k in 0..NEEDS {
        for s in 0..SETTINGS {
            out.push(UnitCost {
                need: vocab.needs[k].clone(),
                setting: vocab.settings[s].clone(),
                annual: Pence::from_pounds(unit_cost_pounds(k, s, la_factor)),
                age_group: None,
                place_funding: None,
            });
        }
    }
    out
}

/// One row per setting: its NCY range, every need, and every setting whose range meets its own or the year
/// after (a generous list of moves).
pub fn valid_states(vocab: &Vocab) -> Vec<ValidSetting> {
    (0..SETTINGS)
        .map(|s| {
            let (lo, hi) = SETTING_RANGE[s];
            let moves_to = (0..SETTINGS)
                .filter(|&t| {
                    let (tlo, thi) = SETTING_RANGE[t];
                    t != s && tlo <= hi + 1 && thi >= lo
                })
                .map(|t| vocab.settings[t].clone())
                .collect();
            ValidSetting {
                setting: vocab.settings[s].clone(),
                group: SETTING_GROUP[s].to_string(),
                min_ncy: vocab.ncys[(lo - ncy(0)) as usize],
                max_ncy: vocab.ncys[(hi - ncy(0)) as usize],
                needs: vocab.needs.clone(),
                moves_to,
            }
        })
        .collect()
}

/// Expenditure line names, and which line each setting's plans are paid from.
pub const EXPENDITURE_LINES: [&str; 10] = [
    "Top-up: mainstream schools and resourced provision",
    "Place funding: resourced provision and special schools",
    "Top-up: maintained special schools",
    "Top-up: academy and free special schools",
    "Independent and non-maintained special schools",
    "Post-16: FE colleges and specialist providers",
    "Alternative provision and EOTAS",
    "Early years SEN inclusion",
    "Other placements and packages",
    "Central SEN services and therapies",
];

/// Place funding a year per place (£): resourced provision £6,000, special schools £10,000.
const RP_PLACE: f64 = 6_000.0;
const SPECIAL_PLACE: f64 = 10_000.0;
/// Central services as a share of plan spend.
const CENTRAL_SHARE: f64 = 0.09;
/// Unit cost inflation a year (West Berkshire: +2 % unit cost over five years; inflation of bands is low).
pub const UNIT_COST_INFLATION: f64 = 0.015;

/// Spend by line over one academic year, from the plans at its census and unit costs at that year's prices.
fn ay_lines(
    counts: &[[u32; SETTINGS]; NEEDS],
    la_factor: &[f64; SETTINGS],
    price: f64,
) -> [f64; 10] {
    let mut by_setting = [0.0; SETTINGS];
    let mut n_setting = [0.0; SETTINGS];
    for (k, row) in counts.iter().enumerate() {
        for s in 0..SETTINGS {
            let c = f64::from(row[s]);
            by_setting[s] += c * unit_cost_pounds(k, s, la_factor) as f64 * price;
            n_setting[s] += c;
        }
    }
    let mut l = [0.0; 10];
    let rp_place = n_setting[RP] * RP_PLACE * price;
    let sm_place = n_setting[SM] * SPECIAL_PLACE * price;
    let sa_place = n_setting[SA] * SPECIAL_PLACE * price;
    l[0] = by_setting[MS] + by_setting[RP] - rp_place;
    l[1] = rp_place + sm_place + sa_place;
    l[2] = by_setting[SM] - sm_place;
    l[3] = by_setting[SA] - sa_place;
    l[4] = by_setting[SI];
    l[5] = by_setting[FE] + by_setting[SP16];
    l[6] = by_setting[AP] + by_setting[EO];
    l[7] = by_setting[EY];
    l[8] = by_setting[OT] + by_setting[NE];
    l[9] = CENTRAL_SHARE * l[..9].iter().sum::<f64>();
    l
}

/// LA-level budget draws.
pub struct BudgetDraws {
    /// Income (allocation + transfers − deductions) as a share of spend in the last FY.
    pub income_ratio: f64,
    /// Allocation growth a year.
    pub allocation_growth: f64,
    /// Deduction as a share of allocation, per FY.
    pub deduction_share: Vec<f64>,
    /// Schools Block transfer as a share of allocation per FY (0 = none that year).
    pub transfer_share: Vec<f64>,
    /// Opening deficit as a share of the first allocation.
    pub opening_deficit_share: f64,
    /// HNB as a share of total DSG.
    pub hnb_share_of_dsg: f64,
}

fn pounds(x: f64) -> Pence {
    Pence::from_pounds(x.round() as i64)
}

/// Budget lines for the financial years starting `first_fy..=last census year`. `counts[c]` are the plans
/// at census `first_census + c`.
pub fn budget(
    counts: &[[[u32; SETTINGS]; NEEDS]],
    first_census: CensusYear,
    first_fy: i32,
    la_factor: &[f64; SETTINGS],
    draws: &BudgetDraws,
) -> Vec<BudgetLine> {
    let fys: Vec<i32> = (first_fy..=last_census_year(counts, first_census)).collect();
    let spend: Vec<[f64; 10]> = fys
        .iter()
        .map(|&y| financial_year_spend(counts, first_census, la_factor, y))
        .collect();
    let last_idx = fys.len().saturating_sub(1);
    let allocation_last = last_allocation(&spend, draws, last_idx);

    let mut out = Vec::new();
    for (j, &y) in fys.iter().enumerate() {
        let Ok(fy) = FinancialYear::starting(y) else {
            continue;
        };
        let allocation =
            allocation_last / (1.0 + draws.allocation_growth).powi((last_idx - j) as i32);
        push_financial_year(&mut out, fy, j, allocation, &spend[j], draws);
    }
    out
}

/// The year of the last census of `counts`.
fn last_census_year(counts: &[[[u32; SETTINGS]; NEEDS]], first_census: CensusYear) -> i32 {
    first_census.year() + counts.len() as i32 - 1
}

/// Spend by line of the academic year containing census `c` (projected one year past the last census).
fn academic_year_spend(
    counts: &[[[u32; SETTINGS]; NEEDS]],
    first_census: CensusYear,
    la_factor: &[f64; SETTINGS],
    c: i32,
) -> [f64; 10] {
    let last_census = last_census_year(counts, first_census);
    let price = (1.0 + UNIT_COST_INFLATION).powi(c - last_census);
    if c <= last_census {
        let idx = (c - first_census.year()).max(0) as usize;
        ay_lines(&counts[idx.min(counts.len() - 1)], la_factor, price)
    } else {
        let n = counts.len();
        let last = ay_lines(&counts[n - 1], la_factor, price);
        let prev_total: f64 = counts[n.saturating_sub(2)]
            .iter()
            .flatten()
            .map(|&x| f64::from(x))
            .sum();
        let last_total: f64 = counts[n - 1].iter().flatten().map(|&x| f64::from(x)).sum();
        let g = if prev_total > 0.0 {
            last_total / prev_total
        } else {
            1.0
        };
        last.map(|x| x * g.powi(c - last_census))
    }
}

/// Spend by line of the financial year starting in `y`: a blend of the academic years it spans.
fn financial_year_spend(
    counts: &[[[u32; SETTINGS]; NEEDS]],
    first_census: CensusYear,
    la_factor: &[f64; SETTINGS],
    y: i32,
) -> [f64; 10] {
    let (a, b) = (
        academic_year_spend(counts, first_census, la_factor, y),
        academic_year_spend(counts, first_census, la_factor, y + 1),
    );
    let mut l = [0.0; 10];
    for i in 0..10 {
        l[i] = FinancialYear::blend(a[i], b[i]);
    }
    l
}

/// The HNB allocation of the last financial year: income the drawn share of its spend, net of its deduction
/// and transfer.
fn last_allocation(spend: &[[f64; 10]], draws: &BudgetDraws, last_idx: usize) -> f64 {
    let last_spend: f64 = spend.last().map(|l| l.iter().sum()).unwrap_or(0.0);
    let net_last = draws.income_ratio * last_spend;
    let net_factor_last = 1.0 - draws.deduction_share.get(last_idx).copied().unwrap_or(0.0)
        + draws.transfer_share.get(last_idx).copied().unwrap_or(0.0);
    net_last / net_factor_last
}

/// The budget lines of financial year `fy` (the `j`th generated): opening balance (the first year only),
/// allocation, any Schools Block transfer, deduction, expenditure by line and total DSG.
fn push_financial_year(
    out: &mut Vec<BudgetLine>,
    fy: FinancialYear,
    j: usize,
    allocation: f64,
    spend: &[f64; 10],
    draws: &BudgetDraws,
) {
    let mut push = |kind: BudgetKind, line: &str, amount: f64| {
        out.push(BudgetLine {
            financial_year: fy,
            kind,
            line: line.to_string(),
            amount: pounds(amount),
        });
    };
    if j == 0 {
        push(
            BudgetKind::OpeningBalance,
            "DSG balance brought forward",
            -draws.opening_deficit_share * allocation,
        );
    }
    push(
        BudgetKind::Allocation,
        "High Needs Block allocation",
        allocation,
    );
    let transfer = draws.transfer_share.get(j).copied().unwrap_or(0.0);
    if transfer > 0.0 {
        push(
            BudgetKind::BlockTransfer,
            "Schools Block transfer",
            transfer * allocation,
        );
    }
    push(
        BudgetKind::Deduction,
        "Academy and FE place recoupment, import/export adjustment",
        draws.deduction_share.get(j).copied().unwrap_or(0.0) * allocation,
    );
    for (i, name) in EXPENDITURE_LINES.iter().enumerate() {
        push(BudgetKind::Expenditure, name, spend[i]);
    }
    push(
        BudgetKind::TotalDsg,
        "Dedicated Schools Grant (all blocks)",
        allocation / draws.hnb_share_of_dsg,
    );
}
