//! Does a model have a finite, unique maximum-likelihood estimate?
//!
//! Identifiability: the design on the `2^k − 1` observable cells must have
//! full column rank. Existence (Fienberg & Rinaldo 2012; Chan, Silverman &
//! Vincent 2021): the estimate exists iff the observed sufficient statistics
//! `t = Xᵀy` are in the relative interior of the cone spanned by the design's
//! rows, that is iff some strictly positive `z` has `Xᵀz = t`. The linear
//! program `max s` subject to `Xᵀz = t`, `z_i ≥ s`, `s ≥ 0` answers this:
//! the estimate exists iff its optimum is positive. When no cell is zero the
//! counts themselves are such a `z`, and no program is solved.

use microlp::{ComparisonOp, OptimizationDirection, Problem};
use nalgebra::DMatrix;

/// The verdict on a model and a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Existence {
    /// The estimate exists and is unique.
    Exists,
    /// An interaction's lists never appear together: its estimate is −∞.
    EmptyInteraction(u32),
    /// The observed margins are on the boundary of the model's cone.
    Boundary,
    /// The design does not have full column rank.
    NotIdentifiable,
}

/// A positive optimum below this (relative to the total) counts as zero.
const LP_TOLERANCE: f64 = 1e-7;

/// Check `terms` (for the quick test of empty interactions) and the design
/// `x` with counts `y`.
pub(crate) fn check(terms: &[u32], histories: &[u32], x: &DMatrix<f64>, y: &[f64]) -> Existence {
    for &term in terms {
        let together: f64 = histories
            .iter()
            .zip(y)
            .filter(|(&h, _)| h & term == term)
            .map(|(_, &count)| count)
            .sum();
        if together == 0.0 {
            return Existence::EmptyInteraction(term);
        }
    }
    if !full_column_rank(x) {
        return Existence::NotIdentifiable;
    }
    if y.iter().all(|&count| count > 0.0) {
        return Existence::Exists;
    }
    if interior_point_exists(x, y) {
        Existence::Exists
    } else {
        Existence::Boundary
    }
}

/// Full column rank, judged from the singular values of `x`.
pub(crate) fn full_column_rank(x: &DMatrix<f64>) -> bool {
    if x.nrows() < x.ncols() {
        return false;
    }
    let singular = x.clone().svd(false, false).singular_values;
    let largest = singular.iter().copied().fold(0.0, f64::max);
    let tolerance = largest * 1e-10 * (x.nrows().max(x.ncols()) as f64);
    singular.iter().filter(|&&s| s > tolerance).count() == x.ncols()
}

fn interior_point_exists(x: &DMatrix<f64>, y: &[f64]) -> bool {
    let total: f64 = y.iter().sum();
    if total <= 0.0 {
        return false;
    }
    // Scale to a total of 1 so the tolerance is relative.
    let mut problem = Problem::new(OptimizationDirection::Maximize);
    let z: Vec<_> = (0..x.nrows())
        .map(|_| problem.add_var(0.0, (0.0, f64::INFINITY)))
        .collect();
    let s = problem.add_var(1.0, (0.0, f64::INFINITY));
    for column in 0..x.ncols() {
        let target: f64 = (0..x.nrows())
            .map(|row| x[(row, column)] * y[row])
            .sum::<f64>()
            / total;
        let terms: Vec<_> = (0..x.nrows())
            .filter(|&row| x[(row, column)] != 0.0)
            .map(|row| (z[row], x[(row, column)]))
            .collect();
        problem.add_constraint(terms.as_slice(), ComparisonOp::Eq, target);
    }
    for &var in &z {
        problem.add_constraint([(var, 1.0), (s, -1.0)].as_slice(), ComparisonOp::Ge, 0.0);
    }
    match problem.solve() {
        Ok(outcome) => outcome
            .solution()
            .is_some_and(|solution| solution.objective() > LP_TOLERANCE),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{observable_histories, Model};

    fn korea() -> Vec<f64> {
        // Histories 1..8 over lists b (bit 0), c (bit 1), d (bit 2).
        let mut y = vec![0.0; 7];
        for (history, count) in [
            (0b100, 41.0),
            (0b010, 5.0),
            (0b001, 5.0),
            (0b011, 54.0),
            (0b101, 6.0),
            (0b110, 0.0),
            (0b111, 12.0),
        ] {
            y[history - 1] = count;
        }
        y
    }

    fn verdict(terms: &[u32], y: &[f64]) -> Existence {
        let histories = observable_histories(3);
        let model = Model::with_terms(terms.iter().copied()).unwrap();
        let x = model.design(3, &histories);
        check(model.terms(), &histories, &x, y)
    }

    #[test]
    fn korea_has_exactly_two_models_without_an_estimate() {
        let (bc, bd, cd) = (0b011, 0b101, 0b110);
        let y = korea();
        assert_eq!(verdict(&[], &y), Existence::Exists);
        assert_eq!(verdict(&[bc], &y), Existence::Exists);
        assert_eq!(verdict(&[bd], &y), Existence::Exists);
        assert_eq!(verdict(&[cd], &y), Existence::Exists);
        assert_eq!(verdict(&[bc, cd], &y), Existence::Exists);
        assert_eq!(verdict(&[bd, cd], &y), Existence::Exists);
        assert_eq!(verdict(&[bc, bd], &y), Existence::Boundary);
        assert_eq!(verdict(&[bc, bd, cd], &y), Existence::Boundary);
    }

    #[test]
    fn never_overlapping_lists_are_caught() {
        let mut y = korea();
        y[0b011 - 1] = 0.0;
        y[0b111 - 1] = 0.0;
        assert_eq!(verdict(&[0b011], &y), Existence::EmptyInteraction(0b011));
    }

    #[test]
    fn the_three_way_term_with_three_lists_is_not_identifiable() {
        let y = vec![1.0; 7];
        assert_eq!(
            verdict(&[0b011, 0b101, 0b110, 0b111], &y),
            Existence::NotIdentifiable
        );
    }
}
