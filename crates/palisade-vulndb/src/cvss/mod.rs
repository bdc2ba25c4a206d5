//! CVSS vectors and their base scores, computed as FIRST specifies for every version an advisory
//! may carry: v2.0 (old NVD records), v3.0, v3.1 and v4.0.
//!
//! Only the base score is computed. Temporal/threat, environmental and supplemental metrics are
//! validated (a vector with a bad one is rejected) but do not change the score: advisories describe
//! the vulnerability, and an environment-adjusted number would be a different quantity. For v4.0
//! this is the spec's "CVSS-B" score (§ 1.3 nomenclature), computed as if `E`, `CR`, `IR`, `AR` and
//! the modified metrics were `X`.
//!
//! Parsing is strict about prefix, metric names, values, duplicates and mandatory base metrics,
//! and lenient about metric order (FIRST's calculators accept any order for v2/v3; the v4.0 spec
//! asks for the listed order but real-world producers do not always follow it).

mod v2;
mod v3;
mod v4;

use std::fmt;

/// A CVSS version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CvssVersion {
    V2,
    V3_0,
    V3_1,
    V4_0,
}

impl fmt::Display for CvssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CvssVersion::V2 => "2.0",
            CvssVersion::V3_0 => "3.0",
            CvssVersion::V3_1 => "3.1",
            CvssVersion::V4_0 => "4.0",
        })
    }
}

/// A parsed CVSS vector with its base score.
#[derive(Debug, Clone, PartialEq)]
pub struct Cvss {
    pub version: CvssVersion,
    /// The vector as given, without surrounding whitespace.
    pub vector: String,
    /// The base score, 0.0 to 10.0 with one decimal.
    pub base_score: f64,
}

impl Cvss {
    /// The qualitative rating of the base score (v3/v4 scale, see [`severity`]).
    pub fn severity(&self) -> Severity {
        severity(self.base_score)
    }
}

/// The qualitative severity rating scale of CVSS v3.x and v4.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// The rating of a score on the v3.x/v4.0 scale: None 0.0, Low 0.1–3.9, Medium 4.0–6.9, High
/// 7.0–8.9, Critical 9.0–10.0. CVSS v2 had no such scale (NVD's v2 Low/Medium/High bands differ);
/// applying this one to v2 scores is the usual practice of scanners, and callers wanting NVD's v2
/// bands must map them themselves.
pub fn severity(score: f64) -> Severity {
    // Scores carry one decimal; the cut points sit halfway between the bands' ends so that a
    // score that went through float arithmetic (3.9000000000000004) still lands in its band.
    if score.is_nan() || score < 0.05 {
        Severity::None
    } else if score < 3.95 {
        Severity::Low
    } else if score < 6.95 {
        Severity::Medium
    } else if score < 8.95 {
        Severity::High
    } else {
        Severity::Critical
    }
}

/// Why a vector was rejected; every variant names the vector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvssError {
    #[error(
        "CVSS vector {vector:?}: expected a `CVSS:3.0/`, `CVSS:3.1/` or `CVSS:4.0/` prefix or a v2 vector starting with `AV:`"
    )]
    WrongPrefix { vector: String },
    #[error("CVSS vector {vector:?}: component {component:?} is not `METRIC:VALUE`")]
    Malformed { vector: String, component: String },
    #[error("CVSS vector {vector:?}: unknown metric {metric:?} for CVSS {version}")]
    UnknownMetric {
        vector: String,
        version: CvssVersion,
        metric: String,
    },
    #[error("CVSS vector {vector:?}: metric {metric} has unknown value {value:?}")]
    UnknownValue {
        vector: String,
        metric: String,
        value: String,
    },
    #[error("CVSS vector {vector:?}: metric {metric} appears more than once")]
    DuplicateMetric { vector: String, metric: String },
    #[error("CVSS vector {vector:?}: mandatory metric {metric} is missing")]
    MissingMetric { vector: String, metric: String },
}

/// Parses a CVSS vector (v2 without prefix, e.g. `AV:N/AC:L/Au:N/C:P/I:P/A:P`, or with the
/// `CVSS:2.0/` prefix some tools add; v3/v4 with their mandatory `CVSS:3.x/`/`CVSS:4.0/` prefix)
/// and computes its base score.
pub fn parse(vector: &str) -> Result<Cvss, CvssError> {
    let vector = vector.trim();
    let (version, body) = if let Some(body) = vector.strip_prefix("CVSS:3.1/") {
        (CvssVersion::V3_1, body)
    } else if let Some(body) = vector.strip_prefix("CVSS:3.0/") {
        (CvssVersion::V3_0, body)
    } else if let Some(body) = vector.strip_prefix("CVSS:4.0/") {
        (CvssVersion::V4_0, body)
    } else if let Some(body) = vector.strip_prefix("CVSS:2.0/") {
        (CvssVersion::V2, body)
    } else if vector.starts_with("AV:") {
        (CvssVersion::V2, vector)
    } else {
        return Err(CvssError::WrongPrefix {
            vector: vector.to_string(),
        });
    };
    let definitions = match version {
        CvssVersion::V2 => v2::METRICS,
        CvssVersion::V3_0 | CvssVersion::V3_1 => v3::METRICS,
        CvssVersion::V4_0 => v4::METRICS,
    };
    let metrics = Metrics::parse(vector, version, body, definitions)?;
    let base_score = match version {
        CvssVersion::V2 => v2::base_score(&metrics),
        CvssVersion::V3_0 => v3::base_score(&metrics, v3::Rounding::V3_0),
        CvssVersion::V3_1 => v3::base_score(&metrics, v3::Rounding::V3_1),
        CvssVersion::V4_0 => v4::base_score(&metrics),
    };
    Ok(Cvss {
        version,
        vector: vector.to_string(),
        base_score,
    })
}

