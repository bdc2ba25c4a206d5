//! The request's objects as cel values converted one level at a time, where an expression looks.
//!
//! Policies read a handful of fields of an object that has hundreds: converting the whole object
//! into cel's maps and lists for every request cost more than evaluating the policies. A
//! [`LazyMap`] or [`LazyList`] borrows the request's JSON and builds its own level (the keys, and
//! lazy values for the elements; strings borrow the JSON's text) the first time anything touches
//! it; levels nobody reaches are never converted.
//!
//! cel copies a value whenever it binds it to a name (each element of a comprehension, each
//! variable). A lazy value's copy shares the level already built (`Arc`), so a request converts
//! each level at most once however many policies read it.
//!
//! To cel they *are* maps and lists: they identify as the built-in types ([`Val::as_builtin`]) and
//! answer every operation with the built level, so errors and semantics are cel's own.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cel::ExecutionError;
use cel::common::traits::{Container, Indexer, Iterable, Sizer, Zeroer};
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt, Type,
};
use cel::common::value::{Builtin, BuiltinRef, CowVal, Val};
use serde_json::{Map as JsonMap, Value as Json};

/// A JSON value as a cel value borrowing it. Integers are `int`, as Kubernetes hands them to CEL
/// (see [`crate::convert`]).
pub(crate) fn json_to_val<'v>(value: &'v Json) -> Box<dyn Val + 'v> {
    match value {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Box::new(CelInt::from(i))
            } else if let Some(u) = n.as_u64() {
                Box::new(CelUInt::from(u))
            } else {
                Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        Json::String(s) => Box::new(CelString::from(s.as_str())),
        Json::Array(items) => Box::new(LazyList {
            json: items,
            built: Arc::default(),
        }),
        Json::Object(fields) => Box::new(LazyMap {
            json: fields,
            built: Arc::default(),
        }),
    }
}

/// A JSON object as a cel map.
#[derive(Debug)]
pub(crate) struct LazyMap<'v> {
    json: &'v JsonMap<String, Json>,
    built: Arc<OnceLock<CelMap<'v>>>,
}

/// A JSON array as a cel list.
#[derive(Debug)]
pub(crate) struct LazyList<'v> {
    json: &'v [Json],
    built: Arc<OnceLock<CelList<'v>>>,
}

impl<'v> LazyMap<'v> {
    fn built(&self) -> &CelMap<'v> {
        self.built.get_or_init(|| {
            CelMap::from(
                self.json
                    .iter()
                    .map(|(k, v)| {
                        (
                            CelMapKey::String(CelString::from(k.as_str())),
                            json_to_val(v),
                        )
                    })
                    .collect::<HashMap<_, _>>(),
            )
        })
    }
}

impl<'v> LazyList<'v> {
    fn built(&self) -> &CelList<'v> {
        self.built
            .get_or_init(|| CelList::from(self.json.iter().map(json_to_val).collect::<Vec<_>>()))
    }
}

