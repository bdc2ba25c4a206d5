//! An assessment in progress: objects go in one at a time, findings come out at the end.

use std::collections::BTreeMap;

use palisade_core::{Finding, Resource};

use crate::catalogue::Catalogue;
use crate::checks::{self, ClusterFacts};
use crate::config::Config;
use crate::emit::Context;

/// Assesses objects as they stream in. Memory grows with findings and cluster facts, not with the
/// objects: each object can be dropped once [`Session::assess`] returns. Sessions run on different
/// threads combine with [`Session::merge`].
pub struct Session<'a> {
    context: Context<'a>,
    findings: Vec<Finding>,
    facts: ClusterFacts,
    assessed_by_kind: BTreeMap<String, usize>,
}

/// The outcome of a session.
#[derive(Debug, Default)]
pub struct Assessment {
    /// In report order: most severe first, then by resource and check.
    pub findings: Vec<Finding>,
    /// How many objects of each kind were assessed.
    pub assessed_by_kind: BTreeMap<String, usize>,
}

impl Assessment {
    pub fn objects_assessed(&self) -> usize {
        self.assessed_by_kind.values().sum()
    }
}

impl<'a> Session<'a> {
    pub fn new(catalogue: &'a Catalogue, config: &'a Config) -> Session<'a> {
        Session {
            context: Context::new(catalogue, config),
            findings: Vec::new(),
            facts: ClusterFacts::default(),
            assessed_by_kind: BTreeMap::new(),
        }
    }

    pub fn assess(&mut self, resource: &Resource) {
        *self
            .assessed_by_kind
            .entry(resource.reference.kind.clone())
            .or_default() += 1;
        checks::assess(resource, self.context, &mut self.findings);
        self.facts.collect(resource);
    }

    pub fn merge(&mut self, other: Session<'a>) {
        self.findings.extend(other.findings);
        self.facts.merge(other.facts);
        for (kind, n) in other.assessed_by_kind {
            *self.assessed_by_kind.entry(kind).or_default() += n;
        }
    }

    pub fn finish(mut self) -> Assessment {
        self.facts.assess(self.context, &mut self.findings);
        self.findings.sort_by(Finding::report_order);
        // The same finding can be reached twice (a file listed twice, a snapshot and its source).
        self.findings.dedup_by(|a, b| {
            a.check.id == b.check.id
                && a.resource == b.resource
                && a.container == b.container
                && a.evidence.path == b.evidence.path
                && a.cluster == b.cluster
        });
        Assessment {
            findings: self.findings,
            assessed_by_kind: self.assessed_by_kind,
        }
    }
}
