//! Robustness of the `zicht` binary: exit codes, hostile inputs, corrupted
//! and truncated encoded files, full and read-only output locations,
//! interrupted runs, input limits, and determinism across thread counts.
//!
//! What each test tried and found is summarised in `docs/reliability.md`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use zicht_format::{EncodedFile, FileWriter, FilterLength, Header};

/// A cell value that must never appear in any message.
const MARKER: &str = "Zyxwvutsrq";

fn zicht_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zicht"));
    command
        .args(args)
        .env_remove("ZICHT_SECRET_FILE")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    command
}

fn zicht(args: &[&str]) -> Output {
    zicht_command(args).output().expect("zicht runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        stderr(output)
    );
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary paths")
}

/// Files of a temporary directory, sorted, including hidden ones.
fn entries(dir: &Path) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every file under `dir` (recursively) with its bytes, sorted by path.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for name in entries(dir) {
        let path = dir.join(&name);
        if path.is_dir() {
            files.extend(
                tree(&path)
                    .into_iter()
                    .map(|(inner, bytes)| (format!("{name}/{inner}"), bytes)),
            );
        } else {
            files.push((name, std::fs::read(&path).unwrap()));
        }
    }
    files
}

/// A deterministic generator (SplitMix64) for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const GIVEN: &[&str] = &[
    "Anna",
    "Maria",
    "Ioana",
    "Łukasz",
    "Chukwuemeka",
    "Hùng",
    "Fatima",
    "Olga",
    "Pieter",
    "Amal",
    "Tomasz",
    "Şahin",
    "Zoë",
    "Jan",
    "Mehmet",
    "Oksana",
    "Ngozi",
    "Youssef",
];
const SYLLABLES: &[&str] = &[
    "ka", "ro", "vin", "del", "mar", "sun", "bel", "tor", "pes", "lan", "mi", "go", "ski", "ov",
    "escu", "berg",
];
const PLACES: &[&str] = &[
    "Rotterdam",
    "Constanța",
    "Kraków",
    "Lagos",
    "Sofia",
    "Kyiv",
    "Istanbul",
    "Casablanca",
];
const PARTICLES: &[&str] = &["", "", "", "van den ", "de ", "van "];

/// One person of a synthetic registry in the example profile's layout.
fn person_line(rng: &mut Rng) -> String {
    let mut family = String::new();
    for _ in 0..2 + rng.below(2) {
        family.push_str(SYLLABLES[rng.below(SYLLABLES.len())]);
    }
    family[..1].make_ascii_uppercase();
    let particle = PARTICLES[rng.below(PARTICLES.len())];
    let given = GIVEN[rng.below(GIVEN.len())];
    format!(
        "\"{family}, {particle}{given}\";{:02}-{:02}-{};{};{};{}",
        1 + rng.below(28),
        1 + rng.below(12),
        1950 + rng.below(55),
        ["M", "V"][rng.below(2)],
        PLACES[rng.below(PLACES.len())],
        ["seksueel", "arbeid", "crimineel"][rng.below(3)],
    )
}

/// A registry CSV of `n` persons in the example profile's layout.
fn write_registry(path: &Path, n: usize, seed: u64) {
    use std::io::Write;
    let file = std::fs::File::create(path).unwrap();
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "naam;geboortedatum;geslacht;geboorteplaats;uitbuiting").unwrap();
    let mut rng = Rng(seed);
    for _ in 0..n {
        writeln!(out, "{}", person_line(&mut rng)).unwrap();
    }
    out.flush().unwrap();
}

