//! The encoded file (`.zbf`), version 1: a hand-written, versioned layout.
//!
//! ```text
//! offset            size              content
//! 0                 64                preamble: magic "\x89ZBF\r\n\x1a\n", version u32,
//!                                     endianness marker u32 (0x0A0B0C0D), filter bits u32,
//!                                     stride words u32, 40 zero bytes
//! 64                n * stride * 8    filters: little-endian u64 rows, each 64-byte aligned
//! records_offset    8n + 2n*s, padded to a multiple of 8
//!                                     records: n row indices (u64), then n*s stratum codes (u16)
//! header_offset     header_len        header: UTF-8 JSON (see [`Header`])
//! end - 64          64                trailer: n u64, records_offset u64, header_offset u64,
//!                                     header_len u64, SHA-256 of every byte before it
//! ```
//!
//! All integers are little-endian. `s` is the number of strata columns in the
//! header; code `0xFFFF` means the stratum is unknown for that record. The
//! layout lets the encoder stream: filters are written as they are made and
//! the counts follow in the trailer. The reader checks magic, version,
//! endianness, every length against the file size, and the checksum, before
//! it trusts anything. See `docs/format.md`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{FilterLength, FilterMatrix, FormatError};

/// Magic bytes at the start of every encoded file.
pub const MAGIC: [u8; 8] = *b"\x89ZBF\r\n\x1a\n";
/// The version this build writes.
pub const FORMAT_VERSION: u32 = 1;
/// The oldest version this build reads.
pub const MIN_FORMAT_VERSION: u32 = 1;
/// Written as a little-endian u32 to detect byte-order mix-ups.
pub const ENDIAN_MARKER: u32 = 0x0A0B_0C0D;
/// Stratum code for "unknown".
pub const UNKNOWN_STRATUM: u16 = u16::MAX;
/// Size of the preamble and of the trailer.
const BLOCK: u64 = 64;
/// Largest header accepted, in bytes.
const MAX_HEADER_BYTES: u64 = 16 << 20;

/// A stratum column released in the clear: its name and its values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stratum {
    /// Column name, e.g. `sex` or `birth_decade`.
    pub name: String,
    /// The coarse values; records refer to them by index.
    pub values: Vec<String>,
}

/// The JSON header of an encoded file. It holds no raw value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The agency's label for this source, e.g. `police`.
    pub source_label: String,
    /// Filter length in bits.
    pub filter_bits: u32,
    /// SHA-256 of the canonical schema, hex.
    pub schema_fingerprint: String,
    /// Key check value, hex: a MAC of a fixed label under a key derived from
    /// the secret and the schema fingerprint.
    pub key_check: String,
    /// How the filters were made (`zicht-v1` or `clkhash-v3` in the file).
    pub encoding: crate::Encoding,
    /// Hardening settings that affect the bits, by name.
    #[serde(default)]
    pub hardening: BTreeMap<String, String>,
    /// Strata columns released in the clear (explicit opt-in in the schema).
    #[serde(default)]
    pub strata: Vec<Stratum>,
    /// Creation time, seconds since the Unix epoch (UTC).
    pub created_unix: u64,
    /// The zicht version that wrote the file.
    pub zicht_version: String,
}

/// A fully read and verified encoded file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedFile {
    /// The header.
    pub header: Header,
    /// The filters, one row per record.
    pub filters: FilterMatrix,
    /// 0-based data row of each record in the agency's CSV.
    pub rows: Vec<u64>,
    /// Stratum codes, `strata.len()` per record, record-major.
    pub strata_codes: Vec<u16>,
}

impl EncodedFile {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// Whether the file has no records.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Stratum value of record `record` in column `column`, if known.
    pub fn stratum(&self, record: usize, column: usize) -> Option<&str> {
        let n_strata = self.header.strata.len();
        let code = *self.strata_codes.get(record * n_strata + column)?;
        self.header.strata[column]
            .values
            .get(usize::from(code))
            .map(String::as_str)
    }

