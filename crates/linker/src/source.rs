//! Sources: one encoded registry (a `.zbf` file or a clkhash CLK JSON file)
//! with its label, its filters, the data row of each record and its strata;
//! and the checks that a set of sources can be linked together.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use zicht_format::file::UNKNOWN_STRATUM;
use zicht_format::{clk, EncodedFile, Encoding, FilterMatrix, FormatError};

use crate::LinkError;

/// The most sources one run links.
pub const MAX_SOURCES: usize = 16;

/// Where a source came from, and what its compatibility can be checked on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// A zicht encoded file: filter length, schema fingerprint, key check,
    /// encoding and hardening are all known.
    Encoded {
        /// SHA-256 of the schema, hex.
        schema_fingerprint: String,
        /// The key check value, hex.
        key_check: String,
        /// How the filters were made.
        encoding: Encoding,
        /// Hardening settings that affect the bits.
        hardening: BTreeMap<String, String>,
    },
    /// A clkhash/anonlink `{"clks": [...]}` file: only the filter length is
    /// known.
    ClkJson,
    /// Built in memory by a caller that vouches for its compatibility.
    InMemory,
}

/// Strata columns of a source: names, values, and a code per record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Strata {
    names: Vec<String>,
    values: Vec<Vec<String>>,
    /// `names.len()` codes per record, record-major; `UNKNOWN_STRATUM` for
    /// unknown.
    codes: Vec<u16>,
}

/// One source to link: a label, one filter per record, each record's data
/// row, and optional strata.
///
/// Records are kept sorted by data row, so the order in which they were
/// given does not matter.
#[derive(Clone, Debug)]
pub struct Source {
    label: String,
    path: Option<PathBuf>,
    provenance: Provenance,
    filters: FilterMatrix,
    rows: Rows,
    strata: Strata,
}

/// The data rows of a source's records, increasing: usually every row from
/// the first on (nothing was rejected at encoding), kept as a range.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rows {
    /// Rows `first, first + 1, ...`, `len` of them.
    Consecutive { first: u64, len: usize },
    /// Any increasing rows.
    Listed(Vec<u64>),
}

impl Rows {
    fn new(rows: Vec<u64>) -> Rows {
        let first = rows.first().copied().unwrap_or(0);
        let consecutive = rows
            .iter()
            .enumerate()
            .all(|(i, &row)| first.checked_add(i as u64) == Some(row));
        if consecutive {
            Rows::Consecutive {
                first,
                len: rows.len(),
            }
        } else {
            Rows::Listed(rows)
        }
    }

    fn len(&self) -> usize {
        match self {
            Rows::Consecutive { len, .. } => *len,
            Rows::Listed(rows) => rows.len(),
        }
    }

    fn get(&self, index: usize) -> u64 {
        match self {
            Rows::Consecutive { first, len } => {
                assert!(index < *len, "record {index} of {len}");
                first + index as u64
            }
            Rows::Listed(rows) => rows[index],
        }
    }
}

impl Source {
    /// A source built in memory, without strata.
    ///
    /// # Errors
    /// [`LinkError::Config`] if `rows` and `filters` differ in length or a
    /// row repeats.
    pub fn new(
        label: impl Into<String>,
        filters: FilterMatrix,
        rows: Vec<u64>,
    ) -> Result<Source, LinkError> {
        let n_records = filters.len();
        Source::build(
            label.into(),
            None,
            Provenance::InMemory,
            filters,
            rows,
            Strata {
                codes: Vec::new(),
                names: Vec::new(),
                values: Vec::new(),
            },
            n_records,
        )
    }

    /// A source from all of its parts: filters, rows and strata, records in
    /// the same (any) order.
    ///
    /// # Errors
    /// [`LinkError::Config`] on inconsistent shapes, repeated rows, or
    /// undefined strata codes.
    pub fn from_parts(
        label: String,
        filters: FilterMatrix,
        rows: Vec<u64>,
        names: Vec<String>,
        values: Vec<Vec<String>>,
        codes: Vec<u16>,
    ) -> Result<Source, LinkError> {
        let n_records = filters.len();
        Source::build(
            label,
            None,
            Provenance::InMemory,
            filters,
            rows,
            Strata {
                names,
                values,
                codes,
            },
            n_records,
        )
    }

