//! Palisade JSON (`palisade.dev/sbom/v1`): the [`Sbom`] as serde writes it, under a `schema`
//! member that names the format and its version. Lossless for everything an SBOM is for; only
//! [`Package::files`] is left out (it only serves deciding `os_owned` during cataloging and
//! would multiply the document's size).

use std::collections::BTreeMap;
use std::io;

use palisade_core::{CatalogNote, Distro, ImageInfo, Package, PackageKind, Sbom, SourcePackage};
use serde::Serialize;

use super::{PALISADE_SCHEMA, to_writer};

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    image: &'a ImageInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    distro: Option<&'a Distro>,
    packages: Vec<PackageView<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notes: &'a [CatalogNote],
}

/// [`Package`] without `files`, borrowing instead of cloning. Field names and skip rules are
/// those of [`Package`], so [`Sbom`]'s own `Deserialize` reads the output.
#[derive(Serialize)]
struct PackageView<'a> {
    name: &'a str,
    version: &'a str,
    kind: PackageKind,
    purl: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a SourcePackage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arch: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    licenses: &'a [String],
    location: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    os_owned: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    metadata: &'a BTreeMap<String, String>,
}

impl<'a> From<&'a Package> for PackageView<'a> {
    fn from(package: &'a Package) -> PackageView<'a> {
        PackageView {
            name: &package.name,
            version: &package.version,
            kind: package.kind,
            purl: &package.purl,
            source: package.source.as_ref(),
            arch: package.arch.as_deref(),
            licenses: &package.licenses,
            location: &package.location,
            layer: package.layer.as_deref(),
            os_owned: package.os_owned,
            metadata: &package.metadata,
        }
    }
}

/// A stable order independent of catalogers' run order: kind, name, version, then where.
fn sort_key(package: &Package) -> (PackageKind, &str, &str, &str, &str, Option<&str>) {
    (
        package.kind,
        &package.name,
        &package.version,
        &package.location,
        &package.purl,
        package.layer.as_deref(),
    )
}

pub(crate) fn write(sbom: &Sbom, out: &mut dyn io::Write) -> io::Result<()> {
    let mut packages: Vec<&Package> = sbom.packages.iter().collect();
    packages.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    to_writer(
        out,
        &Document {
            schema: PALISADE_SCHEMA,
            image: &sbom.image,
            distro: sbom.distro.as_ref(),
            packages: packages.into_iter().map(PackageView::from).collect(),
            notes: &sbom.notes,
        },
    )
}
