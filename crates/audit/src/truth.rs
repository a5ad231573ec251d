//! The agency's ground truth for a sample of its own records: which token
//! units each record holds and where each unit's bits land in the encoded
//! file. Built from the encoder's inspection of the plaintext with the key,
//! checked bit for bit against the encoded file. It never leaves the process:
//! only counts and rates computed from it are reported.

use std::collections::HashMap;

use zicht_encoder::hardening::Hardener;
use zicht_encoder::inspect::RecordTokens;
use zicht_encoder::schema::{FieldKind, TokenKind};
use zicht_encoder::{Schema, Secret};
use zicht_format::EncodedFile;

use crate::bits::for_each_set_bit;
use crate::AuditError;

/// One token unit: one set of input positions, set by a token of a field
/// (or of fields sharing a key) under one salt and one `k`. The token text
/// itself is not kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unit {
    /// Whether the field is tokenised into q-grams.
    pub is_qgram: bool,
    /// Its positions in the encoded file's filters (after any hardening
    /// that keeps positions; see [`Image`]), sorted.
    pub output: Vec<u32>,
    /// Records of the sample that hold it.
    pub count: usize,
}

/// The sample's truth.
#[derive(Clone, Debug)]
pub(crate) struct Truth {
    /// Index into the file's filters of each sampled record.
    pub file_indices: Vec<usize>,
    /// Token units.
    pub units: Vec<Unit>,
    /// Units of each record, sorted.
    pub record_units: Vec<Vec<u32>>,
    /// Identity of each record: records with the same encoded values share it.
    pub identity: Vec<u32>,
    /// Characters in each record's names (given and family names; q-gram
    /// fields when the schema has neither).
    pub name_chars: Vec<usize>,
}

/// Where a token's input positions land in the output filter: the bits
/// that the token alone turns on, through the schema's hardening with the
/// coin flips of randomized response left out. Identity without hardening,
/// a keyed permutation under balancing, folded positions under XOR folding,
/// and, under diffusion, the output bits whose inputs it changes (which are
/// not set together in real records).
struct Image {
    hardener: Option<Hardener>,
    input_words: usize,
    base: Vec<u64>,
}

impl Image {
    fn new(schema: &Schema, secret: &Secret) -> Image {
        let mut settings = schema.hardening.clone();
        settings.blip_f = 0.0;
        let input_bits = schema.filter_length.bits() as usize;
        let hardener = Hardener::new(&settings, input_bits, secret, &schema.fingerprint());
        let input_words = schema.filter_length.words();
        if !hardener.is_active() {
            return Image {
                hardener: None,
                input_words,
                base: Vec::new(),
            };
        }
        let base = hardener.apply(vec![0; input_words], 0);
        Image {
            hardener: Some(hardener),
            input_words,
            base,
        }
    }

    fn output(&self, raw: &[u32]) -> Vec<u32> {
        let Some(hardener) = &self.hardener else {
            let mut out = raw.to_vec();
            out.sort_unstable();
            out.dedup();
            return out;
        };
        let mut words = vec![0u64; self.input_words];
        for &p in raw {
            words[p as usize / 64] |= 1 << (p % 64);
        }
        let image = hardener.apply(words, 0);
        let mut out = Vec::new();
        let only: Vec<u64> = image.iter().zip(&self.base).map(|(i, b)| i & !b).collect();
        for_each_set_bit(&only, |p| out.push(p as u32));
        out
    }
}

impl Truth {
    /// Build the truth from the inspected records and check them against
    /// the file: every inspected record must be in the file with exactly
    /// the same filter, and every sampled row must have been inspected.
    ///
    /// # Errors
    /// [`AuditError::PlaintextMismatch`] when the plaintext, schema, profile
    /// or secret is not what made the file.
    pub fn new(
        file: &EncodedFile,
        sampled_rows: &[u64],
        records: &[RecordTokens],
        schema: &Schema,
        secret: &Secret,
    ) -> Result<Truth, AuditError> {
        let index_of: HashMap<u64, usize> =
            file.rows.iter().enumerate().map(|(i, &r)| (r, i)).collect();
        let differing = records
            .iter()
            .filter(|r| {
                index_of
                    .get(&r.row)
                    .is_none_or(|&i| file.filters.row(i) != r.words.as_slice())
            })
            .count();
        if differing > 0 || records.len() != sampled_rows.len() {
            return Err(AuditError::PlaintextMismatch {
                compared: sampled_rows.len(),
                differing: differing + sampled_rows.len().abs_diff(records.len()),
            });
        }
        let image = Image::new(schema, secret);
        let name_fields: Vec<bool> = {
            let names: Vec<bool> = schema
                .fields
                .iter()
                .map(|f| matches!(f.kind, FieldKind::GivenName | FieldKind::FamilyName))
                .collect();
            if names.iter().any(|&b| b) {
                names
            } else {
                schema
                    .fields
                    .iter()
                    .map(|f| f.tokens == TokenKind::Qgram)
                    .collect()
            }
        };
        // A unit is a set of positions: tokens that share their positions
        // (the same token in fields that share a key, such as given and
        // family names) are one unit to the attacker, and so here.
        let mut unit_ids: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut units: Vec<Unit> = Vec::new();
        let mut identities: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut truth = Truth {
            file_indices: Vec::with_capacity(records.len()),
            units: Vec::new(),
            record_units: Vec::with_capacity(records.len()),
            identity: Vec::with_capacity(records.len()),
            name_chars: Vec::with_capacity(records.len()),
        };
        for record in records {
            truth.file_indices.push(index_of[&record.row]);
            let mut held: Vec<u32> = Vec::new();
            let mut chars = 0;
            for field in &record.fields {
                if name_fields.get(field.field).copied().unwrap_or(false) {
                    chars += field.value_chars;
                }
                let is_qgram = schema
                    .fields
                    .get(field.field)
                    .is_some_and(|f| f.tokens == TokenKind::Qgram);
                for token in &field.tokens {
                    let mut raw = token.positions.clone();
                    raw.sort_unstable();
                    raw.dedup();
                    let id = match unit_ids.get(&raw) {
                        Some(&id) => {
                            units[id as usize].is_qgram |= is_qgram;
                            id
                        }
                        None => {
                            let id = units.len() as u32;
                            units.push(Unit {
                                is_qgram,
                                output: image.output(&raw),
                                count: 0,
                            });
                            unit_ids.insert(raw, id);
                            id
                        }
                    };
                    held.push(id);
                }
            }
            held.sort_unstable();
            held.dedup();
            for &id in &held {
                units[id as usize].count += 1;
            }
            let next = identities.len() as u32;
            let identity = *identities.entry(held.clone()).or_insert(next);
            truth.identity.push(identity);
            truth.record_units.push(held);
            truth.name_chars.push(chars);
        }
        truth.units = units;
        Ok(truth)
    }

    /// Distinct identities in the sample.
    pub fn n_identities(&self) -> usize {
        self.identity
            .iter()
            .map(|&i| i as usize + 1)
            .max()
            .unwrap_or(0)
    }
}
