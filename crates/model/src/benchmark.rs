//! Benchmarking an LA against statistical neighbours and England on published indicators.
//!
//! **Similarity measure.** Each LA is described by six published indicators at the census compared: size
//! (ln plans), 5-year growth (CAGR), the share of plans aged 16-25, in mainstream (with resourced provision),
//! in specialist settings and in independent special schools. Each is standardised over all LAs (z-score);
//! the distance between two LAs is the Euclidean distance of their z-scores (equal weights), and the
//! neighbours are the nearest LAs. Deprivation and region are not in the published EHC plan data, so they are
//! not used (the DfE's own statistical neighbours also weigh deprivation and population: an LA can give its
//! own list instead). Ranks run from 1 = the highest value among all LAs; quartile 1 = the top quarter.

use highneeds_domain::published::CurrentSeries;
use highneeds_domain::{AgeGroup, CanonicalSetting, LaCode, Measure};

use crate::diagnose::SPECIALIST;

/// One indicator of one LA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IndicatorKind {
    Plans,
    Growth5,
    Age16To25,
    Mainstream,
    Specialist,
    Independent,
    NewPlansPer100,
    Refused,
    Within20Weeks,
}

impl IndicatorKind {
    pub const ALL: [IndicatorKind; 9] = [
        Self::Plans,
        Self::Growth5,
        Self::Age16To25,
        Self::Mainstream,
        Self::Specialist,
        Self::Independent,
        Self::NewPlansPer100,
        Self::Refused,
        Self::Within20Weeks,
    ];
    /// The indicators the similarity measure uses.
    pub const SIMILARITY: [IndicatorKind; 6] = [
        Self::Plans,
        Self::Growth5,
        Self::Age16To25,
        Self::Mainstream,
        Self::Specialist,
        Self::Independent,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Self::Plans => "plans",
            Self::Growth5 => "growth_5y",
            Self::Age16To25 => "share_16_25",
            Self::Mainstream => "share_mainstream",
            Self::Specialist => "share_specialist",
            Self::Independent => "share_independent",
            Self::NewPlansPer100 => "new_plans_per_100",
            Self::Refused => "requests_refused",
            Self::Within20Weeks => "within_20_weeks",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Plans => "EHC plans",
            Self::Growth5 => "growth a year, last 5 years",
            Self::Age16To25 => "share aged 16-25",
            Self::Mainstream => "share in mainstream (incl. units)",
            Self::Specialist => "share in specialist settings",
            Self::Independent => "share in independent special",
            Self::NewPlansPer100 => "new plans in the year per 100 plans",
            Self::Refused => "requests refused",
            Self::Within20Weeks => "plans issued within 20 weeks",
        }
    }
    /// Whether the value is a count (shown as a number) rather than a rate.
    pub fn is_count(self) -> bool {
        self == Self::Plans
    }
}

fn sum(s: &CurrentSeries, la: LaCode, ms: &[Measure], y: i32) -> Option<f64> {
    let vals: Vec<f64> = ms.iter().filter_map(|m| s.get(la, *m, y)).collect();
    (!vals.is_empty()).then(|| vals.iter().sum())
}

fn share(s: &CurrentSeries, la: LaCode, ms: &[Measure], all: &[Measure], y: i32) -> Option<f64> {
    let part = sum(s, la, ms, y)?;
    let whole = sum(s, la, all, y)?;
    (whole > 0.0).then(|| part / whole)
}

