//! clkhash's tokenisers (`comparators.py`): n-grams, positional n-grams and
//! exact tokens, and the number of bits each token gets.
//!
//! Strings are sliced by Unicode code point, as Python slices a `str`.

use crate::tokens::{write_number, TokenBuf};

/// How a prepared value is cut into tokens (the schema's `comparison`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `{"type": "ngram", "n": n, "positional": p}`.
    Ngram {
        /// The n in n-gram.
        n: usize,
        /// Prefix each n-gram with its 1-based position and a space.
        positional: bool,
    },
    /// `{"type": "exact"}`: the whole value is one token.
    Exact,
}

impl Comparison {
    /// The tokens of `word`, in clkhash's order.
    ///
    /// n-grams of an empty word are empty; for n > 1 the word is padded with
    /// n − 1 spaces on each side; positional n-grams read `"{i} {gram}"` with
    /// i counted from 1. The exact token of an empty word is the empty
    /// string (clkhash hashes it).
    pub fn tokens(&self, word: &str) -> Vec<String> {
        let mut out = TokenBuf::default();
        self.push_tokens(word, &mut out, &mut Vec::new());
        out.to_vec()
    }

    /// [`Comparison::tokens`] appended to `out` (`chars` is scratch), with
    /// no allocation once the buffers have grown.
    pub(crate) fn push_tokens(&self, word: &str, out: &mut TokenBuf, chars: &mut Vec<char>) {
        match *self {
            Comparison::Exact => out.push_written(|bytes| bytes.push_str(word)),
            Comparison::Ngram { n, positional } => {
                if word.is_empty() {
                    return;
                }
                chars.clear();
                let pad = n.saturating_sub(1);
                chars.extend(std::iter::repeat_n(' ', pad));
                chars.extend(word.chars());
                chars.extend(std::iter::repeat_n(' ', pad));
                if chars.len() < n {
                    return;
                }
                for i in 0..=chars.len() - n {
                    out.push_written(|bytes| {
                        if positional {
                            write_number(bytes, (i + 1) as u32);
                            bytes.push(' ');
                        }
                        bytes.extend(&chars[i..i + n]);
                    });
                }
            }
        }
    }
}

/// How many bits each token sets (the schema's `strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `{"bitsPerToken": k}`: every token gets k bits.
    BitsPerToken(u32),
    /// `{"bitsPerFeature": b}`: b bits spread over the tokens; with t tokens
    /// each gets ⌊b / t⌋ and the first b mod t tokens one more.
    BitsPerFeature(u32),
}

impl Strategy {
    /// The number of bits of each of `n_tokens` tokens.
    pub fn bits_per_token(self, n_tokens: usize) -> Vec<u32> {
        (0..n_tokens).map(|i| self.bits_of(i, n_tokens)).collect()
    }

    /// The number of bits of token `index` of `n_tokens`.
    pub fn bits_of(self, index: usize, n_tokens: usize) -> u32 {
        match self {
            Strategy::BitsPerToken(k) => k,
            Strategy::BitsPerFeature(budget) => {
                let budget = budget as usize;
                let k = budget / n_tokens.max(1);
                let residue = budget % n_tokens.max(1);
                (k + usize::from(index < residue)) as u32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ngram(n: usize, positional: bool) -> Comparison {
        Comparison::Ngram { n, positional }
    }

    #[test]
    fn bigrams_are_padded_with_one_space() {
        // The example of clkhash's NgramComparison docstring.
        assert_eq!(
            ngram(2, false).tokens("clkhash"),
            [" c", "cl", "lk", "kh", "ha", "as", "sh", "h "]
        );
    }

    #[test]
    fn positional_bigrams() {
        assert_eq!(
            ngram(2, true).tokens("clkhash"),
            ["1  c", "2 cl", "3 lk", "4 kh", "5 ha", "6 as", "7 sh", "8 h "]
        );
    }

    #[test]
    fn positional_unigrams_are_not_padded() {
        assert_eq!(ngram(1, true).tokens("222"), ["1 2", "2 2", "3 2"]);
        assert_eq!(ngram(1, false).tokens("ab"), ["a", "b"]);
    }

    #[test]
    fn trigrams_have_two_spaces_of_padding() {
        assert_eq!(ngram(3, false).tokens("ab"), ["  a", " ab", "ab ", "b  "]);
    }

    #[test]
    fn ngrams_count_code_points_not_bytes() {
        assert_eq!(ngram(2, false).tokens("şé"), [" ş", "şé", "é "]);
        assert_eq!(ngram(1, true).tokens("ı"), ["1 ı"]);
    }

    #[test]
    fn empty_values() {
        assert!(ngram(2, false).tokens("").is_empty());
        assert!(ngram(1, true).tokens("").is_empty());
        assert_eq!(Comparison::Exact.tokens(""), [""]);
        assert_eq!(Comparison::Exact.tokens("de vries"), ["de vries"]);
    }

    #[test]
    fn zero_grams_are_empty_strings() {
        // Python: word[i:i+0] for i in range(len(word) + 1).
        assert_eq!(ngram(0, false).tokens("ab"), ["", "", ""]);
    }

    #[test]
    fn bits_per_token_and_per_feature() {
        assert_eq!(Strategy::BitsPerToken(30).bits_per_token(3), [30, 30, 30]);
        assert_eq!(
            Strategy::BitsPerFeature(50).bits_per_token(4),
            [13, 13, 12, 12]
        );
        assert_eq!(Strategy::BitsPerFeature(200).bits_per_token(8), [25; 8]);
        assert_eq!(
            Strategy::BitsPerFeature(3).bits_per_token(5),
            [1, 1, 1, 0, 0]
        );
        assert!(Strategy::BitsPerFeature(50).bits_per_token(0).is_empty());
    }
}
