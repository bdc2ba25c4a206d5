//! FIRST's Exploit Prediction Scoring System daily scores (`epss_scores-YYYY-MM-DD.csv.gz` from
//! <https://epss.empiricalsecurity.com/>, formerly epss.cyentia.com): the probability that a CVE
//! is exploited in the next 30 days, and its percentile among all scored CVEs.
//!
//! The file is a comment line `#model_version:v2025.03.14,score_date:2025-03-16T12:55:00Z`, a
//! header `cve,epss,percentile`, then one row per CVE (about 300,000). It is read as a stream —
//! gzip or plain, told apart by the gzip magic bytes — so the text is never held in memory whole.
//! Files from before the v2 model (2022) have no comment line; they are accepted with no model
//! version or score date.

use std::io::{BufRead, BufReader, Read};

use flate2::read::MultiGzDecoder;

use crate::kev::{is_cve_id, is_valid_date};

/// One day's EPSS scores.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssScores {
    /// `model_version` from the comment line, e.g. `v2025.03.14`.
    pub model_version: Option<String>,
    /// `score_date` from the comment line, as written (`2025-03-16T12:55:00Z`).
    pub score_date: Option<String>,
    pub scores: Vec<EpssScore>,
}

/// The EPSS score of one CVE.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssScore {
    pub cve: String,
    /// Probability of exploitation activity in the next 30 days, 0.0 to 1.0.
    pub score: f32,
    /// Share of scored CVEs with a lower or equal score, 0.0 to 1.0.
    pub percentile: f32,
}

/// Why an EPSS file was rejected; names the file and the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct EpssError {
    pub file: String,
    /// 1-based line of the decompressed text (0 when the problem is before any line, e.g. a
    /// read error on the first bytes).
    pub line: u64,
    pub message: String,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Parses an EPSS CSV, plain or gzip-compressed; `name` (usually the file name) labels errors.
pub fn parse(name: &str, mut reader: impl Read) -> Result<EpssScores, EpssError> {
    // Read the magic bytes explicitly: a reader may return fewer bytes than asked for (a socket,
    // a decompressor), so one `fill_buf` could show only the first.
    let mut magic = [0u8; 2];
    let mut filled = 0;
    while filled < magic.len() {
        let Some(rest) = magic.get_mut(filled..) else {
            break;
        };
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => {
                return Err(EpssError {
                    file: name.to_string(),
                    line: 0,
                    message: format!("cannot read: {err}"),
                });
            }
        }
    }
    let head = magic.get(..filled).unwrap_or_default();
    let rejoined = head.chain(reader);
    if head == GZIP_MAGIC {
        // Multi-member: a `cat`-concatenated .gz is still one file to gunzip.
        parse_text(name, BufReader::new(MultiGzDecoder::new(rejoined)))
    } else {
        parse_text(name, BufReader::new(rejoined))
    }
}

fn parse_text(name: &str, mut reader: impl BufRead) -> Result<EpssScores, EpssError> {
    let error = |line: u64, message: String| EpssError {
        file: name.to_string(),
        line,
        message,
    };
    let mut model_version = None;
    let mut score_date = None;
    let mut columns: Option<Columns> = None;
    let mut scores = Vec::new();
    let mut raw = Vec::new();
    let mut line_number = 0u64;
    loop {
        raw.clear();
        let read = reader
            .read_until(b'\n', &mut raw)
            .map_err(|err| error(line_number + 1, format!("cannot read: {err}")))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        let line = std::str::from_utf8(&raw)
            .map_err(|_| error(line_number, "not UTF-8".to_string()))?
            .trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if columns.is_some() {
                return Err(error(
                    line_number,
                    "comment line after the header".to_string(),
                ));
            }
            (model_version, score_date) =
                metadata(comment).map_err(|message| error(line_number, message))?;
            continue;
        }
        let Some(columns) = &columns else {
            columns =
                Some(Columns::from_header(line).map_err(|message| error(line_number, message))?);
            continue;
        };
        scores.push(
            columns
                .row(line)
                .map_err(|message| error(line_number, message))?,
        );
    }
    if columns.is_none() {
        return Err(error(
            line_number,
            "no `cve,epss,percentile` header: not an EPSS scores file".to_string(),
        ));
    }
    Ok(EpssScores {
        model_version,
        score_date,
        scores,
    })
}

type Metadata = (Option<String>, Option<String>);

/// The `key:value,key:value` comment line.
fn metadata(comment: &str) -> Result<Metadata, String> {
    let mut model_version = None;
    let mut score_date = None;
    for field in comment.split(',') {
        let Some((key, value)) = field.split_once(':') else {
            return Err(format!("comment field {field:?} is not `key:value`"));
        };
        match key.trim() {
            "model_version" => model_version = Some(value.trim().to_string()),
            "score_date" => {
                let value = value.trim();
                if !value.get(..10).is_some_and(is_valid_date) {
                    return Err(format!(
                        "score_date {value:?} does not start with YYYY-MM-DD"
                    ));
                }
                score_date = Some(value.to_string());
            }
            // Unknown metadata is FIRST's to add; it does not change the rows.
            _ => {}
        }
    }
    Ok((model_version, score_date))
}

/// Positions of the columns, from the header.
struct Columns {
    cve: usize,
    epss: usize,
    percentile: usize,
    count: usize,
}

impl Columns {
    fn from_header(header: &str) -> Result<Columns, String> {
        let names: Vec<&str> = header.split(',').map(str::trim).collect();
        let position = |wanted: &str| {
            names
                .iter()
                .position(|name| *name == wanted)
                .ok_or_else(|| format!("header {header:?} has no `{wanted}` column"))
        };
        Ok(Columns {
            cve: position("cve")?,
            epss: position("epss")?,
            percentile: position("percentile")?,
            count: names.len(),
        })
    }

    fn row(&self, line: &str) -> Result<EpssScore, String> {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != self.count {
            return Err(format!(
                "{} fields where the header has {}",
                fields.len(),
                self.count
            ));
        }
        let field = |index: usize| fields.get(index).copied().unwrap_or("");
        let cve = field(self.cve);
        if !is_cve_id(cve) {
            return Err(format!("{cve:?} is not a CVE ID"));
        }
        Ok(EpssScore {
            cve: cve.to_string(),
            score: probability("epss", field(self.epss))?,
            percentile: probability("percentile", field(self.percentile))?,
        })
    }
}

fn probability(column: &str, text: &str) -> Result<f32, String> {
    let value: f32 = text
        .parse()
        .map_err(|_| format!("{column} {text:?} is not a number"))?;
    // `contains` is false for NaN, which `parse` accepts as "NaN".
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{column} {text:?} is outside 0..=1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_line() {
        let (model, date) =
            metadata("model_version:v2025.03.14,score_date:2025-03-16T12:55:00Z").unwrap();
        assert_eq!(model.as_deref(), Some("v2025.03.14"));
        assert_eq!(date.as_deref(), Some("2025-03-16T12:55:00Z"));
        assert!(metadata("model_version:v1,score_date:yesterday").is_err());
        assert!(metadata("garbage").is_err());
    }

    #[test]
    fn probabilities() {
        assert_eq!(probability("epss", "0.94358").unwrap(), 0.94358);
        assert!(probability("epss", "1.5").is_err());
        assert!(probability("epss", "NaN").is_err());
        assert!(probability("epss", "-0.1").is_err());
        assert!(probability("epss", "").is_err());
    }
}
