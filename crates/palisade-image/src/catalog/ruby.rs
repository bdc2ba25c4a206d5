//! Ruby gems: installed gem specifications (`…/specifications/*.gemspec`, what RubyGems and
//! Bundler write for every installed gem) and `Gemfile.lock` files.
//!
//! Installed gemspecs are Ruby code; like syft's `ruby-installed-gemspec-cataloger` only the
//! assignment subset RubyGems generates is read (`s.name = "x".freeze`, `s.version = "1.0"`,
//! `s.licenses = ["MIT".freeze]`), never evaluated.
//!
//! Difference from syft: `Gemfile.lock` is also read for images (syft reads it in directory scans
//! only), and its entries that are installed (a gemspec with the same name and version anywhere
//! in the image) are reported once, from the gemspec.

use std::collections::{BTreeMap, HashSet};

use palisade_core::{CatalogNote, Package, PackageKind, purl_escape};

use super::{Cataloger, Context, Interest};
use crate::files::FileTree;

pub struct RubyGems;

fn is_gemspec(path: &str) -> bool {
    path.ends_with(".gemspec") && path.contains("/specifications/")
}

fn is_gemfile_lock(path: &str) -> bool {
    path.ends_with("/Gemfile.lock") || path.ends_with("/gems.locked")
}

impl Cataloger for RubyGems {
    fn name(&self) -> &'static str {
        "ruby"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if is_gemspec(path) || is_gemfile_lock(path) {
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
        for (path, _) in files.kept() {
            if !is_gemspec(path) {
                continue;
            }
            let Some(bytes) = files.read(path) else {
                continue;
            };
            match parse_gemspec(path, bytes) {
                Some(package) => {
                    installed.insert((package.name.clone(), package.version.clone()));
                    packages.push(package);
                }
                None => notes.push(CatalogNote::new(
                    self.name(),
                    path,
                    "gemspec without a literal name and version",
                )),
            }
        }
        for (path, _) in files.kept() {
            if !is_gemfile_lock(path) {
                continue;
            }
            let Some(bytes) = files.read(path) else {
                continue;
            };
            packages.extend(
                parse_gemfile_lock(path, bytes)
                    .into_iter()
                    .filter(|p| !installed.contains(&(p.name.clone(), p.version.clone()))),
            );
        }
    }
}

fn gem(name: &str, version: &str, licenses: Vec<String>, location: &str) -> Package {
    Package {
        purl: format!("pkg:gem/{}@{}", purl_escape(name), purl_escape(version)),
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageKind::Ruby,
        source: None,
        arch: None,
        licenses,
        location: location.to_string(),
        layer: None,
        os_owned: false,
        files: Vec::new(),
        metadata: BTreeMap::new(),
    }
}

/// Every double- or single-quoted string literal in `text`, in order.
fn string_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '\'' {
            continue;
        }
        let mut literal = String::new();
        let mut escaped = false;
        for d in chars.by_ref() {
            if escaped {
                literal.push(d);
                escaped = false;
            } else if d == '\\' {
                escaped = true;
            } else if d == c {
                break;
            } else {
                literal.push(d);
            }
        }
        out.push(literal);
    }
    out
}

/// The name, version and licenses a generated gemspec assigns.
pub fn parse_gemspec(location: &str, bytes: &[u8]) -> Option<Package> {
    let text = String::from_utf8_lossy(bytes);
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        // `s.name = "rails".freeze` — any receiver name, one attribute, then `=`.
        let Some((lhs, rhs)) = line.split_once('=') else {
            continue;
        };
        let Some((receiver, attribute)) = lhs.trim().split_once('.') else {
            continue;
        };
        if receiver.is_empty()
            || !receiver
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || rhs.starts_with('=')
        {
            continue;
        }
        let attribute = attribute.trim();
        if matches!(
            attribute,
            "name" | "version" | "license" | "licenses" | "homepage"
        ) {
            fields
                .entry(attribute.to_string())
                .or_insert_with(|| string_literals(rhs));
        }
    }
    let first = |key: &str| {
        fields
            .get(key)
            .and_then(|v| v.first())
            .filter(|v| !v.is_empty())
    };
    let name = first("name")?.clone();
    let version = first("version")?.clone();
    let mut licenses: Vec<String> = fields.get("licenses").cloned().unwrap_or_default();
    licenses.extend(fields.get("license").cloned().unwrap_or_default());
    licenses.retain(|l| !l.is_empty());
    licenses.dedup();
    let mut package = gem(&name, &version, licenses, location);
    if let Some(homepage) = first("homepage") {
        package
            .metadata
            .insert("homepage".to_string(), homepage.clone());
    }
    Some(package)
}

