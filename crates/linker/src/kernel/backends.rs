//! The AND-popcount backends: four queries against blocks of eight targets
//! (register-blocked: 32 pairs per inner iteration), each compiled for one
//! instruction set and chosen at run time.
//!
//! Every backend computes the exact `|q ∧ t|` of each pair and reports the
//! pairs whose count reaches a per-block lower bound of the minimum
//! intersection (the bound for the block's smallest popcount; the table is
//! non-decreasing in the popcount sum). The caller then checks each such
//! candidate exactly, so backends may differ only in speed.
//!
//! | backend | popcount | registers |
//! |---|---|---|
//! | `Avx512` | `vpopcntq` (AVX-512 VPOPCNTDQ) | one zmm = one word of 8 targets |
//! | `Avx2` | nibble table with `vpshufb`, bytes summed with `vpsadbw` | two ymm per word |
//! | `Neon` | `cnt` on bytes, widened with `uadalp` | four q registers per word |
//! | `Popcnt` | the scalar `popcnt` instruction | the portable loop |
//! | `Scalar` | portable Rust | |

use std::ops::Range;

use super::blocks::{TargetBlocks, CHECKPOINTS, LANES};
use super::Backend;

/// Queries compared at once against each block.
pub(crate) const GROUP: usize = 4;

/// Up to [`GROUP`] queries, padded by repeating one (the caller ignores the
/// padding's candidates).
pub(crate) struct Group<'a> {
    /// The query filters, each at least `n_words` words.
    pub(crate) rows: [&'a [u64]; GROUP],
    /// Their popcounts.
    pub(crate) popcounts: [u32; GROUP],
    /// Their popcounts from each early-exit checkpoint to the end
    /// ([`super::blocks::suffix_popcounts`]).
    pub(crate) suffix: [[u32; CHECKPOINTS]; GROUP],
    /// Minimum intersection by popcount sum (non-decreasing in the sum).
    pub(crate) keep_min: &'a [u32],
}

/// Whether the half-way early-exit checkpoint pays for itself, learnt per
/// target tile: the first [`EarlyExit::TRIAL`] query tests decide, and the
/// checkpoint is skipped for the rest of the tile when it dropped fewer
/// than one query in eight. On random half-full filters at Dice 0.7 it
/// never drops one (only the late checkpoint, at 11/16, does); on realistic
/// encodings it drops almost all. Skipping a checkpoint never changes the
/// result (both are exact bounds), only the work.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct EarlyExit {
    tested: u32,
    dropped: u32,
}

impl EarlyExit {
    /// Query tests before the decision.
    const TRIAL: u32 = 256;

    /// A schedule that has decided to skip the half-way checkpoint.
    #[cfg(test)]
    pub(crate) const SKIP_MIDDLE: EarlyExit = EarlyExit {
        tested: Self::TRIAL,
        dropped: 0,
    };

    /// Test at the half-way checkpoint?
    #[inline]
    fn use_middle(&self) -> bool {
        self.tested < Self::TRIAL || self.dropped * 8 >= self.tested
    }

    /// Count one group's test at the half-way checkpoint.
    #[inline]
    fn record(&mut self, alive: u32) {
        if self.tested < Self::TRIAL {
            self.tested += GROUP as u32;
            self.dropped += GROUP as u32 - alive.count_ones();
        }
    }
}

/// A pair whose count reached its block's lower bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// Index of the query in its group.
    pub(crate) query: u8,
    /// Sorted position of the target (may be a padding lane).
    pub(crate) target: u32,
    /// `|q ∧ t|`.
    pub(crate) common: u32,
}

