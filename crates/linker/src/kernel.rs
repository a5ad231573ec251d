//! The pair-finding kernel: every pair of records whose Dice coefficient
//! reaches a threshold, found exactly.
//!
//! [`find_pairs`] is the fast path. Records of all sources are sorted by
//! popcount (ties by record id). A record of popcount `p` can only reach
//! threshold `t` with a partner whose popcount `q` satisfies
//! `2·min(p, q) >= t·(p + q)`, so each query only looks at the contiguous run
//! of later records with `p <= q <= floor(p·(2 − t)/t)`. Queries are cut into
//! tiles of [`KernelOptions::query_tile`] records and their targets into
//! tiles of about [`KernelOptions::target_tile_bytes`], so that both stay in
//! cache; rayon spreads the query tiles over threads, and the tiles' results
//! are concatenated in tile order, so the result does not depend on the
//! thread count. Each pair is tested with integers only: `|a∧b|` against a
//! table of minimum intersections indexed by `|a| + |b|`.
//!
//! The AND-popcount is the seam for SIMD: [`Backend`] selects the
//! implementation at run time. Today there are a portable scalar loop and
//! the same loop compiled with the `popcnt` instruction, each specialised
//! for rows of 8, 16 (1024-bit filters) and 32 words.
//!
//! [`find_pairs_reference`] compares every pair with a plain loop; the tests
//! check that both give identical results.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use zicht_format::FilterMatrix;

use crate::progress::{Phase, Progress};
use crate::Threshold;

/// Which thresholds a pair must reach to be kept or counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairRule {
    /// Pairs of records from different sources at or above this are kept.
    pub across: Threshold,
    /// Pairs of records from the same source at or above this are kept;
    /// `None`: same-source pairs are not compared at all.
    pub within: Option<Threshold>,
    /// Pairs at or above this (that are compared at all) are counted in the
    /// score histogram, kept or not.
    pub histogram_floor: Threshold,
}

impl PairRule {
    /// The lowest threshold of the three: what the popcount pruning uses.
    pub fn search_threshold(&self) -> Threshold {
        let lowest = self.across.min(self.histogram_floor);
        match self.within {
            Some(within) => lowest.min(within),
            None => lowest,
        }
    }
}

/// A kept pair of records.
///
/// Records are numbered by concatenating the sources in the order given;
/// `first < second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pair {
    /// The lower record id.
    pub first: u32,
    /// The higher record id.
    pub second: u32,
    /// `|a ∧ b|`.
    pub common: u32,
    /// `|a| + |b|`.
    pub popcount_sum: u32,
}

impl Pair {
    /// The Dice coefficient as a float (for output; decisions use integers).
    pub fn dice(&self) -> f64 {
        if self.popcount_sum == 0 {
            0.0
        } else {
            2.0 * f64::from(self.common) / f64::from(self.popcount_sum)
        }
    }

    /// Compare the Dice coefficients of two pairs exactly.
    pub fn cmp_score(&self, other: &Pair) -> std::cmp::Ordering {
        (u64::from(self.common) * u64::from(other.popcount_sum))
            .cmp(&(u64::from(other.common) * u64::from(self.popcount_sum)))
    }
}

/// A histogram of scores in bins of 0.01 starting at a floor: bin `k`
/// counts the pairs with `floor + k/100 <= score < floor + (k+1)/100`; the
/// last bin ends at 1 and also holds scores of exactly 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    floor: Threshold,
    across: Vec<u64>,
    within: Vec<u64>,
}

impl Histogram {
    fn new(floor: Threshold) -> Histogram {
        let n_bins = Histogram::bin_count(floor);
        Histogram {
            floor,
            across: vec![0; n_bins],
            within: vec![0; n_bins],
        }
    }

    fn bin_count(floor: Threshold) -> usize {
        // ceil(100·(1 − floor)) bins of 0.01, at least one; a score of 1
        // goes into the last.
        let (numerator, denominator) = (
            u128::from(floor.numerator()),
            u128::from(floor.denominator()),
        );
        let bins = (100 * (denominator - numerator)).div_ceil(denominator);
        (bins as usize).max(1)
    }

