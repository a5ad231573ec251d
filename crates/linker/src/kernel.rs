//! The pair-finding kernel: every pair of records whose Dice coefficient
//! reaches a threshold, found exactly.
//!
//! [`find_pairs`] is the fast path. Each source's records are sorted by
//! popcount (ties by row). A record of popcount `p` can only reach
//! threshold `t` with a partner whose popcount `q` satisfies
//! `2·min(p, q) >= t·(p + q)`, so each query only looks at the contiguous
//! run of the other source's records with
//! `ceil(p·t/(2 − t)) <= q <= floor(p·(2 − t)/t)` (within a source: the
//! later records up to the upper bound). Every (query source, target source)
//! pairing is compared once; same-source pairings only when deduplication
//! is on.
//!
//! The targets are transposed into blocks of eight records
//! (`kernel/blocks.rs`): one 64-byte row of a block holds the same word of eight
//! filters, so one 512-bit register multiplies a query word against eight
//! targets. The backends (`kernel/backends.rs`, chosen at run time by
//! [`Backend`]) compare four queries at once with each block (32 pairs per
//! inner iteration; the query words are broadcast from memory), and report
//! the pairs whose `|a∧b|` reaches a per-block lower bound of the minimum
//! intersection; those few candidates are then checked exactly with
//! integers: `|a∧b|` against a table of minimum intersections indexed by
//! `|a| + |b|`.
//!
//! Targets are cut into tiles of about [`KernelOptions::target_tile_bytes`]
//! (256 KiB: they stay in the L2 cache), the unit of parallel work: a tile
//! is transposed when its turn comes and then compared with every query
//! whose window reaches into it (a run of queries, since windows only grow
//! with the popcount). Memory holds one tile per thread beyond the input,
//! never a transposed copy of a whole source. The tiles' results are
//! concatenated and sorted, so the result does not depend on the thread
//! count.
//!
//! [`find_pairs_reference`] compares every pair with a plain loop; the tests
//! check that every backend gives identical results.

mod backends;
mod blocks;

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use zicht_format::FilterMatrix;

use self::backends::{Candidate, EarlyExit, Group, GROUP};
use self::blocks::{SortedSource, TargetBlocks, LANES};
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
///
/// A backend this CPU lacks is replaced by [`Backend::Scalar`]; see
/// [`Backend::is_available`] and [`Backend::resolve`]. Every backend gives
/// the same results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The best one this CPU supports ([`Backend::detect`]).
    #[default]
    Auto,
    /// Portable Rust, no special instructions.
    Scalar,
    /// The scalar `popcnt` instruction (x86-64).
    Popcnt,
    /// AVX2: per-byte popcounts with a nibble table (`vpshufb`) (x86-64).
    Avx2,
    /// AVX-512 with the `vpopcntq` instruction (AVX512F + VPOPCNTDQ, x86-64).
    Avx512,
    /// NEON `cnt` (aarch64).
    Neon,
}

impl Backend {
    /// Every backend, `Auto` excluded, slowest first.
    pub const ALL: [Backend; 5] = [
        Backend::Scalar,
        Backend::Popcnt,
        Backend::Avx2,
        Backend::Avx512,
        Backend::Neon,
    ];

    /// Whether this CPU can run the backend (`Auto` and `Scalar` always).
    pub fn is_available(self) -> bool {
        match self {
            Backend::Auto | Backend::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Popcnt => std::arch::is_x86_feature_detected!("popcnt"),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            }
            #[cfg(target_arch = "aarch64")]
            Backend::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The fastest backend this CPU supports.
    pub fn detect() -> Backend {
        Backend::ALL
            .into_iter()
            .rev()
            .find(|backend| backend.is_available())
            .unwrap_or(Backend::Scalar)
    }

    /// The backend that runs: `Auto` becomes [`Backend::detect`], an
    /// unavailable one [`Backend::Scalar`].
    pub fn resolve(self) -> Backend {
        match self {
            Backend::Auto => Backend::detect(),
            backend if backend.is_available() => backend,
            _ => Backend::Scalar,
        }
    }

    /// A lower-case name (`avx512`, `avx2`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Auto => "auto",
            Backend::Scalar => "scalar",
            Backend::Popcnt => "popcnt",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
            Backend::Neon => "neon",
        }
    }
}

