//! `zicht synth`: synthetic registries with known truth.

use std::path::PathBuf;

use zicht_synth::{generate, Dependence, SynthConfig, REGISTRY_LABELS};

use super::{Classify, CmdResult, Failure};

/// Arguments of `zicht synth`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to write into (created if needed; must be empty unless --force).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// The size of the hidden population.
    #[arg(long, default_value_t = 10_000)]
    pub population: usize,
    /// The number of registries, 2 to 8 (police, shelters, border_police,
    /// labour_inspectorate, municipalities, healthcare, youth_care, ngo_outreach).
    #[arg(long, default_value_t = 4)]
    pub registries: usize,
    /// The seed; the same seed and settings give byte-identical files.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Multiply every recording-error rate (2 doubles them, 0 gives clean data).
    #[arg(long, default_value_t = 1.0)]
    pub error_scale: f64,
    /// The probability that a captured person is registered twice in one registry.
    #[arg(long, default_value_t = 0.04)]
    pub duplicate_rate: f64,
    /// Dependence between two registries as FIRST:SECOND:ODDS_RATIO, e.g.
    /// `police:border_police:3` (repeatable; replaces the default, which is
    /// exactly that; `none` for independent registries).
    #[arg(long)]
    pub dependence: Vec<String>,
    /// Standard deviation of a per-person effect on every capture's log-odds.
    #[arg(long, default_value_t = 0.0)]
    pub heterogeneity: f64,
    /// Multiply every capture probability.
    #[arg(long, default_value_t = 1.0)]
    pub capture_scale: f64,
    /// Write into a directory that is not empty (files of the same names are replaced).
    #[arg(long)]
    pub force: bool,
}

fn registry_index(name: &str) -> Result<usize, Failure> {
    REGISTRY_LABELS
        .iter()
        .position(|&label| label == name)
        .or_else(|| name.parse::<usize>().ok())
        .ok_or_else(|| {
            Failure::input_msg(format!(
                "--dependence: unknown registry `{name}` (one of {})",
                REGISTRY_LABELS.join(", ")
            ))
        })
}

fn parse_dependence(values: &[String]) -> Result<Option<Vec<Dependence>>, Failure> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut pairs = Vec::new();
    for value in values {
        if value == "none" {
            continue;
        }
        let parts: Vec<&str> = value.split(':').collect();
        let [first, second, odds_ratio] = parts[..] else {
            return Err(Failure::input_msg(
                "--dependence must look like FIRST:SECOND:ODDS_RATIO, e.g. police:border_police:3",
            ));
        };
        let odds_ratio: f64 = odds_ratio
            .parse()
            .map_err(|_| Failure::input_msg("--dependence: the odds ratio is not a number"))?;
        pairs.push(Dependence {
            first: registry_index(first)?,
            second: registry_index(second)?,
            odds_ratio,
        });
    }
    Ok(Some(pairs))
}

/// Run `zicht synth`.
pub fn run(args: Args) -> CmdResult {
    let mut config = SynthConfig {
        population: args.population,
        registries: args.registries,
        seed: args.seed,
        error_rate_scale: args.error_scale,
        duplicate_rate: args.duplicate_rate,
        heterogeneity_sd: args.heterogeneity,
        capture_scale: args.capture_scale,
        ..SynthConfig::default()
    };
    if let Some(dependence) = parse_dependence(&args.dependence)? {
        config.dependence = dependence;
    }
    for pair in &config.dependence {
        if pair.first >= config.registries || pair.second >= config.registries {
            return Err(Failure::input_msg(format!(
                "--dependence names a registry beyond the first {}",
                config.registries
            )));
        }
    }
    config.validate().bad_input("zicht synth")?;

    if args.out_dir.exists() {
        let mut entries = std::fs::read_dir(&args.out_dir)
            .bad_input(format!("cannot read {}", args.out_dir.display()))?;
        if !args.force && entries.next().is_some() {
            return Err(Failure::input_msg(format!(
                "{} is not empty (use --force to write into it anyway)",
                args.out_dir.display()
            )));
        }
    }

    let data = generate(&config).work_failed("generating the synthetic data failed")?;
    data.write(&args.out_dir)
        .work_failed(format!("writing into {} failed", args.out_dir.display()))?;

    println!(
        "hidden population {}; {} on at least one registry",
        data.people().len(),
        data.observed()
    );
    for registry in data.registries() {
        println!(
            "  {:<20} {:>6} rows  {}",
            registry.label(),
            registry.records().len(),
            args.out_dir
                .join(format!("{}.csv", registry.label()))
                .display()
        );
    }
    println!(
        "schema, profiles/, truth.csv, truth_capture.csv, true_n.csv and README.txt in {}",
        args.out_dir.display()
    );
    Ok(())
}
