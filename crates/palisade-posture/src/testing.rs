//! Helpers for check unit tests: YAML in, findings out, through the real reader and session.

use palisade_core::{Finding, Resource, SourceError};
use palisade_kube::manifests::{ResourceSink, read_from};

use crate::{Catalogue, Config, Session};

struct Collect(Vec<Resource>);

impl ResourceSink for Collect {
    fn resource(&mut self, resource: Resource) {
        self.0.push(resource);
    }
    fn error(&mut self, error: SourceError) {
        panic!("test manifest does not parse: {error}");
    }
}

/// Parses a multi-document YAML string into resources.
pub(crate) fn resources(yaml: &str) -> Vec<Resource> {
    let mut sink = Collect(Vec::new());
    read_from(yaml.as_bytes(), "test.yaml", &mut sink);
    sink.0
}

/// Every finding (suppressed ones included) for the objects in `yaml`, with the default config.
pub(crate) fn findings(yaml: &str) -> Vec<Finding> {
    findings_with(yaml, &Config::default())
}

pub(crate) fn findings_with(yaml: &str, config: &Config) -> Vec<Finding> {
    let catalogue = Catalogue::builtin();
    let mut session = Session::new(&catalogue, config);
    for resource in resources(yaml) {
        session.assess(&resource);
    }
    session.finish().findings
}

/// `(check_id, container)` of every finding of check `id`.
pub(crate) fn hits(yaml: &str, id: &str) -> Vec<Option<String>> {
    findings(yaml)
        .into_iter()
        .filter(|f| f.check.id == id)
        .map(|f| f.container)
        .collect()
}

/// The IDs of all findings, sorted and deduplicated.
pub(crate) fn check_ids(yaml: &str) -> Vec<String> {
    let mut ids: Vec<String> = findings(yaml)
        .into_iter()
        .map(|f| f.check.id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}
