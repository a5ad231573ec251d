//! Solvers: from candidate pairs to clusters (one cluster is one person).
//!
//! Every solver first sorts the pairs into the *canonical order*: Dice
//! descending (compared exactly, as fractions), then the lower canonical
//! rank of the two records ascending, then the higher one ascending. The
//! canonical rank of a record orders records by source label, then data
//! row, so the order does not depend on the order of the input files, of
//! the records, of the pairs, or on the thread count.
//!
//! * [`Solver::Greedy`] walks the pairs in that order and merges the two
//!   records' clusters when the result still satisfies the invariant: *for
//!   every source, the records of that source in one cluster are connected
//!   by accepted same-source (deduplication) pairs*. So a pair of records of
//!   different sources merges two clusters that share no source; a pair of
//!   records of source `s` merges two clusters that share no source but
//!   `s`. With two sources and no deduplication this is the greedy
//!   one-to-one assignment.
//! * [`Solver::Optimal`] (two sources only) takes the maximum-weight
//!   one-to-one assignment of the cross-source pairs (see
//!   [`crate::assignment`]), then adds same-source pairs greedily under the
//!   same invariant.
//! * [`Solver::Components`] puts every pair's records in one cluster:
//!   connected components, no constraint.

use rayon::slice::ParallelSliceMut;

use crate::assignment::{max_weight_matching, WeightedEdge};
use crate::kernel::Pair;
use crate::LinkError;

/// How pairs become clusters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Solver {
    /// Greedy merging in descending score order, at most one record per
    /// source per cluster unless deduplicated (the default).
    #[default]
    Greedy,
    /// Maximum-weight one-to-one assignment (two sources only), then greedy
    /// deduplication.
    Optimal,
    /// Connected components of all pairs.
    Components,
}

impl Solver {
    /// The name used on the command line and in `summary.json`.
    pub fn name(self) -> &'static str {
        match self {
            Solver::Greedy => "greedy",
            Solver::Optimal => "optimal",
            Solver::Components => "components",
        }
    }
}

/// Records as the solvers see them.
#[derive(Clone, Copy, Debug)]
pub struct SolverRecords<'a> {
    /// Source index of each record id (below 32).
    pub sources: &'a [u8],
    /// Canonical rank of each record id: a permutation of `0..n`, used for
    /// tie-breaks.
    pub ranks: &'a [u32],
}

/// A partition of the records into clusters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clustering {
    /// Cluster of each record id. Clusters are numbered from 0 in order of
    /// their lowest record id.
    pub cluster_of: Vec<u32>,
    /// Number of clusters (singletons included).
    pub n_clusters: usize,
}

impl Clustering {
    /// The record ids of each cluster, increasing: one flat array (no
    /// allocation per cluster).
    pub fn members(&self) -> Members {
        let mut starts = vec![0u32; self.n_clusters + 1];
        for &cluster in &self.cluster_of {
            starts[cluster as usize + 1] += 1;
        }
        for c in 1..starts.len() {
            starts[c] += starts[c - 1];
        }
        let mut next: Vec<u32> = starts[..self.n_clusters].to_vec();
        let mut records = vec![0u32; self.cluster_of.len()];
        for (record, &cluster) in self.cluster_of.iter().enumerate() {
            let slot = &mut next[cluster as usize];
            records[*slot as usize] = record as u32;
            *slot += 1;
        }
        Members { starts, records }
    }
}

/// Each cluster's record ids, increasing, in one flat array
/// ([`Clustering::members`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Members {
    /// Cluster `c` is `records[starts[c]..starts[c + 1]]`.
    starts: Vec<u32>,
    records: Vec<u32>,
}

impl Members {
    /// The number of clusters.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Whether there are no clusters.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record ids of cluster `cluster`, increasing.
    pub fn get(&self, cluster: usize) -> &[u32] {
        &self.records[self.starts[cluster] as usize..self.starts[cluster + 1] as usize]
    }

    /// Every cluster's record ids, by cluster.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u32]> + '_ {
        (0..self.len()).map(|cluster| self.get(cluster))
    }
}

