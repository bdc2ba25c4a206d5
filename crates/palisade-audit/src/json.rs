//! A JSON value that keeps object members in document order.
//!
//! The request and response objects of audit events are held in this form because Falco's
//! plugins render object-valued fields (`%ka.req.role.rules`, `%jevt.value[/requestObject/...]`)
//! by re-marshalling the parsed event, which keeps the order kube-apiserver wrote (the Go
//! struct order: `{"verbs":..,"apiGroups":..}`, `{"name":..,"hostPath":..}`). `serde_json::Value`
//! sorts members unless a workspace-wide feature is turned on, which would change every other
//! crate's JSON as well.

use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Json>),
    /// Members in document order. A repeated key keeps its first place and its last value, as
    /// a map would.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Json>> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// The value at an RFC 6901 JSON pointer (`""` is the value itself).
    pub fn pointer(&self, pointer: &str) -> Option<&Json> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |v, token| {
            let token = token.replace("~1", "/").replace("~0", "~");
            match v {
                Json::Object(_) => v.get(&token),
                Json::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            }
        })
    }

    fn insert(members: &mut Vec<(String, Json)>, key: String, value: Json) {
        match members.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = value,
            None => members.push((key, value)),
        }
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json::String(s.to_string())
    }
}

/// Compact JSON text, members in document order (what the plugins' `MarshalTo` writes).
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(n) => write!(f, "{n}"),
            Json::String(s) => write_str(f, s),
            Json::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Json::Object(members) => {
                f.write_str("{")?;
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_str(f, key)?;
                    write!(f, ":{value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

fn write_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    match serde_json::to_string(s) {
        Ok(quoted) => f.write_str(&quoted),
        Err(_) => Err(fmt::Error),
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// Decodes any JSON value; with `skip_items`, a top-level `items` member is skipped unread.
pub(crate) struct JsonVisitor {
    pub skip_items: bool,
}

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.skip_items && key == "items" {
                map.next_value::<de::IgnoredAny>()?;
            } else {
                let value = map.next_value::<Json>()?;
                Json::insert(&mut members, key, value);
            }
        }
        Ok(Json::Object(members))
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor { skip_items: false })
    }
}

/// serde_json's nesting limit: a document nested deeper is rejected.
const RECURSION_LIMIT: usize = 128;

/// A request or response object kept as its JSON text and parsed into a [`Json`] the first time
/// something reads it. Most events are answered from their top-level members alone (verb,
/// resource, user), so building every object tree at decode time was most of the decoding cost.
///
/// The text comes from a decoder that has already checked it is one well-formed JSON value no
/// deeper than the decoder allows (see [`LazyJson::check`]), so the deferred parse cannot fail.
pub struct LazyJson {
    /// Empty once the value has been parsed eagerly (a Secret's values must not outlive
    /// decoding, even as text).
    raw: Box<str>,
    parsed: OnceLock<Json>,
}

impl LazyJson {
    /// The parsed value; the first call parses the text.
    pub fn get(&self) -> &Json {
        // A parse failure cannot happen for text that passed `check`; `null` then stands for
        // "no object", what the fields answer for an absent one.
        self.parsed
            .get_or_init(|| parse_trimmed(&self.raw).unwrap_or(Json::Null))
    }

    /// The value, parsed now if it was not yet.
    pub fn into_json(self) -> Json {
        match self.parsed.into_inner() {
            Some(v) => v,
            None => parse_trimmed(&self.raw).unwrap_or(Json::Null),
        }
    }

    /// Keeps `raw` for a deferred parse. `None` for `null`, which is no object.
    pub(crate) fn from_raw(raw: Box<str>) -> Option<LazyJson> {
        (raw.trim() != "null").then(|| LazyJson {
            raw,
            parsed: OnceLock::new(),
        })
    }

    /// Parses the text now when keeping it for later is not safe or not worth it: with
    /// `eager` (a Secret's object, to be redacted at once), when it is large (a list response,
    /// whose `items` are then dropped instead of carried around as text), or when the deferred
    /// parse could fail where decoding the event would have. The error is the one decoding the
    /// whole event eagerly reports.
    pub(crate) fn check(&mut self, eager: bool) -> Result<(), serde_json::Error> {
        if self.parsed.get().is_some() {
            return Ok(());
        }
        if eager || self.raw.len() > EAGER_BYTES || needs_eager_parse(&self.raw) {
            let value = parse_nested_once(&self.raw)?;
            self.raw = Box::default();
            self.parsed = OnceLock::from(value);
        }
        Ok(())
    }

    /// Changes the value (redaction), parsing it first; the text is dropped.
    pub(crate) fn edit(&mut self, change: impl FnOnce(&mut Json)) {
        let mut value = std::mem::take(self).into_json();
        change(&mut value);
        *self = LazyJson::from(value);
    }
}