    /// The bin of a score `2·common/popcount_sum >= floor`.
    fn bin(&self, common: u32, popcount_sum: u32) -> usize {
        let (numerator, denominator) = (
            u128::from(self.floor.numerator()),
            u128::from(self.floor.denominator()),
        );
        let (common, sum) = (u128::from(common), u128::from(popcount_sum));
        let above = 200 * common * denominator - 100 * sum * numerator;
        let k = above / (sum * denominator);
        (k as usize).min(self.across.len() - 1)
    }

    fn add(&mut self, other: &Histogram) {
        for (mine, theirs) in self.across.iter_mut().zip(&other.across) {
            *mine += theirs;
        }
        for (mine, theirs) in self.within.iter_mut().zip(&other.within) {
            *mine += theirs;
        }
    }

    /// The floor.
    pub fn floor(&self) -> Threshold {
        self.floor
    }

    /// Counts of pairs from different sources, per bin.
    pub fn across(&self) -> &[u64] {
        &self.across
    }

    /// Counts of pairs from the same source, per bin.
    pub fn within(&self) -> &[u64] {
        &self.within
    }
}

/// What the kernel found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairSet {
    /// The kept pairs, sorted by `(first, second)`.
    pub pairs: Vec<Pair>,
    /// How many pairs were compared (AND-popcounted).
    pub comparisons: u64,
    /// The histogram of compared scores at or above the floor.
    pub histogram: Histogram,
}

/// The implementation of the AND-popcount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// The best one this CPU supports.
    #[default]
    Auto,
    /// Portable Rust, no special instructions.
    Scalar,
    /// The `popcnt` instruction (x86-64); falls back to `Scalar` elsewhere.
    Popcnt,
}

impl Backend {
    fn resolve(self) -> Backend {
        match self {
            Backend::Auto | Backend::Popcnt if popcnt_available() => Backend::Popcnt,
            _ => Backend::Scalar,
        }
    }
}

fn popcnt_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Tuning of the fast path. Results never depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelOptions {
    /// The AND-popcount implementation.
    pub backend: Backend,
    /// Query records per tile (the unit of parallel work).
    pub query_tile: usize,
    /// Approximate bytes of target filters per tile.
    pub target_tile_bytes: usize,
}

impl Default for KernelOptions {
    fn default() -> Self {
        KernelOptions {
            backend: Backend::Auto,
            query_tile: 64,
            target_tile_bytes: 64 << 10,
        }
    }
}

/// Records sorted by popcount, with what the tiles need.
struct Sorted {
    /// Sorted position → record id.
    ids: Vec<u32>,
    popcounts: Vec<u32>,
    sources: Vec<u8>,
    filters: FilterMatrix,
    /// Per query popcount `p`: one past the last sorted position with a
    /// popcount that can still reach the search threshold.
    partner_end: Vec<u32>,
    keep_min: Vec<u32>,
    across_min: Vec<u32>,
    within_min: Option<Vec<u32>>,
    floor_min: Vec<u32>,
}

/// Minimum intersections for every popcount sum; `u32::MAX` for sum 0.
fn min_table(threshold: Threshold, max_sum: u32) -> Vec<u32> {
    (0..=max_sum)
        .map(|sum| {
            if sum == 0 {
                u32::MAX
            } else {
                threshold.min_intersection(sum)
            }
        })
        .collect()
}

impl Sorted {
    fn new(matrices: &[&FilterMatrix], rule: &PairRule) -> Sorted {
        let mut keyed: Vec<(u32, u32, u8, u32)> = Vec::new();
        let mut id = 0u32;
        for (source, matrix) in matrices.iter().enumerate() {
            for index in 0..matrix.len() {
                keyed.push((matrix.popcount(index), id, source as u8, index as u32));
                id += 1;
            }
        }
        keyed.sort_unstable();
        let length = matrices
            .first()
            .map_or(zicht_format::FilterLength::DEFAULT, |m| m.length());
        let mut filters = FilterMatrix::with_capacity(length, keyed.len());
        for &(_, _, source, index) in &keyed {
            filters.push(matrices[usize::from(source)].row(index as usize));
        }
        let bits = length.bits();
        let popcounts: Vec<u32> = keyed.iter().map(|k| k.0).collect();
        let search = rule.search_threshold();
        // count_at_most[x] = number of records with popcount <= x.
        let mut count_at_most = vec![0u32; bits as usize + 1];
        for &p in &popcounts {
            count_at_most[p as usize] += 1;
        }
        for x in 1..count_at_most.len() {
            count_at_most[x] += count_at_most[x - 1];
        }
        let partner_end = (0..=bits)
            .map(|p| {
                let max_partner = search.max_partner_popcount(p).min(bits);
                count_at_most[max_partner as usize]
            })
            .collect();
        let max_sum = 2 * bits;
        Sorted {
            ids: keyed.iter().map(|k| k.1).collect(),
            sources: keyed.iter().map(|k| k.2).collect(),
            popcounts,
            filters,
            partner_end,
            keep_min: min_table(search, max_sum),
            across_min: min_table(rule.across, max_sum),
            within_min: rule.within.map(|t| min_table(t, max_sum)),
            floor_min: min_table(rule.histogram_floor, max_sum),
        }
    }