/// Tuning of the fast path. Results never depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelOptions {
    /// The AND-popcount implementation.
    pub backend: Backend,
    /// Approximate bytes of target filters per tile: the unit of parallel
    /// work, transposed when its turn comes and then compared with every
    /// query that can reach it (so it should stay in the L2 cache).
    pub target_tile_bytes: usize,
}

impl Default for KernelOptions {
    fn default() -> Self {
        KernelOptions {
            backend: Backend::Auto,
            target_tile_bytes: 256 << 10,
        }
    }
}

/// Minimum intersections for every popcount sum; `u32::MAX` for sum 0.
/// Non-decreasing for sums from 1.
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

/// The exact decision tables of a rule, by popcount sum.
struct Tables {
    across_min: Vec<u32>,
    within_min: Option<Vec<u32>>,
    floor_min: Vec<u32>,
    floor: Threshold,
}

/// Queries of one source against the targets of one (maybe the same)
/// source.
struct Pairing<'a> {
    queries: &'a SortedSource,
    query_matrix: &'a FilterMatrix,
    targets: &'a SortedSource,
    /// Both are the same source: each query only meets later targets.
    same_source: bool,
    /// Minimum intersection by popcount sum for the lowest threshold that
    /// applies to this pairing (the candidate test).
    keep_min: Vec<u32>,
    /// By query popcount: the sorted target positions `[lo, hi)` whose
    /// popcount may reach that threshold.
    window_lo: Vec<u32>,
    window_hi: Vec<u32>,
}

impl<'a> Pairing<'a> {
    fn new(
        queries: (&'a SortedSource, &'a FilterMatrix),
        targets: &'a SortedSource,
        same_source: bool,
        search: Threshold,
        bits: u32,
    ) -> Pairing<'a> {
        let count_at_most = &targets.count_at_most;
        let mut window_lo = vec![0u32; bits as usize + 1];
        let mut window_hi = vec![0u32; bits as usize + 1];
        // Popcount 0 keeps the empty window: empty filters never match.
        for p in 1..=bits {
            let lowest = search.min_partner_popcount(p).clamp(1, bits);
            let highest = search.max_partner_popcount(p).min(bits);
            window_lo[p as usize] = count_at_most[lowest as usize - 1];
            window_hi[p as usize] = count_at_most[highest as usize];
        }
        Pairing {
            queries: queries.0,
            query_matrix: queries.1,
            targets,
            same_source,
            keep_min: min_table(search, 2 * bits),
            window_lo,
            window_hi,
        }
    }

    /// The target positions `[lo, hi)` to compare with the query at sorted
    /// position `query` (empty: `lo >= hi`).
    #[inline]
    fn window(&self, query: usize) -> (u32, u32) {
        let p = self.queries.popcounts[query] as usize;
        let hi = self.window_hi[p];
        if self.same_source {
            (query as u32 + 1, hi)
        } else {
            (self.window_lo[p], hi)
        }
    }
}

/// What one target tile found.
struct TileOutput {
    pairs: Vec<Pair>,
    comparisons: u64,
    histogram: Histogram,
}

