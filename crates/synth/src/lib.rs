//! Synthetic registries with a known truth, and the scores of a linkage
//! against that truth.
//!
//! [`generate`] draws a hidden population (names with realistic frequencies
//! for the Netherlands and the main countries of origin of registered
//! trafficking victims, dates of birth, sex, nationality and form of
//! exploitation), lets `K` registries capture people with probabilities that
//! depend on the strata (with dependence between registries), and writes
//! each registry's records in its own house style with realistic recording
//! errors. Everything is deterministic for a seed.
//!
//! ```
//! use zicht_synth::{generate, SynthConfig};
//!
//! let config = SynthConfig { population: 500, ..SynthConfig::default() };
//! let data = generate(&config).unwrap();
//! assert_eq!(data.registries().len(), 4);
//! assert_eq!(data.registries()[0].label(), "police");
//! // Every registry row belongs to exactly one true person.
//! let rows: usize = data.registries().iter().map(|r| r.records().len()).sum();
//! assert_eq!(data.truth().len(), rows);
//! ```
//!
//! [`eval`] scores clusters (the output of `zicht link`) against the truth:
//! pairwise precision, recall and F1, B-cubed scores and the error of the
//! capture table.
//!
//! Conventions: the registry at index `i` in [`REGISTRY_LABELS`] is list `i`
//! of a capture history (bit `i`); strata are `sex` (`f`/`m`),
//! `birth_decade` (`1980-1989`) and `exploitation`; rows are 0-based data
//! rows (the header is not a row).
#![warn(missing_docs)]

mod error;
pub mod eval;
mod names;
mod noise;
mod output;
mod population;
mod registry;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use error::SynthError;
pub use names::Country;
pub use noise::{ErrorRates, Record, RecordedDate};
pub use output::{CaptureRow, StratumCount, TruthRow, STRATA_COLUMNS};
pub use population::{decade_label, BirthDate, Exploitation, FamilyName, Person, Sex};
pub use registry::{TextEncoding, REGISTRY_LABELS};

use registry::{capture_probability, HouseStyle};

/// Dependence between two registries: when the person is on `first`, the
/// odds of being on `second` are multiplied by `odds_ratio` (above 1:
/// positive dependence, as when police and border police work together).
#[derive(Debug, Clone, PartialEq)]
pub struct Dependence {
    /// Index of the first registry.
    pub first: usize,
    /// Index of the second registry.
    pub second: usize,
    /// The odds ratio, above 0.
    pub odds_ratio: f64,
}

/// Everything [`generate`] needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// The size of the hidden population.
    pub population: usize,
    /// The number of registries, 2 to 8 (see [`REGISTRY_LABELS`]).
    pub registries: usize,
    /// The seed: the same seed and config give byte-identical output.
    pub seed: u64,
    /// Multiplies every error rate (2.0 doubles them, 0.0 gives clean data).
    pub error_rate_scale: f64,
    /// The error rates at scale 1.
    pub errors: ErrorRates,
    /// The probability that a captured person is registered twice in the
    /// same registry (the second record has its own errors).
    pub duplicate_rate: f64,
    /// Dependence between registries; pairs naming a registry beyond
    /// `registries` are ignored.
    pub dependence: Vec<Dependence>,
    /// Standard deviation of a per-person effect on the log-odds of every
    /// capture (heterogeneity within strata; 0 = none).
    pub heterogeneity_sd: f64,
    /// Multiplies every capture probability (each is capped at 0.95).
    pub capture_scale: f64,
    /// The year ages are counted from.
    pub reference_year: i32,
}

impl Default for SynthConfig {
    fn default() -> SynthConfig {
        SynthConfig {
            population: 10_000,
            registries: 4,
            seed: 2026,
            error_rate_scale: 1.0,
            errors: ErrorRates::default(),
            duplicate_rate: 0.04,
            dependence: vec![Dependence {
                first: 0,
                second: 2,
                odds_ratio: 3.0,
            }],
            heterogeneity_sd: 0.0,
            capture_scale: 1.0,
            reference_year: 2025,
        }
    }
}

