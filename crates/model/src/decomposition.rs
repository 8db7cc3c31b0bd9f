//! Spend growth decomposition between two years (DESIGN.md §3): S = Σ_s n_s·u_s and
//! S1/S0 = (N1/N0) × mix × rate, with w = share of caseload by setting,
//! mix = Σ w1_s·u0_s / Σ w0_s·u0_s and rate = Σ w1_s·u1_s / Σ w1_s·u0_s. The factors multiply back exactly.

/// One setting's caseload and unit cost in the two years compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SettingSpend {
    pub plans_before: f64,
    pub unit_cost_before: f64,
    pub plans_after: f64,
    pub unit_cost_after: f64,
}

/// Growth of spend split into volume × mix × rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decomposition {
    /// S1 / S0.
    pub spend: f64,
    /// N1 / N0: more plans.
    pub volume: f64,
    /// Change of the average unit cost from the shift between settings, at the old unit costs.
    pub mix: f64,
    /// Change of unit costs within settings, at the new mix.
    pub rate: f64,
}

/// Decompose; `None` if either year has no plans or no spend, or a unit cost is absent where plans exist.
pub fn decompose(settings: &[SettingSpend]) -> Option<Decomposition> {
    let n0: f64 = settings.iter().map(|s| s.plans_before).sum();
    let n1: f64 = settings.iter().map(|s| s.plans_after).sum();
    if n0 <= 0.0 || n1 <= 0.0 {
        return None;
    }
    let s0: f64 = settings
        .iter()
        .map(|s| s.plans_before * s.unit_cost_before)
        .sum();
    let s1: f64 = settings
        .iter()
        .map(|s| s.plans_after * s.unit_cost_after)
        .sum();
    let w0u0: f64 = settings
        .iter()
        .map(|s| s.plans_before / n0 * s.unit_cost_before)
        .sum();
    let w1u0: f64 = settings
        .iter()
        .map(|s| s.plans_after / n1 * s.unit_cost_before)
        .sum();
    let w1u1: f64 = settings
        .iter()
        .map(|s| s.plans_after / n1 * s.unit_cost_after)
        .sum();
    if s0 <= 0.0 || w0u0 <= 0.0 || w1u0 <= 0.0 {
        return None;
    }
    Some(Decomposition {
        spend: s1 / s0,
        volume: n1 / n0,
        mix: w1u0 / w0u0,
        rate: w1u1 / w1u0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn west_berkshire_47_percent() {
        // seeds/001 §4.2: HNB spend +47 % in 5 years from +33 % caseload and +2 % unit cost; the rest is mix.
        // Two settings chosen to give exactly those: mainstream £10k and special £50k a plan, 900 + 100 plans
        // before; 1,330 plans after with the special share w raised so that mix = 1.47 / (1.33 × 1.02), and every
        // unit cost up 2 %.
        let mix = 1.47 / (1.33 * 1.02);
        // mix = (10(1 − w) + 50w) / 14  ⇒  w = (14·mix − 10) / 40.
        let w = (14.0 * mix - 10.0) / 40.0;
        let settings = [
            SettingSpend {
                plans_before: 900.0,
                unit_cost_before: 10_000.0,
                plans_after: 1_330.0 * (1.0 - w),
                unit_cost_after: 10_200.0,
            },
            SettingSpend {
                plans_before: 100.0,
                unit_cost_before: 50_000.0,
                plans_after: 1_330.0 * w,
                unit_cost_after: 51_000.0,
            },
        ];
        let d = decompose(&settings).unwrap();
        assert!((d.spend - 1.47).abs() < 1e-12, "{d:?}");
        assert!((d.volume - 1.33).abs() < 1e-12);
        assert!((d.rate - 1.02).abs() < 1e-12);
        assert!((d.mix - 1.083_591_331_3).abs() < 1e-9);
        assert!((d.volume * d.mix * d.rate - d.spend).abs() < 1e-12);
    }

    #[test]
    fn no_change_is_all_ones_and_empty_is_none() {
        let s = [SettingSpend {
            plans_before: 10.0,
            unit_cost_before: 5.0,
            plans_after: 10.0,
            unit_cost_after: 5.0,
        }];
        let d = decompose(&s).unwrap();
        assert_eq!((d.spend, d.volume, d.mix, d.rate), (1.0, 1.0, 1.0, 1.0));
        assert_eq!(decompose(&[]), None);
    }

    proptest::proptest! {
        /// Volume × mix × rate is the spend growth, whatever the settings.
        #[test]
        fn factors_multiply_back(cells in proptest::collection::vec((1.0f64..5e3, 1e2f64..1e5, 1.0f64..5e3, 1e2f64..1e5), 1..12)) {
            let settings: Vec<SettingSpend> = cells
                .iter()
                .map(|&(a, b, c, d)| SettingSpend { plans_before: a, unit_cost_before: b, plans_after: c, unit_cost_after: d })
                .collect();
            let d = decompose(&settings).unwrap();
            proptest::prop_assert!((d.volume * d.mix * d.rate / d.spend - 1.0).abs() < 1e-12);
        }
    }
}
