//! `zicht eval`: score linked clusters against the truth of synthetic data,
//! and compare the estimate from the linked capture table with the estimate
//! from the true one.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufReader, Write as _};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Serialize;
use zicht_estimate::{estimate, CaptureTable, CsvOptions, Estimate, EstimateConfig, Method};
use zicht_synth::eval::{evaluate, Clusters, EvalReport, Truth};

use super::{Classify, CmdResult, Failure};

/// How the estimates are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Chan, Silverman & Vincent (2021): add pairs by Poisson p-value.
    Stepwise,
    /// Exhaustive search over all two-way models, lowest AIC.
    Aic,
    /// Exhaustive search over all two-way models, lowest BIC.
    Bic,
    /// Main effects only (independent lists).
    MainEffects,
}

/// Arguments of `zicht eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The truth: `source,row,person` (written by `zicht synth`).
    #[arg(long)]
    pub truth: PathBuf,
    /// The clusters: `cluster,source,row` (written by `zicht link`).
    #[arg(long)]
    pub clusters: PathBuf,
    /// The true capture table (`truth_capture.csv`): also estimate the
    /// population from it and from the linked table, and show the difference.
    #[arg(long)]
    pub truth_capture: Option<PathBuf>,
    /// The linked capture table from `zicht link` (default: the pooled table
    /// implied by the clusters). Needs --truth-capture.
    #[arg(long, requires = "truth_capture")]
    pub capture: Option<PathBuf>,
    /// The model choice for the estimates.
    #[arg(long, value_enum, default_value = "stepwise")]
    pub method: MethodArg,
    /// Estimate each stratum and sum (both tables must have the same strata columns).
    #[arg(long, requires = "truth_capture")]
    pub strata: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The two estimates and their difference.
#[derive(Debug, Serialize)]
struct Comparison {
    linked: Estimate,
    truth: Estimate,
    /// `linked - truth`.
    difference: f64,
    /// `(linked - truth) / truth`.
    relative_difference: f64,
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    report: &'a EvalReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimates: Option<Comparison>,
}

fn open(path: &Path) -> Result<BufReader<File>, Failure> {
    File::open(path)
        .map(BufReader::new)
        .bad_input(format!("cannot open {}", path.display()))
}

fn read_table(path: &Path) -> Result<CaptureTable, Failure> {
    CaptureTable::from_csv_reader(open(path)?, &CsvOptions::default())
        .bad_input(path.display().to_string())
}

fn compare(args: &Args, report: &EvalReport, truth_path: &Path) -> Result<Comparison, Failure> {
    let truth_table = read_table(truth_path)?;
    let linked_table = match &args.capture {
        Some(path) => read_table(path)?,
        None => {
            let cells: Vec<(u32, u64)> = report
                .capture
                .histories
                .iter()
                .filter(|h| h.linked > 0)
                .map(|h| (h.bits, h.linked))
                .collect();
            CaptureTable::from_counts(report.sources.clone(), cells)
                .bad_input("the clusters do not make a capture table")?
        }
    };
    let mut linked_lists = linked_table.list_names().to_vec();
    let mut true_lists = truth_table.list_names().to_vec();
    linked_lists.sort();
    true_lists.sort();
    if linked_lists != true_lists {
        return Err(Failure::input_msg(
            "the linked and the true capture table have different lists",
        ));
    }
    if args.strata && linked_table.strata_columns() != truth_table.strata_columns() {
        return Err(Failure::input_msg(
            "--strata: the linked and the true capture table have different strata columns \
             (give the linked table from zicht link with --capture)",
        ));
    }
    let config = EstimateConfig {
        method: match args.method {
            MethodArg::Stepwise => Method::Stepwise,
            MethodArg::Aic => Method::Aic,
            MethodArg::Bic => Method::Bic,
            MethodArg::MainEffects => Method::MainEffects,
        },
        stratified: args.strata,
        ..EstimateConfig::default()
    };
    let linked = estimate(&linked_table, &config).work_failed("estimate from the linked table")?;
    let truth = estimate(&truth_table, &config).work_failed("estimate from the true table")?;
    let difference = linked.estimate - truth.estimate;
    Ok(Comparison {
        relative_difference: difference / truth.estimate,
        difference,
        linked,
        truth,
    })
}

fn comparison_text(comparison: &Comparison) -> String {
    let mut text = String::new();
    let line = |text: &mut String, name: &str, e: &Estimate| {
        let terms = if e.terms.is_empty() {
            "main effects".to_string()
        } else {
            e.terms.join(" ")
        };
        let _ = writeln!(
            text,
            "{name:<14} {:>10.1} [{:.1}, {:.1}]  observed {}  model {terms}",
            e.estimate, e.ci_low, e.ci_high, e.observed
        );
    };
    let _ = writeln!(text, "\nestimates ({})", comparison.truth.method);
    line(&mut text, "linked table", &comparison.linked);
    line(&mut text, "true table", &comparison.truth);
    let _ = writeln!(
        text,
        "{:<14} {:>+10.1} ({:+.2}%)",
        "difference",
        comparison.difference,
        comparison.relative_difference * 100.0
    );
    text
}

/// Run `zicht eval`.
pub fn run(args: Args) -> CmdResult {
    let truth = Truth::from_csv(open(&args.truth)?).bad_input(args.truth.display())?;
    let clusters = Clusters::from_csv(open(&args.clusters)?).bad_input(args.clusters.display())?;
    let report = evaluate(&truth, &clusters).bad_input(args.clusters.display())?;
    let estimates = match &args.truth_capture {
        Some(path) => Some(compare(&args, &report, path)?),
        None => None,
    };
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let output = Output {
            report: &report,
            estimates,
        };
        let json = serde_json::to_string_pretty(&output).work_failed("writing JSON")?;
        writeln!(stdout, "{json}").work_failed("writing the result")?;
    } else {
        writeln!(stdout, "{report}").work_failed("writing the result")?;
        if let Some(comparison) = &estimates {
            write!(stdout, "{}", comparison_text(comparison)).work_failed("writing the result")?;
        }
    }
    Ok(())
}
