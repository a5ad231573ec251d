//! Encoding records: from CSV cells to a filter, and streaming a whole CSV
//! into an encoded file in bounded memory with parallel chunks.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use rustc_hash::FxHasher;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use zicht_format::file::UNKNOWN_STRATUM;
use zicht_format::{FileWriter, FilterLength, Header, SourceLabel, Stratum};

use crate::filter::{self, Value};
use crate::hardening::Hardener;
use crate::inspect::{FieldTokens, RecordTokens, TokenPositions};
use crate::keys::{key_check_value, FieldHasher};
use crate::normalize::{is_particle, normalize_text, PartialDate};
use crate::pipeline;
use crate::profile::{ColumnRef, NameOrder, Profile, TextEncoding};
use crate::schema::{hex, BitBudget, FieldKind, Schema, TokenKind};
use crate::tokens::TokenBuf;
use crate::value_cache::{
    or_into, unigram_token, BigramTable, TokenTable, UnigramTable, ValueCache, DATE_YEARS,
    UNIGRAM_POSITIONS,
};
use crate::{EncodeError, Secret};

/// What to do with a row that cannot be encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop at the first bad row (the default).
    #[default]
    Stop,
    /// Reject the row, report it, and go on.
    Skip,
}

/// Options of one encoding run.
#[derive(Clone, Debug)]
pub struct EncodeOptions {
    /// Label written to the header.
    pub source_label: SourceLabel,
    /// Bad-row policy.
    pub on_error: OnError,
    /// Creation time written to the header (seconds since the epoch).
    pub created_unix: u64,
    /// Rows per parallel chunk.
    pub chunk_rows: usize,
    /// Longest accepted record, in bytes.
    pub max_record_bytes: usize,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            source_label: SourceLabel::new("source").expect("a valid label"),
            on_error: OnError::Stop,
            created_unix: 0,
            // Small enough that the pipeline fills and drains quickly on
            // short inputs (two threads encode 20,000 rows about 15% faster
            // than with 8,192), large enough to split among threads.
            chunk_rows: 2048,
            max_record_bytes: 1 << 20,
        }
    }
}

/// A rejected row: where and why, never what.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// 0-based data row.
    pub row: u64,
    /// 1-based line.
    pub line: u64,
    /// Field or column.
    pub field: String,
    /// Reason, without the value.
    pub reason: String,
}

/// What an encoding run did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EncodeSummary {
    /// Data rows read.
    pub rows_read: u64,
    /// Rows written to the file.
    pub rows_encoded: u64,
    /// Rejected rows (with `--on-error skip`), in row order; at most 1,000 kept.
    pub rejected: Vec<Rejection>,
    /// Number of rejected rows per reason.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Mean fraction of bits set.
    pub mean_fill: f64,
    /// Missing values per field.
    pub missing_per_field: BTreeMap<String, u64>,
}

/// Where each schema field's value comes from in a record.
#[derive(Clone, Copy, Debug)]
enum Source {
    Column(usize),
    FullName {
        column: usize,
        order: NameOrder,
        part: NamePart,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NamePart {
    Given,
    Family,
}

/// A row-level failure.
#[derive(Debug)]
struct RowError {
    field: String,
    reason: String,
}

/// A chunk of records and, once encoded, their filters (`out_words` words
/// each), missing flags (one per schema field) and outcomes (the strata
/// values, or why the row failed). Reused from chunk to chunk.
#[derive(Default)]
struct Chunk {
    /// Records read (the first `len` are this chunk's).
    records: Vec<csv::ByteRecord>,
    /// Data row and line of each record.
    rows: Vec<(u64, u64)>,
    len: usize,
    words: Vec<u64>,
    missing: Vec<bool>,
    outcomes: Vec<Result<Vec<Option<String>>, RowError>>,
}

/// What has been written so far.
struct Written<W: Write> {
    writer: FileWriter<W>,
    dictionaries: Vec<Vec<String>>,
    summary: EncodeSummary,
    fill_total: f64,
}

impl pipeline::Chunk for Chunk {
    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// Words per filter and fields per record of a chunk.
#[derive(Clone, Copy)]
struct ChunkShape {
    out_words: usize,
    fields: usize,
}

/// A ready encoder: schema, profile and keys. Its `Debug` output shows the
/// schema, the profile and the (public) key check value; the keys, the
/// hardening tables and the caches of token positions are redacted.
pub struct Encoder {
    schema: Schema,
    profile: Profile,
    hashers: Vec<FieldHasher>,
    key_check: [u8; 8],
    hardener: Hardener,
    cache: PositionCache,
    /// Per field: the index of the first field sharing its hash group (the
    /// cache key, so fields of one group share cached positions).
    hash_groups: Vec<usize>,
    /// Per field: whether its bits are built from date parts
    /// ([`Encoder::date_bits`]): an encoded date with positional tokens
    /// and a fixed number of bits per token.
    date_parts: Vec<bool>,
    /// Per worker thread (by rayon's thread index): each field's bits by
    /// cell ([`crate::value_cache`]); filled on first use.
    value_caches: Box<[Mutex<Option<ValueCache<Value>>>]>,
    /// Whether records go through the value caches (not when salting mixes
    /// one field's value into another's tokens).
    use_value_cache: bool,
    /// Tests only: encode with the cache-free definition
    /// ([`filter::record_bits`]) instead of any fast path.
    #[cfg(test)]
    reference: bool,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("schema", &self.schema)
            .field("profile", &self.profile)
            .field("key_check", &self.key_check_hex())
            .field("hardener", &self.hardener)
            .field("keys_and_caches", &"<redacted>")
            .finish()
    }
}

/// Where [`Encoder::field_tokens`] finds a token's positions.
trait TokenLookup {
    /// Call `visit` with the positions of cache key `key` (hash group, k,
    /// salt, token), computed by `compute(token bytes, out)` when not
    /// cached.
    fn lookup(
        &mut self,
        key: &[u8],
        compute: &mut dyn FnMut(&[u8], &mut Vec<u32>),
        visit: impl FnOnce(&[u32]),
    );
}

/// The encoder's shared, locked token-position cache.
struct Shared<'a>(&'a PositionCache);

impl TokenLookup for Shared<'_> {
    fn lookup(
        &mut self,
        key: &[u8],
        compute: &mut dyn FnMut(&[u8], &mut Vec<u32>),
        visit: impl FnOnce(&[u32]),
    ) {
        visit(&self.0.positions(key, compute));
    }
}

impl TokenLookup for TokenTable {
    fn lookup(
        &mut self,
        key: &[u8],
        compute: &mut dyn FnMut(&[u8], &mut Vec<u32>),
        visit: impl FnOnce(&[u32]),
    ) {
        visit(self.positions(key, compute));
    }
}

/// Value caches per encoder: more than the worker threads of any pool
/// zicht makes; a thread whose slot is taken encodes without one.
const VALUE_CACHE_SLOTS: usize = 64;

