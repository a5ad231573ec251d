//! Key derivation and keyed random hashing.
//!
//! Every field gets its own key, HKDF-SHA256 of the secret with the schema
//! fingerprint as salt and `zicht/v1/field/<name>` as info. A token's `k`
//! positions come from HMAC-SHA256 under the field key: each digest of
//! `token || 0x00 || counter` gives eight 32-bit words, each mapped to a
//! position uniformly by multiply-and-shift. No structure links the
//! positions of one token (unlike double hashing).

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::Secret;

type HmacSha256 = Hmac<Sha256>;

/// Derive a 32-byte key from the secret for a purpose.
pub fn derive_key(secret: &Secret, fingerprint: &[u8; 32], info: &str) -> Zeroizing<[u8; 32]> {
    let hkdf = Hkdf::<Sha256>::new(Some(fingerprint), secret.expose());
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf.expand(info.as_bytes(), key.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

/// The key check value: the first 8 bytes of HMAC-SHA256 of a fixed label
/// under a key derived from the secret and the schema fingerprint. Equal
/// values mean the same secret and schema, without revealing either.
pub fn key_check_value(secret: &Secret, fingerprint: &[u8; 32]) -> [u8; 8] {
    let key = derive_key(secret, fingerprint, "zicht/v1/key-check");
    let mut mac = HmacSha256::new_from_slice(key.as_ref()).expect("any key length works");
    mac.update(b"zicht key check value v1");
    let digest = mac.finalize().into_bytes();
    digest[..8].try_into().expect("8 bytes")
}

/// Keyed random positions for the tokens of one field.
#[derive(Clone)]
pub struct FieldHasher {
    keyed: HmacSha256,
}

impl std::fmt::Debug for FieldHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FieldHasher(<keyed, redacted>)")
    }
}

impl FieldHasher {
    /// The hasher of field `name`.
    pub fn new(secret: &Secret, fingerprint: &[u8; 32], name: &str) -> FieldHasher {
        let key = derive_key(secret, fingerprint, &format!("zicht/v1/field/{name}"));
        FieldHasher::from_key(key.as_ref())
    }

    /// A hasher from a raw key (for tests and hardening keys).
    pub fn from_key(key: &[u8]) -> FieldHasher {
        FieldHasher {
            keyed: HmacSha256::new_from_slice(key).expect("any key length works"),
        }
    }

    /// Append `k` positions in `0..filter_bits` for `token` to `out`.
    pub fn positions(&self, token: &[u8], k: u32, filter_bits: u32, out: &mut Vec<u32>) {
        let mut produced = 0;
        let mut counter = 0u8;
        while produced < k {
            let mut mac = self.keyed.clone();
            mac.update(token);
            mac.update(&[0, counter]);
            let digest = mac.finalize().into_bytes();
            for chunk in digest.chunks_exact(4) {
                if produced == k {
                    break;
                }
                let word = u32::from_le_bytes(chunk.try_into().expect("4 bytes"));
                out.push(((u64::from(word) * u64::from(filter_bits)) >> 32) as u32);
                produced += 1;
            }
            counter = counter.wrapping_add(1);
        }
    }

    /// A pseudo-random 64-bit value for `label` (for keyed permutations).
    pub fn word(&self, label: &[u8]) -> u64 {
        let mut mac = self.keyed.clone();
        mac.update(label);
        let digest = mac.finalize().into_bytes();
        u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 4231 test cases 1, 2 and 6 for HMAC-SHA256.
    #[test]
    fn hmac_sha256_rfc4231() {
        let cases: [(Vec<u8>, Vec<u8>, &str); 3] = [
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, data, want) in cases {
            let mut mac = HmacSha256::new_from_slice(&key).unwrap();
            mac.update(&data);
            assert_eq!(mac.finalize().into_bytes().to_vec(), unhex(want));
        }
    }

    /// RFC 5869 test case 1 for HKDF-SHA256.
    #[test]
    fn hkdf_sha256_rfc5869() {
        let ikm = vec![0x0b; 22];
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let hkdf = Hkdf::<Sha256>::new(Some(&salt), &ikm);
        let mut okm = [0u8; 42];
        hkdf.expand(&info, &mut okm).unwrap();
        assert_eq!(
            okm.to_vec(),
            unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        );
    }

    #[test]
    fn positions_are_keyed_and_in_range() {
        let secret = Secret::from_bytes(vec![7; 32]).unwrap();
        let other = Secret::from_bytes(vec![8; 32]).unwrap();
        let fp = [1; 32];
        let a = FieldHasher::new(&secret, &fp, "given_name");
        let b = FieldHasher::new(&other, &fp, "given_name");
        let c = FieldHasher::new(&secret, &fp, "family_name");
        let (mut pa, mut pb, mut pc) = (Vec::new(), Vec::new(), Vec::new());
        a.positions(b"an", 20, 1000, &mut pa);
        b.positions(b"an", 20, 1000, &mut pb);
        c.positions(b"an", 20, 1000, &mut pc);
        assert_eq!(pa.len(), 20);
        assert!(pa.iter().all(|&p| p < 1000));
        assert_ne!(pa, pb);
        assert_ne!(pa, pc);
        let mut again = Vec::new();
        a.positions(b"an", 20, 1000, &mut again);
        assert_eq!(pa, again);
    }

    #[test]
    fn key_check_depends_on_secret_and_schema() {
        let s1 = Secret::from_bytes(vec![7; 32]).unwrap();
        let s2 = Secret::from_bytes(vec![8; 32]).unwrap();
        assert_eq!(
            key_check_value(&s1, &[0; 32]),
            key_check_value(&s1, &[0; 32])
        );
        assert_ne!(
            key_check_value(&s1, &[0; 32]),
            key_check_value(&s2, &[0; 32])
        );
        assert_ne!(
            key_check_value(&s1, &[0; 32]),
            key_check_value(&s1, &[1; 32])
        );
    }
}
