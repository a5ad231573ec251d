//! Multiple systems estimation: log-linear models for capture-history tables.
//!
//! A capture table counts, for every combination of lists (a *history*), the
//! cases found on exactly those lists. The cases on no list are never seen;
//! log-linear Poisson models for the observed cells estimate how many they
//! are: with the intercept, the main effects and some interactions fitted to
//! the `2^k − 1` observable cells (zeros included), the unobserved cell has
//! the intercept alone, so the population is `N̂ = n + exp(intercept)`.
//!
//! ```
//! use zicht_estimate::{estimate, CaptureTable, EstimateConfig, Method};
//!
//! let table = CaptureTable::from_counts(
//!     vec!["A".into(), "B".into()],
//!     vec![(0b01, 60), (0b10, 45), (0b11, 15)],
//! )?;
//! let config = EstimateConfig { method: Method::MainEffects, ..EstimateConfig::default() };
//! let result = estimate(&table, &config)?;
//! // Lincoln-Petersen: n + 60 * 45 / 15.
//! assert!((result.estimate - 300.0).abs() < 1e-6);
//! # Ok::<(), zicht_estimate::EstimateError>(())
//! ```
//!
//! Conventions: list `i` is bit `i` of a history; models whose maximum
//! likelihood estimate does not exist or is not identifiable are refused with
//! [`EstimateError::NoEstimate`] and skipped by model searches; output does
//! not depend on the number of threads.
#![warn(missing_docs)]

mod error;
mod existence;
mod fit;
mod interval;
mod model;
mod select;
mod suppress;
mod table;

pub use error::EstimateError;
pub use interval::BootstrapSummary;
pub use model::{term_name, Model};
pub use select::{CandidateModel, SelectionStep};
pub use suppress::{suppress_cells, SuppressedTable};
pub use table::{CaptureTable, CsvOptions, Stratum, MAX_LISTS};

use serde::Serialize;

use select::{Criterion, FittedModel, Selection};

/// How the model is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Chan, Silverman & Vincent (2021): add pairs by Poisson p-value.
    Stepwise,
    /// Add the pair that most improves AIC while its p-value is ≤ 0.05.
    AicStepwise,
    /// Exhaustive search over all two-way models, lowest AIC.
    Aic,
    /// Exhaustive search over all two-way models, lowest BIC.
    Bic,
    /// Main effects only (independence).
    MainEffects,
    /// A fixed model: interaction terms like `A:B` or `A:B:C`.
    Fixed(Vec<String>),
    /// Two lists: Lincoln-Petersen (the two-list main-effects model).
    LincolnPetersen,
    /// Two lists: Chapman's nearly unbiased estimator.
    Chapman,
}

impl Method {
    /// The name used on the command line and in the output.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Stepwise => "stepwise",
            Method::AicStepwise => "aic-stepwise",
            Method::Aic => "aic",
            Method::Bic => "bic",
            Method::MainEffects => "main-effects",
            Method::Fixed(_) => "fixed",
            Method::LincolnPetersen => "lincoln-petersen",
            Method::Chapman => "chapman",
        }
    }
}

/// How the interval is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalMethod {
    /// Profile likelihood for `N` under the chosen model.
    Profile,
    /// Multinomial bootstrap of the observed cells, re-selecting the model
    /// in every replicate; BCa (percentile when BCa is unavailable).
    Bootstrap,
    /// Wald on the log scale of the dark figure.
    Wald,
}

impl IntervalMethod {
    /// The name used on the command line and in the output.
    pub fn name(self) -> &'static str {
        match self {
            IntervalMethod::Profile => "profile",
            IntervalMethod::Bootstrap => "bootstrap",
            IntervalMethod::Wald => "wald",
        }
    }
}

/// What to estimate and how.
#[derive(Debug, Clone)]
pub struct EstimateConfig {
    /// The model choice.
    pub method: Method,
    /// The interval.
    pub interval: IntervalMethod,
    /// The confidence level, in (0, 1).
    pub level: f64,
    /// The p-value threshold of `stepwise`.
    pub p_threshold: f64,
    /// The p-value above which `aic-stepwise` stops.
    pub aic_stop_p: f64,
    /// Bootstrap replicates.
    pub bootstrap_replicates: usize,
    /// Bootstrap seed.
    pub seed: u64,
    /// Estimate each stratum and the total.
    pub stratified: bool,
    /// How many of the best models a search reports.
    pub n_candidates: usize,
}

impl Default for EstimateConfig {
    fn default() -> Self {
        EstimateConfig {
            method: Method::Stepwise,
            interval: IntervalMethod::Profile,
            level: 0.95,
            p_threshold: 0.02,
            aic_stop_p: 0.05,
            bootstrap_replicates: 1000,
            seed: 1,
            stratified: false,
            n_candidates: 5,
        }
    }
}

