//! What the agency's own audit (`zicht audit`) needs to see inside the
//! encoding: each record's tokens and their positions (the ground truth
//! against which an attack on the filters is scored), and whether a clkhash
//! schema uses double hashing.
//!
//! These types hold plaintext tokens. They exist only on the agency's side,
//! are never written to an encoded file, and their `Debug` output is
//! redacted so that a stray `{:?}` cannot leak a value into a log.

use crate::clkhash::hashing::HashKind;
use crate::clkhash::ClkhashSchema;

/// One token of one field and the positions it sets, before hardening.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPositions {
    /// The token (plaintext: never print it).
    pub token: String,
    /// Its `k` keyed positions in `0..filter_bits` (repeats possible).
    pub positions: Vec<u32>,
}

impl std::fmt::Debug for TokenPositions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPositions")
            .field("token", &"<redacted>")
            .field("positions", &self.positions.len())
            .finish()
    }
}

/// The tokens of one encoded field of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldTokens {
    /// Index of the field in the schema.
    pub field: usize,
    /// Length of the normalised value in characters (0 when missing).
    pub value_chars: usize,
    /// Its tokens, in encoding order.
    pub tokens: Vec<TokenPositions>,
}

/// One record as the encoder sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordTokens {
    /// 0-based data row (as stored in the encoded file).
    pub row: u64,
    /// Encoded fields that contributed tokens, in schema order.
    pub fields: Vec<FieldTokens>,
    /// The filter exactly as written to the encoded file (after hardening).
    pub words: Vec<u64>,
}

/// Whether any hashed feature of a clkhash schema uses `doubleHash`
/// (positions `h1 + i·h2`, which leak structure to pattern-mining attacks).
pub fn clkhash_uses_double_hashing(schema: &ClkhashSchema) -> bool {
    schema.features.iter().any(|feature| {
        feature
            .hashing
            .as_ref()
            .is_some_and(|h| matches!(h.hash, HashKind::Double { .. }))
    })
}

#[cfg(test)]
mod tests {
    use super::clkhash_uses_double_hashing;
    use crate::clkhash::ClkhashSchema;
    use crate::profile::ColumnRef;
    use crate::{EncodeOptions, Encoder, Profile, Schema, Secret};

    fn encoder(hardening: &str) -> Encoder {
        let schema = Schema::from_toml(&format!(
            r#"
version = 1
filter_bits = 256
[[field]]
name = "given_name"
kind = "given_name"
bits_per_token = 8
[[field]]
name = "date_of_birth"
kind = "date_of_birth"
bits_per_token = 4
{hardening}
"#
        ))
        .unwrap();
        let mut profile = Profile::default();
        profile
            .columns
            .insert("given_name".into(), ColumnRef::Name("name".into()));
        profile
            .columns
            .insert("date_of_birth".into(), ColumnRef::Name("dob".into()));
        Encoder::new(schema, profile, &Secret::from_bytes(vec![5; 32]).unwrap()).unwrap()
    }

    const CSV: &str = "name,dob\nAnna,1990-03-12\nJan,\nPiet,not a date\nEva,1985\n";

    #[test]
    fn inspection_matches_the_encoded_file() {
        for hardening in [
            "",
            "[hardening]\nbalance = true\nblip_f = 0.05",
            "[hardening]\ndiffusion_t = 3\nxor_fold = true",
            "[hardening]\nsalt_fields = [\"given_name\"]\nsalt_with = \"date_of_birth\"",
        ] {
            let encoder = encoder(hardening);
            let options = EncodeOptions {
                on_error: crate::OnError::Skip,
                ..EncodeOptions::default()
            };
            let (bytes, _) = encoder
                .encode_csv(CSV.as_bytes(), Vec::new(), &options, &|_| {})
                .unwrap();
            let file = zicht_format::EncodedFile::from_bytes(&bytes).unwrap();
            let records = encoder.inspect_csv(CSV.as_bytes(), &|_| true).unwrap();
            // Row 2 has a bad date: left out of both.
            assert_eq!(records.iter().map(|r| r.row).collect::<Vec<_>>(), file.rows);
            for (i, record) in records.iter().enumerate() {
                assert_eq!(record.words, file.filters.row(i), "{hardening}");
            }
            // Anna: given name with 5 padded bigrams, date with 7 tokens.
            assert_eq!(records[0].fields.len(), 2);
            assert_eq!(records[0].fields[0].value_chars, 4);
            assert_eq!(records[0].fields[0].tokens.len(), 5);
            assert_eq!(records[0].fields[1].tokens.len(), 7);
            assert!(records[0].fields[0]
                .tokens
                .iter()
                .all(|t| t.positions.len() == 8 && t.positions.iter().all(|&p| p < 256)));
            // Jan: no date, so one field only.
            assert_eq!(records[1].fields.len(), 1);
        }
    }

    #[test]
    fn keep_selects_rows_and_debug_is_redacted() {
        let encoder = encoder("");
        let records = encoder
            .inspect_csv(CSV.as_bytes(), &|row| row == 3)
            .unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].row, 3);
        let debug = format!("{records:?}");
        assert!(!debug.contains("ev"), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn double_hashing_is_detected() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/clkhash/");
        let read = |name: &str| {
            let text = std::fs::read_to_string(format!("{dir}{name}")).unwrap();
            ClkhashSchema::from_json(&text).unwrap()
        };
        assert!(clkhash_uses_double_hashing(&read("schema_double.json")));
        assert!(!clkhash_uses_double_hashing(&read("schema_blake.json")));
    }
}
