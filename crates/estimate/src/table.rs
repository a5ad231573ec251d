//! Capture-history tables: reading them from CSV and building them in code.
//!
//! A history is a `u32` whose bit `i` says whether the case is on list `i`
//! (list 0 is the first list column). Counts are kept for every one of the
//! `2^k` histories; the all-zero history is never observed and stays 0.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use crate::error::EstimateError;

/// The most lists a table may have.
pub const MAX_LISTS: usize = 20;

/// How to tell list columns from strata columns when reading a CSV.
///
/// By default every column other than `count` whose values are all integers
/// is a list (and must then hold only 0 or 1), and every column with a
/// non-integer value somewhere is a strata column. `lists` and
/// `strata_columns` override this: named lists are lists, named strata are
/// strata, and when only one of the two is given every other column belongs
/// to the other kind.
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// The list columns, in the order to use.
    pub lists: Option<Vec<String>>,
    /// The strata columns.
    pub strata_columns: Option<Vec<String>>,
}

/// One stratum of a table: its label and its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stratum {
    label: String,
    counts: Vec<u64>,
}

impl Stratum {
    /// The stratum's label: its strata values joined by `/`.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// A capture-history table, pooled over strata, with the strata kept aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureTable {
    list_names: Vec<String>,
    counts: Vec<u64>,
    strata_columns: Vec<String>,
    strata: Vec<Stratum>,
    summed_lines: Vec<u64>,
}

impl CaptureTable {
    /// Build a table from list names and `(history, count)` pairs.
    ///
    /// Repeated histories are summed.
    ///
    /// # Errors
    ///
    /// Fewer than 2 or more than 20 lists, a history of 0 (no list) or one
    /// naming a list beyond the last, or no cases at all.
    pub fn from_counts(
        list_names: Vec<String>,
        cells: Vec<(u32, u64)>,
    ) -> Result<CaptureTable, EstimateError> {
        check_list_count(list_names.len())?;
        let n_lists = list_names.len();
        let mut counts = vec![0u64; 1 << n_lists];
        for (history, count) in cells {
            if history == 0 {
                return Err(EstimateError::AllZeroHistory { line: 0 });
            }
            if (history as usize) >= counts.len() {
                return Err(EstimateError::HistoryOutOfRange { history, n_lists });
            }
            counts[history as usize] = counts[history as usize].saturating_add(count);
        }
        let table = CaptureTable {
            list_names,
            counts,
            strata_columns: Vec::new(),
            strata: Vec::new(),
            summed_lines: Vec::new(),
        };
        if table.observed() == 0 {
            return Err(EstimateError::EmptyTable);
        }
        Ok(table)
    }

