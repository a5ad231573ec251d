//! Criterion benchmarks of the pair-finding kernel on 1024-bit filters:
//! random filters (20,000 × 20,000 cross-source pairs at Dice 0.7 and 0.95)
//! with each backend this CPU has, noisy copies (where popcount pruning and
//! the early exit apply), and the whole `link` (kernel and greedy solver).
//!
//! `cargo bench -p zicht-linker` runs the full sizes; `cargo test --benches`
//! (which does not pass `--bench`) runs each once on small inputs.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zicht_format::{FilterLength, FilterMatrix};
use zicht_linker::kernel::{find_pairs, Backend, KernelOptions, PairRule};
use zicht_linker::{link, LinkConfig, NoProgress, Source, Threshold};

/// Whether criterion runs as a benchmark (`cargo bench`) rather than once
/// as a test (`cargo test --benches`).
fn full_size() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

fn length() -> FilterLength {
    FilterLength::new(1024).expect("1024 bits")
}

/// `n` filters with every bit set with probability 1/2.
fn random_filters(rng: &mut ChaCha8Rng, n: usize) -> FilterMatrix {
    let mut m = FilterMatrix::with_capacity(length(), n);
    for _ in 0..n {
        let row: Vec<u64> = (0..16).map(|_| rng.random::<u64>()).collect();
        m.push(&row);
    }
    m
}

/// Two sources of `n`: bases with about 30% of bits set; half of the second
/// source are copies of the first's with 16 bits flipped.
fn noisy_sources(n: usize) -> Vec<FilterMatrix> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let random_row = |rng: &mut ChaCha8Rng| -> Vec<u64> {
        (0..16)
            .map(|_| {
                rng.random::<u64>() & rng.random::<u64>()
                    | rng.random::<u64>() & rng.random::<u64>() & rng.random::<u64>()
            })
            .collect()
    };
    let first: Vec<Vec<u64>> = (0..n).map(|_| random_row(&mut rng)).collect();
    let mut a = FilterMatrix::with_capacity(length(), n);
    let mut b = FilterMatrix::with_capacity(length(), n);
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

fn threshold(text: &str) -> Threshold {
    Threshold::parse(text).expect("a threshold")
}

/// Random filters, cross-source pairs only (as anonlink compares them).
fn random_kernel(c: &mut Criterion) {
    let (n_best, n_other) = if full_size() {
        (20_000, 4_000)
    } else {
        (400, 200)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let sources: Vec<FilterMatrix> = (0..2).map(|_| random_filters(&mut rng, n_best)).collect();
    let mut group = c.benchmark_group("kernel_random_1024");
    group.sample_size(10);
    let best = Backend::detect();
    for text in ["0.7", "0.95"] {
        let rule = PairRule {
            across: threshold(text),
            within: None,
            histogram_floor: threshold(text),
        };
        for backend in Backend::ALL.into_iter().filter(|b| b.is_available()) {
            // The slower backends on a smaller square, to keep the run short.
            let n = if backend == best { n_best } else { n_other };
            let small: Vec<FilterMatrix>;
            let refs: Vec<&FilterMatrix> = if n == n_best {
                sources.iter().collect()
            } else {
                small = sources
                    .iter()
                    .map(|m| m.select(&(0..n).collect::<Vec<_>>()))
                    .collect();
                small.iter().collect()
            };
            let options = KernelOptions {
                backend,
                ..KernelOptions::default()
            };
            group.throughput(Throughput::Elements((n * n) as u64));
            group.bench_function(
                BenchmarkId::new(format!("{}_{n}x{n}", backend.name()), text),
                |bench| bench.iter(|| find_pairs(&refs, &rule, &options, &NoProgress)),
            );
        }
    }
    group.finish();
}

/// Noisy copies: popcount windows and the early exit prune.
fn noisy_kernel(c: &mut Criterion) {
    let n = if full_size() { 20_000 } else { 400 };
    let matrices = noisy_sources(n);
    let refs: Vec<&FilterMatrix> = matrices.iter().collect();
    let rule = LinkConfig::new(threshold("0.8")).pair_rule();
    let mut group = c.benchmark_group("kernel_noisy_1024");
    group.sample_size(10);
    // Every pair, across and within, counted as considered.
    group.throughput(Throughput::Elements((2 * n * (2 * n - 1) / 2) as u64));
    let options = KernelOptions::default();
    group.bench_function(format!("auto_2x{n}_dedup_0.8"), |bench| {
        bench.iter(|| find_pairs(&refs, &rule, &options, &NoProgress))
    });
    group.finish();

    let linked: Vec<Source> = matrices
        .iter()
        .enumerate()
        .map(|(i, m)| {
            Source::new(format!("s{i}"), m.clone(), (0..n as u64).collect()).expect("a source")
        })
        .collect();
    let config = LinkConfig::new(threshold("0.8"));
    let mut group = c.benchmark_group("link_noisy_1024");
    group.sample_size(10);
    group.bench_function(format!("greedy_2x{n}"), |bench| {
        bench.iter(|| link(&linked, &config, &NoProgress).expect("links"))
    });
    group.finish();
}

criterion_group!(benches, random_kernel, noisy_kernel);
criterion_main!(benches);