/// The two classic two-list estimates.
#[derive(Debug, Clone, Serialize)]
pub struct TwoListEstimates {
    /// Lincoln-Petersen, `n1 n2 / m` (infinite when `m = 0`).
    pub lincoln_petersen: f64,
    /// Chapman, `(n1 + 1)(n2 + 1) / (m + 1) − 1`.
    pub chapman: f64,
    /// Chapman's variance estimate (Seber 1970).
    pub chapman_variance: f64,
}

/// An estimate of the population (for the whole table or one stratum).
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// The stratum's label, for a stratum of a stratified estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stratum: Option<String>,
    /// The estimated population `N̂`.
    pub estimate: f64,
    /// The interval's lower limit.
    pub ci_low: f64,
    /// The interval's upper limit (infinite, `null` in JSON, when unbounded).
    pub ci_high: f64,
    /// The confidence level.
    pub ci_level: f64,
    /// The number of cases observed, `n`.
    pub observed: u64,
    /// The estimated number of unobserved cases, `N̂ − n`.
    pub dark_figure: f64,
    /// The model choice.
    pub method: String,
    /// The interval method.
    pub ci_method: String,
    /// The lists.
    pub lists: Vec<String>,
    /// The chosen model's interaction terms, like `["A:B"]`.
    pub terms: Vec<String>,
    /// The chosen model's deviance.
    pub deviance: Option<f64>,
    /// Its residual degrees of freedom.
    pub df: Option<usize>,
    /// Its AIC.
    pub aic: Option<f64>,
    /// Its BIC.
    pub bic: Option<f64>,
    /// The steps of a stepwise selection.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<SelectionStep>,
    /// The best models of an exhaustive search, best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<CandidateModel>,
    /// Models the selection skipped for lack of an estimate.
    pub models_without_estimate: usize,
    /// Bootstrap details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapSummary>,
    /// Lincoln-Petersen and Chapman, for two lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_list: Option<TwoListEstimates>,
    /// Remarks on the input and the method.
    pub notes: Vec<String>,
    /// Per-stratum estimates, for a stratified estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strata: Option<Vec<Estimate>>,
}

/// Estimate the population of `table`.
///
/// With `config.stratified`, each stratum is estimated on its own and the
/// result is their total, with the strata in [`Estimate::strata`].
///
/// # Errors
///
/// [`EstimateError::NoEstimate`] when the chosen or fixed model has no
/// estimate, [`EstimateError::InvalidConfig`] for a method that does not fit
/// the table, [`EstimateError::NoStrata`] for a stratified estimate of a
/// table without strata.
pub fn estimate(table: &CaptureTable, config: &EstimateConfig) -> Result<Estimate, EstimateError> {
    validate(table, config)?;
    if config.stratified {
        return estimate_stratified(table, config);
    }
    let mut result = estimate_one(table, config, 0)?;
    if !table.strata().is_empty() {
        result.notes.push(format!(
            "the table has strata columns ({}); they were pooled (use --strata for an estimate per stratum)",
            table.strata_columns().join(", ")
        ));
    }
    if !table.summed_lines().is_empty() {
        result.notes.push(summed_note(table.summed_lines()));
    }
    Ok(result)
}

fn summed_note(lines: &[u64]) -> String {
    let shown: Vec<String> = lines.iter().take(10).map(u64::to_string).collect();
    let more = if lines.len() > 10 { ", ..." } else { "" };
    format!(
        "{} rows repeated an earlier capture history and were added to it (lines {}{more})",
        lines.len(),
        shown.join(", ")
    )
}

fn validate(table: &CaptureTable, config: &EstimateConfig) -> Result<(), EstimateError> {
    if !(config.level > 0.0 && config.level < 1.0) {
        return Err(EstimateError::InvalidConfig(
            "the confidence level must be between 0 and 1".to_string(),
        ));
    }
    if !(config.p_threshold > 0.0 && config.p_threshold <= 1.0) {
        return Err(EstimateError::InvalidConfig(
            "the p-value threshold must be in (0, 1]".to_string(),
        ));
    }
    if config.interval == IntervalMethod::Bootstrap && config.bootstrap_replicates < 2 {
        return Err(EstimateError::InvalidConfig(
            "the bootstrap needs at least 2 replicates".to_string(),
        ));
    }
    if matches!(config.method, Method::LincolnPetersen | Method::Chapman) && table.n_lists() != 2 {
        return Err(EstimateError::InvalidConfig(format!(
            "{} needs exactly two lists, the table has {}",
            config.method.name(),
            table.n_lists()
        )));
    }
    if let Method::Fixed(terms) = &config.method {
        Model::parse_terms(terms, table.list_names())?;
    }
    if config.stratified && table.strata().is_empty() {
        return Err(EstimateError::NoStrata);
    }
    Ok(())
}

