//! Money as integer pence. Ledger arithmetic is exact; statistical forecasts (`f64`) enter a ledger
//! through [`Pence::from_pounds_rounded`] exactly once.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

use crate::DomainError;

/// An amount of money in pence. Negative amounts are deficits or spend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pence(i64);

impl Pence {
    pub const ZERO: Pence = Pence(0);

    pub const fn new(pence: i64) -> Self {
        Self(pence)
    }
    pub const fn from_pounds(pounds: i64) -> Self {
        Self(pounds * 100)
    }
    pub const fn pence(self) -> i64 {
        self.0
    }
    /// Round a statistical amount in pounds to the nearest penny (half away from zero).
    /// `None` for NaN, infinities and amounts beyond ±£90 trillion.
    pub fn from_pounds_rounded(pounds: f64) -> Option<Self> {
        Self::from_pence_rounded(pounds * 100.0)
    }
    /// Round a statistical amount in pence to the nearest penny (half away from zero).
    pub fn from_pence_rounded(pence: f64) -> Option<Self> {
        if !pence.is_finite() || pence.abs() > 9.0e15 {
            return None;
        }
        Some(Self(pence.round() as i64))
    }
    pub fn as_pounds_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
    pub fn checked_add(self, other: Pence) -> Option<Pence> {
        self.0.checked_add(other.0).map(Pence)
    }
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
    /// `£29.49m`: millions of pounds to 2 d.p., for summaries.
    pub fn to_millions_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        // Round half away from zero at £10,000 (0.01 m) in integer arithmetic.
        let abs = i128::from(self.0).abs();
        let hundredths = (abs + 500_000) / 1_000_000;
        format!("{sign}£{}.{:02}m", hundredths / 100, hundredths % 100)
    }
}

impl fmt::Display for Pence {
    /// `£1,234,567.89`, `-£9,528,516.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = i128::from(self.0).abs();
        let pounds = abs / 100;
        let pence = abs % 100;
        write!(f, "{sign}£{}.{pence:02}", group_thousands(pounds))
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: i128) -> String {
    let digits = n.abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl FromStr for Pence {
    type Err = DomainError;
    /// Accepts `1234`, `1234.5`, `1,234.56`, `£1,234.56`, `-£3,744` and `(3,744.00)` (pounds; at most 2 d.p.).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || DomainError::Invalid {
            what: "amount of money",
            value: s.to_string(),
            expected: "pounds with at most 2 decimal places, e.g. 29488313 or £1,234.56",
        };
        let mut t = s.trim();
        let mut negative = false;
        if let Some(inner) = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
            negative = true;
            t = inner.trim();
        }
        if let Some(rest) = t.strip_prefix('-') {
            negative = !negative;
            t = rest.trim_start();
        }
        // Excel's Accounting format puts spaces between the sign and the digits: "£ 1,234.00".
        t = t.strip_prefix('£').map_or(t, str::trim_start);
        if t.is_empty() {
            return Err(invalid());
        }
        // Thousands separators only where they group thousands: "1,234" is £1,234 but "1,23" (a decimal comma?)
        // and "12,34,567" are refused rather than read as £123 or £1,234,567.
        let whole_part = t.split_once('.').map_or(t, |(w, _)| w);
        if whole_part.contains(',') {
            let mut groups = whole_part.split(',');
            // The first group: 1-3 digits, not led by a 0 ("0,123" is not how anyone writes £123).
            let first_ok = groups
                .next()
                .is_some_and(|g| (1..=3).contains(&g.len()) && !g.starts_with('0'));
            if !first_ok || !groups.all(|g| g.len() == 3) {
                return Err(invalid());
            }
        }
        if t.split_once('.').is_some_and(|(_, f)| f.contains(',')) {
            return Err(invalid());
        }
        let cleaned: String = t.chars().filter(|c| *c != ',').collect();
        let (whole, frac) = match cleaned.split_once('.') {
            Some((w, f)) => (w, f),
            None => (cleaned.as_str(), ""),
        };
        if whole.is_empty() && frac.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || frac.len() > 2
            || whole.len() > 15
        {
            return Err(invalid());
        }
        let pounds: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| invalid())?
        };
        let pence: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| invalid())? * 10,
            _ => frac.parse().map_err(|_| invalid())?,
        };
        let total = pounds * 100 + pence;
        Ok(Pence(if negative { -total } else { total }))
    }
}

