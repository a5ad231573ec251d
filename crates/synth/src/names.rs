//! The embedded name lists (with frequencies) and spelling variants.
//!
//! The data live in `data/names/` (see `SOURCES.md` there) and are compiled
//! into the binary with `include_str!`; they are parsed once, on first use.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

macro_rules! names_file {
    ($file:literal) => {
        include_str!(concat!("../data/names/", $file))
    };
}

/// A country of origin: its code, its share of the population and its lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Country {
    /// The Netherlands.
    Netherlands,
    /// Romania.
    Romania,
    /// Bulgaria.
    Bulgaria,
    /// Poland.
    Poland,
    /// Hungary.
    Hungary,
    /// Nigeria.
    Nigeria,
    /// Ukraine.
    Ukraine,
    /// Vietnam.
    Vietnam,
    /// Morocco.
    Morocco,
    /// Turkey.
    Turkey,
}

impl Country {
    /// Every country, in a fixed order.
    pub const ALL: [Country; 10] = [
        Country::Netherlands,
        Country::Romania,
        Country::Bulgaria,
        Country::Poland,
        Country::Hungary,
        Country::Nigeria,
        Country::Ukraine,
        Country::Vietnam,
        Country::Morocco,
        Country::Turkey,
    ];

    /// The ISO 3166-1 alpha-2 code, as the registries write nationality.
    pub fn code(self) -> &'static str {
        match self {
            Country::Netherlands => "NL",
            Country::Romania => "RO",
            Country::Bulgaria => "BG",
            Country::Poland => "PL",
            Country::Hungary => "HU",
            Country::Nigeria => "NG",
            Country::Ukraine => "UA",
            Country::Vietnam => "VN",
            Country::Morocco => "MA",
            Country::Turkey => "TR",
        }
    }

    /// The approximate share among registered victims in the Netherlands
    /// (see `data/names/SOURCES.md`); the shares sum to 1.
    pub fn share(self) -> f64 {
        match self {
            Country::Netherlands => 0.42,
            Country::Romania => 0.11,
            Country::Bulgaria => 0.07,
            Country::Poland => 0.07,
            Country::Hungary => 0.05,
            Country::Nigeria => 0.07,
            Country::Ukraine => 0.06,
            Country::Vietnam => 0.05,
            Country::Morocco => 0.05,
            Country::Turkey => 0.05,
        }
    }

    /// The share of people with a second given name (Vietnamese people
    /// always have a middle name, from its own list).
    pub fn second_given_name_rate(self) -> f64 {
        match self {
            Country::Netherlands => 0.30,
            Country::Romania => 0.20,
            Country::Bulgaria => 0.03,
            Country::Poland => 0.15,
            Country::Hungary => 0.10,
            Country::Nigeria => 0.30,
            Country::Ukraine => 0.0,
            Country::Vietnam => 0.0,
            Country::Morocco => 0.05,
            Country::Turkey => 0.15,
        }
    }

    /// The stem of the country's data files.
    fn file_stem(self) -> &'static str {
        match self {
            Country::Netherlands => "netherlands",
            Country::Romania => "romania",
            Country::Bulgaria => "bulgaria",
            Country::Poland => "poland",
            Country::Hungary => "hungary",
            Country::Nigeria => "nigeria",
            Country::Ukraine => "ukraine",
            Country::Vietnam => "vietnam",
            Country::Morocco => "morocco",
            Country::Turkey => "turkey",
        }
    }

    fn index(self) -> usize {
        Country::ALL.iter().position(|&c| c == self).unwrap_or(0)
    }
}

/// A list of names with relative frequencies.
#[derive(Debug)]
pub(crate) struct NameList {
    names: Vec<String>,
    female_forms: Vec<Option<String>>,
    cumulative: Vec<f64>,
}

