//! Advisories as matching needs them: an OSV record reduced to identity, aliases, severity
//! inputs and, per affected package, the version ranges. The database stores these (and the
//! original record for display); the matcher reads them.

use serde::{Deserialize, Serialize};

/// One advisory (an OSV record), without its affected packages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// `GHSA-…`, `GO-2024-2887`, `ALSA-2024:0670`, `DSA-5678-1`, `CVE-…`.
    pub id: String,
    /// OSV `aliases`: IDs of the same flaw in other databases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// OSV `related`: IDs of closely related flaws (distro advisories such as AlmaLinux's list the
    /// CVEs they fix here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Withdrawn advisories are kept (so a rescan can say a finding was resolved by withdrawal)
    /// but never matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// OSV `severity` entries: (`CVSS_V2`|`CVSS_V3`|`CVSS_V4`|`Ubuntu`…, vector or rating).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    /// A qualitative rating the source database gives (GHSA `database_specific.severity`
    /// `HIGH`; Red Hat family summary prefix `Important`; Debian urgency), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    /// The advisory's own page (OSV `references` of type ADVISORY first, else the first WEB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityEntry {
    /// OSV severity type: `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// One `affected[]` entry of an advisory: a package of one ecosystem and when it is affected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    pub advisory_id: String,
    /// The OSV ecosystem exactly as the record writes it (`Debian:12`, `AlmaLinux:9`, `PyPI`).
    pub ecosystem: String,
    /// The package name as indexed: [`crate::ecosystem::normalize_name`] of the record's name.
    pub package: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// A per-package rating overriding the advisory's (`ecosystem_specific.severity`, Debian
    /// `urgency`), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    /// The source said it will not fix this package (Debian `<no-dsa>`/`ignored`, Red Hat
    /// "Will not fix", an explicit `wont_fix` marker).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wont_fix: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeKind {
    Ecosystem,
    Semver,
    /// Commit ranges: ignored by matching (versions are compared, not commits).
    Git,
}

/// An OSV range event. Events of a range are kept in record order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}
