//! Reading OSV records (<https://ossf.github.io/osv-schema/>, schema 1.x) into the normalized
//! [`Advisory`] and [`Affected`] entries the database stores and matching reads.
//!
//! Producers differ in what they fill in (golang/vulndb writes `modified` as the zero time,
//! AlmaLinux has no `aliases` but lists its CVEs under `related`, some write `null` for empty
//! lists), so optional fields are read leniently. What matching depends on is strict: the record
//! ID, each affected package's ecosystem and name, and range types and events — a record whose
//! ranges cannot be read is rejected whole rather than matched on a guess.
//!
//! Schema 1.7 `upstream` IDs (osv.dev's Debian CVE records name their CVE only there) are added
//! to [`Advisory::related`], which serves the same purpose here: finding the record by CVE and
//! joining KEV and EPSS.
//!
//! Where the qualitative rating comes from, per source (as their records are published):
//! - GitHub advisories: `database_specific.severity` (`LOW`, `MODERATE`, `HIGH`, `CRITICAL`).
//! - Red Hat family (AlmaLinux `ALSA-`, Rocky Linux `RLSA-`, Red Hat `RHSA-`): the summary's
//!   prefix, "Important: runc security update" → `Important`.
//! - Ubuntu: a record-level `severity` entry of type `Ubuntu`; per package
//!   `ecosystem_specific.ubuntu_priority`.
//! - Debian (osv.dev's converter of the security tracker): per package
//!   `ecosystem_specific.urgency`; `not yet assigned` means no rating.
//! - Any source: per package `ecosystem_specific.severity`.
//!
//! "Will not fix" is not marked by any OSV producer we know of: Debian's `<no-dsa>`/`ignored`
//! notes and Ubuntu's `deferred`/`ignored` states are dropped by their OSV converters, which list
//! such packages with an open range (`introduced` only); Red Hat family and Alpine records list
//! fixed packages only. Only an explicit `wont_fix: true` in `ecosystem_specific` or
//! `database_specific` of an affected entry sets [`Affected::wont_fix`].

use serde::Deserialize;
use serde_json::Value;

use crate::advisory::{Advisory, Affected, Event, Range, RangeKind, SeverityEntry};
use crate::ecosystem::normalize_name;

/// Why a record was rejected: the record's file (or archive entry) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{record}: {message}")]
pub struct OsvError {
    /// The record's file name or `archive.zip:entry.json`.
    pub record: String,
    pub message: String,
}

/// Qualitative ratings Red Hat and its rebuilds put before the colon of an advisory summary.
const RED_HAT_RATINGS: &[&str] = &["Low", "Moderate", "Important", "Critical"];

/// ID prefixes of Red Hat family advisories (errata carry their rating in the summary).
const RED_HAT_FAMILY_IDS: &[&str] = &["ALSA-", "RLSA-", "RHSA-", "RXSA-"];

/// Ecosystems whose advisories are Red Hat errata or rebuilds of them.
const RED_HAT_FAMILY_ECOSYSTEMS: &[&str] = &["AlmaLinux", "Rocky Linux", "Red Hat"];

#[derive(Deserialize)]
struct RawRecord {
    id: Option<Value>,
    modified: Option<Value>,
    published: Option<Value>,
    withdrawn: Option<Value>,
    aliases: Option<Vec<Value>>,
    related: Option<Vec<Value>>,
    upstream: Option<Vec<Value>>,
    summary: Option<Value>,
    severity: Option<Vec<Value>>,
    affected: Option<Vec<RawAffected>>,
    references: Option<Vec<Value>>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    ranges: Option<Vec<RawRange>>,
    versions: Option<Vec<Value>>,
    ecosystem_specific: Option<Value>,
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: Option<Value>,
    name: Option<Value>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: Option<Value>,
    events: Option<Vec<serde_json::Map<String, Value>>>,
}

