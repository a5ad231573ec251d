//! The files `zicht synth` writes: the schema, the profiles, the registries,
//! the truth, the true capture table and the true N per stratum.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::Path;

use crate::error::SynthError;
use crate::SynthData;

/// The strata columns of the capture tables, in order.
pub const STRATA_COLUMNS: [&str; 3] = ["sex", "birth_decade", "exploitation"];

/// One line of `truth.csv`: which person a registry row is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthRow {
    /// The registry label.
    pub source: String,
    /// The 0-based data row in the registry's CSV.
    pub row: usize,
    /// The person's id.
    pub person: usize,
}

/// One line of the true capture table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureRow {
    /// The capture history: bit `i` set when on registry `i`; never 0.
    pub history: u32,
    /// Sex, birth decade and exploitation.
    pub stratum: [String; 3],
    /// The number of people with this history in this stratum.
    pub count: u64,
}

/// The true size of one stratum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratumCount {
    /// Sex, birth decade and exploitation.
    pub stratum: [String; 3],
    /// The number of people in the hidden population.
    pub n: u64,
    /// How many of them are on at least one registry.
    pub observed: u64,
}

fn schema_text() -> String {
    let mut text = String::from(
        "# Linkage schema for the synthetic registries written by zicht synth.\n\
         # Shared by every registry; see docs/schema.md.\n\
         version = 1\n\
         name = \"zicht-synth\"\n\
         filter_bits = 1024\n",
    );
    let fields: [(&str, &str, &str); 6] = [
        ("given_name", "given_name", ""),
        ("family_name", "family_name", ""),
        ("date_of_birth", "date_of_birth", ""),
        ("sex", "sex", ""),
        ("nationality", "category", ""),
        (
            "exploitation",
            "category",
            "encode = false                 # only used for a stratum\n",
        ),
    ];
    for (name, kind, extra) in fields {
        let _ = write!(
            text,
            "\n[[field]]\nname = \"{name}\"\nkind = \"{kind}\"\n{extra}"
        );
    }
    text.push_str(
        "\n[[stratum]]\nname = \"sex\"\nfield = \"sex\"\n\
         \n[[stratum]]\nname = \"birth_decade\"\nfield = \"date_of_birth\"\nband_years = 10\n\
         \n[[stratum]]\nname = \"exploitation\"\nfield = \"exploitation\"\n",
    );
    text.push_str(
        "\n# Unhardened filters fall to pattern-mining attacks (zicht audit,\n\
         # docs/privacy.md); XOR folding defeats them at almost no cost.\n\
         [hardening]\nxor_fold = true\n",
    );

    text
}

impl SynthData {
    /// The linkage schema (TOML) shared by every registry.
    pub fn schema_toml(&self) -> String {
        schema_text()
    }

    /// Which person every registry row is, registry by registry, row by row.
    pub fn truth(&self) -> Vec<TruthRow> {
        self.registries()
            .iter()
            .flat_map(|registry| {
                registry
                    .records()
                    .iter()
                    .enumerate()
                    .map(|(row, record)| TruthRow {
                        source: registry.label().to_string(),
                        row,
                        person: record.person,
                    })
            })
            .collect()
    }

    /// `truth.csv`: `source,row,person`.
    pub fn truth_csv(&self) -> String {
        let mut text = String::from("source,row,person\n");
        for row in self.truth() {
            let _ = writeln!(text, "{},{},{}", row.source, row.row, row.person);
        }
        text
    }

    /// The true capture table of the observed people, by stratum then history.
    pub fn true_capture(&self) -> Vec<CaptureRow> {
        let mut cells: BTreeMap<([String; 3], u32), u64> = BTreeMap::new();
        for (person, &history) in self.people().iter().zip(self.histories()) {
            if history != 0 {
                *cells.entry((person.stratum(), history)).or_default() += 1;
            }
        }
        cells
            .into_iter()
            .map(|((stratum, history), count)| CaptureRow {
                history,
                stratum,
                count,
            })
            .collect()
    }

    /// `truth_capture.csv`: one 0/1 column per registry, then the strata
    /// columns, then `count` (the format `zicht link` writes).
    pub fn true_capture_csv(&self) -> String {
        let k = self.registries().len();
        zicht_format::capture::CaptureTable {
            lists: self.labels().iter().map(|l| l.to_string()).collect(),
            strata: STRATA_COLUMNS.iter().map(|c| c.to_string()).collect(),
            rows: self
                .true_capture()
                .into_iter()
                .map(|row| {
                    let history = (0..k).map(|i| (row.history >> i) & 1 == 1).collect();
                    (history, row.stratum.to_vec(), row.count)
                })
                .collect(),
        }
        .to_csv()
    }

    /// The true size of every stratum that has people, sorted by stratum.
    pub fn true_n(&self) -> Vec<StratumCount> {
        let mut strata: BTreeMap<[String; 3], (u64, u64)> = BTreeMap::new();
        for (person, &history) in self.people().iter().zip(self.histories()) {
            let entry = strata.entry(person.stratum()).or_default();
            entry.0 += 1;
            entry.1 += u64::from(history != 0);
        }
        strata
            .into_iter()
            .map(|(stratum, (n, observed))| StratumCount {
                stratum,
                n,
                observed,
            })
            .collect()
    }

