//! zicht-format: the Bloom-filter row type and the versioned encoded-file
//! format shared by the encoder and the linker.
//!
//! This crate knows nothing of secrets or raw values: it stores and checks
//! bits. The linker depends on this crate only.
//!
//! ```
//! use zicht_format::{FilterLength, FilterMatrix, dice};
//! let mut m = FilterMatrix::new(FilterLength::new(64).unwrap());
//! m.push(&[0b1110]);
//! m.push(&[0b0111]);
//! assert!((dice(m.row(0), m.row(1)) - 2.0 / 3.0).abs() < 1e-12);
//! ```
#![warn(missing_docs)]

pub mod atomic;
pub mod capture;
pub mod clk;
mod contract;
mod error;
pub mod file;
mod filter;

pub use contract::{Encoding, LabelError, SourceLabel};
pub use error::FormatError;
pub use file::{EncodedFile, FileWriter, Header, Stratum, FORMAT_VERSION};
pub use filter::{dice, Block, FilterLength, FilterMatrix, MAX_FILTER_BITS, MIN_FILTER_BITS};