impl Encoder {
    /// Derive the keys for a schema and check the profile against it.
    ///
    /// # Errors
    /// [`EncodeError::Profile`] when the profile does not map every encoded
    /// field or maps an unknown one.
    pub fn new(schema: Schema, profile: Profile, secret: &Secret) -> Result<Encoder, EncodeError> {
        profile.validate()?;
        for name in profile.columns.keys() {
            if schema.field_index(name).is_none() {
                return Err(EncodeError::Profile(format!(
                    "columns: '{name}' is not a field of the schema"
                )));
            }
        }
        for field in &schema.fields {
            let by_full_name = profile.full_name.is_some()
                && matches!(field.kind, FieldKind::GivenName | FieldKind::FamilyName)
                && !profile.columns.contains_key(&field.name);
            let used = field.encode
                || schema
                    .strata
                    .iter()
                    .any(|s| schema.fields[s.field].name == field.name);
            if used && !by_full_name && !profile.columns.contains_key(&field.name) {
                return Err(EncodeError::Profile(format!(
                    "field '{}' is not mapped to a column (add it under [columns])",
                    field.name
                )));
            }
        }
        let fingerprint = schema.fingerprint();
        let hashers = schema
            .fields
            .iter()
            .map(|f| FieldHasher::new(secret, &fingerprint, &f.hash_group))
            .collect();
        let hash_groups = schema
            .fields
            .iter()
            .map(|f| {
                schema
                    .fields
                    .iter()
                    .position(|g| g.hash_group == f.hash_group)
                    .expect("a field is in its own group")
            })
            .collect();
        let hardener = Hardener::new(
            &schema.hardening,
            schema.filter_length.bits() as usize,
            secret,
            &fingerprint,
        );
        let use_value_cache = schema.hardening.salt_fields.is_empty();
        let date_parts = schema
            .fields
            .iter()
            .map(|f| {
                f.encode
                    && f.kind == FieldKind::DateOfBirth
                    && f.tokens == TokenKind::Positional
                    && matches!(f.budget, BitBudget::PerToken(_))
            })
            .collect();
        Ok(Encoder {
            key_check: key_check_value(secret, &fingerprint),
            value_caches: (0..VALUE_CACHE_SLOTS).map(|_| Mutex::new(None)).collect(),
            use_value_cache,
            #[cfg(test)]
            reference: false,
            schema,
            profile,
            hashers,
            hardener,
            cache: PositionCache::default(),
            hash_groups,
            date_parts,
        })
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The key check value in hex.
    pub fn key_check_hex(&self) -> String {
        hex(&self.key_check)
    }

    /// Length of the filters written.
    pub fn output_length(&self) -> FilterLength {
        self.schema.output_length()
    }

    fn resolve(
        &self,
        header: Option<&[String]>,
        n_columns: usize,
    ) -> Result<Vec<Option<Source>>, EncodeError> {
        let find = |column: &ColumnRef, field: &str| -> Result<usize, EncodeError> {
            let index = match (column, header) {
                (ColumnRef::Number(n), _) => n.checked_sub(1),
                (ColumnRef::Name(name), Some(header)) => {
                    header.iter().position(|h| h.trim() == name.trim())
                }
                (ColumnRef::Name(_), None) => {
                    return Err(EncodeError::Profile(format!(
                        "field '{field}': columns must be numbers when the file has no header"
                    )))
                }
            };
            match index {
                Some(i) if i < n_columns => Ok(i),
                _ => Err(EncodeError::Input(format!(
                    "field '{field}': column {column} is not in the file"
                ))),
            }
        };
        let mut sources = Vec::with_capacity(self.schema.fields.len());
        for field in &self.schema.fields {
            let source = if let Some(column) = self.profile.columns.get(&field.name) {
                Some(Source::Column(find(column, &field.name)?))
            } else if let (Some(full), FieldKind::GivenName | FieldKind::FamilyName) =
                (&self.profile.full_name, field.kind)
            {
                let part = if field.kind == FieldKind::GivenName {
                    NamePart::Given
                } else {
                    NamePart::Family
                };
                Some(Source::FullName {
                    column: find(&full.column, &field.name)?,
                    order: full.order,
                    part,
                })
            } else {
                None
            };
            sources.push(source);
        }
        Ok(sources)
    }

    fn decode_cell<'a>(&self, bytes: &'a [u8]) -> Option<std::borrow::Cow<'a, str>> {
        match self.profile.encoding {
            TextEncoding::Utf8 => std::str::from_utf8(bytes)
                .ok()
                .map(std::borrow::Cow::Borrowed),
            TextEncoding::Windows1252 => Some(
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0,
            ),
            TextEncoding::Latin1 => Some(std::borrow::Cow::Owned(
                bytes.iter().map(|&b| char::from(b)).collect(),
            )),
        }
    }

    /// Encode one record (cells already split) into `out` (the output
    /// filter's words) and `missing` (one flag per field), returning its
    /// strata values.
    fn encode_record(
        &self,
        sources: &[Option<Source>],
        record: &csv::ByteRecord,
        row: u64,
        out: &mut [u64],
        missing: &mut [bool],
    ) -> Result<Vec<Option<String>>, RowError> {
        if self.hardener.is_active() {
            let mut words = vec![0u64; self.schema.filter_length.words()];
            let strata = self.record_bits(sources, record, &mut words, missing)?;
            out.copy_from_slice(&self.hardener.apply(words, row));
            Ok(strata)
        } else {
            out.fill(0);
            self.record_bits(sources, record, out, missing)
        }
    }

    /// A record's filter words before hardening (OR-ed into `words`), its
    /// missing flags and its strata values.
    fn record_bits(
        &self,
        sources: &[Option<Source>],
        record: &csv::ByteRecord,
        words: &mut [u64],
        missing: &mut [bool],
    ) -> Result<Vec<Option<String>>, RowError> {
        #[cfg(test)]
        if self.reference {
            let (values, is_missing) = self.record_values(sources, record)?;
            missing.copy_from_slice(&is_missing);
            let salt = self.record_salt(&values);
            filter::record_bits(
                &self.schema.fields,
                &self.hashers,
                &self.schema.hardening.salt_fields,
                &values,
                salt.as_deref(),
                self.schema.filter_length.bits(),
                words,
            );
            return Ok(self.strata_of(&values));
        }
        if self.use_value_cache {
            let slot = rayon::current_thread_index().unwrap_or(0) % self.value_caches.len();
            // A slot held by another thread (or poisoned): encode uncached.
            if let Ok(mut guard) = self.value_caches[slot].try_lock() {
                let cache = guard.get_or_insert_with(|| ValueCache::new(self.schema.fields.len()));
                return self.record_bits_cached(cache, sources, record, words, missing);
            }
        }
        let (values, is_missing) = self.record_values(sources, record)?;
        missing.copy_from_slice(&is_missing);
        self.for_each_token(&values, &mut |_, _, positions| {
            for &p in positions {
                words[p as usize / 64] |= 1 << (p % 64);
            }
        });
        Ok(self.strata_of(&values))
    }

    /// The strata values of a record's normalised values.
    fn strata_of(&self, values: &[Option<Value>]) -> Vec<Option<String>> {
        self.schema
            .strata
            .iter()
            .map(|s| {
                values[s.field]
                    .as_ref()
                    .and_then(|v| v.stratum(s.band_years))
            })
            .collect()
    }

    /// [`filter::record_salt`] of a record.
    fn record_salt(&self, values: &[Option<Value>]) -> Option<String> {
        let hardening = &self.schema.hardening;
        filter::record_salt(
            &hardening.salt_fields,
            self.schema.field_index(&hardening.salt_with),
            values,
        )
    }

    /// [`Encoder::encode_record`]'s filter words (before hardening), missing
    /// flags and strata through the value cache: exactly what
    /// [`Encoder::record_values`] and [`Encoder::for_each_token`] give.
    /// Only for schemas without salting.
    fn record_bits_cached(
        &self,
        cache: &mut ValueCache<Value>,
        sources: &[Option<Source>],
        record: &csv::ByteRecord,
        words: &mut [u64],
        missing: &mut [bool],
    ) -> Result<Vec<Option<String>>, RowError> {
        let fields = &self.schema.fields;
        let n_words = self.schema.filter_length.words();
        let bits = self.schema.filter_length.bits();
        let mut strata = vec![None; self.schema.strata.len()];
        let mut note = |index: usize, value: Option<&Value>, missing: &mut [bool]| {
            missing[index] = value.is_none();
            for (stratum, spec) in strata.iter_mut().zip(&self.schema.strata) {
                if spec.field == index {
                    *stratum = value.and_then(|v| v.stratum(spec.band_years));
                }
            }
        };
        for (index, source) in sources.iter().enumerate().take(fields.len()) {
            let Some(source) = *source else {
                continue;
            };
            if self.date_parts[index] {
                // Dates go by part, not through the field's table.
                let value = self.field_value(index, source, record)?;
                note(index, value.as_ref(), missing);
                if let Some(Value::Date(date)) = &value {
                    if self.date_bits(index, date, bits, cache, words) {
                        continue;
                    }
                }
                with_scratch(|tokens, key| {
                    let lookup = &mut cache.tokens;
                    self.field_bits(index, value.as_ref(), bits, (tokens, key), lookup, words);
                });
                continue;
            }
            let cell = Self::cell(source, record);
            if let Some(entry) = cache.get(index, cell) {
                or_into(words, entry.bits);
                note(index, entry.value, missing);
                continue;
            }
            let value = self.field_value(index, source, record)?;
            note(index, value.as_ref(), missing);
            let remember = cache.enabled(index);
            let mut field_bits = std::mem::take(&mut cache.scratch);
            field_bits.clear();
            if remember && fields[index].encode {
                field_bits.resize(n_words, 0);
            }
            let target: &mut [u64] = if remember { &mut field_bits } else { words };
            let (token_table, unigrams) = (&mut cache.tokens, &mut cache.unigrams);
            let bigrams = &mut cache.bigrams;
            with_scratch(|tokens, key| {
                let done = self.positional_shortcut(
                    index,
                    value.as_ref(),
                    bits,
                    (&mut *token_table, &mut *unigrams, &mut *key),
                    remember,
                    target,
                ) || self.bigram_shortcut(index, value.as_ref(), bits, bigrams, target);
                if !done {
                    self.field_bits(
                        index,
                        value.as_ref(),
                        bits,
                        (tokens, key),
                        token_table,
                        target,
                    );
                }
            });
            if remember {
                or_into(words, &field_bits);
                cache.insert(index, cell, value, &field_bits);
            }
            cache.scratch = field_bits;
        }
        Ok(strata)
    }

    /// Set in `target` the bits of the tokens of field `index` (unsalted)
    /// for `value`, their positions through `lookup`: the general path of
    /// the cached encoder.
    fn field_bits(
        &self,
        index: usize,
        value: Option<&Value>,
        bits: u32,
        scratch: (&mut TokenBuf, &mut Vec<u8>),
        lookup: &mut impl TokenLookup,
        target: &mut [u64],
    ) {
        let mut set = |_: usize, _: &str, positions: &[u32]| {
            for &p in positions {
                target[p as usize / 64] |= 1 << (p % 64);
            }
        };
        self.field_tokens(index, value, None, bits, scratch, lookup, &mut set);
    }

    /// OR the bits of date `date` of field `index` (one of `date_parts`)
    /// into `words`: its year part and its month-and-day part from the
    /// thread's [`DateTable`], each computed by [`Encoder::field_tokens`]
    /// on a date with only that part. Returns whether it applied (a year
    /// the table covers; if not, nothing was set).
    fn date_bits(
        &self,
        index: usize,
        date: &PartialDate,
        bits: u32,
        cache: &mut ValueCache<Value>,
        words: &mut [u64],
    ) -> bool {
        let Some(year) = date.year.filter(|&y| usize::from(y) < DATE_YEARS) else {
            return false;
        };
        let (month, day) = (date.month.unwrap_or(0), date.day.unwrap_or(0));
        if month > 12 || day > 31 {
            return false;
        }
        let (tokens, dates) = (&mut cache.tokens, &mut cache.dates);
        let part_bits = |part: PartialDate, tokens: &mut TokenTable, out: &mut [u64]| {
            with_scratch(|buffer, key| {
                self.field_bits(
                    index,
                    Some(&Value::Date(part)),
                    bits,
                    (buffer, key),
                    tokens,
                    out,
                );
            });
        };
        let width = words.len();
        let year_bits = dates.year(index, year, width, |out| {
            let part = PartialDate {
                year: Some(year),
                month: None,
                day: None,
            };
            part_bits(part, tokens, out);
        });
        or_into(words, year_bits);
        let month_day_bits = dates.month_day(index, month, day, width, |out| {
            let part = PartialDate {
                year: None,
                month: date.month,
                day: date.day,
            };
            part_bits(part, tokens, out);
        });
        or_into(words, month_day_bits);
        true
    }

    /// [`Encoder::field_tokens`] for the bigrams of ASCII text with a
    /// fixed number of bits per token, setting the bits in `target`: each
    /// word's bigrams (with its padding) looked up by their two bytes. Equal
    /// to the general path because a token's bits do not depend on where it
    /// comes or whether it repeats. Returns whether it applied (if not,
    /// nothing was set). Not for words too short for a bigram. Only for
    /// unsalted fields.
    fn bigram_shortcut(
        &self,
        index: usize,
        value: Option<&Value>,
        bits: u32,
        bigrams: &mut BigramTable,
        target: &mut [u64],
    ) -> bool {
        let field = &self.schema.fields[index];
        let (true, TokenKind::Qgram, 2, BitBudget::PerToken(k)) =
            (field.encode, field.tokens, field.q, field.budget)
        else {
            return false;
        };
        let Some(Value::Text(text)) = value else {
            return false;
        };
        let words = || text.split(' ').filter(|w| !w.is_empty());
        if !text.is_ascii() || (!field.padding && words().any(|w| w.len() < 2)) {
            return false;
        }
        // A given name's later words weigh less (`filter::field_tokens`):
        // their bigrams get `k_other` bits, kept apart in the table under
        // field `index + fields`. A bigram of both the first and a later
        // word keeps `k`; its `k_other` positions are the first of its `k`,
        // so the union below is the same.
        let mut k_later = k;
        if field.kind == FieldKind::GivenName && text.contains(' ') {
            if text.split(' ').next().is_none_or(str::is_empty) {
                return false;
            }
            k_later = filter::later_word_bits(field, k);
        }
        let hasher = &self.hashers[index];
        for (nth, word) in words().enumerate() {
            let (k, table) = if nth == 0 || k_later == k {
                (k, index)
            } else {
                (k_later, index + self.schema.fields.len())
            };
            let bytes = word.as_bytes();
            let (mut previous, rest) = if field.padding {
                (b'_', bytes)
            } else {
                (bytes[0], &bytes[1..])
            };
            let padding = field.padding.then_some(b'_');
            for byte in rest.iter().copied().chain(padding) {
                let positions = bigrams.positions(table, previous, byte, |out| {
                    hasher.positions(&[previous, byte], k, bits, out);
                });
                for &p in positions {
                    target[p as usize / 64] |= 1 << (p % 64);
                }
                previous = byte;
            }
        }
        true
    }

    /// [`Encoder::field_tokens`] for positional tokens of a short ASCII
    /// value with a fixed number of bits per token, setting the bits in
    /// `target`: token `i` is "{i}:{byte}", looked up by position and
    /// byte, then the whole-value token (its cache key built in `key`;
    /// looked up in `tokens` only when `values_repeat`: the field's values
    /// are remembered, so its whole values may come again).
    /// Returns whether it applied (if not, nothing was set). Only for
    /// unsalted fields.
    fn positional_shortcut(
        &self,
        index: usize,
        value: Option<&Value>,
        bits: u32,
        (tokens, unigrams, key): (&mut TokenTable, &mut UnigramTable, &mut Vec<u8>),
        values_repeat: bool,
        target: &mut [u64],
    ) -> bool {
        let field = &self.schema.fields[index];
        let (true, TokenKind::Positional, BitBudget::PerToken(k)) =
            (field.encode, field.tokens, field.budget)
        else {
            return false;
        };
        let Some(Value::Text(text) | Value::Exact(text) | Value::Identifier(text)) = value else {
            return false;
        };
        if !text.is_ascii() || text.len() > UNIGRAM_POSITIONS || k > 255 {
            return false;
        }
        let hasher = &self.hashers[index];
        let mut set = |positions: &[u32]| {
            for &p in positions {
                target[p as usize / 64] |= 1 << (p % 64);
            }
        };
        let mut token = [0u8; 4];
        for (position, byte) in text.bytes().enumerate() {
            set(unigrams.positions(index, position, byte, |out| {
                // "{position}:{byte}".
                let token = unigram_token(position, b':', byte, &mut token);
                hasher.positions(token, k, bits, out);
            }));
        }
        key.clear();
        key.extend_from_slice(&(self.hash_groups[index] as u16).to_le_bytes());
        key.push(k as u8);
        key.extend_from_slice(b"all:");
        key.extend_from_slice(text.as_bytes());
        let mut compute =
            |token_bytes: &[u8], out: &mut Vec<u32>| hasher.positions(token_bytes, k, bits, out);
        if values_repeat {
            set(tokens.positions(key, &mut compute));
        } else {
            set(tokens.compute(key, &mut compute));
        }
        true
    }

    /// The normalised value of every schema field of a record (`None` when
    /// missing or unmapped) and which fields were missing.
    fn record_values(
        &self,
        sources: &[Option<Source>],
        record: &csv::ByteRecord,
    ) -> Result<(Vec<Option<Value>>, Vec<bool>), RowError> {
        let fields = &self.schema.fields;
        let mut missing = vec![false; fields.len()];
        let mut values: Vec<Option<Value>> = Vec::with_capacity(fields.len());
        for (index, source) in sources.iter().enumerate().take(fields.len()) {
            let Some(source) = *source else {
                values.push(None);
                continue;
            };
            let value = self.field_value(index, source, record)?;
            missing[index] = value.is_none();
            values.push(value);
        }
        Ok((values, missing))
    }

    /// The cell of `record` that field `source` reads (the whole full-name
    /// cell for a name part).
    fn cell(source: Source, record: &csv::ByteRecord) -> &[u8] {
        let column = match source {
            Source::Column(c) | Source::FullName { column: c, .. } => c,
        };
        record.get(column).unwrap_or_default()
    }

    /// The normalised value of field `index` read from `source`, `None`
    /// when it is missing. Depends only on the field and its cell.
    fn field_value(
        &self,
        index: usize,
        source: Source,
        record: &csv::ByteRecord,
    ) -> Result<Option<Value>, RowError> {
        let field = &self.schema.fields[index];
        let raw = self
            .decode_cell(Self::cell(source, record))
            .ok_or_else(|| RowError {
                field: field.name.clone(),
                reason: "invalid UTF-8 (set encoding in the profile)".into(),
            })?;
        let raw = match source {
            Source::Column(_) => raw,
            Source::FullName { order, part, .. } => {
                std::borrow::Cow::Owned(split_full_name(&raw, order, part))
            }
        };
        if self.profile.is_missing(&raw) {
            return Ok(None);
        }
        let value = self.value(field.kind, &raw).map_err(|reason| RowError {
            field: field.name.clone(),
            reason,
        })?;
        Ok((!value.is_empty()).then_some(value))
    }

    /// Call `visit(field index, token, positions)` for every token of every
    /// encoded field of a record, with the token's positions before hardening.
    fn for_each_token(&self, values: &[Option<Value>], visit: &mut dyn FnMut(usize, &str, &[u32])) {
        let bits = self.schema.filter_length.bits();
        let salt = self.record_salt(values);
        with_scratch(|tokens, key| {
            self.for_each_token_with(values, salt.as_deref(), bits, tokens, key, visit);
        });
    }

    /// [`Encoder::for_each_token`] with the salt resolved and scratch
    /// buffers supplied.
    fn for_each_token_with(
        &self,
        values: &[Option<Value>],
        salt: Option<&str>,
        bits: u32,
        tokens: &mut TokenBuf,
        key: &mut Vec<u8>,
        visit: &mut dyn FnMut(usize, &str, &[u32]),
    ) {
        for (index, value) in values.iter().enumerate() {
            self.field_tokens(
                index,
                value.as_ref(),
                salt,
                bits,
                (tokens, key),
                &mut Shared(&self.cache),
                visit,
            );
        }
    }

    /// Call `visit(index, token, positions)` for every token of field
    /// `index` with value `value` (`None`: missing).
    /// Positions come from `lookup`.
    #[allow(clippy::too_many_arguments)]
    fn field_tokens(
        &self,
        index: usize,
        value: Option<&Value>,
        salt: Option<&str>,
        bits: u32,
        (tokens, key): (&mut TokenBuf, &mut Vec<u8>),
        lookup: &mut impl TokenLookup,
        visit: &mut (impl FnMut(usize, &str, &[u32]) + ?Sized),
    ) {
        let field = &self.schema.fields[index];
        let Some(weights) = filter::field_tokens(field, value, tokens) else {
            return;
        };
        let salted = salt.filter(|_| self.schema.hardening.salt_fields.contains(&field.name));
        let hasher = &self.hashers[index];
        for position in 0..tokens.len() {
            let token = tokens.get(position);
            let k = weights.bits_of(position);
            // The cache key: hash group and k, then exactly the bytes the
            // definition hashes.
            key.clear();
            key.extend_from_slice(&(self.hash_groups[index] as u16).to_le_bytes());
            key.push(k as u8);
            filter::hashed_bytes(salted, token, key);
            lookup.lookup(
                key,
                &mut |token_bytes, out| hasher.positions(token_bytes, k, bits, out),
                |positions| visit(index, token, positions),
            );
        }
    }

    fn value(&self, kind: FieldKind, raw: &str) -> Result<Value, String> {
        Value::normalise(kind, raw, &self.profile)
    }

    /// Read the first record: the column names when the profile says the
    /// file has a header (the first data row is then `None`), else the first
    /// data row. Also returns the number of columns.
    ///
    /// # Errors
    /// An empty file, a header that is not valid text, or a bad record.
    fn read_header<R: Read>(
        &self,
        reader: &mut csv::Reader<BoundedReader<R>>,
        options: &EncodeOptions,
    ) -> Result<FirstRecord, EncodeError> {
        let mut first = csv::ByteRecord::new();
        if !read_record(reader, &mut first, 0, options)? {
            return Err(EncodeError::Input("the file is empty".into()));
        }
        strip_bom(&mut first);
        let n_columns = first.len();
        if !self.profile.header {
            return Ok(FirstRecord {
                header: None,
                first_row: Some(first),
                n_columns,
            });
        }
        let names = (0..n_columns)
            .map(|i| {
                self.decode_cell(&first[i])
                    .map(|c| c.into_owned())
                    .ok_or_else(|| {
                        EncodeError::Input(format!(
                            "the header's column {} is not valid text",
                            i + 1
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FirstRecord {
            header: Some(names),
            first_row: None,
            n_columns,
        })
    }

    /// A CSV reader over `input` with the profile's delimiter, whose memory
    /// per record is bounded by about `max_record_bytes`.
    fn csv_reader<R: Read>(
        &self,
        input: R,
        max_record_bytes: usize,
    ) -> Result<csv::Reader<BoundedReader<R>>, EncodeError> {
        Ok(csv::ReaderBuilder::new()
            .delimiter(self.profile.delimiter_byte()?)
            .has_headers(false)
            .flexible(true)
            .from_reader(BoundedReader {
                inner: input,
                since_record: 0,
                // The CSV reader reads ahead by its buffer (8 KiB), so allow
                // a margin beyond the limit before refusing.
                limit: max_record_bytes as u64 + (64 << 10),
            }))
    }

    /// Read up to `chunk_rows` records into `chunk` (after `first`, a row
    /// read before). Returns whether the input may have more.
    fn fill_chunk<R: Read>(
        &self,
        reader: &mut csv::Reader<BoundedReader<R>>,
        chunk: &mut Chunk,
        first: Option<csv::ByteRecord>,
        chunk_rows: usize,
        next_row: &mut u64,
        options: &EncodeOptions,
    ) -> Result<bool, EncodeError> {
        chunk.len = 0;
        chunk.rows.clear();
        if let Some(record) = first {
            chunk.records.truncate(0);
            chunk.records.push(record);
            chunk.rows.push((*next_row, 1));
            chunk.len = 1;
            *next_row += 1;
        }
        while chunk.len < chunk_rows {
            if chunk.records.len() == chunk.len {
                // Sized like the record before it, so that it need not grow
                // field by field.
                let record = match chunk.records.last() {
                    Some(last) => {
                        csv::ByteRecord::with_capacity(2 * last.as_slice().len(), last.len())
                    }
                    None => csv::ByteRecord::new(),
                };
                chunk.records.push(record);
            }
            let record = &mut chunk.records[chunk.len];
            if !read_record(reader, record, *next_row, options)? {
                return Ok(false);
            }
            let line = record.position().map_or(0, |p| p.line());
            chunk.rows.push((*next_row, line));
            chunk.len += 1;
            *next_row += 1;
        }
        Ok(true)
    }

    /// Write the encoded rows of `chunk` (then empty it), or stop at the
    /// first bad row with [`OnError::Stop`].
    fn write_chunk<W: Write>(
        &self,
        chunk: &mut Chunk,
        shape: ChunkShape,
        written: &mut Written<W>,
        options: &EncodeOptions,
    ) -> Result<(), EncodeError> {
        let summary = &mut written.summary;
        for (index, outcome) in chunk.outcomes.drain(..).enumerate() {
            let (row, line) = chunk.rows[index];
            summary.rows_read += 1;
            match outcome {
                Ok(strata) => {
                    let codes: Vec<u16> = strata
                        .iter()
                        .zip(written.dictionaries.iter_mut())
                        .map(|(value, dictionary)| code_of(value.as_deref(), dictionary))
                        .collect::<Result<_, _>>()?;
                    let words = &chunk.words[index * shape.out_words..][..shape.out_words];
                    written.writer.push(row, &codes, words)?;
                    summary.rows_encoded += 1;
                    let set: u32 = words.iter().map(|w| w.count_ones()).sum();
                    written.fill_total += f64::from(set) / (words.len() * 64) as f64;
                    let missing = &chunk.missing[index * shape.fields..][..shape.fields];
                    for (field, _) in missing.iter().enumerate().filter(|m| *m.1) {
                        *summary
                            .missing_per_field
                            .get_mut(&self.schema.fields[field].name)
                            .expect("every field has an entry") += 1;
                    }
                }
                Err(error) => {
                    if options.on_error == OnError::Stop {
                        return Err(EncodeError::Row {
                            row,
                            line,
                            field: error.field,
                            reason: error.reason,
                        });
                    }
                    *summary
                        .rejected_by_reason
                        .entry(error.reason.clone())
                        .or_insert(0) += 1;
                    if summary.rejected.len() < 1000 {
                        summary.rejected.push(Rejection {
                            row,
                            line,
                            field: error.field,
                            reason: error.reason,
                        });
                    }
                }
            }
        }
        chunk.len = 0;
        Ok(())
    }

    /// Encode the records of `chunk` in parallel into its words, missing
    /// flags and outcomes.
    fn encode_chunk(
        &self,
        sources: &[Option<Source>],
        chunk: &mut Chunk,
        shape: ChunkShape,
        n_columns: usize,
    ) {
        let n = chunk.len;
        chunk.words.clear();
        chunk.words.resize(n * shape.out_words, 0);
        chunk.missing.clear();
        chunk.missing.resize(n * shape.fields, false);
        chunk.records[..n]
            .par_iter()
            .zip(&chunk.rows[..n])
            .zip(chunk.words.par_chunks_mut(shape.out_words.max(1)))
            .zip(chunk.missing.par_chunks_mut(shape.fields.max(1)))
            .map(|(((record, &(row, _)), words), missing)| {
                if record.len() != n_columns {
                    return Err(RowError {
                        field: "(record)".into(),
                        reason: format!("has {} fields, expected {}", record.len(), n_columns),
                    });
                }
                self.encode_record(sources, record, row, words, missing)
            })
            .collect_into_vec(&mut chunk.outcomes);
    }

    /// Stream a CSV into an encoded file.
    ///
    /// `progress` is called with the number of rows read after each chunk.
    ///
    /// # Errors
    /// The first bad row (with [`OnError::Stop`]), malformed input, or I/O.
    pub fn encode_csv<R: Read, W: Write>(
        &self,
        input: R,
        output: W,
        options: &EncodeOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(W, EncodeSummary), EncodeError> {
        let mut reader = self.csv_reader(input, options.max_record_bytes)?;
        let FirstRecord {
            header,
            first_row: mut pending,
            n_columns,
        } = self.read_header(&mut reader, options)?;
        let sources = self.resolve(header.as_deref(), n_columns)?;
        let n_strata = self.schema.strata.len();
        let mut written = Written {
            writer: FileWriter::new(output, self.output_length(), n_strata)?,
            dictionaries: vec![Vec::new(); n_strata],
            summary: EncodeSummary::default(),
            fill_total: 0.0,
        };
        for field in &self.schema.fields {
            written
                .summary
                .missing_per_field
                .insert(field.name.clone(), 0);
        }
        let mut next_row = 0u64;
        let chunk_rows = options.chunk_rows.max(1);
        let shape = ChunkShape {
            out_words: self.output_length().words(),
            fields: self.schema.fields.len(),
        };
        let mut first = Chunk::default();
        let more = self.fill_chunk(
            &mut reader,
            &mut first,
            pending.take(),
            chunk_rows,
            &mut next_row,
            options,
        )?;
        pipeline::run(
            first,
            more,
            |chunk| self.fill_chunk(&mut reader, chunk, None, chunk_rows, &mut next_row, options),
            &|chunk| self.encode_chunk(&sources, chunk, shape, n_columns),
            |chunk| {
                let wrote = self.write_chunk(chunk, shape, &mut written, options);
                progress(written.summary.rows_read);
                wrote
            },
        )?;
        let Written {
            writer,
            dictionaries,
            mut summary,
            fill_total,
        } = written;
        if summary.rows_read == 0 {
            return Err(EncodeError::Input(
                "the file has a header but no data rows".into(),
            ));
        }
        if summary.rows_encoded == 0 {
            return Err(EncodeError::Input(
                "every row was rejected; nothing to encode".into(),
            ));
        }
        summary.mean_fill = fill_total / summary.rows_encoded as f64;
        let header = Header {
            source_label: options.source_label.to_string(),
            filter_bits: self.output_length().bits(),
            schema_fingerprint: self.schema.fingerprint_hex(),
            key_check: self.key_check_hex(),
            encoding: zicht_format::Encoding::ZichtV1,
            hardening: self.hardener.header_map(),
            strata: self
                .schema
                .strata
                .iter()
                .zip(dictionaries)
                .map(|(spec, values)| Stratum {
                    name: spec.name.clone(),
                    values,
                })
                .collect(),
            created_unix: options.created_unix,
            zicht_version: env!("CARGO_PKG_VERSION").into(),
        };
        let output = writer.finish(&header)?;
        Ok((output, summary))
    }

    /// For the agency's own audit (`zicht audit --plaintext`): read a CSV as
    /// [`Encoder::encode_csv`] does and return, for each data row that
    /// `keep(row)` accepts, every token of every encoded field with its
    /// positions before hardening, and the filter exactly as `encode_csv`
    /// writes it. Rows that cannot be encoded are left out, as they are left
    /// out of an encoded file.
    ///
    /// The result holds plaintext tokens: it must never leave the agency and
    /// is never printed (its `Debug` output is redacted).
    ///
    /// # Errors
    /// An empty or malformed file, a header without the profile's columns,
    /// or I/O.
    pub fn inspect_csv<R: Read>(
        &self,
        input: R,
        keep: &(dyn Fn(u64) -> bool + Sync),
    ) -> Result<Vec<RecordTokens>, EncodeError> {
        let options = EncodeOptions::default();
        let mut reader = self.csv_reader(input, options.max_record_bytes)?;
        let FirstRecord {
            header,
            first_row: first_data_row,
            n_columns,
        } = self.read_header(&mut reader, &options)?;
        let mut kept: Vec<(u64, csv::ByteRecord)> = Vec::new();
        if let Some(first) = first_data_row.filter(|_| keep(0)) {
            kept.push((0, first));
        }
        let sources = self.resolve(header.as_deref(), n_columns)?;
        let mut row = u64::from(!self.profile.header);
        loop {
            let mut record = csv::ByteRecord::new();
            if !read_record(&mut reader, &mut record, row, &options)? {
                break;
            }
            if keep(row) {
                kept.push((row, record));
            }
            row += 1;
        }
        let inspected = kept
            .par_iter()
            .filter(|(_, record)| record.len() == n_columns)
            .filter_map(|(row, record)| {
                let (values, _) = self.record_values(&sources, record).ok()?;
                let mut words = vec![0u64; self.schema.filter_length.words()];
                let mut fields: Vec<FieldTokens> = Vec::new();
                self.for_each_token(&values, &mut |field, token, positions| {
                    for &p in positions {
                        words[p as usize / 64] |= 1 << (p % 64);
                    }
                    if fields.last().is_none_or(|f| f.field != field) {
                        let value_chars = values[field]
                            .as_ref()
                            .map_or(0, |v| v.canonical().chars().count());
                        fields.push(FieldTokens {
                            field,
                            value_chars,
                            tokens: Vec::new(),
                        });
                    }
                    if let Some(last) = fields.last_mut() {
                        last.tokens.push(TokenPositions {
                            token: token.to_string(),
                            positions: positions.to_vec(),
                        });
                    }
                });
                let words = if self.hardener.is_active() {
                    self.hardener.apply(words, *row)
                } else {
                    words
                };
                Some(RecordTokens {
                    row: *row,
                    fields,
                    words,
                })
            })
            .collect();
        Ok(inspected)
    }
}

/// Run `f` with this thread's token buffer and cache-key buffer (hash
/// group, k, salt, token), reused across fields, tokens and records so that
/// tokens cost no allocation; fresh buffers when re-entered.
fn with_scratch<T>(f: impl FnOnce(&mut TokenBuf, &mut Vec<u8>) -> T) -> T {
    thread_local! {
        static SCRATCH: std::cell::RefCell<(TokenBuf, Vec<u8>)> =
            std::cell::RefCell::new((TokenBuf::default(), Vec::with_capacity(64)));
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            let (tokens, key) = &mut *scratch;
            f(tokens, key)
        }
        Err(_) => f(&mut TokenBuf::default(), &mut Vec::with_capacity(64)),
    })
}

fn code_of(value: Option<&str>, dictionary: &mut Vec<String>) -> Result<u16, EncodeError> {
    let Some(value) = value else {
        return Ok(UNKNOWN_STRATUM);
    };
    if let Some(i) = dictionary.iter().position(|v| v == value) {
        return Ok(i as u16);
    }
    if dictionary.len() >= usize::from(UNKNOWN_STRATUM) - 1 {
        return Err(EncodeError::Schema(
            "a stratum has more than 65,000 distinct values".into(),
        ));
    }
    dictionary.push(value.to_string());
    Ok((dictionary.len() - 1) as u16)
}

/// What the first record of a CSV gives: column names when it is a header,
/// else the first data row; and the number of columns.
struct FirstRecord {
    header: Option<Vec<String>>,
    first_row: Option<csv::ByteRecord>,
    n_columns: usize,
}

/// A reader that refuses to deliver more than `limit` bytes between two
/// records, so that one endless record cannot exhaust memory.
struct BoundedReader<R> {
    inner: R,
    since_record: u64,
    limit: u64,
}

/// The error a [`BoundedReader`] gives for an over-long record.
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("record too long")
    }
}

impl std::error::Error for RecordTooLong {}

impl<R: Read> Read for BoundedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.since_record >= self.limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                RecordTooLong,
            ));
        }
        let n = self.inner.read(buf)?;
        self.since_record += n as u64;
        Ok(n)
    }
}

