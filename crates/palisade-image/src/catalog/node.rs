//! Node.js packages: installed packages (`package.json` files with a name and version inside
//! `node_modules`, at any nesting) and lockfiles of applications
//! (`package-lock.json`/`npm-shrinkwrap.json` v1–v3, `yarn.lock` classic and berry,
//! `pnpm-lock.yaml` v5/v6/v9) outside `node_modules`.
//!
//! Deliberate differences from syft (`javascript-package-cataloger`, `javascript-lock-cataloger`):
//! - An application's own `package.json` (outside `node_modules`) is not a package: it is the
//!   image's application, whose name usually collides with nothing real in the npm registry (or
//!   worse, with something unrelated). Every `package.json` with a name and version inside a
//!   `node_modules` tree is, as in syft.
//! - One package per application directory and `name@version`: a lockfile entry that is also
//!   installed under the application's `node_modules` is reported once, from the installed
//!   `package.json` (which says more: licenses, exact location). syft reports both. Lockfile
//!   entries with nothing installed (no `node_modules`, or dev dependencies left out of a
//!   production install) are still reported, marked `dev` when the lockfile says so.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use palisade_core::{CatalogNote, Package, PackageKind, purl_escape};
use serde_json::Value;

use super::{Cataloger, Context, Interest};
use crate::files::FileTree;

pub struct NodePackages;

const LOCKFILES: [&str; 4] = [
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
];

/// Whether `path` is a `package.json` inside a `node_modules` tree: package roots, and packages
/// vendored inside other packages. Manifests there without a name and version (sub-path
/// manifests such as `rxjs/ajax/package.json` or `{"type": "module"}` markers) are not packages
/// and are dropped when parsed.
fn is_installed_manifest(path: &str) -> bool {
    path.ends_with("/package.json")
        && (path.contains("/node_modules/") || is_system_module_manifest(path))
}

/// Debian and Ubuntu install the system's Node modules (`node-*` packages) outside any
/// `node_modules` directory: `/usr/share/nodejs/<name>/package.json` (or `@scope/<name>`). Only a
/// module's own manifest counts, not the `package.json` markers deeper inside it.
fn is_system_module_manifest(path: &str) -> bool {
    const SYSTEM_MODULE_DIRS: [&str; 2] = ["/usr/share/nodejs/", "/usr/lib/nodejs/"];
    SYSTEM_MODULE_DIRS.iter().any(|dir| {
        path.strip_prefix(dir).is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('/').collect();
            match parts.as_slice() {
                [_, "package.json"] => true,
                [scope, _, "package.json"] => scope.starts_with('@'),
                _ => false,
            }
        })
    })
}

fn lockfile_name(path: &str) -> Option<&'static str> {
    if path.contains("/node_modules/") {
        return None;
    }
    let file = path.rsplit('/').next()?;
    LOCKFILES.iter().copied().find(|l| *l == file)
}

impl Cataloger for NodePackages {
    fn name(&self) -> &'static str {
        "node"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if is_installed_manifest(path) {
            Interest::Extract(manifest_extract)
        } else if lockfile_name(path).is_some() {
            Interest::Keep
        } else {
            Interest::None
        }
    }

    fn catalog(
        &self,
        files: &FileTree,
        context: &Context<'_>,
        packages: &mut Vec<Package>,
        notes: &mut Vec<CatalogNote>,
    ) {
        let mut note =
            |path: &str, message: String| notes.push(CatalogNote::new("node", path, message));
        // Installed packages first: they decide what a lockfile entry duplicates.
        let mut installed: HashSet<(String, String, String)> = HashSet::new();
        for (path, _) in files.kept() {
            if !is_installed_manifest(path) {
                continue;
            }
            let Some(bytes) = files
                .extract(path)
                .and_then(|e| e.strip_prefix(MANIFEST_MAGIC))
            else {
                continue;
            };
            match parse_package_json(path, bytes) {
                Ok(Some(package)) => {
                    installed.insert((
                        app_root(path).to_string(),
                        package.name.clone(),
                        package.version.clone(),
                    ));
                    packages.push(package);
                }
                Ok(None) => {}
                Err(message) => note(path, message),
            }
        }
        for (path, _) in files.kept() {
            let Some(kind) = lockfile_name(path) else {
                continue;
            };
            // Debian's node-* packages ship upstream's lockfiles: they list how upstream built
            // the module (dev tools included), not what is installed here.
            if context.os_files.is_some_and(|owned| owned.contains(path)) {
                continue;
            }
            let Some(bytes) = files.read(path) else {
                continue;
            };
            let parsed = match kind {
                "yarn.lock" => Ok(parse_yarn_lock(path, bytes)),
                "pnpm-lock.yaml" => parse_pnpm_lock(path, bytes),
                _ => parse_package_lock(path, bytes),
            };
            match parsed {
                Ok(found) => {
                    let root = path.rsplit_once('/').map_or("", |(dir, _)| dir);
                    let mut seen = HashSet::new();
                    for package in found {
                        let key = (
                            root.to_string(),
                            package.name.clone(),
                            package.version.clone(),
                        );
                        if installed.contains(&key) || !seen.insert(key) {
                            continue;
                        }
                        packages.push(package);
                    }
                }
                Err(message) => note(path, message),
            }
        }
    }
}

