//! A frequency / pattern-mining attack on the agency's own encoded records,
//! as an attacker without the key would run it, scored with the key.
//!
//! The attacker holds the encoded file and knows the schema (it is not
//! secret) and the distribution of the values: here, the strongest realistic
//! assumption, the exact frequency of every token unit in the agency's own
//! sample and the list of the sample's value combinations (as from a
//! population register). The attacker does not know the key, so does not
//! know which positions belong to which token. The attack:
//!
//! 1. mines groups of positions that are set together ([`crate::mining`]);
//! 2. assigns each group, most frequent first, to the not yet assigned
//!    token whose frequency is closest to the group's record count (within
//!    15%, at least 2 records) and whose number of positions fits the
//!    group's size (from half to one and a half times); under randomized
//!    response, whose `f` the header records, a token's expected count is
//!    scaled by the chance `(1 - f)^m` that none of the group's `m` positions
//!    was flipped off;
//! 3. reads off, for every record, which assigned tokens it holds (at least
//!    80% of the group's positions set), and re-identifies the record when
//!    exactly one value combination agrees best with what was read.
//!
//! The agency then scores it with the truth: a token is *recovered* when
//! its group was assigned to it and at least half of the group's positions
//! are the token's and at least half of the token's positions are in the
//! group; a record is *re-identified* when the one best value combination
//! is the record's own. Nothing but counts leaves this module.

use std::collections::HashMap;

use serde::Serialize;
use zicht_format::EncodedFile;

use crate::bits::{get, Columns};
use crate::mining::{mine_patterns, MiningConfig, Pattern};
use crate::truth::Truth;

/// Settings of the attack.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttackConfig {
    /// How many of the most frequent token units the attacker targets.
    pub target_tokens: usize,
    /// Largest relative difference between a group's record count and a
    /// token's frequency for an assignment.
    pub count_tolerance: f64,
    /// Share of a group's positions a record must have set to count as
    /// holding the token.
    pub presence: f64,
}

impl Default for AttackConfig {
    fn default() -> Self {
        AttackConfig {
            target_tokens: 100,
            count_tolerance: 0.15,
            presence: 0.8,
        }
    }
}

/// The outcome of the attack: counts and rates only.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AttackResult {
    /// Records attacked.
    pub sample_records: usize,
    /// Distinct value combinations among them.
    pub distinct_identities: usize,
    /// Token units the attacker targets (the most frequent).
    pub tokens_targeted: usize,
    /// Of which q-grams.
    pub qgrams_targeted: usize,
    /// Groups of positions the miner found.
    pub patterns_found: usize,
    /// Groups that are in truth some frequent token's positions (Jaccard
    /// of at least 0.5), whether or not the attacker named them right.
    pub patterns_matching_a_token: usize,
    /// Groups the attacker assigned to a token.
    pub tokens_assigned: usize,
    /// Assignments that are right (see the module documentation).
    pub tokens_recovered: usize,
    /// Of which q-grams.
    pub qgrams_recovered: usize,
    /// `qgrams_recovered / qgrams_targeted`.
    pub qgram_recovery_rate: f64,
    /// Mean share of an assigned group's positions that belong to the
    /// assigned token.
    pub position_precision: f64,
    /// Mean share of an assigned token's positions found in its group.
    pub position_recall: f64,
    /// Records the attacker names one value combination for.
    pub records_identified: usize,
    /// Of which correctly.
    pub records_reidentified: usize,
    /// `records_reidentified / sample_records`.
    pub reidentification_rate: f64,
}

