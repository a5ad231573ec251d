//! End-to-end tests of the linker library on synthetic registries written as
//! real encoded files: recovery of the truth, the capture table,
//! determinism across thread counts and input order, and bad input.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zicht_format::file::UNKNOWN_STRATUM;
use zicht_format::{clk, FileWriter, FilterLength, FilterMatrix, Header, Stratum};
use zicht_linker::kernel::{find_pairs, find_pairs_reference};
use zicht_linker::output::{self, OutputOptions};
use zicht_linker::{link, Dedup, LinkConfig, LinkError, NoProgress, Solver, Source, Threshold};

const BITS: u32 = 1024;

/// A synthetic population: per person a base filter and a sex.
struct World {
    bases: Vec<Vec<u64>>,
    sex: Vec<u16>,
}

impl World {
    fn new(rng: &mut ChaCha8Rng, n_persons: usize) -> World {
        let words = BITS as usize / 64;
        let bases = (0..n_persons)
            .map(|_| {
                (0..words)
                    .map(|_| {
                        (0..64).fold(0u64, |w, bit| w | (u64::from(rng.random_bool(0.3)) << bit))
                    })
                    .collect()
            })
            .collect();
        let sex = (0..n_persons).map(|_| rng.random_range(0..2)).collect();
        World { bases, sex }
    }

    /// A noisy copy of a person's filter: 20 set bits cleared, 20 clear bits
    /// set (Dice with the base about 0.93, between two copies about 0.87).
    fn record(&self, rng: &mut ChaCha8Rng, person: usize) -> Vec<u64> {
        let mut row = self.bases[person].clone();
        let mut flip = |want_set: bool, rng: &mut ChaCha8Rng| loop {
            let bit = rng.random_range(0..BITS as usize);
            if (row[bit / 64] >> (bit % 64) & 1 == 1) == want_set {
                row[bit / 64] ^= 1 << (bit % 64);
                break;
            }
        };
        for _ in 0..20 {
            flip(true, rng);
            flip(false, rng);
        }
        row
    }
}

/// One registry: which person each record is (records in row order).
struct Registry {
    label: String,
    persons: Vec<usize>,
    path: PathBuf,
}

fn header(label: &str, key_check: &str, strata: Vec<Stratum>) -> Header {
    Header {
        source_label: label.into(),
        filter_bits: BITS,
        schema_fingerprint: "ab".repeat(32),
        key_check: key_check.into(),
        encoding: zicht_format::Encoding::ZichtV1,
        hardening: BTreeMap::new(),
        strata,
        created_unix: 1_700_000_000,
        zicht_version: "0.1.0".into(),
    }
}

fn sex_stratum() -> Vec<Stratum> {
    vec![Stratum {
        name: "sex".into(),
        values: vec!["f".into(), "m".into()],
    }]
}

/// Write a registry capturing each person with probability `capture`, with
/// 3% of captured persons recorded twice; rows are spaced out and the sex
/// is unknown for 10% of records.
fn registry(
    rng: &mut ChaCha8Rng,
    world: &World,
    dir: &Path,
    label: &str,
    capture: f64,
) -> Registry {
    let mut persons = Vec::new();
    for person in 0..world.bases.len() {
        if rng.random_bool(capture) {
            persons.push(person);
            if rng.random_bool(0.03) {
                persons.push(person);
            }
        }
    }
    persons.shuffle(rng);
    let length = FilterLength::new(BITS).unwrap();
    let mut writer = FileWriter::new(Vec::new(), length, 1).unwrap();
    for (index, &person) in persons.iter().enumerate() {
        let code = if rng.random_bool(0.1) {
            UNKNOWN_STRATUM
        } else {
            world.sex[person]
        };
        writer
            .push(index as u64 * 2 + 1, &[code], &world.record(rng, person))
            .unwrap();
    }
    let bytes = writer
        .finish(&header(label, "cafe", sex_stratum()))
        .unwrap();
    let path = dir.join(format!("{label}.zbf"));
    std::fs::write(&path, bytes).unwrap();
    Registry {
        label: label.into(),
        persons,
        path,
    }
}

fn load(registries: &[Registry]) -> Vec<Source> {
    registries
        .iter()
        .map(|r| Source::load(&r.path).unwrap())
        .collect()
}