fn read_record<R: Read>(
    reader: &mut csv::Reader<BoundedReader<R>>,
    record: &mut csv::ByteRecord,
    row: u64,
    options: &EncodeOptions,
) -> Result<bool, EncodeError> {
    let line_before = reader.position().line();
    let result = reader.read_byte_record(record);
    reader.get_mut().since_record = 0;
    match result {
        Ok(more) => {
            if more && record.as_slice().len() > options.max_record_bytes {
                return Err(EncodeError::Row {
                    row,
                    line: record.position().map_or(0, |p| p.line()),
                    field: "(record)".into(),
                    reason: format!(
                        "is longer than the limit of {} bytes",
                        options.max_record_bytes
                    ),
                });
            }
            Ok(more)
        }
        Err(error) => {
            let line = error.position().map_or(line_before, |p| p.line());
            match error.into_kind() {
                csv::ErrorKind::Io(source)
                    if source.get_ref().is_some_and(|e| e.is::<RecordTooLong>()) =>
                {
                    Err(EncodeError::Row {
                        row,
                        line,
                        field: "(record)".into(),
                        reason: format!(
                            "is longer than the limit of {} bytes",
                            options.max_record_bytes
                        ),
                    })
                }
                csv::ErrorKind::Io(source) => Err(EncodeError::Io {
                    context: format!("cannot read the input near line {line}"),
                    source,
                }),
                _ => Err(EncodeError::Row {
                    row,
                    line,
                    field: "(record)".into(),
                    reason: "is not valid CSV".into(),
                }),
            }
        }
    }
}