/// Sort pairs into the canonical order (see the module documentation).
pub fn sort_canonically(pairs: &mut [Pair], ranks: &[u32]) {
    let key = |pair: &Pair| {
        let (a, b) = (ranks[pair.first as usize], ranks[pair.second as usize]);
        (a.min(b), a.max(b))
    };
    pairs.par_sort_unstable_by(|x, y| y.cmp_score(x).then_with(|| key(x).cmp(&key(y))));
}

/// Union-find with, per root, the set of sources in its cluster.
struct Partition {
    parent: Vec<u32>,
    size: Vec<u32>,
    sources: Vec<u32>,
}

impl Partition {
    fn new(record_sources: &[u8]) -> Partition {
        Partition {
            parent: (0..record_sources.len() as u32).collect(),
            size: vec![1; record_sources.len()],
            sources: record_sources.iter().map(|&s| 1u32 << s).collect(),
        }
    }

    fn find(&mut self, mut node: u32) -> u32 {
        while self.parent[node as usize] != node {
            let grandparent = self.parent[self.parent[node as usize] as usize];
            self.parent[node as usize] = grandparent;
            node = grandparent;
        }
        node
    }

    fn union_roots(&mut self, a: u32, b: u32) {
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        self.sources[big as usize] |= self.sources[small as usize];
    }

    /// Merge the clusters of a pair if the invariant allows it.
    fn merge_if_allowed(&mut self, pair: &Pair, record_sources: &[u8]) {
        let (a, b) = (self.find(pair.first), self.find(pair.second));
        if a == b {
            return;
        }
        let shared = self.sources[a as usize] & self.sources[b as usize];
        let (source_a, source_b) = (
            record_sources[pair.first as usize],
            record_sources[pair.second as usize],
        );
        let allowed = if source_a == source_b {
            shared == 1 << source_a
        } else {
            shared == 0
        };
        if allowed {
            self.union_roots(a, b);
        }
    }

    fn into_clustering(mut self) -> Clustering {
        let n = self.parent.len();
        let mut number = vec![u32::MAX; n];
        let mut cluster_of = vec![0u32; n];
        let mut n_clusters = 0u32;
        for record in 0..n as u32 {
            let root = self.find(record) as usize;
            if number[root] == u32::MAX {
                number[root] = n_clusters;
                n_clusters += 1;
            }
            cluster_of[record as usize] = number[root];
        }
        Clustering {
            cluster_of,
            n_clusters: n_clusters as usize,
        }
    }
}

/// Weight of a pair for the optimal assignment: Dice scaled by 2^30 and
/// rounded. Distinct Dice values of filters up to 8192 bits differ by more
/// than 2^-26, so the rounding keeps their order.
fn weight(pair: &Pair) -> i64 {
    let (common, sum) = (u64::from(pair.common), u64::from(pair.popcount_sum.max(1)));
    ((common << 32) + sum).div_euclid(2 * sum) as i64
}