    /// Read a table from CSV (a header, then one row per history).
    ///
    /// # Errors
    ///
    /// A malformed record, a missing `count` column, a list value other than
    /// 0/1, a negative or fractional count, an all-zero history, fewer than
    /// two or more than twenty lists, or an empty table. Errors name the line
    /// and the column, never the value.
    pub fn from_csv_reader<R: Read>(
        reader: R,
        options: &CsvOptions,
    ) -> Result<CaptureTable, EstimateError> {
        let mut csv_reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(reader);
        let header: Vec<String> = csv_reader
            .headers()
            .map_err(|e| csv_error(&e))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut seen = HashSet::new();
        for name in &header {
            if !seen.insert(name.as_str()) {
                return Err(EstimateError::DuplicateColumn {
                    column: name.clone(),
                });
            }
        }
        let count_index = header
            .iter()
            .position(|name| name.eq_ignore_ascii_case("count"))
            .ok_or(EstimateError::MissingCountColumn)?;
        let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
        for record in csv_reader.records() {
            let record = record.map_err(|e| csv_error(&e))?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(str::is_empty) {
                continue;
            }
            rows.push((line, record.iter().map(str::to_string).collect()));
        }
        let (list_indices, strata_indices) =
            classify_columns(&header, count_index, &rows, options)?;
        check_list_count(list_indices.len())?;
        let n_lists = list_indices.len();
        let list_names: Vec<String> = list_indices.iter().map(|&i| header[i].clone()).collect();
        let strata_columns: Vec<String> =
            strata_indices.iter().map(|&i| header[i].clone()).collect();

        let mut pooled = vec![0u64; 1 << n_lists];
        let mut by_stratum: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut seen_history: HashSet<(String, u32)> = HashSet::new();
        let mut summed_lines = Vec::new();
        for (line, fields) in &rows {
            let line = *line;
            let mut history = 0u32;
            for (bit, &column) in list_indices.iter().enumerate() {
                match fields[column].as_str() {
                    "0" => {}
                    "1" => history |= 1 << bit,
                    _ => {
                        return Err(EstimateError::BadListValue {
                            line,
                            column: header[column].clone(),
                            hint: if options.lists.is_none() && options.strata_columns.is_none() {
                                " (for a numeric strata column use --strata-columns)".to_string()
                            } else {
                                String::new()
                            },
                        })
                    }
                }
            }
            if history == 0 {
                return Err(EstimateError::AllZeroHistory { line });
            }
            let count =
                parse_count(&fields[count_index]).ok_or(EstimateError::BadCount { line })?;
            let label = strata_indices
                .iter()
                .map(|&i| fields[i].as_str())
                .collect::<Vec<_>>()
                .join("/");
            if !seen_history.insert((label.clone(), history)) {
                summed_lines.push(line);
            }
            pooled[history as usize] = pooled[history as usize].saturating_add(count);
            if !strata_indices.is_empty() {
                let cells = by_stratum
                    .entry(label)
                    .or_insert_with(|| vec![0u64; 1 << n_lists]);
                cells[history as usize] = cells[history as usize].saturating_add(count);
            }
        }
        let table = CaptureTable {
            list_names,
            counts: pooled,
            strata_columns,
            strata: by_stratum
                .into_iter()
                .map(|(label, counts)| Stratum { label, counts })
                .collect(),
            summed_lines,
        };
        if table.observed() == 0 {
            return Err(EstimateError::EmptyTable);
        }
        Ok(table)
    }

    /// The list names, in history-bit order.
    pub fn list_names(&self) -> &[String] {
        &self.list_names
    }

    /// The number of lists.
    pub fn n_lists(&self) -> usize {
        self.list_names.len()
    }

    /// The count of every history, indexed by history (index 0 is always 0).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The count of one history (0 for a history out of range).
    pub fn count(&self, history: u32) -> u64 {
        self.counts.get(history as usize).copied().unwrap_or(0)
    }

    /// The number of distinct cases observed.
    pub fn observed(&self) -> u64 {
        self.counts
            .iter()
            .fold(0u64, |total, &count| total.saturating_add(count))
    }

    /// The strata columns (empty when the table is not stratified).
    pub fn strata_columns(&self) -> &[String] {
        &self.strata_columns
    }

    /// The strata, sorted by label (empty when the table is not stratified).
    pub fn strata(&self) -> &[Stratum] {
        &self.strata
    }

    /// One stratum as a table of its own.
    pub fn stratum_table(&self, stratum: &Stratum) -> CaptureTable {
        CaptureTable {
            list_names: self.list_names.clone(),
            counts: stratum.counts.clone(),
            strata_columns: Vec::new(),
            strata: Vec::new(),
            summed_lines: Vec::new(),
        }
    }

    /// The lines whose history repeated an earlier row's (their counts
    /// were added to it).
    pub fn summed_lines(&self) -> &[u64] {
        &self.summed_lines
    }

    /// The same table with other counts (used by the bootstrap).
    pub(crate) fn with_counts(&self, counts: Vec<u64>) -> CaptureTable {
        CaptureTable {
            list_names: self.list_names.clone(),
            counts,
            strata_columns: Vec::new(),
            strata: Vec::new(),
            summed_lines: Vec::new(),
        }
    }
}

