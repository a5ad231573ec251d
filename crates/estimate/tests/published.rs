//! The published figures for the tables in `tests/data/mse` (copies of `shared/fixtures/mse`), reproduced.
//!
//! Point estimates must be within 0.5% and interval limits within 1% of the
//! published values (see the fixtures' README for the sources).

use zicht_estimate::{
    estimate, CaptureTable, CsvOptions, Estimate, EstimateConfig, EstimateError, IntervalMethod,
    Method,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/mse/");

fn load(name: &str) -> CaptureTable {
    let path = format!("{FIXTURES}{name}");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    CaptureTable::from_csv_reader(file, &CsvOptions::default()).unwrap()
}

fn run(name: &str, method: Method, interval: IntervalMethod) -> Result<Estimate, EstimateError> {
    let config = EstimateConfig {
        method,
        interval,
        ..EstimateConfig::default()
    };
    estimate(&load(name), &config)
}

fn assert_close(what: &str, got: f64, published: f64, tolerance: f64) {
    let relative = (got - published).abs() / published;
    assert!(
        relative <= tolerance,
        "{what}: got {got:.1}, published {published}, off by {:.2}%",
        relative * 100.0
    );
}

fn sorted(terms: &[String]) -> Vec<String> {
    let mut terms = terms.to_vec();
    terms.sort();
    terms
}

#[test]
fn uk_five_lists_home_office_2014() {
    let result = run(
        "uk2013_5lists.csv",
        Method::AicStepwise,
        IntervalMethod::Profile,
    )
    .unwrap();
    assert_close("estimate", result.estimate, 11_313.0, 0.005);
    assert_close("profile lower limit", result.ci_low, 9_889.0, 0.01);
    assert_close("profile upper limit", result.ci_high, 13_063.0, 0.01);
    assert_eq!(result.observed, 2_744);
    assert_eq!(result.ci_method, "profile");
    // LA and GP never overlap: models with LA:GP were skipped.
    assert!(!result.terms.contains(&"LA:GP".to_string()));
}

#[test]
fn uk_five_lists_exhaustive_bic() {
    let result = run("uk2013_5lists.csv", Method::Bic, IntervalMethod::Wald).unwrap();
    assert_close("estimate", result.estimate, 22_991.0, 0.005);
    assert!(result.candidates.len() >= 2);
    assert!(result.candidates[0].bic <= result.candidates[1].bic);
    // 2^9 of the 2^10 models hold the never-overlapping pair LA:GP.
    assert_eq!(result.models_without_estimate, 512);
}

#[test]
fn uk_six_lists_stepwise_and_main_effects() {
    let result = run("uk2013_6lists.csv", Method::Stepwise, IntervalMethod::Wald).unwrap();
    let published: Vec<String> = [
        "PF:NCA", "LA:NG", "NG:GP", "LA:PF", "PF:GP", "GO:GP", "NG:GO",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(sorted(&result.terms), sorted(&published));
    let order: Vec<&str> = result.steps.iter().map(|s| s.term.as_str()).collect();
    assert_eq!(order, published);
    assert!(result.steps.iter().all(|s| s.p_value < 0.02));
    assert_close("stepwise estimate", result.estimate, 11_418.0, 0.005);

    let main = run(
        "uk2013_6lists.csv",
        Method::MainEffects,
        IntervalMethod::Wald,
    )
    .unwrap();
    assert_close("main-effects estimate", main.estimate, 12_214.0, 0.005);
    assert!(main.terms.is_empty());
}

#[test]
fn uk_six_lists_never_overlapping_pairs_have_no_estimate() {
    for pair in ["LA:GP", "LA:NCA"] {
        let error = run(
            "uk2013_6lists.csv",
            Method::Fixed(vec![pair.to_string()]),
            IntervalMethod::Profile,
        )
        .unwrap_err();
        assert!(
            matches!(error, EstimateError::NoEstimate { .. }),
            "{pair}: {error}"
        );
        assert!(error.to_string().contains("no estimate under this model"));
    }
}

#[test]
fn new_orleans_stepwise_and_main_effects_wald() {
    let result = run(
        "new_orleans_8lists.csv",
        Method::Stepwise,
        IntervalMethod::Wald,
    )
    .unwrap();
    assert_eq!(result.terms, ["D:E"]);
    assert_close("stepwise estimate", result.estimate, 1_184.0, 0.005);

    let main = run(
        "new_orleans_8lists.csv",
        Method::MainEffects,
        IntervalMethod::Wald,
    )
    .unwrap();
    assert_close("main-effects estimate", main.estimate, 997.0, 0.005);
    assert_close("Wald lower limit", main.ci_low, 644.0, 0.01);
    assert_close("Wald upper limit", main.ci_high, 1_618.0, 0.01);
    assert_eq!(main.ci_method, "wald");
}

#[test]
fn korea_has_two_models_without_an_estimate() {
    let pairs = ["b:c", "b:d", "c:d"];
    let mut refused = Vec::new();
    for subset in 0u32..8 {
        let terms: Vec<String> = (0..3)
            .filter(|i| subset & (1 << i) != 0)
            .map(|i| pairs[i].to_string())
            .collect();
        match run(
            "korea.csv",
            Method::Fixed(terms.clone()),
            IntervalMethod::Wald,
        ) {
            Ok(result) => assert!(result.estimate.is_finite() && result.estimate >= 123.0),
            Err(EstimateError::NoEstimate { .. }) => refused.push(terms.join("+")),
            Err(other) => panic!("{terms:?}: {other}"),
        }
    }
    assert_eq!(refused, ["b:c+b:d", "b:c+b:d+c:d"]);
    let search = run("korea.csv", Method::Aic, IntervalMethod::Profile).unwrap();
    assert_eq!(search.models_without_estimate, 2);
}

#[test]
fn every_fixture_gets_an_answer() {
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
        let result = run(name, Method::Stepwise, IntervalMethod::Profile).unwrap();
        assert!(result.estimate.is_finite(), "{name}");
        assert!(result.estimate >= result.observed as f64, "{name}");
        assert!(
            result.ci_low <= result.estimate && result.estimate <= result.ci_high,
            "{name}"
        );
        assert!(result.ci_low >= result.observed as f64, "{name}");
    }
}

#[test]
fn profile_interval_brackets_and_wald_differs() {
    let profile = run("western.csv", Method::MainEffects, IntervalMethod::Profile).unwrap();
    let wald = run("western.csv", Method::MainEffects, IntervalMethod::Wald).unwrap();
    assert_eq!(profile.estimate, wald.estimate);
    assert!(profile.ci_low < profile.estimate && profile.estimate < profile.ci_high);
    assert!((profile.ci_high - wald.ci_high).abs() > 1.0);
}

fn two_lists() -> CaptureTable {
    CaptureTable::from_counts(
        vec!["A".into(), "B".into()],
        vec![(0b01, 60), (0b10, 45), (0b11, 15)],
    )
    .unwrap()
}

#[test]
fn two_lists_lincoln_petersen_and_chapman() {
    let table = two_lists();
    let config = EstimateConfig {
        method: Method::LincolnPetersen,
        interval: IntervalMethod::Wald,
        ..EstimateConfig::default()
    };
    let lp = estimate(&table, &config).unwrap();
    // n1 = 75, n2 = 60, m = 15: 75 * 60 / 15 = 300.
    assert!((lp.estimate - 300.0).abs() < 1e-6, "{}", lp.estimate);
    let two = lp.two_list.as_ref().unwrap();
    assert!((two.lincoln_petersen - 300.0).abs() < 1e-9);
    let chapman = 76.0 * 61.0 / 16.0 - 1.0;
    assert!((two.chapman - chapman).abs() < 1e-9);
    let variance = 76.0 * 61.0 * 60.0 * 45.0 / (16.0 * 16.0 * 17.0);
    assert!((two.chapman_variance - variance).abs() < 1e-9);

    let config = EstimateConfig {
        method: Method::Chapman,
        ..EstimateConfig::default()
    };
    let result = estimate(&table, &config).unwrap();
    assert!((result.estimate - chapman).abs() < 1e-9);
    assert_eq!(result.ci_method, "chapman-variance");
    let half = 1.959_963_984_540_054 * variance.sqrt();
    assert!((result.ci_high - (chapman + half)).abs() < 1e-6);

    // Stepwise on two lists can add nothing: it is Lincoln-Petersen.
    let stepwise = estimate(&table, &EstimateConfig::default()).unwrap();
    assert!((stepwise.estimate - 300.0).abs() < 1e-6);
    // Chapman needs two lists.
    let config = EstimateConfig {
        method: Method::Chapman,
        ..EstimateConfig::default()
    };
    assert!(matches!(
        estimate(&load("korea.csv"), &config),
        Err(EstimateError::InvalidConfig(_))
    ));
}

#[test]
fn bootstrap_is_deterministic_whatever_the_thread_count() {
    let table = load("korea.csv");
    let config = EstimateConfig {
        interval: IntervalMethod::Bootstrap,
        bootstrap_replicates: 60,
        seed: 42,
        ..EstimateConfig::default()
    };
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| estimate(&table, &config).unwrap())
    };
    let one = in_pool(1);
    let four = in_pool(4);
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&four).unwrap()
    );
    assert!(one.ci_low <= one.ci_high);
    let summary = one.bootstrap.as_ref().unwrap();
    assert_eq!(summary.replicates, 60);
    let other_seed = estimate(
        &table,
        &EstimateConfig {
            seed: 43,
            ..config.clone()
        },
    )
    .unwrap();
    assert_ne!(
        other_seed.bootstrap.as_ref().unwrap().percentile,
        summary.percentile
    );
}

