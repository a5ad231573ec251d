//! The kernel's data layout: one source's records sorted by popcount, and
//! its filters transposed into blocks of eight rows so that one 512-bit
//! register holds the same word of eight targets.
//!
//! Block `b` holds sorted records `8b .. 8b+8`; its word `k` is one
//! 64-byte-aligned [`Block`] whose lane `l` is word `k` of record `8b + l`.
//! A block of a 1024-bit filter is 16 such words (1 KiB). The last block is
//! padded with all-zero rows, which never reach a threshold.

use zicht_format::{Block, FilterMatrix};

/// Rows per block: the lanes of a 512-bit register of `u64`s.
pub(crate) const LANES: usize = 8;

/// Early-exit checkpoints: after `n/2` and `11n/16` of a filter's `n`
/// words, a block whose pairs cannot reach the threshold any more (their
/// partial count plus the fewer remaining set bits of the two is below
/// it) is abandoned.
pub(crate) const CHECKPOINTS: usize = 2;

/// The word indices of the checkpoints for filters of `n_words` words.
pub(crate) fn checkpoints(n_words: usize) -> [usize; CHECKPOINTS] {
    // The late one as early as random half-full filters allow at Dice 0.7
    // (at 11/16 of 1024 bits a block of eight is dropped 997 times in 1000,
    // at 5/8 only 635), and after the middle one.
    let late = (11 * n_words / 16).max(n_words / 2 + 1).min(n_words);
    [n_words / 2, late]
}

/// Popcounts of `row` from each checkpoint to the end.
pub(crate) fn suffix_popcounts(row: &[u64]) -> [u32; CHECKPOINTS] {
    checkpoints(row.len()).map(|start| row[start..].iter().map(|w| w.count_ones()).sum())
}

/// One source's records in popcount order.
pub(crate) struct SortedSource {
    /// Sorted position → row index in the source.
    pub(crate) order: Vec<u32>,
    /// Popcount of each record, in sorted order (non-decreasing).
    pub(crate) popcounts: Vec<u32>,
    /// `count_at_most[p]`: how many records have a popcount of at most `p`
    /// (`p` from 0 to the filter length in bits).
    pub(crate) count_at_most: Vec<u32>,
    /// Record id of the source's row 0 (sources are numbered concatenated).
    pub(crate) id_offset: u32,
}

impl SortedSource {
    /// Sort the rows of `matrix` by popcount, ties by row.
    pub(crate) fn new(matrix: &FilterMatrix, id_offset: u32) -> SortedSource {
        let mut keyed: Vec<(u32, u32)> = (0..matrix.len())
            .map(|index| (matrix.popcount(index), index as u32))
            .collect();
        keyed.sort_unstable();
        let bits = matrix.length().bits() as usize;
        let mut count_at_most = vec![0u32; bits + 1];
        for &(popcount, _) in &keyed {
            count_at_most[popcount as usize] += 1;
        }
        for p in 1..count_at_most.len() {
            count_at_most[p] += count_at_most[p - 1];
        }
        SortedSource {
            order: keyed.iter().map(|k| k.1).collect(),
            popcounts: keyed.iter().map(|k| k.0).collect(),
            count_at_most,
            id_offset,
        }
    }