    /// One past the last target of the query at sorted position `query`.
    #[inline]
    fn end_of(&self, query: usize) -> usize {
        let p = self.popcounts[query];
        if p == 0 {
            return query + 1;
        }
        (self.partner_end[p as usize] as usize).max(query + 1)
    }
}

/// `|a ∧ b|` of two rows of the same length. With `S > 0` the rows are
/// exactly `S` words (a compile-time length the loop is unrolled for); with
/// `S == 0` any length.
#[inline(always)]
fn and_count<const S: usize>(a: &[u64], b: &[u64]) -> u32 {
    if S > 0 {
        if let (Some(a), Some(b)) = (a.first_chunk::<S>(), b.first_chunk::<S>()) {
            let mut total = 0u32;
            for k in 0..S {
                total += (a[k] & b[k]).count_ones();
            }
            return total;
        }
    }
    a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
}

/// What one query tile found.
struct TileOutput {
    pairs: Vec<Pair>,
    comparisons: u64,
    histogram: Histogram,
}

/// The tile loop, inlined into each backend's entry point so that the
/// AND-popcount is compiled with that backend's instructions. Rows are
/// compared over their whole stride (the padding words are zero); `S` is
/// the stride when it is one of the specialised ones, else 0.
#[inline(always)]
fn tile_body<const S: usize>(
    sorted: &Sorted,
    floor: Threshold,
    queries: std::ops::Range<usize>,
    target_tile: usize,
) -> TileOutput {
    let mut output = TileOutput {
        pairs: Vec::new(),
        comparisons: 0,
        histogram: Histogram::new(floor),
    };
    let stride = sorted.filters.stride_words();
    let words = sorted.filters.as_words();
    let ends: Vec<usize> = queries.clone().map(|q| sorted.end_of(q)).collect();
    let far_end = ends.iter().copied().max().unwrap_or(0);
    let within_enabled = sorted.within_min.is_some();
    let mut tile_start = queries.start + 1;
    while tile_start < far_end {
        let tile_end = (tile_start + target_tile).min(far_end);
        for (query, &end) in queries.clone().zip(&ends) {
            let first = tile_start.max(query + 1);
            let last = tile_end.min(end);
            if first >= last {
                continue;
            }
            let query_row = &words[query * stride..(query + 1) * stride];
            let query_popcount = sorted.popcounts[query];
            let query_source = sorted.sources[query];
            let targets = words[first * stride..last * stride]
                .chunks_exact(stride)
                .zip(&sorted.popcounts[first..last])
                .zip(&sorted.sources[first..last]);
            for (target, ((target_row, &target_popcount), &target_source)) in (first..).zip(targets)
            {
                if !within_enabled && target_source == query_source {
                    continue;
                }
                let common = and_count::<S>(query_row, target_row);
                let sum = query_popcount + target_popcount;
                output.comparisons += 1;
                if common >= sorted.keep_min[sum as usize] {
                    keep(sorted, &mut output, query, target, common, sum);
                }
            }
        }
        tile_start = tile_end;
    }
    output
}

/// The rare path: a pair reached the lowest threshold; decide what it is.
#[inline(never)]
fn keep(
    sorted: &Sorted,
    output: &mut TileOutput,
    query: usize,
    target: usize,
    common: u32,
    sum: u32,
) {
    let same_source = sorted.sources[query] == sorted.sources[target];
    let kept = if same_source {
        sorted
            .within_min
            .as_ref()
            .is_some_and(|table| common >= table[sum as usize])
    } else {
        common >= sorted.across_min[sum as usize]
    };
    if common >= sorted.floor_min[sum as usize] {
        let bin = output.histogram.bin(common, sum);
        if same_source {
            output.histogram.within[bin] += 1;
        } else {
            output.histogram.across[bin] += 1;
        }
    }
    if kept {
        let (a, b) = (sorted.ids[query], sorted.ids[target]);
        output.pairs.push(Pair {
            first: a.min(b),
            second: a.max(b),
            common,
            popcount_sum: sum,
        });
    }
}

