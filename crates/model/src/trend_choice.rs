//! The joiner trend weighed from the LA's own history (issue #11): instead of a fixed damping, the shape of the
//! history's overall joiner rate per head says whether it trends and how much its growth persists ([`weigh`]).
//! The trended curves are a straight line through the log rates (growth that persists: undamped) and curves whose
//! yearly step shrinks by φ ∈ [`DAMPING_GRID`] each year (growth that has been fading at that pace); the one with
//! the least BIC (n ln(SSE/n) + k ln n, k = 2, 3 parameters) is then mixed with constant rates (k = 1) by their
//! BIC weights, exp(−BIC/2) normalised, rather than one of the two being picked: a picked trend on a flat history
//! that happens to drift, or a dropped one on a short run of a real trend, is a large error either way, and the
//! mixture's error is smaller on average (chosen by backtest: docs/decisions.md). Histories with fewer than
//! [`MIN_YEARS`] yearly rates keep the damping they were given (0.8 by default, chosen by backtest on a synthetic
//! family: docs/decisions.md).

use highneeds_domain::{Setting, TransitionHistory};

use crate::estimate::{fit_reaching, FitOptions, JoinerTrend, Parameters};
use crate::ModelError;

/// Dampings tried besides constant rates and an undamped line.
pub const DAMPING_GRID: [f64; 5] = [0.0, 0.2, 0.4, 0.6, 0.8];
/// Fewest yearly joiner rates to judge the shape by (a damped curve has 3 parameters).
pub const MIN_YEARS: usize = 5;

/// Time transformed so that a damped trend is a straight line in it: x_t = Σ_{j=1..t} φ^(j−1) (x_0 = 0).
fn damped_axis(n: usize, damping: f64) -> Vec<f64> {
    let mut x = Vec::with_capacity(n);
    let (mut sum, mut step) = (0.0, 1.0);
    for t in 0..n {
        if t > 0 {
            sum += step;
            step *= damping;
        }
        x.push(sum);
    }
    x
}

/// Residual sum of squares of y on a + b x (least squares).
fn line_sse(x: &[f64], y: &[f64]) -> f64 {
    let n = y.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let syy: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
    if sxx > 0.0 {
        (syy - sxy * sxy / sxx).max(0.0)
    } else {
        syy
    }
}

/// What the history's shape says: the trended curve with the least BIC among a straight line (2 parameters:
/// growth that persists, undamped) and curves damped by φ ∈ [`DAMPING_GRID`] (3: growth that has been fading at
/// that pace), and how much weight it gets against constant rates (1 parameter): the BIC approximation to the
/// posterior probability of the two models, exp(−BIC/2) normalised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    pub trend: JoinerTrend,
    /// Weight of the trended curve against constant rates, in [0, 1].
    pub trend_weight: f64,
}

/// BIC of a least-squares fit with `k` parameters and residual sum of squares `sse` to `n` points.
fn bic(sse: f64, k: f64, n: f64) -> f64 {
    n * (sse.max(1e-12) / n).ln() + k * n.ln()
}

/// Weigh the trend in log rates `y` (oldest first), or `None` with fewer than [`MIN_YEARS`] rates.
pub fn weigh(y: &[f64]) -> Option<Judgement> {
    let n = y.len();
    if n < MIN_YEARS {
        return None;
    }
    let nf = n as f64;
    let mean = y.iter().sum::<f64>() / nf;
    let constant = bic(y.iter().map(|v| (v - mean).powi(2)).sum(), 1.0, nf);
    let curves = std::iter::once((1.0, 2.0)).chain(DAMPING_GRID.iter().map(|d| (*d, 3.0)));
    let mut best = (1.0, f64::INFINITY);
    for (d, k) in curves {
        let b = bic(line_sse(&damped_axis(n, d), y), k, nf);
        if b < best.1 - 1e-12 {
            best = (d, b);
        }
    }
    // exp(−b/2) / (exp(−b/2) + exp(−c/2)) = 1 / (1 + exp((b − c)/2)).
    let trend_weight = 1.0 / (1.0 + ((best.1 - constant) / 2.0).exp());
    Some(Judgement {
        trend: JoinerTrend::Damped { damping: best.0 },
        trend_weight,
    })
}