/// The true clusters, as sets of (label, row).
fn truth(registries: &[Registry]) -> BTreeSet<BTreeSet<(String, u64)>> {
    let mut by_person: BTreeMap<usize, BTreeSet<(String, u64)>> = BTreeMap::new();
    for registry in registries {
        for (index, &person) in registry.persons.iter().enumerate() {
            by_person
                .entry(person)
                .or_default()
                .insert((registry.label.clone(), index as u64 * 2 + 1));
        }
    }
    by_person.into_values().collect()
}

/// Clusters read back from clusters.csv, as sets of (label, row).
fn clusters_from_csv(text: &str) -> BTreeSet<BTreeSet<(String, u64)>> {
    let mut clusters: BTreeMap<u64, BTreeSet<(String, u64)>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        clusters
            .entry(fields[0].parse().unwrap())
            .or_default()
            .insert((fields[1].to_string(), fields[2].parse().unwrap()));
    }
    clusters.into_values().collect()
}

fn run_to_dir(
    sources: &[Source],
    config: &LinkConfig,
    dir: &Path,
    threads: usize,
) -> BTreeMap<String, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let linkage = pool.install(|| link(sources, config, &NoProgress)).unwrap();
    output::write_outputs(dir, sources, &linkage, config, &OutputOptions::default()).unwrap();
    let mut files = BTreeMap::new();
    for name in output::OUTPUT_FILES {
        let mut text = std::fs::read_to_string(dir.join(name)).unwrap();
        if name == "summary.json" {
            let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
            json.as_object_mut().unwrap().remove("timings_ms");
            text = json.to_string();
        }
        files.insert(name.to_string(), text);
    }
    files
}

fn threshold(text: &str) -> Threshold {
    Threshold::parse(text).unwrap()
}

#[test]
fn two_registries_recover_the_truth() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let dir = tempfile::tempdir().unwrap();
    let world = World::new(&mut rng, 600);
    let registries = vec![
        registry(&mut rng, &world, dir.path(), "police", 0.6),
        registry(&mut rng, &world, dir.path(), "hospital", 0.5),
    ];
    let sources = load(&registries);
    for solver in [Solver::Greedy, Solver::Optimal, Solver::Components] {
        let mut config = LinkConfig::new(threshold("0.8"));
        config.solver = solver;
        let out = dir.path().join(format!("out-{}", solver.name()));
        let files = run_to_dir(&sources, &config, &out, 2);
        let found = clusters_from_csv(&files["clusters.csv"]);
        // The optimal solver assigns one-to-one across sources, then
        // deduplicates like the greedy one.
        assert_eq!(found, truth(&registries), "{}", solver.name());
    }
    // Without deduplication, two sources give a one-to-one assignment.
    let mut config = LinkConfig::new(threshold("0.8"));
    config.dedup = Dedup::Off;
    let linkage = link(&sources, &config, &NoProgress).unwrap();
    for members in linkage.clustering.members().iter() {
        let mut seen = BTreeSet::new();
        for &record in members {
            assert!(
                seen.insert(linkage.record_sources[record as usize]),
                "two records of one source"
            );
        }
    }
}

#[test]
fn four_registries_give_the_capture_table() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let dir = tempfile::tempdir().unwrap();
    let world = World::new(&mut rng, 500);
    let registries: Vec<Registry> = ["a", "b", "c", "d"]
        .iter()
        .map(|label| registry(&mut rng, &world, dir.path(), label, 0.4))
        .collect();
    let sources = load(&registries);
    let config = LinkConfig::new(threshold("0.8"));
    let files = run_to_dir(&sources, &config, &dir.path().join("out"), 2);
    let expected = truth(&registries);
    assert_eq!(clusters_from_csv(&files["clusters.csv"]), expected);

    // The capture table from the truth, pooled over strata.
    let mut histories: BTreeMap<String, u64> = BTreeMap::new();
    for cluster in &expected {
        let history: Vec<&str> = ["a", "b", "c", "d"]
            .iter()
            .map(|label| {
                if cluster.iter().any(|(l, _)| l == label) {
                    "1"
                } else {
                    "0"
                }
            })
            .collect();
        *histories.entry(history.join(",")).or_default() += 1;
    }
    let capture = &files["capture.csv"];
    let mut lines = capture.lines();
    assert_eq!(lines.next(), Some("a,b,c,d,sex,count"));
    let mut found: BTreeMap<String, u64> = BTreeMap::new();
    for line in lines {
        let (history, rest) = line.split_at(7);
        let count: u64 = rest.rsplit(',').next().unwrap().parse().unwrap();
        *found.entry(history.to_string()).or_default() += count;
    }
    assert_eq!(found, histories);
    let summary: serde_json::Value = serde_json::from_str(&files["summary.json"]).unwrap();
    assert_eq!(summary["clusters"], expected.len());
    let duplicates: u64 = summary["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["duplicates"].as_u64().unwrap())
        .sum();
    let records: usize = registries.iter().map(|r| r.persons.len()).sum();
    let true_duplicates: usize = registries
        .iter()
        .map(|r| r.persons.len() - r.persons.iter().collect::<BTreeSet<_>>().len())
        .sum();
    assert_eq!(duplicates as usize, true_duplicates);
    assert_eq!(summary["records"], records);
}

