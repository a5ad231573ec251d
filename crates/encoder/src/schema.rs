//! The linkage schema (TOML, shared by every agency of a project): fields,
//! tokenisation, bit budgets, strata, hardening, and the fingerprint.
//! See `docs/schema.md`.

use std::collections::BTreeSet;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use zicht_format::FilterLength;

use crate::EncodeError;

/// What a field holds; decides its normalisation and default tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One or more given names.
    GivenName,
    /// A family name, possibly with particles.
    FamilyName,
    /// A date of birth.
    DateOfBirth,
    /// Sex.
    Sex,
    /// Place or postcode.
    Place,
    /// Free text.
    Text,
    /// An identifier number.
    Identifier,
    /// A category (exact values).
    Category,
}

impl FieldKind {
    fn name(self) -> &'static str {
        match self {
            FieldKind::GivenName => "given_name",
            FieldKind::FamilyName => "family_name",
            FieldKind::DateOfBirth => "date_of_birth",
            FieldKind::Sex => "sex",
            FieldKind::Place => "place",
            FieldKind::Text => "text",
            FieldKind::Identifier => "identifier",
            FieldKind::Category => "category",
        }
    }

    fn default_tokens(self) -> TokenKind {
        match self {
            FieldKind::GivenName | FieldKind::FamilyName | FieldKind::Place | FieldKind::Text => {
                TokenKind::Qgram
            }
            FieldKind::DateOfBirth | FieldKind::Identifier => TokenKind::Positional,
            FieldKind::Sex | FieldKind::Category => TokenKind::Exact,
        }
    }

    fn default_bits_per_token(self) -> u32 {
        match self {
            FieldKind::GivenName | FieldKind::FamilyName => 20,
            FieldKind::DateOfBirth => 15,
            // Few distinct values: many bits would make strangers look alike.
            FieldKind::Sex | FieldKind::Category => 4,
            FieldKind::Place => 8,
            FieldKind::Text | FieldKind::Identifier => 10,
        }
    }

    /// Given and family names share a key by default, so that swapped
    /// names still agree.
    fn default_hash_group(self, field_name: &str) -> String {
        match self {
            FieldKind::GivenName | FieldKind::FamilyName => "name".into(),
            _ => field_name.into(),
        }
    }
}

/// How a field's normalised value becomes tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Overlapping q-grams, optionally padded.
    Qgram,
    /// Position-tagged tokens (dates, numbers).
    Positional,
    /// The whole value as one token.
    Exact,
}

impl TokenKind {
    fn name(self) -> &'static str {
        match self {
            TokenKind::Qgram => "qgram",
            TokenKind::Positional => "positional",
            TokenKind::Exact => "exact",
        }
    }
}

/// What a missing value contributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// No bits.
    Skip,
    /// One fixed token.
    Token,
}

/// How many positions each token sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitBudget {
    /// k positions per token.
    PerToken(u32),
    /// A budget for the whole field, spread over its tokens.
    PerField(u32),
}

impl BitBudget {
    /// Positions per token for a value with `n_tokens` tokens.
    pub fn per_token(self, n_tokens: usize) -> u32 {
        match self {
            BitBudget::PerToken(k) => k,
            BitBudget::PerField(budget) => {
                let n = n_tokens.max(1) as f64;
                ((f64::from(budget) / n).round() as u32).clamp(1, 64)
            }
        }
    }
}

/// One resolved schema field (defaults filled in).
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Unique name.
    pub name: String,
    /// Kind.
    pub kind: FieldKind,
    /// Tokenisation.
    pub tokens: TokenKind,
    /// q for q-grams.
    pub q: usize,
    /// Padding for q-grams.
    pub padding: bool,
    /// Bits per token or per field.
    pub budget: BitBudget,
    /// Missing-value handling.
    pub missing: Missing,
    /// Whether the field is hashed into the filter (false: strata only).
    pub encode: bool,
    /// Fields with the same hash group share a key, so a value written in
    /// the wrong field (given and family names swapped) still agrees.
    pub hash_group: String,
    /// For given names: weight of the second and later given names' tokens
    /// relative to the first's (0 to 1).
    pub other_names_weight: f64,
}

/// A stratum released in the clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StratumSpec {
    /// Column name in the capture table.
    pub name: String,
    /// Index of the schema field it comes from.
    pub field: usize,
    /// For dates: width of the year band.
    pub band_years: Option<u32>,
}

