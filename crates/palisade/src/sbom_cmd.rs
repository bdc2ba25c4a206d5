//! `palisade sbom REF` and `palisade registry list`: open the image (registry, OCI layout, docker
//! archive, directory, stored SBOM), catalog it through the layer cache, and write the inventory.

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use palisade_core::Sbom;
use palisade_image::cache::LayerCache;
use palisade_image::registry::{self, RegistryOptions};
use palisade_image::sbom::{self, SbomFormat, WriteOptions};
use palisade_image::source::{self, SourceOptions};
use palisade_image::{ImageSource, catalog, scan};

use crate::output;

/// How to reach images; shared by `sbom` and `registry list`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ImageAccessArgs {
    /// Platform to pick from a multi-platform image: `os/arch[/variant]` (default: linux and
    /// this machine's architecture).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Registry user name (the password is read from standard input with --password-stdin);
    /// default: credentials from ~/.docker/config.json, else anonymous.
    #[arg(long, value_name = "NAME", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password or token from standard input.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Registry host (`host[:port]`) that may be reached over plain HTTP (loopback always may).
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// Extra CA certificates (PEM) to trust for registries.
    #[arg(long, value_name = "FILE")]
    pub registry_ca: Option<PathBuf>,
}

impl ImageAccessArgs {
    fn registry_options(&self) -> Result<RegistryOptions> {
        let password = if self.password_stdin {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the password from standard input")?;
            Some(text.trim_end_matches(['\r', '\n']).to_string())
        } else {
            None
        };
        Ok(RegistryOptions {
            username: self.username.clone(),
            password,
            insecure: self.insecure_registry.clone(),
            ca_file: self.registry_ca.clone(),
            platform: self.platform.clone(),
            ..RegistryOptions::default()
        })
    }
}

#[derive(clap::Args, Debug)]
pub struct SbomArgs {
    /// The image: `registry/repo:tag`, `…@sha256:…`, `oci:DIR[:TAG]`, `docker-archive:FILE`,
    /// `dir:PATH` (an unpacked root file system) or `sbom:FILE` (a stored SBOM, converted).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Output format: table (a package list for people), cyclonedx (CycloneDX 1.6 JSON),
    /// spdx (SPDX 2.3 JSON) or json (Palisade's own, docs/sbom.md).
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "cyclonedx", "spdx", "json"])]
    pub format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Do not read or fill the layer cache ($PALISADE_HOME/layers).
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    pub access: ImageAccessArgs,
}

