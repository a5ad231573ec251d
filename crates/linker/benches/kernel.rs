//! Criterion benchmarks of the pair-finding kernel on synthetic 1024-bit
//! filters: each backend, and the whole `link` (kernel and greedy solver).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zicht_format::{FilterLength, FilterMatrix};
use zicht_linker::kernel::{find_pairs, Backend, KernelOptions};
use zicht_linker::{link, LinkConfig, NoProgress, Source, Threshold};

/// Two sources of `n` records; half of the second are noisy copies of the first.
fn sources(n: usize) -> Vec<FilterMatrix> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let length = FilterLength::new(1024).expect("1024 bits");
    let random_row = |rng: &mut ChaCha8Rng| -> Vec<u64> {
        (0..16)
            .map(|_| rng.random::<u64>() & rng.random::<u64>())
            .collect()
    };
    let first: Vec<Vec<u64>> = (0..n).map(|_| random_row(&mut rng)).collect();
    let mut a = FilterMatrix::with_capacity(length, n);
    let mut b = FilterMatrix::with_capacity(length, n);
    for (i, row) in first.iter().enumerate() {
        a.push(row);
        let mut copy = if i % 2 == 0 {
            row.clone()
        } else {
            random_row(&mut rng)
        };
        for _ in 0..16 {
            let bit = rng.random_range(0..1024);
            copy[bit / 64] ^= 1 << (bit % 64);
        }
        b.push(&copy);
    }
    vec![a, b]
}

fn kernel(c: &mut Criterion) {
    let n = 4000;
    let matrices = sources(n);
    let refs: Vec<&FilterMatrix> = matrices.iter().collect();
    let threshold = Threshold::parse("0.8").expect("a threshold");
    let rule = LinkConfig::new(threshold).pair_rule();
    let mut group = c.benchmark_group("find_pairs_1024bit");
    // Every pair (across and within) lies in the popcount window here.
    group.throughput(Throughput::Elements((2 * n * (2 * n - 1) / 2) as u64));
    for backend in [Backend::Scalar, Backend::Popcnt] {
        let options = KernelOptions {
            backend,
            ..KernelOptions::default()
        };
        group.bench_function(format!("{backend:?}"), |bench| {
            bench.iter(|| find_pairs(&refs, &rule, &options, &NoProgress))
        });
    }
    group.finish();

    let linked: Vec<Source> = matrices
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Source::new(format!("s{i}"), m.clone(), (0..n as u64).collect()).expect("a source")
        })
        .collect();
    let config = LinkConfig::new(threshold);
    c.bench_function("link_2x4000_greedy", |bench| {
        bench.iter(|| link(&linked, &config, &NoProgress).expect("links"))
    });
}

criterion_group!(benches, kernel);
criterion_main!(benches);