/// Hardening options (see `docs/privacy.md`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hardening {
    /// Pad each filter with its complement and permute it with a keyed
    /// permutation (the file's filters are twice as long).
    pub balance: bool,
    /// Fold the filter in half with XOR (the file's filters are half as long).
    pub xor_fold: bool,
    /// Keyed diffusion: each output bit the XOR of this many input bits (0 = off).
    pub diffusion_t: u32,
    /// Fields whose tokens are salted with `salt_with`'s value.
    pub salt_fields: Vec<String>,
    /// The field whose value salts (its year, for a date).
    pub salt_with: String,
    /// Randomized response: each bit flipped with this probability.
    pub blip_f: f64,
}

/// A parsed and validated linkage schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// Free-text name.
    pub name: String,
    /// Filter length before hardening.
    pub filter_length: FilterLength,
    /// Fields in schema order.
    pub fields: Vec<Field>,
    /// Strata.
    pub strata: Vec<StratumSpec>,
    /// Hardening.
    pub hardening: Hardening,
    fingerprint: [u8; 32],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    version: u32,
    #[serde(default)]
    name: String,
    #[serde(default = "default_filter_bits")]
    filter_bits: u32,
    #[serde(default, rename = "field")]
    fields: Vec<RawField>,
    #[serde(default, rename = "stratum")]
    strata: Vec<RawStratum>,
    #[serde(default)]
    hardening: Hardening,
}

