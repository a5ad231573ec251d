//! A `strptime` for clkhash date features, matching Python's
//! `datetime.strptime` for the directives it supports, and clkhash's output
//! format `%Y%m%d`.
//!
//! Python turns the format into a regular expression (case-insensitive;
//! each run of whitespace matches one or more whitespace characters) whose
//! alternatives are tried in order with backtracking, and the whole value
//! must match. This module does the same with a small backtracking matcher.

use std::fmt;

/// One piece of a parsed date format.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    /// A character matched literally (case-insensitively).
    Literal(char),
    /// A run of whitespace in the format: one or more whitespace characters.
    Whitespace,
    /// A `%` directive.
    Directive(Directive),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Directive {
    Day,
    Month,
    Year4,
    Year2,
    Hour24,
    Hour12,
    Minute,
    Second,
    Microsecond,
    AmPm,
    MonthAbbr,
    MonthName,
    WeekdayAbbr,
    WeekdayName,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A parsed `strptime` format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateFormat {
    source: String,
    items: Vec<Item>,
}

/// A date format that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateFormatError(String);

impl fmt::Display for DateFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DateFormatError {}

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    /// Year, 1..=9999.
    pub year: u32,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of the month.
    pub day: u32,
}

impl Date {
    /// clkhash's `strftime('%Y%m%d')` (glibc does not pad years below 1000).
    pub fn to_clkhash_string(self) -> String {
        format!("{}{:02}{:02}", self.year, self.month, self.day)
    }
}

fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// Fields found while matching.
#[derive(Clone, Copy, Debug, Default)]
struct Found {
    year: Option<u32>,
    month: Option<u32>,
    day: Option<u32>,
    second: Option<u32>,
}

impl DateFormat {
    /// Parse a `strptime` format.
    ///
    /// # Errors
    /// A directive that is not supported, a directive used twice, or a
    /// stray `%` at the end.
    pub fn parse(format: &str) -> Result<DateFormat, DateFormatError> {
        let mut items = Vec::new();
        let mut seen: Vec<char> = Vec::new();
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c == '%' {
                let Some(d) = chars.next() else {
                    return Err(DateFormatError(format!(
                        "stray % at the end of the date format '{format}'"
                    )));
                };
                let directive = match d {
                    '%' => {
                        items.push(Item::Literal('%'));
                        continue;
                    }
                    'd' => Directive::Day,
                    'm' => Directive::Month,
                    'Y' => Directive::Year4,
                    'y' => Directive::Year2,
                    'H' => Directive::Hour24,
                    'I' => Directive::Hour12,
                    'M' => Directive::Minute,
                    'S' => Directive::Second,
                    'f' => Directive::Microsecond,
                    'p' => Directive::AmPm,
                    'b' => Directive::MonthAbbr,
                    'B' => Directive::MonthName,
                    'a' => Directive::WeekdayAbbr,
                    'A' => Directive::WeekdayName,
                    other => {
                        return Err(DateFormatError(format!(
                            "the date format '{format}' uses %{other}, which zicht does not \
                             support (supported: %d %m %Y %y %H %I %M %S %f %p %b %B %a %A %%)"
                        )))
                    }
                };
                if seen.contains(&d) {
                    return Err(DateFormatError(format!(
                        "the date format '{format}' uses %{d} twice"
                    )));
                }
                seen.push(d);
                items.push(Item::Directive(directive));
            } else if is_python_whitespace(c) {
                if items.last() != Some(&Item::Whitespace) {
                    items.push(Item::Whitespace);
                }
            } else {
                items.push(Item::Literal(c));
            }
        }
        Ok(DateFormat {
            source: format.to_string(),
            items,
        })
    }

    /// The format as written in the schema.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Parse `value` as Python's `datetime.strptime(value, format)` would.
    /// `None` when it does not match or is not a valid date.
    pub fn parse_date(&self, value: &str) -> Option<Date> {
        let input: Vec<char> = value.chars().collect();
        let mut result = None;
        // The first match of the pattern decides, as in Python's `re.match`:
        // a match that leaves characters over ("unconverted data remains")
        // or is not a valid date is an error, not a reason to backtrack.
        match_items(
            &self.items,
            &input,
            0,
            Found::default(),
            &mut |found, end| {
                result = if end == input.len() {
                    complete(found)
                } else {
                    None
                };
                true
            },
        );
        result
    }
}

/// Turn found fields into a date, with Python's defaults (1900-01-01).
fn complete(found: Found) -> Option<Date> {
    let year = found.year.unwrap_or(1900);
    let month = found.month.unwrap_or(1);
    let day = found.day.unwrap_or(1);
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if found.second.is_some_and(|s| s > 59) {
        return None;
    }
    Some(Date { year, month, day })
}