    /// Read and verify a file.
    ///
    /// # Errors
    /// I/O errors, and every structural problem: bad magic, unsupported
    /// version, wrong lengths, truncation, checksum mismatch, bad header.
    pub fn read(path: &Path) -> Result<EncodedFile, FormatError> {
        let file =
            File::open(path).map_err(FormatError::io(format!("cannot open {}", path.display())))?;
        let meta = file
            .metadata()
            .map_err(FormatError::io(format!("cannot read {}", path.display())))?;
        if meta.is_dir() {
            return Err(FormatError::Io {
                context: format!("{} is a directory, not an encoded file", path.display()),
                source: std::io::Error::other("is a directory"),
            });
        }
        let total = meta.len();
        EncodedFile::read_from(BufReader::with_capacity(1 << 16, file), total)
    }

    /// Read and verify a file held in memory.
    ///
    /// # Errors
    /// As [`EncodedFile::read`].
    pub fn from_bytes(bytes: &[u8]) -> Result<EncodedFile, FormatError> {
        EncodedFile::read_from(std::io::Cursor::new(bytes), bytes.len() as u64)
    }

    fn read_from<R: Read + Seek>(mut reader: R, total: u64) -> Result<EncodedFile, FormatError> {
        let io = |what: &str| FormatError::io(format!("cannot read the {what}"));
        if total < 2 * BLOCK {
            return Err(FormatError::Truncated(format!(
                "{total} bytes is shorter than the smallest valid file"
            )));
        }
        let mut preamble = [0u8; BLOCK as usize];
        reader.read_exact(&mut preamble).map_err(io("preamble"))?;
        if preamble[..8] != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = le_u32(&preamble[8..12]);
        if !(MIN_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(FormatError::UnsupportedVersion {
                found: version,
                min: MIN_FORMAT_VERSION,
                max: FORMAT_VERSION,
            });
        }
        if le_u32(&preamble[12..16]) != ENDIAN_MARKER {
            return Err(FormatError::Endianness);
        }
        let length = FilterLength::new(le_u32(&preamble[16..20]))
            .map_err(|_| FormatError::Corrupt("invalid filter length in the preamble".into()))?;
        if le_u32(&preamble[20..24]) as usize != length.stride_words()
            || preamble[24..].iter().any(|&b| b != 0)
        {
            return Err(FormatError::Corrupt("inconsistent preamble".into()));
        }

        reader
            .seek(SeekFrom::Start(total - BLOCK))
            .map_err(io("trailer"))?;
        let mut trailer = [0u8; BLOCK as usize];
        reader.read_exact(&mut trailer).map_err(io("trailer"))?;
        let n_records = le_u64(&trailer[0..8]);
        let records_offset = le_u64(&trailer[8..16]);
        let header_offset = le_u64(&trailer[16..24]);
        let header_len = le_u64(&trailer[24..32]);
        let row_bytes = length.stride_words() as u64 * 8;
        let layout_ok = n_records
            .checked_mul(row_bytes)
            .and_then(|b| b.checked_add(BLOCK))
            == Some(records_offset)
            && records_offset <= header_offset
            && header_len <= MAX_HEADER_BYTES
            && header_offset
                .checked_add(header_len)
                .and_then(|e| e.checked_add(BLOCK))
                == Some(total);
        if !layout_ok {
            return Err(FormatError::Truncated(
                "the lengths in the trailer do not match the file size".into(),
            ));
        }
        let n_records = usize::try_from(n_records)
            .map_err(|_| FormatError::Corrupt("too many records".into()))?;

        let mut hasher = Sha256::new();
        hasher.update(preamble);
        reader.seek(SeekFrom::Start(BLOCK)).map_err(io("filters"))?;
        let mut filters = FilterMatrix::zeroed(length, n_records);
        {
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(filters.blocks_mut());
            reader.read_exact(bytes).map_err(io("filters"))?;
            hasher.update(&*bytes);
        }
        let mut records = vec![0u8; (header_offset - records_offset) as usize];
        reader.read_exact(&mut records).map_err(io("records"))?;
        hasher.update(&records);
        let mut header_bytes = vec![0u8; header_len as usize];
        reader.read_exact(&mut header_bytes).map_err(io("header"))?;
        hasher.update(&header_bytes);
        hasher.update(&trailer[..32]);
        if hasher.finalize()[..] != trailer[32..] {
            return Err(FormatError::Checksum);
        }

        let header: Header = serde_json::from_slice(&header_bytes)
            .map_err(|e| FormatError::Corrupt(format!("invalid header: {e}")))?;
        if header.filter_bits != length.bits() {
            return Err(FormatError::Corrupt(
                "the header's filter length differs from the preamble's".into(),
            ));
        }
        let n_strata = header.strata.len();
        let expected = records_section_len(n_records as u64, n_strata as u64);
        if expected != Some(records.len() as u64) {
            return Err(FormatError::Corrupt(
                "the records section does not match the number of strata".into(),
            ));
        }
        let rows: Vec<u64> = records[..n_records * 8]
            .chunks_exact(8)
            .map(le_u64)
            .collect();
        if rows.windows(2).any(|w| w[0] >= w[1]) {
            return Err(FormatError::Corrupt(
                "row indices are not increasing".into(),
            ));
        }
        let strata_codes: Vec<u16> = records[n_records * 8..n_records * (8 + 2 * n_strata)]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        for (i, &code) in strata_codes.iter().enumerate() {
            let column = &header.strata[i % n_strata];
            if code != UNKNOWN_STRATUM && usize::from(code) >= column.values.len() {
                return Err(FormatError::Corrupt(format!(
                    "record {} has an undefined code for stratum '{}'",
                    i / n_strata,
                    column.name
                )));
            }
        }
        let stride = length.stride_words();
        let words = length.words();
        if stride != words
            && filters
                .as_words()
                .chunks_exact(stride)
                .any(|row| row[words..].iter().any(|&w| w != 0))
        {
            return Err(FormatError::Corrupt(
                "non-zero padding in the filters".into(),
            ));
        }
        Ok(EncodedFile {
            header,
            filters,
            rows,
            strata_codes,
        })
    }
}

