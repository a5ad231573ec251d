//! `zicht encode`: a registry CSV to a keyed Bloom-filter file.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use zicht_encoder::clkhash::{self, ClkhashSchema};
use zicht_encoder::profile::{ColumnRef, TextEncoding};
use zicht_encoder::{
    EncodeError, EncodeOptions, EncodeSummary, Encoder, OnError, Profile, Schema, Secret,
};
use zicht_format::atomic::AtomicFile;
use zicht_format::{EncodedFile, FileWriter, FilterMatrix, Header};

use super::{input_file, progress_bar, with_threads, Classify, CmdResult, Failure};

/// Output formats of `zicht encode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// zicht's own encoded file (.zbf).
    #[default]
    Zbf,
    /// clkhash's `{"clks": [...]}` JSON.
    ClkhashJson,
}

/// What to do with a bad row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OnErrorArg {
    /// Stop at the first bad row.
    #[default]
    Stop,
    /// Reject bad rows, report them, and go on.
    Skip,
}

/// Arguments of `zicht encode`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The registry CSV.
    pub input: PathBuf,
    /// The linkage schema: zicht TOML, or a clkhash v3 JSON schema.
    #[arg(long)]
    pub schema: PathBuf,
    /// The project secret file (from `zicht keygen`). The environment
    /// variable ZICHT_SECRET_FILE may name it instead.
    #[arg(long, env = "ZICHT_SECRET_FILE", hide_env_values = true)]
    pub secret_file: Option<PathBuf>,
    /// The agency's source profile (TOML).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Source label written to the header (default: the profile's, else the file stem).
    #[arg(long)]
    pub source: Option<String>,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub output_format: OutputFormat,
    /// Stop at the first bad row, or skip and report bad rows.
    #[arg(long, value_enum, default_value_t)]
    pub on_error: OnErrorArg,
    /// Write a local map from row index to the agency's own id (never share it).
    #[arg(long, requires = "id_column")]
    pub id_map: Option<PathBuf>,
    /// The column holding the agency's own id (for --id-map).
    #[arg(long)]
    pub id_column: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Longest accepted record in bytes; longer ones are refused (row error).
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(64..))]
    pub max_record_bytes: u64,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Field delimiter (overrides the profile).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// The file has no header line (overrides the profile).
    #[arg(long)]
    pub no_header: bool,
    /// Text encoding: utf-8, windows-1252 or latin-1 (overrides the profile).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Date format, e.g. %d-%m-%Y (repeatable; replaces the profile's).
    #[arg(long = "date-format")]
    pub date_formats: Vec<String>,
    /// FIELD=COLUMN mapping (repeatable; added to the profile's).
    #[arg(long = "column", value_name = "FIELD=COLUMN")]
    pub columns: Vec<String>,
    /// A cell value meaning "missing" (repeatable; added to the profile's).
    #[arg(long = "missing")]
    pub missing: Vec<String>,
}

/// Run `zicht encode`.
pub fn run(args: Args) -> CmdResult {
    input_file(&args.schema, "the schema")?;
    input_file(&args.input, "the input")?;
    if args.out.exists() && !args.force {
        return Err(Failure::input_msg(format!(
            "{} exists; use --force to overwrite it",
            args.out.display()
        )));
    }
    if args.out.is_dir() {
        return Err(Failure::input_msg(format!(
            "{} is a directory",
            args.out.display()
        )));
    }
    if let (Some(map), Some(column)) = (&args.id_map, &args.id_column) {
        // Check the id map before encoding, so that a bad id column leaves
        // no encoded file behind.
        if map.exists() && !args.force {
            return Err(Failure::input_msg(format!(
                "{} exists; use --force to overwrite it",
                map.display()
            )));
        }
        id_map_reader(&args, column)?;
    }
    let schema_text = std::fs::read_to_string(&args.schema)
        .bad_input(format!("cannot read the schema {}", args.schema.display()))?;
    let created_unix = created_unix();
    let clkhash_mode = clkhash::is_clkhash_schema(&schema_text);
    let secret = read_secret(&args, clkhash_mode)?;
    let (summary, n_records) = with_threads(args.threads, || {
        if clkhash_mode {
            encode_clkhash(&args, &schema_text, &secret, created_unix)
        } else {
            encode_native(&args, &schema_text, &secret, created_unix)
        }
    })??;
    if let (Some(map), Some(column)) = (&args.id_map, &args.id_column) {
        write_id_map(&args, map, column)?;
    }
    report(&args, &summary, n_records)
}