/// Parses one OSV record; `name` (the file or archive entry it came from) labels errors.
///
/// Affected entries without a package (commit-only `GIT` entries for a repository) are skipped:
/// versions of installed packages are matched, never commits.
pub fn parse_record(name: &str, bytes: &[u8]) -> Result<(Advisory, Vec<Affected>), OsvError> {
    let error = |message: String| OsvError {
        record: name.to_string(),
        message,
    };
    // serde would read a struct from a JSON array too; a record is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(error(
            "not an OSV record: expected a JSON object".to_string(),
        ));
    }
    let raw: RawRecord =
        serde_json::from_slice(bytes).map_err(|err| error(format!("not an OSV record: {err}")))?;
    let id = match raw.id {
        Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_string(),
        Some(Value::String(_)) => return Err(error("`id` is empty".to_string())),
        Some(other) => return Err(error(format!("`id` is not a string: {other}"))),
        None => return Err(error("no `id`: not an OSV record".to_string())),
    };
    let error = |message: String| OsvError {
        record: name.to_string(),
        message: format!("{id}: {message}"),
    };
    let modified = match optional_string(raw.modified, "modified").map_err(&error)? {
        // The replacement rule orders records by `modified`, so it must be a real timestamp.
        Some(modified) => {
            if crate::db::time::parse_rfc3339(&modified).is_none() {
                return Err(error(format!(
                    "`modified` {modified:?} is not an RFC 3339 timestamp"
                )));
            }
            modified
        }
        None => String::new(),
    };
    let published = optional_string(raw.published, "published").map_err(&error)?;
    let withdrawn = optional_string(raw.withdrawn, "withdrawn").map_err(&error)?;
    let summary = optional_string(raw.summary, "summary")
        .map_err(&error)?
        .unwrap_or_default();
    let aliases = string_list(raw.aliases, "aliases").map_err(&error)?;
    let mut related = string_list(raw.related, "related").map_err(&error)?;
    // Schema 1.7 `upstream` (osv.dev's Debian converter names the CVE only there): kept with
    // `related` so that the CVE finds the record and joins KEV and EPSS.
    for upstream in string_list(raw.upstream, "upstream").map_err(&error)? {
        if !related.contains(&upstream) {
            related.push(upstream);
        }
    }
    let severity = raw
        .severity
        .unwrap_or_default()
        .iter()
        .filter_map(severity_entry)
        .collect::<Vec<_>>();
    let database_specific = raw.database_specific.unwrap_or(Value::Null);

    let mut affected = Vec::new();
    let mut ecosystems = Vec::new();
    for (index, entry) in raw.affected.unwrap_or_default().into_iter().enumerate() {
        let Some(package) = entry.package else {
            continue;
        };
        let at = |message: String| error(format!("affected[{index}]: {message}"));
        let ecosystem = match package.ecosystem {
            Some(Value::String(ecosystem)) if !ecosystem.trim().is_empty() => ecosystem,
            _ => return Err(at("`package.ecosystem` is missing or empty".to_string())),
        };
        let package_name = match package.name {
            Some(Value::String(name)) if !name.trim().is_empty() => name,
            _ => return Err(at("`package.name` is missing or empty".to_string())),
        };
        let mut ranges = Vec::new();
        for (range_index, range) in entry.ranges.unwrap_or_default().into_iter().enumerate() {
            ranges.push(
                parse_range(range)
                    .map_err(|message| at(format!("ranges[{range_index}]: {message}")))?,
            );
        }
        let versions = string_list(entry.versions, "versions").map_err(&at)?;
        let ecosystem_specific = entry.ecosystem_specific.unwrap_or(Value::Null);
        let entry_database_specific = entry.database_specific.unwrap_or(Value::Null);
        let wont_fix = [&ecosystem_specific, &entry_database_specific]
            .iter()
            .any(|object| object.get("wont_fix").and_then(Value::as_bool) == Some(true));
        ecosystems.push(ecosystem.clone());
        affected.push(Affected {
            advisory_id: id.clone(),
            package: normalize_name(&ecosystem, &package_name),
            ecosystem,
            ranges,
            versions,
            rating: package_rating(&ecosystem_specific),
            wont_fix,
        });
    }

    let rating = advisory_rating(&id, &summary, &severity, &database_specific, &ecosystems);
    let url = advisory_url(
        raw.references.as_deref().unwrap_or_default(),
        &database_specific,
    );
    let advisory = Advisory {
        id,
        aliases,
        related,
        summary,
        modified,
        published,
        withdrawn,
        severity,
        rating,
        url,
    };
    Ok((advisory, affected))
}

