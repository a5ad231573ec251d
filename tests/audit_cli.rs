//! CLI tests of `zicht audit` and of the hardening options as the encoder
//! writes them: each is recorded in the header, deterministic, and changes
//! the bits in the way it should.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zicht_format::EncodedFile;

fn zicht(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zicht"))
        .args(args)
        .env_remove("ZICHT_SECRET_FILE")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("zicht runs")
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Synthetic registries, a key and helpers, in a temporary directory.
struct Setup {
    dir: tempfile::TempDir,
}

const WEAK_FIELDS: &str = r#"
[[field]]
name = "given_name"
kind = "given_name"
bits_per_token = 5
[[field]]
name = "family_name"
kind = "family_name"
bits_per_token = 5
[[field]]
name = "date_of_birth"
kind = "date_of_birth"
encode = false
[[field]]
name = "sex"
kind = "sex"
encode = false
[[field]]
name = "nationality"
kind = "category"
encode = false
[[field]]
name = "exploitation"
kind = "category"
encode = false
"#;

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let setup = Setup { dir };
        ok(&zicht(&["keygen", "--out", setup.s("project.key")]));
        ok(&zicht(&[
            "synth",
            "--out-dir",
            setup.s("syn"),
            "--population",
            "3000",
            "--registries",
            "2",
            "--dependence",
            "none",
        ]));
        setup
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> &str {
        let path = self.path(name);
        Box::leak(path.to_str().unwrap().to_string().into_boxed_str())
    }

    /// The synthetic schema without its hardening (the unhardened
    /// baseline), with extra TOML appended; returns its path.
    fn schema(&self, name: &str, extra: &str) -> &str {
        let shipped = std::fs::read_to_string(self.path("syn/schema.toml")).unwrap();
        let base = match shipped.find("[hardening]") {
            Some(at) => shipped[..at].to_string(),
            None => shipped,
        };
        std::fs::write(self.path(name), format!("{base}\n{extra}\n")).unwrap();
        self.s(name)
    }

    /// Encode the police registry with `schema` into `out`.
    fn encode(&self, schema: &str, out: &str) -> EncodedFile {
        ok(&zicht(&[
            "encode",
            self.s("syn/police.csv"),
            "--schema",
            schema,
            "--profile",
            self.s("syn/profiles/police.toml"),
            "--secret-file",
            self.s("project.key"),
            "--out",
            self.s(out),
            "--on-error",
            "skip",
        ]));
        EncodedFile::read(&self.path(out)).unwrap()
    }

    fn audit(&self, file: &str, schema: Option<&str>, extra: &[&str]) -> Output {
        let mut args = vec!["audit", self.s(file)];
        if let Some(schema) = schema {
            args.extend([
                "--plaintext",
                self.s("syn/police.csv"),
                "--schema",
                schema,
                "--profile",
                self.s("syn/profiles/police.toml"),
                "--secret-file",
                self.s("project.key"),
            ]);
        }
        args.extend(["--sample", "400", "--neighbour-probes", "100"]);
        args.extend_from_slice(extra);
        zicht(&args)
    }
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}

#[test]
fn hardening_options_are_recorded_deterministic_and_change_the_bits() {
    let setup = Setup::new();
    let plain_schema = setup.schema("plain.toml", "");
    let plain = setup.encode(plain_schema, "plain.zbf");
    assert_eq!(
        plain.header.hardening.keys().collect::<Vec<_>>(),
        vec!["hashing"]
    );
    let n = plain.len();
    assert!(n > 300, "{n}");
    let p = mean_fill(&plain);
    let options = [
        ("balance", "balance = true"),
        ("xor_fold", "xor_fold = true"),
        ("diffusion_t", "diffusion_t = 3"),
        (
            "salt_fields",
            "salt_fields = [\"given_name\", \"family_name\"]\nsalt_with = \"date_of_birth\"",
        ),
        ("blip_f", "blip_f = 0.05"),
    ];
    for (key, option) in options {
        let schema = setup.schema(&format!("{key}.toml"), &format!("[hardening]\n{option}"));
        let first = setup.encode(schema, &format!("{key}-1.zbf"));
        let again = setup.encode(schema, &format!("{key}-2.zbf"));
        assert!(
            same_bytes(
                &setup.path(&format!("{key}-1.zbf")),
                &setup.path(&format!("{key}-2.zbf"))
            ),
            "{key} is not deterministic"
        );
        assert_eq!(first.filters, again.filters);
        assert!(first.header.hardening.contains_key(key), "{key}");
        assert_ne!(
            first.header.schema_fingerprint,
            plain.header.schema_fingerprint
        );
        assert_eq!(first.rows, plain.rows);
        // The keys derive from the schema fingerprint, which covers the
        // hardening, so the bits are compared with the plain file through
        // what each transform must do to their statistics.
        let fill = mean_fill(&first);
        match key {
            "balance" => {
                assert_eq!(first.header.filter_bits, 2048);
                // The bits and their complements: every count is the same.
                assert!((0..n).all(|i| first.filters.popcount(i) == 1024));
                assert!((0..n).any(|i| plain.filters.popcount(i) != 512));
            }
            "xor_fold" => {
                assert_eq!(first.header.filter_bits, 512);
                let expected = 2.0 * p * (1.0 - p);
                assert!((fill - expected).abs() < 0.02, "{fill} vs {expected}");
            }
            "diffusion_t" => {
                assert_eq!(first.header.filter_bits, 1024);
                // An output bit is the XOR of three inputs.
                let expected = (1.0 - (1.0 - 2.0 * p).powi(3)) / 2.0;
                assert!((fill - expected).abs() < 0.02, "{fill} vs {expected}");
            }
            "salt_fields" => {
                assert_eq!(first.header.filter_bits, 1024);
                assert_eq!(first.header.hardening["salt_with"], "date_of_birth");
                assert!((fill - p).abs() < 0.02, "{fill} vs {p}");
                // A frequent name's bits now depend on the year of birth:
                // positions are set more evenly.
                let unevenness = |file: &str| {
                    let out = setup.audit(file, None, &["--json"]);
                    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                    json["stats"]["bit_frequencies"]["unevenness"]
                        .as_f64()
                        .unwrap()
                };
                let (salted, unsalted) = (unevenness("salt_fields-1.zbf"), unevenness("plain.zbf"));
                assert!(salted < 0.8 * unsalted, "{salted} vs {unsalted}");
            }
            "blip_f" => {
                assert_eq!(first.header.filter_bits, 1024);
                let expected = p + 0.05 * (1.0 - 2.0 * p);
                assert!((fill - expected).abs() < 0.01, "{fill} vs {expected}");
                // Coin flips are per record: equal records no longer share a filter.
                assert!(shared_filters(&plain) > 0);
                assert_eq!(shared_filters(&first), 0);
            }
            _ => unreachable!(),
        }
    }
}

