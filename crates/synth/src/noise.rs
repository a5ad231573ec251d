//! Recording errors: what happens to a person's details between the person
//! and a registry's row (typos, variants, swaps, partial dates, missing values).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::names::{variants, Country};
use crate::population::{days_in_month, Exploitation, FamilyName, Person, Sex};

/// Rates of the recording errors, before [`crate::SynthConfig::error_rate_scale`]
/// multiplies them. Each is a probability per record (per name for `typo`
/// and `variant`).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRates {
    /// A typo in a name: one inserted, deleted, substituted or transposed letter.
    pub typo: f64,
    /// A spelling or transliteration variant (Mohammed/Muhammad), where the
    /// name has one.
    pub variant: f64,
    /// Diacritics dropped from both names (ş → s, ł → l).
    pub diacritics_dropped: f64,
    /// Given and family name swapped.
    pub names_swapped: f64,
    /// Only the first of several given names (for Vietnamese names: the
    /// middle name left out).
    pub first_given_only: f64,
    /// A Dutch particle written another way (`v.d. Berg`, `Berg, van den`,
    /// `Van Den Berg`, `Vandenberg`), for names with particles.
    pub particle_variant: f64,
    /// Day and month swapped (only where the result is a valid date).
    pub day_month_swapped: f64,
    /// Year of birth off by one.
    pub year_off_by_one: f64,
    /// Only the year of birth known.
    pub year_only: f64,
    /// Given name missing.
    pub missing_given_name: f64,
    /// Family name missing.
    pub missing_family_name: f64,
    /// Date of birth missing.
    pub missing_birth: f64,
    /// Sex missing.
    pub missing_sex: f64,
    /// Nationality missing.
    pub missing_nationality: f64,
    /// Form of exploitation missing.
    pub missing_exploitation: f64,
}

impl Default for ErrorRates {
    fn default() -> ErrorRates {
        ErrorRates {
            typo: 0.02,
            variant: 0.04,
            diacritics_dropped: 0.10,
            names_swapped: 0.015,
            first_given_only: 0.15,
            particle_variant: 0.10,
            day_month_swapped: 0.015,
            year_off_by_one: 0.015,
            year_only: 0.02,
            missing_given_name: 0.01,
            missing_family_name: 0.005,
            missing_birth: 0.03,
            missing_sex: 0.01,
            missing_nationality: 0.04,
            missing_exploitation: 0.02,
        }
    }
}

impl ErrorRates {
    /// Every rate multiplied by `scale` and clamped to `[0, 1]`.
    pub fn scaled(&self, scale: f64) -> ErrorRates {
        let s = |rate: f64| (rate * scale).clamp(0.0, 1.0);
        ErrorRates {
            typo: s(self.typo),
            variant: s(self.variant),
            diacritics_dropped: s(self.diacritics_dropped),
            names_swapped: s(self.names_swapped),
            first_given_only: s(self.first_given_only),
            particle_variant: s(self.particle_variant),
            day_month_swapped: s(self.day_month_swapped),
            year_off_by_one: s(self.year_off_by_one),
            year_only: s(self.year_only),
            missing_given_name: s(self.missing_given_name),
            missing_family_name: s(self.missing_family_name),
            missing_birth: s(self.missing_birth),
            missing_sex: s(self.missing_sex),
            missing_nationality: s(self.missing_nationality),
            missing_exploitation: s(self.missing_exploitation),
        }
    }

    pub(crate) fn all(&self) -> [f64; 15] {
        [
            self.typo,
            self.variant,
            self.diacritics_dropped,
            self.names_swapped,
            self.first_given_only,
            self.particle_variant,
            self.day_month_swapped,
            self.year_off_by_one,
            self.year_only,
            self.missing_given_name,
            self.missing_family_name,
            self.missing_birth,
            self.missing_sex,
            self.missing_nationality,
            self.missing_exploitation,
        ]
    }
}

/// A date of birth as recorded: the day and month may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedDate {
    /// Year.
    pub year: i32,
    /// Month, when known.
    pub month: Option<u32>,
    /// Day, when known (only when the month is known too).
    pub day: Option<u32>,
}

