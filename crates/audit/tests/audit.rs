//! The audit on synthetic registries: the attack succeeds against a weak
//! encoding and fails against hardened ones, the report holds no value, it
//! refuses plaintext that does not match, and it does not depend on the
//! thread count.

use std::collections::HashSet;

use zicht_audit::{audit, sample_rows, AuditConfig, AuditError, Context, Plaintext, Report};
use zicht_encoder::{EncodeOptions, Encoder, OnError, Profile, Schema, Secret};
use zicht_format::EncodedFile;

struct Registry {
    csv: Vec<u8>,
    profile: String,
}

fn registry() -> Registry {
    let data = zicht_synth::generate(&zicht_synth::SynthConfig {
        population: 6000,
        ..Default::default()
    })
    .unwrap();
    let largest = data
        .registries()
        .iter()
        .max_by_key(|r| r.records().len())
        .unwrap();
    Registry {
        csv: largest.csv_bytes().to_vec(),
        profile: largest.profile_toml().to_string(),
    }
}

/// A sample of 1,000 records keeps the debug-build tests quick.
fn config() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.sizes.sample_records = 1000;
    config.sizes.neighbour_probes = 200;
    config
}

fn secret() -> Secret {
    Secret::from_bytes(vec![9; 32]).unwrap()
}

/// Encode the registry under `schema` and audit it with its plaintext.
fn run(
    registry: &Registry,
    schema: &str,
    secret: &Secret,
) -> Result<(Report, EncodedFile), AuditError> {
    let schema = Schema::from_toml(schema).unwrap();
    let mut profile = Profile::from_toml(&registry.profile).unwrap();
    profile
        .columns
        .retain(|field, _| schema.field_index(field).is_some());
    let encoder = Encoder::new(schema.clone(), profile, secret).unwrap();
    let options = EncodeOptions {
        on_error: OnError::Skip,
        ..EncodeOptions::default()
    };
    let (bytes, _) = encoder
        .encode_csv(&registry.csv[..], Vec::new(), &options, &|_| {})
        .unwrap();
    let file = EncodedFile::from_bytes(&bytes).unwrap();
    let config = config();
    let rows = sample_rows(&file, &config);
    let wanted: HashSet<u64> = rows.iter().copied().collect();
    let inspecting = Encoder::new(schema.clone(), encoder.profile().clone(), secret).unwrap();
    let records = inspecting
        .inspect_csv(&registry.csv[..], &|row| wanted.contains(&row))
        .unwrap();
    let context = Context {
        secret_bits: Some(256),
        identifying_fields: Some(zicht_audit::identifying_fields(&schema)),
        double_hashing: Some(false),
    };
    let plaintext = Plaintext {
        schema: &schema,
        secret,
        sampled_rows: &rows,
        records: &records,
    };
    let report = audit(&file, &context, Some(plaintext), &config)?;
    Ok((report, file))
}

const WEAK: &str = r#"
version = 1
filter_bits = 1024
[[field]]
name = "given_name"
kind = "given_name"
bits_per_token = 5
[[field]]
name = "family_name"
kind = "family_name"
bits_per_token = 5
"#;

fn hardened(option: &str) -> String {
    format!("{WEAK}\n[hardening]\n{option}\n")
}

#[test]
fn the_attack_breaks_a_weak_encoding_and_not_hardened_ones() {
    let registry = registry();
    let (weak, _) = run(&registry, WEAK, &secret()).unwrap();
    let attack = &weak.plaintext.as_ref().unwrap().attack;
    assert!(attack.sample_records > 500, "{attack:?}");
    assert!(attack.qgram_recovery_rate > 0.3, "{attack:?}");
    assert!(attack.reidentification_rate > 0.2, "{attack:?}");
    assert!(attack.position_precision > 0.5, "{attack:?}");
    let check = weak
        .checks
        .iter()
        .find(|c| c.name == "frequency_attack")
        .unwrap();
    assert_eq!(check.status, zicht_audit::Status::Warning);
    // Two identifying fields and sparse filters warn too.
    assert_eq!(weak.warnings, 3, "{:?}", weak.checks);

    for option in ["diffusion_t = 3", "xor_fold = true", "blip_f = 0.1"] {
        let (report, _) = run(&registry, &hardened(option), &secret()).unwrap();
        let attack = &report.plaintext.as_ref().unwrap().attack;
        assert!(attack.qgram_recovery_rate < 0.1, "{option}: {attack:?}");
        assert!(attack.reidentification_rate < 0.01, "{option}: {attack:?}");
    }
    // Balancing hides the name length (every filter has the same count)
    // but leaves each token's positions set together: mining still works.
    let (balanced, _) = run(&registry, &hardened("balance = true"), &secret()).unwrap();
    let findings = balanced.plaintext.as_ref().unwrap();
    assert_eq!(findings.popcount_name_length_correlation, None);
    assert!(
        weak.plaintext
            .as_ref()
            .unwrap()
            .popcount_name_length_correlation
            .unwrap()
            > 0.5
    );
    assert_eq!(balanced.stats.popcounts.min, balanced.stats.popcounts.max);
    assert!(
        findings.attack.qgram_recovery_rate > 0.1,
        "{:?}",
        findings.attack
    );
}

