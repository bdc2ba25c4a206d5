//! The tree of a Kubernetes object as it was written, with the source position of every node.
//!
//! Manifests are untrusted and loosely typed (a field may hold the wrong type, unknown kinds must pass
//! through), so checks read this tree rather than strongly typed API structs. Every node keeps the
//! line and column it came from so a finding can point into the user's file.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A position in a source file, 1-based. `line == 0` means "unknown" (objects read from the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Mark {
    pub line: u32,
    pub column: u32,
}

/// A problem with one key of a configuration tree: the key's path (`alerts.sinks[1].format`,
/// `sensor.drift.rules[0].action`), where it was written, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub mark: Mark,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: &str, mark: Mark, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.to_string(),
            mark,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mark.is_known() {
            write!(
                f,
                "line {}, column {}: {}: {}",
                self.mark.line, self.mark.column, self.key, self.message
            )
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

impl Mark {
    pub const UNKNOWN: Mark = Mark { line: 0, column: 0 };

    pub fn new(line: u32, column: u32) -> Mark {
        Mark { line, column }
    }

    pub fn is_known(self) -> bool {
        self.line > 0
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    /// Entries in source order. Kubernetes objects have small maps, so a vector beats a hash map
    /// both in memory and in lookup time.
    Map(Vec<(String, Node)>),
}

static NULL: Node = Node {
    value: Value::Null,
    mark: Mark::UNKNOWN,
};

impl Node {
    pub fn new(value: Value, mark: Mark) -> Node {
        Node { value, mark }
    }

    pub fn null() -> &'static Node {
        &NULL
    }

    pub fn string(s: impl Into<String>) -> Node {
        Node::new(Value::String(s.into()), Mark::UNKNOWN)
    }

    pub fn map(entries: Vec<(String, Node)>) -> Node {
        Node::new(Value::Map(entries), Mark::UNKNOWN)
    }

    /// The value under `key` when this node is a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.value {
            Value::Map(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a chain of map keys; `None` as soon as one is missing.
    pub fn at(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// Removes `key` from a map node, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        match &mut self.value {
            Value::Map(entries) => {
                let at = entries.iter().position(|(k, _)| k == key)?;
                Some(entries.remove(at).1)
            }
            _ => None,
        }
    }

    /// Sets `key` in a map node (replacing an existing entry in place).
    pub fn insert(&mut self, key: &str, value: Node) {
        if let Value::Map(entries) = &mut self.value {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some((_, slot)) => *slot = value,
                None => entries.push((key.to_string(), value)),
            }
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A string, or the text of a number or boolean (`port: 8080` and `port: "8080"` alike).
    pub fn to_text(&self) -> Option<String> {
        match &self.value {
            Value::String(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    /// The items of a sequence; empty for anything else (a missing list and an empty list mean the
    /// same thing to every check).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The entries of a map; empty for anything else.
    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    /// The string value under `key`, if it is a string.
    pub fn str_at(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    /// `true` only when `key` holds the boolean `true`.
    pub fn is_true(&self, key: &str) -> bool {
        self.get(key).and_then(Node::as_bool) == Some(true)
    }

    /// The node a [`FieldPath`] points at, or the deepest ancestor that exists, and its position.
    /// Findings about a missing field point at the nearest enclosing field the user did write.
    pub fn locate(&self, path: &FieldPath) -> Mark {
        let mut node = self;
        let mut mark = self.mark;
        for segment in &path.segments {
            let next = match segment {
                Segment::Key(key) => node.get(key),
                Segment::Index(i) => node.items().get(*i),
            };
            match next {
                Some(n) => {
                    node = n;
                    if n.mark.is_known() {
                        mark = n.mark;
                    }
                }
                None => break,
            }
        }
        mark
    }

    /// Converts a JSON value (as the API server sends it) to a tree without positions.
    pub fn from_json(value: serde_json::Value) -> Node {
        let value = match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(items) => {
                Value::Seq(items.into_iter().map(Node::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.into_iter()
                    .map(|(k, v)| (k, Node::from_json(v)))
                    .collect(),
            ),
        };
        Node::new(value, Mark::UNKNOWN)
    }
}

/// A field path inside an object, printed the way `kubectl explain` and admission messages do:
/// `spec.template.spec.containers[0].securityContext.privileged`, with keys that contain dots or
/// slashes quoted: `metadata.annotations["palisade.dev/ignore"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Segment {
    Key(String),
    Index(usize),
}

impl FieldPath {
    pub fn root() -> FieldPath {
        FieldPath::default()
    }

    /// Parses a dotted path such as `spec.template.spec` (keys only, no quoting).
    pub fn parse_keys(path: &str) -> FieldPath {
        FieldPath {
            segments: path
                .split('.')
                .filter(|s| !s.is_empty())
                .map(|s| Segment::Key(s.to_string()))
                .collect(),
        }
    }

    pub fn key(&self, key: &str) -> FieldPath {
        let mut next = self.clone();
        next.segments.push(Segment::Key(key.to_string()));
        next
    }

    /// Appends several keys: `path.keys(&["securityContext", "privileged"])`.
    pub fn keys(&self, keys: &[&str]) -> FieldPath {
        let mut next = self.clone();
        next.segments
            .extend(keys.iter().map(|k| Segment::Key(k.to_string())));
        next
    }

    pub fn index(&self, index: usize) -> FieldPath {
        let mut next = self.clone();
        next.segments.push(Segment::Index(index));
        next
    }

    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Key(key) if is_plain_key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => write!(f, "[{key:?}]")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.value {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Float(x) if x.is_finite() => serializer.serialize_f64(*x),
            // JSON has no NaN or infinity; YAML's `.nan`/`.inf` survive as their YAML spelling.
            Value::Float(x) => serializer.serialize_str(&x.to_string()),
            Value::String(s) => serializer.serialize_str(s),
            Value::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::new(Value::Bool(v), Mark::UNKNOWN))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::new(Value::Int(v), Mark::UNKNOWN))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::new(
            match i64::try_from(v) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Float(v as f64),
            },
            Mark::UNKNOWN,
        ))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::new(Value::Float(v), Mark::UNKNOWN))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::string(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::string(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::new(Value::Seq(items), Mark::UNKNOWN))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some((k, v)) = map.next_entry::<String, Node>()? {
            entries.push((k, v));
        }
        Ok(Node::new(Value::Map(entries), Mark::UNKNOWN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Node {
        let container = Node::new(
            Value::Map(vec![
                (
                    "name".into(),
                    Node::new(Value::String("app".into()), Mark::new(5, 9)),
                ),
                (
                    "securityContext".into(),
                    Node::new(Value::Map(vec![]), Mark::new(6, 7)),
                ),
            ]),
            Mark::new(5, 7),
        );
        Node::new(
            Value::Map(vec![(
                "spec".into(),
                Node::new(
                    Value::Map(vec![(
                        "containers".into(),
                        Node::new(Value::Seq(vec![container]), Mark::new(4, 5)),
                    )]),
                    Mark::new(3, 3),
                ),
            )]),
            Mark::new(1, 1),
        )
    }

    #[test]
    fn locate_points_at_the_deepest_existing_field() {
        let tree = sample();
        let path = FieldPath::root()
            .keys(&["spec", "containers"])
            .index(0)
            .keys(&["securityContext", "privileged"]);
        assert_eq!(
            path.to_string(),
            "spec.containers[0].securityContext.privileged"
        );
        assert_eq!(tree.locate(&path), Mark::new(6, 7));
        assert_eq!(
            tree.locate(&FieldPath::parse_keys("spec.volumes")),
            Mark::new(3, 3)
        );
    }

    #[test]
    fn quotes_keys_with_dots() {
        let path = FieldPath::root().keys(&["metadata", "annotations", "palisade.dev/ignore"]);
        assert_eq!(
            path.to_string(),
            r#"metadata.annotations["palisade.dev/ignore"]"#
        );
    }

    #[test]
    fn json_round_trip() {
        let json = serde_json::json!({"a": [1, true, null, "x", 1.5], "b": {"c": -3}});
        let node = Node::from_json(json.clone());
        assert_eq!(serde_json::to_value(&node).unwrap(), json);
        let back: Node = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, node);
    }
}
