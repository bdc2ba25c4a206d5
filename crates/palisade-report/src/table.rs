//! The report for people at a terminal: findings grouped under the resource they concern (the
//! thing someone goes and fixes), most severe first, then a summary and what could not be checked.
//!
//! Every string that came from the scanned input (names, messages, paths, reasons) goes through
//! [`printable`]: a manifest is untrusted, and an escape sequence in it must not reach the terminal.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use palisade_core::{Finding, ResourceRef, Severity};

use crate::text::{printable, width, wrap, wrap_hanging};
use crate::{
    Report, Summary, TableStyle, not_assessed_label, ordered_errors, ordered_findings,
    ordered_not_assessed, resource_label,
};

/// Narrower than this, columns stop making sense; the layout assumes at least this much.
const MIN_WIDTH: usize = 40;
/// `COLUMNS` is user input: past this, wider changes nothing but risks arithmetic overflow.
const MAX_WIDTH: usize = 10_000;
/// The message column needs at least this much room, or messages go on their own lines.
const MIN_MESSAGE_WIDTH: usize = 30;
/// Messages are what people read: the ID and container columns give way until messages get at
/// least this share (in percent) of the width.
const MESSAGE_SHARE: usize = 45;
/// Column limits. Longer check IDs or container names overflow their column instead of widening
/// it for every row; the columns shrink down to the minimums to leave messages their share.
const MAX_ID_COLUMN: usize = 32;
const MIN_ID_COLUMN: usize = 16;
const MAX_CONTAINER_COLUMN: usize = 20;
const MIN_CONTAINER_COLUMN: usize = 10;
/// An overflowing cell keeps the message on its row only if this much room is left after it.
const MIN_FIRST_LINE: usize = 16;
const BADGE_WIDTH: usize = 8;
const LABEL_WIDTH: usize = 14;
const HINT: &str = "Run `palisade checks explain <ID>` for details.";

/// ANSI styling that collapses to plain text when colour is off, so no escape code can slip into
/// a log file or a pipe.
#[derive(Clone, Copy)]
struct Paint {
    colour: bool,
}

impl Paint {
    fn paint(self, code: &str, text: &str) -> String {
        if self.colour && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
    fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
    fn severity(self, severity: Severity, text: &str) -> String {
        let code = match severity {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "34",
            Severity::Info => "2",
        };
        self.paint(code, text)
    }
}

/// The findings about one resource, as read from one file (the same object in two files is two
/// groups: each is fixed separately).
struct Group<'a> {
    resource: &'a ResourceRef,
    cluster: Option<&'a str>,
    file: Option<&'a str>,
    findings: Vec<&'a Finding>,
}

impl Group<'_> {
    fn location(&self) -> Option<String> {
        let line = self.findings.iter().filter_map(|f| f.evidence.line).min();
        let template = self
            .findings
            .iter()
            .find_map(|f| f.evidence.template.as_deref());
        match (self.file, line, self.cluster) {
            (Some(file), Some(line), _) if template.is_some() => Some(format!(
                "{file}:{line}, from {}",
                template.unwrap_or_default()
            )),
            (Some(file), Some(line), _) => Some(format!("{file}:{line}")),
            (Some(file), None, _) => Some(file.to_string()),
            (None, _, Some(cluster)) => Some(format!("cluster {cluster}")),
            (None, _, None) => None,
        }
    }

    fn all_suppressed(&self) -> bool {
        self.findings.iter().all(|f| f.is_suppressed())
    }
}

/// Column widths shared by every finding row so the report reads as one table.
struct Columns {
    id: usize,
    /// Where messages start (after the container column, when any finding names a container).
    message: usize,
    width: usize,
}

