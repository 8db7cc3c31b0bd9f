//! The direct regression of an LA's h-year deviation from England on its leading indicators.

use super::{indicators_at, England, LaRecords, PublishedForecastOptions};
use super::{MIN_ROWS, MIN_TRAINING_PLANS};

/// Training targets beyond ±0.5 (a boundary artefact or a tiny LA) are clipped to it.
const TARGET_CLIP: f64 = 0.5;

/// One training row: the indicators at an origin and the LA's deviation from England over the next h years.
struct Row {
    x: [Option<f64>; 3],
    target: f64,
}

fn rows(records: &LaRecords, england: &England, origin: i32, h: u32) -> Vec<Row> {
    let h = h as i32;
    let first = records.census_years().first().copied().unwrap_or(origin);
    let mut out = Vec::new();
    for o in first + 1..=origin - h {
        let Some(g) = england.growth_between(o, o + h) else {
            continue;
        };
        for la in records.plans.keys() {
            let (Some(a), Some(b)) = (records.plans_at(*la, o), records.plans_at(*la, o + h))
            else {
                continue;
            };
            if a < MIN_TRAINING_PLANS {
                continue;
            }
            out.push(Row {
                x: indicators_at(records, england, *la, o),
                target: ((b / a).ln() - g).clamp(-TARGET_CLIP, TARGET_CLIP),
            });
        }
    }
    out
}

/// Coefficients (0 for indicators not used) for horizon `h` at `origin`, fitted on rows whose outcome is
/// known at the origin. Indicators are dropped, last first (requests, then new plans, then the own trend),
/// while fewer than [`MIN_ROWS`] rows have all of them.
pub(super) fn fit(
    records: &LaRecords,
    england: &England,
    origin: i32,
    h: u32,
    options: &PublishedForecastOptions,
) -> [f64; 3] {
    let all = rows(records, england, origin, h);
    let mut active = options.indicators.as_array();
    loop {
        let used: Vec<usize> = (0..3).filter(|j| active[*j]).collect();
        if used.is_empty() {
            return [0.0; 3];
        }
        let chosen: Vec<(Vec<f64>, f64)> = all
            .iter()
            .filter_map(|r| {
                let x: Option<Vec<f64>> = used.iter().map(|j| r.x[*j]).collect();
                Some((x?, r.target))
            })
            .collect();
        if chosen.len() >= MIN_ROWS {
            let b = ridge(&chosen, options.ridge);
            let mut beta = [0.0; 3];
            for (j, v) in used.iter().zip(b) {
                beta[*j] = v;
            }
            return beta;
        }
        if let Some(last) = used.last() {
            active[*last] = false;
        }
    }
}

/// Ridge regression without intercept on standardised columns: (XᵀX/n + λI) b = Xᵀy/n, then b_j / s_j.
fn ridge(rows: &[(Vec<f64>, f64)], lambda: f64) -> Vec<f64> {
    let k = rows.first().map_or(0, |r| r.0.len());
    let n = rows.len() as f64;
    let scale: Vec<f64> = (0..k)
        .map(|j| {
            let ms = rows.iter().map(|r| r.0[j] * r.0[j]).sum::<f64>() / n;
            if ms > 0.0 {
                ms.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let mut a = vec![vec![0.0; k]; k];
    let mut rhs = vec![0.0; k];
    for (x, y) in rows {
        for i in 0..k {
            rhs[i] += x[i] / scale[i] * y / n;
            for j in 0..k {
                a[i][j] += x[i] / scale[i] * x[j] / scale[j] / n;
            }
        }
    }
    for (i, row) in a.iter_mut().enumerate() {
        row[i] += lambda;
    }
    solve(a, rhs)
        .map(|b| b.iter().zip(&scale).map(|(b, s)| b / s).collect())
        .unwrap_or_else(|| vec![0.0; k])
}

/// Gaussian elimination with partial pivoting; `None` when the system is singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let k = b.len();
    for col in 0..k {
        let pivot = (col..k).max_by(|i, j| a[*i][col].abs().total_cmp(&a[*j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col].clone();
        for r in col + 1..k {
            let f = a[r][col] / pivot_row[col];
            for (v, p) in a[r].iter_mut().zip(&pivot_row).skip(col) {
                *v -= f * p;
            }
            b[r] -= f * b[col];
        }
    }
    let mut x = vec![0.0; k];
    for r in (0..k).rev() {
        let s: f64 = (r + 1..k).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_worked_example() {
        // 2x + y = 5, x + 3y = 10 → x = 1, y = 3.
        let x = solve(vec![vec![2.0, 1.0], vec![1.0, 3.0]], vec![5.0, 10.0]).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 3.0).abs() < 1e-12);
        assert_eq!(
            solve(vec![vec![1.0, 2.0], vec![2.0, 4.0]], vec![1.0, 2.0]),
            None
        );
    }

    #[test]
    fn ridge_worked_example() {
        // y = 2x on x = 1, 2, 3 (no noise): least squares gives 2. With λ = 1 on the standardised column
        // (s² = 14/3): b = (Σxy/n/s) / (1 + 1) → β = 2 · (14/3) / (14/3 + 14/3) = 1.
        let rows: Vec<(Vec<f64>, f64)> = [1.0, 2.0, 3.0]
            .iter()
            .map(|x| (vec![*x], 2.0 * x))
            .collect();
        assert!((ridge(&rows, 0.0)[0] - 2.0).abs() < 1e-12);
        assert!((ridge(&rows, 1.0)[0] - 1.0).abs() < 1e-12);
    }
}
