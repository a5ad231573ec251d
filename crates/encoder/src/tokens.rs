//! Tokenisation of normalised values.

use crate::normalize::PartialDate;

/// Padded (or unpadded) q-grams of each word, in order, duplicates kept
/// once. Padding is `q - 1` underscores on each side of each word.
///
/// ```
/// use zicht_encoder::tokens::qgrams;
/// assert_eq!(qgrams("ann", 2, true), vec!["_a", "an", "nn", "n_"]);
/// assert_eq!(qgrams("ann", 2, false), vec!["an", "nn"]);
/// ```
pub fn qgrams(text: &str, q: usize, padding: bool) -> Vec<String> {
    let mut buf = TokenBuf::default();
    buf.push_qgrams(text, q, padding);
    buf.to_vec()
}

/// Tokens of a date chosen so that partial agreement survives common
/// errors: the year, its decade, two overlapping two-year bands (a year off
/// by one shares one of them), the month, the day, and the unordered
/// day-month pair (a swapped day and month keeps it).
///
/// ```
/// use zicht_encoder::normalize::PartialDate;
/// use zicht_encoder::tokens::date_tokens;
/// let d = PartialDate { year: Some(1990), month: Some(3), day: Some(12) };
/// let swapped = PartialDate { year: Some(1990), month: Some(12), day: Some(3) };
/// let shared = date_tokens(&d).iter().filter(|t| date_tokens(&swapped).contains(t)).count();
/// assert!(shared >= 5);
/// ```
pub fn date_tokens(date: &PartialDate) -> Vec<String> {
    let mut buf = TokenBuf::default();
    buf.push_date_tokens(date);
    buf.to_vec()
}

/// Position-tagged characters plus the whole value.
pub fn positional_tokens(text: &str) -> Vec<String> {
    let mut buf = TokenBuf::default();
    buf.push_positional_tokens(text);
    buf.to_vec()
}

