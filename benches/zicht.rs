//! Criterion benchmarks of the whole pipeline: encoding a ten-field
//! registry, linking realistic encodings (two sources of 100,000 records and
//! four of 50,000, from `zicht synth` registries encoded with their
//! profiles), and the exhaustive six-list BIC model search.
//!
//! `cargo bench --bench zicht` runs the full sizes (several minutes);
//! `cargo test --benches` (which does not pass `--bench`) runs each once on
//! small inputs. The kernel alone is benchmarked in
//! `crates/linker/benches/kernel.rs`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use zicht_encoder::{EncodeOptions, Encoder, Profile, Schema, Secret};
use zicht_estimate::{estimate, CaptureTable, EstimateConfig, IntervalMethod, Method};
use zicht_format::EncodedFile;
use zicht_linker::{link, LinkConfig, NoProgress, Source, Threshold};
use zicht_synth::{generate, SynthConfig};

/// Whether criterion runs as a benchmark (`cargo bench`) rather than once
/// as a test (`cargo test --benches`).
fn full_size() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// The ten-field schema of `benches/compare/tenfields.py` (zicht native).
const TEN_SCHEMA: &str = r#"
version = 1
name = "bench-ten-fields"
filter_bits = 1024
[[field]]
name = "given_name"
kind = "given_name"
[[field]]
name = "family_name"
kind = "family_name"
[[field]]
name = "date_of_birth"
kind = "date_of_birth"
[[field]]
name = "sex"
kind = "sex"
[[field]]
name = "place_of_birth"
kind = "place"
[[field]]
name = "nationality"
kind = "category"
[[field]]
name = "postcode"
kind = "identifier"
[[field]]
name = "address"
kind = "text"
[[field]]
name = "document_number"
kind = "identifier"
[[field]]
name = "exploitation"
kind = "category"
"#;

const TEN_PROFILE: &str = r#"
source = "bench"
delimiter = ","
header = true
encoding = "utf-8"
missing = [""]
date_formats = ["%Y-%m-%d"]
sex_codes = { F = "f", M = "m" }
[columns]
given_name = "given_name"
family_name = "family_name"
date_of_birth = "date_of_birth"
sex = "sex"
place_of_birth = "place_of_birth"
nationality = "nationality"
postcode = "postcode"
address = "address"
document_number = "document_number"
exploitation = "exploitation"
"#;

/// SplitMix64: a small deterministic generator for the bench data.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// `n` ten-field records like `tenfields.py csv` writes (same lists, same
/// layout; another generator, so not the same rows).
fn ten_field_csv(n: usize) -> Vec<u8> {
    const GIVEN: &[&str] = &[
        "anna",
        "maria",
        "johanna",
        "sophie",
        "emma",
        "julia",
        "fatima",
        "aisha",
        "zeynep",
        "ioana",
        "elena",
        "olena",
        "grace",
        "blessing",
        "chiamaka",
        "jan",
        "pieter",
        "daan",
        "mohamed",
        "ahmed",
        "mehmet",
        "ion",
        "andrei",
        "taras",
        "oleksandr",
        "emeka",
        "samuel",
        "thanh",
        "minh",
        "wei",
    ];
    const FAMILY: &[&str] = &[
        "de jong",
        "jansen",
        "de vries",
        "van den berg",
        "van dijk",
        "bakker",
        "visser",
        "smit",
        "meijer",
        "de boer",
        "mulder",
        "yilmaz",
        "kaya",
        "demir",
        "popescu",
        "ionescu",
        "popa",
        "radu",
        "kozych",
        "shevchenko",
        "nguyen",
        "tran",
        "pham",
        "okafor",
        "okonkwo",
        "eze",
        "mensah",
        "wang",
        "zhang",
        "chen",
    ];
    const PLACES: &[&str] = &[
        "amsterdam",
        "rotterdam",
        "den haag",
        "utrecht",
        "eindhoven",
        "groningen",
        "tilburg",
        "breda",
        "nijmegen",
        "bucuresti",
        "cluj-napoca",
        "kyiv",
        "lviv",
        "lagos",
        "hanoi",
        "istanbul",
    ];
    const NATIONALITIES: &[&str] = &["NL", "RO", "UA", "NG", "VN", "TR", "BG", "PL", "CN", "MA"];
    const STREETS: &[&str] = &[
        "kerkstraat",
        "schoolstraat",
        "molenstraat",
        "dorpsstraat",
        "stationsweg",
        "nieuwstraat",
        "markt",
        "julianastraat",
        "hoofdstraat",
        "eikenlaan",
        "herengracht",
        "singel",
    ];
    const EXPLOITATION: &[&str] = &["sexual", "labour", "criminal", "other"];
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTVWXZ";
    let mut rng = Mix(1);
    let mut csv = String::from(
        "id,given_name,family_name,date_of_birth,sex,place_of_birth,nationality,postcode,address,document_number,exploitation\n",
    );
    for id in 0..n {
        let mut given = rng.pick(GIVEN).to_string();
        if rng.below(10) < 3 {
            given = format!("{given} {}", rng.pick(GIVEN));
        }
        let letter = |rng: &mut Mix| char::from(LETTERS[rng.below(LETTERS.len() as u64) as usize]);
        let postcode = format!(
            "{}{}{}",
            1000 + rng.below(9000),
            letter(&mut rng),
            letter(&mut rng)
        );
        csv.push_str(&format!(
            "{id},{given},{},{:04}-{:02}-{:02},{},{},{},{postcode},{} {},N{}{:07},{}\n",
            rng.pick(FAMILY),
            1950 + rng.below(61),
            1 + rng.below(12),
            1 + rng.below(28),
            if rng.below(2) == 0 { "F" } else { "M" },
            rng.pick(PLACES),
            rng.pick(NATIONALITIES),
            rng.pick(STREETS),
            1 + rng.below(250),
            letter(&mut rng),
            rng.below(10_000_000),
            rng.pick(EXPLOITATION),
        ));
    }
    csv.into_bytes()
}