/// The `specs:` of a `Gemfile.lock`'s `GEM` sections (`    rails (7.1.3)`, four spaces; the
/// six-space lines are their dependency constraints).
pub fn parse_gemfile_lock(location: &str, bytes: &[u8]) -> Vec<Package> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut in_gem_section = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_gem_section = line.trim() == "GEM";
            continue;
        }
        if !in_gem_section {
            continue;
        }
        let Some(spec) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')) else {
            continue;
        };
        let Some((name, rest)) = spec.split_once(" (") else {
            continue;
        };
        let Some(version) = rest.strip_suffix(')') else {
            continue;
        };
        // `nokogiri (1.16.0-x86_64-linux)`: the platform is not part of the version.
        let (version, platform) = version.split_once('-').unwrap_or((version, ""));
        if name.is_empty() || version.is_empty() {
            continue;
        }
        let mut package = gem(name, version, Vec::new(), location);
        if !platform.is_empty() {
            package
                .metadata
                .insert("platform".to_string(), platform.to_string());
        }
        out.push(package);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shape RubyGems 3.x writes into specifications/ (trimmed from rails-7.1.3.gemspec).
    const GEMSPEC: &str = r#"# -*- encoding: utf-8 -*-
# stub: rails 7.1.3 ruby lib

Gem::Specification.new do |s|
  s.name = "rails".freeze
  s.version = "7.1.3".freeze

  s.required_rubygems_version = Gem::Requirement.new(">= 1.8.11".freeze) if s.respond_to? :required_rubygems_version=
  s.authors = ["David Heinemeier Hansson".freeze]
  s.homepage = "https://rubyonrails.org".freeze
  s.licenses = ["MIT".freeze]
  s.rubygems_version = "3.5.3".freeze
  s.add_runtime_dependency(%q<activesupport>.freeze, ["= 7.1.3".freeze])
end
"#;

    #[test]
    fn gemspec() {
        let p = parse_gemspec(
            "/usr/local/bundle/specifications/rails-7.1.3.gemspec",
            GEMSPEC.as_bytes(),
        )
        .expect("package");
        assert_eq!((p.name.as_str(), p.version.as_str()), ("rails", "7.1.3"));
        assert_eq!(p.purl, "pkg:gem/rails@7.1.3");
        assert_eq!(p.licenses, ["MIT"]);
        assert_eq!(p.metadata["homepage"], "https://rubyonrails.org");
        assert!(parse_gemspec("/x", b"s.name = 'only'").is_none());
    }

    #[test]
    fn gemfile_lock() {
        let lock = b"GIT\n  remote: https://github.com/x/y.git\n  specs:\n    y (0.1.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    actionpack (7.1.3)\n      rack (>= 2.2.4)\n    nokogiri (1.16.0-x86_64-linux)\n      racc (~> 1.4)\n\nPLATFORMS\n  x86_64-linux\n\nBUNDLED WITH\n   2.5.3\n";
        let packages = parse_gemfile_lock("/app/Gemfile.lock", lock);
        let got: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(got, [("actionpack", "7.1.3"), ("nokogiri", "1.16.0")]);
        assert_eq!(packages[1].metadata["platform"], "x86_64-linux");
    }
}
