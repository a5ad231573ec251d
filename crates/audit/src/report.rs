//! The audit: statistics, the attack, the checks with their thresholds, and
//! the report in JSON and plain text. The report holds counts, rates and
//! settings only: never a value, a token or a q-gram.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use zicht_encoder::inspect::RecordTokens;
use zicht_encoder::schema::{hex, FieldKind};
use zicht_encoder::{Schema, Secret};
use zicht_format::EncodedFile;

use crate::attack::{length_correlation, run_attack, AttackConfig, AttackResult};
use crate::bits::even_sample;
use crate::stats::{file_stats, FileStats, SampleSizes};
use crate::truth::Truth;
use crate::AuditError;

/// Where a check's warning fires.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    /// Warn when the secret is shorter (bits).
    pub min_secret_bits: usize,
    /// Warn when fewer identifying fields are encoded.
    pub min_identifying_fields: usize,
    /// Warn when the mean fill is below.
    pub min_fill: f64,
    /// Warn when the mean fill is above.
    pub max_fill: f64,
    /// Warn when the attack recovers a larger share of the targeted q-grams.
    pub max_qgram_recovery: f64,
    /// Warn when the attack re-identifies a larger share of the records.
    pub max_reidentification: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_secret_bits: 128,
            min_identifying_fields: 3,
            min_fill: 0.25,
            max_fill: 0.65,
            max_qgram_recovery: 0.10,
            max_reidentification: 0.01,
        }
    }
}

/// Settings of an audit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AuditConfig {
    /// Sample sizes of the statistics (the attack uses `sample_records` too).
    pub sizes: SampleSizes,
    /// The attack.
    pub attack: AttackConfig,
    /// The warnings' thresholds.
    pub thresholds: Thresholds,
}

/// What the agency knows besides the file (each part optional).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// Length of the project secret in bits.
    pub secret_bits: Option<usize>,
    /// Encoded identifying fields in the schema (see [`identifying_fields`]).
    pub identifying_fields: Option<usize>,
    /// Whether the encoding uses double hashing (`None`: cannot tell).
    pub double_hashing: Option<bool>,
}

/// The agency's own plaintext for the sampled rows, with the key.
#[derive(Clone, Copy, Debug)]
pub struct Plaintext<'a> {
    /// The linkage schema.
    pub schema: &'a Schema,
    /// The project secret.
    pub secret: &'a Secret,
    /// The rows sampled ([`sample_rows`]).
    pub sampled_rows: &'a [u64],
    /// Those rows as the encoder sees them
    /// ([`zicht_encoder::Encoder::inspect_csv`]).
    pub records: &'a [RecordTokens],
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Passed.
    Ok,
    /// The threshold was crossed.
    Warning,
    /// Not enough information (say, no secret given).
    NotChecked,
}

/// One check: a name, its outcome and a plain message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Short name (`secret_length`, `identifying_fields`, `double_hashing`,
    /// `mean_fill`, `frequency_attack`).
    pub name: &'static str,
    /// Outcome.
    pub status: Status,
    /// What was found and what to do.
    pub message: String,
}

/// The header facts worth showing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileFacts {
    /// Source label.
    pub source_label: String,
    /// Encoding (serialised as its tag, `zicht-v1` or `clkhash-v3`).
    pub encoding: zicht_format::Encoding,
    /// Hardening and hashing settings from the header.
    pub hardening: BTreeMap<String, String>,
    /// Strata released in the clear.
    pub strata: Vec<String>,
}

/// What the plaintext shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlaintextFindings {
    /// Rows re-encoded and found identical to the file.
    pub rows_checked: usize,
    /// The frequency / pattern-mining attack.
    pub attack: AttackResult,
    /// Pearson correlation of set-bit count with name length (`None` when
    /// either is constant).
    pub popcount_name_length_correlation: Option<f64>,
}