fn strip_bom(record: &mut csv::ByteRecord) {
    if record
        .get(0)
        .is_some_and(|f| f.starts_with(b"\xEF\xBB\xBF"))
    {
        let mut fixed = csv::ByteRecord::new();
        for (i, field) in record.iter().enumerate() {
            fixed.push_field(if i == 0 { &field[3..] } else { field });
        }
        fixed.set_position(record.position().cloned());
        *record = fixed;
    }
}

/// Split a full-name cell into the requested part.
fn split_full_name(raw: &str, order: NameOrder, part: NamePart) -> String {
    match order {
        NameOrder::FamilyGiven => {
            // "Family, Given", and also "Family, particles, Given" as in
            // "Berg, van den, Anna": segments made only of particles belong
            // to the family name.
            let mut segments = raw.split(',');
            let mut family = segments.next().unwrap_or_default().to_string();
            let mut given = Vec::new();
            for segment in segments {
                let words = normalize_text(segment);
                let only_particles = !words.is_empty() && words.split(' ').all(is_particle);
                if given.is_empty() && only_particles {
                    family.push(' ');
                    family.push_str(segment);
                } else {
                    given.push(segment);
                }
            }
            match part {
                NamePart::Family => family,
                NamePart::Given => given.join(" "),
            }
        }
        NameOrder::GivenFamily => {
            let normalized = normalize_text(raw);
            let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
            if words.is_empty() {
                return String::new();
            }
            // The family name is the last word plus any particles before it.
            let mut start = words.len() - 1;
            while start > 1 && is_particle(words[start - 1]) {
                start -= 1;
            }
            match part {
                NamePart::Family => words[start..].join(" "),
                NamePart::Given => words[..start].join(" "),
            }
        }
    }
}