/// A temporary directory with a project secret in it.
struct Setup {
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("project.key");
        ok(&zicht(&["keygen", "--out", s(&key)]));
        Setup { dir, key }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// `zicht encode INPUT --out OUT` under the example schema and profile.
    fn encode_args(&self, input: &Path, out: &Path) -> Vec<String> {
        [
            "encode",
            s(input),
            "--schema",
            s(&examples().join("schema.toml")),
            "--profile",
            s(&examples().join("profile.toml")),
            "--secret-file",
            s(&self.key),
            "--out",
            s(out),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    }

    fn encode(&self, input: &Path, out: &Path, extra: &[&str]) -> Output {
        let mut args = self.encode_args(input, out);
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        zicht(&args)
    }
}

/// A small schema with 64-bit filters and a stratum: a small encoded file
/// in which every section (preamble, filters, records, strata codes,
/// header, trailer) is present.
const SMALL_SCHEMA: &str = r#"
version = 1
name = "small"
filter_bits = 64
[[field]]
name = "given_name"
kind = "given_name"
bits_per_token = 4
[[field]]
name = "sex"
kind = "sex"
bits_per_token = 3
[[stratum]]
name = "sex"
field = "sex"
"#;
const SMALL_PROFILE: &str = "[columns]\ngiven_name = \"name\"\nsex = \"sex\"\n";

fn small_encoded_file(setup: &Setup) -> PathBuf {
    let schema = setup.write("small.toml", SMALL_SCHEMA);
    let profile = setup.write("small-profile.toml", SMALL_PROFILE);
    let csv = setup.write("small.csv", "name,sex\nAnna,f\nJan,m\nIoana,f\n");
    let out = setup.path("small.zbf");
    ok(&zicht(&[
        "encode",
        s(&csv),
        "--schema",
        s(&schema),
        "--profile",
        s(&profile),
        "--secret-file",
        s(&setup.key),
        "--out",
        s(&out),
    ]));
    out
}

// ---------------------------------------------------------------- exit codes

#[test]
fn exit_codes_follow_the_convention() {
    let setup = Setup::new();
    // 0: success, help and version.
    assert_eq!(code(&zicht(&["--help"])), Some(0));
    assert_eq!(code(&zicht(&["--version"])), Some(0));
    assert_eq!(code(&zicht(&["encode", "--help"])), Some(0));
    // 2: bad usage.
    for args in [
        &[][..],
        &["no-such-subcommand"][..],
        &["encode"][..],
        &["inspect", "a", "b"][..],
        &["link", "x.zbf", "--threshold", "0.8"][..],
        &["estimate", "--no-such-flag", "x.csv"][..],
    ] {
        let out = zicht(args);
        assert_eq!(code(&out), Some(2), "{args:?}: {}", stderr(&out));
    }
    // 2: bad input.
    let garbage = setup.write("garbage.zbf", b"not an encoded file at all, not at all");
    let out = zicht(&["inspect", s(&garbage)]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("zicht: error:"),
        "{}",
        stderr(&out)
    );
    let out = zicht(&["inspect", s(&setup.path("missing.zbf"))]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    // 1: the work failed (the output cannot be written).
    let csv = setup.path("registry.csv");
    write_registry(&csv, 20, 1);
    let out = setup.encode(&csv, Path::new("/dev/null/out.zbf"), &[]);
    assert_eq!(code(&out), Some(1), "{}", stderr(&out));
}

// ------------------------------------------------------ corrupted .zbf files

/// Every single-byte change and every truncation of a small encoded file is
/// refused by `zicht inspect` with exit code 2 (and by `zicht link` for a
/// sample), never read as valid. The library-level version (every bit of
/// every byte) is in `crates/format/src/file.rs`'s unit tests.
#[test]
fn every_byte_change_and_truncation_is_detected() {
    let setup = Setup::new();
    let good_path = small_encoded_file(&setup);
    let good = std::fs::read(&good_path).unwrap();
    assert!(EncodedFile::from_bytes(&good).is_ok());
    ok(&zicht(&["inspect", s(&good_path)]));
    let bad = setup.path("bad.zbf");
    let mut failures = Vec::new();
    let mut check = |bytes: &[u8], what: String, also_link: bool| {
        std::fs::write(&bad, bytes).unwrap();
        let out = zicht(&["inspect", s(&bad)]);
        if code(&out) != Some(2) {
            failures.push(format!("inspect, {what}: exit {:?}", code(&out)));
        }
        if also_link {
            let out_dir = setup.path("link-out");
            let out = zicht(&[
                "link",
                s(&good_path),
                s(&bad),
                "--threshold",
                "0.8",
                "--out-dir",
                s(&out_dir),
            ]);
            if code(&out) != Some(2) || out_dir.exists() {
                failures.push(format!(
                    "link, {what}: exit {:?}, output left: {}",
                    code(&out),
                    out_dir.exists()
                ));
            }
        }
    };
    eprintln!("the small file has {} bytes", good.len());
    for at in 0..good.len() {
        let mut changed = good.clone();
        changed[at] ^= 0x01 << (at % 8);
        check(&changed, format!("byte {at} changed"), at % 16 == 0);
    }
    for length in 0..good.len() {
        check(
            &good[..length],
            format!("truncated to {length}"),
            length % 16 == 0,
        );
    }
    let mut longer = good.clone();
    longer.push(0);
    check(&longer, "one byte appended".into(), true);
    assert!(
        failures.is_empty(),
        "{} of {} cases not refused:\n{}",
        failures.len(),
        2 * good.len() + 1,
        failures.join("\n")
    );
}

// ------------------------------------------------ full and read-only output

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mount a tmpfs of `size` with extra `options`, or `None` (with a note)
    /// where mounting is not permitted (not root, or a container).
    fn tmpfs(dir: &Path, size: &str, options: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        let mut spec = format!("size={size}");
        if !options.is_empty() {
            spec.push(',');
            spec.push_str(options);
        }
        let result = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &spec, "tmpfs", s(dir)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match result {
            Ok(status) if status.success() => Some(Mount(dir.to_path_buf())),
            _ => {
                eprintln!("note: cannot mount a tmpfs here; skipping the tmpfs part of this test");
                None
            }
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// A full disk: `encode` and `link` fail with exit code 1 and leave nothing
/// in the output directory (no output file, no temporary file).
#[test]
fn a_full_disk_fails_cleanly() {
    let setup = Setup::new();
    let csv = setup.path("registry.csv");
    write_registry(&csv, 2000, 2);
    let small = setup.path("small");
    let Some(_mount) = Mount::tmpfs(&small, "64k", "") else {
        return;
    };
    // 2,000 filters of 1,024 bits are 256 KiB: more than the 64 KiB disk.
    let out = small.join("registry.zbf");
    let result = setup.encode(&csv, &out, &[]);
    assert_eq!(code(&result), Some(1), "{}", stderr(&result));
    assert!(stderr(&result).contains("zicht: error:"));
    assert_eq!(entries(&small), Vec::<String>::new());
    // The same as clkhash JSON (written in one piece at the end).
    let out = small.join("registry.json");
    let result = setup.encode(&csv, &out, &["--output-format", "clkhash-json"]);
    assert_eq!(code(&result), Some(1), "{}", stderr(&result));
    assert_eq!(entries(&small), Vec::<String>::new());
    // link: two encoded files elsewhere, the output directory on the tmpfs.
    let a = setup.path("a.zbf");
    ok(&setup.encode(&csv, &a, &[]));
    let b = setup.path("b.zbf");
    ok(&setup.encode(&csv, &b, &["--source", "b"]));
    let out_dir = small.join("linked");
    let result = zicht(&[
        "link",
        s(&a),
        s(&b),
        "--threshold",
        "0.5",
        "--out-dir",
        s(&out_dir),
    ]);
    assert_eq!(code(&result), Some(1), "{}", stderr(&result));
    let left: Vec<String> = entries(&out_dir)
        .into_iter()
        .filter(|name| name.starts_with('.'))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "temporary files left behind");
    // Whatever was committed before the disk filled up is whole: compare
    // with the same link written to a roomy directory.
    let roomy = setup.path("roomy");
    ok(&zicht(&[
        "link",
        s(&a),
        s(&b),
        "--threshold",
        "0.5",
        "--out-dir",
        s(&roomy),
    ]));
    for name in entries(&out_dir) {
        if name != "summary.json" {
            assert_eq!(
                std::fs::read(out_dir.join(&name)).unwrap(),
                std::fs::read(roomy.join(&name)).unwrap(),
                "{name} is partial"
            );
        }
    }
}

/// Output that cannot be written: under a path that is not a directory
/// (`/dev/null/x`), under a missing directory, and in a read-only
/// directory. root ignores permission bits, so the read-only directory is a
/// tmpfs mounted read-only when the test runs as root (skipped where
/// mounting is not permitted) and a `chmod 555` directory otherwise.
#[test]
fn unwritable_output_fails_cleanly() {
    let setup = Setup::new();
    let csv = setup.path("registry.csv");
    write_registry(&csv, 50, 3);
    let a = setup.path("a.zbf");
    ok(&setup.encode(&csv, &a, &[]));
    let mut targets = vec![PathBuf::from("/dev/null/x"), setup.path("no-such-dir/sub")];
    let readonly = setup.path("readonly");
    std::fs::create_dir(&readonly).unwrap();
    let mut _mount = None;
    let mut permissions = std::fs::metadata(&readonly).unwrap().permissions();
    {
        use std::os::unix::fs::PermissionsExt;
        permissions.set_mode(0o555);
    }
    std::fs::set_permissions(&readonly, permissions).unwrap();
    if std::fs::write(readonly.join("probe"), b"").is_ok() {
        // root: permission bits do not apply.
        std::fs::remove_file(readonly.join("probe")).unwrap();
        _mount = Mount::tmpfs(&readonly, "1m", "ro");
        if _mount.is_some() {
            targets.push(readonly.clone());
        }
    } else {
        targets.push(readonly.clone());
    }
    for dir in &targets {
        let before = entries(dir);
        let cases: Vec<(&str, Vec<String>)> = vec![
            (
                "keygen",
                vec!["keygen".into(), "--out".into(), s(&dir.join("k")).into()],
            ),
            ("encode", setup.encode_args(&csv, &dir.join("out.zbf"))),
            (
                "encode clkhash-json",
                [
                    setup.encode_args(&csv, &dir.join("out.json")),
                    vec!["--output-format".into(), "clkhash-json".into()],
                ]
                .concat(),
            ),
            (
                "link",
                [
                    "link",
                    s(&a),
                    "--threshold",
                    "0.9",
                    "--out-dir",
                    s(&dir.join("linked")),
                ]
                .map(String::from)
                .to_vec(),
            ),
            (
                "synth",
                [
                    "synth",
                    "--population",
                    "50",
                    "--out-dir",
                    s(&dir.join("synth")),
                ]
                .map(String::from)
                .to_vec(),
            ),
        ];
        for (what, args) in cases {
            if dir.ends_with("no-such-dir/sub") && (what == "link" || what == "synth") {
                // They create their output directory, parents included.
                continue;
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = zicht(&args);
            // Exit 1 (the work failed) for an output that cannot be
            // written, whichever command: not 0, not 2, not a panic.
            assert!(
                code(&out) == Some(1),
                "{what} into {}: exit {:?}: {}",
                dir.display(),
                code(&out),
                stderr(&out)
            );
            assert_eq!(
                entries(dir),
                before,
                "{what} left files in {}",
                dir.display()
            );
        }
    }
}

// ------------------------------------------------------ interrupted runs

/// Wait until `dir` holds an entry that satisfies `seen`, or `child` ends.
fn wait_for_entry(child: &mut Child, dir: &Path, seen: impl Fn(&str) -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if entries(dir).iter().any(|name| seen(name)) {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// `zicht encode` killed midway (SIGKILL, then SIGTERM) while writing: the
/// output file never appears. The temporary file (`.name.*.tmp`) stays after
/// SIGKILL (nothing can run then); after SIGTERM or SIGINT it is removed and
/// the exit code is 130.
#[test]
fn an_interrupted_encode_leaves_no_output() {
    let setup = Setup::new();
    let csv = setup.path("big.csv");
    write_registry(&csv, 300_000, 4);
    for signal in ["-KILL", "-TERM", "-INT"] {
        let out_dir = setup.path(&format!("out{signal}"));
        std::fs::create_dir(&out_dir).unwrap();
        let out = out_dir.join("big.zbf");
        let args = setup.encode_args(&csv, &out);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = zicht_command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill once the temporary output exists (writing has begun) and
        // some time has passed, so that the file is partly written.
        let writing = wait_for_entry(&mut child, &out_dir, |name| name.ends_with(".tmp"));
        std::thread::sleep(Duration::from_millis(100));
        send_signal(&child, signal);
        let status = child.wait().unwrap();
        assert!(writing, "the encoder never started writing");
        assert!(!status.success(), "{signal}: finished before it was killed");
        assert!(!out.exists(), "{signal}: a partial output file appeared");
        let left = entries(&out_dir);
        assert!(
            left.iter()
                .all(|name| name.starts_with(".big.zbf.") && name.ends_with(".tmp")),
            "{signal}: unexpected files {left:?}"
        );
        if signal == "-KILL" {
            if !left.is_empty() {
                eprintln!("note: after SIGKILL the temporary file remains: {left:?}");
            }
        } else {
            // SIGINT and SIGTERM: the handler removes the temporary file.
            assert_eq!(status.code(), Some(130), "{signal}");
            assert_eq!(left, Vec::<String>::new(), "{signal}: temporary file left");
        }
    }
}

/// Write an encoded file of `n` random filters of `bits` bits with about
/// `fill` of the bits set (no secret involved: the linker only sees bits).
fn random_zbf(path: &Path, label: &str, n: usize, bits: u32, seed: u64) {
    let length = FilterLength::new(bits).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = FileWriter::new(file, length, 0).unwrap();
    let mut rng = Rng(seed);
    for row in 0..n {
        let words: Vec<u64> = (0..length.words())
            .map(|_| rng.next() & rng.next())
            .collect();
        writer.push(row as u64, &[], &words).unwrap();
    }
    let header = Header {
        source_label: label.into(),
        filter_bits: bits,
        schema_fingerprint: "0".repeat(64),
        key_check: "0".repeat(16),
        encoding: zicht_format::Encoding::ZichtV1,
        hardening: Default::default(),
        strata: Vec::new(),
        created_unix: 0,
        zicht_version: "0.1.0".into(),
    };
    writer.finish(&header).unwrap();
}

/// `zicht link` killed midway (during the comparison, then while writing):
/// every output file present is complete, and no temporary file is left but
/// the ones SIGKILL gives no chance to clean up.
#[test]
fn an_interrupted_link_leaves_no_partial_output() {
    let setup = Setup::new();
    let a = setup.path("a.zbf");
    let b = setup.path("b.zbf");
    random_zbf(&a, "a", 2000, 512, 5);
    random_zbf(&b, "b", 2000, 512, 6);
    let link_args = |out_dir: &Path| -> Vec<String> {
        [
            "link",
            s(&a),
            s(&b),
            "--threshold",
            "0.3",
            "--out-dir",
            s(out_dir),
        ]
        .map(String::from)
        .to_vec()
    };
    let complete = setup.path("complete");
    let args = link_args(&complete);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&zicht(&args));
    for (signal, wait_for_output) in [("-KILL", false), ("-KILL", true), ("-TERM", true)] {
        let out_dir = setup.path(&format!("out{signal}{wait_for_output}"));
        let args = link_args(&out_dir);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = zicht_command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if wait_for_output {
            wait_for_entry(&mut child, &out_dir, |_| true);
        } else {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status();
        let _ = child.wait().unwrap();
        for name in entries(&out_dir) {
            if name.starts_with('.') {
                assert!(name.ends_with(".tmp"), "{signal}: unexpected {name}");
                // After SIGTERM the handler removes the temporary files, but
                // one created while it runs can survive (a known race, about
                // 1 in 20 when the signal lands in the output burst; see
                // docs/reliability.md), so it is reported, not failed.
                eprintln!("note: after {signal} a temporary file remains: {name}");
                continue;
            }
            if name != "summary.json" {
                assert_eq!(
                    std::fs::read(out_dir.join(&name)).unwrap(),
                    std::fs::read(complete.join(&name)).unwrap(),
                    "{signal}: {name} is partial"
                );
            }
        }
    }
}

// ------------------------------------------------------------- input limits

/// A record longer than the limit (1 MiB by default) is refused with exit
/// code 2, naming the row and line, before anything is written.
#[test]
fn a_record_over_the_limit_is_refused() {
    let setup = Setup::new();
    let mut csv = String::from("naam;geboortedatum;geslacht;geboorteplaats;uitbuiting\n");
    csv.push_str("\"Berg, Anna\";12-03-1990;V;Rotterdam;arbeid\n");
    csv.push_str(&format!(
        "\"Berg, {}\";12-03-1990;V;Rotterdam;arbeid\n",
        MARKER.repeat((2 << 20) / MARKER.len())
    ));
    let input = setup.write("long.csv", csv);
    let out = setup.path("long.zbf");
    let result = setup.encode(&input, &out, &[]);
    assert_eq!(code(&result), Some(2), "{}", stderr(&result));
    let message = stderr(&result);
    assert!(
        message.contains("row 1") && message.contains("line 3"),
        "{message}"
    );
    assert!(!message.contains(MARKER));
    assert!(!out.exists());
    assert_eq!(
        entries(setup.dir.path())
            .iter()
            .filter(|n| n.ends_with(".tmp"))
            .count(),
        0
    );
    // One long line with no line end at all.
    let input = setup.write("one-line.csv", "x".repeat(3 << 20));
    let result = setup.encode(&input, &out, &[]);
    assert_eq!(code(&result), Some(2), "{}", stderr(&result));
    assert!(!out.exists());
}

// ------------------------------------------------------------ hostile inputs

/// Files no well-meaning user would give, written into `dir`.
fn hostile_files(dir: &Path, valid_zbf: &Path) -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("nul-bytes".into(), vec![0; 1000]),
        (
            "invalid-utf8".into(),
            b"\xff\xfe\xfd,\xc3\n\x80,1,count\n\xff,\xfe,3\n".to_vec(),
        ),
        ("bom-only".into(), b"\xef\xbb\xbf".to_vec()),
        ("unterminated-quote".into(), b"\"a,b,count\n1,0,3\n".to_vec()),
        ("deep-json".into(), "[".repeat(100_000).into_bytes()),
        ("deep-toml".into(), format!("a = {}", "[".repeat(100_000)).into_bytes()),
        ("long-line".into(), vec![b'a'; 2 << 20]),
        ("capture-like".into(), b"A,B,count\n1,0,5\n0,1,6\n1,1,2\n".to_vec()),
        (
            "capture-huge-counts".into(),
            b"A,B,count\n1,0,9223372036854775807\n0,1,9223372036854775807\n1,1,1\n".to_vec(),
        ),
        ("clusters-like".into(), b"cluster,source,row\n0,a,0\n0,b,99999999999\n".to_vec()),
        (
            "clk-json-like".into(),
            br#"{"clks": ["AAAAAAAAAAA=", "//////////8=", "AA=="]}"#.to_vec(),
        ),
        ("secret-like-short".into(), b"0123456789abcdef".to_vec()),
        (
            "registry-with-marker".into(),
            format!(
                "naam;geboortedatum;geslacht;geboorteplaats;uitbuiting\n\"{MARKER}, Anna\";{MARKER};{MARKER};{MARKER};x\n"
            )
            .into_bytes(),
        ),
    ];
    let mut rng = Rng(99);
    files.push((
        "random-bytes".into(),
        (0..4096).map(|_| rng.next() as u8).collect(),
    ));
    let valid = std::fs::read(valid_zbf).unwrap();
    files.push(("zbf-half".into(), valid[..valid.len() / 2].to_vec()));
    let mut flipped = valid.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xFF;
    files.push(("zbf-flipped".into(), flipped));
    let mut paths: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|(name, bytes)| {
            let path = dir.join(&name);
            std::fs::write(&path, bytes).unwrap();
            (name, path)
        })
        .collect();
    let directory = dir.join("a-directory");
    std::fs::create_dir(&directory).unwrap();
    paths.push(("a-directory".into(), directory));
    paths.push(("missing".into(), dir.join("does-not-exist")));
    paths.push(("dev-null".into(), PathBuf::from("/dev/null")));
    paths.push(("valid-zbf".into(), valid_zbf.to_path_buf()));
    paths
}

/// One invocation's verdict: `None` when acceptable.
fn judge(args: &[String], output: &Output) -> Option<String> {
    let message = stderr(output);
    let bad = match code(output) {
        Some(0..=2) => message.contains("panicked") || message.contains(MARKER),
        _ => true,
    };
    bad.then(|| {
        format!(
            "{args:?}: exit {:?}: {}",
            code(output),
            message.lines().take(3).collect::<Vec<_>>().join(" | ")
        )
    })
}

/// Every subcommand on every hostile input, in every input slot: the exit
/// code is 0, 1 or 2 (never 101, a panic), and no message repeats a cell.
#[test]
fn no_panic_from_hostile_inputs() {
    let setup = Setup::new();
    let registry = setup.path("registry.csv");
    write_registry(&registry, 40, 7);
    let valid_zbf = setup.path("valid.zbf");
    ok(&setup.encode(&registry, &valid_zbf, &[]));
    let other_zbf = setup.path("other.zbf");
    ok(&setup.encode(&registry, &other_zbf, &["--source", "other"]));
    let capture = setup.write("capture.csv", "A,B,count\n1,0,30\n0,1,25\n1,1,10\n");
    let truth = setup.write("truth.csv", "source,row,person\nvalid,0,0\nother,0,0\n");
    let clusters = setup.write("clusters.csv", "cluster,source,row\n0,valid,0\n0,other,0\n");
    let hostile_dir = setup.path("hostile");
    std::fs::create_dir(&hostile_dir).unwrap();
    let hostile = hostile_files(&hostile_dir, &valid_zbf);
    let schema = examples().join("schema.toml");
    let profile = examples().join("profile.toml");
    let mut counter = 0;
    let mut fresh = |prefix: &str| {
        counter += 1;
        setup.path(&format!("{prefix}-{counter}"))
    };
    let mut runs: Vec<Vec<String>> = Vec::new();
    for (_, file) in &hostile {
        let file = s(file).to_string();
        let out = s(&fresh("out")).to_string();
        let dir = s(&fresh("dir")).to_string();
        let key = s(&setup.key).to_string();
        let encode = |input: &str, schema: &str, profile: &str, key: &str| -> Vec<String> {
            [
                "encode",
                input,
                "--schema",
                schema,
                "--profile",
                profile,
                "--secret-file",
                key,
                "--out",
                &out,
            ]
            .map(String::from)
            .to_vec()
        };
        let (registry, schema, profile) = (s(&registry), s(&schema), s(&profile));
        runs.push(encode(&file, schema, profile, &key));
        runs.push(encode(registry, &file, profile, &key));
        runs.push(encode(registry, schema, &file, &key));
        runs.push(encode(registry, schema, profile, &file));
        let mut skip = encode(&file, schema, profile, &key);
        skip.extend(["--on-error".into(), "skip".into(), "--force".into()]);
        runs.push(skip);
        let mut json = encode(&file, schema, profile, &key);
        json.extend(["--output-format", "clkhash-json", "--force"].map(String::from));
        runs.push(json);
        runs.push(["inspect", &file].map(String::from).to_vec());
        runs.push(
            ["inspect", "--json", "--show-bits", "3", &file]
                .map(String::from)
                .to_vec(),
        );
        runs.push(
            ["link", &file, "--threshold", "0.8", "--out-dir", &dir]
                .map(String::from)
                .to_vec(),
        );
        let dir2 = s(&fresh("dir")).to_string();
        runs.push(
            [
                "link",
                s(&valid_zbf),
                &file,
                "--threshold",
                "0.8",
                "--out-dir",
                &dir2,
            ]
            .map(String::from)
            .to_vec(),
        );
        runs.push(["estimate", &file].map(String::from).to_vec());
        runs.push(
            ["estimate", "--json", "--strata", &file]
                .map(String::from)
                .to_vec(),
        );
        runs.push(
            ["eval", "--truth", &file, "--clusters", s(&clusters)]
                .map(String::from)
                .to_vec(),
        );
        runs.push(
            ["eval", "--truth", s(&truth), "--clusters", &file]
                .map(String::from)
                .to_vec(),
        );
        runs.push(
            [
                "eval",
                "--truth",
                s(&truth),
                "--clusters",
                s(&clusters),
                "--truth-capture",
                &file,
                "--capture",
                s(&capture),
            ]
            .map(String::from)
            .to_vec(),
        );
        runs.push(["keygen", "--out", &file].map(String::from).to_vec());
        runs.push(
            ["synth", "--population", "30", "--out-dir", &file]
                .map(String::from)
                .to_vec(),
        );
        let audit = |file: &str, plaintext: &str, schema: &str, profile: &str, key: &str| {
            [
                "audit",
                file,
                "--plaintext",
                plaintext,
                "--schema",
                schema,
                "--profile",
                profile,
                "--secret-file",
                key,
                "--sample",
                "200",
                "--neighbour-probes",
                "50",
            ]
            .map(String::from)
            .to_vec()
        };
        let valid = s(&valid_zbf);
        runs.push(["audit", &file].map(String::from).to_vec());
        runs.push(audit(&file, registry, schema, profile, &key));
        runs.push(audit(valid, &file, schema, profile, &key));
        runs.push(audit(valid, registry, &file, profile, &key));
        runs.push(audit(valid, registry, schema, &file, &key));
        runs.push(audit(valid, registry, schema, profile, &file));
        runs.push(
            ["demo", "--population", "300", "--keep", &file]
                .map(String::from)
                .to_vec(),
        );
    }
    for extra in [
        &["--sample", "0"][..],
        &["--sample", "1"][..],
        &["--neighbour-probes", "0"][..],
        &["--attack-tokens", "0"][..],
        &["--max-qgram-recovery", "NaN"][..],
        &["--max-reidentification", "-1"][..],
        &["--threads", "0"][..],
        &["--strict", "--json"][..],
    ] {
        let mut args: Vec<String> = ["audit", s(&valid_zbf)].map(String::from).to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        runs.push(args);
    }
    for extra in [
        &["--population", "0"][..],
        &["--population", "1"][..],
        &["--registries", "0"][..],
        &["--registries", "1"][..],
        &["--registries", "9"][..],
        &["--threshold", "0"][..],
        &["--threshold", "1"][..],
        &["--threads", "0"][..],
        &["--keep", "/dev/null/x"][..],
    ] {
        let mut args: Vec<String> = ["demo", "--population", "200"].map(String::from).to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        runs.push(args);
    }
    // Hostile arguments with otherwise valid inputs.
    let (valid, other, capture_s) = (s(&valid_zbf), s(&other_zbf), s(&capture));
    for threshold in ["0", "-1", "1.5", "NaN", "inf", "", "0.8.1", "1e-300", "0,8"] {
        let dir = s(&fresh("dir")).to_string();
        runs.push(
            [
                "link",
                valid,
                other,
                "--threshold",
                threshold,
                "--out-dir",
                &dir,
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    let dir = s(&fresh("dir")).to_string();
    runs.push(
        [
            "link",
            valid,
            other,
            "--threshold",
            "0.8",
            "--threads",
            "0",
            "--out-dir",
            &dir,
        ]
        .map(String::from)
        .to_vec(),
    );
    let dir = s(&fresh("dir")).to_string();
    runs.push(
        [
            "link",
            valid,
            valid,
            "--threshold",
            "0.8",
            "--out-dir",
            &dir,
        ]
        .map(String::from)
        .to_vec(),
    );
    let dir = s(&fresh("dir")).to_string();
    runs.push(
        [
            "link",
            valid,
            other,
            "--threshold",
            "0.8",
            "--solver",
            "optimal",
            "--dedup-threshold",
            "0.1",
            "--out-dir",
            &dir,
        ]
        .map(String::from)
        .to_vec(),
    );
    for extra in [
        &["--level", "0"][..],
        &["--level", "1"][..],
        &["--level", "NaN"][..],
        &["--p-threshold", "-1"][..],
        &["--ci", "bootstrap", "--bootstrap", "0"][..],
        &["--ci", "bootstrap", "--bootstrap", "3"][..],
        &["--interactions", "A:Z"][..],
        &["--interactions", "A:A"][..],
        &["--interactions", ":"][..],
        &["--lists", "A"][..],
        &["--lists", "A,A"][..],
        &["--strata-columns", "count"][..],
        &["--min-cell", "18446744073709551615"][..],
        &["--threads", "0"][..],
        &["--method", "aic"][..],
        &["--method", "lincoln-petersen"][..],
        &["--strata"][..],
    ] {
        let mut args: Vec<String> = vec!["estimate".into(), capture_s.into()];
        args.extend(extra.iter().map(|a| a.to_string()));
        runs.push(args);
    }
    for extra in [
        &["--population", "0"][..],
        &["--population", "1"][..],
        &["--registries", "0"][..],
        &["--registries", "1"][..],
        &["--registries", "9"][..],
        &["--error-scale", "-1"][..],
        &["--error-scale", "NaN"][..],
        &["--error-scale", "1e308"][..],
        &["--duplicate-rate", "2"][..],
        &["--duplicate-rate", "1"][..],
        &["--capture-scale", "0"][..],
        &["--capture-scale", "1e9"][..],
        &["--heterogeneity", "inf"][..],
        &["--dependence", "a:b:c"][..],
        &["--dependence", "police:police:3"][..],
        &["--dependence", "police:shelters:0"][..],
        &["--dependence", "police:shelters:-1"][..],
    ] {
        let dir = s(&fresh("synth")).to_string();
        let mut args: Vec<String> = ["synth", "--population", "40", "--out-dir", &dir]
            .map(String::from)
            .to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        runs.push(args);
    }
    for extra in [
        &["--delimiter", ""][..],
        &["--delimiter", "ab"][..],
        &["--delimiter", "\""][..],
        &["--delimiter", "\n"][..],
        &["--encoding", "klingon"][..],
        &["--date-format", "%Q"][..],
        &["--date-format", "%"][..],
        &["--column", "="][..],
        &["--column", "nonsense=x"][..],
        &["--missing", ""][..],
        &["--source", "count"][..],
        &["--source", "a,b"][..],
        &["--source", ""][..],
        &["--threads", "0"][..],
        &["--no-header"][..],
        &["--id-map", "/dev/null/x", "--id-column", "naam"][..],
        &["--id-map", "ID-MAP", "--id-column", "no-such-column"][..],
        &["--id-map", "ID-MAP", "--id-column", "naam"][..],
    ] {
        let out = s(&fresh("out")).to_string();
        let id_map = s(&fresh("id-map")).to_string();
        let mut args = setup.encode_args(&registry, Path::new(&out));
        args.extend(extra.iter().map(|a| {
            if *a == "ID-MAP" {
                id_map.clone()
            } else {
                a.to_string()
            }
        }));
        runs.push(args);
    }
    eprintln!("{} hostile files, {} runs", hostile.len(), runs.len());
    let mut failures = Vec::new();
    for args in &runs {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = zicht(&refs);
        if let Some(failure) = judge(args, &output) {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} runs panicked, exited oddly or leaked a value:\n{}",
        failures.len(),
        runs.len(),
        failures.join("\n")
    );
}

// -------------------------------------------------------------- determinism

fn link_outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    entries(dir)
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            if name == "summary.json" {
                let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                json.as_object_mut().unwrap().remove("timings_ms");
                (name, serde_json::to_vec(&json).unwrap())
            } else {
                (name, bytes)
            }
        })
        .collect()
}

/// The same inputs give byte-identical outputs with 1, 2 and 8 threads, and
/// across runs: `encode`, `link` (all but the timings in summary.json),
/// `audit` (with the frequency attack) and `estimate` with a bootstrap, on
/// realistic registries of 3,000 and 2,500 records that overlap with typos.
#[test]
fn outputs_do_not_depend_on_the_thread_count() {
    let setup = Setup::new();
    let first = setup.path("police.csv");
    write_registry(&first, 3000, 11);
    // The second registry: 1,500 of the same persons (every tenth with a
    // changed letter) and 1,000 others.
    let second = setup.path("shelters.csv");
    {
        let text = std::fs::read_to_string(&first).unwrap();
        let mut lines: Vec<String> = text.lines().take(1501).map(String::from).collect();
        for (index, line) in lines.iter_mut().enumerate().skip(1) {
            if index % 10 == 0 {
                *line = line.replacen('a', "e", 1);
            }
        }
        let mut rng = Rng(12);
        for _ in 0..1000 {
            lines.push(person_line(&mut rng));
        }
        std::fs::write(&second, lines.join("\n") + "\n").unwrap();
    }
    let mut encoded = Vec::new();
    for (csv, label) in [(&first, "police"), (&second, "shelters")] {
        let mut reference: Option<Vec<u8>> = None;
        for (run, threads) in ["1", "2", "8", "2"].iter().enumerate() {
            let out = setup.path(&format!("{label}-{run}.zbf"));
            ok(&setup.encode(csv, &out, &["--source", label, "--threads", threads]));
            let bytes = std::fs::read(&out).unwrap();
            match &reference {
                None => reference = Some(bytes),
                Some(expected) => {
                    assert!(*expected == bytes, "{label}: {threads} threads differ")
                }
            }
        }
        encoded.push(setup.path(&format!("{label}-0.zbf")));
    }
    let mut reference: Option<Vec<(String, Vec<u8>)>> = None;
    for (run, threads) in ["1", "2", "8", "2"].iter().enumerate() {
        let out_dir = setup.path(&format!("linked-{run}"));
        ok(&zicht(&[
            "link",
            s(&encoded[0]),
            s(&encoded[1]),
            "--threshold",
            "0.8",
            "--threads",
            threads,
            "--out-dir",
            s(&out_dir),
        ]));
        let outputs = link_outputs(&out_dir);
        match &reference {
            None => reference = Some(outputs),
            Some(expected) => assert!(*expected == outputs, "link: {threads} threads differ"),
        }
    }
    let mut reference: Option<Vec<u8>> = None;
    for threads in ["1", "2", "8", "2"] {
        let output = zicht(&[
            "audit",
            s(&encoded[0]),
            "--plaintext",
            s(&first),
            "--schema",
            s(&examples().join("schema.toml")),
            "--profile",
            s(&examples().join("profile.toml")),
            "--secret-file",
            s(&setup.key),
            "--json",
            "--sample",
            "1000",
            "--neighbour-probes",
            "200",
            "--threads",
            threads,
        ]);
        ok(&output);
        match &reference {
            None => reference = Some(output.stdout),
            Some(expected) => {
                assert!(
                    *expected == output.stdout,
                    "audit: {threads} threads differ"
                )
            }
        }
    }
    let capture = setup.path("linked-0").join("capture.csv");
    let mut reference: Option<Vec<u8>> = None;
    for threads in ["1", "2", "8", "2"] {
        let output = zicht(&[
            "estimate",
            s(&capture),
            "--method",
            "main-effects",
            "--ci",
            "bootstrap",
            "--bootstrap",
            "200",
            "--json",
            "--threads",
            threads,
        ]);
        ok(&output);
        match &reference {
            None => reference = Some(output.stdout),
            Some(expected) => {
                assert!(
                    *expected == output.stdout,
                    "estimate: {threads} threads differ"
                )
            }
        }
    }
}

/// `zicht synth` with the same seed writes byte-identical files.
#[test]
fn synth_is_deterministic() {
    let setup = Setup::new();
    let mut reference: Option<Vec<(String, Vec<u8>)>> = None;
    for run in 0..2 {
        let dir = setup.path(&format!("synth-{run}"));
        ok(&zicht(&[
            "synth",
            "--population",
            "500",
            "--seed",
            "7",
            "--out-dir",
            s(&dir),
        ]));
        let outputs = tree(&dir);
        assert!(outputs.len() > 2, "{outputs:?}");
        match &reference {
            None => reference = Some(outputs),
            Some(expected) => assert!(*expected == outputs, "synth runs differ"),
        }
    }
}
