//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>).
//!
//! The image is `metadata.component` (type `container`), the distribution an
//! `operating-system` component, and every package a `library` component, OS packages included
//! (as syft writes them: CycloneDX has no "OS package" type, the purl type says it). What the
//! format has no field for (location, layer, source package, OS ownership) goes into
//! `palisade:`-prefixed properties, which the reader restores.

use std::io;

use palisade_core::{Package, Sbom};
use serde::Serialize;

use super::license::{Classifier, License};
use super::{WriteOptions, document_uuid, ordered, purl, to_writer};

pub(crate) const PROPERTY_KIND: &str = "palisade:package:kind";
pub(crate) const PROPERTY_LOCATION: &str = "palisade:package:location";
pub(crate) const PROPERTY_LAYER: &str = "palisade:package:layer";
pub(crate) const PROPERTY_OS_OWNED: &str = "palisade:package:os-owned";
pub(crate) const PROPERTY_SOURCE_NAME: &str = "palisade:package:source-name";
pub(crate) const PROPERTY_SOURCE_VERSION: &str = "palisade:package:source-version";
pub(crate) const PROPERTY_ARCH: &str = "palisade:package:arch";
pub(crate) const PROPERTY_METADATA: &str = "palisade:package:metadata:";
pub(crate) const PROPERTY_IMAGE_MANIFEST: &str = "palisade:image:manifest-digest";
pub(crate) const PROPERTY_IMAGE_CONFIG: &str = "palisade:image:config-digest";
pub(crate) const PROPERTY_IMAGE_PLATFORM: &str = "palisade:image:platform";
pub(crate) const PROPERTY_IMAGE_LAYER: &str = "palisade:image:layer";
pub(crate) const PROPERTY_IMAGE_TAG: &str = "palisade:image:tag";
pub(crate) const PROPERTY_DISTRO_CODENAME: &str = "palisade:distro:codename";
pub(crate) const PROPERTY_DISTRO_ID_LIKE: &str = "palisade:distro:id-like";
pub(crate) const PROPERTY_DISTRO_EOL: &str = "palisade:distro:end-of-life";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom<'a> {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata<'a>,
    components: Vec<Component<'a>>,
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<&'a str>,
    tools: Tools<'a>,
    component: Component<'a>,
}

#[derive(Serialize)]
struct Tools<'a> {
    components: [Component<'a>; 1],
}

#[derive(Serialize)]
struct Component<'a> {
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property<'a>>,
}

impl<'a> Component<'a> {
    fn new(kind: &'static str, name: &'a str) -> Component<'a> {
        Component {
            bom_ref: None,
            kind,
            name,
            version: None,
            description: None,
            licenses: Vec::new(),
            purl: None,
            properties: Vec::new(),
        }
    }
}

/// CycloneDX allows either license objects or a single expression, never both in one list.
#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: LicenseObject },
    Expression { expression: String },
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum LicenseObject {
    Id(String),
    Name(String),
}

#[derive(Serialize)]
struct Property<'a> {
    name: std::borrow::Cow<'a, str>,
    value: &'a str,
}

impl<'a> Property<'a> {
    fn new(name: &'static str, value: &'a str) -> Property<'a> {
        Property {
            name: name.into(),
            value,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency<'a> {
    #[serde(rename = "ref")]
    reference: &'a str,
    depends_on: Vec<&'a str>,
}

/// The bom-ref of a package: its purl with a `package-id` qualifier (syft's convention), unique
/// per (purl, location) since the same purl can be installed at several places.
fn bom_ref(package: &Package, hash: &str) -> String {
    if package.purl.is_empty() {
        format!("palisade:package:{}:{hash}", package.kind.as_str())
    } else {
        let separator = if package.purl.contains('?') { '&' } else { '?' };
        format!("{}{separator}package-id={hash}", package.purl)
    }
}

fn licenses<'a>(declared: &'a [String], classifier: &mut Classifier<'a>) -> Vec<LicenseChoice> {
    let classified: Vec<License> = declared
        .iter()
        .map(|text| classifier.classify(text).clone())
        .collect();
    if let [License::Expression(expression)] = classified.as_slice() {
        return vec![LicenseChoice::Expression {
            expression: expression.clone(),
        }];
    }
    classified
        .into_iter()
        .map(|license| LicenseChoice::License {
            license: match license {
                License::Id(id) => LicenseObject::Id(id),
                // Among several licenses an expression cannot stand as one (the list would mix
                // forms), so it is kept as a name, text unchanged.
                License::Expression(text) | License::Name(text) => LicenseObject::Name(text),
            },
        })
        .collect()
}

