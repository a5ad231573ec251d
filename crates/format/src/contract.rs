//! The contracts between the encoder, the linker and the command line that
//! travel in an encoded file: which encoding made the filters
//! ([`Encoding`]) and the source's label ([`SourceLabel`]). Each has one
//! definition here, in the lowest crate that every side uses.

use serde::{Deserialize, Serialize};

/// How the filters of a file were made. The bits of an encoding never
/// change: a change to what is hashed is a new variant with a new tag, and
/// the linker refuses to link files of different encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Encoding {
    /// zicht's own encoding: keyed HMAC-SHA256 per field (`zicht-v1`),
    /// pinned by the known-answer vectors in `tests/data/kat`.
    #[serde(rename = "zicht-v1")]
    ZichtV1,
    /// clkhash 0.18.3's schema v3 encoding, bit for bit (`clkhash-v3`),
    /// pinned by `tests/data/clkhash`.
    #[serde(rename = "clkhash-v3")]
    ClkhashV3,
}

impl Encoding {
    /// Every encoding this build reads and writes.
    pub const ALL: [Encoding; 2] = [Encoding::ZichtV1, Encoding::ClkhashV3];

    /// The tag written to the file header.
    pub fn tag(self) -> &'static str {
        match self {
            Encoding::ZichtV1 => "zicht-v1",
            Encoding::ClkhashV3 => "clkhash-v3",
        }
    }

    /// The encoding of tag `tag`, if this build knows it.
    pub fn from_tag(tag: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.tag() == tag)
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

/// A source's label: a column name of `capture.csv`, so it is non-empty,
/// holds no comma, quote or control character, and is not `count` in any
/// case (the count column). The encoder, the linker and the command line
/// all check labels with [`SourceLabel::new`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceLabel(String);

/// Why a text is not a [`SourceLabel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// The empty text.
    #[error("the source label is empty")]
    Empty,
    /// A comma, a quote or a control character (a line end among them).
    #[error(
        "the source label holds a comma, a quote or a control character (it becomes a column name of capture.csv)"
    )]
    Character,
    /// `count`, in any case.
    #[error("`count` cannot be a source label (it is the count column of capture.csv)")]
    Count,
}

impl SourceLabel {
    /// Check `text` against the rule.
    ///
    /// # Errors
    /// [`LabelError`] says which part of the rule `text` breaks.
    pub fn new(text: &str) -> Result<SourceLabel, LabelError> {
        if text.is_empty() {
            return Err(LabelError::Empty);
        }
        if text.chars().any(|c| c.is_control() || c == ',' || c == '"') {
            return Err(LabelError::Character);
        }
        if text.eq_ignore_ascii_case("count") {
            return Err(LabelError::Count);
        }
        Ok(SourceLabel(text.to_string()))
    }

    /// The label's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SourceLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SourceLabel {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_serialise_as_tags() {
        for encoding in Encoding::ALL {
            assert_eq!(Encoding::from_tag(encoding.tag()), Some(encoding));
            assert_eq!(
                serde_json::to_string(&encoding).unwrap(),
                format!("\"{}\"", encoding.tag())
            );
        }
        assert_eq!(Encoding::from_tag("zicht-v2"), None);
        assert!(serde_json::from_str::<Encoding>("\"zicht-v2\"").is_err());
    }

    #[test]
    fn one_rule_for_labels() {
        assert_eq!(SourceLabel::new("police").unwrap().as_str(), "police");
        assert_eq!(
            SourceLabel::new("Politie Zuid-Holland")
                .unwrap()
                .to_string(),
            "Politie Zuid-Holland"
        );
        assert_eq!(SourceLabel::new(""), Err(LabelError::Empty));
        for bad in ["a,b", "a\"b", "a\nb", "a\rb", "a\tb", "a\u{7}"] {
            assert_eq!(SourceLabel::new(bad), Err(LabelError::Character), "{bad:?}");
        }
        for count in ["count", "Count", "COUNT"] {
            assert_eq!(SourceLabel::new(count), Err(LabelError::Count));
        }
        assert!(SourceLabel::new("counts").is_ok());
    }
}
