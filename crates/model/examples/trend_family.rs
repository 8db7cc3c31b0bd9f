//! Backtest the person-level model on a synthetic family of LAs whose joiner trends persist, fade, reverse or
//! stay flat (issue #11), and choose the fallback damping and the persistence spread by the documented procedure.
//! `cargo run --release -p highneeds-model --example trend_family -- SEED_FROM SEED_TO [DAMPINGS [PERSISTENCE_SDS
//! [MIN_YEARS]]]` (seeds 1-200 by default, the tuning family; comma-separated lists; `aX` = the trend weighed from
//! the history, damping X where it is too short to judge, plain `X` = damping X always; MIN_YEARS = fewest
//! transition years an origin's fit has, 3 by default). Each seed is one LA of each shape. Prints every (shape,
//! setting, method, horizon) score, the standard error of the model's bias across the LAs, the model's 3-year
//! error by the number of yearly rates its fit had, and, when more than one setting is given, the procedure's
//! choice (docs/decisions.md, "The fallback and the spread re-chosen on a family large enough to judge a ±2 %
//! bound"): the fallback with the least MAPE summed over the shapes and 1-3 years among those whose persistent-trend
//! bias is within ±2 % at every horizon with two standard errors to spare, at the first persistence sd given; then
//! the persistence sd whose 90 % coverage is nearest 90 % on average over the shapes and horizons.
use std::collections::BTreeMap;
use std::process::exit;

use highneeds_model::backtest::{backtest, score, BacktestOptions, Method, Point, Score};
use highneeds_model::estimate::{FitOptions, JoinerTrend};
use highneeds_model::Engine;
use highneeds_synth::{generate_la_shaped, SynthConfig, TrendShape};

const HORIZON: u32 = 3;
const BIAS_BOUND: f64 = 0.02;

/// A damping as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Damping {
    value: f64,
    /// `aX`: the trend weighed from the history, `value` only where it is too short to judge.
    fallback_only: bool,
}

