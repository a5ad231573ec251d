//! The registries: who each captures (by stratum, with dependence), and the
//! house style each writes its CSV in (columns, delimiter, encoding, dates,
//! sex codes, case), with the source profile that describes that style.

use std::fmt::Write as _;

use crate::error::SynthError;
use crate::names::Country;
use crate::noise::{NameStyle, Record, RecordedDate};
use crate::population::{Exploitation, Person, Sex};

/// The labels of the registries, in order; `--registries K` takes the first K.
pub const REGISTRY_LABELS: [&str; 8] = [
    "police",
    "shelters",
    "border_police",
    "labour_inspectorate",
    "municipalities",
    "healthcare",
    "youth_care",
    "ngo_outreach",
];

/// The text encoding of a registry's CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// windows-1252 (names transliterated where it has no letter).
    Windows1252,
}

impl TextEncoding {
    /// The name a source profile uses.
    pub fn profile_name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => "utf-8",
            TextEncoding::Windows1252 => "windows-1252",
        }
    }
}

/// How a registry writes a date whose day and month are unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnknownDayMonth {
    /// `00` for the unknown parts, in the usual format.
    Zeros,
    /// The year alone.
    YearOnly,
}

/// How a registry writes names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameColumns {
    /// Given and family names in their own columns.
    Separate {
        given: &'static str,
        family: &'static str,
    },
    /// One column `Family, Given`.
    FamilyGiven { column: &'static str },
}

/// A registry's house style.
#[derive(Debug, Clone)]
pub(crate) struct HouseStyle {
    delimiter: u8,
    encoding: TextEncoding,
    crlf: bool,
    id_column: &'static str,
    id_prefix: &'static str,
    names: NameColumns,
    birth_column: &'static str,
    sex_column: &'static str,
    nationality_column: &'static str,
    exploitation_column: &'static str,
    date_format: &'static str,
    unknown_day_month: UnknownDayMonth,
    /// Female code, male code.
    sex_codes: (&'static str, &'static str),
    missing_marker: &'static str,
    /// Extra markers the profile lists (never written, but accepted).
    other_missing: &'static [&'static str],
    lower_case_codes: bool,
    pub(crate) name_style: NameStyle,
}

