//! Regression tests from fuzzing: every saved input in
//! `fuzz/regressions/<target>/` runs through the same code as the cargo-fuzz
//! target of that name (`fuzz/src/lib.rs`, included here), and must not panic.

#[allow(dead_code, missing_docs)]
#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::{Path, PathBuf};

fn regressions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions")
}

/// The saved inputs of one target, sorted by name.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = regressions().join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn run_all(target: &str) -> usize {
    let files = inputs(target);
    for file in &files {
        let data = std::fs::read(file).expect("a readable regression input");
        let outcome = std::panic::catch_unwind(|| targets::run_target(target, &data));
        match outcome {
            Ok(known) => assert!(known, "no fuzz target called {target}"),
            Err(_) => panic!("{target} panics on {}", file.display()),
        }
    }
    files.len()
}

#[test]
fn every_regression_directory_names_a_target() {
    let Ok(entries) = std::fs::read_dir(regressions()) else {
        return;
    };
    for entry in entries {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            targets::TARGETS.contains(&name.as_str()),
            "fuzz/regressions/{name} is not a fuzz target"
        );
    }
}

#[test]
fn encoded_file_regressions() {
    assert!(run_all("encoded_file") > 0);
}

#[test]
fn csv_encode_regressions() {
    assert!(run_all("csv_encode") > 0);
}

#[test]
fn schema_toml_regressions() {
    assert!(run_all("schema_toml") > 0);
}

#[test]
fn clkhash_schema_regressions() {
    assert!(run_all("clkhash_schema") > 0);
}

#[test]
fn clk_json_regressions() {
    assert!(run_all("clk_json") > 0);
}

#[test]
fn capture_table_regressions() {
    assert!(run_all("capture_table") > 0);
}

/// The fuzz crate's SHA-256 (used to re-seal mutated encoded files) agrees
/// with the checksum the format writes, and with a published test vector.
#[test]
fn fuzz_sha256_matches_the_format() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let golden = std::fs::read(root.join("crates/format/tests/golden/v1.zbf")).unwrap();
    let end = golden.len() - 32;
    assert_eq!(targets::sha256::sha256(&golden[..end])[..], golden[end..]);
    let abc = targets::sha256::sha256(b"abc");
    assert_eq!(
        abc[..4],
        [0xba, 0x78, 0x16, 0xbf],
        "SHA-256(\"abc\") starts ba7816bf"
    );
}

/// The targets accept the project's own valid inputs and get past parsing:
/// a check that the harness itself is wired to the right readers.
#[test]
fn targets_run_on_valid_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let golden = std::fs::read(root.join("crates/format/tests/golden/v1.zbf")).unwrap();
    assert!(zicht_format::EncodedFile::from_bytes(&golden).is_ok());
    targets::encoded_file(&golden);
    let registry = std::fs::read(root.join("docs/examples/registry.csv")).unwrap();
    targets::csv_encode(&registry);
    let mut with_profile = std::fs::read(root.join("docs/examples/profile.toml")).unwrap();
    with_profile.extend_from_slice(targets::PROFILE_SEPARATOR);
    with_profile.extend_from_slice(&registry);
    targets::csv_encode(&with_profile);
    targets::schema_toml(&std::fs::read(root.join("docs/examples/schema.toml")).unwrap());
    targets::capture_table(b"A,B,count\n1,0,10\n0,1,12\n1,1,5\n");
    targets::clk_json(br#"{"clks": ["AAAAAAAAAAA=", "//////////8="]}"#);
}
