//! Scoring a linkage against the truth: pairwise and B-cubed precision,
//! recall and F1, and the error of the capture table the clusters imply.
//!
//! ```
//! use zicht_synth::eval::{evaluate, Clusters, Truth};
//!
//! let truth = Truth::from_csv("source,row,person\na,0,p1\nb,0,p1\nb,1,p2\n".as_bytes()).unwrap();
//! let clusters = Clusters::from_csv("cluster,source,row\n1,a,0\n1,b,0\n2,b,1\n".as_bytes()).unwrap();
//! let report = evaluate(&truth, &clusters).unwrap();
//! assert_eq!(report.pairwise.f1, 1.0);
//! assert_eq!(report.capture.total_absolute_difference, 0);
//! ```
//!
//! Conventions: precision is 1 when no pair (or no record) is predicted,
//! recall is 1 when there is no true pair, and F1 is 0 when precision and
//! recall are both 0. Records of the truth that no cluster lists count as
//! singletons. Lists of a capture history are the sources in the order they
//! first appear in the truth.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::Serialize;

use crate::error::SynthError;

/// The most sources a capture history can hold.
pub const MAX_SOURCES: usize = 32;

/// The true person of every record (`truth.csv`: `source,row,person`).
#[derive(Debug, Clone)]
pub struct Truth {
    sources: Vec<String>,
    /// (source index, row) → person index.
    records: BTreeMap<(usize, u64), usize>,
    n_persons: usize,
}

/// The clusters of a linkage (`clusters.csv`: `cluster,source,row`).
#[derive(Debug, Clone)]
pub struct Clusters {
    /// (source, row, cluster index, line), in file order.
    members: Vec<(String, u64, usize, u64)>,
}