impl HouseStyle {
    /// The house style of the registry at `index` in [`REGISTRY_LABELS`].
    pub(crate) fn for_index(index: usize) -> HouseStyle {
        let plain = NameStyle::default();
        match index {
            // Police: Dutch column names, ';', windows-1252, dd-mm-yyyy with
            // 00 for unknown parts, M/V.
            0 => HouseStyle {
                delimiter: b';',
                encoding: TextEncoding::Windows1252,
                crlf: false,
                id_column: "dossiernummer",
                id_prefix: "PL",
                names: NameColumns::Separate {
                    given: "voornamen",
                    family: "achternaam",
                },
                birth_column: "geboortedatum",
                sex_column: "geslacht",
                nationality_column: "nationaliteit",
                exploitation_column: "uitbuitingsvorm",
                date_format: "%d-%m-%Y",
                unknown_day_month: UnknownDayMonth::Zeros,
                sex_codes: ("V", "M"),
                missing_marker: "onbekend",
                other_missing: &[""],
                lower_case_codes: false,
                name_style: NameStyle {
                    windows_1252: true,
                    ..plain
                },
            },
            // Shelters: English columns, UTF-8 with a BOM and CRLF,
            // yyyy-mm-dd, female/male, particles after the core.
            1 => HouseStyle {
                delimiter: b',',
                encoding: TextEncoding::Utf8Bom,
                crlf: true,
                id_column: "client_id",
                id_prefix: "SH",
                names: NameColumns::Separate {
                    given: "first_names",
                    family: "last_name",
                },
                birth_column: "date_of_birth",
                sex_column: "gender",
                nationality_column: "nationality",
                exploitation_column: "exploitation_type",
                date_format: "%Y-%m-%d",
                unknown_day_month: UnknownDayMonth::YearOnly,
                sex_codes: ("female", "male"),
                missing_marker: "",
                other_missing: &["unknown"],
                lower_case_codes: true,
                name_style: NameStyle {
                    particles_after: true,
                    ..plain
                },
            },
            // Border police: upper case, tab-separated, yyyymmdd with 00 for
            // unknown parts, ISO 5218 sex codes, diacritics often dropped.
            2 => HouseStyle {
                delimiter: b'\t',
                encoding: TextEncoding::Utf8,
                crlf: false,
                id_column: "REF",
                id_prefix: "KMAR",
                names: NameColumns::Separate {
                    given: "GIVEN_NAMES",
                    family: "SURNAME",
                },
                birth_column: "DOB",
                sex_column: "SEX",
                nationality_column: "NATIONALITY",
                exploitation_column: "EXPLOITATION",
                date_format: "%Y%m%d",
                unknown_day_month: UnknownDayMonth::Zeros,
                sex_codes: ("2", "1"),
                missing_marker: "UNKNOWN",
                other_missing: &[""],
                lower_case_codes: false,
                name_style: NameStyle {
                    upper_case: true,
                    drop_diacritics_share: 0.6,
                    ..plain
                },
            },
            // Labour inspectorate: one "Family, Given" column, dd/mm/yyyy,
            // man/vrouw.
            3 => HouseStyle {
                delimiter: b',',
                encoding: TextEncoding::Utf8,
                crlf: false,
                id_column: "zaaknummer",
                id_prefix: "NLA",
                names: NameColumns::FamilyGiven { column: "naam" },
                birth_column: "geb_datum",
                sex_column: "geslacht",
                nationality_column: "nationaliteit",
                exploitation_column: "uitbuiting",
                date_format: "%d/%m/%Y",
                unknown_day_month: UnknownDayMonth::YearOnly,
                sex_codes: ("vrouw", "man"),
                missing_marker: "-",
                other_missing: &[""],
                lower_case_codes: true,
                name_style: NameStyle {
                    full_name_column: true,
                    ..plain
                },
            },
            4 => HouseStyle {
                delimiter: b',',
                encoding: TextEncoding::Utf8,
                crlf: false,
                id_column: "bsn_ref",
                id_prefix: "GM",
                names: NameColumns::Separate {
                    given: "voornaam",
                    family: "geslachtsnaam",
                },
                birth_column: "geboortedatum",
                sex_column: "geslacht",
                nationality_column: "nationaliteit",
                exploitation_column: "uitbuiting",
                date_format: "%d.%m.%Y",
                unknown_day_month: UnknownDayMonth::YearOnly,
                sex_codes: ("V", "M"),
                missing_marker: "",
                other_missing: &[],
                lower_case_codes: true,
                name_style: plain,
            },
            5 => HouseStyle {
                delimiter: b';',
                encoding: TextEncoding::Utf8,
                crlf: true,
                id_column: "patient_nr",
                id_prefix: "ZH",
                names: NameColumns::Separate {
                    given: "voornamen",
                    family: "naam",
                },
                birth_column: "geb_dat",
                sex_column: "sekse",
                nationality_column: "land",
                exploitation_column: "vorm",
                date_format: "%d-%m-%Y",
                unknown_day_month: UnknownDayMonth::Zeros,
                sex_codes: ("F", "M"),
                missing_marker: "n.b.",
                other_missing: &[""],
                lower_case_codes: false,
                name_style: plain,
            },
            6 => HouseStyle {
                delimiter: b',',
                encoding: TextEncoding::Utf8,
                crlf: false,
                id_column: "case",
                id_prefix: "JZ",
                names: NameColumns::Separate {
                    given: "given",
                    family: "family",
                },
                birth_column: "born",
                sex_column: "sex",
                nationality_column: "country",
                exploitation_column: "form",
                date_format: "%Y-%m-%d",
                unknown_day_month: UnknownDayMonth::YearOnly,
                sex_codes: ("w", "m"),
                missing_marker: "",
                other_missing: &[],
                lower_case_codes: true,
                name_style: plain,
            },
            _ => HouseStyle {
                delimiter: b'|',
                encoding: TextEncoding::Utf8,
                crlf: false,
                id_column: "contact",
                id_prefix: "NGO",
                names: NameColumns::FamilyGiven { column: "name" },
                birth_column: "dob",
                sex_column: "sex",
                nationality_column: "nationality",
                exploitation_column: "exploitation",
                date_format: "%d/%m/%Y",
                unknown_day_month: UnknownDayMonth::YearOnly,
                sex_codes: ("f", "m"),
                missing_marker: "?",
                other_missing: &[""],
                lower_case_codes: true,
                name_style: NameStyle {
                    full_name_column: true,
                    ..plain
                },
            },
        }
    }

    /// The encoding the CSV is written in.
    pub(crate) fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    fn format_date(&self, date: RecordedDate) -> String {
        let (month, day) = match (date.month, date.day) {
            (Some(month), Some(day)) => (month, day),
            _ if self.unknown_day_month == UnknownDayMonth::YearOnly => {
                return format!("{:04}", date.year)
            }
            (Some(month), None) => (month, 0),
            _ => (0, 0),
        };
        self.date_format
            .replace("%Y", &format!("{:04}", date.year))
            .replace("%m", &format!("{month:02}"))
            .replace("%d", &format!("{day:02}"))
    }

    fn code_case(&self, code: &str) -> String {
        if self.name_style.upper_case {
            code.to_uppercase()
        } else if self.lower_case_codes {
            code.to_lowercase()
        } else {
            code.to_string()
        }
    }

