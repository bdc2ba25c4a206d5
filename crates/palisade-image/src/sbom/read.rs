//! Reading SBOM files back into an [`Sbom`] (`palisade sbom:FILE`): Palisade JSON, CycloneDX
//! JSON 1.4–1.6 and SPDX 2.2/2.3 JSON, recognised by their own marker members.
//!
//! Only what carries a purl becomes a package: the purl is what vulnerability matching works
//! from. Components whose purl type Palisade has no [`PackageKind`] for are skipped with a
//! [`CatalogNote`], so the gap is visible. Palisade's own properties (CycloneDX) and
//! `sourceInfo` (SPDX) restore where a package was found; syft's `syft:location:0:*` properties
//! are understood too.

use std::collections::BTreeMap;

use palisade_core::{CatalogNote, Distro, ImageInfo, Layer, Package, Sbom, SourcePackage};
use serde_json::{Map, Value};

use super::PALISADE_SCHEMA;
use super::cyclonedx::{
    PROPERTY_ARCH, PROPERTY_DISTRO_CODENAME, PROPERTY_DISTRO_EOL, PROPERTY_DISTRO_ID_LIKE,
    PROPERTY_IMAGE_CONFIG, PROPERTY_IMAGE_LAYER, PROPERTY_IMAGE_MANIFEST, PROPERTY_IMAGE_PLATFORM,
    PROPERTY_IMAGE_TAG, PROPERTY_KIND, PROPERTY_LAYER, PROPERTY_LOCATION, PROPERTY_METADATA,
    PROPERTY_OS_OWNED, PROPERTY_SOURCE_NAME, PROPERTY_SOURCE_VERSION,
};
use super::purl::Purl;
use super::spdx::{SOURCE_INFO_LAYER, SOURCE_INFO_PREFIX};
use crate::ImageError;

/// Components nest (a jar inside a jar); deeper than this is not an SBOM anyone wrote.
const MAX_NESTING: usize = 64;

/// The cataloger name on notes about the SBOM file itself.
const NOTE_SOURCE: &str = "sbom";

/// Parses `bytes` as a Palisade, CycloneDX or SPDX JSON SBOM. Errors name `path_for_errors` and,
/// where they can, the JSON path of the offending member.
pub fn read(path_for_errors: &str, bytes: &[u8]) -> Result<Sbom, ImageError> {
    let error = |message: String| ImageError::Source {
        source_name: path_for_errors.to_string(),
        message,
    };
    let document: Value =
        serde_json::from_slice(bytes).map_err(|e| error(format!("not a JSON SBOM: {e}")))?;
    let Some(root) = document.as_object() else {
        return Err(error(
            "not a JSON SBOM: the document is not an object".into(),
        ));
    };
    if let Some(schema) = root.get("schema") {
        if schema.as_str() != Some(PALISADE_SCHEMA) {
            return Err(error(format!(
                "$.schema: unsupported Palisade SBOM schema {schema} (expected \"{PALISADE_SCHEMA}\")"
            )));
        }
        // `Sbom` ignores members it does not know, `schema` among them.
        return serde_json::from_value::<Sbom>(document)
            .map_err(|e| error(format!("invalid Palisade SBOM: {e}")));
    }
    if root.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return CycloneDx {
            path: path_for_errors,
        }
        .read(root)
        .map_err(error);
    }
    if root.contains_key("spdxVersion") {
        return Spdx {
            path: path_for_errors,
        }
        .read(root)
        .map_err(error);
    }
    Err(error(
        "not a Palisade, CycloneDX or SPDX JSON SBOM (no `schema`, `bomFormat` or `spdxVersion`)"
            .into(),
    ))
}

fn str_at<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'v str>, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(format!(
            "{path}.{key}: expected a string, found {}",
            kind_of(other)
        )),
    }
}

fn array_at<'v>(
    object: &'v Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'v [Value], String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!(
            "{path}.{key}: expected an array, found {}",
            kind_of(other)
        )),
    }
}

