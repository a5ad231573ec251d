//! `zicht demo`: the whole pipeline on synthetic registries, showing what
//! each role holds and sees, and the estimate beside the true population.

use std::path::{Path, PathBuf};

use zicht_encoder::{EncodeOptions, Encoder, Profile, Schema, Secret};
use zicht_estimate::{CaptureTable, CsvOptions, Estimate, EstimateConfig};
use zicht_format::atomic::write_atomic;
use zicht_linker::output::{self, OutputOptions};
use zicht_linker::{link, LinkConfig, Source, Threshold};
use zicht_synth::eval::{evaluate, Clusters, Truth};
use zicht_synth::{generate, SynthConfig};

use super::{with_threads, Classify, CmdResult, Failure};

/// Arguments of `zicht demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Size of the hidden population.
    #[arg(long, default_value_t = 10_000)]
    pub population: usize,
    /// Number of registries (agencies).
    #[arg(long, default_value_t = 4)]
    pub registries: usize,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Dice threshold of the linkage.
    #[arg(long, default_value = "0.80", value_parser = parse_threshold)]
    pub threshold: Threshold,
    /// Keep every file (registries, key, encodings, link outputs) in this
    /// new directory instead of a temporary one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

fn parse_threshold(text: &str) -> Result<Threshold, String> {
    Threshold::parse(text).map_err(|e| e.to_string())
}

/// Run `zicht demo`.
pub fn run(args: Args) -> CmdResult {
    let temp;
    let dir: PathBuf = match &args.keep {
        Some(dir) => {
            if dir.exists()
                && std::fs::read_dir(dir)
                    .map(|mut d| d.next().is_some())
                    .unwrap_or(true)
            {
                return Err(Failure::input_msg(format!(
                    "{} exists and is not empty; --keep needs a new or empty directory",
                    dir.display()
                )));
            }
            std::fs::create_dir_all(dir).work_failed(format!("cannot create {}", dir.display()))?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir().work_failed("cannot create a temporary directory")?;
            temp.path().to_path_buf()
        }
    };
    with_threads(args.threads, || pipeline(&args, &dir))?
}

