//! THE definition of a record's filter in the `zicht-v1` encoding: from a
//! normalised value to its tokens, each token's number of bits, the bytes
//! that are hashed, and the bit positions. No cache, no thread-local, no
//! shortcut: every fast path of the encoder (`crate::value_cache`, the date,
//! bigram and positional shortcuts in `encode.rs`) must give exactly what
//! this module gives, and the property test `the_fast_paths_equal_the_definition`
//! compares them with [`record_bits`] on random records.
//!
//! Before hardening, a record's filter is the OR of, for every encoded
//! field that has a value (or a missing token), for every token of
//! [`field_tokens`], the `k` positions that the field's keyed hasher
//! ([`crate::keys::FieldHasher::positions`]) gives for [`hashed_bytes`]. The
//! bits of this definition are pinned by `tests/data/kat`: a change here is
//! a new encoding tag (ARCHITECTURE.md, "Invariants").

use crate::keys::FieldHasher;
use crate::normalize::{
    family_name_core, normalize_identifier, normalize_text, parse_date, PartialDate,
};
use crate::profile::Profile;
use crate::schema::{Field, FieldKind, Missing, TokenKind};
use crate::tokens::TokenBuf;

/// A normalised value.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Text(String),
    Date(PartialDate),
    Exact(String),
    Identifier(String),
}

impl Value {
    /// The normalised value of a cell of field kind `kind` (not missing).
    ///
    /// # Errors
    /// Why the cell cannot be read, without its value.
    pub(crate) fn normalise(
        kind: FieldKind,
        raw: &str,
        profile: &Profile,
    ) -> Result<Value, String> {
        Ok(match kind {
            FieldKind::GivenName | FieldKind::Text => Value::Text(normalize_text(raw)),
            FieldKind::FamilyName => Value::Text(family_name_core(raw)),
            FieldKind::Place => Value::Text(normalize_text(raw).replace(' ', "")),
            FieldKind::DateOfBirth => Value::Date(
                parse_date(raw, &profile.date_formats)
                    .map_err(|p| p.message(&profile.date_formats))?,
            ),
            FieldKind::Sex => Value::Exact(
                profile
                    .sex(raw)
                    .ok_or_else(|| {
                        "unknown sex code (add it to sex_codes in the profile)".to_string()
                    })?
                    .code()
                    .to_string(),
            ),
            FieldKind::Identifier => Value::Identifier(normalize_identifier(raw)),
            FieldKind::Category => Value::Exact(normalize_text(raw)),
        })
    }

    /// Whether the value is empty (it then counts as missing).
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Value::Text(s) | Value::Exact(s) | Value::Identifier(s) => s.is_empty(),
            Value::Date(d) => d.year.is_none(),
        }
    }

    /// The value as one text: a date as `YYYY-MM-DD` with `??` for an
    /// unknown month or day.
    pub(crate) fn canonical(&self) -> String {
        match self {
            Value::Text(s) | Value::Exact(s) | Value::Identifier(s) => s.clone(),
            Value::Date(d) => format!(
                "{:04}-{}-{}",
                d.year.unwrap_or(0),
                d.month.map_or("??".to_string(), |m| format!("{m:02}")),
                d.day.map_or("??".to_string(), |x| format!("{x:02}"))
            ),
        }
    }

    /// [`Value::canonical`], borrowed where it need not be built.
    pub(crate) fn canonical_str(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Text(s) | Value::Exact(s) | Value::Identifier(s) => {
                std::borrow::Cow::Borrowed(s.as_str())
            }
            Value::Date(_) => std::borrow::Cow::Owned(self.canonical()),
        }
    }

    /// Append the value's tokens to `out`.
    fn push_tokens(&self, out: &mut TokenBuf, kind: TokenKind, q: usize, padding: bool) {
        match (kind, self) {
            (TokenKind::Exact, _) => out.push(&self.canonical_str()),
            (TokenKind::Positional, Value::Date(d)) => out.push_date_tokens(d),
            (TokenKind::Positional, _) => out.push_positional_tokens(&self.canonical_str()),
            (TokenKind::Qgram, _) => out.push_qgrams(&self.canonical_str(), q, padding),
        }
    }

    /// What this value salts other fields' tokens with (a date: its year).
    pub(crate) fn salt(&self) -> String {
        match self {
            Value::Date(d) => d.year.map(|y| y.to_string()).unwrap_or_default(),
            _ => self.canonical(),
        }
    }

    /// The stratum level of this value (a date: its band of `band_years`,
    /// 10 by default).
    pub(crate) fn stratum(&self, band_years: Option<u32>) -> Option<String> {
        match self {
            Value::Date(d) => {
                let band = band_years.unwrap_or(10);
                let year = u32::from(d.year?);
                let start = year / band * band;
                Some(if band == 1 {
                    start.to_string()
                } else {
                    format!("{start}-{}", start + band - 1)
                })
            }
            other => Some(other.canonical()),
        }
    }
}