/// One registry row before formatting: the values as the registry holds
/// them (errors and house style applied), each `None` when missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The true person (the row of `truth.csv`).
    pub person: usize,
    /// Given names, space-separated.
    pub given_name: Option<String>,
    /// Family name, particles included.
    pub family_name: Option<String>,
    /// Date of birth.
    pub birth: Option<RecordedDate>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Nationality (ISO 3166-1 alpha-2).
    pub nationality: Option<String>,
    /// Form of exploitation.
    pub exploitation: Option<Exploitation>,
}

/// What a registry's house style does to names before they are written.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NameStyle {
    /// Names in upper case.
    pub(crate) upper_case: bool,
    /// Dutch particles after the core: `Berg, van den`.
    pub(crate) particles_after: bool,
    /// Characters outside windows-1252 transliterated.
    pub(crate) windows_1252: bool,
    /// Share of records whose diacritics are dropped by habit (as in a
    /// passport's machine-readable zone).
    pub(crate) drop_diacritics_share: f64,
    /// Names share one `Family, Given` column, so a family name never
    /// holds a comma (`Berg, van den` is written `Berg van den`).
    pub(crate) full_name_column: bool,
}

/// Letters that do not decompose into a base letter and a mark.
fn fold_special(c: char) -> Option<&'static str> {
    Some(match c {
        'ł' => "l",
        'Ł' => "L",
        'ı' => "i",
        'đ' => "d",
        'Đ' => "D",
        'ø' => "o",
        'Ø' => "O",
        'ħ' => "h",
        _ => return None,
    })
}

/// The text without diacritics (ş → s, ł → l, ễ → e).
pub(crate) fn drop_diacritics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match fold_special(c) {
            Some(replacement) => out.push_str(replacement),
            None => out.push(c),
        }
    }
    out.nfc().collect()
}

/// Whether a character has a windows-1252 code.
fn in_windows_1252(c: char) -> bool {
    if c.is_ascii() {
        return true;
    }
    let mut buffer = [0u8; 4];
    let (_, _, had_errors) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buffer));
    !had_errors
}

/// The text with every character that windows-1252 cannot hold
/// transliterated, as an agency's system would (ș → s, ő → o, but é stays).
pub(crate) fn to_windows_1252(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if in_windows_1252(c) {
            out.push(c);
        } else if let Some(replacement) = fold_special(c) {
            out.push_str(replacement);
        } else {
            let base: String = std::iter::once(c)
                .nfd()
                .filter(|&d| !is_combining_mark(d))
                .collect();
            for d in base.chars() {
                out.push(if in_windows_1252(d) { d } else { '?' });
            }
        }
    }
    out
}

fn chance(rng: &mut ChaCha8Rng, probability: f64) -> bool {
    probability > 0.0 && rng.random::<f64>() < probability
}

/// A variant spelling of `name`, if it has any.
fn variant_of(rng: &mut ChaCha8Rng, name: &str) -> Option<String> {
    let alternatives = variants().get(name)?;
    if alternatives.is_empty() {
        return None;
    }
    Some(alternatives[rng.random_range(0..alternatives.len())].clone())
}

/// One typo: a letter inserted, deleted, substituted, or two transposed.
pub(crate) fn typo(rng: &mut ChaCha8Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_alphabetic())
        .collect();
    if letters.len() < 2 {
        return text.to_string();
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    // Typos rarely hit the first letter; keep it.
    let position = letters[rng.random_range(1..letters.len())];
    let random_letter = |rng: &mut ChaCha8Rng, like: char| {
        let letter = ALPHABET[rng.random_range(0..ALPHABET.len())] as char;
        if like.is_uppercase() {
            letter.to_ascii_uppercase()
        } else {
            letter
        }
    };
    match rng.random_range(0..4) {
        0 => {
            let like = chars[position];
            let letter = random_letter(rng, like);
            chars.insert(position, letter);
        }
        1 => {
            if letters.len() > 2 {
                chars.remove(position);
            }
        }
        2 => {
            let like = chars[position];
            let mut letter = random_letter(rng, like);
            if letter == like {
                letter = if like.is_uppercase() { 'E' } else { 'e' };
            }
            chars[position] = letter;
        }
        _ => {
            let swappable: Vec<usize> = letters
                .iter()
                .copied()
                .filter(|&i| i >= 1 && i + 1 < chars.len() && chars[i + 1].is_alphabetic())
                .collect();
            if let Some(&i) = swappable.get(rng.random_range(0..swappable.len().max(1))) {
                chars.swap(i, i + 1);
            }
        }
    }
    chars.into_iter().collect()
}

