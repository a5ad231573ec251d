//! Fitting one model to a table, and choosing a model: stepwise by Poisson
//! p-values, stepwise by AIC, and exhaustive search by AIC or BIC.

use rayon::prelude::*;
use statrs::distribution::{ChiSquared, ContinuousCDF, DiscreteCDF, Poisson};

use crate::error::EstimateError;
use crate::existence::{self, Existence};
use crate::fit::{fit_poisson, PoissonFit};
use crate::model::{all_pairs, observable_histories, term_name, Model};
use crate::table::CaptureTable;

/// A model fitted to the observable cells of a table.
#[derive(Debug, Clone)]
pub(crate) struct FittedModel {
    pub model: Model,
    pub fit: PoissonFit,
    pub observed: f64,
    pub n_cells: usize,
}

impl FittedModel {
    /// The estimated number of unobserved cases, `exp(intercept)`.
    pub fn dark_figure(&self) -> f64 {
        self.fit.beta[0].exp()
    }

    /// The estimated population, `n + exp(intercept)`.
    pub fn estimate(&self) -> f64 {
        self.observed + self.dark_figure()
    }

    /// The number of parameters.
    pub fn n_parameters(&self) -> usize {
        self.fit.beta.len()
    }

    /// Akaike's criterion, `−2 log L + 2p` (as R's `glm`).
    pub fn aic(&self) -> f64 {
        -2.0 * self.fit.log_likelihood + 2.0 * self.n_parameters() as f64
    }

    /// Schwarz's criterion, `−2 log L + p log(n)` with `n` the number of
    /// cases observed.
    pub fn bic(&self) -> f64 {
        -2.0 * self.fit.log_likelihood + self.observed.ln() * self.n_parameters() as f64
    }

    /// Residual degrees of freedom.
    pub fn df(&self) -> usize {
        self.n_cells.saturating_sub(self.n_parameters())
    }
}

/// The counts of the observable cells, in history order `1..2^k`.
pub(crate) fn observable_counts(table: &CaptureTable) -> Vec<f64> {
    table.counts()[1..].iter().map(|&c| c as f64).collect()
}

/// Why `model` has no estimate on `table`, if it has none.
pub(crate) fn existence_problem(table: &CaptureTable, model: &Model) -> Option<EstimateError> {
    let histories = observable_histories(table.n_lists());
    let y = observable_counts(table);
    let x = model.design(table.n_lists(), &histories);
    no_estimate_error(
        table,
        model,
        existence::check(model.terms(), &histories, &x, &y),
    )
}

fn no_estimate_error(
    table: &CaptureTable,
    model: &Model,
    verdict: Existence,
) -> Option<EstimateError> {
    let reason = match verdict {
        Existence::Exists => return None,
        Existence::EmptyInteraction(term) => format!(
            "no case is on all of {} together, so that interaction would be minus infinity",
            term_name(term, table.list_names()).replace(':', ", ")
        ),
        Existence::Boundary => "the maximum-likelihood estimate does not exist: the observed \
                                margins lie on the boundary of the model (Fienberg-Rinaldo linear-programming check)"
            .to_string(),
        Existence::NotIdentifiable => {
            "the model is not identifiable from the observable cells (design not of full rank)"
                .to_string()
        }
    };
    Some(EstimateError::NoEstimate {
        model: model.describe(table.list_names()),
        reason,
    })
}

/// Fit `model` without checking existence (the caller has checked).
pub(crate) fn fit_unchecked(
    table: &CaptureTable,
    model: &Model,
) -> Result<FittedModel, EstimateError> {
    let histories = observable_histories(table.n_lists());
    let y = observable_counts(table);
    let x = model.design(table.n_lists(), &histories);
    let fit = fit_poisson(&x, &y, None).ok_or_else(|| EstimateError::NoConvergence {
        model: model.describe(table.list_names()),
    })?;
    Ok(FittedModel {
        model: model.clone(),
        fit,
        observed: table.observed() as f64,
        n_cells: histories.len(),
    })
}

/// Check and fit `model`.
///
/// # Errors
///
/// [`EstimateError::NoEstimate`] when the estimate does not exist or is not
/// identifiable; [`EstimateError::NoConvergence`] when Newton fails.
pub(crate) fn fit_model(table: &CaptureTable, model: &Model) -> Result<FittedModel, EstimateError> {
    if let Some(error) = existence_problem(table, model) {
        return Err(error);
    }
    fit_unchecked(table, model)
}

