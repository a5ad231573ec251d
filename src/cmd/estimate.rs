//! `zicht estimate`: population estimates from a capture-history table.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use clap::ValueEnum;
use zicht_estimate::{
    estimate, suppress_cells, CaptureTable, CsvOptions, Estimate, EstimateConfig, EstimateError,
    IntervalMethod, Method, SuppressedTable,
};

use super::{CmdResult, Failure};

/// How the model is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Chan, Silverman & Vincent (2021): add pairs by Poisson p-value.
    Stepwise,
    /// Add the pair that most improves AIC while its p-value is at most 0.05.
    AicStepwise,
    /// Exhaustive search over all two-way models (at most 6 lists), lowest AIC.
    Aic,
    /// Exhaustive search over all two-way models (at most 6 lists), lowest BIC.
    Bic,
    /// Main effects only (independent lists).
    MainEffects,
    /// Two lists: Lincoln-Petersen.
    LincolnPetersen,
    /// Two lists: Chapman, with its variance.
    Chapman,
}

/// How the interval is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiArg {
    /// Profile likelihood for N under the chosen model.
    Profile,
    /// Multinomial bootstrap, re-selecting the model in every replicate (BCa).
    Bootstrap,
    /// Wald interval on the log scale of the dark figure.
    Wald,
}

/// Arguments of `zicht estimate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The capture table: a 0/1 column per list, optional strata columns, `count`.
    pub capture: PathBuf,
    /// Model choice [default: stepwise].
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// A fixed model: interaction terms such as `A:B,C:D` (or `A:B:C`).
    #[arg(long, value_delimiter = ',', conflicts_with = "method")]
    pub interactions: Vec<String>,
    /// Interval method.
    #[arg(long, value_enum, default_value = "profile")]
    pub ci: CiArg,
    /// Confidence level of the interval.
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// P-value threshold of the stepwise method.
    #[arg(long, default_value_t = 0.02)]
    pub p_threshold: f64,
    /// Bootstrap replicates.
    #[arg(long = "bootstrap", default_value_t = 1000)]
    pub bootstrap_replicates: usize,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Estimate each stratum and the total.
    #[arg(long)]
    pub strata: bool,
    /// The list columns (default: every integer column other than `count`).
    #[arg(long, value_delimiter = ',')]
    pub lists: Option<Vec<String>>,
    /// The strata columns (default: every column with a non-integer value).
    #[arg(long, value_delimiter = ',')]
    pub strata_columns: Option<Vec<String>>,
    /// Print the capture table with cells below K suppressed (and enough
    /// others that they cannot be recovered); the estimate uses exact counts.
    #[arg(long, value_name = "K")]
    pub min_cell: Option<u64>,
    /// Print one JSON object instead of the readable table.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Run `zicht estimate`.
pub fn run(args: Args) -> CmdResult {
    let options = CsvOptions {
        lists: args.lists.clone(),
        strata_columns: args.strata_columns.clone(),
    };
    let file = std::fs::File::open(&args.capture).map_err(|error| {
        Failure::input(anyhow::Error::new(error).context(format!(
            "cannot open the capture table {}",
            args.capture.display()
        )))
    })?;
    let table = CaptureTable::from_csv_reader(std::io::BufReader::new(file), &options)
        .map_err(|error| classify(error, &args))?;
    let method = match (args.method, args.interactions.is_empty()) {
        (_, false) => Method::Fixed(args.interactions.clone()),
        (None | Some(MethodArg::Stepwise), true) => Method::Stepwise,
        (Some(MethodArg::AicStepwise), true) => Method::AicStepwise,
        (Some(MethodArg::Aic), true) => Method::Aic,
        (Some(MethodArg::Bic), true) => Method::Bic,
        (Some(MethodArg::MainEffects), true) => Method::MainEffects,
        (Some(MethodArg::LincolnPetersen), true) => Method::LincolnPetersen,
        (Some(MethodArg::Chapman), true) => Method::Chapman,
    };
    let config = EstimateConfig {
        method,
        interval: match args.ci {
            CiArg::Profile => IntervalMethod::Profile,
            CiArg::Bootstrap => IntervalMethod::Bootstrap,
            CiArg::Wald => IntervalMethod::Wald,
        },
        level: args.level,
        p_threshold: args.p_threshold,
        bootstrap_replicates: args.bootstrap_replicates,
        seed: args.seed,
        stratified: args.strata,
        ..EstimateConfig::default()
    };
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(threads) = args.threads {
        if threads == 0 {
            return Err(Failure::input_msg("--threads must be at least 1"));
        }
        builder = builder.num_threads(threads);
    }
    let pool = builder.build().map_err(Failure::work)?;
    let result = pool
        .install(|| estimate(&table, &config))
        .map_err(|error| classify(error, &args))?;
    let published = args.min_cell.map(|k| suppress_cells(&table, k));

    let text = if args.json {
        let mut value = serde_json::to_value(&result).map_err(Failure::work)?;
        if let (Some(published), Some(object)) = (&published, value.as_object_mut()) {
            object.insert(
                "published_table".to_string(),
                serde_json::to_value(published).map_err(Failure::work)?,
            );
        }
        let mut text = serde_json::to_string_pretty(&value).map_err(Failure::work)?;
        text.push('\n');
        text
    } else {
        render(&args, &table, &result, published.as_ref())
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).map_err(Failure::work)?;
    stdout.flush().map_err(Failure::work)?;
    Ok(())
}