fn records_section_len(n_records: u64, n_strata: u64) -> Option<u64> {
    let raw = n_records
        .checked_mul(8)?
        .checked_add(n_records.checked_mul(n_strata)?.checked_mul(2)?)?;
    Some(raw.div_ceil(8) * 8)
}

fn le_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"))
}

fn le_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    position: u64,
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(bytes)?;
        self.hasher.update(bytes);
        self.position += bytes.len() as u64;
        Ok(())
    }
}

/// Streams an encoded file: filters as they come, then records, header and
/// trailer on [`FileWriter::finish`]. Memory use does not grow with the
/// number of records: row indices and strata codes are spilled to an
/// anonymous temporary file.
pub struct FileWriter<W: Write> {
    out: Hashing<BufWriter<W>>,
    length: FilterLength,
    n_strata: usize,
    n_records: u64,
    last_row: Option<u64>,
    rows_spill: BufWriter<File>,
    strata_spill: BufWriter<File>,
}

impl<W: Write> FileWriter<W> {
    /// Start a file of filters of `length` with `n_strata` strata columns.
    ///
    /// # Errors
    /// I/O errors.
    pub fn new(
        inner: W,
        length: FilterLength,
        n_strata: usize,
    ) -> Result<FileWriter<W>, FormatError> {
        let spill = || -> Result<BufWriter<File>, FormatError> {
            Ok(BufWriter::new(
                tempfile::tempfile().map_err(FormatError::io("cannot create a spill file"))?,
            ))
        };
        let mut out = Hashing {
            inner: BufWriter::with_capacity(1 << 16, inner),
            hasher: Sha256::new(),
            position: 0,
        };
        let mut preamble = [0u8; BLOCK as usize];
        preamble[..8].copy_from_slice(&MAGIC);
        preamble[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        preamble[12..16].copy_from_slice(&ENDIAN_MARKER.to_le_bytes());
        preamble[16..20].copy_from_slice(&length.bits().to_le_bytes());
        preamble[20..24].copy_from_slice(&(length.stride_words() as u32).to_le_bytes());
        out.put(&preamble)
            .map_err(FormatError::io("cannot write the preamble"))?;
        Ok(FileWriter {
            out,
            length,
            n_strata,
            n_records: 0,
            last_row: None,
            rows_spill: spill()?,
            strata_spill: spill()?,
        })
    }

    /// Append one record.
    ///
    /// # Errors
    /// I/O errors; a filter of the wrong length, strata of the wrong count or
    /// a row index not greater than the previous one ([`FormatError::Header`]).
    pub fn push(
        &mut self,
        row: u64,
        strata_codes: &[u16],
        filter: &[u64],
    ) -> Result<(), FormatError> {
        if filter.len() != self.length.words() || strata_codes.len() != self.n_strata {
            return Err(FormatError::Header(
                "record shape differs from the file's".into(),
            ));
        }
        if self.last_row.is_some_and(|last| last >= row) {
            return Err(FormatError::Header("row indices must increase".into()));
        }
        self.last_row = Some(row);
        let io = FormatError::io("cannot write the encoded file");
        let mut bytes = [0u8; 8 * (crate::MAX_FILTER_BITS as usize / 64)];
        let stride_bytes = self.length.stride_words() * 8;
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(filter) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        self.out.put(&bytes[..stride_bytes]).map_err(io)?;
        let io = FormatError::io("cannot write a spill file");
        self.rows_spill.write_all(&row.to_le_bytes()).map_err(io)?;
        for code in strata_codes {
            self.strata_spill
                .write_all(&code.to_le_bytes())
                .map_err(FormatError::io("cannot write a spill file"))?;
        }
        self.n_records += 1;
        Ok(())
    }

    /// Number of records pushed so far.
    pub fn len(&self) -> u64 {
        self.n_records
    }

    /// Whether no record was pushed.
    pub fn is_empty(&self) -> bool {
        self.n_records == 0
    }

    /// Write records, header and trailer; return the inner writer, flushed.
    ///
    /// # Errors
    /// I/O errors, or a header that disagrees with the records.
    pub fn finish(mut self, header: &Header) -> Result<W, FormatError> {
        if header.filter_bits != self.length.bits() || header.strata.len() != self.n_strata {
            return Err(FormatError::Header(
                "the header's filter length or strata differ from the records'".into(),
            ));
        }
        let records_offset = self.out.position;
        for spill in [self.rows_spill, self.strata_spill] {
            let mut file = spill.into_inner().map_err(|e| FormatError::Io {
                context: "cannot write a spill file".into(),
                source: e.into_error(),
            })?;
            file.seek(SeekFrom::Start(0))
                .map_err(FormatError::io("cannot read a spill file"))?;
            let mut reader = BufReader::new(file);
            let mut buffer = vec![0u8; 1 << 16];
            loop {
                let n = reader
                    .read(&mut buffer)
                    .map_err(FormatError::io("cannot read a spill file"))?;
                if n == 0 {
                    break;
                }
                self.out
                    .put(&buffer[..n])
                    .map_err(FormatError::io("cannot write the encoded file"))?;
            }
        }
        let pad = (8 - self.out.position % 8) % 8;
        self.out
            .put(&[0u8; 8][..pad as usize])
            .map_err(FormatError::io("cannot write the encoded file"))?;
        let header_offset = self.out.position;
        let header_bytes =
            serde_json::to_vec(header).map_err(|e| FormatError::Header(e.to_string()))?;
        self.out
            .put(&header_bytes)
            .map_err(FormatError::io("cannot write the header"))?;
        let mut trailer = [0u8; 32];
        trailer[0..8].copy_from_slice(&self.n_records.to_le_bytes());
        trailer[8..16].copy_from_slice(&records_offset.to_le_bytes());
        trailer[16..24].copy_from_slice(&header_offset.to_le_bytes());
        trailer[24..32].copy_from_slice(&(header_bytes.len() as u64).to_le_bytes());
        self.out
            .put(&trailer)
            .map_err(FormatError::io("cannot write the trailer"))?;
        let checksum = self.out.hasher.finalize();
        let mut inner = self.out.inner;
        inner
            .write_all(&checksum)
            .and_then(|()| inner.flush())
            .map_err(FormatError::io("cannot write the trailer"))?;
        inner.into_inner().map_err(|e| FormatError::Io {
            context: "cannot write the encoded file".into(),
            source: e.into_error(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_header(bits: u32, strata: Vec<Stratum>) -> Header {
        Header {
            source_label: "police".into(),
            filter_bits: bits,
            schema_fingerprint: "00".repeat(32),
            key_check: "11".repeat(8),
            encoding: crate::Encoding::ZichtV1,
            hardening: BTreeMap::new(),
            strata,
            created_unix: 1_700_000_000,
            zicht_version: "0.1.0".into(),
        }
    }

    fn sample_file() -> Vec<u8> {
        let length = FilterLength::new(128).unwrap();
        let mut writer = FileWriter::new(Vec::new(), length, 1).unwrap();
        writer.push(0, &[0], &[1, 2]).unwrap();
        writer.push(2, &[1], &[u64::MAX, 0]).unwrap();
        writer.push(3, &[UNKNOWN_STRATUM], &[5, 6]).unwrap();
        let strata = vec![Stratum {
            name: "sex".into(),
            values: vec!["f".into(), "m".into()],
        }];
        writer.finish(&sample_header(128, strata)).unwrap()
    }

    #[test]
    fn round_trip() {
        let bytes = sample_file();
        let file = EncodedFile::from_bytes(&bytes).unwrap();
        assert_eq!(file.len(), 3);
        assert_eq!(file.rows, vec![0, 2, 3]);
        assert_eq!(file.filters.row(1), &[u64::MAX, 0]);
        assert_eq!(file.stratum(0, 0), Some("f"));
        assert_eq!(file.stratum(1, 0), Some("m"));
        assert_eq!(file.stratum(2, 0), None);
        assert_eq!(file.header.source_label, "police");
    }

    #[test]
    fn every_byte_change_is_detected() {
        let bytes = sample_file();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            assert!(
                EncodedFile::from_bytes(&bad).is_err(),
                "flip at {i} not detected"
            );
        }
    }

    #[test]
    fn every_truncation_is_detected() {
        let bytes = sample_file();
        for len in 0..bytes.len() {
            assert!(
                EncodedFile::from_bytes(&bytes[..len]).is_err(),
                "truncation at {len}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(EncodedFile::from_bytes(&longer).is_err());
    }

    #[test]
    fn empty_file_round_trips() {
        let length = FilterLength::new(64).unwrap();
        let writer = FileWriter::new(Vec::new(), length, 0).unwrap();
        let bytes = writer.finish(&sample_header(64, vec![])).unwrap();
        let file = EncodedFile::from_bytes(&bytes).unwrap();
        assert!(file.is_empty());
    }

    #[test]
    fn writer_refuses_bad_records() {
        let length = FilterLength::new(64).unwrap();
        let mut writer = FileWriter::new(Vec::new(), length, 0).unwrap();
        assert!(writer.push(0, &[], &[1, 2]).is_err());
        writer.push(5, &[], &[1]).unwrap();
        assert!(writer.push(5, &[], &[1]).is_err());
    }
}
