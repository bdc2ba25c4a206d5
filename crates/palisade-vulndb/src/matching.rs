//! Matching an inventory against advisories: which packages an advisory's ranges cover, one
//! finding per flaw (records linked by aliases merged per package), the fix to apply, severity,
//! and exploitability (KEV, EPSS) joined through every CVE the merged records name.
//!
//! The version question is asked of the ecosystem's own scheme ([`Scheme`]); a version a scheme
//! cannot read is never guessed to be affected or not: the package is reported in
//! [`MatchReport::notes`] instead.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use palisade_core::{Package, Sbom};
use serde::{Deserialize, Serialize};

use crate::advisory::{Advisory, Affected, Event, RangeKind};
use crate::cvss;
use crate::db::{AdvisoryDb, DbError};
use crate::ecosystem::{self, Query};
use crate::version::{Scheme, VersionError};

/// Vulnerability severity; `Unknown` when neither a CVSS vector nor a rating says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL_DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// A source's qualitative rating (GHSA `HIGH`, Red Hat `Important`, Debian `unimportant`,
    /// Ubuntu `negligible`...).
    pub fn from_rating(rating: &str) -> Severity {
        match rating.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" | "negligible" | "unimportant" | "minor" => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    fn from_cvss(severity: cvss::Severity) -> Severity {
        match severity {
            cvss::Severity::Critical => Severity::Critical,
            cvss::Severity::High => Severity::High,
            cvss::Severity::Medium => Severity::Medium,
            cvss::Severity::Low => Severity::Low,
            cvss::Severity::None => Severity::Unknown,
        }
    }
}

/// Whether and how the flaw can be fixed in this package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixState {
    /// A fixed version exists.
    Fixed,
    /// Affected with no fixed version published (yet).
    NotFixed,
    /// The source said it will not fix it.
    WontFix,
    /// Affected by an explicit version list: whether a fix exists is not stated.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScore {
    pub version: String,
    pub vector: String,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevFlag {
    pub cve: String,
    pub date_added: String,
    pub due_date: String,
    #[serde(default)]
    pub known_ransomware: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpssFlag {
    pub score: f32,
    pub percentile: f32,
}

/// The package a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
    /// The OSV ecosystem it was matched in (`Debian:12`, `PyPI`).
    pub ecosystem: String,
    pub purl: String,
    /// Digest of the layer that brought it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Where it was found in the image.
    pub location: String,
    /// The source package advisories are published for, when it differs from `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Why a finding does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppressed {
    /// `vex` or `ignore-file`.
    pub by: String,
    pub reason: String,
}

/// One flaw in one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    pub id: String,
    pub aliases: Vec<String>,
    pub package: PackageRef,
    pub fixed_versions: Vec<String>,
    pub fix_state: FixState,
    pub severity: Severity,
    pub cvss: Option<CvssScore>,
    pub kev: Option<KevFlag>,
    pub epss: Option<EpssFlag>,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub remediation: String,
    pub suppressed: Option<Suppressed>,
}

impl Vulnerability {
    /// Every ID this finding is known by: the primary one and its aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// A package that could not be judged, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchNote {
    pub package: String,
    pub version: String,
    pub message: String,
}

/// Everything matching found for one inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MatchReport {
    pub vulnerabilities: Vec<Vulnerability>,
    pub notes: Vec<MatchNote>,
    /// Set when every fixable finding sits in the image's base layers: rebuilding on a newer base
    /// image fixes them all.
    pub rebuild_base_hint: Option<String>,
    /// Ecosystems the image has packages in but the database has no advisories for (say
    /// `Debian:12` before `palisade db update --ecosystem Debian`): those packages were not
    /// assessed, which is not the same as not vulnerable.
    #[serde(default)]
    pub unassessed_ecosystems: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    /// Leave out findings without a fixed version.
    pub ignore_unfixed: bool,
}

/// An advisory that matched one package, before merging.
struct Hit {
    advisory: Rc<Advisory>,
    affected: Affected,
    fixed: Vec<String>,
    fix_state: FixState,
}

