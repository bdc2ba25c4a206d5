//! From violations to the answer: deny if any policy denies, warnings for warn actions, audit actions
//! admitted (they only reach the decision log and metrics) — and the answer when no violations are
//! available because evaluation failed or overran its budget.

use palisade_policy::{Action, Violation};

/// `AdmissionResponse.status` for a rejected request (a `metav1.Status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    pub message: String,
    pub reason: String,
}

/// The admission answer, independent of the review version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub status: Option<Status>,
    pub warnings: Vec<String>,
}

impl Verdict {
    pub fn allow() -> Verdict {
        Verdict {
            allowed: true,
            status: None,
            warnings: Vec::new(),
        }
    }
}

/// What the webhook answers when it cannot judge a request in time or at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureMode {
    /// Admit the request with a warning naming the reason: availability over enforcement.
    #[default]
    Open,
    /// Reject the request with a message naming the reason: enforcement over availability.
    Closed,
}

/// How Kubernetes maps a `ValidatingAdmissionPolicy` validation `reason` to the HTTP code of the
/// rejection (`ReasonToCode` in the API server's policy dispatcher); anything else is a plain
/// 403 Forbidden, which is also what Gatekeeper answers.
fn reason_code(reason: &str) -> u16 {
    match reason {
        "Unauthorized" => 401,
        "RequestEntityTooLarge" => 413,
        "Invalid" => 422,
        _ => 403,
    }
}

/// The answer to a request whose policies reported `violations`. Messages are prefixed with the
/// policy in brackets, as Gatekeeper does, so the user knows which policy to read.
pub fn decide(violations: &[Violation]) -> Verdict {
    let mut denials = Vec::new();
    let mut warnings = Vec::new();
    let mut reason = None;
    for violation in violations {
        let line = format!("[{}] {}", violation.policy, violation.message);
        match violation.action {
            Action::Deny => {
                if reason.is_none() {
                    reason = violation.reason.clone().filter(|r| !r.is_empty());
                }
                denials.push(line);
            }
            Action::Warn => warnings.push(line),
            Action::Audit => {}
        }
    }
    if denials.is_empty() {
        return Verdict {
            allowed: true,
            status: None,
            warnings,
        };
    }
    let reason = reason.unwrap_or_else(|| "Forbidden".to_string());
    Verdict {
        allowed: false,
        status: Some(Status {
            code: reason_code(&reason),
            message: denials.join("\n"),
            reason,
        }),
        warnings,
    }
}

/// The answer when evaluation failed for `cause` (a timeout, an evaluator error, no policy set).
pub fn failure_verdict(mode: FailureMode, cause: &str) -> Verdict {
    match mode {
        FailureMode::Open => Verdict {
            allowed: true,
            status: None,
            warnings: vec![format!(
                "palisade: policies were not evaluated ({cause}); request allowed (fail-open)"
            )],
        },
        // 500 rather than 403: no policy rejected the request, the webhook could not judge it, and a
        // client may reasonably retry.
        FailureMode::Closed => Verdict {
            allowed: false,
            status: Some(Status {
                code: 500,
                message: format!(
                    "palisade: policies were not evaluated ({cause}); request denied (fail-closed)"
                ),
                reason: "InternalError".to_string(),
            }),
            warnings: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(policy: &str, action: Action, reason: Option<&str>) -> Violation {
        Violation {
            policy: policy.to_string(),
            message: format!("{policy} says no"),
            details: None,
            action,
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn no_violations_allow() {
        assert_eq!(decide(&[]), Verdict::allow());
    }

    #[test]
    fn denials_are_joined_and_warnings_kept() {
        let verdict = decide(&[
            violation("a", Action::Deny, None),
            violation("w", Action::Warn, None),
            violation("audit", Action::Audit, None),
            violation("b", Action::Deny, None),
        ]);
        assert!(!verdict.allowed);
        let status = verdict.status.unwrap();
        assert_eq!(status.code, 403);
        assert_eq!(status.reason, "Forbidden");
        assert_eq!(status.message, "[a] a says no\n[b] b says no");
        assert_eq!(verdict.warnings, vec!["[w] w says no"]);
    }

    #[test]
    fn warn_and_audit_alone_allow() {
        let verdict = decide(&[
            violation("w", Action::Warn, None),
            violation("audit", Action::Audit, None),
        ]);
        assert!(verdict.allowed);
        assert!(verdict.status.is_none());
        assert_eq!(verdict.warnings.len(), 1);
    }

    #[test]
    fn a_vap_reason_sets_the_code() {
        let verdict = decide(&[violation("vap", Action::Deny, Some("Invalid"))]);
        let status = verdict.status.unwrap();
        assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    }

    #[test]
    fn failure_modes() {
        let open = failure_verdict(FailureMode::Open, "evaluation timed out after 100ms");
        assert!(open.allowed);
        assert!(open.warnings[0].contains("timed out"));
        let closed = failure_verdict(FailureMode::Closed, "evaluation timed out after 100ms");
        assert!(!closed.allowed);
        assert!(closed.status.unwrap().message.contains("fail-closed"));
    }
}
