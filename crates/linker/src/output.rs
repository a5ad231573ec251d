//! The outputs of a run: `clusters.csv`, `links.csv`, `capture.csv`,
//! `scores.csv`, `summary.json` and, on request, anonlink-style groups JSON.
//!
//! Every file is written to a temporary file next to its target as it is
//! rendered (`clusters.csv` and `links.csv`, the large ones, are never held
//! whole in memory), and only when all are written are they renamed into
//! place, so a failure leaves no partial output. Scores are
//! written with 6 decimals; every ordering is fixed, so the bytes do not
//! depend on the thread count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use zicht_format::atomic::AtomicFile;
use zicht_format::capture::csv_field;

use crate::{LinkConfig, LinkError, Linkage, Source, Timings};

/// The files written into the output directory.
pub const OUTPUT_FILES: [&str; 5] = [
    "clusters.csv",
    "links.csv",
    "capture.csv",
    "scores.csv",
    "summary.json",
];

/// The stratum value written for a cluster none of whose records has one.
pub const UNKNOWN: &str = "unknown";

/// Output options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputOptions {
    /// Write into an output directory that already holds files (ours are
    /// replaced, others are left alone).
    pub force: bool,
    /// Also write anonlink-style groups JSON to this file.
    pub groups: Option<PathBuf>,
}

/// Refuse an output directory that exists and holds files (unless
/// `force`), or a path that exists and is not a directory. Run it before
/// the work, so a bad directory fails fast.
///
/// # Errors
/// [`LinkError::OutputDir`] for a file or a non-empty directory without
/// `force`, [`LinkError::OutputUnreachable`] when it cannot be examined.
pub fn check_output_dir(dir: &Path, force: bool) -> Result<(), LinkError> {
    match std::fs::metadata(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(LinkError::OutputUnreachable(format!(
            "cannot use {} as the output directory: {error}",
            dir.display()
        ))),
        Ok(meta) if !meta.is_dir() => Err(LinkError::OutputDir(format!(
            "{} exists and is not a directory",
            dir.display()
        ))),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(|error| {
                LinkError::OutputUnreachable(format!(
                    "cannot read the output directory {}: {error}",
                    dir.display()
                ))
            })?;
            if !force && entries.next().is_some() {
                return Err(LinkError::OutputDir(format!(
                    "the output directory {} is not empty; choose another or pass --force",
                    dir.display()
                )));
            }
            Ok(())
        }
    }
}

/// The strata columns of `capture.csv`: those every source has, in the
/// first source's order.
///
/// # Errors
/// [`LinkError::Incompatible`] when a strata column has the name of a source
/// label or `count`.
pub fn capture_columns(sources: &[Source]) -> Result<Vec<String>, LinkError> {
    let Some(first) = sources.first() else {
        return Ok(Vec::new());
    };
    let columns: Vec<String> = first
        .strata_names()
        .iter()
        .filter(|name| sources.iter().all(|s| s.strata_names().contains(name)))
        .cloned()
        .collect();
    for column in &columns {
        if column.eq_ignore_ascii_case("count") || sources.iter().any(|s| s.label() == column) {
            return Err(LinkError::Incompatible(format!(
                "the strata column `{column}` has the name of a source label or of the count column"
            )));
        }
    }
    Ok(columns)
}

/// `clusters.csv`: `cluster,source,row`, by cluster, then source, then row.
pub fn render_clusters(sources: &[Source], linkage: &Linkage) -> String {
    let mut out = Vec::new();
    let _ = write_clusters(&mut out, sources, linkage);
    String::from_utf8(out).unwrap_or_default()
}

/// [`render_clusters`] written to `out` as it is made.
///
/// # Errors
/// What `out` returns.
pub fn write_clusters(
    out: &mut dyn Write,
    sources: &[Source],
    linkage: &Linkage,
) -> std::io::Result<()> {
    out.write_all(b"cluster,source,row\n")?;
    let labels: Vec<String> = sources.iter().map(|s| csv_field(s.label())).collect();
    for (cluster, members) in linkage.clustering.members().iter().enumerate() {
        for &record in members {
            let source = usize::from(linkage.record_sources[record as usize]);
            let row = sources[source].row(linkage.record_index[record as usize] as usize);
            writeln!(out, "{cluster},{},{row}", labels[source])?;
        }
    }
    Ok(())
}

/// `links.csv`: `source_a,row_a,source_b,row_b,score`, by record ids.
pub fn render_links(sources: &[Source], linkage: &Linkage) -> String {
    let mut out = Vec::new();
    let _ = write_links(&mut out, sources, linkage);
    String::from_utf8(out).unwrap_or_default()
}