/// A bounded, sharded cache of token positions: names share most of their
/// q-grams, so most tokens were hashed before. Keys are the field index, k,
/// the salt and the token; entries live as long as the encoder.
#[derive(Default)]
struct PositionCache {
    shards: [Mutex<Shard>; CACHE_SHARDS],
}

impl std::fmt::Debug for PositionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PositionCache(<redacted>)")
    }
}

const CACHE_SHARDS: usize = 16;

/// One shard: key bytes to positions.
type Shard = HashMap<Vec<u8>, Arc<[u32]>, BuildHasherDefault<FxHasher>>;
/// Entries per shard before the shard is emptied (bounds memory).
const CACHE_SHARD_CAPACITY: usize = 1 << 13;

impl PositionCache {
    /// The positions for `key` (a 3-byte field and k prefix, then the
    /// token), computed by `compute(token_bytes, out)` on a miss.
    fn positions(&self, key: &[u8], compute: &mut dyn FnMut(&[u8], &mut Vec<u32>)) -> Arc<[u32]> {
        let mut hasher = FxHasher::default();
        key.hash(&mut hasher);
        let shard = &self.shards[(hasher.finish() >> 32) as usize % CACHE_SHARDS];
        if let Some(found) = shard.lock().unwrap_or_else(|p| p.into_inner()).get(key) {
            return Arc::clone(found);
        }
        let mut out = Vec::with_capacity(32);
        compute(&key[3..], &mut out);
        let positions: Arc<[u32]> = out.into();
        let mut guard = shard.lock().unwrap_or_else(|p| p.into_inner());
        if guard.len() >= CACHE_SHARD_CAPACITY {
            guard.clear();
        }
        guard.insert(key.to_vec(), Arc::clone(&positions));
        positions
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::profile::ColumnRef;

    const SCHEMA: &str = r#"
version = 1
[[field]]
name = "given_name"
kind = "given_name"
[[field]]
name = "family_name"
kind = "family_name"
[[field]]
name = "date_of_birth"
kind = "date_of_birth"
"#;

    fn encoder(secret_byte: u8) -> Encoder {
        let mut profile = Profile::default();
        for field in ["given_name", "family_name", "date_of_birth"] {
            profile
                .columns
                .insert(field.into(), ColumnRef::Name(field.into()));
        }
        let secret = Secret::from_bytes(vec![secret_byte; 32]).unwrap();
        Encoder::new(Schema::from_toml(SCHEMA).unwrap(), profile, &secret).unwrap()
    }

    fn encode(encoder: &Encoder, csv: &str, threads: usize, chunk_rows: usize) -> Vec<u8> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let options = EncodeOptions {
            chunk_rows,
            ..EncodeOptions::default()
        };
        pool.install(|| encoder.encode_csv(csv.as_bytes(), Vec::new(), &options, &|_| {}))
            .unwrap()
            .0
    }

