//! The pod template inside every workload kind, so pod checks are written once: a Pod's own spec,
//! `spec.template` of Deployments and friends, `spec.jobTemplate.spec.template` of CronJobs.

use palisade_core::{FieldPath, Node, Resource};

/// Workload kinds whose pods are described by a pod template, and where the template lives.
const TEMPLATE_PATHS: &[(&str, &[&str])] = &[
    ("Pod", &[]),
    ("Deployment", &["spec", "template"]),
    ("ReplicaSet", &["spec", "template"]),
    ("StatefulSet", &["spec", "template"]),
    ("DaemonSet", &["spec", "template"]),
    ("Job", &["spec", "template"]),
    ("ReplicationController", &["spec", "template"]),
    ("CronJob", &["spec", "jobTemplate", "spec", "template"]),
    ("PodTemplate", &["template"]),
];

/// Whether `kind` carries a pod template that pod checks apply to.
pub fn is_workload_kind(kind: &str) -> bool {
    TEMPLATE_PATHS.iter().any(|(k, _)| *k == kind)
}

/// The pod metadata and spec of a workload, with their field paths.
#[derive(Debug, Clone, Copy)]
pub struct PodView<'a> {
    /// The pod's metadata (the template's for controllers): labels and annotations live here.
    pub metadata: &'a Node,
    pub spec: &'a Node,
    /// Path of the pod template (`spec.template` for a Deployment, root for a Pod).
    base: &'static [&'static str],
}

/// One container of any kind (init, regular, ephemeral) with its path.
#[derive(Debug, Clone)]
pub struct ContainerView<'a> {
    pub name: &'a str,
    pub node: &'a Node,
    /// `spec.template.spec.containers[2]` and the like.
    pub path: FieldPath,
    /// `initContainers`, `containers` or `ephemeralContainers`.
    pub list: &'static str,
}

impl<'a> ContainerView<'a> {
    pub fn security_context(&self) -> Option<&'a Node> {
        self.node.get("securityContext").filter(|n| n.is_map())
    }

    pub fn field(&self, keys: &[&str]) -> FieldPath {
        self.path.keys(keys)
    }
}

impl<'a> PodView<'a> {
    /// The pod template of a workload, or `None` when the resource is not a workload or has no spec.
    pub fn of(resource: &'a Resource) -> Option<PodView<'a>> {
        if !resource.reference.api_version.is_empty()
            && !is_core_or_workload_group(&resource.reference.api_version)
        {
            return None;
        }
        let (_, base) = TEMPLATE_PATHS
            .iter()
            .find(|(k, _)| *k == resource.reference.kind)?;
        let template = if base.is_empty() {
            &resource.object
        } else {
            resource.object.at(base)?
        };
        let spec = template.get("spec").filter(|n| n.is_map())?;
        Some(PodView {
            metadata: template.get("metadata").unwrap_or(Node::null()),
            spec,
            base,
        })
    }

    /// Path of a field of the pod spec: `spec_path(&["hostNetwork"])` is
    /// `spec.template.spec.hostNetwork` for a Deployment.
    pub fn spec_path(&self, keys: &[&str]) -> FieldPath {
        FieldPath::root().keys(self.base).key("spec").keys(keys)
    }

    /// Path of a field of the pod metadata (annotations for AppArmor, labels).
    pub fn metadata_path(&self, keys: &[&str]) -> FieldPath {
        FieldPath::root().keys(self.base).key("metadata").keys(keys)
    }

    pub fn security_context(&self) -> Option<&'a Node> {
        self.spec.get("securityContext").filter(|n| n.is_map())
    }

    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.metadata.get("annotations")?.str_at(key)
    }

    /// Init containers, then containers, then ephemeral containers, in file order.
    pub fn containers(&self) -> impl Iterator<Item = ContainerView<'a>> + '_ {
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .flat_map(move |list| {
                let items = self.spec.get(list).map(Node::items).unwrap_or(&[]);
                items
                    .iter()
                    .enumerate()
                    .map(move |(i, node)| ContainerView {
                        name: node.str_at("name").unwrap_or(""),
                        node,
                        path: self.spec_path(&[list]).index(i),
                        list,
                    })
            })
    }

    pub fn volumes(&self) -> impl Iterator<Item = (usize, &'a Node)> {
        self.spec
            .get("volumes")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
    }
}

fn is_core_or_workload_group(api_version: &str) -> bool {
    matches!(
        api_version.split_once('/').map(|(g, _)| g).unwrap_or(""),
        "" | "apps" | "batch" | "extensions"
    )
}
