//! Time the pair-finding kernel on encoded files (`.zbf` or CLK JSON):
//! `cargo run --release -p zicht-linker --example kernel_files -- THRESHOLD [dedup|nodedup] FILE...`.
//!
//! Prints the popcount spread of the filters, then per backend the
//! comparisons, the pairs kept, and the wall and CPU time (CPU time from
//! Linux `schedstat`, so that a busy machine does not distort the per-core
//! rate).

#[path = "common/cpu.rs"]
mod cpu;
use cpu::cpu_seconds;

use std::path::Path;
use std::time::Instant;

use zicht_linker::kernel::{find_pairs, Backend, KernelOptions};
use zicht_linker::{Dedup, LinkConfig, NoProgress, Source, Threshold};

fn main() {
    let mut args = std::env::args().skip(1);
    let threshold = Threshold::parse(&args.next().expect("a threshold")).expect("a threshold");
    let dedup = args.next().as_deref() == Some("dedup");
    let sources: Vec<Source> = args
        .map(|path| Source::load(Path::new(&path)).expect("a readable source"))
        .collect();
    let matrices: Vec<_> = sources.iter().map(Source::filters).collect();
    let mut popcounts: Vec<u32> = matrices
        .iter()
        .flat_map(|m| (0..m.len()).map(|i| m.popcount(i)))
        .collect();
    popcounts.sort_unstable();
    let at = |q: f64| popcounts[((popcounts.len() - 1) as f64 * q) as usize];
    println!(
        "{} records; popcount min {} p10 {} median {} p90 {} max {}",
        popcounts.len(),
        at(0.0),
        at(0.1),
        at(0.5),
        at(0.9),
        at(1.0)
    );
    let mut config = LinkConfig::new(threshold);
    if !dedup {
        config.dedup = Dedup::Off;
    }
    let rule = config.pair_rule();
    let only: Option<String> = std::env::var("ZICHT_BACKEND").ok();
    for backend in Backend::ALL.into_iter().filter(|b| b.is_available()) {
        if only.as_deref().is_some_and(|name| name != backend.name()) {
            continue;
        }
        let options = KernelOptions {
            backend,
            ..KernelOptions::default()
        };
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        let found = find_pairs(&matrices, &rule, &options, &NoProgress);
        let seconds = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_before;
        println!(
            "{:>7}: {} comparisons, {} pairs, {:.2} s wall, {:.2} s CPU on {} threads: {:.0} M comparisons per CPU second",
            backend.name(),
            found.comparisons,
            found.pairs.len(),
            seconds,
            cpu,
            rayon::current_num_threads(),
            found.comparisons as f64 / cpu / 1e6
        );
    }
}