    fn name() -> impl Strategy<Value = String> {
        "[A-Za-zéöłş]{1,12}( [A-Za-z]{2,8})?"
    }

    /// A schema exercising everything the value cache must reproduce:
    /// strata, a field only used for a stratum, missing tokens, several
    /// kinds, and (optionally) hardening.
    /// Field settings for [`cache_test_encoder`], one variant per case
    /// the shortcuts must step aside for: defaults; no padding, later
    /// given names at full weight, a family name in a hash group of its
    /// own with trigrams, a budget per field for dates, a missing token for
    /// documents; budgets per field for names and dates as q-grams.
    const CACHE_TEST_FIELD_SETTINGS: [[&str; 4]; 3] = [
        ["", "missing = \"token\"", "", ""],
        [
            "padding = false\nother_names_weight = 1.0",
            "missing = \"token\"\nhash_group = \"family\"\nq = 3",
            "bits_per_field = 60",
            "missing = \"token\"",
        ],
        [
            "bits_per_field = 100",
            "padding = false",
            "tokens = \"qgram\"",
            "bits_per_field = 40",
        ],
    ];

    fn cache_test_encoder(hardening: &str, full_name: bool, settings: usize) -> Encoder {
        let [given, family, date, document] = CACHE_TEST_FIELD_SETTINGS[settings];
        let schema = format!(
            r#"
version = 1
filter_bits = 512
[[field]]
name = "given_name"
kind = "given_name"
{given}
[[field]]
name = "family_name"
kind = "family_name"
{family}
[[field]]
name = "date_of_birth"
kind = "date_of_birth"
{date}
[[field]]
name = "sex"
kind = "sex"
[[field]]
name = "document"
kind = "identifier"
{document}
[[field]]
name = "exploitation"
kind = "category"
encode = false
[[stratum]]
name = "sex"
field = "sex"
[[stratum]]
name = "decade"
field = "date_of_birth"
band_years = 10
[[stratum]]
name = "exploitation"
field = "exploitation"
{hardening}
"#
        );
        let mut profile = Profile::default();
        let columns: &[&str] = if full_name {
            &["date_of_birth", "sex", "document", "exploitation"]
        } else {
            &[
                "given_name",
                "family_name",
                "date_of_birth",
                "sex",
                "document",
                "exploitation",
            ]
        };
        for field in columns {
            profile
                .columns
                .insert((*field).into(), ColumnRef::Name((*field).into()));
        }
        if full_name {
            profile.full_name = Some(crate::profile::FullName {
                column: ColumnRef::Name("name".into()),
                order: NameOrder::GivenFamily,
            });
        }
        let secret = Secret::from_bytes(vec![7; 32]).unwrap();
        Encoder::new(Schema::from_toml(&schema).unwrap(), profile, &secret).unwrap()
    }

