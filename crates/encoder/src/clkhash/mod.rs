//! clkhash schema v3 compatibility: bit-for-bit the filters of clkhash 0.18.3.
//!
//! clkhash is the Python encoder of the anonlink suite. Given a linkage schema
//! of version 3, a secret and a CSV file whose header names the schema's
//! features, this module produces exactly the filters clkhash produces, so
//! that CLKs made by clkhash and by zicht can be linked with each other.
//!
//! ```
//! use zicht_encoder::clkhash::{encode_csv, is_clkhash_schema, ClkhashSchema};
//! use zicht_encoder::Secret;
//!
//! let schema_text = r#"{
//!   "version": 3,
//!   "clkConfig": {"l": 64, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
//!   "features": [
//!     {"identifier": "id", "ignored": true},
//!     {"identifier": "name",
//!      "format": {"type": "string", "encoding": "utf-8"},
//!      "hashing": {"comparison": {"type": "ngram", "n": 2},
//!                  "strategy": {"bitsPerToken": 4},
//!                  "hash": {"type": "blakeHash"}}}
//!   ]
//! }"#;
//! assert!(is_clkhash_schema(schema_text));
//! let schema = ClkhashSchema::from_json(schema_text).unwrap();
//! let secret = Secret::from_bytes_unchecked(b"correct horse battery staple".to_vec());
//! let filters = encode_csv("id,name\n1,anna\n".as_bytes(), &schema, &secret).unwrap();
//! assert_eq!(filters.len(), 1);
//! assert!(filters.popcount(0) > 0);
//! ```
//!
//! # What is reproduced
//!
//! - key derivation: HKDF (SHA-256 or SHA-512) over the secret with the
//!   schema's salt, info and key size, two keys per feature in schema order,
//!   ignored features included ([`kdf`]);
//! - value preparation: the missing-value sentinel and its replacement,
//!   validation of strings (length, case, pattern, encoding), integers
//!   (range; re-written without sign, spaces or leading zeros), dates
//!   (re-written as `%Y%m%d`) and enums ([`values`], [`dates`]);
//! - tokens: n-grams padded with n − 1 spaces on both sides for n > 1,
//!   positional n-grams `"1 a"`, exact tokens ([`tokens`]);
//! - `bitsPerToken` and `bitsPerFeature` (the remainder goes to the first
//!   tokens), `blakeHash` and `doubleHash` with and without
//!   `prevent_singularity` ([`hashing`]);
//! - the OR of all features into one filter of `l` bits.
//!
//! # Differences from clkhash
//!
//! - Error messages name the row, line and feature, never the value.
//! - `xorFolds` other than 0 is refused (clkhash 0.18.3 reads the key
//!   `xor_folds` while its schema names it `xorFolds`, so what it does is
//!   ambiguous); `l` must be a multiple of 64 from 64 to 8192.
//! - Date formats support the `strptime` directives `%d %m %Y %y %H %I %M %S
//!   %f %p %b %B %a %A %%`; others are refused when the schema is read.
//!   Patterns are compiled with Rust's `regex` crate, which lacks
//!   look-around and back-references; such patterns are refused.
//! - Integers accept ASCII digits only (Python also accepts other Unicode
//!   decimal digits).
//! - Blank CSV lines are skipped (Python's `csv` yields an empty row, which
//!   clkhash rejects).

pub mod dates;
mod encoder;
pub mod hashing;
pub mod kdf;
mod schema;
pub mod tokens;
pub mod values;

pub use encoder::{encode_csv, encode_csv_into, ClkhashEncoder, PythonNewlines};
pub use schema::ClkhashSchema;

/// Whether `text` looks like a clkhash linkage schema rather than a zicht
/// TOML schema: a JSON object with a `version` and either `clkConfig` or
/// `features`.
///
/// Any version is detected, so that [`ClkhashSchema::from_json`] can say
/// clearly that only version 3 is supported.
pub fn is_clkhash_schema(text: &str) -> bool {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    map.contains_key("clkConfig") || (map.contains_key("version") && map.contains_key("features"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_clkhash_json_and_not_toml() {
        assert!(is_clkhash_schema(
            r#"{"version": 3, "clkConfig": {}, "features": []}"#
        ));
        assert!(is_clkhash_schema(r#"{"version": 2, "features": []}"#));
        assert!(!is_clkhash_schema("version = 1\nname = \"x\"\n"));
        assert!(!is_clkhash_schema("[1, 2, 3]"));
        assert!(!is_clkhash_schema(r#"{"clks": []}"#));
    }
}
