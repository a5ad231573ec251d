//! The hidden population: who the people are, before any registry sees them.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::names::{country_names, Country};

/// Sex of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
}

impl Sex {
    /// The normalised code the schema uses (`f` or `m`), as in the capture table.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "f",
            Sex::Male => "m",
        }
    }
}

/// Form of exploitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Exploitation {
    /// Sexual exploitation.
    Sexual,
    /// Labour exploitation.
    Labour,
    /// Criminal exploitation (forced crime).
    Criminal,
    /// Other forms.
    Other,
}

impl Exploitation {
    /// Every form, in a fixed order.
    pub const ALL: [Exploitation; 4] = [
        Exploitation::Sexual,
        Exploitation::Labour,
        Exploitation::Criminal,
        Exploitation::Other,
    ];

    /// The category value written in every registry.
    pub fn code(self) -> &'static str {
        match self {
            Exploitation::Sexual => "sexual",
            Exploitation::Labour => "labour",
            Exploitation::Criminal => "criminal",
            Exploitation::Other => "other",
        }
    }

    /// The index in [`Exploitation::ALL`].
    pub fn index(self) -> usize {
        match self {
            Exploitation::Sexual => 0,
            Exploitation::Labour => 1,
            Exploitation::Criminal => 2,
            Exploitation::Other => 3,
        }
    }
}

/// A full date of birth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BirthDate {
    /// Year.
    pub year: i32,
    /// Month 1..=12.
    pub month: u32,
    /// Day 1..=31.
    pub day: u32,
}

impl BirthDate {
    /// The stratum label for a ten-year band, as `1980-1989`.
    pub fn decade_label(self) -> String {
        decade_label(self.year)
    }
}

/// The ten-year band of a year, as `1980-1989`.
pub fn decade_label(year: i32) -> String {
    let start = year.div_euclid(10) * 10;
    format!("{start}-{}", start + 9)
}

/// The number of days in a month.
pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A family name: Dutch particles (`van den`) kept apart from the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyName {
    /// The particles, lower case as written before the core (`van den`).
    pub particle: Option<String>,
    /// The core (`Berg`).
    pub core: String,
}

impl FamilyName {
    /// Split a Dutch family name into particles and core.
    fn parse_dutch(name: &str) -> FamilyName {
        const PARTICLES: &[&str] = &[
            "van", "de", "der", "den", "ter", "ten", "'t", "in", "op", "het",
        ];
        let words: Vec<&str> = name.split_whitespace().collect();
        let n_particles = words
            .iter()
            .take(words.len().saturating_sub(1))
            .take_while(|w| PARTICLES.contains(w))
            .count();
        if n_particles == 0 {
            return FamilyName {
                particle: None,
                core: name.to_string(),
            };
        }
        FamilyName {
            particle: Some(words[..n_particles].join(" ")),
            core: words[n_particles..].join(" "),
        }
    }

    /// The name as usually written: `van den Berg`.
    pub fn written(&self) -> String {
        match &self.particle {
            Some(particle) => format!("{particle} {}", self.core),
            None => self.core.clone(),
        }
    }
}

/// One person of the hidden population.
#[derive(Debug, Clone)]
pub struct Person {
    /// The person's id (0-based), as in `truth.csv`.
    pub id: usize,
    /// Nationality.
    pub nationality: Country,
    /// Sex.
    pub sex: Sex,
    /// Given names in order (Vietnamese: middle name, then given name).
    pub given_names: Vec<String>,
    /// Family name.
    pub family_name: FamilyName,
    /// Date of birth.
    pub birth: BirthDate,
    /// Form of exploitation.
    pub exploitation: Exploitation,
}

impl Person {
    /// The stratum: sex, birth decade and exploitation.
    pub fn stratum(&self) -> [String; 3] {
        [
            self.sex.code().to_string(),
            self.birth.decade_label(),
            self.exploitation.code().to_string(),
        ]
    }
}

/// Draw from a discrete distribution given by weights.
pub(crate) fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut target = rng.random::<f64>() * total;
    for (index, &weight) in weights.iter().enumerate() {
        if target < weight {
            return index;
        }
        target -= weight;
    }
    weights.len().saturating_sub(1)
}

/// Shares of sexual, labour, criminal, other exploitation by nationality.
fn exploitation_weights(country: Country) -> [f64; 4] {
    match country {
        Country::Netherlands => [0.60, 0.10, 0.25, 0.05],
        Country::Romania => [0.50, 0.35, 0.10, 0.05],
        Country::Bulgaria => [0.55, 0.30, 0.10, 0.05],
        Country::Poland => [0.20, 0.70, 0.05, 0.05],
        Country::Hungary => [0.60, 0.30, 0.05, 0.05],
        Country::Nigeria => [0.75, 0.10, 0.05, 0.10],
        Country::Ukraine => [0.40, 0.45, 0.05, 0.10],
        Country::Vietnam => [0.15, 0.40, 0.40, 0.05],
        Country::Morocco => [0.35, 0.25, 0.30, 0.10],
        Country::Turkey => [0.45, 0.35, 0.10, 0.10],
    }
}

