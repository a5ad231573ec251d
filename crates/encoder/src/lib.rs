//! zicht-encoder: normalisation and keyed Bloom-filter encoding of registry
//! records, run by each agency on its own premises.
//!
//! The pieces, in the order a record meets them: a [`Profile`] says how an
//! agency's CSV maps onto the shared [`Schema`]; [`normalize`] turns cells
//! into canonical values; [`tokens`] cuts them into tokens; [`keys`] maps
//! each token to `k` keyed random positions (HMAC-SHA256 under a per-field
//! HKDF key); [`hardening`] optionally transforms the finished filter; and
//! [`Encoder::encode_csv`] streams a whole file into a `.zbf`.
//!
//! ```
//! use zicht_encoder::{Encoder, EncodeOptions, Profile, Schema, Secret};
//! let schema = Schema::from_toml(r#"
//! version = 1
//! [[field]]
//! name = "given_name"
//! kind = "given_name"
//! "#).unwrap();
//! let mut profile = Profile::default();
//! profile.columns.insert("given_name".into(), zicht_encoder::profile::ColumnRef::Name("name".into()));
//! let secret = Secret::from_bytes(vec![42; 32]).unwrap();
//! let encoder = Encoder::new(schema, profile, &secret).unwrap();
//! let csv = "name\nAnna\nJan\n";
//! let (bytes, summary) = encoder
//!     .encode_csv(csv.as_bytes(), Vec::new(), &EncodeOptions::default(), &|_| {})
//!     .unwrap();
//! assert_eq!(summary.rows_encoded, 2);
//! let file = zicht_format::EncodedFile::from_bytes(&bytes).unwrap();
//! assert_eq!(file.len(), 2);
//! ```
//!
//! Conventions: errors name the row (0-based data row, the header not
//! counted), the line and the field, never the value. The [`Secret`] is
//! zeroized on drop and never printed.
#![warn(missing_docs)]

pub mod clkhash;
mod encode;
mod error;
mod filter;
pub mod hardening;
pub mod inspect;
pub mod keys;
pub mod normalize;
mod pipeline;
pub mod profile;
pub mod schema;
pub mod secret;
pub mod tokens;
mod value_cache;

pub use encode::{EncodeOptions, EncodeSummary, Encoder, OnError, Rejection};
pub use error::EncodeError;
pub use profile::Profile;
pub use schema::Schema;
pub use secret::Secret;