/// The whole audit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// From the header.
    pub file: FileFacts,
    /// Measured without plaintext.
    pub stats: FileStats,
    /// Measured with the agency's plaintext and key.
    pub plaintext: Option<PlaintextFindings>,
    /// The checks.
    pub checks: Vec<Check>,
    /// Number of checks with a warning.
    pub warnings: usize,
    /// The thresholds used.
    pub thresholds: Thresholds,
}

/// Encoded fields that identify a person: names, date of birth, place,
/// identifiers and free text (sex and categories do not count).
pub fn identifying_fields(schema: &Schema) -> usize {
    schema
        .fields
        .iter()
        .filter(|f| f.encode && !matches!(f.kind, FieldKind::Sex | FieldKind::Category))
        .count()
}

/// The rows (as stored in the file) that the statistics and the attack use:
/// evenly spaced, at most `config.sizes.sample_records`.
pub fn sample_rows(file: &EncodedFile, config: &AuditConfig) -> Vec<u64> {
    even_sample(file.len(), config.sizes.sample_records.max(1))
        .into_iter()
        .map(|i| file.rows[i])
        .collect()
}

/// Check that `schema` and `secret` are the ones that made `file`.
///
/// # Errors
/// [`AuditError::SchemaMismatch`] or [`AuditError::SecretMismatch`].
pub fn check_keys(
    file: &EncodedFile,
    schema_fingerprint: &[u8; 32],
    key_check: Option<&[u8; 8]>,
) -> Result<(), AuditError> {
    if hex(schema_fingerprint) != file.header.schema_fingerprint {
        return Err(AuditError::SchemaMismatch);
    }
    if let Some(check) = key_check {
        if hex(check) != file.header.key_check {
            return Err(AuditError::SecretMismatch);
        }
    }
    Ok(())
}

/// Audit a file.
///
/// # Errors
/// With plaintext: [`AuditError::UnsupportedEncoding`] for a clkhash file,
/// [`AuditError::PlaintextMismatch`] when the plaintext does not reproduce
/// the file.
pub fn audit(
    file: &EncodedFile,
    context: &Context,
    plaintext: Option<Plaintext<'_>>,
    config: &AuditConfig,
) -> Result<Report, AuditError> {
    let findings = match plaintext {
        None => None,
        Some(plaintext) => {
            if file.header.encoding != zicht_format::Encoding::ZichtV1 {
                return Err(AuditError::UnsupportedEncoding {
                    encoding: file.header.encoding,
                });
            }
            let truth = Truth::new(
                file,
                plaintext.sampled_rows,
                plaintext.records,
                plaintext.schema,
                plaintext.secret,
            )?;
            Some(PlaintextFindings {
                rows_checked: truth.file_indices.len(),
                attack: run_attack(file, &truth, &config.attack),
                popcount_name_length_correlation: length_correlation(file, &truth),
            })
        }
    };
    let stats = file_stats(file, config.sizes);
    let checks = checks(&stats, context, findings.as_ref(), &config.thresholds);
    let warnings = checks
        .iter()
        .filter(|c| c.status == Status::Warning)
        .count();
    Ok(Report {
        file: FileFacts {
            source_label: file.header.source_label.clone(),
            encoding: file.header.encoding,
            hardening: file.header.hardening.clone(),
            strata: file.header.strata.iter().map(|s| s.name.clone()).collect(),
        },
        stats,
        plaintext: findings,
        checks,
        warnings,
        thresholds: config.thresholds,
    })
}

