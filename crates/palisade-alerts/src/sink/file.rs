//! Stdout and file sinks: one JSON document a line. Files are opened for appending so a restart
//! (or logrotate's copytruncate) never overwrites earlier alerts.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use palisade_core::Alert;

use crate::format::JsonFormat;

pub struct FileSink {
    target: Target,
    format: JsonFormat,
}

enum Target {
    Stdout,
    File { path: PathBuf, file: File },
}

impl FileSink {
    pub fn stdout(format: JsonFormat) -> FileSink {
        FileSink {
            target: Target::Stdout,
            format,
        }
    }

    pub fn open(path: &Path, format: JsonFormat) -> io::Result<FileSink> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(FileSink {
            target: Target::File {
                path: path.to_path_buf(),
                file,
            },
            format,
        })
    }

    pub fn describe(&self) -> String {
        match &self.target {
            Target::Stdout => "stdout".to_string(),
            Target::File { path, .. } => path.display().to_string(),
        }
    }

    /// Writes one line in a single `write` so concurrent writers (another process appending to the
    /// same file) never interleave inside a line.
    pub fn write(&mut self, alert: &Alert) -> io::Result<()> {
        let mut line = self.format.render(alert);
        line.push('\n');
        match &mut self.target {
            Target::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(line.as_bytes())?;
                out.flush()
            }
            Target::File { file, .. } => file.write_all(line.as_bytes()),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Stdout => io::stdout().flush(),
            Target::File { file, .. } => file.sync_data(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_lines() {
        let dir = std::env::temp_dir().join(format!("palisade-file-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("nested/alerts.jsonl");
        let alert = crate::format::sample::alert();
        for _ in 0..2 {
            let mut sink = FileSink::open(&path, JsonFormat::Palisade).unwrap();
            sink.write(&alert).unwrap();
            sink.flush().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let line = crate::format::json::line(&alert);
        assert_eq!(text, format!("{line}{line}"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
