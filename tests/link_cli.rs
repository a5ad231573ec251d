//! CLI tests of `zicht link`: from `zicht encode` to `capture.csv`, thread
//! independence, and refusals of bad input with exit code 2 and no output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn zicht(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zicht"))
        .args(args)
        .env_remove("ZICHT_SECRET_FILE")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("zicht runs")
}

fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples")
}

/// A person of the synthetic population.
struct Person {
    given: String,
    family: String,
    birth: String,
    sex: &'static str,
    exploitation: &'static str,
}

fn population() -> Vec<Person> {
    let given = [
        "Anna",
        "Ioana",
        "Lukasz",
        "Chukwuemeka",
        "Maria",
        "Tomasz",
        "Fatima",
        "Olga",
        "Pieter",
        "Amal",
    ];
    let syllables = [
        "ka", "ro", "vin", "del", "mar", "sun", "bel", "tor", "pes", "lan", "mi", "go",
    ];
    (0..48)
        .map(|i| Person {
            given: given[i % given.len()].to_string(),
            family: {
                let (a, b, c) = (
                    syllables[i % 12],
                    syllables[(i / 12 + 3 * i) % 12],
                    syllables[(i * 7 + 5) % 12],
                );
                let mut name = format!("{a}{b}{c}");
                name[..1].make_ascii_uppercase();
                format!("{name}{}", ["", "s", "er", "ov"][i / 12])
            },
            birth: format!(
                "{:02}-{:02}-{}",
                1 + i % 28,
                1 + (i * 5) % 12,
                1960 + (i * 13) % 45
            ),
            sex: if i % 3 == 0 { "V" } else { "M" },
            exploitation: ["seksueel", "arbeid", "crimineel"][i % 3],
        })
        .collect()
}

/// Write a registry CSV in the example profile's layout; `typo` changes one
/// letter of the given name of every third person.
fn write_registry(path: &Path, persons: &[&Person], typo: bool) {
    let mut text = String::from("naam;geboortedatum;geslacht;geboorteplaats;uitbuiting\n");
    for (index, person) in persons.iter().enumerate() {
        let mut given = person.given.clone();
        if typo && index % 3 == 0 {
            given.push('h');
        }
        text.push_str(&format!(
            "\"{}, {}\";{};{};Rotterdam;{}\n",
            person.family, given, person.birth, person.sex, person.exploitation
        ));
    }
    std::fs::write(path, text).unwrap();
}

struct Setup {
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("project.key");
        ok(&zicht(&["keygen", "--out", key.to_str().unwrap()]));
        Setup { dir, key }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn encode(&self, csv: &Path, label: &str, key: &Path, extra: &[&str]) -> PathBuf {
        let out = self.path(&format!("{label}.zbf"));
        let schema = examples().join("schema.toml");
        let profile = examples().join("profile.toml");
        let mut args = vec![
            "encode",
            csv.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--profile",
            profile.to_str().unwrap(),
            "--secret-file",
            key.to_str().unwrap(),
            "--source",
            label,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let result = zicht(&args);
        ok(&result);
        out
    }

    /// Three registries over the population: A has persons 0..32, B 16..48
    /// (with typos), C every even person. Returns the .zbf paths.
    fn three_registries(&self) -> Vec<PathBuf> {
        let people = population();
        let a: Vec<&Person> = people[..32].iter().collect();
        let b: Vec<&Person> = people[16..].iter().collect();
        let c: Vec<&Person> = people.iter().step_by(2).collect();
        [("A", a, false), ("B", b, true), ("C", c, false)]
            .iter()
            .map(|(label, persons, typo)| {
                let csv = self.path(&format!("{label}.csv"));
                write_registry(&csv, persons, *typo);
                self.encode(&csv, label, &self.key, &[])
            })
            .collect()
    }
}

fn link(inputs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&str> = vec!["link"];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--out-dir", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    zicht(&args)
}

/// Pooled counts per history from capture.csv with `n_lists` list columns.
fn pooled(capture: &str, n_lists: usize) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in capture.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let count: u64 = fields[fields.len() - 1].parse().unwrap();
        *counts.entry(fields[..n_lists].join("")).or_insert(0) += count;
    }
    counts
}

