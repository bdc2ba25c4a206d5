//! The catalogue: every built-in check, looked up by its stable ID.

use std::collections::HashMap;
use std::sync::Arc;

use palisade_core::Check;

use crate::checks;

/// Every built-in check, in the order `palisade checks list` prints them.
#[derive(Debug, Clone)]
pub struct Catalogue {
    checks: Vec<Arc<Check>>,
    by_id: HashMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown check ID `{id}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownCheck {
    pub id: String,
    pub suggestion: Option<String>,
}

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Catalogue {
        Catalogue::from_checks(checks::all())
    }

    pub fn from_checks(list: Vec<Check>) -> Catalogue {
        let mut by_id = HashMap::with_capacity(list.len());
        let mut checks = Vec::with_capacity(list.len());
        for check in list {
            debug_assert!(
                !by_id.contains_key(&check.id),
                "duplicate check {}",
                check.id
            );
            by_id.insert(check.id.clone(), checks.len());
            checks.push(Arc::new(check));
        }
        Catalogue { checks, by_id }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Check>> {
        self.by_id.get(id).map(|&i| &self.checks[i])
    }

    /// Looks a check up by ID, case-insensitively, suggesting the closest ID when there is none.
    pub fn lookup(&self, id: &str) -> Result<&Arc<Check>, UnknownCheck> {
        if let Some(check) = self.get(id) {
            return Ok(check);
        }
        if let Some(check) = self.checks.iter().find(|c| c.id.eq_ignore_ascii_case(id)) {
            return Ok(check);
        }
        let suggestion = self
            .checks
            .iter()
            .map(|c| {
                (
                    edit_distance(&c.id.to_ascii_lowercase(), &id.to_ascii_lowercase()),
                    &c.id,
                )
            })
            .min()
            .filter(|(d, _)| *d <= 3.max(id.len() / 3))
            .map(|(_, id)| id.clone());
        Err(UnknownCheck {
            id: id.to_string(),
            suggestion,
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Check>> {
        self.checks.iter()
    }

    pub fn len(&self) -> usize {
        self.checks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_complete_and_unique() {
        let catalogue = Catalogue::builtin();
        let mut seen = std::collections::HashSet::new();
        for check in catalogue.iter() {
            assert!(seen.insert(check.id.clone()), "duplicate ID {}", check.id);
            assert!(!check.title.is_empty(), "{} has no title", check.id);
            assert!(
                !check.description.is_empty(),
                "{} has no description",
                check.id
            );
            assert!(
                !check.remediation.is_empty(),
                "{} has no remediation",
                check.id
            );
            // Hygiene checks (probes) may honestly map to no framework; anything that matters to
            // an attacker must say where auditors find it.
            let f = &check.frameworks;
            let unmapped =
                f.pss.is_empty() && f.cis.is_empty() && f.nsa.is_empty() && f.mitre.is_empty();
            assert!(
                !unmapped || check.severity <= palisade_core::Severity::Low,
                "{} maps to no framework",
                check.id
            );
        }
    }

    #[test]
    fn lookup_suggests_a_near_id() {
        let catalogue = Catalogue::from_checks(vec![Check {
            id: "privileged".into(),
            title: "t".into(),
            severity: palisade_core::Severity::High,
            category: palisade_core::Category::PodSecurity,
            description: "d".into(),
            remediation: "r".into(),
            frameworks: Default::default(),
        }]);
        assert!(catalogue.lookup("PRIVILEGED").is_ok());
        let err = catalogue.lookup("privilegd").unwrap_err();
        assert_eq!(err.suggestion.as_deref(), Some("privileged"));
    }
}
