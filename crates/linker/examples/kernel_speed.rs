//! Time the pair-finding kernel on synthetic 1024-bit filters:
//! `cargo run --release -p zicht-linker --example kernel_speed -- [records per source] [threshold]`.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zicht_format::{FilterLength, FilterMatrix};
use zicht_linker::kernel::{find_pairs, Backend, KernelOptions};
use zicht_linker::{LinkConfig, NoProgress, Threshold};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let threshold =
        Threshold::parse(&args.next().unwrap_or_else(|| "0.8".into())).expect("a threshold");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let length = FilterLength::new(1024).expect("1024 bits");
    // Half of each source are noisy copies of shared persons.
    let bases: Vec<Vec<u64>> = (0..n)
        .map(|_| {
            (0..16)
                .map(|_| {
                    rng.random::<u64>() & rng.random::<u64>()
                        | rng.random::<u64>() & rng.random::<u64>() & rng.random::<u64>()
                })
                .collect()
        })
        .collect();
    let mut sources = Vec::new();
    for _ in 0..2 {
        let mut m = FilterMatrix::with_capacity(length, n);
        for i in 0..n {
            let mut row = if i % 2 == 0 {
                bases[i].clone()
            } else {
                bases[rng.random_range(0..n)].clone()
            };
            for _ in 0..20 {
                let bit = rng.random_range(0..1024);
                row[bit / 64] ^= 1 << (bit % 64);
            }
            m.push(&row);
        }
        sources.push(m);
    }
    let matrices: Vec<&FilterMatrix> = sources.iter().collect();
    let rule = LinkConfig::new(threshold).pair_rule();
    for backend in [Backend::Scalar, Backend::Popcnt] {
        let options = KernelOptions {
            backend,
            ..KernelOptions::default()
        };
        let started = Instant::now();
        let found = find_pairs(&matrices, &rule, &options, &NoProgress);
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{backend:?}: {} records, threshold {threshold}: {} comparisons, {} pairs, {:.2} s, {:.0} M comparisons/s on {} threads",
            2 * n,
            found.comparisons,
            found.pairs.len(),
            seconds,
            found.comparisons as f64 / seconds / 1e6,
            rayon::current_num_threads()
        );
    }
}
