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
    let mut out: Vec<String> = Vec::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut chars: Vec<char> = Vec::with_capacity(word.len() + 2 * q);
        if padding {
            chars.extend(std::iter::repeat_n('_', q - 1));
        }
        chars.extend(word.chars());
        if padding {
            chars.extend(std::iter::repeat_n('_', q - 1));
        }
        if chars.len() < q {
            push_unique(&mut out, chars.iter().collect());
            continue;
        }
        for window in chars.windows(q) {
            push_unique(&mut out, window.iter().collect());
        }
    }
    out
}

fn push_unique(out: &mut Vec<String>, token: String) {
    if !out.contains(&token) {
        out.push(token);
    }
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
    let mut out = Vec::with_capacity(8);
    if let Some(y) = date.year {
        out.push(format!("y:{y}"));
        out.push(format!("dec:{}", y / 10));
        out.push(format!("b2:{}", y / 2));
        out.push(format!("b2o:{}", y.div_ceil(2)));
    }
    if let Some(m) = date.month {
        out.push(format!("m:{m}"));
    }
    if let Some(d) = date.day {
        out.push(format!("d:{d}"));
    }
    if let (Some(m), Some(d)) = (date.month, date.day) {
        let (lo, hi) = (m.min(d), m.max(d));
        out.push(format!("dm:{lo}-{hi}"));
    }
    out
}

/// Position-tagged characters plus the whole value.
pub fn positional_tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .chars()
        .enumerate()
        .map(|(i, c)| format!("{i}:{c}"))
        .collect();
    out.push(format!("all:{text}"));
    out
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