impl NameList {
    fn parse(text: &str) -> NameList {
        let mut names = Vec::new();
        let mut female_forms = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        for line in text.lines().skip(1) {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split(',');
            let name = parts.next().unwrap_or("").trim();
            let frequency: f64 = parts
                .next()
                .and_then(|f| f.trim().parse().ok())
                .unwrap_or(0.0);
            let female = parts
                .next()
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_string);
            if name.is_empty() || frequency <= 0.0 {
                continue;
            }
            total += frequency;
            names.push(name.to_string());
            female_forms.push(female);
            cumulative.push(total);
        }
        NameList {
            names,
            female_forms,
            cumulative,
        }
    }

    /// A name drawn by frequency; for a family name with a female form, the
    /// female form when `female` is set.
    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng, female: bool) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let target = rng.random::<f64>() * total;
        let index = self
            .cumulative
            .partition_point(|&c| c <= target)
            .min(self.names.len().saturating_sub(1));
        match (&self.female_forms[index], female) {
            (Some(form), true) => form,
            _ => &self.names[index],
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// Rare family names made from a stem and a suffix (see `family_tails.txt`).
#[derive(Debug)]
pub(crate) struct TailNames {
    /// The share of people with a tail name.
    pub(crate) share: f64,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

impl TailNames {
    /// A rare family name: a stem, a suffix and the female form by rule.
    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng, country: Country, female: bool) -> String {
        let prefix = &self.prefixes[rng.random_range(0..self.prefixes.len())];
        let suffix = &self.suffixes[rng.random_range(0..self.suffixes.len())];
        let mut name = format!("{prefix}{suffix}");
        if female {
            match country {
                Country::Bulgaria if name.ends_with("ov") || name.ends_with("ev") => name.push('a'),
                Country::Poland if name.ends_with("ski") || name.ends_with("cki") => {
                    name.pop();
                    name.push('a');
                }
                _ => {}
            }
        }
        match country {
            Country::Netherlands if rng.random::<f64>() < 0.15 => {
                const PARTICLES: [&str; 6] = ["van", "van de", "van der", "van den", "ter", "de"];
                format!("{} {name}", PARTICLES[rng.random_range(0..PARTICLES.len())])
            }
            Country::Morocco if rng.random::<f64>() < 0.3 => format!("El {name}"),
            _ => name,
        }
    }
}

fn parse_tails() -> BTreeMap<String, TailNames> {
    let mut tails = BTreeMap::new();
    for line in names_file!("family_tails.txt").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [country, share, prefixes, suffixes] = parts[..] else {
            continue;
        };
        let words = |text: &str| -> Vec<String> {
            text.split_whitespace()
                .map(|w| {
                    if w == "_" {
                        String::new()
                    } else {
                        w.to_string()
                    }
                })
                .collect()
        };
        let tail = TailNames {
            share: share.parse().unwrap_or(0.0),
            prefixes: words(prefixes),
            suffixes: words(suffixes),
        };
        if !tail.prefixes.is_empty() && !tail.suffixes.is_empty() {
            tails.insert(country.to_string(), tail);
        }
    }
    tails
}

/// The lists of one country.
#[derive(Debug)]
pub(crate) struct CountryNames {
    pub(crate) given_female: NameList,
    pub(crate) given_male: NameList,
    pub(crate) family: NameList,
    /// Middle names (Vietnam only): female, male.
    pub(crate) middle: Option<(NameList, NameList)>,
    /// Rare family names.
    pub(crate) tail: Option<TailNames>,
}

fn raw_lists(country: Country) -> [&'static str; 3] {
    match country {
        Country::Netherlands => [
            names_file!("netherlands_given_female.csv"),
            names_file!("netherlands_given_male.csv"),
            names_file!("netherlands_family.csv"),
        ],
        Country::Romania => [
            names_file!("romania_given_female.csv"),
            names_file!("romania_given_male.csv"),
            names_file!("romania_family.csv"),
        ],
        Country::Bulgaria => [
            names_file!("bulgaria_given_female.csv"),
            names_file!("bulgaria_given_male.csv"),
            names_file!("bulgaria_family.csv"),
        ],
        Country::Poland => [
            names_file!("poland_given_female.csv"),
            names_file!("poland_given_male.csv"),
            names_file!("poland_family.csv"),
        ],
        Country::Hungary => [
            names_file!("hungary_given_female.csv"),
            names_file!("hungary_given_male.csv"),
            names_file!("hungary_family.csv"),
        ],
        Country::Nigeria => [
            names_file!("nigeria_given_female.csv"),
            names_file!("nigeria_given_male.csv"),
            names_file!("nigeria_family.csv"),
        ],
        Country::Ukraine => [
            names_file!("ukraine_given_female.csv"),
            names_file!("ukraine_given_male.csv"),
            names_file!("ukraine_family.csv"),
        ],
        Country::Vietnam => [
            names_file!("vietnam_given_female.csv"),
            names_file!("vietnam_given_male.csv"),
            names_file!("vietnam_family.csv"),
        ],
        Country::Morocco => [
            names_file!("morocco_given_female.csv"),
            names_file!("morocco_given_male.csv"),
            names_file!("morocco_family.csv"),
        ],
        Country::Turkey => [
            names_file!("turkey_given_female.csv"),
            names_file!("turkey_given_male.csv"),
            names_file!("turkey_family.csv"),
        ],
    }
}

