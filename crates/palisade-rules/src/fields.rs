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
    /// An IP address (`fd.sip`): `=`/`!=` take an address, `in` addresses or CIDR networks.
    /// A [`FieldValue::List`] value holds both ends of a connection (libsinsp's `fd.ip`):
    /// `=`/`in` hold when one end matches, `!=` when neither does.
    Ip,
    /// A network field (libsinsp's IPNET: `fd.net`, `fd.snet`, `fd.cnet`, `fd.lnet`,
    /// `fd.rnet`): the value is an address, and `=`/`!=`/`in` test its membership in the CIDR
    /// networks (or single addresses) of the rule. Several addresses (a [`FieldValue::List`],
    /// both ends for `fd.net`) behave as for [`FieldType::Ip`].
    IpNet,
    /// A list of strings (`ka.user.groups`, `ka.req.pod.containers.image`): `in`,
    /// `intersects` and `contains` test its elements.
    StringList,
    /// A string field with several candidate values, any of which may satisfy a test, as
    /// libsinsp's `proc.aname` without an index (every ancestor's name): a scalar test on a
    /// [`FieldValue::List`] value holds when it holds for some element; an empty list is a
    /// missing value (every test false, only `not` makes it true).
    AnyString,
    /// The numeric counterpart of [`FieldType::AnyString`] (`proc.apid`).
    AnyNumber,
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

/// Declares an event source's field table: `enum Field` (its discriminant is the
/// [`FieldInfo::id`]) and `FIELDS` (name, field, type, argument), from lines of
/// `Variant = "name", Type, ARGUMENT;` where ARGUMENT is [`NO_ARGUMENT`], [`INDEX_ARGUMENT`] or
/// [`KEY_ARGUMENT`]. Shared by the audit (`ka.*`) and syscall (`evt.*`) sources.
#[macro_export]
macro_rules! field_table {
    ($( $variant:ident = $name:literal, $kind:ident, $arg:expr; )*) => {
        /// One field of the source; its discriminant is the [`FieldInfo::id`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u32)]
        pub enum Field { $( $variant, )* }

        /// Every field: name, type and whether it takes a bracket argument.
        pub const FIELDS: &[(&str, Field, $crate::FieldType, Option<bool>)] = &[
            $( ($name, Field::$variant, $crate::FieldType::$kind, $arg), )*
        ];
    };
}

/// A field that takes no bracket argument.
pub const NO_ARGUMENT: Option<bool> = None;
/// A field with an optional index (`proc.aname[2]`).
pub const INDEX_ARGUMENT: Option<bool> = Some(false);
/// A field that requires a key (`jevt.value[/requestObject/kind]`, `k8s.pod.label[app]`).
pub const KEY_ARGUMENT: Option<bool> = Some(true);