/// [`fit_reaching`] with the joiner trend weighed by [`weigh`]: the best trended curve mixed with constant rates
/// by their weights (and a note saying what was found and why).
pub(crate) fn fit_with_chosen_trend(
    history: &TransitionHistory,
    options: &FitOptions,
    reach: &[Setting],
) -> Result<Parameters, ModelError> {
    let fixed = FitOptions {
        trend_from_history: false,
        ..options.clone()
    };
    let first = fit_reaching(history, &fixed, reach)?;
    let y = log_rates(&first.trend);
    let Some(judgement) = weigh(&y) else {
        let mut p = first;
        p.notes.push(format!(
            "joiner trend: {} yearly rates are too few to judge whether growth persists; {} assumed",
            y.len(),
            describe(options.joiner_trend)
        ));
        return Ok(p);
    };
    let mut params = fit_reaching(
        history,
        &FitOptions {
            joiner_trend: judgement.trend,
            ..fixed
        },
        reach,
    )?;
    blend_with_constant(&mut params.trend, judgement.trend_weight);
    // Leaving rates trend only in the world where joiners do (as before, when constant rates were picked, the
    // leaver trend was dropped): its mean path is weighed alike.
    if let Some(leaving) = params.leaver_trend.as_mut() {
        leaving.level *= judgement.trend_weight;
        leaving.slope *= judgement.trend_weight;
    }
    params.notes.push(format!(
        "joiner trend weighed from the shape of the history's joiner rate over {} years: {:.0} % {}, {:.0} % \
         constant rates (weights by how well each fits, BIC)",
        y.len(),
        judgement.trend_weight * 100.0,
        describe(judgement.trend),
        (1.0 - judgement.trend_weight) * 100.0
    ));
    Ok(params)
}

/// The log of the history's yearly joiner rates that are above 0, oldest first: what the shape is judged on.
fn log_rates(trend: &crate::estimate::Trend) -> Vec<f64> {
    trend
        .observed_rates
        .iter()
        .filter(|(_, r)| *r > 0.0)
        .map(|(_, r)| r.ln())
        .collect()
}

/// Mix a fitted trended curve with constant rates: with weight `w` the log rate follows level ℓ + slope b × D(h),
/// with weight 1 − w it stays at the pooled rate's log ℓ₀ (no slope). Both share the damped axis D, so the mean
/// path of the mixture is itself a curve: level w ℓ + (1 − w) ℓ₀, slope w b; its (level, slope) covariance is the
/// mixture's: w Σ plus the spread between the two means, w (1 − w) (Δℓ, b)(Δℓ, b)ᵀ, except that the level keeps
/// the trended curve's whole variance (the constant model's own, smaller, is not at hand), as does the yearly
/// noise. The persistence spread (sd `persistence_sd` × |slope| × gap) exists only in the trended world, so its
/// variance is w × the trended curve's: with the slope now w b, `persistence_sd` is divided by √w.
fn blend_with_constant(trend: &mut crate::estimate::Trend, w: f64) {
    let l0 = if trend.pooled_rate > 0.0 {
        trend.pooled_rate.ln()
    } else {
        trend.log_level
    };
    let (dl, b) = (trend.log_level - l0, trend.slope);
    let c = trend.covariance;
    let between = w * (1.0 - w);
    trend.covariance = [
        [c[0][0] + between * dl * dl, w * c[0][1] + between * dl * b],
        [
            w * c[1][0] + between * dl * b,
            w * c[1][1] + between * b * b,
        ],
    ];
    trend.log_level = l0 + w * dl;
    trend.slope = w * b;
    if w > 0.0 {
        trend.persistence_sd /= w.sqrt();
    }
}