/// The first index in `0..n` where `pred` holds, for a `pred` that is false
/// then true.
fn first_where(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// Compare the targets of `tile` (transposed, a part of the pairing's
/// target source) with every query whose window reaches into them, in
/// groups of [`GROUP`] queries, adding what is found to `output`.
fn run_target_tile(
    pairing: &Pairing<'_>,
    tables: &Tables,
    tile: &TargetBlocks,
    backend: Backend,
    output: &mut TileOutput,
) {
    let n_queries = pairing.queries.len();
    let start = (tile.first_block * LANES) as u32;
    let end = (((tile.first_block + tile.n_blocks()) * LANES).min(pairing.targets.len())) as u32;
    // Windows only grow with the query's position (popcount order), so the
    // queries reaching the tile are a run.
    let first = first_where(n_queries, |q| pairing.window(q).1 > start);
    let last = if pairing.same_source {
        n_queries.min((end as usize).saturating_sub(1))
    } else {
        first_where(n_queries, |q| pairing.window(q).0 >= end)
    };
    if first >= last {
        return;
    }
    // Each query's window cut to the tile.
    let windows: Vec<(u32, u32)> = (first..last)
        .map(|q| {
            let (lo, hi) = pairing.window(q);
            (lo.max(start), hi.min(end))
        })
        .collect();
    output.comparisons += windows
        .iter()
        .map(|&(lo, hi)| u64::from(hi.saturating_sub(lo)))
        .sum::<u64>();
    let mut candidates = Vec::new();
    let mut early_exit = EarlyExit::default();
    for (group_index, chunk) in windows.chunks(GROUP).enumerate() {
        let (lo, hi) = chunk
            .iter()
            .filter(|(lo, hi)| lo < hi)
            .fold((u32::MAX, 0), |(lo, hi), w| (lo.min(w.0), hi.max(w.1)));
        if lo >= hi {
            continue;
        }
        let group_first = first + group_index * GROUP;
        let position = |offset: usize| group_first + offset.min(chunk.len() - 1);
        let row = |offset: usize| {
            let index = pairing.queries.order[position(offset)] as usize;
            pairing.query_matrix.row(index)
        };
        let rows = [row(0), row(1), row(2), row(3)];
        let group = Group {
            rows,
            popcounts: std::array::from_fn(|j| pairing.queries.popcounts[position(j)]),
            // Cheap next to the group's work over a whole tile.
            suffix: rows.map(blocks::suffix_popcounts),
            keep_min: &pairing.keep_min,
        };
        // Block indices local to the tile.
        let blocks = (lo as usize / LANES - tile.first_block)
            ..((hi as usize).div_ceil(LANES) - tile.first_block);
        backends::compare(
            backend,
            &group,
            tile,
            blocks,
            &mut early_exit,
            &mut candidates,
        );
        for mut candidate in candidates.drain(..) {
            let query = group_first + usize::from(candidate.query);
            if query >= last {
                continue; // padding of the last group
            }
            candidate.target += (tile.first_block * LANES) as u32;
            let (lo, hi) = windows[query - first];
            if candidate.target < lo || candidate.target >= hi {
                continue; // outside the window, or a padding lane
            }
            keep(pairing, tables, query, candidate, output);
        }
    }
}

/// The rare path: a pair reached the candidate bound; decide exactly what
/// it is.
#[inline(never)]
fn keep(
    pairing: &Pairing<'_>,
    tables: &Tables,
    query: usize,
    candidate: Candidate,
    output: &mut TileOutput,
) {
    let target = candidate.target as usize;
    let common = candidate.common;
    let sum = pairing.queries.popcounts[query] + pairing.targets.popcounts[target];
    if common < pairing.keep_min[sum as usize] {
        return;
    }
    let kept = if pairing.same_source {
        tables
            .within_min
            .as_ref()
            .is_some_and(|table| common >= table[sum as usize])
    } else {
        common >= tables.across_min[sum as usize]
    };
    if common >= tables.floor_min[sum as usize] {
        let bin = output.histogram.bin(common, sum);
        if pairing.same_source {
            output.histogram.within[bin] += 1;
        } else {
            output.histogram.across[bin] += 1;
        }
    }
    if kept {
        let a = pairing.queries.id_offset + pairing.queries.order[query];
        let b = pairing.targets.id_offset + pairing.targets.order[target];
        output.pairs.push(Pair {
            first: a.min(b),
            second: a.max(b),
            common,
            popcount_sum: sum,
        });
    }
}

/// Find every pair of records whose Dice coefficient reaches the rule's
/// thresholds, with popcount pruning and cache tiling, in parallel on the
/// current rayon pool.
///
/// `matrices` are the sources' filters, all of one length; records are
/// numbered by concatenating them in order, and the matrix index is the
/// source (at most 256 sources).
///
/// Each source is sorted by popcount. Then, target source by target
/// source and tile by tile (in parallel), the tile's filters are
/// transposed into blocks of eight and every query source up to it (the
/// same source only when `rule.within` is set) is compared with them.
pub fn find_pairs(
    matrices: &[&FilterMatrix],
    rule: &PairRule,
    options: &KernelOptions,
    progress: &dyn Progress,
) -> PairSet {
    let length = matrices
        .first()
        .map_or(zicht_format::FilterLength::DEFAULT, |m| m.length());
    let bits = length.bits();
    let max_sum = 2 * bits;
    let tables = Tables {
        across_min: min_table(rule.across, max_sum),
        within_min: rule.within.map(|t| min_table(t, max_sum)),
        floor_min: min_table(rule.histogram_floor, max_sum),
        floor: rule.histogram_floor,
    };
    let across_search = rule.across.min(rule.histogram_floor);
    let within_search = rule.within.map(|t| t.min(rule.histogram_floor));
    let mut offset = 0u32;
    let sorted: Vec<SortedSource> = matrices
        .iter()
        .map(|matrix| {
            let source = SortedSource::new(matrix, offset);
            offset += matrix.len() as u32;
            source
        })
        .collect();
    let backend = options.backend.resolve();
    // A block holds eight filters: 64 bytes a word.
    let tile_blocks = (options.target_tile_bytes / (length.words() * 64)).max(1);
    // Which query sources meet each target source: the ones before it,
    // and itself when same-source pairs are compared.
    let query_sources = |target: usize| {
        if within_search.is_some() {
            0..target + 1
        } else {
            0..target
        }
    };
    let n_tiles: usize = (0..sorted.len())
        .filter(|&target| !query_sources(target).is_empty())
        .map(|target| sorted[target].len().div_ceil(LANES).div_ceil(tile_blocks))
        .sum();
    progress.start(Phase::Compare, n_tiles as u64);
    let done = AtomicU64::new(0);
    let mut histogram = Histogram::new(rule.histogram_floor);
    let mut comparisons = 0;
    let mut pairs = Vec::new();
    for target in 0..sorted.len() {
        if query_sources(target).is_empty() || sorted[target].len() == 0 {
            continue;
        }
        let pairings: Vec<Pairing<'_>> = query_sources(target)
            .map(|query| {
                let same_source = query == target;
                let search = if same_source {
                    within_search.unwrap_or(across_search)
                } else {
                    across_search
                };
                Pairing::new(
                    (&sorted[query], matrices[query]),
                    &sorted[target],
                    same_source,
                    search,
                    bits,
                )
            })
            .collect();
        let n_blocks = sorted[target].len().div_ceil(LANES);
        // The unit of parallel work: one tile of targets, transposed when
        // its turn comes (memory holds a tile per thread, not a copy of
        // the source), against every query that can reach it.
        let outputs: Vec<TileOutput> = (0..n_blocks.div_ceil(tile_blocks))
            .into_par_iter()
            .map(|tile| {
                let blocks = tile * tile_blocks..((tile + 1) * tile_blocks).min(n_blocks);
                let tile = TargetBlocks::new(matrices[target], &sorted[target], blocks);
                let mut output = TileOutput {
                    pairs: Vec::new(),
                    comparisons: 0,
                    histogram: Histogram::new(tables.floor),
                };
                for pairing in &pairings {
                    run_target_tile(pairing, &tables, &tile, backend, &mut output);
                }
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.advance(Phase::Compare, finished);
                output
            })
            .collect();
        for output in outputs {
            comparisons += output.comparisons;
            histogram.add(&output.histogram);
            pairs.extend(output.pairs);
        }
    }
    progress.finish(Phase::Compare);
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

    /// Every backend this CPU runs, and `Auto`.
    fn available_backends() -> Vec<Backend> {
        let mut backends: Vec<Backend> = Backend::ALL
            .into_iter()
            .filter(|b| b.is_available())
            .collect();
        backends.push(Backend::Auto);
        backends
    }

    fn check_all_backends(matrices: &[FilterMatrix], rule: &PairRule) {
        let refs: Vec<&FilterMatrix> = matrices.iter().collect();
        let expected = find_pairs_reference(&refs, rule);
        for backend in available_backends() {
            for target_tile_bytes in [1, 3000, 64 << 10, 256 << 10] {
                let options = KernelOptions {
                    backend,
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
            for backend in available_backends() {
                let options = KernelOptions { backend, target_tile_bytes: 64 };
                let found = find_pairs(&refs, &rule, &options, &NoProgress);
                proptest::prop_assert_eq!(&found.pairs, &expected.pairs);
                proptest::prop_assert_eq!(&found.histogram, &expected.histogram);
            }
        }
    }
}