impl Columns {
    fn new(findings: &[&Finding], width: usize) -> Columns {
        let mut id = findings
            .iter()
            .map(|f| width_of(&f.check.id))
            .max()
            .unwrap_or(0)
            .min(MAX_ID_COLUMN);
        let mut container = findings
            .iter()
            .filter_map(|f| f.container.as_deref())
            .map(width_of)
            .max()
            .map(|w| w.min(MAX_CONTAINER_COLUMN));
        // Badge and gaps: "  BADGE  id  [container  ]message".
        let fixed = 2 + BADGE_WIDTH + 2 + 2 + container.map_or(0, |_| 2);
        let message_wanted = (width * MESSAGE_SHARE / 100).max(MIN_MESSAGE_WIDTH);
        let budget = width.saturating_sub(fixed + message_wanted);
        if let Some(c) = container.as_mut() {
            let over = (id + *c).saturating_sub(budget);
            *c = c.saturating_sub(over).max(MIN_CONTAINER_COLUMN.min(*c));
        }
        let over = (id + container.unwrap_or(0)).saturating_sub(budget);
        id = id.saturating_sub(over).max(MIN_ID_COLUMN.min(id));
        let message = fixed + id + container.unwrap_or(0);
        Columns { id, message, width }
    }

    /// Messages get their own, indented lines when the terminal is too narrow for a column.
    fn stacked(&self) -> bool {
        self.width < self.message + MIN_MESSAGE_WIDTH
    }
}

fn width_of(s: &str) -> usize {
    width(&printable(s))
}

pub(crate) fn render(report: &Report<'_>, style: TableStyle) -> String {
    let paint = Paint {
        colour: style.colour,
    };
    let width = style.width.clamp(MIN_WIDTH, MAX_WIDTH);
    let summary = Summary::of(report);
    let findings = ordered_findings(report);
    let mut out = String::new();

    let headline = format!(
        "Scanned {} (palisade {})",
        printable(report.target),
        printable(report.tool_version)
    );
    write_wrapped(&mut out, &headline, 0, 0, width, |s| s.to_string());
    out.push('\n');

    if findings.is_empty() {
        let verdict = if summary.objects.assessed == 0 {
            "No findings: no objects were assessed.".to_string()
        } else {
            format!(
                "No findings: {} passed every check.",
                plural(
                    summary.objects.assessed,
                    "assessed object",
                    "assessed objects"
                )
            )
        };
        write_wrapped(&mut out, &verdict, 0, 0, width, |s| paint.bold(s));
        out.push('\n');
    } else {
        let columns = Columns::new(&findings, width);
        for group in groups(&findings) {
            write_group(&mut out, &group, &columns, paint);
            out.push('\n');
        }
    }

    write_summary(&mut out, &summary, width, paint);

    let not_assessed = ordered_not_assessed(report);
    if !not_assessed.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", paint.bold("Not assessed"));
        for kind in not_assessed {
            let line = format!("{}: {}", not_assessed_label(kind), kind.reason);
            write_wrapped(&mut out, &printable(&line), 2, 4, width, |s| s.to_string());
        }
    }

    let errors = ordered_errors(report);
    if !errors.is_empty() {
        out.push('\n');
        let _ = writeln!(out, "{}", paint.bold("Errors"));
        for error in errors {
            write_wrapped(&mut out, &printable(&error.to_string()), 2, 4, width, |s| {
                paint.severity(Severity::High, s)
            });
        }
    }

    if !findings.is_empty() {
        out.push('\n');
        write_wrapped(&mut out, HINT, 0, 0, width, |s| paint.dim(s));
    }
    out
}

/// Groups in the order people should fix them: groups with unsuppressed findings first, each
/// placed by its most severe finding (report order), then groups holding only suppressed ones.
fn groups<'a>(findings: &[&'a Finding]) -> Vec<Group<'a>> {
    type Key<'a> = (Option<&'a str>, &'a ResourceRef, Option<&'a str>);
    let mut index: BTreeMap<Key<'a>, usize> = BTreeMap::new();
    let mut groups: Vec<Group<'a>> = Vec::new();
    let unsuppressed = findings.iter().filter(|f| !f.is_suppressed());
    let suppressed = findings.iter().filter(|f| f.is_suppressed());
    for finding in unsuppressed.chain(suppressed) {
        let cluster = finding.cluster.as_deref();
        let file = finding.evidence.file.as_deref();
        let key = (cluster, &finding.resource, file);
        let at = *index.entry(key).or_insert_with(|| {
            groups.push(Group {
                resource: &finding.resource,
                cluster,
                file,
                findings: Vec::new(),
            });
            groups.len() - 1
        });
        if let Some(group) = groups.get_mut(at) {
            group.findings.push(finding);
        }
    }
    groups
}