const VARIANTS: &str = names_file!("variants.csv");

/// The lists of every country, in [`Country::ALL`] order.
pub(crate) fn country_names(country: Country) -> &'static CountryNames {
    static LISTS: OnceLock<Vec<CountryNames>> = OnceLock::new();
    let lists = LISTS.get_or_init(|| {
        let mut tails = parse_tails();
        Country::ALL
            .iter()
            .map(|&country| {
                let [female, male, family] = raw_lists(country);
                CountryNames {
                    given_female: NameList::parse(female),
                    given_male: NameList::parse(male),
                    family: NameList::parse(family),
                    middle: (country == Country::Vietnam).then(|| {
                        (
                            NameList::parse(names_file!("vietnam_middle_female.csv")),
                            NameList::parse(names_file!("vietnam_middle_male.csv")),
                        )
                    }),
                    tail: tails.remove(country.file_stem()),
                }
            })
            .collect()
    });
    &lists[country.index()]
}

/// Every name's spelling variants (the union of the groups it is in).
pub(crate) fn variants() -> &'static BTreeMap<String, Vec<String>> {
    static VARIANT_MAP: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    VARIANT_MAP.get_or_init(|| {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in VARIANTS.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let group: Vec<&str> = line
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect();
            for &name in &group {
                let entry = map.entry(name.to_string()).or_default();
                for &other in &group {
                    if other != name && !entry.iter().any(|e| e == other) {
                        entry.push(other.to_string());
                    }
                }
            }
        }
        map
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_list_parses_with_enough_names() {
        for country in Country::ALL {
            let lists = country_names(country);
            assert!(lists.given_female.len() >= 20, "{country:?} female");
            assert!(lists.given_male.len() >= 20, "{country:?} male");
            assert!(lists.family.len() >= 20, "{country:?} family");
        }
        let (female, male) = country_names(Country::Vietnam).middle.as_ref().unwrap();
        assert!(female.len() >= 5 && male.len() >= 5);
        for country in Country::ALL {
            if country != Country::Vietnam {
                let tail = country_names(country).tail.as_ref();
                assert!(tail.is_some_and(|t| t.share > 0.3), "{country:?} tail");
            }
        }
    }

    #[test]
    fn tail_names_take_female_forms() {
        let tails = parse_tails();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..100 {
            let name = tails["bulgaria"].sample(&mut rng, Country::Bulgaria, true);
            assert!(name.ends_with('a'), "{name}");
            let name = tails["poland"].sample(&mut rng, Country::Poland, true);
            assert!(!name.ends_with("ski") && !name.ends_with("cki"), "{name}");
        }
    }

    #[test]
    fn shares_sum_to_one() {
        let total: f64 = Country::ALL.iter().map(|c| c.share()).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }

    #[test]
    fn female_forms_are_used_for_women_only() {
        let list = NameList::parse("name,frequency,female_form\nIvanov,1,Ivanova\n");
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(list.sample(&mut rng, true), "Ivanova");
        assert_eq!(list.sample(&mut rng, false), "Ivanov");
    }

    #[test]
    fn sampling_follows_the_frequencies() {
        let list = NameList::parse("name,frequency\nA,9\nB,1\n");
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let a = (0..10_000)
            .filter(|_| list.sample(&mut rng, false) == "A")
            .count();
        assert!((8_700..9_300).contains(&a), "{a}");
    }

    #[test]
    fn variants_are_symmetric_within_a_group() {
        let map = variants();
        assert!(map["Mohammed"].iter().any(|v| v == "Muhammad"));
        assert!(map["Muhammad"].iter().any(|v| v == "Mohammed"));
        assert!(map["Oleksandr"].iter().any(|v| v == "Aleksandr"));
        assert!(map["de Bruijn"].iter().any(|v| v == "de Bruyn"));
        assert!(!map["Mohammed"].iter().any(|v| v == "Mohammed"));
    }
}
