//! How a check reports what it found: [`Emitter::emit`] turns a check ID, a container and a field path
//! into a [`Finding`] with evidence pointing into the user's file.

use palisade_core::{Evidence, FieldPath, Finding, Resource, Suppression, SuppressionSource};

use crate::catalogue::Catalogue;
use crate::config::Config;

/// The annotation that suppresses checks on one resource: `"<ID>[,<ID>]"`, or `"*"` for all.
pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";
/// Why the checks named by [`IGNORE_ANNOTATION`] do not apply; shown on every suppressed finding.
pub const IGNORE_REASON_ANNOTATION: &str = "palisade.dev/ignore-reason";

/// What every check may consult: the catalogue and the user's configuration.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub catalogue: &'a Catalogue,
    pub config: &'a Config,
    /// When set, only these checks report (admission asks for the few its rules name; building
    /// findings nobody reads would cost more than the checks themselves).
    pub only: Option<&'a std::collections::BTreeSet<String>>,
}

impl<'a> Context<'a> {
    /// Every check of the catalogue, under the user's configuration.
    pub fn new(catalogue: &'a Catalogue, config: &'a Config) -> Context<'a> {
        Context {
            catalogue,
            config,
            only: None,
        }
    }
}

/// Collects the findings of the checks run on one resource, applying the user's exceptions: disabled
/// checks emit nothing, severities are overridden, exempted and annotated findings are kept but
/// marked suppressed with the reason.
pub struct Emitter<'a> {
    context: Context<'a>,
    resource: &'a Resource,
    findings: &'a mut Vec<Finding>,
}

impl<'a> Emitter<'a> {
    pub fn new(
        context: Context<'a>,
        resource: &'a Resource,
        findings: &'a mut Vec<Finding>,
    ) -> Emitter<'a> {
        Emitter {
            context,
            resource,
            findings,
        }
    }

    pub fn resource(&self) -> &'a Resource {
        self.resource
    }

    pub fn config(&self) -> &'a Config {
        self.context.config
    }

    /// Reports that check `check_id` holds for this resource. `path` is the field that shows it
    /// (or the nearest existing parent when the problem is a missing field); `container` names the
    /// container when the finding concerns one.
    pub fn emit(
        &mut self,
        check_id: &str,
        container: Option<&str>,
        path: &FieldPath,
        message: impl Into<String>,
    ) {
        self.emit_with_severity(check_id, None, container, path, message)
    }

    /// Like [`Emitter::emit`], for checks whose severity depends on what they found (an internal
    /// load balancer is less exposed than a public one). A severity set in the configuration still
    /// wins: the user's word is final.
    pub fn emit_with_severity(
        &mut self,
        check_id: &str,
        severity: Option<palisade_core::Severity>,
        container: Option<&str>,
        path: &FieldPath,
        message: impl Into<String>,
    ) {
        let Some(check) = self.context.catalogue.get(check_id) else {
            debug_assert!(false, "check {check_id} is not in the catalogue");
            return;
        };
        let config = self.context.config;
        if config.is_disabled(check_id)
            || self
                .context
                .only
                .is_some_and(|only| !only.contains(check_id))
        {
            return;
        }
        let mark = self.resource.object.locate(path);
        let evidence = Evidence {
            path: path.to_string(),
            file: self.resource.source.file.clone(),
            line: (self.resource.source.file.is_some() && mark.is_known()).then_some(mark.line),
            column: (self.resource.source.file.is_some() && mark.is_known()).then_some(mark.column),
            template: self.resource.source.template.clone(),
        };
        self.findings.push(Finding {
            check: check.clone(),
            severity: config
                .severity_of(check_id)
                .or(severity)
                .unwrap_or(check.severity),
            resource: self.resource.reference.clone(),
            container: container.map(str::to_string),
            message: message.into(),
            evidence,
            suppressed: self.suppression(check_id),
            cluster: self.resource.source.cluster.clone(),
        });
    }

    fn suppression(&self, check_id: &str) -> Option<Suppression> {
        if let Some(ignored) = self.resource.annotation(IGNORE_ANNOTATION) {
            let listed = ignored
                .split(',')
                .map(str::trim)
                .any(|id| id == "*" || id.eq_ignore_ascii_case(check_id));
            if listed {
                let reason = self
                    .resource
                    .annotation(IGNORE_REASON_ANNOTATION)
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .unwrap_or("no reason given (palisade.dev/ignore-reason is not set)");
                return Some(Suppression {
                    reason: reason.to_string(),
                    source: SuppressionSource::Annotation,
                });
            }
        }
        self.context
            .config
            .exemption_for(check_id, self.resource)
            .map(|e| Suppression {
                reason: e.reason.clone(),
                source: SuppressionSource::Config,
            })
    }
}
