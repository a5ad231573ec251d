//! Known-answer tests against clkhash 0.18.3: encoding the shared fixture
//! `people.csv` with each fixture schema gives exactly clkhash's CLKs.

use zicht_encoder::clkhash::{encode_csv, is_clkhash_schema, ClkhashEncoder, ClkhashSchema};
use zicht_encoder::{EncodeError, Secret};
use zicht_format::clk::{read_clk_json, row_to_base64};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/clkhash/");

/// The fixtures' secret (see the fixture README).
const SECRET: &[u8] = b"correct horse battery staple";

fn fixture(name: &str) -> String {
    let path = format!("{FIXTURES}{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn expected_clks(name: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
    value["clks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn secret() -> Secret {
    Secret::from_bytes_unchecked(SECRET.to_vec())
}

fn check(schema_file: &str, clks_file: &str) {
    let text = fixture(schema_file);
    assert!(is_clkhash_schema(&text));
    let schema = ClkhashSchema::from_json(&text).unwrap();
    let csv = fixture("people.csv");
    let matrix = encode_csv(csv.as_bytes(), &schema, &secret()).unwrap();
    let expected = expected_clks(clks_file);
    assert_eq!(matrix.len(), expected.len(), "number of rows");
    let mismatched: Vec<usize> = (0..matrix.len())
        .filter(|&i| row_to_base64(matrix.row(i), matrix.length()) != expected[i])
        .collect();
    assert!(
        mismatched.is_empty(),
        "{schema_file}: rows {mismatched:?} differ from {clks_file}"
    );
    // And the same through the format crate's reader, bit for bit.
    let reference = read_clk_json(fixture(clks_file).as_bytes()).unwrap();
    assert_eq!(reference.length(), matrix.length());
    for i in 0..matrix.len() {
        assert_eq!(reference.row(i), matrix.row(i), "row {i}");
    }
}

#[test]
fn blake_schema_matches_clkhash() {
    check("schema_blake.json", "clks_blake.json");
}

#[test]
fn double_hash_schema_matches_clkhash() {
    check("schema_double.json", "clks_double.json");
}

#[test]
fn record_by_record_encoding_matches_encode_csv() {
    let schema = ClkhashSchema::from_json(&fixture("schema_double.json")).unwrap();
    let encoder = ClkhashEncoder::new(&schema, &secret()).unwrap();
    let csv_text = fixture("people.csv");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    encoder.check_header(reader.headers().unwrap()).unwrap();
    let expected = expected_clks("clks_double.json");
    for (row, record) in reader.records().enumerate() {
        let record = record.unwrap();
        let mut words = vec![0u64; schema.filter_length().words()];
        encoder
            .encode_record(&record, row as u64, row as u64 + 2, &mut words)
            .unwrap();
        assert_eq!(row_to_base64(&words, schema.filter_length()), expected[row]);
    }
}

#[test]
fn wrong_secret_gives_other_filters() {
    let schema = ClkhashSchema::from_json(&fixture("schema_blake.json")).unwrap();
    let other = Secret::from_bytes_unchecked(b"correct horse battery stapler".to_vec());
    let matrix = encode_csv(fixture("people.csv").as_bytes(), &schema, &other).unwrap();
    let expected = expected_clks("clks_blake.json");
    assert_ne!(row_to_base64(matrix.row(0), matrix.length()), expected[0]);
}

#[test]
fn fixture_data_with_an_invalid_date_names_row_and_feature() {
    let schema = ClkhashSchema::from_json(&fixture("schema_double.json")).unwrap();
    let csv = fixture("people.csv").replace("1990/11/19", "1990-11-19");
    let err = encode_csv(csv.as_bytes(), &schema, &secret()).unwrap_err();
    match &err {
        EncodeError::Row {
            row, line, field, ..
        } => {
            assert_eq!((*row, *line, field.as_str()), (2, 4, "dob"));
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(!err.to_string().contains("1990-11-19"), "{err}");
}

#[test]
fn fixture_data_with_an_unknown_enum_value_names_the_feature() {
    let schema = ClkhashSchema::from_json(&fixture("schema_double.json")).unwrap();
    let csv = fixture("people.csv").replace(
        "3,pieter,de vries,1958/05/14,M,",
        "3,pieter,de vries,1958/05/14,X,",
    );
    let err = encode_csv(csv.as_bytes(), &schema, &secret()).unwrap_err();
    assert!(
        matches!(err, EncodeError::Row { row: 3, ref field, .. } if field == "sex"),
        "{err}"
    );
}

#[test]
fn fixture_schemas_have_distinct_fingerprints() {
    let blake = ClkhashSchema::from_json(&fixture("schema_blake.json")).unwrap();
    let double = ClkhashSchema::from_json(&fixture("schema_double.json")).unwrap();
    assert_ne!(blake.fingerprint(), double.fingerprint());
    assert_eq!(
        blake.feature_names(),
        ["id", "given_name", "surname", "dob", "sex", "postcode"]
    );
    assert_eq!(blake.filter_length().bits(), 1024);
    assert_eq!(double.filter_length().bits(), 512);
}
