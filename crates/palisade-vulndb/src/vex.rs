//! VEX (Vulnerability Exploitability eXchange): statements by an image's or a package's supplier
//! that a vulnerability does not affect it, read from OpenVEX v0.2.0 (and the older v0.0.x shape)
//! or from a CycloneDX 1.4–1.6 BOM's `vulnerabilities[].analysis`, and applied to an
//! [`ImageScan`] by marking the findings they cover as suppressed (docs/vex-and-ignore.md).
//!
//! Matching follows OpenVEX as Trivy and go-vex apply it: a statement covers a finding when one of
//! its vulnerability names is one of the finding's IDs and one of its products is the package (or
//! the image, or the image with the package as a subcomponent); the latest statement about a
//! vulnerability and product wins, so an `affected` issued after a `not_affected` takes the
//! suppression back.

use std::borrow::Cow;

use palisade_core::purl_unescape;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::db::time::parse_rfc3339;
use crate::matching::{Suppressed, Vulnerability};
use crate::scan::{ImageScan, ScannedImage};

/// What [`Suppressed::by`] says for VEX suppressions.
pub const SUPPRESSED_BY: &str = "vex";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VexError {
    #[error("{file}: not valid JSON: {message}")]
    Syntax { file: String, message: String },
    #[error(
        "{file}: neither an OpenVEX document (`@context` https://openvex.dev/ns/…) nor a CycloneDX BOM (`bomFormat: CycloneDX`)"
    )]
    UnknownFormat { file: String },
    #[error("{file}: {path}: {message}")]
    Invalid {
        file: String,
        /// JSON path of the offending value, e.g. `statements[3].status`.
        path: String,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexFormat {
    OpenVex,
    CycloneDx,
}

/// One VEX document, reduced to its statements.
#[derive(Debug, Clone, PartialEq)]
pub struct VexDocument {
    /// The name given to [`read`] (usually the file name); reasons quote it.
    pub name: String,
    pub format: VexFormat,
    pub statements: Vec<Statement>,
}

/// The impact status, in OpenVEX's vocabulary (CycloneDX states are mapped onto it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl Status {
    /// Whether a finding covered by the latest statement with this status stops counting.
    /// `fixed` suppresses as `not_affected` does: the supplier states the version scanned carries
    /// the fix (a backport the advisory's ranges do not know about), as Trivy reads it.
    pub fn suppresses(self) -> bool {
        matches!(self, Status::NotAffected | Status::Fixed)
    }
}

/// One statement: a vulnerability, the products it is about and what it says about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The vulnerability's name (`CVE-2024-1234`, `GHSA-…`).
    pub vulnerability: String,
    /// Other names of the same vulnerability given by the document.
    pub aliases: Vec<String>,
    pub products: Vec<Product>,
    pub status: Status,
    /// The status as the document wrote it (`false_positive`, `resolved`...), quoted in reasons.
    pub state: String,
    pub justification: Option<String>,
    /// OpenVEX `impact_statement` (or `action_statement` for other statuses); CycloneDX
    /// `analysis.detail`.
    pub detail: Option<String>,
    /// The statement's own timestamp or, failing that, the document's (RFC 3339, as written).
    pub timestamp: Option<String>,
    /// `timestamp` as seconds and nanoseconds since the Unix epoch, for ordering.
    instant: Option<(i64, u32)>,
}

/// A product a statement is about: a purl (or another identifier, which never matches a
/// package by itself) and, optionally, the components inside it the statement is really about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The product's identifier: its purl when it has one, else its `@id` / bom-ref as written.
    pub id: String,
    /// Subcomponent identifiers (purls).
    pub subcomponents: Vec<String>,
}

/// Reads one VEX document, detecting its format from its content.
pub fn read(name: &str, bytes: &[u8]) -> Result<VexDocument, VexError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|error| VexError::Syntax {
        file: name.to_string(),
        message: error.to_string(),
    })?;
    let reader = Reader { file: name };
    let Some(object) = root.as_object() else {
        return Err(VexError::UnknownFormat {
            file: name.to_string(),
        });
    };
    let context = object.get("@context").and_then(Value::as_str);
    if context.is_some_and(|c| c.starts_with("https://openvex.dev/ns")) {
        return reader.openvex(object);
    }
    if object.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return reader.cyclonedx(object);
    }
    // An in-toto attestation (what `cosign attest --type openvex` wraps) carries the document
    // as its predicate.
    if let Some(predicate) = object.get("predicate").and_then(Value::as_object)
        && predicate
            .get("@context")
            .and_then(Value::as_str)
            .is_some_and(|c| c.starts_with("https://openvex.dev/ns"))
    {
        return reader.openvex(predicate);
    }
    Err(VexError::UnknownFormat {
        file: name.to_string(),
    })
}