/// The application directory an installed package belongs to: what precedes the first
/// `node_modules` (`/app` for `/app/node_modules/a/node_modules/b/package.json`).
fn app_root(path: &str) -> &str {
    path.split_once("/node_modules/")
        .map_or("", |(root, _)| root)
}

/// Starts the extract of [`manifest_extract`].
const MANIFEST_MAGIC: &[u8] = b"\0npm1";
/// Larger than any real manifest (the biggest carry a long README copy: a few hundred KiB).
const MAX_MANIFEST: u64 = 8 << 20;
/// The manifest fields [`parse_package_json`] reads.
const MANIFEST_FIELDS: [&str; 7] = [
    "name", "version", "license", "licenses", "author", "homepage", "private",
];
/// Where [`manifest_extract`] puts why a manifest could not be read.
const EXTRACT_ERROR: &str = "\u{0}error";

/// Keeps only the fields of an installed `package.json` that make the package: an image with a
/// large `node_modules` holds tens of thousands of manifests, mostly scripts, READMEs and
/// dependency ranges nobody here reads.
pub fn manifest_extract(
    reader: &mut dyn std::io::Read,
    _size: u64,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader.take(MAX_MANIFEST).read_to_end(&mut bytes)?;
    let kept = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut manifest)) => {
            manifest.retain(|k, _| MANIFEST_FIELDS.contains(&k.as_str()));
            Value::Object(manifest)
        }
        Ok(_) => return Ok(None),
        Err(e) => {
            let mut error = serde_json::Map::new();
            error.insert(
                EXTRACT_ERROR.to_string(),
                Value::String(format!("package.json is not valid JSON: {e}")),
            );
            Value::Object(error)
        }
    };
    let mut out = MANIFEST_MAGIC.to_vec();
    serde_json::to_writer(&mut out, &kept).map_err(std::io::Error::other)?;
    Ok(Some(out))
}

/// `pkg:npm/%40scope/name@1.2.3`.
pub fn purl(name: &str, version: &str) -> String {
    let name = match name.split_once('/') {
        Some((scope, rest)) if scope.starts_with('@') => {
            format!("{}/{}", purl_escape(scope), purl_escape(rest))
        }
        _ => purl_escape(name),
    };
    format!("pkg:npm/{name}@{}", purl_escape(version))
}

fn package(
    name: &str,
    version: &str,
    licenses: Vec<String>,
    location: &str,
    metadata: BTreeMap<String, String>,
) -> Package {
    Package {
        purl: purl(name, version),
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageKind::Npm,
        source: None,
        arch: None,
        licenses,
        location: location.to_string(),
        layer: None,
        os_owned: false,
        files: Vec::new(),
        metadata,
    }
}

/// `"license": "MIT"`, `"license": {"type": "MIT"}`, or the deprecated `"licenses": [{"type": …}]`.
fn licenses_of(manifest: &Value) -> Vec<String> {
    let one = |value: &Value| match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    if let Some(license) = manifest.get("license").and_then(one) {
        return vec![license];
    }
    match manifest.get("licenses") {
        Some(Value::Array(list)) => list.iter().filter_map(one).collect(),
        Some(other) => one(other).into_iter().collect(),
        None => Vec::new(),
    }
}