impl SynthConfig {
    /// Check the configuration.
    ///
    /// # Errors
    ///
    /// [`SynthError::InvalidConfig`] naming the first bad setting.
    pub fn validate(&self) -> Result<(), SynthError> {
        let bad = |message: String| Err(SynthError::InvalidConfig(message));
        if !(1..=10_000_000).contains(&self.population) {
            return bad("population must be from 1 to 10,000,000".into());
        }
        if !(2..=REGISTRY_LABELS.len()).contains(&self.registries) {
            return bad(format!(
                "registries must be from 2 to {}",
                REGISTRY_LABELS.len()
            ));
        }
        if !(self.error_rate_scale.is_finite() && self.error_rate_scale >= 0.0) {
            return bad("error rate scale must be a finite number of at least 0".into());
        }
        if self.errors.all().iter().any(|r| !(0.0..=1.0).contains(r)) {
            return bad("every error rate must be from 0 to 1".into());
        }
        if !(0.0..=1.0).contains(&self.duplicate_rate) {
            return bad("duplicate rate must be from 0 to 1".into());
        }
        for pair in &self.dependence {
            if pair.first == pair.second {
                return bad("a dependence must join two different registries".into());
            }
            if !(pair.odds_ratio.is_finite() && pair.odds_ratio > 0.0) {
                return bad("a dependence's odds ratio must be a finite number above 0".into());
            }
        }
        if !(self.heterogeneity_sd.is_finite() && self.heterogeneity_sd >= 0.0) {
            return bad("heterogeneity must be a finite number of at least 0".into());
        }
        if !(self.capture_scale.is_finite() && self.capture_scale > 0.0) {
            return bad("capture scale must be a finite number above 0".into());
        }
        if !(1900..=2200).contains(&self.reference_year) {
            return bad("reference year must be from 1900 to 2200".into());
        }
        Ok(())
    }
}

/// One registry: its label, its records in row order, its CSV and profile.
#[derive(Debug, Clone)]
pub struct Registry {
    label: &'static str,
    records: Vec<Record>,
    csv: Vec<u8>,
    profile: String,
    encoding: TextEncoding,
}

impl Registry {
    /// The registry's label (its source name and capture-table column).
    pub fn label(&self) -> &str {
        self.label
    }

    /// The records, in row order (row `i` is data row `i` of the CSV).
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The CSV file's bytes, in the registry's encoding.
    pub fn csv_bytes(&self) -> &[u8] {
        &self.csv
    }

    /// The source profile (TOML) describing the CSV.
    pub fn profile_toml(&self) -> &str {
        &self.profile
    }

    /// The CSV's text encoding.
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }
}

/// The generated data, in memory: see [`SynthData::write`] for the files.
#[derive(Debug, Clone)]
pub struct SynthData {
    config: SynthConfig,
    people: Vec<Person>,
    histories: Vec<u32>,
    registries: Vec<Registry>,
}

impl SynthData {
    /// The configuration the data were made with.
    pub fn config(&self) -> &SynthConfig {
        &self.config
    }

    /// The hidden population, by person id.
    pub fn people(&self) -> &[Person] {
        &self.people
    }

    /// Each person's true capture history (bit `i`: on registry `i`), by person id.
    pub fn histories(&self) -> &[u32] {
        &self.histories
    }

    /// The registries, in order.
    pub fn registries(&self) -> &[Registry] {
        &self.registries
    }

    /// The registry labels, in order.
    pub fn labels(&self) -> Vec<&str> {
        self.registries.iter().map(Registry::label).collect()
    }

    /// The number of people on at least one registry.
    pub fn observed(&self) -> usize {
        self.histories.iter().filter(|&&h| h != 0).count()
    }
}