fn secret() -> Secret {
    Secret::from_bytes(vec![42; 32]).expect("a 32-byte secret")
}

fn encoding(c: &mut Criterion) {
    let n = if full_size() { 50_000 } else { 200 };
    let csv = ten_field_csv(n);
    let schema = Schema::from_toml(TEN_SCHEMA).expect("the ten-field schema");
    let profile = Profile::from_toml(TEN_PROFILE).expect("the ten-field profile");
    let encoder = Encoder::new(schema, profile, &secret()).expect("an encoder");
    let options = EncodeOptions::default();
    let mut group = c.benchmark_group("encode");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("ten_fields_{n}"), |bench| {
        bench.iter(|| {
            encoder
                .encode_csv(csv.as_slice(), Vec::new(), &options, &|_| {})
                .expect("encodes")
        })
    });
    group.finish();
}

/// The first `rows` data rows of a CSV (header kept).
fn first_rows(csv: &[u8], rows: usize) -> &[u8] {
    let mut newlines = 0;
    for (i, &byte) in csv.iter().enumerate() {
        if byte == b'\n' {
            newlines += 1;
            if newlines == rows + 1 {
                return &csv[..=i];
            }
        }
    }
    csv
}

/// `zicht synth` registries of a population, each cut to `rows` rows and
/// encoded with its own profile under one schema and secret.
fn realistic_sources(population: usize, registries: usize, rows: usize) -> Vec<Source> {
    let config = SynthConfig {
        population,
        registries,
        dependence: Vec::new(),
        ..SynthConfig::default()
    };
    let data = generate(&config).expect("synthetic registries");
    let schema_toml = data.schema_toml();
    data.registries()
        .iter()
        .map(|registry| {
            let schema = Schema::from_toml(&schema_toml).expect("the synth schema");
            let profile = Profile::from_toml(registry.profile_toml()).expect("a synth profile");
            let encoder = Encoder::new(schema, profile, &secret()).expect("an encoder");
            let options = EncodeOptions {
                source_label: zicht_format::SourceLabel::new(registry.label()).expect("a label"),
                ..EncodeOptions::default()
            };
            let csv = first_rows(registry.csv_bytes(), rows);
            let (bytes, _) = encoder
                .encode_csv(csv, Vec::new(), &options, &|_| {})
                .expect("encodes");
            let file = EncodedFile::from_bytes(&bytes).expect("a valid file");
            Source::from_encoded(file, None).expect("a source")
        })
        .collect()
}

fn linking(c: &mut Criterion) {
    let full = full_size();
    let config = LinkConfig::new(Threshold::parse("0.8").expect("a threshold"));
    let mut group = c.benchmark_group("link_realistic");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(if full { 60 } else { 1 }));
    // Two sources of 100,000 (police and shelters of 750,000 people), and
    // four of 50,000 (of 450,000 people; a smaller registry stays whole).
    for (population, registries, rows) in [(750_000, 2, 100_000), (450_000, 4, 50_000)] {
        let (population, rows) = if full {
            (population, rows)
        } else {
            (4_000, 300)
        };
        let sources = realistic_sources(population, registries, rows);
        let sizes: Vec<String> = sources.iter().map(|s| s.len().to_string()).collect();
        group.bench_function(format!("greedy_dedup_{}", sizes.join("+")), |bench| {
            bench.iter(|| link(&sources, &config, &NoProgress).expect("links"))
        });
    }
    group.finish();
}

fn estimation(c: &mut Criterion) {
    // Six lists: 2^15 two-way models. The quick mode (an unoptimised build)
    // searches the 64 models of four lists instead.
    let (population, lists) = if full_size() { (50_000, 6) } else { (2_000, 4) };
    let config = SynthConfig {
        population,
        registries: lists,
        ..SynthConfig::default()
    };
    let data = generate(&config).expect("synthetic registries");
    let mut counts = std::collections::BTreeMap::<u32, u64>::new();
    for &history in data.histories() {
        if history != 0 {
            *counts.entry(history).or_default() += 1;
        }
    }
    let names = data.labels().iter().map(|l| l.to_string()).collect();
    let table =
        CaptureTable::from_counts(names, counts.into_iter().collect()).expect("a capture table");
    let config = EstimateConfig {
        method: Method::Bic,
        interval: IntervalMethod::Wald,
        ..EstimateConfig::default()
    };
    let mut group = c.benchmark_group("estimate");
    group.sample_size(10);
    group.bench_function(format!("{lists}_lists_bic_exhaustive"), |bench| {
        bench.iter(|| estimate(&table, &config).expect("an estimate"))
    });
    group.finish();
}

criterion_group!(benches, encoding, linking, estimation);
criterion_main!(benches);
