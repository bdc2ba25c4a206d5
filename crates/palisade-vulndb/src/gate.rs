//! Deployment gate conditions on a stored scan: does an image have a finding that is at least
//! this severe, fixable (or not), in KEV, likely exploited? Admission decides with these without
//! scanning anything; scoping and actions belong to the caller's configuration.

use crate::matching::{FixState, Severity, Vulnerability};
use crate::scan::ImageScan;

/// All given conditions must hold for one unsuppressed finding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    pub min_severity: Option<Severity>,
    pub fix_available: Option<bool>,
    pub kev: Option<bool>,
    /// EPSS score strictly above this.
    pub epss_above: Option<f64>,
}

impl Conditions {
    pub fn matches(&self, v: &Vulnerability) -> bool {
        v.suppressed.is_none()
            && self.min_severity.is_none_or(|min| v.severity >= min)
            && self
                .fix_available
                .is_none_or(|wanted| (v.fix_state == FixState::Fixed) == wanted)
            && self.kev.is_none_or(|wanted| v.kev.is_some() == wanted)
            && self
                .epss_above
                .is_none_or(|limit| v.epss.is_some_and(|e| f64::from(e.score) > limit))
    }

    /// The findings of `scan` that meet the conditions, most severe first (the scan's order).
    pub fn matching<'a>(&self, scan: &'a ImageScan) -> Vec<&'a Vulnerability> {
        scan.vulnerabilities
            .iter()
            .filter(|v| self.matches(v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::{EpssFlag, KevFlag, PackageRef, Suppressed};

    fn vulnerability(
        severity: Severity,
        fixed: bool,
        kev: bool,
        epss: Option<f32>,
    ) -> Vulnerability {
        Vulnerability {
            id: "CVE-2099-1".into(),
            aliases: Vec::new(),
            package: PackageRef {
                name: "p".into(),
                version: "1".into(),
                ecosystem: "npm".into(),
                purl: "pkg:npm/p@1".into(),
                layer: None,
                location: "/app/package.json".into(),
                source: None,
            },
            fixed_versions: if fixed { vec!["2".into()] } else { Vec::new() },
            fix_state: if fixed {
                FixState::Fixed
            } else {
                FixState::NotFixed
            },
            severity,
            cvss: None,
            kev: kev.then(|| KevFlag {
                cve: "CVE-2099-1".into(),
                date_added: "2026-01-01".into(),
                due_date: "2026-01-22".into(),
                known_ransomware: false,
            }),
            epss: epss.map(|score| EpssFlag {
                score,
                percentile: 0.9,
            }),
            summary: String::new(),
            url: None,
            remediation: String::new(),
            suppressed: None,
        }
    }

    #[test]
    fn every_condition_must_hold() {
        let critical_fixable = Conditions {
            min_severity: Some(Severity::Critical),
            fix_available: Some(true),
            ..Conditions::default()
        };
        assert!(critical_fixable.matches(&vulnerability(Severity::Critical, true, false, None)));
        assert!(!critical_fixable.matches(&vulnerability(Severity::High, true, false, None)));
        assert!(!critical_fixable.matches(&vulnerability(Severity::Critical, false, false, None)));
        let high = Conditions {
            min_severity: Some(Severity::High),
            ..Conditions::default()
        };
        assert!(high.matches(&vulnerability(Severity::Critical, false, false, None)));
        let kev = Conditions {
            kev: Some(true),
            ..Conditions::default()
        };
        assert!(kev.matches(&vulnerability(Severity::Low, false, true, None)));
        assert!(!kev.matches(&vulnerability(Severity::Critical, true, false, None)));
        let likely = Conditions {
            epss_above: Some(0.5),
            ..Conditions::default()
        };
        assert!(likely.matches(&vulnerability(Severity::Low, false, false, Some(0.6))));
        assert!(!likely.matches(&vulnerability(Severity::Low, false, false, Some(0.5))));
        assert!(!likely.matches(&vulnerability(Severity::Low, false, false, None)));
        let mut suppressed = vulnerability(Severity::Critical, true, true, Some(0.9));
        suppressed.suppressed = Some(Suppressed {
            by: "vex".into(),
            reason: "not reachable".into(),
        });
        assert!(!Conditions::default().matches(&suppressed));
    }
}