/// A normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng, sd: f64) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Generate the population, the captures and the registries.
///
/// The population depends only on the seed, the population size and the
/// reference year, so changing the number of registries or the error rates
/// keeps the same people.
///
/// # Errors
///
/// [`SynthError::InvalidConfig`] for a bad configuration.
pub fn generate(config: &SynthConfig) -> Result<SynthData, SynthError> {
    config.validate()?;
    let k = config.registries;
    let people = population::generate_population(
        config.population,
        config.reference_year,
        &mut stream(config.seed, 1),
    );

    // Captures, registry by registry, so a dependence can look back.
    let dependence: Vec<(usize, usize, f64)> = config
        .dependence
        .iter()
        .filter(|d| d.first < k && d.second < k)
        .map(|d| {
            (
                d.first.min(d.second),
                d.first.max(d.second),
                d.odds_ratio.ln(),
            )
        })
        .collect();
    let mut capture_rng = stream(config.seed, 2);
    let histories: Vec<u32> = people
        .iter()
        .map(|person| {
            let effect = normal(&mut capture_rng, config.heterogeneity_sd);
            let mut history = 0u32;
            for index in 0..k {
                let p = (capture_probability(index, person, config.reference_year)
                    * config.capture_scale)
                    .clamp(1e-6, 0.95);
                let mut logit = (p / (1.0 - p)).ln() + effect;
                for &(first, second, log_odds_ratio) in &dependence {
                    if second == index && history & (1 << first) != 0 {
                        logit += log_odds_ratio;
                    }
                }
                let probability = 1.0 / (1.0 + (-logit).exp());
                if capture_rng.random::<f64>() < probability {
                    history |= 1 << index;
                }
            }
            history
        })
        .collect();

    let rates = config.errors.scaled(config.error_rate_scale);
    let mut registries = Vec::with_capacity(k);
    for (index, &label) in REGISTRY_LABELS.iter().enumerate().take(k) {
        let style = HouseStyle::for_index(index);
        let mut rng = stream(config.seed, 10 + index as u64);
        let mut records = Vec::new();
        for (person, &history) in people.iter().zip(&histories) {
            if history & (1 << index) == 0 {
                continue;
            }
            records.push(noise::record(&mut rng, person, &rates, style.name_style));
            if rng.random::<f64>() < config.duplicate_rate {
                records.push(noise::record(&mut rng, person, &rates, style.name_style));
            }
        }
        // Shuffle (Fisher-Yates) so the row order says nothing.
        for i in (1..records.len()).rev() {
            let j = rng.random_range(0..=i);
            records.swap(i, j);
        }
        let csv = style.render(&records)?;
        registries.push(Registry {
            label,
            records,
            csv,
            profile: style.profile(label),
            encoding: style.encoding(),
        });
    }
    Ok(SynthData {
        config: config.clone(),
        people,
        histories,
        registries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SynthConfig {
        SynthConfig {
            population: 2_000,
            ..SynthConfig::default()
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = generate(&small()).unwrap();
        let b = generate(&small()).unwrap();
        for (x, y) in a.registries().iter().zip(b.registries()) {
            assert_eq!(x.csv_bytes(), y.csv_bytes());
        }
        assert_eq!(a.truth_csv(), b.truth_csv());
        let c = generate(&SynthConfig {
            seed: 99,
            ..small()
        })
        .unwrap();
        assert_ne!(a.registries()[0].csv_bytes(), c.registries()[0].csv_bytes());
    }

    #[test]
    fn the_population_does_not_depend_on_registries_or_errors() {
        let a = generate(&small()).unwrap();
        let b = generate(&SynthConfig {
            registries: 6,
            error_rate_scale: 2.0,
            ..small()
        })
        .unwrap();
        assert_eq!(a.people()[17].given_names, b.people()[17].given_names);
        assert_eq!(a.people()[1999].birth, b.people()[1999].birth);
        assert_eq!(b.registries().len(), 6);
    }

    #[test]
    fn capture_shares_are_plausible() {
        let data = generate(&SynthConfig::default()).unwrap();
        let observed = data.observed();
        assert!((3_000..6_000).contains(&observed), "{observed}");
        // The labour inspectorate mostly sees labour exploitation.
        let labour_seen = data
            .people()
            .iter()
            .zip(data.histories())
            .filter(|(_, &h)| h & 0b1000 != 0);
        let (labour, all) = labour_seen.fold((0, 0), |(l, a), (p, _)| {
            (
                l + usize::from(p.exploitation == Exploitation::Labour),
                a + 1,
            )
        });
        assert!(labour * 10 > all * 7, "{labour} of {all}");
        // Border police sees few Dutch people.
        let dutch_at_border = data
            .people()
            .iter()
            .zip(data.histories())
            .filter(|(p, &h)| h & 0b100 != 0 && p.nationality == Country::Netherlands)
            .count();
        let at_border = data.histories().iter().filter(|&&h| h & 0b100 != 0).count();
        assert!(
            dutch_at_border * 100 < at_border * 15,
            "{dutch_at_border} of {at_border}"
        );
    }

    #[test]
    fn police_and_border_police_are_positively_dependent() {
        let data = generate(&SynthConfig {
            population: 20_000,
            ..SynthConfig::default()
        })
        .unwrap();
        let non_dutch: Vec<u32> = data
            .people()
            .iter()
            .zip(data.histories())
            .filter(|(p, _)| p.nationality != Country::Netherlands)
            .map(|(_, &h)| h)
            .collect();
        let count = |f: &dyn Fn(u32) -> bool| non_dutch.iter().filter(|&&h| f(h)).count() as f64;
        let both = count(&|h| h & 0b101 == 0b101);
        let police_only = count(&|h| h & 0b101 == 0b001);
        let border_only = count(&|h| h & 0b101 == 0b100);
        let neither = count(&|h| h & 0b101 == 0);
        let odds_ratio = both * neither / (police_only * border_only);
        assert!(odds_ratio > 1.8, "{odds_ratio}");
    }

    #[test]
    fn duplicates_appear_at_about_the_configured_rate() {
        let data = generate(&SynthConfig::default()).unwrap();
        let police = &data.registries()[0];
        let mut persons: Vec<usize> = police.records().iter().map(|r| r.person).collect();
        let rows = persons.len();
        persons.sort_unstable();
        persons.dedup();
        let share = (rows - persons.len()) as f64 / persons.len() as f64;
        assert!((0.025..0.06).contains(&share), "{share}");
    }

    #[test]
    fn bad_configurations_are_refused() {
        for config in [
            SynthConfig {
                registries: 1,
                ..SynthConfig::default()
            },
            SynthConfig {
                registries: 9,
                ..SynthConfig::default()
            },
            SynthConfig {
                population: 0,
                ..SynthConfig::default()
            },
            SynthConfig {
                error_rate_scale: f64::NAN,
                ..SynthConfig::default()
            },
            SynthConfig {
                duplicate_rate: 1.5,
                ..SynthConfig::default()
            },
        ] {
            assert!(matches!(
                generate(&config),
                Err(SynthError::InvalidConfig(_))
            ));
        }
    }
}