/// Objects longer than this are parsed at decode time: their text would cost more memory than
/// their tree (list responses, whose `items` the tree leaves out).
const EAGER_BYTES: usize = 64 * 1024;

impl From<Json> for LazyJson {
    fn from(value: Json) -> Self {
        LazyJson {
            raw: Box::default(),
            parsed: OnceLock::from(value),
        }
    }
}

impl Default for LazyJson {
    fn default() -> Self {
        LazyJson::from(Json::Null)
    }
}

impl Clone for LazyJson {
    fn clone(&self) -> Self {
        LazyJson {
            raw: self.raw.clone(),
            parsed: self.parsed.clone(),
        }
    }
}

impl PartialEq for LazyJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl fmt::Debug for LazyJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl Serialize for LazyJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

/// Parses a request/response object, skipping a top-level `items` member unread.
fn parse_trimmed(raw: &str) -> Result<Json, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let value = de.deserialize_any(JsonVisitor { skip_items: true })?;
    de.end()?;
    Ok(value)
}

/// [`parse_trimmed`] one level down, inside a one-element array, so the nesting limit is
/// reached exactly where it was when the object was decoded inside its event.
fn parse_nested_once(raw: &str) -> Result<Json, serde_json::Error> {
    struct Trimmed;
    impl<'de> DeserializeSeed<'de> for Trimmed {
        type Value = Json;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
            d.deserialize_any(JsonVisitor { skip_items: true })
        }
    }
    struct Single;
    impl<'de> Visitor<'de> for Single {
        type Value = Json;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a one-element array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
            let value = seq.next_element_seed(Trimmed)?;
            value.ok_or_else(|| de::Error::invalid_length(0, &self))
        }
    }
    let wrapped = format!("[{raw}]");
    let mut de = serde_json::Deserializer::from_str(&wrapped);
    let value = de.deserialize_seq(Single)?;
    de.end()?;
    Ok(value)
}

/// Whether parsing `text` (already known to be one well-formed JSON value) could fail where
/// decoding the event around it would have: nesting at serde_json's limit, a `\uDxxx` escape (a
/// lone surrogate is an error), a number too large for an f64 (only possible with an exponent
/// of three digits or more, or 200 digits in a row). Real audit logs have none of these (Go's
/// encoder does not write them), so answering "maybe" for any `\uD` escape costs nothing.
///
/// One exact walk: string bodies, most of an object's text, are skipped with `memchr` (SIMD)
/// up to the next quote or backslash; only the bytes between strings are looked at one by one.
/// (An approximate vectorised pre-check was tried first; UUIDs and hashes like `5e312…` made it
/// answer "maybe" for 40% of real objects, so the byte walk ran anyway.)
fn needs_eager_parse(text: &str) -> bool {
    let text = text.as_bytes();
    let (mut depth, mut digits) = (0usize, 0usize);
    let mut exponent = false;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        i += 1;
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if digits >= 200 || (exponent && digits >= 3) {
                    return true;
                }
            }
            b'e' | b'E' => (exponent, digits) = (true, 0),
            b'+' | b'-' if exponent && digits == 0 => {}
            _ => {
                (exponent, digits) = (false, 0);
                match b {
                    b'"' => match skip_string(text, i) {
                        Some(after) => i = after,
                        None => return true,
                    },
                    b'[' | b'{' => {
                        depth += 1;
                        // The object sits one level inside its event.
                        if depth >= RECURSION_LIMIT - 1 {
                            return true;
                        }
                    }
                    b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
    }
    false
}

/// The index just past the string whose body starts at `start`, or `None` when the string holds
/// a `\uD…` escape (a possible lone surrogate).
fn skip_string(text: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', text.get(i..)?)?;
        if text.get(at) == Some(&b'"') {
            return Some(at + 1);
        }
        if text.get(at + 1) == Some(&b'u') && matches!(text.get(at + 2), Some(b'd' | b'D')) {
            return None;
        }
        i = at + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_document_order_and_renders_compactly() {
        let text = r#"{"verbs":["*"],"apiGroups":[""],"n":1.5,"e":"a\"b\n","z":null,"t":true}"#;
        let v: Json = serde_json::from_str(text).unwrap();
        assert_eq!(v.to_string(), text);
        assert_eq!(serde_json::to_string(&v).unwrap(), text);
        assert_eq!(v.pointer("/verbs/0").and_then(Json::as_str), Some("*"));
        assert_eq!(v.pointer("/verbs/1"), None);
        assert_eq!(v.pointer(""), Some(&v));
        assert_eq!(v.pointer("nope"), None);
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value() {
        let v: Json = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(v.to_string(), r#"{"a":3,"b":2}"#);
        let tilde: Json = serde_json::from_str(r#"{"a/b":{"c~d":1}}"#).unwrap();
        assert_eq!(
            tilde.pointer("/a~1b/c~0d").map(Json::to_string),
            Some("1".into())
        );
    }
}
