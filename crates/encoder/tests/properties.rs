//! Property tests of `Encoder::encode_csv`: a record's filter and strata do
//! not depend on the order of the rows, on the chunk size or on the number
//! of threads, and the same input always gives the same bytes; a record
//! over the length limit is refused, naming its row and line.

use proptest::prelude::*;
use zicht_encoder::{EncodeError, EncodeOptions, Encoder, OnError, Profile, Schema, Secret};
use zicht_format::EncodedFile;

const SCHEMA: &str = include_str!("../../../docs/examples/schema.toml");
const PROFILE: &str = include_str!("../../../docs/examples/profile.toml");
const HEADER: &str = "naam;geboortedatum;geslacht;geboorteplaats;uitbuiting";

fn encoder() -> Encoder {
    let schema = Schema::from_toml(SCHEMA).unwrap();
    let profile = Profile::from_toml(PROFILE).unwrap();
    let secret = Secret::from_bytes(vec![3; 32]).unwrap();
    Encoder::new(schema, profile, &secret).unwrap()
}

/// One CSV row in the example profile's layout; some cells are missing
/// (`NA`) and some dates are only a year.
fn row() -> impl Strategy<Value = String> {
    (
        "[A-Z][a-zà-ÿ]{1,9}",
        prop_oneof![Just(""), Just("van "), Just("de ")],
        "[A-Z][a-zà-ÿ]{1,8}",
        prop_oneof![
            (1u32..=28, 1u32..=12, 1930u32..2010)
                .prop_map(|(d, m, y)| format!("{d:02}-{m:02}-{y}")),
            (1930u32..2010).prop_map(|y| y.to_string()),
            Just("NA".to_string()),
        ],
        prop_oneof![Just("M"), Just("V"), Just("onbekend")],
        prop_oneof![Just("Rotterdam"), Just("Kraków"), Just("Lagos"), Just("")],
        prop_oneof![Just("seksueel"), Just("arbeid"), Just("NA")],
    )
        .prop_map(
            |(family, particle, given, date, sex, place, exploitation)| {
                format!("\"{family}, {particle}{given}\";{date};{sex};{place};{exploitation}")
            },
        )
}

fn csv(rows: &[String]) -> String {
    let mut text = String::from(HEADER);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text
}

fn encode(encoder: &Encoder, rows: &[String], chunk_rows: usize) -> Vec<u8> {
    let options = EncodeOptions {
        chunk_rows,
        on_error: OnError::Skip,
        created_unix: 1_700_000_000,
        ..EncodeOptions::default()
    };
    let (bytes, summary) = encoder
        .encode_csv(csv(rows).as_bytes(), Vec::new(), &options, &|_| {})
        .unwrap();
    assert_eq!(summary.rows_encoded, rows.len() as u64);
    bytes
}

/// Filter words and strata values of every record, by record.
fn records(bytes: &[u8]) -> Vec<(Vec<u64>, Vec<Option<String>>)> {
    let file = EncodedFile::from_bytes(bytes).unwrap();
    (0..file.len())
        .map(|record| {
            let strata = (0..file.header.strata.len())
                .map(|column| file.stratum(record, column).map(str::to_string))
                .collect();
            (file.filters.row(record).to_vec(), strata)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Shuffling the rows shuffles the records the same way and changes
    /// nothing else about them.
    #[test]
    fn encoding_does_not_depend_on_row_order(
        (rows, order) in prop::collection::vec(row(), 1..40).prop_flat_map(|rows| {
            let n = rows.len();
            (Just(rows), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        }),
        chunk_rows in 1usize..10,
    ) {
        let encoder = encoder();
        let original = records(&encode(&encoder, &rows, chunk_rows));
        let shuffled_rows: Vec<String> = order.iter().map(|&i| rows[i].clone()).collect();
        let shuffled = records(&encode(&encoder, &shuffled_rows, chunk_rows));
        for (position, &index) in order.iter().enumerate() {
            prop_assert_eq!(&shuffled[position], &original[index]);
        }
    }

    /// The same rows give the same bytes whatever the chunk size and the
    /// number of threads.
    #[test]
    fn encoding_does_not_depend_on_chunks_or_threads(
        rows in prop::collection::vec(row(), 1..40),
        chunk_rows in 1usize..10,
        threads in 1usize..5,
    ) {
        let encoder = encoder();
        let reference = encode(&encoder, &rows, 8192);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let bytes = pool.install(|| encode(&encoder, &rows, chunk_rows));
        prop_assert!(bytes == reference);
    }

    /// A record longer than `max_record_bytes` stops the run with an error
    /// naming its row and line (and not its content), whatever the limit
    /// and the bad-row policy; the same record passes a limit of exactly
    /// its length.
    #[test]
    fn records_over_the_limit_are_refused(
        limit in 64usize..512,
        excess in 1usize..64,
        skip in any::<bool>(),
    ) {
        let encoder = encoder();
        // The record's bytes are its fields' bytes: 32 besides the name.
        let name: String = "Zq".chars().cycle().take(limit + excess - 32).collect();
        let rows = vec![
            "\"Berg, Anna\";12-03-1990;V;Rotterdam;arbeid".to_string(),
            format!("\"Berg, {name}\";12-03-1990;V;Rotterdam;arbeid"),
        ];
        let text = csv(&rows);
        let options = EncodeOptions {
            max_record_bytes: limit,
            on_error: if skip { OnError::Skip } else { OnError::Stop },
            ..EncodeOptions::default()
        };
        let error = encoder
            .encode_csv(text.as_bytes(), Vec::new(), &options, &|_| {})
            .unwrap_err();
        let message = error.to_string();
        match error {
            EncodeError::Row { row, line, field, .. } => {
                prop_assert_eq!((row, line, field.as_str()), (1, 3, "(record)"));
            }
            other => prop_assert!(false, "unexpected error {}", other),
        }
        prop_assert!(!message.contains("ZqZq"), "{}", message);
        let roomy = EncodeOptions { max_record_bytes: limit + excess, ..options };
        let fits = encoder.encode_csv(text.as_bytes(), Vec::new(), &roomy, &|_| {});
        prop_assert!(fits.is_ok());
    }
}
