//! Small-number suppression for the public view: counts under a threshold are withheld, and when a table
//! shows its total, enough further cells are withheld that no withheld count can be worked out from the
//! total and the cells shown (secondary suppression).

/// A published cell: the count, or withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Shown(u64),
    Withheld,
}

impl Cell {
    /// The count as published text: the number, or `[c]` (the DfE's mark for confidential) when withheld.
    pub fn text(self) -> String {
        match self {
            Cell::Shown(n) => n.to_string(),
            Cell::Withheld => "[c]".to_string(),
        }
    }
}

/// The default threshold: counts under 5 are withheld (the DfE's and ONS's usual rule for children's data).
pub const DEFAULT_THRESHOLD: u64 = 5;

/// Suppress one table whose total is published beside it. Primary: every count from 1 to `threshold − 1` is
/// withheld (0 is shown: an empty category reveals nobody). Secondary: if exactly one cell is withheld, the
/// smallest other non-zero cell is withheld too, so the total minus the shown cells is the sum of at least two
/// withheld counts. If the withheld cells sum to under `threshold` (e.g. 1 + 2 = 3, itself a small number),
/// further smallest cells are withheld until they do not. Returns the cells in the given order; the total is
/// shown unless it is itself under the threshold (then every cell is withheld).
pub fn suppress(counts: &[u64], threshold: u64) -> (Vec<Cell>, Cell) {
    let total: u64 = counts.iter().sum();
    if total > 0 && total < threshold {
        return (vec![Cell::Withheld; counts.len()], Cell::Withheld);
    }
    let mut withheld: Vec<bool> = counts.iter().map(|&n| n > 0 && n < threshold).collect();
    loop {
        let hidden: Vec<usize> = (0..counts.len()).filter(|&i| withheld[i]).collect();
        let hidden_sum: u64 = hidden.iter().map(|&i| counts[i]).sum();
        let safe = hidden.is_empty() || (hidden.len() >= 2 && hidden_sum >= threshold);
        if safe {
            break;
        }
        // The smallest shown non-zero cell (ties: the first).
        let next = (0..counts.len())
            .filter(|&i| !withheld[i] && counts[i] > 0)
            .min_by_key(|&i| counts[i]);
        match next {
            Some(i) => withheld[i] = true,
            None => break,
        }
    }
    let cells = counts
        .iter()
        .zip(&withheld)
        .map(|(&n, &w)| if w { Cell::Withheld } else { Cell::Shown(n) })
        .collect();
    (cells, Cell::Shown(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_example_one_small_cell_takes_the_next_smallest_with_it() {
        // 3 is under 5; alone, 120 − 40 − 77 would reveal it, so 40 (the next smallest) goes too.
        let (cells, total) = suppress(&[40, 3, 77], 5);
        assert_eq!(cells, vec![Cell::Withheld, Cell::Withheld, Cell::Shown(77)]);
        assert_eq!(total, Cell::Shown(120));
    }

    #[test]
    fn two_tiny_cells_summing_under_the_threshold_take_a_third() {
        // 1 + 2 = 3 would itself be a small number: the next smallest (9) is withheld as well.
        let (cells, _) = suppress(&[1, 2, 9, 50], 5);
        assert_eq!(
            cells,
            vec![
                Cell::Withheld,
                Cell::Withheld,
                Cell::Withheld,
                Cell::Shown(50)
            ]
        );
    }

    #[test]
    fn zeros_and_large_counts_are_shown() {
        let (cells, total) = suppress(&[0, 12, 30], 5);
        assert_eq!(
            cells,
            vec![Cell::Shown(0), Cell::Shown(12), Cell::Shown(30)]
        );
        assert_eq!(total, Cell::Shown(42));
    }

    #[test]
    fn a_small_total_withholds_everything() {
        let (cells, total) = suppress(&[1, 2], 5);
        assert_eq!(cells, vec![Cell::Withheld, Cell::Withheld]);
        assert_eq!(total, Cell::Withheld);
    }

    proptest! {
        /// No withheld small count can be recovered: no count in 1..threshold is shown, and whenever something
        /// is withheld beside a shown total, at least two cells are withheld and they sum to at least the threshold.
        #[test]
        fn no_small_count_can_be_worked_out(counts in proptest::collection::vec(0u64..40, 1..8), threshold in 2u64..11) {
            let (cells, total) = suppress(&counts, threshold);
            for (c, n) in cells.iter().zip(&counts) {
                if let Cell::Shown(v) = c {
                    prop_assert_eq!(v, n);
                    prop_assert!(*v == 0 || *v >= threshold);
                }
            }
            if let Cell::Shown(_) = total {
                let hidden: Vec<u64> = cells.iter().zip(&counts)
                    .filter(|(c, _)| **c == Cell::Withheld).map(|(_, n)| *n).collect();
                if !hidden.is_empty() {
                    prop_assert!(hidden.len() >= 2);
                    prop_assert!(hidden.iter().sum::<u64>() >= threshold);
                }
            }
        }
    }
}