/// An installed package's manifest; `Ok(None)` when it lacks a name or version (not a package).
pub fn parse_package_json(location: &str, bytes: &[u8]) -> Result<Option<Package>, String> {
    let manifest: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("package.json is not valid JSON: {e}"))?;
    if let Some(error) = manifest.get(EXTRACT_ERROR).and_then(Value::as_str) {
        return Err(error.to_string());
    }
    let text = |key: &str| {
        manifest
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (Some(name), Some(version)) = (text("name"), text("version")) else {
        return Ok(None);
    };
    let mut metadata = BTreeMap::new();
    if let Some(homepage) = text("homepage") {
        metadata.insert("homepage".to_string(), homepage.to_string());
    }
    let author = match manifest.get("author") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("name").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    if let Some(author) = author.filter(|a| !a.is_empty()) {
        metadata.insert("author".to_string(), author);
    }
    if manifest.get("private").and_then(Value::as_bool) == Some(true) {
        metadata.insert("private".to_string(), "true".to_string());
    }
    Ok(Some(package(
        name,
        version,
        licenses_of(&manifest),
        location,
        metadata,
    )))
}

/// Whether a lockfile version is a registry version rather than a `file:`, `link:`, git or URL
/// reference (which name no published release).
fn is_registry_version(version: &str) -> bool {
    version.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !version.contains(':')
        && !version.contains('/')
}

/// `npm:real-name@1.2.3` aliases (npm and yarn) → the real name and version.
fn resolve_alias<'a>(name: &'a str, version: &'a str) -> (&'a str, &'a str) {
    if let Some(target) = version.strip_prefix("npm:")
        && let Some((real, real_version)) = split_name_version(target)
    {
        return (real, real_version);
    }
    (name, version)
}

/// `name@1.2.3` / `@scope/name@1.2.3` → name and version (the `@` of a scope is not a separator).
fn split_name_version(spec: &str) -> Option<(&str, &str)> {
    let at = spec.get(1..)?.find('@')? + 1;
    Some((spec.get(..at)?, spec.get(at + 1..)?))
}

fn lock_metadata(entry: &Value, lockfile: &str) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::new();
    metadata.insert("lockfile".to_string(), lockfile.to_string());
    for key in ["resolved", "integrity"] {
        if let Some(value) = entry.get(key).and_then(Value::as_str) {
            metadata.insert(key.to_string(), value.to_string());
        }
    }
    for key in ["dev", "optional", "devOptional"] {
        if entry.get(key).and_then(Value::as_bool) == Some(true) {
            metadata.insert(key.to_string(), "true".to_string());
        }
    }
    metadata
}

/// `package-lock.json` / `npm-shrinkwrap.json`: v2/v3 `packages` (keyed by install path), or
/// v1's nested `dependencies` tree.
pub fn parse_package_lock(location: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let lock: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("package-lock.json is not valid JSON: {e}"))?;
    let mut out = Vec::new();
    if let Some(Value::Object(entries)) = lock.get("packages") {
        for (key, entry) in entries {
            // "" is the application itself; keys without node_modules are workspace members.
            let Some((_, key_name)) = key.rsplit_once("node_modules/") else {
                continue;
            };
            if entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(key_name);
            let Some(version) = entry.get("version").and_then(Value::as_str) else {
                continue;
            };
            let (name, version) = resolve_alias(name, version);
            if name.is_empty() || !is_registry_version(version) {
                continue;
            }
            out.push(package(
                name,
                version,
                licenses_of(entry),
                location,
                lock_metadata(entry, location),
            ));
        }
        return Ok(out);
    }
    if let Some(Value::Object(dependencies)) = lock.get("dependencies") {
        collect_v1(dependencies, location, &mut out);
    }
    Ok(out)
}

