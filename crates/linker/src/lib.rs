//! zicht-linker: exact Dice matching, deduplication and clustering of
//! encoded registries, run by the third party.
//!
//! The linker sees Bloom filters, data-row numbers, source labels and any
//! strata an agency chose to release; it depends on `zicht-format` only, so
//! it cannot name a secret, a key or a raw value.
//!
//! A run: load the [`Source`]s (`.zbf` or clkhash CLK JSON), check that they
//! were made with the same filter length, schema and secret
//! ([`check_compatible`]), find every pair at or above the thresholds
//! ([`kernel::find_pairs`]), cluster ([`solve::solve`]), and write the
//! outputs ([`output::write_outputs`]).
//!
//! ```
//! use zicht_format::{FilterLength, FilterMatrix};
//! use zicht_linker::{link, LinkConfig, NoProgress, Source, Threshold};
//!
//! let length = FilterLength::new(64).unwrap();
//! let mut a = FilterMatrix::new(length);
//! a.push(&[0b1111_1111]);
//! let mut b = FilterMatrix::new(length);
//! b.push(&[0b0111_1111]); // Dice 14/15 with a's record
//! b.push(&[0xFF00]);
//! let sources = vec![
//!     Source::new("a", a, vec![0]).unwrap(),
//!     Source::new("b", b, vec![0, 1]).unwrap(),
//! ];
//! let config = LinkConfig::new(Threshold::parse("0.9").unwrap());
//! let linkage = link(&sources, &config, &NoProgress).unwrap();
//! assert_eq!(linkage.clustering.n_clusters, 2);
//! assert_eq!(linkage.links.len(), 1);
//! ```
//!
//! Conventions: record ids number the records of all sources concatenated
//! in input order, each source's records sorted by data row. Output never
//! depends on the rayon thread count.
#![warn(missing_docs)]

pub mod assignment;
mod error;
pub mod kernel;
pub mod output;
pub mod progress;
pub mod solve;
mod source;
mod threshold;

use std::time::Instant;

pub use error::LinkError;
pub use kernel::{Backend, KernelOptions, Pair, PairRule, PairSet};
pub use progress::{NoProgress, Phase, Progress};
pub use solve::{Clustering, Solver};
pub use source::{check_compatible, Provenance, Source, MAX_SOURCES};
pub use threshold::Threshold;
pub use zicht_format::Encoding;

/// Which same-source pairs count as duplicates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dedup {
    /// Same-source pairs at or above the linkage threshold (the default).
    #[default]
    AtThreshold,
    /// Same-source pairs at or above this threshold.
    At(Threshold),
    /// No deduplication: same-source pairs are not even compared. Not
    /// allowed with a single source.
    Off,
}

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkConfig {
    /// Pairs of records from different sources at or above this score link.
    pub threshold: Threshold,
    /// Deduplication within a source.
    pub dedup: Dedup,
    /// How pairs become clusters.
    pub solver: Solver,
    /// The lowest score counted in the score histogram; `None`: the lowest
    /// of the thresholds. Lower it to see the scores below the threshold
    /// (those pairs are counted, not kept).
    pub histogram_floor: Option<Threshold>,
    /// Tuning of the kernel; never changes results.
    pub kernel: KernelOptions,
}

impl LinkConfig {
    /// The defaults with this threshold: deduplication at the same
    /// threshold, greedy solver.
    pub fn new(threshold: Threshold) -> LinkConfig {
        LinkConfig {
            threshold,
            dedup: Dedup::AtThreshold,
            solver: Solver::Greedy,
            histogram_floor: None,
            kernel: KernelOptions::default(),
        }
    }

    /// The deduplication threshold, if deduplication is on.
    pub fn dedup_threshold(&self) -> Option<Threshold> {
        match self.dedup {
            Dedup::AtThreshold => Some(self.threshold),
            Dedup::At(threshold) => Some(threshold),
            Dedup::Off => None,
        }
    }

    /// The kernel's rule.
    pub fn pair_rule(&self) -> PairRule {
        let within = self.dedup_threshold();
        let lowest = within.map_or(self.threshold, |w| w.min(self.threshold));
        PairRule {
            across: self.threshold,
            within,
            histogram_floor: self.histogram_floor.unwrap_or(lowest),
        }
    }
}

