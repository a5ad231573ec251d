//! `zicht link`: link encoded files (third party): matching, deduplication,
//! clustering, and the capture table for `zicht estimate`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use zicht_linker::output::{self, OutputOptions};
use zicht_linker::{
    link, Dedup, LinkConfig, LinkError, Phase, Progress, Solver, Source, Threshold, MAX_SOURCES,
};

use super::{progress_bar, with_threads, Classify, CmdResult, Failure};

/// How candidate pairs become clusters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SolverArg {
    /// Greedy merging in descending score order; at most one record per
    /// source per cluster unless deduplicated.
    #[default]
    Greedy,
    /// Maximum-weight one-to-one assignment (two sources only).
    Optimal,
    /// Connected components of every pair above the thresholds.
    Components,
}

/// Arguments of `zicht link`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Encoded files (.zbf) or clkhash CLK JSON files, 1 to 16; one file
    /// means deduplication only.
    #[arg(required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// Dice threshold in (0, 1]: pairs of records of different sources at
    /// or above it are candidate links.
    #[arg(long, value_parser = parse_threshold)]
    pub threshold: Threshold,
    /// Output directory (created; must be empty unless --force).
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Dice threshold for duplicates within one source (default: --threshold).
    #[arg(long, value_parser = parse_threshold, conflicts_with = "no_dedup")]
    pub dedup_threshold: Option<Threshold>,
    /// Do not look for duplicates within a source.
    #[arg(long)]
    pub no_dedup: bool,
    /// Clustering algorithm.
    #[arg(long, value_enum, default_value_t)]
    pub solver: SolverArg,
    /// Lowest score counted in scores.csv (default: the lowest threshold);
    /// lower it to see the scores below the threshold.
    #[arg(long, value_parser = parse_threshold)]
    pub scores_from: Option<Threshold>,
    /// Also write anonlink-style groups JSON to this file.
    #[arg(long)]
    pub groups: Option<PathBuf>,
    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write into a non-empty output directory (and over --groups).
    #[arg(long)]
    pub force: bool,
    /// Also write `capture_published.csv` for publication: cells below K
    /// suppressed, with secondary suppression so they cannot be recovered
    /// from the totals. `capture.csv` keeps the exact counts for estimation.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(2..))]
    pub min_cell: Option<u64>,
}

fn parse_threshold(text: &str) -> Result<Threshold, String> {
    Threshold::parse(text).map_err(|e| e.to_string())
}

/// Progress bars per phase, drawn only when stderr is a terminal.
struct Bars {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    done: AtomicU64,
}

impl Progress for Bars {
    fn start(&self, phase: Phase, total: u64) {
        let what = match phase {
            Phase::Compare => "comparing (tiles)",
            other => other.name(),
        };
        let bar = progress_bar((total > 0).then_some(total), what);
        self.done.store(0, Ordering::Relaxed);
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, _phase: Phase, done: u64) {
        let highest = self.done.fetch_max(done, Ordering::Relaxed).max(done);
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.set_position(highest);
            }
        }
    }

    fn finish(&self, _phase: Phase) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

fn classify(error: LinkError) -> Failure {
    if error.is_bad_input() {
        Failure::input(error)
    } else {
        Failure::work(error)
    }
}

