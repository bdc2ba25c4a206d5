//! Custom policies in scans: Gatekeeper constraints (Rego, and CEL `K8sNativeValidation` templates)
//! and ValidatingAdmissionPolicy bindings (CEL) assessed over the inventory beside the built-in checks, in audit mode — every violation becomes a finding with the policy's message,
//! whatever the constraint's enforcement action, since a scan blocks nothing.
//!
//! Each constraint is a catalogue entry of its own (ID `<ConstraintKind>/<name>`, or
//! `ValidatingAdmissionPolicyBinding/<name>`), so the
//! configuration and `palisade.dev/ignore` annotations apply to it like to any check. Severity
//! follows the enforcement action the policy's owner chose (deny → high, warn → medium, dryrun →
//! low) unless the configuration overrides it.
//!
//! Referential policies read `data.inventory`, so objects are kept until every one has been read:
//! memory grows with the inventory when `--policies` is given.

use std::collections::BTreeMap;

use palisade_core::{
    Category, Check, FieldPath, Finding, Frameworks, Resource, Severity, SourceError,
};
use palisade_policy::{Action, AdmissionRequest, Inventory};
use palisade_rego::PolicySet;

/// Why a policy set did not load: every problem, each naming its file and line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    #[error("{0}")]
    Rego(#[from] palisade_rego::LoadErrors),
    #[error("{0}")]
    Cel(#[from] palisade_cel::LoadErrors),
}

use crate::emit::{Context, Emitter};

/// Loaded custom policies.
pub struct CustomPolicies {
    rego: PolicySet,
    cel: palisade_cel::PolicySet,
    checks: Vec<Check>,
}

impl CustomPolicies {
    /// Loads every ConstraintTemplate and constraint in `sources` (`(file name, text)`); other
    /// documents are ignored. Errors name the file and line of each problem.
    pub fn load<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<CustomPolicies, PolicyLoadError> {
        let sources: Vec<(&str, &str)> = sources.into_iter().collect();
        let rego = PolicySet::from_sources(sources.iter().copied())?;
        let mut cel = palisade_cel::PolicySet::new();
        for (file, text) in &sources {
            cel.load(file, text)?;
        }
        let mut checks: Vec<Check> = rego
            .constraints()
            .iter()
            .map(|c| constraint_check(&c.policy(), &c.kind, &c.name, c.action))
            .collect();
        checks.extend(cel.constraints().map(|c| {
            constraint_check(
                &format!("{}/{}", c.kind, c.name),
                &c.kind,
                &c.name,
                c.action,
            )
        }));
        for binding in cel.bindings() {
            let action = binding
                .validation_actions
                .iter()
                .copied()
                .min()
                .unwrap_or(Action::Deny);
            checks.push(Check {
                id: binding_id(&binding.name),
                title: format!(
                    "Violates ValidatingAdmissionPolicy `{}`",
                    binding.policy_name
                ),
                severity: severity_of(action),
                category: Category::Policy,
                description: format!(
                    "ValidatingAdmissionPolicy `{}` bound by `{}` (validationActions: {}). The \
                     message of each finding is the policy's own.",
                    binding.policy_name,
                    binding.name,
                    binding
                        .validation_actions
                        .iter()
                        .map(|a| vap_action_name(*a))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                remediation: REMEDIATION.to_string(),
                frameworks: Frameworks::default(),
            });
        }
        checks.sort_by(|a, b| a.id.cmp(&b.id));
        checks.dedup_by(|a, b| a.id == b.id);
        Ok(CustomPolicies { rego, cel, checks })
    }

    /// One catalogue entry per constraint.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// Judges every resource (as the request that would create it) against every constraint,
    /// with the whole inventory visible to referential policies. Evaluation failures are reported
    /// as errors naming the object's file, or the object when it came from a cluster.
    pub fn assess(
        &self,
        resources: &[Resource],
        context: Context<'_>,
        findings: &mut Vec<Finding>,
        errors: &mut Vec<SourceError>,
    ) {
        if self.is_empty() {
            return;
        }
        let objects: Vec<serde_json::Value> = resources
            .iter()
            .map(|r| serde_json::to_value(&r.object).unwrap_or(serde_json::Value::Null))
            .collect();
        let mut inventory = Inventory::new();
        for object in &objects {
            inventory.insert(object.clone());
        }
        let prepared = palisade_rego::PreparedInventory::new(inventory);
        // A broken policy fails the same way on every object: report it once, with how many
        // objects it could not judge and the first of them, instead of once per object.
        let mut failures: BTreeMap<(String, String), (usize, SourceError)> = BTreeMap::new();
        for (resource, object) in resources.iter().zip(objects) {
            let request = AdmissionRequest::for_object(object);
            let evaluation = self.rego.evaluate_prepared(&request, &prepared);
            let cel = self.cel.evaluate(&request, prepared.inventory());
            let mut emitter = Emitter::new(context, resource, findings);
            for violation in evaluation.violations {
                emitter.emit(
                    &violation.policy,
                    None,
                    &FieldPath::root(),
                    violation.message,
                );
            }
            for violation in cel.violations {
                // Bindings are named by the binding alone; constraints already carry their kind.
                let id = if violation.policy.contains('/') {
                    violation.policy
                } else {
                    binding_id(&violation.policy)
                };
                emitter.emit(&id, None, &FieldPath::root(), violation.message);
            }
            for error in evaluation.errors {
                let entry = failures
                    .entry((error.policy.clone(), error.message.clone()))
                    .or_insert_with(|| {
                        let error = SourceError {
                            file: resource
                                .source
                                .file
                                .as_deref()
                                .map(str::to_string)
                                .unwrap_or_else(|| resource.reference.to_string()),
                            line: (resource.object.mark.line > 0)
                                .then_some(resource.object.mark.line),
                            column: None,
                            message: format!(
                                "policy {} failed to evaluate on {}: {}",
                                error.policy, resource.reference, error.message
                            ),
                        };
                        (0, error)
                    });
                entry.0 += 1;
            }
        }
        for ((_, _), (count, mut error)) in failures {
            if count > 1 {
                error
                    .message
                    .push_str(&format!(" (and on {} more objects)", count - 1));
            }
            errors.push(error);
        }
    }
}

const REMEDIATION: &str = "Change the object so the policy no longer reports it, or, where the policy \
                           does not apply, exempt the object with the `palisade.dev/ignore` \
                           annotation or an exemption in palisade.yaml.";

fn constraint_check(id: &str, kind: &str, name: &str, action: Action) -> Check {
    Check {
        id: id.to_string(),
        title: format!("Violates {kind} `{name}`"),
        severity: severity_of(action),
        category: Category::Policy,
        description: format!(
            "Gatekeeper constraint `{name}` of template `{kind}` (enforcementAction: {}). The \
             message of each finding is the policy's own.",
            action_name(action)
        ),
        remediation: REMEDIATION.to_string(),
        frameworks: Frameworks::default(),
    }
}

fn binding_id(name: &str) -> String {
    format!("ValidatingAdmissionPolicyBinding/{name}")
}

fn vap_action_name(action: Action) -> &'static str {
    match action {
        Action::Deny => "Deny",
        Action::Warn => "Warn",
        Action::Audit => "Audit",
    }
}

fn severity_of(action: Action) -> Severity {
    match action {
        Action::Deny => Severity::High,
        Action::Warn => Severity::Medium,
        Action::Audit => Severity::Low,
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Deny => "deny",
        Action::Warn => "warn",
        Action::Audit => "dryrun",
    }
}