#[test]
fn encode_then_link_gives_the_capture_table() {
    let setup = Setup::new();
    let files = setup.three_registries();
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = setup.path("out");
    let result = link(&inputs, &out, &["--threshold", "0.8", "--threads", "1"]);
    ok(&result);
    let capture = std::fs::read_to_string(out.join("capture.csv")).unwrap();
    assert_eq!(
        capture.lines().next(),
        Some("A,B,C,sex,birth_decade,exploitation,count")
    );
    // The truth: persons 0..16 in A (evens also in C), 16..32 in A and B,
    // 32..48 in B; C holds the even persons.
    let mut truth = BTreeMap::new();
    for person in 0..48 {
        let history = format!(
            "{}{}{}",
            u8::from(person < 32),
            u8::from(person >= 16),
            u8::from(person % 2 == 0)
        );
        *truth.entry(history).or_insert(0u64) += 1;
    }
    assert_eq!(pooled(&capture, 3), truth);
    // Every record is in clusters.csv exactly once.
    let clusters = std::fs::read_to_string(out.join("clusters.csv")).unwrap();
    assert_eq!(clusters.lines().count() - 1, 32 + 32 + 24);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["clusters"], 48);
    assert_eq!(summary["sources"][1]["label"], "B");

    // The same with 4 threads: byte-identical outputs but the timings.
    let out4 = setup.path("out4");
    ok(&link(
        &inputs,
        &out4,
        &["--threshold", "0.8", "--threads", "4"],
    ));
    for name in ["clusters.csv", "links.csv", "capture.csv", "scores.csv"] {
        assert_eq!(
            std::fs::read(out.join(name)).unwrap(),
            std::fs::read(out4.join(name)).unwrap(),
            "{name}"
        );
    }
    let strip = |dir: &Path| {
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                .unwrap();
        json.as_object_mut().unwrap().remove("timings_ms");
        json
    };
    assert_eq!(strip(&out), strip(&out4));

    // anonlink-style groups and a lower histogram floor.
    let out_groups = setup.path("out-groups");
    let groups = setup.path("groups.json");
    ok(&link(
        &inputs,
        &out_groups,
        &[
            "--threshold",
            "0.8",
            "--scores-from",
            "0.5",
            "--groups",
            groups.to_str().unwrap(),
        ],
    ));
    let groups: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(groups).unwrap()).unwrap();
    let n_multi = truth
        .iter()
        .filter(|(h, _)| h.matches('1').count() > 1)
        .map(|(_, n)| n)
        .sum::<u64>();
    assert_eq!(groups["groups"].as_array().unwrap().len() as u64, n_multi);
    let scores = std::fs::read_to_string(out_groups.join("scores.csv")).unwrap();
    assert!(scores.starts_with("score_from,score_to,pairs_across,pairs_within\n0.50,0.51,"));
}

#[test]
fn one_source_is_deduplicated() {
    let setup = Setup::new();
    let people = population();
    let mut persons: Vec<&Person> = people[..10].iter().collect();
    persons.extend(people[..3].iter());
    let csv = setup.path("dups.csv");
    write_registry(&csv, &persons, false);
    let file = setup.encode(&csv, "dups", &setup.key, &[]);
    let out = setup.path("out");
    ok(&link(&[&file], &out, &["--threshold", "0.9"]));
    let capture = std::fs::read_to_string(out.join("capture.csv")).unwrap();
    assert_eq!(pooled(&capture, 1), BTreeMap::from([("1".to_string(), 10)]));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["sources"][0]["duplicates"], 3);
}

