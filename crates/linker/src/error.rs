//! The linker crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while loading, checking, linking or writing.
///
/// Messages name files, sources, fields and record positions, never a value
/// of a filter or of a person.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// A threshold that is not a decimal number in (0, 1].
    #[error("threshold `{text}` is not a number in (0, 1]")]
    Threshold {
        /// What was given.
        text: String,
    },
    /// An input file could not be read or is not a valid encoded file or CLK
    /// JSON document.
    #[error("{}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: zicht_format::FormatError,
    },
    /// Two inputs cannot be linked together.
    #[error("{}", .0)]
    Incompatible(String),
    /// A source has no records.
    #[error("source `{label}` has no records")]
    EmptySource {
        /// Its label.
        label: String,
    },
    /// Too few or too many sources.
    #[error("{found} sources given; zicht link takes 1 to {max}")]
    SourceCount {
        /// How many were given.
        found: usize,
        /// The most allowed.
        max: usize,
    },
    /// A configuration that does not make sense for these inputs.
    #[error("{0}")]
    Config(String),
    /// The output directory is not usable: it is a file, or it is not empty
    /// and `--force` was not given.
    #[error("{0}")]
    OutputDir(String),
    /// The output directory cannot be examined (its path runs through a
    /// file, or it cannot be read): a failure of the work, like an output
    /// file that cannot be written.
    #[error("{0}")]
    OutputUnreachable(String),
    /// Writing an output file failed.
    #[error("cannot write {}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Committing an output file failed.
    #[error(transparent)]
    Format(#[from] zicht_format::FormatError),
}

impl LinkError {
    /// Whether the error is the input's or the user's fault (bad file, bad
    /// option) rather than a failure of the work (I/O while writing).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            LinkError::Output { .. } | LinkError::OutputUnreachable(_) | LinkError::Format(_)
        )
    }
}