/// The value of an indicator for an LA (or England) at census `year`.
pub fn indicator(s: &CurrentSeries, la: LaCode, kind: IndicatorKind, year: i32) -> Option<f64> {
    let settings: Vec<Measure> = CanonicalSetting::ALL
        .iter()
        .map(|c| Measure::PlansBySetting(*c))
        .collect();
    let ages: Vec<Measure> = AgeGroup::ALL
        .iter()
        .map(|g| Measure::PlansByAge(*g))
        .collect();
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    match kind {
        IndicatorKind::Plans => s.get(la, Measure::Plans, year),
        IndicatorKind::Growth5 => ratio(
            s.get(la, Measure::Plans, year),
            s.get(la, Measure::Plans, year - 5),
        )
        .map(|r| r.powf(0.2) - 1.0),
        IndicatorKind::Age16To25 => share(
            s,
            la,
            &[
                Measure::PlansByAge(AgeGroup::Age16To19),
                Measure::PlansByAge(AgeGroup::Age20To25),
            ],
            &ages,
            year,
        ),
        IndicatorKind::Mainstream => share(
            s,
            la,
            &[
                Measure::PlansBySetting(CanonicalSetting::Mainstream),
                Measure::PlansBySetting(CanonicalSetting::MainstreamResourcedProvisionOrUnit),
            ],
            &settings,
            year,
        ),
        IndicatorKind::Specialist => {
            let ms: Vec<Measure> = SPECIALIST
                .iter()
                .map(|c| Measure::PlansBySetting(*c))
                .collect();
            share(s, la, &ms, &settings, year)
        }
        IndicatorKind::Independent => share(
            s,
            la,
            &[Measure::PlansBySetting(
                CanonicalSetting::SpecialIndependentOrNonMaintained,
            )],
            &settings,
            year,
        ),
        IndicatorKind::NewPlansPer100 => ratio(
            s.get(la, Measure::NewPlans, year - 1),
            s.get(la, Measure::Plans, year - 1),
        )
        .map(|r| r * 100.0),
        IndicatorKind::Refused => ratio(
            s.get(la, Measure::RequestsRefused, year - 1),
            s.get(la, Measure::Requests, year - 1),
        ),
        IndicatorKind::Within20Weeks => ratio(
            s.get(la, Measure::IssuedWithin20Weeks, year - 1),
            s.get(la, Measure::PlansIssued, year - 1),
        ),
    }
}

/// A neighbour and why it was chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    pub la: LaCode,
    /// Euclidean distance of the standardised similarity indicators (`None` for a neighbour the LA gave).
    pub distance: Option<f64>,
    /// The neighbour's similarity indicators, in [`IndicatorKind::SIMILARITY`] order.
    pub values: Vec<Option<f64>>,
    /// Why it is near: the two similarity indicators on which it is closest to the LA (smallest z gap).
    pub closest: Vec<IndicatorKind>,
}