fn pipeline(args: &Args, dir: &Path) -> CmdResult {
    let started = std::time::Instant::now();
    let config = SynthConfig {
        population: args.population,
        registries: args.registries,
        seed: args.seed,
        ..SynthConfig::default()
    };
    config.validate().bad_input("invalid demo settings")?;
    let data = generate(&config).work_failed("cannot generate the synthetic registries")?;
    let registries_dir = dir.join("registries");
    data.write(&registries_dir)
        .work_failed("cannot write the synthetic registries")?;
    println!(
        "zicht demo: {} hidden people (seed {}), {} agencies; {} people are on at least one registry.",
        thousands(args.population as u64),
        args.seed,
        data.registries().len(),
        thousands(data.observed() as u64)
    );
    println!("Working directory: {}", dir.display());

    // 1. The agencies.
    println!("\n1. Each agency, on its own premises (holds its own CSV and the shared secret)");
    let secret = Secret::generate().work_failed("cannot generate a secret")?;
    super::keygen::write_secret(&dir.join("project.key"), &secret)
        .work_failed("cannot write the secret")?;
    let schema_text = data.schema_toml();
    let encoded_dir = dir.join("encoded");
    std::fs::create_dir_all(&encoded_dir).work_failed("cannot create the encoded directory")?;
    let mut encoded_paths = Vec::new();
    for registry in data.registries() {
        let schema =
            Schema::from_toml(&schema_text).work_failed("internal: the synthetic schema")?;
        let profile = Profile::from_toml(registry.profile_toml())
            .work_failed("internal: a synthetic profile")?;
        let encoder =
            Encoder::new(schema, profile, &secret).work_failed("cannot prepare the encoder")?;
        let options = EncodeOptions {
            source_label: zicht_format::SourceLabel::new(registry.label())
                .work_failed("internal: a synthetic label")?,
            created_unix: 0,
            ..EncodeOptions::default()
        };
        let (bytes, summary) = encoder
            .encode_csv(registry.csv_bytes(), Vec::new(), &options, &|_| {})
            .work_failed(format!("cannot encode {}", registry.label()))?;
        let path = encoded_dir.join(format!("{}.zbf", registry.label()));
        write_atomic(&path, &bytes).work_failed("cannot write an encoded file")?;
        println!(
            "   {:<20} {:>6} rows encoded, {} rejected, mean fill {:.1}% -> {}.zbf ({} KiB)",
            registry.label(),
            thousands(summary.rows_encoded),
            summary.rows_read - summary.rows_encoded,
            summary.mean_fill * 100.0,
            registry.label(),
            bytes.len() / 1024
        );
        encoded_paths.push(path);
    }
    println!("   What leaves each agency: Bloom filters, row numbers, and the opted-in strata");
    println!("   (sex, birth decade, form of exploitation). No name, date or id; not the secret.");

    // 2. The third party.
    println!("\n2. The trusted third party (holds the encoded files only, never the secret)");
    let mut sources = Vec::new();
    for path in &encoded_paths {
        sources.push(Source::load(path).work_failed("cannot read an encoded file")?);
    }
    let link_config = LinkConfig::new(args.threshold);
    let linkage = link(&sources, &link_config, &zicht_linker::NoProgress)
        .work_failed("the linkage failed")?;
    let link_dir = dir.join("linked");
    output::write_outputs(
        &link_dir,
        &sources,
        &linkage,
        &link_config,
        &OutputOptions::default(),
    )
    .work_failed("cannot write the link outputs")?;
    println!(
        "   checked: same filter length, schema fingerprint and key check value in all {} files",
        sources.len()
    );
    println!(
        "   compared {} pairs exactly; {} pairs at Dice >= {}; {} links accepted",
        thousands(linkage.comparisons),
        thousands(linkage.pairs.len() as u64),
        args.threshold,
        thousands(linkage.links.len() as u64)
    );
    println!(
        "   {} clusters (one per person found); capture table written to linked/capture.csv",
        thousands(linkage.clustering.n_clusters as u64)
    );

    // 3. The researcher.
    println!("\n3. The researcher (holds linked/capture.csv only)");
    let capture_text =
        std::fs::read(link_dir.join("capture.csv")).work_failed("cannot read capture.csv")?;
    let linked_table = CaptureTable::from_csv_reader(&capture_text[..], &CsvOptions::default())
        .work_failed("cannot read the linked capture table")?;
    let estimate_config = EstimateConfig::default();
    let linked = zicht_estimate::estimate(&linked_table, &estimate_config);
    match &linked {
        Ok(e) => print_estimate("   from the linked table", e),
        Err(error) => println!("   no estimate from the linked table: {error}"),
    }

    // The truth, known only because the data are synthetic.
    println!("\nThe truth (known only because the registries are synthetic)");
    let true_text = data.true_capture_csv();
    let true_table = CaptureTable::from_csv_reader(true_text.as_bytes(), &CsvOptions::default())
        .work_failed("cannot read the true capture table")?;
    let from_truth = zicht_estimate::estimate(&true_table, &estimate_config);
    println!(
        "   true population size              {}",
        thousands(args.population as u64)
    );
    match &from_truth {
        Ok(e) => print_estimate("   from the true capture table", e),
        Err(error) => println!("   no estimate from the true capture table: {error}"),
    }
    let truth =
        Truth::from_csv(data.truth_csv().as_bytes()).work_failed("cannot read the truth")?;
    let clusters_text =
        std::fs::read(link_dir.join("clusters.csv")).work_failed("cannot read clusters.csv")?;
    let clusters =
        Clusters::from_csv(&clusters_text[..]).work_failed("cannot read the clusters")?;
    let report = evaluate(&truth, &clusters).work_failed("cannot evaluate the linkage")?;
    println!(
        "   linkage quality: pairwise precision {:.3}, recall {:.3}, F1 {:.3}; {} clusters for {} true people",
        report.pairwise.precision,
        report.pairwise.recall,
        report.pairwise.f1,
        thousands(report.clusters),
        thousands(report.true_persons)
    );
    if let (Ok(a), Ok(b)) = (&linked, &from_truth) {
        println!(
            "   linked-table estimate differs from the true-table estimate by {:+.1}%",
            (a.estimate - b.estimate) / b.estimate * 100.0
        );
    }
    println!("\nFinished in {:.1} s.", started.elapsed().as_secs_f64());
    if args.keep.is_none() {
        println!(
            "Run with --keep DIR to keep every file, or see README.md to run each role yourself."
        );
    }
    Ok(())
}

fn print_estimate(what: &str, e: &Estimate) {
    let terms = if e.terms.is_empty() {
        "main effects".to_string()
    } else {
        format!("main effects + {}", e.terms.join(" + "))
    };
    println!(
        "{what:<37} {} (95% interval {} to {}), observed {}, dark figure {}",
        thousands(e.estimate.round() as u64),
        thousands(e.ci_low.round() as u64),
        if e.ci_high.is_finite() {
            thousands(e.ci_high.round() as u64)
        } else {
            "unbounded".into()
        },
        thousands(e.observed),
        thousands(e.dark_figure.round().max(0.0) as u64)
    );
    println!("{:<37} model: {terms} ({})", "", e.method);
}

/// 12345 -> "12,345".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