/// Run `zicht link`.
pub fn run(args: Args) -> CmdResult {
    if args.inputs.len() > MAX_SOURCES {
        return Err(Failure::input_msg(format!(
            "{} input files given; zicht link takes 1 to {MAX_SOURCES}",
            args.inputs.len()
        )));
    }
    output::check_output_dir(&args.out_dir, args.force).map_err(classify)?;
    if args.min_cell.is_some() && args.inputs.len() < 2 {
        return Err(Failure::input_msg(
            "--min-cell needs at least two sources (a capture table of one list has nothing to suppress)",
        ));
    }
    if let Some(groups) = &args.groups {
        if groups.exists() && !args.force {
            return Err(Failure::input_msg(format!(
                "{} exists; pass --force to overwrite it",
                groups.display()
            )));
        }
    }
    let config = LinkConfig {
        threshold: args.threshold,
        dedup: match (args.no_dedup, args.dedup_threshold) {
            (true, _) => Dedup::Off,
            (false, Some(threshold)) => Dedup::At(threshold),
            (false, None) => Dedup::AtThreshold,
        },
        solver: match args.solver {
            SolverArg::Greedy => Solver::Greedy,
            SolverArg::Optimal => Solver::Optimal,
            SolverArg::Components => Solver::Components,
        },
        histogram_floor: args.scores_from,
        kernel: Default::default(),
    };
    let bars = Bars {
        bar: Mutex::new(None),
        done: AtomicU64::new(0),
    };

    let started = Instant::now();
    bars.start(Phase::Load, args.inputs.len() as u64);
    let mut sources = Vec::with_capacity(args.inputs.len());
    for (index, path) in args.inputs.iter().enumerate() {
        sources.push(Source::load(path).map_err(classify)?);
        bars.advance(Phase::Load, index as u64 + 1);
    }
    bars.finish(Phase::Load);
    let load_ms = started.elapsed().as_millis() as u64;

    let mut linkage =
        with_threads(args.threads, || link(&sources, &config, &bars))?.map_err(classify)?;
    linkage.timings.load_ms = load_ms;

    let options = OutputOptions {
        force: args.force,
        groups: args.groups.clone(),
    };
    output::write_outputs(&args.out_dir, &sources, &linkage, &config, &options)
        .map_err(classify)?;
    let published = args.out_dir.join("capture_published.csv");
    match args.min_cell {
        Some(min_cell) => {
            let labels: Vec<String> = sources.iter().map(|s| s.label().to_string()).collect();
            write_published(&args.out_dir, &labels, min_cell)?;
        }
        // With --force, a published table from an earlier run would no
        // longer match capture.csv.
        None if published.exists() => std::fs::remove_file(&published)
            .work_failed("cannot remove the stale capture_published.csv")?,
        None => {}
    }
    println!(
        "linked {} records of {} source(s): {} pairs above threshold, {} links, {} clusters; outputs in {}",
        linkage.record_sources.len(),
        sources.len(),
        linkage.pairs.len(),
        linkage.links.len(),
        linkage.clustering.n_clusters,
        args.out_dir.display()
    );
    Ok(())
}

/// Write `capture_published.csv`: the pooled capture table with every cell
/// below `min_cell` (and the cells and totals that would reveal it)
/// replaced by `suppressed`, then the list totals.
fn write_published(dir: &std::path::Path, labels: &[String], min_cell: u64) -> Result<(), Failure> {
    use zicht_estimate::{suppress_cells, CaptureTable, CsvOptions};
    let capture = std::fs::read(dir.join("capture.csv")).work_failed("cannot read capture.csv")?;
    // The columns are known: the source labels, then strata, then count.
    let header: Vec<String> = csv::Reader::from_reader(&capture[..])
        .headers()
        .work_failed("cannot read back capture.csv")?
        .iter()
        .map(str::to_string)
        .collect();
    let strata: Vec<String> = header
        .iter()
        .filter(|c| !labels.contains(c) && c.as_str() != "count")
        .cloned()
        .collect();
    let options = CsvOptions {
        lists: Some(labels.to_vec()),
        strata_columns: Some(strata),
    };
    let table = CaptureTable::from_csv_reader(&capture[..], &options)
        .work_failed("cannot read back capture.csv")?;
    let published = suppress_cells(&table, min_cell);
    let names = table.list_names();
    let mut text = names.join(",");
    text.push_str(",count\n");
    for (history, count) in &published.cells {
        for list in 0..names.len() {
            text.push_str(if history >> list & 1 == 1 { "1," } else { "0," });
        }
        match count {
            Some(count) => text.push_str(&count.to_string()),
            None => text.push_str("suppressed"),
        }
        text.push('\n');
    }
    for (list, total) in published.list_totals.iter().enumerate() {
        for other in 0..names.len() {
            text.push_str(if other == list { "total," } else { "," });
        }
        match total {
            Some(total) => text.push_str(&total.to_string()),
            None => text.push_str("suppressed"),
        }
        text.push('\n');
    }
    zicht_format::atomic::write_atomic(&dir.join("capture_published.csv"), text.as_bytes())
        .work_failed("cannot write capture_published.csv")?;
    eprintln!(
        "capture_published.csv: {} cells below {min_cell} suppressed, {} more to protect them",
        published.primary, published.secondary
    );
    Ok(())
}
