//! `zicht audit`: the agency's privacy audit of its own encoded file.
//!
//! Without plaintext it reports what anyone holding the file can measure.
//! With `--plaintext` (the CSV the file was encoded from, which never leaves
//! the agency), `--schema` and `--secret-file` it also runs a frequency /
//! pattern-mining attack as an attacker without the key would, and scores it
//! with the key. The report holds counts and rates only, never a value or a
//! q-gram. Exit code 0 (warnings are printed), 2 for bad input, and with
//! `--strict` 1 when any check warns.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use zicht_audit::{
    audit, check_keys, identifying_fields, sample_rows, AttackConfig, AuditConfig, AuditError,
    Context, Plaintext, SampleSizes, Thresholds,
};
use zicht_encoder::clkhash::{self, ClkhashSchema};
use zicht_encoder::inspect::clkhash_uses_double_hashing;
use zicht_encoder::keys::key_check_value;
use zicht_encoder::{EncodeError, Encoder, Schema, Secret};
use zicht_format::{EncodedFile, FormatError};

use super::{input_file, with_threads, Classify, CmdResult, Failure};

/// Arguments of `zicht audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The encoded file (.zbf) to audit.
    pub file: PathBuf,
    /// The registry CSV the file was encoded from (stays with the agency;
    /// needs --schema and --secret-file). Enables the frequency attack.
    #[arg(long, requires_all = ["schema", "secret_file"])]
    pub plaintext: Option<PathBuf>,
    /// The linkage schema the file was encoded with (zicht TOML or clkhash JSON).
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// The agency's source profile for --plaintext (TOML).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// The project secret file. The environment variable ZICHT_SECRET_FILE
    /// may name it instead.
    #[arg(long, env = "ZICHT_SECRET_FILE", hide_env_values = true)]
    pub secret_file: Option<PathBuf>,
    /// Exit with code 1 when any check warns.
    #[arg(long)]
    pub strict: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Records sampled for co-occurrence, pattern mining and the attack.
    #[arg(long, default_value_t = 5000)]
    pub sample: usize,
    /// Records whose nearest neighbour is searched (within the sample).
    #[arg(long, default_value_t = 1000)]
    pub neighbour_probes: usize,
    /// How many of the most frequent tokens the attacker targets.
    #[arg(long, default_value_t = 100)]
    pub attack_tokens: usize,
    /// Warn when the attack recovers more than this share of the targeted q-grams.
    #[arg(long, default_value_t = 0.10)]
    pub max_qgram_recovery: f64,
    /// Warn when the attack re-identifies more than this share of the sampled records.
    #[arg(long, default_value_t = 0.01)]
    pub max_reidentification: f64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// The schema in either of its languages.
enum AnySchema {
    Native(Box<Schema>),
    Clkhash(Box<ClkhashSchema>),
}