/// One indicator: the LA, its neighbours and England.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub kind: IndicatorKind,
    pub value: Option<f64>,
    pub neighbours_median: Option<f64>,
    /// England as a whole (the national figure, not the median LA).
    pub england: Option<f64>,
    /// (rank, of how many LAs): 1 = highest.
    pub rank_england: Option<(usize, usize)>,
    /// 1 = the top quarter of LAs, 4 = the bottom quarter.
    pub quartile: Option<u8>,
    /// Rank among the LA and its neighbours.
    pub rank_neighbours: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    pub la: LaCode,
    pub year: i32,
    /// Whether the LA gave its own neighbour list.
    pub given: bool,
    pub neighbours: Vec<Neighbour>,
    pub positions: Vec<Position>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BenchmarkError {
    #[error("LA {la} has no published plans for census {year}")]
    NoPlans { la: LaCode, year: i32 },
    #[error("neighbour {0} has no published plans in the census compared")]
    UnknownNeighbour(LaCode),
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Rank of `value` among `all` (1 = highest; ties share the best rank).
fn rank(value: f64, all: &[f64]) -> (usize, usize) {
    (all.iter().filter(|v| **v > value).count() + 1, all.len())
}

/// Benchmark `la` at census `year`: `given` neighbours, or the `count` nearest by the similarity measure.
pub fn benchmark(
    s: &CurrentSeries,
    la: LaCode,
    year: i32,
    given: &[LaCode],
    count: usize,
) -> Result<Benchmark, BenchmarkError> {
    if s.get(la, Measure::Plans, year).is_none() {
        return Err(BenchmarkError::NoPlans { la, year });
    }
    for n in given {
        if s.get(*n, Measure::Plans, year).is_none() {
            return Err(BenchmarkError::UnknownNeighbour(*n));
        }
    }
    let las = s.las_in(Measure::Plans, year);
    let similarity = Similarity::new(s, &las, la, year);
    let neighbour = |l: LaCode, distance: Option<f64>| Neighbour {
        la: l,
        distance,
        values: IndicatorKind::SIMILARITY
            .iter()
            .map(|k| indicator(s, l, *k, year))
            .collect(),
        closest: similarity.closest(l),
    };
    let neighbours: Vec<Neighbour> = if given.is_empty() {
        let mut all: Vec<(LaCode, f64)> = las
            .iter()
            .filter(|l| **l != la)
            .filter_map(|l| Some((*l, similarity.distance(*l)?)))
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        all.into_iter()
            .take(count)
            .map(|(l, d)| neighbour(l, Some(d)))
            .collect()
    } else {
        given
            .iter()
            .map(|l| neighbour(*l, similarity.distance(*l)))
            .collect()
    };
    let positions = positions(s, &las, la, year, &neighbours);
    let notes = notes(s, la, year, given, count, &neighbours);
    Ok(Benchmark {
        la,
        year,
        given: !given.is_empty(),
        neighbours,
        positions,
        notes,
    })
}

/// How alike two LAs are: z-scores of the similarity indicators over every LA with a value (size in logs),
/// measured from the LA being benchmarked.
struct Similarity<'a> {
    s: &'a CurrentSeries,
    year: i32,
    /// (mean, sd) of each similarity indicator.
    stats: Vec<(f64, f64)>,
    /// The benchmarked LA's z-scores.
    me: Vec<Option<f64>>,
}

impl<'a> Similarity<'a> {
    fn new(s: &'a CurrentSeries, las: &[LaCode], la: LaCode, year: i32) -> Self {
        let stats: Vec<(f64, f64)> = IndicatorKind::SIMILARITY
            .iter()
            .map(|k| {
                let v: Vec<f64> = las
                    .iter()
                    .filter_map(|l| similarity_value(s, *l, *k, year))
                    .collect();
                let n = v.len().max(1) as f64;
                let mean = v.iter().sum::<f64>() / n;
                let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
                (mean, if sd > 0.0 { sd } else { 1.0 })
            })
            .collect();
        let me = z_scores(s, &stats, la, year);
        Self { s, year, stats, me }
    }

    fn z(&self, who: LaCode) -> Vec<Option<f64>> {
        z_scores(self.s, &self.stats, who, self.year)
    }

    /// Euclidean distance of z-scores; only comparable on every indicator the benchmarked LA has.
    fn distance(&self, who: LaCode) -> Option<f64> {
        let other = self.z(who);
        let pairs: Vec<f64> = self
            .me
            .iter()
            .zip(&other)
            .filter_map(|(a, b)| Some((a.as_ref()? - b.as_ref()?).powi(2)))
            .collect();
        (pairs.len() == self.me.iter().filter(|v| v.is_some()).count() && !pairs.is_empty())
            .then(|| pairs.iter().sum::<f64>().sqrt())
    }

    /// The two indicators on which `who` is nearest.
    fn closest(&self, who: LaCode) -> Vec<IndicatorKind> {
        let other = self.z(who);
        let mut gaps: Vec<(f64, IndicatorKind)> = IndicatorKind::SIMILARITY
            .iter()
            .zip(self.me.iter().zip(&other))
            .filter_map(|(k, (a, b))| Some(((a.as_ref()? - b.as_ref()?).abs(), *k)))
            .collect();
        gaps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        gaps.into_iter().take(2).map(|g| g.1).collect()
    }
}