fn tile_scalar<const S: usize>(
    sorted: &Sorted,
    floor: Threshold,
    queries: std::ops::Range<usize>,
    target_tile: usize,
) -> TileOutput {
    tile_body::<S>(sorted, floor, queries, target_tile)
}

/// # Safety
/// The CPU must support `popcnt`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn tile_popcnt<const S: usize>(
    sorted: &Sorted,
    floor: Threshold,
    queries: std::ops::Range<usize>,
    target_tile: usize,
) -> TileOutput {
    tile_body::<S>(sorted, floor, queries, target_tile)
}

fn run_tiles<const S: usize>(
    sorted: &Sorted,
    rule: &PairRule,
    options: &KernelOptions,
    progress: &dyn Progress,
) -> Vec<TileOutput> {
    let n_records = sorted.ids.len();
    let query_tile = options.query_tile.max(1);
    let row_bytes = sorted.filters.stride_words() * 8;
    let target_tile = (options.target_tile_bytes / row_bytes).max(16);
    let n_tiles = n_records.div_ceil(query_tile);
    let backend = options.backend.resolve();
    let floor = rule.histogram_floor;
    let done = AtomicU64::new(0);
    progress.start(Phase::Compare, n_tiles as u64);
    let outputs = (0..n_tiles)
        .into_par_iter()
        .map(|tile| {
            let queries = tile * query_tile..((tile + 1) * query_tile).min(n_records);
            let output = match backend {
                #[cfg(target_arch = "x86_64")]
                Backend::Popcnt => {
                    // SAFETY: `Backend::resolve` only returns `Popcnt` when
                    // the CPU was detected to support the instruction.
                    unsafe { tile_popcnt::<S>(sorted, floor, queries, target_tile) }
                }
                _ => tile_scalar::<S>(sorted, floor, queries, target_tile),
            };
            let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress.advance(Phase::Compare, finished);
            output
        })
        .collect();
    progress.finish(Phase::Compare);
    outputs
}

/// Find every pair of records whose Dice coefficient reaches the rule's
/// thresholds, with popcount pruning and cache tiling, in parallel on the
/// current rayon pool.
///
/// `matrices` are the sources' filters, all of one length; records are
/// numbered by concatenating them in order, and the matrix index is the
/// source (at most 256 sources).
pub fn find_pairs(
    matrices: &[&FilterMatrix],
    rule: &PairRule,
    options: &KernelOptions,
    progress: &dyn Progress,
) -> PairSet {
    let sorted = Sorted::new(matrices, rule);
    let outputs = match sorted.filters.stride_words() {
        8 => run_tiles::<8>(&sorted, rule, options, progress),
        16 => run_tiles::<16>(&sorted, rule, options, progress),
        32 => run_tiles::<32>(&sorted, rule, options, progress),
        _ => run_tiles::<0>(&sorted, rule, options, progress),
    };
    let mut histogram = Histogram::new(rule.histogram_floor);
    let mut comparisons = 0;
    let mut pairs = Vec::with_capacity(outputs.iter().map(|o| o.pairs.len()).sum());
    for output in outputs {
        comparisons += output.comparisons;
        histogram.add(&output.histogram);
        pairs.extend(output.pairs);
    }
    pairs.par_sort_unstable();
    PairSet {
        pairs,
        comparisons,
        histogram,
    }
}

