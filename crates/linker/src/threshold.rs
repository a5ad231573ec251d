//! Dice thresholds as exact decimal fractions, and the integer tests derived
//! from them.
//!
//! A threshold `t = numerator / denominator` (the denominator a power of ten)
//! accepts a pair of filters with popcounts `|a|`, `|b|` and `c = |a∧b|` when
//! `2·c·denominator >= numerator·(|a|+|b|)`: no division and no rounding, so a
//! pair whose Dice coefficient equals the threshold exactly (0.8 and 8/10) is
//! always accepted. Two empty filters never match (their Dice is 0).

use std::fmt;
use std::str::FromStr;

use crate::LinkError;

/// Most decimal digits after the point that a threshold may have.
const MAX_DECIMALS: u32 = 18;

/// A Dice threshold in (0, 1], held exactly as a decimal fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Threshold {
    numerator: u64,
    denominator: u64,
}

impl Threshold {
    /// Parse a decimal such as `0.8`, `.95`, `1` or `1.0`.
    ///
    /// # Errors
    /// [`LinkError::Threshold`] unless the text is a plain decimal number in
    /// (0, 1] with at most 18 digits after the point.
    pub fn parse(text: &str) -> Result<Threshold, LinkError> {
        let bad = || LinkError::Threshold {
            text: text.chars().take(40).collect(),
        };
        let trimmed = text.trim();
        let (whole, fraction) = match trimmed.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (trimmed, ""),
        };
        if whole.is_empty() && fraction.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let fraction = fraction.trim_end_matches('0');
        let decimals = u32::try_from(fraction.len()).map_err(|_| bad())?;
        if decimals > MAX_DECIMALS {
            return Err(bad());
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > 1 {
            return Err(bad());
        }
        let denominator = 10u64.pow(decimals);
        let whole_value: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        let fraction_value: u64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| bad())?
        };
        let numerator = whole_value
            .checked_mul(denominator)
            .and_then(|w| w.checked_add(fraction_value))
            .ok_or_else(bad)?;
        if numerator == 0 || numerator > denominator {
            return Err(bad());
        }
        Ok(Threshold::reduced(numerator, denominator))
    }

    /// The threshold written by Rust's shortest round-trip formatting of
    /// `value` (so `0.8_f64` is exactly 8/10).
    ///
    /// # Errors
    /// As [`Threshold::parse`]; NaN and infinities are refused.
    pub fn from_f64(value: f64) -> Result<Threshold, LinkError> {
        if !value.is_finite() {
            return Err(LinkError::Threshold {
                text: value.to_string(),
            });
        }
        Threshold::parse(&value.to_string())
    }

    /// The exact fraction `numerator / denominator`.
    ///
    /// # Errors
    /// [`LinkError::Threshold`] unless `0 < numerator <= denominator`.
    pub fn from_fraction(numerator: u64, denominator: u64) -> Result<Threshold, LinkError> {
        if numerator == 0 || numerator > denominator {
            return Err(LinkError::Threshold {
                text: format!("{numerator}/{denominator}"),
            });
        }
        Ok(Threshold::reduced(numerator, denominator))
    }

    fn reduced(numerator: u64, denominator: u64) -> Threshold {
        let divisor = gcd(numerator, denominator);
        Threshold {
            numerator: numerator / divisor,
            denominator: denominator / divisor,
        }
    }

    /// The numerator of the reduced fraction.
    pub fn numerator(self) -> u64 {
        self.numerator
    }

    /// The denominator of the reduced fraction.
    pub fn denominator(self) -> u64 {
        self.denominator
    }

    /// The threshold as a float (for display only; never for decisions).
    pub fn as_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }

    /// Whether a pair with `common` shared bits and popcounts summing to
    /// `popcount_sum` has a Dice coefficient at or above the threshold.
    #[inline]
    pub fn accepts(self, common: u32, popcount_sum: u32) -> bool {
        popcount_sum > 0
            && 2 * u128::from(common) * u128::from(self.denominator)
                >= u128::from(self.numerator) * u128::from(popcount_sum)
    }

    /// The fewest shared bits that a pair whose popcounts sum to
    /// `popcount_sum` needs to reach the threshold: `ceil(t·sum/2)`, at
    /// least 1.
    pub fn min_intersection(self, popcount_sum: u32) -> u32 {
        let product = u128::from(self.numerator) * u128::from(popcount_sum);
        let divisor = 2 * u128::from(self.denominator);
        let needed = product.div_ceil(divisor).max(1);
        u32::try_from(needed).unwrap_or(u32::MAX)
    }

    /// The largest popcount `q >= p` that a partner of a filter with
    /// popcount `p` may have and still reach the threshold: the largest `q`
    /// with `2·p·den >= num·(p+q)`, i.e. `floor(p·(2·den − num)/num)`.
    pub fn max_partner_popcount(self, popcount: u32) -> u32 {
        let numerator = u128::from(self.numerator);
        let top = u128::from(popcount) * (2 * u128::from(self.denominator) - numerator);
        u32::try_from(top / numerator).unwrap_or(u32::MAX)
    }

    /// The smallest popcount `q <= p` that a partner may have:
    /// `ceil(p·num/(2·den − num))`.
    pub fn min_partner_popcount(self, popcount: u32) -> u32 {
        let numerator = u128::from(self.numerator);
        let bottom = 2 * u128::from(self.denominator) - numerator;
        u32::try_from((u128::from(popcount) * numerator).div_ceil(bottom)).unwrap_or(u32::MAX)
    }

    /// The smaller of two thresholds.
    pub fn min(self, other: Threshold) -> Threshold {
        if self.cmp_value(other).is_le() {
            self
        } else {
            other
        }
    }

    /// Compare the values of two thresholds exactly.
    pub fn cmp_value(self, other: Threshold) -> std::cmp::Ordering {
        (u128::from(self.numerator) * u128::from(other.denominator))
            .cmp(&(u128::from(other.numerator) * u128::from(self.denominator)))
    }
}