/// One step of a stepwise selection.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SelectionStep {
    /// The term added, like `A:B`.
    pub term: String,
    /// Its p-value when it was added.
    pub p_value: f64,
    /// The estimate after adding it.
    pub estimate: f64,
    /// The AIC after adding it.
    pub aic: f64,
}

/// A model met during a search, with its figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CandidateModel {
    /// The interaction terms.
    pub terms: Vec<String>,
    /// The model's estimate.
    pub estimate: f64,
    /// Its deviance.
    pub deviance: f64,
    /// Its AIC.
    pub aic: f64,
    /// Its BIC.
    pub bic: f64,
}

/// The outcome of a model selection.
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    pub fitted: FittedModel,
    pub steps: Vec<SelectionStep>,
    pub candidates: Vec<CandidateModel>,
    pub models_without_estimate: usize,
}

impl Selection {
    fn single(fitted: FittedModel) -> Selection {
        Selection {
            fitted,
            steps: Vec::new(),
            candidates: Vec::new(),
            models_without_estimate: 0,
        }
    }
}

/// Fit one given model.
pub(crate) fn fixed(table: &CaptureTable, model: &Model) -> Result<Selection, EstimateError> {
    fit_model(table, model).map(Selection::single)
}

/// `P(X ≤ k)` and `P(X ≥ k)` for `X ~ Poisson(lambda)`, the smaller.
pub(crate) fn poisson_two_sided_tail(observed: u64, lambda: f64) -> f64 {
    if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() {
        return if observed == 0 { 1.0 } else { 0.0 };
    }
    let Ok(poisson) = Poisson::new(lambda) else {
        return 1.0;
    };
    let lower = poisson.cdf(observed);
    let upper = if observed == 0 {
        1.0
    } else {
        poisson.sf(observed - 1)
    };
    lower.min(upper)
}

fn overlap(table: &CaptureTable, pair: u32) -> u64 {
    table
        .counts()
        .iter()
        .enumerate()
        .filter(|(history, _)| (*history as u32) & pair == pair)
        .map(|(_, &count)| count)
        .sum()
}

fn expected_overlap(fitted: &FittedModel, pair: u32) -> f64 {
    fitted
        .fit
        .fitted
        .iter()
        .enumerate()
        .filter(|(row, _)| ((row + 1) as u32) & pair == pair)
        .map(|(_, &mu)| mu)
        .sum()
}

/// Chan, Silverman & Vincent (2021): starting from main effects, add the
/// pair whose observed overlap is least likely under the current model (a
/// two-sided Poisson tail), while that p-value is below `threshold` and the
/// new model has an estimate.
pub(crate) fn stepwise_poisson(
    table: &CaptureTable,
    threshold: f64,
) -> Result<Selection, EstimateError> {
    let mut current = fit_model(table, &Model::main_effects())?;
    let pairs = all_pairs(table.n_lists());
    let observed: Vec<u64> = pairs.iter().map(|&p| overlap(table, p)).collect();
    let mut steps = Vec::new();
    let mut skipped = 0usize;
    loop {
        let mut ranked: Vec<(f64, usize)> = pairs
            .iter()
            .enumerate()
            .filter(|(_, pair)| !current.model.terms().contains(pair))
            .map(|(index, &pair)| {
                let lambda = expected_overlap(&current, pair);
                (poisson_two_sided_tail(observed[index], lambda), index)
            })
            .filter(|(p, _)| *p < threshold)
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut next = None;
        for (p_value, index) in ranked {
            let candidate = current.model.plus(pairs[index]);
            match fit_model(table, &candidate) {
                Ok(fitted) => {
                    next = Some((fitted, p_value, pairs[index]));
                    break;
                }
                Err(EstimateError::NoEstimate { .. }) => skipped += 1,
                Err(error) => return Err(error),
            }
        }
        let Some((fitted, p_value, pair)) = next else {
            break;
        };
        steps.push(SelectionStep {
            term: term_name(pair, table.list_names()),
            p_value,
            estimate: fitted.estimate(),
            aic: fitted.aic(),
        });
        current = fitted;
    }
    Ok(Selection {
        fitted: current,
        steps,
        candidates: Vec::new(),
        models_without_estimate: skipped,
    })
}