/// The reference: every pair compared with a plain scalar loop, no pruning,
/// no tiling, no threads. Gives the same pairs and histogram as
/// [`find_pairs`] (not the same `comparisons`).
pub fn find_pairs_reference(matrices: &[&FilterMatrix], rule: &PairRule) -> PairSet {
    let mut records: Vec<(usize, &[u64])> = Vec::new();
    for (source, matrix) in matrices.iter().enumerate() {
        for index in 0..matrix.len() {
            records.push((source, matrix.row(index)));
        }
    }
    let popcount = |row: &[u64]| -> u32 { row.iter().map(|w| w.count_ones()).sum() };
    let mut histogram = Histogram::new(rule.histogram_floor);
    let mut pairs = Vec::new();
    let mut comparisons = 0;
    for (i, &(source_a, a)) in records.iter().enumerate() {
        for (j, &(source_b, b)) in records.iter().enumerate().skip(i + 1) {
            let same_source = source_a == source_b;
            let threshold = if same_source {
                rule.within
            } else {
                Some(rule.across)
            };
            let Some(threshold) = threshold else { continue };
            comparisons += 1;
            let common: u32 = a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum();
            let sum = popcount(a) + popcount(b);
            if rule.histogram_floor.accepts(common, sum) {
                // The largest k with floor + k/100 <= score, by counting up.
                let floor = rule.histogram_floor;
                let mut k = 0usize;
                while k + 1 < histogram.across.len() {
                    let next = (k + 1) as u128;
                    let (n, d) = (
                        u128::from(floor.numerator()),
                        u128::from(floor.denominator()),
                    );
                    let reaches =
                        200 * u128::from(common) * d >= u128::from(sum) * (100 * n + next * d);
                    if !reaches {
                        break;
                    }
                    k += 1;
                }
                if same_source {
                    histogram.within[k] += 1;
                } else {
                    histogram.across[k] += 1;
                }
            }
            if threshold.accepts(common, sum) {
                pairs.push(Pair {
                    first: i as u32,
                    second: j as u32,
                    common,
                    popcount_sum: sum,
                });
            }
        }
    }
    PairSet {
        pairs,
        comparisons,
        histogram,
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use zicht_format::FilterLength;

    use super::*;
    use crate::progress::NoProgress;

    fn t(text: &str) -> Threshold {
        Threshold::parse(text).unwrap()
    }

    fn rule(across: &str, within: Option<&str>, floor: &str) -> PairRule {
        PairRule {
            across: t(across),
            within: within.map(t),
            histogram_floor: t(floor),
        }
    }

    fn random_matrix(rng: &mut ChaCha8Rng, bits: u32, n: usize, density: f64) -> FilterMatrix {
        let length = FilterLength::new(bits).unwrap();
        let mut m = FilterMatrix::new(length);
        for _ in 0..n {
            let row: Vec<u64> = (0..length.words())
                .map(|_| {
                    (0..64).fold(0u64, |w, bit| {
                        w | (u64::from(rng.random_bool(density)) << bit)
                    })
                })
                .collect();
            m.push(&row);
        }
        m
    }

    /// Perturbations of a few base filters: many near-duplicates across and
    /// within sources.
    fn structured(
        rng: &mut ChaCha8Rng,
        bits: u32,
        n_sources: usize,
        n_per_source: usize,
    ) -> Vec<FilterMatrix> {
        let bases = random_matrix(rng, bits, n_per_source / 2 + 1, 0.3);
        (0..n_sources)
            .map(|_| {
                let mut m = FilterMatrix::new(bases.length());
                for _ in 0..n_per_source {
                    let mut row = bases.row(rng.random_range(0..bases.len())).to_vec();
                    for _ in 0..rng.random_range(0..12) {
                        let bit = rng.random_range(0..bits as usize);
                        row[bit / 64] ^= 1 << (bit % 64);
                    }
                    m.push(&row);
                }
                m
            })
            .collect()
    }

    fn check_all_backends(matrices: &[FilterMatrix], rule: &PairRule) {
        let refs: Vec<&FilterMatrix> = matrices.iter().collect();
        let expected = find_pairs_reference(&refs, rule);
        for backend in [Backend::Scalar, Backend::Popcnt, Backend::Auto] {
            for (query_tile, target_tile_bytes) in [(1, 1), (7, 3000), (64, 64 << 10)] {
                let options = KernelOptions {
                    backend,
                    query_tile,
                    target_tile_bytes,
                };
                let found = find_pairs(&refs, rule, &options, &NoProgress);
                assert_eq!(found.pairs, expected.pairs, "{rule:?} {options:?}");
                assert_eq!(found.histogram, expected.histogram, "{rule:?} {options:?}");
                assert!(found.comparisons <= expected.comparisons);
            }
        }
    }

    #[test]
    fn random_data_matches_the_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for bits in [64, 128, 576, 1024, 2048] {
            let matrices: Vec<FilterMatrix> = (0..3)
                .map(|_| random_matrix(&mut rng, bits, 40, 0.5))
                .collect();
            for (across, within) in [("0.5", Some("0.5")), ("0.52", None), ("0.45", Some("0.6"))] {
                check_all_backends(&matrices, &rule(across, within, "0.4"));
            }
        }
    }

    #[test]
    fn structured_data_matches_the_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for bits in [128, 1024] {
            let matrices = structured(&mut rng, bits, 3, 60);
            for (across, within, floor) in [
                ("0.8", Some("0.8"), "0.8"),
                ("0.9", Some("0.95"), "0.5"),
                ("0.001", None, "0.001"),
                ("1", Some("1"), "1"),
                ("0.99", Some("0.85"), "0.7"),
            ] {
                check_all_backends(&matrices, &rule(across, within, floor));
            }
        }
    }

    #[test]
    fn degenerate_filters_match_the_reference() {
        let length = FilterLength::new(128).unwrap();
        let mut m = FilterMatrix::new(length);
        for _ in 0..5 {
            m.push(&[0, 0]);
            m.push(&[u64::MAX, u64::MAX]);
            m.push(&[0xFF, 0]);
            m.push(&[0xF0, 0]);
            m.push(&[0x0F, 0]);
        }
        let other = m.clone();
        for (across, within, floor) in [
            ("1", Some("1"), "1"),
            ("0.001", Some("0.001"), "0.001"),
            ("0.5", None, "0.3"),
        ] {
            check_all_backends(&[m.clone(), other.clone()], &rule(across, within, floor));
        }
        let refs = [&m];
        let found = find_pairs(
            &refs,
            &rule("1", Some("1"), "1"),
            &KernelOptions::default(),
            &NoProgress,
        );
        // Within one source: the 5 copies of 3 non-empty patterns, C(5,2) each;
        // all-zero filters never match.
        assert_eq!(found.pairs.len(), 4 * 10);
    }

    #[test]
    fn exact_threshold_is_found() {
        let length = FilterLength::new(64).unwrap();
        let mut a = FilterMatrix::new(length);
        a.push(&[0b11111_11111]);
        let mut b = FilterMatrix::new(length);
        // 8 bits shared, 2 others: Dice = 16/20 = 0.8 exactly.
        b.push(&[0b1111_1111_0011]);
        let found = find_pairs(
            &[&a, &b],
            &rule("0.8", None, "0.8"),
            &KernelOptions::default(),
            &NoProgress,
        );
        assert_eq!(found.pairs.len(), 1);
        assert_eq!(found.pairs[0].dice(), 0.8);
        assert_eq!(found.histogram.across()[0], 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Arbitrary small sources of 128-bit filters drawn from a few
        /// patterns (so that equal popcounts and duplicates are common),
        /// arbitrary thresholds: the fast path equals the reference.
        #[test]
        fn fast_path_equals_reference(
            rows in proptest::collection::vec((0u8..3, 0usize..6, proptest::prelude::any::<u64>()), 1..40),
            across in 1u64..=100,
            within in proptest::option::of(1u64..=100),
            floor in 1u64..=100,
        ) {
            let patterns = [0u64, u64::MAX, 0xFFFF_0000, 0x0F0F_0F0F_0F0F_0F0F, 0xFF, 0xFF00_0000_0000_00FF];
            let length = FilterLength::new(128).unwrap();
            let mut matrices = vec![FilterMatrix::new(length); 3];
            for &(source, pattern, noise) in &rows {
                // Half of the rows are exact patterns, half noisy ones.
                let word = if noise % 2 == 0 { patterns[pattern] } else { patterns[pattern] ^ (noise & noise >> 7) };
                matrices[usize::from(source)].push(&[word, patterns[(pattern + 1) % 6]]);
            }
            let rule = PairRule {
                across: Threshold::from_fraction(across, 100).unwrap(),
                within: within.map(|w| Threshold::from_fraction(w, 100).unwrap()),
                histogram_floor: Threshold::from_fraction(floor, 100).unwrap(),
            };
            let refs: Vec<&FilterMatrix> = matrices.iter().collect();
            let expected = find_pairs_reference(&refs, &rule);
            let options = KernelOptions { query_tile: 3, target_tile_bytes: 64, ..KernelOptions::default() };
            let found = find_pairs(&refs, &rule, &options, &NoProgress);
            proptest::prop_assert_eq!(found.pairs, expected.pairs);
            proptest::prop_assert_eq!(found.histogram, expected.histogram);
        }
    }
}