/// Run the attack on the sampled records of `file` and score it.
pub(crate) fn run_attack(file: &EncodedFile, truth: &Truth, config: &AttackConfig) -> AttackResult {
    let n = truth.file_indices.len();
    let mut result = AttackResult {
        sample_records: n,
        distinct_identities: truth.n_identities(),
        ..AttackResult::default()
    };
    if n == 0 {
        return result;
    }
    let columns = Columns::new(&file.filters, &truth.file_indices);
    let mining = MiningConfig::for_sample(n);
    let patterns = mine_patterns(&columns, &mining);
    result.patterns_found = patterns.len();

    // The attacker's frequency list: the most frequent units.
    let mut targets: Vec<usize> = (0..truth.units.len()).collect();
    targets.sort_by(|&a, &b| {
        truth.units[b]
            .count
            .cmp(&truth.units[a].count)
            .then(a.cmp(&b))
    });
    targets.truncate(config.target_tokens);
    result.tokens_targeted = targets.len();
    result.qgrams_targeted = targets.iter().filter(|&&u| truth.units[u].is_qgram).count();

    result.patterns_matching_a_token =
        patterns_matching_a_token(&patterns, truth, mining.min_support);

    // Randomized response is recorded in the header, so the attacker knows
    // that a holder of a token keeps all of a group's `m` positions only
    // with probability (1 - f)^m, and expects that many fewer records.
    let blip_f = file
        .header
        .hardening
        .get("blip_f")
        .and_then(|f| f.parse::<f64>().ok())
        .filter(|f| (0.0..0.5).contains(f))
        .unwrap_or(0.0);
    let assignments = assign(&patterns, truth, &targets, blip_f, config);
    result.tokens_assigned = assignments.len();
    let (mut precision, mut recall) = (0.0, 0.0);
    for &(pattern, unit) in &assignments {
        let positions = &patterns[pattern].positions;
        let truth_positions = &truth.units[unit].output;
        let both = intersection(positions, truth_positions) as f64;
        let p = both / positions.len() as f64;
        let r = if truth_positions.is_empty() {
            0.0
        } else {
            both / truth_positions.len() as f64
        };
        precision += p;
        recall += r;
        if p >= 0.5 && r >= 0.5 {
            result.tokens_recovered += 1;
            result.qgrams_recovered += usize::from(truth.units[unit].is_qgram);
        }
    }
    if !assignments.is_empty() {
        result.position_precision = precision / assignments.len() as f64;
        result.position_recall = recall / assignments.len() as f64;
    }
    if result.qgrams_targeted > 0 {
        result.qgram_recovery_rate = result.qgrams_recovered as f64 / result.qgrams_targeted as f64;
    }
    let (identified, correct) = reidentify(file, truth, &patterns, &assignments, config);
    result.records_identified = identified;
    result.records_reidentified = correct;
    result.reidentification_rate = correct as f64 / n as f64;
    result
}

