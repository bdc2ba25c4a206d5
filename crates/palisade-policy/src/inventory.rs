//! Objects referential policies may look at, in Gatekeeper's `data.inventory` layout:
//! `cluster[<groupVersion>][<kind>][<name>]` for cluster-scoped objects and
//! `namespace[<namespace>][<groupVersion>][<kind>][<name>]` for namespaced ones. Namespaces are also
//! what namespace selectors (Gatekeeper `namespaceSelector`, VAP `matchResources.namespaceSelector`)
//! read their labels from.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

type ByName = BTreeMap<String, Value>;
type ByKind = BTreeMap<String, ByName>;
type ByGroupVersion = BTreeMap<String, ByKind>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    cluster: ByGroupVersion,
    namespaced: BTreeMap<String, ByGroupVersion>,
}

impl Inventory {
    pub fn new() -> Inventory {
        Inventory::default()
    }

    /// Adds an object (one with `apiVersion`, `kind` and `metadata.name`); objects without them are
    /// ignored. A later object with the same identity replaces the earlier one.
    pub fn insert(&mut self, object: Value) {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let (Some(api_version), Some(kind)) =
            (text(object.get("apiVersion")), text(object.get("kind")))
        else {
            return;
        };
        let metadata = object.get("metadata");
        let Some(name) = text(metadata.and_then(|m| m.get("name"))) else {
            return;
        };
        let namespace = text(metadata.and_then(|m| m.get("namespace"))).filter(|ns| !ns.is_empty());
        let tree = match namespace {
            Some(ns) => self.namespaced.entry(ns).or_default(),
            None => &mut self.cluster,
        };
        tree.entry(api_version)
            .or_default()
            .entry(kind)
            .or_default()
            .insert(name, object);
    }

    /// The Namespace object called `name`, when the inventory has it.
    pub fn namespace(&self, name: &str) -> Option<&Value> {
        self.cluster.get("v1")?.get("Namespace")?.get(name)
    }

    /// The labels of namespace `name` (empty when the namespace is not in the inventory).
    pub fn namespace_labels(&self, name: &str) -> BTreeMap<String, String> {
        self.namespace(name)
            .and_then(|ns| ns.pointer("/metadata/labels"))
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.cluster.is_empty() && self.namespaced.is_empty()
    }

    /// `{"cluster": {...}, "namespace": {...}}`, the value Gatekeeper mounts at `data.inventory`.
    pub fn to_value(&self) -> Value {
        let mut root = Map::new();
        root.insert("cluster".into(), group_versions(&self.cluster));
        let namespaces = self
            .namespaced
            .iter()
            .map(|(ns, tree)| (ns.clone(), group_versions(tree)))
            .collect();
        root.insert("namespace".into(), Value::Object(namespaces));
        Value::Object(root)
    }
}

fn group_versions(tree: &ByGroupVersion) -> Value {
    Value::Object(
        tree.iter()
            .map(|(gv, kinds)| {
                let kinds = kinds
                    .iter()
                    .map(|(kind, names)| {
                        let names = names.iter().map(|(n, o)| (n.clone(), o.clone())).collect();
                        (kind.clone(), Value::Object(names))
                    })
                    .collect();
                (gv.clone(), Value::Object(kinds))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gatekeeper_layout() {
        let mut inventory = Inventory::new();
        inventory.insert(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": {"team": "web"}}}));
        inventory.insert(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "front", "namespace": "shop"}}),
        );
        inventory.insert(json!({"kind": "NoApiVersion", "metadata": {"name": "x"}}));
        let value = inventory.to_value();
        assert!(value.pointer("/cluster/v1/Namespace/shop").is_some());
        assert!(
            value
                .pointer("/namespace/shop/networking.k8s.io~1v1/Ingress/front")
                .is_some()
        );
        assert_eq!(
            inventory
                .namespace_labels("shop")
                .get("team")
                .map(String::as_str),
            Some("web")
        );
        assert!(inventory.namespace_labels("missing").is_empty());
    }
}
