//! Events per second of a ~60-rule audit-like ruleset over generated events.
//! Run: `cargo run --release -p palisade-rules --example eval_bench`.

use palisade_rules::{Event, FieldInfo, FieldSource, FieldType, FieldValue, RuleFile, Ruleset};
use std::borrow::Cow;
use std::fmt::Write;
use std::time::Instant;

struct Source;
const FIELDS: &[(&str, FieldType)] = &[
    ("ka.verb", FieldType::String),
    ("ka.target.resource", FieldType::String),
    ("ka.target.namespace", FieldType::String),
    ("ka.user.name", FieldType::String),
    ("ka.user.groups", FieldType::StringList),
    ("ka.response.code", FieldType::Number),
    ("ka.uri", FieldType::String),
];

impl FieldSource for Source {
    fn source_name(&self) -> &str {
        "k8s_audit"
    }
    fn field(&self, name: &str) -> Option<FieldInfo> {
        let i = FIELDS.iter().position(|(n, _)| *n == name)?;
        Some(FieldInfo {
            id: i as u32,
            kind: FIELDS.get(i)?.1,
            argument: None,
        })
    }
    fn index_fields(&self) -> &[&str] {
        &["ka.verb", "ka.target.resource"]
    }
}

struct Audit {
    verb: &'static str,
    resource: &'static str,
    namespace: &'static str,
    user: String,
    groups: [&'static str; 2],
    code: i64,
    uri: String,
}

impl Event for Audit {
    fn value(&self, id: u32, _argument: Option<&str>) -> FieldValue<'_> {
        match id {
            0 => FieldValue::Str(Cow::Borrowed(self.verb)),
            1 => FieldValue::Str(Cow::Borrowed(self.resource)),
            2 => FieldValue::Str(Cow::Borrowed(self.namespace)),
            3 => FieldValue::Str(Cow::Borrowed(&self.user)),
            4 => FieldValue::List(self.groups.iter().map(|g| Cow::Borrowed(*g)).collect()),
            5 => FieldValue::Number(self.code),
            6 => FieldValue::Str(Cow::Borrowed(&self.uri)),
            _ => FieldValue::Missing,
        }
    }
}

const VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];
const RESOURCES: &[&str] = &[
    "pods",
    "secrets",
    "configmaps",
    "deployments",
    "roles",
    "clusterrolebindings",
    "pods/exec",
    "serviceaccounts",
];
const NAMESPACES: &[&str] = &["default", "kube-system", "shop", "monitoring"];

fn ruleset_text() -> String {
    let mut t = String::from(
        "- list: admin_users\n  items: [admin, \"system:masters\"]\n- macro: not_admin\n  condition: not ka.user.name in (admin_users)\n",
    );
    for i in 0..60 {
        let verb = VERBS[i % VERBS.len()];
        let res = RESOURCES[i % RESOURCES.len()];
        let cond = match i % 4 {
            0 => format!("ka.verb = {verb} and ka.target.resource = {res} and not_admin"),
            1 => format!(
                "ka.target.resource in ({res}, secrets) and ka.user.name startswith system:serviceaccount and ka.response.code < 300"
            ),
            2 => format!(
                "ka.uri contains /{res}/ and ka.user.groups intersects (system:unauthenticated, devs{i})"
            ),
            _ => format!(
                "ka.response.code = 403 and ka.target.namespace in (kube-system, ns{i}) and not_admin"
            ),
        };
        let _ = write!(
            t,
            "- rule: Rule {i}\n  desc: generated\n  condition: {cond}\n  output: \"%ka.user.name did %ka.verb on %ka.target.resource in %ka.target.namespace (code %ka.response.code)\"\n  priority: WARNING\n  source: k8s_audit\n"
        );
    }
    t
}

fn main() {
    let text = ruleset_text();
    let rules = match Ruleset::load(
        &[RuleFile {
            name: "bench.yaml",
            text: &text,
        }],
        &Source,
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
    let events: Vec<Audit> = (0..20_000)
        .map(|i| {
            let resource = RESOURCES[next() % RESOURCES.len()];
            Audit {
                verb: VERBS[next() % VERBS.len()],
                resource,
                namespace: NAMESPACES[next() % NAMESPACES.len()],
                user: if next() % 3 == 0 {
                    format!("system:serviceaccount:shop:sa{i}")
                } else {
                    "alice".to_string()
                },
                groups: [
                    "system:authenticated",
                    if next() % 5 == 0 {
                        "system:unauthenticated"
                    } else {
                        "devs"
                    },
                ],
                code: [200, 201, 403, 404][next() % 4],
                uri: format!("/api/v1/namespaces/shop/{resource}/x{i}"),
            }
        })
        .collect();
    let rounds = 10;
    let mut matches = Vec::new();
    let mut total = 0usize;
    let start = Instant::now();
    for _ in 0..rounds {
        for e in &events {
            rules.evaluate(e, &mut matches);
            total += matches.len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = events.len() * rounds;
    println!(
        "{} rules ({} indexed), {n} events in {secs:.3}s: {:.0} events/s, {:.2} matches/event",
        rules.rules().len(),
        (0..rules.rules().len())
            .filter(|i| rules.is_indexed(*i))
            .count(),
        n as f64 / secs,
        total as f64 / n as f64
    );
}