/// A refusal to estimate is the work's failure (exit 1); anything else is
/// the input's or the usage's (exit 2).
fn classify(error: EstimateError, args: &Args) -> Failure {
    let context = format!("{}", args.capture.display());
    match error {
        EstimateError::NoEstimate { .. }
        | EstimateError::NoModelWithEstimate
        | EstimateError::NoConvergence { .. } => {
            Failure::Work(anyhow::Error::new(error).context(context))
        }
        _ => Failure::BadInput(anyhow::Error::new(error).context(context)),
    }
}

/// `12345.6` as `12,346`.
fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return if value > 0.0 {
            "unbounded".to_string()
        } else {
            "-".to_string()
        };
    }
    let rounded = value.round() as i128;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn model_text(result: &Estimate) -> String {
    if result.method == "chapman" {
        "Chapman (two lists)".to_string()
    } else if result.terms.is_empty() {
        "main effects".to_string()
    } else {
        format!("main effects + {}", result.terms.join(" + "))
    }
}

fn render(
    args: &Args,
    table: &CaptureTable,
    result: &Estimate,
    published: Option<&SuppressedTable>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "capture table  {} ({} lists: {})",
        args.capture.display(),
        table.n_lists(),
        table.list_names().join(", ")
    );
    let _ = writeln!(out, "method         {}", result.method);
    let level = format!("{}%", (result.ci_level * 100.0).round());
    match &result.strata {
        None => render_single(&mut out, result, &level),
        Some(strata) => {
            let _ = writeln!(out, "strata         {}", table.strata_columns().join(", "));
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{:<16} {:>9} {:>10} {:>10} {:>10} {:>10}  model",
                "stratum", "observed", "estimate", "low", "high", "dark"
            );
            for stratum in strata {
                let _ = writeln!(
                    out,
                    "{:<16} {:>9} {:>10} {:>10} {:>10} {:>10}  {}",
                    stratum.stratum.as_deref().unwrap_or(""),
                    thousands(stratum.observed as f64),
                    thousands(stratum.estimate),
                    thousands(stratum.ci_low),
                    thousands(stratum.ci_high),
                    thousands(stratum.dark_figure),
                    model_text(stratum)
                );
            }
            let _ = writeln!(
                out,
                "{:<16} {:>9} {:>10} {:>10} {:>10} {:>10}",
                "total",
                thousands(result.observed as f64),
                thousands(result.estimate),
                thousands(result.ci_low),
                thousands(result.ci_high),
                thousands(result.dark_figure)
            );
            let _ = writeln!(out, "interval       {level} {}", result.ci_method);
        }
    }
    if let Some(published) = published {
        render_published(&mut out, table, published, args.min_cell.unwrap_or(0));
    }
    if !result.notes.is_empty() {
        let _ = writeln!(out);
        for note in &result.notes {
            let _ = writeln!(out, "note: {note}");
        }
    }
    out
}

