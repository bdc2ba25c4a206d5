//! Pod Security Standards, baseline and restricted, with the check IDs and semantics of the
//! Kubernetes pod-security admission plugin.

use palisade_core::Check;

use crate::emit::Emitter;
use crate::pod::PodView;

pub(crate) fn checks() -> Vec<Check> {
    Vec::new()
}

pub(crate) fn assess_pod(_pod: &PodView<'_>, _emit: &mut Emitter<'_>) {}
