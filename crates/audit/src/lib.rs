//! zicht-audit: the agency's privacy audit of its own encoded file
//! (`zicht audit`).
//!
//! Without plaintext it measures what anyone holding the file can see:
//! shared filters, the spread of set-bit counts, uneven bit frequencies,
//! positions that are set together, and nearest-neighbour similarity
//! ([`stats`]). With the agency's own plaintext and key it runs a
//! frequency / pattern-mining attack as an attacker without the key would
//! ([`attack`]), scores it against the truth, and measures how closely the
//! number of set bits tracks name length. [`audit`] adds the checks with
//! their thresholds and returns a [`Report`].
//!
//! ```
//! use zicht_audit::{audit, AuditConfig, Context};
//! use zicht_encoder::{profile::ColumnRef, EncodeOptions, Encoder, Profile, Schema, Secret};
//! let schema = Schema::from_toml("version = 1\n[[field]]\nname = \"given_name\"\nkind = \"given_name\"\n").unwrap();
//! let mut profile = Profile::default();
//! profile.columns.insert("given_name".into(), ColumnRef::Name("name".into()));
//! let secret = Secret::from_bytes(vec![42; 32]).unwrap();
//! let encoder = Encoder::new(schema, profile, &secret).unwrap();
//! let csv = "name\nAnna\nJan\nPiet\n";
//! let (bytes, _) = encoder.encode_csv(csv.as_bytes(), Vec::new(), &EncodeOptions::default(), &|_| {}).unwrap();
//! let file = zicht_format::EncodedFile::from_bytes(&bytes).unwrap();
//! let context = Context { secret_bits: Some(secret.bits()), identifying_fields: Some(1), double_hashing: Some(false) };
//! let report = audit(&file, &context, None, &AuditConfig::default()).unwrap();
//! assert_eq!(report.stats.records, 3);
//! // One identifying field and sparse filters: two warnings.
//! assert_eq!(report.warnings, 2);
//! ```
//!
//! Conventions: the report holds counts, rates and settings, never a value,
//! a token or a q-gram. Samples are evenly spaced rows, so the same file
//! gives the same report whatever the thread count.
#![warn(missing_docs)]

pub mod attack;
mod bits;
mod error;
mod mining;
mod report;
pub mod stats;
mod truth;

pub use attack::{AttackConfig, AttackResult};
pub use error::AuditError;
pub use report::{
    audit, check_keys, identifying_fields, sample_rows, AuditConfig, Check, Context, FileFacts,
    Plaintext, PlaintextFindings, Report, Status, Thresholds,
};
pub use stats::{FileStats, SampleSizes};
