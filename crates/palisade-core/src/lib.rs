//! The nouns every other Palisade crate speaks: [`Resource`] (an inventory object and where it came
//! from), [`Node`] (the object's tree with source positions), [`Check`] (a catalogue entry),
//! [`Finding`] (a check that holds for a resource, with evidence and a fix), [`Severity`], and
//! what is inside an image: [`Package`], [`Distro`], [`Sbom`]. [`time`] is the one RFC 3339
//! parser and formatter.
//!
//! This crate must not do I/O: no files, no sockets, no environment, no clock. Everything here is a
//! plain value or a pure function so each stage of the pipeline can be built and tested alone.
//! Secret *values* never enter these types: loaders redact before they build a [`Resource`].

pub mod alert;
pub mod check;
pub mod credentials;
pub mod finding;
pub mod fnv;
pub mod package;
pub mod resource;
pub mod severity;
pub mod time;
pub mod tree;

pub use alert::{Alert, AlertAggregator, AlertSeverity, Entities, Mitre};
pub use check::{Category, Check, Frameworks};
pub use finding::{Evidence, Finding, NotAssessed, SourceError, Suppression, SuppressionSource};
pub use fnv::{Fnv1a, fnv1a};
pub use package::{
    CatalogNote, Distro, ImageInfo, Layer, Package, PackageKind, Sbom, SourcePackage, purl_escape,
    purl_unescape,
};
pub use resource::{Resource, ResourceRef, Source};
pub use severity::{ParseSeverityError, Severity};
pub use tree::{ConfigError, FieldPath, Mark, Node, Value};