fn checks(
    stats: &FileStats,
    context: &Context,
    findings: Option<&PlaintextFindings>,
    t: &Thresholds,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut push = |name, status, message: String| {
        checks.push(Check {
            name,
            status,
            message,
        })
    };
    match context.secret_bits {
        None => push("secret_length", Status::NotChecked, "no secret given (--secret-file)".into()),
        Some(bits) if bits < t.min_secret_bits => push(
            "secret_length",
            Status::Warning,
            format!(
                "the secret has {bits} bits, fewer than {}: anyone who guesses it can rebuild every filter; make a new one with `zicht keygen`",
                t.min_secret_bits
            ),
        ),
        Some(bits) => push("secret_length", Status::Ok, format!("the secret has {bits} bits")),
    }
    match context.identifying_fields {
        None => push("identifying_fields", Status::NotChecked, "no schema given (--schema)".into()),
        Some(n) if n < t.min_identifying_fields => push(
            "identifying_fields",
            Status::Warning,
            format!(
                "only {n} identifying field(s) encoded, fewer than {}: few fields make frequency attacks easy; encode more fields in one filter",
                t.min_identifying_fields
            ),
        ),
        Some(n) => push("identifying_fields", Status::Ok, format!("{n} identifying fields encoded")),
    }
    match context.double_hashing {
        None => push(
            "double_hashing",
            Status::NotChecked,
            "cannot tell whether the clkhash encoding uses double hashing (give its --schema)".into(),
        ),
        Some(true) => push(
            "double_hashing",
            Status::Warning,
            "double hashing: a token's positions lie on an arithmetic progression, which pattern-mining attacks exploit; use blakeHash or zicht's keyed hashing".into(),
        ),
        Some(false) => push("double_hashing", Status::Ok, "no double hashing".into()),
    }
    let fill = stats.popcounts.mean_fill;
    if stats.records == 0 {
        push(
            "mean_fill",
            Status::NotChecked,
            "the file has no records".into(),
        );
    } else if fill < t.min_fill || fill > t.max_fill {
        push(
            "mean_fill",
            Status::Warning,
            format!(
                "mean fill {:.1}% is outside {:.0}%-{:.0}%: {}",
                fill * 100.0,
                t.min_fill * 100.0,
                t.max_fill * 100.0,
                if fill < t.min_fill {
                    "sparse filters keep each token's positions apart and easy to mine; raise bits per token or encode more fields"
                } else {
                    "dense filters lose linkage quality; lower bits per token or lengthen the filter"
                }
            ),
        );
    } else {
        push(
            "mean_fill",
            Status::Ok,
            format!("mean fill {:.1}%", fill * 100.0),
        );
    }
    match findings {
        None => push(
            "frequency_attack",
            Status::NotChecked,
            "no plaintext given (--plaintext with --schema and --secret-file)".into(),
        ),
        Some(f) => {
            let a = &f.attack;
            let message = format!(
                "the attack recovered {} of {} frequent q-grams ({:.1}%) and re-identified {} of {} records ({:.2}%)",
                a.qgrams_recovered,
                a.qgrams_targeted,
                a.qgram_recovery_rate * 100.0,
                a.records_reidentified,
                a.sample_records,
                a.reidentification_rate * 100.0
            );
            if a.qgram_recovery_rate > t.max_qgram_recovery
                || a.reidentification_rate > t.max_reidentification
            {
                push(
                    "frequency_attack",
                    Status::Warning,
                    format!(
                        "{message}, above the limits of {:.0}% and {:.0}%; encode more fields, or enable balancing, diffusion or salting (docs/privacy.md)",
                        t.max_qgram_recovery * 100.0,
                        t.max_reidentification * 100.0
                    ),
                );
            } else {
                push("frequency_attack", Status::Ok, message);
            }
        }
    }
    checks
}

