//! Bloom-filter rows: the filter length type and a matrix of 64-byte-aligned
//! `u64` rows.
//!
//! Bit `i` of a filter is bit `i % 64` (least significant first) of word
//! `i / 64`. Each row occupies `stride_words` words, a multiple of 8, so that
//! every row starts on a 64-byte boundary; padding words are zero.

use bytemuck::{Pod, Zeroable};

use crate::FormatError;

/// Smallest supported filter length in bits.
pub const MIN_FILTER_BITS: u32 = 64;
/// Largest supported filter length in bits.
pub const MAX_FILTER_BITS: u32 = 8192;

/// A filter length in bits: a multiple of 64 from 64 to 8192.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilterLength(u32);

impl FilterLength {
    /// The default, 1024 bits.
    pub const DEFAULT: FilterLength = FilterLength(1024);

    /// Check and wrap a length in bits.
    ///
    /// # Errors
    /// [`FormatError::FilterLength`] unless `bits` is a multiple of 64 in
    /// 64..=8192.
    pub fn new(bits: u32) -> Result<FilterLength, FormatError> {
        if !(MIN_FILTER_BITS..=MAX_FILTER_BITS).contains(&bits) || !bits.is_multiple_of(64) {
            return Err(FormatError::FilterLength { bits });
        }
        Ok(FilterLength(bits))
    }

    /// Length in bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Length in `u64` words.
    pub fn words(self) -> usize {
        self.0 as usize / 64
    }

    /// Words per row including the padding to 64 bytes.
    pub fn stride_words(self) -> usize {
        self.words().div_ceil(8) * 8
    }

    /// Length in bytes (without padding).
    pub fn bytes(self) -> usize {
        self.0 as usize / 8
    }
}

impl Default for FilterLength {
    fn default() -> Self {
        FilterLength::DEFAULT
    }
}

/// 64 bytes, aligned to 64 bytes: the unit of filter storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C, align(64))]
pub struct Block(pub [u64; 8]);

/// A matrix of filters of one length, rows aligned to 64 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterMatrix {
    length: FilterLength,
    n_rows: usize,
    blocks: Vec<Block>,
}

impl FilterMatrix {
    /// An empty matrix.
    pub fn new(length: FilterLength) -> FilterMatrix {
        FilterMatrix {
            length,
            n_rows: 0,
            blocks: Vec::new(),
        }
    }

    /// A matrix of `n_rows` all-zero filters.
    pub fn zeroed(length: FilterLength, n_rows: usize) -> FilterMatrix {
        let blocks_per_row = length.stride_words() / 8;
        FilterMatrix {
            length,
            n_rows,
            blocks: vec![Block::default(); n_rows * blocks_per_row],
        }
    }

    /// A matrix with room for `capacity` rows.
    pub fn with_capacity(length: FilterLength, capacity: usize) -> FilterMatrix {
        let blocks_per_row = length.stride_words() / 8;
        FilterMatrix {
            length,
            n_rows: 0,
            blocks: Vec::with_capacity(capacity * blocks_per_row),
        }
    }

    /// The filter length.
    pub fn length(&self) -> FilterLength {
        self.length
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.n_rows
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.n_rows == 0
    }

    /// Words per row, padding included (a multiple of 8).
    pub fn stride_words(&self) -> usize {
        self.length.stride_words()
    }

    /// Append a row given as `length.words()` words (or a full stride).
    ///
    /// Words beyond `length.words()` (a full stride's padding) are not
    /// copied: the stored padding stays zero.
    ///
    /// # Panics
    /// If `words` is shorter than the filter or longer than a stride (a
    /// programming error, not input).
    pub fn push(&mut self, words: &[u64]) {
        let n_words = self.length.words();
        assert!(
            words.len() >= n_words && words.len() <= self.stride_words(),
            "row of {} words for a filter of {} words",
            words.len(),
            n_words
        );
        let blocks_per_row = self.stride_words() / 8;
        let start = self.blocks.len();
        self.blocks.resize(start + blocks_per_row, Block::default());
        let row: &mut [u64] = bytemuck::cast_slice_mut(&mut self.blocks[start..]);
        row[..n_words].copy_from_slice(&words[..n_words]);
        self.n_rows += 1;
    }

