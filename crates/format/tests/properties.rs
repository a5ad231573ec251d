//! Property tests: Dice is symmetric and within [0, 1] and agrees with a
//! plain set computation; encoded files and CLK JSON survive a round trip;
//! any single-byte change or truncation of an encoded file is refused.

use proptest::prelude::*;
use zicht_format::{dice, EncodedFile, FileWriter, FilterLength, FilterMatrix, Header, Stratum};

/// A filter length (multiple of 64 from 64 to 1024) and a number of rows
/// of random words of that length.
fn rows(max_rows: usize) -> impl Strategy<Value = (FilterLength, Vec<Vec<u64>>)> {
    (1usize..=16).prop_flat_map(move |words| {
        let length = FilterLength::new(words as u32 * 64).unwrap();
        (
            Just(length),
            prop::collection::vec(
                prop::collection::vec(prop_oneof![any::<u64>(), Just(0u64), Just(u64::MAX)], words),
                1..=max_rows,
            ),
        )
    })
}

/// Dice from the set definition: 2 |A ∩ B| / (|A| + |B|), 0 for two
/// empty sets.
fn reference_dice(a: &[u64], b: &[u64]) -> f64 {
    let bits = |words: &[u64]| -> Vec<usize> {
        (0..words.len() * 64)
            .filter(|&i| (words[i / 64] >> (i % 64)) & 1 == 1)
            .collect()
    };
    let (a, b) = (bits(a), bits(b));
    let common = a.iter().filter(|i| b.contains(i)).count();
    if a.is_empty() && b.is_empty() {
        0.0
    } else {
        2.0 * common as f64 / (a.len() + b.len()) as f64
    }
}

fn header(length: FilterLength, strata: Vec<Stratum>) -> Header {
    Header {
        source_label: "prop".into(),
        filter_bits: length.bits(),
        schema_fingerprint: "ab".repeat(32),
        key_check: "cd".repeat(8),
        encoding: zicht_format::Encoding::ZichtV1,
        hardening: Default::default(),
        strata,
        created_unix: 1_700_000_000,
        zicht_version: "0.1.0".into(),
    }
}

/// A small encoded file: its bytes.
fn small_file(length: FilterLength, filters: &[Vec<u64>], with_stratum: bool) -> Vec<u8> {
    let n_strata = usize::from(with_stratum);
    let mut writer = FileWriter::new(Vec::new(), length, n_strata).unwrap();
    for (index, words) in filters.iter().enumerate() {
        let codes: Vec<u16> = if with_stratum {
            vec![[0, 1, u16::MAX][index % 3]]
        } else {
            Vec::new()
        };
        writer.push(2 * index as u64 + 1, &codes, words).unwrap();
    }
    let strata = if with_stratum {
        vec![Stratum {
            name: "sex".into(),
            values: vec!["f".into(), "m".into()],
        }]
    } else {
        Vec::new()
    };
    writer.finish(&header(length, strata)).unwrap()
}

proptest! {
    #[test]
    fn dice_is_symmetric_bounded_and_exact((_, filters) in rows(2)) {
        let a = &filters[0];
        let b = filters.get(1).unwrap_or(a);
        let ab = dice(a, b);
        let ba = dice(b, a);
        prop_assert_eq!(ab.to_bits(), ba.to_bits());
        prop_assert!((0.0..=1.0).contains(&ab), "dice {} out of range", ab);
        prop_assert!((ab - reference_dice(a, b)).abs() < 1e-12);
        let self_dice = dice(a, a);
        if a.iter().any(|&w| w != 0) {
            prop_assert_eq!(self_dice, 1.0);
        } else {
            prop_assert_eq!(self_dice, 0.0);
        }
    }

    #[test]
    fn dice_on_matrix_rows_ignores_padding((length, filters) in rows(2)) {
        let mut matrix = FilterMatrix::new(length);
        for words in &filters {
            matrix.push(words);
        }
        let last = matrix.len() - 1;
        let expected = dice(&filters[0], &filters[last]);
        prop_assert_eq!(dice(matrix.row(0), matrix.row(last)).to_bits(), expected.to_bits());
    }

    #[test]
    fn encoded_files_round_trip((length, filters) in rows(12), with_stratum in any::<bool>()) {
        let bytes = small_file(length, &filters, with_stratum);
        let file = EncodedFile::from_bytes(&bytes).unwrap();
        prop_assert_eq!(file.len(), filters.len());
        for (index, words) in filters.iter().enumerate() {
            prop_assert_eq!(&file.filters.row(index)[..length.words()], &words[..]);
            prop_assert_eq!(file.rows[index], 2 * index as u64 + 1);
        }
    }

    #[test]
    fn any_byte_change_or_truncation_is_refused(
        (length, filters) in rows(4),
        with_stratum in any::<bool>(),
        position in any::<prop::sample::Index>(),
        change in 1u8..=255,
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = small_file(length, &filters, with_stratum);
        let mut changed = bytes.clone();
        let at = position.index(changed.len());
        changed[at] ^= change;
        prop_assert!(EncodedFile::from_bytes(&changed).is_err(), "change at {} accepted", at);
        let keep = cut.index(bytes.len());
        prop_assert!(EncodedFile::from_bytes(&bytes[..keep]).is_err(), "cut at {} accepted", keep);
    }

    #[test]
    fn clk_json_round_trips((length, filters) in rows(8)) {
        let mut matrix = FilterMatrix::new(length);
        for words in &filters {
            matrix.push(words);
        }
        let mut json = Vec::new();
        zicht_format::clk::write_clk_json(&matrix, &mut json).unwrap();
        let again = zicht_format::clk::read_clk_json(json.as_slice()).unwrap();
        prop_assert_eq!(again.length(), length);
        prop_assert_eq!(again.as_words(), matrix.as_words());
    }
}