/// Matches every package of `sbom` against `db`.
pub fn match_sbom(
    db: &AdvisoryDb,
    sbom: &Sbom,
    options: &MatchOptions,
) -> Result<MatchReport, DbError> {
    let mut matcher = Matcher::new(db);
    // One SBOM: nothing would be asked twice, so findings are not kept for reuse.
    matcher.remember_lookups = false;
    matcher.match_sbom(sbom, options)
}

/// What one lookup of one package produced: findings (with this package's name, version and
/// source) and the notes of versions that could not be compared.
struct Looked {
    vulnerabilities: Vec<Vulnerability>,
    notes: Vec<String>,
}

/// Matches SBOMs against one database, remembering what it read: advisories, KEV and EPSS facts
/// and each package version's findings. Images share base layers, so a rescan of many stored
/// images asks the same questions again and again; the answers cannot change while the matcher
/// lives (do not keep one across a database update).
pub struct Matcher<'db> {
    db: &'db AdvisoryDb,
    advisories: HashMap<String, Option<Rc<Advisory>>>,
    exploitation: Exploitation,
    /// By (query, package name, package version, source package).
    looked: HashMap<(Query, String, String, Option<String>), Rc<Looked>>,
    /// Whether the database has advisories for an ecosystem.
    covered: HashMap<String, bool>,
    remember_lookups: bool,
}