/// `who`'s similarity indicators as z-scores against (mean, sd) `stats`.
fn z_scores(s: &CurrentSeries, stats: &[(f64, f64)], who: LaCode, year: i32) -> Vec<Option<f64>> {
    IndicatorKind::SIMILARITY
        .iter()
        .zip(stats)
        .map(|(k, (m, sd))| similarity_value(s, who, *k, year).map(|v| (v - m) / sd))
        .collect()
}

/// An indicator as the similarity measures it: size in logs, the shares and growth as they are.
fn similarity_value(s: &CurrentSeries, who: LaCode, k: IndicatorKind, year: i32) -> Option<f64> {
    let v = indicator(s, who, k, year)?;
    Some(if k == IndicatorKind::Plans {
        v.max(1.0).ln()
    } else {
        v
    })
}

/// The LA's value of every indicator, with its rank and quartile in England and its rank among its neighbours.
fn positions(
    s: &CurrentSeries,
    las: &[LaCode],
    la: LaCode,
    year: i32,
    neighbours: &[Neighbour],
) -> Vec<Position> {
    IndicatorKind::ALL
        .iter()
        .map(|k| {
            let value = indicator(s, la, *k, year);
            let all: Vec<f64> = las
                .iter()
                .filter_map(|l| indicator(s, *l, *k, year))
                .collect();
            let group: Vec<f64> = neighbours
                .iter()
                .filter_map(|n| indicator(s, n.la, *k, year))
                .collect();
            let mut with_me = group.clone();
            with_me.extend(value);
            let rank_england = value.map(|v| rank(v, &all));
            Position {
                kind: *k,
                value,
                neighbours_median: median(group),
                england: indicator(s, LaCode::england(), *k, year),
                rank_england,
                quartile: rank_england.map(|(r, n)| (((r - 1) * 4) / n.max(1) + 1).min(4) as u8),
                rank_neighbours: value.map(|v| rank(v, &with_me)),
            }
        })
        .collect()
}