fn check_list_count(found: usize) -> Result<(), EstimateError> {
    if found < 2 {
        return Err(EstimateError::TooFewLists { found });
    }
    if found > MAX_LISTS {
        return Err(EstimateError::TooManyLists { found });
    }
    Ok(())
}

fn csv_error(error: &csv::Error) -> EstimateError {
    let line = error.position().map_or(0, |p| p.line());
    let kind = match error.kind() {
        csv::ErrorKind::Io(_) => "I/O error",
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "wrong number of fields",
        _ => "malformed record",
    };
    EstimateError::Csv {
        line,
        kind: kind.to_string(),
    }
}

/// A count: a non-negative integer, optionally written as `12.0`.
/// Largest count accepted in one cell (2^40, far beyond any population):
/// sums of counts then stay exact in `u64` and in `f64`.
const MAX_COUNT: u64 = 1 << 40;

fn parse_count(field: &str) -> Option<u64> {
    parse_count_unbounded(field).filter(|&count| count <= MAX_COUNT)
}

fn parse_count_unbounded(field: &str) -> Option<u64> {
    if let Ok(value) = field.parse::<u64>() {
        return Some(value);
    }
    let value: f64 = field.parse().ok()?;
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < 9.0e15 {
        Some(value as u64)
    } else {
        None
    }
}

fn is_integer_text(field: &str) -> bool {
    !field.is_empty()
        && field
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit())
}

type ColumnSplit = (Vec<usize>, Vec<usize>);

