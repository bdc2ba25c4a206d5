//! JSON ↔ CEL values. Kubernetes hands CEL integers as `int` (never `uint`) so that
//! `object.spec.replicas <= 5` compares like with like; serde's generic conversion would make
//! non-negative JSON numbers `uint` and break every such comparison.

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value as Cel;
use cel::objects::{Key, Map};
use serde_json::Value as Json;

pub(crate) fn to_cel(value: &Json) -> Cel {
    match value {
        Json::Null => Cel::Null,
        Json::Bool(b) => Cel::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Cel::Int(i)
            } else if let Some(u) = n.as_u64() {
                Cel::UInt(u)
            } else {
                Cel::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => Cel::String(Arc::new(s.clone())),
        Json::Array(items) => Cel::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(fields) => Cel::Map(Map {
            map: Arc::new(
                fields
                    .iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                    .collect::<HashMap<_, _>>(),
            ),
        }),
    }
}

/// A CEL map with string keys, for the top-level `variables` object.
pub(crate) fn map_of(entries: impl IntoIterator<Item = (String, Cel)>) -> Cel {
    Cel::Map(Map {
        map: Arc::new(
            entries
                .into_iter()
                .map(|(k, v)| (Key::String(Arc::new(k)), v))
                .collect(),
        ),
    })
}

/// The CEL type name Kubernetes would print for a value, for "must evaluate to bool" errors.
pub(crate) fn type_name(value: &Cel) -> &'static str {
    match value {
        Cel::List(_) => "list",
        Cel::Map(_) => "map",
        Cel::Function(..) => "function",
        Cel::Int(_) => "int",
        Cel::UInt(_) => "uint",
        Cel::Float(_) => "double",
        Cel::String(_) => "string",
        Cel::Bytes(_) => "bytes",
        Cel::Bool(_) => "bool",
        Cel::Duration(_) => "duration",
        Cel::Timestamp(_) => "timestamp",
        Cel::Opaque(_) => "opaque",
        Cel::Null => "null",
        Cel::Struct(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_are_int_as_in_kubernetes() {
        assert_eq!(to_cel(&json!(3)), Cel::Int(3));
        assert_eq!(to_cel(&json!(u64::MAX)), Cel::UInt(u64::MAX));
        assert_eq!(to_cel(&json!(0.5)), Cel::Float(0.5));
        let Cel::Map(map) = to_cel(&json!({"a": [true, null]})) else {
            panic!("an object must become a map");
        };
        assert_eq!(
            map.get(&Key::String(Arc::new("a".into()))),
            Some(&Cel::List(Arc::new(vec![Cel::Bool(true), Cel::Null])))
        );
    }
}
