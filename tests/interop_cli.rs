//! clkhash compatibility through the CLI: `zicht encode` with clkhash v3
//! schemas reproduces clkhash 0.18.3's CLK JSON bit for bit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn zicht(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zicht"))
        .args(args)
        .env_remove("ZICHT_SECRET_FILE")
        .output()
        .expect("zicht runs")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/clkhash")
}

fn clks(path: &Path) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    json["clks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn both_fixtures_are_reproduced_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "correct horse battery staple").unwrap();
    for (schema, expected) in [
        ("schema_blake.json", "clks_blake.json"),
        ("schema_double.json", "clks_double.json"),
    ] {
        let out_path = dir.path().join(expected);
        let out = zicht(&[
            "encode",
            fixtures().join("people.csv").to_str().unwrap(),
            "--schema",
            fixtures().join(schema).to_str().unwrap(),
            "--secret-file",
            secret.to_str().unwrap(),
            "--output-format",
            "clkhash-json",
            "--out",
            out_path.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = clks(&out_path);
        let theirs = clks(&fixtures().join(expected));
        assert_eq!(ours.len(), theirs.len());
        for (row, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "{schema}: row {row} differs");
        }
        // The native container holds the same bits and says it is clkhash-compatible.
        let zbf = dir.path().join(format!("{schema}.zbf"));
        let out = zicht(&[
            "encode",
            fixtures().join("people.csv").to_str().unwrap(),
            "--schema",
            fixtures().join(schema).to_str().unwrap(),
            "--secret-file",
            secret.to_str().unwrap(),
            "--out",
            zbf.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = zicht_format::EncodedFile::read(&zbf).unwrap();
        assert_eq!(file.header.encoding, zicht_format::Encoding::ClkhashV3);
        for (row, expected) in theirs.iter().enumerate() {
            assert_eq!(
                &zicht_format::clk::row_to_base64(file.filters.row(row), file.filters.length()),
                expected
            );
        }
    }
}

#[test]
fn a_clkhash_header_mismatch_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "correct horse battery staple").unwrap();
    let csv = dir.path().join("wrong.csv");
    std::fs::write(&csv, "a,b,c\n1,2,3\n").unwrap();
    let out = zicht(&[
        "encode",
        csv.to_str().unwrap(),
        "--schema",
        fixtures().join("schema_blake.json").to_str().unwrap(),
        "--secret-file",
        secret.to_str().unwrap(),
        "--out",
        dir.path().join("o.json").to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join("o.json").exists());
}

/// A third party links clkhash's own CLK JSON against a zicht file made
/// with the same clkhash schema: every record finds its twin at Dice 1.
#[test]
fn clkhash_json_links_against_a_zicht_encoding_of_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "correct horse battery staple").unwrap();
    let zbf = dir.path().join("ours.zbf");
    let out = zicht(&[
        "encode",
        fixtures().join("people.csv").to_str().unwrap(),
        "--schema",
        fixtures().join("schema_blake.json").to_str().unwrap(),
        "--secret-file",
        secret.to_str().unwrap(),
        "--source",
        "ours",
        "--out",
        zbf.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = dir.path().join("clkhash.json");
    std::fs::copy(fixtures().join("clks_blake.json"), &theirs).unwrap();
    let linked = dir.path().join("linked");
    let groups = dir.path().join("groups.json");
    let out = zicht(&[
        "link",
        zbf.to_str().unwrap(),
        theirs.to_str().unwrap(),
        "--threshold",
        "0.99",
        "--no-dedup",
        "--out-dir",
        linked.to_str().unwrap(),
        "--groups",
        groups.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let links = std::fs::read_to_string(linked.join("links.csv")).unwrap();
    let n_rows = clks(&fixtures().join("clks_blake.json")).len();
    let lines: Vec<&str> = links.lines().skip(1).collect();
    assert_eq!(lines.len(), n_rows, "{links}");
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(
            fields[1], fields[3],
            "row {} linked to row {}",
            fields[1], fields[3]
        );
        assert_eq!(fields[4], "1.000000");
    }
    let groups: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&groups).unwrap()).unwrap();
    assert_eq!(groups["groups"].as_array().unwrap().len(), n_rows);
}

/// The fixtures in `tests/data` are copies of `../shared/fixtures` (the
/// source of truth, where a checkout has it beside it): they have not
/// drifted.
#[test]
fn fixture_copies_match_shared() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/fixtures");
    if !shared.is_dir() {
        return; // a plain clone: the copies are all there is
    }
    for dir in ["clkhash", "mse"] {
        for entry in std::fs::read_dir(shared.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let copy = root
                .join("tests/data")
                .join(dir)
                .join(path.file_name().unwrap());
            assert_eq!(
                std::fs::read(&path).unwrap(),
                std::fs::read(&copy).unwrap_or_default(),
                "{copy:?} differs from {path:?}"
            );
        }
    }
}