/// Choose and fit the model.
fn select(table: &CaptureTable, config: &EstimateConfig) -> Result<Selection, EstimateError> {
    match &config.method {
        Method::Stepwise => select::stepwise_poisson(table, config.p_threshold),
        Method::AicStepwise => select::stepwise_aic(table, config.aic_stop_p),
        Method::Aic => select::exhaustive(table, Criterion::Aic, config.n_candidates),
        Method::Bic => select::exhaustive(table, Criterion::Bic, config.n_candidates),
        Method::MainEffects | Method::LincolnPetersen | Method::Chapman => {
            select::fixed(table, &Model::main_effects())
        }
        Method::Fixed(terms) => {
            select::fixed(table, &Model::parse_terms(terms, table.list_names())?)
        }
    }
}

/// The point estimate alone (for bootstrap replicates).
fn point_estimate(table: &CaptureTable, config: &EstimateConfig) -> Result<f64, EstimateError> {
    if config.method == Method::Chapman {
        return Ok(two_list(table).chapman);
    }
    Ok(select(table, config)?.fitted.estimate())
}

fn two_list(table: &CaptureTable) -> TwoListEstimates {
    let a = table.count(0b01) as f64;
    let b = table.count(0b10) as f64;
    let m = table.count(0b11) as f64;
    let (n1, n2) = (a + m, b + m);
    let lincoln_petersen = if m > 0.0 { n1 * n2 / m } else { f64::INFINITY };
    let chapman = (n1 + 1.0) * (n2 + 1.0) / (m + 1.0) - 1.0;
    let chapman_variance =
        (n1 + 1.0) * (n2 + 1.0) * (n1 - m) * (n2 - m) / ((m + 1.0).powi(2) * (m + 2.0));
    TwoListEstimates {
        lincoln_petersen,
        chapman,
        chapman_variance,
    }
}

fn estimate_one(
    table: &CaptureTable,
    config: &EstimateConfig,
    stratum_index: u64,
) -> Result<Estimate, EstimateError> {
    let observed = table.observed();
    let two = (table.n_lists() == 2).then(|| two_list(table));
    let mut notes = Vec::new();
    let chapman = config.method == Method::Chapman;
    // Chapman needs no model fit; everything else goes through the models.
    let selection = if chapman {
        None
    } else {
        Some(select(table, config)?)
    };
    let point = match (&selection, &two) {
        (Some(selection), _) => selection.fitted.estimate(),
        (None, Some(two)) => two.chapman,
        (None, None) => {
            return Err(EstimateError::InvalidConfig(
                "chapman needs two lists".into(),
            ))
        }
    };
    let mut bootstrap = None;
    let mut ci_method = config.interval.name().to_string();
    let (ci_low, ci_high) = match (config.interval, &selection) {
        (IntervalMethod::Bootstrap, _) => {
            let estimator = |sample: &CaptureTable| point_estimate(sample, config);
            let replicates = interval::replicate_estimates(
                table,
                config.bootstrap_replicates,
                config.seed,
                stratum_index,
                &estimator,
            );
            let acceleration = interval::jackknife_acceleration(table, &estimator);
            let summary =
                interval::summarise(point, &replicates, config.seed, config.level, acceleration);
            if summary.failed == summary.replicates {
                return Err(EstimateError::NoModelWithEstimate);
            }
            if summary.failed > 0 {
                notes.push(format!(
                    "{} of {} bootstrap replicates had no estimate and were left out",
                    summary.failed, summary.replicates
                ));
            }
            let limits = match summary.bca {
                Some(bca) => {
                    ci_method = "bootstrap-bca".to_string();
                    bca
                }
                None => {
                    ci_method = "bootstrap-percentile".to_string();
                    notes.push("BCa unavailable (jackknife failed); percentile interval".into());
                    summary.percentile
                }
            };
            bootstrap = Some(summary);
            limits
        }
        (_, None) => {
            // Chapman: a normal interval from its variance, never below n.
            let two = two.as_ref().ok_or(EstimateError::NoModelWithEstimate)?;
            ci_method = "chapman-variance".to_string();
            let z = interval::normal_quantile(0.5 + config.level / 2.0);
            let half = z * two.chapman_variance.sqrt();
            (
                (two.chapman - half).max(observed as f64),
                two.chapman + half,
            )
        }
        (IntervalMethod::Wald, Some(selection)) => interval::wald(&selection.fitted, config.level),
        (IntervalMethod::Profile, Some(selection)) => {
            interval::profile(table, &selection.fitted, config.level)?
        }
    };
    if ci_high.is_infinite() {
        notes
            .push("the profile likelihood never rises enough: the upper limit is unbounded".into());
    }
    if matches!(
        config.method,
        Method::Aic | Method::Bic | Method::Stepwise | Method::AicStepwise
    ) && config.interval != IntervalMethod::Bootstrap
    {
        notes.push(
            "the interval is conditional on the selected model; --ci bootstrap accounts for the selection"
                .to_string(),
        );
    }
    let fitted: Option<&FittedModel> = selection.as_ref().map(|s| &s.fitted);
    Ok(Estimate {
        stratum: None,
        estimate: point,
        ci_low,
        ci_high,
        ci_level: config.level,
        observed,
        dark_figure: point - observed as f64,
        method: config.method.name().to_string(),
        ci_method,
        lists: table.list_names().to_vec(),
        terms: fitted.map_or_else(Vec::new, |f| f.model.term_names(table.list_names())),
        deviance: fitted.map(|f| f.fit.deviance),
        df: fitted.map(FittedModel::df),
        aic: fitted.map(FittedModel::aic),
        bic: fitted.map(FittedModel::bic),
        steps: selection
            .as_ref()
            .map_or_else(Vec::new, |s| s.steps.clone()),
        candidates: selection
            .as_ref()
            .map_or_else(Vec::new, |s| s.candidates.clone()),
        models_without_estimate: selection.as_ref().map_or(0, |s| s.models_without_estimate),
        bootstrap,
        two_list: two,
        notes,
        strata: None,
    })
}