    /// Number of records.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

/// Some of a source's filters in sorted order (blocks `first_block ..`),
/// transposed into blocks of [`LANES`] rows. Block indices into it are
/// local: local block `b` holds sorted records
/// `8 (first_block + b) .. 8 (first_block + b + 1)`.
pub(crate) struct TargetBlocks {
    /// The first block (of the whole source) held.
    pub(crate) first_block: usize,
    /// Words per filter (not the padded stride).
    pub(crate) n_words: usize,
    /// `n_blocks · n_words` storage words of [`LANES`] lanes each.
    pub(crate) data: Vec<Block>,
    /// Popcount of each block's first row: the smallest in the block.
    pub(crate) block_min: Vec<u32>,
    /// Per block and checkpoint: each lane's popcount from the checkpoint
    /// to the end (`n_blocks · CHECKPOINTS` rows).
    pub(crate) suffix: Vec<Block>,
}

impl TargetBlocks {
    /// Transpose the rows of `matrix` in blocks `blocks` of the order of
    /// `sorted` (blocks past the end are left out).
    pub(crate) fn new(
        matrix: &FilterMatrix,
        sorted: &SortedSource,
        blocks: std::ops::Range<usize>,
    ) -> TargetBlocks {
        let n_words = matrix.length().words();
        let first_block = blocks.start;
        let end_block = blocks
            .end
            .min(sorted.len().div_ceil(LANES))
            .max(first_block);
        let n_blocks = end_block - first_block;
        let mut data = vec![Block::default(); n_blocks * n_words];
        let mut suffix = vec![Block::default(); n_blocks * CHECKPOINTS];
        let positions = first_block * LANES..(end_block * LANES).min(sorted.len());
        for (position, &index) in positions.clone().zip(&sorted.order[positions.clone()]) {
            let (block, lane) = (position / LANES - first_block, position % LANES);
            let row = matrix.row(index as usize);
            for (k, &word) in row.iter().enumerate() {
                data[block * n_words + k].0[lane] = word;
            }
            for (checkpoint, count) in suffix_popcounts(row).into_iter().enumerate() {
                suffix[block * CHECKPOINTS + checkpoint].0[lane] = u64::from(count);
            }
        }
        let block_min = sorted.popcounts[positions]
            .iter()
            .step_by(LANES)
            .copied()
            .collect();
        TargetBlocks {
            first_block,
            n_words,
            data,
            block_min,
            suffix,
        }
    }

    /// Number of blocks.
    pub(crate) fn n_blocks(&self) -> usize {
        self.block_min.len()
    }

    /// Word `k` of the record at local position `position` (for tests).
    #[cfg(test)]
    pub(crate) fn word(&self, position: usize, k: usize) -> u64 {
        self.data[(position / LANES) * self.n_words + k].0[position % LANES]
    }
}

#[cfg(test)]
mod tests {
    use zicht_format::FilterLength;

    use super::*;

    #[test]
    fn transposed_blocks_hold_the_sorted_rows() {
        let length = FilterLength::new(192).unwrap();
        let mut m = FilterMatrix::new(length);
        for i in 0..19u64 {
            // Popcounts 20, 19, ..., 2 so that sorting reverses the rows.
            let bits = (1u64 << (19 - i)) - 1;
            m.push(&[bits, 0, 1 << i]);
        }
        let sorted = SortedSource::new(&m, 5);
        assert_eq!(sorted.order[0], 18);
        assert!(sorted.popcounts.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(sorted.count_at_most[192] as usize, m.len());
        let blocks = TargetBlocks::new(&m, &sorted, 0..usize::MAX);
        assert_eq!(blocks.n_blocks(), 3);
        assert_eq!(blocks.data.len(), 3 * 3);
        for position in 0..m.len() {
            let row = m.row(sorted.order[position] as usize);
            for (k, &word) in row.iter().enumerate() {
                assert_eq!(blocks.word(position, k), word);
            }
        }
        // Padding lanes of the last block are zero.
        for position in m.len()..24 {
            for k in 0..3 {
                assert_eq!(blocks.word(position, k), 0);
            }
        }
        assert_eq!(
            blocks.block_min,
            vec![
                sorted.popcounts[0],
                sorted.popcounts[8],
                sorted.popcounts[16]
            ]
        );
        // Checkpoints of 3 words: 1 and 2; row 18 (first) is [1, 0, 1 << 18].
        assert_eq!(checkpoints(3), [1, 2]);
        assert_eq!(blocks.suffix[0].0[0], 1);
        assert_eq!(blocks.suffix[1].0[0], 1);
        assert_eq!(suffix_popcounts(&[u64::MAX, 3, 7, 0]), [3, 0]);
        assert_eq!(checkpoints(16), [8, 11]);
        assert_eq!(checkpoints(8), [4, 5]);
        assert_eq!(checkpoints(1), [0, 1]);
        // A part: blocks 1 and 2 only.
        let part = TargetBlocks::new(&m, &sorted, 1..3);
        assert_eq!(part.first_block, 1);
        assert_eq!(part.n_blocks(), 2);
        assert_eq!(part.block_min, blocks.block_min[1..]);
        for position in 8..m.len() {
            for k in 0..3 {
                assert_eq!(part.word(position - 8, k), blocks.word(position, k));
            }
        }
        assert_eq!(part.suffix, blocks.suffix[CHECKPOINTS..]);
    }
}