fn object<'v>(value: &'v Value, path: &str) -> Result<&'v Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{path}: expected an object, found {}", kind_of(value)))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A package from what every format has: name, version and purl.
fn package_from(
    name: &str,
    version: Option<&str>,
    purl_text: &str,
    purl: &Purl,
) -> Option<Package> {
    let kind = purl.package_kind()?;
    Some(Package {
        name: name.to_string(),
        version: version
            .map(str::to_string)
            .or_else(|| purl.version.clone())
            .unwrap_or_default(),
        kind,
        purl: purl_text.to_string(),
        source: None,
        arch: purl.qualifier("arch").map(str::to_string),
        licenses: Vec::new(),
        location: String::new(),
        layer: None,
        os_owned: false,
        files: Vec::new(),
        metadata: BTreeMap::new(),
    })
}

struct CycloneDx<'p> {
    path: &'p str,
}

impl CycloneDx<'_> {
    fn read(&self, root: &Map<String, Value>) -> Result<Sbom, String> {
        let version = str_at(root, "specVersion", "$")?.unwrap_or_default();
        if !matches!(version, "1.4" | "1.5" | "1.6") {
            return Err(format!(
                "$.specVersion: unsupported CycloneDX version `{version}` (Palisade reads 1.4 to 1.6)"
            ));
        }
        let mut sbom = Sbom::default();
        if let Some(metadata) = root.get("metadata") {
            let metadata = object(metadata, "$.metadata")?;
            if let Some(component) = metadata.get("component") {
                sbom.image = image(
                    object(component, "$.metadata.component")?,
                    "$.metadata.component",
                )?;
            }
        }
        if sbom.image.reference.is_empty() {
            sbom.image.reference = format!("sbom:{}", self.path);
        }
        self.components(
            array_at(root, "components", "$")?,
            "$.components",
            0,
            &mut sbom,
        )?;
        Ok(sbom)
    }

    fn components(
        &self,
        items: &[Value],
        path: &str,
        depth: usize,
        sbom: &mut Sbom,
    ) -> Result<(), String> {
        if depth > MAX_NESTING {
            return Err(format!(
                "{path}: components nested deeper than {MAX_NESTING} levels"
            ));
        }
        for (index, item) in items.iter().enumerate() {
            let path = format!("{path}[{index}]");
            let component = object(item, &path)?;
            let kind = str_at(component, "type", &path)?.unwrap_or_default();
            let properties = properties(component, &path)?;
            if kind == "operating-system" {
                sbom.distro = Some(distro(component, &properties, &path)?);
            } else if let Some(package) = self.package(component, &properties, &path, sbom)? {
                sbom.packages.push(package);
            }
            self.components(
                array_at(component, "components", &path)?,
                &format!("{path}.components"),
                depth + 1,
                sbom,
            )?;
        }
        Ok(())
    }

    fn package(
        &self,
        component: &Map<String, Value>,
        properties: &[(&str, &str)],
        path: &str,
        sbom: &mut Sbom,
    ) -> Result<Option<Package>, String> {
        let Some(purl_text) = str_at(component, "purl", path)? else {
            return Ok(None);
        };
        let name = str_at(component, "name", path)?.unwrap_or_default();
        let Some(purl) = Purl::parse(purl_text) else {
            sbom.notes.push(note(
                self.path,
                format!("{path}.purl: `{purl_text}` is not a package URL; `{name}` skipped"),
            ));
            return Ok(None);
        };
        let version = str_at(component, "version", path)?;
        // CycloneDX splits npm scopes and Maven groups into `group`; Palisade names npm
        // packages with their scope, as npm does.
        let group = str_at(component, "group", path)?.filter(|g| !g.is_empty());
        let full_name = match (group, purl.kind.as_str()) {
            (Some(group), "npm") if !name.starts_with('@') => format!("{group}/{name}"),
            _ => name.to_string(),
        };
        let Some(mut package) = package_from(&full_name, version, purl_text, &purl) else {
            sbom.notes.push(note(
                self.path,
                format!(
                    "{path}: purl type `{}` of `{purl_text}` is not one Palisade catalogs; skipped",
                    purl.kind
                ),
            ));
            return Ok(None);
        };
        package.licenses = licenses(component, path)?;
        let mut source = None::<SourcePackage>;
        for &(key, value) in properties {
            match key {
                PROPERTY_LOCATION | "syft:location:0:path" => package.location = value.to_string(),
                PROPERTY_LAYER | "syft:location:0:layerID" => {
                    package.layer = Some(value.to_string())
                }
                PROPERTY_OS_OWNED => package.os_owned = value == "true",
                PROPERTY_ARCH => package.arch = Some(value.to_string()),
                PROPERTY_SOURCE_NAME => {
                    source
                        .get_or_insert_with(|| SourcePackage {
                            name: String::new(),
                            version: None,
                        })
                        .name = value.to_string();
                }
                PROPERTY_SOURCE_VERSION => {
                    source
                        .get_or_insert_with(|| SourcePackage {
                            name: String::new(),
                            version: None,
                        })
                        .version = Some(value.to_string());
                }
                PROPERTY_KIND => {}
                _ => {
                    if let Some(metadata_key) = key.strip_prefix(PROPERTY_METADATA) {
                        package
                            .metadata
                            .insert(metadata_key.to_string(), value.to_string());
                    }
                }
            }
        }
        package.source = source.filter(|s| !s.name.is_empty());
        Ok(Some(package))
    }
}