fn classify_columns(
    header: &[String],
    count_index: usize,
    rows: &[(u64, Vec<String>)],
    options: &CsvOptions,
) -> Result<ColumnSplit, EstimateError> {
    let find = |name: &String| -> Result<usize, EstimateError> {
        header
            .iter()
            .position(|h| h == name)
            .filter(|&i| i != count_index)
            .ok_or_else(|| EstimateError::UnknownColumn {
                column: name.clone(),
            })
    };
    let others: Vec<usize> = (0..header.len()).filter(|&i| i != count_index).collect();
    match (&options.lists, &options.strata_columns) {
        (Some(lists), Some(strata)) => {
            let lists: Vec<usize> = lists.iter().map(find).collect::<Result<_, _>>()?;
            let strata: Vec<usize> = strata.iter().map(find).collect::<Result<_, _>>()?;
            if let Some(&both) = lists.iter().find(|i| strata.contains(i)) {
                return Err(EstimateError::InvalidConfig(format!(
                    "column `{}` is named both as a list and as a strata column",
                    header[both]
                )));
            }
            Ok((lists, strata))
        }
        (Some(lists), None) => {
            let lists: Vec<usize> = lists.iter().map(find).collect::<Result<_, _>>()?;
            let strata = others.into_iter().filter(|i| !lists.contains(i)).collect();
            Ok((lists, strata))
        }
        (None, Some(strata)) => {
            let strata: Vec<usize> = strata.iter().map(find).collect::<Result<_, _>>()?;
            let lists = others.into_iter().filter(|i| !strata.contains(i)).collect();
            Ok((lists, strata))
        }
        (None, None) => {
            let (lists, strata) = others
                .into_iter()
                .partition(|&i| rows.iter().all(|(_, fields)| is_integer_text(&fields[i])));
            Ok((lists, strata))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<CaptureTable, EstimateError> {
        CaptureTable::from_csv_reader(text.as_bytes(), &CsvOptions::default())
    }

    #[test]
    fn reads_a_plain_table() {
        let table = read("A,B,count\n1,0,10\n0,1,20\n1,1,5\n").unwrap();
        assert_eq!(table.list_names(), ["A", "B"]);
        assert_eq!(table.count(0b01), 10);
        assert_eq!(table.count(0b10), 20);
        assert_eq!(table.count(0b11), 5);
        assert_eq!(table.observed(), 35);
        assert!(table.strata().is_empty());
    }

    #[test]
    fn sums_repeated_histories_and_says_where() {
        let table = read("A,B,count\n1,0,10\n1,0,3\n1,1,5\n").unwrap();
        assert_eq!(table.count(0b01), 13);
        assert_eq!(table.summed_lines(), [3]);
    }

    #[test]
    fn text_columns_are_strata() {
        let table = read("A,B,region,count\n1,0,north,10\n0,1,north,2\n1,1,south,5\n1,0,south,1\n")
            .unwrap();
        assert_eq!(table.list_names(), ["A", "B"]);
        assert_eq!(table.strata_columns(), ["region"]);
        let labels: Vec<&str> = table.strata().iter().map(Stratum::label).collect();
        assert_eq!(labels, ["north", "south"]);
        let south = table.stratum_table(&table.strata()[1]);
        assert_eq!(south.count(0b11), 5);
        assert_eq!(table.count(0b01), 11);
    }

    #[test]
    fn numeric_strata_need_naming() {
        let error = read("A,B,year,count\n1,0,2019,1\n0,1,2020,1\n").unwrap_err();
        assert!(matches!(error, EstimateError::BadListValue { line: 2, .. }));
        let options = CsvOptions {
            strata_columns: Some(vec!["year".into()]),
            ..CsvOptions::default()
        };
        let table = CaptureTable::from_csv_reader(
            "A,B,year,count\n1,0,2019,1\n0,1,2020,1\n".as_bytes(),
            &options,
        )
        .unwrap();
        assert_eq!(table.strata().len(), 2);
    }

    #[test]
    fn bad_input_names_the_line_not_the_value() {
        let error = read("A,B,count\n1,0,10\n1,2,3\n").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("line 3"), "{message}");
        assert!(message.contains("`B`"), "{message}");
        assert!(matches!(
            read("A,B,count\n1,0,-1\n"),
            Err(EstimateError::BadCount { line: 2 })
        ));
        assert!(matches!(
            read("A,B,count\n1,0,1.5\n"),
            Err(EstimateError::BadCount { line: 2 })
        ));
        assert!(matches!(
            read("A,B,count\n1,0,x\n"),
            Err(EstimateError::BadCount { line: 2 })
        ));
        assert!(matches!(
            read("A,B,count\n1,0,4\n0,0,3\n"),
            Err(EstimateError::AllZeroHistory { line: 3 })
        ));
        assert!(matches!(
            read("A,B,n\n1,0,4\n"),
            Err(EstimateError::MissingCountColumn)
        ));
        assert!(matches!(
            read("A,count\n1,4\n"),
            Err(EstimateError::TooFewLists { found: 1 })
        ));
        assert!(matches!(
            read("A,B,count\n1,0\n"),
            Err(EstimateError::Csv { line: 2, .. })
        ));
        assert!(matches!(
            read("A,B,count\n"),
            Err(EstimateError::EmptyTable)
        ));
        let header: Vec<String> = (0..21).map(|i| format!("L{i}")).collect();
        let row: Vec<&str> = (0..21).map(|i| if i == 0 { "1" } else { "0" }).collect();
        let text = format!("{},count\n{},1\n", header.join(","), row.join(","));
        assert!(matches!(
            read(&text),
            Err(EstimateError::TooManyLists { found: 21 })
        ));
    }

    #[test]
    fn from_counts_checks_histories() {
        let names = vec!["A".to_string(), "B".to_string()];
        assert!(matches!(
            CaptureTable::from_counts(names.clone(), vec![(0, 1)]),
            Err(EstimateError::AllZeroHistory { .. })
        ));
        assert!(matches!(
            CaptureTable::from_counts(names.clone(), vec![(4, 1)]),
            Err(EstimateError::HistoryOutOfRange { .. })
        ));
        let table = CaptureTable::from_counts(names, vec![(1, 2), (1, 3), (3, 1)]).unwrap();
        assert_eq!(table.count(1), 5);
    }
}