#[test]
fn strata_are_estimated_and_summed() {
    let csv = "A,B,C,region,count\n\
               1,0,0,north,40\n0,1,0,north,30\n0,0,1,north,20\n1,1,0,north,8\n1,0,1,north,6\n0,1,1,north,5\n1,1,1,north,2\n\
               1,0,0,south,25\n0,1,0,south,35\n0,0,1,south,15\n1,1,0,south,6\n1,0,1,south,4\n0,1,1,south,7\n1,1,1,south,1\n";
    let table = CaptureTable::from_csv_reader(csv.as_bytes(), &CsvOptions::default()).unwrap();
    let config = EstimateConfig {
        method: Method::MainEffects,
        stratified: true,
        ..EstimateConfig::default()
    };
    let result = estimate(&table, &config).unwrap();
    let strata = result.strata.as_ref().unwrap();
    assert_eq!(strata.len(), 2);
    assert_eq!(strata[0].stratum.as_deref(), Some("north"));
    let sum: f64 = strata.iter().map(|s| s.estimate).sum();
    assert!((result.estimate - sum).abs() < 1e-9);
    assert_eq!(result.observed, 204);
    assert!(result.ci_low < result.estimate && result.estimate < result.ci_high);
    let json = serde_json::to_value(&result).unwrap();
    for key in [
        "estimate",
        "ci_low",
        "ci_high",
        "observed",
        "method",
        "ci_method",
        "terms",
        "strata",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    // A table without strata cannot be stratified.
    assert!(matches!(
        estimate(&two_lists(), &config),
        Err(EstimateError::NoStrata)
    ));
}