#[test]
fn output_does_not_depend_on_threads_or_file_order() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let dir = tempfile::tempdir().unwrap();
    let world = World::new(&mut rng, 300);
    let mut registries: Vec<Registry> = ["x", "y", "z"]
        .iter()
        .map(|label| registry(&mut rng, &world, dir.path(), label, 0.5))
        .collect();
    let sources = load(&registries);
    // A low threshold and a dedup threshold of its own: many pairs, ties.
    let mut config = LinkConfig::new(threshold("0.35"));
    config.dedup = Dedup::At(threshold("0.5"));
    let reference = run_to_dir(&sources, &config, &dir.path().join("t1"), 1);
    for threads in [2, 8] {
        let files = run_to_dir(
            &sources,
            &config,
            &dir.path().join(format!("t{threads}")),
            threads,
        );
        assert_eq!(files, reference, "{threads} threads");
    }
    // The same files in another order give the same clusters.
    registries.reverse();
    let sources = load(&registries);
    let files = run_to_dir(&sources, &config, &dir.path().join("reversed"), 2);
    assert_eq!(
        clusters_from_csv(&files["clusters.csv"]),
        clusters_from_csv(&reference["clusters.csv"])
    );
}

#[test]
fn fast_path_equals_reference_on_registries() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let dir = tempfile::tempdir().unwrap();
    let world = World::new(&mut rng, 200);
    let registries: Vec<Registry> = ["a", "b"]
        .iter()
        .map(|label| registry(&mut rng, &world, dir.path(), label, 0.7))
        .collect();
    let sources = load(&registries);
    let matrices: Vec<&FilterMatrix> = sources.iter().map(Source::filters).collect();
    for t in ["0.3", "0.8", "0.9", "1"] {
        let rule = LinkConfig::new(threshold(t)).pair_rule();
        let fast = find_pairs(&matrices, &rule, &Default::default(), &NoProgress);
        let reference = find_pairs_reference(&matrices, &rule);
        assert_eq!(fast.pairs, reference.pairs, "threshold {t}");
        assert_eq!(fast.histogram, reference.histogram, "threshold {t}");
    }
}

#[test]
fn clk_json_sources_link_with_clkhash_files() {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let dir = tempfile::tempdir().unwrap();
    let world = World::new(&mut rng, 50);
    let length = FilterLength::new(BITS).unwrap();
    let mut matrix = FilterMatrix::new(length);
    for person in 0..50 {
        matrix.push(&world.record(&mut rng, person));
    }
    let json_path = dir.path().join("agency_a.json");
    let mut bytes = Vec::new();
    clk::write_clk_json(&matrix, &mut bytes).unwrap();
    std::fs::write(&json_path, bytes).unwrap();
    let json = Source::load(&json_path).unwrap();
    assert_eq!(json.label(), "agency_a");

    let mut writer = FileWriter::new(Vec::new(), length, 0).unwrap();
    for person in 0..50 {
        writer
            .push(person as u64, &[], &world.record(&mut rng, person))
            .unwrap();
    }
    let mut clkhash_header = header("b", "cafe", vec![]);
    clkhash_header.encoding = zicht_format::Encoding::ClkhashV3;
    let zbf_path = dir.path().join("b.zbf");
    std::fs::write(&zbf_path, writer.finish(&clkhash_header).unwrap()).unwrap();
    let sources = vec![json.clone(), Source::load(&zbf_path).unwrap()];
    let linkage = link(&sources, &LinkConfig::new(threshold("0.8")), &NoProgress).unwrap();
    assert_eq!(linkage.links.len(), 50);
    let groups = output::render_groups(&sources, &linkage);
    let parsed: serde_json::Value = serde_json::from_str(&groups).unwrap();
    assert_eq!(parsed["groups"].as_array().unwrap().len(), 50);
    assert_eq!(parsed["groups"][0], serde_json::json!([[0, 0], [1, 0]]));

    // A native zicht-v1 file cannot be linked with CLK JSON.
    let mut writer = FileWriter::new(Vec::new(), length, 0).unwrap();
    writer.push(0, &[], &world.record(&mut rng, 0)).unwrap();
    let native = dir.path().join("native.zbf");
    std::fs::write(
        &native,
        writer.finish(&header("n", "cafe", vec![])).unwrap(),
    )
    .unwrap();
    let error = link(
        &[json, Source::load(&native).unwrap()],
        &LinkConfig::new(threshold("0.8")),
        &NoProgress,
    )
    .unwrap_err();
    assert!(error.to_string().contains("CLK JSON"), "{error}");
}

