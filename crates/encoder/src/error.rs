//! The encoder's error type. Messages name rows and fields, never values.

use std::path::PathBuf;

/// Everything that can go wrong while encoding.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The secret file could not be read.
    #[error("cannot read the secret file {path}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The secret is too short.
    #[error(
        "the secret has {bits} bits; at least 128 are required (make one with `zicht keygen`)"
    )]
    SecretTooShort {
        /// Its length in bits.
        bits: usize,
    },
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    /// The schema is invalid.
    #[error("schema: {0}")]
    Schema(String),
    /// The source profile is invalid.
    #[error("profile: {0}")]
    Profile(String),
    /// A data row could not be encoded. `row` is the 0-based data row (the
    /// header not counted); `line` the 1-based line in the file when known.
    #[error("row {row} (line {line}): field '{field}': {reason}")]
    Row {
        /// 0-based data row.
        row: u64,
        /// 1-based line number in the file.
        line: u64,
        /// The schema field or CSV column concerned.
        field: String,
        /// What is wrong, without the value.
        reason: String,
    },
    /// The input as a whole is malformed (no header, empty file, ...).
    #[error("input: {0}")]
    Input(String),
    /// An I/O error.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing the encoded file failed.
    #[error(transparent)]
    Format(#[from] zicht_format::FormatError),
}
