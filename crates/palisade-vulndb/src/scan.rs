//! The result of scanning one image for vulnerabilities: what the image is, what the database
//! was, and what matched — the value every output format is rendered from (docs/vulnerabilities.md).

use palisade_core::Sbom;
use serde::{Deserialize, Serialize};

use crate::matching::{MatchNote, MatchReport, Severity, Vulnerability};

pub const SCHEMA: &str = "palisade.dev/vulnerabilities/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageScan {
    pub schema: String,
    pub image: ScannedImage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<ScannedOs>,
    pub summary: SeveritySummary,
    pub vulnerabilities: Vec<Vulnerability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebuild_base_hint: Option<String>,
    /// Ecosystems with packages in the image but no advisories in the database: not assessed.
    #[serde(default)]
    pub unassessed_ecosystems: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<MatchNote>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedImage {
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub packages: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedOs {
    pub id: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `YYYY-MM-DD` when the release's support ends (or ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<String>,
}

/// Unsuppressed findings by severity, and how many were suppressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeveritySummary {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub unknown: usize,
    pub suppressed: usize,
}

impl SeveritySummary {
    pub fn of(vulnerabilities: &[Vulnerability]) -> SeveritySummary {
        let mut summary = SeveritySummary::default();
        for v in vulnerabilities {
            if v.suppressed.is_some() {
                summary.suppressed += 1;
                continue;
            }
            *match v.severity {
                Severity::Critical => &mut summary.critical,
                Severity::High => &mut summary.high,
                Severity::Medium => &mut summary.medium,
                Severity::Low => &mut summary.low,
                Severity::Unknown => &mut summary.unknown,
            } += 1;
        }
        summary
    }

    pub fn count(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Unknown => self.unknown,
        }
    }

    /// Unsuppressed findings at or above `threshold`.
    pub fn at_or_above(&self, threshold: Severity) -> usize {
        Severity::ALL_DESCENDING
            .iter()
            .filter(|s| **s >= threshold)
            .map(|s| self.count(*s))
            .sum()
    }
}

impl ImageScan {
    pub fn new(sbom: &Sbom, matched: MatchReport) -> ImageScan {
        let mut vulnerabilities = matched.vulnerabilities;
        // Most severe first, then KEV, then EPSS, then by package and ID: the order people act in.
        vulnerabilities.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| b.kev.is_some().cmp(&a.kev.is_some()))
                .then_with(|| {
                    let score = |v: &Vulnerability| v.epss.map_or(0.0, |e| e.score);
                    score(b).total_cmp(&score(a))
                })
                .then_with(|| a.package.name.cmp(&b.package.name))
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| a.package.location.cmp(&b.package.location))
        });
        ImageScan {
            schema: SCHEMA.to_string(),
            image: ScannedImage {
                reference: sbom.image.reference.clone(),
                digest: sbom.image.manifest_digest.clone(),
                config_digest: sbom.image.config_digest.clone(),
                platform: sbom.image.platform.clone(),
                packages: sbom.packages.len(),
            },
            os: sbom.distro.as_ref().map(|d| ScannedOs {
                id: d.id.clone(),
                version: d.version_id.clone(),
                name: d.pretty_name.clone(),
                end_of_life: d.end_of_life.clone(),
            }),
            summary: SeveritySummary::of(&vulnerabilities),
            vulnerabilities,
            rebuild_base_hint: matched.rebuild_base_hint,
            unassessed_ecosystems: {
                let mut unassessed = matched.unassessed_ecosystems;
                unassessed.sort();
                unassessed
            },
            notes: matched.notes,
        }
    }

    /// Recomputes the summary after suppressions changed.
    pub fn refresh_summary(&mut self) {
        self.summary = SeveritySummary::of(&self.vulnerabilities);
    }
}