/// Cluster the records, given the kept pairs (each at or above its
/// threshold). `pairs` is reordered into the canonical order.
///
/// # Errors
/// [`LinkError::Config`] for [`Solver::Optimal`] with other than two
/// sources, or more than 32 sources.
pub fn solve(
    records: SolverRecords<'_>,
    n_sources: usize,
    pairs: &mut [Pair],
    solver: Solver,
) -> Result<Clustering, LinkError> {
    if n_sources > 32 {
        return Err(LinkError::Config(
            "the solvers handle at most 32 sources".into(),
        ));
    }
    sort_canonically(pairs, records.ranks);
    let mut partition = Partition::new(records.sources);
    match solver {
        Solver::Greedy => {
            for pair in pairs.iter() {
                partition.merge_if_allowed(pair, records.sources);
            }
        }
        Solver::Components => {
            for pair in pairs.iter() {
                let (a, b) = (partition.find(pair.first), partition.find(pair.second));
                if a != b {
                    partition.union_roots(a, b);
                }
            }
        }
        Solver::Optimal => {
            if n_sources != 2 {
                return Err(LinkError::Config(format!(
                    "the optimal assignment needs exactly two sources, not {n_sources}; use the greedy or components solver"
                )));
            }
            let cross: Vec<&Pair> = pairs
                .iter()
                .filter(|p| records.sources[p.first as usize] != records.sources[p.second as usize])
                .collect();
            // Left: source 0 records, right: source 1 records, numbered by
            // canonical rank so that ties resolve canonically.
            let edges: Vec<WeightedEdge> = cross
                .iter()
                .map(|pair| {
                    let (mut left, mut right) = (pair.first, pair.second);
                    if records.sources[left as usize] != 0 {
                        std::mem::swap(&mut left, &mut right);
                    }
                    WeightedEdge {
                        left: records.ranks[left as usize],
                        right: records.ranks[right as usize],
                        weight: weight(pair),
                    }
                })
                .collect();
            let n = records.sources.len();
            for chosen in max_weight_matching(n, n, &edges) {
                let pair = cross[chosen];
                let (a, b) = (partition.find(pair.first), partition.find(pair.second));
                partition.union_roots(a, b);
            }
            for pair in pairs.iter() {
                if records.sources[pair.first as usize] == records.sources[pair.second as usize] {
                    partition.merge_if_allowed(pair, records.sources);
                }
            }
        }
    }
    Ok(partition.into_clustering())
}

#[cfg(test)]
mod tests {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn pair(first: u32, second: u32, common: u32, popcount_sum: u32) -> Pair {
        Pair {
            first: first.min(second),
            second: first.max(second),
            common,
            popcount_sum,
        }
    }

    fn random_problem(
        rng: &mut ChaCha8Rng,
        n_sources: usize,
        n_records: usize,
    ) -> (Vec<u8>, Vec<Pair>) {
        let sources: Vec<u8> = (0..n_records)
            .map(|_| rng.random_range(0..n_sources as u8))
            .collect();
        let mut pairs = Vec::new();
        for _ in 0..n_records * 2 {
            let a = rng.random_range(0..n_records as u32);
            let b = rng.random_range(0..n_records as u32);
            if a != b
                && !pairs
                    .iter()
                    .any(|p: &Pair| (p.first, p.second) == (a.min(b), a.max(b)))
            {
                // Few distinct scores: many ties.
                pairs.push(pair(a, b, rng.random_range(8..11), 20));
            }
        }
        (sources, pairs)
    }

    fn check_invariant(clustering: &Clustering, sources: &[u8], pairs: &[Pair]) {
        // Records of one source in one cluster are connected by same-source
        // pairs inside that cluster.
        for members in clustering.members().iter() {
            for source in 0..32u8 {
                let of_source: Vec<u32> = members
                    .iter()
                    .copied()
                    .filter(|&r| sources[r as usize] == source)
                    .collect();
                if of_source.len() < 2 {
                    continue;
                }
                let mut reached = vec![of_source[0]];
                let mut changed = true;
                while changed {
                    changed = false;
                    for p in pairs {
                        let inside = |r: u32| of_source.contains(&r);
                        if inside(p.first) && inside(p.second) {
                            let (x, y) = (reached.contains(&p.first), reached.contains(&p.second));
                            if x != y {
                                reached.push(if x { p.second } else { p.first });
                                changed = true;
                            }
                        }
                    }
                }
                assert_eq!(
                    reached.len(),
                    of_source.len(),
                    "source {source} not connected in {members:?}"
                );
            }
        }
    }

