//! Key derivation and keyed random hashing.
//!
//! Every field gets its own key, HKDF-SHA256 of the secret with the schema
//! fingerprint as salt and `zicht/v1/field/<name>` as info. A token's `k`
//! positions come from HMAC-SHA256 under the field key: each digest of
//! `token || 0x00 || counter` gives eight 32-bit words, each mapped to a
//! position uniformly by multiply-and-shift. No structure links the
//! positions of one token (unlike double hashing).
//!
//! Tokens are short, so [`FieldHasher`] computes these MACs from the key's
//! precomputed inner and outer SHA-256 states: two compressions per
//! digest (RFC 2104) through `sha2::compress256`, with none of the
//! streaming machinery. Tests check it against the `hmac` crate.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};
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
    short: ShortMac,
}

impl std::fmt::Debug for FieldHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FieldHasher(<keyed, redacted>)")
    }
}

/// One SHA-256 block.
type Block = GenericArray<u8, U64>;

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Longest message [`ShortMac`] takes: one block less the padding byte
/// and the 8-byte length.
const SHORT_MESSAGE: usize = 64 - 9;

/// HMAC-SHA256 under one key of messages of at most [`SHORT_MESSAGE`]
/// bytes: the states after the key's inner and outer pad blocks, then one
/// compression for the message and one for the inner digest.
#[derive(Clone)]
struct ShortMac {
    inner: Zeroizing<[u32; 8]>,
    outer: Zeroizing<[u32; 8]>,
}

impl ShortMac {
    fn new(key: &[u8]) -> ShortMac {
        // Keys longer than a block are hashed first (RFC 2104).
        let mut padded = Zeroizing::new([0u8; 64]);
        if key.len() > 64 {
            padded[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            padded[..key.len()].copy_from_slice(key);
        }
        let state_after = |pad: u8| {
            let mut block = Zeroizing::new([0u8; 64]);
            for (byte, &key_byte) in block.iter_mut().zip(padded.iter()) {
                *byte = key_byte ^ pad;
            }
            let mut state = Zeroizing::new(SHA256_IV);
            sha2::compress256(
                &mut state,
                std::slice::from_ref(Block::from_slice(&block[..])),
            );
            state
        };
        ShortMac {
            inner: state_after(0x36),
            outer: state_after(0x5c),
        }
    }

    /// A block holding `message` (at most [`SHORT_MESSAGE`] bytes) as the
    /// last block of a hash whose first block was a key pad.
    fn block(message: &[u8]) -> Block {
        debug_assert!(message.len() <= SHORT_MESSAGE);
        let mut block = Block::default();
        block[..message.len()].copy_from_slice(message);
        block[message.len()] = 0x80;
        block[56..].copy_from_slice(&((64 + message.len() as u64) * 8).to_be_bytes());
        block
    }

    /// The MAC of the message that [`ShortMac::block`] put in `block`.
    fn mac(&self, block: &Block) -> [u32; 8] {
        let mut inner = *self.inner;
        sha2::compress256(&mut inner, std::slice::from_ref(block));
        let mut outer_block = Block::default();
        for (bytes, word) in outer_block[..32].chunks_exact_mut(4).zip(inner) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        outer_block[32] = 0x80;
        outer_block[56..].copy_from_slice(&((64u64 + 32) * 8).to_be_bytes());
        let mut outer = *self.outer;
        sha2::compress256(&mut outer, std::slice::from_ref(&outer_block));
        outer
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
            short: ShortMac::new(key),
        }
    }

    /// Append `k` positions in `0..filter_bits` for `token` to `out`.
    pub fn positions(&self, token: &[u8], k: u32, filter_bits: u32, out: &mut Vec<u32>) {
        let position = |word: u32| ((u64::from(word) * u64::from(filter_bits)) >> 32) as u32;
        if token.len() + 2 > SHORT_MESSAGE {
            return self.positions_streamed(token, k, out, position);
        }
        // The message is `token || 0 || counter`: only the counter byte
        // changes between digests.
        let mut message = [0u8; SHORT_MESSAGE];
        message[..token.len()].copy_from_slice(token);
        let mut block = ShortMac::block(&message[..token.len() + 2]);
        let mut produced = 0;
        let mut counter = 0u8;
        while produced < k {
            block[token.len() + 1] = counter;
            for word in self.short.mac(&block) {
                if produced == k {
                    break;
                }
                // The digest's bytes, read as little-endian words.
                out.push(position(word.swap_bytes()));
                produced += 1;
            }
            counter = counter.wrapping_add(1);
        }
    }

    /// [`FieldHasher::positions`] through the `hmac` crate, for long tokens.
    fn positions_streamed(
        &self,
        token: &[u8],
        k: u32,
        out: &mut Vec<u32>,
        position: impl Fn(u32) -> u32,
    ) {
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
                out.push(position(word));
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

    /// Positions through precomputed states equal those through the `hmac`
    /// crate, for every token length around the one-block limit and keys
    /// shorter and longer than a block.
    #[test]
    fn short_macs_are_hmac_sha256() {
        for key_len in [0, 1, 32, 64, 65, 131] {
            let key: Vec<u8> = (0..key_len).map(|i| (i * 7 + 3) as u8).collect();
            let hasher = FieldHasher::from_key(&key);
            for token_len in 0..80 {
                let token: Vec<u8> = (0..token_len).map(|i| (i * 13 + key_len) as u8).collect();
                for k in [1, 8, 9, 20, 64] {
                    let (mut fast, mut streamed) = (Vec::new(), Vec::new());
                    hasher.positions(&token, k, 1000, &mut fast);
                    hasher.positions_streamed(&token, k, &mut streamed, |w| {
                        ((u64::from(w) * 1000) >> 32) as u32
                    });
                    assert_eq!(
                        fast, streamed,
                        "key {key_len} B, token {token_len} B, k {k}"
                    );
                }
                let mut mac = HmacSha256::new_from_slice(&key).unwrap();
                mac.update(&token);
                if token.len() <= SHORT_MESSAGE {
                    let digest = hasher.short.mac(&ShortMac::block(&token));
                    let bytes: Vec<u8> = digest.iter().flat_map(|w| w.to_be_bytes()).collect();
                    assert_eq!(bytes, mac.finalize().into_bytes().to_vec());
                }
            }
        }
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