fn render_single(out: &mut String, result: &Estimate, level: &str) {
    let _ = writeln!(out, "model          {}", model_text(result));
    let _ = writeln!(out, "observed n     {}", thousands(result.observed as f64));
    let _ = writeln!(out, "estimate       {}", thousands(result.estimate));
    let _ = writeln!(
        out,
        "{:<15}{} to {} ({})",
        format!("{level} interval"),
        thousands(result.ci_low),
        thousands(result.ci_high),
        result.ci_method
    );
    let _ = writeln!(out, "dark figure    {}", thousands(result.dark_figure));
    if let (Some(deviance), Some(df)) = (result.deviance, result.df) {
        let _ = writeln!(out, "deviance       {deviance:.2} on {df} df");
    }
    if let (Some(aic), Some(bic)) = (result.aic, result.bic) {
        let _ = writeln!(out, "AIC / BIC      {aic:.2} / {bic:.2}");
    }
    if let Some(two) = &result.two_list {
        let _ = writeln!(
            out,
            "two lists      Lincoln-Petersen {}, Chapman {} (standard error {})",
            thousands(two.lincoln_petersen),
            thousands(two.chapman),
            thousands(two.chapman_variance.sqrt())
        );
    }
    if let Some(bootstrap) = &result.bootstrap {
        let _ = writeln!(
            out,
            "bootstrap      {} replicates (seed {}), percentile {} to {}{}",
            bootstrap.replicates,
            bootstrap.seed,
            thousands(bootstrap.percentile.0),
            thousands(bootstrap.percentile.1),
            bootstrap
                .bca
                .map(|(low, high)| format!(", BCa {} to {}", thousands(low), thousands(high)))
                .unwrap_or_default()
        );
    }
    if result.models_without_estimate > 0 {
        let _ = writeln!(
            out,
            "skipped        {} models without an estimate",
            result.models_without_estimate
        );
    }
    if !result.steps.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<4} {:<20} {:>12} {:>10} {:>10}",
            "step", "term added", "p-value", "estimate", "AIC"
        );
        for (i, step) in result.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "{:<4} {:<20} {:>12.3e} {:>10} {:>10.2}",
                i + 1,
                step.term,
                step.p_value,
                thousands(step.estimate),
                step.aic
            );
        }
    }
    if !result.candidates.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "best models:");
        let _ = writeln!(
            out,
            "{:>10} {:>10} {:>10} {:>10}  terms",
            "estimate", "deviance", "AIC", "BIC"
        );
        for candidate in &result.candidates {
            let _ = writeln!(
                out,
                "{:>10} {:>10.2} {:>10.2} {:>10.2}  {}",
                thousands(candidate.estimate),
                candidate.deviance,
                candidate.aic,
                candidate.bic,
                if candidate.terms.is_empty() {
                    "main effects".to_string()
                } else {
                    candidate.terms.join(" + ")
                }
            );
        }
    }
}

fn render_published(out: &mut String, table: &CaptureTable, published: &SuppressedTable, k: u64) {
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "capture table for publication (cells below {k} suppressed: {} primary, {} secondary; `x` = suppressed, histories not shown have count 0)",
        published.primary, published.secondary
    );
    let names = table.list_names();
    let _ = writeln!(out, "{}  count", names.join(" "));
    for &(history, count) in &published.cells {
        if count == Some(0) {
            continue;
        }
        let row: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let bit = if history & (1 << i) != 0 { "1" } else { "0" };
                format!("{bit:>width$}", width = name.len())
            })
            .collect();
        let shown = count.map_or_else(|| "x".to_string(), |c| c.to_string());
        let _ = writeln!(out, "{}  {shown}", row.join(" "));
    }
    let totals: Vec<String> = names
        .iter()
        .zip(&published.list_totals)
        .map(|(name, total)| {
            format!(
                "{name} {}",
                total.map_or_else(|| "x".to_string(), |t| t.to_string())
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "list totals: {}; all lists: {}",
        totals.join(", "),
        published.total
    );
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(11_312.99), "11,313");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(f64::INFINITY), "unbounded");
    }
}