/// A Dutch particle written another way.
fn particle_variant(rng: &mut ChaCha8Rng, name: &FamilyName, particle: &str) -> String {
    let core = &name.core;
    let capitalised: String = particle
        .split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let abbreviated = match particle {
        "van der" | "van den" | "van de" => Some(["v.d.", "vd", "v/d"][rng.random_range(0..3)]),
        _ => None,
    };
    let wrong_particle = match particle {
        "van der" => Some("van den"),
        "van den" => Some("van der"),
        "de" => Some("den"),
        _ => None,
    };
    match rng.random_range(0..6) {
        0 => format!("{capitalised} {core}"),
        1 => match abbreviated {
            Some(short) => format!("{short} {core}"),
            None => format!("{core}, {particle}"),
        },
        2 => format!("{core}, {particle}"),
        3 => format!("{core} {particle}"),
        4 => match wrong_particle {
            Some(wrong) => format!("{wrong} {core}"),
            None => format!("{capitalised} {core}"),
        },
        _ => {
            // Written as one word: Vandenberg, Dejong.
            let joined: String = format!("{particle}{core}")
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '\'')
                .collect::<String>()
                .to_lowercase();
            let mut chars = joined.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}

/// The record one registry makes of one person.
pub(crate) fn record(
    rng: &mut ChaCha8Rng,
    person: &Person,
    rates: &ErrorRates,
    style: NameStyle,
) -> Record {
    // Given names.
    let mut given: Vec<String> = person.given_names.clone();
    if given.len() > 1 && chance(rng, rates.first_given_only) {
        if person.nationality == Country::Vietnam {
            given.remove(0);
        } else {
            given.truncate(1);
        }
    }
    for name in &mut given {
        if chance(rng, rates.variant) {
            if let Some(variant) = variant_of(rng, name) {
                *name = variant;
            }
        }
    }
    let mut given_name = given.join(" ");

    // Family name.
    let mut family = person.family_name.clone();
    let mut family_name = None;
    if chance(rng, rates.variant) {
        if let Some(variant) = variant_of(rng, &family.written()) {
            family_name = Some(variant);
        } else if let Some(variant) = variant_of(rng, &family.core) {
            family.core = variant;
        }
    }
    let mut family_name = match (family_name, &family.particle) {
        (Some(name), _) => name,
        (None, Some(particle)) if chance(rng, rates.particle_variant) => {
            particle_variant(rng, &family, particle)
        }
        (None, Some(particle)) if style.particles_after => {
            format!("{}, {particle}", family.core)
        }
        (None, _) => family.written(),
    };

    if style.full_name_column {
        family_name = family_name.replace(',', "");
    }

    if chance(rng, rates.typo) {
        given_name = typo(rng, &given_name);
    }
    if chance(rng, rates.typo) {
        family_name = typo(rng, &family_name);
    }
    if chance(rng, rates.names_swapped) {
        std::mem::swap(&mut given_name, &mut family_name);
    }
    if chance(rng, rates.diacritics_dropped) || chance(rng, style.drop_diacritics_share) {
        given_name = drop_diacritics(&given_name);
        family_name = drop_diacritics(&family_name);
    }
    if style.windows_1252 {
        given_name = to_windows_1252(&given_name);
        family_name = to_windows_1252(&family_name);
    }
    if style.upper_case {
        given_name = given_name.to_uppercase();
        family_name = family_name.to_uppercase();
    }

    // Date of birth.
    let truth = person.birth;
    let mut birth = RecordedDate {
        year: truth.year,
        month: Some(truth.month),
        day: Some(truth.day),
    };
    if chance(rng, rates.year_off_by_one) {
        birth.year += if rng.random::<bool>() { 1 } else { -1 };
    }
    if chance(rng, rates.day_month_swapped) && truth.day <= 12 && truth.day != truth.month {
        birth.month = Some(truth.day);
        birth.day = Some(truth.month);
    }
    if let (Some(month), Some(day)) = (birth.month, birth.day) {
        // A year off by one can make 29 February impossible.
        birth.day = Some(day.min(days_in_month(birth.year, month)));
    }
    if chance(rng, rates.year_only) {
        birth.month = None;
        birth.day = None;
    }

    let keep = |rng: &mut ChaCha8Rng, rate: f64| !chance(rng, rate);
    Record {
        person: person.id,
        given_name: (keep(rng, rates.missing_given_name) && !given_name.is_empty())
            .then_some(given_name),
        family_name: (keep(rng, rates.missing_family_name) && !family_name.is_empty())
            .then_some(family_name),
        birth: keep(rng, rates.missing_birth).then_some(birth),
        sex: keep(rng, rates.missing_sex).then_some(person.sex),
        nationality: keep(rng, rates.missing_nationality)
            .then(|| person.nationality.code().to_string()),
        exploitation: keep(rng, rates.missing_exploitation).then_some(person.exploitation),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::BirthDate;
    use rand::SeedableRng;

    fn person() -> Person {
        Person {
            id: 7,
            nationality: Country::Netherlands,
            sex: Sex::Female,
            given_names: vec!["Anna".into(), "Maria".into()],
            family_name: FamilyName {
                particle: Some("van den".into()),
                core: "Berg".into(),
            },
            birth: BirthDate {
                year: 1990,
                month: 3,
                day: 7,
            },
            exploitation: Exploitation::Sexual,
        }
    }

    fn no_errors() -> ErrorRates {
        ErrorRates::default().scaled(0.0)
    }

    #[test]
    fn without_errors_the_record_is_the_person() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let record = record(&mut rng, &person(), &no_errors(), NameStyle::default());
        assert_eq!(record.given_name.as_deref(), Some("Anna Maria"));
        assert_eq!(record.family_name.as_deref(), Some("van den Berg"));
        assert_eq!(
            record.birth,
            Some(RecordedDate {
                year: 1990,
                month: Some(3),
                day: Some(7)
            })
        );
        assert_eq!(record.sex, Some(Sex::Female));
        assert_eq!(record.nationality.as_deref(), Some("NL"));
        assert_eq!(record.exploitation, Some(Exploitation::Sexual));
    }

    #[test]
    fn house_style_applies_without_errors() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let style = NameStyle {
            upper_case: true,
            particles_after: true,
            ..NameStyle::default()
        };
        let record = record(&mut rng, &person(), &no_errors(), style);
        assert_eq!(record.family_name.as_deref(), Some("BERG, VAN DEN"));
        assert_eq!(record.given_name.as_deref(), Some("ANNA MARIA"));
    }

    #[test]
    fn every_error_at_rate_one_changes_the_record() {
        let mut rates = no_errors();
        rates.names_swapped = 1.0;
        rates.first_given_only = 1.0;
        rates.year_only = 1.0;
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let record = record(&mut rng, &person(), &rates, NameStyle::default());
        assert_eq!(record.given_name.as_deref(), Some("van den Berg"));
        assert_eq!(record.family_name.as_deref(), Some("Anna"));
        assert_eq!(
            record.birth,
            Some(RecordedDate {
                year: 1990,
                month: None,
                day: None
            })
        );
    }

    #[test]
    fn swapped_day_and_month_stay_valid() {
        let mut rates = no_errors();
        rates.day_month_swapped = 1.0;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let record = record(&mut rng, &person(), &rates, NameStyle::default());
        let birth = record.birth.unwrap();
        assert_eq!((birth.month, birth.day), (Some(7), Some(3)));
    }

    #[test]
    fn typos_change_exactly_a_little() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for _ in 0..200 {
            let changed = typo(&mut rng, "Jansen");
            let length = changed.chars().count() as i64;
            assert!((length - 6).abs() <= 1, "{changed}");
            assert!(changed.starts_with('J'), "{changed}");
        }
    }

    #[test]
    fn diacritics_and_windows_1252() {
        assert_eq!(
            drop_diacritics("Ștefan Łukasz Nguyễn Yılmaz"),
            "Stefan Lukasz Nguyen Yilmaz"
        );
        // é, ö and š exist in windows-1252; ș, ő, ł and ễ do not.
        assert_eq!(to_windows_1252("Zoë Böhm Šimek"), "Zoë Böhm Šimek");
        assert_eq!(
            to_windows_1252("Ștefan Kőrösi Łukasz Nguyễn"),
            "Stefan Korösi Lukasz Nguyen"
        );
    }

    #[test]
    fn particle_variants_keep_the_core() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let name = person().family_name;
        for _ in 0..50 {
            let written = particle_variant(&mut rng, &name, "van den");
            assert!(written.to_lowercase().contains("berg"), "{written}");
        }
    }
}