/// [`render_links`] written to `out` as it is made.
///
/// # Errors
/// What `out` returns.
pub fn write_links(
    out: &mut dyn Write,
    sources: &[Source],
    linkage: &Linkage,
) -> std::io::Result<()> {
    out.write_all(b"source_a,row_a,source_b,row_b,score\n")?;
    let labels: Vec<String> = sources.iter().map(|s| csv_field(s.label())).collect();
    let describe = |record: u32| {
        let source = usize::from(linkage.record_sources[record as usize]);
        let row = sources[source].row(linkage.record_index[record as usize] as usize);
        (&labels[source], row)
    };
    for pair in &linkage.links {
        let (label_a, row_a) = describe(pair.first);
        let (label_b, row_b) = describe(pair.second);
        writeln!(
            out,
            "{label_a},{row_a},{label_b},{row_b},{:.6}",
            pair.dice()
        )?;
    }
    Ok(())
}

/// The majority stratum value of a cluster's records in one column; ties go
/// to the value of the earliest record (first source, then lowest row);
/// `None` when no record knows it.
fn majority<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Option<&'a str> {
    let mut tally: Vec<(&str, usize)> = Vec::new();
    for value in values.flatten() {
        match tally.iter_mut().find(|(v, _)| *v == value) {
            Some((_, count)) => *count += 1,
            None => tally.push((value, 1)),
        }
    }
    // `tally` is in order of first appearance, so the first maximum wins.
    let best = tally.iter().map(|(_, count)| *count).max()?;
    tally
        .iter()
        .find(|(_, count)| *count == best)
        .map(|(value, _)| *value)
}

/// The capture table (`zicht_format::capture`, its one CSV writer): rows
/// sorted by history then strata values, a stratum [`UNKNOWN`] when no
/// record of the cluster knows it.
pub use zicht_format::capture::CaptureTable;

/// Build the capture table.
///
/// # Errors
/// As [`capture_columns`].
pub fn capture_table(sources: &[Source], linkage: &Linkage) -> Result<CaptureTable, LinkError> {
    let strata = capture_columns(sources)?;
    // Column index of each stratum in each source.
    let column_of: Vec<Vec<usize>> = sources
        .iter()
        .map(|source| {
            strata
                .iter()
                .map(|name| {
                    source
                        .strata_names()
                        .iter()
                        .position(|n| n == name)
                        .unwrap_or(0)
                })
                .collect()
        })
        .collect();
    let mut cells: BTreeMap<(Vec<bool>, Vec<String>), u64> = BTreeMap::new();
    for members in linkage.clustering.members().iter() {
        let mut history = vec![false; sources.len()];
        for &record in members {
            history[usize::from(linkage.record_sources[record as usize])] = true;
        }
        let values = (0..strata.len())
            .map(|k| {
                majority(members.iter().map(|&record| {
                    let source = usize::from(linkage.record_sources[record as usize]);
                    sources[source].stratum(
                        linkage.record_index[record as usize] as usize,
                        column_of[source][k],
                    )
                }))
                .unwrap_or(UNKNOWN)
                .to_string()
            })
            .collect();
        // Sort histories with the first list most significant, 1 before 0.
        let key: Vec<bool> = history.iter().map(|&on| !on).collect();
        *cells.entry((key, values)).or_insert(0) += 1;
    }
    Ok(CaptureTable {
        lists: sources.iter().map(|s| s.label().to_string()).collect(),
        strata,
        rows: cells
            .into_iter()
            .map(|((key, values), count)| (key.iter().map(|&off| !off).collect(), values, count))
            .collect(),
    })
}

/// `capture.csv`: one 0/1 column per source label (input order), the strata
/// columns, then `count`: the input of `zicht estimate`.
pub fn render_capture(table: &CaptureTable) -> String {
    table.to_csv()
}

/// An exact decimal for `numerator / denominator` when the denominator has
/// only the prime factors 2 and 5, else 6 decimals.
fn decimal(numerator: u128, denominator: u128) -> String {
    let mut rest = denominator;
    let mut places = 0u32;
    while rest.is_multiple_of(10) {
        rest /= 10;
        places += 1;
    }
    while rest.is_multiple_of(2) || rest.is_multiple_of(5) {
        rest /= if rest.is_multiple_of(2) { 2 } else { 5 };
        places += 1;
    }
    if rest != 1 || places > 12 {
        return format!("{:.6}", numerator as f64 / denominator as f64);
    }
    let scale = 10u128.pow(places);
    let scaled = numerator * scale / denominator;
    let (whole, fraction) = (scaled / scale, scaled % scale);
    let mut text = format!("{whole}.{fraction:0width$}", width = places.max(2) as usize);
    while text.ends_with('0') && text.len() > text.find('.').unwrap_or(0) + 3 {
        text.pop();
    }
    text
}