impl Add for Pence {
    type Output = Pence;
    fn add(self, o: Pence) -> Pence {
        Pence(self.0 + o.0)
    }
}
impl Sub for Pence {
    type Output = Pence;
    fn sub(self, o: Pence) -> Pence {
        Pence(self.0 - o.0)
    }
}
impl Neg for Pence {
    type Output = Pence;
    fn neg(self) -> Pence {
        Pence(-self.0)
    }
}
impl AddAssign for Pence {
    fn add_assign(&mut self, o: Pence) {
        self.0 += o.0;
    }
}
impl SubAssign for Pence {
    fn sub_assign(&mut self, o: Pence) {
        self.0 -= o.0;
    }
}
impl Sum for Pence {
    fn sum<I: Iterator<Item = Pence>>(iter: I) -> Pence {
        iter.fold(Pence::ZERO, Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_pounds_with_thousands() {
        assert_eq!(Pence::new(2_948_831_300).to_string(), "£29,488,313.00");
        assert_eq!(Pence::new(-952_851_600).to_string(), "-£9,528,516.00");
        assert_eq!(Pence::new(5).to_string(), "£0.05");
        assert_eq!(Pence::new(-99).to_string(), "-£0.99");
        assert_eq!(Pence::new(100_000).to_string(), "£1,000.00");
        assert_eq!(
            Pence::new(i64::MIN).to_string(),
            "-£92,233,720,368,547,758.08"
        );
    }

    #[test]
    fn formats_millions() {
        // Dudley's DSG deficit £26.676m → £26.68m.
        assert_eq!(
            Pence::from_pounds(26_676_000).to_millions_string(),
            "£26.68m"
        );
        assert_eq!(
            Pence::from_pounds(-34_800_000).to_millions_string(),
            "-£34.80m"
        );
        assert_eq!(Pence::from_pounds(4_999).to_millions_string(), "£0.00m");
        assert_eq!(Pence::from_pounds(5_000).to_millions_string(), "£0.01m");
    }

    #[test]
    fn parses_amounts() {
        assert_eq!(
            "29488313".parse::<Pence>().unwrap(),
            Pence::from_pounds(29_488_313)
        );
        assert_eq!("£1,234.5".parse::<Pence>().unwrap(), Pence::new(123_450));
        assert_eq!("-£3,744".parse::<Pence>().unwrap(), Pence::new(-374_400));
        assert_eq!("(3,744.00)".parse::<Pence>().unwrap(), Pence::new(-374_400));
        assert_eq!(".5".parse::<Pence>().unwrap(), Pence::new(50));
        for bad in ["", "£", "1.234", "abc", "1e5", "--1", "1.2.3", "."] {
            assert!(bad.parse::<Pence>().is_err(), "{bad:?} parsed");
        }
        // As Excel writes them in a Windows-1252 CSV (decoded): accounting spaces, brackets, thousands.
        assert_eq!("£ 1,234.00".parse::<Pence>().unwrap(), Pence::new(123_400));
        assert_eq!(
            "(£12,345,678.90)".parse::<Pence>().unwrap(),
            Pence::new(-1_234_567_890)
        );
        assert_eq!(
            "1,000,000".parse::<Pence>().unwrap(),
            Pence::new(100_000_000)
        );
        // Separators that do not group thousands are ambiguous ("1,23" is not £123; "1,234,5" not £12,345).
        for ambiguous in [
            "1,23",
            "12,34,567",
            "1,234,5",
            ",123",
            "1,,234",
            "1234,567",
            "1.234,56",
            "£ -",
        ] {
            assert!(ambiguous.parse::<Pence>().is_err(), "{ambiguous:?} parsed");
        }
    }

    #[test]
    fn rounds_once_half_away_from_zero() {
        assert_eq!(Pence::from_pounds_rounded(1.25), Some(Pence::new(125)));
        assert_eq!(
            Pence::from_pounds_rounded(40_895_301.004),
            Some(Pence::from_pounds(40_895_301))
        );
        assert_eq!(Pence::from_pence_rounded(2.5), Some(Pence::new(3)));
        assert_eq!(Pence::from_pence_rounded(-2.5), Some(Pence::new(-3)));
        assert_eq!(Pence::from_pence_rounded(f64::NAN), None);
        assert_eq!(Pence::from_pence_rounded(f64::INFINITY), None);
    }

    #[test]
    fn sums_and_checked_addition() {
        // The West Berkshire ledger itself is tested through `ledger::ledger` (model/src/ledger.rs); here the
        // operators: 1p + £2.50 − £1.01 = £1.50 by `Sum`, and an overflow is refused rather than wrapped.
        let total: Pence = [Pence::new(1), Pence::new(250), Pence::new(-101)]
            .into_iter()
            .sum();
        assert_eq!(total, Pence::new(150));
        assert_eq!(total.to_string(), "£1.50");
        assert_eq!(Pence::new(i64::MAX).checked_add(Pence::new(1)), None);
        assert_eq!(
            Pence::new(i64::MAX - 1).checked_add(Pence::new(1)),
            Some(Pence::new(i64::MAX))
        );
    }
}
