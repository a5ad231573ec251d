//! What anyone holding the encoded file can measure without the key or any
//! plaintext: shared filters, set-bit counts, per-bit frequencies, bit
//! co-occurrence and nearest-neighbour similarity.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;
use zicht_format::{EncodedFile, FilterMatrix};

use crate::bits::{and_count, even_sample, phi, Columns};
use crate::mining::{mine_patterns, MiningConfig};

/// Filters shared by more than one record.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Duplicates {
    /// Distinct filters in the file.
    pub distinct_filters: usize,
    /// Filters held by two or more records.
    pub shared_filters: usize,
    /// Records whose filter another record also has.
    pub records_sharing: usize,
    /// Records in the largest group of identical filters.
    pub largest_group: usize,
}

/// The distribution of the number of set bits per filter.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Popcounts {
    /// Smallest.
    pub min: u32,
    /// 10th percentile.
    pub p10: u32,
    /// Median.
    pub median: u32,
    /// 90th percentile.
    pub p90: u32,
    /// Largest.
    pub max: u32,
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
    /// Mean fraction of bits set.
    pub mean_fill: f64,
    /// Distinct values.
    pub distinct: usize,
    /// Shannon entropy of the distribution in bits: how much the count
    /// alone tells records apart (0 when every filter has the same count).
    pub entropy_bits: f64,
    /// Probability that two random records have the same count (the share
    /// of records an attacker who knows a target's count must still search).
    pub same_count_probability: f64,
}

/// How often each bit position is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BitFrequencies {
    /// Lowest fraction of records with a bit set.
    pub min: f64,
    /// Highest.
    pub max: f64,
    /// Mean (the mean fill).
    pub mean: f64,
    /// Standard deviation across positions.
    pub sd: f64,
    /// `sd` divided by what independent uniform bits would give
    /// (`sqrt(mean (1 - mean) / records)`): about 1 for even bits.
    pub unevenness: f64,
    /// Positions never set.
    pub never_set: usize,
    /// Positions set in every record.
    pub always_set: usize,
    /// Groups of positions that are set together (one group per frequent
    /// token an attacker can see), found by the pattern miner on the sample.
    pub token_patterns: usize,
    /// Median size of those groups: an estimate of the bits set per token
    /// (`None` when no group is visible).
    pub estimated_bits_per_token: Option<f64>,
}

/// Pairwise correlation (phi) of bit positions on the sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CoOccurrence {
    /// Records in the sample.
    pub sample_records: usize,
    /// Pairs of positions that are not constant on the sample.
    pub pairs: usize,
    /// What chance alone gives: `1 / sqrt(records)`.
    pub noise_level: f64,
    /// Mean of |phi| over the pairs.
    pub mean_abs_phi: f64,
    /// Largest phi.
    pub max_phi: f64,
    /// Pairs with phi above 0.3: positions that move together (one token's).
    pub pairs_above_0_3: usize,
    /// Pairs with phi above five times the noise level.
    pub pairs_above_noise: usize,
    /// Pairs with phi below -0.9 (a bit and its complement, under balancing).
    pub complement_pairs: usize,
}

/// How similar each record is to its most similar other record.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Neighbours {
    /// Records whose nearest neighbour was searched.
    pub probes: usize,
    /// Records searched among (the sample).
    pub searched: usize,
    /// Quantiles of the nearest neighbour's Dice coefficient.
    pub p10: f64,
    /// Median.
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Mean Dice to all other records (the background level).
    pub mean_dice: f64,
    /// Probes whose nearest neighbour has an identical filter.
    pub identical: usize,
    /// Probes whose nearest neighbour has Dice of 0.9 or more.
    pub above_0_9: usize,
}

/// Everything measured without plaintext.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FileStats {
    /// Records in the file.
    pub records: usize,
    /// Filter length in bits.
    pub filter_bits: u32,
    /// Shared filters.
    pub duplicates: Duplicates,
    /// Set-bit counts.
    pub popcounts: Popcounts,
    /// Per-bit frequencies.
    pub bit_frequencies: BitFrequencies,
    /// Bit co-occurrence.
    pub co_occurrence: CoOccurrence,
    /// Nearest-neighbour similarity.
    pub neighbours: Neighbours,
}

/// Sizes of the samples the statistics use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleSizes {
    /// Records for co-occurrence and pattern mining.
    pub sample_records: usize,
    /// Records whose nearest neighbour is searched.
    pub neighbour_probes: usize,
}

impl Default for SampleSizes {
    fn default() -> Self {
        SampleSizes {
            sample_records: 5000,
            neighbour_probes: 1000,
        }
    }
}

/// Measure a file. Deterministic: samples are evenly spaced rows.
pub fn file_stats(file: &EncodedFile, sizes: SampleSizes) -> FileStats {
    let filters = &file.filters;
    let sample = even_sample(filters.len(), sizes.sample_records.max(1));
    let columns = Columns::new(filters, &sample);
    FileStats {
        records: filters.len(),
        filter_bits: filters.length().bits(),
        duplicates: duplicates(filters),
        popcounts: popcounts(filters),
        bit_frequencies: bit_frequencies(filters, &columns),
        co_occurrence: co_occurrence(&columns),
        neighbours: neighbours(filters, &sample, sizes.neighbour_probes.max(1)),
    }
}

