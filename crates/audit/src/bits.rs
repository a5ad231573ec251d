//! Bit columns: the filters of a sample transposed, so that "which records
//! have bit p set" is one bitset and co-occurrence is an AND and a popcount.

use zicht_format::FilterMatrix;

/// The sampled filters, one bitset over records per bit position.
#[derive(Clone, Debug)]
pub(crate) struct Columns {
    /// Records in the sample.
    pub n_records: usize,
    /// `columns[p]`: which records have bit `p` set.
    pub columns: Vec<Vec<u64>>,
    /// Records with each bit set.
    pub support: Vec<usize>,
}

impl Columns {
    /// Transpose the rows `sample` (indices into `filters`).
    pub fn new(filters: &FilterMatrix, sample: &[usize]) -> Columns {
        let bits = filters.length().bits() as usize;
        let words = sample.len().div_ceil(64).max(1);
        let mut columns = vec![vec![0u64; words]; bits];
        for (record, &index) in sample.iter().enumerate() {
            for_each_set_bit(filters.row(index), |bit| {
                columns[bit][record / 64] |= 1 << (record % 64);
            });
        }
        let support = columns.iter().map(|c| count(c)).collect();
        Columns {
            n_records: sample.len(),
            columns,
            support,
        }
    }

    /// Number of bit positions.
    pub fn n_bits(&self) -> usize {
        self.columns.len()
    }
}

/// Call `f` with the index of every set bit of `words`, in increasing order.
pub(crate) fn for_each_set_bit(words: &[u64], mut f: impl FnMut(usize)) {
    for (w, &word) in words.iter().enumerate() {
        let mut rest = word;
        while rest != 0 {
            let bit = rest.trailing_zeros() as usize;
            f(w * 64 + bit);
            rest &= rest - 1;
        }
    }
}

/// Set bits of a bitset.
pub(crate) fn count(words: &[u64]) -> usize {
    words.iter().map(|w| w.count_ones() as usize).sum()
}

/// Set bits of `a AND b`.
pub(crate) fn and_count(a: &[u64], b: &[u64]) -> usize {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x & y).count_ones() as usize)
        .sum()
}

/// Whether bit `index` of a bitset is set.
pub(crate) fn get(words: &[u64], index: usize) -> bool {
    words[index / 64] >> (index % 64) & 1 == 1
}

/// The phi coefficient (Pearson correlation of two binary variables) from
/// counts: `both` records have both bits, `a` and `b` have each, of `n`.
/// 0 when either bit is constant.
pub(crate) fn phi(both: usize, a: usize, b: usize, n: usize) -> f64 {
    let (both, a, b, n) = (both as f64, a as f64, b as f64, n as f64);
    let denominator = (a * (n - a) * b * (n - b)).sqrt();
    if denominator <= 0.0 {
        0.0
    } else {
        (n * both - a * b) / denominator
    }
}

/// Evenly spaced indices `0..n`, at most `limit` of them, in increasing
/// order (deterministic: the same file gives the same sample).
pub(crate) fn even_sample(n: usize, limit: usize) -> Vec<usize> {
    if n <= limit {
        return (0..n).collect();
    }
    (0..limit).map(|i| i * n / limit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zicht_format::FilterLength;

    #[test]
    fn transpose_and_counts() {
        let mut m = FilterMatrix::new(FilterLength::new(64).unwrap());
        m.push(&[0b101]);
        m.push(&[0b011]);
        m.push(&[0b001]);
        let c = Columns::new(&m, &[0, 1, 2]);
        assert_eq!(c.support[0], 3);
        assert_eq!(c.support[1], 1);
        assert_eq!(c.support[2], 1);
        assert_eq!(c.columns[0][0], 0b111);
        assert_eq!(and_count(&c.columns[0], &c.columns[2]), 1);
        let sub = Columns::new(&m, &[1]);
        assert_eq!(sub.support[..3], [1, 1, 0]);
        let mut bits = Vec::new();
        for_each_set_bit(&[0b1001, 1], |b| bits.push(b));
        assert_eq!(bits, vec![0, 3, 64]);
        assert!(get(&[0b10], 1) && !get(&[0b10], 0));
    }

    #[test]
    fn phi_values() {
        assert!((phi(5, 5, 5, 10) - 1.0).abs() < 1e-12);
        assert!((phi(0, 5, 5, 10) + 1.0).abs() < 1e-12);
        assert_eq!(phi(3, 10, 5, 10), 0.0);
        assert!(phi(25, 50, 50, 100).abs() < 1e-12);
    }

    #[test]
    fn samples_are_even_and_bounded() {
        assert_eq!(even_sample(3, 10), vec![0, 1, 2]);
        assert_eq!(even_sample(10, 5), vec![0, 2, 4, 6, 8]);
        assert_eq!(even_sample(0, 5), Vec::<usize>::new());
    }
}