/// Milliseconds spent per phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// Reading and checking inputs (filled in by the caller that loads).
    pub load_ms: u64,
    /// The kernel.
    pub compare_ms: u64,
    /// Sorting pairs and clustering.
    pub solve_ms: u64,
    /// Rendering and writing outputs.
    pub write_ms: u64,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct Linkage {
    /// Every kept pair, in the canonical order (score descending, ties by
    /// canonical rank).
    pub pairs: Vec<Pair>,
    /// The clusters.
    pub clustering: Clustering,
    /// The accepted links: the kept pairs whose records ended in one
    /// cluster, sorted by record ids.
    pub links: Vec<Pair>,
    /// The histogram of compared scores.
    pub histogram: kernel::Histogram,
    /// Pairs compared by the kernel.
    pub comparisons: u64,
    /// Source index of each record id.
    pub record_sources: Vec<u8>,
    /// Index of each record within its source.
    pub record_index: Vec<u32>,
    /// Time per phase.
    pub timings: Timings,
}

impl Linkage {
    /// Kept pairs of records from different sources.
    pub fn pairs_across(&self) -> usize {
        self.pairs
            .iter()
            .filter(|p| {
                self.record_sources[p.first as usize] != self.record_sources[p.second as usize]
            })
            .count()
    }
}

/// Link `sources`: check them, find pairs, cluster.
///
/// # Errors
/// Incompatible sources ([`check_compatible`]), a configuration that does
/// not fit them (deduplication off with one source, the optimal solver with
/// other than two sources), or more than `u32::MAX` records.
pub fn link(
    sources: &[Source],
    config: &LinkConfig,
    progress: &dyn Progress,
) -> Result<Linkage, LinkError> {
    check_compatible(sources)?;
    output::capture_columns(sources)?;
    if sources.len() == 1 && config.dedup == Dedup::Off {
        return Err(LinkError::Config(
            "with a single source there is only deduplication to do; do not turn it off".into(),
        ));
    }
    if config.solver == Solver::Optimal && sources.len() != 2 {
        return Err(LinkError::Config(format!(
            "the optimal assignment needs exactly two sources, not {}; use --solver greedy or components",
            sources.len()
        )));
    }
    let n_records: usize = sources.iter().map(Source::len).sum();
    if u32::try_from(n_records).is_err() {
        return Err(LinkError::Config(
            "more than 4,294,967,295 records in all".into(),
        ));
    }
    let mut record_sources = Vec::with_capacity(n_records);
    let mut record_index = Vec::with_capacity(n_records);
    for (source_index, source) in sources.iter().enumerate() {
        for index in 0..source.len() {
            record_sources.push(source_index as u8);
            record_index.push(index as u32);
        }
    }
    // Canonical ranks: by label, then row.
    let mut by_label: Vec<usize> = (0..sources.len()).collect();
    by_label.sort_by(|&a, &b| sources[a].label().cmp(sources[b].label()));
    let offsets: Vec<usize> = sources
        .iter()
        .scan(0usize, |offset, source| {
            let start = *offset;
            *offset += source.len();
            Some(start)
        })
        .collect();
    let mut ranks = vec![0u32; n_records];
    let mut next_rank = 0u32;
    for &source_index in &by_label {
        for index in 0..sources[source_index].len() {
            ranks[offsets[source_index] + index] = next_rank;
            next_rank += 1;
        }
    }

    let rule = config.pair_rule();
    let started = Instant::now();
    let matrices: Vec<&zicht_format::FilterMatrix> = sources.iter().map(Source::filters).collect();
    let found = kernel::find_pairs(&matrices, &rule, &config.kernel, progress);
    let compare_ms = started.elapsed().as_millis() as u64;

    let started = Instant::now();
    progress.start(Phase::Solve, 0);
    let mut pairs = found.pairs;
    let records = solve::SolverRecords {
        sources: &record_sources,
        ranks: &ranks,
    };
    let clustering = solve::solve(records, sources.len(), &mut pairs, config.solver)?;
    let mut links: Vec<Pair> = pairs
        .iter()
        .filter(|p| {
            clustering.cluster_of[p.first as usize] == clustering.cluster_of[p.second as usize]
        })
        .copied()
        .collect();
    links.sort_unstable();
    progress.finish(Phase::Solve);
    let solve_ms = started.elapsed().as_millis() as u64;

    Ok(Linkage {
        pairs,
        clustering,
        links,
        histogram: found.histogram,
        comparisons: found.comparisons,
        record_sources,
        record_index,
        timings: Timings {
            compare_ms,
            solve_ms,
            ..Timings::default()
        },
    })
}
