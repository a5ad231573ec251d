//! Property tests: a capture table read from CSV, and every estimate made
//! from it, do not depend on the order of the table's rows (nor on the
//! order of its columns, once the lists are named in a fixed order).

use proptest::prelude::*;
use zicht_estimate::{estimate, CaptureTable, CsvOptions, EstimateConfig, IntervalMethod, Method};

/// Rows `(history, stratum, count)` of a table over `n_lists` lists: every
/// non-zero history at most once per stratum, some left out (structural
/// zeros), counts from 1 to 300.
fn table_rows() -> impl Strategy<Value = (usize, Vec<(u32, usize, u64)>)> {
    (2usize..=4, 1usize..=2).prop_flat_map(|(n_lists, n_strata)| {
        let cells: Vec<(u32, usize)> = (0..n_strata)
            .flat_map(|stratum| (1u32..(1 << n_lists)).map(move |h| (h, stratum)))
            .collect();
        let n_cells = cells.len();
        (
            Just(n_lists),
            prop::collection::vec((any::<bool>(), 1u64..=300), n_cells).prop_map(move |draws| {
                cells
                    .iter()
                    .zip(draws)
                    .filter(|(_, (keep, _))| *keep)
                    .map(|(&(history, stratum), (_, count))| (history, stratum, count))
                    .collect::<Vec<_>>()
            }),
        )
    })
}

const LISTS: [&str; 4] = ["police", "ngo", "health", "labour"];

/// The rows as CSV; `column_order` permutes the list columns.
fn to_csv(n_lists: usize, rows: &[(u32, usize, u64)], column_order: &[usize]) -> String {
    let mut header: Vec<&str> = column_order
        .iter()
        .take(n_lists)
        .map(|&i| LISTS[i])
        .collect();
    header.push("region");
    header.push("count");
    let mut text = header.join(",");
    text.push('\n');
    for &(history, stratum, count) in rows {
        for &list in column_order.iter().take(n_lists) {
            text.push_str(if (history >> list) & 1 == 1 {
                "1,"
            } else {
                "0,"
            });
        }
        text.push_str(["north", "south"][stratum]);
        text.push_str(&format!(",{count}\n"));
    }
    text
}

fn read(csv: &str, n_lists: usize) -> Result<CaptureTable, String> {
    let options = CsvOptions {
        lists: Some(LISTS[..n_lists].iter().map(|s| s.to_string()).collect()),
        strata_columns: Some(vec!["region".into()]),
    };
    CaptureTable::from_csv_reader(csv.as_bytes(), &options).map_err(|e| e.to_string())
}

/// Every estimate worth comparing, as JSON (or the error's message).
fn estimates(table: &CaptureTable) -> Vec<String> {
    let mut configs = vec![
        EstimateConfig {
            method: Method::MainEffects,
            interval: IntervalMethod::Profile,
            ..EstimateConfig::default()
        },
        EstimateConfig {
            method: Method::Stepwise,
            interval: IntervalMethod::Wald,
            ..EstimateConfig::default()
        },
        EstimateConfig {
            method: Method::Aic,
            interval: IntervalMethod::Profile,
            stratified: true,
            ..EstimateConfig::default()
        },
        EstimateConfig {
            method: Method::MainEffects,
            interval: IntervalMethod::Bootstrap,
            bootstrap_replicates: 20,
            ..EstimateConfig::default()
        },
    ];
    if table.n_lists() == 2 {
        configs.push(EstimateConfig {
            method: Method::Chapman,
            ..EstimateConfig::default()
        });
    }
    configs
        .iter()
        .map(|config| match estimate(table, config) {
            Ok(result) => serde_json::to_string(&result).unwrap(),
            Err(error) => format!("error: {error}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn estimation_does_not_depend_on_row_order(
        ((n_lists, rows), order) in table_rows().prop_flat_map(|(n_lists, rows)| {
            let n = rows.len();
            (Just((n_lists, rows)), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        }),
        column_order in Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
    ) {
        let identity = [0usize, 1, 2, 3];
        let original = read(&to_csv(n_lists, &rows, &identity), n_lists);
        let shuffled_rows: Vec<(u32, usize, u64)> = order.iter().map(|&i| rows[i]).collect();
        let shuffled = read(&to_csv(n_lists, &shuffled_rows, &identity), n_lists);
        prop_assert_eq!(&original, &shuffled);
        // Columns in another order, named back into the same list order.
        let columns: Vec<usize> = column_order.iter().copied().filter(|&c| c < n_lists).collect();
        let reordered = read(&to_csv(n_lists, &shuffled_rows, &columns), n_lists);
        prop_assert_eq!(&original, &reordered);
        if let Ok(table) = original {
            let expected = estimates(&table);
            prop_assert_eq!(&expected, &estimates(shuffled.as_ref().unwrap()));
        }
    }
}