#[test]
fn the_report_holds_no_value() {
    let registry = registry();
    let (report, _) = run(&registry, WEAK, &secret()).unwrap();
    let words = |text: String| -> HashSet<String> {
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric() && c != '-')
            .map(str::to_string)
            .collect()
    };
    let text = words(report.to_text());
    let json = words(serde_json::to_string(&report).unwrap());
    // Every name and date cell of the registry, found through its profile.
    let profile = Profile::from_toml(&registry.profile).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(profile.delimiter_byte().unwrap())
        .from_reader(&registry.csv[..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut names: Vec<String> = ["given_name", "family_name", "date_of_birth"]
        .iter()
        .filter_map(|field| profile.columns.get(*field))
        .map(ToString::to_string)
        .collect();
    if let Some(full) = &profile.full_name {
        names.push(full.column.to_string());
    }
    let columns: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            names
                .iter()
                .any(|n| n.trim_matches(['"', '\'']) == h.as_str())
        })
        .map(|(i, _)| i)
        .collect();
    assert!(columns.len() >= 2, "{names:?} in {header:?}");
    let mut checked = 0;
    for record in reader.byte_records() {
        let record = record.unwrap();
        for &column in &columns {
            // Some registries are Windows-1252: their non-ASCII words are
            // skipped, the others checked.
            let cell = String::from_utf8_lossy(&record[column]).to_lowercase();
            for word in cell.split([' ', ',']) {
                if word.chars().count() >= 4 && !word.contains('\u{fffd}') {
                    assert!(!text.contains(word), "the text report holds a value");
                    assert!(!json.contains(word), "the JSON report holds a value");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

#[test]
fn plaintext_that_does_not_match_is_refused() {
    let registry = registry();
    let (_, file) = run(&registry, WEAK, &secret()).unwrap();
    // Inspect with another secret: the filters differ.
    let schema = Schema::from_toml(WEAK).unwrap();
    let mut profile = Profile::from_toml(&registry.profile).unwrap();
    profile
        .columns
        .retain(|field, _| schema.field_index(field).is_some());
    let other = Secret::from_bytes(vec![10; 32]).unwrap();
    let encoder = Encoder::new(schema.clone(), profile, &other).unwrap();
    let config = config();
    let rows = sample_rows(&file, &config);
    let records = encoder.inspect_csv(&registry.csv[..], &|_| true).unwrap();
    let plaintext = Plaintext {
        schema: &schema,
        secret: &other,
        sampled_rows: &rows,
        records: &records[..rows.len()],
    };
    let error = audit(&file, &Context::default(), Some(plaintext), &config).unwrap_err();
    assert!(
        matches!(error, AuditError::PlaintextMismatch { .. }),
        "{error}"
    );
}

#[test]
fn the_report_does_not_depend_on_the_thread_count() {
    let registry = registry();
    let schema = hardened("balance = true");
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let three = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let (a, _) = one.install(|| run(&registry, &schema, &secret())).unwrap();
    let (b, _) = three
        .install(|| run(&registry, &schema, &secret()))
        .unwrap();
    assert_eq!(a, b);
}

/// The schema that `zicht synth` writes (and `docs/examples/schema.toml`
/// mirrors) is the default a project starts from: with its shipped
/// hardening it resists the attack, while the same fields unhardened do not
/// stay under the limits.
#[test]
fn the_shipped_schema_resists_the_attack() {
    let data = zicht_synth::generate(&zicht_synth::SynthConfig {
        population: 6000,
        ..Default::default()
    })
    .unwrap();
    let shipped = data.schema_toml();
    assert!(shipped.contains("[hardening]"));
    let registry = registry();
    let (report, _) = run(&registry, &shipped, &secret()).unwrap();
    let attack = &report.plaintext.as_ref().unwrap().attack;
    assert!(attack.qgram_recovery_rate < 0.1, "{attack:?}");
    assert!(attack.reidentification_rate < 0.01, "{attack:?}");
    let check = report
        .checks
        .iter()
        .find(|c| c.name == "frequency_attack")
        .unwrap();
    assert_eq!(check.status, zicht_audit::Status::Ok, "{:?}", report.checks);

    let unhardened = &shipped[..shipped.find("[hardening]").unwrap()];
    let (report, _) = run(&registry, unhardened, &secret()).unwrap();
    let attack = &report.plaintext.as_ref().unwrap().attack;
    assert!(
        attack.qgram_recovery_rate > 0.1 || attack.reidentification_rate > 0.01,
        "{attack:?}"
    );
}
