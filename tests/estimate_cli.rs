//! End-to-end tests of `zicht estimate` on the published tables and on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mse/");

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn zicht(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_zicht"))
        .arg("estimate")
        .args(args)
        .output()
        .expect("run zicht");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    output
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

fn write_temp(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

#[test]
fn home_office_figure_as_json() {
    let path = fixture("uk2013_5lists.csv");
    let value = json(&zicht(&[
        path.to_str().unwrap(),
        "--method",
        "aic-stepwise",
        "--json",
    ]));
    let estimate = value["estimate"].as_f64().unwrap();
    assert!((estimate - 11_313.0).abs() / 11_313.0 < 0.005, "{estimate}");
    let low = value["ci_low"].as_f64().unwrap();
    let high = value["ci_high"].as_f64().unwrap();
    assert!((low - 9_889.0).abs() / 9_889.0 < 0.01, "{low}");
    assert!((high - 13_063.0).abs() / 13_063.0 < 0.01, "{high}");
    assert_eq!(value["observed"], 2_744);
    assert_eq!(value["method"], "aic-stepwise");
    assert_eq!(value["ci_method"], "profile");
    let terms: Vec<&str> = value["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(terms.contains(&"LA:NG"), "{terms:?}");
    assert!(value.get("strata").is_none());
}

#[test]
fn readable_table_for_every_fixture() {
    for name in [
        "korea.csv",
        "kosovo.csv",
        "netherlands_6lists.csv",
        "new_orleans_5lists.csv",
        "new_orleans_8lists.csv",
        "uk2013_5lists.csv",
        "uk2013_6lists.csv",
        "western.csv",
    ] {
        let path = fixture(name);
        let output = zicht(&[path.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).unwrap();
        for label in [
            "observed n",
            "estimate",
            "interval",
            "dark figure",
            "model",
            "deviance",
            "AIC / BIC",
        ] {
            assert!(text.contains(label), "{name}: no `{label}` in\n{text}");
        }
    }
}

#[test]
fn a_model_without_an_estimate_is_refused() {
    let path = fixture("korea.csv");
    let output = zicht(&[path.to_str().unwrap(), "--interactions", "b:c,b:d"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no estimate under this model"), "{stderr}");
    assert!(output.stdout.is_empty());

    let path = fixture("uk2013_6lists.csv");
    let output = zicht(&[path.to_str().unwrap(), "--interactions", "LA:GP"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no estimate under this model"), "{stderr}");
}

#[test]
fn bad_input_is_named_by_line_without_the_value() {
    let cases = [
        (
            "A,B,count\n1,0,4\n1,yes,3\n",
            vec!["--lists", "A,B"],
            "line 3",
        ),
        ("A,B,count\n1,0,4\n1,1,-2\n", vec![], "line 3"),
        ("A,B,count\n1,0,4\n1,1,2.5\n", vec![], "line 3"),
        ("A,B,count\n1,0,4\n0,0,3\n", vec![], "line 3"),
        ("A,B,n\n1,0,4\n", vec![], "count"),
        ("A,count\n1,4\n", vec![], "at least two lists"),
        ("A,B,count\n1,0,4\n1,1\n", vec![], "line 3"),
        ("A,B,count\n1,0,4\n", vec!["--interactions", "A:Z"], "`Z`"),
        (
            "A,B,C,count\n1,0,0,4\n",
            vec!["--method", "chapman"],
            "two lists",
        ),
    ];
    for (text, extra, expected) in cases {
        let file = write_temp(text);
        let mut args = vec![file.path().to_str().unwrap()];
        args.extend(extra.iter().copied());
        let output = zicht(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{text}: {stderr}");
        assert!(stderr.contains(expected), "{text}: {stderr}");
        assert!(!stderr.contains("yes"), "{stderr}");
        assert!(
            !stderr.contains("-2") && !stderr.contains("2.5"),
            "{stderr}"
        );
    }
    let output = zicht(&["/nonexistent/table.csv"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn repeated_histories_are_summed_and_reported() {
    let file = write_temp("A,B,count\n1,0,40\n0,1,30\n1,1,5\n1,0,20\n");
    let value = json(&zicht(&[file.path().to_str().unwrap(), "--json"]));
    assert_eq!(value["observed"], 95);
    let notes = value["notes"].to_string();
    assert!(notes.contains("line"), "{notes}");
    // Lincoln-Petersen with n1 = 65, n2 = 35, m = 5.
    let estimate = value["estimate"].as_f64().unwrap();
    assert!((estimate - 65.0 * 35.0 / 5.0).abs() < 1e-6, "{estimate}");
}

#[test]
fn strata_give_one_estimate_each_and_a_total() {
    let file = write_temp(
        "A,B,C,region,count\n\
         1,0,0,north,40\n0,1,0,north,30\n0,0,1,north,20\n1,1,0,north,8\n1,0,1,north,6\n0,1,1,north,5\n1,1,1,north,2\n\
         1,0,0,south,25\n0,1,0,south,35\n0,0,1,south,15\n1,1,0,south,6\n1,0,1,south,4\n0,1,1,south,7\n1,1,1,south,1\n",
    );
    let value = json(&zicht(&[
        file.path().to_str().unwrap(),
        "--strata",
        "--method",
        "main-effects",
        "--json",
    ]));
    let strata = value["strata"].as_array().unwrap();
    assert_eq!(strata.len(), 2);
    let sum: f64 = strata.iter().map(|s| s["estimate"].as_f64().unwrap()).sum();
    assert!((value["estimate"].as_f64().unwrap() - sum).abs() < 1e-6);
    for stratum in strata {
        for key in [
            "estimate",
            "ci_low",
            "ci_high",
            "observed",
            "method",
            "ci_method",
            "terms",
        ] {
            assert!(stratum.get(key).is_some(), "{key}");
        }
    }
    let text = zicht(&[file.path().to_str().unwrap(), "--strata"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("north") && text.contains("total"), "{text}");
}

#[test]
fn bootstrap_output_does_not_depend_on_threads() {
    let path = fixture("korea.csv");
    let run = |threads: &str| {
        zicht(&[
            path.to_str().unwrap(),
            "--ci",
            "bootstrap",
            "--bootstrap",
            "50",
            "--seed",
            "9",
            "--threads",
            threads,
            "--json",
        ])
    };
    let one = run("1");
    let three = run("3");
    assert!(one.status.success());
    assert_eq!(one.stdout, three.stdout);
    let value = json(&one);
    assert!(value["ci_method"]
        .as_str()
        .unwrap()
        .starts_with("bootstrap"));
}

#[test]
fn small_cells_are_suppressed_in_the_printed_table() {
    let path = fixture("korea.csv");
    let output = zicht(&[path.to_str().unwrap(), "--min-cell", "10"]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("capture table for publication"), "{text}");
    // Korea's cells of 5, 5 and 6 are suppressed, the 54 is not.
    assert!(text.contains("  x"), "{text}");
    assert!(text.contains("  54"), "{text}");
    assert!(!text.contains("  6\n"), "{text}");
    // The estimate itself uses the exact counts.
    let plain = String::from_utf8(zicht(&[path.to_str().unwrap()]).stdout).unwrap();
    let line = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("estimate"))
            .unwrap()
            .to_string()
    };
    assert_eq!(line(&text), line(&plain));
}