fn estimate_stratified(
    table: &CaptureTable,
    config: &EstimateConfig,
) -> Result<Estimate, EstimateError> {
    let mut per_stratum = Vec::new();
    for (index, stratum) in table.strata().iter().enumerate() {
        let sub = table.stratum_table(stratum);
        let mut result =
            estimate_one(&sub, config, index as u64 + 1).map_err(|error| match error {
                EstimateError::NoEstimate { model, reason } => EstimateError::NoEstimate {
                    model: format!("stratum `{}`, {model}", stratum.label()),
                    reason,
                },
                other => other,
            })?;
        result.stratum = Some(stratum.label().to_string());
        per_stratum.push(result);
    }
    let point: f64 = per_stratum.iter().map(|e| e.estimate).sum();
    let observed: u64 = per_stratum.iter().map(|e| e.observed).sum();
    let mut notes = Vec::new();
    let (ci_low, ci_high, ci_method) = if config.interval == IntervalMethod::Bootstrap {
        // Replicate r of the total is the sum of replicate r of each stratum.
        let mut totals: Vec<Option<f64>> = vec![Some(0.0); config.bootstrap_replicates];
        for (index, stratum) in table.strata().iter().enumerate() {
            let sub = table.stratum_table(stratum);
            let estimator = |sample: &CaptureTable| point_estimate(sample, config);
            let replicates = interval::replicate_estimates(
                &sub,
                config.bootstrap_replicates,
                config.seed,
                index as u64 + 1,
                &estimator,
            );
            for (total, replicate) in totals.iter_mut().zip(replicates) {
                *total = match (*total, replicate) {
                    (Some(t), Some(r)) => Some(t + r),
                    _ => None,
                };
            }
        }
        let summary = interval::summarise(point, &totals, config.seed, config.level, None);
        notes.push(
            "the total's interval is the percentile interval of the summed stratum replicates"
                .to_string(),
        );
        (
            summary.percentile.0,
            summary.percentile.1,
            "bootstrap-percentile".to_string(),
        )
    } else {
        // Combine the strata's half-widths in quadrature, side by side.
        let below: f64 = per_stratum
            .iter()
            .map(|e| (e.estimate - e.ci_low).powi(2))
            .sum();
        let above: f64 = per_stratum
            .iter()
            .map(|e| (e.ci_high - e.estimate).powi(2))
            .sum();
        notes.push(
            "the total's interval combines the strata's half-widths in quadrature (strata independent)"
                .to_string(),
        );
        (
            (point - below.sqrt()).max(observed as f64),
            point + above.sqrt(),
            config.interval.name().to_string(),
        )
    };
    if !table.summed_lines().is_empty() {
        notes.push(summed_note(table.summed_lines()));
    }
    Ok(Estimate {
        stratum: None,
        estimate: point,
        ci_low,
        ci_high,
        ci_level: config.level,
        observed,
        dark_figure: point - observed as f64,
        method: config.method.name().to_string(),
        ci_method,
        lists: table.list_names().to_vec(),
        terms: Vec::new(),
        deviance: None,
        df: None,
        aic: None,
        bic: None,
        steps: Vec::new(),
        candidates: Vec::new(),
        models_without_estimate: 0,
        bootstrap: None,
        two_list: None,
        notes,
        strata: Some(per_stratum),
    })
}

/// Check whether a model has an estimate on a table, without fitting it.
///
/// # Errors
///
/// [`EstimateError::NoEstimate`] with the reason when it has none.
pub fn check_model(table: &CaptureTable, model: &Model) -> Result<(), EstimateError> {
    match select::existence_problem(table, model) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
