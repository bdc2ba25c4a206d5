//! The request's objects in cel's own representation, with maps and lists behind `Arc`.
//!
//! cel copies a value whenever it binds it to a name: a comprehension binds every element
//! (`containers.all(c, …)` copies each container), a variable keeps its own copy of the subtree
//! it selects (`object.spec.template.spec`). With cel's plain maps and lists those copies are
//! deep; a Deployment is copied many times per policy. These wrappers make every copy of a map or
//! list a reference-count increment. To cel they *are* maps and lists: they identify as the
//! built-in types ([`Val::as_builtin`]), so functions, equality, `in`, `size` and conversions
//! treat them exactly as the values they wrap.

use std::collections::HashMap;
use std::sync::Arc;

use cel::ExecutionError;
use cel::common::traits::{self, Container, Indexer, Iterable, Sizer, Zeroer};
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt, Type,
};
use cel::common::value::{Builtin, BuiltinRef, CowVal, Val};
use serde_json::Value as Json;

/// A JSON value as a cel value, built in one pass (no intermediate [`cel::Value`]). Integers are
/// `int`, as Kubernetes hands them to CEL (see [`crate::convert`]).
pub(crate) fn json_to_val(value: &Json) -> Box<dyn Val> {
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
        Json::String(s) => Box::new(CelString::from(s.clone())),
        Json::Array(items) => Box::new(SharedList(Arc::new(CelList::from(
            items.iter().map(json_to_val).collect::<Vec<_>>(),
        )))),
        Json::Object(fields) => Box::new(SharedMap(Arc::new(CelMap::from(
            fields
                .iter()
                .map(|(k, v)| {
                    (
                        CelMapKey::String(CelString::from(k.clone())),
                        json_to_val(v),
                    )
                })
                .collect::<HashMap<_, _>>(),
        )))),
    }
}

/// A cel map that is cloned by reference.
#[derive(Debug, Clone)]
pub(crate) struct SharedMap(Arc<CelMap<'static>>);

/// A cel list that is cloned by reference.
#[derive(Debug, Clone)]
pub(crate) struct SharedList(Arc<CelList<'static>>);

/// The parts of [`Val`] both wrappers forward to the value they wrap.
macro_rules! forward_val {
    ($wrapper:ident, $variant:ident) => {
        impl Val for $wrapper {
            fn get_type(&self) -> &Type {
                self.0.get_type()
            }

            fn cel_type() -> &'static Type {
                <$wrapper as SharedInner>::inner_cel_type()
            }

            fn as_adder<'b, 'w>(&'b self) -> Option<&'b (dyn traits::Adder + 'w)>
            where
                Self: 'w,
            {
                self.0.as_adder()
            }

            fn as_container(&self) -> Option<&dyn Container> {
                self.0.as_container()
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
                self.0.as_iterable()
            }

            fn as_sizer(&self) -> Option<&dyn Sizer> {
                self.0.as_sizer()
            }

            fn as_zeroer(&self) -> Option<&dyn Zeroer> {
                self.0.as_zeroer()
            }

            fn equals(&self, other: &dyn Val) -> bool {
                self.0.equals(other)
            }

            fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
            where
                Self: 'w,
            {
                Box::new(self.clone())
            }

            fn as_builtin<'b, 'w>(&'b self) -> BuiltinRef<'b, 'w>
            where
                Self: 'w,
            {
                BuiltinRef::$variant(&self.0)
            }

            fn into_builtin<'w>(self: Box<Self>) -> Option<Builtin<'w>>
            where
                Self: 'w,
            {
                Some(Builtin::$variant(Arc::unwrap_or_clone(self.0)))
            }
        }

        impl Indexer for $wrapper {
            fn get<'b, 'w>(&'b self, index: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
            where
                Self: 'w,
            {
                self.0.get(index)
            }

            fn steal<'w>(
                self: Box<Self>,
                index: &dyn Val,
            ) -> Result<Box<dyn Val + 'w>, ExecutionError>
            where
                Self: 'w,
            {
                // The elements are shared wrappers themselves: copying one out is cheap.
                self.0.get(index).map(CowVal::into_owned)
            }
        }
    };
}

/// The static type of the wrapped value, for [`Val::cel_type`].
trait SharedInner {
    fn inner_cel_type() -> &'static Type;
}

impl SharedInner for SharedMap {
    fn inner_cel_type() -> &'static Type {
        <CelMap<'static> as Val>::cel_type()
    }
}

impl SharedInner for SharedList {
    fn inner_cel_type() -> &'static Type {
        <CelList<'static> as Val>::cel_type()
    }
}

forward_val!(SharedMap, Map);
forward_val!(SharedList, List);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
