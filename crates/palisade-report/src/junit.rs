//! JUnit XML for CI dashboards: one suite per check that ran, one failing test case per finding,
//! suppressed findings skipped, and a passing case for checks with nothing to report so the
//! dashboard shows what was checked, not only what failed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use palisade_core::{Check, Finding};

use crate::text::is_unsafe_char;
use crate::{
    Report, checks_that_ran, not_assessed_label, ordered_errors, ordered_findings,
    ordered_not_assessed,
};

const ERRORS_SUITE: &str = "palisade.errors";
const NOT_ASSESSED_SUITE: &str = "palisade.not-assessed";

/// What one test case ends in.
enum Outcome {
    Pass,
    Failure {
        message: String,
        kind: String,
        body: String,
    },
    Skipped {
        message: String,
    },
}

struct TestCase {
    classname: String,
    name: String,
    outcome: Outcome,
}

struct Suite {
    name: String,
    properties: Vec<(&'static str, String)>,
    cases: Vec<TestCase>,
}

impl Suite {
    fn failures(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failure { .. }))
            .count()
    }
    fn skipped(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Skipped { .. }))
            .count()
    }
}

pub(crate) fn render(report: &Report<'_>) -> String {
    let suites = suites(report);
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    let skipped: usize = suites.iter().map(Suite::skipped).sum();

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"palisade\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\">"
    );
    for suite in &suites {
        write_suite(&mut xml, suite);
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn suites(report: &Report<'_>) -> Vec<Suite> {
    let mut by_check: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in ordered_findings(report) {
        by_check
            .entry(finding.check.id.as_str())
            .or_default()
            .push(finding);
    }
    let mut suites: Vec<Suite> = checks_that_ran(report)
        .into_iter()
        .map(|check| {
            let findings = by_check
                .get(check.id.as_str())
                .map_or(&[][..], Vec::as_slice);
            check_suite(check, findings)
        })
        .collect();

    let errors = ordered_errors(report);
    if !errors.is_empty() {
        suites.push(Suite {
            name: ERRORS_SUITE.to_string(),
            properties: Vec::new(),
            cases: errors
                .into_iter()
                .map(|error| TestCase {
                    classname: ERRORS_SUITE.to_string(),
                    name: position(&error.file, error.line, error.column),
                    outcome: Outcome::Failure {
                        message: error.message.clone(),
                        kind: "error".to_string(),
                        body: error.to_string(),
                    },
                })
                .collect(),
        });
    }

    let not_assessed = ordered_not_assessed(report);
    if !not_assessed.is_empty() {
        suites.push(Suite {
            name: NOT_ASSESSED_SUITE.to_string(),
            properties: Vec::new(),
            cases: not_assessed
                .into_iter()
                .map(|kind| TestCase {
                    classname: NOT_ASSESSED_SUITE.to_string(),
                    name: not_assessed_label(kind),
                    outcome: Outcome::Skipped {
                        message: format!("not assessed: {}", kind.reason),
                    },
                })
                .collect(),
        });
    }
    suites
}

fn check_suite(check: &Check, findings: &[&Finding]) -> Suite {
    let names: Vec<String> = findings.iter().map(|f| case_name(f)).collect();
    let mut uses: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &names {
        *uses.entry(name.as_str()).or_default() += 1;
    }
    let mut cases: Vec<TestCase> = findings
        .iter()
        .zip(&names)
        .map(|(finding, name)| {
            // Dashboards merge test cases with equal names; two findings on the same container
            // (two hostPath volumes, say) differ only by field path, so that disambiguates.
            let duplicate = uses.get(name.as_str()).is_some_and(|n| *n > 1);
            let name = if duplicate {
                format!("{name} [{}]", finding.evidence.path)
            } else {
                name.clone()
            };
            TestCase {
                classname: check.id.clone(),
                name,
                outcome: finding_outcome(finding),
            }
        })
        .collect();
    if cases.is_empty() {
        cases.push(TestCase {
            classname: check.id.clone(),
            name: "no findings".to_string(),
            outcome: Outcome::Pass,
        });
    }
    Suite {
        name: check.id.clone(),
        properties: vec![
            ("title", check.title.clone()),
            ("severity", check.severity.to_string()),
            ("category", check.category.as_str().to_string()),
        ],
        cases,
    }
}

/// `Deployment/shop/cart nginx`: the resource, then the container when the finding has one.
fn case_name(finding: &Finding) -> String {
    let mut name = finding.resource.to_string();
    if let Some(container) = &finding.container {
        let _ = write!(name, " {container}");
    }
    name
}

fn finding_outcome(finding: &Finding) -> Outcome {
    if let Some(suppression) = &finding.suppressed {
        return Outcome::Skipped {
            message: format!("suppressed: {}", suppression.reason),
        };
    }
    let evidence = &finding.evidence;
    let mut body = format!("{}\npath: {}\n", finding.message, evidence.path);
    if let Some(cluster) = &finding.cluster {
        let _ = writeln!(body, "cluster: {cluster}");
    }
    if let Some(file) = &evidence.file {
        let _ = writeln!(
            body,
            "file: {}",
            position(file, evidence.line, evidence.column)
        );
    }
    let _ = write!(body, "remediation: {}", finding.check.remediation);
    Outcome::Failure {
        message: finding.message.clone(),
        kind: finding.severity.to_string(),
        body,
    }
}

/// `file:line:column` with whatever part of the position is known.
fn position(file: &str, line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
        (Some(line), None) => format!("{file}:{line}"),
        _ => file.to_string(),
    }
}

fn write_suite(xml: &mut String, suite: &Suite) {
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        attr(&suite.name),
        suite.cases.len(),
        suite.failures(),
        suite.skipped()
    );
    if !suite.properties.is_empty() {
        xml.push_str("    <properties>\n");
        for (name, value) in &suite.properties {
            let _ = writeln!(
                xml,
                "      <property name=\"{}\" value=\"{}\"/>",
                attr(name),
                attr(value)
            );
        }
        xml.push_str("    </properties>\n");
    }
    for case in &suite.cases {
        let open = format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            attr(&case.classname),
            attr(&case.name)
        );
        match &case.outcome {
            Outcome::Pass => {
                let _ = writeln!(xml, "{open}/>");
            }
            Outcome::Failure {
                message,
                kind,
                body,
            } => {
                let _ = writeln!(
                    xml,
                    "{open}>\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    attr(message),
                    attr(kind),
                    text(body)
                );
            }
            Outcome::Skipped { message } => {
                let _ = writeln!(
                    xml,
                    "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                    attr(message)
                );
            }
        }
    }
    xml.push_str("  </testsuite>\n");
}

/// An attribute value. Line breaks and tabs are written as character references because a parser
/// normalises literal ones in attributes to spaces.
fn attr(value: &str) -> String {
    escape(value, true)
}

/// Element content.
fn text(value: &str) -> String {
    escape(value, false)
}

fn escape(value: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            '\r' => out.push_str("&#13;"),
            // XML 1.0 cannot carry most control characters at all, not even as references, and
            // the rest (C1, bidi overrides) mislead whoever reads the dashboard: show them escaped.
            c if is_unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(attr("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(attr("x\ny\tz"), "x&#10;y&#9;z");
        assert_eq!(text("x\ny"), "x\ny");
        assert_eq!(
            text("bell\u{7}esc\u{1b}nul\u{0}"),
            "bell\\u{7}esc\\u{1b}nul\\u{0}"
        );
        assert_eq!(position("a.yaml", Some(3), None), "a.yaml:3");
    }
}
