//! clkhash's key derivation: HKDF over the secret, two keys per feature.
//!
//! clkhash 0.18.3 (`key_derivation.generate_key_lists`) derives
//! `2 × n_features × key_size` bytes with HKDF (RFC 5869) in one call, cuts
//! them into keys of `key_size` bytes and gives feature `i` keys `2i` and
//! `2i + 1`. Ignored features are counted, so ignoring a feature does not
//! change the keys of the others.

use hkdf::Hkdf;
use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

use crate::EncodeError;

/// Keys per feature: one per hashing method (blakeHash uses the first,
/// doubleHash the first for HMAC-SHA1 and the second for HMAC-MD5).
pub const KEYS_PER_FEATURE: usize = 2;

/// The hash function inside HKDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KdfHash {
    /// HKDF-SHA256 (clkhash's default).
    Sha256,
    /// HKDF-SHA512.
    Sha512,
}

impl KdfHash {
    /// The name used in clkhash schemas.
    pub fn name(self) -> &'static str {
        match self {
            KdfHash::Sha256 => "SHA256",
            KdfHash::Sha512 => "SHA512",
        }
    }

    /// The most bytes HKDF can produce with this hash (255 blocks).
    pub fn max_output(self) -> usize {
        match self {
            KdfHash::Sha256 => 255 * 32,
            KdfHash::Sha512 => 255 * 64,
        }
    }
}

/// The two keys of one feature, overwritten when dropped.
pub type FeatureKeys = [Zeroizing<Vec<u8>>; KEYS_PER_FEATURE];

/// Derive the keys of `n_features` features from `secret`.
///
/// `salt` and `info` are the decoded bytes of the schema's `salt` and
/// `info` (absent is the same as empty, as in RFC 5869).
///
/// # Errors
/// [`EncodeError::Schema`] when more key material is asked for than HKDF can
/// give (255 hash blocks), or a key size of 0.
pub fn derive_feature_keys(
    secret: &[u8],
    n_features: usize,
    hash: KdfHash,
    salt: &[u8],
    info: &[u8],
    key_size: usize,
) -> Result<Vec<FeatureKeys>, EncodeError> {
    if key_size == 0 {
        return Err(EncodeError::Schema(
            "clkConfig.kdf.keySize must be at least 1".into(),
        ));
    }
    let total = n_features
        .checked_mul(KEYS_PER_FEATURE)
        .and_then(|n| n.checked_mul(key_size))
        .filter(|&n| n <= hash.max_output())
        .ok_or_else(|| {
            EncodeError::Schema(format!(
                "HKDF-{} cannot derive {} keys of {} bytes for {} features (at most {} bytes); \
                 use fewer features, a smaller keySize or SHA512",
                hash.name(),
                n_features * KEYS_PER_FEATURE,
                key_size,
                n_features,
                hash.max_output()
            ))
        })?;
    let mut okm = Zeroizing::new(vec![0u8; total]);
    let salt = if salt.is_empty() { None } else { Some(salt) };
    let expanded = match hash {
        KdfHash::Sha256 => Hkdf::<Sha256>::new(salt, secret).expand(info, &mut okm),
        KdfHash::Sha512 => Hkdf::<Sha512>::new(salt, secret).expand(info, &mut okm),
    };
    expanded.map_err(|_| EncodeError::Schema("HKDF output length is invalid".into()))?;
    let feature_bytes = KEYS_PER_FEATURE * key_size;
    Ok(okm
        .chunks_exact(feature_bytes)
        .map(|chunk| {
            [
                Zeroizing::new(chunk[..key_size].to_vec()),
                Zeroizing::new(chunk[key_size..].to_vec()),
            ]
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc5869_test_case_1() {
        // RFC 5869 A.1, seen through our key layout: one feature, two keys of
        // 21 bytes is 42 bytes of output.
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let keys = derive_feature_keys(&ikm, 1, KdfHash::Sha256, &salt, &info, 21).unwrap();
        let mut okm = keys[0][0].to_vec();
        okm.extend_from_slice(&keys[0][1]);
        assert_eq!(
            hex(&okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn keys_are_grouped_per_feature_in_order() {
        // Reference values from an independent HKDF (Python hmac/hashlib).
        let keys = derive_feature_keys(
            b"correct horse battery staple",
            3,
            KdfHash::Sha256,
            b"salt",
            b"info",
            64,
        )
        .unwrap();
        assert_eq!(keys.len(), 3);
        assert!(keys.iter().all(|k| k[0].len() == 64 && k[1].len() == 64));
        assert_eq!(hex(&keys[1][0][..8]), "f0f629de1681d561");
        assert_eq!(hex(&keys[2][1][..8]), "8d91d668abf80278");
    }

    #[test]
    fn sha512_without_salt() {
        let keys = derive_feature_keys(
            b"correct horse battery staple",
            1,
            KdfHash::Sha512,
            b"",
            b"",
            64,
        )
        .unwrap();
        assert_eq!(hex(&keys[0][0][..8]), "3aaebaddf146fe2a");
        assert_eq!(hex(&keys[0][1][..8]), "ae98a459ab487f4e");
    }

    #[test]
    fn too_much_key_material_is_a_schema_error() {
        // 64 features × 2 keys × 64 bytes = 8192 > 8160 bytes of HKDF-SHA256.
        let err = derive_feature_keys(b"s", 64, KdfHash::Sha256, b"", b"", 64).unwrap_err();
        assert!(matches!(err, EncodeError::Schema(_)), "{err}");
        assert!(derive_feature_keys(b"s", 63, KdfHash::Sha256, b"", b"", 64).is_ok());
        assert!(derive_feature_keys(b"s", 64, KdfHash::Sha512, b"", b"", 64).is_ok());
    }
}