/// The share of Dutch nationals whose names come from the Moroccan or
/// Turkish lists.
const DUTCH_MIGRANT_BACKGROUND: f64 = 0.15;

/// Draw the hidden population.
pub(crate) fn generate_population(
    size: usize,
    reference_year: i32,
    rng: &mut ChaCha8Rng,
) -> Vec<Person> {
    let country_weights: Vec<f64> = Country::ALL.iter().map(|c| c.share()).collect();
    (0..size)
        .map(|id| {
            let nationality = Country::ALL[pick(rng, &country_weights)];
            let exploitation = Exploitation::ALL[pick(rng, &exploitation_weights(nationality))];
            let female_share = match exploitation {
                Exploitation::Sexual => 0.92,
                Exploitation::Labour => 0.30,
                Exploitation::Criminal => 0.40,
                Exploitation::Other => 0.60,
            };
            let sex = if rng.random::<f64>() < female_share {
                Sex::Female
            } else {
                Sex::Male
            };
            // Age: 13 plus a gamma(2, scale) draw, younger for sexual and
            // criminal exploitation.
            let scale = match exploitation {
                Exploitation::Sexual => 5.5,
                Exploitation::Labour => 10.0,
                Exploitation::Criminal => 4.5,
                Exploitation::Other => 7.5,
            };
            let u1: f64 = 1.0 - rng.random::<f64>();
            let u2: f64 = 1.0 - rng.random::<f64>();
            let age = (13.0 - scale * (u1.ln() + u2.ln())).clamp(14.0, 70.0) as i32;
            let year = reference_year - age;
            let month = rng.random_range(1..=12);
            let day = rng.random_range(1..=days_in_month(year, month));
            // Many Dutch nationals have Moroccan or Turkish roots and names.
            let name_origin = if nationality == Country::Netherlands
                && rng.random::<f64>() < DUTCH_MIGRANT_BACKGROUND
            {
                if rng.random::<f64>() < 0.55 {
                    Country::Morocco
                } else {
                    Country::Turkey
                }
            } else {
                nationality
            };
            let lists = country_names(name_origin);
            let female = sex == Sex::Female;
            let given_list = if female {
                &lists.given_female
            } else {
                &lists.given_male
            };
            let mut given_names = Vec::with_capacity(2);
            if let Some((middle_female, middle_male)) = &lists.middle {
                let middle = if female { middle_female } else { middle_male };
                given_names.push(middle.sample(rng, false).to_string());
            }
            given_names.push(given_list.sample(rng, false).to_string());
            if rng.random::<f64>() < nationality.second_given_name_rate() {
                let second = given_list.sample(rng, false).to_string();
                if !given_names.contains(&second) {
                    given_names.push(second);
                }
            }
            let family = match &lists.tail {
                Some(tail) if rng.random::<f64>() < tail.share => {
                    tail.sample(rng, name_origin, female)
                }
                _ => lists.family.sample(rng, female).to_string(),
            };
            let family_name = if name_origin == Country::Netherlands {
                FamilyName::parse_dutch(&family)
            } else {
                FamilyName {
                    particle: None,
                    core: family,
                }
            };
            Person {
                id,
                nationality,
                sex,
                given_names,
                family_name,
                birth: BirthDate { year, month, day },
                exploitation,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn dutch_particles_are_split_off() {
        let name = FamilyName::parse_dutch("van den Berg");
        assert_eq!(name.particle.as_deref(), Some("van den"));
        assert_eq!(name.core, "Berg");
        assert_eq!(name.written(), "van den Berg");
        let name = FamilyName::parse_dutch("van 't Hof");
        assert_eq!(name.particle.as_deref(), Some("van 't"));
        assert_eq!(FamilyName::parse_dutch("Bakker").particle, None);
    }

    #[test]
    fn decade_labels() {
        assert_eq!(decade_label(1987), "1980-1989");
        assert_eq!(decade_label(2000), "2000-2009");
    }

    #[test]
    fn population_has_a_plausible_shape() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let people = generate_population(5_000, 2025, &mut rng);
        assert_eq!(people.len(), 5_000);
        let dutch = people
            .iter()
            .filter(|p| p.nationality == Country::Netherlands)
            .count();
        assert!((1_900..2_300).contains(&dutch), "{dutch}");
        let female = people.iter().filter(|p| p.sex == Sex::Female).count();
        assert!(female > 2_500 && female < 4_500, "{female}");
        for person in &people {
            let age = 2025 - person.birth.year;
            assert!((14..=70).contains(&age));
            assert!(person.birth.day <= days_in_month(person.birth.year, person.birth.month));
            assert!(!person.given_names.is_empty());
        }
        assert!(people
            .iter()
            .filter(|p| p.nationality == Country::Vietnam)
            .all(|p| p.given_names.len() == 2));
    }
}