    fn build(
        label: String,
        path: Option<PathBuf>,
        provenance: Provenance,
        filters: FilterMatrix,
        rows: Vec<u64>,
        strata: Strata,
        n_records: usize,
    ) -> Result<Source, LinkError> {
        let bad = |what: &str| LinkError::Config(format!("source `{label}`: {what}"));
        if rows.len() != n_records {
            return Err(bad("the number of rows differs from the number of filters"));
        }
        let n_strata = strata.names.len();
        if strata.values.len() != n_strata || strata.codes.len() != n_records * n_strata {
            return Err(bad("the strata do not match the records"));
        }
        for (index, &code) in strata.codes.iter().enumerate() {
            if code != UNKNOWN_STRATUM && usize::from(code) >= strata.values[index % n_strata].len()
            {
                return Err(bad(&format!(
                    "record {} has an undefined code for stratum `{}`",
                    index / n_strata,
                    strata.names[index % n_strata]
                )));
            }
        }
        let sorted = rows.windows(2).all(|pair| pair[0] < pair[1]);
        let (filters, rows, strata) = if sorted {
            (filters, rows, strata)
        } else {
            let mut order: Vec<usize> = (0..n_records).collect();
            order.sort_by_key(|&record| rows[record]);
            if order.windows(2).any(|pair| rows[pair[0]] == rows[pair[1]]) {
                return Err(bad("a data row appears twice"));
            }
            let codes = order
                .iter()
                .flat_map(|&record| {
                    strata.codes[record * n_strata..(record + 1) * n_strata]
                        .iter()
                        .copied()
                })
                .collect();
            (
                filters.select(&order),
                order.iter().map(|&record| rows[record]).collect(),
                Strata { codes, ..strata },
            )
        };
        Ok(Source {
            label,
            path,
            provenance,
            filters,
            rows: Rows::new(rows),
            strata,
        })
    }

    /// A source from a verified encoded file.
    ///
    /// # Errors
    /// [`LinkError::Config`] if the file's records are inconsistent (the
    /// format crate's reader already refuses such files).
    pub fn from_encoded(file: EncodedFile, path: Option<PathBuf>) -> Result<Source, LinkError> {
        let header = file.header;
        let n_records = file.filters.len();
        let strata = Strata {
            names: header.strata.iter().map(|s| s.name.clone()).collect(),
            values: header.strata.iter().map(|s| s.values.clone()).collect(),
            codes: file.strata_codes,
        };
        let provenance = Provenance::Encoded {
            schema_fingerprint: header.schema_fingerprint,
            key_check: header.key_check,
            encoding: header.encoding,
            hardening: header.hardening,
        };
        Source::build(
            header.source_label,
            path,
            provenance,
            file.filters,
            file.rows,
            strata,
            n_records,
        )
    }

    /// Read a source from a `.zbf` file or a CLK JSON file.
    ///
    /// CLK JSON is recognised by a `.json` extension or by a first non-blank
    /// byte `{`; its label is the file stem and its rows are the positions
    /// in the `clks` array.
    ///
    /// # Errors
    /// [`LinkError::Input`] for an unreadable, truncated or corrupted file.
    pub fn load(path: &Path) -> Result<Source, LinkError> {
        let input_error = |source: FormatError| LinkError::Input {
            path: path.to_path_buf(),
            source,
        };
        if looks_like_clk_json(path).map_err(input_error)? {
            let file = std::fs::File::open(path)
                .map_err(FormatError::io("cannot open the file"))
                .map_err(input_error)?;
            let filters = clk::read_clk_json(std::io::BufReader::new(file)).map_err(input_error)?;
            let label = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            let rows = (0..filters.len() as u64).collect();
            let n_records = filters.len();
            return Source::build(
                label,
                Some(path.to_path_buf()),
                Provenance::ClkJson,
                filters,
                rows,
                Strata::default(),
                n_records,
            );
        }
        let file = EncodedFile::read(path).map_err(input_error)?;
        Source::from_encoded(file, Some(path.to_path_buf()))
    }

    /// The source label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The file it was read from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Where it came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The filters, one row per record, records sorted by data row.
    pub fn filters(&self) -> &FilterMatrix {
        &self.filters
    }

    /// The data row of record `index` (rows increase with the index).
    ///
    /// # Panics
    /// If `index` is not below [`Source::len`].
    pub fn row(&self, index: usize) -> u64 {
        self.rows.get(index)
    }

    /// The data row of each record, in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = u64> + '_ {
        (0..self.len()).map(|index| self.row(index))
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the source has no records.
    pub fn is_empty(&self) -> bool {
        self.rows.len() == 0
    }