/// Append `n` in decimal to `out` (the formatting machinery is slow for
/// this).
pub(crate) fn write_number(out: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// A list of tokens held in one reusable string: token `i` is
/// `bytes[ends[i - 1]..ends[i]]`. Reusing one buffer avoids an allocation
/// per token.
#[derive(Debug, Default)]
pub(crate) struct TokenBuf {
    bytes: String,
    ends: Vec<usize>,
    /// Scratch for the padded characters of one word.
    chars: Vec<char>,
}

impl TokenBuf {
    /// Remove every token (keeping the allocations).
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// The number of tokens.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Token `i`.
    pub(crate) fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// The tokens, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i))
    }

    pub(crate) fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_string).collect()
    }

    fn last_end(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// End the token written since the last one.
    fn finish(&mut self) {
        self.ends.push(self.bytes.len());
    }

    /// End the token written since the last one, unless it equals an
    /// earlier token, in which case it is dropped.
    fn finish_unique(&mut self) {
        let start = self.last_end();
        let token = &self.bytes[start..];
        let mut previous = 0;
        for &end in &self.ends {
            if crate::value_cache::same_bytes(
                &self.bytes.as_bytes()[previous..end],
                token.as_bytes(),
            ) {
                self.bytes.truncate(start);
                return;
            }
            previous = end;
        }
        self.ends.push(self.bytes.len());
    }

    /// Append a token.
    pub(crate) fn push(&mut self, token: &str) {
        self.bytes.push_str(token);
        self.finish();
    }

    /// Append the tokens of [`qgrams`].
    pub(crate) fn push_qgrams(&mut self, text: &str, q: usize, padding: bool) {
        let mut chars = std::mem::take(&mut self.chars);
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            chars.clear();
            if padding {
                chars.extend(std::iter::repeat_n('_', q - 1));
            }
            chars.extend(word.chars());
            if padding {
                chars.extend(std::iter::repeat_n('_', q - 1));
            }
            if chars.len() < q {
                self.bytes.extend(chars.iter());
                self.finish_unique();
                continue;
            }
            for window in chars.windows(q) {
                self.bytes.extend(window.iter());
                self.finish_unique();
            }
        }
        self.chars = chars;
    }

    /// Append `n` in decimal.
    fn push_number(&mut self, n: u32) {
        write_number(&mut self.bytes, n);
    }

    /// Append one token that `write` writes (kept even if it repeats one).
    pub(crate) fn push_written(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.bytes);
        self.finish();
    }

    /// Append `prefix` then `n` as one token.
    fn push_labelled(&mut self, prefix: &str, n: u32) {
        self.bytes.push_str(prefix);
        self.push_number(n);
        self.finish();
    }

    /// Append the tokens of [`date_tokens`].
    pub(crate) fn push_date_tokens(&mut self, date: &PartialDate) {
        if let Some(y) = date.year {
            let y = u32::from(y);
            self.push_labelled("y:", y);
            self.push_labelled("dec:", y / 10);
            self.push_labelled("b2:", y / 2);
            self.push_labelled("b2o:", y.div_ceil(2));
        }
        if let Some(m) = date.month {
            self.push_labelled("m:", u32::from(m));
        }
        if let Some(d) = date.day {
            self.push_labelled("d:", u32::from(d));
        }
        if let (Some(m), Some(d)) = (date.month, date.day) {
            let (lo, hi) = (m.min(d), m.max(d));
            self.bytes.push_str("dm:");
            self.push_number(u32::from(lo));
            self.bytes.push('-');
            self.push_number(u32::from(hi));
            self.finish();
        }
    }

    /// Append the tokens of [`positional_tokens`].
    pub(crate) fn push_positional_tokens(&mut self, text: &str) {
        for (i, c) in text.chars().enumerate() {
            self.push_number(i as u32);
            self.bytes.push(':');
            self.bytes.push(c);
            self.finish();
        }
        self.bytes.push_str("all:");
        self.bytes.push_str(text);
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qgram_words_and_duplicates() {
        assert_eq!(qgrams("anna maria", 2, true).len(), 4 + 7 - 1);
        assert_eq!(qgrams("a", 3, false), vec!["a"]);
        assert_eq!(
            qgrams("abc", 3, true),
            vec!["__a", "_ab", "abc", "bc_", "c__"]
        );
        assert!(qgrams("", 2, true).is_empty());
    }

    #[test]
    fn buffer_dedups_across_words_and_keeps_first_place() {
        assert_eq!(qgrams("ab ba ab", 2, false), vec!["ab", "ba"]);
        assert_eq!(qgrams("a aa", 1, false), vec!["a"]);
        assert_eq!(qgrams("é ée", 2, true), vec!["_é", "é_", "ée", "e_"]);
        assert_eq!(positional_tokens("ab"), vec!["0:a", "1:b", "all:ab"]);
        let mut buf = TokenBuf::default();
        buf.push("x");
        buf.push_qgrams("xy", 1, false);
        buf.push("x");
        assert_eq!(buf.iter().collect::<Vec<_>>(), vec!["x", "y", "x"]);
        buf.clear();
        assert_eq!(buf.len(), 0);
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        let date = PartialDate {
            year: Some(1991),
            month: Some(11),
            day: Some(3),
        };
        assert_eq!(
            date_tokens(&date),
            vec!["y:1991", "dec:199", "b2:995", "b2o:996", "m:11", "d:3", "dm:3-11"]
        );
        let tokens = positional_tokens("abcdefghijk");
        assert_eq!(tokens[0], "0:a");
        assert_eq!(tokens[10], "10:k");
        assert_eq!(tokens[11], "all:abcdefghijk");
        let mut buf = TokenBuf::default();
        buf.push_labelled("n:", 0);
        buf.push_labelled("n:", u32::MAX);
        assert_eq!(buf.to_vec(), vec!["n:0", "n:4294967295"]);
    }

    #[test]
    fn year_off_by_one_keeps_a_band() {
        let a = date_tokens(&PartialDate {
            year: Some(1990),
            month: Some(1),
            day: Some(2),
        });
        let b = date_tokens(&PartialDate {
            year: Some(1991),
            month: Some(1),
            day: Some(2),
        });
        let shared: Vec<_> = a.iter().filter(|t| b.contains(t)).collect();
        assert!(shared.iter().any(|t| t.starts_with("b2")));
        assert!(shared.len() >= 5);
    }
}