/// How many bits each token of a field gets: `k` for the first
/// `first_word_tokens` tokens, `k_other` for the rest (a given name's
/// second and later words weigh less: "Anna Maria" and "Anna" are often
/// the same person).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TokenWeights {
    pub(crate) k: u32,
    pub(crate) k_other: u32,
    pub(crate) first_word_tokens: usize,
}

impl TokenWeights {
    /// The bits of the token at `position` in the field's token list.
    pub(crate) fn bits_of(&self, position: usize) -> u32 {
        if position < self.first_word_tokens {
            self.k
        } else {
            self.k_other
        }
    }
}

/// Fill `tokens` with the tokens of field `field` for `value` (`None`:
/// missing) and say how many bits each gets; `None` when the field puts no
/// bit in the filter (not encoded, or missing without a missing token).
pub(crate) fn field_tokens(
    field: &Field,
    value: Option<&Value>,
    tokens: &mut TokenBuf,
) -> Option<TokenWeights> {
    if !field.encode {
        return None;
    }
    tokens.clear();
    // `push_qgrams` emits the first word's tokens first (duplicates keep
    // their first place), so they are a prefix of the field's tokens.
    let first_word_tokens = match (value, field.kind, field.tokens) {
        (Some(Value::Text(text)), FieldKind::GivenName, TokenKind::Qgram) if text.contains(' ') => {
            let first = text.split(' ').next().unwrap_or_default();
            tokens.push_qgrams(first, field.q, field.padding);
            let n = tokens.len();
            tokens.clear();
            Some(n)
        }
        _ => None,
    };
    match value {
        Some(value) => value.push_tokens(tokens, field.tokens, field.q, field.padding),
        None if field.missing == Missing::Token => tokens.push("\u{0}missing"),
        None => return None,
    }
    let k = field.budget.per_token(tokens.len());
    Some(TokenWeights {
        k,
        k_other: later_word_bits(field, k),
        first_word_tokens: first_word_tokens.unwrap_or(tokens.len()),
    })
}

/// The bits of a token of a given name's second or later word when a
/// first-word token gets `k`.
pub(crate) fn later_word_bits(field: &Field, k: u32) -> u32 {
    ((f64::from(k) * field.other_names_weight).round() as u32).max(1)
}

/// Append to `out` the bytes hashed for `token`: the token itself, or for
/// a salted field (`salt`: the salting field's [`Value::salt`]) the salt,
/// the unit separator 0x1f, then the token.
pub(crate) fn hashed_bytes(salt: Option<&str>, token: &str, out: &mut Vec<u8>) {
    if let Some(salt) = salt {
        out.extend_from_slice(salt.as_bytes());
        out.push(0x1f);
    }
    out.extend_from_slice(token.as_bytes());
}

/// The salt of a record's salted fields: `None` when the schema salts no
/// field, else the salting field's [`Value::salt`] (empty when missing).
pub(crate) fn record_salt(
    salt_fields: &[String],
    salt_with: Option<usize>,
    values: &[Option<Value>],
) -> Option<String> {
    if salt_fields.is_empty() {
        return None;
    }
    Some(
        salt_with
            .and_then(|i| values[i].as_ref())
            .map(Value::salt)
            .unwrap_or_default(),
    )
}

/// The reference encoder: a record's filter before hardening, OR-ed into
/// `words`, from its normalised values (one per schema field), computed
/// with no cache at all. `hashers[i]` is field `i`'s keyed hasher and
/// `salt` the record's [`record_salt`]. The encoder's tests run every
/// input through it as well as through the fast paths.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn record_bits(
    fields: &[Field],
    hashers: &[FieldHasher],
    salt_fields: &[String],
    values: &[Option<Value>],
    salt: Option<&str>,
    filter_bits: u32,
    words: &mut [u64],
) {
    let mut tokens = TokenBuf::default();
    let mut bytes = Vec::new();
    let mut positions = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let Some(weights) = field_tokens(field, values[index].as_ref(), &mut tokens) else {
            continue;
        };
        let salt = salt.filter(|_| salt_fields.contains(&field.name));
        for position in 0..tokens.len() {
            bytes.clear();
            hashed_bytes(salt, tokens.get(position), &mut bytes);
            positions.clear();
            hashers[index].positions(
                &bytes,
                weights.bits_of(position),
                filter_bits,
                &mut positions,
            );
            for &p in &positions {
                words[p as usize / 64] |= 1 << (p % 64);
            }
        }
    }
}