fn collect_v1(
    dependencies: &serde_json::Map<String, Value>,
    location: &str,
    out: &mut Vec<Package>,
) {
    for (name, entry) in dependencies {
        if let Some(version) = entry.get("version").and_then(Value::as_str) {
            let (name, version) = resolve_alias(name, version);
            if !name.is_empty() && is_registry_version(version) {
                out.push(package(
                    name,
                    version,
                    Vec::new(),
                    location,
                    lock_metadata(entry, location),
                ));
            }
        }
        if let Some(Value::Object(nested)) = entry.get("dependencies") {
            collect_v1(nested, location, out);
        }
    }
}

fn unquote(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

/// `yarn.lock`, classic (v1, its own format) and berry (YAML, but regular enough to read by
/// lines: top-level keys are entries, `version`/`resolution` are two-space indented).
pub fn parse_yarn_lock(location: &str, bytes: &[u8]) -> Vec<Package> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut entry: Option<Entry> = None;
    #[derive(Default)]
    struct Entry {
        specifier: String,
        version: Option<String>,
        resolution: Option<String>,
        resolved: Option<String>,
        integrity: Option<String>,
    }
    let mut finish = |entry: Entry| {
        let Some(version) = entry.version else { return };
        // Berry: `resolution: "name@npm:1.2.3"` names the real package; `workspace:`,
        // `patch:`, `link:` and `portal:` entries are not registry releases.
        let (name, version) = if let Some(resolution) = &entry.resolution {
            let Some((name, reference)) = split_name_version(resolution) else {
                return;
            };
            if !reference.starts_with("npm:") {
                return;
            }
            (name.to_string(), version)
        } else {
            // Classic: the first specifier `name@range` (or `alias@npm:real@range`).
            let Some((name, range)) = split_name_version(&entry.specifier) else {
                return;
            };
            let name = range
                .strip_prefix("npm:")
                .and_then(split_name_version)
                .map_or(name, |(real, _)| real);
            (name.to_string(), version)
        };
        if name.is_empty() || !is_registry_version(&version) {
            return;
        }
        let mut metadata = BTreeMap::new();
        metadata.insert("lockfile".to_string(), location.to_string());
        if let Some(resolved) = entry.resolved {
            metadata.insert("resolved".to_string(), resolved);
        }
        if let Some(integrity) = entry.integrity {
            metadata.insert("integrity".to_string(), integrity);
        }
        out.push(package(&name, &version, Vec::new(), location, metadata));
    };
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            if let Some(done) = entry.take() {
                finish(done);
            }
            let Some(key) = line.trim_end().strip_suffix(':') else {
                continue;
            };
            if key == "__metadata" {
                continue;
            }
            let first = key.split(", ").next().unwrap_or_default();
            entry = Some(Entry {
                specifier: unquote(first).to_string(),
                ..Entry::default()
            });
            continue;
        }
        let Some(current) = entry.as_mut() else {
            continue;
        };
        // Only the entry's own fields (two spaces), not nested `dependencies:` maps.
        let Some(field) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) else {
            continue;
        };
        let (key, value) = match field.split_once(':') {
            Some((k, v)) if !k.contains(' ') && !k.contains('"') => (k, v),
            _ => match field.split_once(' ') {
                Some((k, v)) => (k, v),
                None => continue,
            },
        };
        let value = unquote(value).to_string();
        match key {
            "version" => current.version = Some(value),
            "resolution" => current.resolution = Some(value),
            "resolved" => current.resolved = Some(value),
            "integrity" | "checksum" => current.integrity = Some(value),
            _ => {}
        }
    }
    if let Some(done) = entry.take() {
        finish(done);
    }
    out
}