/// Stepwise by AIC: add the pair that lowers AIC most; stop when none
/// lowers it or when the best pair's likelihood-ratio p-value exceeds
/// `stop_p` (the term is then not added).
pub(crate) fn stepwise_aic(table: &CaptureTable, stop_p: f64) -> Result<Selection, EstimateError> {
    let mut current = fit_model(table, &Model::main_effects())?;
    let pairs = all_pairs(table.n_lists());
    let chi_squared = ChiSquared::new(1.0).map_err(|_| {
        EstimateError::InvalidConfig("chi-squared distribution unavailable".to_string())
    })?;
    let mut steps = Vec::new();
    let mut skipped = 0usize;
    loop {
        let candidates: Vec<(usize, Result<FittedModel, EstimateError>)> = pairs
            .par_iter()
            .enumerate()
            .filter(|(_, pair)| !current.model.terms().contains(pair))
            .map(|(index, &pair)| (index, fit_model(table, &current.model.plus(pair))))
            .collect();
        let mut best: Option<(usize, FittedModel)> = None;
        for (index, result) in candidates {
            match result {
                Ok(fitted) => {
                    let better = best.as_ref().is_none_or(|(_, b)| fitted.aic() < b.aic());
                    if better {
                        best = Some((index, fitted));
                    }
                }
                Err(EstimateError::NoEstimate { .. }) => skipped += 1,
                Err(error) => return Err(error),
            }
        }
        let Some((index, fitted)) = best else { break };
        if fitted.aic() >= current.aic() {
            break;
        }
        let drop = (current.fit.deviance - fitted.fit.deviance).max(0.0);
        let p_value = 1.0 - chi_squared.cdf(drop);
        if p_value > stop_p {
            break;
        }
        steps.push(SelectionStep {
            term: term_name(pairs[index], table.list_names()),
            p_value,
            estimate: fitted.estimate(),
            aic: fitted.aic(),
        });
        current = fitted;
    }
    Ok(Selection {
        fitted: current,
        steps,
        candidates: Vec::new(),
        models_without_estimate: skipped,
    })
}

/// Which criterion an exhaustive search minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Criterion {
    Aic,
    Bic,
}

/// The most pairs an exhaustive search accepts (six lists).
pub(crate) const MAX_SEARCH_PAIRS: usize = 15;

/// Every model made of main effects and a subset of the pairs; the one with
/// the lowest criterion wins, ties going to the first in subset order.
pub(crate) fn exhaustive(
    table: &CaptureTable,
    criterion: Criterion,
    n_candidates: usize,
) -> Result<Selection, EstimateError> {
    let pairs = all_pairs(table.n_lists());
    if pairs.len() > MAX_SEARCH_PAIRS {
        return Err(EstimateError::InvalidConfig(format!(
            "an exhaustive search handles at most 6 lists ({} pairs); this table has {} lists, use stepwise",
            MAX_SEARCH_PAIRS,
            table.n_lists()
        )));
    }
    let histories = observable_histories(table.n_lists());
    let y = observable_counts(table);
    // Pairs never seen together make every model holding them fail.
    let usable: Vec<bool> = pairs.iter().map(|&p| overlap(table, p) > 0).collect();
    let usable_mask: u32 = usable
        .iter()
        .enumerate()
        .filter(|(_, &u)| u)
        .map(|(i, _)| 1u32 << i)
        .sum();
    // Existence is inherited by submodels: if the largest usable model has
    // an estimate, so has every model below it.
    let largest = subset_model(&pairs, usable_mask);
    let x = largest.design(table.n_lists(), &histories);
    let all_exist = existence::check(largest.terms(), &histories, &x, &y) == Existence::Exists;

    let n_models = 1u32 << pairs.len();
    let results: Vec<Option<FittedModel>> = (0..n_models)
        .into_par_iter()
        .map(|subset| {
            if subset & !usable_mask != 0 {
                return None;
            }
            let model = subset_model(&pairs, subset);
            if !all_exist && existence_problem(table, &model).is_some() {
                return None;
            }
            fit_unchecked(table, &model).ok()
        })
        .collect();
    let score = |fitted: &FittedModel| match criterion {
        Criterion::Aic => fitted.aic(),
        Criterion::Bic => fitted.bic(),
    };
    let mut ranked: Vec<(f64, usize)> = results
        .iter()
        .enumerate()
        .filter_map(|(index, fitted)| fitted.as_ref().map(|f| (score(f), index)))
        .collect();
    let without = results.len() - ranked.len();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let Some(&(_, best_index)) = ranked.first() else {
        return Err(EstimateError::NoModelWithEstimate);
    };
    let candidates = ranked
        .iter()
        .take(n_candidates)
        .filter_map(|&(_, index)| results[index].as_ref())
        .map(|fitted| candidate_summary(table, fitted))
        .collect();
    let mut results = results;
    let fitted = results[best_index]
        .take()
        .ok_or(EstimateError::NoModelWithEstimate)?;
    Ok(Selection {
        fitted,
        steps: Vec::new(),
        candidates,
        models_without_estimate: without,
    })
}

