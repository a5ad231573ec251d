//! Hardening transforms applied to a finished filter, in this order:
//! keyed diffusion, balancing, XOR folding, randomized response (BLIP).
//! Salting happens earlier, on tokens. See `docs/privacy.md`.
//!
//! Every transform is keyed from the project secret and deterministic: the
//! same record and secret give the same bits. BLIP's coin flips come from
//! HMAC-SHA256 in counter mode, keyed from the secret and seeded with the
//! record's filter and row, so they are unpredictable without the key.

use std::collections::BTreeMap;

use crate::keys::FieldHasher;
use crate::schema::Hardening;
use crate::Secret;

/// Keys and tables for the enabled transforms. Its `Debug` output shows
/// the settings only: the tables are derived from the secret.
pub struct Hardener {
    settings: Hardening,
    input_bits: usize,
    diffusion: Vec<Vec<u32>>,
    permutation: Vec<u32>,
    blip: Option<FieldHasher>,
}

impl std::fmt::Debug for Hardener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hardener")
            .field("settings", &self.settings)
            .field("input_bits", &self.input_bits)
            .field("tables", &"<redacted>")
            .finish()
    }
}

impl Hardener {
    /// Prepare the transforms for filters of `input_bits`.
    pub fn new(
        settings: &Hardening,
        input_bits: usize,
        secret: &Secret,
        fingerprint: &[u8; 32],
    ) -> Hardener {
        let key =
            |purpose: &str| FieldHasher::new(secret, fingerprint, &format!("hardening/{purpose}"));
        let mut diffusion = Vec::new();
        if settings.diffusion_t > 0 {
            let hasher = key("diffusion");
            let mut positions = Vec::new();
            for output in 0..input_bits {
                positions.clear();
                hasher.positions(
                    format!("bit{output}").as_bytes(),
                    settings.diffusion_t,
                    input_bits as u32,
                    &mut positions,
                );
                diffusion.push(positions.clone());
            }
        }
        let mut permutation = Vec::new();
        if settings.balance {
            let hasher = key("balance");
            let n = 2 * input_bits;
            permutation = (0..n as u32).collect();
            for i in (1..n).rev() {
                let r = hasher.word(format!("swap{i}").as_bytes());
                let j = ((u128::from(r) * (i as u128 + 1)) >> 64) as usize;
                permutation.swap(i, j);
            }
        }
        let blip = (settings.blip_f > 0.0).then(|| key("blip"));
        Hardener {
            settings: settings.clone(),
            input_bits,
            diffusion,
            permutation,
            blip,
        }
    }

    /// Whether any transform is enabled.
    pub fn is_active(&self) -> bool {
        !self.diffusion.is_empty()
            || !self.permutation.is_empty()
            || self.settings.xor_fold
            || self.blip.is_some()
    }

    /// The settings as recorded in the file header.
    pub fn header_map(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        map.insert("hashing".into(), "keyed-hmac-sha256-per-field".into());
        let s = &self.settings;
        if s.balance {
            map.insert("balance".into(), "true".into());
        }
        if s.xor_fold {
            map.insert("xor_fold".into(), "true".into());
        }
        if s.diffusion_t > 0 {
            map.insert("diffusion_t".into(), s.diffusion_t.to_string());
        }
        if !s.salt_fields.is_empty() {
            map.insert("salt_fields".into(), s.salt_fields.join(","));
            map.insert("salt_with".into(), s.salt_with.clone());
        }
        if s.blip_f > 0.0 {
            map.insert("blip_f".into(), s.blip_f.to_string());
        }
        map
    }

