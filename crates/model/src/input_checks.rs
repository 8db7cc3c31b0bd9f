//! Inputs that would break the arithmetic are refused at the model boundary (issue #11): settings that are not
//! finite or out of range before fitting, and fitted parameters that are not finite after it, so that no forecast
//! ever prints NaN as 0 plans or £0.

use crate::estimate::{FitOptions, JoinerTrend, Parameters};
use crate::ModelError;

impl FitOptions {
    /// Refuse settings the fit cannot use.
    pub fn check(&self) -> Result<(), ModelError> {
        let bad = |what: &str, v: f64, rule: &str| {
            Err(ModelError::Invalid(format!(
                "{what} must be {rule}, not {v}"
            )))
        };
        if !(self.prior_strength.is_finite() && self.prior_strength >= 0.0) {
            return bad(
                "the prior strength",
                self.prior_strength,
                "a finite number ≥ 0",
            );
        }
        if !(self.persistence_sd.is_finite() && self.persistence_sd >= 0.0) {
            return bad(
                "the persistence sd",
                self.persistence_sd,
                "a finite number ≥ 0",
            );
        }
        if let JoinerTrend::Damped { damping } = self.joiner_trend {
            if !(0.0..=1.0).contains(&damping) {
                return bad("the damping", damping, "between 0 and 1 (1 = undamped)");
            }
        }
        Ok(())
    }
}

impl Parameters {
    /// Refuse parameters with a non-finite number in them (e.g. a prior so strong its pseudo-counts overflow).
    pub fn check_finite(&self, options: &FitOptions) -> Result<(), ModelError> {
        let o = &self.outcomes;
        let t = &self.trend;
        let finite = o
            .probability
            .iter()
            .chain(&o.alpha)
            .chain(&o.leave)
            .chain(&o.concentration)
            .chain(
                self.joiners
                    .iter()
                    .flat_map(|j| j.mix_probability.iter().chain(&j.mix_alpha)),
            )
            .chain(
                self.joiners
                    .iter()
                    .map(|j| j.rate())
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .chain(t.covariance.iter().flatten())
            .chain([t.log_level, t.slope, t.yearly_sd, t.pooled_rate].iter())
            .chain(&self.unit_cost_pence)
            .all(|x| x.is_finite());
        if finite {
            Ok(())
        } else {
            Err(ModelError::Invalid(format!(
                "the fitted parameters are not finite numbers (prior strength {}, persistence sd {}): the settings \
                 break the arithmetic; use values nearer the defaults (prior strength 1, persistence sd {})",
                short(options.prior_strength),
                short(options.persistence_sd),
                crate::estimate::DEFAULT_PERSISTENCE_SD
            )))
        }
    }
}

/// A number as a person would write it: 1e308, not 309 digits.
fn short(x: f64) -> String {
    if x.abs() >= 1e6 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::fit;

    #[test]
    fn settings_that_break_the_arithmetic_are_refused() {
        let h = crate::tests::history(300, 5, 0.05, 2);
        for (prior, sd, damping) in [
            (f64::NAN, 1.5, 0.2),
            (-1.0, 1.5, 0.2),
            (f64::INFINITY, 1.5, 0.2),
            (1e308, 1.5, 0.2),
            (1.0, f64::NAN, 0.2),
            (1.0, -0.5, 0.2),
            (1.0, 1.5, 1.5),
            (1.0, 1.5, f64::NAN),
        ] {
            let o = FitOptions {
                prior_strength: prior,
                persistence_sd: sd,
                joiner_trend: JoinerTrend::Damped { damping },
                ..FitOptions::default()
            };
            let e = fit(&h, &o).expect_err(&format!("{prior} {sd} {damping}"));
            assert!(matches!(e, ModelError::Invalid(_)), "{e}");
        }
        assert!(fit(&h, &FitOptions::default()).is_ok());
    }
}