fn subset_model(pairs: &[u32], subset: u32) -> Model {
    let mut model = Model::main_effects();
    for (bit, &pair) in pairs.iter().enumerate() {
        if subset & (1 << bit) != 0 {
            model = model.plus(pair);
        }
    }
    model
}

pub(crate) fn candidate_summary(table: &CaptureTable, fitted: &FittedModel) -> CandidateModel {
    CandidateModel {
        terms: fitted.model.term_names(table.list_names()),
        estimate: fitted.estimate(),
        deviance: fitted.fit.deviance,
        aic: fitted.aic(),
        bic: fitted.bic(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn permuted(table: &CaptureTable, order: &[usize]) -> CaptureTable {
        // New list `j` is old list `order[j]`.
        let names = order
            .iter()
            .map(|&i| table.list_names()[i].clone())
            .collect();
        let cells = (1u32..(1 << order.len()))
            .map(|new| {
                let old = order
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| new & (1 << j) != 0)
                    .map(|(_, &i)| 1u32 << i)
                    .sum::<u32>();
                (new, table.count(old))
            })
            .collect();
        CaptureTable::from_counts(names, cells).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]

        /// Relabelling the lists changes neither the fit nor the verdict.
        #[test]
        fn estimates_do_not_depend_on_list_order(
            counts in proptest::collection::vec(0u64..40, 7),
            pair in 0usize..3,
        ) {
            prop_assume!(counts.iter().sum::<u64>() > 0);
            let names = vec!["A".to_string(), "B".to_string(), "C".to_string()];
            let table = CaptureTable::from_counts(names, (1u32..8).zip(counts).collect()).unwrap();
            let order = [2usize, 0, 1];
            let other = permuted(&table, &order);
            let term = all_pairs(3)[pair];
            // The same pair in the new labels.
            let new_term: u32 = order
                .iter()
                .enumerate()
                .filter(|(_, &i)| term & (1 << i) != 0)
                .map(|(j, _)| 1u32 << j)
                .sum();
            for (model, new_model) in [
                (Model::main_effects(), Model::main_effects()),
                (Model::main_effects().plus(term), Model::main_effects().plus(new_term)),
            ] {
                match (fit_model(&table, &model), fit_model(&other, &new_model)) {
                    (Ok(a), Ok(b)) => {
                        prop_assert!((a.estimate() - b.estimate()).abs() <= 1e-6 * a.estimate());
                        prop_assert!((a.fit.deviance - b.fit.deviance).abs() <= 1e-6 * (1.0 + a.fit.deviance));
                    }
                    (Err(EstimateError::NoEstimate { .. }), Err(EstimateError::NoEstimate { .. })) => {}
                    (a, b) => prop_assert!(false, "{:?} vs {:?}", a.map(|f| f.estimate()), b.map(|f| f.estimate())),
                }
            }
        }
    }

    #[test]
    fn poisson_tail_is_the_smaller_side() {
        // X ~ Poisson(2): P(X <= 0) = e^-2; P(X >= 6) is small.
        let p0 = poisson_two_sided_tail(0, 2.0);
        assert!((p0 - (-2.0f64).exp()).abs() < 1e-12);
        let p6 = poisson_two_sided_tail(6, 2.0);
        let below5: f64 = (0..=5)
            .map(|k| (-2.0f64).exp() * 2.0f64.powi(k) / (1..=k).product::<i32>().max(1) as f64)
            .sum();
        assert!((p6 - (1.0 - below5)).abs() < 1e-12, "{p6}");
        assert!((poisson_two_sided_tail(2, 2.0) - 1.0).abs() > 0.0);
    }
}
