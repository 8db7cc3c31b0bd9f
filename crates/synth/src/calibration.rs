//! National calibration targets, derived once from real published statistics and embedded here.
//!
//! Every number names its source file (in `shared/data`, see its `PROVENANCE.md`) and year.
//! `tests/calibration.rs` re-reads those files and checks these constants against them. The library itself
//! never reads a file.

/// England EHC plans (statements + EHC plans), January 2015.
/// Source: `ehcp_caseload_la_2010_2022.csv`, `geographic_level = National`, `census_year = 2015`
/// (DfE, *Education, health and care plans*, reporting year 2022).
pub const ENGLAND_PLANS_2015: u32 = 240_183;

/// England EHC plans, January 2022. Same file, `census_year = 2022` (the release headline "473,300").
pub const ENGLAND_PLANS_2022: u32 = 473_255;

/// Compound annual growth of England's EHC plans 2015 → 2022: (473,255 / 240,183)^(1/7) − 1 ≈ 10.2 %.
pub fn england_cagr_2015_2022() -> f64 {
    (f64::from(ENGLAND_PLANS_2022) / f64::from(ENGLAND_PLANS_2015)).powf(1.0 / 7.0) - 1.0
}

/// England EHC plans by age group (age on 31 August before the census), January 2022, in the order
/// under 5, 5-10, 11-15, 16-19, 20-25.
/// Source: `ehcp_caseload_by_age_la_2010_2022.csv`, National, `census_year = 2022`.
pub const AGE_COUNTS_2022: [u32; 5] = [18_054, 154_940, 167_305, 98_647, 34_309];

/// The same for January 2015 (the first year of EHC plans; plans for 20-25s had barely begun).
/// Source: `ehcp_caseload_by_age_la_2010_2022.csv`, National, `census_year = 2015`.
pub const AGE_COUNTS_2015: [u32; 5] = [11_250, 91_045, 112_340, 25_538, 10];

/// Age-group codes, in the order of [`AGE_COUNTS_2022`] (the `age_group` column of the file).
pub const AGE_GROUP_CODES: [&str; 5] = ["under_5", "5_10", "11_15", "16_19", "20_25"];

/// England EHC plans by canonical setting, January 2022, in the order of
/// [`highneeds_domain::CanonicalSetting::ALL`] (mainstream, mainstream_rp_unit, special_maintained,
/// special_academy_free, special_inmss, ap_pru_hospital, fe_college, specialist_post16, early_years,
/// eotas_ehe, neet, other).
/// Source: `ehcp_caseload_by_setting_la_2019_2022.csv`, National, `census_year = 2022`, summed by
/// `setting_canonical` (sums to 473,255).
pub const SETTING_COUNTS_2022: [u32; 12] = [
    170_158, 21_284, 85_781, 54_255, 24_412, 3_725, 70_140, 8_230, 2_518, 9_867, 12_497, 10_388,
];

/// New EHC plans made in calendar year 2021 by age group (order of [`AGE_GROUP_CODES`]); total 62,180.
/// Source: `ehcp_new_plans_by_age_la_2009_2021.csv`, National, `calendar_year = 2021`.
pub const NEW_PLANS_AGE_COUNTS_2021: [u32; 5] = [14_428, 28_751, 15_845, 2_977, 179];

/// Spread of LA sizes: mean and standard deviation of ln(EHC plans) over the LAs with more than 50 plans
/// (excluding the Isles of Scilly and City of London), January 2022 (152 LAs; median 2,547 plans).
/// Source: `ehcp_caseload_la_2010_2022.csv`, Local authority rows, `census_year = 2022`.
pub const LA_SIZE_LOG_MEAN_2022: f64 = 7.858;
/// See [`LA_SIZE_LOG_MEAN_2022`].
pub const LA_SIZE_LOG_SD_2022: f64 = 0.607;

/// Primary need codes in the crate's need order (the order of [`NEED_SHARES_2024`]).
pub const NEED_CODES: [&str; 12] = [
    "ASD", "SEMH", "SLCN", "MLD", "SLD", "PMLD", "SPLD", "HI", "VI", "MSI", "PD", "OTH",
];

/// Share of EHC plans by primary need in England, January 2024 — **approximate**.
///
/// `shared/data` has no primary-need breakdown (see its PROVENANCE.md, "What is NOT here"). These are
/// rounded figures recalled from the DfE release *Education, health and care plans*, reporting year 2024
/// (January 2024 census), national primary need of children and young people with an EHC plan: autism
/// about 31 %, SEMH 17 %, SLCN 15 %, MLD 9 %, SLD 8 %, PD 4 %, SpLD 3 %, PMLD 2 %, HI 2 %, VI 1 %, MSI under
/// 1 % and the remainder (other difficulty or disability, and needs not yet assessed) about 7.5 %.
/// They are not checked against a file; treat them as plausible, not authoritative.
pub const NEED_SHARES_2024: [f64; 12] = [
    0.31, 0.17, 0.15, 0.09, 0.08, 0.02, 0.03, 0.02, 0.01, 0.005, 0.04, 0.075,
];

/// Shares from counts.
pub fn shares<const N: usize>(counts: &[u32; N]) -> [f64; N] {
    let total: f64 = counts.iter().map(|&c| f64::from(c)).sum();
    let mut out = [0.0; N];
    for (o, &c) in out.iter_mut().zip(counts) {
        *o = f64::from(c) / total;
    }
    out
}

/// National age-group shares, January 2022.
pub fn age_shares_2022() -> [f64; 5] {
    shares(&AGE_COUNTS_2022)
}

/// National setting shares, January 2022 (order of `CanonicalSetting::ALL`).
pub fn setting_shares_2022() -> [f64; 12] {
    shares(&SETTING_COUNTS_2022)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_totals_agree_with_each_other() {
        assert_eq!(AGE_COUNTS_2022.iter().sum::<u32>(), ENGLAND_PLANS_2022);
        assert_eq!(SETTING_COUNTS_2022.iter().sum::<u32>(), ENGLAND_PLANS_2022);
        assert_eq!(AGE_COUNTS_2015.iter().sum::<u32>(), ENGLAND_PLANS_2015);
        assert_eq!(NEW_PLANS_AGE_COUNTS_2021.iter().sum::<u32>(), 62_180);
        assert!((NEED_SHARES_2024.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let g = england_cagr_2015_2022();
        assert!((g - 0.1017).abs() < 0.0005, "{g}");
    }
}