/// Run `zicht audit`.
pub fn run(args: Args) -> CmdResult {
    for (value, name) in [
        (args.max_qgram_recovery, "--max-qgram-recovery"),
        (args.max_reidentification, "--max-reidentification"),
    ] {
        if !(0.0..=1.0).contains(&value) {
            return Err(Failure::input_msg(format!("{name} must be from 0 to 1")));
        }
    }
    if args.sample < 2 || args.neighbour_probes == 0 || args.attack_tokens == 0 {
        return Err(Failure::input_msg(
            "--sample must be at least 2, --neighbour-probes and --attack-tokens at least 1",
        ));
    }
    input_file(&args.file, "the encoded file")?;
    let file = EncodedFile::read(&args.file).map_err(|e| {
        let context = format!("cannot read {}", args.file.display());
        match e {
            FormatError::Io { .. } => Failure::Work(anyhow::Error::new(e).context(context)),
            _ => Failure::BadInput(anyhow::Error::new(e).context(context)),
        }
    })?;
    let secret = match &args.secret_file {
        Some(path) => {
            input_file(path, "the secret file")?;
            Some(Secret::read_file_unchecked(path).bad_input("cannot read the secret")?)
        }
        None => None,
    };
    let schema = match &args.schema {
        Some(path) => Some(read_schema(path)?),
        None => None,
    };
    let mut context = Context {
        secret_bits: secret.as_ref().map(Secret::bits),
        identifying_fields: None,
        double_hashing: (file.header.encoding == zicht_format::Encoding::ZichtV1).then_some(false),
    };
    match &schema {
        Some(AnySchema::Native(schema)) => {
            context.identifying_fields = Some(identifying_fields(schema));
            context.double_hashing = Some(false);
            let fingerprint = schema.fingerprint();
            let key_check = secret.as_ref().map(|s| key_check_value(s, &fingerprint));
            check_keys(&file, &fingerprint, key_check.as_ref()).map_err(audit_failure)?;
        }
        Some(AnySchema::Clkhash(schema)) => {
            context.double_hashing = Some(clkhash_uses_double_hashing(schema));
            let fingerprint = schema.fingerprint();
            let key_check = secret.as_ref().map(|s| key_check_value(s, &fingerprint));
            check_keys(&file, &fingerprint, key_check.as_ref()).map_err(audit_failure)?;
        }
        None => {}
    }
    let config = AuditConfig {
        sizes: SampleSizes {
            sample_records: args.sample,
            neighbour_probes: args.neighbour_probes,
        },
        attack: AttackConfig {
            target_tokens: args.attack_tokens,
            ..AttackConfig::default()
        },
        thresholds: Thresholds {
            max_qgram_recovery: args.max_qgram_recovery,
            max_reidentification: args.max_reidentification,
            ..Thresholds::default()
        },
    };
    let report = with_threads(args.threads, || -> Result<_, Failure> {
        let Some(csv) = &args.plaintext else {
            return audit(&file, &context, None, &config).map_err(audit_failure);
        };
        let (Some(AnySchema::Native(schema)), Some(secret)) = (&schema, &secret) else {
            return Err(Failure::input_msg(
                "--plaintext needs a zicht TOML --schema and --secret-file (clkhash files can be audited without plaintext only)",
            ));
        };
        input_file(csv, "the plaintext")?;
        let profile = super::read_profile(args.profile.as_deref())?;
        let encoder = Encoder::new((**schema).clone(), profile, secret).map_err(encode_failure)?;
        let rows = sample_rows(&file, &config);
        let wanted: HashSet<u64> = rows.iter().copied().collect();
        let input = File::open(csv).bad_input(format!("cannot open {}", csv.display()))?;
        let records = encoder
            .inspect_csv(BufReader::new(input), &|row| wanted.contains(&row))
            .map_err(encode_failure)?;
        let plaintext = Plaintext {
            schema,
            secret,
            sampled_rows: &rows,
            records: &records,
        };
        audit(&file, &context, Some(plaintext), &config).map_err(audit_failure)
    })??;
    if args.json {
        let json = serde_json::to_string_pretty(&report).work_failed("cannot format the report")?;
        println!("{json}");
    } else {
        print!("{}", report.to_text());
    }
    if args.strict && report.warnings > 0 {
        return Err(Failure::work_msg(format!(
            "{} check(s) warned (--strict)",
            report.warnings
        )));
    }
    Ok(())
}

fn read_schema(path: &std::path::Path) -> Result<AnySchema, Failure> {
    input_file(path, "the schema")?;
    let text = std::fs::read_to_string(path)
        .bad_input(format!("cannot read the schema {}", path.display()))?;
    if clkhash::is_clkhash_schema(&text) {
        let schema = ClkhashSchema::from_json(&text).bad_input(format!("in {}", path.display()))?;
        Ok(AnySchema::Clkhash(Box::new(schema)))
    } else {
        let schema = Schema::from_toml(&text).bad_input(format!("in {}", path.display()))?;
        Ok(AnySchema::Native(Box::new(schema)))
    }
}

fn audit_failure(error: AuditError) -> Failure {
    Failure::input(error)
}

fn encode_failure(error: EncodeError) -> Failure {
    match error {
        EncodeError::Io { .. } => Failure::work(error),
        _ => Failure::input(error),
    }
}
