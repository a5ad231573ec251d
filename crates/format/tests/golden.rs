//! Golden files: every released version of the encoded file keeps reading.
//!
//! `v1.zbf` was written by version 1 of the writer. If the writer changes
//! the bytes it produces for the same input, the format version must be
//! raised and a new golden file added (`ZICHT_BLESS=1 cargo test -p
//! zicht-format --test golden` writes the files for the current version).

use std::collections::BTreeMap;
use std::path::PathBuf;

use zicht_format::{EncodedFile, FileWriter, FilterLength, Header, Stratum};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn v1_bytes() -> Vec<u8> {
    let length = FilterLength::new(128).unwrap();
    let mut writer = FileWriter::new(Vec::new(), length, 2).unwrap();
    writer
        .push(0, &[0, 1], &[0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210])
        .unwrap();
    writer.push(1, &[1, 0xFFFF], &[u64::MAX, 0]).unwrap();
    writer.push(5, &[0, 0], &[1, 1 << 63]).unwrap();
    let header = Header {
        source_label: "golden".into(),
        filter_bits: 128,
        schema_fingerprint: "ab".repeat(32),
        key_check: "cd".repeat(8),
        encoding: zicht_format::Encoding::ZichtV1,
        hardening: BTreeMap::from([(
            "hashing".to_string(),
            "keyed-hmac-sha256-per-field".to_string(),
        )]),
        strata: vec![
            Stratum {
                name: "sex".into(),
                values: vec!["f".into(), "m".into()],
            },
            Stratum {
                name: "birth_decade".into(),
                values: vec!["1980-1989".into(), "1990-1999".into()],
            },
        ],
        created_unix: 1_700_000_000,
        zicht_version: "0.1.0".into(),
    };
    writer.finish(&header).unwrap()
}

#[test]
fn version_1_golden_file_reads_and_is_what_the_writer_makes() {
    let path = golden_dir().join("v1.zbf");
    if std::env::var_os("ZICHT_BLESS").is_some() {
        std::fs::write(&path, v1_bytes()).unwrap();
    }
    let golden = std::fs::read(&path).expect("the golden file is committed");
    let file = EncodedFile::from_bytes(&golden).unwrap();
    assert_eq!(file.header.source_label, "golden");
    assert_eq!(file.rows, vec![0, 1, 5]);
    assert_eq!(
        file.filters.row(0),
        &[0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]
    );
    assert_eq!(file.stratum(0, 1), Some("1990-1999"));
    assert_eq!(file.stratum(1, 1), None);
    assert_eq!(file.stratum(2, 0), Some("f"));
    assert_eq!(
        golden,
        v1_bytes(),
        "the writer's bytes changed: raise FORMAT_VERSION"
    );
}
