//! Where reports go and how they look: `--output`, `--format`, colour on a terminal, `--fail-on`,
//! and the configuration file.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use palisade_core::{Finding, Severity};
use palisade_posture::{Catalogue, Config};
use palisade_report::{Format, Report, TableStyle};

use crate::ScanOptions;

/// Writes `report` where and how the options say.
pub fn write_report(report: &Report<'_>, options: &ScanOptions) -> Result<()> {
    let format: Format = options.format.parse()?;
    write_output(options.output.as_deref(), "report", |out, terminal| {
        let style = if terminal {
            TableStyle {
                colour: std::env::var_os("NO_COLOR").is_none(),
                width: terminal_width(true),
            }
        } else {
            TableStyle::default()
        };
        palisade_report::write(report, format, style, out)
    })
}

/// Runs `write` on `output` (a file) or standard output. `write` is told whether it writes to a
/// terminal. `what` names the document in errors ("report", "SBOM").
pub fn write_output(
    output: Option<&Path>,
    what: &str,
    write: impl FnOnce(&mut dyn Write, bool) -> io::Result<()>,
) -> Result<()> {
    match output {
        Some(path) => {
            // A regular file is written next to the target and renamed, so a failed run never
            // leaves half a report where a CI step expects a whole one. Devices and pipes
            // (`/dev/null`, `/dev/stdout`, a FIFO) are written in place and never renamed or
            // removed: as root, removing /dev/null would break every other program on the machine.
            let special = is_special(path);
            let target = if special {
                path.to_path_buf()
            } else {
                temp_path(path)
            };
            let file = File::create(&target)
                .with_context(|| format!("cannot create the {what} file {}", path.display()))?;
            let mut out = BufWriter::new(file);
            let written = write(&mut out, false).and_then(|_| out.flush());
            drop(out);
            if let Err(e) = written {
                if !special {
                    let _ = std::fs::remove_file(&target);
                }
                return Err(e)
                    .with_context(|| format!("cannot write the {what} to {}", path.display()));
            }
            if !special {
                std::fs::rename(&target, path)
                    .with_context(|| format!("cannot write the {what} to {}", path.display()))?;
            }
        }
        None => {
            let stdout = io::stdout();
            let terminal = stdout.is_terminal();
            let mut out = BufWriter::new(stdout.lock());
            let written = write(&mut out, terminal).and_then(|_| out.flush());
            match written {
                Ok(()) => {}
                // `palisade … | head` closes the pipe early: that is the reader's choice, not an error.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot write the {what} to standard output"));
                }
            }
        }
    }
    Ok(())
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".palisade-tmp");
    path.with_file_name(name)
}

/// Device files and pipes are written in place.
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file())
}

fn terminal_width(terminal: bool) -> usize {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return columns;
    }
    if terminal && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size() {
        return w as usize;
    }
    100
}

/// Exit 1 when an unsuppressed finding reaches `--fail-on`.
pub fn fail_on_code(findings: &[Finding], fail_on: Option<&str>) -> Result<ExitCode> {
    let Some(threshold) = fail_on else {
        return Ok(ExitCode::SUCCESS);
    };
    let threshold: Severity = threshold.parse()?;
    let failed = findings
        .iter()
        .any(|f| !f.is_suppressed() && f.severity >= threshold);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads `--config FILE`, or `./palisade.yaml` when present, checking every check ID it names.
pub fn load_config(explicit: Option<&Path>, catalogue: &Catalogue) -> Result<Config> {
    let default = Path::new("palisade.yaml");
    let path = match explicit {
        Some(path) => path,
        None if default.is_file() => default,
        None => return Ok(Config::default()),
    };
    let name = path.display().to_string();
    let file =
        File::open(path).with_context(|| format!("cannot read the configuration file {name}"))?;
    let root = palisade_kube::yaml::read_document(io::BufReader::new(file), &name)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(root) = root else {
        return Ok(Config::default());
    };
    Config::from_node(&root, catalogue).map_err(|e| anyhow::anyhow!("{name}:{e}"))
}
