//! Confidence intervals for the population: Wald on the log scale, profile
//! likelihood, and the bootstrap (percentile and BCa).

use nalgebra::DVector;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use statrs::function::gamma::ln_gamma;

use crate::error::EstimateError;
use crate::fit::fit_poisson;
use crate::model::Model;
use crate::select::FittedModel;
use crate::table::CaptureTable;

/// The standard normal quantile at `p`.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

fn normal_cdf(z: f64) -> f64 {
    Normal::standard().cdf(z)
}

/// `n + exp(β₀ ± z·se(β₀))`: the Wald interval for the dark figure on the
/// log scale, as SparseMSE's `estimatepopulation.0`.
pub(crate) fn wald(fitted: &FittedModel, level: f64) -> (f64, f64) {
    let z = normal_quantile(0.5 + level / 2.0);
    let log_dark = fitted.fit.beta[0];
    let se = fitted.fit.covariance[(0, 0)].max(0.0).sqrt();
    (
        fitted.observed + (log_dark - z * se).exp(),
        fitted.observed + (log_dark + z * se).exp(),
    )
}

/// The profile log-likelihood of the missing count `n0`: the model fitted
/// to the complete table, the unobserved cell set to `n0`, with the
/// multinomial constant for `N = n + n0` (as Rcapture's `closedpCI`).
struct Profile<'a> {
    x: nalgebra::DMatrix<f64>,
    y: Vec<f64>,
    observed: f64,
    start: &'a DVector<f64>,
}

impl Profile<'_> {
    fn log_likelihood(&self, n0: f64) -> Option<f64> {
        let mut y = self.y.clone();
        y[0] = n0;
        let fit = fit_poisson(&self.x, &y, Some(self.start))?;
        let total = self.observed + n0;
        // Poisson log-likelihood of the complete table, turned into the
        // multinomial one for a population of `total`.
        let multinomial = fit.log_likelihood + ln_gamma(total + 1.0) - total * total.ln() + total;
        Some(multinomial)
    }
}

/// The profile-likelihood interval for `N`: the values of `N` whose
/// profile deviance is within the chi-square(1) quantile of the maximum.
/// The upper limit is infinite when the profile never rises that far.
pub(crate) fn profile(
    table: &CaptureTable,
    fitted: &FittedModel,
    level: f64,
) -> Result<(f64, f64), EstimateError> {
    let no_convergence = || EstimateError::NoConvergence {
        model: fitted.model.describe(table.list_names()),
    };
    let histories: Vec<u32> = (0..(1u32 << table.n_lists())).collect();
    let model: &Model = &fitted.model;
    let x = model.design(table.n_lists(), &histories);
    let y: Vec<f64> = table.counts().iter().map(|&c| c as f64).collect();
    let profile = Profile {
        x,
        y,
        observed: fitted.observed,
        start: &fitted.fit.beta,
    };
    let quantile = ChiSquared::new(1.0)
        .map_err(|_| EstimateError::InvalidConfig("chi-squared unavailable".to_string()))?
        .inverse_cdf(level);
    let dark = fitted.dark_figure();

    // The maximum, by golden-section search around the point estimate.
    let (mut a, mut b) = (dark * 0.5, dark * 1.5 + 2.0);
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..100 {
        let c = b - ratio * (b - a);
        let d = a + ratio * (b - a);
        let fc = profile.log_likelihood(c).ok_or_else(no_convergence)?;
        let fd = profile.log_likelihood(d).ok_or_else(no_convergence)?;
        if fc >= fd {
            b = d;
        } else {
            a = c;
        }
        if b - a < 1e-9 * (1.0 + dark) {
            break;
        }
    }
    let peak = (a + b) / 2.0;
    let maximum = profile.log_likelihood(peak).ok_or_else(no_convergence)?;
    let excess = |n0: f64| -> Result<f64, EstimateError> {
        Ok(2.0 * (maximum - profile.log_likelihood(n0).ok_or_else(no_convergence)?) - quantile)
    };

    let lower = if excess(0.0)? <= 0.0 {
        0.0
    } else {
        bisect(0.0, peak, &excess)?
    };
    let mut high = peak * 2.0 + 10.0;
    let mut upper = None;
    while high < 1e12 {
        if excess(high)? > 0.0 {
            upper = Some(bisect(peak, high, &excess)?);
            break;
        }
        high *= 2.0;
    }
    Ok((
        fitted.observed + lower,
        upper.map_or(f64::INFINITY, |u| fitted.observed + u),
    ))
}

/// A root of `f` between `a` and `b`, where `f` changes sign.
fn bisect(
    mut a: f64,
    mut b: f64,
    f: &dyn Fn(f64) -> Result<f64, EstimateError>,
) -> Result<f64, EstimateError> {
    let mut fa = f(a)?;
    for _ in 0..200 {
        let mid = 0.5 * (a + b);
        let fm = f(mid)?;
        if (fm > 0.0) == (fa > 0.0) {
            a = mid;
            fa = fm;
        } else {
            b = mid;
        }
        if (b - a).abs() < 1e-7 * (1.0 + mid.abs()) {
            break;
        }
    }
    Ok(0.5 * (a + b))
}

/// What the bootstrap found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BootstrapSummary {
    /// Replicates asked for.
    pub replicates: usize,
    /// Replicates whose selected model had no estimate (left out).
    pub failed: usize,
    /// The seed.
    pub seed: u64,
    /// The percentile interval.
    pub percentile: (f64, f64),
    /// The BCa interval, when the jackknife for its acceleration worked.
    pub bca: Option<(f64, f64)>,
    /// The bias-correction constant `z0`.
    pub bias_correction: f64,
    /// The acceleration `a`, from the jackknife over cases.
    pub acceleration: Option<f64>,
}