/// Compare the group with blocks `blocks` of `targets`, appending the
/// candidates to `out`. `backend` must be resolved (supported by this CPU).
///
/// # Panics
/// If the block range or a query row is out of bounds (a bug in the caller).
pub(crate) fn compare(
    backend: Backend,
    group: &Group<'_>,
    targets: &TargetBlocks,
    blocks: Range<usize>,
    early_exit: &mut EarlyExit,
    out: &mut Vec<Candidate>,
) {
    let n_words = targets.n_words;
    assert!(blocks.end <= targets.n_blocks() && blocks.start <= blocks.end);
    assert!(targets.data.len() >= targets.n_blocks() * n_words);
    assert!(group.rows.iter().all(|row| row.len() >= n_words));
    macro_rules! by_width {
        ($function:ident) => {
            match n_words {
                8 => $function::<8>(group, targets, blocks, out),
                16 => $function::<16>(group, targets, blocks, out),
                32 => $function::<32>(group, targets, blocks, out),
                _ => $function::<0>(group, targets, blocks, out),
            }
        };
    }
    match backend {
        #[cfg(target_arch = "x86_64")]
        Backend::Avx512 => {
            use x86::avx512;
            // SAFETY: `backend` is resolved, so the CPU has AVX-512F and
            // VPOPCNTDQ; the bounds were checked above.
            unsafe {
                match n_words {
                    8 => avx512::<8>(group, targets, blocks, early_exit, out),
                    16 => avx512::<16>(group, targets, blocks, early_exit, out),
                    32 => avx512::<32>(group, targets, blocks, early_exit, out),
                    _ => avx512::<0>(group, targets, blocks, early_exit, out),
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Avx2 => {
            use x86::avx2;
            // SAFETY: as above, for AVX2.
            unsafe { by_width!(avx2) }
        }
        #[cfg(target_arch = "x86_64")]
        Backend::Popcnt => {
            use x86::popcnt;
            // SAFETY: as above, for POPCNT.
            unsafe { by_width!(popcnt) }
        }
        #[cfg(target_arch = "aarch64")]
        Backend::Neon => {
            use arm::neon;
            // SAFETY: as above, for NEON.
            unsafe { by_width!(neon) }
        }
        _ => by_width!(portable),
    }
}

/// Report the lanes of `mask` (bit `l`: lane `l`) of query `query` in block
/// `block` with their counts.
#[inline(never)]
#[cold]
fn push_lanes(
    out: &mut Vec<Candidate>,
    query: usize,
    block: usize,
    mut mask: u32,
    counts: &[u64; LANES],
) {
    while mask != 0 {
        let lane = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        out.push(Candidate {
            query: query as u8,
            target: (block * LANES + lane) as u32,
            common: counts[lane] as u32,
        });
    }
}

/// The lower bound of the minimum intersection of query `query` with any
/// record of block `block`.
#[inline(always)]
fn block_bound(group: &Group<'_>, targets: &TargetBlocks, query: usize, block: usize) -> u64 {
    let sum = group.popcounts[query] + targets.block_min[block];
    u64::from(group.keep_min[sum as usize])
}

/// Portable Rust; also compiled with `popcnt` enabled. One count per pair
/// in a register, the target words read with a stride of a block row.
#[inline(always)]
fn portable<const W: usize>(
    group: &Group<'_>,
    targets: &TargetBlocks,
    blocks: Range<usize>,
    out: &mut Vec<Candidate>,
) {
    let n_words = if W > 0 { W } else { targets.n_words };
    let rows = group.rows.map(|row| &row[..n_words]);
    for block in blocks {
        let words = &targets.data[block * n_words..(block + 1) * n_words];
        for (query, row) in rows.iter().enumerate() {
            let mut counts = [0u64; LANES];
            for (lane, count) in counts.iter_mut().enumerate() {
                *count = words
                    .iter()
                    .zip(row.iter())
                    .map(|(word, &q)| u64::from((word.0[lane] & q).count_ones()))
                    .sum();
            }
            let bound = block_bound(group, targets, query, block);
            let mut mask = 0u32;
            for (lane, &count) in counts.iter().enumerate() {
                mask |= u32::from(count >= bound) << lane;
            }
            if mask != 0 {
                push_lanes(out, query, block, mask, &counts);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::ops::Range;

    use zicht_format::Block;

    use super::{
        block_bound, portable, push_lanes, Candidate, EarlyExit, Group, TargetBlocks, CHECKPOINTS,
        GROUP, LANES,
    };
    use crate::kernel::blocks::checkpoints;

    /// # Safety
    /// The CPU must support `popcnt`.
    #[target_feature(enable = "popcnt")]
    pub(super) unsafe fn popcnt<const W: usize>(
        group: &Group<'_>,
        targets: &TargetBlocks,
        blocks: Range<usize>,
        out: &mut Vec<Candidate>,
    ) {
        portable::<W>(group, targets, blocks, out);
    }

    /// Add the AND-popcounts of words `words` of the block at `block` to
    /// the four queries' counts.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    fn accumulate(
        counts: &mut [__m512i; GROUP],
        block: &[Block],
        rows: &[&[u64]; GROUP],
        words: Range<usize>,
    ) {
        for k in words {
            // SAFETY: `Block` is 64 bytes, 64-byte aligned.
            let target = unsafe { _mm512_load_si512((&block[k] as *const Block).cast()) };
            for (count, row) in counts.iter_mut().zip(rows) {
                let common = _mm512_and_si512(target, _mm512_set1_epi64(row[k] as i64));
                *count = _mm512_add_epi64(*count, _mm512_popcnt_epi64(common));
            }
        }
    }

    /// Add the AND-popcounts of words `words` of the block to one query's
    /// count.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    fn accumulate_one(count: &mut __m512i, block: &[Block], row: &[u64], words: Range<usize>) {
        for k in words {
            // SAFETY: `Block` is 64 bytes, 64-byte aligned.
            let target = unsafe { _mm512_load_si512((&block[k] as *const Block).cast()) };
            let common = _mm512_and_si512(target, _mm512_set1_epi64(row[k] as i64));
            *count = _mm512_add_epi64(*count, _mm512_popcnt_epi64(common));
        }
    }

    /// Which queries (bit `j`: query `j`) may still reach their bound with
    /// some target of the block: partial count plus the fewer of the two
    /// remaining popcounts.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    fn alive_queries(
        counts: &[__m512i; GROUP],
        bounds: &[__m512i; GROUP],
        target_rest: &Block,
        query_rest: [u32; GROUP],
    ) -> u32 {
        // SAFETY: `Block` is 64 bytes, 64-byte aligned.
        let target_rest = unsafe { _mm512_load_si512((target_rest as *const Block).cast()) };
        let mut alive = 0u32;
        for query in 0..GROUP {
            let rest =
                _mm512_min_epu64(target_rest, _mm512_set1_epi64(i64::from(query_rest[query])));
            let reach = _mm512_add_epi64(counts[query], rest);
            alive |= u32::from(_mm512_cmpge_epu64_mask(reach, bounds[query]) != 0) << query;
        }
        alive
    }

    /// Report the lanes of one query's final counts that reach the bound.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    fn report(
        out: &mut Vec<Candidate>,
        query: usize,
        block: usize,
        count: __m512i,
        bound: __m512i,
    ) {
        let mask = _mm512_cmpge_epu64_mask(count, bound);
        if mask != 0 {
            let mut lanes = [0u64; LANES];
            // SAFETY: `lanes` is 64 bytes; unaligned store.
            unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), count) };
            push_lanes(out, query, block, u32::from(mask), &lanes);
        }
    }

    /// # Safety
    /// The CPU must support AVX-512F and AVX-512 VPOPCNTDQ.
    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    pub(super) unsafe fn avx512<const W: usize>(
        group: &Group<'_>,
        targets: &TargetBlocks,
        blocks: Range<usize>,
        early_exit: &mut EarlyExit,
        out: &mut Vec<Candidate>,
    ) {
        let n_words = if W > 0 { W } else { targets.n_words };
        let rows: [&[u64]; GROUP] = [
            &group.rows[0][..n_words],
            &group.rows[1][..n_words],
            &group.rows[2][..n_words],
            &group.rows[3][..n_words],
        ];
        let [middle, late] = checkpoints(n_words);
        let everyone = (1u32 << GROUP) - 1;
        // (Closures would not inherit the target features: plain loops.)
        let mut query_rest = [[0u32; GROUP]; CHECKPOINTS];
        for (query, suffix) in group.suffix.iter().enumerate() {
            for (checkpoint, &count) in suffix.iter().enumerate() {
                query_rest[checkpoint][query] = count;
            }
        }
        for block in blocks {
            let words = &targets.data[block * n_words..(block + 1) * n_words];
            let rest = &targets.suffix[block * CHECKPOINTS..(block + 1) * CHECKPOINTS];
            let mut bounds = [_mm512_setzero_si512(); GROUP];
            for (query, bound) in bounds.iter_mut().enumerate() {
                *bound = _mm512_set1_epi64(block_bound(group, targets, query, block) as i64);
            }
            let mut counts = [_mm512_setzero_si512(); GROUP];
            // Each `accumulate` below has fixed bounds for a fixed width,
            // so that its loop unrolls without bounds checks.
            let (mut alive, done);
            if early_exit.use_middle() {
                accumulate(&mut counts, words, &rows, 0..middle);
                alive = alive_queries(&counts, &bounds, &rest[0], query_rest[0]);
                early_exit.record(alive);
                done = if alive == everyone {
                    accumulate(&mut counts, words, &rows, middle..late);
                    alive = alive_queries(&counts, &bounds, &rest[1], query_rest[1]);
                    late
                } else {
                    middle
                };
            } else {
                accumulate(&mut counts, words, &rows, 0..late);
                alive = alive_queries(&counts, &bounds, &rest[1], query_rest[1]);
                done = late;
            }
            if alive == everyone {
                accumulate(&mut counts, words, &rows, late..n_words);
            } else {
                // Finish only the queries that may still match.
                let mut remaining = alive;
                while remaining != 0 {
                    let query = remaining.trailing_zeros() as usize;
                    remaining &= remaining - 1;
                    accumulate_one(&mut counts[query], words, rows[query], done..n_words);
                }
            }
            let mut remaining = alive;
            while remaining != 0 {
                let query = remaining.trailing_zeros() as usize;
                remaining &= remaining - 1;
                report(out, query, block, counts[query], bounds[query]);
            }
        }
    }

    /// Per-byte popcount of `x` with a nibble table.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn byte_popcounts(x: __m256i, table: __m256i, low_nibbles: __m256i) -> __m256i {
        let low = _mm256_and_si256(x, low_nibbles);
        let high = _mm256_and_si256(_mm256_srli_epi16::<4>(x), low_nibbles);
        _mm256_add_epi8(
            _mm256_shuffle_epi8(table, low),
            _mm256_shuffle_epi8(table, high),
        )
    }

    /// # Safety
    /// The CPU must support AVX2; the blocks and the query rows must be in
    /// bounds (checked by `compare`).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2<const W: usize>(
        group: &Group<'_>,
        targets: &TargetBlocks,
        blocks: Range<usize>,
        out: &mut Vec<Candidate>,
    ) {
        // Byte counters take at most 8 per word: 31 words before a flush.
        const FLUSH: usize = 31;
        let n_words = if W > 0 { W } else { targets.n_words };
        let base = targets.data.as_ptr().cast::<__m256i>();
        let rows = group.rows.map(<[u64]>::as_ptr);
        let table = _mm256_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2,
            3, 3, 4,
        );
        let low_nibbles = _mm256_set1_epi8(0x0f);
        let zero = _mm256_setzero_si256();
        for block in blocks {
            // SAFETY: as in `avx512`; each storage word is two ymm.
            let words = unsafe { base.add(2 * block * n_words) };
            // Two queries at a time: 4 byte counters and 4 sums in registers.
            for first in (0..GROUP).step_by(2) {
                let mut sums = [[zero; 2]; 2];
                let mut start = 0;
                while start < n_words {
                    let end = (start + FLUSH).min(n_words);
                    let mut bytes = [[zero; 2]; 2];
                    for k in start..end {
                        // SAFETY: in bounds and 32-byte aligned.
                        let target = unsafe {
                            [
                                _mm256_load_si256(words.add(2 * k)),
                                _mm256_load_si256(words.add(2 * k + 1)),
                            ]
                        };
                        for (offset, bytes) in bytes.iter_mut().enumerate() {
                            // SAFETY: every row has at least n_words words.
                            let word = unsafe { *rows[first + offset].add(k) };
                            let query = _mm256_set1_epi64x(word as i64);
                            for half in 0..2 {
                                let common = _mm256_and_si256(target[half], query);
                                bytes[half] = _mm256_add_epi8(
                                    bytes[half],
                                    byte_popcounts(common, table, low_nibbles),
                                );
                            }
                        }
                    }
                    for (sums, bytes) in sums.iter_mut().zip(&bytes) {
                        for half in 0..2 {
                            sums[half] =
                                _mm256_add_epi64(sums[half], _mm256_sad_epu8(bytes[half], zero));
                        }
                    }
                    start = end;
                }
                for (offset, sums) in sums.iter().enumerate() {
                    let query = first + offset;
                    let bound = block_bound(group, targets, query, block);
                    // Counts are below 2^31: a signed compare is exact.
                    let below = _mm256_set1_epi64x(bound as i64 - 1);
                    let mask =
                        _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(sums[0], below)))
                            | _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(
                                sums[1], below,
                            ))) << 4;
                    if mask != 0 {
                        let mut lanes = [0u64; LANES];
                        // SAFETY: `lanes` is 64 bytes; unaligned stores.
                        unsafe {
                            _mm256_storeu_si256(lanes.as_mut_ptr().cast(), sums[0]);
                            _mm256_storeu_si256(lanes.as_mut_ptr().add(4).cast(), sums[1]);
                        }
                        push_lanes(out, query, block, mask as u32, &lanes);
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use std::arch::aarch64::*;
    use std::ops::Range;

    use super::{block_bound, push_lanes, Candidate, Group, TargetBlocks, GROUP, LANES};

    /// # Safety
    /// The CPU must support NEON; the blocks and the query rows must be in
    /// bounds (checked by `compare`).
    #[target_feature(enable = "neon")]
    pub(super) unsafe fn neon<const W: usize>(
        group: &Group<'_>,
        targets: &TargetBlocks,
        blocks: Range<usize>,
        out: &mut Vec<Candidate>,
    ) {
        // Byte counters take at most 8 per word: 31 words before a flush.
        const FLUSH: usize = 31;
        let n_words = if W > 0 { W } else { targets.n_words };
        let base = targets.data.as_ptr().cast::<u64>();
        let rows = group.rows.map(<[u64]>::as_ptr);
        for block in blocks {
            // SAFETY: `block < n_blocks`; each storage word is 8 u64.
            let words = unsafe { base.add(block * n_words * LANES) };
            let mut sums = [[vdupq_n_u64(0); LANES / 2]; GROUP];
            let mut start = 0;
            while start < n_words {
                let end = (start + FLUSH).min(n_words);
                let mut bytes = [[vdupq_n_u8(0); LANES / 2]; GROUP];
                for k in start..end {
                    // SAFETY: in bounds, as above.
                    let target = unsafe {
                        let word = words.add(k * LANES);
                        [
                            vld1q_u64(word),
                            vld1q_u64(word.add(2)),
                            vld1q_u64(word.add(4)),
                            vld1q_u64(word.add(6)),
                        ]
                    };
                    for (query, bytes) in bytes.iter_mut().enumerate() {
                        // SAFETY: every row has at least n_words words.
                        let q = vdupq_n_u64(unsafe { *rows[query].add(k) });
                        for pair in 0..LANES / 2 {
                            let common = vreinterpretq_u8_u64(vandq_u64(target[pair], q));
                            bytes[pair] = vaddq_u8(bytes[pair], vcntq_u8(common));
                        }
                    }
                }
                for (sums, bytes) in sums.iter_mut().zip(&bytes) {
                    for pair in 0..LANES / 2 {
                        sums[pair] = vpadalq_u32(sums[pair], vpaddlq_u16(vpaddlq_u8(bytes[pair])));
                    }
                }
                start = end;
            }
            for (query, sums) in sums.iter().enumerate() {
                let mut lanes = [0u64; LANES];
                for pair in 0..LANES / 2 {
                    // SAFETY: `lanes` has room for 2 words at 2·pair.
                    unsafe { vst1q_u64(lanes.as_mut_ptr().add(2 * pair), sums[pair]) };
                }
                let bound = block_bound(group, targets, query, block);
                let mut mask = 0u32;
                for (lane, &count) in lanes.iter().enumerate() {
                    mask |= u32::from(count >= bound) << lane;
                }
                if mask != 0 {
                    push_lanes(out, query, block, mask, &lanes);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use zicht_format::{FilterLength, FilterMatrix};

    use super::*;
    use crate::kernel::blocks::{suffix_popcounts, SortedSource};

    /// Every available backend reports exactly the portable loop's
    /// candidates, and every count is the plain AND-popcount.
    #[test]
    fn backends_agree_with_the_portable_loop() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // Widths: specialised (8, 16, 32 words), generic (1, 3, 9) and one
        // past the byte-counter flush (40 words).
        for words in [1usize, 3, 8, 9, 16, 32, 40] {
            let length = FilterLength::new(64 * words as u32).unwrap();
            let bits = length.bits();
            let density = rng.random_range(0.05..0.95);
            let queries: Vec<Vec<u64>> = (0..GROUP)
                .map(|_| {
                    (0..words)
                        .map(|_| rng.random::<u64>() & rng.random::<u64>())
                        .collect()
                })
                .collect();
            let mut targets = FilterMatrix::new(length);
            for i in 0..37 {
                let row: Vec<u64> = if i % 4 == 0 {
                    // A near copy of a query: reaches the high bounds.
                    let mut row = queries[i % GROUP].clone();
                    for _ in 0..i % 3 {
                        let bit = rng.random_range(0..64 * words);
                        row[bit / 64] ^= 1 << (bit % 64);
                    }
                    row
                } else {
                    (0..words)
                        .map(|_| {
                            (0..64).fold(0u64, |w, b| w | u64::from(rng.random_bool(density)) << b)
                        })
                        .collect()
                };
                targets.push(&row);
            }
            let sorted = SortedSource::new(&targets, 0);
            let blocks = TargetBlocks::new(&targets, &sorted, 0..usize::MAX);
            let popcounts: [u32; GROUP] =
                std::array::from_fn(|j| queries[j].iter().map(|w| w.count_ones()).sum());
            // A bound of 0 reports every lane; Dice 0.5 and 0.9 report some
            // (and let the early exit abandon blocks).
            let everything = vec![0u32; 2 * bits as usize + 1];
            let half: Vec<u32> = (0..=2 * bits).map(|sum| sum / 4).collect();
            let high: Vec<u32> = (0..=2 * bits).map(|sum| (sum * 9).div_ceil(20)).collect();
            for keep_min in [&everything, &half, &high] {
                let group = Group {
                    rows: std::array::from_fn(|j| queries[j].as_slice()),
                    popcounts,
                    suffix: std::array::from_fn(|j| suffix_popcounts(&queries[j])),
                    keep_min,
                };
                for range in [0..blocks.n_blocks(), 1..3, 2..2] {
                    let mut expected = Vec::new();
                    compare(
                        Backend::Scalar,
                        &group,
                        &blocks,
                        range.clone(),
                        &mut EarlyExit::default(),
                        &mut expected,
                    );
                    for candidate in &expected {
                        let position = candidate.target as usize;
                        let common: u32 = (0..words)
                            .map(|k| {
                                (blocks.word(position, k)
                                    & queries[usize::from(candidate.query)][k])
                                    .count_ones()
                            })
                            .sum();
                        assert_eq!(candidate.common, common);
                    }
                    if std::ptr::eq(keep_min, &everything) {
                        assert_eq!(expected.len(), range.len() * LANES * GROUP);
                    }
                    if std::ptr::eq(keep_min, &high) && range.len() == blocks.n_blocks() {
                        // Every near copy is reported.
                        assert!(expected.len() >= 37 / 4, "{words} words");
                    }
                    for backend in Backend::ALL.into_iter().filter(|b| b.is_available()) {
                        // A fresh schedule, and one that skips the
                        // half-way checkpoint.
                        for mut early_exit in [EarlyExit::default(), EarlyExit::SKIP_MIDDLE] {
                            let mut found = Vec::new();
                            compare(
                                backend,
                                &group,
                                &blocks,
                                range.clone(),
                                &mut early_exit,
                                &mut found,
                            );
                            assert_eq!(found, expected, "{backend:?}, {words} words");
                        }
                    }
                }
            }
        }
    }
}