    /// `true_n.csv`: `sex,birth_decade,exploitation,n,observed`, one line per
    /// stratum, then a last line `all,all,all,N,observed` with the totals.
    pub fn true_n_csv(&self) -> String {
        let mut text = format!("{},n,observed\n", STRATA_COLUMNS.join(","));
        let (mut n, mut observed) = (0, 0);
        for stratum in self.true_n() {
            n += stratum.n;
            observed += stratum.observed;
            let _ = writeln!(
                text,
                "{},{},{}",
                stratum.stratum.join(","),
                stratum.n,
                stratum.observed
            );
        }
        let _ = writeln!(text, "all,all,all,{n},{observed}");
        text
    }

    /// `README.txt`: what each file is.
    pub fn readme(&self) -> String {
        let config = self.config();
        let mut text = format!(
            "Synthetic registries written by zicht synth.\n\
             Everything here is made up: no real person is in these files.\n\n\
             Settings: population {}, registries {}, seed {}, error rate scale {}, \
             duplicate rate {}.\n\
             Hidden population: {} people, of whom {} are on at least one registry.\n\n\
             Files:\n\
             schema.toml                        the linkage schema shared by every registry\n",
            config.population,
            config.registries,
            config.seed,
            config.error_rate_scale,
            config.duplicate_rate,
            self.people().len(),
            self.observed(),
        );
        for registry in self.registries() {
            let label = registry.label();
            let _ = writeln!(
                text,
                "{:<34} {} rows in this registry's house style",
                format!("{label}.csv"),
                registry.records().len()
            );
            let _ = writeln!(
                text,
                "{:<34} the source profile describing {label}.csv",
                format!("profiles/{label}.toml")
            );
        }
        text.push_str(
            "truth.csv                          source,row,person: the true person of every registry row\n\
             \x20                                  (row is the 0-based data row, the header not counted)\n\
             truth_capture.csv                  the true capture table of the observed people: one 0/1\n\
             \x20                                  column per registry, then sex,birth_decade,exploitation,\n\
             \x20                                  then count (the format zicht link writes)\n\
             true_n.csv                         the true population per stratum (n) and how many of them\n\
             \x20                                  are observed; the last line, all,all,all, holds the totals\n\n\
             Try: zicht eval --truth truth.csv --clusters clusters.csv\n",
        );
        text
    }

    /// Write every file into `dir` (created if needed): `schema.toml`,
    /// `profiles/<registry>.toml`, `<registry>.csv`, `truth.csv`,
    /// `truth_capture.csv`, `true_n.csv` and `README.txt`. Each file is
    /// written to a temporary name and renamed, so no file is ever half
    /// written. Existing files of the same names are replaced.
    ///
    /// # Errors
    ///
    /// [`SynthError::Io`] naming the file that could not be written.
    pub fn write(&self, dir: &Path) -> Result<(), SynthError> {
        let profiles = dir.join("profiles");
        fs::create_dir_all(&profiles).map_err(|e| SynthError::io(&profiles, e))?;
        write_atomically(&dir.join("schema.toml"), self.schema_toml().as_bytes())?;
        for registry in self.registries() {
            let label = registry.label();
            write_atomically(
                &profiles.join(format!("{label}.toml")),
                registry.profile_toml().as_bytes(),
            )?;
            write_atomically(&dir.join(format!("{label}.csv")), registry.csv_bytes())?;
        }
        write_atomically(&dir.join("truth.csv"), self.truth_csv().as_bytes())?;
        write_atomically(
            &dir.join("truth_capture.csv"),
            self.true_capture_csv().as_bytes(),
        )?;
        write_atomically(&dir.join("true_n.csv"), self.true_n_csv().as_bytes())?;
        write_atomically(&dir.join("README.txt"), self.readme().as_bytes())?;
        Ok(())
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.tmp"));
    let result = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&temporary);
        SynthError::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use crate::{generate, SynthConfig};

    fn data() -> crate::SynthData {
        generate(&SynthConfig {
            population: 1_000,
            ..SynthConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn capture_table_counts_the_observed() {
        let data = data();
        let total: u64 = data.true_capture().iter().map(|r| r.count).sum();
        assert_eq!(total as usize, data.observed());
        let csv = data.true_capture_csv();
        assert!(csv.starts_with(
            "police,shelters,border_police,labour_inspectorate,sex,birth_decade,exploitation,count\n"
        ));
        assert!(data.true_capture().iter().all(|r| r.history != 0));
    }

    #[test]
    fn true_n_sums_to_the_population() {
        let data = data();
        let n: u64 = data.true_n().iter().map(|s| s.n).sum();
        assert_eq!(n, 1_000);
        let csv = data.true_n_csv();
        let last = csv.lines().last().unwrap();
        assert_eq!(last, format!("all,all,all,1000,{}", data.observed()));
    }

    #[test]
    fn write_puts_every_file_in_place() {
        let data = data();
        let dir = tempfile::tempdir().unwrap();
        data.write(dir.path()).unwrap();
        for name in [
            "schema.toml",
            "police.csv",
            "profiles/police.toml",
            "labour_inspectorate.csv",
            "truth.csv",
            "truth_capture.csv",
            "true_n.csv",
            "README.txt",
        ] {
            assert!(dir.path().join(name).is_file(), "{name}");
        }
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn schema_is_valid_toml_with_the_strata() {
        let schema: toml::Value = toml::from_str(&data().schema_toml()).unwrap();
        assert_eq!(schema["field"].as_array().unwrap().len(), 6);
        assert_eq!(schema["stratum"].as_array().unwrap().len(), 3);
        assert_eq!(schema["field"][5]["encode"].as_bool(), Some(false));
    }
}
