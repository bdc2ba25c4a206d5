//! Findings (a check that holds for a resource), their evidence and suppression, and the two kinds of
//! "could not assess" record a report carries: kinds the credentials could not list, and inputs that
//! could not be parsed.

use std::sync::Arc;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::check::Check;
use crate::fnv::Fnv1a;
use crate::resource::ResourceRef;
use crate::severity::Severity;

/// Where in the object (and in the user's file) a finding was seen.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Evidence {
    /// Field path inside the object, e.g. `spec.template.spec.containers[0].securityContext`.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The Helm template the object was rendered from (`# Source:` in `helm template` output), so
    /// the fix goes into the chart rather than the rendered file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Arc<str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionSource {
    /// `palisade.dev/ignore` on the resource.
    Annotation,
    /// An exemption or disabled check in the configuration file.
    Config,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub reason: String,
    pub source: SuppressionSource,
}

/// A check that holds for a resource. Findings are never dropped by suppression: they are marked,
/// and every report shows them as suppressed with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub check: Arc<Check>,
    /// The effective severity (the configuration may override the catalogue's).
    pub severity: Severity,
    pub resource: ResourceRef,
    /// The container the finding concerns, when it concerns one.
    pub container: Option<String>,
    /// What was seen, specific to this resource (the check's title is the general statement).
    pub message: String,
    pub evidence: Evidence,
    pub suppressed: Option<Suppression>,
    /// The cluster the resource belongs to, when it came from a live cluster or snapshot.
    pub cluster: Option<Arc<str>>,
}

impl Finding {
    pub fn is_suppressed(&self) -> bool {
        self.suppressed.is_some()
    }

    /// A stable identity for tracking the same finding across scans: it changes only when the
    /// check, the resource, the container or the field path changes.
    pub fn fingerprint(&self) -> String {
        let mut hash = Fnv1a::new();
        for part in [
            self.cluster.as_deref().unwrap_or(""),
            &self.check.id,
            &self.resource.api_version,
            &self.resource.kind,
            self.resource.namespace.as_deref().unwrap_or(""),
            &self.resource.name,
            self.container.as_deref().unwrap_or(""),
            &self.evidence.path,
        ] {
            hash.write(part.as_bytes());
            hash.write(&[0xff]);
        }
        format!("{:016x}", hash.finish())
    }

    /// The order reports list findings in: most severe first, then by resource and check.
    pub fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.check.id.cmp(&b.check.id))
            .then_with(|| a.container.cmp(&b.container))
            .then_with(|| a.evidence.path.cmp(&b.evidence.path))
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Finding", 14)?;
        s.serialize_field("id", &self.fingerprint())?;
        s.serialize_field("check_id", &self.check.id)?;
        s.serialize_field("title", &self.check.title)?;
        s.serialize_field("severity", &self.severity)?;
        s.serialize_field("category", &self.check.category)?;
        if let Some(cluster) = &self.cluster {
            s.serialize_field("cluster", cluster)?;
        }
        s.serialize_field("resource", &self.resource)?;
        s.serialize_field("container", &self.container)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("evidence", &self.evidence)?;
        s.serialize_field("remediation", &self.check.remediation)?;
        s.serialize_field("frameworks", &self.check.frameworks)?;
        s.serialize_field("suppressed", &self.suppressed.is_some())?;
        s.serialize_field("suppression", &self.suppressed)?;
        s.end()
    }
}

/// A kind that was not assessed, and why (for example: the credentials may not list it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NotAssessed {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    /// The namespace the attempt was limited to, when it was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub namespace: Option<String>,
    pub reason: String,
}

/// An input that could not be read or parsed: the file, the position and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceError {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "{}:{}:{}: {}", self.file, line, column, self.message)
            }
            (Some(line), None) => write!(f, "{}:{}: {}", self.file, line, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}