/// Step 2: groups, most frequent first, to tokens of matching frequency and size.
fn assign(
    patterns: &[Pattern],
    truth: &Truth,
    targets: &[usize],
    blip_f: f64,
    config: &AttackConfig,
) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..patterns.len()).collect();
    order.sort_by(|&a, &b| {
        patterns[b]
            .support
            .cmp(&patterns[a].support)
            .then(patterns[a].positions.cmp(&patterns[b].positions))
    });
    let mut taken = vec![false; targets.len()];
    let mut assignments = Vec::new();
    for index in order {
        let pattern = &patterns[index];
        let size = pattern.positions.len() as f64;
        let support = pattern.support as f64;
        let kept = (1.0 - blip_f).powi(pattern.positions.len() as i32);
        let best = targets
            .iter()
            .enumerate()
            .filter(|&(t, _)| !taken[t])
            .filter_map(|(t, &unit)| {
                let u = &truth.units[unit];
                let k = u.output.len() as f64;
                let count = u.count as f64 * kept;
                let gap = (count - support).abs();
                let fits = size >= 0.5 * k
                    && size <= 1.5 * k + 1.0
                    && gap <= (config.count_tolerance * count).max(2.0);
                fits.then_some((gap, t, unit))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if let Some((_, t, unit)) = best {
            taken[t] = true;
            assignments.push((index, unit));
        }
    }
    assignments
}

/// Step 3: read each record's tokens off its filter and pick the value
/// combination that agrees best. Returns (identified, correctly).
fn reidentify(
    file: &EncodedFile,
    truth: &Truth,
    patterns: &[Pattern],
    assignments: &[(usize, usize)],
    config: &AttackConfig,
) -> (usize, usize) {
    let m = assignments.len();
    if m == 0 {
        return (0, 0);
    }
    let words = m.div_ceil(64);
    let n_identities = truth.n_identities();
    // What each value combination holds, from one record that has it.
    let mut candidates: Vec<Option<Vec<u64>>> = vec![None; n_identities];
    for (record, &identity) in truth.identity.iter().enumerate() {
        let slot = &mut candidates[identity as usize];
        if slot.is_none() {
            let held = &truth.record_units[record];
            let mut mask = vec![0u64; words];
            for (j, &(_, unit)) in assignments.iter().enumerate() {
                if held.binary_search(&(unit as u32)).is_ok() {
                    mask[j / 64] |= 1 << (j % 64);
                }
            }
            *slot = Some(mask);
        }
    }
    let candidates: Vec<Vec<u64>> = candidates.into_iter().flatten().collect();
    let (mut identified, mut correct) = (0, 0);
    for (record, &index) in truth.file_indices.iter().enumerate() {
        let row = file.filters.row(index);
        let mut read = vec![0u64; words];
        for (j, &(pattern, _)) in assignments.iter().enumerate() {
            let positions = &patterns[pattern].positions;
            let set = positions.iter().filter(|&&p| get(row, p as usize)).count();
            if set as f64 >= config.presence * positions.len() as f64 {
                read[j / 64] |= 1 << (j % 64);
            }
        }
        let mut best = usize::MAX;
        let mut best_identity = 0;
        let mut ties = 0;
        for (identity, mask) in candidates.iter().enumerate() {
            let disagreements: usize = mask
                .iter()
                .zip(&read)
                .map(|(a, b)| (a ^ b).count_ones() as usize)
                .sum();
            if disagreements < best {
                best = disagreements;
                best_identity = identity;
                ties = 1;
            } else if disagreements == best {
                ties += 1;
            }
        }
        if ties == 1 {
            identified += 1;
            correct += usize::from(best_identity as u32 == truth.identity[record]);
        }
    }
    (identified, correct)
}

/// Groups whose positions are, in truth, mostly one frequent unit's
/// (Jaccard of at least 0.5 with a unit held by `min_support` records).
fn patterns_matching_a_token(patterns: &[Pattern], truth: &Truth, min_support: usize) -> usize {
    let mut by_position: HashMap<u32, Vec<usize>> = HashMap::new();
    for (id, unit) in truth.units.iter().enumerate() {
        if unit.count >= min_support {
            for &p in &unit.output {
                by_position.entry(p).or_default().push(id);
            }
        }
    }
    patterns
        .iter()
        .filter(|pattern| {
            let mut overlap: HashMap<usize, usize> = HashMap::new();
            for p in &pattern.positions {
                for &id in by_position.get(p).map_or(&[][..], Vec::as_slice) {
                    *overlap.entry(id).or_insert(0) += 1;
                }
            }
            overlap.iter().any(|(&id, &both)| {
                let union = pattern.positions.len() + truth.units[id].output.len() - both;
                both as f64 >= 0.5 * union as f64
            })
        })
        .count()
}

fn intersection(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut both) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    both
}

#[cfg(test)]
fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    let both = intersection(a, b);
    let union = a.len() + b.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f64 / union as f64
    }
}

/// Pearson correlation of each sampled record's set-bit count with the
/// length of its names; `None` when either is constant.
pub(crate) fn length_correlation(file: &EncodedFile, truth: &Truth) -> Option<f64> {
    let xs: Vec<f64> = truth
        .file_indices
        .iter()
        .map(|&i| f64::from(file.filters.popcount(i)))
        .collect();
    let ys: Vec<f64> = truth.name_chars.iter().map(|&c| c as f64).collect();
    pearson(&xs, &ys)
}

fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    if xs.len() < 2 {
        return None;
    }
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx).powi(2);
        syy += (y - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_helpers() {
        assert_eq!(intersection(&[1, 3, 5, 7], &[3, 4, 5]), 2);
        assert!((jaccard(&[1, 2], &[2, 3]) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(jaccard(&[], &[]), 0.0);
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!(pearson(&[1.0, 1.0], &[2.0, 3.0]).is_none());
    }
}