impl Damping {
    fn parse(text: &str) -> Result<Self, String> {
        let (number, fallback_only) = match text.strip_prefix('a') {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        match number.parse::<f64>() {
            Ok(value) if (0.0..1.0).contains(&value) => Ok(Self {
                value,
                fallback_only,
            }),
            _ => Err(format!(
                "damping {text:?}: expected a number in [0, 1), or aX for a fallback X"
            )),
        }
    }
    fn label(self) -> String {
        if self.fallback_only {
            format!("a{}", self.value)
        } else {
            self.value.to_string()
        }
    }
}

/// What the command line asked for.
struct Request {
    seeds: std::ops::RangeInclusive<u64>,
    settings: Vec<(Damping, f64)>,
    min_fit_years: usize,
}

/// One setting's model scores for one shape, per horizon.
#[derive(Debug, Clone, Copy)]
struct ModelCell {
    mape: f64,
    bias: f64,
    coverage_90: f64,
    /// Standard error of the bias across the family's LAs.
    bias_se: f64,
}

/// One setting's model scores, per shape.
type SettingScores = BTreeMap<&'static str, Vec<ModelCell>>;

fn main() {
    let request = parse_args().unwrap_or_else(|e| {
        eprintln!("trend_family: {e}");
        exit(2)
    });
    let mut scores: Vec<SettingScores> = vec![BTreeMap::new(); request.settings.len()];
    for shape in TrendShape::ALL {
        let histories: Vec<_> = request
            .seeds
            .clone()
            .map(|seed| {
                let config = SynthConfig {
                    seed,
                    ..SynthConfig::default()
                };
                generate_la_shaped(&config, 0, shape).transition_history()
            })
            .collect();
        for (k, &(damping, persistence_sd)) in request.settings.iter().enumerate() {
            let options = options(damping, persistence_sd, request.min_fit_years);
            let mut points = Vec::new();
            let mut by_la = Vec::new();
            for h in &histories {
                let la = backtest(h, &options).unwrap_or_else(|e| {
                    eprintln!("trend_family: backtest of a {} LA: {e}", shape.code());
                    exit(1)
                });
                by_la.push(score(&la.points, HORIZON));
                points.extend(la.points);
            }
            let prefix = format!(
                "{:<10} damping {:<5} persistence sd {persistence_sd:<4}",
                shape.code(),
                damping.label()
            );
            let cells = print_scores(&prefix, &points, &by_la);
            print_by_origin(&prefix, &points);
            scores[k].insert(shape.code(), cells);
        }
    }
    if request.settings.len() > 1 {
        choose(&request.settings, &scores);
    }
}

fn parse_args() -> Result<Request, String> {
    let args: Vec<String> = std::env::args().collect();
    let number = |i: usize, default: u64| -> Result<u64, String> {
        args.get(i).map_or(Ok(default), |s| {
            s.parse()
                .map_err(|_| format!("argument {i} {s:?}: expected a whole number"))
        })
    };
    let (from, to) = (number(1, 1)?, number(2, 200)?);
    let dampings: Vec<Damping> = match args.get(3) {
        Some(s) => s.split(',').map(Damping::parse).collect::<Result<_, _>>()?,
        None => vec![Damping {
            value: highneeds_model::DEFAULT_FALLBACK_DAMPING,
            fallback_only: true,
        }],
    };
    let persistence_sds: Vec<f64> = match args.get(4) {
        Some(s) => s
            .split(',')
            .map(|x| match x.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                _ => Err(format!("persistence sd {x:?}: expected a number ≥ 0")),
            })
            .collect::<Result<_, _>>()?,
        None => vec![FitOptions::default().persistence_sd],
    };
    let min_fit_years = usize::try_from(number(5, 3)?).map_err(|e| e.to_string())?;
    if from > to {
        return Err(format!("seeds {from}-{to}: the first is after the last"));
    }
    Ok(Request {
        seeds: from..=to,
        settings: dampings
            .iter()
            .flat_map(|&d| persistence_sds.iter().map(move |&p| (d, p)))
            .collect(),
        min_fit_years,
    })
}

fn options(damping: Damping, persistence_sd: f64, min_fit_years: usize) -> BacktestOptions {
    BacktestOptions {
        engine: Engine::Analytic,
        min_fit_years,
        fit: FitOptions {
            joiner_trend: JoinerTrend::Damped {
                damping: damping.value,
            },
            trend_from_history: damping.fallback_only,
            persistence_sd,
            ..FitOptions::default()
        },
        ..BacktestOptions::default()
    }
}

/// Every method's score by horizon, and the model's bias's standard error; returns the model's cells.
fn print_scores(prefix: &str, points: &[Point], by_la: &[Vec<Score>]) -> Vec<ModelCell> {
    let mut cells = Vec::new();
    for s in score(points, HORIZON) {
        let coverage_90 = s.coverage.map(|c| c[2]);
        println!(
            "{prefix} {:<18} {} year(s) cases {:>4} MAPE {:>6.2}% bias {:>+6.2}% 90% coverage {}",
            s.method.code(),
            s.horizon,
            s.cases,
            s.mape * 100.0,
            s.bias * 100.0,
            coverage_90.map_or("-".into(), |c| format!("{:.1}%", c * 100.0))
        );
        if s.method == Method::Trended {
            let bias_se = bias_standard_error(by_la, s.horizon);
            println!(
                "{prefix} model bias at {} year(s): standard error across LAs {:.2}%",
                s.horizon,
                bias_se * 100.0
            );
            cells.push(ModelCell {
                mape: s.mape,
                bias: s.bias,
                coverage_90: coverage_90.unwrap_or(f64::NAN),
                bias_se,
            });
        }
    }
    cells
}

