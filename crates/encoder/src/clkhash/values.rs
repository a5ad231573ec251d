//! clkhash's value formats (`field_formats.py`): validation of a cell and
//! the text that is tokenised, for string, integer, date and enum features,
//! and the missing-value sentinel.
//!
//! Reasons returned by [`FeatureFormat::prepare`] describe what is wrong and
//! never contain the value.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::dates::DateFormat;

/// How tokens are turned into bytes before hashing (a string feature's
/// `encoding`; other features use UTF-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    /// `ascii`: values with other characters are invalid.
    Ascii,
    /// `utf-8` (the default).
    Utf8,
    /// `utf-16`: Python writes a byte-order mark and little-endian units.
    Utf16,
    /// `utf-32`: Python writes a byte-order mark and little-endian units.
    Utf32,
}

impl TextEncoding {
    /// Parse the schema's name.
    pub fn from_name(name: &str) -> Option<TextEncoding> {
        match name {
            "ascii" => Some(TextEncoding::Ascii),
            "utf-8" => Some(TextEncoding::Utf8),
            "utf-16" => Some(TextEncoding::Utf16),
            "utf-32" => Some(TextEncoding::Utf32),
            _ => None,
        }
    }

    /// The schema's name.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Ascii => "ascii",
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf16 => "utf-16",
            TextEncoding::Utf32 => "utf-32",
        }
    }

    /// Python's `token.encode(encoding)` on a little-endian machine.
    pub fn encode<'a>(self, token: &'a str) -> Cow<'a, [u8]> {
        match self {
            TextEncoding::Ascii | TextEncoding::Utf8 => Cow::Borrowed(token.as_bytes()),
            TextEncoding::Utf16 => {
                let mut out = vec![0xff, 0xfe];
                for unit in token.encode_utf16() {
                    out.extend_from_slice(&unit.to_le_bytes());
                }
                Cow::Owned(out)
            }
            TextEncoding::Utf32 => {
                let mut out = vec![0xff, 0xfe, 0x00, 0x00];
                for c in token.chars() {
                    out.extend_from_slice(&u32::from(c).to_le_bytes());
                }
                Cow::Owned(out)
            }
        }
    }

    /// Whether `value` can be encoded.
    pub fn can_encode(self, value: &str) -> bool {
        self != TextEncoding::Ascii || value.is_ascii()
    }
}

/// A string feature's `case`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// Must equal its upper-case form.
    Upper,
    /// Must equal its lower-case form.
    Lower,
    /// Anything (the default).
    Mixed,
}

/// A compiled `pattern` of a string feature (whole-value match).
#[derive(Clone, Debug)]
pub struct Pattern {
    source: String,
    regex: regex::Regex,
}

impl Pattern {
    /// Compile `source` so that it must match the whole value, as clkhash's
    /// `re.fullmatch`-like matching does.
    ///
    /// # Errors
    /// The regex crate's message when the pattern does not compile (Python
    /// syntax such as look-around is not supported).
    pub fn new(source: &str) -> Result<Pattern, String> {
        let regex = regex::Regex::new(&format!("^(?:{source})\\z")).map_err(|e| e.to_string())?;
        Ok(Pattern {
            source: source.to_string(),
            regex,
        })
    }

    /// The pattern as written in the schema.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// The `format` of a feature.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueFormat {
    /// `{"type": "string", ...}`.
    String {
        /// `pattern`: the whole value must match.
        pattern: Option<Pattern>,
        /// `case`.
        case: Case,
        /// `minLength` in code points.
        min_length: Option<u64>,
        /// `maxLength` in code points.
        max_length: Option<u64>,
    },
    /// `{"type": "integer", "minimum": .., "maximum": ..}`.
    Integer {
        /// `minimum`.
        minimum: Option<i128>,
        /// `maximum`.
        maximum: Option<i128>,
    },
    /// `{"type": "date", "format": "%Y-%m-%d"}`.
    Date {
        /// The `strptime` format.
        format: DateFormat,
    },
    /// `{"type": "enum", "values": [...]}`.
    Enum {
        /// The permitted values.
        values: Vec<String>,
    },
}

impl ValueFormat {
    /// The schema's type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            ValueFormat::String { .. } => "string",
            ValueFormat::Integer { .. } => "integer",
            ValueFormat::Date { .. } => "date",
            ValueFormat::Enum { .. } => "enum",
        }
    }
}

/// A feature's `missingValue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingValue {
    /// The cell content that means "missing" (not validated).
    pub sentinel: String,
    /// What is tokenised instead (`replaceWith`; the sentinel itself when
    /// absent).
    pub replace_with: String,
}