impl FromStr for Threshold {
    type Err = LinkError;

    fn from_str(text: &str) -> Result<Threshold, LinkError> {
        Threshold::parse(text)
    }
}

impl fmt::Display for Threshold {
    /// The exact decimal when the denominator is a power of ten, else the
    /// fraction.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut denominator = self.denominator;
        let mut twos = 0u32;
        let mut fives = 0u32;
        while denominator.is_multiple_of(2) {
            denominator /= 2;
            twos += 1;
        }
        while denominator.is_multiple_of(5) {
            denominator /= 5;
            fives += 1;
        }
        if denominator != 1 {
            return write!(f, "{}/{}", self.numerator, self.denominator);
        }
        let decimals = twos.max(fives);
        let scale = 10u128.pow(decimals);
        let scaled = u128::from(self.numerator) * scale / u128::from(self.denominator);
        if decimals == 0 {
            return write!(f, "{scaled}");
        }
        let whole = scaled / scale;
        let fraction = scaled % scale;
        write!(f, "{whole}.{fraction:0width$}", width = decimals as usize)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimals_exactly() {
        let t = Threshold::parse("0.8").unwrap();
        assert_eq!((t.numerator(), t.denominator()), (4, 5));
        assert_eq!(Threshold::parse(".95").unwrap().to_string(), "0.95");
        assert_eq!(Threshold::parse("1").unwrap().to_string(), "1");
        assert_eq!(Threshold::parse("1.000").unwrap().to_string(), "1");
        assert_eq!(Threshold::parse("0.125").unwrap().to_string(), "0.125");
        assert_eq!(
            Threshold::from_f64(0.8).unwrap(),
            Threshold::parse("0.8").unwrap()
        );
        for bad in [
            "0", "0.0", "1.01", "2", "-0.5", "", ".", "abc", "0.5x", "1e-1", "NaN", "00.5.1",
        ] {
            assert!(Threshold::parse(bad).is_err(), "{bad} accepted");
        }
        assert!(Threshold::from_f64(f64::NAN).is_err());
        assert_eq!(Threshold::parse("00.5").unwrap().to_string(), "0.5");
    }

    #[test]
    fn equality_at_the_threshold_is_accepted() {
        let t = Threshold::parse("0.8").unwrap();
        // |a| = |b| = 10, c = 8: Dice = 16/20 = 0.8 exactly.
        assert!(t.accepts(8, 20));
        assert!(!t.accepts(7, 20));
        assert_eq!(t.min_intersection(20), 8);
        assert_eq!(t.min_intersection(21), 9);
        assert!(!t.accepts(0, 0));
        assert!(Threshold::parse("1").unwrap().accepts(5, 10));
        assert!(!Threshold::parse("1").unwrap().accepts(5, 11));
    }

    #[test]
    fn partner_bounds_match_a_scan() {
        for text in ["0.01", "0.3", "0.5", "0.8", "0.8333", "0.95", "0.999", "1"] {
            let t = Threshold::parse(text).unwrap();
            for p in 0..300u32 {
                if p > 0 {
                    // The best case for a partner of popcount q is c = min(p, q).
                    let max = t.max_partner_popcount(p);
                    assert!(
                        max >= p && t.accepts(p, p + max) && !t.accepts(p, p + max + 1),
                        "t={text} p={p}"
                    );
                    let scan_min = (0..=p).find(|&q| t.accepts(q, p + q)).unwrap();
                    assert_eq!(t.min_partner_popcount(p), scan_min, "t={text} p={p}");
                }
                for sum in 1..600 {
                    let m = t.min_intersection(sum);
                    assert!(t.accepts(m, sum) && (m == 1 || !t.accepts(m - 1, sum)));
                }
            }
        }
    }

    #[test]
    fn ordering() {
        let a = Threshold::parse("0.7").unwrap();
        let b = Threshold::parse("0.75").unwrap();
        assert_eq!(a.min(b), a);
        assert_eq!(b.min(a), a);
        assert!(a.cmp_value(b).is_lt());
    }
}