/// The seed of one replicate's generator: the user's seed and a stream per
/// (stratum, replicate), so results do not depend on the thread count.
pub(crate) fn replicate_rng(seed: u64, stratum: u64, replicate: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ stratum.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(replicate);
    rng
}

/// A multinomial resample of the table's cases (same total).
pub(crate) fn resample(table: &CaptureTable, rng: &mut ChaCha8Rng) -> CaptureTable {
    let counts = table.counts();
    let mut cumulative = Vec::with_capacity(counts.len());
    let mut running = 0u64;
    for &count in counts {
        running += count;
        cumulative.push(running);
    }
    let total = running;
    let mut new_counts = vec![0u64; counts.len()];
    for _ in 0..total {
        let draw = rng.random_range(0..total);
        let cell = cumulative.partition_point(|&c| c <= draw);
        new_counts[cell] += 1;
    }
    table.with_counts(new_counts)
}

/// Replicate estimates, in replicate order (`None` for a replicate
/// without an estimate).
pub(crate) fn replicate_estimates(
    table: &CaptureTable,
    replicates: usize,
    seed: u64,
    stratum: u64,
    estimator: &(dyn Fn(&CaptureTable) -> Result<f64, EstimateError> + Sync),
) -> Vec<Option<f64>> {
    (0..replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = replicate_rng(seed, stratum, r as u64);
            let sample = resample(table, &mut rng);
            estimator(&sample).ok()
        })
        .collect()
}

/// The type-7 (linear interpolation) quantile of sorted values.
pub(crate) fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let low = h.floor() as usize;
    let high = h.ceil() as usize;
    sorted[low] + (h - low as f64) * (sorted[high] - sorted[low])
}

/// The jackknife acceleration over cases: leave out one case of each
/// observed cell in turn (weighted by the cell's count).
pub(crate) fn jackknife_acceleration(
    table: &CaptureTable,
    estimator: &(dyn Fn(&CaptureTable) -> Result<f64, EstimateError> + Sync),
) -> Option<f64> {
    let counts = table.counts();
    let cells: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] > 0).collect();
    let values: Vec<Option<(f64, f64)>> = cells
        .par_iter()
        .map(|&cell| {
            let mut reduced = counts.to_vec();
            reduced[cell] -= 1;
            estimator(&table.with_counts(reduced))
                .ok()
                .map(|v| (counts[cell] as f64, v))
        })
        .collect();
    let values: Vec<(f64, f64)> = values.into_iter().collect::<Option<_>>()?;
    let weight: f64 = values.iter().map(|(w, _)| w).sum();
    let mean = values.iter().map(|(w, v)| w * v).sum::<f64>() / weight;
    let squares: f64 = values.iter().map(|(w, v)| w * (mean - v).powi(2)).sum();
    let cubes: f64 = values.iter().map(|(w, v)| w * (mean - v).powi(3)).sum();
    if squares <= 0.0 {
        return Some(0.0);
    }
    Some(cubes / (6.0 * squares.powf(1.5)))
}

/// Percentile and BCa intervals from replicate estimates.
pub(crate) fn summarise(
    point: f64,
    replicates: &[Option<f64>],
    seed: u64,
    level: f64,
    acceleration: Option<f64>,
) -> BootstrapSummary {
    let mut values: Vec<f64> = replicates.iter().flatten().copied().collect();
    values.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    let percentile = (quantile(&values, alpha), quantile(&values, 1.0 - alpha));
    let below = values.iter().filter(|&&v| v < point).count() as f64;
    let ties = values.iter().filter(|&&v| v == point).count() as f64;
    let proportion = ((below + 0.5 * ties) / values.len().max(1) as f64).clamp(1e-6, 1.0 - 1e-6);
    let z0 = normal_quantile(proportion);
    let bca = acceleration.map(|a| {
        let adjusted = |p: f64| {
            let z = normal_quantile(p);
            normal_cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z)))
        };
        (
            quantile(&values, adjusted(alpha)),
            quantile(&values, adjusted(1.0 - alpha)),
        )
    });
    BootstrapSummary {
        replicates: replicates.len(),
        failed: replicates.iter().filter(|r| r.is_none()).count(),
        seed,
        percentile,
        bca,
        bias_correction: z0,
        acceleration,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&values, 0.0), 1.0);
        assert_eq!(quantile(&values, 0.5), 3.0);
        assert!((quantile(&values, 0.1) - 1.4).abs() < 1e-12);
        assert_eq!(quantile(&values, 1.0), 5.0);
    }

    #[test]
    fn resampling_keeps_the_total_and_is_seeded() {
        let table = CaptureTable::from_counts(
            vec!["A".into(), "B".into()],
            vec![(1, 30), (2, 20), (3, 10)],
        )
        .unwrap();
        let a = resample(&table, &mut replicate_rng(7, 0, 3));
        let b = resample(&table, &mut replicate_rng(7, 0, 3));
        let c = resample(&table, &mut replicate_rng(7, 0, 4));
        assert_eq!(a, b);
        assert_ne!(a.counts(), c.counts());
        assert_eq!(a.observed(), 60);
        assert_eq!(a.count(0), 0);
    }

    #[test]
    fn symmetric_replicates_give_a_percentile_interval_around_the_point() {
        let replicates: Vec<Option<f64>> = (0..=100).map(|i| Some(i as f64)).collect();
        let summary = summarise(50.0, &replicates, 1, 0.9, Some(0.0));
        assert!((summary.percentile.0 - 5.0).abs() < 1e-9);
        assert!((summary.percentile.1 - 95.0).abs() < 1e-9);
        let (low, high) = summary.bca.unwrap();
        assert!(
            (low - 5.0).abs() < 1e-6 && (high - 95.0).abs() < 1e-6,
            "{low} {high}"
        );
    }
}