    fn header(&self) -> Vec<&'static str> {
        let mut header = vec![self.id_column];
        match self.names {
            NameColumns::Separate { given, family } => {
                header.push(family);
                header.push(given);
            }
            NameColumns::FamilyGiven { column } => header.push(column),
        }
        header.extend([
            self.birth_column,
            self.sex_column,
            self.nationality_column,
            self.exploitation_column,
        ]);
        header
    }

    fn cells(&self, row: usize, record: &Record) -> Vec<String> {
        let missing = || self.missing_marker.to_string();
        let or_missing = |value: Option<String>| value.unwrap_or_else(missing);
        let mut cells = vec![format!("{}-{:06}", self.id_prefix, 100_000 + row * 7 + 3)];
        match self.names {
            NameColumns::Separate { .. } => {
                cells.push(or_missing(record.family_name.clone()));
                cells.push(or_missing(record.given_name.clone()));
            }
            NameColumns::FamilyGiven { .. } => {
                cells.push(match (&record.family_name, &record.given_name) {
                    (None, None) => missing(),
                    (family, given) => format!(
                        "{}, {}",
                        family.as_deref().unwrap_or(""),
                        given.as_deref().unwrap_or("")
                    )
                    .trim()
                    .to_string(),
                });
            }
        }
        cells.push(or_missing(record.birth.map(|d| self.format_date(d))));
        cells.push(or_missing(record.sex.map(|sex| match sex {
            Sex::Female => self.sex_codes.0.to_string(),
            Sex::Male => self.sex_codes.1.to_string(),
        })));
        cells.push(or_missing(
            record.nationality.as_deref().map(|c| self.code_case(c)),
        ));
        cells.push(or_missing(
            record.exploitation.map(|e| self.code_case(e.code())),
        ));
        cells
    }

    /// The registry's CSV bytes, in its encoding.
    pub(crate) fn render(&self, records: &[Record]) -> Result<Vec<u8>, SynthError> {
        let terminator = if self.crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        };
        let mut writer = csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .terminator(terminator)
            .from_writer(Vec::new());
        let csv_error = |e: csv::Error| SynthError::Csv {
            line: 0,
            kind: format!("writing CSV failed: {e}"),
        };
        writer.write_record(self.header()).map_err(csv_error)?;
        for (row, record) in records.iter().enumerate() {
            writer
                .write_record(self.cells(row, record))
                .map_err(csv_error)?;
        }
        let utf8 = writer.into_inner().map_err(|e| SynthError::Csv {
            line: 0,
            kind: format!("writing CSV failed: {}", e.error()),
        })?;
        Ok(match self.encoding {
            TextEncoding::Utf8 => utf8,
            TextEncoding::Utf8Bom => {
                let mut bytes = vec![0xEF, 0xBB, 0xBF];
                bytes.extend_from_slice(&utf8);
                bytes
            }
            TextEncoding::Windows1252 => {
                let text = String::from_utf8_lossy(&utf8);
                let (bytes, _, had_errors) = encoding_rs::WINDOWS_1252.encode(&text);
                if had_errors {
                    return Err(SynthError::Csv {
                        line: 0,
                        kind: "a character has no windows-1252 code".into(),
                    });
                }
                bytes.into_owned()
            }
        })
    }

    /// The source profile (TOML) describing this house style.
    pub(crate) fn profile(&self, label: &str) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "# Source profile of the synthetic registry `{label}` (written by zicht synth).\n\
             # It tells `zicht encode` how this registry's CSV maps onto the schema."
        );
        let _ = writeln!(text, "source = {}", quote(label));
        let delimiter = (self.delimiter as char).to_string();
        let _ = writeln!(text, "delimiter = {}", quote(&delimiter));
        let _ = writeln!(text, "header = true");
        let _ = writeln!(text, "encoding = {}", quote(self.encoding.profile_name()));
        let mut missing = vec![self.missing_marker];
        missing.extend(self.other_missing.iter().copied());
        let _ = writeln!(text, "missing = {}", list(&missing));
        let mut formats = vec![self.date_format];
        if self.unknown_day_month == UnknownDayMonth::YearOnly {
            formats.push("%Y");
        }
        let _ = writeln!(text, "date_formats = {}", list(&formats));
        let _ = writeln!(
            text,
            "sex_codes = {{ {} = \"f\", {} = \"m\" }}",
            quote(self.sex_codes.0),
            quote(self.sex_codes.1)
        );
        let _ = writeln!(text, "\n[columns]");
        if let NameColumns::Separate { given, family } = self.names {
            let _ = writeln!(text, "given_name = {}", quote(given));
            let _ = writeln!(text, "family_name = {}", quote(family));
        }
        let _ = writeln!(text, "date_of_birth = {}", quote(self.birth_column));
        let _ = writeln!(text, "sex = {}", quote(self.sex_column));
        let _ = writeln!(text, "nationality = {}", quote(self.nationality_column));
        let _ = writeln!(text, "exploitation = {}", quote(self.exploitation_column));
        if let NameColumns::FamilyGiven { column } = self.names {
            let _ = writeln!(text, "\n[full_name]");
            let _ = writeln!(text, "column = {}", quote(column));
            let _ = writeln!(text, "order = \"family_given\"");
        }
        text
    }
}

