//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>).
//!
//! The document DESCRIBES the image (a package with `primaryPackagePurpose: CONTAINER`), which
//! CONTAINS the distribution (`OPERATING_SYSTEM`) and every package. Packages are not analysed
//! file by file (`filesAnalyzed: false`), and Palisade concludes nothing about licenses
//! (`licenseConcluded: NOASSERTION`); declared licenses that are not valid SPDX expressions
//! become `LicenseRef-`s defined in `hasExtractedLicensingInfos`, as the specification asks.
//! Where a package was found goes into `sourceInfo` in a fixed form the reader parses back.

use std::collections::{BTreeMap, HashSet};
use std::io;

use palisade_core::{Package, Sbom};
use serde::Serialize;

use super::license::{Classifier, License};
use super::{WriteOptions, document_uuid, ordered, purl, to_writer};

const NOASSERTION: &str = "NOASSERTION";
pub(crate) const IMAGE_ID: &str = "SPDXRef-Image";
pub(crate) const OS_ID: &str = "SPDXRef-OperatingSystem";
/// `sourceInfo` is `acquired package info from <location>` followed by `; layer <digest>` when
/// the layer is known.
pub(crate) const SOURCE_INFO_PREFIX: &str = "acquired package info from ";
pub(crate) const SOURCE_INFO_LAYER: &str = "; layer ";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a, 'p> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: &'a str,
    document_namespace: String,
    creation_info: CreationInfo<'a>,
    packages: &'p [SpdxPackage<'a>],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense<'a>>,
    relationships: Vec<Relationship<'p>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo<'a> {
    created: &'a str,
    creators: [String; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage<'a> {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<&'a str>,
    download_location: &'static str,
    files_analyzed: bool,
    license_concluded: &'static str,
    license_declared: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
}

impl<'a> SpdxPackage<'a> {
    fn new(spdx_id: String, name: &'a str) -> SpdxPackage<'a> {
        SpdxPackage {
            spdx_id,
            name,
            version_info: None,
            download_location: NOASSERTION,
            files_analyzed: false,
            license_concluded: NOASSERTION,
            license_declared: NOASSERTION.to_string(),
            description: None,
            source_info: None,
            primary_package_purpose: None,
            external_refs: Vec::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

impl ExternalRef {
    fn purl(purl: &str) -> ExternalRef {
        ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: purl.to_string(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense<'a> {
    license_id: String,
    name: &'a str,
    extracted_text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship<'a> {
    spdx_element_id: &'a str,
    relationship_type: &'static str,
    related_spdx_element: &'a str,
}

/// `[A-Za-z0-9.-]`, everything else becomes `-`: SPDX ids allow nothing more.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn package_id(package: &Package, hash: &str) -> String {
    format!(
        "SPDXRef-Package-{}-{}-{hash}",
        package.kind.as_str(),
        sanitize(&package.name)
    )
}

/// `LicenseRef-`s of free-text licenses, by text, so each text is defined once per document.
#[derive(Default)]
struct LicenseRefs<'a> {
    by_text: BTreeMap<&'a str, String>,
    taken: HashSet<String>,
}

impl<'a> LicenseRefs<'a> {
    fn reference(&mut self, text: &'a str) -> String {
        if let Some(id) = self.by_text.get(text) {
            return id.clone();
        }
        let base = format!("LicenseRef-{}", sanitize(text.trim()));
        let mut id = base.clone();
        // Different texts can sanitize alike (`BSD like` and `BSD/like`): number the later
        // ones, skipping numbers another text already sanitizes to.
        let mut counter = 1;
        while self.taken.contains(&id) {
            counter += 1;
            id = format!("{base}-{counter}");
        }
        self.taken.insert(id.clone());
        self.by_text.insert(text, id.clone());
        id
    }

    fn into_extracted(self) -> Vec<ExtractedLicense<'a>> {
        let mut extracted: Vec<ExtractedLicense> = self
            .by_text
            .into_iter()
            .map(|(text, license_id)| ExtractedLicense {
                license_id,
                name: text,
                extracted_text: text,
            })
            .collect();
        extracted.sort_by(|a, b| a.license_id.cmp(&b.license_id));
        extracted
    }
}

/// One SPDX expression for all declared licenses (they all apply: `AND`).
fn license_declared<'a>(
    declared: &'a [String],
    classifier: &mut Classifier<'a>,
    refs: &mut LicenseRefs<'a>,
) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(declared.len());
    for text in declared {
        let part = match classifier.classify(text) {
            License::Id(id) => id.clone(),
            License::Expression(expression) if declared.len() == 1 => expression.clone(),
            // Parenthesized so `A OR B` stays one operand of the `AND`.
            License::Expression(expression) => format!("({expression})"),
            License::Name(name) if name.is_empty() => continue,
            License::Name(_) => refs.reference(text),
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    if parts.is_empty() {
        return NOASSERTION.to_string();
    }
    // Every part is a valid expression on its own (tests check the conjunction parses).
    parts.join(" AND ")
}

fn source_info(package: &Package) -> String {
    let mut info = format!("{SOURCE_INFO_PREFIX}{}", package.location);
    if let Some(layer) = &package.layer {
        info.push_str(SOURCE_INFO_LAYER);
        info.push_str(layer);
    }
    info
}

pub(crate) fn write(
    sbom: &Sbom,
    options: &WriteOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let Some(created) = options.timestamp.as_deref() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an SPDX document needs a creation time (WriteOptions::timestamp)",
        ));
    };
    let image = &sbom.image;
    let uuid = document_uuid(sbom);
    let document_namespace = format!(
        "https://palisade.dev/spdxdocs/{}-{uuid}",
        sanitize(&image.reference)
    );

    let image_purl = purl::image_purl(image);
    let mut image_package = SpdxPackage::new(IMAGE_ID.to_string(), &image.reference);
    image_package.version_info = image
        .manifest_digest
        .as_deref()
        .or(image.config_digest.as_deref());
    image_package.primary_package_purpose = Some("CONTAINER");
    image_package.external_refs = vec![ExternalRef::purl(&image_purl)];

    let packages = ordered(sbom, package_id);
    let mut spdx_packages = Vec::with_capacity(packages.len() + 2);
    spdx_packages.push(image_package);
    if let Some(distro) = &sbom.distro {
        let mut os = SpdxPackage::new(OS_ID.to_string(), &distro.id);
        os.version_info = Some(distro.version_id.as_str()).filter(|v| !v.is_empty());
        os.description = distro.pretty_name.as_deref();
        os.primary_package_purpose = Some("OPERATING_SYSTEM");
        spdx_packages.push(os);
    }
    let mut refs = LicenseRefs::default();
    let mut classifier = Classifier::default();
    for (id, package) in &packages {
        let mut spdx = SpdxPackage::new(id.clone(), &package.name);
        spdx.version_info = Some(package.version.as_str()).filter(|v| !v.is_empty());
        spdx.license_declared = license_declared(&package.licenses, &mut classifier, &mut refs);
        spdx.source_info = Some(source_info(package));
        spdx.primary_package_purpose = Some(if package.kind.is_os() {
            "INSTALL"
        } else {
            "LIBRARY"
        });
        if !package.purl.is_empty() {
            spdx.external_refs = vec![ExternalRef::purl(&package.purl)];
        }
        spdx_packages.push(spdx);
    }

    let mut relationships = Vec::with_capacity(spdx_packages.len());
    relationships.push(Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT",
        relationship_type: "DESCRIBES",
        related_spdx_element: IMAGE_ID,
    });
    relationships.extend(spdx_packages.iter().skip(1).map(|package| Relationship {
        spdx_element_id: IMAGE_ID,
        relationship_type: "CONTAINS",
        related_spdx_element: &package.spdx_id,
    }));

    let document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: &image.reference,
        document_namespace,
        creation_info: CreationInfo {
            created,
            creators: [format!("Tool: palisade-{}", options.tool_version)],
        },
        packages: &spdx_packages,
        has_extracted_licensing_infos: refs.into_extracted(),
        relationships,
    };
    to_writer(out, &document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_licenses_become_one_expression() {
        let mut refs = LicenseRefs::default();
        let declared = vec![
            "MIT".to_string(),
            "Apache-2.0 OR MIT".to_string(),
            "BSD like".to_string(),
            "BSD/like".to_string(),
            "mit".to_string(),
        ];
        assert_eq!(
            license_declared(&declared, &mut Classifier::default(), &mut refs),
            "MIT AND (Apache-2.0 OR MIT) AND LicenseRef-BSD-like AND LicenseRef-BSD-like-2"
        );
        assert_eq!(
            license_declared(&[], &mut Classifier::default(), &mut refs),
            NOASSERTION
        );
        let colliding = vec!["BSD like 2".to_string(), "Weird text (c) 2001".to_string()];
        let expression = license_declared(&colliding, &mut Classifier::default(), &mut refs);
        assert_eq!(
            expression,
            "LicenseRef-BSD-like-2-2 AND LicenseRef-Weird-text--c--2001"
        );
        assert!(super::super::license::normalize_expression(&expression).is_some());
        let extracted = refs.into_extracted();
        assert_eq!(extracted.len(), 4);
        assert_eq!(extracted[0].extracted_text, "BSD like");
    }

    #[test]
    fn ids_are_sanitized() {
        assert_eq!(sanitize("@types/node_x"), "-types-node-x");
    }
}
