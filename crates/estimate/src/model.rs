//! Log-linear models for capture tables: their terms and design matrices.
//!
//! Every model has an intercept and one main effect per list; on top of
//! those it holds interaction terms, each a set of two or more lists written
//! as a bit mask (bit `i` = list `i`). The design row of history `h` has a 1
//! in a term's column exactly when the term's lists are all in `h`, so the
//! all-zero history (the unobserved cell) carries the intercept alone.

use nalgebra::DMatrix;

use crate::error::EstimateError;

/// A log-linear model: the intercept, the main effects and some interactions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Model {
    terms: Vec<u32>,
}

impl Model {
    /// The main-effects (independence) model.
    pub fn main_effects() -> Model {
        Model { terms: Vec::new() }
    }

    /// A model with the given interaction terms (each a mask of two or more
    /// lists). Duplicates are dropped and the terms put in canonical order.
    ///
    /// # Errors
    ///
    /// A term with fewer than two lists.
    pub fn with_terms(terms: impl IntoIterator<Item = u32>) -> Result<Model, EstimateError> {
        let mut model = Model::main_effects();
        for term in terms {
            if term.count_ones() < 2 {
                return Err(EstimateError::BadTerm {
                    term: format!("{term:#b}"),
                    reason: "an interaction needs at least two lists".to_string(),
                });
            }
            model = model.plus(term);
        }
        Ok(model)
    }

    /// Parse terms such as `A:B` or `A:B:C` against the list names.
    ///
    /// # Errors
    ///
    /// An unknown list name, a list repeated within a term, or a term with
    /// fewer than two lists.
    pub fn parse_terms(specs: &[String], list_names: &[String]) -> Result<Model, EstimateError> {
        let mut masks = Vec::new();
        for spec in specs {
            let mut mask = 0u32;
            for name in spec.split(':').map(str::trim) {
                let index = list_names.iter().position(|l| l == name).ok_or_else(|| {
                    EstimateError::BadTerm {
                        term: spec.clone(),
                        reason: format!("`{name}` is not a list"),
                    }
                })?;
                if mask & (1 << index) != 0 {
                    return Err(EstimateError::BadTerm {
                        term: spec.clone(),
                        reason: format!("`{name}` appears twice"),
                    });
                }
                mask |= 1 << index;
            }
            if mask.count_ones() < 2 {
                return Err(EstimateError::BadTerm {
                    term: spec.clone(),
                    reason: "an interaction needs at least two lists".to_string(),
                });
            }
            masks.push(mask);
        }
        Model::with_terms(masks)
    }

    /// The interaction terms, in canonical order (by order, then by lists).
    pub fn terms(&self) -> &[u32] {
        &self.terms
    }

    /// The model with one more term.
    pub fn plus(&self, term: u32) -> Model {
        let mut terms = self.terms.clone();
        if !terms.contains(&term) {
            terms.push(term);
            terms.sort_by_key(|&t| term_sort_key(t));
        }
        Model { terms }
    }

    /// The number of parameters for `n_lists` lists.
    pub fn n_parameters(&self, n_lists: usize) -> usize {
        1 + n_lists + self.terms.len()
    }

    /// The terms as names like `A:B`.
    pub fn term_names(&self, list_names: &[String]) -> Vec<String> {
        self.terms
            .iter()
            .map(|&t| term_name(t, list_names))
            .collect()
    }

    /// A short description: the terms joined by `+`, or `main effects`.
    pub fn describe(&self, list_names: &[String]) -> String {
        if self.terms.is_empty() {
            "main effects".to_string()
        } else {
            format!("main effects + {}", self.term_names(list_names).join(" + "))
        }
    }

    /// The design matrix for the given histories (one row each).
    pub(crate) fn design(&self, n_lists: usize, histories: &[u32]) -> DMatrix<f64> {
        let n_columns = self.n_parameters(n_lists);
        DMatrix::from_fn(histories.len(), n_columns, |row, column| {
            let history = histories[row];
            let present = if column == 0 {
                true
            } else if column <= n_lists {
                history & (1 << (column - 1)) != 0
            } else {
                let term = self.terms[column - 1 - n_lists];
                history & term == term
            };
            if present {
                1.0
            } else {
                0.0
            }
        })
    }
}

/// The name of a term: its lists joined by `:`.
pub fn term_name(term: u32, list_names: &[String]) -> String {
    list_names
        .iter()
        .enumerate()
        .filter(|(i, _)| term & (1 << i) != 0)
        .map(|(_, name)| name.as_str())
        .collect::<Vec<_>>()
        .join(":")
}

/// Order terms by their order, then by their lowest lists.
fn term_sort_key(term: u32) -> (u32, u32) {
    (term.count_ones(), !term.reverse_bits())
}

/// All pairs of lists, `(0,1), (0,2), ..., (1,2), ...`, as masks.
pub(crate) fn all_pairs(n_lists: usize) -> Vec<u32> {
    let mut pairs = Vec::new();
    for i in 0..n_lists {
        for j in (i + 1)..n_lists {
            pairs.push((1 << i) | (1 << j));
        }
    }
    pairs
}

/// The observable histories `1..2^k`.
pub(crate) fn observable_histories(n_lists: usize) -> Vec<u32> {
    (1..(1u32 << n_lists)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["A", "B", "C"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_and_orders_terms() {
        let specs = vec!["B:C".to_string(), "A:B".to_string(), "A:B:C".to_string()];
        let model = Model::parse_terms(&specs, &names()).unwrap();
        assert_eq!(model.term_names(&names()), ["A:B", "B:C", "A:B:C"]);
        assert!(Model::parse_terms(&["A:D".to_string()], &names()).is_err());
        assert!(Model::parse_terms(&["A:A".to_string()], &names()).is_err());
        assert!(Model::parse_terms(&["A".to_string()], &names()).is_err());
    }

    #[test]
    fn design_rows_follow_histories() {
        let model = Model::with_terms([0b011]).unwrap();
        let x = model.design(3, &[0b000, 0b011, 0b101]);
        assert_eq!(
            x.row(0).iter().copied().collect::<Vec<_>>(),
            [1.0, 0.0, 0.0, 0.0, 0.0]
        );
        assert_eq!(
            x.row(1).iter().copied().collect::<Vec<_>>(),
            [1.0, 1.0, 1.0, 0.0, 1.0]
        );
        assert_eq!(
            x.row(2).iter().copied().collect::<Vec<_>>(),
            [1.0, 1.0, 0.0, 1.0, 0.0]
        );
    }

    #[test]
    fn pairs_are_in_lexicographic_order() {
        assert_eq!(all_pairs(3), [0b011, 0b101, 0b110]);
    }
}
