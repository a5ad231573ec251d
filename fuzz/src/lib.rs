//! The fuzz targets' bodies: each takes arbitrary bytes, runs one of zicht's
//! input readers on them, and checks what must hold whatever the input.
//!
//! The `cargo fuzz` targets in `fuzz_targets/` call these functions, and the
//! root package's `tests/regressions.rs` includes this file (`#[path]`) and
//! runs every saved input in `fuzz/regressions/<target>/` through the same
//! function, so a case once found stays fixed. An `Err` is the expected answer
//! to bad input; a panic (including a failed `assert!` below) is a bug.

use std::sync::OnceLock;

pub mod sha256;

use zicht_encoder::clkhash::{self, ClkhashSchema};
use zicht_encoder::{EncodeOptions, Encoder, OnError, Profile, Schema, Secret};
use zicht_estimate::{CaptureTable, CsvOptions};
use zicht_format::{EncodedFile, FileWriter};

/// The names of the targets, as in `fuzz_targets/<name>.rs` and
/// `fuzz/regressions/<name>/`.
pub const TARGETS: &[&str] = &[
    "encoded_file",
    "csv_encode",
    "schema_toml",
    "clkhash_schema",
    "clk_json",
    "capture_table",
];

/// Run the target called `name` on `data`; `false` for an unknown name.
pub fn run_target(name: &str, data: &[u8]) -> bool {
    match name {
        "encoded_file" => encoded_file(data),
        "csv_encode" => csv_encode(data),
        "schema_toml" => schema_toml(data),
        "clkhash_schema" => clkhash_schema(data),
        "clk_json" => clk_json(data),
        "capture_table" => capture_table(data),
        _ => return false,
    }
    true
}

/// The example schema of `docs/examples/`, used by [`csv_encode`].
const EXAMPLE_SCHEMA: &str = include_str!("../../docs/examples/schema.toml");
/// The example profile, used when the input carries none.
const EXAMPLE_PROFILE: &str = include_str!("../../docs/examples/profile.toml");
/// Separates a profile from the CSV in a [`csv_encode`] input.
pub const PROFILE_SEPARATOR: &[u8] = b"\n%%%\n";

fn secret() -> &'static Secret {
    static SECRET: OnceLock<Secret> = OnceLock::new();
    SECRET.get_or_init(|| Secret::from_bytes(vec![7; 32]).expect("a 256-bit secret"))
}

/// `.zbf` reader: `EncodedFile::from_bytes`, on the input as it is and
/// with its trailing checksum replaced by the right one (so that mutations
/// reach the checks behind the checksum). A file it accepts must be
/// self-consistent and must survive a write and re-read unchanged.
pub fn encoded_file(data: &[u8]) {
    encoded_file_once(data);
    if data.len() >= 128 {
        let mut sealed = data.to_vec();
        let end = sealed.len() - 32;
        let digest = sha256::sha256(&sealed[..end]);
        sealed[end..].copy_from_slice(&digest);
        encoded_file_once(&sealed);
    }
}

fn encoded_file_once(data: &[u8]) {
    let Ok(file) = EncodedFile::from_bytes(data) else {
        return;
    };
    let n_strata = file.header.strata.len();
    assert_eq!(file.rows.len(), file.len());
    assert_eq!(file.strata_codes.len(), file.len() * n_strata);
    for record in 0..file.len() {
        for column in 0..n_strata {
            let _ = file.stratum(record, column);
        }
    }
    let mut writer =
        FileWriter::new(Vec::new(), file.filters.length(), n_strata).expect("a writer over memory");
    for record in 0..file.len() {
        let codes = &file.strata_codes[record * n_strata..(record + 1) * n_strata];
        let words = &file.filters.row(record)[..file.filters.length().words()];
        writer
            .push(file.rows[record], codes, words)
            .expect("an accepted file's records can be written again");
    }
    let bytes = writer
        .finish(&file.header)
        .expect("an accepted file's header can be written again");
    let again = EncodedFile::from_bytes(&bytes).expect("a re-written file reads");
    assert_eq!(again, file);
}

