//! End-to-end tests of `zicht synth` and `zicht eval`.

use std::path::Path;
use std::process::{Command, Output};

fn zicht(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_zicht"))
        .args(args)
        .output()
        .expect("run zicht");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    output
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn synth(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "synth",
        "--out-dir",
        dir.to_str().unwrap(),
        "--population",
        "1500",
    ];
    args.extend_from_slice(extra);
    zicht(&args)
}

const FILES: [&str; 12] = [
    "schema.toml",
    "police.csv",
    "shelters.csv",
    "border_police.csv",
    "labour_inspectorate.csv",
    "profiles/police.toml",
    "profiles/shelters.toml",
    "profiles/border_police.toml",
    "profiles/labour_inspectorate.toml",
    "truth.csv",
    "truth_capture.csv",
    "true_n.csv",
];

#[test]
fn synth_is_deterministic_for_a_seed() {
    let temp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        temp.path().join("a"),
        temp.path().join("b"),
        temp.path().join("c"),
    );
    ok(&synth(&a, &["--seed", "7"]));
    ok(&synth(&b, &["--seed", "7"]));
    ok(&synth(&c, &["--seed", "8"]));
    for name in FILES.iter().chain(&["README.txt"]) {
        let x = std::fs::read(a.join(name)).unwrap();
        let y = std::fs::read(b.join(name)).unwrap();
        assert!(x == y, "{name} differs for the same seed");
    }
    assert_ne!(
        std::fs::read(a.join("police.csv")).unwrap(),
        std::fs::read(c.join("police.csv")).unwrap()
    );
}

#[test]
fn synth_refuses_a_non_empty_directory_unless_forced() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("keep.txt"), "x").unwrap();
    let out = synth(temp.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    assert!(!temp.path().join("police.csv").exists());
    ok(&synth(temp.path(), &["--force"]));
    assert!(temp.path().join("police.csv").exists());
    assert!(temp.path().join("keep.txt").exists());
}

#[test]
fn synth_rejects_bad_settings_with_exit_code_2() {
    let temp = tempfile::tempdir().unwrap();
    for extra in [
        &["--registries", "9"][..],
        &["--registries", "1"],
        &["--error-scale", "-1"],
        &["--duplicate-rate", "2"],
        &["--dependence", "police:nowhere:2"],
        &["--dependence", "police:border_police"],
        &[
            "--dependence",
            "police:labour_inspectorate:3",
            "--registries",
            "3",
        ],
    ] {
        let out = synth(&temp.path().join("x"), extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
    }
}

/// The generated schema and profiles are accepted by the encoder, and every
/// row of every registry (in its own house style) encodes without a reject.
#[test]
fn every_registry_encodes_through_its_profile() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    ok(&synth(&dir, &["--registries", "8", "--error-scale", "2"]));
    let schema = std::fs::read_to_string(dir.join("schema.toml")).unwrap();
    zicht_encoder::Schema::from_toml(&schema).expect("the schema parses");
    let secret = temp.path().join("secret.key");
    ok(&zicht(&["keygen", "--out", secret.to_str().unwrap()]));
    for label in [
        "police",
        "shelters",
        "border_police",
        "labour_inspectorate",
        "municipalities",
        "healthcare",
        "youth_care",
        "ngo_outreach",
    ] {
        let profile = dir.join("profiles").join(format!("{label}.toml"));
        let text = std::fs::read_to_string(&profile).unwrap();
        zicht_encoder::Profile::from_toml(&text).expect("the profile parses");
        let out = zicht(&[
            "encode",
            "--schema",
            dir.join("schema.toml").to_str().unwrap(),
            "--secret-file",
            secret.to_str().unwrap(),
            "--profile",
            profile.to_str().unwrap(),
            "--out",
            temp.path().join(format!("{label}.zbf")).to_str().unwrap(),
            dir.join(format!("{label}.csv")).to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Clusters that are exactly the true persons score 1 everywhere, and the
/// estimates from the linked and the true table agree.
#[test]
fn eval_of_the_true_clusters_is_perfect() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    ok(&synth(&dir, &[]));
    let truth = std::fs::read_to_string(dir.join("truth.csv")).unwrap();
    let mut clusters = String::from("cluster,source,row\n");
    for line in truth.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        clusters.push_str(&format!("p{},{},{}\n", cells[2], cells[0], cells[1]));
    }
    let clusters_path = temp.path().join("clusters.csv");
    std::fs::write(&clusters_path, clusters).unwrap();
    let out = ok(&zicht(&[
        "eval",
        "--truth",
        dir.join("truth.csv").to_str().unwrap(),
        "--clusters",
        clusters_path.to_str().unwrap(),
        "--truth-capture",
        dir.join("truth_capture.csv").to_str().unwrap(),
        "--method",
        "main-effects",
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["pairwise"]["f1"], 1.0);
    assert_eq!(json["bcubed"]["f1"], 1.0);
    assert_eq!(json["capture"]["total_absolute_difference"], 0);
    assert_eq!(json["clusters"], json["true_persons"]);
    assert_eq!(json["estimates"]["difference"], 0.0);
    let observed = json["capture"]["true_observed"].as_u64().unwrap();
    assert_eq!(
        json["estimates"]["truth"]["observed"].as_u64(),
        Some(observed)
    );
}

#[test]
fn eval_scores_a_hand_made_case_in_text() {
    let temp = tempfile::tempdir().unwrap();
    let truth = temp.path().join("truth.csv");
    let clusters = temp.path().join("clusters.csv");
    std::fs::write(
        &truth,
        "source,row,person\na,0,p1\nb,0,p1\nb,1,p1\na,1,p2\nc,0,p2\nc,1,p3\n",
    )
    .unwrap();
    std::fs::write(
        &clusters,
        "cluster,source,row\n1,a,0\n1,b,0\n2,b,1\n3,a,1\n3,c,0\n3,c,1\n",
    )
    .unwrap();
    let out = ok(&zicht(&[
        "eval",
        "--truth",
        truth.to_str().unwrap(),
        "--clusters",
        clusters.to_str().unwrap(),
    ]));
    assert!(
        out.contains("all pairs                 0.5000    0.5000    0.5000"),
        "{out}"
    );
    assert!(out.contains("total absolute difference 2"), "{out}");
}

#[test]
fn eval_bad_input_names_the_line_not_the_value() {
    let temp = tempfile::tempdir().unwrap();
    let truth = temp.path().join("truth.csv");
    let clusters = temp.path().join("clusters.csv");
    std::fs::write(&truth, "source,row,person\na,0,Secretperson\na,zz9,p2\n").unwrap();
    std::fs::write(&clusters, "cluster,source,row\n1,a,0\n").unwrap();
    let args = |t: &Path, c: &Path| {
        zicht(&[
            "eval",
            "--truth",
            t.to_str().unwrap(),
            "--clusters",
            c.to_str().unwrap(),
        ])
    };
    let out = args(&truth, &clusters);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(
        !stderr.contains("zz9") && !stderr.contains("Secretperson"),
        "{stderr}"
    );

    std::fs::write(&truth, "source,row,person\na,0,p1\n").unwrap();
    std::fs::write(&clusters, "cluster,source,row\n1,a,0\n1,Secretsource,4\n").unwrap();
    let out = args(&truth, &clusters);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3") && !stderr.contains("Secretsource"),
        "{stderr}"
    );

    let out = args(&temp.path().join("missing.csv"), &clusters);
    assert_eq!(out.status.code(), Some(2));
}