/// Marks every finding of `scan` that the latest applicable statement (over all `documents`)
/// says is `not_affected` or fixed. Findings already suppressed keep their first suppression.
pub fn apply(documents: &[VexDocument], scan: &mut ImageScan) {
    let image = ImageIdentity::of(&scan.image);
    for vulnerability in &mut scan.vulnerabilities {
        if vulnerability.suppressed.is_some() {
            continue;
        }
        let latest = documents
            .iter()
            .enumerate()
            .flat_map(|(d, document)| {
                document
                    .statements
                    .iter()
                    .enumerate()
                    .map(move |(s, statement)| (d, s, document, statement))
            })
            .filter(|(_, _, _, statement)| statement.applies_to(vulnerability, &image))
            // Later by timestamp, then by position: `max_by_key` keeps the last of equals.
            .max_by_key(|(d, s, _, statement)| (statement.instant, *d, *s));
        if let Some((_, _, document, statement)) = latest
            && statement.status.suppresses()
        {
            vulnerability.suppressed = Some(Suppressed {
                by: SUPPRESSED_BY.to_string(),
                reason: statement.reason(&document.name),
            });
        }
    }
    scan.refresh_summary();
}

impl Statement {
    fn applies_to(&self, vulnerability: &Vulnerability, image: &ImageIdentity) -> bool {
        let named = std::iter::once(&self.vulnerability)
            .chain(&self.aliases)
            .any(|name| vulnerability.ids().any(|id| id.eq_ignore_ascii_case(name)));
        named
            && self
                .products
                .iter()
                .any(|product| product.covers(&vulnerability.package.purl, image))
    }

    /// `app.openvex.json: not_affected (vulnerable_code_not_in_execute_path): we never parse…`
    fn reason(&self, document: &str) -> String {
        let mut reason = format!("{document}: {}", self.state);
        if let Some(justification) = &self.justification {
            reason.push_str(&format!(" ({justification})"));
        }
        if let Some(detail) = &self.detail {
            reason.push_str(&format!(": {detail}"));
        }
        reason
    }
}

impl Product {
    fn covers(&self, package_purl: &str, image: &ImageIdentity) -> bool {
        let product = Purl::parse(&self.id);
        let is_image = product.as_ref().is_some_and(|p| p.kind == "oci");
        let sub_match = || {
            self.subcomponents
                .iter()
                .any(|sub| purl_covers(sub, package_purl))
        };
        if is_image {
            let this_image = product.as_ref().is_some_and(|p| image.matches(p));
            // An image named without subcomponents is a statement about everything in it.
            return this_image && (self.subcomponents.is_empty() || sub_match());
        }
        // The product may be the package itself; otherwise it is some component (a binary, an
        // application) the scan keeps no dependency tree for, so only the subcomponent can be
        // checked.
        (product.is_some() && purl_covers(&self.id, package_purl))
            || (!self.subcomponents.is_empty() && sub_match())
    }
}

/// Whether the statement's purl `general` names the package `specific` (go-vex's
/// `PurlMatches`): same type, namespace and name; the version only when `general` gives one;
/// every qualifier `general` gives present in `specific` with the same value; subpaths ignored.
fn purl_covers(general: &str, specific: &str) -> bool {
    let (Some(general), Some(specific)) = (Purl::parse(general), Purl::parse(specific)) else {
        return false;
    };
    general.kind == specific.kind
        && general.namespace == specific.namespace
        && general.name == specific.name
        && general
            .version
            .as_ref()
            .is_none_or(|v| specific.version.as_ref() == Some(v))
        && general
            .qualifiers
            .iter()
            .all(|(key, value)| specific.qualifier(key) == Some(value.as_str()))
}

/// The parts of a purl, percent-decoded; qualifiers lower-cased by key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Purl {
    kind: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
}

