//! Image gates at admission: the images of a workload are judged on their stored vulnerability
//! scans (`palisade scan image` and `palisade rescan` record them), never scanned inline. Tags
//! resolve to digests through the store; the first gate (in configuration order) whose scope and
//! conditions match decides; an image with no stored scan gets the configured `unscanned` action.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use palisade_admission::EvalError;
use palisade_image::reference::Reference;
use palisade_policy::{Action, AdmissionRequest, Operation, Violation};
use palisade_posture::{ImageGates, UnscannedAction};
use palisade_store::Store;
use palisade_vulndb::gate::Conditions;
use palisade_vulndb::matching::{FixState, Severity};
use palisade_vulndb::scan::ImageScan;
use serde_json::Value;

pub struct ImageGateEvaluator {
    gates: ImageGates,
    conditions: Vec<Conditions>,
    store_path: PathBuf,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    store: Option<Store>,
    /// Parsed scans by image key, with the match time they were parsed at.
    scans: HashMap<String, (i64, Arc<ImageScan>)>,
}

fn severity(name: &str) -> Option<Severity> {
    Some(match name {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        "unknown" => Severity::Unknown,
        _ => return None,
    })
}

/// The pod spec inside an admitted object, by kind.
fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<&'a Value> {
    match kind {
        "Pod" => object.get("spec"),
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => object.pointer("/spec/template/spec"),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// Every distinct image of the pod spec's containers, init and ephemeral containers.
pub fn images(kind: &str, object: &Value) -> Vec<String> {
    let mut images: Vec<String> = Vec::new();
    let Some(spec) = pod_spec(kind, object) else {
        return images;
    };
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(image) = container.get("image").and_then(Value::as_str)
                && !image.is_empty()
                && !images.iter().any(|i| i == image)
            {
                images.push(image.to_string());
            }
        }
    }
    images
}

impl ImageGateEvaluator {
    /// `None` when no gate is configured: then admission does not look at images at all.
    pub fn new(gates: &ImageGates, store_path: PathBuf) -> Option<ImageGateEvaluator> {
        if gates.rules.is_empty() {
            return None;
        }
        let conditions = gates
            .rules
            .iter()
            .map(|rule| Conditions {
                min_severity: rule.when.severity.as_deref().and_then(severity),
                fix_available: rule.when.fix_available,
                kev: rule.when.kev,
                epss_above: rule.when.epss_above,
            })
            .collect();
        Some(ImageGateEvaluator {
            gates: gates.clone(),
            conditions,
            store_path,
            state: Mutex::new(State::default()),
        })
    }

    pub fn violations(&self, request: &AdmissionRequest) -> Result<Vec<Violation>, EvalError> {
        if !matches!(request.operation, Operation::Create | Operation::Update) {
            return Ok(Vec::new());
        }
        let Some(object) = request.object.as_ref() else {
            return Ok(Vec::new());
        };
        let images = images(&request.kind.kind, object);
        if images.is_empty() {
            return Ok(Vec::new());
        }
        let namespace = request.namespace.as_str();
        let mut violations = Vec::new();
        for image in &images {
            let Some(scan) = self.scan_of(image)? else {
                let action = match self.gates.unscanned {
                    UnscannedAction::Allow => continue,
                    UnscannedAction::Audit => Action::Audit,
                    UnscannedAction::Deny => Action::Deny,
                };
                violations.push(Violation {
                    policy: "image-gate/unscanned".to_string(),
                    message: format!(
                        "image {image} has no stored vulnerability scan (`palisade scan image {image}` records one)"
                    ),
                    details: None,
                    action,
                    reason: None,
                });
                continue;
            };
            let decided = self
                .gates
                .rules
                .iter()
                .zip(&self.conditions)
                .filter(|(rule, _)| rule.applies_to(namespace, object))
                .find_map(|(rule, conditions)| {
                    let matching = conditions.matching(&scan);
                    (!matching.is_empty()).then_some((rule, matching))
                });
            if let Some((rule, matching)) = decided {
                let first = matching[0];
                let mut example = format!(
                    "{} ({}) in {} {}",
                    first.id,
                    first.severity.as_str(),
                    first.package.name,
                    first.package.version
                );
                if first.fix_state == FixState::Fixed
                    && let Some(fixed) = first.fixed_versions.first()
                {
                    example.push_str(&format!(", fixed in {fixed}"));
                }
                if first.kev.is_some() {
                    example.push_str(", known exploited");
                }
                violations.push(Violation {
                    policy: format!("image-gate/{}", rule.name),
                    message: format!(
                        "image {image}: {} vulnerabilities meet image gate `{}`, e.g. {example}",
                        matching.len(),
                        rule.name
                    ),
                    details: Some(serde_json::json!({
                        "image": image,
                        "digest": scan.image.digest,
                        "vulnerabilities": matching.iter().map(|v| &v.id).collect::<Vec<_>>(),
                    })),
                    action: rule.action,
                    reason: None,
                });
            }
        }
        Ok(violations)
    }

    /// The stored scan of `image` (by digest when the reference pins one, else by the tag's
    /// canonical and written forms), parsed once per match.
    fn scan_of(&self, image: &str) -> Result<Option<Arc<ImageScan>>, EvalError> {
        let mut names: Vec<String> = Vec::new();
        if let Ok(parsed) = Reference::parse(image) {
            if let Some(digest) = &parsed.digest {
                names.push(digest.clone());
            }
            names.push(parsed.to_string());
        }
        names.push(image.to_string());
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.store.is_none() {
            let store = Store::open(&self.store_path).map_err(|e| EvalError(e.to_string()))?;
            state.store = Some(store);
        }
        let State { store, scans } = &mut *state;
        let Some(store) = store.as_ref() else {
            return Ok(None);
        };
        for name in &names {
            let Some((key, matched_at)) = store
                .findings_stamp(name)
                .map_err(|e| EvalError(e.to_string()))?
            else {
                continue;
            };
            if let Some((at, scan)) = scans.get(&key)
                && *at == matched_at
            {
                return Ok(Some(Arc::clone(scan)));
            }
            let Some((at, document)) =
                store.findings(&key).map_err(|e| EvalError(e.to_string()))?
            else {
                continue;
            };
            let scan: ImageScan = serde_json::from_slice(&document)
                .map_err(|e| EvalError(format!("the stored scan of {key} is unreadable: {e}")))?;
            let scan = Arc::new(scan);
            scans.insert(key, (at, Arc::clone(&scan)));
            return Ok(Some(scan));
        }
        Ok(None)
    }
}
