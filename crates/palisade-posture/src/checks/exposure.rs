//! Network exposure and isolation: Services and Ingresses that reach outside the cluster, exposed
//! dashboards, namespaces without NetworkPolicies or Pod Security Admission labels.

use palisade_core::{Check, Finding, Resource};

use crate::emit::{Context, Emitter};

pub(crate) fn checks() -> Vec<Check> {
    Vec::new()
}

pub(crate) fn assess(_resource: &Resource, _emit: &mut Emitter<'_>) {}

#[derive(Debug, Default)]
pub(crate) struct Facts {}

impl Facts {
    pub(crate) fn collect(&mut self, _resource: &Resource) {}
    pub(crate) fn merge(&mut self, _other: Facts) {}
    pub(crate) fn assess(&self, _context: Context<'_>, _findings: &mut Vec<Finding>) {}
}
