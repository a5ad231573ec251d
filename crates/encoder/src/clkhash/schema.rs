//! Reading and checking a clkhash linkage schema of version 3.

use base64::alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use zicht_format::FilterLength;

use super::dates::DateFormat;
use super::hashing::{HashKind, MAX_BLAKE_KEY_BYTES};
use super::kdf::KdfHash;
use super::tokens::{Comparison, Strategy};
use super::values::{Case, FeatureFormat, MissingValue, Pattern, TextEncoding, ValueFormat};
use crate::EncodeError;

/// The key-derivation settings of `clkConfig.kdf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KdfConfig {
    pub hash: KdfHash,
    pub salt: Vec<u8>,
    pub info: Vec<u8>,
    pub key_size: usize,
}

/// How a hashed feature is encoded.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FeatureHashing {
    pub format: FeatureFormat,
    pub comparison: Comparison,
    pub strategy: Strategy,
    pub hash: HashKind,
}

/// One entry of `features`: a CSV column, hashed or ignored.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Feature {
    pub identifier: String,
    /// `None` for an ignored feature.
    pub hashing: Option<FeatureHashing>,
}

/// A parsed and checked clkhash linkage schema, version 3.
#[derive(Clone, Debug, PartialEq)]
pub struct ClkhashSchema {
    length: FilterLength,
    pub(crate) kdf: KdfConfig,
    pub(crate) features: Vec<Feature>,
    fingerprint: [u8; 32],
}

fn err(path: &str, message: impl std::fmt::Display) -> EncodeError {
    EncodeError::Schema(format!("{path}: {message}"))
}