fn refused(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected `{expected}` in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_input_is_refused_without_output() {
    let setup = Setup::new();
    let files = setup.three_registries();
    let (a, b) = (files[0].as_path(), files[1].as_path());
    let out = setup.path("out");

    refused(&link(&[a, b], &out, &["--threshold", "0"]), "threshold");
    refused(&link(&[a, b], &out, &["--threshold", "1.5"]), "threshold");
    refused(&link(&[a, b], &out, &["--threshold", "abc"]), "threshold");
    refused(
        &link(&[a, a], &out, &["--threshold", "0.8"]),
        "same source label",
    );
    refused(
        &link(
            &[a, b, &files[2]],
            &out,
            &["--threshold", "0.8", "--solver", "optimal"],
        ),
        "two sources",
    );

    // Another secret: the key check differs.
    let other_key = setup.path("other.key");
    ok(&zicht(&["keygen", "--out", other_key.to_str().unwrap()]));
    let csv = setup.path("A.csv");
    let foreign = setup.encode(&csv, "D", &other_key, &[]);
    refused(
        &link(&[a, &foreign], &out, &["--threshold", "0.8"]),
        "key check",
    );

    // Truncated and corrupted files.
    let bytes = std::fs::read(a).unwrap();
    let truncated = setup.path("truncated.zbf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    refused(
        &link(&[&truncated, b], &out, &["--threshold", "0.8"]),
        "truncated.zbf",
    );
    let mut flipped = bytes.clone();
    flipped[200] ^= 1;
    let corrupted = setup.path("corrupted.zbf");
    std::fs::write(&corrupted, flipped).unwrap();
    refused(
        &link(&[&corrupted, b], &out, &["--threshold", "0.8"]),
        "corrupted.zbf",
    );
    let json = setup.path("broken.json");
    std::fs::write(&json, "{\"clks\": [").unwrap();
    refused(
        &link(&[&json], &out, &["--threshold", "0.8"]),
        "broken.json",
    );
    refused(
        &link(&[&setup.path("missing.zbf")], &out, &["--threshold", "0.8"]),
        "missing.zbf",
    );
    assert!(!out.exists(), "an output directory was left behind");

    // An output directory with files in it.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    refused(&link(&[a, b], &out, &["--threshold", "0.8"]), "not empty");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    ok(&link(&[a, b], &out, &["--threshold", "0.8", "--force"]));
    assert!(out.join("capture.csv").exists() && out.join("notes.txt").exists());
}

#[test]
fn clk_json_files_link_by_file_stem() {
    let setup = Setup::new();
    let people = population();
    let persons: Vec<&Person> = people[..12].iter().collect();
    let csv = setup.path("x.csv");
    write_registry(&csv, &persons, false);
    let mut jsons = Vec::new();
    for label in ["north", "south"] {
        let out = setup.path(&format!("{label}.json"));
        let schema = examples().join("schema.toml");
        let profile = examples().join("profile.toml");
        ok(&zicht(&[
            "encode",
            csv.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--profile",
            profile.to_str().unwrap(),
            "--secret-file",
            setup.key.to_str().unwrap(),
            "--output-format",
            "clkhash-json",
            "--out",
            out.to_str().unwrap(),
        ]));
        jsons.push(out);
    }
    let out = setup.path("out");
    let inputs: Vec<&Path> = jsons.iter().map(PathBuf::as_path).collect();
    ok(&link(&inputs, &out, &["--threshold", "0.9"]));
    let capture = std::fs::read_to_string(out.join("capture.csv")).unwrap();
    assert_eq!(capture, "north,south,count\n1,1,12\n");
}

/// `--min-cell` writes a suppressed table for publication beside the exact
/// `capture.csv`; a later `--force` run without it removes the stale table.
#[test]
fn min_cell_writes_a_suppressed_table_and_keeps_the_exact_one() {
    let setup = Setup::new();
    let files = setup.three_registries();
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = setup.path("out");
    ok(&link(
        &inputs,
        &out,
        &["--threshold", "0.8", "--min-cell", "100"],
    ));
    let exact = std::fs::read_to_string(out.join("capture.csv")).unwrap();
    let published = std::fs::read_to_string(out.join("capture_published.csv")).unwrap();
    let mut lines = published.lines();
    assert_eq!(lines.next(), Some("A,B,C,count"));
    // Seven histories and three list totals; with K = 100 every cell of this
    // small table that is not zero is suppressed, and no count leaks.
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 7 + 3, "{published}");
    assert!(
        rows[..7]
            .iter()
            .all(|r| r.ends_with(",suppressed") || r.ends_with(",0")),
        "{published}"
    );
    assert!(pooled(&exact, 3).values().sum::<u64>() > 0);

    ok(&link(&inputs, &out, &["--threshold", "0.8", "--force"]));
    assert!(!out.join("capture_published.csv").exists());

    let one = setup.path("one");
    refused(
        &link(
            &inputs[..1],
            &one,
            &["--threshold", "0.8", "--min-cell", "5"],
        ),
        "--min-cell",
    );
    assert!(!one.exists());
}
