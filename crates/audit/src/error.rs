//! The audit's error type. Messages name rows and counts, never a value.

/// Why an audit cannot run.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The schema given is not the one the file was encoded with.
    #[error("the schema does not match the encoded file (the schema fingerprint differs)")]
    SchemaMismatch,
    /// The secret given is not the one the file was encoded with.
    #[error("the secret does not match the encoded file (the key check value differs)")]
    SecretMismatch,
    /// Re-encoding the plaintext does not reproduce the file.
    #[error(
        "the plaintext does not match the encoded file: {differing} of {compared} sampled rows \
         differ or are missing (wrong CSV, profile, schema or secret?)"
    )]
    PlaintextMismatch {
        /// Rows compared.
        compared: usize,
        /// Rows that differ or could not be encoded.
        differing: usize,
    },
    /// The plaintext audit needs zicht's own encoding.
    #[error("the plaintext audit supports zicht's own encoding only; this file's encoding is '{encoding}'")]
    UnsupportedEncoding {
        /// The header's encoding.
        encoding: zicht_format::Encoding,
    },
}
