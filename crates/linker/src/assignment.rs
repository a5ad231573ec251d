//! Maximum-weight bipartite matching on a sparse graph: the optimal
//! one-to-one assignment between two sources.
//!
//! The graph is split into connected components; each is solved as a
//! min-cost flow (source → left → right → sink, arc costs the negated
//! weights) by successive shortest paths: Dijkstra on reduced costs with
//! Johnson potentials, one augmenting path at a time, stopping as soon as
//! the cheapest path no longer lowers the cost (path costs never decrease,
//! so the matching is then of maximum weight, not necessarily of maximum
//! size). A component with `V` nodes, `E` edges and a matching of `k` pairs
//! costs `O(k · E log V)`; realistic linkage graphs fall apart into many
//! tiny components. Nodes are numbered by the caller's order and arcs are
//! inserted in the caller's edge order, so among several optimal matchings
//! the same one is always returned.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// An edge of the bipartite graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightedEdge {
    /// Left node, `0..n_left`.
    pub left: u32,
    /// Right node, `0..n_right`.
    pub right: u32,
    /// A positive weight.
    pub weight: i64,
}

/// The edges (indices into `edges`, increasing) of a maximum-weight
/// matching. Edges with a non-positive weight are never chosen.
pub fn max_weight_matching(n_left: usize, n_right: usize, edges: &[WeightedEdge]) -> Vec<usize> {
    // Components by union-find over left nodes 0..n_left and right nodes
    // n_left..n_left+n_right.
    let mut parent: Vec<usize> = (0..n_left + n_right).collect();
    fn find(parent: &mut [usize], mut node: usize) -> usize {
        while parent[node] != node {
            parent[node] = parent[parent[node]];
            node = parent[node];
        }
        node
    }
    let usable: Vec<usize> = (0..edges.len()).filter(|&e| edges[e].weight > 0).collect();
    for &e in &usable {
        let a = find(&mut parent, edges[e].left as usize);
        let b = find(&mut parent, n_left + edges[e].right as usize);
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut by_component: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for &e in &usable {
        let root = find(&mut parent, edges[e].left as usize);
        by_component.entry(root).or_default().push(e);
    }
    let mut chosen = Vec::new();
    for component in by_component.values() {
        chosen.extend(solve_component(edges, component));
    }
    chosen.sort_unstable();
    chosen
}

struct Arc {
    to: usize,
    capacity: u8,
    cost: i64,
}

/// Min-cost flow on one component; returns the chosen edge indices.
fn solve_component(edges: &[WeightedEdge], component: &[usize]) -> Vec<usize> {
    // Local numbering, in order of first appearance of sorted node ids.
    let mut lefts: Vec<u32> = component.iter().map(|&e| edges[e].left).collect();
    let mut rights: Vec<u32> = component.iter().map(|&e| edges[e].right).collect();
    lefts.sort_unstable();
    lefts.dedup();
    rights.sort_unstable();
    rights.dedup();
    let n_left = lefts.len();
    let n_right = rights.len();
    let source = n_left + n_right;
    let sink = source + 1;
    let n_nodes = sink + 1;
    let mut arcs: Vec<Arc> = Vec::with_capacity(2 * (component.len() + n_nodes));
    let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); n_nodes];
    let mut add_arc = |arcs: &mut Vec<Arc>, from: usize, to: usize, cost: i64| {
        adjacency[from].push(arcs.len());
        arcs.push(Arc {
            to,
            capacity: 1,
            cost,
        });
        adjacency[to].push(arcs.len());
        arcs.push(Arc {
            to: from,
            capacity: 0,
            cost: -cost,
        });
    };
    for left in 0..n_left {
        add_arc(&mut arcs, source, left, 0);
    }
    // Feasible initial potentials: the graph is a DAG source → left →
    // right → sink, so the shortest distances from the source are: 0 to the
    // left nodes, the most negative incoming cost to a right node, and the
    // least of those to the sink.
    let mut potential = vec![0i64; n_nodes];
    let mut edge_arc = Vec::with_capacity(component.len());
    for &e in component {
        let left = lefts.binary_search(&edges[e].left).unwrap_or(0);
        let right = n_left + rights.binary_search(&edges[e].right).unwrap_or(0);
        edge_arc.push(arcs.len());
        add_arc(&mut arcs, left, right, -edges[e].weight);
        potential[right] = potential[right].min(-edges[e].weight);
    }
    for right in 0..n_right {
        add_arc(&mut arcs, n_left + right, sink, 0);
    }
    potential[sink] = potential[n_left..source].iter().copied().min().unwrap_or(0);

    let infinity = i64::MAX;
    let mut distance = vec![infinity; n_nodes];
    let mut via = vec![usize::MAX; n_nodes];
    loop {
        distance.fill(infinity);
        via.fill(usize::MAX);
        distance[source] = 0;
        let mut heap = BinaryHeap::new();
        heap.push(Reverse((0i64, source)));
        while let Some(Reverse((d, node))) = heap.pop() {
            if d > distance[node] {
                continue;
            }
            for &a in &adjacency[node] {
                let arc = &arcs[a];
                if arc.capacity == 0 {
                    continue;
                }
                let reduced = arc.cost + potential[node] - potential[arc.to];
                let candidate = d + reduced;
                if candidate < distance[arc.to] {
                    distance[arc.to] = candidate;
                    via[arc.to] = a;
                    heap.push(Reverse((candidate, arc.to)));
                }
            }
        }
        if distance[sink] == infinity {
            break;
        }
        let path_cost = distance[sink] + potential[sink] - potential[source];
        if path_cost >= 0 {
            break;
        }
        let cap = distance[sink];
        for node in 0..n_nodes {
            potential[node] += distance[node].min(cap);
        }
        let mut node = sink;
        while node != source {
            let a = via[node];
            arcs[a].capacity -= 1;
            arcs[a ^ 1].capacity += 1;
            node = arcs[a ^ 1].to;
        }
    }
    component
        .iter()
        .zip(&edge_arc)
        .filter(|&(_, &a)| arcs[a].capacity == 0)
        .map(|(&e, _)| e)
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn brute_force(n_left: usize, n_right: usize, edges: &[WeightedEdge]) -> i64 {
        fn go(edges: &[WeightedEdge], index: usize, left_used: u32, right_used: u32) -> i64 {
            if index == edges.len() {
                return 0;
            }
            let skip = go(edges, index + 1, left_used, right_used);
            let edge = edges[index];
            let (l, r) = (1 << edge.left, 1 << edge.right);
            if left_used & l == 0 && right_used & r == 0 && edge.weight > 0 {
                skip.max(edge.weight + go(edges, index + 1, left_used | l, right_used | r))
            } else {
                skip
            }
        }
        let _ = (n_left, n_right);
        go(edges, 0, 0, 0)
    }

    #[test]
    fn matches_brute_force_on_random_graphs() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for round in 0..400 {
            let n_left = rng.random_range(1..7);
            let n_right = rng.random_range(1..7);
            let n_edges = rng.random_range(0..16);
            let mut edges = Vec::new();
            for _ in 0..n_edges {
                let edge = WeightedEdge {
                    left: rng.random_range(0..n_left as u32),
                    right: rng.random_range(0..n_right as u32),
                    // Few distinct weights: many ties.
                    weight: rng.random_range(1..6) * if round % 2 == 0 { 1 } else { 1 << 30 },
                };
                if !edges
                    .iter()
                    .any(|e: &WeightedEdge| e.left == edge.left && e.right == edge.right)
                {
                    edges.push(edge);
                }
            }
            let chosen = max_weight_matching(n_left, n_right, &edges);
            let mut lefts: Vec<u32> = chosen.iter().map(|&e| edges[e].left).collect();
            let mut rights: Vec<u32> = chosen.iter().map(|&e| edges[e].right).collect();
            lefts.sort_unstable();
            rights.sort_unstable();
            let (n_l, n_r) = (lefts.len(), rights.len());
            lefts.dedup();
            rights.dedup();
            assert_eq!((lefts.len(), rights.len()), (n_l, n_r), "not a matching");
            let total: i64 = chosen.iter().map(|&e| edges[e].weight).sum();
            assert_eq!(
                total,
                brute_force(n_left, n_right, &edges),
                "round {round}: {edges:?}"
            );
        }
    }

    #[test]
    fn prefers_weight_over_size() {
        // a0-b0 (10), a0-b1 (6), a1-b0 (6): max weight 12 uses two edges;
        // with a0-b0 at 13 the single edge wins.
        let edge = |left, right, weight| WeightedEdge {
            left,
            right,
            weight,
        };
        let edges = [edge(0, 0, 10), edge(0, 1, 6), edge(1, 0, 6)];
        assert_eq!(max_weight_matching(2, 2, &edges), vec![1, 2]);
        let edges = [edge(0, 0, 13), edge(0, 1, 6), edge(1, 0, 6)];
        assert_eq!(max_weight_matching(2, 2, &edges), vec![0]);
        // Greedy would take 0-0 (10) and leave 1-1 unusable: 10 + 0 < 9 + 9.
        let edges = [edge(0, 0, 10), edge(0, 1, 9), edge(1, 0, 9)];
        assert_eq!(max_weight_matching(2, 2, &edges), vec![1, 2]);
    }
}