/// Read a CSV with the named columns; call `each(line, cells)` per record.
fn read_columns<R: Read>(
    reader: R,
    columns: &[&str],
    mut each: impl FnMut(u64, Vec<&str>) -> Result<(), SynthError>,
) -> Result<(), SynthError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader);
    let header = reader.headers().map_err(|e| csv_error(&e))?.clone();
    let indices: Vec<usize> = columns
        .iter()
        .map(|&column| {
            header
                .iter()
                .position(|h| h.eq_ignore_ascii_case(column))
                .ok_or_else(|| SynthError::MissingColumn {
                    column: column.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(&e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cells: Vec<&str> = indices.iter().map(|&i| &record[i]).collect();
        for (cell, column) in cells.iter().zip(columns) {
            if cell.is_empty() {
                return Err(SynthError::BadCell {
                    line,
                    column: (*column).to_string(),
                    problem: "is empty",
                });
            }
        }
        each(line, cells)?;
    }
    Ok(())
}

fn csv_error(error: &csv::Error) -> SynthError {
    let line = error.position().map_or(0, |p| p.line());
    let kind = match error.kind() {
        csv::ErrorKind::Io(_) => "I/O error",
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "wrong number of fields",
        _ => "malformed record",
    };
    SynthError::Csv {
        line,
        kind: kind.to_string(),
    }
}

fn parse_row(line: u64, cell: &str) -> Result<u64, SynthError> {
    cell.parse().map_err(|_| SynthError::BadCell {
        line,
        column: "row".into(),
        problem: "is not a non-negative whole number",
    })
}

impl Truth {
    /// Read `source,row,person` (other columns are ignored).
    ///
    /// # Errors
    ///
    /// A malformed CSV, a missing column, an empty cell, a row that is not
    /// a whole number, a record listed twice, more than [`MAX_SOURCES`]
    /// sources, or no records at all. Errors name the line, never a value.
    pub fn from_csv<R: Read>(reader: R) -> Result<Truth, SynthError> {
        let mut sources: Vec<String> = Vec::new();
        let mut persons: BTreeMap<String, usize> = BTreeMap::new();
        let mut records: BTreeMap<(usize, u64), (usize, u64)> = BTreeMap::new();
        read_columns(reader, &["source", "row", "person"], |line, cells| {
            let row = parse_row(line, cells[1])?;
            let source = match sources.iter().position(|s| s == cells[0]) {
                Some(index) => index,
                None => {
                    if sources.len() == MAX_SOURCES {
                        return Err(SynthError::BadCell {
                            line,
                            column: "source".into(),
                            problem: "names more sources than a capture history can hold (32)",
                        });
                    }
                    sources.push(cells[0].to_string());
                    sources.len() - 1
                }
            };
            let next = persons.len();
            let person = *persons.entry(cells[2].to_string()).or_insert(next);
            if let Some(&(_, first_line)) = records.get(&(source, row)) {
                return Err(SynthError::DuplicateRecord { line, first_line });
            }
            records.insert((source, row), (person, line));
            Ok(())
        })?;
        if records.is_empty() {
            return Err(SynthError::EmptyTruth);
        }
        Ok(Truth {
            sources,
            records: records.into_iter().map(|(k, (p, _))| (k, p)).collect(),
            n_persons: persons.len(),
        })
    }

    /// The sources, in the order they first appear.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The number of records.
    pub fn n_records(&self) -> usize {
        self.records.len()
    }

    /// The number of distinct persons.
    pub fn n_persons(&self) -> usize {
        self.n_persons
    }
}

impl Clusters {
    /// Read `cluster,source,row` (other columns are ignored).
    ///
    /// # Errors
    ///
    /// A malformed CSV, a missing column, an empty cell, a row that is not
    /// a whole number, or a record listed twice. Errors name the line.
    pub fn from_csv<R: Read>(reader: R) -> Result<Clusters, SynthError> {
        let mut cluster_ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut seen: BTreeMap<(String, u64), u64> = BTreeMap::new();
        let mut members = Vec::new();
        read_columns(reader, &["cluster", "source", "row"], |line, cells| {
            let row = parse_row(line, cells[2])?;
            let key = (cells[1].to_string(), row);
            if let Some(&first_line) = seen.get(&key) {
                return Err(SynthError::DuplicateRecord { line, first_line });
            }
            seen.insert(key, line);
            let next = cluster_ids.len();
            let cluster = *cluster_ids.entry(cells[0].to_string()).or_insert(next);
            members.push((cells[1].to_string(), row, cluster, line));
            Ok(())
        })?;
        Ok(Clusters { members })
    }

    /// The number of records listed.
    pub fn n_records(&self) -> usize {
        self.members.len()
    }
}

/// Pairwise scores: a pair of records is predicted when they share a
/// cluster and true when they share a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairScores {
    /// Pairs predicted and true.
    pub true_positives: u64,
    /// Pairs predicted.
    pub predicted_pairs: u64,
    /// Pairs true.
    pub true_pairs: u64,
    /// `true_positives / predicted_pairs` (1 when nothing is predicted).
    pub precision: f64,
    /// `true_positives / true_pairs` (1 when there is no true pair).
    pub recall: f64,
    /// The harmonic mean of precision and recall.
    pub f1: f64,
}

impl PairScores {
    fn new(true_positives: u64, predicted_pairs: u64, true_pairs: u64) -> PairScores {
        let precision = ratio_or_one(true_positives, predicted_pairs);
        let recall = ratio_or_one(true_positives, true_pairs);
        PairScores {
            true_positives,
            predicted_pairs,
            true_pairs,
            precision,
            recall,
            f1: harmonic_mean(precision, recall),
        }
    }
}

/// B-cubed scores: per record, the share of its cluster that is the same
/// person (precision) and the share of its person that is in its cluster
/// (recall), averaged over records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BCubed {
    /// Mean per-record precision.
    pub precision: f64,
    /// Mean per-record recall.
    pub recall: f64,
    /// The harmonic mean of the two.
    pub f1: f64,
}

/// One capture history: how many clusters have it and how many true persons.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryCount {
    /// The history as 0/1 characters, one per source in [`EvalReport::sources`] order.
    pub history: String,
    /// The same as bits: bit `i` for source `i`.
    pub bits: u32,
    /// Clusters with this history.
    pub linked: u64,
    /// True persons with this history.
    pub truth: u64,
}

