mod common;

use palisade_report::{Format, TableStyle};
use roxmltree::{Document, Node};

fn render(fixture: &common::Fixture) -> String {
    fixture.render_text(Format::Junit, TableStyle::default())
}

fn attr<'a>(node: Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no `{name}`", node.tag_name().name()))
}

fn count(node: Node<'_, '_>, name: &str) -> usize {
    attr(node, name).parse().expect("a count")
}

fn suite<'a, 'i>(doc: &'a Document<'i>, name: &str) -> Node<'a, 'i> {
    doc.root_element()
        .children()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some(name))
        .unwrap_or_else(|| panic!("no suite {name}"))
}

fn cases<'a, 'i>(suite: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect()
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name(name))
}

#[test]
fn totals_add_up_over_the_suites() {
    let xml = render(&common::fixture());
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    let doc = Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert!(root.has_tag_name("testsuites"));
    assert_eq!(attr(root, "name"), "palisade");

    let suites: Vec<Node> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<&str> = suites.iter().map(|s| attr(*s, "name")).collect();
    assert_eq!(
        names,
        vec![
            "host-path-sensitive",
            "image-tag-latest",
            "privileged",
            "rbac-wildcard-verbs",
            "runAsNonRoot",
            "palisade.errors",
            "palisade.not-assessed"
        ]
    );
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for suite in &suites {
        let cases = cases(*suite);
        let failed = cases
            .iter()
            .filter(|c| child(**c, "failure").is_some())
            .count();
        let skips = cases
            .iter()
            .filter(|c| child(**c, "skipped").is_some())
            .count();
        assert_eq!(
            count(*suite, "tests"),
            cases.len(),
            "{}",
            attr(*suite, "name")
        );
        assert_eq!(count(*suite, "failures"), failed);
        assert_eq!(count(*suite, "skipped"), skips);
        tests += cases.len();
        failures += failed;
        skipped += skips;
    }
    assert_eq!((tests, failures, skipped), (9, 5, 3));
    assert_eq!(count(root, "tests"), tests);
    assert_eq!(count(root, "failures"), failures);
    assert_eq!(count(root, "skipped"), skipped);
}

#[test]
fn findings_fail_with_their_severity_and_evidence() {
    let xml = render(&common::fixture());
    let doc = Document::parse(&xml).expect("well-formed XML");
    let privileged = cases(suite(&doc, "privileged"));
    assert_eq!(privileged.len(), 1);
    assert_eq!(attr(privileged[0], "classname"), "privileged");
    assert_eq!(attr(privileged[0], "name"), "Deployment/shop/cart nginx");
    let failure = child(privileged[0], "failure").expect("failure");
    assert_eq!(attr(failure, "type"), "critical");
    assert_eq!(
        attr(failure, "message"),
        "container `nginx` sets `securityContext.privileged: true`"
    );
    let body = failure.text().unwrap_or("");
    assert!(body.contains("\npath: spec.template.spec.containers[0].securityContext.privileged\n"));
    assert!(body.contains("\nfile: manifests/shop.yaml:24:13\n"));
    assert!(body.contains("remediation: Fix `privileged`:\nspec:\n  fixed: true"));

    // No container, no position: the resource alone names the case, and no file line.
    let run_as = cases(suite(&doc, "runAsNonRoot"));
    let pod = run_as
        .iter()
        .find(|c| attr(**c, "name") == "Pod/dev/debug pod")
        .expect("pod case");
    let body = child(*pod, "failure").and_then(|f| f.text()).unwrap_or("");
    assert!(
        body.contains("\nfile: my manifests/dev pod.yaml\n"),
        "{body}"
    );
}

#[test]
fn markup_and_control_characters_are_escaped() {
    let xml = render(&common::fixture());
    assert!(!xml.contains('\u{1b}') && !xml.contains('\u{7}'));
    let doc = Document::parse(&xml).expect("well-formed XML despite <>&\"' in a message");
    let case = cases(suite(&doc, "rbac-wildcard-verbs"))[0];
    assert_eq!(attr(case, "name"), "ClusterRole/ops-admin");
    let failure = child(case, "failure").expect("failure");
    let expected = "rule 0 grants <all> & \"every\" 'verb' \\u{1b}[31mred\\u{7}";
    assert_eq!(attr(failure, "message"), expected);
    let body = failure.text().unwrap_or("");
    assert!(body.starts_with(expected), "{body}");
    assert!(body.contains("\ncluster: prod-eu\n"));
}

#[test]
fn suppressed_findings_are_skipped_with_the_reason() {
    let xml = render(&common::fixture());
    let doc = Document::parse(&xml).expect("well-formed XML");
    let latest = cases(suite(&doc, "image-tag-latest"));
    assert_eq!(attr(latest[0], "name"), "Pod/dev/debug pod shell");
    let skipped = child(latest[0], "skipped").expect("skipped");
    assert_eq!(
        attr(skipped, "message"),
        "suppressed: debug pods are short-lived"
    );
    assert!(child(latest[0], "failure").is_none());
}

#[test]
fn checks_without_findings_get_a_passing_case() {
    let xml = render(&common::clean_fixture());
    let doc = Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(count(root, "tests"), 5);
    assert_eq!(count(root, "failures"), 0);
    for name in ["host-path-sensitive", "privileged", "runAsNonRoot"] {
        let cases = cases(suite(&doc, name));
        assert_eq!(cases.len(), 1);
        assert_eq!(attr(cases[0], "name"), "no findings");
        assert_eq!(cases[0].children().filter(|n| n.is_element()).count(), 0);
    }
    assert!(
        !root
            .children()
            .any(|n| n.attribute("name") == Some("palisade.errors"))
    );
}

#[test]
fn errors_and_unassessed_kinds_have_their_own_suites() {
    let xml = render(&common::fixture());
    let doc = Document::parse(&xml).expect("well-formed XML");
    let errors = cases(suite(&doc, "palisade.errors"));
    let names: Vec<&str> = errors.iter().map(|c| attr(*c, "name")).collect();
    assert_eq!(
        names,
        vec!["manifests/broken.yaml:3:7", "manifests/empty dir"]
    );
    let failure = child(errors[0], "failure").expect("failure");
    assert_eq!(attr(failure, "type"), "error");
    assert_eq!(attr(failure, "message"), "did not find expected key");

    let kinds = cases(suite(&doc, "palisade.not-assessed"));
    assert_eq!(kinds.len(), 1);
    let skipped = child(kinds[0], "skipped").expect("skipped");
    assert!(attr(skipped, "message").starts_with("not assessed: forbidden"));
}

#[test]
fn duplicate_case_names_are_told_apart_by_field_path() {
    let mut fixture = common::fixture();
    let mut twin = fixture.findings[2].clone();
    twin.evidence.path = "spec.template.spec.initContainers[0].securityContext".into();
    fixture.findings.push(twin);
    let xml = render(&fixture);
    let doc = Document::parse(&xml).expect("well-formed XML");
    let mut names: Vec<&str> = cases(suite(&doc, "privileged"))
        .iter()
        .map(|c| attr(*c, "name"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "Deployment/shop/cart nginx [spec.template.spec.containers[0].securityContext.privileged]",
            "Deployment/shop/cart nginx [spec.template.spec.initContainers[0].securityContext]",
        ]
    );
}

#[test]
fn output_is_byte_stable() {
    let fixture = common::fixture();
    let first = render(&fixture);
    assert_eq!(first, render(&fixture));
    let mut shuffled = common::fixture();
    shuffled.findings.reverse();
    shuffled.checks.reverse();
    assert_eq!(first, render(&shuffled));
}