fn mean_fill(file: &EncodedFile) -> f64 {
    let bits = f64::from(file.header.filter_bits);
    (0..file.len())
        .map(|i| f64::from(file.filters.popcount(i)) / bits)
        .sum::<f64>()
        / file.len() as f64
}

fn shared_filters(file: &EncodedFile) -> usize {
    let distinct: std::collections::HashSet<&[u64]> =
        (0..file.len()).map(|i| file.filters.row(i)).collect();
    file.len() - distinct.len()
}

#[test]
fn audit_reports_without_and_with_plaintext() {
    let setup = Setup::new();
    let schema = setup.schema("plain.toml", "");
    setup.encode(schema, "plain.zbf");

    // Without plaintext: statistics and the checks that need nothing else.
    let text = ok(&setup.audit("plain.zbf", None, &[]));
    for section in [
        "shared filters",
        "set bits per filter",
        "per-bit frequencies",
        "bit co-occurrence",
        "nearest neighbour",
        "skipped frequency_attack",
    ] {
        assert!(text.contains(section), "{section} missing in\n{text}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&ok(&setup.audit("plain.zbf", None, &["--json"]))).unwrap();
    assert!(json["stats"]["records"].as_u64().unwrap() > 300);
    assert!(json["plaintext"].is_null());

    // A weak encoding: the attack succeeds and --strict fails.
    std::fs::write(
        setup.path("weak.toml"),
        format!("version = 1\nfilter_bits = 1024\n{WEAK_FIELDS}"),
    )
    .unwrap();
    let weak = setup.s("weak.toml");
    setup.encode(weak, "weak.zbf");
    let out = setup.audit("weak.zbf", Some(weak), &["--json", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let attack = &json["plaintext"]["attack"];
    assert!(
        attack["qgram_recovery_rate"].as_f64().unwrap() > 0.2,
        "{attack}"
    );
    let warned: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "warning")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(warned.contains(&"frequency_attack"), "{warned:?}");
    assert!(warned.contains(&"identifying_fields"), "{warned:?}");
    // Without --strict the same findings exit 0.
    assert_eq!(
        setup.audit("weak.zbf", Some(weak), &[]).status.code(),
        Some(0)
    );

    // Diffusion on the full schema: the attack fails, nothing warns.
    let diffused = setup.schema("diffused.toml", "[hardening]\ndiffusion_t = 3");
    setup.encode(diffused, "diffused.zbf");
    let out = setup.audit("diffused.zbf", Some(diffused), &["--json", "--strict"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", json["checks"]);
    assert_eq!(json["warnings"], 0);
    assert_eq!(json["plaintext"]["attack"]["records_reidentified"], 0);
}

#[test]
fn audit_refuses_bad_input() {
    let setup = Setup::new();
    let schema = setup.schema("plain.toml", "");
    setup.encode(schema, "plain.zbf");
    // No such file, not an encoded file.
    assert_eq!(setup.audit("missing.zbf", None, &[]).status.code(), Some(2));
    assert_eq!(
        setup.audit("syn/police.csv", None, &[]).status.code(),
        Some(2)
    );
    // --plaintext needs --schema and --secret-file.
    let out = zicht(&[
        "audit",
        setup.s("plain.zbf"),
        "--plaintext",
        setup.s("syn/police.csv"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    // Another schema, another secret, another CSV.
    let other = setup.schema("other.toml", "[hardening]\nxor_fold = true");
    let out = setup.audit("plain.zbf", Some(other), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fingerprint"));
    ok(&zicht(&["keygen", "--out", setup.s("other.key")]));
    let out = zicht(&[
        "audit",
        setup.s("plain.zbf"),
        "--schema",
        schema,
        "--secret-file",
        setup.s("other.key"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("key check"));
    let out = zicht(&[
        "audit",
        setup.s("plain.zbf"),
        "--plaintext",
        setup.s("syn/shelters.csv"),
        "--schema",
        schema,
        "--profile",
        setup.s("syn/profiles/shelters.toml"),
        "--secret-file",
        setup.s("project.key"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not match"));
}

#[test]
fn a_short_secret_warns() {
    let setup = Setup::new();
    let schema = setup.schema("plain.toml", "");
    setup.encode(schema, "plain.zbf");
    // A clkhash-style short secret cannot have made this file, so the key
    // check fails; the length is judged before that only without a schema.
    std::fs::write(setup.path("short.key"), "secret").unwrap();
    let out = zicht(&[
        "audit",
        setup.s("plain.zbf"),
        "--secret-file",
        setup.s("short.key"),
        "--json",
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "secret_length")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "warning", "{check}");
}