fn describe(kind: JoinerTrend) -> String {
    match kind {
        JoinerTrend::Stationary => "constant rates".into(),
        JoinerTrend::Damped { damping } if damping >= 1.0 => {
            "trend carried forward undamped".into()
        }
        JoinerTrend::Damped { damping } => format!("trend damped by {damping} a year"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use highneeds_synth::{generate_la_shaped, SynthConfig, TrendShape};

    /// The judgement on a synthetic LA's whole history.
    fn weighed(shape: TrendShape, seed: u64) -> Judgement {
        let h = generate_la_shaped(
            &SynthConfig {
                seed,
                ..SynthConfig::default()
            },
            0,
            shape,
        )
        .transition_history();
        let p = crate::estimate::fit(&h, &FitOptions::default()).unwrap();
        weigh(&log_rates(&p.trend)).unwrap()
    }

    #[test]
    fn weigh_worked_examples() {
        // A straight line in log rate (growth that persists) is an undamped trend with all the weight; a flat
        // series leaves the trend under half; a curve whose step halves each year is damped by 0.4 or 0.6 (the
        // grid points nearest 0.5).
        let wiggle = |t: usize| 0.002 * (t % 2) as f64;
        let line: Vec<f64> = (0..8).map(|t| -5.0 + 0.08 * t as f64 + wiggle(t)).collect();
        let j = weigh(&line).unwrap();
        assert_eq!(j.trend, JoinerTrend::Damped { damping: 1.0 });
        assert!(j.trend_weight > 0.999, "{j:?}");
        let flat: Vec<f64> = (0..8).map(|t| -5.0 + 5.0 * wiggle(t)).collect();
        assert!(weigh(&flat).unwrap().trend_weight < 0.5);
        let fading: Vec<f64> = damped_axis(8, 0.5)
            .iter()
            .enumerate()
            .map(|(t, x)| -5.0 + 0.2 * x + wiggle(t) / 4.0)
            .collect();
        match weigh(&fading).unwrap().trend {
            JoinerTrend::Damped { damping } => assert!((0.4..=0.6).contains(&damping), "{damping}"),
            k => panic!("{k:?}"),
        }
        // Four years of a clear line: too few to judge.
        assert_eq!(weigh(&line[..4]), None);
        // Rates 0, 1, 0, 1, 0 have no slope: the line's SSE is the constant's, 1.2, and it pays one more ln 5,
        // so it weighs 1 / (1 + e^(ln 5 / 2)) = 1 / (1 + √5); the damped curves fit better (φ = 0: x = 0, 1, 1, 1,
        // 1, SSE 1.2 − 0.4²/0.8 = 1.0) but pay a third parameter: 5 ln(1.0/5) + 3 ln 5 = −3.22 > the line's
        // 5 ln(1.2/5) + 2 ln 5 = −3.92.
        let j = weigh(&[0.0, 1.0, 0.0, 1.0, 0.0]).unwrap();
        assert_eq!(j.trend, JoinerTrend::Damped { damping: 1.0 });
        assert!(
            (j.trend_weight - 1.0 / (1.0 + 5f64.sqrt())).abs() < 1e-12,
            "{j:?}"
        );
        // x_t = Σ φ^(j−1): for φ = 0.5, 0, 1, 1.5, 1.75.
        assert_eq!(damped_axis(4, 0.5), vec![0.0, 1.0, 1.5, 1.75]);
        // y = 1, 2, 4 on x = 0, 1, 2: x̄ = 1, ȳ = 7/3, sxx = 2, sxy = 3, syy = 14/3: SSE = 14/3 − 9/2 = 1/6.
        assert!((line_sse(&[0.0, 1.0, 2.0], &[1.0, 2.0, 4.0]) - 1.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn blending_with_constant_rates_worked_example() {
        // Pooled rate e^−5 (ℓ₀ = −5); the trended fit: level −4.9, slope 0.08, covariance [[0.01, 0.002], [0.002,
        // 0.004]]; weight 0.25. Mean: level −5 + 0.25 · 0.1 = −4.975, slope 0.02. Covariance: w(1−w) = 0.1875;
        // level 0.01 + 0.1875 · 0.01 = 0.011875; cross 0.25 · 0.002 + 0.1875 · 0.1 · 0.08 = 0.002; slope 0.25 ·
        // 0.004 + 0.1875 · 0.0064 = 0.0022.
        let mut t = crate::estimate::Trend {
            kind: JoinerTrend::Damped { damping: 1.0 },
            log_level: -4.9,
            slope: 0.08,
            covariance: [[0.01, 0.002], [0.002, 0.004]],
            yearly_sd: 0.0,
            pooled_rate: (-5.0f64).exp(),
            observed_rates: Vec::new(),
            persistence_sd: 0.0,
        };
        blend_with_constant(&mut t, 0.25);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(t.log_level, -4.975), "{}", t.log_level);
        assert!(close(t.slope, 0.02));
        assert!(close(t.covariance[0][0], 0.011875));
        assert!(close(t.covariance[0][1], 0.002) && close(t.covariance[1][0], 0.002));
        assert!(close(t.covariance[1][1], 0.0022), "{:?}", t.covariance);
    }

    #[test]
    fn a_short_history_takes_the_blind_fallback_damping() {
        // Censuses 2015-2024; fitted only up to 2019: 4 yearly joiner rates, too few to judge the shape, so the
        // default fallback applies: 0.8, chosen blind on the family's tuning seeds (docs/decisions.md), and the
        // forecast says so.
        let h = generate_la_shaped(&SynthConfig::default(), 0, TrendShape::Persistent)
            .transition_history();
        let options = FitOptions {
            base_census: highneeds_domain::CensusYear::new(2019).ok(),
            ..FitOptions::default()
        };
        let p = crate::estimate::fit(&h, &options).unwrap();
        assert_eq!(p.trend.observed_rates.len(), 4);
        assert_eq!(p.trend.kind, JoinerTrend::Damped { damping: 0.8 });
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("too few to judge") && n.contains("damped by 0.8")),
            "{:?}",
            p.notes
        );
    }

    proptest::proptest! {
        /// The blend of a trended fit with constant rates: its mean log rate at every step lies between the two
        /// models' (a weighted mean of them), and its (level, slope) covariance stays a covariance (non-negative
        /// variances and determinant), whatever the weight.
        #[test]
        fn a_blend_lies_between_its_models_and_keeps_a_valid_covariance(
            w in 0.0f64..=1.0,
            level in -7.0f64..-3.0,
            slope in -0.3f64..0.3,
            pooled_log in -7.0f64..-3.0,
            sl in 0.0f64..0.3,
            ss in 0.0f64..0.1,
            corr in -1.0f64..=1.0,
            damping in 0.0f64..=1.0,
        ) {
            let cov = [[sl * sl, corr * sl * ss], [corr * sl * ss, ss * ss]];
            let trended = crate::estimate::Trend {
                kind: JoinerTrend::Damped { damping },
                log_level: level,
                slope,
                covariance: cov,
                yearly_sd: 0.0,
                pooled_rate: pooled_log.exp(),
                observed_rates: Vec::new(),
                persistence_sd: 1.5,
            };
            let mut blended = trended.clone();
            blend_with_constant(&mut blended, w);
            for h in 1..=10u32 {
                let d = trended.damped_time(h);
                let (with_trend, constant) = (level + slope * d, pooled_log);
                let mixed = blended.log_level + blended.slope * d;
                let (lo, hi) = (with_trend.min(constant), with_trend.max(constant));
                proptest::prop_assert!(mixed >= lo - 1e-9 && mixed <= hi + 1e-9, "h {h}: {mixed} outside [{lo}, {hi}]");
            }
            // The persistence spread's variance is w × the trended curve's (it exists only in that world).
            for h in 1..=10u32 {
                let (t, b) = (trended.persistence_gradient(h) * trended.persistence_sd, blended.persistence_gradient(h) * blended.persistence_sd);
                proptest::prop_assert!((b * b - w * t * t).abs() <= 1e-12 * (1.0 + t * t), "h {h}: {b} vs √w × {t}");
            }
            let c = blended.covariance;
            proptest::prop_assert!(c[0][0] >= 0.0 && c[1][1] >= 0.0);
            proptest::prop_assert_eq!(c[0][1], c[1][0]);
            proptest::prop_assert!(c[0][0] * c[1][1] - c[0][1] * c[1][0] >= -1e-12, "{c:?}");
        }
    }

    #[test]
    fn persistent_trends_are_weighed_in_and_flat_ones_mostly_out() {
        // Seeds 1-3, ten censuses: a persistent trend gets nearly all the weight, with a damping of 0.6 or more;
        // a flat history leaves it under half.
        for seed in 1..=3 {
            let j = weighed(TrendShape::Persistent, seed);
            assert!(j.trend_weight > 0.95, "seed {seed}: {j:?}");
            match j.trend {
                JoinerTrend::Damped { damping } => {
                    assert!(damping >= 0.6, "seed {seed}: {damping}")
                }
                k => panic!("seed {seed}: persistent trend judged {k:?}"),
            }
            let flat = weighed(TrendShape::Stable, seed);
            assert!(flat.trend_weight < 0.5, "seed {seed}: {flat:?}");
        }
    }
}
