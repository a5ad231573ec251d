//! clkhash's token hashes (`bloomfilter.py`): `blakeHash` (keyed BLAKE2b)
//! and `doubleHash` (HMAC-SHA1 and HMAC-MD5, optionally without the
//! singularity).
//!
//! Each function calls `set` with the filter positions of one token, in
//! clkhash's order and with clkhash's repetitions; positions are in `0..l`
//! and numbered as clkhash numbers bits (the CLK's bit `i`).

use blake2::digest::Mac;
use blake2::Blake2bMac512;
use hmac::Hmac;
use md5::Md5;
use sha1::Sha1;

/// Which hash a feature uses (the schema's `hash`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    /// `{"type": "blakeHash"}`.
    Blake,
    /// `{"type": "doubleHash", "prevent_singularity": p}`.
    Double {
        /// Re-hash when the MD5 step is 0 modulo l.
        prevent_singularity: bool,
    },
}

/// The largest BLAKE2b key, in bytes.
pub const MAX_BLAKE_KEY_BYTES: usize = 64;

/// `blakeHash`: `k` positions of `token` in a filter of `l` bits.
///
/// For `j` in `0..⌈k / 32⌉`, the keyed BLAKE2b-512 of the token with salt
/// `str(j)` (ASCII, zero-padded to 16 bytes) is read as 32 little-endian
/// `u16`; the first `k` of these, each modulo `l`, are the positions.
/// `l` must be a power of two and `key` at most 64 bytes (checked when the
/// schema is read); otherwise nothing is set.
pub fn blake_positions(token: &[u8], k: u32, key: &[u8], l: u32, mut set: impl FnMut(u32)) {
    if l == 0 || !l.is_power_of_two() {
        return;
    }
    let mut remaining = k;
    let mut block: u64 = 0;
    while remaining > 0 {
        let salt = block.to_string();
        let Ok(mut mac) = Blake2bMac512::new_with_salt_and_personal(key, salt.as_bytes(), &[])
        else {
            return;
        };
        mac.update(token);
        let digest = mac.finalize().into_bytes();
        for pair in digest.chunks_exact(2).take(remaining.min(32) as usize) {
            let short = u16::from_le_bytes([pair[0], pair[1]]);
            set(u32::from(short) % l);
        }
        remaining = remaining.saturating_sub(32);
        block += 1;
    }
}

/// A big-endian number modulo `l` (Python's `int.from_bytes(d, 'big') % l`).
fn big_endian_mod(bytes: &[u8], l: u32) -> u64 {
    let l = u64::from(l);
    bytes
        .iter()
        .fold(0u64, |acc, &byte| (acc * 256 + u64::from(byte)) % l)
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Option<[u8; 20]> {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().into())
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> Option<[u8; 16]> {
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().into())
}

/// The two double-hashing steps of a token: (HMAC-SHA1 mod l, HMAC-MD5 mod l).
///
/// With `prevent_singularity`, an MD5 step of 0 is replaced by the HMAC-MD5
/// of the token followed by the UTF-8 encoding of the code point `j`, for
/// `j = 0, 1, ...` until the step is not 0.
pub fn double_hash_steps(
    token: &[u8],
    key_sha1: &[u8],
    key_md5: &[u8],
    l: u32,
    prevent_singularity: bool,
) -> (u64, u64) {
    if l == 0 {
        return (0, 0);
    }
    let sha1_step = hmac_sha1(key_sha1, &[token]).map_or(0, |d| big_endian_mod(&d, l));
    let mut md5_step = hmac_md5(key_md5, &[token]).map_or(0, |d| big_endian_mod(&d, l));
    if prevent_singularity {
        let mut code_point: u32 = 0;
        while md5_step == 0 {
            // Python's chr(j).encode(): UTF-8; a surrogate would raise there,
            // but the loop ends long before (each try succeeds with
            // probability 1 - 1/l).
            let Some(c) = char::from_u32(code_point) else {
                break;
            };
            let mut buf = [0u8; 4];
            let suffix = c.encode_utf8(&mut buf).as_bytes();
            md5_step = hmac_md5(key_md5, &[token, suffix]).map_or(1, |d| big_endian_mod(&d, l));
            code_point += 1;
        }
    }
    (sha1_step, md5_step)
}

/// `doubleHash`: positions `(h1 + i·h2) mod l` for `i` in `0..k`.
pub fn double_hash_positions(
    token: &[u8],
    k: u32,
    key_sha1: &[u8],
    key_md5: &[u8],
    l: u32,
    prevent_singularity: bool,
    mut set: impl FnMut(u32),
) {
    if l == 0 {
        return;
    }
    let (h1, h2) = double_hash_steps(token, key_sha1, key_md5, l, prevent_singularity);
    let l64 = u64::from(l);
    for i in 0..u64::from(k) {
        set(((h1 + i * h2) % l64) as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(f: impl FnOnce(&mut dyn FnMut(u32))) -> Vec<u32> {
        let mut out = Vec::new();
        f(&mut |p| out.push(p));
        out
    }

    fn key(start: u8) -> Vec<u8> {
        (start..start + 64).collect()
    }

    // Reference values below come from Python's hashlib and hmac (an
    // independent implementation of BLAKE2b and HMAC).

    #[test]
    fn blake_first_block() {
        let positions = collect(|set| blake_positions(b" a", 5, &key(0), 1024, set));
        assert_eq!(positions, [643, 397, 699, 759, 380]);
    }

    #[test]
    fn blake_second_block_uses_salt_1() {
        let positions = collect(|set| blake_positions(b" a", 35, &key(0), 1024, set));
        assert_eq!(positions.len(), 35);
        assert_eq!(&positions[..5], [643, 397, 699, 759, 380]);
        assert_eq!(&positions[32..], [505, 631, 523]);
    }

    #[test]
    fn blake_empty_token_and_zero_k() {
        let positions = collect(|set| blake_positions(b"", 3, &key(0), 64, set));
        assert_eq!(positions, [16, 32, 40]);
        assert!(collect(|set| blake_positions(b"x", 0, &key(0), 64, set)).is_empty());
    }

    #[test]
    fn double_hash_steps_match_hmac() {
        assert_eq!(
            double_hash_steps(b"ab", &key(0), &key(64), 512, false),
            (505, 476)
        );
        assert_eq!(
            double_hash_steps(b"ab", &key(0), &key(64), 1000, false),
            (313, 420)
        );
        assert_eq!(
            double_hash_steps("ş".as_bytes(), &key(0), &key(64), 512, true),
            (441, 14)
        );
    }

    #[test]
    fn double_hash_positions_step_by_h2() {
        let positions =
            collect(|set| double_hash_positions(b"ab", 3, &key(0), &key(64), 512, false, set));
        assert_eq!(positions, [505, (505 + 476) % 512, (505 + 2 * 476) % 512]);
    }

    #[test]
    fn singularity_is_prevented_only_when_asked() {
        // HMAC-MD5 of "5" is 0 modulo 64 with this key.
        let plain =
            collect(|set| double_hash_positions(b"5", 4, &key(0), &key(64), 64, false, set));
        assert_eq!(plain, [21, 21, 21, 21]);
        let fixed = collect(|set| double_hash_positions(b"5", 4, &key(0), &key(64), 64, true, set));
        let expected: Vec<u32> = (0..4).map(|i| (21 + i * 38) % 64).collect();
        assert_eq!(fixed, expected);
    }
}
