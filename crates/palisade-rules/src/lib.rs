//! The rule language detections are written in: Falco's rule files (rules, macros, lists,
//! exceptions, `append` and `override`, priorities, tags, output templates) compiled once into
//! matchers, indexed so that an event is tested only against rules that can match it, and
//! evaluated against any event source that can name its fields.
//!
//! It must not know where events come from: audit events (`ka.*`, `jevt.*`) and syscall events
//! (`evt.*`, `proc.*`, `fd.*`, ...) plug in through [`FieldSource`] and [`Event`]. It does no
//! I/O: callers hand it rule file texts.

pub mod fields;

pub use fields::{Event, FieldInfo, FieldSource, FieldType, FieldValue};