    /// Apply the transforms to `words` (`input_bits` long); `row` seeds BLIP.
    pub fn apply(&self, words: Vec<u64>, row: u64) -> Vec<u64> {
        let mut bits = words;
        if !self.diffusion.is_empty() {
            let mut out = vec![0u64; bits.len()];
            for (output, inputs) in self.diffusion.iter().enumerate() {
                let parity = inputs
                    .iter()
                    .fold(0u64, |acc, &i| acc ^ get(&bits, i as usize));
                out[output / 64] |= parity << (output % 64);
            }
            bits = out;
        }
        if !self.permutation.is_empty() {
            let n = self.input_bits;
            let mut out = vec![0u64; 2 * n / 64];
            for (target, &source) in self.permutation.iter().enumerate() {
                let source = source as usize;
                let bit = if source < n {
                    get(&bits, source)
                } else {
                    1 - get(&bits, source - n)
                };
                out[target / 64] |= bit << (target % 64);
            }
            bits = out;
        }
        if self.settings.xor_fold {
            let half = bits.len() / 2;
            bits = (0..half).map(|i| bits[i] ^ bits[i + half]).collect();
        }
        if let Some(hasher) = &self.blip {
            let mut seed = Vec::with_capacity(8 + bits.len() * 8);
            seed.extend_from_slice(&row.to_le_bytes());
            for w in &bits {
                seed.extend_from_slice(&w.to_le_bytes());
            }
            let threshold = (self.settings.blip_f * 4_294_967_296.0) as u64;
            let n_bits = bits.len() * 64;
            let mut counter = 0u32;
            let mut index = 0;
            while index < n_bits {
                let mut label = seed.clone();
                label.extend_from_slice(&counter.to_le_bytes());
                let mut randoms = Vec::with_capacity(8);
                hasher.positions(&label, 8, u32::MAX, &mut randoms);
                for r in randoms {
                    if index < n_bits && u64::from(r) < threshold {
                        bits[index / 64] ^= 1 << (index % 64);
                    }
                    index += 1;
                }
                counter += 1;
            }
        }
        bits
    }
}

fn get(words: &[u64], bit: usize) -> u64 {
    words[bit / 64] >> (bit % 64) & 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hardener(settings: Hardening, secret: u8) -> Hardener {
        Hardener::new(
            &settings,
            128,
            &Secret::from_bytes(vec![secret; 32]).unwrap(),
            &[0; 32],
        )
    }

    const INPUT: [u64; 2] = [0x0123_4567_89ab_cdef, 0xff00_ff00_0000_0001];

    #[test]
    fn balance_has_constant_weight() {
        let h = hardener(
            Hardening {
                balance: true,
                ..Default::default()
            },
            1,
        );
        for input in [[0, 0], [u64::MAX, 0], INPUT] {
            let out = h.apply(input.to_vec(), 0);
            assert_eq!(out.len(), 4);
            assert_eq!(out.iter().map(|w| w.count_ones()).sum::<u32>(), 128);
        }
        assert_eq!(h.apply(INPUT.to_vec(), 0), h.apply(INPUT.to_vec(), 9));
        let other = hardener(
            Hardening {
                balance: true,
                ..Default::default()
            },
            2,
        );
        assert_ne!(h.apply(INPUT.to_vec(), 0), other.apply(INPUT.to_vec(), 0));
    }

    #[test]
    fn xor_fold_halves() {
        let h = hardener(
            Hardening {
                xor_fold: true,
                ..Default::default()
            },
            1,
        );
        assert_eq!(h.apply(INPUT.to_vec(), 0), vec![INPUT[0] ^ INPUT[1]]);
    }

    #[test]
    fn diffusion_is_keyed_and_deterministic() {
        let settings = Hardening {
            diffusion_t: 3,
            ..Default::default()
        };
        let a = hardener(settings.clone(), 1);
        let b = hardener(settings, 2);
        let out = a.apply(INPUT.to_vec(), 0);
        assert_eq!(out, a.apply(INPUT.to_vec(), 0));
        assert_ne!(out, b.apply(INPUT.to_vec(), 0));
        assert_ne!(out, INPUT.to_vec());
        assert_eq!(a.apply(vec![0, 0], 0), vec![0, 0]);
    }

    #[test]
    fn blip_flips_about_f_of_the_bits() {
        let h = hardener(
            Hardening {
                blip_f: 0.1,
                ..Default::default()
            },
            1,
        );
        let mut flipped = 0;
        for row in 0..200 {
            let out = h.apply(INPUT.to_vec(), row);
            flipped += out
                .iter()
                .zip(INPUT)
                .map(|(a, b)| (a ^ b).count_ones())
                .sum::<u32>();
            assert_eq!(out, h.apply(INPUT.to_vec(), row));
        }
        let rate = f64::from(flipped) / (200.0 * 128.0);
        assert!((0.08..0.12).contains(&rate), "{rate}");
    }
}