/// `scores.csv`: `score_from,score_to,pairs_across,pairs_within`, bins of
/// 0.01 from the histogram floor; the last bin includes 1.
pub fn render_scores(linkage: &Linkage) -> String {
    let histogram = &linkage.histogram;
    let floor = histogram.floor();
    let (numerator, denominator) = (
        u128::from(floor.numerator()),
        u128::from(floor.denominator()),
    );
    let mut text = String::from("score_from,score_to,pairs_across,pairs_within\n");
    let n_bins = histogram.across().len();
    for k in 0..n_bins {
        let from = decimal(100 * numerator + k as u128 * denominator, 100 * denominator);
        let to_numerator = 100 * numerator + (k as u128 + 1) * denominator;
        let to = if k + 1 == n_bins || to_numerator >= 100 * denominator {
            "1.00".to_string()
        } else {
            decimal(to_numerator, 100 * denominator)
        };
        let _ = writeln!(
            text,
            "{from},{to},{},{}",
            histogram.across()[k],
            histogram.within()[k]
        );
    }
    text
}

#[derive(Serialize)]
struct SourceSummary {
    label: String,
    file: Option<String>,
    records: usize,
    duplicates: usize,
    records_linked_to_other_sources: usize,
}

#[derive(Serialize)]
struct PairsSummary {
    across: usize,
    within: usize,
}

#[derive(Serialize)]
struct TimingsSummary {
    load: u64,
    compare: u64,
    solve: u64,
    write: u64,
}

#[derive(Serialize)]
struct Summary {
    zicht_linker_version: &'static str,
    filter_bits: u32,
    threshold: String,
    dedup_threshold: Option<String>,
    solver: &'static str,
    score_histogram_floor: String,
    sources: Vec<SourceSummary>,
    records: usize,
    comparisons: u64,
    pairs_above_threshold: PairsSummary,
    links: usize,
    clusters: usize,
    clusters_with_several_sources: usize,
    largest_cluster: usize,
    capture_histories: usize,
    strata_columns: Vec<String>,
    timings_ms: TimingsSummary,
}

