//! Encoding CSV records with a clkhash schema: keys, the header check, one
//! record into one filter, and a whole CSV file into a matrix.

use std::fmt;
use std::io::Read;
use std::sync::Mutex;

use rayon::prelude::*;
use zicht_format::FilterMatrix;

use super::hashing::{blake_positions, double_hash_positions, HashKind};
use super::kdf::{derive_feature_keys, FeatureKeys};
use super::schema::ClkhashSchema;
use super::tokens::{Comparison, Strategy};
use super::values::TextEncoding;
use crate::pipeline;
use crate::tokens::TokenBuf;
use crate::value_cache::{
    or_into, unigram_token, TokenTable, UnigramTable, ValueCache, UNIGRAM_POSITIONS,
};
use crate::{EncodeError, Secret};

impl pipeline::Chunk for Chunk {
    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// Records handed to the thread pool at a time by [`encode_csv`].
const CHUNK_RECORDS: usize = 2048;

/// A clkhash schema with the keys derived from a secret, ready to encode
/// records. The keys are overwritten when the encoder is dropped; `Debug`
/// does not show them.
pub struct ClkhashEncoder {
    schema: ClkhashSchema,
    keys: Vec<FeatureKeys>,
    /// Per worker thread (by rayon's thread index): each feature's bits by
    /// value and the token positions ([`crate::value_cache`]). A feature's
    /// bits depend only on its value, so the caches never change a CLK.
    caches: Box<[Mutex<Option<ValueCache<()>>>]>,
}

/// Per-thread buffers for tokens, their characters and cache keys.
#[derive(Default)]
struct Scratch {
    tokens: TokenBuf,
    chars: Vec<char>,
    key: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Caches per encoder: more than the worker threads of any pool zicht
/// makes; a thread whose slot is taken encodes without one.
const CACHE_SLOTS: usize = 64;

impl Clone for ClkhashEncoder {
    fn clone(&self) -> Self {
        ClkhashEncoder {
            schema: self.schema.clone(),
            keys: self.keys.clone(),
            caches: empty_caches(),
        }
    }
}

fn empty_caches() -> Box<[Mutex<Option<ValueCache<()>>>]> {
    (0..CACHE_SLOTS).map(|_| Mutex::new(None)).collect()
}

impl fmt::Debug for ClkhashEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClkhashEncoder")
            .field("features", &self.schema.feature_names())
            .field("bits", &self.schema.filter_length().bits())
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl ClkhashEncoder {
    /// Derive the feature keys from `secret` (its bytes as they are; clkhash
    /// has no minimum length).
    ///
    /// # Errors
    /// [`EncodeError::Schema`] when the schema asks for more key material
    /// than HKDF can give.
    pub fn new(schema: &ClkhashSchema, secret: &Secret) -> Result<ClkhashEncoder, EncodeError> {
        let keys = derive_feature_keys(
            secret.expose(),
            schema.n_features(),
            schema.kdf.hash,
            &schema.kdf.salt,
            &schema.kdf.info,
            schema.kdf.key_size,
        )?;
        Ok(ClkhashEncoder {
            schema: schema.clone(),
            keys,
            caches: empty_caches(),
        })
    }

    /// The schema this encoder was made for.
    pub fn schema(&self) -> &ClkhashSchema {
        &self.schema
    }

    /// Check a CSV header: it must be exactly the feature identifiers, in
    /// order, ignored features included (clkhash's `validate_header`).
    ///
    /// # Errors
    /// [`EncodeError::Input`] naming the first column that differs.
    pub fn check_header(&self, header: &csv::StringRecord) -> Result<(), EncodeError> {
        let names = self.schema.feature_names();
        if header.len() != names.len() {
            return Err(EncodeError::Input(format!(
                "the CSV header has {} columns but the clkhash schema has {} features ({})",
                header.len(),
                names.len(),
                names.join(", ")
            )));
        }
        for (index, (column, name)) in header.iter().zip(&names).enumerate() {
            if column != *name {
                return Err(EncodeError::Input(format!(
                    "column {} of the CSV header is '{column}' but the clkhash schema's feature {} is '{name}'",
                    index + 1,
                    index + 1
                )));
            }
        }
        Ok(())
    }

    /// Encode one record and OR its bits into `out` (`filter_length().words()`
    /// words or more; bit `i` of the CLK is bit `i % 64` of word `i / 64`).
    /// `row` (0-based data row) and `line` (1-based file line) are only used
    /// in errors.
    ///
    /// # Errors
    /// [`EncodeError::Row`] when the record has the wrong number of columns
    /// or a value fails its feature's validation (the reason never contains
    /// the value); [`EncodeError::Input`] when `out` is too short.
    pub fn encode_record(
        &self,
        record: &csv::StringRecord,
        row: u64,
        line: u64,
        out: &mut [u64],
    ) -> Result<(), EncodeError> {
        let length = self.schema.filter_length();
        if out.len() < length.words() {
            return Err(EncodeError::Input(format!(
                "the output row has {} words; {} are needed",
                out.len(),
                length.words()
            )));
        }
        let features = &self.schema.features;
        if record.len() != features.len() {
            let field = match features.get(record.len()) {
                Some(feature) => feature.identifier.clone(),
                None => format!("column {}", features.len() + 1),
            };
            return Err(EncodeError::Row {
                row,
                line,
                field,
                reason: format!(
                    "the row has {} columns; the clkhash schema has {} features",
                    record.len(),
                    features.len()
                ),
            });
        }
        let slot = rayon::current_thread_index().unwrap_or(0) % self.caches.len();
        // A slot held by another thread (or poisoned): encode uncached.
        match self.caches[slot].try_lock() {
            Ok(mut guard) => {
                let cache = guard.get_or_insert_with(|| ValueCache::new(features.len()));
                self.encode_cached(cache, record, row, line, out)
            }
            Err(_) => {
                for (index, value) in record.iter().enumerate() {
                    self.feature_positions(index, value, row, line, None, out)?;
                }
                Ok(())
            }
        }
    }

    /// [`ClkhashEncoder::encode_record`] through a thread's caches.
    fn encode_cached(
        &self,
        cache: &mut ValueCache<()>,
        record: &csv::StringRecord,
        row: u64,
        line: u64,
        out: &mut [u64],
    ) -> Result<(), EncodeError> {
        let words = self.schema.filter_length().words();
        for (index, value) in record.iter().enumerate() {
            if self.schema.features[index].hashing.is_none() {
                continue;
            }
            if let Some(entry) = cache.get(index, value.as_bytes()) {
                or_into(out, entry.bits);
                continue;
            }
            let remember = cache.enabled(index);
            let mut feature_bits = std::mem::take(&mut cache.scratch);
            feature_bits.clear();
            if remember {
                feature_bits.resize(words, 0);
            }
            let target: &mut [u64] = if remember { &mut feature_bits } else { out };
            let found = self.feature_positions(
                index,
                value,
                row,
                line,
                Some((&mut cache.tokens, &mut cache.unigrams)),
                target,
            );
            if remember && found.is_ok() {
                or_into(out, &feature_bits);
                cache.insert(index, value.as_bytes(), Some(()), &feature_bits);
            }
            cache.scratch = feature_bits;
            found?;
        }
        Ok(())
    }

    /// Set in `out` every position of feature `index` with value `value`,
    /// looking tokens up in `caches` when given.
    fn feature_positions(
        &self,
        index: usize,
        value: &str,
        row: u64,
        line: u64,
        caches: Option<(&mut TokenTable, &mut UnigramTable)>,
        out: &mut [u64],
    ) -> Result<(), EncodeError> {
        let feature = &self.schema.features[index];
        let keys = &self.keys[index];
        let Some(hashing) = &feature.hashing else {
            return Ok(());
        };
        let l = self.schema.filter_length().bits();
        let text = hashing
            .format
            .prepare(value)
            .map_err(|reason| EncodeError::Row {
                row,
                line,
                field: feature.identifier.clone(),
                reason,
            })?;
        let compute = |bytes: &[u8], k: u32, out: &mut Vec<u32>| match hashing.hash {
            HashKind::Blake => blake_positions(bytes, k, &keys[0], l, |p| out.push(p)),
            HashKind::Double {
                prevent_singularity,
            } => double_hash_positions(bytes, k, &keys[0], &keys[1], l, prevent_singularity, |p| {
                out.push(p)
            }),
        };
        let (mut tokens, unigrams) = match caches {
            Some((tokens, unigrams)) => (Some(tokens), Some(unigrams)),
            None => (None, None),
        };
        // Positional unigrams of a short ASCII value: token `i` is
        // "{i + 1} {byte}", looked up by position and byte.
        if let (
            Some(unigrams),
            Comparison::Ngram {
                n: 1,
                positional: true,
            },
            Strategy::BitsPerToken(k),
            TextEncoding::Ascii | TextEncoding::Utf8,
        ) = (
            unigrams,
            &hashing.comparison,
            hashing.strategy,
            hashing.format.encoding,
        ) {
            if text.is_ascii() && text.len() <= UNIGRAM_POSITIONS {
                let mut token = [0u8; 4];
                for (position, byte) in text.bytes().enumerate() {
                    let found = unigrams.positions(index, position, byte, |positions| {
                        // "{position + 1} {byte}".
                        let token = unigram_token(position + 1, b' ', byte, &mut token);
                        compute(token, k, positions);
                    });
                    for &p in found {
                        out[p as usize / 64] |= 1u64 << (p % 64);
                    }
                }
                return Ok(());
            }
        }
        SCRATCH.with(|scratch| {
            let mut fresh = Scratch::default();
            let mut borrowed = scratch.try_borrow_mut();
            let Scratch {
                tokens: token_buf,
                chars,
                key,
            } = match borrowed.as_deref_mut() {
                Ok(scratch) => scratch,
                // Re-entered: fresh buffers.
                Err(_) => &mut fresh,
            };
            token_buf.clear();
            hashing.comparison.push_tokens(&text, token_buf, chars);
            let n_tokens = token_buf.len();
            for index_in_value in 0..n_tokens {
                let token = token_buf.get(index_in_value);
                let k = hashing.strategy.bits_of(index_in_value, n_tokens);
                let bytes = hashing.format.encoding.encode(token);
                let mut compute = |bytes: &[u8], out: &mut Vec<u32>| compute(bytes, k, out);
                match tokens.as_deref_mut() {
                    // Cache key: the feature, k (at most 255 bits a token
                    // are cached), then the token's bytes.
                    Some(table) if k <= 255 => {
                        key.clear();
                        key.extend_from_slice(&(index as u16).to_le_bytes());
                        key.push(k as u8);
                        key.extend_from_slice(&bytes);
                        for &p in table.positions(key, &mut compute) {
                            out[p as usize / 64] |= 1u64 << (p % 64);
                        }
                    }
                    _ => {
                        let mut positions = Vec::new();
                        compute(&bytes, &mut positions);
                        for p in positions {
                            out[p as usize / 64] |= 1u64 << (p % 64);
                        }
                    }
                }
            }
        });
        Ok(())
    }
}

/// A reader that translates `\r\n` and lone `\r` into `\n`, as Python's
/// text files do (clkhash opens its CSV input in text mode with universal
/// newlines, inside quoted fields too).
///
/// Wrapping the CSV input in it also makes the `csv` crate's line numbers
/// right: with CRLF line ends it reports each record after the first one
/// line too early.
#[derive(Debug)]
pub struct PythonNewlines<R> {
    inner: R,
    buffer: Vec<u8>,
    pending_cr: bool,
}

impl<R: Read> PythonNewlines<R> {
    /// Wrap `inner`.
    pub fn new(inner: R) -> PythonNewlines<R> {
        PythonNewlines {
            inner,
            buffer: vec![0; 64 * 1024],
            pending_cr: false,
        }
    }
}

impl<R: Read> Read for PythonNewlines<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let want = out.len().min(self.buffer.len());
            let n = self.inner.read(&mut self.buffer[..want])?;
            if n == 0 {
                return Ok(0);
            }
            // Most files have no carriage return at all: copy.
            if !self.pending_cr && !self.buffer[..n].contains(&b'\r') {
                out[..n].copy_from_slice(&self.buffer[..n]);
                return Ok(n);
            }
            // Never more bytes out than in, so `out` is large enough.
            let mut written = 0;
            for &byte in &self.buffer[..n] {
                if std::mem::take(&mut self.pending_cr) && byte == b'\n' {
                    continue;
                }
                if byte == b'\r' {
                    out[written] = b'\n';
                    self.pending_cr = true;
                } else {
                    out[written] = byte;
                }
                written += 1;
            }
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

fn csv_error(error: &csv::Error) -> EncodeError {
    let line = error
        .position()
        .map_or_else(String::new, |p| format!(" at line {}", p.line()));
    let what = match error.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("field {} is not valid UTF-8", err.field() + 1)
        }
        csv::ErrorKind::Io(e) => format!("cannot read the CSV input: {e}"),
        _ => "malformed CSV".to_string(),
    };
    EncodeError::Input(format!("{what}{line}"))
}