impl Report {
    /// The report as plain text for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let s = &self.stats;
        let _ = writeln!(
            out,
            "audit of '{}' ({}): {} records, {} bits",
            self.file.source_label, self.file.encoding, s.records, s.filter_bits
        );
        let settings: Vec<String> = self
            .file
            .hardening
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(out, "  settings: {}", settings.join(", "));
        if !self.file.strata.is_empty() {
            let _ = writeln!(
                out,
                "  strata released in the clear: {}",
                self.file.strata.join(", ")
            );
        }
        let d = &s.duplicates;
        let _ = writeln!(out, "\nshared filters");
        let _ = writeln!(
            out,
            "  {} distinct filters; {} filters held by more than one record, {} records in all; largest group {}",
            d.distinct_filters, d.shared_filters, d.records_sharing, d.largest_group
        );
        let p = &s.popcounts;
        let _ = writeln!(out, "\nset bits per filter");
        let _ = writeln!(
            out,
            "  min {} / p10 {} / median {} / p90 {} / max {}; mean {:.1} (sd {:.1}), mean fill {:.1}%",
            p.min, p.p10, p.median, p.p90, p.max, p.mean, p.sd, p.mean_fill * 100.0
        );
        let _ = writeln!(
            out,
            "  {} distinct counts, {:.2} bits of entropy; two records share a count with probability {:.3}",
            p.distinct, p.entropy_bits, p.same_count_probability
        );
        let b = &s.bit_frequencies;
        let _ = writeln!(out, "\nper-bit frequencies");
        let _ = writeln!(
            out,
            "  min {:.3} / mean {:.3} / max {:.3}; sd {:.3} = {:.1}x that of even bits; {} never set, {} always set",
            b.min, b.mean, b.max, b.sd, b.unevenness, b.never_set, b.always_set
        );
        match b.estimated_bits_per_token {
            Some(k) => {
                let _ = writeln!(
                    out,
                    "  {} groups of positions set together (frequent tokens); estimated bits per token {:.1}",
                    b.token_patterns, k
                );
            }
            None => {
                let _ = writeln!(out, "  no group of positions set together was found");
            }
        }
        let c = &s.co_occurrence;
        let _ = writeln!(
            out,
            "\nbit co-occurrence (sample of {} records)",
            c.sample_records
        );
        let _ = writeln!(
            out,
            "  mean |phi| {:.3} (noise level {:.3}), max phi {:.3}; {} pairs above 0.3, {} above 5x noise, {} complement pairs, of {}",
            c.mean_abs_phi, c.noise_level, c.max_phi, c.pairs_above_0_3, c.pairs_above_noise, c.complement_pairs, c.pairs
        );
        let n = &s.neighbours;
        let _ = writeln!(
            out,
            "\nnearest neighbour (Dice; {} records searched among {})",
            n.probes, n.searched
        );
        let _ = writeln!(
            out,
            "  p10 {:.3} / median {:.3} / p90 {:.3}; mean Dice to others {:.3}; {} with an identical neighbour, {} at 0.9 or more",
            n.p10, n.median, n.p90, n.mean_dice, n.identical, n.above_0_9
        );
        if let Some(f) = &self.plaintext {
            let a = &f.attack;
            let _ = writeln!(
                out,
                "\nfrequency attack ({} records checked against the plaintext; {} distinct value combinations)",
                f.rows_checked, a.distinct_identities
            );
            let _ = writeln!(
                out,
                "  targeted the {} most frequent tokens ({} q-grams); found {} groups of positions, {} of them truly one token's",
                a.tokens_targeted, a.qgrams_targeted, a.patterns_found, a.patterns_matching_a_token
            );
            let _ = writeln!(
                out,
                "  assigned {}, right {} ({} q-grams: {:.1}% of those targeted); position precision {:.2}, recall {:.2}",
                a.tokens_assigned,
                a.tokens_recovered,
                a.qgrams_recovered,
                a.qgram_recovery_rate * 100.0,
                a.position_precision,
                a.position_recall
            );
            let _ = writeln!(
                out,
                "  re-identified {} of {} records ({:.2}%); {} identified in all",
                a.records_reidentified,
                a.sample_records,
                a.reidentification_rate * 100.0,
                a.records_identified
            );
            match f.popcount_name_length_correlation {
                Some(r) => {
                    let _ = writeln!(out, "  set bits track name length: Pearson r = {r:.2}");
                }
                None => {
                    let _ = writeln!(out, "  set bits do not vary with name length (constant)");
                }
            }
        }
        let _ = writeln!(out, "\nchecks");
        for check in &self.checks {
            let tag = match check.status {
                Status::Ok => "ok     ",
                Status::Warning => "WARNING",
                Status::NotChecked => "skipped",
            };
            let _ = writeln!(out, "  {tag} {}: {}", check.name, check.message);
        }
        let _ = writeln!(out, "\n{} warning(s)", self.warnings);
        out
    }
}