/// How the neighbours were chosen, and what was estimated or left out.
fn notes(
    s: &CurrentSeries,
    la: LaCode,
    year: i32,
    given: &[LaCode],
    count: usize,
    neighbours: &[Neighbour],
) -> Vec<String> {
    let mut notes = vec![
        "neighbours are the LAs nearest on size, 5-year growth, share aged 16-25, and shares in mainstream, specialist and independent settings (z-scores, equal weights); deprivation and region are not in the published EHC plan data".to_string(),
    ];
    let estimated: Vec<String> = std::iter::once(la)
        .chain(neighbours.iter().map(|n| n.la))
        .filter(|l| s.apportioned(*l, Measure::Plans, year - 5))
        .map(|l| l.to_string())
        .collect();
    if !estimated.is_empty() {
        notes.push(format!(
            "5-year growth of {} starts from plans estimated across a boundary change (census {})",
            estimated.join(", "),
            year - 5
        ));
    }
    if given.is_empty() && neighbours.len() < count {
        notes.push(format!(
            "only {} LAs could be compared on every indicator",
            neighbours.len()
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use highneeds_domain::PublishedStatistics;

    use super::*;

    fn la(s: &str) -> LaCode {
        s.parse().unwrap()
    }

    /// Four LAs differing only in size and growth; England is their sum.
    fn four() -> CurrentSeries {
        let mut p = PublishedStatistics::default();
        let las = [
            ("E06000001", 100, 200),
            ("E06000002", 110, 210),
            ("E06000003", 1000, 1100),
            ("E06000004", 120, 260),
        ];
        let (mut e0, mut e1) = (0, 0);
        for (code, a, b) in las {
            p.figures.insert((la(code), Measure::Plans, 2017), a);
            p.figures.insert((la(code), Measure::Plans, 2022), b);
            e0 += a;
            e1 += b;
        }
        p.figures
            .insert((LaCode::england(), Measure::Plans, 2017), e0);
        p.figures
            .insert((LaCode::england(), Measure::Plans, 2022), e1);
        p.on_current_boundaries()
    }

    #[test]
    fn nearest_neighbours_and_ranks_by_hand() {
        let s = four();
        let b = benchmark(&s, la("E06000001"), 2022, &[], 2).unwrap();
        // E06000002 (210, growth (210/110)^0.2) is nearest, then E06000004; the large slow E06000003 is last.
        let chosen: Vec<String> = b.neighbours.iter().map(|n| n.la.to_string()).collect();
        assert_eq!(chosen, ["E06000002", "E06000004"]);
        // E06000002 is closer on size (ln 210 − ln 200 = 0.049) than on growth (0.0106 on an sd of ~0.055):
        // in z-scores size gap 0.049/0.70 = 0.07 < growth gap 0.19.
        assert_eq!(
            b.neighbours[0].closest,
            [IndicatorKind::Plans, IndicatorKind::Growth5]
        );
        let plans = &b.positions[0];
        assert_eq!(plans.value, Some(200.0));
        // Plans 200 among 200, 210, 1100, 260: rank 4 of 4, bottom quartile.
        assert_eq!(plans.rank_england, Some((4, 4)));
        assert_eq!(plans.quartile, Some(4));
        // Neighbours' median = (210 + 260) / 2 = 235; England = 1,770.
        assert_eq!(plans.neighbours_median, Some(235.0));
        assert_eq!(plans.england, Some(1770.0));
        // Growth: (200/100)^0.2 − 1 = 0.148698; only E06000004's (260/120)^0.2 − 1 = 0.167235 is higher
        // (E06000002: 0.138060, E06000003: 0.019245): rank 2 of 4, quartile 2, and 2 of 3 with its neighbours.
        let g = &b.positions[1];
        assert!((g.value.unwrap() - 0.148_698).abs() < 1e-6);
        assert_eq!(g.rank_england, Some((2, 4)));
        assert_eq!(g.quartile, Some(2));
        assert_eq!(g.rank_neighbours, Some((2, 3)));
    }

    #[test]
    fn given_neighbours_are_used_and_checked() {
        let s = four();
        let b = benchmark(&s, la("E06000001"), 2022, &[la("E06000003")], 5).unwrap();
        assert!(b.given);
        assert_eq!(b.neighbours.len(), 1);
        assert!(b.neighbours[0].distance.is_some());
        assert_eq!(
            benchmark(&s, la("E06000001"), 2022, &[la("E06000037")], 5),
            Err(BenchmarkError::UnknownNeighbour(la("E06000037")))
        );
    }
}

#[cfg(test)]
mod properties {
    use highneeds_domain::PublishedStatistics;

    use super::*;

    proptest::proptest! {
        /// Ranks lie in 1..=n, quartiles in 1..=4, and neighbours never include the LA itself.
        #[test]
        fn ranks_and_quartiles_are_in_range(plans in proptest::collection::vec((1u64..5000, 1u64..5000), 3..30), k in 1usize..12) {
            let mut p = PublishedStatistics::default();
            for (i, (a, b)) in plans.iter().enumerate() {
                let la: LaCode = format!("E06{:06}", i + 1).parse().unwrap();
                p.figures.insert((la, Measure::Plans, 2017), *a);
                p.figures.insert((la, Measure::Plans, 2022), *b);
            }
            let s = p.on_current_boundaries();
            let me: LaCode = "E06000001".parse().unwrap();
            let b = benchmark(&s, me, 2022, &[], k).unwrap();
            proptest::prop_assert_eq!(b.neighbours.len(), k.min(plans.len() - 1));
            proptest::prop_assert!(b.neighbours.iter().all(|n| n.la != me));
            for pos in &b.positions {
                if let Some((r, n)) = pos.rank_england {
                    proptest::prop_assert!(r >= 1 && r <= n && n == plans.len());
                    let q = pos.quartile.unwrap();
                    proptest::prop_assert!((1..=4).contains(&q));
                }
            }
        }
    }
}