impl<'db> Matcher<'db> {
    pub fn new(db: &'db AdvisoryDb) -> Matcher<'db> {
        Matcher {
            db,
            advisories: HashMap::new(),
            exploitation: Exploitation::default(),
            looked: HashMap::new(),
            covered: HashMap::new(),
            remember_lookups: true,
        }
    }

    pub fn match_sbom(
        &mut self,
        sbom: &Sbom,
        options: &MatchOptions,
    ) -> Result<MatchReport, DbError> {
        let _snapshot = self.db.snapshot()?;
        let mut report = MatchReport::default();
        for package in &sbom.packages {
            let queries = ecosystem::queries(package, sbom.distro.as_ref());
            if queries.is_empty()
                && package.kind.is_os()
                && let Some(distro) = &sbom.distro
                && ecosystem::distro_ecosystem(package.kind, distro).is_none()
            {
                // An OS no advisory source covers per release (RHEL itself, an unknown distro):
                // its packages are not assessed, and the report must say so.
                let label = format!(
                    "{} {} ({} packages)",
                    distro.id,
                    distro.version_id,
                    package.kind.as_str()
                );
                if !report.unassessed_ecosystems.contains(&label) {
                    report.unassessed_ecosystems.push(label);
                }
            }
            for query in queries {
                let covered = match self.covered.get(&query.ecosystem) {
                    Some(covered) => *covered,
                    None => {
                        let covered = self.db.covers(&query.ecosystem)?;
                        self.covered.insert(query.ecosystem.clone(), covered);
                        covered
                    }
                };
                if !covered {
                    if !report.unassessed_ecosystems.contains(&query.ecosystem) {
                        report.unassessed_ecosystems.push(query.ecosystem.clone());
                    }
                    continue;
                }
                let key = (
                    query,
                    package.name.clone(),
                    package.version.clone(),
                    package.source.as_ref().map(|s| s.name.clone()),
                );
                let looked = match self.looked.get(&key) {
                    Some(looked) => Rc::clone(looked),
                    None => {
                        let looked = Rc::new(self.look_up(package, &key.0)?);
                        if self.remember_lookups {
                            self.looked.insert(key, Rc::clone(&looked));
                        }
                        looked
                    }
                };
                for message in &looked.notes {
                    report.notes.push(MatchNote {
                        package: package.name.clone(),
                        version: package.version.clone(),
                        message: message.clone(),
                    });
                }
                // Not remembered: this is the only owner, and the findings move out as built.
                let vulnerabilities = match Rc::try_unwrap(looked) {
                    Ok(looked) => looked.vulnerabilities,
                    Err(shared) => shared.vulnerabilities.clone(),
                };
                for mut vulnerability in vulnerabilities {
                    if options.ignore_unfixed && vulnerability.fix_state != FixState::Fixed {
                        continue;
                    }
                    // The same package version elsewhere (another image, another path) has
                    // the same findings; only where it lies differs.
                    vulnerability.package.purl.clone_from(&package.purl);
                    vulnerability.package.layer.clone_from(&package.layer);
                    vulnerability.package.location.clone_from(&package.location);
                    report.vulnerabilities.push(vulnerability);
                }
            }
        }
        finish(sbom, report)
    }

    fn look_up(&mut self, package: &Package, query: &Query) -> Result<Looked, DbError> {
        let mut looked = Looked {
            vulnerabilities: Vec::new(),
            notes: Vec::new(),
        };
        let Some(scheme) = Scheme::for_ecosystem(&query.ecosystem) else {
            return Ok(looked);
        };
        let db = self.db;
        let mut hits = Vec::new();
        for affected in db.affected(&query.ecosystem, &query.package)? {
            let verdict = match evaluate(scheme, &query.version, &affected) {
                Ok(verdict) => verdict,
                Err(error) => {
                    looked.notes.push(format!(
                        "cannot compare against {} ({}): {error}",
                        affected.advisory_id, query.ecosystem
                    ));
                    continue;
                }
            };
            let Some((fixed, fix_state)) = verdict else {
                continue;
            };
            let advisory = match self.advisories.get(&affected.advisory_id) {
                Some(cached) => cached.clone(),
                None => {
                    let loaded = db.advisory(&affected.advisory_id)?.map(Rc::new);
                    self.advisories
                        .insert(affected.advisory_id.clone(), loaded.clone());
                    loaded
                }
            };
            let Some(advisory) = advisory else { continue };
            if advisory.withdrawn.is_some() {
                continue;
            }
            hits.push(Hit {
                advisory,
                affected,
                fixed,
                fix_state,
            });
        }
        for group in merge(hits) {
            looked.vulnerabilities.push(finding(
                db,
                &mut self.exploitation,
                package,
                query,
                group,
            )?);
        }
        Ok(looked)
    }
}

fn finish(sbom: &Sbom, mut report: MatchReport) -> Result<MatchReport, DbError> {
    // A package matched under two queries (an apk by origin and by name) can meet the same
    // advisory twice.
    report.vulnerabilities.sort_by(|a, b| {
        (
            &a.package.name,
            &a.package.version,
            &a.package.location,
            &a.id,
        )
            .cmp(&(
                &b.package.name,
                &b.package.version,
                &b.package.location,
                &b.id,
            ))
    });
    report.vulnerabilities.dedup_by(|a, b| {
        a.id == b.id && a.package.name == b.package.name && a.package.location == b.package.location
    });
    report.rebuild_base_hint = rebuild_hint(sbom, &report.vulnerabilities);
    Ok(report)
}

/// Whether `version` is affected by `affected`: `Some((fixed versions above it, fix state))`.
pub fn evaluate(
    scheme: Scheme,
    version: &str,
    affected: &Affected,
) -> Result<Option<(Vec<String>, FixState)>, VersionError> {
    let mut hit = false;
    let mut fixed = Vec::new();
    let mut has_fix_event = false;
    for range in &affected.ranges {
        let range_scheme = match range.kind {
            RangeKind::Git => continue,
            RangeKind::Ecosystem => scheme,
            // Go's SEMVER ranges need Go's reading of `+incompatible` and toolchain versions.
            RangeKind::Semver if scheme == Scheme::Go => Scheme::Go,
            RangeKind::Semver => Scheme::Semver,
        };
        let events = sorted_events(range_scheme, &range.events);
        let mut in_range = false;
        for event in &events {
            match event {
                Event::Introduced(at) => {
                    if at == "0" || range_scheme.compare(version, at)? != Ordering::Less {
                        in_range = true;
                    }
                }
                Event::Fixed(at) => {
                    has_fix_event = true;
                    if range_scheme.compare(version, at)? != Ordering::Less {
                        in_range = false;
                    }
                }
                Event::LastAffected(at) => {
                    if range_scheme.compare(version, at)? == Ordering::Greater {
                        in_range = false;
                    }
                }
                Event::Limit(_) => {}
            }
        }
        if in_range {
            hit = true;
            for event in &events {
                if let Event::Fixed(at) = event
                    && range_scheme.compare(at, version)? == Ordering::Greater
                    && !fixed.contains(at)
                {
                    fixed.push(at.clone());
                }
            }
        }
    }
    let listed = affected
        .versions
        .iter()
        .any(|listed| scheme.compare(version, listed).ok() == Some(Ordering::Equal));
    if !hit && !listed {
        return Ok(None);
    }
    let state = if affected.wont_fix {
        FixState::WontFix
    } else if !fixed.is_empty() {
        FixState::Fixed
    } else if hit || has_fix_event {
        FixState::NotFixed
    } else {
        FixState::Unknown
    };
    fixed.sort_by(|a, b| scheme.compare(a, b).unwrap_or(Ordering::Equal));
    Ok(Some((fixed, state)))
}

/// Events ordered by version as the OSV evaluation algorithm asks (`introduced: 0` first); when
/// two versions cannot be compared the record's order is kept.
fn sorted_events(scheme: Scheme, events: &[Event]) -> Vec<Event> {
    let mut sorted = events.to_vec();
    let key = |event: &Event| -> (bool, String) {
        match event {
            Event::Introduced(v) => (v != "0", v.clone()),
            Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => (true, v.clone()),
        }
    };
    sorted.sort_by(|a, b| {
        let (a_real, a_version) = key(a);
        let (b_real, b_version) = key(b);
        match (a_real, b_real) {
            (false, false) => Ordering::Equal,
            (false, true) => Ordering::Less,
            (true, false) => Ordering::Greater,
            (true, true) => scheme
                .compare(&a_version, &b_version)
                .unwrap_or(Ordering::Equal),
        }
    });
    sorted
}

/// Groups hits of one package that name the same flaw: two records are one flaw when their IDs
/// or aliases meet (union-find over IDs).
fn merge(hits: Vec<Hit>) -> Vec<Vec<Hit>> {
    let mut parent: Vec<usize> = (0..hits.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, hit) in hits.iter().enumerate() {
        let ids = std::iter::once(hit.advisory.id.as_str())
            .chain(hit.advisory.aliases.iter().map(String::as_str));
        for id in ids {
            match owner.get(id) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<Hit>> = BTreeMap::new();
    for (i, hit) in hits.into_iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(hit);
    }
    groups.into_values().collect()
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// One finding from a group of hits naming the same flaw in `package`.
/// KEV and EPSS facts by CVE, looked up once per match.
#[derive(Default)]
struct Exploitation {
    by_cve: HashMap<String, (Option<crate::kev::KevEntry>, Option<crate::db::Epss>)>,
}

impl Exploitation {
    fn of(
        &mut self,
        db: &AdvisoryDb,
        cve: &str,
    ) -> Result<&(Option<crate::kev::KevEntry>, Option<crate::db::Epss>), DbError> {
        if !self.by_cve.contains_key(cve) {
            let facts = (db.kev(cve)?, db.epss(cve)?);
            self.by_cve.insert(cve.to_string(), facts);
        }
        Ok(&self.by_cve[cve])
    }
}

fn finding(
    db: &AdvisoryDb,
    exploitation: &mut Exploitation,
    package: &Package,
    query: &Query,
    group: Vec<Hit>,
) -> Result<Vulnerability, DbError> {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut record_ids: BTreeSet<String> = BTreeSet::new();
    for hit in &group {
        record_ids.insert(hit.advisory.id.clone());
        ids.insert(hit.advisory.id.clone());
        ids.extend(hit.advisory.aliases.iter().cloned());
    }
    // Related IDs (the CVEs a distro advisory fixes) name the flaw from the distro's side: they
    // are listed and joined with KEV and EPSS, but they do not merge records.
    let mut related: BTreeSet<String> = BTreeSet::new();
    for hit in &group {
        related.extend(hit.advisory.related.iter().cloned());
    }
    let cves: Vec<&String> = ids.iter().filter(|id| is_cve(id)).collect();
    let id = match cves.as_slice() {
        [only] => (*only).clone(),
        _ => record_ids.iter().next().cloned().unwrap_or_default(),
    };
    let mut aliases: Vec<String> = ids.iter().filter(|i| **i != id).cloned().collect();
    for extra in &related {
        if *extra != id && !aliases.contains(extra) {
            aliases.push(extra.clone());
        }
    }

    let scheme = Scheme::for_ecosystem(&query.ecosystem);
    let mut fixed: Vec<String> = Vec::new();
    for hit in &group {
        for version in &hit.fixed {
            if !fixed.contains(version) {
                fixed.push(version.clone());
            }
        }
    }
    if let Some(scheme) = scheme {
        fixed.sort_by(|a, b| scheme.compare(a, b).unwrap_or(Ordering::Equal));
    }
    let states: Vec<FixState> = group.iter().map(|h| h.fix_state).collect();
    let fix_state = if !fixed.is_empty() {
        FixState::Fixed
    } else if states.contains(&FixState::WontFix) {
        FixState::WontFix
    } else if states.contains(&FixState::NotFixed) {
        FixState::NotFixed
    } else {
        FixState::Unknown
    };

    let cvss = best_cvss(&group);
    let rating = group
        .iter()
        .filter_map(|h| {
            h.affected
                .rating
                .as_deref()
                .or(h.advisory.rating.as_deref())
        })
        .map(Severity::from_rating)
        .max()
        .unwrap_or(Severity::Unknown);
    let cvss_severity = cvss
        .as_ref()
        .and_then(|c| cvss::parse(&c.vector).ok())
        .map_or(Severity::Unknown, |c| Severity::from_cvss(c.severity()));
    // Distributions rate a flaw for their build and configuration of the package; their rating is
    // the one that applies to an OS package. Language packages go by the CVSS base score.
    let severity = if package.kind.is_os() && rating != Severity::Unknown {
        rating
    } else if cvss_severity != Severity::Unknown {
        cvss_severity
    } else {
        rating
    };

    let join: Vec<&String> = std::iter::once(&id)
        .chain(aliases.iter())
        .filter(|i| is_cve(i))
        .collect();
    let mut kev: Option<KevFlag> = None;
    let mut epss: Option<EpssFlag> = None;
    for cve in join {
        let (known, scored) = exploitation.of(db, cve)?;
        if let Some(entry) = known
            && kev.as_ref().is_none_or(|k| entry.date_added < k.date_added)
        {
            kev = Some(KevFlag {
                cve: cve.clone(),
                date_added: entry.date_added.clone(),
                due_date: entry.due_date.clone(),
                known_ransomware: entry.known_ransomware,
            });
        }
        if let Some(score) = *scored
            && epss.is_none_or(|e| score.score > e.score)
        {
            epss = Some(EpssFlag {
                score: score.score,
                percentile: score.percentile,
            });
        }
    }

    let first = group.first();
    let summary = first
        .map(|h| h.advisory.summary.clone())
        .unwrap_or_default();
    let url = group.iter().find_map(|h| h.advisory.url.clone());
    let source = package
        .source
        .as_ref()
        .map(|s| s.name.clone())
        .filter(|s| *s != package.name);
    let remediation = remediation(package, source.as_deref(), fix_state, &fixed);
    Ok(Vulnerability {
        id,
        aliases,
        package: PackageRef {
            name: package.name.clone(),
            version: package.version.clone(),
            ecosystem: query.ecosystem.clone(),
            purl: package.purl.clone(),
            layer: package.layer.clone(),
            location: package.location.clone(),
            source,
        },
        fixed_versions: fixed,
        fix_state,
        severity,
        cvss,
        kev,
        epss,
        summary,
        url,
        remediation,
        suppressed: None,
    })
}

/// The most recent CVSS version among the records, and within it the highest score.
fn best_cvss(group: &[Hit]) -> Option<CvssScore> {
    group
        .iter()
        .flat_map(|h| h.advisory.severity.iter())
        .filter(|s| s.kind.starts_with("CVSS_"))
        .filter_map(|s| cvss::parse(&s.score).ok())
        .max_by(|a, b| {
            (a.version, a.base_score)
                .partial_cmp(&(b.version, b.base_score))
                .unwrap_or(Ordering::Equal)
        })
        .map(|c| CvssScore {
            version: c.version.to_string(),
            vector: c.vector,
            score: c.base_score,
        })
}

fn remediation(
    package: &Package,
    source: Option<&str>,
    state: FixState,
    fixed: &[String],
) -> String {
    let name = match source {
        Some(source) => format!("{} (source package {source})", package.name),
        None => package.name.clone(),
    };
    match state {
        FixState::Fixed => {
            let target = fixed.first().map(String::as_str).unwrap_or_default();
            if package.kind.is_os() {
                format!(
                    "upgrade {name} from {} to {target} or later with the distribution's package manager",
                    package.version
                )
            } else {
                format!(
                    "upgrade {name} from {} to {target} or later",
                    package.version
                )
            }
        }
        FixState::NotFixed => format!(
            "no fixed version of {name} is published yet: watch the advisory, and limit exposure of the affected feature meanwhile"
        ),
        FixState::WontFix => format!(
            "the maintainers will not fix {name} in this release: mitigate, remove the package, or move to a newer release"
        ),
        FixState::Unknown => format!(
            "{name} {} is listed as affected without a fixed version: check the advisory",
            package.version
        ),
    }
}

/// "Rebuild on a newer base" when every fixable finding lies in the image's base: the layers
/// before the first layer that added a language (application) package. Single-layer images
/// have no application layers to tell apart and get no hint.
fn rebuild_hint(sbom: &Sbom, vulnerabilities: &[Vulnerability]) -> Option<String> {
    let layers: Vec<&str> = sbom
        .image
        .layers
        .iter()
        .map(|l| l.digest.as_str())
        .collect();
    if layers.len() < 2 {
        return None;
    }
    let index = |digest: &str| layers.iter().position(|l| *l == digest);
    let first_app_layer = sbom
        .packages
        .iter()
        .filter(|p| !p.kind.is_os() && !p.os_owned)
        .filter_map(|p| p.layer.as_deref().and_then(index))
        .min()
        .unwrap_or(layers.len() - 1);
    let fixable: Vec<&Vulnerability> = vulnerabilities
        .iter()
        .filter(|v| v.fix_state == FixState::Fixed && v.suppressed.is_none())
        .collect();
    if fixable.is_empty() || first_app_layer == 0 {
        return None;
    }
    let all_in_base = fixable.iter().all(|v| {
        v.package
            .layer
            .as_deref()
            .and_then(index)
            .is_some_and(|i| i < first_app_layer)
    });
    all_in_base.then(|| {
        format!(
            "all {} fixable findings are in the base image's layers: rebuild on a newer release of the base image",
            fixable.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::Range;

    fn affected(kind: RangeKind, events: Vec<Event>) -> Affected {
        Affected {
            advisory_id: "X".into(),
            ecosystem: "Debian:12".into(),
            package: "openssl".into(),
            ranges: vec![Range { kind, events }],
            ..Affected::default()
        }
    }

    fn intro(v: &str) -> Event {
        Event::Introduced(v.into())
    }
    fn fixed(v: &str) -> Event {
        Event::Fixed(v.into())
    }

    #[test]
    fn osv_range_evaluation() {
        let a = affected(
            RangeKind::Ecosystem,
            vec![intro("0"), fixed("3.0.13-1~deb12u1")],
        );
        let verdict = evaluate(Scheme::Dpkg, "3.0.11-1~deb12u2", &a).unwrap();
        assert_eq!(
            verdict,
            Some((vec!["3.0.13-1~deb12u1".to_string()], FixState::Fixed))
        );
        assert_eq!(
            evaluate(Scheme::Dpkg, "3.0.13-1~deb12u1", &a).unwrap(),
            None
        );
        assert_eq!(evaluate(Scheme::Dpkg, "3.0.14-1", &a).unwrap(), None);

        // Two introduced/fixed pairs in one range (Go's stdlib style), out of order.
        let go = affected(
            RangeKind::Semver,
            vec![
                fixed("1.22.4"),
                intro("1.22.0-0"),
                intro("0"),
                fixed("1.21.11"),
            ],
        );
        assert!(evaluate(Scheme::Go, "v1.21.10", &go).unwrap().is_some());
        assert_eq!(evaluate(Scheme::Go, "v1.21.11", &go).unwrap(), None);
        let (fix, state) = evaluate(Scheme::Go, "1.22.1", &go).unwrap().unwrap();
        assert_eq!((fix, state), (vec!["1.22.4".to_string()], FixState::Fixed));

        let last = affected(
            RangeKind::Ecosystem,
            vec![intro("1.0"), Event::LastAffected("1.5".into())],
        );
        assert_eq!(
            evaluate(Scheme::Dpkg, "1.5", &last).unwrap(),
            Some((vec![], FixState::NotFixed))
        );
        assert_eq!(evaluate(Scheme::Dpkg, "1.6", &last).unwrap(), None);
        assert_eq!(evaluate(Scheme::Dpkg, "0.9", &last).unwrap(), None);

        let git = affected(RangeKind::Git, vec![intro("0"), fixed("abc")]);
        assert_eq!(evaluate(Scheme::Dpkg, "1.0", &git).unwrap(), None);

        let mut listed = affected(RangeKind::Git, vec![]);
        listed.versions = vec!["2.0".into()];
        assert_eq!(
            evaluate(Scheme::Dpkg, "2.0", &listed).unwrap(),
            Some((vec![], FixState::Unknown))
        );
        let mut wont = affected(RangeKind::Ecosystem, vec![intro("0")]);
        wont.wont_fix = true;
        assert_eq!(
            evaluate(Scheme::Dpkg, "1.0", &wont).unwrap(),
            Some((vec![], FixState::WontFix))
        );
    }

    #[test]
    fn rebuild_hint_when_every_fix_is_in_the_base() {
        use palisade_core::{ImageInfo, Layer, PackageKind};
        let layer = |d: &str| Layer {
            digest: d.to_string(),
            diff_id: None,
            media_type: String::new(),
            size: 0,
        };
        let package = |name: &str, kind: PackageKind, layer: &str| Package {
            name: name.into(),
            version: "1".into(),
            kind,
            purl: format!("pkg:x/{name}@1"),
            source: None,
            arch: None,
            licenses: Vec::new(),
            location: "/x".into(),
            layer: Some(layer.into()),
            os_owned: false,
            files: Vec::new(),
            metadata: Default::default(),
        };
        let sbom = Sbom {
            image: ImageInfo {
                layers: vec![
                    layer("sha256:base"),
                    layer("sha256:more-base"),
                    layer("sha256:app"),
                ],
                ..ImageInfo::default()
            },
            distro: None,
            packages: vec![
                package("libssl3", PackageKind::Deb, "sha256:base"),
                package("curl", PackageKind::Deb, "sha256:more-base"),
                package("flask", PackageKind::Python, "sha256:app"),
            ],
            notes: Vec::new(),
        };
        let finding = |name: &str, layer: &str, state: FixState| Vulnerability {
            id: format!("CVE-{name}"),
            aliases: Vec::new(),
            package: PackageRef {
                name: name.into(),
                version: "1".into(),
                ecosystem: "Debian:12".into(),
                purl: String::new(),
                layer: Some(layer.into()),
                location: "/x".into(),
                source: None,
            },
            fixed_versions: Vec::new(),
            fix_state: state,
            severity: Severity::High,
            cvss: None,
            kev: None,
            epss: None,
            summary: String::new(),
            url: None,
            remediation: String::new(),
            suppressed: None,
        };
        let base_only = [
            finding("libssl3", "sha256:base", FixState::Fixed),
            finding("curl", "sha256:more-base", FixState::Fixed),
            finding("flask", "sha256:app", FixState::NotFixed),
        ];
        let hint = rebuild_hint(&sbom, &base_only).expect("every fix is in the base");
        assert!(hint.contains("all 2 fixable findings"), "{hint}");
        let app_fix = [
            finding("libssl3", "sha256:base", FixState::Fixed),
            finding("flask", "sha256:app", FixState::Fixed),
        ];
        assert_eq!(rebuild_hint(&sbom, &app_fix), None);
        assert_eq!(rebuild_hint(&sbom, &[]), None);
    }

    #[test]
    fn ratings() {
        assert_eq!(Severity::from_rating("Important"), Severity::High);
        assert_eq!(Severity::from_rating("MODERATE"), Severity::Medium);
        assert_eq!(Severity::from_rating("unimportant"), Severity::Low);
        assert_eq!(Severity::from_rating("whatever"), Severity::Unknown);
    }
}