/// An optional string field; `null` counts as absent.
fn optional_string(value: Option<Value>, field: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(format!("`{field}` is not a string: {other}")),
    }
}

/// A list of strings (`aliases`, `related`, `versions`); `null` counts as empty.
fn string_list(values: Option<Vec<Value>>, field: &str) -> Result<Vec<String>, String> {
    values
        .unwrap_or_default()
        .into_iter()
        .map(|value| match value {
            Value::String(text) => Ok(text),
            other => Err(format!("`{field}` holds a non-string: {other}")),
        })
        .collect()
}

/// A `severity[]` entry; entries without a string type and score are dropped (they cannot be
/// scored, and the record is still good for matching).
fn severity_entry(value: &Value) -> Option<SeverityEntry> {
    let kind = value.get("type")?.as_str()?.trim();
    let score = value.get("score")?.as_str()?.trim();
    if kind.is_empty() || score.is_empty() {
        return None;
    }
    Some(SeverityEntry {
        kind: kind.to_string(),
        score: score.to_string(),
    })
}

fn parse_range(range: RawRange) -> Result<Range, String> {
    let kind = match &range.kind {
        Some(Value::String(kind)) => match kind.as_str() {
            "ECOSYSTEM" => RangeKind::Ecosystem,
            "SEMVER" => RangeKind::Semver,
            "GIT" => RangeKind::Git,
            other => {
                return Err(format!(
                    "range type {other:?} is not ECOSYSTEM, SEMVER or GIT"
                ));
            }
        },
        _ => return Err("no range `type`".to_string()),
    };
    let raw_events = range.events.unwrap_or_default();
    if raw_events.is_empty() {
        return Err("a range without events".to_string());
    }
    let mut events = Vec::with_capacity(raw_events.len());
    for (index, object) in raw_events.into_iter().enumerate() {
        // Producers add nothing else to an event, but the schema allows `database_specific`.
        let mut found = object
            .into_iter()
            .filter(|(key, _)| key != "database_specific");
        let (Some((key, value)), None) = (found.next(), found.next()) else {
            return Err(format!(
                "events[{index}] must have exactly one of introduced, fixed, last_affected, limit"
            ));
        };
        let Value::String(version) = value else {
            return Err(format!("events[{index}].{key} is not a string: {value}"));
        };
        if version.trim().is_empty() {
            return Err(format!("events[{index}].{key} is empty"));
        }
        events.push(match key.as_str() {
            "introduced" => Event::Introduced(version),
            "fixed" => Event::Fixed(version),
            "last_affected" => Event::LastAffected(version),
            "limit" => Event::Limit(version),
            other => return Err(format!("events[{index}] has unknown event {other:?}")),
        });
    }
    Ok(Range { kind, events })
}

/// The rating one package entry carries, as written.
fn package_rating(ecosystem_specific: &Value) -> Option<String> {
    ["severity", "urgency", "ubuntu_priority"]
        .iter()
        .filter_map(|key| ecosystem_specific.get(key)?.as_str())
        .map(str::trim)
        // Debian's tracker says `not yet assigned` where it has no urgency yet.
        .find(|rating| !rating.is_empty() && !rating.eq_ignore_ascii_case("not yet assigned"))
        .map(str::to_string)
}

fn advisory_rating(
    id: &str,
    summary: &str,
    severity: &[SeverityEntry],
    database_specific: &Value,
    ecosystems: &[String],
) -> Option<String> {
    if let Some(rating) = database_specific
        .get("severity")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|rating| !rating.is_empty())
    {
        return Some(rating.to_string());
    }
    let red_hat_family = RED_HAT_FAMILY_IDS
        .iter()
        .any(|prefix| id.starts_with(prefix))
        || ecosystems.iter().any(|ecosystem| {
            let base = ecosystem.split(':').next().unwrap_or(ecosystem);
            RED_HAT_FAMILY_ECOSYSTEMS.contains(&base)
        });
    if red_hat_family
        && let Some((prefix, _)) = summary.split_once(':')
        && let Some(rating) = RED_HAT_RATINGS.iter().find(|r| **r == prefix.trim())
    {
        return Some((*rating).to_string());
    }
    severity
        .iter()
        .find(|entry| entry.kind == "Ubuntu")
        .map(|entry| entry.score.clone())
}