/// Refuse keys that clkhash's v3 JSON schema does not allow (its
/// `additionalProperties: false` objects: formats and hashing settings), so
/// that typos are caught as clkhash's own validation would catch them.
/// Other objects may carry extra keys, as in clkhash.
fn check_keys(
    object: &Map<String, Value>,
    allowed: &[&str],
    path: &str,
) -> Result<(), EncodeError> {
    for key in object.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(err(
                path,
                format!("unknown key '{key}' (allowed: {})", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, EncodeError> {
    value
        .as_object()
        .ok_or_else(|| err(path, "must be a JSON object"))
}

fn required<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Value, EncodeError> {
    map.get(key)
        .ok_or_else(|| err(path, format!("'{key}' is required")))
}

fn string<'a>(value: &'a Value, path: &str) -> Result<&'a str, EncodeError> {
    value.as_str().ok_or_else(|| err(path, "must be a string"))
}

/// A JSON integer (1.0 is accepted as Python's jsonschema accepts it).
fn integer(value: &Value, path: &str) -> Result<i128, EncodeError> {
    if let Some(i) = value.as_i64() {
        return Ok(i128::from(i));
    }
    if let Some(u) = value.as_u64() {
        return Ok(i128::from(u));
    }
    match value.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e18 => Ok(f as i128),
        _ => Err(err(path, "must be an integer")),
    }
}

fn non_negative(value: &Value, path: &str, max: u64) -> Result<u64, EncodeError> {
    let i = integer(value, path)?;
    if i < 0 || i > i128::from(max) {
        return Err(err(path, format!("must be an integer from 0 to {max}")));
    }
    Ok(i as u64)
}

fn boolean(value: &Value, path: &str) -> Result<bool, EncodeError> {
    value
        .as_bool()
        .ok_or_else(|| err(path, "must be true or false"))
}

/// Python's `base64.b64decode` (non-alphabet characters are discarded,
/// padding is required).
fn base64_bytes(value: &Value, path: &str) -> Result<Vec<u8>, EncodeError> {
    let text = string(value, path)?;
    let cleaned: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    // Python also accepts non-zero bits after the last full byte.
    const PYTHON_B64: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    PYTHON_B64
        .decode(cleaned)
        .map_err(|_| err(path, "is not valid base64"))
}

impl ClkhashSchema {
    /// Parse and check a clkhash linkage schema (JSON, version 3).
    ///
    /// # Errors
    /// [`EncodeError::Schema`] naming the setting at fault: invalid JSON, a
    /// version other than 3, an unknown feature type, comparison or hash, an
    /// unsupported date directive or pattern, a filter length zicht cannot
    /// hold, `blakeHash` with a length that is not a power of two, ...
    pub fn from_json(text: &str) -> Result<ClkhashSchema, EncodeError> {
        let root: Value = serde_json::from_str(text).map_err(|e| {
            EncodeError::Schema(format!("the clkhash schema is not valid JSON: {e}"))
        })?;
        let root = object(&root, "the clkhash schema")?;
        let version = required(root, "version", "the clkhash schema")?;
        if version.as_f64() != Some(3.0) {
            return Err(EncodeError::Schema(format!(
                "clkhash schema version {version} is not supported; zicht reads version 3 \
                 (clkhash 0.16 and later; convert older schemas with clkhash first)"
            )));
        }

        let config = object(
            required(root, "clkConfig", "the clkhash schema")?,
            "clkConfig",
        )?;
        let l = non_negative(
            required(config, "l", "clkConfig")?,
            "clkConfig.l",
            u64::from(u32::MAX),
        )?;
        let length = FilterLength::new(l as u32).map_err(|_| {
            err(
                "clkConfig.l",
                format!("{l} bits is not supported; zicht needs a multiple of 64 from 64 to 8192"),
            )
        })?;
        for key in ["xorFolds", "xor_folds"] {
            if let Some(folds) = config.get(key) {
                if non_negative(folds, &format!("clkConfig.{key}"), u64::MAX)? != 0 {
                    return Err(err(
                        &format!("clkConfig.{key}"),
                        "XOR folding is not supported; remove it or set it to 0",
                    ));
                }
            }
        }
        let kdf = parse_kdf(object(
            required(config, "kdf", "clkConfig")?,
            "clkConfig.kdf",
        )?)?;

        let features_value = required(root, "features", "the clkhash schema")?;
        let list = features_value
            .as_array()
            .ok_or_else(|| err("features", "must be an array"))?;
        if list.is_empty() {
            return Err(err("features", "must not be empty"));
        }
        let mut features = Vec::with_capacity(list.len());
        for (index, value) in list.iter().enumerate() {
            let feature = parse_feature(value, index, length, &kdf)?;
            if features
                .iter()
                .any(|f: &Feature| f.identifier == feature.identifier)
            {
                return Err(err(
                    &format!("features[{index}]"),
                    format!("the identifier '{}' is used twice", feature.identifier),
                ));
            }
            features.push(feature);
        }
        if features.iter().all(|f| f.hashing.is_none()) {
            return Err(err(
                "features",
                "every feature is ignored; nothing would be encoded",
            ));
        }
        let mut schema = ClkhashSchema {
            length,
            kdf,
            features,
            fingerprint: [0; 32],
        };
        schema.fingerprint = schema.compute_fingerprint();
        Ok(schema)
    }

    /// The filter length `l`.
    pub fn filter_length(&self) -> FilterLength {
        self.length
    }

    /// The feature identifiers in order, ignored features included: the
    /// CSV header must be exactly these.
    pub fn feature_names(&self) -> Vec<&str> {
        self.features
            .iter()
            .map(|f| f.identifier.as_str())
            .collect()
    }

    /// The number of features, ignored ones included.
    pub fn n_features(&self) -> usize {
        self.features.len()
    }

    /// SHA-256 of a canonical form of every setting that affects the bits or
    /// which rows are accepted (JSON formatting, key order and descriptions
    /// do not count).
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    fn compute_fingerprint(&self) -> [u8; 32] {
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let features: Vec<Value> = self
            .features
            .iter()
            .map(|feature| match &feature.hashing {
                None => json!({"identifier": feature.identifier, "ignored": true}),
                Some(h) => json!({
                    "identifier": feature.identifier,
                    "format": canonical_format(&h.format),
                    "comparison": match h.comparison {
                        Comparison::Exact => json!({"type": "exact"}),
                        Comparison::Ngram { n, positional } =>
                            json!({"type": "ngram", "n": n, "positional": positional}),
                    },
                    "strategy": match h.strategy {
                        Strategy::BitsPerToken(k) => json!({"bitsPerToken": k}),
                        Strategy::BitsPerFeature(b) => json!({"bitsPerFeature": b}),
                    },
                    "hash": match h.hash {
                        HashKind::Blake => json!({"type": "blakeHash"}),
                        HashKind::Double { prevent_singularity } =>
                            json!({"type": "doubleHash", "prevent_singularity": prevent_singularity}),
                    },
                }),
            })
            .collect();
        let canonical = json!({
            "kind": "zicht clkhash-v3 schema fingerprint 1",
            "l": self.length.bits(),
            "kdf": {
                "type": "HKDF",
                "hash": self.kdf.hash.name(),
                "salt": hex(&self.kdf.salt),
                "info": hex(&self.kdf.info),
                "keySize": self.kdf.key_size,
            },
            "features": features,
        });
        // serde_json's maps are sorted by key, so this text is canonical.
        let text = canonical.to_string();
        Sha256::digest(text.as_bytes()).into()
    }
}

fn canonical_format(format: &FeatureFormat) -> Value {
    let kind = match &format.format {
        ValueFormat::String {
            pattern,
            case,
            min_length,
            max_length,
        } => json!({
            "type": "string",
            "pattern": pattern.as_ref().map(Pattern::as_str),
            "case": match case { Case::Upper => "upper", Case::Lower => "lower", Case::Mixed => "mixed" },
            "minLength": min_length,
            "maxLength": max_length,
        }),
        ValueFormat::Integer { minimum, maximum } => json!({
            "type": "integer",
            "minimum": minimum.map(|m| m.to_string()),
            "maximum": maximum.map(|m| m.to_string()),
        }),
        ValueFormat::Date { format } => json!({"type": "date", "format": format.as_str()}),
        ValueFormat::Enum { values } => {
            let mut values = values.clone();
            values.sort();
            values.dedup();
            json!({"type": "enum", "values": values})
        }
    };
    json!({
        "value": kind,
        "encoding": format.encoding.name(),
        "missing": format.missing.as_ref().map(|m| json!({"sentinel": m.sentinel, "replaceWith": m.replace_with})),
    })
}

fn parse_kdf(kdf: &Map<String, Value>) -> Result<KdfConfig, EncodeError> {
    let path = "clkConfig.kdf";
    let kind = string(required(kdf, "type", path)?, "clkConfig.kdf.type")?;
    if kind != "HKDF" {
        return Err(err(
            "clkConfig.kdf.type",
            format!("'{kind}' is not supported; clkhash schema version 3 uses HKDF"),
        ));
    }
    let hash = match kdf.get("hash") {
        None => KdfHash::Sha256,
        Some(value) => match string(value, "clkConfig.kdf.hash")? {
            "SHA256" => KdfHash::Sha256,
            "SHA512" => KdfHash::Sha512,
            other => {
                return Err(err(
                    "clkConfig.kdf.hash",
                    format!("'{other}' is not supported (SHA256 or SHA512)"),
                ))
            }
        },
    };
    let salt = match kdf.get("salt") {
        Some(v) => base64_bytes(v, "clkConfig.kdf.salt")?,
        None => Vec::new(),
    };
    let info = match kdf.get("info") {
        Some(v) => base64_bytes(v, "clkConfig.kdf.info")?,
        None => Vec::new(),
    };
    let key_size = match kdf.get("keySize") {
        Some(v) => non_negative(v, "clkConfig.kdf.keySize", 1 << 16)? as usize,
        None => 64,
    };
    if key_size == 0 {
        return Err(err("clkConfig.kdf.keySize", "must be at least 1"));
    }
    Ok(KdfConfig {
        hash,
        salt,
        info,
        key_size,
    })
}

fn parse_feature(
    value: &Value,
    index: usize,
    length: FilterLength,
    kdf: &KdfConfig,
) -> Result<Feature, EncodeError> {
    let path = format!("features[{index}]");
    let map = object(value, &path)?;
    let identifier = string(
        required(map, "identifier", &path)?,
        &format!("{path}.identifier"),
    )?;
    let path = format!("features[{index}] ('{identifier}')");
    if let Some(ignored) = map.get("ignored") {
        if !boolean(ignored, &format!("{path}.ignored"))? {
            return Err(err(
                &format!("{path}.ignored"),
                "must be true when present; remove it to hash the feature",
            ));
        }
        return Ok(Feature {
            identifier: identifier.to_string(),
            hashing: None,
        });
    }
    let format_path = format!("{path}.format");
    let format = object(required(map, "format", &path)?, &format_path)?;
    let hashing_path = format!("{path}.hashing");
    let hashing = object(required(map, "hashing", &path)?, &hashing_path)?;
    check_keys(
        hashing,
        &["comparison", "strategy", "hash", "missingValue"],
        &hashing_path,
    )?;

    let (value_format, encoding) = parse_format(format, &format_path)?;

    let missing = match hashing.get("missingValue") {
        None => None,
        Some(v) => {
            let p = format!("{hashing_path}.missingValue");
            let m = object(v, &p)?;
            let sentinel = string(required(m, "sentinel", &p)?, &format!("{p}.sentinel"))?;
            let replace_with = match m.get("replaceWith") {
                Some(r) => string(r, &format!("{p}.replaceWith"))?,
                None => sentinel,
            };
            Some(MissingValue {
                sentinel: sentinel.to_string(),
                replace_with: replace_with.to_string(),
            })
        }
    };

    let comparison_path = format!("{hashing_path}.comparison");
    let comparison_map = object(
        required(hashing, "comparison", &hashing_path)?,
        &comparison_path,
    )?;
    let comparison = match string(
        required(comparison_map, "type", &comparison_path)?,
        &format!("{comparison_path}.type"),
    )? {
        "ngram" => {
            let n = non_negative(
                required(comparison_map, "n", &comparison_path)?,
                &format!("{comparison_path}.n"),
                64,
            )? as usize;
            let positional = match comparison_map.get("positional") {
                Some(v) => boolean(v, &format!("{comparison_path}.positional"))?,
                None => false,
            };
            Comparison::Ngram { n, positional }
        }
        "exact" => Comparison::Exact,
        other => {
            return Err(err(
                &format!("{comparison_path}.type"),
                format!("'{other}' is not supported (ngram or exact)"),
            ))
        }
    };

    let strategy_path = format!("{hashing_path}.strategy");
    let strategy_map = object(
        required(hashing, "strategy", &hashing_path)?,
        &strategy_path,
    )?;
    check_keys(
        strategy_map,
        &["bitsPerToken", "bitsPerFeature"],
        &strategy_path,
    )?;
    let strategy = match (
        strategy_map.get("bitsPerToken"),
        strategy_map.get("bitsPerFeature"),
    ) {
        (Some(k), None) => Strategy::BitsPerToken(non_negative(
            k,
            &format!("{strategy_path}.bitsPerToken"),
            1 << 20,
        )? as u32),
        (None, Some(b)) => Strategy::BitsPerFeature(non_negative(
            b,
            &format!("{strategy_path}.bitsPerFeature"),
            1 << 20,
        )? as u32),
        _ => {
            return Err(err(
                &strategy_path,
                "give exactly one of bitsPerToken and bitsPerFeature",
            ))
        }
    };

    let hash_path = format!("{hashing_path}.hash");
    let hash = match hashing.get("hash") {
        None => HashKind::Blake,
        Some(v) => {
            let h = object(v, &hash_path)?;
            match string(
                required(h, "type", &hash_path)?,
                &format!("{hash_path}.type"),
            )? {
                "blakeHash" => HashKind::Blake,
                "doubleHash" => {
                    let prevent_singularity = match h.get("prevent_singularity") {
                        Some(p) => boolean(p, &format!("{hash_path}.prevent_singularity"))?,
                        None => false,
                    };
                    HashKind::Double {
                        prevent_singularity,
                    }
                }
                other => {
                    return Err(err(
                        &format!("{hash_path}.type"),
                        format!("'{other}' is not supported (blakeHash or doubleHash)"),
                    ))
                }
            }
        }
    };
    if hash == HashKind::Blake {
        if !length.bits().is_power_of_two() {
            return Err(err(
                &hash_path,
                format!(
                    "blakeHash needs a filter length that is a power of two, not {}",
                    length.bits()
                ),
            ));
        }
        if kdf.key_size > MAX_BLAKE_KEY_BYTES {
            return Err(err(
                &hash_path,
                format!(
                    "blakeHash keys are at most {MAX_BLAKE_KEY_BYTES} bytes; clkConfig.kdf.keySize is {}",
                    kdf.key_size
                ),
            ));
        }
    }

    Ok(Feature {
        identifier: identifier.to_string(),
        hashing: Some(FeatureHashing {
            format: FeatureFormat {
                format: value_format,
                encoding,
                missing,
            },
            comparison,
            strategy,
            hash,
        }),
    })
}

fn parse_format(
    format: &Map<String, Value>,
    path: &str,
) -> Result<(ValueFormat, TextEncoding), EncodeError> {
    let kind = string(required(format, "type", path)?, &format!("{path}.type"))?;
    match kind {
        "string" => {
            check_keys(
                format,
                &[
                    "type",
                    "encoding",
                    "case",
                    "minLength",
                    "maxLength",
                    "pattern",
                    "description",
                ],
                path,
            )?;
            let encoding = match format.get("encoding") {
                None => TextEncoding::Utf8,
                Some(v) => {
                    let name = string(v, &format!("{path}.encoding"))?;
                    TextEncoding::from_name(name).ok_or_else(|| {
                        err(
                            &format!("{path}.encoding"),
                            format!("'{name}' is not supported (ascii, utf-8, utf-16 or utf-32)"),
                        )
                    })?
                }
            };
            let pattern = match format.get("pattern") {
                None => None,
                Some(v) => {
                    if ["case", "minLength", "maxLength"]
                        .iter()
                        .any(|k| format.contains_key(*k))
                    {
                        return Err(err(
                            path,
                            "a pattern cannot be combined with case, minLength or maxLength",
                        ));
                    }
                    let source = string(v, &format!("{path}.pattern"))?;
                    Some(Pattern::new(source).map_err(|e| {
                        err(
                            &format!("{path}.pattern"),
                            format!("zicht cannot compile this regular expression: {e}"),
                        )
                    })?)
                }
            };
            let case = match format.get("case") {
                None => Case::Mixed,
                Some(v) => match string(v, &format!("{path}.case"))? {
                    "upper" => Case::Upper,
                    "lower" => Case::Lower,
                    "mixed" => Case::Mixed,
                    other => {
                        return Err(err(
                            &format!("{path}.case"),
                            format!("'{other}' is not one of upper, lower, mixed"),
                        ))
                    }
                },
            };
            let min_length = format
                .get("minLength")
                .map(|v| non_negative(v, &format!("{path}.minLength"), u64::MAX))
                .transpose()?;
            let max_length = format
                .get("maxLength")
                .map(|v| non_negative(v, &format!("{path}.maxLength"), u64::MAX))
                .transpose()?;
            if max_length == Some(0) {
                return Err(err(&format!("{path}.maxLength"), "must be at least 1"));
            }
            Ok((
                ValueFormat::String {
                    pattern,
                    case,
                    min_length,
                    max_length,
                },
                encoding,
            ))
        }
        "integer" => {
            check_keys(format, &["type", "minimum", "maximum", "description"], path)?;
            let minimum = format
                .get("minimum")
                .map(|v| integer(v, &format!("{path}.minimum")))
                .transpose()?;
            let maximum = format
                .get("maximum")
                .map(|v| integer(v, &format!("{path}.maximum")))
                .transpose()?;
            Ok((
                ValueFormat::Integer { minimum, maximum },
                TextEncoding::Utf8,
            ))
        }
        "date" => {
            check_keys(format, &["type", "format", "description"], path)?;
            let text = string(required(format, "format", path)?, &format!("{path}.format"))?;
            let date_format =
                DateFormat::parse(text).map_err(|e| err(&format!("{path}.format"), e))?;
            Ok((
                ValueFormat::Date {
                    format: date_format,
                },
                TextEncoding::Utf8,
            ))
        }
        "enum" => {
            check_keys(format, &["type", "values", "description"], path)?;
            let values_path = format!("{path}.values");
            let values = required(format, "values", path)?
                .as_array()
                .ok_or_else(|| err(&values_path, "must be an array of strings"))?
                .iter()
                .map(|v| string(v, &values_path).map(str::to_string))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((ValueFormat::Enum { values }, TextEncoding::Utf8))
        }
        other => Err(err(
            &format!("{path}.type"),
            format!("unknown feature type '{other}' (string, integer, date or enum)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_with(feature: &str) -> String {
        format!(
            r#"{{"version": 3,
                "clkConfig": {{"l": 1024, "kdf": {{"type": "HKDF", "salt": "c2FsdA==", "info": "aW5mbw=="}}}},
                "features": [{{"identifier": "id", "ignored": true}}, {feature}]}}"#
        )
    }

    const NAME: &str = r#"{"identifier": "name", "format": {"type": "string"},
        "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 20}}}"#;

    fn schema_error(text: &str) -> String {
        match ClkhashSchema::from_json(text) {
            Err(EncodeError::Schema(message)) => message,
            other => panic!("expected a schema error, got {other:?}"),
        }
    }

    #[test]
    fn parses_a_minimal_schema_with_defaults() {
        let schema = ClkhashSchema::from_json(&schema_with(NAME)).unwrap();
        assert_eq!(schema.feature_names(), ["id", "name"]);
        assert_eq!(schema.filter_length().bits(), 1024);
        assert_eq!(schema.kdf.hash, KdfHash::Sha256);
        assert_eq!(schema.kdf.salt, b"salt");
        assert_eq!(schema.kdf.info, b"info");
        assert_eq!(schema.kdf.key_size, 64);
        let hashing = schema.features[1].hashing.as_ref().unwrap();
        assert_eq!(hashing.hash, HashKind::Blake);
        assert_eq!(hashing.format.encoding, TextEncoding::Utf8);
        assert!(schema.features[0].hashing.is_none());
    }

    #[test]
    fn other_versions_are_refused_clearly() {
        let text = schema_with(NAME).replace("\"version\": 3", "\"version\": 2");
        let message = schema_error(&text);
        assert!(message.contains("version 2"), "{message}");
    }

    #[test]
    fn unknown_feature_type_is_refused() {
        let message = schema_error(&schema_with(&NAME.replace("\"string\"", "\"float\"")));
        assert!(
            message.contains("unknown feature type 'float'"),
            "{message}"
        );
        assert!(message.contains("name"), "{message}");
    }

    #[test]
    fn unknown_comparison_and_hash_are_refused() {
        let message = schema_error(&schema_with(&NAME.replace("\"ngram\"", "\"numeric\"")));
        assert!(message.contains("'numeric' is not supported"), "{message}");
        let text = NAME.replace(
            "\"strategy\"",
            "\"hash\": {\"type\": \"sha3\"}, \"strategy\"",
        );
        assert!(schema_error(&schema_with(&text)).contains("'sha3'"));
    }

    #[test]
    fn strategy_needs_exactly_one_setting() {
        let both = NAME.replace(
            "{\"bitsPerToken\": 20}",
            "{\"bitsPerToken\": 20, \"bitsPerFeature\": 9}",
        );
        assert!(schema_error(&schema_with(&both)).contains("exactly one"));
        let none = NAME.replace("{\"bitsPerToken\": 20}", "{}");
        assert!(schema_error(&schema_with(&none)).contains("exactly one"));
    }

    #[test]
    fn lengths_zicht_cannot_hold_are_refused() {
        let text = schema_with(NAME).replace("\"l\": 1024", "\"l\": 1000");
        assert!(schema_error(&text).contains("multiple of 64"));
        // 960 is a multiple of 64 but blakeHash needs a power of two.
        let text = schema_with(NAME).replace("\"l\": 1024", "\"l\": 960");
        assert!(schema_error(&text).contains("power of two"));
        let double = NAME.replace(
            "\"strategy\"",
            "\"hash\": {\"type\": \"doubleHash\"}, \"strategy\"",
        );
        let text = schema_with(&double).replace("\"l\": 1024", "\"l\": 960");
        assert!(ClkhashSchema::from_json(&text).is_ok());
    }

    #[test]
    fn xor_folds_are_refused() {
        let text = schema_with(NAME).replace("\"l\": 1024,", "\"l\": 1024, \"xorFolds\": 1,");
        assert!(schema_error(&text).contains("XOR folding"));
        let text = schema_with(NAME).replace("\"l\": 1024,", "\"l\": 1024, \"xorFolds\": 0,");
        assert!(ClkhashSchema::from_json(&text).is_ok());
    }

    #[test]
    fn extra_keys_are_allowed_where_clkhash_allows_them() {
        let text = schema_with(NAME)
            .replacen("{", "{\"comment\": \"agreed 2024\", ", 1)
            .replace("\"type\": \"HKDF\"", "\"type\": \"HKDF\", \"note\": 1");
        let with_extras = ClkhashSchema::from_json(&text).unwrap();
        let plain = ClkhashSchema::from_json(&schema_with(NAME)).unwrap();
        assert_eq!(with_extras.fingerprint(), plain.fingerprint());
    }

    #[test]
    fn typos_are_caught() {
        let text = NAME.replace(
            "\"strategy\"",
            "\"missingvalue\": {\"sentinel\": \"\"}, \"strategy\"",
        );
        assert!(schema_error(&schema_with(&text)).contains("unknown key 'missingvalue'"));
    }

    #[test]
    fn bad_date_formats_and_patterns_are_refused() {
        let date = r#"{"identifier": "dob", "format": {"type": "date", "format": "%Y-%j"},
            "hashing": {"comparison": {"type": "ngram", "n": 1, "positional": true}, "strategy": {"bitsPerToken": 10}}}"#;
        assert!(schema_error(&schema_with(date)).contains("%j"));
        let pattern = NAME.replace(
            "{\"type\": \"string\"}",
            "{\"type\": \"string\", \"pattern\": \"(?=a)\"}",
        );
        assert!(schema_error(&schema_with(&pattern)).contains("regular expression"));
    }

    #[test]
    fn duplicate_identifiers_are_refused() {
        let text = schema_with(&format!("{NAME}, {NAME}"));
        assert!(schema_error(&text).contains("used twice"));
    }

    #[test]
    fn fingerprint_ignores_formatting_but_not_settings() {
        let a = ClkhashSchema::from_json(&schema_with(NAME)).unwrap();
        let reformatted = schema_with(NAME).replace(": ", ":").replace('\n', " ");
        let b = ClkhashSchema::from_json(&reformatted).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let described = NAME.replace(
            "{\"type\": \"string\"}",
            "{\"type\": \"string\", \"description\": \"x\"}",
        );
        let c = ClkhashSchema::from_json(&schema_with(&described)).unwrap();
        assert_eq!(a.fingerprint(), c.fingerprint());
        for changed in [
            schema_with(NAME).replace("c2FsdA==", "cGVwcGVy"),
            schema_with(&NAME.replace("20", "21")),
            schema_with(&NAME.replace("\"n\": 2", "\"n\": 3")),
            schema_with(NAME).replace("\"l\": 1024", "\"l\": 512"),
        ] {
            let d = ClkhashSchema::from_json(&changed).unwrap();
            assert_ne!(a.fingerprint(), d.fingerprint());
        }
    }
}