fn digit(c: Option<&char>) -> Option<u32> {
    c.and_then(|c| c.to_digit(10))
        .filter(|_| c.is_some_and(char::is_ascii_digit))
}

/// Candidate matches of a numeric directive at `pos`, in the order of
/// Python's regular expression alternatives: (characters consumed, value).
fn numeric_candidates(directive: Directive, input: &[char], pos: usize) -> Vec<(usize, u32)> {
    let d0 = digit(input.get(pos));
    let d1 = digit(input.get(pos + 1));
    let mut out = Vec::new();
    let fixed = |width: usize| -> Option<(usize, u32)> {
        let mut value = 0;
        for i in 0..width {
            value = value * 10 + digit(input.get(pos + i))?;
        }
        Some((width, value))
    };
    // (two-digit range, one-digit range)
    let (two, one): ((u32, u32), (u32, u32)) = match directive {
        Directive::Day => ((1, 31), (1, 9)),
        Directive::Month | Directive::Hour12 => ((1, 12), (1, 9)),
        Directive::Hour24 => ((0, 23), (0, 9)),
        Directive::Minute => ((0, 59), (0, 9)),
        Directive::Second => ((0, 61), (0, 9)),
        Directive::Year4 => return fixed(4).into_iter().collect(),
        Directive::Year2 => {
            return fixed(2)
                .map(|(n, y)| (n, if y < 69 { 2000 + y } else { 1900 + y }))
                .into_iter()
                .collect()
        }
        Directive::Microsecond => {
            return (1..=6).rev().filter_map(fixed).collect();
        }
        _ => return out,
    };
    if let (Some(a), Some(b)) = (d0, d1) {
        let v = a * 10 + b;
        if (two.0..=two.1).contains(&v) {
            out.push((2, v));
        }
    }
    if let Some(a) = d0 {
        if (one.0..=one.1).contains(&a) {
            out.push((1, a));
        }
    }
    if directive == Directive::Day && input.get(pos) == Some(&' ') {
        if let Some(b) = d1.filter(|&b| b >= 1) {
            out.push((2, b));
        }
    }
    out
}

/// Case-insensitive match of `word` at `pos`; the number of characters.
fn match_word(input: &[char], pos: usize, word: &str) -> Option<usize> {
    let mut i = pos;
    for w in word.chars() {
        let c = *input.get(i)?;
        if !c.to_lowercase().eq(w.to_lowercase()) {
            return None;
        }
        i += 1;
    }
    Some(i - pos)
}

/// Name candidates (longest first, as Python sorts its alternatives):
/// (characters consumed, index).
fn name_candidates(
    names: &[&str],
    abbreviated: bool,
    input: &[char],
    pos: usize,
) -> Vec<(usize, u32)> {
    let mut out: Vec<(usize, u32)> = names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let word: String = if abbreviated {
                name.chars().take(3).collect()
            } else {
                name.to_string()
            };
            match_word(input, pos, &word).map(|n| (n, i as u32))
        })
        .collect();
    out.sort_by_key(|candidate| std::cmp::Reverse(candidate.0));
    out
}

