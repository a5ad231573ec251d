//! Property tests: the linker's clusters do not depend on the order of the
//! input files, on the order of the records within a file or on the number
//! of threads. Only the documented labels change with the file order
//! (cluster numbers follow the first record in input order); the partition
//! of (source, row) pairs into clusters does not.

use std::collections::BTreeSet;

use proptest::prelude::*;
use zicht_format::{FilterLength, FilterMatrix};
use zicht_linker::{link, Dedup, LinkConfig, NoProgress, Solver, Source, Threshold};

/// Sources as (label, records of (row, filter word)), with 64-bit filters
/// drawn from a few "persons" with a bit or two flipped, so that there are
/// links, duplicates and many tied scores.
fn sources() -> impl Strategy<Value = Vec<(String, Vec<(u64, u64)>)>> {
    let persons = prop::collection::vec(any::<u64>(), 3..8);
    (persons, 2usize..=4).prop_flat_map(|(persons, n_sources)| {
        let n_persons = persons.len();
        let record = (0..n_persons, 0u32..64, 0u32..64, any::<bool>()).prop_map(
            move |(person, bit_a, bit_b, flip_both)| {
                let mut word = persons[person] ^ (1u64 << bit_a);
                if flip_both {
                    word ^= 1u64 << bit_b;
                }
                word
            },
        );
        prop::collection::vec(prop::collection::vec(record, 1..8), n_sources).prop_map(
            |filters_per_source| {
                filters_per_source
                    .into_iter()
                    .enumerate()
                    .map(|(index, words)| {
                        let records = words
                            .into_iter()
                            .enumerate()
                            .map(|(row, word)| (3 * row as u64 + index as u64, word))
                            .collect();
                        (format!("s{index}"), records)
                    })
                    .collect()
            },
        )
    })
}

fn build(label: &str, records: &[(u64, u64)]) -> Source {
    let mut filters = FilterMatrix::new(FilterLength::new(64).unwrap());
    for &(_, word) in records {
        filters.push(&[word]);
    }
    let rows = records.iter().map(|&(row, _)| row).collect();
    Source::new(label, filters, rows).unwrap()
}

/// The clusters as sets of (label, row), independent of numbering.
fn partition(sources: &[Source], config: &LinkConfig) -> BTreeSet<BTreeSet<(String, u64)>> {
    let linkage = link(sources, config, &NoProgress).unwrap();
    linkage
        .clustering
        .members()
        .iter()
        .map(|members| {
            members
                .iter()
                .map(|&record| {
                    let source = usize::from(linkage.record_sources[record as usize]);
                    let index = linkage.record_index[record as usize] as usize;
                    (
                        sources[source].label().to_string(),
                        sources[source].row(index),
                    )
                })
                .collect()
        })
        .collect()
}

fn config(threshold: &str, solver: Solver, dedup: bool) -> LinkConfig {
    LinkConfig {
        solver,
        dedup: if dedup {
            Dedup::AtThreshold
        } else {
            Dedup::Off
        },
        ..LinkConfig::new(Threshold::parse(threshold).unwrap())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn clusters_do_not_depend_on_input_order(
        (data, file_order, record_seed) in sources().prop_flat_map(|data| {
            let n = data.len();
            (Just(data), Just((0..n).collect::<Vec<usize>>()).prop_shuffle(), any::<u64>())
        }),
        threshold in prop_oneof![Just("0.8"), Just("0.9"), Just("0.95")],
        solver in prop_oneof![Just(Solver::Greedy), Just(Solver::Components), Just(Solver::Optimal)],
        dedup in any::<bool>(),
        threads in 1usize..4,
    ) {
        let solver = if solver == Solver::Optimal && data.len() != 2 { Solver::Greedy } else { solver };
        let config = config(threshold, solver, dedup);
        let original: Vec<Source> = data.iter().map(|(label, records)| build(label, records)).collect();
        let expected = partition(&original, &config);
        // Files in another order, each file's records in another order.
        let reordered: Vec<Source> = file_order
            .iter()
            .map(|&index| {
                let (label, records) = &data[index];
                let mut records = records.clone();
                let shift = (record_seed as usize) % records.len();
                records.rotate_left(shift);
                if record_seed & 1 == 1 {
                    records.reverse();
                }
                build(label, &records)
            })
            .collect();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let got = pool.install(|| partition(&reordered, &config));
        prop_assert_eq!(got, expected);
    }
}
