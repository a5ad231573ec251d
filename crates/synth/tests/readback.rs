//! Reads every generated registry back through its own source profile (the
//! delimiter, encoding, date formats, sex codes and missing markers the
//! profile names) and checks that every value round-trips.

use zicht_synth::{generate, Exploitation, Record, RecordedDate, Sex, SynthConfig};

struct Profile {
    delimiter: u8,
    encoding: String,
    missing: Vec<String>,
    date_formats: Vec<String>,
    sex_codes: Vec<(String, String)>,
    columns: toml::Table,
    full_name: Option<String>,
}

fn profile(text: &str) -> Profile {
    let value: toml::Table = toml::from_str(text).expect("profile is TOML");
    let strings = |key: &str| -> Vec<String> {
        value[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let delimiter = value["delimiter"].as_str().unwrap();
    assert_eq!(delimiter.len(), 1, "one-byte delimiter");
    assert_eq!(value["header"].as_bool(), Some(true));
    Profile {
        delimiter: delimiter.as_bytes()[0],
        encoding: value["encoding"].as_str().unwrap().to_string(),
        missing: strings("missing"),
        date_formats: strings("date_formats"),
        sex_codes: value["sex_codes"]
            .as_table()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect(),
        columns: value["columns"].as_table().unwrap().clone(),
        full_name: value.get("full_name").map(|t| {
            assert_eq!(t["order"].as_str(), Some("family_given"));
            t["column"].as_str().unwrap().to_string()
        }),
    }
}

fn decode(bytes: &[u8], encoding: &str) -> String {
    match encoding {
        "utf-8" => {
            let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            String::from_utf8(bytes.to_vec()).expect("valid UTF-8")
        }
        "windows-1252" => {
            let (text, had_errors) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            assert!(!had_errors);
            text.into_owned()
        }
        other => panic!("unexpected encoding {other}"),
    }
}

/// A small reader for the formats of docs/schema.md: %d, %m, %Y and
/// literal characters, with 00 meaning unknown.
fn parse_date(cell: &str, formats: &[String]) -> Option<RecordedDate> {
    'formats: for format in formats {
        let (mut year, mut month, mut day) = (None, None, None);
        let mut rest = cell;
        let mut chars = format.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '%' {
                let directive = chars.next()?;
                let width = if directive == 'Y' { 4 } else { 2 };
                if rest.len() < width || !rest[..width].bytes().all(|b| b.is_ascii_digit()) {
                    continue 'formats;
                }
                let number: u32 = rest[..width].parse().ok()?;
                rest = &rest[width..];
                match directive {
                    'Y' => year = Some(number as i32),
                    'm' => month = Some(number),
                    'd' => day = Some(number),
                    _ => continue 'formats,
                }
            } else if rest.starts_with(c) {
                rest = &rest[c.len_utf8()..];
            } else {
                continue 'formats;
            }
        }
        if !rest.is_empty() {
            continue;
        }
        return Some(RecordedDate {
            year: year?,
            month: month.filter(|&m| m != 0),
            day: day.filter(|&d| d != 0),
        });
    }
    None
}

fn sex(cell: &str, profile: &Profile) -> Sex {
    let code = profile
        .sex_codes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(cell))
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("unknown sex code"));
    match code {
        "f" => Sex::Female,
        "m" => Sex::Male,
        _ => panic!("bad sex mapping"),
    }
}

fn exploitation(cell: &str) -> Exploitation {
    Exploitation::ALL
        .into_iter()
        .find(|e| e.code().eq_ignore_ascii_case(cell))
        .expect("known exploitation")
}