fn created_unix() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        })
}

fn read_secret(args: &Args, clkhash_mode: bool) -> Result<Secret, Failure> {
    let Some(path) = &args.secret_file else {
        return Err(Failure::input_msg(
            "no secret: give --secret-file FILE (or set ZICHT_SECRET_FILE); make one with `zicht keygen`",
        ));
    };
    input_file(path, "the secret file")?;
    let secret = if clkhash_mode {
        Secret::read_file_unchecked(path)
    } else {
        Secret::read_file(path)
    };
    secret.bad_input("cannot use the secret")
}

fn load_profile(args: &Args) -> Result<Profile, Failure> {
    let mut profile = super::read_profile(args.profile.as_deref())?;
    if let Some(d) = &args.delimiter {
        profile.delimiter = d.clone();
    }
    if args.no_header {
        profile.header = false;
    }
    if let Some(name) = &args.encoding {
        profile.encoding = TextEncoding::from_name(name).ok_or_else(|| {
            Failure::input_msg("--encoding must be utf-8, windows-1252 or latin-1")
        })?;
    }
    if !args.date_formats.is_empty() {
        profile.date_formats = args.date_formats.clone();
    }
    for mapping in &args.columns {
        let (field, column) = mapping
            .split_once('=')
            .ok_or_else(|| Failure::input_msg("--column takes FIELD=COLUMN"))?;
        let column = match column.parse::<usize>() {
            Ok(n) if !profile.header => ColumnRef::Number(n),
            _ => ColumnRef::Name(column.to_string()),
        };
        profile.columns.insert(field.trim().to_string(), column);
    }
    profile.missing.extend(args.missing.iter().cloned());
    profile.validate().bad_input("invalid profile settings")?;
    Ok(profile)
}