pub fn sbom(args: SbomArgs) -> Result<ExitCode> {
    let inventory = inventory(&args)?;
    let timestamp = creation_time();
    let format = args.format.as_str();
    output::write_output(args.output.as_deref(), "SBOM", |out, terminal| {
        if format == "table" {
            return write_table(&inventory, out, terminal);
        }
        let format = SbomFormat::from_name(format)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "unknown format"))?;
        let options = WriteOptions {
            // CycloneDX stays byte-stable without one; SPDX requires a creation time.
            timestamp: (format == SbomFormat::Spdx).then(|| timestamp.clone()),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        sbom::write(&inventory, format, &options, out)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The image's inventory, from whatever `args.reference` names.
fn inventory(args: &SbomArgs) -> Result<Sbom> {
    let reference = args.reference.as_str();
    if let Some(path) = reference.strip_prefix("sbom:") {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
        return Ok(sbom::read(path, &bytes)?);
    }
    let source: Box<dyn ImageSource> = if ["oci:", "docker-archive:", "dir:"]
        .iter()
        .any(|prefix| reference.starts_with(prefix))
    {
        source::open(
            reference,
            &SourceOptions {
                platform: args.access.platform.clone(),
            },
        )?
    } else {
        let reference = reference.strip_prefix("docker://").unwrap_or(reference);
        Box::new(registry::open(reference, &args.access.registry_options()?)?)
    };
    let cache = if args.no_cache {
        None
    } else {
        match LayerCache::open_default() {
            Ok(cache) => Some(cache),
            Err(error) => {
                // A read-only home must not stop an inventory; it only makes it slower.
                tracing::warn!("layer cache disabled: {error}");
                None
            }
        }
    };
    let catalogers = catalog::all();
    Ok(scan::scan(source.as_ref(), &catalogers, cache.as_ref())?)
}

/// A package list for a terminal: one line per package, OS packages first.
fn write_table(inventory: &Sbom, out: &mut dyn Write, terminal: bool) -> io::Result<()> {
    let image = &inventory.image;
    writeln!(out, "{}", image.reference)?;
    if let Some(digest) = &image.manifest_digest {
        writeln!(out, "  manifest {digest}")?;
    }
    if let Some(distro) = &inventory.distro {
        let name = distro
            .pretty_name
            .clone()
            .unwrap_or_else(|| format!("{} {}", distro.id, distro.version_id));
        match &distro.end_of_life {
            Some(eol) => writeln!(out, "  os {name} (end of life {eol})")?,
            None => writeln!(out, "  os {name}")?,
        }
    }
    writeln!(out)?;
    let rows: Vec<[String; 4]> = inventory
        .packages
        .iter()
        .map(|p| {
            [
                clean(&p.name),
                clean(&p.version),
                if p.os_owned {
                    format!("{} (os)", p.kind.as_str())
                } else {
                    p.kind.as_str().to_string()
                },
                clean(&p.location),
            ]
        })
        .collect();
    let headers = ["NAME", "VERSION", "TYPE", "LOCATION"];
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count()).min(60);
        }
    }
    let line = |cells: [&str; 4]| -> String {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == 3 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        text.trim_end().to_string()
    };
    if terminal && std::env::var_os("NO_COLOR").is_none() {
        writeln!(out, "\x1b[1m{}\x1b[0m", line(headers))?;
    } else {
        writeln!(out, "{}", line(headers))?;
    }
    for row in &rows {
        writeln!(out, "{}", line([&row[0], &row[1], &row[2], &row[3]]))?;
    }
    writeln!(out)?;
    let os = inventory.packages.iter().filter(|p| p.kind.is_os()).count();
    writeln!(
        out,
        "{} packages ({} OS, {} language, {} of them installed by the OS package manager)",
        inventory.packages.len(),
        os,
        inventory.packages.len() - os,
        inventory.packages.iter().filter(|p| p.os_owned).count()
    )?;
    for note in &inventory.notes {
        writeln!(
            out,
            "note: {}: {}: {}",
            note.cataloger,
            clean(&note.path),
            clean(&note.message)
        )?;
    }
    Ok(())
}

/// Image contents are untrusted: control characters never reach the terminal.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Now as RFC 3339 UTC, or `SOURCE_DATE_EPOCH` when set (reproducible builds' convention).
fn creation_time() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
        });
    rfc3339(seconds)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil-from-days).
fn rfc3339(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[derive(clap::Args, Debug)]
pub struct RegistryListArgs {
    /// `host[:port][/PREFIX]`: every repository (under PREFIX) with its tags.
    #[arg(value_name = "REGISTRY")]
    pub registry: String,
    /// Output format: table (repository and tags per line) or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub access: ImageAccessArgs,
}

/// `palisade registry list`: repositories and their tags, so a registry can be inventoried
/// (`palisade sbom` over each `repo:tag`).
pub fn registry_list(args: RegistryListArgs) -> Result<ExitCode> {
    let options = args.access.registry_options()?;
    let repositories = registry::list_repositories(&args.registry, &options)?;
    let host = args
        .registry
        .split_once('/')
        .map_or(args.registry.as_str(), |(host, _)| host);
    let progress = io::stderr().is_terminal() && repositories.len() > 1;
    let mut listed: Vec<(String, Vec<String>)> = Vec::with_capacity(repositories.len());
    for (done, repository) in repositories.iter().enumerate() {
        if progress {
            eprint!("\r{}/{} repositories", done + 1, repositories.len());
        }
        let tags = registry::list_tags(host, repository, &options)
            .map_err(|e| anyhow!(e).context(format!("cannot list the tags of {repository}")))?;
        listed.push((repository.clone(), tags));
    }
    if progress {
        eprintln!();
    }
    output::write_output(args.output.as_deref(), "listing", |out, _| {
        if args.format == "json" {
            let value: Vec<serde_json::Value> = listed
                .iter()
                .map(|(repository, tags)| {
                    serde_json::json!({"repository": format!("{host}/{repository}"), "tags": tags})
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)
        } else {
            for (repository, tags) in &listed {
                writeln!(
                    out,
                    "{host}/{}  {}",
                    clean(repository),
                    clean(&tags.join(" "))
                )?;
            }
            Ok(())
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
