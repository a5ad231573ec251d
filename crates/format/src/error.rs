//! The format crate's error type.

/// Errors reading or writing encoded files and CLK JSON.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A filter length that is not a multiple of 64 in 64..=8192.
    #[error("filter length {bits} is not a multiple of 64 from 64 to 8192")]
    FilterLength {
        /// The offending length.
        bits: u32,
    },
    /// Not an encoded file at all.
    #[error("not a zicht encoded file (bad magic bytes)")]
    BadMagic,
    /// A version this build cannot read.
    #[error("encoded-file version {found} is not supported (this build reads {min} to {max})")]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Oldest supported.
        min: u32,
        /// Newest supported.
        max: u32,
    },
    /// The endianness marker is wrong.
    #[error("the endianness marker is wrong: the file is corrupted")]
    Endianness,
    /// The file is shorter or longer than its own lengths say.
    #[error("the file is truncated or has trailing bytes: {0}")]
    Truncated(String),
    /// The checksum does not match.
    #[error("checksum mismatch: the file is corrupted or was altered")]
    Checksum,
    /// The structure is inconsistent (bad offsets, header, ...).
    #[error("the file is corrupted: {0}")]
    Corrupt(String),
    /// A malformed CLK JSON document.
    #[error("CLK JSON: {0}")]
    ClkJson(String),
    /// An invalid header value given by the writer.
    #[error("invalid header: {0}")]
    Header(String),
    /// An I/O error.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl FormatError {
    /// Wrap an I/O error with a context.
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> FormatError {
        let context = context.into();
        move |source| FormatError::Io { context, source }
    }
}