/// Standard error of the model's mean bias at `horizon` across LAs (each LA's own mean bias one observation, as an
/// LA's origins share its trend and are not independent); NaN with fewer than two LAs.
fn bias_standard_error(by_la: &[Vec<Score>], horizon: u32) -> f64 {
    let biases: Vec<f64> = by_la
        .iter()
        .filter_map(|scores| {
            scores
                .iter()
                .find(|s| s.method == Method::Trended && s.horizon == horizon && s.cases > 0)
                .map(|s| s.bias)
        })
        .collect();
    let n = biases.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let mean = biases.iter().sum::<f64>() / n;
    (biases.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt()
}

/// The model's and constant rates' 3-year bias and MAPE by origin (every LA of the family has the same first
/// census, so the origin says how many yearly rates the fit had).
fn print_by_origin(prefix: &str, points: &[Point]) {
    let mut by: BTreeMap<(i32, &'static str), (f64, f64, usize)> = BTreeMap::new();
    for p in points.iter().filter(|p| p.horizon == HORIZON) {
        if !matches!(p.method, Method::Trended | Method::Stationary) {
            continue;
        }
        let e = p.error_share();
        let cell = by
            .entry((p.origin.year(), p.method.code()))
            .or_insert((0.0, 0.0, 0));
        cell.0 += e;
        cell.1 += e.abs();
        cell.2 += 1;
    }
    for ((origin, method), (sum, abs, n)) in by {
        let n_f = n as f64;
        println!(
            "{prefix} origin {origin} {method:<18} {HORIZON} years cases {n:>4} MAPE {:>6.2}% bias {:>+6.2}%",
            abs / n_f * 100.0,
            sum / n_f * 100.0,
        );
    }
}

/// The procedure: the fallback first (bias bound with a margin, then least summed MAPE), then the spread.
fn choose(settings: &[(Damping, f64)], scores: &[SettingScores]) {
    let first_sd = settings[0].1;
    let summed = |s: &SettingScores| s.values().flatten().map(|c| c.mape).sum::<f64>() * 100.0;
    // Within the bound with two standard errors to spare at every horizon: a setting at the bound's edge on the
    // tuning seeds is outside it about half the time on fresh ones. No standard error (one LA) or a missing
    // horizon fails the test.
    let persistent_ok = |s: &SettingScores| {
        s.get("persistent").is_some_and(|cells| {
            cells.len() == HORIZON as usize
                && cells
                    .iter()
                    .all(|c| c.bias_se.is_finite() && c.bias.abs() + 2.0 * c.bias_se <= BIAS_BOUND)
        })
    };
    let mut fallback: Option<(Damping, f64)> = None;
    for (k, &(damping, sd)) in settings.iter().enumerate() {
        if sd != first_sd {
            continue;
        }
        let (total, ok) = (summed(&scores[k]), persistent_ok(&scores[k]));
        println!(
            "choice step 1: damping {} summed MAPE {total:.2} persistent bias within ±2 % by two standard errors: {ok}",
            damping.label()
        );
        if ok && fallback.is_none_or(|(_, best)| total < best) {
            fallback = Some((damping, total));
        }
    }
    let Some((damping, _)) = fallback else {
        println!("choice: no damping keeps the persistent bias within ±2 % by two standard errors (with one LA there is no standard error)");
        return;
    };
    let mut best: Option<(f64, f64)> = None;
    for (k, &(d, sd)) in settings.iter().enumerate() {
        if d != damping {
            continue;
        }
        let cells: Vec<f64> = scores[k]
            .values()
            .flatten()
            .map(|c| c.coverage_90)
            .filter(|c| c.is_finite())
            .collect();
        if cells.is_empty() {
            continue;
        }
        let off = cells.iter().map(|c| (c - 0.9).abs()).sum::<f64>() / cells.len() as f64 * 100.0;
        println!(
            "choice step 2: damping {} persistence sd {sd} mean |90 % coverage − 90 %| {off:.2} points",
            d.label()
        );
        if best.is_none_or(|(_, b)| off < b) {
            best = Some((sd, off));
        }
    }
    let kind = if damping.fallback_only {
        "fallback damping"
    } else {
        "fixed damping"
    };
    if let Some((sd, _)) = best {
        println!("choice: {kind} {} persistence sd {sd}", damping.value);
    }
}