    /// Rows drawn from small pools so that cells repeat, with missing,
    /// invalid and unknown values among them.
    fn cache_test_rows() -> impl Strategy<Value = Vec<[usize; 6]>> {
        prop::collection::vec(
            [
                0usize..7,
                0usize..5,
                0usize..8,
                0usize..4,
                0usize..40,
                0usize..3,
            ],
            1..120,
        )
    }

    fn cache_test_csv(rows: &[[usize; 6]], full_name: bool) -> String {
        // "anna maria" and "Maria Anna": the same bigrams in first and
        // later words (which weigh differently).
        const GIVEN: [&str; 7] = [
            "Anna",
            "anna maria",
            "",
            "Jan",
            "Zeynep",
            " Élif ",
            "Maria Anna",
        ];
        const FAMILY: [&str; 5] = ["de Vries", "", "Vanderbeek", "Yılmaz", "Jansen"];
        // Full dates, a year alone, day-month-year, a leap day.
        const DATES: [&str; 8] = [
            "1990-01-02",
            "1985-12-31",
            "",
            "not a date",
            "1990",
            "04-07-2001",
            "2000-02-29",
            "1990-01-02",
        ];
        const SEX: [&str; 4] = ["F", "M", "", "?"];
        const EXPLOITATION: [&str; 3] = ["labour", "", "sexual"];
        let mut csv = if full_name {
            String::from("name,date_of_birth,sex,document,exploitation\n")
        } else {
            String::from("given_name,family_name,date_of_birth,sex,document,exploitation\n")
        };
        for r in rows {
            let document = if r[4] < 10 {
                String::new()
            } else {
                format!("NX{:07}", r[4] * 7919)
            };
            if full_name {
                csv.push_str(&format!(
                    "\"{} {}\",{},{},{},{}\n",
                    GIVEN[r[0]], FAMILY[r[1]], DATES[r[2]], SEX[r[3]], document, EXPLOITATION[r[5]]
                ));
            } else {
                csv.push_str(&format!(
                    "\"{}\",{},{},{},{},{}\n",
                    GIVEN[r[0]], FAMILY[r[1]], DATES[r[2]], SEX[r[3]], document, EXPLOITATION[r[5]]
                ));
            }
        }
        csv
    }