/// Everything needed to turn one cell into the text that is tokenised.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureFormat {
    /// The value format.
    pub format: ValueFormat,
    /// The encoding of tokens (and the encodability check).
    pub encoding: TextEncoding,
    /// The missing-value sentinel, if any.
    pub missing: Option<MissingValue>,
}

fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A parsed integer: sign and decimal digits without leading zeros.
#[derive(Debug, PartialEq, Eq)]
struct BigInt {
    negative: bool,
    digits: String,
}

impl BigInt {
    /// Python's `int(text, 10)` for ASCII digits: surrounding whitespace,
    /// an optional sign, and single underscores between digits.
    fn parse(text: &str) -> Option<BigInt> {
        let text = text.trim_matches(is_python_whitespace);
        let (negative, body) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
            return None;
        }
        if !body.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
            return None;
        }
        let digits: String = body.chars().filter(|&c| c != '_').collect();
        let trimmed = digits.trim_start_matches('0');
        let digits = if trimmed.is_empty() {
            "0".to_string()
        } else {
            trimmed.to_string()
        };
        let negative = negative && digits != "0";
        Some(BigInt { negative, digits })
    }

    /// Python's `str(value)`.
    fn to_python_string(&self) -> String {
        if self.negative {
            format!("-{}", self.digits)
        } else {
            self.digits.clone()
        }
    }

    fn cmp_i128(&self, bound: i128) -> Ordering {
        // Bounds come from JSON integers, so anything over 39 digits is far
        // outside them.
        if self.digits.len() > 38 {
            return if self.negative {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let magnitude: i128 = self.digits.parse().unwrap_or(i128::MAX);
        let value = if self.negative { -magnitude } else { magnitude };
        value.cmp(&bound)
    }
}

impl FeatureFormat {
    /// Validate `value` and return the text to tokenise, as clkhash's
    /// `validate` followed by `format_value`.
    ///
    /// # Errors
    /// A reason that names the rule broken, never the value.
    pub fn prepare<'a>(&self, value: &'a str) -> Result<Cow<'a, str>, String> {
        if let Some(missing) = &self.missing {
            if missing.sentinel == value {
                return Ok(Cow::Owned(missing.replace_with.clone()));
            }
        }
        if !self.encoding.can_encode(value) {
            return Err(format!(
                "the value cannot be encoded as {}",
                self.encoding.name()
            ));
        }
        match &self.format {
            ValueFormat::String {
                pattern,
                case,
                min_length,
                max_length,
            } => {
                if let Some(pattern) = pattern {
                    if !pattern.is_match(value) {
                        return Err(format!(
                            "the value does not match the pattern '{}'",
                            pattern.as_str()
                        ));
                    }
                } else {
                    let length = value.chars().count() as u64;
                    if let Some(min) = min_length.filter(|&min| length < min) {
                        return Err(format!("the value is shorter than minLength {min}"));
                    }
                    if let Some(max) = max_length.filter(|&max| length > max) {
                        return Err(format!("the value is longer than maxLength {max}"));
                    }
                    match case {
                        Case::Upper if value.to_uppercase() != value => {
                            return Err("the value is not upper case".into())
                        }
                        Case::Lower if value.to_lowercase() != value => {
                            return Err("the value is not lower case".into())
                        }
                        _ => {}
                    }
                }
                Ok(Cow::Borrowed(value))
            }
            ValueFormat::Integer { minimum, maximum } => {
                let parsed = BigInt::parse(value)
                    .ok_or_else(|| String::from("the value is not a base-10 integer"))?;
                if let Some(min) = minimum.filter(|&min| parsed.cmp_i128(min) == Ordering::Less) {
                    return Err(format!("the value is below the minimum {min}"));
                }
                if let Some(max) = maximum.filter(|&max| parsed.cmp_i128(max) == Ordering::Greater)
                {
                    return Err(format!("the value is above the maximum {max}"));
                }
                Ok(Cow::Owned(parsed.to_python_string()))
            }
            ValueFormat::Date { format } => format
                .parse_date(value)
                .map(|date| Cow::Owned(date.to_clkhash_string()))
                .ok_or_else(|| {
                    format!(
                        "the value is not a valid date in the format '{}'",
                        format.as_str()
                    )
                }),
            ValueFormat::Enum { values } => {
                if values.iter().any(|v| v == value) {
                    Ok(Cow::Borrowed(value))
                } else {
                    Err(format!(
                        "the value is not one of the {} values of the enum",
                        values.len()
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(case: Case, min: Option<u64>, max: Option<u64>) -> FeatureFormat {
        FeatureFormat {
            format: ValueFormat::String {
                pattern: None,
                case,
                min_length: min,
                max_length: max,
            },
            encoding: TextEncoding::Utf8,
            missing: None,
        }
    }

    fn integer(minimum: Option<i128>, maximum: Option<i128>) -> FeatureFormat {
        FeatureFormat {
            format: ValueFormat::Integer { minimum, maximum },
            encoding: TextEncoding::Utf8,
            missing: None,
        }
    }

    #[test]
    fn strings_pass_through_and_are_checked() {
        let f = string(Case::Lower, Some(2), Some(5));
        assert_eq!(f.prepare("josé").unwrap(), "josé");
        assert!(f.prepare("a").is_err());
        assert!(f.prepare("abcdef").is_err());
        assert!(f.prepare("José").is_err());
        let upper = string(Case::Upper, None, None);
        assert!(upper.prepare("ABC 1").is_ok());
        assert!(upper.prepare("AbC").is_err());
    }

    #[test]
    fn reasons_never_contain_the_value() {
        let f = string(Case::Upper, Some(10), None);
        let reason = f.prepare("secretname").unwrap_err();
        assert!(!reason.contains("secretname"), "{reason}");
        let reason = integer(None, None).prepare("12ab").unwrap_err();
        assert!(!reason.contains("12ab"), "{reason}");
    }

    #[test]
    fn patterns_match_the_whole_value() {
        let f = FeatureFormat {
            format: ValueFormat::String {
                pattern: Some(Pattern::new("[0-9]{4}").unwrap()),
                case: Case::Mixed,
                min_length: None,
                max_length: None,
            },
            encoding: TextEncoding::Utf8,
            missing: None,
        };
        assert!(f.prepare("1950").is_ok());
        assert!(f.prepare("19501").is_err());
        assert!(f.prepare("x1950").is_err());
        assert!(Pattern::new("(?<=a)b").is_err());
    }

    #[test]
    fn integers_are_normalised_like_python_int() {
        let f = integer(None, None);
        for (input, expected) in [
            ("1950", "1950"),
            ("+13", "13"),
            (" 13 ", "13"),
            ("0013", "13"),
            ("-0", "0"),
            ("-007", "-7"),
            ("1_000", "1000"),
            (
                "123456789012345678901234567890123456789012",
                "123456789012345678901234567890123456789012",
            ),
        ] {
            assert_eq!(f.prepare(input).unwrap(), expected, "{input}");
        }
        for bad in [
            "", " ", "1.0", "1e3", "_1", "1_", "1__0", "+-1", "0x10", "١٢",
        ] {
            assert!(f.prepare(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integer_ranges() {
        let f = integer(Some(1000), Some(9999));
        assert!(f.prepare("1000").is_ok());
        assert!(f.prepare("9999").is_ok());
        assert!(f.prepare("999").is_err());
        assert!(f.prepare("10000").is_err());
        assert!(f
            .prepare("-99999999999999999999999999999999999999999")
            .is_err());
        assert!(f
            .prepare("99999999999999999999999999999999999999999")
            .is_err());
    }

    #[test]
    fn dates_are_rewritten() {
        let f = FeatureFormat {
            format: ValueFormat::Date {
                format: DateFormat::parse("%Y/%m/%d").unwrap(),
            },
            encoding: TextEncoding::Utf8,
            missing: Some(MissingValue {
                sentinel: String::new(),
                replace_with: String::new(),
            }),
        };
        assert_eq!(f.prepare("1953/02/27").unwrap(), "19530227");
        assert_eq!(f.prepare("").unwrap(), "");
        assert!(f.prepare("1953-02-27").is_err());
    }

    #[test]
    fn enums_and_missing_values() {
        let f = FeatureFormat {
            format: ValueFormat::Enum {
                values: vec!["M".into(), "F".into()],
            },
            encoding: TextEncoding::Utf8,
            missing: Some(MissingValue {
                sentinel: "N/A".into(),
                replace_with: "unknown".into(),
            }),
        };
        assert_eq!(f.prepare("F").unwrap(), "F");
        assert!(f.prepare("f").is_err());
        assert!(f.prepare("").is_err());
        // The sentinel is replaced and not validated.
        assert_eq!(f.prepare("N/A").unwrap(), "unknown");
    }

    #[test]
    fn encodings_match_python() {
        assert_eq!(TextEncoding::Utf8.encode("é").as_ref(), [0xc3, 0xa9]);
        assert_eq!(
            TextEncoding::Utf16.encode("é").as_ref(),
            [0xff, 0xfe, 0xe9, 0x00]
        );
        assert_eq!(
            TextEncoding::Utf32.encode("a").as_ref(),
            [0xff, 0xfe, 0, 0, 0x61, 0, 0, 0]
        );
        assert_eq!(TextEncoding::Utf16.encode("").as_ref(), [0xff, 0xfe]);
        assert!(!TextEncoding::Ascii.can_encode("é"));
        assert!(TextEncoding::Ascii.can_encode("e"));
    }
}
