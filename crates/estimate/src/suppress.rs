//! Small-cell suppression of a capture table for publication.
//!
//! The published table shows every observable cell, each list's total and
//! the grand total. Cells with `0 < count < K` are suppressed (primary
//! suppression). A suppressed cell must not be recoverable from what is
//! shown: the totals are linear equations in the suppressed cells, and a
//! cell is recoverable exactly when its unit vector lies in the row space of
//! those equations restricted to the suppressed cells. While some cell is
//! recoverable, more cells are suppressed (secondary suppression), chosen
//! greedily to leave the fewest recoverable cells (ties: the smallest count,
//! then the lowest history); when hiding cells cannot help, the list totals
//! involved are withheld too. Zero cells are shown. The estimate always uses
//! the exact counts: suppression only changes what is printed.

use nalgebra::DMatrix;

use crate::table::CaptureTable;

/// A capture table prepared for publication.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SuppressedTable {
    /// Every observable history with its count, `None` where suppressed.
    pub cells: Vec<(u32, Option<u64>)>,
    /// Each list's total, `None` where withheld.
    pub list_totals: Vec<Option<u64>>,
    /// The number of cases observed.
    pub total: u64,
    /// Cells suppressed for being small.
    pub primary: usize,
    /// Cells suppressed to protect the small ones.
    pub secondary: usize,
}

/// Suppress the cells below `min_cell` and enough others that none of them
/// can be recovered from the published totals.
pub fn suppress_cells(table: &CaptureTable, min_cell: u64) -> SuppressedTable {
    let n_lists = table.n_lists();
    let histories: Vec<u32> = (1..(1u32 << n_lists)).collect();
    let counts: Vec<u64> = histories.iter().map(|&h| table.count(h)).collect();
    let mut hidden: Vec<bool> = counts.iter().map(|&c| c > 0 && c < min_cell).collect();
    let primary = hidden.iter().filter(|&&h| h).count();
    let mut margins_shown = vec![true; n_lists];
    loop {
        let exposed = exposed_cells(&histories, &hidden, &margins_shown);
        if exposed.is_empty() {
            break;
        }
        // Try each visible cell as a complement; keep the one leaving the
        // fewest exposed cells.
        let mut best: Option<(usize, u64, usize)> = None;
        for (index, &count) in counts.iter().enumerate() {
            if hidden[index] || count == 0 {
                continue;
            }
            hidden[index] = true;
            let left = exposed_cells(&histories, &hidden, &margins_shown).len();
            hidden[index] = false;
            let key = (left, count, index);
            if left < exposed.len() && best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        match best {
            Some((_, _, index)) => hidden[index] = true,
            None => {
                // Hiding cells cannot help: withhold the list totals that
                // involve an exposed cell.
                let first = exposed[0];
                let mut changed = false;
                for (list, shown) in margins_shown.iter_mut().enumerate() {
                    if *shown && histories[first] & (1 << list) != 0 {
                        *shown = false;
                        changed = true;
                    }
                }
                if !changed {
                    // Only the grand total pins it down: hide every cell.
                    for (index, &count) in counts.iter().enumerate() {
                        if count > 0 {
                            hidden[index] = true;
                        }
                    }
                    break;
                }
            }
        }
    }
    let secondary = hidden.iter().filter(|&&h| h).count() - primary;
    SuppressedTable {
        cells: histories
            .iter()
            .zip(&counts)
            .zip(&hidden)
            .map(|((&h, &c), &hide)| (h, (!hide).then_some(c)))
            .collect(),
        list_totals: (0..n_lists)
            .map(|list| {
                margins_shown[list].then(|| {
                    histories
                        .iter()
                        .zip(&counts)
                        .filter(|(&h, _)| h & (1 << list) != 0)
                        .map(|(_, &c)| c)
                        .sum()
                })
            })
            .collect(),
        total: table.observed(),
        primary,
        secondary,
    }
}

/// The hidden cells whose value follows from the shown totals.
fn exposed_cells(histories: &[u32], hidden: &[bool], margins_shown: &[bool]) -> Vec<usize> {
    let columns: Vec<usize> = (0..histories.len()).filter(|&i| hidden[i]).collect();
    if columns.is_empty() {
        return Vec::new();
    }
    // Rows: the grand total, then each shown list total.
    let mut rows: Vec<Vec<f64>> = vec![vec![1.0; columns.len()]];
    for (list, &shown) in margins_shown.iter().enumerate() {
        if shown {
            rows.push(
                columns
                    .iter()
                    .map(|&c| {
                        if histories[c] & (1 << list) != 0 {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            );
        }
    }
    let base = rank(&rows, columns.len());
    (0..columns.len())
        .filter(|&j| {
            let mut with_unit = rows.clone();
            let mut unit = vec![0.0; columns.len()];
            unit[j] = 1.0;
            with_unit.push(unit);
            rank(&with_unit, columns.len()) == base
        })
        .map(|j| columns[j])
        .collect()
}

fn rank(rows: &[Vec<f64>], n_columns: usize) -> usize {
    let matrix = DMatrix::from_fn(rows.len(), n_columns, |r, c| rows[r][c]);
    matrix.svd(false, false).rank(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_lists(counts: [u64; 7]) -> CaptureTable {
        let names = vec!["A".into(), "B".into(), "C".into()];
        CaptureTable::from_counts(names, (1..8).zip(counts).collect()).unwrap()
    }

    #[test]
    fn nothing_small_nothing_hidden() {
        let published = suppress_cells(&three_lists([10, 20, 30, 40, 50, 60, 70]), 5);
        assert_eq!(published.primary + published.secondary, 0);
        assert!(published.cells.iter().all(|(_, c)| c.is_some()));
    }

    #[test]
    fn a_lone_small_cell_gets_a_complement_and_cannot_be_recovered() {
        let published = suppress_cells(&three_lists([10, 20, 30, 40, 50, 60, 2]), 5);
        assert_eq!(published.primary, 1);
        assert!(published.secondary >= 1);
        assert_eq!(published.cells[6].1, None);
        let histories: Vec<u32> = published.cells.iter().map(|(h, _)| *h).collect();
        let hidden: Vec<bool> = published.cells.iter().map(|(_, c)| c.is_none()).collect();
        let shown: Vec<bool> = published.list_totals.iter().map(Option::is_some).collect();
        assert!(exposed_cells(&histories, &hidden, &shown).is_empty());
    }

    #[test]
    fn exposure_is_detected() {
        // One hidden cell with the grand total shown is always recoverable.
        let histories = [1u32, 2, 3];
        assert_eq!(
            exposed_cells(&histories, &[false, false, true], &[true, true]),
            [2]
        );
        // Two hidden cells in different list totals: still recoverable.
        assert_eq!(
            exposed_cells(&histories, &[true, true, false], &[true, true]).len(),
            2
        );
    }
}