    fn encode_skipping(
        encoder: &Encoder,
        csv: &str,
        threads: usize,
        chunk_rows: usize,
    ) -> (Vec<u8>, String) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let options = EncodeOptions {
            chunk_rows,
            on_error: OnError::Skip,
            ..EncodeOptions::default()
        };
        match pool.install(|| encoder.encode_csv(csv.as_bytes(), Vec::new(), &options, &|_| {})) {
            Ok((bytes, summary)) => (bytes, serde_json::to_string(&summary).unwrap()),
            Err(error) => (Vec::new(), error.to_string()),
        }
    }

    fn csv_of(rows: &[(String, String, u32)]) -> String {
        let mut csv = String::from("given_name,family_name,date_of_birth\n");
        for (given, family, day) in rows {
            csv.push_str(&format!("{given},{family},1990-01-{:02}\n", day % 28 + 1));
        }
        csv
    }

    /// `Debug` shows no key-derived table: neither the hardening's
    /// permutation and diffusion tables nor any cached position.
    #[test]
    fn debug_output_is_redacted() {
        let encoder = cache_test_encoder(
            "[hardening]\nbalance = true\ndiffusion_t = 3\nblip_f = 0.05",
            false,
            0,
        );
        encode(&encoder, "given_name,family_name,date_of_birth,sex,document,exploitation\nAnna,Jansen,1990-01-02,F,NX1,labour\n", 1, 8);
        let text = format!("{encoder:?}");
        assert!(text.contains("<redacted>"), "{text}");
        assert!(
            !text.contains("permutation") && !text.contains("diffusion: ["),
            "{text}"
        );
        // The tables would print as long lists of bit positions.
        assert!(
            text.len() < 8_000,
            "{} characters of Debug output",
            text.len()
        );
        let hardener = format!("{:?}", encoder.hardener);
        assert!(
            hardener.contains("<redacted>") && hardener.len() < 1_000,
            "{hardener}"
        );
    }

    /// Errors come in file order although chunks are read, encoded and
    /// written at the same time: a bad value in an early chunk wins over an
    /// unreadable record in a later one.
    #[test]
    fn errors_come_in_file_order() {
        let mut csv = String::from("given_name,family_name,date_of_birth\n");
        for row in 0..40 {
            let date = if row == 3 { "not a date" } else { "1990-01-02" };
            let given = if row == 30 {
                "x".repeat(400)
            } else {
                "Anna".into()
            };
            csv.push_str(&format!("{given},Jansen,{date}\n"));
        }
        let encoder = encoder(1);
        for (on_error, expected_row) in [(OnError::Stop, 3), (OnError::Skip, 30)] {
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let options = EncodeOptions {
                    chunk_rows: 2,
                    on_error,
                    max_record_bytes: 100,
                    ..EncodeOptions::default()
                };
                let error = pool
                    .install(|| encoder.encode_csv(csv.as_bytes(), Vec::new(), &options, &|_| {}))
                    .unwrap_err();
                match error {
                    EncodeError::Row { row, .. } => assert_eq!(row, expected_row, "{on_error:?}"),
                    other => panic!("{other}"),
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// The same input and secret give the same bytes whatever the thread
        /// count and chunk size; another secret gives other bits.
        #[test]
        fn deterministic_and_keyed(rows in prop::collection::vec((name(), name(), 0u32..28), 1..40)) {
            let csv = csv_of(&rows);
            let a = encoder(1);
            let one = encode(&a, &csv, 1, 8192);
            prop_assert_eq!(&one, &encode(&a, &csv, 2, 3));
            prop_assert_eq!(&one, &encode(&a, &csv, 4, 1));
            let other = encode(&encoder(2), &csv, 1, 8192);
            let f1 = zicht_format::EncodedFile::from_bytes(&one).unwrap();
            let f2 = zicht_format::EncodedFile::from_bytes(&other).unwrap();
            prop_assert_ne!(f1.filters, f2.filters);
        }

        /// The fast paths (value cache, shared position cache, date,
        /// bigram and positional shortcuts) change nothing: the same bytes,
        /// rejections and summary as the cache-free definition
        /// ([`filter::record_bits`]), with and without hardening (salting
        /// among it), for several thread counts and chunk sizes.
        #[test]
        fn the_fast_paths_equal_the_definition(
            rows in cache_test_rows(),
            hardening in prop::sample::select(vec![
                "",
                "[hardening]\nxor_fold = true",
                "[hardening]\nbalance = true\nblip_f = 0.05",
                "[hardening]\nsalt_fields = [\"given_name\", \"document\"]\nsalt_with = \"date_of_birth\"",
            ]),
            full_name in any::<bool>(),
            settings in 0..CACHE_TEST_FIELD_SETTINGS.len(),
        ) {
            let csv = cache_test_csv(&rows, full_name);
            let cached = cache_test_encoder(hardening, full_name, settings);
            let mut reference = cache_test_encoder(hardening, full_name, settings);
            reference.reference = true;
            let expected = encode_skipping(&reference, &csv, 1, 8192);
            let mut uncached = cache_test_encoder(hardening, full_name, settings);
            uncached.use_value_cache = false;
            prop_assert_eq!(&encode_skipping(&uncached, &csv, 2, 7), &expected);
            prop_assert_eq!(&encode_skipping(&cached, &csv, 1, 8192), &expected);
            prop_assert_eq!(&encode_skipping(&cached, &csv, 2, 7), &expected);
            prop_assert_eq!(&encode_skipping(&cached, &csv, 3, 1), &expected);
        }

        /// Identical records have Dice 1; records differing only in the case
        /// or accents of their names too.
        #[test]
        fn identical_records_have_dice_one(given in name(), family in name(), day in 0u32..28) {
            let rows = vec![
                (given.clone(), family.clone(), day),
                (given.clone(), family.clone(), day),
                (given.to_uppercase(), family.to_lowercase(), day),
            ];
            let bytes = encode(&encoder(1), &csv_of(&rows), 2, 8192);
            let file = zicht_format::EncodedFile::from_bytes(&bytes).unwrap();
            prop_assert_eq!(zicht_format::dice(file.filters.row(0), file.filters.row(1)), 1.0);
            prop_assert_eq!(zicht_format::dice(file.filters.row(0), file.filters.row(2)), 1.0);
        }
    }
}
