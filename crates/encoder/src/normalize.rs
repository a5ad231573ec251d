//! Normalisation of raw cells: Unicode, case, diacritics, punctuation, Dutch
//! surname particles, dates and sex codes. Nothing here keeps or reports a
//! value: errors say what kind of problem a cell has, never what it held.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Letters that do not decompose into a base letter plus a mark.
fn fold_special(c: char, out: &mut String) -> bool {
    let replacement = match c {
        'ß' => "ss",
        'ø' | 'Ø' => "o",
        'ł' | 'Ł' => "l",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        'ħ' | 'Ħ' => "h",
        'ŧ' | 'Ŧ' => "t",
        'ĳ' | 'Ĳ' => "ij",
        _ => return false,
    };
    out.push_str(replacement);
    true
}

/// NFKC, case folding, diacritics removed, apostrophes dropped, every other
/// non-alphanumeric character turned into a space, whitespace collapsed.
///
/// ```
/// use zicht_encoder::normalize::normalize_text;
/// assert_eq!(normalize_text("  Şerban-Ionuț  "), "serban ionut");
/// assert_eq!(normalize_text("Straße"), "strasse");
/// assert_eq!(normalize_text("O'Brien"), "obrien");
/// ```
pub fn normalize_text(raw: &str) -> String {
    if raw.is_ascii() {
        return normalize_ascii(raw);
    }
    let mut folded = String::with_capacity(raw.len());
    for c in raw.nfkc().flat_map(char::to_lowercase) {
        if !fold_special(c, &mut folded) {
            folded.push(c);
        }
    }
    let mut out = String::with_capacity(folded.len());
    let mut pending_space = false;
    for c in folded.nfd() {
        if is_combining_mark(c) || matches!(c, '\'' | '’' | '‘' | '`' | '´' | 'ʼ') {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out.nfc().collect()
}

/// [`normalize_text`] for ASCII input, without Unicode tables.
fn normalize_ascii(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for b in raw.bytes() {
        if b == b'\'' || b == b'`' {
            continue;
        }
        if b.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(char::from(b.to_ascii_lowercase()));
        } else {
            pending_space = true;
        }
    }
    out
}

/// Words that are surname particles (after [`normalize_text`]); `v` and `d`
/// come from abbreviations like "v.d." and "v/d".
const PARTICLES: &[&str] = &[
    "van", "de", "der", "den", "het", "t", "ter", "ten", "te", "op", "in", "aan", "bij", "onder",
    "uit", "vd", "vdr", "v", "d", "von", "zu", "vom", "zum", "zur", "le", "la", "les", "du", "des",
    "del", "della", "di", "da", "dos", "das", "do", "el", "al", "y",
];

/// An identifier (document number, postcode): its letters and digits,
/// upper-cased; everything else dropped.
pub fn normalize_identifier(raw: &str) -> String {
    if raw.is_ascii() {
        // The same as below, byte by byte.
        return raw
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_uppercase()))
            .collect();
    }
    normalize_identifier_chars(raw)
}

fn normalize_identifier_chars(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether a normalised word is a surname particle.
pub fn is_particle(word: &str) -> bool {
    PARTICLES.contains(&word)
}

/// Particles sometimes written glued to the name ("Vanderbeek"); they are
/// stripped when at least three letters remain.
const GLUED_PARTICLES: &[&str] = &["vander", "vanden", "vande"];

fn strip_glued_particle(word: &str) -> &str {
    for particle in GLUED_PARTICLES {
        if let Some(rest) = word.strip_prefix(particle) {
            if rest.chars().count() >= 3 {
                return rest;
            }
        }
    }
    word
}

/// The core of a family name: particles removed wherever they stand, so
/// "van den Berg", "Berg, van den" and "v.d. Berg" all give "berg".
/// A name made only of particles is kept whole.
///
/// ```
/// use zicht_encoder::normalize::family_name_core;
/// assert_eq!(family_name_core("van den Berg"), "berg");
/// assert_eq!(family_name_core("Berg, van den"), "berg");
/// assert_eq!(family_name_core("v.d. Berg"), "berg");
/// ```
pub fn family_name_core(raw: &str) -> String {
    let text = normalize_text(raw);
    let core: Vec<&str> = text
        .split(' ')
        .filter(|w| !w.is_empty() && !PARTICLES.contains(w))
        .map(strip_glued_particle)
        .collect();
    if core.is_empty() {
        text
    } else {
        core.join(" ")
    }
}

/// A date with possibly unknown parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PartialDate {
    /// Year, when known.
    pub year: Option<u16>,
    /// Month 1..=12, when known.
    pub month: Option<u8>,
    /// Day 1..=31, when known.
    pub day: Option<u8>,
}