fn chars_eq_ignore_case(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

/// Match `items` against a prefix of `input[pos..]`; call `accept` with
/// the fields and the end of each match until it returns true. Returns
/// whether one was accepted.
fn match_items(
    items: &[Item],
    input: &[char],
    pos: usize,
    found: Found,
    accept: &mut dyn FnMut(Found, usize) -> bool,
) -> bool {
    let Some((item, rest)) = items.split_first() else {
        return accept(found, pos);
    };
    match item {
        Item::Literal(c) => match input.get(pos) {
            Some(&i) if chars_eq_ignore_case(i, *c) => {
                match_items(rest, input, pos + 1, found, accept)
            }
            _ => false,
        },
        Item::Whitespace => {
            // \s+ is greedy: try the longest run first.
            let mut end = pos;
            while input.get(end).is_some_and(|&c| is_python_whitespace(c)) {
                end += 1;
            }
            (pos + 1..=end)
                .rev()
                .any(|e| match_items(rest, input, e, found, accept))
        }
        Item::Directive(directive) => {
            let candidates = match directive {
                Directive::MonthAbbr => name_candidates(&MONTHS, true, input, pos),
                Directive::MonthName => name_candidates(&MONTHS, false, input, pos),
                Directive::WeekdayAbbr => name_candidates(&WEEKDAYS, true, input, pos),
                Directive::WeekdayName => name_candidates(&WEEKDAYS, false, input, pos),
                Directive::AmPm => ["am", "pm"]
                    .iter()
                    .enumerate()
                    .filter_map(|(i, w)| match_word(input, pos, w).map(|n| (n, i as u32)))
                    .collect(),
                _ => numeric_candidates(*directive, input, pos),
            };
            candidates.into_iter().any(|(consumed, value)| {
                let mut next = found;
                match directive {
                    Directive::Day => next.day = Some(value),
                    Directive::Month => next.month = Some(value),
                    Directive::MonthAbbr | Directive::MonthName => next.month = Some(value + 1),
                    Directive::Year4 | Directive::Year2 => next.year = Some(value),
                    Directive::Second => next.second = Some(value),
                    _ => {}
                }
                match_items(rest, input, pos + consumed, next, accept)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: &str, value: &str) -> Option<String> {
        DateFormat::parse(format)
            .unwrap()
            .parse_date(value)
            .map(Date::to_clkhash_string)
    }

    #[test]
    fn slashed_dates() {
        assert_eq!(parse("%Y/%m/%d", "1953/02/27").as_deref(), Some("19530227"));
        assert_eq!(parse("%Y/%m/%d", "1953/2/7").as_deref(), Some("19530207"));
        assert_eq!(parse("%Y-%m-%d", "2000-02-29").as_deref(), Some("20000229"));
    }

    #[test]
    fn invalid_dates_are_refused() {
        assert_eq!(parse("%Y/%m/%d", "1953/02/30"), None);
        assert_eq!(parse("%Y/%m/%d", "1900/02/29"), None);
        assert_eq!(parse("%Y/%m/%d", "1953/13/01"), None);
        assert_eq!(parse("%Y/%m/%d", "1953-02-27"), None);
        assert_eq!(parse("%Y/%m/%d", "1953/02/27 "), None);
        assert_eq!(parse("%Y/%m/%d", "53/02/27"), None);
        assert_eq!(parse("%Y/%m/%d", ""), None);
    }

    #[test]
    fn backtracking_between_adjacent_numbers() {
        // Python tries "11" for %m first, then backtracks when needed.
        assert_eq!(parse("%Y%m%d", "19991112").as_deref(), Some("19991112"));
        assert_eq!(parse("%Y%m%d", "1999111").as_deref(), Some("19991101"));
        assert_eq!(parse("%d%m%Y", "3121999"), None);
        assert_eq!(parse("%d%m%Y", "1121999").as_deref(), Some("19990211"));
        // The first match leaves "1" over; Python does not backtrack.
        assert_eq!(parse("%Y%d", "1999311"), None);
        assert_eq!(parse("%Y%m", "19991"), Some("19990101".into()));
    }

    #[test]
    fn two_digit_years_pivot_at_69() {
        assert_eq!(parse("%d.%m.%y", "01.02.68").as_deref(), Some("20680201"));
        assert_eq!(parse("%d.%m.%y", "01.02.69").as_deref(), Some("19690201"));
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(parse("%d %b %Y", "7 FEB 1999").as_deref(), Some("19990207"));
        assert_eq!(
            parse("%d %B %Y", "7  february 1999").as_deref(),
            Some("19990207")
        );
        assert_eq!(
            parse("%a %d %b %Y", "Sun 07 Feb 1999").as_deref(),
            Some("19990207")
        );
    }

    #[test]
    fn defaults_and_time_fields() {
        assert_eq!(parse("%Y", "1999").as_deref(), Some("19990101"));
        assert_eq!(
            parse("%Y-%m-%d %H:%M:%S", "1999-02-07 23:59:59").as_deref(),
            Some("19990207")
        );
        assert_eq!(parse("%Y-%m-%d %H:%M:%S", "1999-02-07 23:59:60"), None);
        assert_eq!(parse("%Y-%m-%d %H:%M", "1999-02-07 24:00"), None);
    }

    #[test]
    fn small_years_are_not_padded() {
        assert_eq!(parse("%Y-%m-%d", "0999-01-02").as_deref(), Some("9990102"));
        assert_eq!(parse("%Y-%m-%d", "0000-01-02"), None);
    }

    #[test]
    fn unsupported_formats_are_refused() {
        assert!(DateFormat::parse("%Y-%j").is_err());
        assert!(DateFormat::parse("%Y-%m-%d%").is_err());
        assert!(DateFormat::parse("%Y-%Y").is_err());
        assert!(DateFormat::parse("%%%Y").is_ok());
    }
}