fn source_label(
    args: &Args,
    profile_label: Option<&str>,
) -> Result<zicht_format::SourceLabel, Failure> {
    let label = args
        .source
        .clone()
        .or_else(|| profile_label.map(str::to_string))
        .or_else(|| {
            args.input
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "source".into());
    zicht_format::SourceLabel::new(&label).map_err(|error| {
        Failure::input_msg(format!(
            "{error}; set another with --source or `source` in the profile"
        ))
    })
}

fn classify(error: EncodeError) -> Failure {
    match error {
        EncodeError::Io { .. } | EncodeError::Random(_) => Failure::work(error),
        EncodeError::Format(zicht_format::FormatError::Io { .. }) => Failure::work(error),
        _ => Failure::input(error),
    }
}

fn encode_native(
    args: &Args,
    schema_text: &str,
    secret: &Secret,
    created_unix: u64,
) -> Result<(EncodeSummary, u64), Failure> {
    let schema = Schema::from_toml(schema_text).map_err(classify)?;
    let profile = load_profile(args)?;
    let label = source_label(args, profile.source.as_deref())?;
    let encoder = Encoder::new(schema, profile, secret).map_err(classify)?;
    let options = EncodeOptions {
        source_label: label,
        on_error: match args.on_error {
            OnErrorArg::Stop => OnError::Stop,
            OnErrorArg::Skip => OnError::Skip,
        },
        created_unix,
        max_record_bytes: usize::try_from(args.max_record_bytes).unwrap_or(usize::MAX),
        ..EncodeOptions::default()
    };
    let input =
        File::open(&args.input).bad_input(format!("cannot open {}", args.input.display()))?;
    let bar = progress_bar(None, "encoding");
    let progress = |rows: u64| bar.set_position(rows);
    match args.output_format {
        OutputFormat::Zbf => {
            let mut out = AtomicFile::create(&args.out).work_failed("cannot create the output")?;
            let (_, summary) = encoder
                .encode_csv(BufReader::new(input), out.file(), &options, &progress)
                .map_err(classify)?;
            out.commit().work_failed("cannot write the output")?;
            bar.finish_and_clear();
            let n = summary.rows_encoded;
            Ok((summary, n))
        }
        OutputFormat::ClkhashJson => {
            let (bytes, summary) = encoder
                .encode_csv(BufReader::new(input), Vec::new(), &options, &progress)
                .map_err(classify)?;
            bar.finish_and_clear();
            let file = EncodedFile::from_bytes(&bytes)
                .work_failed("internal: cannot re-read the encoding")?;
            write_clk_json(&args.out, &file.filters)?;
            let n = summary.rows_encoded;
            Ok((summary, n))
        }
    }
}

fn encode_clkhash(
    args: &Args,
    schema_text: &str,
    secret: &Secret,
    created_unix: u64,
) -> Result<(EncodeSummary, u64), Failure> {
    if args.profile.is_some() || !args.columns.is_empty() || args.delimiter.is_some() {
        return Err(Failure::input_msg(
            "a clkhash schema reads the CSV as clkhash does (comma-separated, header = feature names); --profile, --column and --delimiter do not apply",
        ));
    }
    let schema = ClkhashSchema::from_json(schema_text).map_err(classify)?;
    let input =
        File::open(&args.input).bad_input(format!("cannot open {}", args.input.display()))?;
    let length = schema.filter_length();
    let bits = f64::from(length.bits());
    let mut fill_total = 0f64;
    let mut out = AtomicFile::create(&args.out).work_failed("cannot create the output")?;
    // Filters are written as they are made: memory stays bounded.
    let n = match args.output_format {
        OutputFormat::ClkhashJson => {
            let mut writer = out.writer();
            let io = |e: std::io::Error| EncodeError::Io {
                context: format!("cannot write {}", args.out.display()),
                source: e,
            };
            writer
                .write_all(b"{\"clks\": [")
                .map_err(io)
                .map_err(classify)?;
            let mut first = true;
            let (mut bytes, mut text) = (Vec::new(), String::new());
            let n = clkhash::encode_csv_into(BufReader::new(input), &schema, secret, |words| {
                fill_total += f64::from(words.iter().map(|w| w.count_ones()).sum::<u32>()) / bits;
                text.clear();
                text.push_str(if first { "\"" } else { ", \"" });
                first = false;
                zicht_format::clk::append_row_base64(words, length, &mut bytes, &mut text);
                text.push('"');
                writer.write_all(text.as_bytes()).map_err(io)
            })
            .map_err(classify)?;
            writer.write_all(b"]}\n").map_err(io).map_err(classify)?;
            writer.flush().map_err(io).map_err(classify)?;
            n
        }
        OutputFormat::Zbf => {
            let label = source_label(args, None)?;
            let mut writer =
                FileWriter::new(out.file(), length, 0).work_failed("cannot write the output")?;
            let mut row = 0u64;
            let n = clkhash::encode_csv_into(BufReader::new(input), &schema, secret, |words| {
                fill_total += f64::from(words.iter().map(|w| w.count_ones()).sum::<u32>()) / bits;
                writer.push(row, &[], words)?;
                row += 1;
                Ok(())
            })
            .map_err(classify)?;
            let key_check = zicht_encoder::keys::key_check_value(secret, &schema.fingerprint());
            let header = Header {
                source_label: label.to_string(),
                filter_bits: length.bits(),
                schema_fingerprint: zicht_encoder::schema::hex(&schema.fingerprint()),
                key_check: zicht_encoder::schema::hex(&key_check),
                encoding: zicht_format::Encoding::ClkhashV3,
                hardening: [(
                    "hashing".to_string(),
                    zicht_format::Encoding::ClkhashV3.tag().to_string(),
                )]
                .into_iter()
                .collect(),
                strata: Vec::new(),
                created_unix,
                zicht_version: env!("CARGO_PKG_VERSION").into(),
            };
            writer
                .finish(&header)
                .work_failed("cannot write the output")?;
            n
        }
    };
    out.commit().work_failed("cannot write the output")?;
    let summary = EncodeSummary {
        rows_read: n,
        rows_encoded: n,
        mean_fill: if n == 0 { 0.0 } else { fill_total / n as f64 },
        ..EncodeSummary::default()
    };
    Ok((summary, n))
}

fn write_clk_json(path: &Path, filters: &FilterMatrix) -> Result<(), Failure> {
    let mut out = AtomicFile::create(path).work_failed("cannot create the output")?;
    {
        let mut writer = out.writer();
        zicht_format::clk::write_clk_json(filters, &mut writer)
            .work_failed("cannot write the output")?;
        writer.flush().work_failed("cannot write the output")?;
    }
    out.commit().work_failed("cannot write the output")
}

/// A CSV reader over the input for the id map, and the id column's index.
fn id_map_reader(
    args: &Args,
    column: &str,
) -> Result<(csv::Reader<BufReader<File>>, usize), Failure> {
    let profile = load_profile(args)?;
    let delimiter = profile.delimiter_byte().bad_input("invalid delimiter")?;
    let input =
        File::open(&args.input).bad_input(format!("cannot open {}", args.input.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(profile.header)
        .flexible(true)
        .from_reader(BufReader::new(input));
    let index = if profile.header {
        let headers = reader
            .byte_headers()
            .bad_input("cannot read the header")?
            .clone();
        headers
            .iter()
            .position(|h| {
                let h = h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(h);
                String::from_utf8_lossy(h).trim() == column
            })
            .ok_or_else(|| {
                Failure::input_msg(format!(
                    "--id-column: column '{column}' is not in the header"
                ))
            })?
    } else {
        column
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .ok_or_else(|| {
                Failure::input_msg("--id-column must be a 1-based number when there is no header")
            })?
    };
    Ok((reader, index))
}

fn write_id_map(args: &Args, map: &Path, column: &str) -> Result<(), Failure> {
    let (mut reader, index) = id_map_reader(args, column)?;
    let mut out = AtomicFile::create(map).work_failed("cannot create the id map")?;
    {
        let mut writer = csv::Writer::from_writer(out.writer());
        writer
            .write_record(["row", "id"])
            .work_failed("cannot write the id map")?;
        let mut record = csv::ByteRecord::new();
        let mut row = 0u64;
        while reader
            .read_byte_record(&mut record)
            .bad_input("cannot read the input")?
        {
            let id = record.get(index).unwrap_or_default();
            writer
                .write_record([row.to_string().as_bytes(), id])
                .work_failed("cannot write the id map")?;
            row += 1;
        }
        writer.flush().work_failed("cannot write the id map")?;
    }
    out.commit().work_failed("cannot write the id map")
}

fn report(args: &Args, summary: &EncodeSummary, n_records: u64) -> CmdResult {
    if args.json {
        let json =
            serde_json::to_string_pretty(summary).work_failed("cannot format the summary")?;
        println!("{json}");
        return Ok(());
    }
    let mut text = String::new();
    text.push_str(&format!(
        "encoded {} of {} rows into {} ({} rejected); mean fill {:.1}% of bits\n",
        n_records,
        summary.rows_read,
        args.out.display(),
        summary.rows_read - summary.rows_encoded,
        summary.mean_fill * 100.0
    ));
    for (reason, count) in &summary.rejected_by_reason {
        text.push_str(&format!("  rejected {count}: {reason}\n"));
    }
    for rejection in summary.rejected.iter().take(20) {
        text.push_str(&format!(
            "  row {} (line {}): field '{}': {}\n",
            rejection.row, rejection.line, rejection.field, rejection.reason
        ));
    }
    if summary.rejected.len() > 20 {
        text.push_str(&format!(
            "  ... and {} more rejected rows\n",
            summary.rejected.len() - 20
        ));
    }
    if summary.rows_read > 0 && !summary.missing_per_field.is_empty() {
        text.push_str("  missing values per field:");
        for (field, count) in &summary.missing_per_field {
            text.push_str(&format!(
                " {field} {:.1}%",
                *count as f64 * 100.0 / summary.rows_read as f64
            ));
        }
        text.push('\n');
    }
    eprint!("{text}");
    Ok(())
}