/// Encode a whole CSV file (header first) as clkhash would, in row order.
/// Line ends are read as Python reads them ([`PythonNewlines`]).
/// Records are encoded in parallel on the current rayon pool; the result
/// does not depend on the number of threads.
///
/// # Errors
/// [`EncodeError::Input`] for an empty file, a header that does not match
/// or malformed CSV; [`EncodeError::Row`] for the first row (in file order)
/// with an invalid value; [`EncodeError::Schema`] from key derivation.
pub fn encode_csv(
    reader: impl Read,
    schema: &ClkhashSchema,
    secret: &Secret,
) -> Result<FilterMatrix, EncodeError> {
    let mut matrix = FilterMatrix::new(schema.filter_length());
    encode_csv_into(reader, schema, secret, |words| {
        matrix.push(words);
        Ok(())
    })?;
    Ok(matrix)
}

/// [`encode_csv`], handing each filter to `sink` in row order instead of
/// collecting them: memory stays bounded by one chunk of rows. Returns the
/// number of rows encoded.
///
/// # Errors
/// As [`encode_csv`], and whatever `sink` returns.
pub fn encode_csv_into(
    reader: impl Read,
    schema: &ClkhashSchema,
    secret: &Secret,
    mut sink: impl FnMut(&[u64]) -> Result<(), EncodeError>,
) -> Result<u64, EncodeError> {
    let encoder = ClkhashEncoder::new(schema, secret)?;
    let mut csv_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(PythonNewlines::new(reader));
    let mut header = csv::StringRecord::new();
    if !csv_reader
        .read_record(&mut header)
        .map_err(|e| csv_error(&e))?
    {
        return Err(EncodeError::Input(
            "the CSV input is empty; a header naming the clkhash features is expected".into(),
        ));
    }
    encoder.check_header(&header)?;
    let mut records = csv_reader;

    let words = schema.filter_length().words();
    let mut row: u64 = 0;
    let mut first = Chunk::default();
    let more = fill_chunk(&mut records, &mut first, &mut row)?;
    let encode = |chunk: &mut Chunk| {
        let n = chunk.len;
        chunk.words.clear();
        chunk.words.resize(n * words, 0);
        chunk.records[..n]
            .par_iter()
            .zip(&chunk.rows[..n])
            .zip(chunk.words.par_chunks_mut(words))
            .map(|((record, &(row, line)), out)| encoder.encode_record(record, row, line, out))
            .collect_into_vec(&mut chunk.outcomes);
    };
    pipeline::run(
        first,
        more,
        |chunk| fill_chunk(&mut records, chunk, &mut row),
        &encode,
        |chunk| {
            for (outcome, out) in chunk.outcomes.drain(..).zip(chunk.words.chunks(words)) {
                outcome?;
                sink(out)?;
            }
            Ok(())
        },
    )?;
    Ok(row)
}