/// Why a date could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateProblem {
    /// It matches none of the formats.
    NoFormatMatches,
    /// It matches a format but is not a real date (month 13, 31 April, ...).
    Impossible,
}

impl DateProblem {
    /// A message without the value.
    pub fn message(self, formats: &[String]) -> String {
        match self {
            DateProblem::NoFormatMatches => {
                format!("date matches none of the formats {}", formats.join(", "))
            }
            DateProblem::Impossible => "date is not a valid calendar date".into(),
        }
    }
}

/// The default date formats, tried in order.
pub const DEFAULT_DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d", "%Y",
];

const MONTHS: &[(&str, u8)] = &[
    ("jan", 1),
    ("feb", 2),
    ("mar", 3),
    ("mrt", 3),
    ("apr", 4),
    ("may", 5),
    ("mei", 5),
    ("jun", 6),
    ("jul", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("okt", 10),
    ("nov", 11),
    ("dec", 12),
];

/// Parse a date with the first matching format.
///
/// # Errors
/// [`DateProblem`] when no format matches or the date is impossible.
pub fn parse_date(raw: &str, formats: &[String]) -> Result<PartialDate, DateProblem> {
    let raw = raw.trim();
    let mut problem = DateProblem::NoFormatMatches;
    for format in formats {
        match parse_with(raw, format) {
            Some(Ok(date)) => return Ok(date),
            Some(Err(p)) => problem = p,
            None => {}
        }
    }
    Err(problem)
}

/// `None`: the shape does not match; `Some(Err)`: it matches but is invalid.
fn parse_with(raw: &str, format: &str) -> Option<Result<PartialDate, DateProblem>> {
    let text = raw.as_bytes();
    let fmt = format.as_bytes();
    let (mut i, mut j) = (0, 0);
    let (mut year, mut month, mut day) = (None::<u32>, None::<u32>, None::<u32>);
    let mut unknown_month = false;
    let mut unknown_day = false;
    // Digits at text[i..]: up to `max` of them, at least `min`.
    let digits =
        |i: &mut usize, min: usize, max: usize, exact_when_followed: bool| -> Option<(u32, bool)> {
            let start = *i;
            let mut end = start;
            while end < text.len() && end - start < max && text[end].is_ascii_digit() {
                end += 1;
            }
            let slice = &raw[start..end];
            let is_unknown = end == start
                && text.len() >= start + 2
                && text[start..start + 2].eq_ignore_ascii_case(b"xx");
            if is_unknown {
                *i = start + 2;
                return Some((0, true));
            }
            if end - start < min || (exact_when_followed && end - start != max) {
                return None;
            }
            *i = end;
            Some((slice.parse().ok()?, false))
        };
    while j < fmt.len() {
        if fmt[j] == b'%' && j + 1 < fmt.len() {
            // A directive is fixed-width when the format puts another
            // directive right after it (as in %Y%m%d).
            let followed_by_directive = j + 2 < fmt.len() && fmt[j + 2] == b'%';
            match fmt[j + 1] {
                b'Y' => {
                    let (y, unknown) = digits(&mut i, 4, 4, true)?;
                    if unknown {
                        return None;
                    }
                    year = Some(y);
                }
                b'm' => {
                    let (m, unknown) = digits(&mut i, 1, 2, followed_by_directive)?;
                    unknown_month = unknown || m == 0;
                    month = Some(m);
                }
                b'd' => {
                    let (d, unknown) = digits(&mut i, 1, 2, followed_by_directive)?;
                    unknown_day = unknown || d == 0;
                    day = Some(d);
                }
                b'b' => {
                    let word_end = (i..text.len())
                        .find(|&k| !text[k].is_ascii_alphabetic())
                        .unwrap_or(text.len());
                    if word_end < i + 3 {
                        return None;
                    }
                    let word = raw[i..i + 3].to_ascii_lowercase();
                    let m = MONTHS.iter().find(|(name, _)| *name == word)?.1;
                    month = Some(u32::from(m));
                    i = word_end;
                }
                _ => return None,
            }
            j += 2;
        } else {
            if i >= text.len() || text[i] != fmt[j] {
                return None;
            }
            i += 1;
            j += 1;
        }
    }
    if i != text.len() {
        return None;
    }
    let year = year?;
    if !(1850..=2100).contains(&year) {
        return Some(Err(DateProblem::Impossible));
    }
    let month = month.filter(|_| !unknown_month);
    let day = day.filter(|_| !unknown_day);
    if month.is_some_and(|m| !(1..=12).contains(&m)) {
        return Some(Err(DateProblem::Impossible));
    }
    if let Some(d) = day {
        let max = match month {
            Some(2) if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
            Some(2) => 28,
            Some(4 | 6 | 9 | 11) => 30,
            _ => 31,
        };
        if !(1..=max).contains(&d) {
            return Some(Err(DateProblem::Impossible));
        }
    }
    Some(Ok(PartialDate {
        year: Some(year as u16),
        month: month.map(|m| m as u8),
        day: day.map(|d| d as u8),
    }))
}

/// Normalised sex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other.
    Other,
}