fn note(path: &str, message: String) -> CatalogNote {
    CatalogNote::new(NOTE_SOURCE, path, message)
}

/// `properties` as (name, value) pairs; entries without a string name or value are ignored,
/// since properties are free-form and other tools' may not be ours to judge.
fn properties<'v>(
    component: &'v Map<String, Value>,
    path: &str,
) -> Result<Vec<(&'v str, &'v str)>, String> {
    Ok(array_at(component, "properties", path)?
        .iter()
        .filter_map(|property| {
            let property = property.as_object()?;
            Some((
                property.get("name")?.as_str()?,
                property.get("value")?.as_str()?,
            ))
        })
        .collect())
}

fn licenses(component: &Map<String, Value>, path: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (index, choice) in array_at(component, "licenses", path)?.iter().enumerate() {
        let path = format!("{path}.licenses[{index}]");
        let choice = object(choice, &path)?;
        if let Some(expression) = str_at(choice, "expression", &path)? {
            out.push(expression.to_string());
        } else if let Some(license) = choice.get("license") {
            let path = format!("{path}.license");
            let license = object(license, &path)?;
            if let Some(text) = str_at(license, "id", &path)?.or(str_at(license, "name", &path)?) {
                out.push(text.to_string());
            }
        }
    }
    Ok(out)
}

fn image(component: &Map<String, Value>, path: &str) -> Result<ImageInfo, String> {
    let mut image = ImageInfo {
        reference: str_at(component, "name", path)?
            .unwrap_or_default()
            .to_string(),
        ..ImageInfo::default()
    };
    let version = str_at(component, "version", path)?.filter(|v| v.contains(':'));
    for (key, value) in properties(component, path)? {
        match key {
            PROPERTY_IMAGE_MANIFEST => image.manifest_digest = Some(value.to_string()),
            PROPERTY_IMAGE_CONFIG => image.config_digest = Some(value.to_string()),
            PROPERTY_IMAGE_PLATFORM => image.platform = Some(value.to_string()),
            PROPERTY_IMAGE_TAG => image.tags.push(value.to_string()),
            PROPERTY_IMAGE_LAYER => image.layers.push(Layer {
                digest: value.to_string(),
                diff_id: None,
                // Not carried by the document: unknown rather than invented.
                media_type: String::new(),
                size: 0,
            }),
            _ => {}
        }
    }
    // Other tools put the digest in `version` only; Palisade's property is authoritative.
    if image.manifest_digest.is_none() && image.config_digest.is_none() {
        image.manifest_digest = version.map(str::to_string);
    }
    Ok(image)
}

fn distro(
    component: &Map<String, Value>,
    properties: &[(&str, &str)],
    path: &str,
) -> Result<Distro, String> {
    let mut distro = Distro {
        id: str_at(component, "name", path)?
            .unwrap_or_default()
            .to_string(),
        version_id: str_at(component, "version", path)?
            .unwrap_or_default()
            .to_string(),
        pretty_name: str_at(component, "description", path)?.map(str::to_string),
        ..Distro::default()
    };
    for &(key, value) in properties {
        match key {
            PROPERTY_DISTRO_CODENAME => distro.codename = Some(value.to_string()),
            PROPERTY_DISTRO_ID_LIKE => distro.id_like.push(value.to_string()),
            PROPERTY_DISTRO_EOL => distro.end_of_life = Some(value.to_string()),
            _ => {}
        }
    }
    Ok(distro)
}

struct Spdx<'p> {
    path: &'p str,
}

