//! Advisories and what they mean for an inventory: OSV records (the one internal format), CISA KEV
//! and FIRST EPSS joined by alias, the version scheme of every ecosystem, matching an [`Sbom`]'s
//! packages against advisories, VEX, and rescans of stored inventories.
//!
//! It must not fetch images or read clusters (it works from SBOMs), and it must not decide how
//! findings are presented: it returns matches, the CLI and report crates render them.
//!
//! [`Sbom`]: palisade_core::Sbom

pub mod advisory;
pub mod cvss;
pub mod db;
pub mod ecosystem;
pub mod epss;
pub mod gate;
pub mod ignore;
pub mod kev;
pub mod matching;
pub mod osv;
pub mod scan;
pub mod version;
pub mod vex;
