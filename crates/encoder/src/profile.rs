//! The source profile (TOML, local to one agency): how its CSV maps onto
//! the schema's fields. See `docs/schema.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::normalize::{Sex, DEFAULT_DATE_FORMATS};
use crate::schema::toml_message;
use crate::EncodeError;

/// Text encoding of the CSV.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum TextEncoding {
    /// UTF-8; a byte-order mark is skipped.
    #[default]
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    /// Windows-1252.
    #[serde(rename = "windows-1252", alias = "cp1252")]
    Windows1252,
    /// ISO 8859-1.
    #[serde(rename = "latin-1", alias = "latin1", alias = "iso-8859-1")]
    Latin1,
}

impl TextEncoding {
    /// Parse a name as used in profiles and flags.
    pub fn from_name(name: &str) -> Option<TextEncoding> {
        match name.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            "windows-1252" | "cp1252" => Some(TextEncoding::Windows1252),
            "latin-1" | "latin1" | "iso-8859-1" => Some(TextEncoding::Latin1),
            _ => None,
        }
    }
}

/// Where a field's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ColumnRef {
    /// By header name.
    Name(String),
    /// By 1-based column number.
    Number(usize),
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnRef::Name(name) => write!(f, "'{name}'"),
            ColumnRef::Number(n) => write!(f, "number {n}"),
        }
    }
}

/// Order of the parts in a full-name column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameOrder {
    /// "Family, Given".
    FamilyGiven,
    /// "Given Family".
    GivenFamily,
}

/// A column holding both given and family names.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FullName {
    /// The column.
    pub column: ColumnRef,
    /// How it is written.
    pub order: NameOrder,
}

/// A source profile.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Default source label.
    #[serde(default)]
    pub source: Option<String>,
    /// Field delimiter (one character).
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// Whether the first line holds column names.
    #[serde(default = "default_true")]
    pub header: bool,
    /// Text encoding.
    #[serde(default)]
    pub encoding: TextEncoding,
    /// Cells meaning "missing" (trimmed, case-insensitive).
    #[serde(default = "default_missing")]
    pub missing: Vec<String>,
    /// Date formats tried in order.
    #[serde(default = "default_date_formats")]
    pub date_formats: Vec<String>,
    /// Extra sex codes: code → `f`, `m` or `x`.
    #[serde(default)]
    pub sex_codes: BTreeMap<String, String>,
    /// Field name → column.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnRef>,
    /// A full-name column instead of given/family columns.
    #[serde(default)]
    pub full_name: Option<FullName>,
}

fn default_delimiter() -> String {
    ",".into()
}

fn default_true() -> bool {
    true
}

fn default_missing() -> Vec<String> {
    vec![String::new()]
}

fn default_date_formats() -> Vec<String> {
    DEFAULT_DATE_FORMATS.iter().map(|s| s.to_string()).collect()
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            source: None,
            delimiter: default_delimiter(),
            header: true,
            encoding: TextEncoding::Utf8,
            missing: default_missing(),
            date_formats: default_date_formats(),
            sex_codes: BTreeMap::new(),
            columns: BTreeMap::new(),
            full_name: None,
        }
    }
}

impl Profile {
    /// Parse and check a TOML profile.
    ///
    /// # Errors
    /// [`EncodeError::Profile`] for invalid TOML, unknown keys or settings.
    pub fn from_toml(text: &str) -> Result<Profile, EncodeError> {
        let profile: Profile =
            toml::from_str(text).map_err(|e| EncodeError::Profile(toml_message(&e)))?;
        profile.validate()?;
        Ok(profile)
    }

    /// Check the settings.
    ///
    /// # Errors
    /// [`EncodeError::Profile`] naming the setting.
    pub fn validate(&self) -> Result<(), EncodeError> {
        self.delimiter_byte()?;
        for (code, value) in &self.sex_codes {
            if Sex::from_code(value).is_none() {
                return Err(EncodeError::Profile(format!(
                    "sex_codes: code '{code}' must map to f, m or x"
                )));
            }
        }
        if self.date_formats.is_empty() {
            return Err(EncodeError::Profile("date_formats is empty".into()));
        }
        Ok(())
    }

    /// The delimiter as one byte.
    ///
    /// # Errors
    /// When it is not one ASCII character.
    pub fn delimiter_byte(&self) -> Result<u8, EncodeError> {
        let d = if self.delimiter == "\\t" || self.delimiter == "tab" {
            "\t"
        } else {
            self.delimiter.as_str()
        };
        match d.as_bytes() {
            [b] if b.is_ascii() && *b != b'"' && *b != b'\n' && *b != b'\r' => Ok(*b),
            _ => Err(EncodeError::Profile(
                "delimiter must be one ASCII character (not a quote or line end)".into(),
            )),
        }
    }

    /// Map a raw sex code, profile codes first.
    pub fn sex(&self, raw: &str) -> Option<Sex> {
        let key = raw.trim();
        self.sex_codes
            .iter()
            .find(|(code, _)| same_ignoring_case(code.trim(), key))
            .and_then(|(_, value)| Sex::from_code(value))
            .or_else(|| crate::normalize::builtin_sex(raw))
    }

    /// Whether a cell means "missing".
    pub fn is_missing(&self, raw: &str) -> bool {
        let cell = raw.trim();
        cell.is_empty()
            || self
                .missing
                .iter()
                .any(|m| same_ignoring_case(m.trim(), cell))
    }
}

/// Case-insensitive equality, without allocating for ASCII text.
fn same_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_profile() {
        let p = Profile::from_toml(
            r#"
source = "police"
delimiter = ";"
encoding = "windows-1252"
missing = ["", "NA", "onbekend"]
date_formats = ["%d-%m-%Y"]
sex_codes = { M = "m", V = "f" }
[columns]
given_name = "voornaam"
date_of_birth = 3
[full_name]
column = "naam"
order = "family_given"
"#,
        )
        .unwrap();
        assert_eq!(p.delimiter_byte().unwrap(), b';');
        assert_eq!(p.encoding, TextEncoding::Windows1252);
        assert_eq!(p.columns["date_of_birth"], ColumnRef::Number(3));
        assert_eq!(p.sex("v"), Some(Sex::Female));
        assert!(p.is_missing(" Onbekend "));
        assert!(!p.is_missing("Anna"));
    }

    #[test]
    fn rejects_unknown_keys_and_bad_codes() {
        assert!(Profile::from_toml("delimeter = \";\"").is_err());
        assert!(Profile::from_toml("sex_codes = { M = \"male\" }").is_err());
        assert!(Profile::from_toml("delimiter = \";;\"").is_err());
    }
}