fn read_back(config: &SynthConfig) {
    let data = generate(config).unwrap();
    for registry in data.registries() {
        let label = registry.label();
        let profile = profile(registry.profile_toml());
        let text = decode(registry.csv_bytes(), &profile.encoding);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(profile.delimiter)
            .has_headers(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("{label}: column {name}"))
        };
        let field = |f: &str| column(profile.columns[f].as_str().unwrap());
        let is_missing = |cell: &str| {
            profile
                .missing
                .iter()
                .any(|m| m.trim().eq_ignore_ascii_case(cell.trim()))
        };
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), registry.records().len(), "{label}");
        for (row, (cells, record)) in rows.iter().zip(registry.records()).enumerate() {
            let value = |index: usize| -> Option<&str> {
                let cell = &cells[index];
                (!is_missing(cell)).then_some(cell)
            };
            let read = Record {
                person: record.person,
                given_name: None,
                family_name: None,
                birth: value(field("date_of_birth")).map(|cell| {
                    parse_date(cell, &profile.date_formats)
                        .unwrap_or_else(|| panic!("{label} row {row}: date"))
                }),
                sex: value(field("sex")).map(|cell| sex(cell, &profile)),
                nationality: value(field("nationality")).map(str::to_uppercase),
                exploitation: value(field("exploitation")).map(exploitation),
            };
            let (given, family) = match &profile.full_name {
                Some(name_column) => match value(column(name_column)) {
                    None => (None, None),
                    Some(cell) => {
                        let (family, given) = cell.split_once(',').expect("Family, Given");
                        let part = |s: &str| {
                            let s = s.trim();
                            (!s.is_empty()).then(|| s.to_string())
                        };
                        (part(given), part(family))
                    }
                },
                None => (
                    value(field("given_name")).map(String::from),
                    value(field("family_name")).map(String::from),
                ),
            };
            let expected = Record {
                nationality: record.nationality.as_ref().map(|n| n.to_uppercase()),
                ..record.clone()
            };
            assert_eq!(
                Record {
                    given_name: given,
                    family_name: family,
                    ..read
                },
                expected,
                "{label} row {row}"
            );
        }
        // The truth lists every row of this registry once, in order.
        let truth: Vec<usize> = data
            .truth()
            .into_iter()
            .filter(|t| t.source == label)
            .map(|t| {
                assert_eq!(registry.records()[t.row].person, t.person);
                t.row
            })
            .collect();
        assert_eq!(truth, (0..registry.records().len()).collect::<Vec<_>>());
    }
}

#[test]
fn every_registry_reads_back_through_its_profile() {
    read_back(&SynthConfig {
        population: 3_000,
        registries: 8,
        ..SynthConfig::default()
    });
}

#[test]
fn reads_back_with_heavy_errors_too() {
    read_back(&SynthConfig {
        population: 1_500,
        seed: 11,
        error_rate_scale: 4.0,
        duplicate_rate: 0.2,
        ..SynthConfig::default()
    });
}

#[test]
fn the_house_styles_differ_as_described() {
    let data = generate(&SynthConfig {
        population: 2_000,
        ..SynthConfig::default()
    })
    .unwrap();
    let [police, shelters, border, labour] = data.registries() else {
        panic!("four registries")
    };
    // Police: windows-1252 with ';' (and at least one byte above 0x7F that
    // is not valid UTF-8, such as é or ë).
    assert!(police
        .profile_toml()
        .contains("encoding = \"windows-1252\""));
    assert!(police.csv_bytes().starts_with(b"dossiernummer;"));
    assert!(std::str::from_utf8(police.csv_bytes()).is_err());
    // Shelters: BOM and CRLF.
    assert!(shelters.csv_bytes().starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = std::str::from_utf8(shelters.csv_bytes()).unwrap();
    assert_eq!(text.matches("\r\n").count(), text.matches('\n').count());
    // Border police: upper case names, tab-separated.
    let text = std::str::from_utf8(border.csv_bytes()).unwrap();
    assert!(text.starts_with("REF\tSURNAME\t"));
    for record in border.records() {
        if let Some(name) = &record.family_name {
            assert_eq!(name, &name.to_uppercase());
        }
    }
    // Labour inspectorate: one "Family, Given" column.
    assert!(labour.profile_toml().contains("[full_name]"));
    // Non-Latin-1 letters survive in UTF-8 registries.
    let all_utf8: String = [shelters, labour]
        .iter()
        .map(|r| String::from_utf8(r.csv_bytes().to_vec()).unwrap())
        .collect();
    assert!(
        all_utf8.contains('ş')
            || all_utf8.contains('ț')
            || all_utf8.contains('ł')
            || all_utf8.contains('ễ')
    );
}

/// Most records stay recognisable: the family name as recorded, folded,
/// equals the true one for the great majority of rows.
#[test]
fn most_records_stay_recognisable() {
    let data = generate(&SynthConfig::default()).unwrap();
    let fold = |s: &str| -> String {
        s.to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
    };
    let (mut same, mut total) = (0usize, 0usize);
    for registry in data.registries() {
        for record in registry.records() {
            let person = &data.people()[record.person];
            total += 1;
            let Some(family) = &record.family_name else {
                continue;
            };
            let truth = fold(&person.family_name.written());
            let recorded = fold(family);
            // Diacritics are dropped by some registries; compare ASCII letters.
            let ascii = |s: &str| s.chars().filter(char::is_ascii).collect::<String>();
            if ascii(&recorded) == ascii(&truth) || recorded == truth {
                same += 1;
            }
        }
    }
    let share = same as f64 / total as f64;
    assert!((0.80..0.97).contains(&share), "{share}");
}