/// The advisory's own page: an ADVISORY reference, else the first WEB one, else the source's
/// `database_specific.url`.
fn advisory_url(references: &[Value], database_specific: &Value) -> Option<String> {
    let first_of = |wanted: &str| {
        references.iter().find_map(|reference| {
            let kind = reference.get("type")?.as_str()?;
            let url = reference.get("url")?.as_str()?.trim();
            (kind == wanted && !url.is_empty()).then(|| url.to_string())
        })
    };
    first_of("ADVISORY")
        .or_else(|| first_of("WEB"))
        .or_else(|| {
            database_specific
                .get("url")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(str::to_string)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<(Advisory, Vec<Affected>), OsvError> {
        parse_record("test.json", json.as_bytes())
    }

    #[test]
    fn ghsa_record() {
        let (advisory, affected) = parse(
            r#"{
              "id": "GHSA-jfh8-c2jp-5v3q", "modified": "2024-03-01T10:00:00.123Z",
              "aliases": ["CVE-2021-44228"], "summary": "Log4Shell",
              "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
              "affected": [{
                "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}],
                "versions": ["2.0", "2.1"]
              }],
              "references": [{"type": "WEB", "url": "https://logging.apache.org"},
                             {"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"}],
              "database_specific": {"severity": "CRITICAL", "cwe_ids": ["CWE-502"]}
            }"#,
        )
        .unwrap();
        assert_eq!(advisory.id, "GHSA-jfh8-c2jp-5v3q");
        assert_eq!(advisory.aliases, ["CVE-2021-44228"]);
        assert_eq!(advisory.rating.as_deref(), Some("CRITICAL"));
        assert_eq!(
            advisory.url.as_deref(),
            Some("https://nvd.nist.gov/vuln/detail/CVE-2021-44228")
        );
        assert_eq!(advisory.severity.len(), 1);
        assert_eq!(affected.len(), 1);
        assert_eq!(affected[0].advisory_id, "GHSA-jfh8-c2jp-5v3q");
        assert_eq!(
            affected[0].ranges[0].events,
            [
                Event::Introduced("2.0-beta9".into()),
                Event::Fixed("2.15.0".into())
            ]
        );
        assert_eq!(affected[0].versions, ["2.0", "2.1"]);
    }

    #[test]
    fn red_hat_family_rating_from_summary() {
        let record = |id: &str, summary: &str, ecosystem: &str| {
            format!(
                r#"{{"id": "{id}", "modified": "2024-01-01T00:00:00Z", "summary": "{summary}",
                   "affected": [{{"package": {{"ecosystem": "{ecosystem}", "name": "runc"}},
                     "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}, {{"fixed": "1.1.12-1.el9"}}]}}]}}]}}"#
            )
        };
        let rating = |json: String| parse(&json).unwrap().0.rating;
        assert_eq!(
            rating(record(
                "ALSA-2024:0670",
                "Important: runc security update",
                "AlmaLinux:9"
            ))
            .as_deref(),
            Some("Important")
        );
        assert_eq!(
            rating(record(
                "RLSA-2024:0670",
                "Moderate: runc update",
                "Rocky Linux:9"
            ))
            .as_deref(),
            Some("Moderate")
        );
        // Bug fix errata have no rating, and other sources' colons mean nothing.
        assert_eq!(
            rating(record("ALBA-2024:1", "runc bug fix: update", "AlmaLinux:9")),
            None
        );
        assert_eq!(
            rating(record(
                "PYSEC-2024-1",
                "Important: not a rating here",
                "PyPI"
            )),
            None
        );
    }

    #[test]
    fn distro_package_ratings() {
        let (advisory, affected) = parse(
            r#"{"id": "UBUNTU-CVE-2024-0727", "modified": "2024-08-23T16:30:37Z",
                "severity": [{"type": "Ubuntu", "score": "low"}],
                "affected": [
                  {"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "openssl"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.14"}]}],
                   "ecosystem_specific": {"ubuntu_priority": "low", "binaries": [{"libssl3": "3.0.2-0ubuntu1.14"}]}},
                  {"package": {"ecosystem": "Debian:12", "name": "openssl"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                   "ecosystem_specific": {"urgency": "not yet assigned"}},
                  {"package": {"ecosystem": "Debian:11", "name": "openssl"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                   "ecosystem_specific": {"urgency": "unimportant", "wont_fix": true}}
                ]}"#,
        )
        .unwrap();
        assert_eq!(advisory.rating.as_deref(), Some("low"));
        assert_eq!(affected[0].rating.as_deref(), Some("low"));
        assert_eq!(affected[1].rating, None);
        assert_eq!(affected[2].rating.as_deref(), Some("unimportant"));
        assert!(!affected[1].wont_fix);
        assert!(affected[2].wont_fix);
    }

    #[test]
    fn lenient_on_optional_fields() {
        let (advisory, affected) = parse(
            r#"{"id": "GO-2024-0001", "aliases": null, "summary": null,
                "affected": [
                  {"ranges": [{"type": "GIT", "repo": "https://github.com/x/y", "events": [{"introduced": "abc"}]}]},
                  {"package": {"ecosystem": "PyPI", "name": "Flask_SQLAlchemy"},
                   "ranges": [{"type": "GIT", "events": [{"introduced": "0"}, {"limit": "abc"}]}]}
                ],
                "database_specific": {"url": "https://pkg.go.dev/vuln/GO-2024-0001"}}"#,
        )
        .unwrap();
        assert_eq!(advisory.modified, "");
        assert!(advisory.aliases.is_empty());
        assert_eq!(
            advisory.url.as_deref(),
            Some("https://pkg.go.dev/vuln/GO-2024-0001")
        );
        // The package-less GIT entry is skipped; names are normalized for the index.
        assert_eq!(affected.len(), 1);
        assert_eq!(affected[0].package, "flask-sqlalchemy");
        assert_eq!(affected[0].ranges[0].kind, RangeKind::Git);
        assert_eq!(affected[0].ranges[0].events[1], Event::Limit("abc".into()));
    }

    #[test]
    fn strict_on_what_matching_needs() {
        let cases = [
            ("[]", "expected a JSON object"),
            ("{}", "no `id`"),
            (r#"{"id": 5}"#, "`id` is not a string"),
            (
                r#"{"id": "X-1", "modified": "yesterday"}"#,
                "X-1: `modified` \"yesterday\" is not an RFC 3339 timestamp",
            ),
            (
                r#"{"id": "X-1", "affected": [{"package": {"name": "a"}}]}"#,
                "affected[0]: `package.ecosystem` is missing",
            ),
            (
                r#"{"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
                   "ranges": [{"type": "NPM", "events": [{"introduced": "0"}]}]}]}"#,
                "affected[0]: ranges[0]: range type \"NPM\"",
            ),
            (
                r#"{"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}]}]}"#,
                "events[0] must have exactly one",
            ),
            (
                r#"{"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
                   "ranges": [{"type": "SEMVER", "events": []}]}]}"#,
                "a range without events",
            ),
            (
                r#"{"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
                   "ranges": [{"type": "SEMVER", "events": [{"fixed": 1}]}]}]}"#,
                "events[0].fixed is not a string",
            ),
            (
                r#"{"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
                   "ranges": [{"type": "SEMVER", "events": [{"fixd": "1"}]}]}]}"#,
                "unknown event \"fixd\"",
            ),
        ];
        for (json, expected) in cases {
            let err = parse(json).unwrap_err();
            assert_eq!(err.record, "test.json");
            assert!(
                err.to_string().contains(expected),
                "{json}: got {err}, expected {expected}"
            );
        }
    }

    #[test]
    fn url_falls_back_to_web() {
        let (advisory, _) = parse(
            r#"{"id": "DSA-1-1", "references": [{"type": "FIX", "url": "https://fix"},
                {"type": "WEB", "url": "https://web/1"}, {"type": "WEB", "url": "https://web/2"}]}"#,
        )
        .unwrap();
        assert_eq!(advisory.url.as_deref(), Some("https://web/1"));
    }
}