/// One metric of a version: its abbreviation, its allowed values, whether the vector must carry it.
pub(crate) struct MetricDef {
    key: &'static str,
    values: &'static [&'static str],
    mandatory: bool,
}

pub(crate) const fn base(key: &'static str, values: &'static [&'static str]) -> MetricDef {
    MetricDef {
        key,
        values,
        mandatory: true,
    }
}

pub(crate) const fn optional(key: &'static str, values: &'static [&'static str]) -> MetricDef {
    MetricDef {
        key,
        values,
        mandatory: false,
    }
}

/// The validated metric values of one vector, by position in the version's definition table.
pub(crate) struct Metrics {
    definitions: &'static [MetricDef],
    chosen: Vec<Option<&'static str>>,
}

impl Metrics {
    fn parse(
        vector: &str,
        version: CvssVersion,
        body: &str,
        definitions: &'static [MetricDef],
    ) -> Result<Metrics, CvssError> {
        let mut chosen: Vec<Option<&'static str>> = vec![None; definitions.len()];
        for component in body.split('/') {
            let Some((key, value)) = component.split_once(':') else {
                return Err(CvssError::Malformed {
                    vector: vector.to_string(),
                    component: component.to_string(),
                });
            };
            let Some((index, definition)) = definitions
                .iter()
                .enumerate()
                .find(|(_, definition)| definition.key == key)
            else {
                return Err(CvssError::UnknownMetric {
                    vector: vector.to_string(),
                    version,
                    metric: key.to_string(),
                });
            };
            let Some(known) = definition.values.iter().find(|known| **known == value) else {
                return Err(CvssError::UnknownValue {
                    vector: vector.to_string(),
                    metric: key.to_string(),
                    value: value.to_string(),
                });
            };
            match chosen.get_mut(index) {
                Some(Some(_)) => {
                    return Err(CvssError::DuplicateMetric {
                        vector: vector.to_string(),
                        metric: key.to_string(),
                    });
                }
                Some(slot) => *slot = Some(known),
                None => {}
            }
        }
        for (definition, value) in definitions.iter().zip(&chosen) {
            if definition.mandatory && value.is_none() {
                return Err(CvssError::MissingMetric {
                    vector: vector.to_string(),
                    metric: definition.key.to_string(),
                });
            }
        }
        Ok(Metrics {
            definitions,
            chosen,
        })
    }

    /// The value of a metric; `""` when the vector does not carry it, which for the mandatory base
    /// metrics the scorers read cannot happen after [`Metrics::parse`].
    pub(crate) fn value(&self, key: &str) -> &'static str {
        self.definitions
            .iter()
            .zip(&self.chosen)
            .find(|(definition, _)| definition.key == key)
            .and_then(|(_, value)| *value)
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatches_on_prefix() {
        let v31 = parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!((v31.version, v31.base_score), (CvssVersion::V3_1, 9.8));
        let v4 = parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!((v4.version, v4.base_score), (CvssVersion::V4_0, 9.3));
        let v2 = parse(" AV:N/AC:L/Au:N/C:P/I:P/A:P\n").unwrap();
        assert_eq!((v2.version, v2.base_score), (CvssVersion::V2, 7.5));
        assert_eq!(v2.vector, "AV:N/AC:L/Au:N/C:P/I:P/A:P");
    }

    #[test]
    fn errors_name_vector_and_metric() {
        let err = parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H").unwrap_err();
        assert_eq!(
            err,
            CvssError::MissingMetric {
                vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H".into(),
                metric: "A".into()
            }
        );
        assert!(err.to_string().contains("mandatory metric A"));
        let err = parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L").unwrap_err();
        assert!(matches!(err, CvssError::DuplicateMetric { ref metric, .. } if metric == "A"));
        let err = parse("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap_err();
        assert!(
            matches!(err, CvssError::UnknownValue { ref metric, ref value, .. } if metric == "AV" && value == "Q")
        );
        let err = parse("CVSS:3.2/AV:N").unwrap_err();
        assert!(matches!(err, CvssError::WrongPrefix { .. }));
        assert!(err.to_string().contains("CVSS:3.2/AV:N"));
        let err = parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/").unwrap_err();
        assert!(matches!(err, CvssError::Malformed { ref component, .. } if component.is_empty()));
        let err = parse("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/Au:N")
            .unwrap_err();
        assert!(matches!(err, CvssError::UnknownMetric { ref metric, .. } if metric == "Au"));
    }

    #[test]
    fn severity_bands() {
        assert_eq!(severity(0.0), Severity::None);
        assert_eq!(severity(0.1), Severity::Low);
        assert_eq!(severity(3.9), Severity::Low);
        assert_eq!(severity(4.0), Severity::Medium);
        assert_eq!(severity(6.9), Severity::Medium);
        assert_eq!(severity(7.0), Severity::High);
        assert_eq!(severity(8.9), Severity::High);
        assert_eq!(severity(9.0), Severity::Critical);
        assert_eq!(severity(10.0), Severity::Critical);
        assert_eq!(severity(f64::NAN), Severity::None);
    }
}