/// `pnpm-lock.yaml`: the keys of the top-level `packages` map, which name every resolved package
/// (`/name/1.2.3_peer` in v5, `/name@1.2.3(peer)` in v6, `name@1.2.3(peer)` in v9).
pub fn parse_pnpm_lock(location: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| format!("pnpm-lock.yaml is not UTF-8: {e}"))?;
    let mut lockfile_version = String::new();
    let mut keys: Vec<String> = Vec::new();
    let mut dev: HashSet<String> = HashSet::new();
    yaml::walk(text, |path, value| match (path, value) {
        ([version], Some(value)) if version == "lockfileVersion" => {
            lockfile_version = value.to_string();
        }
        ([packages, key], None) if packages == "packages" => keys.push(key.clone()),
        ([packages, key, field], Some("true")) if packages == "packages" && field == "dev" => {
            dev.insert(key.clone());
        }
        _ => {}
    })
    .map_err(|e| format!("pnpm-lock.yaml is not valid YAML: {e}"))?;
    // Before v6, keys separate name and version with `/`; from v6 with `@`.
    let slash_style = lockfile_version
        .split('.')
        .next()
        .and_then(|major| {
            major
                .trim_matches(|c| c == '\'' || c == '"')
                .parse::<u32>()
                .ok()
        })
        .is_some_and(|major| major < 6);
    let mut out = Vec::new();
    for key in keys {
        let spec = key.strip_prefix('/').unwrap_or(&key);
        let parsed = if slash_style {
            spec.rsplit_once('/')
                .map(|(name, version)| (name, version.split('_').next().unwrap_or(version)))
        } else {
            let spec = spec.split('(').next().unwrap_or(spec);
            split_name_version(spec)
        };
        let Some((name, version)) = parsed else {
            continue;
        };
        if name.is_empty() || !is_registry_version(version) {
            continue;
        }
        let mut metadata = BTreeMap::new();
        metadata.insert("lockfile".to_string(), location.to_string());
        if dev.contains(&key) {
            metadata.insert("dev".to_string(), "true".to_string());
        }
        out.push(package(name, version, Vec::new(), location, metadata));
    }
    Ok(out)
}

/// A minimal streaming YAML reader over `saphyr-parser` events: reports every mapping key (with
/// the keys leading to it) and every scalar value, without building a document. Aliases are not
/// expanded, so anchor bombs cost nothing.
mod yaml {
    use saphyr_parser::{Event, Parser};

    struct Frame {
        mapping: bool,
        /// The key whose value is being read (mappings only).
        key: Option<String>,
        awaiting_value: bool,
    }

