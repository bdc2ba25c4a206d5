//! A small audit-like event source for the tests: string, number, boolean, IP, list and
//! argument fields, two of them indexed.
#![allow(dead_code)]

use palisade_rules::{Event, FieldInfo, FieldSource, FieldType, FieldValue, RuleFile, Ruleset};
use std::borrow::Cow;
use std::collections::HashMap;

pub struct AuditSource;

const FIELDS: &[(&str, FieldType, Option<bool>)] = &[
    ("ka.verb", FieldType::String, None),
    ("ka.target.resource", FieldType::String, None),
    ("ka.target.namespace", FieldType::String, None),
    ("ka.user.name", FieldType::String, None),
    ("ka.user.groups", FieldType::StringList, None),
    ("ka.response.code", FieldType::Number, None),
    (
        "ka.req.pod.containers.image",
        FieldType::StringList,
        Some(false),
    ),
    ("ka.req.pod.host_network", FieldType::Bool, None),
    ("ka.source.ip", FieldType::Ip, None),
    ("jevt.value", FieldType::String, Some(true)),
    ("ka.uri", FieldType::String, None),
];

impl FieldSource for AuditSource {
    fn source_name(&self) -> &str {
        "k8s_audit"
    }
    fn field(&self, name: &str) -> Option<FieldInfo> {
        FIELDS
            .iter()
            .position(|(n, _, _)| *n == name)
            .map(|i| FieldInfo {
                id: i as u32,
                kind: FIELDS[i].1,
                argument: FIELDS[i].2,
            })
    }
    fn index_fields(&self) -> &[&str] {
        &["ka.verb", "ka.target.resource"]
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditEvent {
    pub verb: Option<String>,
    pub resource: Option<String>,
    pub namespace: Option<String>,
    pub user: Option<String>,
    pub groups: Option<Vec<String>>,
    pub code: Option<i64>,
    pub images: Option<Vec<String>>,
    pub host_network: Option<bool>,
    pub ip: Option<String>,
    pub json: HashMap<String, String>,
    pub uri: Option<String>,
}

fn s(v: &Option<String>) -> FieldValue<'_> {
    v.as_deref()
        .map_or(FieldValue::Missing, |s| FieldValue::Str(Cow::Borrowed(s)))
}

impl Event for AuditEvent {
    fn value(&self, id: u32, argument: Option<&str>) -> FieldValue<'_> {
        match id {
            0 => s(&self.verb),
            1 => s(&self.resource),
            2 => s(&self.namespace),
            3 => s(&self.user),
            4 => self.groups.as_ref().map_or(FieldValue::Missing, |g| {
                FieldValue::List(g.iter().map(|x| Cow::Borrowed(x.as_str())).collect())
            }),
            5 => self.code.map_or(FieldValue::Missing, FieldValue::Number),
            6 => match (&self.images, argument) {
                (None, _) => FieldValue::Missing,
                (Some(i), None) => {
                    FieldValue::List(i.iter().map(|x| Cow::Borrowed(x.as_str())).collect())
                }
                (Some(i), Some(arg)) => arg
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| i.get(n))
                    .map_or(FieldValue::Missing, |x| FieldValue::Str(Cow::Borrowed(x))),
            },
            7 => self
                .host_network
                .map_or(FieldValue::Missing, FieldValue::Bool),
            8 => s(&self.ip),
            9 => argument
                .and_then(|a| self.json.get(a))
                .map_or(FieldValue::Missing, |v| FieldValue::Str(Cow::Borrowed(v))),
            10 => s(&self.uri),
            _ => FieldValue::Missing,
        }
    }
}

pub fn ev(verb: &str, resource: &str) -> AuditEvent {
    AuditEvent {
        verb: Some(verb.into()),
        resource: Some(resource.into()),
        ..Default::default()
    }
}

pub fn load(text: &str) -> Ruleset {
    match Ruleset::load(
        &[RuleFile {
            name: "test.yaml",
            text,
        }],
        &AuditSource,
    ) {
        Ok(r) => r,
        Err(e) => panic!("load failed: {e}"),
    }
}

pub fn load_err(text: &str) -> String {
    match Ruleset::load(
        &[RuleFile {
            name: "test.yaml",
            text,
        }],
        &AuditSource,
    ) {
        Ok(_) => panic!("load should have failed"),
        Err(e) => e.to_string(),
    }
}

/// Names of the rules matching `event`.
pub fn hits(rules: &Ruleset, event: &AuditEvent) -> Vec<String> {
    let mut m = Vec::new();
    rules.evaluate(event, &mut m);
    m.iter()
        .map(|m| rules.rules()[m.rule].name.clone())
        .collect()
}

/// One rule with `condition`, for operator tests.
pub fn cond_rule(condition: &str) -> Ruleset {
    load(&format!(
        "- rule: r\n  desc: d\n  condition: {}\n  output: o\n  priority: WARNING\n  source: k8s_audit\n",
        yaml_quote(condition)
    ))
}

pub fn yaml_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn matches(condition: &str, event: &AuditEvent) -> bool {
    !hits(&cond_rule(condition), event).is_empty()
}
