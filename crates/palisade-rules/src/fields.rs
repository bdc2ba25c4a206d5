//! How an event source tells the rule compiler which fields exist and the evaluator what their
//! values are.

/// The type of a field, as Falco declares it; decides which operators a condition may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A string (`ka.user.name`, `proc.name`).
    String,
    /// An unsigned or signed integer (`ka.response.code`, `proc.pid`, `fd.sport`).
    Number,
    Bool,
    /// An IP address (`fd.sip`): compared as text, and with CIDR networks by `in`.
    Ip,
    /// A list of strings (`ka.user.groups`, `ka.req.pod.containers.image`): `in`,
    /// `intersects` and `contains` test its elements.
    StringList,
}

/// A field the source provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// Opaque to the engine; the source uses it to find the value fast.
    pub id: u32,
    pub kind: FieldType,
    /// Whether the field takes an argument in brackets (`ka.req.pod.containers.image[0]`,
    /// `jevt.value[/requestObject/kind]`, `proc.aname[2]`) — `Some(true)` requires one,
    /// `Some(false)` allows one, `None` forbids it.
    pub argument: Option<bool>,
}

/// An event source: its name in rule files (`source: k8s_audit`, `syscall`) and its fields.
pub trait FieldSource {
    /// `k8s_audit` or `syscall`: rules whose `source` is another are not loaded for this source.
    fn source_name(&self) -> &str;
    /// The field `name` (`ka.verb`), or `None` when the source does not have it (the rule that
    /// uses it is reported and disabled, never a crash).
    fn field(&self, name: &str) -> Option<FieldInfo>;
    /// Fields worth indexing rules by (`ka.verb`, `ka.target.resource`; `evt.type`): a rule
    /// whose condition requires `field = value` or `field in (values)` at its top level is only
    /// tested against events with one of those values.
    fn index_fields(&self) -> &[&str];
}

/// A field's value in one event.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    /// The event has no value for the field (Falco's `<NA>`): as in libsinsp, every check on
    /// it is false, `!=` and `exists` included; only an enclosing `not` makes it true.
    Missing,
    Str(std::borrow::Cow<'a, str>),
    Number(i64),
    Bool(bool),
    List(Vec<std::borrow::Cow<'a, str>>),
}

/// One event of a source.
pub trait Event {
    /// The value of field `id` (from [`FieldSource::field`]) with its bracket `argument`.
    fn value(&self, id: u32, argument: Option<&str>) -> FieldValue<'_>;
}