impl Spdx<'_> {
    fn read(&self, root: &Map<String, Value>) -> Result<Sbom, String> {
        let version = str_at(root, "spdxVersion", "$")?.unwrap_or_default();
        if !matches!(version, "SPDX-2.2" | "SPDX-2.3") {
            return Err(format!(
                "$.spdxVersion: unsupported SPDX version `{version}` (Palisade reads SPDX-2.2 and SPDX-2.3 JSON)"
            ));
        }
        let mut extracted = BTreeMap::new();
        for (index, info) in array_at(root, "hasExtractedLicensingInfos", "$")?
            .iter()
            .enumerate()
        {
            let path = format!("$.hasExtractedLicensingInfos[{index}]");
            let info = object(info, &path)?;
            if let (Some(id), Some(name)) = (
                str_at(info, "licenseId", &path)?,
                str_at(info, "name", &path)?.or(str_at(info, "extractedText", &path)?),
            ) {
                extracted.insert(id, name);
            }
        }
        let mut sbom = Sbom::default();
        for (index, item) in array_at(root, "packages", "$")?.iter().enumerate() {
            let path = format!("$.packages[{index}]");
            let package = object(item, &path)?;
            let name = str_at(package, "name", &path)?.unwrap_or_default();
            let version = str_at(package, "versionInfo", &path)?;
            match str_at(package, "primaryPackagePurpose", &path)? {
                Some("CONTAINER") if sbom.image.reference.is_empty() => {
                    sbom.image.reference = name.to_string();
                    sbom.image.manifest_digest =
                        version.filter(|v| v.contains(':')).map(str::to_string);
                    continue;
                }
                Some("OPERATING_SYSTEM" | "OPERATING-SYSTEM") if sbom.distro.is_none() => {
                    sbom.distro = Some(Distro {
                        id: name.to_string(),
                        version_id: version.unwrap_or_default().to_string(),
                        pretty_name: str_at(package, "description", &path)?.map(str::to_string),
                        ..Distro::default()
                    });
                    continue;
                }
                _ => {}
            }
            let Some(purl_text) = purl_ref(package, &path)? else {
                continue;
            };
            let Some(purl) = Purl::parse(purl_text) else {
                sbom.notes.push(note(
                    self.path,
                    format!(
                        "{path}.externalRefs: `{purl_text}` is not a package URL; `{name}` skipped"
                    ),
                ));
                continue;
            };
            let Some(mut found) = package_from(name, version, purl_text, &purl) else {
                sbom.notes.push(note(
                    self.path,
                    format!("{path}: purl type `{}` of `{purl_text}` is not one Palisade catalogs; skipped", purl.kind),
                ));
                continue;
            };
            if let Some(declared) = str_at(package, "licenseDeclared", &path)?
                && !matches!(declared, "NOASSERTION" | "NONE")
            {
                found.licenses.push(
                    extracted
                        .get(declared)
                        .map_or(declared, |name| *name)
                        .to_string(),
                );
            }
            if let Some(info) = str_at(package, "sourceInfo", &path)?
                .and_then(|i| i.strip_prefix(SOURCE_INFO_PREFIX))
            {
                match info.rsplit_once(SOURCE_INFO_LAYER) {
                    Some((location, layer)) => {
                        found.location = location.to_string();
                        found.layer = Some(layer.to_string());
                    }
                    None => found.location = info.to_string(),
                }
            }
            sbom.packages.push(found);
        }
        if sbom.image.reference.is_empty() {
            sbom.image.reference = str_at(root, "name", "$")?.unwrap_or(self.path).to_string();
        }
        Ok(sbom)
    }
}

/// The first purl among a package's `externalRefs` (category `PACKAGE-MANAGER`, or
/// `PACKAGE_MANAGER` as the 2.2 schema spelled it).
fn purl_ref<'v>(package: &'v Map<String, Value>, path: &str) -> Result<Option<&'v str>, String> {
    for (index, reference) in array_at(package, "externalRefs", path)?.iter().enumerate() {
        let path = format!("{path}.externalRefs[{index}]");
        let reference = object(reference, &path)?;
        if str_at(reference, "referenceType", &path)? == Some("purl")
            && let Some(locator) = str_at(reference, "referenceLocator", &path)?
        {
            return Ok(Some(locator));
        }
    }
    Ok(None)
}
