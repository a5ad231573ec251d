//! The error type of the estimation crate.
//!
//! Messages name a line, a column (a list name from the header) or a model
//! term, never a cell value.

use thiserror::Error;

/// Everything that can go wrong while reading a capture table or estimating.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EstimateError {
    /// The CSV could not be read (I/O or a malformed record).
    #[error("line {line}: unreadable CSV record ({kind})")]
    Csv {
        /// The line of the file (1-based), 0 when unknown.
        line: u64,
        /// What went wrong, without the record's contents.
        kind: String,
    },
    /// The header has no `count` column.
    #[error("the header has no `count` column")]
    MissingCountColumn,
    /// A column name appears twice in the header.
    #[error("column `{column}` appears more than once in the header")]
    DuplicateColumn {
        /// The repeated column name.
        column: String,
    },
    /// A column named on the command line is not in the header.
    #[error("column `{column}` is not in the header")]
    UnknownColumn {
        /// The missing column name.
        column: String,
    },
    /// A list column holds something other than 0 or 1.
    #[error("line {line}, column `{column}`: list membership must be 0 or 1{hint}")]
    BadListValue {
        /// The line of the file (1-based).
        line: u64,
        /// The list's column name.
        column: String,
        /// An extra hint (for example to use `--strata-columns`).
        hint: String,
    },
    /// The count is negative, fractional or not a number.
    #[error("line {line}: `count` must be a non-negative integer of at most 2^40")]
    BadCount {
        /// The line of the file (1-based).
        line: u64,
    },
    /// A row has the all-zero capture history, which cannot be observed.
    #[error("line {line}: the all-zero capture history cannot be observed (a case must be on at least one list)")]
    AllZeroHistory {
        /// The line of the file (1-based), 0 when the table was built in code.
        line: u64,
    },
    /// A history given in code does not fit the number of lists.
    #[error("capture history {history:#b} names a list beyond the {n_lists} lists")]
    HistoryOutOfRange {
        /// The history's bits.
        history: u32,
        /// The number of lists.
        n_lists: usize,
    },
    /// Fewer than two lists.
    #[error("a capture table needs at least two lists, found {found}")]
    TooFewLists {
        /// How many list columns were found.
        found: usize,
    },
    /// More than twenty lists.
    #[error("at most 20 lists are supported, found {found}")]
    TooManyLists {
        /// How many list columns were found.
        found: usize,
    },
    /// The table holds no case at all.
    #[error("the capture table holds no cases")]
    EmptyTable,
    /// A stratified estimate was asked for a table without strata columns.
    #[error("stratified estimation was requested but the table has no strata columns")]
    NoStrata,
    /// A model term names an unknown list or is malformed.
    #[error("model term `{term}`: {reason}")]
    BadTerm {
        /// The term as given.
        term: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The configuration is inconsistent (a method that needs two lists, ...).
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The model has no finite, unique maximum-likelihood estimate.
    #[error("no estimate under this model ({model}): {reason}")]
    NoEstimate {
        /// The model's terms, `main effects` when none.
        model: String,
        /// Why there is no estimate.
        reason: String,
    },
    /// Every model of a search lacks an estimate.
    #[error("no estimate: none of the models searched has a maximum-likelihood estimate")]
    NoModelWithEstimate,
    /// The Newton iterations did not converge.
    #[error("the Poisson fit did not converge ({model})")]
    NoConvergence {
        /// The model's terms.
        model: String,
    },
}
