//! CLI tests of `zicht keygen`, `zicht encode` and `zicht inspect`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn zicht(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zicht"))
        .args(args)
        .env_remove("ZICHT_SECRET_FILE")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .expect("zicht runs")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples")
}

struct Setup {
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("project.key");
        let out = zicht(&["keygen", "--out", key.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Setup { dir, key }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn encode(&self, csv: &Path, out: &str, extra: &[&str]) -> Output {
        let schema = examples().join("schema.toml");
        let profile = examples().join("profile.toml");
        let mut args = vec![
            "encode",
            csv.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--profile",
            profile.to_str().unwrap(),
            "--secret-file",
            self.key.to_str().unwrap(),
        ];
        let out_path = self.path(out);
        args.extend(["--out", out_path.to_str().unwrap()]);
        args.extend_from_slice(extra);
        zicht(&args)
    }
}

const NAMES: &[&str] = &[
    "Berg",
    "Anna",
    "Maria",
    "Popescu",
    "Ioana",
    "Kowalski",
    "Łukasz",
    "Okafor",
    "Chukwuemeka",
    "Nguyễn",
    "Hùng",
    "Bruijn",
    "Şahin",
    "Ayşe",
    "Kovács",
    "Gábor",
    "Rotterdam",
    "Lagos",
];

#[test]
fn keygen_writes_a_private_256_bit_secret_and_refuses_to_overwrite() {
    let setup = Setup::new();
    let text = std::fs::read_to_string(&setup.key).unwrap();
    assert!(text.starts_with("zicht-secret-v1:"));
    assert_eq!(text.trim().len(), "zicht-secret-v1:".len() + 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&setup.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = zicht(&["keygen", "--out", setup.key.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&setup.key).unwrap(), text);
}

#[test]
fn encodes_the_example_and_leaks_no_name() {
    let setup = Setup::new();
    let out = setup.encode(&examples().join("registry.csv"), "police.zbf", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(setup.path("police.zbf")).unwrap();
    let file = zicht_format::EncodedFile::from_bytes(&bytes).unwrap();
    assert_eq!(file.len(), 8);
    assert_eq!(file.header.source_label, "police");
    assert_eq!(file.header.strata.len(), 3);
    let haystack = String::from_utf8_lossy(&bytes).to_lowercase();
    for name in NAMES {
        assert!(
            !haystack.contains(&name.to_lowercase()),
            "the file contains {name}"
        );
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in NAMES {
        assert!(!stderr.contains(name), "the summary contains {name}");
    }
    let inspect = zicht(&[
        "inspect",
        setup.path("police.zbf").to_str().unwrap(),
        "--json",
    ]);
    assert!(inspect.status.success());
    let report: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(report["records"], 8);
    assert_eq!(report["checksum"], "ok");
}

#[test]
fn same_input_and_key_give_identical_bytes_whatever_the_threads() {
    let setup = Setup::new();
    let csv = examples().join("registry.csv");
    for (name, threads) in [("a.zbf", "1"), ("b.zbf", "2"), ("c.zbf", "8")] {
        let out = setup.encode(&csv, name, &["--threads", threads]);
        assert!(out.status.success());
    }
    let a = std::fs::read(setup.path("a.zbf")).unwrap();
    assert_eq!(a, std::fs::read(setup.path("b.zbf")).unwrap());
    assert_eq!(a, std::fs::read(setup.path("c.zbf")).unwrap());
    let other = Setup::new();
    let out = other.encode(&csv, "d.zbf", &[]);
    assert!(out.status.success());
    let d = zicht_format::EncodedFile::read(&other.path("d.zbf")).unwrap();
    let a = zicht_format::EncodedFile::from_bytes(&a).unwrap();
    assert_ne!(a.filters, d.filters, "another secret must give other bits");
    assert_ne!(a.header.key_check, d.header.key_check);
    assert_eq!(a.header.schema_fingerprint, d.header.schema_fingerprint);
}

#[test]
fn house_styles_encode_alike() {
    let setup = Setup::new();
    let a = setup.write(
        "a.csv",
        "naam;geboortedatum;geslacht;geboorteplaats;uitbuiting\n\"Berg, van den, Anna\";12-03-1990;V;Rotterdam;seksueel\n",
    );
    let b = setup.write(
        "b.csv",
        "\u{feff}naam;geboortedatum;geslacht;geboorteplaats;uitbuiting\r\n\"BERG, V.D., ANNA\";12-03-1990;v;ROTTERDAM;Seksueel\r\n",
    );
    assert!(setup.encode(&a, "a.zbf", &[]).status.success());
    assert!(setup.encode(&b, "b.zbf", &[]).status.success());
    let fa = zicht_format::EncodedFile::read(&setup.path("a.zbf")).unwrap();
    let fb = zicht_format::EncodedFile::read(&setup.path("b.zbf")).unwrap();
    assert_eq!(
        zicht_format::dice(fa.filters.row(0), fb.filters.row(0)),
        1.0
    );
}

fn assert_bad_input(out: &Output, needles: &[&str], secret_value: Option<&str>) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "'{needle}' not in: {stderr}");
    }
    if let Some(value) = secret_value {
        assert!(
            !stderr.contains(value),
            "the error shows the value: {stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

const HEADER: &str = "naam;geboortedatum;geslacht;geboorteplaats;uitbuiting\n";

#[test]
fn bad_rows_name_row_and_field_never_the_value() {
    let setup = Setup::new();
    let cases: &[(&str, &[&str], Option<&str>)] = &[
        (
            "\"Jansen, Piet\";31-02-1980;M;Delft;arbeid\n",
            &["row 0", "date_of_birth"],
            Some("31-02-1980"),
        ),
        (
            "\"Jansen, Piet\";Zwolle-1980;M;Delft;arbeid\n",
            &["row 0", "date_of_birth"],
            Some("Zwolle"),
        ),
        (
            "\"Jansen, Piet\";01-02-1980;Qwerty;Delft;arbeid\n",
            &["row 0", "sex"],
            Some("Qwerty"),
        ),
        (
            "\"Jansen, Piet\";01-02-1980;M;Delft\n",
            &["row 0", "fields"],
            Some("Jansen"),
        ),
    ];
    for (i, (row, needles, value)) in cases.iter().enumerate() {
        let csv = setup.write(&format!("bad{i}.csv"), &format!("{HEADER}{row}"));
        let out = setup.encode(&csv, &format!("bad{i}.zbf"), &[]);
        assert_bad_input(&out, needles, *value);
        assert!(
            !setup.path(&format!("bad{i}.zbf")).exists(),
            "partial output left behind"
        );
    }
}

#[test]
fn invalid_utf8_and_missing_column_and_empty_file() {
    let setup = Setup::new();
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"\"Jans\xe9n, Piet\";01-02-1980;M;Delft;arbeid\n");
    let path = setup.path("latin.csv");
    std::fs::write(&path, bytes).unwrap();
    assert_bad_input(
        &setup.encode(&path, "x.zbf", &[]),
        &["row 0", "UTF-8"],
        None,
    );
    let ok = setup.encode(&path, "y.zbf", &["--encoding", "windows-1252"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let missing = setup.write(
        "missing.csv",
        "naam;geslacht;geboorteplaats;uitbuiting\n\"A, B\";M;X;Y\n",
    );
    assert_bad_input(
        &setup.encode(&missing, "m.zbf", &[]),
        &["date_of_birth", "geboortedatum"],
        None,
    );

    let empty = setup.write("empty.csv", "");
    assert_bad_input(&setup.encode(&empty, "e.zbf", &[]), &["empty"], None);
    let header_only = setup.write("header.csv", HEADER);
    assert_bad_input(
        &setup.encode(&header_only, "h.zbf", &[]),
        &["no data rows"],
        None,
    );

    let dir = setup.path("adir");
    std::fs::create_dir(&dir).unwrap();
    assert_bad_input(&setup.encode(&dir, "d.zbf", &[]), &["directory"], None);
    for name in ["x.zbf", "m.zbf", "e.zbf", "h.zbf", "d.zbf"] {
        assert!(!setup.path(name).exists());
    }
}

#[test]
fn skip_rejects_bad_rows_and_reports_them() {
    let setup = Setup::new();
    let csv = setup.write(
        "mixed.csv",
        &format!("{HEADER}\"A, B\";01-02-1980;M;X;arbeid\n\"C, D\";99-99-1980;M;X;arbeid\n\"E, F\";1981;V;Y;seksueel\n"),
    );
    let out = setup.encode(&csv, "s.zbf", &["--on-error", "skip", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rows_read"], 3);
    assert_eq!(summary["rows_encoded"], 2);
    assert_eq!(summary["rejected"][0]["row"], 1);
    assert_eq!(summary["rejected"][0]["field"], "date_of_birth");
    let file = zicht_format::EncodedFile::read(&setup.path("s.zbf")).unwrap();
    assert_eq!(file.rows, vec![0, 2]);
}

#[test]
fn bad_schema_and_secret_are_refused() {
    let setup = Setup::new();
    let csv = examples().join("registry.csv");
    let schema = setup.write(
        "schema.toml",
        "version = 1\ncolour = \"blue\"\n[[field]]\nname = \"a\"\nkind = \"given_name\"\n",
    );
    let out = zicht(&[
        "encode",
        csv.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--secret-file",
        setup.key.to_str().unwrap(),
        "--out",
        setup.path("o.zbf").to_str().unwrap(),
    ]);
    assert_bad_input(&out, &["unknown field"], None);
    let short = setup.write("short.key", "tooshort\n");
    let out = zicht(&[
        "encode",
        csv.to_str().unwrap(),
        "--schema",
        examples().join("schema.toml").to_str().unwrap(),
        "--profile",
        examples().join("profile.toml").to_str().unwrap(),
        "--secret-file",
        short.to_str().unwrap(),
        "--out",
        setup.path("o.zbf").to_str().unwrap(),
    ]);
    assert_bad_input(&out, &["128"], Some("tooshort"));
    let out = Command::new(env!("CARGO_BIN_EXE_zicht"))
        .args([
            "encode",
            csv.to_str().unwrap(),
            "--schema",
            examples().join("schema.toml").to_str().unwrap(),
        ])
        .args(["--out", setup.path("o.zbf").to_str().unwrap()])
        .env_remove("ZICHT_SECRET_FILE")
        .output()
        .unwrap();
    assert_bad_input(&out, &["secret"], None);
}

#[test]
fn inspect_detects_a_corrupted_file() {
    let setup = Setup::new();
    assert!(setup
        .encode(&examples().join("registry.csv"), "p.zbf", &[])
        .status
        .success());
    let mut bytes = std::fs::read(setup.path("p.zbf")).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(setup.path("bad.zbf"), &bytes).unwrap();
    let out = zicht(&["inspect", setup.path("bad.zbf").to_str().unwrap()]);
    assert_bad_input(&out, &["checksum"], None);
    bytes.truncate(100);
    std::fs::write(setup.path("short.zbf"), &bytes).unwrap();
    let out = zicht(&["inspect", setup.path("short.zbf").to_str().unwrap()]);
    assert_bad_input(&out, &["truncated"], None);
}

/// Every registry of a realistic synthetic data set, encoded through the
/// CLI with its own house-style profile: no name of five or more letters
/// appears in any encoded file, in any case.
#[test]
fn realistic_registries_leak_no_name() {
    let setup = Setup::new();
    let data = zicht_synth::generate(&zicht_synth::SynthConfig {
        population: 1500,
        ..zicht_synth::SynthConfig::default()
    })
    .unwrap();
    let dir = setup.path("synth");
    data.write(&dir).unwrap();
    for registry in data.registries() {
        let label = registry.label();
        let csv = dir.join(format!("{label}.csv"));
        let out_name = format!("{label}.zbf");
        let out = zicht(&[
            "encode",
            csv.to_str().unwrap(),
            "--schema",
            dir.join("schema.toml").to_str().unwrap(),
            "--profile",
            dir.join(format!("profiles/{label}.toml")).to_str().unwrap(),
            "--secret-file",
            setup.key.to_str().unwrap(),
            "--out",
            setup.path(&out_name).to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(setup.path(&out_name)).unwrap();
        let file = zicht_format::EncodedFile::from_bytes(&bytes).unwrap();
        assert_eq!(
            file.len(),
            registry.records().len(),
            "{label}: every row is encoded"
        );
        let mut names: Vec<String> = Vec::new();
        for record in registry.records() {
            for name in [&record.given_name, &record.family_name]
                .into_iter()
                .flatten()
            {
                names.extend(
                    name.split([' ', ',', '-'])
                        .filter(|w| w.chars().count() >= 5)
                        .map(str::to_string),
                );
            }
        }
        assert!(names.len() > 100, "{label}: too few names to test");
        for name in &names {
            for variant in [name.clone(), name.to_lowercase(), name.to_uppercase()] {
                assert!(
                    !bytes
                        .windows(variant.len())
                        .any(|w| w == variant.as_bytes()),
                    "{label}: a name appears in the encoded file"
                );
            }
        }
    }
}

#[test]
fn id_map_is_local_and_checked_before_encoding() {
    let setup = Setup::new();
    let csv = setup.write(
        "ids.csv",
        "nummer;naam;geboortedatum;geslacht;geboorteplaats;uitbuiting\n\
         P-1;\"A, B\";01-02-1980;M;X;arbeid\n\
         P-7;\"C, D\";1981;V;Y;seksueel\n",
    );
    let map = setup.path("ids.map.csv");
    let bad = setup.encode(
        &csv,
        "bad.zbf",
        &["--id-map", map.to_str().unwrap(), "--id-column", "dossier"],
    );
    assert_bad_input(&bad, &["--id-column", "dossier"], None);
    assert!(
        !setup.path("bad.zbf").exists(),
        "an encoded file was left behind"
    );
    let good = setup.encode(
        &csv,
        "good.zbf",
        &["--id-map", map.to_str().unwrap(), "--id-column", "nummer"],
    );
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&map).unwrap(),
        "row,id\n0,P-1\n1,P-7\n"
    );
    let file = std::fs::read(setup.path("good.zbf")).unwrap();
    assert!(
        !file.windows(3).any(|w| w == b"P-1" || w == b"P-7"),
        "an agency id is in the encoded file"
    );
    let again = setup.encode(
        &csv,
        "again.zbf",
        &["--id-map", map.to_str().unwrap(), "--id-column", "nummer"],
    );
    assert_bad_input(&again, &["exists"], None);
}

/// The encoder refuses every label the linker would refuse (one rule,
/// `zicht_format::SourceLabel`): `Count` in any case, a tab, a comma.
#[test]
fn labels_the_linker_refuses_are_refused_at_the_agency() {
    let setup = Setup::new();
    let csv = setup.write(
        "in.csv",
        &format!("{HEADER}\"Jansen, Anna\";12-03-1990;V;Rotterdam;seksueel\n"),
    );
    for (label, needle) in [
        ("Count", "`count` cannot be a source label"),
        ("COUNT", "`count` cannot be a source label"),
        ("police\tnorth", "control character"),
        ("a,b", "comma"),
    ] {
        let out = setup.encode(&csv, "out.zbf", &["--source", label]);
        assert_bad_input(&out, &[needle, "--source"], None);
        assert!(
            !setup.path("out.zbf").exists(),
            "{label:?}: output left behind"
        );
    }
    let out = setup.encode(&csv, "out.zbf", &["--source", "Counts"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
