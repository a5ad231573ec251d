//! Pattern mining on bit columns, as an attacker without the key runs it
//! (after Christen et al. 2017-2018): the `k` positions of a token are set
//! together in every record that holds the token, so a frequent token shows
//! up as a group of positions whose records coincide.
//!
//! From a seed position the miner adds, one at a time, the position whose
//! records are most correlated (phi) with the records that have every
//! position chosen so far. While chance could still explain those records
//! (the product of the positions' frequencies is a large share of them),
//! correlation alone decides; once it cannot, a position must also be set in
//! most of the group's records, so that a second, merely correlated token is
//! not merged in. Seeds are tried from the most frequent position down.

use rayon::prelude::*;

use crate::bits::{and_count, count, phi, Columns};

/// Settings of the miner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct MiningConfig {
    /// Fewest records a pattern must cover.
    pub min_support: usize,
    /// Smallest phi for a position to join.
    pub phi_threshold: f64,
    /// Positions set in more than this share of records are ignored
    /// (near-constant bits say nothing about a token).
    pub max_frequency: f64,
    /// Once chance is ruled out, the share of the group's records a joining
    /// position must be set in.
    pub retention: f64,
    /// Chance is ruled out when the expected random support is below this
    /// share of the group.
    pub noise_share: f64,
    /// Largest pattern.
    pub max_positions: usize,
}

impl MiningConfig {
    /// Settings for a sample of `n` records: a pattern needs at least five
    /// records and 0.5% of the sample, and a joining position a phi of five
    /// times the noise level (at least 0.05).
    pub fn for_sample(n: usize) -> MiningConfig {
        MiningConfig {
            min_support: (n / 200).max(5),
            phi_threshold: (5.0 / (n.max(1) as f64).sqrt()).max(0.05),
            max_frequency: 0.9,
            retention: 0.8,
            noise_share: 0.2,
            max_positions: 128,
        }
    }
}

/// A group of positions set together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    /// The positions, sorted.
    pub positions: Vec<u32>,
    /// Records with every position set.
    pub support: usize,
    /// Which records (a bitset over the sample).
    pub records: Vec<u64>,
}

/// Mine the patterns of a sample. Deterministic (ties go to the lower position).
pub(crate) fn mine_patterns(columns: &Columns, config: &MiningConfig) -> Vec<Pattern> {
    let n = columns.n_records;
    if n == 0 {
        return Vec::new();
    }
    let eligible: Vec<usize> = (0..columns.n_bits())
        .filter(|&p| {
            let s = columns.support[p];
            s >= config.min_support && (s as f64) <= config.max_frequency * n as f64
        })
        .collect();
    let mut seeds = eligible.clone();
    seeds.sort_by(|&a, &b| columns.support[b].cmp(&columns.support[a]).then(a.cmp(&b)));
    let mut used = vec![false; columns.n_bits()];
    let mut patterns: Vec<Pattern> = Vec::new();
    for seed in seeds {
        if used[seed] {
            continue;
        }
        used[seed] = true;
        let (positions, records) = grow(columns, &eligible, seed, config);
        let support = count(&records);
        if positions.len() < 2 || support < config.min_support {
            continue;
        }
        for &p in &positions {
            used[p] = true;
        }
        let mut positions: Vec<u32> = positions.into_iter().map(|p| p as u32).collect();
        positions.sort_unstable();
        // A second pattern over the same records is the same token, reached
        // from a position the first one missed: merge them.
        if let Some(same) = patterns.iter_mut().find(|q| {
            let both = and_count(&q.records, &records);
            let union = q.support + support - both;
            union > 0 && both as f64 >= 0.9 * union as f64
        }) {
            same.positions.extend(positions);
            same.positions.sort_unstable();
            same.positions.dedup();
            continue;
        }
        patterns.push(Pattern {
            positions,
            support,
            records,
        });
    }
    patterns
}

/// Grow one pattern from `seed`.
fn grow(
    columns: &Columns,
    eligible: &[usize],
    seed: usize,
    config: &MiningConfig,
) -> (Vec<usize>, Vec<u64>) {
    let n = columns.n_records;
    let mut records = columns.columns[seed].clone();
    let mut positions = vec![seed];
    let mut expected_share = columns.support[seed] as f64 / n as f64;
    while positions.len() < config.max_positions {
        let size = count(&records);
        if size == 0 {
            break;
        }
        let chance_ruled_out = expected_share * n as f64 <= config.noise_share * size as f64;
        let best = eligible
            .par_iter()
            .filter(|p| !positions.contains(p))
            .filter_map(|&p| {
                let both = and_count(&records, &columns.columns[p]);
                if both < config.min_support {
                    return None;
                }
                if chance_ruled_out && (both as f64) < config.retention * size as f64 {
                    return None;
                }
                let r = phi(both, size, columns.support[p], n);
                (r >= config.phi_threshold).then_some((r, p))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let Some((_, p)) = best else {
            break;
        };
        for (word, other) in records.iter_mut().zip(&columns.columns[p]) {
            *word &= other;
        }
        expected_share *= columns.support[p] as f64 / n as f64;
        positions.push(p);
    }
    (positions, records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zicht_format::{FilterLength, FilterMatrix};

    /// Deterministic pseudo-random bits (splitmix64).
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// 2,000 records of 256 bits: token A (positions 10..20) in every 4th
    /// record, token B (positions 100..108) in every 5th, plus sparse noise.
    fn planted() -> FilterMatrix {
        let mut m = FilterMatrix::new(FilterLength::new(256).unwrap());
        for r in 0..2000u64 {
            let mut words = [0u64; 4];
            let mut set = |p: u64| words[(p / 64) as usize] |= 1 << (p % 64);
            if r % 4 == 0 {
                (10..20).for_each(&mut set);
            }
            if r % 5 == 0 {
                (100..108).for_each(&mut set);
            }
            for j in 0..6 {
                set(mix(r * 31 + j) % 256);
            }
            m.push(&words);
        }
        m
    }

    #[test]
    fn finds_planted_tokens() {
        let m = planted();
        let sample: Vec<usize> = (0..m.len()).collect();
        let columns = Columns::new(&m, &sample);
        let patterns = mine_patterns(&columns, &MiningConfig::for_sample(sample.len()));
        let a: Vec<u32> = (10..20).collect();
        let b: Vec<u32> = (100..108).collect();
        let found_a = patterns.iter().find(|p| p.positions == a).expect("token A");
        assert!((500..520).contains(&found_a.support), "{}", found_a.support);
        let found_b = patterns.iter().find(|p| p.positions == b).expect("token B");
        assert!((400..420).contains(&found_b.support), "{}", found_b.support);
        // Noise alone forms no pattern.
        assert_eq!(patterns.len(), 2, "{patterns:?}");
    }

    #[test]
    fn random_bits_give_no_pattern() {
        let mut m = FilterMatrix::new(FilterLength::new(128).unwrap());
        for r in 0..1000u64 {
            m.push(&[mix(2 * r), mix(2 * r + 1)]);
        }
        let sample: Vec<usize> = (0..m.len()).collect();
        let columns = Columns::new(&m, &sample);
        assert!(mine_patterns(&columns, &MiningConfig::for_sample(1000)).is_empty());
    }
}
