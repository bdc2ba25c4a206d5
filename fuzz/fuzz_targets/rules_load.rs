//! Any bytes as a rule file, loaded for a small audit-like source: loading must not panic, and
//! when it succeeds, evaluating the rules against a sample event must not either.
//! Run: `cargo fuzz run rules_load` (needs `palisade-rules` among fuzz/Cargo.toml's dependencies
//! and a `[[bin]] name = "rules_load"` entry).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_rules::{Event, FieldInfo, FieldSource, FieldType, FieldValue, RuleFile, Ruleset};
use std::borrow::Cow;

struct Source;

const FIELDS: &[(&str, FieldType, Option<bool>)] = &[
    ("ka.verb", FieldType::String, None),
    ("ka.target.resource", FieldType::String, None),
    ("ka.user.name", FieldType::String, None),
    ("ka.user.groups", FieldType::StringList, None),
    ("ka.response.code", FieldType::Number, None),
    ("ka.req.pod.host_network", FieldType::Bool, None),
    ("ka.source.ip", FieldType::Ip, None),
    ("jevt.value", FieldType::String, Some(true)),
    (
        "ka.req.pod.containers.image",
        FieldType::StringList,
        Some(false),
    ),
];

impl FieldSource for Source {
    fn source_name(&self) -> &str {
        "k8s_audit"
    }
    fn field(&self, name: &str) -> Option<FieldInfo> {
        let i = FIELDS.iter().position(|(n, _, _)| *n == name)?;
        let (_, kind, argument) = FIELDS.get(i)?;
        Some(FieldInfo {
            id: i as u32,
            kind: *kind,
            argument: *argument,
        })
    }
    fn index_fields(&self) -> &[&str] {
        &["ka.verb", "ka.target.resource", "ka.response.code"]
    }
}

struct Sample;

impl Event for Sample {
    fn value(&self, id: u32, argument: Option<&str>) -> FieldValue<'_> {
        match id {
            0 => FieldValue::Str(Cow::Borrowed("create")),
            1 => FieldValue::Str(Cow::Borrowed("pods")),
            2 => FieldValue::Missing,
            3 => FieldValue::List(vec![Cow::Borrowed("system:masters"), Cow::Borrowed("")]),
            4 => FieldValue::Number(403),
            5 => FieldValue::Bool(true),
            6 => FieldValue::Str(Cow::Borrowed("10.0.0.1")),
            7 => FieldValue::Str(Cow::Owned(argument.unwrap_or("").to_string())),
            _ => FieldValue::List(Vec::new()),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let files = [RuleFile {
        name: "fuzz.yaml",
        text: &text,
    }];
    if let Ok(rules) = Ruleset::load(&files, &Source) {
        let mut matches = Vec::new();
        rules.evaluate(&Sample, &mut matches);
        let mut reference = Vec::new();
        rules.evaluate_unindexed(&Sample, &mut reference);
        assert_eq!(matches, reference);
    }
});
