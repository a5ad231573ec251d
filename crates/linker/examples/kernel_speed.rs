//! Time the pair-finding kernel with each backend this CPU has:
//! `cargo run --release -p zicht-linker --example kernel_speed -- [records per source] [threshold] [random|noisy] [dedup|nodedup]`.
//! Environment: `ZICHT_BACKEND=avx512` (one backend), `ZICHT_REPEAT=5`
//! (best of five runs), `ZICHT_TILE_KIB` (target tile size).
//!
//! `random`: independent random 1024-bit filters (every bit set with
//! probability 1/2), two sources, cross-source pairs only by default: the
//! workload of the kernel benchmark (20,000 × 20,000 pairs at 20,000).
//! `noisy`: half of each source are noisy copies of shared persons.

#[path = "common/cpu.rs"]
mod cpu;
use cpu::cpu_seconds;

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zicht_format::{FilterLength, FilterMatrix};
use zicht_linker::kernel::{find_pairs, Backend, KernelOptions, PairRule};
use zicht_linker::{NoProgress, Threshold};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let threshold =
        Threshold::parse(&args.next().unwrap_or_else(|| "0.8".into())).expect("a threshold");
    let noisy = args.next().as_deref() == Some("noisy");
    let dedup = args.next().as_deref() == Some("dedup");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let length = FilterLength::new(1024).expect("1024 bits");
    let random_row = |rng: &mut ChaCha8Rng| -> Vec<u64> {
        if noisy {
            (0..16)
                .map(|_| {
                    rng.random::<u64>() & rng.random::<u64>()
                        | rng.random::<u64>() & rng.random::<u64>() & rng.random::<u64>()
                })
                .collect()
        } else {
            (0..16).map(|_| rng.random::<u64>()).collect()
        }
    };
    let bases: Vec<Vec<u64>> = (0..n).map(|_| random_row(&mut rng)).collect();
    let mut sources = Vec::new();
    for _ in 0..2 {
        let mut m = FilterMatrix::with_capacity(length, n);
        for i in 0..n {
            if !noisy {
                m.push(&random_row(&mut rng));
                continue;
            }
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
    let rule = PairRule {
        across: threshold,
        within: dedup.then_some(threshold),
        histogram_floor: threshold,
    };
    let tile_kib: usize = std::env::var("ZICHT_TILE_KIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    // ZICHT_REPEAT=N reports the best of N runs (a shared machine is noisy).
    let repeat: usize = std::env::var("ZICHT_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    // ZICHT_BACKEND=avx512 (etc.) times one backend only.
    let only: Option<String> = std::env::var("ZICHT_BACKEND").ok();
    for backend in Backend::ALL.into_iter().filter(|b| b.is_available()) {
        if only.as_deref().is_some_and(|name| name != backend.name()) {
            continue;
        }
        let options = KernelOptions {
            backend,
            target_tile_bytes: tile_kib << 10,
        };
        let (mut seconds, mut cpu) = (f64::INFINITY, f64::INFINITY);
        let mut found = None;
        for _ in 0..repeat {
            let cpu_before = cpu_seconds();
            let started = Instant::now();
            found = Some(find_pairs(&matrices, &rule, &options, &NoProgress));
            seconds = seconds.min(started.elapsed().as_secs_f64());
            cpu = cpu.min(cpu_seconds() - cpu_before);
        }
        let found = found.expect("at least one run");
        println!(
            "{:>7}: {} records, threshold {threshold}: {} comparisons, {} pairs, {:.3} s wall, {:.3} s CPU, {:.0} M comparisons/s wall on {} threads, {:.0} M comparisons per CPU second",
            backend.name(),
            2 * n,
            found.comparisons,
            found.pairs.len(),
            seconds,
            cpu,
            found.comparisons as f64 / seconds / 1e6,
            rayon::current_num_threads(),
            found.comparisons as f64 / cpu / 1e6,
        );
    }
}