fn write_group(out: &mut String, group: &Group<'_>, columns: &Columns, paint: Paint) {
    let label = printable(&resource_label(group.resource)).into_owned();
    let label_width = width(&label);
    // A group holding only suppressed findings is dimmed as a whole, like its rows.
    let label = if group.all_suppressed() {
        paint.dim(&label)
    } else {
        paint.bold(&label)
    };
    match group.location() {
        Some(location) => {
            let location = format!("({})", printable(&location));
            // A long path goes on its own line rather than past the edge of the terminal.
            let separator = if label_width + 2 + width(&location) > columns.width {
                "\n  "
            } else {
                "  "
            };
            let _ = writeln!(out, "{label}{separator}{}", paint.dim(&location));
        }
        None => {
            let _ = writeln!(out, "{label}");
        }
    }
    for finding in &group.findings {
        write_finding(out, finding, columns, paint);
    }
}

fn write_finding(out: &mut String, finding: &Finding, columns: &Columns, paint: Paint) {
    let suppressed = finding.suppressed.as_ref();
    let badge = pad(&finding.severity.as_str().to_ascii_uppercase(), BADGE_WIDTH).into_owned();
    let id = printable(&finding.check.id);
    let container = finding.container.as_deref().map(printable);

    // Cells sit at tab stops: each starts at its column, or two spaces after the previous cell
    // when that one overflowed, so one long ID does not shift the rest of the row more than needed.
    let dim_all = suppressed.is_some();
    let badge_styled = if dim_all {
        paint.dim(&badge)
    } else {
        paint.severity(finding.severity, &badge)
    };
    let mut row = Row::default();
    row.cell(2, &badge, &badge_styled);
    let id_styled = if dim_all {
        paint.dim(&id)
    } else {
        id.to_string()
    };
    row.cell(2 + BADGE_WIDTH + 2, &id, &id_styled);
    let container_stop = 2 + BADGE_WIDTH + 2 + columns.id + 2;
    if let Some(container) = container.as_deref().filter(|c| !c.is_empty()) {
        let styled = if dim_all {
            paint.dim(container)
        } else {
            container.to_string()
        };
        row.cell(container_stop, container, &styled);
    }
    row.advance_to(columns.message);
    let plain = row.plain;
    let styled = row.styled;

    let message = printable(&finding.message).into_owned();
    let style_line = |line: &str| -> String {
        if suppressed.is_some() {
            paint.dim(line)
        } else {
            line.to_string()
        }
    };
    let reason = suppressed.map(|s| printable(&format!("suppressed: {}", s.reason)).into_owned());

    if columns.stacked() {
        let _ = writeln!(out, "{}", styled.trim_end());
        let text_width = columns.width.saturating_sub(4);
        let lines = wrap(&message, text_width)
            .into_iter()
            .chain(reason.iter().flat_map(|r| wrap(r, text_width)));
        for line in lines {
            let _ = writeln!(out, "    {}", style_line(&line));
        }
        return;
    }

    // A cell wider than its column shifts the first line of the message right; when too little
    // room is left after it, the message starts on the next line instead.
    let text_width = columns.width.saturating_sub(columns.message);
    let start = width(&plain);
    let first_width = if start <= columns.message {
        text_width
    } else if columns.width.saturating_sub(start) >= MIN_FIRST_LINE {
        columns.width - start
    } else {
        0
    };
    let mut lines = if first_width == 0 {
        let _ = writeln!(out, "{}", styled.trim_end());
        wrap(&message, text_width)
    } else {
        let mut lines = wrap_hanging(&message, first_width, text_width).into_iter();
        let first = lines.next().unwrap_or_default();
        let _ = writeln!(out, "{styled}{}", style_line(&first));
        lines.collect()
    };
    if let Some(reason) = &reason {
        lines.extend(wrap(reason, text_width));
    }
    let indent = " ".repeat(columns.message);
    for line in lines {
        let _ = writeln!(out, "{indent}{}", style_line(&line));
    }
}

/// One finding row being laid out: the plain text (to measure) and the styled text (to print).
#[derive(Default)]
struct Row {
    plain: String,
    styled: String,
}

impl Row {
    fn width(&self) -> usize {
        width(&self.plain)
    }