/// CSV and profile reader: `Profile::from_toml`, `Encoder::new` and
/// `Encoder::encode_csv` under the example schema. The input is a profile
/// (TOML), [`PROFILE_SEPARATOR`], then the CSV; without the separator it is
/// all CSV under the example profile. Output that the encoder produces must
/// read back with as many records as it reports.
pub fn csv_encode(data: &[u8]) {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    let schema = SCHEMA.get_or_init(|| Schema::from_toml(EXAMPLE_SCHEMA).expect("example schema"));
    let (profile, csv) = match find(data, PROFILE_SEPARATOR) {
        Some(at) => {
            let Ok(text) = std::str::from_utf8(&data[..at]) else {
                return;
            };
            let Ok(profile) = Profile::from_toml(text) else {
                return;
            };
            (profile, &data[at + PROFILE_SEPARATOR.len()..])
        }
        None => (
            Profile::from_toml(EXAMPLE_PROFILE).expect("example profile"),
            data,
        ),
    };
    let Ok(encoder) = Encoder::new(schema.clone(), profile, secret()) else {
        return;
    };
    let skip = csv.first().is_some_and(|b| b & 1 == 1);
    let options = EncodeOptions {
        on_error: if skip { OnError::Skip } else { OnError::Stop },
        chunk_rows: 3,
        max_record_bytes: 4096,
        ..EncodeOptions::default()
    };
    let Ok((bytes, summary)) = encoder.encode_csv(csv, Vec::new(), &options, &|_| {}) else {
        return;
    };
    assert!(summary.rows_encoded <= summary.rows_read);
    let file = EncodedFile::from_bytes(&bytes).expect("the encoder's output reads");
    assert_eq!(file.len() as u64, summary.rows_encoded);
}

/// zicht schema reader: `Schema::from_toml`, then the fingerprint.
pub fn schema_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(schema) = Schema::from_toml(text) {
        let _ = schema.canonical_form();
        let _ = schema.fingerprint_hex();
        let _ = schema.output_length();
    }
}

/// clkhash schema reader: `ClkhashSchema::from_json`; a schema it accepts
/// is also used to encode a two-line CSV of its own feature names.
pub fn clkhash_schema(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = clkhash::is_clkhash_schema(text);
    let Ok(schema) = ClkhashSchema::from_json(text) else {
        return;
    };
    let _ = schema.fingerprint();
    let names = schema.feature_names();
    let mut csv = names.join(",");
    csv.push('\n');
    csv.push_str(&vec!["a1"; names.len()].join(","));
    csv.push('\n');
    if let Ok(filters) = clkhash::encode_csv(csv.as_bytes(), &schema, secret()) {
        assert_eq!(filters.len(), 1);
        assert_eq!(filters.length(), schema.filter_length());
    }
}

/// CLK JSON reader: `clk::read_clk_json`; accepted filters must write and
/// read back unchanged.
pub fn clk_json(data: &[u8]) {
    let Ok(matrix) = zicht_format::clk::read_clk_json(data) else {
        return;
    };
    let mut bytes = Vec::new();
    zicht_format::clk::write_clk_json(&matrix, &mut bytes).expect("writing to memory");
    let again = zicht_format::clk::read_clk_json(bytes.as_slice()).expect("re-written CLKs read");
    assert_eq!(again.len(), matrix.len());
    assert_eq!(again.length(), matrix.length());
    assert_eq!(again.as_words(), matrix.as_words());
}

/// Capture-table reader: `CaptureTable::from_csv_reader`, with the column
/// roles guessed (the default) and, when the first byte is odd, with the
/// first two header names forced to be lists.
pub fn capture_table(data: &[u8]) {
    let mut options = CsvOptions::default();
    if data.first().is_some_and(|b| b & 1 == 1) {
        let header = data.split(|&b| b == b'\n').next().unwrap_or_default();
        let names: Vec<String> = String::from_utf8_lossy(header)
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.eq_ignore_ascii_case("count"))
            .take(2)
            .collect();
        options.lists = Some(names);
    }
    let Ok(table) = CaptureTable::from_csv_reader(data, &options) else {
        return;
    };
    let n_lists = table.n_lists();
    assert!((2..=zicht_estimate::MAX_LISTS).contains(&n_lists));
    assert_eq!(table.counts().len(), 1 << n_lists);
    assert_eq!(table.count(0), 0);
    assert!(table.observed() > 0);
    for stratum in table.strata() {
        let _ = table.stratum_table(stratum);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
