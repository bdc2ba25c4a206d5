//! The built-in checks, one module per area. Each module offers:
//!
//! - `checks()`: its catalogue entries;
//! - `assess(resource, context, emitter)`: checks that need only the object itself;
//! - optionally a `Facts` type: the compact facts it keeps about the cluster while objects stream by
//!   (`collect`), combined across threads (`merge`), and assessed once everything was seen (`assess`).

use palisade_core::{Check, Finding, Resource};

use crate::emit::{Context, Emitter};
use crate::pod::PodView;

pub(crate) mod controlplane;
pub(crate) mod exposure;
pub(crate) mod pss;
pub(crate) mod rbac;
pub(crate) mod workload;

/// Every built-in check, in catalogue order.
pub(crate) fn all() -> Vec<Check> {
    let mut list = pss::checks();
    list.extend(workload::checks());
    list.extend(rbac::checks());
    list.extend(exposure::checks());
    list.extend(controlplane::checks());
    list
}

/// Runs every per-object check on `resource`.
pub(crate) fn assess(resource: &Resource, context: Context<'_>, findings: &mut Vec<Finding>) {
    assess_object(resource, context, findings, false)
}

/// Per-object checks; `include_controlled` also runs pod checks on workloads owned by a controller
/// (admission judges each object on its own: a ReplicaSet's Pod arrives without its Deployment).
pub(crate) fn assess_object(
    resource: &Resource,
    context: Context<'_>,
    findings: &mut Vec<Finding>,
    include_controlled: bool,
) {
    let mut emitter = Emitter::new(context, resource, findings);
    if let Some(pod) = PodView::of(resource) {
        // Pods created by a controller are assessed through the controller's template, so a
        // Deployment's problem is reported once, not again on each ReplicaSet and Pod.
        if include_controlled || !is_controlled_workload(resource) {
            pss::assess_pod(&pod, &mut emitter);
            workload::assess_pod(&pod, &mut emitter);
        }
    }
    workload::assess(resource, &mut emitter);
    rbac::assess(resource, &mut emitter);
    exposure::assess(resource, &mut emitter);
    controlplane::assess(resource, &mut emitter);
}

/// Whether a workload is managed by another workload that is assessed in its place.
pub(crate) fn is_controlled_workload(resource: &Resource) -> bool {
    resource
        .metadata()
        .get("ownerReferences")
        .map(|refs| {
            refs.items().iter().any(|owner| {
                owner.is_true("controller")
                    && owner
                        .str_at("kind")
                        .is_some_and(crate::pod::is_workload_kind)
            })
        })
        .unwrap_or(false)
}

/// What the cluster-wide checks remember about the objects seen so far.
#[derive(Debug, Default)]
pub(crate) struct ClusterFacts {
    rbac: rbac::Facts,
    exposure: exposure::Facts,
}

impl ClusterFacts {
    pub(crate) fn collect(&mut self, resource: &Resource) {
        self.rbac.collect(resource);
        self.exposure.collect(resource);
    }

    pub(crate) fn merge(&mut self, other: ClusterFacts) {
        self.rbac.merge(other.rbac);
        self.exposure.merge(other.exposure);
    }

    pub(crate) fn assess(&self, context: Context<'_>, findings: &mut Vec<Finding>) {
        self.rbac.assess(context, findings);
        self.exposure.assess(context, findings);
    }
}

/// `["a", "b"]` as owned strings, for catalogue entries.
pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A copy of a small object (a Service, a Role) to keep in cluster facts, without what only
/// inflates it: server-side apply bookkeeping and kubectl's copy of the whole object. Loaders
/// already drop both; facts do not rely on it, since they outlive every object they copy.
pub(crate) fn compact_copy(resource: &Resource) -> Resource {
    let mut copy = resource.clone();
    if let Some(metadata) = copy.object.get_mut("metadata") {
        metadata.remove("managedFields");
        if let Some(annotations) = metadata.get_mut("annotations") {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    copy
}