/// `summary.json`. Everything but `timings_ms` is a function of the inputs
/// and the configuration.
pub fn render_summary(
    sources: &[Source],
    linkage: &Linkage,
    config: &LinkConfig,
    capture: &CaptureTable,
    timings: &Timings,
) -> String {
    let n_sources = sources.len();
    let mut duplicates = vec![0usize; n_sources];
    let mut linked_across = vec![0usize; n_sources];
    let mut several = 0;
    let mut largest = 0;
    let mut per_source = vec![0usize; n_sources];
    for members in linkage.clustering.members().iter() {
        per_source.fill(0);
        for &record in members {
            per_source[usize::from(linkage.record_sources[record as usize])] += 1;
        }
        let present = per_source.iter().filter(|&&n| n > 0).count();
        if present > 1 {
            several += 1;
        }
        largest = largest.max(members.len());
        for (source, &n) in per_source.iter().enumerate() {
            duplicates[source] += n.saturating_sub(1);
            if present > 1 {
                linked_across[source] += n;
            }
        }
    }
    let n_across = linkage.pairs_across();
    let summary = Summary {
        zicht_linker_version: env!("CARGO_PKG_VERSION"),
        filter_bits: sources.first().map_or(0, |s| s.filters().length().bits()),
        threshold: config.threshold.to_string(),
        dedup_threshold: config.dedup_threshold().map(|t| t.to_string()),
        solver: config.solver.name(),
        score_histogram_floor: linkage.histogram.floor().to_string(),
        sources: sources
            .iter()
            .enumerate()
            .map(|(index, source)| SourceSummary {
                label: source.label().to_string(),
                file: source
                    .path()
                    .and_then(|p| p.file_name())
                    .map(|name| name.to_string_lossy().into_owned()),
                records: source.len(),
                duplicates: duplicates[index],
                records_linked_to_other_sources: linked_across[index],
            })
            .collect(),
        records: linkage.record_sources.len(),
        comparisons: linkage.comparisons,
        pairs_above_threshold: PairsSummary {
            across: n_across,
            within: linkage.pairs.len() - n_across,
        },
        links: linkage.links.len(),
        clusters: linkage.clustering.n_clusters,
        clusters_with_several_sources: several,
        largest_cluster: largest,
        capture_histories: capture.rows.len(),
        strata_columns: capture.strata.clone(),
        timings_ms: TimingsSummary {
            load: timings.load_ms,
            compare: timings.compare_ms,
            solve: timings.solve_ms,
            write: timings.write_ms,
        },
    };
    let mut text = serde_json::to_string_pretty(&summary).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// anonlink-style groups: `{"groups": [[[source_index, row], ...], ...]}`,
/// clusters of two or more records only.
pub fn render_groups(sources: &[Source], linkage: &Linkage) -> String {
    let groups: Vec<Vec<(usize, u64)>> = linkage
        .clustering
        .members()
        .iter()
        .filter(|members| members.len() >= 2)
        .map(|members| {
            members
                .iter()
                .map(|&record| {
                    let source = usize::from(linkage.record_sources[record as usize]);
                    (
                        source,
                        sources[source].row(linkage.record_index[record as usize] as usize),
                    )
                })
                .collect()
        })
        .collect();
    let mut text = serde_json::json!({ "groups": groups }).to_string();
    text.push('\n');
    text
}

/// Render every output and write them all atomically into `dir` (created if
/// missing). `timings.write_ms` is measured here.
///
/// # Errors
/// [`LinkError::OutputDir`] or [`LinkError::OutputUnreachable`] for an
/// unusable directory, [`LinkError::Output`] and [`LinkError::Format`] for
/// I/O failures; nothing is left behind.
pub fn write_outputs(
    dir: &Path,
    sources: &[Source],
    linkage: &Linkage,
    config: &LinkConfig,
    options: &OutputOptions,
) -> Result<Timings, LinkError> {
    check_output_dir(dir, options.force)?;
    let started = std::time::Instant::now();
    let capture = capture_table(sources, linkage)?;
    std::fs::create_dir_all(dir).map_err(|source| LinkError::Output {
        path: dir.to_path_buf(),
        source,
    })?;
    // Each file is written through a buffer as it is rendered (the large
    // ones are never held whole in memory), and all are renamed into place
    // only when every one is complete.
    type Render<'a> = Box<dyn Fn(&mut dyn Write) -> std::io::Result<()> + 'a>;
    let text = |text: String| -> Render<'_> { Box::new(move |out| out.write_all(text.as_bytes())) };
    let mut files: Vec<(PathBuf, Render<'_>)> = vec![
        (
            dir.join("clusters.csv"),
            Box::new(|out| write_clusters(out, sources, linkage)),
        ),
        (
            dir.join("links.csv"),
            Box::new(|out| write_links(out, sources, linkage)),
        ),
        (dir.join("capture.csv"), text(render_capture(&capture))),
        (dir.join("scores.csv"), text(render_scores(linkage))),
    ];
    if let Some(groups) = &options.groups {
        files.push((groups.clone(), text(render_groups(sources, linkage))));
    }
    let mut pending = Vec::with_capacity(files.len() + 1);
    let write = |path: &Path, render: &Render<'_>| -> Result<AtomicFile, LinkError> {
        let mut file = AtomicFile::create(path)?;
        let output_error = |source| LinkError::Output {
            path: path.to_path_buf(),
            source,
        };
        let mut writer = file.writer();
        render(&mut writer).map_err(output_error)?;
        writer.flush().map_err(output_error)?;
        drop(writer);
        Ok(file)
    };
    for (path, render) in &files {
        pending.push(write(path, render)?);
    }
    let mut timings = linkage.timings;
    timings.write_ms = started.elapsed().as_millis() as u64;
    let summary = text(render_summary(sources, linkage, config, &capture, &timings));
    pending.push(write(&dir.join("summary.json"), &summary)?);
    for file in pending {
        file.commit()?;
    }
    Ok(timings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_ties_go_to_the_first() {
        assert_eq!(majority([Some("m"), Some("f")].into_iter()), Some("m"));
        assert_eq!(
            majority([None, Some("f"), Some("m"), Some("m")].into_iter()),
            Some("m")
        );
        assert_eq!(majority([None, None].into_iter()), None);
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal(80, 100), "0.80");
        assert_eq!(decimal(81, 100), "0.81");
        assert_eq!(decimal(8750, 10000), "0.875");
        assert_eq!(decimal(1, 3), "0.333333");
    }
}