impl Sex {
    /// `f`, `m` or `x`.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "f",
            Sex::Male => "m",
            Sex::Other => "x",
        }
    }

    /// From `f`, `m` or `x` (as written in profiles).
    pub fn from_code(code: &str) -> Option<Sex> {
        match code.trim().to_ascii_lowercase().as_str() {
            "f" => Some(Sex::Female),
            "m" => Some(Sex::Male),
            "x" => Some(Sex::Other),
            _ => None,
        }
    }
}

/// The built-in sex codes, compared case-insensitively.
pub fn builtin_sex(raw: &str) -> Option<Sex> {
    match raw.trim().to_lowercase().as_str() {
        "f" | "female" | "v" | "vrouw" | "w" | "woman" | "vrouwelijk" | "2" | "fem" => {
            Some(Sex::Female)
        }
        "m" | "male" | "man" | "mannelijk" | "1" | "h" => Some(Sex::Male),
        "x" | "other" | "anders" | "o" | "divers" => Some(Sex::Other),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ASCII shortcut of `normalize_identifier` is the general path.
    #[test]
    fn ascii_identifiers_take_a_shortcut_to_the_same_place() {
        let all_ascii: String = (0u8..128).map(char::from).collect();
        for raw in [all_ascii.as_str(), "nx-157 4702", "8364 sz", "", "ÄB-1"] {
            assert_eq!(
                normalize_identifier(raw),
                normalize_identifier_chars(raw),
                "{raw:?}"
            );
        }
        assert_eq!(normalize_identifier("nx-157 4702"), "NX1574702");
    }

    fn formats(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Real-world spellings and what they normalise to.
    #[test]
    fn normalisation_table() {
        let table = [
            ("Şerban", "serban"),
            ("Ştefănescu", "stefanescu"),
            ("Łukasz Wójcik", "lukasz wojcik"),
            ("Søren", "soren"),
            ("Strauß", "strauss"),
            ("Nguyễn Thị Hương", "nguyen thi huong"),
            ("Gyöngyi Szőke", "gyongyi szoke"),
            ("Çağlar Öztürk", "caglar ozturk"),
            ("Ivanova-Petrova", "ivanova petrova"),
            ("  ANNA   maria ", "anna maria"),
            ("O'Connor", "oconnor"),
            ("Chukwuemeka Okafor.", "chukwuemeka okafor"),
            ("Ｍａｒｉａ", "maria"),
            ("Zoë", "zoe"),
            ("Mohammed", "mohammed"),
            ("Đorđe", "dorde"),
            ("Ærø", "aero"),
            ("IJsbrand", "ijsbrand"),
            ("ĳsbrand", "ijsbrand"),
        ];
        for (raw, want) in table {
            assert_eq!(normalize_text(raw), want, "{raw}");
        }
    }

    #[test]
    fn ascii_fast_path_agrees_with_the_unicode_path() {
        for raw in [
            "  Anna-Maria  O'Brien ",
            "V.D. BERG",
            "x_y z",
            "",
            "12 ab!?",
        ] {
            let mut slow = String::new();
            for c in raw.nfkc().flat_map(char::to_lowercase) {
                slow.push(c);
            }
            // Force the general path with a non-ASCII character that normalises away.
            let general = normalize_text(&format!("{raw}\u{301}"));
            assert_eq!(normalize_ascii(raw), general, "{raw}");
        }
    }

    #[test]
    fn particles() {
        for raw in [
            "van den Berg",
            "Berg, van den",
            "v.d. Berg",
            "V/D BERG",
            "vd Berg",
            "Van Den Berg",
        ] {
            assert_eq!(family_name_core(raw), "berg", "{raw}");
        }
        assert_eq!(family_name_core("de Bruijn"), "bruijn");
        assert_eq!(family_name_core("Bruijn, de"), "bruijn");
        assert_eq!(family_name_core("in 't Veld"), "veld");
        assert_eq!(family_name_core("ter Horst"), "horst");
        assert_eq!(family_name_core("Jansen-de Vries"), "jansen vries");
        assert_eq!(family_name_core("Van"), "van");
        assert_eq!(family_name_core("Vanderbeekhof"), "beekhof");
        assert_eq!(family_name_core("VandenBerg"), "berg");
        assert_eq!(family_name_core("Vandam"), "vandam");
    }

    #[test]
    fn dates() {
        let all: Vec<String> = DEFAULT_DATE_FORMATS.iter().map(|s| s.to_string()).collect();
        let full = PartialDate {
            year: Some(1990),
            month: Some(12),
            day: Some(31),
        };
        for raw in [
            "1990-12-31",
            "31-12-1990",
            "31/12/1990",
            "31.12.1990",
            "19901231",
        ] {
            assert_eq!(parse_date(raw, &all), Ok(full), "{raw}");
        }
        assert_eq!(
            parse_date("1-2-1990", &all).unwrap(),
            PartialDate {
                year: Some(1990),
                month: Some(2),
                day: Some(1)
            }
        );
        assert_eq!(
            parse_date("1990", &all).unwrap(),
            PartialDate {
                year: Some(1990),
                month: None,
                day: None
            }
        );
        assert_eq!(
            parse_date("00-00-1990", &all).unwrap(),
            PartialDate {
                year: Some(1990),
                month: None,
                day: None
            }
        );
        assert_eq!(
            parse_date("XX-07-1990", &all).unwrap(),
            PartialDate {
                year: Some(1990),
                month: Some(7),
                day: None
            }
        );
        assert_eq!(parse_date("31-04-1990", &all), Err(DateProblem::Impossible));
        assert_eq!(parse_date("29-02-2001", &all), Err(DateProblem::Impossible));
        assert!(parse_date("29-02-2000", &all).is_ok());
        assert_eq!(parse_date("13-13-1990", &all), Err(DateProblem::Impossible));
        assert_eq!(
            parse_date("yesterday", &all),
            Err(DateProblem::NoFormatMatches)
        );
        assert_eq!(
            parse_date("12 mrt 1985", &formats(&["%d %b %Y"])).unwrap(),
            PartialDate {
                year: Some(1985),
                month: Some(3),
                day: Some(12)
            }
        );
    }

    #[test]
    fn sex_codes() {
        assert_eq!(builtin_sex("V"), Some(Sex::Female));
        assert_eq!(builtin_sex(" vrouw "), Some(Sex::Female));
        assert_eq!(builtin_sex("MALE"), Some(Sex::Male));
        assert_eq!(builtin_sex("?"), None);
    }
}