/// A chunk of records and, once encoded, their filters and outcomes;
/// reused from chunk to chunk.
#[derive(Default)]
struct Chunk {
    /// Records read (the first `len` are this chunk's).
    records: Vec<csv::StringRecord>,
    /// Data row and line of each record.
    rows: Vec<(u64, u64)>,
    len: usize,
    words: Vec<u64>,
    outcomes: Vec<Result<(), EncodeError>>,
}

/// Read up to [`CHUNK_RECORDS`] records into `chunk`, numbering them from
/// `row`. Returns whether the input may have more.
fn fill_chunk<R: Read>(
    records: &mut csv::Reader<R>,
    chunk: &mut Chunk,
    row: &mut u64,
) -> Result<bool, EncodeError> {
    chunk.len = 0;
    chunk.rows.clear();
    while chunk.len < CHUNK_RECORDS {
        if chunk.records.len() == chunk.len {
            // Sized like the record before it, so that it need not grow
            // field by field.
            let record = match chunk.records.last() {
                Some(last) => {
                    csv::StringRecord::with_capacity(2 * last.as_slice().len(), last.len())
                }
                None => csv::StringRecord::new(),
            };
            chunk.records.push(record);
        }
        let record = &mut chunk.records[chunk.len];
        if !records.read_record(record).map_err(|e| csv_error(&e))? {
            return Ok(false);
        }
        let line = record.position().map_or(0, |p| p.line());
        chunk.rows.push((*row, line));
        chunk.len += 1;
        *row += 1;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zicht_format::clk::row_to_base64;

    const SCHEMA: &str = r#"{"version": 3,
        "clkConfig": {"l": 512, "kdf": {"type": "HKDF", "salt": "c2FsdA==", "info": "aW5mbw=="}},
        "features": [
          {"identifier": "id", "ignored": true},
          {"identifier": "name", "format": {"type": "string", "case": "lower"},
           "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 10},
                       "missingValue": {"sentinel": ""}}},
          {"identifier": "year", "format": {"type": "integer", "minimum": 1900},
           "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": true},
                       "strategy": {"bitsPerFeature": 30},
                       "hash": {"type": "doubleHash", "prevent_singularity": true}}}
        ]}"#;

    fn secret() -> Secret {
        Secret::from_bytes_unchecked(b"correct horse battery staple".to_vec())
    }

    fn encode(text: &str) -> Result<FilterMatrix, EncodeError> {
        let schema = ClkhashSchema::from_json(SCHEMA).unwrap();
        encode_csv(text.as_bytes(), &schema, &secret())
    }

    /// The caches change nothing: every row of a file full of repeated
    /// values (hits) equals the same row encoded alone by a fresh encoder
    /// (misses), with one thread and with several.
    #[test]
    fn caches_change_nothing() {
        let names = ["anna", "", "jan", "an", "de vries", "şé", "anna maria"];
        let mut csv = String::from("id,name,year\n");
        let mut rows = Vec::new();
        for i in 0..3000usize {
            let name = names[(i * 7 + i / 13) % names.len()];
            let year = 1900 + (i * 31) % 150;
            rows.push(format!("{i},{name},{year}\n"));
            csv.push_str(&rows[i]);
        }
        let schema = ClkhashSchema::from_json(SCHEMA).unwrap();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let all = pool.install(|| encode(&csv)).unwrap();
            for (i, row) in rows.iter().enumerate().step_by(97) {
                let alone = encode_csv(
                    format!("id,name,year\n{row}").as_bytes(),
                    &schema,
                    &secret(),
                )
                .unwrap();
                assert_eq!(all.row(i), alone.row(0), "row {i}");
            }
        }
    }

    /// Positional unigrams of ASCII values are looked up by position and
    /// byte; that gives exactly the bits of the general path.
    #[test]
    fn the_unigram_shortcut_changes_nothing() {
        for (hash, bits) in [("blakeHash", 10), ("doubleHash", 7)] {
            let schema = ClkhashSchema::from_json(&format!(
                r#"{{"version": 3,
                "clkConfig": {{"l": 1024, "kdf": {{"type": "HKDF", "salt": "c2FsdA==", "info": "aW5mbw=="}}}},
                "features": [
                  {{"identifier": "code", "format": {{"type": "string"}},
                   "hashing": {{"comparison": {{"type": "ngram", "n": 1, "positional": true}},
                               "strategy": {{"bitsPerToken": {bits}}}, "hash": {{"type": "{hash}"}}}}}}
                ]}}"#
            ))
            .unwrap();
            let encoder = ClkhashEncoder::new(&schema, &secret()).unwrap();
            let mut tokens = TokenTable::default();
            let mut unigrams = UnigramTable::default();
            for value in [
                "",
                "1234AB",
                "NX1574702",
                "ab cd~",
                "0123456789012345678901234567890",
                "é12",
                &"x".repeat(40),
            ] {
                let mut general = vec![0u64; 16];
                encoder
                    .feature_positions(0, value, 0, 1, None, &mut general)
                    .unwrap();
                for _ in 0..2 {
                    let mut shortcut = vec![0u64; 16];
                    encoder
                        .feature_positions(
                            0,
                            value,
                            0,
                            1,
                            Some((&mut tokens, &mut unigrams)),
                            &mut shortcut,
                        )
                        .unwrap();
                    assert_eq!(shortcut, general, "{hash} {value:?}");
                }
            }
        }
    }

    #[test]
    fn features_are_ored_with_keys_by_position() {
        let both = encode("id,name,year\n1,anna,1990\n").unwrap();
        // The name is missing: only the year's bits.
        let year_only = encode("id,name,year\n1,,1990\n").unwrap();
        // The same schema with the year ignored: only the name's bits, with
        // the same keys since ignored features keep their key slots.
        let year_feature =
            &SCHEMA[SCHEMA.find("{\"identifier\": \"year\"").unwrap()..SCHEMA.rfind(']').unwrap()];
        let name_schema = SCHEMA.replace(
            year_feature.trim_end(),
            "{\"identifier\": \"year\", \"ignored\": true}",
        );
        let schema = ClkhashSchema::from_json(&name_schema).unwrap();
        let name_only =
            encode_csv("id,name,year\n1,anna,1990\n".as_bytes(), &schema, &secret()).unwrap();
        let ored: Vec<u64> = name_only
            .row(0)
            .iter()
            .zip(year_only.row(0))
            .map(|(a, b)| a | b)
            .collect();
        assert_eq!(both.row(0), &ored[..]);
        assert!(name_only.popcount(0) > 0 && year_only.popcount(0) > 0);
        // An empty integer is invalid (year has no missing-value sentinel).
        let err = encode("id,name,year\n1,anna,\n").unwrap_err();
        assert!(
            matches!(err, EncodeError::Row { ref field, .. } if field == "year"),
            "{err}"
        );
    }

    #[test]
    fn ignored_column_does_not_matter() {
        let a = encode("id,name,year\n1,anna,1990\n").unwrap();
        let b = encode("id,name,year\nxyz,anna,1990\n").unwrap();
        assert_eq!(a.row(0), b.row(0));
        let c = encode("id,name,year\n1,anne,1990\n").unwrap();
        assert_ne!(a.row(0), c.row(0));
    }

    #[test]
    fn integers_are_normalised_before_hashing() {
        let a = encode("id,name,year\n1,anna,1990\n").unwrap();
        let b = encode("id,name,year\n1,anna,+01990\n").unwrap();
        assert_eq!(
            row_to_base64(a.row(0), a.length()),
            row_to_base64(b.row(0), b.length())
        );
    }

    #[test]
    fn header_must_match_exactly() {
        let err = encode("id,given,year\n1,anna,1990\n").unwrap_err();
        assert!(
            matches!(err, EncodeError::Input(ref m) if m.contains("'given'") && m.contains("'name'")),
            "{err}"
        );
        let err = encode("id,name\n1,anna\n").unwrap_err();
        assert!(
            matches!(err, EncodeError::Input(ref m) if m.contains("2 columns")),
            "{err}"
        );
        assert!(matches!(encode(""), Err(EncodeError::Input(_))));
    }

    #[test]
    fn invalid_values_name_row_and_feature_but_not_value() {
        let err = encode("id,name,year\n1,anna,1990\n2,Zuzanna,1990\n").unwrap_err();
        match &err {
            EncodeError::Row {
                row,
                line,
                field,
                reason,
            } => {
                assert_eq!((*row, *line), (1, 3));
                assert_eq!(field, "name");
                assert!(reason.contains("lower case"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!err.to_string().contains("Zuzanna"), "{err}");
        let err = encode("id,name,year\n1,anna,1850\n").unwrap_err();
        assert!(err.to_string().contains("minimum 1900"), "{err}");
        assert!(!err.to_string().contains("1850"), "{err}");
    }

    #[test]
    fn ragged_rows_are_errors() {
        let err = encode("id,name,year\n1,anna\n").unwrap_err();
        assert!(
            matches!(err, EncodeError::Row { ref field, .. } if field == "year"),
            "{err}"
        );
        let err = encode("id,name,year\n1,anna,1990,x\n").unwrap_err();
        assert!(
            matches!(err, EncodeError::Row { ref field, .. } if field == "column 4"),
            "{err}"
        );
    }

    #[test]
    fn short_output_is_an_error_not_a_panic() {
        let schema = ClkhashSchema::from_json(SCHEMA).unwrap();
        let encoder = ClkhashEncoder::new(&schema, &secret()).unwrap();
        let record = csv::StringRecord::from(vec!["1", "anna", "1990"]);
        let mut out = vec![0u64; 7];
        assert!(matches!(
            encoder.encode_record(&record, 0, 2, &mut out),
            Err(EncodeError::Input(_))
        ));
    }

    #[test]
    fn output_does_not_depend_on_thread_count() {
        let mut text = String::from("id,name,year\n");
        for i in 0..300 {
            text.push_str(&format!("{i},name{},{}\n", i % 17, 1900 + i % 100));
        }
        let schema = ClkhashSchema::from_json(SCHEMA).unwrap();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| encode_csv(text.as_bytes(), &schema, &secret()).unwrap())
        };
        assert_eq!(run(1), run(4));
    }

    #[test]
    fn newlines_are_translated_like_python_text_mode() {
        let mut out = String::new();
        PythonNewlines::new("a\r\nb\rc\n\r\n\"x\r\ny\"".as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "a\nb\nc\n\n\"x\ny\"");
        // A CR at the end of one read and its LF at the start of the next.
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let Some((&first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                out[0] = first;
                self.0 = rest;
                Ok(1)
            }
        }
        let mut out = String::new();
        PythonNewlines::new(OneByte(b"a\r\nb\r\n"))
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "a\nb\n");
    }

    #[test]
    fn crlf_files_give_the_right_lines_and_bits() {
        let err = encode("id,name,year\r\n1,anna,1990\r\n2,anna,1990\r\n3,anna,x\r\n").unwrap_err();
        assert!(
            matches!(
                err,
                EncodeError::Row {
                    row: 2,
                    line: 4,
                    ..
                }
            ),
            "{err}"
        );
        let crlf = encode("id,name,year\r\n1,anna,1990\r\n").unwrap();
        let lf = encode("id,name,year\n1,anna,1990\n").unwrap();
        assert_eq!(crlf, lf);
    }

    #[test]
    fn debug_hides_keys() {
        let schema = ClkhashSchema::from_json(SCHEMA).unwrap();
        let encoder = ClkhashEncoder::new(&schema, &secret()).unwrap();
        let shown = format!("{encoder:?}");
        assert!(
            shown.contains("redacted") && shown.contains("name"),
            "{shown}"
        );
    }
}
