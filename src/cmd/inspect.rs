//! `zicht inspect`: the header and statistics of an encoded file.

use std::path::PathBuf;

use serde::Serialize;
use zicht_format::{EncodedFile, FormatError};

use super::{input_file, Classify, CmdResult, Failure};

/// Arguments of `zicht inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The encoded file (.zbf).
    pub file: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also print the first N filters as hex (they are pseudonymised personal data).
    #[arg(long, value_name = "N")]
    pub show_bits: Option<usize>,
}

#[derive(Serialize)]
struct Report<'a> {
    file: String,
    checksum: &'static str,
    header: &'a zicht_format::Header,
    records: usize,
    fill: FillStats,
    strata_counts: Vec<(String, Vec<(String, usize)>)>,
}

#[derive(Serialize)]
struct FillStats {
    min: f64,
    p10: f64,
    median: f64,
    p90: f64,
    max: f64,
    mean: f64,
}

/// Run `zicht inspect`.
pub fn run(args: Args) -> CmdResult {
    input_file(&args.file, "the encoded file")?;
    let file = EncodedFile::read(&args.file).map_err(|e| match e {
        FormatError::Io { .. } => Failure::work(e).context_path(&args.file),
        _ => Failure::input(e).context_path(&args.file),
    })?;
    let bits = f64::from(file.header.filter_bits);
    let mut fills: Vec<f64> = (0..file.len())
        .map(|i| f64::from(file.filters.popcount(i)) / bits)
        .collect();
    fills.sort_by(f64::total_cmp);
    let quantile = |q: f64| -> f64 {
        if fills.is_empty() {
            return 0.0;
        }
        fills[((fills.len() - 1) as f64 * q).round() as usize]
    };
    let fill = FillStats {
        min: quantile(0.0),
        p10: quantile(0.1),
        median: quantile(0.5),
        p90: quantile(0.9),
        max: quantile(1.0),
        mean: if fills.is_empty() {
            0.0
        } else {
            fills.iter().sum::<f64>() / fills.len() as f64
        },
    };
    let strata_counts = file
        .header
        .strata
        .iter()
        .enumerate()
        .map(|(column, stratum)| {
            let mut counts = vec![0usize; stratum.values.len() + 1];
            for record in 0..file.len() {
                let code = file.strata_codes[record * file.header.strata.len() + column];
                let index = if usize::from(code) < stratum.values.len() {
                    usize::from(code)
                } else {
                    stratum.values.len()
                };
                counts[index] += 1;
            }
            let mut named: Vec<(String, usize)> = stratum
                .values
                .iter()
                .cloned()
                .zip(counts.iter().copied())
                .collect();
            named.push(("unknown".into(), counts[stratum.values.len()]));
            (stratum.name.clone(), named)
        })
        .collect();
    let report = Report {
        file: args.file.display().to_string(),
        checksum: "ok",
        header: &file.header,
        records: file.len(),
        fill,
        strata_counts,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).work_failed("cannot format the report")?
        );
    } else {
        print_text(&report);
    }
    if let Some(n) = args.show_bits {
        for i in 0..n.min(file.len()) {
            let hex: String = file
                .filters
                .row(i)
                .iter()
                .map(|w| format!("{w:016x}"))
                .collect();
            println!("row {}: {hex}", file.rows[i]);
        }
    }
    Ok(())
}

fn print_text(report: &Report<'_>) {
    let h = report.header;
    println!("file              {}", report.file);
    println!("checksum          {}", report.checksum);
    println!("source label      {}", h.source_label);
    println!("records           {}", report.records);
    println!("filter length     {} bits", h.filter_bits);
    println!("encoding          {}", h.encoding);
    println!("schema            {}", h.schema_fingerprint);
    println!("key check         {}", h.key_check);
    println!("created (unix)    {}", h.created_unix);
    println!("zicht version     {}", h.zicht_version);
    for (name, value) in &h.hardening {
        println!("hardening         {name} = {value}");
    }
    let f = &report.fill;
    println!(
        "fill              min {:.3}  p10 {:.3}  median {:.3}  p90 {:.3}  max {:.3}  mean {:.3}",
        f.min, f.p10, f.median, f.p90, f.max, f.mean
    );
    for (name, counts) in &report.strata_counts {
        let parts: Vec<String> = counts.iter().map(|(v, c)| format!("{v}: {c}")).collect();
        println!("stratum {name:<9} {}", parts.join(", "));
    }
}

trait ContextPath {
    fn context_path(self, path: &std::path::Path) -> Failure;
}

impl ContextPath for Failure {
    fn context_path(self, path: &std::path::Path) -> Failure {
        let context = format!("cannot read {}", path.display());
        match self {
            Failure::BadInput(e) => Failure::BadInput(e.context(context)),
            Failure::Work(e) => Failure::Work(e.context(context)),
        }
    }
}