impl Purl {
    fn parse(text: &str) -> Option<Purl> {
        let rest = text.trim().strip_prefix("pkg:")?.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (kind, path) = rest.split_once('/')?;
        if kind.is_empty() {
            return None;
        }
        // An `@` inside a name is percent-encoded (`%40types`), so the last one starts the
        // version.
        let (path, version) = match path.rsplit_once('@') {
            Some((path, version)) => (path, Some(purl_unescape(version))),
            None => (path, None),
        };
        let path = path.trim_matches('/');
        let (namespace, name) = match path.rsplit_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, path),
        };
        if name.is_empty() {
            return None;
        }
        let kind = kind.to_ascii_lowercase();
        // Types whose names are case-insensitive by the purl specification.
        let fold = matches!(
            kind.as_str(),
            "deb" | "apk" | "pypi" | "oci" | "github" | "bitbucket"
        );
        let normal = |part: &str| {
            let decoded = purl_unescape(part);
            if fold {
                decoded.to_ascii_lowercase()
            } else {
                decoded
            }
        };
        let qualifiers = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| (key.to_ascii_lowercase(), purl_unescape(value)))
            .collect();
        Some(Purl {
            namespace: namespace.map(|namespace| {
                namespace
                    .split('/')
                    .map(normal)
                    .collect::<Vec<_>>()
                    .join("/")
            }),
            name: normal(name),
            kind,
            version: version.filter(|v| !v.is_empty()),
            qualifiers,
        })
    }

    fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// What a `pkg:oci` product can be compared with: the scanned image's name, digests and the
/// qualifiers its purl would carry (`repository_url`, `tag`, `arch`).
struct ImageIdentity {
    name: String,
    digests: Vec<String>,
    repository_url: Option<String>,
    tag: Option<String>,
    arch: Option<String>,
}

impl ImageIdentity {
    fn of(image: &ScannedImage) -> ImageIdentity {
        let reference = image.reference.trim();
        let (without_digest, reference_digest) = match reference.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_string())),
            None => (reference, None),
        };
        let (repository, tag) = match without_digest.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag.to_string())),
            _ => (without_digest, None),
        };
        let local = ["oci:", "docker-archive:", "dir:", "sbom:"]
            .iter()
            .any(|prefix| reference.starts_with(prefix));
        let repository_url =
            (!local && !repository.is_empty()).then(|| normal_repository(repository));
        let name = repository_url
            .as_deref()
            .unwrap_or(repository)
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let digests = [
            image.digest.clone(),
            image.config_digest.clone(),
            reference_digest,
        ]
        .into_iter()
        .flatten()
        .map(|d| d.to_ascii_lowercase())
        .collect();
        ImageIdentity {
            name,
            digests,
            repository_url,
            tag: if local { None } else { tag },
            arch: image
                .platform
                .as_deref()
                .and_then(|platform| platform.split('/').nth(1))
                .map(str::to_string),
        }
    }

    fn matches(&self, product: &Purl) -> bool {
        if product.name != self.name {
            return false;
        }
        if let Some(version) = &product.version
            && !self.digests.contains(&version.to_ascii_lowercase())
        {
            return false;
        }
        product
            .qualifiers
            .iter()
            .all(|(key, value)| match key.as_str() {
                "repository_url" => {
                    self.repository_url.as_deref() == Some(&normal_repository(value))
                }
                "tag" => self.tag.as_deref() == Some(value.as_str()),
                "arch" => self.arch.as_deref() == Some(value.as_str()),
                // A qualifier this scan cannot check must not widen the statement.
                _ => false,
            })
    }
}

/// Docker's normalisation of a repository: scheme and trailing `/` dropped, Docker Hub spelled
/// `docker.io`, its official images under `library/`, lower case.
fn normal_repository(repository: &str) -> String {
    let repository = repository
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let repository = match repository.split_once('/') {
        Some(("index.docker.io" | "registry-1.docker.io", path)) => {
            format!("docker.io/{path}")
        }
        Some((host, _)) if host.contains(['.', ':']) || host == "localhost" => repository,
        Some(_) => format!("docker.io/{repository}"),
        None => format!("docker.io/library/{repository}"),
    };
    match repository.strip_prefix("docker.io/") {
        Some(path) if !path.contains('/') => format!("docker.io/library/{path}"),
        _ => repository,
    }
}

const OPENVEX_STATUSES: [(&str, Status); 4] = [
    ("not_affected", Status::NotAffected),
    ("affected", Status::Affected),
    ("fixed", Status::Fixed),
    ("under_investigation", Status::UnderInvestigation),
];

