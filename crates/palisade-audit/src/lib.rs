//! Control-plane threat detection from Kubernetes audit logs: decoding audit events
//! ([`event`]), the k8saudit plugin's fields over them ([`fields`]), and Palisade's built-in
//! detections with their alert metadata ([`detections`]). Request and response objects are kept
//! as text and parsed on first read into [`json::Json`], which keeps members in the order the API
//! server wrote them, so object-valued fields render as Falco renders them.
//!
//! It owns what an event means and which alerts it raises. It must not do network or file I/O
//! of its own (callers hand it readers and rule texts: the CLI reads files, `audit serve`
//! receives batches, the alerts crate delivers), and never keeps a Secret's value.

pub mod detections;
pub mod event;
pub mod fields;
pub mod json;

pub use detections::{Analysis, Detector, DetectorOptions, analyze};
pub use event::{AuditEvent, DecodeError, LineReader, ReadStats, decode_event, decode_event_list};
pub use fields::{AuditFields, AuditRecord};
pub use json::{Json, LazyJson};
