//! The error type of the crate: configuration, I/O and evaluation input errors.
//!
//! Messages name a file, a line or a column, never a cell's value.

use std::path::PathBuf;

/// Everything that can go wrong in generation, writing or evaluation.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV input could not be read.
    #[error("line {line}: {kind}")]
    Csv {
        /// The 1-based line (0 when unknown).
        line: u64,
        /// What kind of problem it was.
        kind: String,
    },
    /// A required column is missing from a CSV header.
    #[error("missing column `{column}`")]
    MissingColumn {
        /// The column's name.
        column: String,
    },
    /// A cell is empty or malformed.
    #[error("line {line}: column `{column}` {problem}")]
    BadCell {
        /// The 1-based line.
        line: u64,
        /// The column's name.
        column: String,
        /// What is wrong with it (never the value).
        problem: &'static str,
    },
    /// The same record (source and row) appears twice.
    #[error("line {line}: the record (source and row) was already listed on line {first_line}")]
    DuplicateRecord {
        /// The 1-based line of the repeat.
        line: u64,
        /// The 1-based line where it first appeared.
        first_line: u64,
    },
    /// A clustered record is not in the truth.
    #[error("line {line}: the record (source and row) is not in the truth")]
    UnknownRecord {
        /// The 1-based line.
        line: u64,
    },
    /// The truth holds no records.
    #[error("the truth holds no records")]
    EmptyTruth,
}

impl SynthError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> SynthError {
        SynthError::Io {
            path: path.into(),
            source,
        }
    }
}