    /// Pads to `stop`, or by two spaces when the row already reaches it.
    fn advance_to(&mut self, stop: usize) {
        let at = self.width();
        let gap = if at == 0 {
            stop
        } else if at + 2 <= stop {
            stop - at
        } else {
            2
        };
        let spaces = " ".repeat(gap);
        self.plain.push_str(&spaces);
        self.styled.push_str(&spaces);
    }

    fn cell(&mut self, stop: usize, plain: &str, styled: &str) {
        self.advance_to(stop);
        self.plain.push_str(plain);
        self.styled.push_str(styled);
    }
}

fn write_summary(out: &mut String, summary: &Summary, width: usize, paint: Paint) {
    let _ = writeln!(out, "{}", paint.bold("Summary"));
    let label = |name: &str| format!("  {}", pad(name, LABEL_WIDTH));
    let indent = 2 + LABEL_WIDTH;

    let findings: Vec<(String, String)> = if summary.unsuppressed() == 0 {
        vec![("none".to_string(), "none".to_string())]
    } else {
        let last = Severity::ALL_DESCENDING.len() - 1;
        Severity::ALL_DESCENDING
            .iter()
            .enumerate()
            .map(|(i, severity)| {
                let count = summary.count(*severity);
                let text = format!("{count} {severity}");
                let styled = if count > 0 {
                    paint.severity(*severity, &text)
                } else {
                    text.clone()
                };
                let comma = if i < last { "," } else { "" };
                (format!("{text}{comma}"), format!("{styled}{comma}"))
            })
            .collect()
    };
    write_items(out, &label("Findings"), indent, width, &findings);
    let _ = writeln!(out, "{}{}", label("Suppressed"), summary.suppressed);

    let by_kind = &summary.objects.by_kind;
    let mut objects = vec![format!(
        "{} assessed{}",
        summary.objects.assessed,
        if by_kind.is_empty() { "" } else { ":" }
    )];
    let last = by_kind.len().saturating_sub(1);
    objects.extend(by_kind.iter().enumerate().map(|(i, (kind, n))| {
        let comma = if i < last { "," } else { "" };
        format!("{n} {}{comma}", printable(kind))
    }));
    let objects: Vec<(String, String)> = objects.into_iter().map(|o| (o.clone(), o)).collect();
    write_items(out, &label("Objects"), indent, width, &objects);

    if summary.not_assessed > 0 {
        let _ = writeln!(
            out,
            "{}{}",
            label("Not assessed"),
            plural(summary.not_assessed, "kind", "kinds")
        );
    }
    if summary.errors > 0 {
        let _ = writeln!(
            out,
            "{}{}",
            label("Errors"),
            paint.severity(
                Severity::High,
                &plural(summary.errors, "unreadable input", "unreadable inputs")
            )
        );
    }
}

/// Writes `(plain, styled)` items separated by spaces after `prefix`, breaking lines between items
/// (never inside one, so `4 ClusterRole` stays together) and indenting continuations by `indent`.
fn write_items(
    out: &mut String,
    prefix: &str,
    indent: usize,
    width: usize,
    items: &[(String, String)],
) {
    out.push_str(prefix);
    let mut line_width = self::width(prefix);
    let mut line_empty = true;
    for (plain, styled) in items {
        let item_width = self::width(plain);
        if !line_empty && line_width + 1 + item_width > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line_width = indent;
            line_empty = true;
        }
        if !line_empty {
            out.push(' ');
            line_width += 1;
        }
        out.push_str(styled);
        line_width += item_width;
        line_empty = false;
    }
    out.push('\n');
}

/// Writes `text` wrapped to `width`, the first line indented by `first`, the rest by `rest`.
fn write_wrapped(
    out: &mut String,
    text: &str,
    first: usize,
    rest: usize,
    width: usize,
    style: impl Fn(&str) -> String,
) {
    let mut lines = wrap(text, width.saturating_sub(rest)).into_iter();
    if let Some(line) = lines.next() {
        let _ = writeln!(out, "{}{}", " ".repeat(first), style(&line));
    }
    for line in lines {
        let _ = writeln!(out, "{}{}", " ".repeat(rest), style(&line));
    }
}

/// `s` padded with spaces to `column` characters (never cut: overflowing cells are handled by the
/// caller).
fn pad(s: &str, column: usize) -> Cow<'_, str> {
    let w = width(s);
    if w >= column {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("{s}{}", " ".repeat(column - w)))
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}