    /// Calls `visit(keys, None)` for each mapping key (keys = path including it) and
    /// `visit(keys, Some(value))` for each scalar value under a key.
    pub fn walk(text: &str, mut visit: impl FnMut(&[String], Option<&str>)) -> Result<(), String> {
        let mut frames: Vec<Frame> = Vec::new();
        let mut path: Vec<String> = Vec::new();
        let mut parser = Parser::new_from_str(text);
        while let Some(event) = parser.next_event() {
            let (event, _) = event.map_err(|e| e.to_string())?;
            match event {
                Event::Scalar(value, ..) => {
                    let Some(frame) = frames.last_mut() else {
                        continue;
                    };
                    if !frame.mapping {
                        continue;
                    }
                    if frame.awaiting_value {
                        frame.awaiting_value = false;
                        path.push(frame.key.clone().unwrap_or_default());
                        visit(&path, Some(&value));
                        path.pop();
                    } else {
                        frame.key = Some(value.to_string());
                        frame.awaiting_value = true;
                        path.push(value.to_string());
                        visit(&path, None);
                        path.pop();
                    }
                }
                Event::Alias(_) => {
                    if let Some(frame) = frames.last_mut()
                        && frame.mapping
                    {
                        frame.awaiting_value = !frame.awaiting_value;
                        if frame.awaiting_value {
                            frame.key = None;
                        }
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let child_key = match frames.last() {
                        Some(parent) if parent.mapping && parent.awaiting_value => {
                            parent.key.clone().unwrap_or_default()
                        }
                        Some(parent) if parent.mapping => String::from("?"),
                        _ => String::from("[]"),
                    };
                    if !frames.is_empty() {
                        path.push(child_key);
                    }
                    frames.push(Frame {
                        mapping: matches!(event, Event::MappingStart(..)),
                        key: None,
                        awaiting_value: false,
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    frames.pop();
                    if frames.is_empty() {
                        continue;
                    }
                    path.pop();
                    if let Some(parent) = frames.last_mut()
                        && parent.mapping
                    {
                        // A container that was a value completes the pair; one that was a
                        // (complex) key now awaits its value.
                        parent.awaiting_value = !parent.awaiting_value;
                        if parent.awaiting_value {
                            parent.key = None;
                        }
                    }
                }
                Event::DocumentEnd => {
                    frames.clear();
                    path.clear();
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(packages: &[Package]) -> Vec<String> {
        packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect()
    }

    #[test]
    fn installed_manifest_paths() {
        assert!(is_installed_manifest(
            "/app/node_modules/express/package.json"
        ));
        assert!(is_installed_manifest(
            "/app/node_modules/@types/node/package.json"
        ));
        assert!(is_installed_manifest(
            "/usr/lib/node_modules/npm/node_modules/semver/package.json"
        ));
        assert!(!is_installed_manifest("/app/package.json"));
        assert!(is_installed_manifest(
            "/usr/share/nodejs/express/package.json"
        ));
        assert!(is_installed_manifest(
            "/usr/share/nodejs/@babel/core/package.json"
        ));
        assert!(!is_installed_manifest(
            "/usr/share/nodejs/express/lib/package.json"
        ));
        assert!(!is_installed_manifest("/usr/share/nodejs/package.json"));
        assert!(!is_installed_manifest(
            "/app/node_modules/x/package.json.bak"
        ));
        // A sub-path manifest is kept but is no package: it has no version.
        assert_eq!(
            parse_package_json(
                "/app/node_modules/rxjs/ajax/package.json",
                br#"{"name":"rxjs/ajax","types":"../dist/types/ajax/index.d.ts"}"#
            ),
            Ok(None)
        );
        assert!(lockfile_name("/app/yarn.lock").is_some());
        assert!(lockfile_name("/app/node_modules/x/yarn.lock").is_none());
    }

    #[test]
    fn package_json() {
        let json = br#"{"name":"@babel/core","version":"7.24.0","license":{"type":"MIT"},
            "author":{"name":"The Babel Team"}}"#;
        let p = parse_package_json("/app/node_modules/@babel/core/package.json", json)
            .expect("json")
            .expect("package");
        assert_eq!(p.purl, "pkg:npm/%40babel/core@7.24.0");
        assert_eq!(p.licenses, ["MIT"]);
        assert_eq!(p.metadata["author"], "The Babel Team");
        assert_eq!(
            parse_package_json("/x", br#"{"name":"x"}"#).expect("json"),
            None
        );
        assert!(parse_package_json("/x", b"{").is_err());
    }

    #[test]
    fn manifest_extract_keeps_the_package_fields() {
        let json = br#"{"name":"left-pad","version":"1.3.0","license":"WTFPL",
            "readme":"a very long readme","scripts":{"test":"x"},"dependencies":{"a":"^1"}}"#;
        let out = manifest_extract(&mut &json[..], 0)
            .expect("read")
            .expect("extract");
        let kept = out.strip_prefix(MANIFEST_MAGIC).expect("magic");
        assert_eq!(
            kept,
            br#"{"license":"WTFPL","name":"left-pad","version":"1.3.0"}"#
        );
        let broken = manifest_extract(&mut &b"{"[..], 0)
            .expect("read")
            .expect("extract");
        let error = parse_package_json("/x", broken.strip_prefix(MANIFEST_MAGIC).expect("magic"));
        assert!(error.is_err_and(|e| e.contains("not valid JSON")));
    }

    #[test]
    fn package_lock_v3_and_v1() {
        let v3 = br#"{"name":"shop","lockfileVersion":3,"packages":{
            "":{"name":"shop","version":"1.0.0"},
            "node_modules/express":{"version":"4.19.2","license":"MIT","resolved":"https://registry.npmjs.org/express/-/express-4.19.2.tgz"},
            "node_modules/express/node_modules/debug":{"version":"2.6.9","dev":true},
            "node_modules/string-width-cjs":{"name":"string-width","version":"4.2.3"},
            "node_modules/local":{"resolved":"packages/local","link":true},
            "packages/local":{"name":"local","version":"0.0.1"}}}"#;
        let packages = parse_package_lock("/app/package-lock.json", v3).expect("parse");
        let mut got = names(&packages);
        got.sort();
        assert_eq!(got, ["debug@2.6.9", "express@4.19.2", "string-width@4.2.3"]);
        let debug = packages.iter().find(|p| p.name == "debug").expect("debug");
        assert_eq!(debug.metadata["dev"], "true");
        let v1 = br#"{"lockfileVersion":1,"dependencies":{
            "lodash":{"version":"4.17.21"},
            "a":{"version":"1.0.0","dependencies":{"b":{"version":"2.0.0"}}},
            "c":{"version":"npm:@scope/real@3.0.0"},
            "g":{"version":"github:user/g#abc"}}}"#;
        let mut got = names(&parse_package_lock("/app/package-lock.json", v1).expect("parse"));
        got.sort();
        assert_eq!(
            got,
            ["@scope/real@3.0.0", "a@1.0.0", "b@2.0.0", "lodash@4.17.21"]
        );
    }

    #[test]
    fn yarn_classic_and_berry() {
        let classic = br#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
  version "7.12.13"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc826beef65e75c50e21d3837d7d95798dd658"
  integrity sha512-HV1Cm0Q3ZrpCR93tkWOYiuYIgLxZXZFVG2VgK+MBWjUqZTundupbfx2aXarXuw5Ko5aMcjtJgbSs4vUGBS5v6g==
  dependencies:
    "@babel/highlight" "^7.12.13"

lodash@^4.17.21:
  version "4.17.21"

"string-width-cjs@npm:string-width@^4.2.0":
  version "4.2.3"
"#;
        let packages = parse_yarn_lock("/app/yarn.lock", classic);
        assert_eq!(
            names(&packages),
            [
                "@babel/code-frame@7.12.13",
                "lodash@4.17.21",
                "string-width@4.2.3"
            ]
        );
        assert!(packages[0].metadata["integrity"].starts_with("sha512-"));
        let berry = br#"# This file is generated by running "yarn install" inside your project.

__metadata:
  version: 8
  cacheKey: 10c0

"lodash@npm:^4.17.20, lodash@npm:^4.17.21":
  version: 4.17.21
  resolution: "lodash@npm:4.17.21"
  checksum: 10c0/d8cbea072bb08655bb4c989da418994b073a608dffa608b09ac04b43a791b12aeae7cd7ad919aa4c925f33b48490b5cfe6c1f71d827956071dae2e7bb3a6b74
  languageName: node
  linkType: hard

"shop@workspace:.":
  version: 0.0.0-use.local
  resolution: "shop@workspace:."
  languageName: unknown
  linkType: soft
"#;
        assert_eq!(
            names(&parse_yarn_lock("/app/yarn.lock", berry)),
            ["lodash@4.17.21"]
        );
    }

    #[test]
    fn pnpm_versions() {
        let v5 = b"lockfileVersion: 5.4\n\npackages:\n\n  /@babel/core/7.24.0:\n    resolution: {integrity: sha512-x}\n    dev: true\n\n  /styled-jsx/5.0.0_react@17.0.2:\n    resolution: {integrity: sha512-y}\n    dev: false\n";
        let packages = parse_pnpm_lock("/app/pnpm-lock.yaml", v5).expect("parse");
        assert_eq!(names(&packages), ["@babel/core@7.24.0", "styled-jsx@5.0.0"]);
        assert_eq!(
            packages[0].metadata.get("dev").map(String::as_str),
            Some("true")
        );
        assert_eq!(packages[1].metadata.get("dev"), None);
        let v6 = b"lockfileVersion: '6.0'\npackages:\n  /@types/node@20.11.0:\n    resolution: {integrity: sha512-x}\n  /react-dom@18.2.0(react@18.2.0):\n    dependencies:\n      react: 18.2.0\n";
        assert_eq!(
            names(&parse_pnpm_lock("/a/pnpm-lock.yaml", v6).expect("parse")),
            ["@types/node@20.11.0", "react-dom@18.2.0"]
        );
        let v9 = b"lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      ms:\n        specifier: ^2.1.3\n        version: 2.1.3\npackages:\n  ms@2.1.3:\n    resolution: {integrity: sha512-z}\n  '@scope/pkg@1.0.0':\n    resolution: {integrity: sha512-q}\nsnapshots:\n  ms@2.1.3: {}\n";
        assert_eq!(
            names(&parse_pnpm_lock("/a/pnpm-lock.yaml", v9).expect("parse")),
            ["ms@2.1.3", "@scope/pkg@1.0.0"]
        );
        assert!(parse_pnpm_lock("/a/pnpm-lock.yaml", b"packages: [\n").is_err());
    }
}