fn duplicates(filters: &FilterMatrix) -> Duplicates {
    let mut groups: HashMap<&[u64], usize> = HashMap::new();
    for i in 0..filters.len() {
        *groups.entry(filters.row(i)).or_insert(0) += 1;
    }
    let shared = groups.values().filter(|&&c| c > 1);
    Duplicates {
        distinct_filters: groups.len(),
        shared_filters: shared.clone().count(),
        records_sharing: shared.sum(),
        largest_group: groups.values().copied().max().unwrap_or(0),
    }
}

fn popcounts(filters: &FilterMatrix) -> Popcounts {
    let n = filters.len();
    if n == 0 {
        return Popcounts::default();
    }
    let mut counts: Vec<u32> = (0..n).map(|i| filters.popcount(i)).collect();
    counts.sort_unstable();
    let quantile = |q: f64| counts[((n - 1) as f64 * q).round() as usize];
    let mean = counts.iter().map(|&c| f64::from(c)).sum::<f64>() / n as f64;
    let variance = counts
        .iter()
        .map(|&c| (f64::from(c) - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    let mut histogram: Vec<usize> = Vec::new();
    let mut previous = None;
    for &c in &counts {
        if previous == Some(c) {
            *histogram.last_mut().expect("pushed before") += 1;
        } else {
            histogram.push(1);
            previous = Some(c);
        }
    }
    let (mut entropy, mut same) = (0.0, 0.0);
    for &h in &histogram {
        let p = h as f64 / n as f64;
        entropy -= p * p.log2();
        same += p * p;
    }
    Popcounts {
        min: counts[0],
        p10: quantile(0.1),
        median: quantile(0.5),
        p90: quantile(0.9),
        max: counts[n - 1],
        mean,
        sd: variance.sqrt(),
        mean_fill: mean / f64::from(filters.length().bits()),
        distinct: histogram.len(),
        entropy_bits: entropy.max(0.0),
        same_count_probability: same,
    }
}

fn bit_frequencies(filters: &FilterMatrix, columns: &Columns) -> BitFrequencies {
    let n = filters.len();
    let bits = filters.length().bits() as usize;
    if n == 0 {
        return BitFrequencies::default();
    }
    let mut set = vec![0usize; bits];
    for i in 0..n {
        crate::bits::for_each_set_bit(filters.row(i), |b| set[b] += 1);
    }
    let freqs: Vec<f64> = set.iter().map(|&c| c as f64 / n as f64).collect();
    let mean = freqs.iter().sum::<f64>() / bits as f64;
    let sd = (freqs.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / bits as f64).sqrt();
    let expected = (mean * (1.0 - mean) / n as f64).sqrt();
    let patterns = mine_patterns(columns, &MiningConfig::for_sample(columns.n_records));
    let mut sizes: Vec<usize> = patterns.iter().map(|p| p.positions.len()).collect();
    sizes.sort_unstable();
    let estimated_bits_per_token = match sizes.len() {
        0 => None,
        m if m % 2 == 1 => Some(sizes[m / 2] as f64),
        m => Some((sizes[m / 2 - 1] + sizes[m / 2]) as f64 / 2.0),
    };
    BitFrequencies {
        min: freqs.iter().copied().fold(f64::INFINITY, f64::min),
        max: freqs.iter().copied().fold(0.0, f64::max),
        mean,
        sd,
        unevenness: if expected > 0.0 { sd / expected } else { 0.0 },
        never_set: set.iter().filter(|&&c| c == 0).count(),
        always_set: set.iter().filter(|&&c| c == n).count(),
        token_patterns: patterns.len(),
        estimated_bits_per_token,
    }
}

fn co_occurrence(columns: &Columns) -> CoOccurrence {
    let n = columns.n_records;
    let noise = if n == 0 { 0.0 } else { 1.0 / (n as f64).sqrt() };
    let live: Vec<usize> = (0..columns.n_bits())
        .filter(|&p| columns.support[p] > 0 && columns.support[p] < n)
        .collect();
    #[derive(Default)]
    struct Acc {
        pairs: usize,
        sum_abs: f64,
        max: f64,
        above: usize,
        above_noise: usize,
        complement: usize,
    }
    let per_bit: Vec<Acc> = live
        .par_iter()
        .enumerate()
        .map(|(i, &a)| {
            let mut acc = Acc {
                max: f64::NEG_INFINITY,
                ..Acc::default()
            };
            for &b in &live[i + 1..] {
                let both = and_count(&columns.columns[a], &columns.columns[b]);
                let r = phi(both, columns.support[a], columns.support[b], n);
                acc.pairs += 1;
                acc.sum_abs += r.abs();
                acc.max = acc.max.max(r);
                acc.above += usize::from(r > 0.3);
                acc.above_noise += usize::from(r > 5.0 * noise);
                acc.complement += usize::from(r < -0.9);
            }
            acc
        })
        .collect();
    let mut total = Acc {
        max: f64::NEG_INFINITY,
        ..Acc::default()
    };
    for acc in per_bit {
        total.pairs += acc.pairs;
        total.sum_abs += acc.sum_abs;
        total.max = total.max.max(acc.max);
        total.above += acc.above;
        total.above_noise += acc.above_noise;
        total.complement += acc.complement;
    }
    CoOccurrence {
        sample_records: n,
        pairs: total.pairs,
        noise_level: noise,
        mean_abs_phi: if total.pairs == 0 {
            0.0
        } else {
            total.sum_abs / total.pairs as f64
        },
        max_phi: if total.pairs == 0 { 0.0 } else { total.max },
        pairs_above_0_3: total.above,
        pairs_above_noise: total.above_noise,
        complement_pairs: total.complement,
    }
}

fn neighbours(filters: &FilterMatrix, sample: &[usize], probes: usize) -> Neighbours {
    if sample.len() < 2 {
        return Neighbours::default();
    }
    let probe_rows: Vec<usize> = even_sample(sample.len(), probes)
        .into_iter()
        .map(|i| sample[i])
        .collect();
    let counts: Vec<u32> = sample.iter().map(|&i| filters.popcount(i)).collect();
    let results: Vec<(f64, f64, bool)> = probe_rows
        .par_iter()
        .map(|&probe| {
            let row = filters.row(probe);
            let own = filters.popcount(probe);
            let (mut best, mut sum, mut identical) = (0.0f64, 0.0f64, false);
            for (&other, &other_count) in sample.iter().zip(&counts) {
                if other == probe {
                    continue;
                }
                let other_row = filters.row(other);
                let both = and_count(row, other_row) as f64;
                let total = f64::from(own + other_count);
                let dice = if total == 0.0 {
                    0.0
                } else {
                    2.0 * both / total
                };
                sum += dice;
                if dice > best {
                    best = dice;
                }
                identical |= row == other_row;
            }
            (best, sum / (sample.len() - 1) as f64, identical)
        })
        .collect();
    let mut best: Vec<f64> = results.iter().map(|r| r.0).collect();
    best.sort_by(f64::total_cmp);
    let m = best.len();
    let quantile = |q: f64| best[((m - 1) as f64 * q).round() as usize];
    Neighbours {
        probes: m,
        searched: sample.len(),
        p10: quantile(0.1),
        median: quantile(0.5),
        p90: quantile(0.9),
        mean_dice: results.iter().map(|r| r.1).sum::<f64>() / m as f64,
        identical: results.iter().filter(|r| r.2).count(),
        above_0_9: best.iter().filter(|&&d| d >= 0.9).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zicht_format::FilterLength;

    fn matrix(rows: &[[u64; 2]]) -> FilterMatrix {
        let mut m = FilterMatrix::new(FilterLength::new(128).unwrap());
        for r in rows {
            m.push(r);
        }
        m
    }

    #[test]
    fn duplicates_and_popcounts() {
        let m = matrix(&[[1, 0], [1, 0], [1, 0], [3, 0], [7, 1]]);
        let d = duplicates(&m);
        assert_eq!(
            d,
            Duplicates {
                distinct_filters: 3,
                shared_filters: 1,
                records_sharing: 3,
                largest_group: 3
            }
        );
        let p = popcounts(&m);
        assert_eq!((p.min, p.median, p.max, p.distinct), (1, 1, 4, 3));
        assert!((p.mean - 9.0 / 5.0).abs() < 1e-12);
        // 3/5 have one bit, 1/5 two, 1/5 four.
        assert!((p.same_count_probability - (0.36 + 0.04 + 0.04)).abs() < 1e-12);
        let constant = popcounts(&matrix(&[[1, 0], [2, 0]]));
        assert_eq!(constant.entropy_bits, 0.0);
        assert_eq!(constant.same_count_probability, 1.0);
    }

    #[test]
    fn co_occurrence_sees_linked_and_complement_bits() {
        // Bits 0 and 1 always together, bit 2 their complement, bit 3 random-ish.
        let rows: Vec<[u64; 2]> = (0..64u64)
            .map(|i| {
                let linked = if i % 3 == 0 { 0b11 } else { 0b100 };
                [linked | ((i * 7 % 5 == 0) as u64) << 3, 0]
            })
            .collect();
        let m = matrix(&rows);
        let sample: Vec<usize> = (0..m.len()).collect();
        let c = co_occurrence(&Columns::new(&m, &sample));
        assert_eq!(c.pairs, 6);
        assert!((c.max_phi - 1.0).abs() < 1e-12);
        assert_eq!(c.pairs_above_0_3, 1);
        assert_eq!(c.complement_pairs, 2);
    }

    #[test]
    fn neighbours_find_identical_filters() {
        let m = matrix(&[[0b1111, 0], [0b1111, 0], [0b1_0000_0000, 1]]);
        let n = neighbours(&m, &[0, 1, 2], 10);
        assert_eq!(n.probes, 3);
        assert_eq!(n.identical, 2);
        assert_eq!(n.above_0_9, 2);
        assert_eq!(n.median, 1.0);
        assert_eq!(n.p10, 0.0);
    }
}