/// The parts of [`Val`] and [`Indexer`] both lazy containers share.
macro_rules! lazy_val {
    ($lazy:ident, $builtin:ident, $variant:ident) => {
        impl<'v> Val for $lazy<'v> {
            fn get_type(&self) -> &Type {
                <$builtin<'v> as Val>::cel_type()
            }

            fn cel_type() -> &'static Type {
                <$builtin<'static> as Val>::cel_type()
            }

            fn as_adder<'b, 'w>(&'b self) -> Option<&'b (dyn cel::common::traits::Adder + 'w)>
            where
                Self: 'w,
            {
                self.built().as_adder()
            }

            fn as_container(&self) -> Option<&dyn Container> {
                self.built().as_container()
            }

            fn as_indexer<'b, 'w>(&'b self) -> Option<&'b (dyn Indexer + 'w)>
            where
                Self: 'w,
            {
                Some(self)
            }

            fn into_indexer<'w>(self: Box<Self>) -> Option<Box<dyn Indexer + 'w>>
            where
                Self: 'w,
            {
                Some(self)
            }

            fn as_iterable<'b, 'w>(&'b self) -> Option<&'b (dyn Iterable + 'w)>
            where
                Self: 'w,
            {
                Some(self)
            }

            fn as_sizer(&self) -> Option<&dyn Sizer> {
                Some(self)
            }

            fn as_zeroer(&self) -> Option<&dyn Zeroer> {
                Some(self)
            }

            fn equals(&self, other: &dyn Val) -> bool {
                self.built().equals(other)
            }

            fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
            where
                Self: 'w,
            {
                Box::new($lazy {
                    json: self.json,
                    built: Arc::clone(&self.built),
                })
            }

            fn as_builtin<'b, 'w>(&'b self) -> BuiltinRef<'b, 'w>
            where
                Self: 'w,
            {
                BuiltinRef::$variant(self.built())
            }

            fn into_builtin<'w>(self: Box<Self>) -> Option<Builtin<'w>>
            where
                Self: 'w,
            {
                Some(Builtin::$variant(self.built().clone()))
            }
        }

        impl<'v> Indexer for $lazy<'v> {
            fn get<'b, 'w>(&'b self, index: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
            where
                Self: 'w,
            {
                self.built().get(index)
            }

            fn steal<'w>(
                self: Box<Self>,
                index: &dyn Val,
            ) -> Result<Box<dyn Val + 'w>, ExecutionError>
            where
                Self: 'w,
            {
                self.get(index).map(CowVal::into_owned)
            }
        }

        impl<'v> Iterable for $lazy<'v> {
            fn iter<'b, 'w>(&'b self) -> Box<dyn cel::common::traits::Iterator<'b, 'w> + 'b>
            where
                Self: 'w,
            {
                self.built().iter()
            }
        }

        impl<'v> Sizer for $lazy<'v> {
            fn size(&self) -> CelInt {
                (self.json.len() as i64).into()
            }
        }

        impl<'v> Zeroer for $lazy<'v> {
            fn is_zero_value(&self) -> bool {
                self.json.is_empty()
            }
        }
    };
}

lazy_val!(LazyMap, CelMap, Map);
lazy_val!(LazyList, CelList, List);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn evaluate(expression: &str, object: &Json) -> Result<cel::Value, ExecutionError> {
        let root = crate::expr::functions();
        let mut scope = root.new_inner_scope();
        scope.add_variable_as_val("object", json_to_val(object));
        let program = crate::expr::Expression::compile(expression, &[])
            .map_err(|e| ExecutionError::function_error("compile", e.as_str()))?;
        program.execute(&scope)
    }

    #[test]
    fn shared_values_behave_as_maps_and_lists() {
        let object = json!({
            "spec": {"replicas": 3, "containers": [
                {"name": "app", "image": "registry.example.com/app:1.0", "ports": [{"containerPort": 80}]},
                {"name": "sidecar", "image": "envoy:v1"}
            ]},
            "metadata": {"labels": {"app": "shop"}}
        });
        let cases = [
            ("object.spec.replicas == 3", cel::Value::Bool(true)),
            ("size(object.spec.containers) == 2", cel::Value::Bool(true)),
            (
                "object.spec.containers.all(c, has(c.image))",
                cel::Value::Bool(true),
            ),
            (
                "object.spec.containers.exists(c, has(c.ports))",
                cel::Value::Bool(true),
            ),
            ("'app' in object.metadata.labels", cel::Value::Bool(true)),
            (
                "object.metadata.labels == {'app': 'shop'}",
                cel::Value::Bool(true),
            ),
            (
                "object.spec.containers[1].name == 'sidecar'",
                cel::Value::Bool(true),
            ),
            (
                "object.spec.containers.map(c, c.name).join(',') == 'app,sidecar'",
                cel::Value::Bool(true),
            ),
            (
                "object.spec.containers[0].ports + [1] != []",
                cel::Value::Bool(true),
            ),
            (
                "object.metadata.?labels.app.orValue('') == 'shop'",
                cel::Value::Bool(true),
            ),
            ("type(object.spec) == map", cel::Value::Bool(true)),
            (
                "type(object.spec.containers) == list",
                cel::Value::Bool(true),
            ),
            (
                "[object.spec.containers[0]][0].name",
                cel::Value::String(Arc::new("app".into())),
            ),
        ];
        for (expression, expected) in cases {
            assert_eq!(evaluate(expression, &object), Ok(expected), "{expression}");
        }
        assert!(matches!(
            evaluate("object.spec.missing", &object),
            Err(ExecutionError::NoSuchKey(_))
        ));
        let Ok(cel::Value::Map(spec)) = evaluate("object.spec", &object) else {
            panic!("a shared map must convert to a cel map");
        };
        assert_eq!(spec.map.len(), 2);
    }
}