fn package_component<'a>(
    package: &'a Package,
    bom_ref: &str,
    classifier: &mut Classifier<'a>,
) -> Component<'a> {
    let mut properties = vec![
        Property::new(PROPERTY_KIND, package.kind.as_str()),
        Property::new(PROPERTY_LOCATION, &package.location),
    ];
    if let Some(layer) = &package.layer {
        properties.push(Property::new(PROPERTY_LAYER, layer));
    }
    if package.os_owned {
        properties.push(Property::new(PROPERTY_OS_OWNED, "true"));
    }
    if let Some(source) = &package.source {
        properties.push(Property::new(PROPERTY_SOURCE_NAME, &source.name));
        if let Some(version) = &source.version {
            properties.push(Property::new(PROPERTY_SOURCE_VERSION, version));
        }
    }
    if let Some(arch) = &package.arch {
        properties.push(Property::new(PROPERTY_ARCH, arch));
    }
    for (key, value) in &package.metadata {
        properties.push(Property {
            name: format!("{PROPERTY_METADATA}{key}").into(),
            value,
        });
    }
    Component {
        bom_ref: Some(bom_ref.to_string()),
        version: Some(package.version.as_str()).filter(|v| !v.is_empty()),
        licenses: licenses(&package.licenses, classifier),
        purl: Some(package.purl.clone()).filter(|p| !p.is_empty()),
        properties,
        ..Component::new("library", &package.name)
    }
}

pub(crate) fn write(
    sbom: &Sbom,
    options: &WriteOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    let image = &sbom.image;
    let image_purl = purl::image_purl(image);
    let mut image_properties = Vec::new();
    if let Some(digest) = &image.manifest_digest {
        image_properties.push(Property::new(PROPERTY_IMAGE_MANIFEST, digest));
    }
    if let Some(digest) = &image.config_digest {
        image_properties.push(Property::new(PROPERTY_IMAGE_CONFIG, digest));
    }
    if let Some(platform) = &image.platform {
        image_properties.push(Property::new(PROPERTY_IMAGE_PLATFORM, platform));
    }
    for layer in &image.layers {
        image_properties.push(Property::new(PROPERTY_IMAGE_LAYER, &layer.digest));
    }
    for tag in &image.tags {
        image_properties.push(Property::new(PROPERTY_IMAGE_TAG, tag));
    }
    let image_component = Component {
        bom_ref: Some(image_purl.clone()),
        version: image
            .manifest_digest
            .as_deref()
            .or(image.config_digest.as_deref()),
        purl: Some(image_purl),
        properties: image_properties,
        ..Component::new("container", &image.reference)
    };

    let packages = ordered(sbom, bom_ref);
    let mut components = Vec::with_capacity(packages.len() + 1);
    if let Some(distro) = &sbom.distro {
        let mut properties = Vec::new();
        if let Some(codename) = &distro.codename {
            properties.push(Property::new(PROPERTY_DISTRO_CODENAME, codename));
        }
        for like in &distro.id_like {
            properties.push(Property::new(PROPERTY_DISTRO_ID_LIKE, like));
        }
        if let Some(end_of_life) = &distro.end_of_life {
            properties.push(Property::new(PROPERTY_DISTRO_EOL, end_of_life));
        }
        components.push(Component {
            bom_ref: Some(format!("os:{}@{}", distro.id, distro.version_id)),
            version: Some(distro.version_id.as_str()).filter(|v| !v.is_empty()),
            description: distro.pretty_name.as_deref(),
            properties,
            ..Component::new("operating-system", &distro.id)
        });
    }
    let mut classifier = Classifier::default();
    components.extend(
        packages
            .iter()
            .map(|(bom_ref, package)| package_component(package, bom_ref, &mut classifier)),
    );

    let image_ref = image_component.bom_ref.clone().unwrap_or_default();
    let bom = Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", document_uuid(sbom)),
        version: 1,
        metadata: Metadata {
            timestamp: options.timestamp.as_deref(),
            tools: Tools {
                components: [Component {
                    version: Some(&options.tool_version),
                    ..Component::new("application", "palisade")
                }],
            },
            component: image_component,
        },
        components,
    };
    let depends_on: Vec<&str> = bom
        .components
        .iter()
        .filter_map(|component| component.bom_ref.as_deref())
        .collect();
    let dependencies = vec![Dependency {
        reference: &image_ref,
        depends_on,
    }];
    to_writer(
        out,
        &BomWithDependencies {
            bom: &bom,
            dependencies,
        },
    )
}

/// The dependency list borrows component refs from the document, so it is attached at
/// serialization time rather than stored in it.
#[derive(Serialize)]
struct BomWithDependencies<'b, 'a> {
    #[serde(flatten)]
    bom: &'b Bom<'a>,
    dependencies: Vec<Dependency<'b>>,
}