    #[test]
    fn greedy_keeps_the_invariant_and_ignores_input_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for n_sources in [1, 2, 3, 5] {
            for _ in 0..30 {
                let (sources, pairs) = random_problem(&mut rng, n_sources, 40);
                let ranks: Vec<u32> = (0..40).collect();
                let records = SolverRecords {
                    sources: &sources,
                    ranks: &ranks,
                };
                for solver in [Solver::Greedy, Solver::Components] {
                    let mut first = pairs.clone();
                    let expected = solve(records, n_sources, &mut first, solver).unwrap();
                    if solver == Solver::Greedy {
                        check_invariant(&expected, &sources, &pairs);
                    }
                    let mut shuffled = pairs.clone();
                    shuffled.shuffle(&mut rng);
                    assert_eq!(
                        solve(records, n_sources, &mut shuffled, solver).unwrap(),
                        expected
                    );
                }
            }
        }
    }

    #[test]
    fn two_sources_without_dedup_are_one_to_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for _ in 0..50 {
            let (sources, pairs) = random_problem(&mut rng, 2, 30);
            let cross: Vec<Pair> = pairs
                .into_iter()
                .filter(|p| sources[p.first as usize] != sources[p.second as usize])
                .collect();
            let ranks: Vec<u32> = (0..30).collect();
            let records = SolverRecords {
                sources: &sources,
                ranks: &ranks,
            };
            for solver in [Solver::Greedy, Solver::Optimal] {
                let clustering = solve(records, 2, &mut cross.clone(), solver).unwrap();
                for members in clustering.members().iter() {
                    assert!(members.len() <= 2);
                    if members.len() == 2 {
                        assert_ne!(sources[members[0] as usize], sources[members[1] as usize]);
                    }
                }
            }
        }
    }

    #[test]
    fn optimal_beats_or_equals_greedy() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..50 {
            let (sources, pairs) = random_problem(&mut rng, 2, 20);
            let cross: Vec<Pair> = pairs
                .into_iter()
                .filter(|p| sources[p.first as usize] != sources[p.second as usize])
                .collect();
            let ranks: Vec<u32> = (0..20).collect();
            let records = SolverRecords {
                sources: &sources,
                ranks: &ranks,
            };
            let total = |clustering: &Clustering| -> i64 {
                cross
                    .iter()
                    .filter(|p| {
                        clustering.cluster_of[p.first as usize]
                            == clustering.cluster_of[p.second as usize]
                    })
                    .map(weight)
                    .sum()
            };
            let greedy = solve(records, 2, &mut cross.clone(), Solver::Greedy).unwrap();
            let optimal = solve(records, 2, &mut cross.clone(), Solver::Optimal).unwrap();
            assert!(total(&optimal) >= total(&greedy));
        }
    }

    #[test]
    fn greedy_example_with_tie_breaks_and_dedup() {
        // Sources: 0: records 0, 1; 1: records 2, 3; 2: record 4.
        let sources = [0u8, 0, 1, 1, 2];
        let ranks = [0u32, 1, 2, 3, 4];
        let records = SolverRecords {
            sources: &sources,
            ranks: &ranks,
        };
        // 0-2 and 1-2 tie at 0.9: the lower ranks win, so 0-2 merges, then
        // 1-2 cannot (source 1 again) but 0-1 (a duplicate) can.
        let mut pairs = vec![
            pair(1, 2, 9, 20),
            pair(0, 2, 9, 20),
            pair(0, 1, 17, 40),
            pair(3, 4, 8, 20),
        ];
        let clustering = solve(records, 3, &mut pairs, Solver::Greedy).unwrap();
        assert_eq!(clustering.cluster_of, vec![0, 0, 0, 1, 1]);
        // Without the duplicate pair, record 1 stays alone.
        let mut pairs = vec![pair(1, 2, 9, 20), pair(0, 2, 9, 20), pair(3, 4, 8, 20)];
        let clustering = solve(records, 3, &mut pairs, Solver::Greedy).unwrap();
        assert_eq!(clustering.cluster_of, vec![0, 1, 0, 2, 2]);
        assert_eq!(clustering.n_clusters, 3);
        // Components take everything.
        let mut pairs = vec![pair(1, 2, 9, 20), pair(0, 2, 9, 20), pair(3, 4, 8, 20)];
        let clustering = solve(records, 3, &mut pairs, Solver::Components).unwrap();
        assert_eq!(clustering.cluster_of, vec![0, 0, 0, 1, 1]);
        assert!(solve(records, 3, &mut pairs, Solver::Optimal).is_err());
    }
}
