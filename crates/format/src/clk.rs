//! clkhash's CLK representation: standard base64 with padding, most
//! significant bit first (bit `i` is byte `i / 8`, mask `0x80 >> (i % 8)`),
//! and the `{"clks": [...]}` JSON file.
//!
//! Bit `i` of a CLK maps to bit `i` of our rows, so Dice scores agree.

use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::{FilterLength, FilterMatrix, FormatError};

/// Pack a row of `length.words()` words into clkhash's byte order.
pub fn row_to_bytes(words: &[u64], length: FilterLength) -> Vec<u8> {
    let mut bytes = Vec::new();
    pack_row(words, length, &mut bytes);
    bytes
}

/// [`row_to_bytes`] into `bytes` (replacing its content).
fn pack_row(words: &[u64], length: FilterLength, bytes: &mut Vec<u8>) {
    bytes.clear();
    bytes.resize(length.bytes(), 0);
    // Byte `i` holds bits `8i .. 8i + 8`, the first in its high bit: byte
    // `i % 8` of word `i / 8`, bit-reversed.
    for (chunk, &word) in bytes.chunks_mut(8).zip(words) {
        for (byte, reversed) in chunk
            .iter_mut()
            .zip(reverse_bits_in_bytes(word).to_le_bytes())
        {
            *byte = reversed;
        }
    }
}

/// `word` with the bits of each of its bytes in reverse order (the bytes
/// stay in place): reversing all 64 bits also reverses the byte order,
/// which swapping the bytes undoes. An involution.
#[inline]
fn reverse_bits_in_bytes(word: u64) -> u64 {
    word.reverse_bits().swap_bytes()
}

/// Unpack clkhash-ordered bytes into `bytes.len() / 8` words.
pub fn bytes_to_row(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks(8)
        .map(|chunk| {
            let mut little = [0u8; 8];
            little[..chunk.len()].copy_from_slice(chunk);
            reverse_bits_in_bytes(u64::from_le_bytes(little))
        })
        .collect()
}

/// A row as a clkhash base64 string.
pub fn row_to_base64(words: &[u64], length: FilterLength) -> String {
    STANDARD.encode(row_to_bytes(words, length))
}

/// [`row_to_base64`] appended to `out`, with `bytes` as scratch: no
/// allocation once both have grown.
pub fn append_row_base64(
    words: &[u64],
    length: FilterLength,
    bytes: &mut Vec<u8>,
    out: &mut String,
) {
    pack_row(words, length, bytes);
    STANDARD.encode_string(&*bytes, out);
}

/// Decode one clkhash base64 string into words.
///
/// # Errors
/// Invalid base64, or a length that is not a supported filter length.
/// `index` is the position in the `clks` array, used in the message.
pub fn base64_to_row(text: &str, index: usize) -> Result<(FilterLength, Vec<u64>), FormatError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| FormatError::ClkJson(format!("clks[{index}] is not valid base64")))?;
    let bits = u32::try_from(bytes.len() * 8).unwrap_or(u32::MAX);
    let length = FilterLength::new(bits).map_err(|_| {
        FormatError::ClkJson(format!(
            "clks[{index}] has {} bits; filters must be a multiple of 64 bits from 64 to 8192",
            bytes.len() * 8
        ))
    })?;
    Ok((length, bytes_to_row(&bytes)))
}

#[derive(serde::Deserialize)]
struct ClkFile {
    clks: Vec<String>,
}

/// Read a `{"clks": [base64, ...]}` document into a matrix.
///
/// # Errors
/// Invalid JSON, a missing `clks` key, invalid base64, no filters, or filters
/// of different lengths.
pub fn read_clk_json(reader: impl Read) -> Result<FilterMatrix, FormatError> {
    let file: ClkFile = serde_json::from_reader(reader)
        .map_err(|e| FormatError::ClkJson(format!("not a CLK JSON document: {e}")))?;
    let mut matrix: Option<FilterMatrix> = None;
    for (index, text) in file.clks.iter().enumerate() {
        let (length, row) = base64_to_row(text, index)?;
        let m = matrix.get_or_insert_with(|| FilterMatrix::with_capacity(length, file.clks.len()));
        if m.length() != length {
            return Err(FormatError::ClkJson(format!(
                "clks[{index}] has {} bits but clks[0] has {}",
                length.bits(),
                m.length().bits()
            )));
        }
        m.push(&row);
    }
    matrix.ok_or_else(|| FormatError::ClkJson("the clks array is empty".into()))
}

/// Write a matrix as a `{"clks": [...]}` document.
///
/// # Errors
/// I/O errors.
pub fn write_clk_json(matrix: &FilterMatrix, mut writer: impl Write) -> std::io::Result<()> {
    writer.write_all(b"{\"clks\": [")?;
    for index in 0..matrix.len() {
        if index > 0 {
            writer.write_all(b", ")?;
        }
        write!(
            writer,
            "\"{}\"",
            row_to_base64(matrix.row(index), matrix.length())
        )?;
    }
    writer.write_all(b"]}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_reversed_within_each_byte() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let per_byte = u64::from_le_bytes(state.to_le_bytes().map(u8::reverse_bits));
            assert_eq!(reverse_bits_in_bytes(state), per_byte);
            assert_eq!(reverse_bits_in_bytes(per_byte), state);
        }
    }

    #[test]
    fn msb_first() {
        let length = FilterLength::new(64).unwrap();
        let bytes = row_to_bytes(&[1], length);
        assert_eq!(bytes[0], 0x80);
        let bytes = row_to_bytes(&[1 << 9], length);
        assert_eq!(bytes[1], 0x40);
        assert_eq!(bytes_to_row(&bytes), vec![1 << 9]);
    }

    #[test]
    fn every_bit_lands_where_clkhash_puts_it() {
        let length = FilterLength::new(192).unwrap();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..50 {
            let words: Vec<u64> = (0..3)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state
                })
                .collect();
            let bytes = row_to_bytes(&words, length);
            for bit in 0..192 {
                let in_row = words[bit / 64] >> (bit % 64) & 1 == 1;
                let in_clk = bytes[bit / 8] & (0x80 >> (bit % 8)) != 0;
                assert_eq!(in_row, in_clk, "bit {bit}");
            }
            assert_eq!(bytes_to_row(&bytes), words);
        }
    }

    #[test]
    fn appending_equals_encoding() {
        let length = FilterLength::new(128).unwrap();
        let (mut bytes, mut out) = (Vec::new(), String::from("x"));
        append_row_base64(&[0xdead_beef, 7], length, &mut bytes, &mut out);
        assert_eq!(
            out,
            format!("x{}", row_to_base64(&[0xdead_beef, 7], length))
        );
    }

    #[test]
    fn json_round_trip() {
        let length = FilterLength::new(128).unwrap();
        let mut m = FilterMatrix::new(length);
        m.push(&[0xdead_beef, 7]);
        m.push(&[0, u64::MAX]);
        let mut out = Vec::new();
        write_clk_json(&m, &mut out).unwrap();
        let back = read_clk_json(&out[..]).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn bad_json_is_an_error() {
        assert!(read_clk_json(&b"{\"clks\": []}"[..]).is_err());
        assert!(read_clk_json(&b"{\"clk\": []}"[..]).is_err());
        assert!(read_clk_json(&b"{\"clks\": [\"!!\"]}"[..]).is_err());
        assert!(read_clk_json(&b"{\"clks\": [\"AAAA\"]}"[..]).is_err());
    }
}
