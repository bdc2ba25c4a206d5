//! PHP Composer packages: what Composer installed (`vendor/composer/installed.json`, the v1 array
//! and the v2 `{"packages": […]}` object) and `composer.lock` files, as syft's
//! `php-composer-installed-cataloger` and `php-composer-lock-cataloger`.
//!
//! Difference from syft: a `composer.lock` entry that the same application also has installed
//! (`<app>/vendor/composer/installed.json`, same name and version) is reported once, from
//! `installed.json`; syft reports both.

use std::collections::{BTreeMap, HashSet};

use palisade_core::{CatalogNote, Package, PackageKind, purl_escape};
use serde_json::Value;

use super::{Cataloger, Context, Interest};
use crate::files::FileTree;

pub struct ComposerPackages;

const INSTALLED: &str = "/vendor/composer/installed.json";

fn is_lock(path: &str) -> bool {
    path.ends_with("/composer.lock") && !path.contains("/vendor/")
}

impl Cataloger for ComposerPackages {
    fn name(&self) -> &'static str {
        "php"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if path.ends_with(INSTALLED) || is_lock(path) {
            Interest::Keep
        } else {
            Interest::None
        }
    }

    fn catalog(
        &self,
        files: &FileTree,
        _: &Context<'_>,
        packages: &mut Vec<Package>,
        notes: &mut Vec<CatalogNote>,
    ) {
        let mut installed = HashSet::new();
        let mut locks = Vec::new();
        for (path, _) in files.kept() {
            let (root, is_installed) = if let Some(root) = path.strip_suffix(INSTALLED) {
                (root, true)
            } else if is_lock(path) {
                (path.strip_suffix("/composer.lock").unwrap_or(path), false)
            } else {
                continue;
            };
            let Some(bytes) = files.read(path) else {
                continue;
            };
            match parse_composer(path, bytes) {
                Ok(found) if is_installed => {
                    for package in found {
                        installed.insert((
                            root.to_string(),
                            package.name.clone(),
                            package.version.clone(),
                        ));
                        packages.push(package);
                    }
                }
                Ok(found) => locks.push((root.to_string(), found)),
                Err(message) => notes.push(CatalogNote::new(self.name(), path, message)),
            }
        }
        for (root, found) in locks {
            packages.extend(found.into_iter().filter(|p| {
                !installed.contains(&(root.clone(), p.name.clone(), p.version.clone()))
            }));
        }
    }
}

/// `pkg:composer/vendor/name@1.0.0`.
pub fn purl(name: &str, version: &str) -> String {
    let name: Vec<String> = name.split('/').map(purl_escape).collect();
    format!("pkg:composer/{}@{}", name.join("/"), purl_escape(version))
}

/// The packages of an `installed.json` (either format) or a `composer.lock`.
pub fn parse_composer(location: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let document: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut entries: Vec<(&Value, bool)> = Vec::new();
    match &document {
        Value::Array(list) => entries.extend(list.iter().map(|e| (e, false))),
        Value::Object(object) => {
            for (key, dev) in [("packages", false), ("packages-dev", true)] {
                if let Some(Value::Array(list)) = object.get(key) {
                    entries.extend(list.iter().map(|e| (e, dev)));
                }
            }
            // installed.json v2 lists dev package names separately.
            if let Some(Value::Array(dev_names)) = object.get("dev-package-names") {
                let dev_names: HashSet<&str> = dev_names.iter().filter_map(Value::as_str).collect();
                for (entry, dev) in &mut entries {
                    if entry
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| dev_names.contains(n))
                    {
                        *dev = true;
                    }
                }
            }
        }
        _ => return Err("neither a package list nor an object".to_string()),
    }
    let mut out = Vec::new();
    for (entry, dev) in entries {
        let text = |key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let (Some(name), Some(version)) = (text("name"), text("version")) else {
            continue;
        };
        let licenses = match entry.get("license") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        let mut metadata = BTreeMap::new();
        if let Some(kind) = text("type") {
            metadata.insert("type".to_string(), kind.to_string());
        }
        for (key, field) in [("source", "reference"), ("dist", "url")] {
            if let Some(value) = entry
                .get(key)
                .and_then(|v| v.get(field))
                .and_then(Value::as_str)
            {
                metadata.insert(format!("{key}.{field}"), value.to_string());
            }
        }
        if dev {
            metadata.insert("dev".to_string(), "true".to_string());
        }
        out.push(Package {
            purl: purl(name, version),
            name: name.to_string(),
            version: version.to_string(),
            kind: PackageKind::Php,
            source: None,
            arch: None,
            licenses,
            location: location.to_string(),
            layer: None,
            os_owned: false,
            files: Vec::new(),
            metadata,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_v2_and_v1() {
        let v2 = br#"{"packages":[
            {"name":"monolog/monolog","version":"3.5.0","version_normalized":"3.5.0.0","type":"library",
             "license":["MIT"],"source":{"type":"git","url":"https://github.com/Seldaek/monolog.git","reference":"c915e2634718dbc8a4a15c61b0e62e7a44e14448"}},
            {"name":"phpunit/phpunit","version":"10.5.0","type":"library"}],
            "dev":true,"dev-package-names":["phpunit/phpunit"]}"#;
        let packages = parse_composer("/app/vendor/composer/installed.json", v2).expect("parse");
        assert_eq!(packages[0].purl, "pkg:composer/monolog/monolog@3.5.0");
        assert_eq!(packages[0].licenses, ["MIT"]);
        assert!(packages[0].metadata["source.reference"].starts_with("c915e"));
        assert_eq!(packages[1].metadata["dev"], "true");
        let v1 = br#"[{"name":"psr/log","version":"v1.1.4","license":"MIT"}]"#;
        let packages = parse_composer("/x", v1).expect("parse");
        assert_eq!(packages[0].purl, "pkg:composer/psr/log@v1.1.4");
        assert!(parse_composer("/x", b"42").is_err());
    }

    #[test]
    fn composer_lock() {
        let lock =
            br#"{"content-hash":"x","packages":[{"name":"symfony/console","version":"v6.4.1"}],
            "packages-dev":[{"name":"mockery/mockery","version":"1.6.7"}]}"#;
        let packages = parse_composer("/app/composer.lock", lock).expect("parse");
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[1].metadata["dev"], "true");
    }
}
