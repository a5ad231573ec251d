//! Poisson log-linear fits by iteratively reweighted least squares (Newton).
//!
//! Each step solves the weighted normal equations `XᵀWX β = XᵀWz` with
//! nalgebra's Cholesky factorisation; the covariance of the estimate is the
//! inverse of `XᵀWX` at convergence, also from the factorisation.

use nalgebra::{DMatrix, DVector};
use statrs::function::gamma::ln_gamma;

/// The result of a converged Poisson fit.
#[derive(Debug, Clone)]
pub(crate) struct PoissonFit {
    /// The coefficients (intercept first).
    pub beta: DVector<f64>,
    /// The fitted means, one per row of the design.
    pub fitted: Vec<f64>,
    /// The covariance matrix of the coefficients.
    pub covariance: DMatrix<f64>,
    /// The deviance against the saturated model.
    pub deviance: f64,
    /// The Poisson log-likelihood, constants included.
    pub log_likelihood: f64,
}

const MAX_ITERATIONS: usize = 200;
const TOLERANCE: f64 = 1e-11;
const MAX_ETA: f64 = 700.0;

/// The Poisson deviance of counts `y` against means `mu`.
pub(crate) fn deviance(y: &[f64], mu: &[f64]) -> f64 {
    2.0 * y
        .iter()
        .zip(mu)
        .map(|(&y, &m)| {
            let term = if y > 0.0 { y * (y / m).ln() } else { 0.0 };
            term - (y - m)
        })
        .sum::<f64>()
}

/// The Poisson log-likelihood of counts `y` (possibly fractional) at means `mu`.
pub(crate) fn log_likelihood(y: &[f64], mu: &[f64]) -> f64 {
    y.iter()
        .zip(mu)
        .map(|(&y, &m)| {
            let term = if y > 0.0 { y * m.ln() } else { 0.0 };
            term - m - ln_gamma(y + 1.0)
        })
        .sum()
}

fn weighted_normal_equations(
    x: &DMatrix<f64>,
    weights: &[f64],
    response: &[f64],
) -> (DMatrix<f64>, DVector<f64>) {
    let mut xt_w = x.transpose();
    for (column, &w) in weights.iter().enumerate() {
        xt_w.column_mut(column).scale_mut(w);
    }
    let information = &xt_w * x;
    let rhs = &xt_w * DVector::from_column_slice(response);
    (information, rhs)
}

fn means(x: &DMatrix<f64>, beta: &DVector<f64>) -> Vec<f64> {
    (x * beta)
        .iter()
        .map(|&eta| eta.min(MAX_ETA).exp())
        .collect()
}

/// Fit `log E[y] = X β` to counts `y`. Returns `None` when the weighted
/// normal equations are singular or the iterations do not converge.
pub(crate) fn fit_poisson(
    x: &DMatrix<f64>,
    y: &[f64],
    start: Option<&DVector<f64>>,
) -> Option<PoissonFit> {
    let mut mu: Vec<f64> = match start {
        Some(beta) if beta.len() == x.ncols() => means(x, beta),
        _ => y.iter().map(|&v| v + 0.1).collect(),
    };
    let mut beta = DVector::zeros(x.ncols());
    let mut current_deviance = f64::INFINITY;
    let mut converged = false;
    for _ in 0..MAX_ITERATIONS {
        let working: Vec<f64> = y
            .iter()
            .zip(&mu)
            .map(|(&y, &m)| m.ln() + (y - m) / m)
            .collect();
        let weights: Vec<f64> = mu.iter().map(|&m| m.max(1e-300)).collect();
        let (information, rhs) = weighted_normal_equations(x, &weights, &working);
        let cholesky = information.cholesky()?;
        let mut candidate = cholesky.solve(&rhs);
        let mut candidate_mu = means(x, &candidate);
        let mut candidate_deviance = deviance(y, &candidate_mu);
        let mut halvings = 0;
        while current_deviance.is_finite()
            && (candidate_deviance.is_nan()
                || candidate_deviance > current_deviance * (1.0 + 1e-12) + 1e-12)
            && halvings < 30
        {
            candidate = (&candidate + &beta) * 0.5;
            candidate_mu = means(x, &candidate);
            candidate_deviance = deviance(y, &candidate_mu);
            halvings += 1;
        }
        if !candidate_deviance.is_finite() {
            return None;
        }
        let change = (current_deviance - candidate_deviance).abs();
        beta = candidate;
        mu = candidate_mu;
        let done = change <= TOLERANCE * (candidate_deviance.abs() + 0.1);
        current_deviance = candidate_deviance;
        if done {
            converged = true;
            break;
        }
    }
    if !converged {
        return None;
    }
    let weights: Vec<f64> = mu.iter().map(|&m| m.max(1e-300)).collect();
    let (information, _) = weighted_normal_equations(x, &weights, &vec![0.0; y.len()]);
    let covariance = information.cholesky()?.inverse();
    Some(PoissonFit {
        log_likelihood: log_likelihood(y, &mu),
        deviance: current_deviance.max(0.0),
        beta,
        fitted: mu,
        covariance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_list_main_effects_is_lincoln_petersen() {
        // Cells 10, 01, 11 with counts a, b, m: the independence model fits
        // them exactly and the missing cell is a*b/m (Lincoln-Petersen).
        let (a, b, m) = (60.0, 45.0, 15.0);
        let x = DMatrix::from_row_slice(3, 3, &[1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
        let fit = fit_poisson(&x, &[a, b, m], None).unwrap();
        let dark = fit.beta[0].exp();
        assert!((dark - a * b / m).abs() < 1e-8 * dark, "{dark}");
        assert!(fit.deviance.abs() < 1e-8);
        // The variance of the log of the missing cell is 1/a + 1/b + 1/m.
        let expected = 1.0 / a + 1.0 / b + 1.0 / m;
        assert!(
            (fit.covariance[(0, 0)] - expected).abs() < 1e-8,
            "{}",
            fit.covariance[(0, 0)]
        );
    }

    #[test]
    fn independence_in_a_two_by_two_table() {
        // A full 2x2 table fitted by row + column effects: fitted = row*col/total.
        let y = [10.0, 20.0, 30.0, 40.0];
        let x = DMatrix::from_row_slice(
            4,
            3,
            &[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0],
        );
        let fit = fit_poisson(&x, &y, None).unwrap();
        let total: f64 = y.iter().sum();
        let expected = [
            (10.0 + 30.0) * (10.0 + 20.0) / total,
            (20.0 + 40.0) * (10.0 + 20.0) / total,
            (10.0 + 30.0) * (30.0 + 40.0) / total,
            (20.0 + 40.0) * (30.0 + 40.0) / total,
        ];
        for (fitted, expected) in fit.fitted.iter().zip(expected) {
            assert!((fitted - expected).abs() < 1e-8, "{fitted} {expected}");
        }
        assert!((deviance(&y, &fit.fitted) - fit.deviance).abs() < 1e-12);
    }

    #[test]
    fn singular_design_is_refused() {
        let x = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        assert!(fit_poisson(&x, &[3.0, 4.0], None).is_none());
    }
}