fn default_filter_bits() -> u32 {
    1024
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    name: String,
    kind: FieldKind,
    tokens: Option<TokenKind>,
    q: Option<usize>,
    padding: Option<bool>,
    bits_per_token: Option<u32>,
    bits_per_field: Option<u32>,
    missing: Option<Missing>,
    encode: Option<bool>,
    hash_group: Option<String>,
    other_names_weight: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStratum {
    name: String,
    field: String,
    band_years: Option<u32>,
}

impl Schema {
    /// Parse and validate a TOML schema.
    ///
    /// # Errors
    /// [`EncodeError::Schema`] for invalid TOML, unknown keys, an
    /// unsupported version or invalid settings.
    pub fn from_toml(text: &str) -> Result<Schema, EncodeError> {
        let raw: RawSchema =
            toml::from_str(text).map_err(|e| EncodeError::Schema(toml_message(&e)))?;
        if raw.version != 1 {
            return Err(EncodeError::Schema(format!(
                "schema version {} is not supported (only 1)",
                raw.version
            )));
        }
        let filter_length =
            FilterLength::new(raw.filter_bits).map_err(|e| EncodeError::Schema(e.to_string()))?;
        if raw.fields.is_empty() {
            return Err(EncodeError::Schema("the schema has no [[field]]".into()));
        }
        let mut names = BTreeSet::new();
        let mut fields = Vec::with_capacity(raw.fields.len());
        for f in raw.fields {
            let problem = |what: String| EncodeError::Schema(format!("field '{}': {what}", f.name));
            if f.name.is_empty()
                || !f
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(EncodeError::Schema(
                    "field names must be non-empty and use only a-z, A-Z, 0-9 and _".into(),
                ));
            }
            if !names.insert(f.name.clone()) {
                return Err(problem("defined twice".into()));
            }
            let tokens = f.tokens.unwrap_or(f.kind.default_tokens());
            let q = f.q.unwrap_or(2);
            if !(1..=5).contains(&q) {
                return Err(problem("q must be from 1 to 5".into()));
            }
            let budget = match (f.bits_per_token, f.bits_per_field) {
                (Some(_), Some(_)) => {
                    return Err(problem(
                        "give bits_per_token or bits_per_field, not both".into(),
                    ))
                }
                (Some(k), None) if (1..=64).contains(&k) => BitBudget::PerToken(k),
                (Some(_), None) => {
                    return Err(problem("bits_per_token must be from 1 to 64".into()))
                }
                (None, Some(b)) if (1..=filter_length.bits()).contains(&b) => {
                    BitBudget::PerField(b)
                }
                (None, Some(_)) => {
                    return Err(problem(
                        "bits_per_field must be from 1 to the filter length".into(),
                    ))
                }
                (None, None) => BitBudget::PerToken(f.kind.default_bits_per_token()),
            };
            let other_names_weight = f.other_names_weight.unwrap_or(DEFAULT_OTHER_NAMES_WEIGHT);
            if !(0.0..=1.0).contains(&other_names_weight) {
                return Err(problem("other_names_weight must be from 0 to 1".into()));
            }
            fields.push(Field {
                name: f.name.clone(),
                kind: f.kind,
                tokens,
                q,
                padding: f.padding.unwrap_or(true),
                budget,
                missing: f.missing.unwrap_or(Missing::Skip),
                encode: f.encode.unwrap_or(true),
                hash_group: f
                    .hash_group
                    .clone()
                    .unwrap_or_else(|| f.kind.default_hash_group(&f.name)),
                other_names_weight,
            });
        }
        if !fields.iter().any(|f| f.encode) {
            return Err(EncodeError::Schema("no field is encoded".into()));
        }
        let mut strata = Vec::new();
        let mut strata_names = BTreeSet::new();
        for s in raw.strata {
            let field = fields
                .iter()
                .position(|f| f.name == s.field)
                .ok_or_else(|| {
                    EncodeError::Schema(format!(
                        "stratum '{}': no field named '{}'",
                        s.name, s.field
                    ))
                })?;
            if !strata_names.insert(s.name.clone()) {
                return Err(EncodeError::Schema(format!(
                    "stratum '{}' defined twice",
                    s.name
                )));
            }
            if s.name.is_empty() || s.name == "count" || s.name.contains([',', '"', '\n', '\r']) {
                return Err(EncodeError::Schema(format!(
                    "stratum name '{}' is not usable as a column name",
                    s.name
                )));
            }
            match (fields[field].kind, s.band_years) {
                (FieldKind::DateOfBirth, Some(0)) => {
                    return Err(EncodeError::Schema(format!(
                        "stratum '{}': band_years must be positive",
                        s.name
                    )))
                }
                (FieldKind::DateOfBirth, _) | (_, None) => {}
                (_, Some(_)) => {
                    return Err(EncodeError::Schema(format!(
                        "stratum '{}': band_years only applies to a date_of_birth field",
                        s.name
                    )))
                }
            }
            if matches!(
                fields[field].kind,
                FieldKind::GivenName
                    | FieldKind::FamilyName
                    | FieldKind::Text
                    | FieldKind::Identifier
            ) {
                return Err(EncodeError::Schema(format!(
                    "stratum '{}': a {} field identifies people and cannot be released as a stratum",
                    s.name,
                    fields[field].kind.name()
                )));
            }
            let band_years = match fields[field].kind {
                FieldKind::DateOfBirth => Some(s.band_years.unwrap_or(10)),
                _ => None,
            };
            strata.push(StratumSpec {
                name: s.name,
                field,
                band_years,
            });
        }
        let h = &raw.hardening;
        if !(0.0..0.5).contains(&h.blip_f) {
            return Err(EncodeError::Schema(
                "hardening.blip_f must be in [0, 0.5)".into(),
            ));
        }
        if h.diffusion_t > 64 {
            return Err(EncodeError::Schema(
                "hardening.diffusion_t must be at most 64".into(),
            ));
        }
        for name in &h.salt_fields {
            if !fields.iter().any(|f| &f.name == name) {
                return Err(EncodeError::Schema(format!(
                    "hardening.salt_fields: no field named '{name}'"
                )));
            }
        }
        if !h.salt_fields.is_empty() && !fields.iter().any(|f| f.name == h.salt_with) {
            return Err(EncodeError::Schema(
                "hardening.salt_with must name a field".into(),
            ));
        }
        if h.xor_fold && filter_length.bits() < 128 {
            return Err(EncodeError::Schema(
                "xor_fold needs filters of at least 128 bits".into(),
            ));
        }
        if h.balance && filter_length.bits() > 4096 {
            return Err(EncodeError::Schema(
                "balance needs filters of at most 4096 bits".into(),
            ));
        }
        let mut schema = Schema {
            name: raw.name,
            filter_length,
            fields,
            strata,
            hardening: raw.hardening,
            fingerprint: [0; 32],
        };
        schema.fingerprint = Sha256::digest(schema.canonical_form().as_bytes()).into();
        Ok(schema)
    }

    /// The canonical text form hashed into the fingerprint: every resolved
    /// setting, in a fixed order.
    pub fn canonical_form(&self) -> String {
        let mut text = String::from("zicht-schema-v1\n");
        text.push_str(&format!(
            "name={:?}\nfilter_bits={}\n",
            self.name,
            self.filter_length.bits()
        ));
        for f in &self.fields {
            let budget = match f.budget {
                BitBudget::PerToken(k) => format!("per_token:{k}"),
                BitBudget::PerField(b) => format!("per_field:{b}"),
            };
            text.push_str(&format!(
                "field name={:?} kind={} tokens={} q={} padding={} budget={} missing={:?} encode={} hash_group={:?} other_names_weight={}\n",
                f.name,
                f.kind.name(),
                f.tokens.name(),
                f.q,
                f.padding,
                budget,
                f.missing,
                f.encode,
                f.hash_group,
                f.other_names_weight
            ));
        }
        for s in &self.strata {
            text.push_str(&format!(
                "stratum name={:?} field={:?} band_years={:?}\n",
                s.name, self.fields[s.field].name, s.band_years
            ));
        }
        let h = &self.hardening;
        text.push_str(&format!(
            "hardening balance={} xor_fold={} diffusion_t={} salt_fields={:?} salt_with={:?} blip_f={}\n",
            h.balance, h.xor_fold, h.diffusion_t, h.salt_fields, h.salt_with, h.blip_f
        ));
        text
    }

    /// SHA-256 of the canonical form.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// The fingerprint in hex.
    pub fn fingerprint_hex(&self) -> String {
        hex(&self.fingerprint)
    }

    /// The filter length written to the file, after hardening.
    pub fn output_length(&self) -> FilterLength {
        let mut bits = self.filter_length.bits();
        if self.hardening.balance {
            bits *= 2;
        }
        if self.hardening.xor_fold {
            bits /= 2;
        }
        FilterLength::new(bits).expect("validated in from_toml")
    }

    /// Index of a field by name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// Default weight of second and later given names.
pub const DEFAULT_OTHER_NAMES_WEIGHT: f64 = 0.35;

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A TOML error without the offending line's text (it could hold a value).
pub(crate) fn toml_message(error: &toml::de::Error) -> String {
    let message = error.message().to_string();
    match error.span() {
        Some(span) => format!("{message} (at byte {})", span.start),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
version = 1
name = "test"
[[field]]
name = "given_name"
kind = "given_name"
[[field]]
name = "dob"
kind = "date_of_birth"
[[stratum]]
name = "birth_decade"
field = "dob"
"#;

    #[test]
    fn defaults_are_resolved() {
        let s = Schema::from_toml(MINIMAL).unwrap();
        assert_eq!(s.filter_length.bits(), 1024);
        assert_eq!(s.fields[0].tokens, TokenKind::Qgram);
        assert_eq!(s.fields[0].budget, BitBudget::PerToken(20));
        assert_eq!(s.fields[1].tokens, TokenKind::Positional);
        assert_eq!(s.strata[0].band_years, Some(10));
    }

    #[test]
    fn fingerprint_ignores_spelled_out_defaults_but_not_settings() {
        let a = Schema::from_toml(MINIMAL).unwrap();
        let spelled = MINIMAL.replace(
            "kind = \"given_name\"",
            "kind = \"given_name\"\ntokens = \"qgram\"\nq = 2\n# comment\nbits_per_token = 20",
        );
        let b = Schema::from_toml(&spelled).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let changed = MINIMAL.replace("kind = \"given_name\"", "kind = \"given_name\"\nq = 3");
        let c = Schema::from_toml(&changed).unwrap();
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn bad_schemas_are_refused() {
        for (bad, needle) in [
            (MINIMAL.replace("version = 1", "version = 2"), "version"),
            (
                MINIMAL.replace("name = \"test\"", "name = \"test\"\ncolour = 1"),
                "unknown field",
            ),
            (
                MINIMAL.replace("name = \"test\"", "name = \"test\"\nfilter_bits = 100"),
                "multiple of 64",
            ),
            (
                MINIMAL.replace("field = \"dob\"", "field = \"nope\""),
                "no field",
            ),
            (
                MINIMAL.replace("kind = \"given_name\"", "kind = \"shoe_size\""),
                "unknown variant",
            ),
            (
                MINIMAL.replace("field = \"dob\"", "field = \"given_name\""),
                "identifies",
            ),
        ] {
            let err = Schema::from_toml(&bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