/// A TOML basic string.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| quote(item)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The probability that the registry at `index` captures `person`, before
/// dependence and heterogeneity.
pub(crate) fn capture_probability(index: usize, person: &Person, reference_year: i32) -> f64 {
    let dutch = person.nationality == Country::Netherlands;
    let female = person.sex == Sex::Female;
    let by_form = |sexual: f64, labour: f64, criminal: f64, other: f64| match person.exploitation {
        Exploitation::Sexual => sexual,
        Exploitation::Labour => labour,
        Exploitation::Criminal => criminal,
        Exploitation::Other => other,
    };
    match index {
        // Police: mostly sexual and criminal exploitation, Dutch a bit more.
        0 => by_form(0.22, 0.10, 0.28, 0.12) * if dutch { 1.15 } else { 1.0 },
        // Shelters: mostly women.
        1 => by_form(0.20, 0.10, 0.10, 0.14) * if female { 1.0 } else { 0.4 },
        // Border police: almost only non-Dutch, more from outside the EU.
        2 => {
            if dutch {
                0.015
            } else {
                let outside_eu = matches!(
                    person.nationality,
                    Country::Nigeria | Country::Ukraine | Country::Vietnam | Country::Morocco
                );
                by_form(0.14, 0.12, 0.10, 0.10) * if outside_eu { 1.3 } else { 1.0 }
            }
        }
        // Labour inspectorate: labour exploitation.
        3 => by_form(0.015, 0.30, 0.03, 0.06) * if dutch { 1.0 } else { 1.2 },
        // Municipalities.
        4 => 0.08,
        // Healthcare.
        5 => {
            if female {
                0.10
            } else {
                0.06
            }
        }
        // Youth care: the young.
        6 => {
            if reference_year - person.birth.year < 23 {
                0.15
            } else {
                0.01
            }
        }
        // NGO outreach: mostly non-Dutch.
        _ => {
            if dutch {
                0.05
            } else {
                0.12
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            person: 0,
            given_name: Some("Anna".into()),
            family_name: Some("de Vries".into()),
            birth: Some(RecordedDate {
                year: 1990,
                month: Some(3),
                day: Some(7),
            }),
            sex: Some(Sex::Female),
            nationality: Some("NL".into()),
            exploitation: Some(Exploitation::Sexual),
        }
    }

    #[test]
    fn dates_follow_the_house_style() {
        let date = RecordedDate {
            year: 1990,
            month: Some(3),
            day: Some(7),
        };
        let year_only = RecordedDate {
            year: 1990,
            month: None,
            day: None,
        };
        let police = HouseStyle::for_index(0);
        assert_eq!(police.format_date(date), "07-03-1990");
        assert_eq!(police.format_date(year_only), "00-00-1990");
        let border = HouseStyle::for_index(2);
        assert_eq!(border.format_date(date), "19900307");
        assert_eq!(border.format_date(year_only), "19900000");
        let shelters = HouseStyle::for_index(1);
        assert_eq!(shelters.format_date(year_only), "1990");
    }

    #[test]
    fn full_name_column_and_missing_markers() {
        let labour = HouseStyle::for_index(3);
        let cells = labour.cells(0, &record());
        assert_eq!(cells[1], "de Vries, Anna");
        let mut no_given = record();
        no_given.given_name = None;
        assert_eq!(labour.cells(0, &no_given)[1], "de Vries,");
        no_given.family_name = None;
        assert_eq!(labour.cells(0, &no_given)[1], "-");
    }

    #[test]
    fn bom_and_crlf_for_the_shelters() {
        let bytes = HouseStyle::for_index(1).render(&[record()]).unwrap();
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        assert!(bytes.windows(2).any(|w| w == b"\r\n"));
    }

    #[test]
    fn quoting_toml_strings() {
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("\t"), "\"\\t\"");
    }

    #[test]
    fn profiles_list_every_field() {
        for (index, label) in REGISTRY_LABELS.iter().enumerate() {
            let profile = HouseStyle::for_index(index).profile(label);
            for key in ["date_of_birth", "sex", "nationality", "exploitation"] {
                assert!(profile.contains(&format!("\n{key} = ")), "{index}: {key}");
            }
        }
    }
}