    /// Names of the strata columns.
    pub fn strata_names(&self) -> &[String] {
        &self.strata.names
    }

    /// Stratum value of `record` in strata column `column` (an index into
    /// [`Source::strata_names`]), if known.
    pub fn stratum(&self, record: usize, column: usize) -> Option<&str> {
        let n_strata = self.strata.names.len();
        let code = *self.strata.codes.get(record * n_strata + column)?;
        self.strata
            .values
            .get(column)?
            .get(usize::from(code))
            .map(String::as_str)
    }

    /// A name for messages: the file name when there is one, else the label.
    pub fn display_name(&self) -> String {
        match &self.path {
            Some(path) => format!("{} (source `{}`)", path.display(), self.label),
            None => format!("source `{}`", self.label),
        }
    }
}

fn looks_like_clk_json(path: &Path) -> Result<bool, FormatError> {
    if path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
    {
        return Ok(true);
    }
    let file = std::fs::File::open(path).map_err(FormatError::io("cannot open the file"))?;
    let mut start = Vec::with_capacity(256);
    file.take(256)
        .read_to_end(&mut start)
        .map_err(FormatError::io("cannot read the file"))?;
    Ok(start
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|&byte| byte == b'{'))
}

/// Check that `sources` can be linked together: 1 to 16 of them, none
/// empty, distinct usable labels, and the same filter length, schema
/// fingerprint, key check value, encoding and hardening.
///
/// CLK JSON sources carry no fingerprint or key check, so only their filter
/// length is checked; they may be mixed with encoded files whose encoding is
/// `clkhash-v3`, never with `zicht-v1` files (whose bits clkhash cannot
/// make).
///
/// # Errors
/// A [`LinkError`] naming the file that differs and in what.
pub fn check_compatible(sources: &[Source]) -> Result<(), LinkError> {
    if sources.is_empty() || sources.len() > MAX_SOURCES {
        return Err(LinkError::SourceCount {
            found: sources.len(),
            max: MAX_SOURCES,
        });
    }
    for source in sources {
        if source.is_empty() {
            return Err(LinkError::EmptySource {
                label: source.display_name(),
            });
        }
        if let Err(error) = zicht_format::SourceLabel::new(source.label()) {
            return Err(LinkError::Incompatible(format!(
                "{}: {error}",
                source.display_name()
            )));
        }
    }
    for (index, source) in sources.iter().enumerate() {
        if let Some(earlier) = sources[..index]
            .iter()
            .find(|s| s.label() == source.label())
        {
            return Err(LinkError::Incompatible(format!(
                "{} and {} have the same source label; labels must be distinct",
                earlier.display_name(),
                source.display_name()
            )));
        }
    }
    let first = &sources[0];
    for source in &sources[1..] {
        let (a, b) = (
            first.filters.length().bits(),
            source.filters.length().bits(),
        );
        if a != b {
            return Err(LinkError::Incompatible(format!(
                "{} has {b}-bit filters but {} has {a}-bit filters",
                source.display_name(),
                first.display_name()
            )));
        }
    }
    let encoded: Vec<&Source> = sources
        .iter()
        .filter(|s| matches!(s.provenance, Provenance::Encoded { .. }))
        .collect();
    if let Some((reference, rest)) = encoded.split_first() {
        let Provenance::Encoded {
            schema_fingerprint: fingerprint_a,
            key_check: key_a,
            encoding: encoding_a,
            hardening: hardening_a,
        } = &reference.provenance
        else {
            return Ok(());
        };
        for source in rest {
            let Provenance::Encoded {
                schema_fingerprint: fingerprint_b,
                key_check: key_b,
                encoding: encoding_b,
                hardening: hardening_b,
            } = &source.provenance
            else {
                continue;
            };
            let differs = |what: &str| {
                LinkError::Incompatible(format!(
                    "{} differs from {} in its {what}",
                    source.display_name(),
                    reference.display_name()
                ))
            };
            if fingerprint_a != fingerprint_b {
                return Err(differs(
                    "schema fingerprint: the two were encoded with different schemas or schema versions",
                ));
            }
            if key_a != key_b {
                return Err(differs(
                    "key check value: the two were encoded with different secrets, so no record could ever link",
                ));
            }
            if encoding_a != encoding_b {
                return Err(differs(&format!(
                    "encoding (`{encoding_b}` versus `{encoding_a}`)"
                )));
            }
            if hardening_a != hardening_b {
                return Err(differs("hardening settings"));
            }
        }
        let clk_json = sources.iter().find(|s| s.provenance == Provenance::ClkJson);
        if let Some(clk_source) = clk_json {
            if *encoding_a != Encoding::ClkhashV3 {
                return Err(LinkError::Incompatible(format!(
                    "{} is a CLK JSON file but {} has encoding `{encoding_a}`; CLK JSON can only be linked with `{}` files",
                    clk_source.display_name(),
                    reference.display_name(),
                    Encoding::ClkhashV3
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use zicht_format::FilterLength;

    fn matrix(rows: &[u64]) -> FilterMatrix {
        let mut m = FilterMatrix::new(FilterLength::new(64).unwrap());
        for &word in rows {
            m.push(&[word]);
        }
        m
    }

    #[test]
    fn rows_are_a_range_when_they_can_be() {
        assert_eq!(
            Rows::new(vec![4, 5, 6]),
            Rows::Consecutive { first: 4, len: 3 }
        );
        assert_eq!(Rows::new(vec![]), Rows::Consecutive { first: 0, len: 0 });
        let listed = Rows::new(vec![0, 2, 3]);
        assert_eq!(listed, Rows::Listed(vec![0, 2, 3]));
        assert_eq!((0..3).map(|i| listed.get(i)).collect::<Vec<_>>(), [0, 2, 3]);
        let range = Rows::new(vec![7, 8]);
        assert_eq!((range.get(0), range.get(1), range.len()), (7, 8, 2));
    }

    #[test]
    fn records_are_sorted_by_row_with_their_strata() {
        let source = Source::from_parts(
            "a".into(),
            matrix(&[30, 10, 20]),
            vec![3, 1, 2],
            vec!["sex".into()],
            vec![vec!["f".into(), "m".into()]],
            vec![0, 1, UNKNOWN_STRATUM],
        )
        .unwrap();
        assert_eq!(source.rows().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(source.filters().row(0), &[10]);
        assert_eq!(source.stratum(0, 0), Some("m"));
        assert_eq!(source.stratum(1, 0), None);
        assert_eq!(source.stratum(2, 0), Some("f"));
        assert!(Source::new("a", matrix(&[1, 2]), vec![4, 4]).is_err());
        assert!(Source::new("a", matrix(&[1, 2]), vec![4]).is_err());
    }

    fn encoded(label: &str, key: &str, encoding: Encoding) -> Source {
        let mut source = Source::new(label, matrix(&[1]), vec![0]).unwrap();
        source.provenance = Provenance::Encoded {
            schema_fingerprint: "ab".into(),
            key_check: key.into(),
            encoding,
            hardening: BTreeMap::new(),
        };
        source
    }

    #[test]
    fn compatibility_checks_name_what_differs() {
        assert!(check_compatible(&[
            encoded("a", "k", Encoding::ZichtV1),
            encoded("b", "k", Encoding::ZichtV1)
        ])
        .is_ok());
        let error = check_compatible(&[
            encoded("a", "k", Encoding::ZichtV1),
            encoded("b", "x", Encoding::ZichtV1),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("key check") && error.contains("`b`"),
            "{error}"
        );
        let error = check_compatible(&[
            encoded("a", "k", Encoding::ZichtV1),
            encoded("a", "k", Encoding::ZichtV1),
        ])
        .unwrap_err()
        .to_string();
        assert!(error.contains("same source label"), "{error}");
        let mut clk = Source::new("c", matrix(&[1]), vec![0]).unwrap();
        clk.provenance = Provenance::ClkJson;
        assert!(check_compatible(&[encoded("a", "k", Encoding::ZichtV1), clk.clone()]).is_err());
        assert!(check_compatible(&[encoded("a", "k", Encoding::ClkhashV3), clk.clone()]).is_ok());
        let mut wide = FilterMatrix::new(FilterLength::new(128).unwrap());
        wide.push(&[1, 2]);
        let wide = Source::new("w", wide, vec![0]).unwrap();
        let error = check_compatible(&[clk, wide]).unwrap_err().to_string();
        assert!(error.contains("128-bit"), "{error}");
        let empty = Source::new("e", matrix(&[]), vec![]).unwrap();
        assert!(matches!(
            check_compatible(&[empty]),
            Err(LinkError::EmptySource { .. })
        ));
        assert!(check_compatible(&[]).is_err());
        let count = Source::new("Count", matrix(&[1]), vec![0]).unwrap();
        assert!(check_compatible(&[count]).is_err());
    }
}
