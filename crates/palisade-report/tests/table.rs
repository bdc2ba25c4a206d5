mod common;

use palisade_report::{Format, TableStyle};

fn plain(width: usize) -> TableStyle {
    TableStyle {
        colour: false,
        width,
    }
}

fn render(fixture: &common::Fixture, style: TableStyle) -> String {
    fixture.render_text(Format::Table, style)
}

#[test]
fn groups_findings_under_their_resource() {
    let table = render(&common::fixture(), plain(100));
    let expected_rows = [
        "Scanned manifests in examples/shop (palisade 0.1.0)",
        "Deployment shop/cart  (manifests/shop.yaml:22)",
        "  CRITICAL  privileged           nginx  container `nginx` sets `securityContext.privileged: true`",
        "  MEDIUM    runAsNonRoot         nginx  container `nginx` does not set `runAsNonRoot: true`, and",
        "                                        suppressed: legacy image, tracked in SHOP-12",
        "ClusterRole ops-admin  (cluster prod-eu)",
        "Pod dev/debug pod  (my manifests/dev pod.yaml)",
        "  MEDIUM    runAsNonRoot                the pod sets no `securityContext`",
        "  LOW       image-tag-latest     shell  container `shell` uses image `busybox:latest`",
        "                                        suppressed: debug pods are short-lived",
    ];
    let lines: Vec<&str> = table.lines().collect();
    let mut at = 0;
    for row in expected_rows {
        let found = lines
            .iter()
            .skip(at)
            .position(|l| *l == row)
            .unwrap_or_else(|| panic!("missing (or out of order) {row:?} in\n{table}"));
        at += found + 1;
    }
}

#[test]
fn most_severe_resource_comes_first() {
    let table = render(&common::fixture(), plain(100));
    let position = |s: &str| table.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(position("Deployment shop/cart") < position("ClusterRole ops-admin"));
    assert!(position("ClusterRole ops-admin") < position("Pod dev/debug pod"));
}

#[test]
fn summary_not_assessed_errors_and_hint() {
    let table = render(&common::fixture(), plain(100));
    for expected in [
        "\nSummary\n  Findings      1 critical, 1 high, 1 medium, 0 low, 0 info\n",
        "\n  Suppressed    2\n",
        "\n  Objects       10 assessed: 4 ClusterRole, 2 Deployment, 1 Pod, 3 Service\n",
        "\n  Not assessed  1 kind\n",
        "\n  Errors        2 unreadable inputs\n",
        "\nNot assessed\n  ClusterRoleBinding (rbac.authorization.k8s.io/v1): forbidden: the credentials may not list\n",
        "\nErrors\n  manifests/broken.yaml:3:7: did not find expected key\n  manifests/empty dir: is a directory with no manifests\n",
    ] {
        assert!(table.contains(expected), "{expected:?} missing in\n{table}");
    }
    assert!(table.ends_with("\nRun `palisade checks explain <ID>` for details.\n"));
}

#[test]
fn no_colour_codes_when_colour_is_off() {
    // The fixture has an ESC and a BEL in a message: they must be shown escaped, not emitted.
    for width in [40, 60, 100, 200] {
        let table = render(&common::fixture(), plain(width));
        assert!(!table.contains('\u{1b}'), "ESC at width {width}");
        assert!(!table.contains('\u{7}'));
        assert!(table.contains("\\u{1b}[31mred\\u{7}"));
    }
}

#[test]
fn colours_severities_when_colour_is_on() {
    let table = render(
        &common::fixture(),
        TableStyle {
            colour: true,
            width: 100,
        },
    );
    assert!(table.contains("\u{1b}[1;31mCRITICAL\u{1b}[0m"), "{table}");
    assert!(table.contains("\u{1b}[31mHIGH    \u{1b}[0m"));
    // Suppressed rows are dimmed, not coloured by severity.
    assert!(table.contains("\u{1b}[2mMEDIUM  \u{1b}[0m"));
    assert!(table.contains("\u{1b}[2msuppressed: legacy image, tracked in SHOP-12\u{1b}[0m"));
    assert!(table.contains("\u{1b}[1;31m1 critical\u{1b}[0m"));
    // The ESC from the manifest is still escaped; only our own codes reach the terminal.
    assert!(table.contains("\\u{1b}[31mred"));
    let stripped = strip_ansi(&table);
    assert_eq!(stripped, render(&common::fixture(), plain(100)));
}

#[test]
fn lines_fit_the_width() {
    for width in [40, 60, 80, 100] {
        let table = render(&common::fixture(), plain(width));
        for line in table.lines() {
            assert!(
                line.chars().count() <= width,
                "{line:?} is wider than {width}\n{table}"
            );
        }
    }
}

#[test]
fn absurd_widths_are_clamped() {
    let fixture = common::fixture();
    let zero = render(&fixture, plain(0));
    assert_eq!(zero, render(&fixture, plain(40)));
    assert!(zero.lines().all(|l| l.chars().count() <= 40));
    let huge = render(&fixture, plain(usize::MAX));
    assert!(huge.contains("  CRITICAL  privileged"));
}

#[test]
fn narrow_terminals_put_messages_under_the_row() {
    let table = render(&common::fixture(), plain(50));
    assert!(
        table.contains("  CRITICAL  privileged        nginx\n    container `nginx` sets\n"),
        "{table}"
    );
}

#[test]
fn overflowing_cells_shift_only_the_first_line_of_the_message() {
    let mut fixture = common::fixture();
    let mut check = (*fixture.findings[2].check).clone();
    check.id = "automount-service-account-token-everywhere".into();
    fixture.findings[2].check = std::sync::Arc::new(check);
    fixture.findings[2].message = "the pod mounts a token for ServiceAccount `default` into every \
                                   container"
        .into();
    let table = render(&fixture, plain(100));
    let lines: Vec<&str> = table.lines().collect();
    let row = lines
        .iter()
        .position(|l| {
            l.starts_with("  CRITICAL  automount-service-account-token-everywhere  nginx  ")
        })
        .unwrap_or_else(|| panic!("row missing in\n{table}"));
    assert!(
        lines[row].ends_with("the pod mounts a token for"),
        "{}",
        lines[row]
    );
    // Continuations align with the other rows' messages.
    let message_column = lines
        .iter()
        .find_map(|l| l.find("the pod sets no"))
        .expect("another row");
    assert_eq!(
        lines[row + 1],
        format!(
            "{}ServiceAccount `default` into every container",
            " ".repeat(message_column)
        )
    );
    for line in &lines {
        assert!(line.chars().count() <= 100, "{line:?}");
    }
}

#[test]
fn says_so_plainly_when_there_are_no_findings() {
    let table = render(&common::clean_fixture(), plain(100));
    assert!(
        table.contains("\nNo findings: 10 assessed objects passed every check.\n"),
        "{table}"
    );
    assert!(table.contains("  Findings      none\n"));
    assert!(!table.contains("Not assessed\n"));
    assert!(!table.contains("Errors"));
    assert!(!table.contains("palisade checks explain"));

    let mut nothing = common::clean_fixture();
    nothing.assessed_by_kind.clear();
    let table = render(&nothing, plain(100));
    assert!(table.contains("No findings: no objects were assessed."));
    assert!(table.contains("  Objects       0 assessed\n"));
}

#[test]
fn output_is_byte_stable() {
    let fixture = common::fixture();
    let first = render(&fixture, plain(80));
    assert_eq!(first, render(&fixture, plain(80)));
    let mut shuffled = common::fixture();
    shuffled.findings.reverse();
    assert_eq!(first, render(&shuffled, plain(80)));
}

/// Removes `ESC [ … m` sequences.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