/// The capture table implied by the clusters against the true one (pooled
/// over strata).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptureError {
    /// Every history that occurs in either table, by bits.
    pub histories: Vec<HistoryCount>,
    /// The sum over histories of `|linked - truth|`.
    pub total_absolute_difference: u64,
    /// The number of clusters (the linked table's total).
    pub linked_observed: u64,
    /// The number of true persons (the true table's total).
    pub true_observed: u64,
}

/// The scores of a linkage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// The sources, in capture-history order.
    pub sources: Vec<String>,
    /// Records in the truth.
    pub records: u64,
    /// Records of the truth that no cluster lists (scored as singletons).
    pub unclustered_records: u64,
    /// Distinct true persons.
    pub true_persons: u64,
    /// Clusters, counting every unclustered record as one.
    pub clusters: u64,
    /// Pairwise scores over all pairs.
    pub pairwise: PairScores,
    /// Pairwise scores over pairs within one source (deduplication).
    pub pairwise_within_source: PairScores,
    /// Pairwise scores over pairs across two sources (linkage).
    pub pairwise_across_source: PairScores,
    /// B-cubed scores.
    pub bcubed: BCubed,
    /// The capture table's error.
    pub capture: CaptureError,
}

fn ratio_or_one(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        1.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn harmonic_mean(a: f64, b: f64) -> f64 {
    if a + b == 0.0 {
        0.0
    } else {
        2.0 * a * b / (a + b)
    }
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

fn sum_pairs<K>(counts: &BTreeMap<K, u64>) -> u64 {
    counts.values().map(|&n| pairs(n)).sum()
}

/// Score `clusters` against `truth`.
///
/// # Errors
///
/// [`SynthError::UnknownRecord`] when a cluster lists a record that is not
/// in the truth (naming the line of the clusters file).
pub fn evaluate(truth: &Truth, clusters: &Clusters) -> Result<EvalReport, SynthError> {
    // Each truth record: (source, person, cluster); clusters numbered from 0,
    // unclustered records get fresh numbers after the last.
    let mut assigned: BTreeMap<(usize, u64), usize> = BTreeMap::new();
    let mut n_clusters = 0usize;
    for (source, row, cluster, line) in &clusters.members {
        let source_index = truth
            .sources
            .iter()
            .position(|s| s == source)
            .filter(|&i| truth.records.contains_key(&(i, *row)))
            .ok_or(SynthError::UnknownRecord { line: *line })?;
        assigned.insert((source_index, *row), *cluster);
        n_clusters = n_clusters.max(cluster + 1);
    }
    let mut unclustered = 0u64;
    let mut next_cluster = n_clusters;
    let records: Vec<(usize, usize, usize)> = truth
        .records
        .iter()
        .map(|(&(source, row), &person)| {
            let cluster = assigned.get(&(source, row)).copied().unwrap_or_else(|| {
                unclustered += 1;
                next_cluster += 1;
                next_cluster - 1
            });
            (source, person, cluster)
        })
        .collect();

    let mut by_cluster: BTreeMap<usize, u64> = BTreeMap::new();
    let mut by_person: BTreeMap<usize, u64> = BTreeMap::new();
    let mut by_both: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut by_cluster_source: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut by_person_source: BTreeMap<(usize, usize), u64> = BTreeMap::new();
    let mut by_both_source: BTreeMap<(usize, usize, usize), u64> = BTreeMap::new();
    let mut cluster_history: BTreeMap<usize, u32> = BTreeMap::new();
    let mut person_history: BTreeMap<usize, u32> = BTreeMap::new();
    for &(source, person, cluster) in &records {
        *by_cluster.entry(cluster).or_default() += 1;
        *by_person.entry(person).or_default() += 1;
        *by_both.entry((cluster, person)).or_default() += 1;
        *by_cluster_source.entry((cluster, source)).or_default() += 1;
        *by_person_source.entry((person, source)).or_default() += 1;
        *by_both_source.entry((cluster, person, source)).or_default() += 1;
        *cluster_history.entry(cluster).or_default() |= 1 << source;
        *person_history.entry(person).or_default() |= 1 << source;
    }

    let all = PairScores::new(
        sum_pairs(&by_both),
        sum_pairs(&by_cluster),
        sum_pairs(&by_person),
    );
    let within = PairScores::new(
        sum_pairs(&by_both_source),
        sum_pairs(&by_cluster_source),
        sum_pairs(&by_person_source),
    );
    let across = PairScores::new(
        all.true_positives - within.true_positives,
        all.predicted_pairs - within.predicted_pairs,
        all.true_pairs - within.true_pairs,
    );

    let n_records = records.len() as f64;
    let (mut precision_sum, mut recall_sum) = (0.0, 0.0);
    for &(_, person, cluster) in &records {
        let overlap = by_both[&(cluster, person)] as f64;
        precision_sum += overlap / by_cluster[&cluster] as f64;
        recall_sum += overlap / by_person[&person] as f64;
    }
    let bcubed_precision = if records.is_empty() {
        1.0
    } else {
        precision_sum / n_records
    };
    let bcubed_recall = if records.is_empty() {
        1.0
    } else {
        recall_sum / n_records
    };

    let mut histories: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for &bits in cluster_history.values() {
        histories.entry(bits).or_default().0 += 1;
    }
    for &bits in person_history.values() {
        histories.entry(bits).or_default().1 += 1;
    }
    let n_sources = truth.sources.len();
    let histories: Vec<HistoryCount> = histories
        .into_iter()
        .map(|(bits, (linked, truth))| HistoryCount {
            history: (0..n_sources)
                .map(|i| if bits & (1 << i) != 0 { '1' } else { '0' })
                .collect(),
            bits,
            linked,
            truth,
        })
        .collect();
    let total_absolute_difference = histories.iter().map(|h| h.linked.abs_diff(h.truth)).sum();

    Ok(EvalReport {
        sources: truth.sources.clone(),
        records: records.len() as u64,
        unclustered_records: unclustered,
        true_persons: by_person.len() as u64,
        clusters: by_cluster.len() as u64,
        pairwise: all,
        pairwise_within_source: within,
        pairwise_across_source: across,
        bcubed: BCubed {
            precision: bcubed_precision,
            recall: bcubed_recall,
            f1: harmonic_mean(bcubed_precision, bcubed_recall),
        },
        capture: CaptureError {
            histories,
            total_absolute_difference,
            linked_observed: cluster_history.len() as u64,
            true_observed: person_history.len() as u64,
        },
    })
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "records {}  true persons {}  clusters {}",
            self.records, self.true_persons, self.clusters
        )?;
        if self.unclustered_records > 0 {
            writeln!(
                f,
                "{} records of the truth are in no cluster (scored as singletons)",
                self.unclustered_records
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:<22} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10}",
            "pairwise", "precision", "recall", "F1", "true pos", "predicted", "true"
        )?;
        for (name, scores) in [
            ("all pairs", &self.pairwise),
            ("within a source", &self.pairwise_within_source),
            ("across sources", &self.pairwise_across_source),
        ] {
            writeln!(
                f,
                "{:<22} {:>9.4} {:>9.4} {:>9.4} {:>10} {:>10} {:>10}",
                name,
                scores.precision,
                scores.recall,
                scores.f1,
                scores.true_positives,
                scores.predicted_pairs,
                scores.true_pairs
            )?;
        }
        writeln!(
            f,
            "{:<22} {:>9.4} {:>9.4} {:>9.4}",
            "B-cubed", self.bcubed.precision, self.bcubed.recall, self.bcubed.f1
        )?;
        writeln!(f)?;
        writeln!(f, "capture table (lists: {})", self.sources.join(", "))?;
        writeln!(
            f,
            "{:<width$} {:>8} {:>8} {:>8}",
            "history",
            "linked",
            "true",
            "diff",
            width = self.sources.len().max(7)
        )?;
        for row in &self.capture.histories {
            writeln!(
                f,
                "{:<width$} {:>8} {:>8} {:>+8}",
                row.history,
                row.linked,
                row.truth,
                row.linked as i64 - row.truth as i64,
                width = self.sources.len().max(7)
            )?;
        }
        writeln!(
            f,
            "{:<width$} {:>8} {:>8} {:>+8}",
            "total",
            self.capture.linked_observed,
            self.capture.true_observed,
            self.capture.linked_observed as i64 - self.capture.true_observed as i64,
            width = self.sources.len().max(7)
        )?;
        write!(
            f,
            "total absolute difference {}",
            self.capture.total_absolute_difference
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(text: &str) -> Truth {
        Truth::from_csv(text.as_bytes()).unwrap()
    }

    fn clusters(text: &str) -> Clusters {
        Clusters::from_csv(text.as_bytes()).unwrap()
    }

    // Persons: p1 = {a0, b0, b1}, p2 = {a1, c0}, p3 = {c1}.
    const TRUTH: &str = "source,row,person\na,0,p1\nb,0,p1\nb,1,p1\na,1,p2\nc,0,p2\nc,1,p3\n";

    #[test]
    fn perfect_clusters_score_one() {
        let report = evaluate(
            &truth(TRUTH),
            &clusters("cluster,source,row\nx,a,0\nx,b,0\nx,b,1\ny,a,1\ny,c,0\nz,c,1\n"),
        )
        .unwrap();
        assert_eq!(report.pairwise.true_pairs, 4);
        assert_eq!(report.pairwise.f1, 1.0);
        assert_eq!(report.bcubed.f1, 1.0);
        assert_eq!(report.pairwise_within_source.true_pairs, 1);
        assert_eq!(report.pairwise_across_source.true_pairs, 3);
        assert_eq!(report.capture.total_absolute_difference, 0);
        assert_eq!(report.clusters, 3);
        assert_eq!(report.true_persons, 3);
    }

    #[test]
    fn hand_computed_scores_for_an_imperfect_linkage() {
        // Clusters: {a0, b0}, {b1}, {a1, c0, c1}.
        let report = evaluate(
            &truth(TRUTH),
            &clusters("cluster,source,row\n1,a,0\n1,b,0\n2,b,1\n3,a,1\n3,c,0\n3,c,1\n"),
        )
        .unwrap();
        // Predicted pairs: a0-b0, a1-c0, a1-c1, c0-c1 = 4; true among them:
        // a0-b0, a1-c0 = 2. True pairs: 4.
        assert_eq!(report.pairwise.predicted_pairs, 4);
        assert_eq!(report.pairwise.true_positives, 2);
        assert_eq!(report.pairwise.precision, 0.5);
        assert_eq!(report.pairwise.recall, 0.5);
        assert_eq!(report.pairwise.f1, 0.5);
        // Within a source: predicted c0-c1 (false); true b0-b1 (missed).
        assert_eq!(report.pairwise_within_source.predicted_pairs, 1);
        assert_eq!(report.pairwise_within_source.true_positives, 0);
        assert_eq!(report.pairwise_within_source.true_pairs, 1);
        assert_eq!(report.pairwise_within_source.f1, 0.0);
        assert_eq!(report.pairwise_across_source.precision, 2.0 / 3.0);
        assert_eq!(report.pairwise_across_source.recall, 2.0 / 3.0);
        // B-cubed precision: a0 1, b0 1, b1 1, a1 2/3, c0 2/3, c1 1/3 → 5/6... over 6.
        let precision = (1.0 + 1.0 + 1.0 + 2.0 / 3.0 + 2.0 / 3.0 + 1.0 / 3.0) / 6.0;
        // Recall: a0 2/3, b0 2/3, b1 1/3, a1 1, c0 1, c1 1.
        let recall = (2.0 / 3.0 + 2.0 / 3.0 + 1.0 / 3.0 + 1.0 + 1.0 + 1.0) / 6.0;
        assert!((report.bcubed.precision - precision).abs() < 1e-12);
        assert!((report.bcubed.recall - recall).abs() < 1e-12);
        // Linked histories: {a,b}=011, {b}=010, {a,c}=101. True: 011, 101, 100.
        let get = |bits: u32| {
            report
                .capture
                .histories
                .iter()
                .find(|h| h.bits == bits)
                .map(|h| (h.linked, h.truth))
        };
        assert_eq!(get(0b011), Some((1, 1)));
        assert_eq!(get(0b010), Some((1, 0)));
        assert_eq!(get(0b101), Some((1, 1)));
        assert_eq!(get(0b100), Some((0, 1)));
        assert_eq!(report.capture.total_absolute_difference, 2);
        assert_eq!(
            report.capture.histories[0].history.len(),
            report.sources.len()
        );
    }

    #[test]
    fn every_record_alone_has_full_precision_and_no_recall() {
        let report = evaluate(&truth(TRUTH), &clusters("cluster,source,row\n")).unwrap();
        assert_eq!(report.unclustered_records, 6);
        assert_eq!(report.clusters, 6);
        assert_eq!(report.pairwise.precision, 1.0);
        assert_eq!(report.pairwise.recall, 0.0);
        assert_eq!(report.pairwise.f1, 0.0);
        assert_eq!(report.bcubed.precision, 1.0);
    }

    #[test]
    fn one_big_cluster_has_full_recall() {
        let report = evaluate(
            &truth(TRUTH),
            &clusters("cluster,source,row\n0,a,0\n0,b,0\n0,b,1\n0,a,1\n0,c,0\n0,c,1\n"),
        )
        .unwrap();
        assert_eq!(report.pairwise.recall, 1.0);
        assert_eq!(report.pairwise.precision, 4.0 / 15.0);
        assert_eq!(report.bcubed.recall, 1.0);
        assert_eq!(report.capture.linked_observed, 1);
    }

    #[test]
    fn bad_inputs_name_the_line() {
        let err = Truth::from_csv("source,row,person\na,0,p\na,x,p\n".as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3: column `row` is not a non-negative whole number"
        );
        let err = Truth::from_csv("source,row,person\na,0,p\na,0,q\n".as_bytes()).unwrap_err();
        assert!(matches!(
            err,
            SynthError::DuplicateRecord {
                line: 3,
                first_line: 2
            }
        ));
        let err = Truth::from_csv("source,row\na,0\n".as_bytes()).unwrap_err();
        assert!(matches!(err, SynthError::MissingColumn { .. }));
        let err = Truth::from_csv("source,row,person\n".as_bytes()).unwrap_err();
        assert!(matches!(err, SynthError::EmptyTruth));
        let err = Truth::from_csv("source,row,person\na,0\n".as_bytes()).unwrap_err();
        assert!(matches!(err, SynthError::Csv { line: 2, .. }));
        let err = evaluate(
            &truth(TRUTH),
            &clusters("cluster,source,row\n1,a,0\n1,q,0\n"),
        )
        .unwrap_err();
        assert!(matches!(err, SynthError::UnknownRecord { line: 3 }));
        let err = evaluate(&truth(TRUTH), &clusters("cluster,source,row\n1,a,9\n")).unwrap_err();
        assert!(matches!(err, SynthError::UnknownRecord { line: 2 }));
        let err = Clusters::from_csv("cluster,source,row\n1,a,0\n2,a,0\n".as_bytes()).unwrap_err();
        assert!(matches!(err, SynthError::DuplicateRecord { line: 3, .. }));
        let err = Clusters::from_csv("cluster,source,row\n,a,0\n".as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "line 2: column `cluster` is empty");
    }

    #[test]
    fn the_report_serialises_and_prints() {
        let report = evaluate(
            &truth(TRUTH),
            &clusters("cluster,source,row\n1,a,0\n1,b,0\n"),
        )
        .unwrap();
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["pairwise"]["true_pairs"], 4);
        assert_eq!(json["sources"][2], "c");
        let text = report.to_string();
        assert!(text.contains("B-cubed"));
        assert!(text.contains("total absolute difference"));
    }
}