#[test]
fn bad_inputs_are_refused_cleanly() {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let dir = tempfile::tempdir().unwrap();
    let world = World::new(&mut rng, 30);
    let good = registry(&mut rng, &world, dir.path(), "good", 0.5);
    let bytes = std::fs::read(&good.path).unwrap();

    let truncated = dir.path().join("truncated.zbf");
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    assert!(matches!(
        Source::load(&truncated),
        Err(LinkError::Input { .. })
    ));
    let corrupted = dir.path().join("corrupted.zbf");
    let mut flipped = bytes.clone();
    flipped[100] ^= 4;
    std::fs::write(&corrupted, &flipped).unwrap();
    let error = Source::load(&corrupted).unwrap_err();
    assert!(error.to_string().contains("corrupted.zbf"), "{error}");
    let bad_json = dir.path().join("bad.json");
    std::fs::write(&bad_json, b"{\"clks\": [\"not base64!\"]}").unwrap();
    assert!(Source::load(&bad_json).is_err());
    std::fs::write(&bad_json, b"{\"clks\": ").unwrap();
    assert!(Source::load(&bad_json).is_err());
    assert!(Source::load(&dir.path().join("missing.zbf")).is_err());

    // Another secret: refused, naming the file and the key check.
    let length = FilterLength::new(BITS).unwrap();
    let mut writer = FileWriter::new(Vec::new(), length, 1).unwrap();
    writer.push(0, &[0], &world.record(&mut rng, 0)).unwrap();
    let other = dir.path().join("other.zbf");
    std::fs::write(
        &other,
        writer
            .finish(&header("other", "beef", sex_stratum()))
            .unwrap(),
    )
    .unwrap();
    let sources = vec![
        Source::load(&good.path).unwrap(),
        Source::load(&other).unwrap(),
    ];
    let error = link(&sources, &LinkConfig::new(threshold("0.8")), &NoProgress).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("other.zbf") && message.contains("key check"),
        "{message}"
    );

    // The same label twice.
    let sources = vec![
        Source::load(&good.path).unwrap(),
        Source::load(&good.path).unwrap(),
    ];
    assert!(link(&sources, &LinkConfig::new(threshold("0.8")), &NoProgress).is_err());

    // An empty source.
    let writer = FileWriter::new(Vec::new(), length, 1).unwrap();
    let empty = dir.path().join("empty.zbf");
    std::fs::write(
        &empty,
        writer
            .finish(&header("empty", "cafe", sex_stratum()))
            .unwrap(),
    )
    .unwrap();
    let sources = vec![
        Source::load(&good.path).unwrap(),
        Source::load(&empty).unwrap(),
    ];
    let error = link(&sources, &LinkConfig::new(threshold("0.8")), &NoProgress).unwrap_err();
    assert!(matches!(error, LinkError::EmptySource { .. }));

    // A non-empty output directory: refused before and at writing, and
    // nothing is written.
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    assert!(output::check_output_dir(&out, false).is_err());
    let sources = vec![Source::load(&good.path).unwrap()];
    let config = LinkConfig::new(threshold("0.8"));
    let linkage = link(&sources, &config, &NoProgress).unwrap();
    assert!(
        output::write_outputs(&out, &sources, &linkage, &config, &OutputOptions::default())
            .is_err()
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    let forced = OutputOptions {
        force: true,
        ..Default::default()
    };
    output::write_outputs(&out, &sources, &linkage, &config, &forced).unwrap();
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 6);
}
