//! Known-answer vectors: the bits of the `zicht-v1` encoding, pinned in
//! `tests/data/kat` (see its README). Every schema there is encoded at 1
//! and 2 threads and with several chunk sizes, and each filter, stratum
//! code, header value and rejection must equal the stored one.
//!
//! `ZICHT_BLESS=1 cargo test -p zicht-encoder --test known_answers` writes
//! the expected files instead: only for a new encoding tag, never to make a
//! failing test pass.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use zicht_encoder::{EncodeOptions, Encoder, OnError, Profile, Schema, Secret};
use zicht_format::clk::row_to_base64;
use zicht_format::EncodedFile;

fn kat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/kat")
}

fn read(name: &str) -> String {
    let path = kat_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"))
}

/// Encode `people.csv` with `schema-<variant>.toml` and describe the result
/// in the expected file's format.
fn describe(variant: &str, threads: usize, chunk_rows: usize) -> String {
    let schema = Schema::from_toml(&read(&format!("schema-{variant}.toml"))).unwrap();
    let profile = Profile::from_toml(&read("profile.toml")).unwrap();
    let secret = Secret::read_file(&kat_dir().join("secret.key")).unwrap();
    let encoder = Encoder::new(schema, profile, &secret).unwrap();
    let options = EncodeOptions {
        source_label: zicht_format::SourceLabel::new("kat").unwrap(),
        on_error: OnError::Skip,
        created_unix: 0,
        chunk_rows,
        ..EncodeOptions::default()
    };
    let csv = read("people.csv");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let (bytes, summary) = pool
        .install(|| encoder.encode_csv(csv.as_bytes(), Vec::new(), &options, &|_| {}))
        .unwrap();
    let file = EncodedFile::from_bytes(&bytes).unwrap();
    let header = &file.header;
    let mut out = String::new();
    writeln!(out, "encoding {}", header.encoding).unwrap();
    writeln!(out, "fingerprint {}", header.schema_fingerprint).unwrap();
    writeln!(out, "key_check {}", header.key_check).unwrap();
    writeln!(out, "filter_bits {}", header.filter_bits).unwrap();
    for (name, value) in &header.hardening {
        writeln!(out, "hardening {name}={value}").unwrap();
    }
    for stratum in &header.strata {
        writeln!(
            out,
            "stratum {} [{}]",
            stratum.name,
            stratum.values.join("|")
        )
        .unwrap();
    }
    let n_strata = header.strata.len();
    for i in 0..file.len() {
        let codes = &file.strata_codes[i * n_strata..][..n_strata];
        let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
        writeln!(
            out,
            "row {} {} strata {}",
            file.rows[i],
            row_to_base64(file.filters.row(i), file.filters.length()),
            codes.join(",")
        )
        .unwrap();
    }
    for rejection in &summary.rejected {
        writeln!(
            out,
            "rejected row {} line {} field {}: {}",
            rejection.row, rejection.line, rejection.field, rejection.reason
        )
        .unwrap();
    }
    out
}

const VARIANTS: [&str; 7] = [
    "plain",
    "xor-fold",
    "balance",
    "diffusion",
    "salt",
    "blip",
    "settings",
];

#[test]
fn zicht_v1_bits_never_change() {
    let bless = std::env::var_os("ZICHT_BLESS").is_some_and(|v| v == "1");
    for variant in VARIANTS {
        let got = describe(variant, 1, 2048);
        let path = kat_dir().join(format!("expected-{variant}.txt"));
        if bless {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let expected =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"));
        assert_eq!(got, expected, "schema-{variant}.toml differs from {path:?}");
        for (threads, chunk_rows) in [(2, 3), (2, 1), (1, 5)] {
            assert_eq!(
                describe(variant, threads, chunk_rows),
                expected,
                "schema-{variant}.toml at {threads} threads, chunks of {chunk_rows}"
            );
        }
    }
}

/// The vectors exercise what they claim to: every variant encodes most
/// rows, rejects the bad date, and the hardened variants differ from the
/// plain one.
#[test]
fn vectors_cover_the_cases() {
    let plain = read("expected-plain.txt");
    let rows = plain.lines().filter(|l| l.starts_with("row ")).count();
    assert!(rows >= 15, "{rows} rows encoded");
    assert!(plain.lines().any(|l| l.starts_with("rejected row ")));
    for variant in VARIANTS.iter().filter(|v| **v != "plain") {
        let other = read(&format!("expected-{variant}.txt"));
        let filters = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with("row "))
                .map(|l| l.split(' ').nth(2).unwrap_or_default().to_string())
                .collect()
        };
        assert_ne!(filters(&plain), filters(&other), "{variant} equals plain");
    }
}