const OPENVEX_JUSTIFICATIONS: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

const CYCLONEDX_STATES: [(&str, Status); 6] = [
    ("not_affected", Status::NotAffected),
    ("false_positive", Status::NotAffected),
    ("resolved", Status::Fixed),
    ("resolved_with_pedigree", Status::Fixed),
    ("exploitable", Status::Affected),
    ("in_triage", Status::UnderInvestigation),
];

const CYCLONEDX_JUSTIFICATIONS: [&str; 9] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];

/// Reads the JSON of one file, naming it and the JSON path in every error.
struct Reader<'a> {
    file: &'a str,
}

impl Reader<'_> {
    fn error(&self, path: &str, message: impl Into<String>) -> VexError {
        VexError::Invalid {
            file: self.file.to_string(),
            path: path.to_string(),
            message: message.into(),
        }
    }

    /// An optional string member; present but not a string is an error.
    fn string<'v>(
        &self,
        object: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<Option<&'v str>, VexError> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(self.error(&format!("{path}.{key}"), "expected a string")),
        }
    }

    /// An optional array member (absent or null reads as empty).
    fn array<'v>(
        &self,
        object: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<&'v [Value], VexError> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.error(&format!("{path}.{key}"), "expected an array")),
        }
    }

    fn timestamp(&self, text: Option<&str>, path: &str) -> Result<Option<(i64, u32)>, VexError> {
        text.map(|text| {
            parse_rfc3339(text)
                .ok_or_else(|| self.error(path, format!("`{text}` is not an RFC 3339 timestamp")))
        })
        .transpose()
    }

    fn openvex(&self, document: &Map<String, Value>) -> Result<VexDocument, VexError> {
        let document_timestamp = self.string(document, "timestamp", "")?;
        let document_instant = self.timestamp(document_timestamp, "timestamp")?;
        let statements = match document.get("statements") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(self.error("statements", "expected an array")),
            None => return Err(self.error("statements", "missing")),
        };
        let mut out = Vec::with_capacity(statements.len());
        for (index, statement) in statements.iter().enumerate() {
            let path = format!("statements[{index}]");
            let Some(statement) = statement.as_object() else {
                return Err(self.error(&path, "expected an object"));
            };
            out.push(self.openvex_statement(
                statement,
                &path,
                document_timestamp,
                document_instant,
            )?);
        }
        Ok(VexDocument {
            name: self.file.to_string(),
            format: VexFormat::OpenVex,
            statements: out,
        })
    }

    fn openvex_statement(
        &self,
        statement: &Map<String, Value>,
        path: &str,
        document_timestamp: Option<&str>,
        document_instant: Option<(i64, u32)>,
    ) -> Result<Statement, VexError> {
        let vulnerability_path = format!("{path}.vulnerability");
        let (vulnerability, aliases) = match statement.get("vulnerability") {
            // v0.0.x: the name as a plain string.
            Some(Value::String(name)) => (name.trim().to_string(), Vec::new()),
            Some(Value::Object(object)) => {
                let name = self
                    .string(object, "name", &vulnerability_path)?
                    .or(self.string(object, "@id", &vulnerability_path)?)
                    .unwrap_or_default();
                let mut aliases = Vec::new();
                for (index, alias) in self
                    .array(object, "aliases", &vulnerability_path)?
                    .iter()
                    .enumerate()
                {
                    match alias.as_str() {
                        Some(alias) if !alias.trim().is_empty() => {
                            aliases.push(alias.trim().to_string());
                        }
                        _ => {
                            return Err(self.error(
                                &format!("{vulnerability_path}.aliases[{index}]"),
                                "expected a vulnerability name",
                            ));
                        }
                    }
                }
                (name.trim().to_string(), aliases)
            }
            Some(_) => {
                return Err(self.error(&vulnerability_path, "expected an object or a string"));
            }
            None => return Err(self.error(&vulnerability_path, "missing")),
        };
        if vulnerability.is_empty() {
            return Err(self.error(
                &format!("{vulnerability_path}.name"),
                "missing vulnerability name",
            ));
        }

        let status_path = format!("{path}.status");
        let state = self
            .string(statement, "status", path)?
            .ok_or_else(|| self.error(&status_path, "missing"))?;
        let status = OPENVEX_STATUSES
            .iter()
            .find(|(name, _)| *name == state)
            .map(|(_, status)| *status)
            .ok_or_else(|| {
                self.error(
                    &status_path,
                    format!(
                        "unknown status `{state}` (expected not_affected, affected, fixed or under_investigation)"
                    ),
                )
            })?;

        let justification = self.string(statement, "justification", path)?;
        if let Some(justification) = justification
            && !OPENVEX_JUSTIFICATIONS.contains(&justification)
        {
            return Err(self.error(
                &format!("{path}.justification"),
                format!(
                    "unknown justification `{justification}` (expected one of {})",
                    OPENVEX_JUSTIFICATIONS.join(", ")
                ),
            ));
        }
        let impact = self.string(statement, "impact_statement", path)?;
        let action = self.string(statement, "action_statement", path)?;
        // The specification requires a not_affected statement to say why; a suppression without
        // a reason would be unreviewable.
        if status == Status::NotAffected
            && justification.is_none()
            && impact.is_none_or(|text| text.trim().is_empty())
        {
            return Err(self.error(
                path,
                "a not_affected statement needs a `justification` or an `impact_statement`",
            ));
        }
        let detail = match status {
            Status::NotAffected => impact,
            _ => action.or(impact),
        }
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_string);

        let own_timestamp = self.string(statement, "timestamp", path)?;
        let instant = match own_timestamp {
            Some(text) => self.timestamp(Some(text), &format!("{path}.timestamp"))?,
            None => document_instant,
        };

        // v0.0.x put subcomponents next to the products, applying to all of them.
        let shared_subcomponents = self.identifiers(statement, "subcomponents", path)?;
        let mut products = Vec::new();
        for (index, product) in self.array(statement, "products", path)?.iter().enumerate() {
            let product_path = format!("{path}.products[{index}]");
            let mut product = match product {
                Value::String(id) => Product {
                    id: id.trim().to_string(),
                    subcomponents: Vec::new(),
                },
                Value::Object(object) => Product {
                    id: self.component_id(object, &product_path)?,
                    subcomponents: self.identifiers(object, "subcomponents", &product_path)?,
                },
                _ => return Err(self.error(&product_path, "expected an object or a string")),
            };
            product
                .subcomponents
                .extend(shared_subcomponents.iter().cloned());
            products.push(product);
        }
        if products.is_empty() {
            return Err(self.error(
                &format!("{path}.products"),
                "a statement needs at least one product",
            ));
        }

        Ok(Statement {
            vulnerability,
            aliases,
            products,
            status,
            state: state.to_string(),
            justification: justification.map(str::to_string),
            detail,
            timestamp: own_timestamp.or(document_timestamp).map(str::to_string),
            instant,
        })
    }

    /// A component's identifier: its `identifiers.purl` when given, else its `@id`.
    fn component_id(&self, object: &Map<String, Value>, path: &str) -> Result<String, VexError> {
        let purl = match object.get("identifiers") {
            None | Some(Value::Null) => None,
            Some(Value::Object(identifiers)) => {
                self.string(identifiers, "purl", &format!("{path}.identifiers"))?
            }
            Some(_) => return Err(self.error(&format!("{path}.identifiers"), "expected an object")),
        };
        let id = self.string(object, "@id", path)?;
        purl.or(id)
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| self.error(path, "a product needs an `@id` or `identifiers.purl`"))
    }

    /// A list of components, each a string or an object with an identifier.
    fn identifiers(
        &self,
        object: &Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<Vec<String>, VexError> {
        let mut out = Vec::new();
        for (index, item) in self.array(object, key, path)?.iter().enumerate() {
            let item_path = format!("{path}.{key}[{index}]");
            out.push(match item {
                Value::String(id) => id.trim().to_string(),
                Value::Object(component) => self.component_id(component, &item_path)?,
                _ => return Err(self.error(&item_path, "expected an object or a string")),
            });
        }
        Ok(out)
    }

    fn cyclonedx(&self, bom: &Map<String, Value>) -> Result<VexDocument, VexError> {
        let metadata = match bom.get("metadata") {
            None | Some(Value::Null) => None,
            Some(Value::Object(metadata)) => Some(metadata),
            Some(_) => return Err(self.error("metadata", "expected an object")),
        };
        let document_timestamp = match metadata {
            Some(metadata) => self.string(metadata, "timestamp", "metadata")?,
            None => None,
        };
        let document_instant = self.timestamp(document_timestamp, "metadata.timestamp")?;

        // bom-ref → purl over every component of the document, however deeply nested.
        let mut purls: Vec<(&str, &str)> = Vec::new();
        let mut pending: Vec<&Value> = Vec::new();
        if let Some(component) = metadata.and_then(|m| m.get("component")) {
            pending.push(component);
        }
        if let Some(Value::Array(components)) = bom.get("components") {
            pending.extend(components);
        }
        while let Some(component) = pending.pop() {
            let Some(component) = component.as_object() else {
                continue;
            };
            if let (Some(Value::String(bom_ref)), Some(Value::String(purl))) =
                (component.get("bom-ref"), component.get("purl"))
            {
                purls.push((bom_ref.as_str(), purl.as_str()));
            }
            if let Some(Value::Array(children)) = component.get("components") {
                pending.extend(children);
            }
        }
        let resolve = |reference: &str| -> String {
            let reference = reference.trim();
            // A BOM-Link (`urn:cdx:<serial>/<version>#<bom-ref>`) points into another BOM, usually
            // the SBOM the VEX was written against; its fragment is the bom-ref there.
            let local = match reference.strip_prefix("urn:cdx:") {
                Some(link) => match link.split_once('#') {
                    Some((_, fragment)) => Cow::Owned(purl_unescape(fragment)),
                    None => Cow::Borrowed(reference),
                },
                None => Cow::Borrowed(reference),
            };
            purls
                .iter()
                .find(|(bom_ref, _)| *bom_ref == local.as_ref())
                .map_or_else(|| local.into_owned(), |(_, purl)| purl.to_string())
        };

        let mut statements = Vec::new();
        for (index, vulnerability) in self.array(bom, "vulnerabilities", "")?.iter().enumerate() {
            let path = format!("vulnerabilities[{index}]");
            let Some(vulnerability) = vulnerability.as_object() else {
                return Err(self.error(&path, "expected an object"));
            };
            // A vulnerability without an analysis state is a report (VDR), not a VEX statement.
            let analysis = match vulnerability.get("analysis") {
                None | Some(Value::Null) => continue,
                Some(Value::Object(analysis)) => analysis,
                Some(_) => {
                    return Err(self.error(&format!("{path}.analysis"), "expected an object"));
                }
            };
            let analysis_path = format!("{path}.analysis");
            let Some(state) = self.string(analysis, "state", &analysis_path)? else {
                continue;
            };
            let status = CYCLONEDX_STATES
                .iter()
                .find(|(name, _)| *name == state)
                .map(|(_, status)| *status)
                .ok_or_else(|| {
                    self.error(
                        &format!("{analysis_path}.state"),
                        format!(
                            "unknown state `{state}` (expected one of {})",
                            CYCLONEDX_STATES.map(|(name, _)| name).join(", ")
                        ),
                    )
                })?;
            let justification = self.string(analysis, "justification", &analysis_path)?;
            if let Some(justification) = justification
                && !CYCLONEDX_JUSTIFICATIONS.contains(&justification)
            {
                return Err(self.error(
                    &format!("{analysis_path}.justification"),
                    format!(
                        "unknown justification `{justification}` (expected one of {})",
                        CYCLONEDX_JUSTIFICATIONS.join(", ")
                    ),
                ));
            }
            let name = self
                .string(vulnerability, "id", &path)?
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| self.error(&format!("{path}.id"), "missing vulnerability id"))?;
            let mut aliases = Vec::new();
            for (r, reference) in self
                .array(vulnerability, "references", &path)?
                .iter()
                .enumerate()
            {
                let reference_path = format!("{path}.references[{r}]");
                let Some(reference) = reference.as_object() else {
                    return Err(self.error(&reference_path, "expected an object"));
                };
                if let Some(id) = self.string(reference, "id", &reference_path)? {
                    aliases.push(id.trim().to_string());
                }
            }
            let mut products = Vec::new();
            for (a, affect) in self
                .array(vulnerability, "affects", &path)?
                .iter()
                .enumerate()
            {
                let affect_path = format!("{path}.affects[{a}]");
                let Some(affect) = affect.as_object() else {
                    return Err(self.error(&affect_path, "expected an object"));
                };
                let reference = self
                    .string(affect, "ref", &affect_path)?
                    .ok_or_else(|| self.error(&format!("{affect_path}.ref"), "missing"))?;
                products.push(Product {
                    id: resolve(reference),
                    subcomponents: Vec::new(),
                });
            }
            if products.is_empty() {
                return Err(self.error(
                    &format!("{path}.affects"),
                    "an analysed vulnerability needs at least one `affects` entry",
                ));
            }
            // The analysis's own date first: it is when this statement was made.
            let mut timestamp = None;
            for (object, key, object_path) in [
                (analysis, "lastUpdated", analysis_path.as_str()),
                (analysis, "firstIssued", analysis_path.as_str()),
                (vulnerability, "updated", path.as_str()),
                (vulnerability, "published", path.as_str()),
            ] {
                if let Some(text) = self.string(object, key, object_path)? {
                    let instant = self.timestamp(Some(text), &format!("{object_path}.{key}"))?;
                    timestamp = Some((text, instant));
                    break;
                }
            }
            let (timestamp, instant) = match timestamp {
                Some((text, instant)) => (Some(text), instant),
                None => (document_timestamp, document_instant),
            };
            let detail = self
                .string(analysis, "detail", &analysis_path)?
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_string);
            statements.push(Statement {
                vulnerability: name.to_string(),
                aliases,
                products,
                status,
                state: state.to_string(),
                justification: justification.map(str::to_string),
                detail,
                timestamp: timestamp.map(str::to_string),
                instant,
            });
        }
        Ok(VexDocument {
            name: self.file.to_string(),
            format: VexFormat::CycloneDx,
            statements,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_order_across_offsets() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(
            parse_rfc3339("2023-01-16T20:41:55.708329108-06:00"),
            parse_rfc3339("2023-01-17T02:41:55.708329108Z")
        );
        assert!(parse_rfc3339("2024-02-29T10:00:00+02:00") < parse_rfc3339("2024-02-29T09:00:00Z"));
        for bad in [
            "",
            "2023-02-29T00:00:00Z",
            "2023-01-01",
            "2023-01-01T00:00:00",
            "2023-01-01T00:00:00.Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T00:00:00+0100",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn purl_generality() {
        let package =
            "pkg:deb/debian/libxml2@2.9.14%2Bdfsg-1.3~deb12u1?arch=amd64&distro=debian-12";
        assert!(purl_covers("pkg:deb/debian/libxml2", package));
        assert!(purl_covers(
            "pkg:deb/debian/libxml2@2.9.14+dfsg-1.3~deb12u1",
            package
        ));
        assert!(purl_covers("pkg:deb/debian/libxml2?arch=amd64", package));
        assert!(!purl_covers("pkg:deb/debian/libxml2?arch=arm64", package));
        assert!(!purl_covers(
            "pkg:deb/debian/libxml2@2.9.14+dfsg-1.3",
            package
        ));
        assert!(!purl_covers("pkg:deb/debian/libxml2-utils", package));
        assert!(!purl_covers("pkg:deb/ubuntu/libxml2", package));
        // A versioned statement says nothing about a package whose version is unknown.
        assert!(!purl_covers("pkg:npm/lodash@4.17.20", "pkg:npm/lodash"));
        assert!(purl_covers(
            "pkg:npm/%40types/node",
            "pkg:npm/@types/node@20.1.0"
        ));
        assert!(!purl_covers("not a purl", package));
    }

    #[test]
    fn image_identity_from_reference() {
        let image = ImageIdentity::of(&ScannedImage {
            reference: "nginx:1.27".into(),
            digest: Some("sha256:ABC".into()),
            config_digest: None,
            platform: Some("linux/arm64/v8".into()),
            packages: 0,
        });
        let matches = |purl: &str| Purl::parse(purl).is_some_and(|p| image.matches(&p));
        assert!(matches("pkg:oci/nginx"));
        assert!(matches("pkg:oci/nginx@sha256%3Aabc"));
        assert!(matches(
            "pkg:oci/nginx?repository_url=index.docker.io/library/nginx&tag=1.27&arch=arm64"
        ));
        assert!(matches("pkg:oci/nginx?repository_url=docker.io/nginx"));
        assert!(!matches("pkg:oci/nginx?repository_url=ghcr.io/acme/nginx"));
        assert!(!matches("pkg:oci/nginx@sha256%3Adef"));
        assert!(!matches("pkg:oci/nginx?tag=1.26"));
        assert!(!matches("pkg:oci/nginx?os=windows"));
        assert!(!matches("pkg:oci/httpd"));
    }
}
