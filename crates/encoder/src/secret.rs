//! The project secret: read from a file, never printed, zeroized on drop.

use std::fmt;
use std::path::Path;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::EncodeError;

/// The shortest secret the encoder accepts, in bytes (128 bits).
pub const MIN_SECRET_BYTES: usize = 16;

/// Length of a secret written by `zicht keygen`, in bytes (256 bits).
pub const KEYGEN_SECRET_BYTES: usize = 32;

/// A project secret shared by the agencies of one project.
///
/// Its `Debug` output is redacted and its bytes are overwritten when it is
/// dropped. It can only be built from a file or from bytes, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret {
    bytes: Vec<u8>,
}

impl Secret {
    /// A secret from raw bytes.
    ///
    /// # Errors
    /// [`EncodeError::SecretTooShort`] when shorter than [`MIN_SECRET_BYTES`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Secret, EncodeError> {
        let secret = Secret { bytes };
        if secret.bytes.len() < MIN_SECRET_BYTES {
            return Err(EncodeError::SecretTooShort {
                bits: secret.bytes.len() * 8,
            });
        }
        Ok(secret)
    }

    /// A secret from raw bytes, without the minimum-length check.
    ///
    /// For compatibility with clkhash, whose example secrets may be short;
    /// `zicht audit` warns about such secrets.
    pub fn from_bytes_unchecked(bytes: Vec<u8>) -> Secret {
        Secret { bytes }
    }

    /// Read a secret file: its bytes without one trailing newline (`\n` or
    /// `\r\n`). A file written by `zicht keygen` holds 64 hex digits, which
    /// are decoded to 32 bytes; any other content is used as is.
    ///
    /// # Errors
    /// I/O errors, an empty file, or a secret shorter than 128 bits.
    pub fn read_file(path: &Path) -> Result<Secret, EncodeError> {
        let secret = Secret::read_file_unchecked(path)?;
        if secret.bytes.len() < MIN_SECRET_BYTES {
            return Err(EncodeError::SecretTooShort {
                bits: secret.bits(),
            });
        }
        Ok(secret)
    }

    /// Read a secret file without the minimum-length check (clkhash mode).
    ///
    /// # Errors
    /// I/O errors.
    pub fn read_file_unchecked(path: &Path) -> Result<Secret, EncodeError> {
        let mut raw = std::fs::read(path).map_err(|source| EncodeError::SecretFile {
            path: path.to_path_buf(),
            source,
        })?;
        let secret = Secret::parse_file_bytes(&raw);
        raw.zeroize();
        Ok(secret)
    }

    fn parse_file_bytes(raw: &[u8]) -> Secret {
        let mut end = raw.len();
        if end > 0 && raw[end - 1] == b'\n' {
            end -= 1;
            if end > 0 && raw[end - 1] == b'\r' {
                end -= 1;
            }
        }
        let content = &raw[..end];
        if let Some(prefix_stripped) = content.strip_prefix(KEYGEN_PREFIX.as_bytes()) {
            if let Some(bytes) = decode_hex(prefix_stripped) {
                return Secret { bytes };
            }
        }
        Secret {
            bytes: content.to_vec(),
        }
    }

    /// The secret's bytes, for key derivation only.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bits.
    pub fn bits(&self) -> usize {
        self.bytes.len() * 8
    }

    /// A new random 256-bit secret from the operating system's CSPRNG.
    ///
    /// # Errors
    /// When the operating system has no randomness to give.
    pub fn generate() -> Result<Secret, EncodeError> {
        let mut bytes = vec![0u8; KEYGEN_SECRET_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| EncodeError::Random(e.to_string()))?;
        Ok(Secret { bytes })
    }

    /// The text written to a secret file by `zicht keygen`: a prefix that
    /// names the format, then 64 hex digits, then a newline.
    pub fn to_file_text(&self) -> String {
        let mut text = String::from(KEYGEN_PREFIX);
        for byte in &self.bytes {
            text.push_str(&format!("{byte:02x}"));
        }
        text.push('\n');
        text
    }
}

/// Prefix of secret files written by `zicht keygen`.
pub const KEYGEN_PREFIX: &str = "zicht-secret-v1:";

fn decode_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.is_empty() {
        return None;
    }
    let digit = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    text.chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bits, redacted>)", self.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::from_bytes(b"correct horse battery staple".to_vec()).unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains("horse"));
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn short_secret_refused() {
        assert!(matches!(
            Secret::from_bytes(vec![1; 15]),
            Err(EncodeError::SecretTooShort { bits: 120 })
        ));
    }

    #[test]
    fn keygen_text_round_trips() {
        let secret = Secret::generate().unwrap();
        let text = secret.to_file_text().into_bytes();
        let parsed = Secret::parse_file_bytes(&text);
        assert_eq!(parsed.expose(), secret.expose());
        assert_eq!(parsed.bits(), 256);
    }

    #[test]
    fn trailing_newline_stripped() {
        let raw = b"correct horse battery staple\n".to_vec();
        assert_eq!(
            Secret::parse_file_bytes(&raw).expose(),
            b"correct horse battery staple"
        );
        let raw = b"correct horse battery staple\r\n".to_vec();
        assert_eq!(
            Secret::parse_file_bytes(&raw).expose(),
            b"correct horse battery staple"
        );
    }
}