    /// Row `index`, `length.words()` words.
    ///
    /// # Panics
    /// If `index >= len()`.
    #[inline]
    pub fn row(&self, index: usize) -> &[u64] {
        let stride = self.stride_words();
        let words: &[u64] = bytemuck::cast_slice(&self.blocks);
        &words[index * stride..index * stride + self.length.words()]
    }

    /// Mutable row `index`, `length.words()` words.
    ///
    /// # Panics
    /// If `index >= len()`.
    #[inline]
    pub fn row_mut(&mut self, index: usize) -> &mut [u64] {
        let stride = self.stride_words();
        let n_words = self.length.words();
        let words: &mut [u64] = bytemuck::cast_slice_mut(&mut self.blocks);
        &mut words[index * stride..index * stride + n_words]
    }

    /// All words, rows at `stride_words()` apart, padding included.
    pub fn as_words(&self) -> &[u64] {
        bytemuck::cast_slice(&self.blocks)
    }

    /// All words, mutable. Padding words must stay zero.
    pub fn as_words_mut(&mut self) -> &mut [u64] {
        bytemuck::cast_slice_mut(&mut self.blocks)
    }

    /// The storage blocks (for writing files).
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Mutable storage blocks (for reading files straight into place).
    pub fn blocks_mut(&mut self) -> &mut [Block] {
        &mut self.blocks
    }

    /// Number of set bits of row `index`.
    #[inline]
    pub fn popcount(&self, index: usize) -> u32 {
        self.row(index).iter().map(|w| w.count_ones()).sum()
    }

    /// Rows in the order given by `order` (a permutation or a selection).
    pub fn select(&self, order: &[usize]) -> FilterMatrix {
        let mut out = FilterMatrix::with_capacity(self.length, order.len());
        for &index in order {
            out.push(self.row(index));
        }
        out
    }

    /// Append every row of `other`.
    ///
    /// # Panics
    /// If the lengths differ.
    pub fn extend_from(&mut self, other: &FilterMatrix) {
        assert_eq!(self.length, other.length, "filter lengths differ");
        self.blocks.extend_from_slice(&other.blocks);
        self.n_rows += other.n_rows;
    }
}

/// Dice coefficient of two rows: 2|a∧b| / (|a|+|b|); 0 when both are empty.
pub fn dice(a: &[u64], b: &[u64]) -> f64 {
    let mut both = 0u32;
    let mut total = 0u32;
    for (x, y) in a.iter().zip(b) {
        both += (x & y).count_ones();
        total += x.count_ones() + y.count_ones();
    }
    if total == 0 {
        0.0
    } else {
        2.0 * f64::from(both) / f64::from(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert!(FilterLength::new(0).is_err());
        assert!(FilterLength::new(100).is_err());
        assert!(FilterLength::new(8256).is_err());
        let l = FilterLength::new(64).unwrap();
        assert_eq!((l.words(), l.stride_words()), (1, 8));
        let l = FilterLength::new(1024).unwrap();
        assert_eq!((l.words(), l.stride_words()), (16, 16));
        let l = FilterLength::new(576).unwrap();
        assert_eq!((l.words(), l.stride_words()), (9, 16));
    }

    #[test]
    fn rows_are_aligned_and_padded() {
        let length = FilterLength::new(576).unwrap();
        let mut m = FilterMatrix::new(length);
        m.push(&[u64::MAX; 9]);
        m.push(&[1; 9]);
        assert_eq!(m.len(), 2);
        assert_eq!(m.row(0).as_ptr() as usize % 64, 0);
        assert_eq!(m.row(1).as_ptr() as usize % 64, 0);
        assert_eq!(m.popcount(0), 576);
        assert_eq!(m.popcount(1), 9);
        assert!(m.as_words()[9..16].iter().all(|&w| w == 0));
    }

    #[test]
    fn dice_basics() {
        assert_eq!(dice(&[0b1111], &[0b1111]), 1.0);
        assert_eq!(dice(&[0b1100], &[0b0011]), 0.0);
        assert_eq!(dice(&[0b1110], &[0b0111]), 2.0 * 2.0 / 6.0);
        assert_eq!(dice(&[0], &[0]), 0.0);
    }
}
