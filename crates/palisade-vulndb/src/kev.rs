//! CISA's Known Exploited Vulnerabilities catalog (`known_exploited_vulnerabilities.json`, schema
//! `known_exploited_vulnerabilities_schema.json` in <https://github.com/cisagov/kev-data>): the CVEs
//! CISA has evidence of exploitation for, joined to advisories by CVE alias.
//!
//! Parsing is strict where a silent mistake would mislabel a finding (CVE IDs, dates, the
//! ransomware flag) and tolerant of fields CISA adds over time (e.g. `forensicTriage`).

use serde::Deserialize;
use serde_json::Value;

/// A parsed KEV catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevCatalog {
    /// `catalogVersion`, e.g. `2025.02.25`.
    pub catalog_version: String,
    /// `dateReleased`, an RFC 3339 timestamp as CISA writes it (`2025-02-25T20:33:53.3676Z`).
    pub date_released: String,
    /// `count` as the file states it (CISA keeps it equal to the number of entries).
    pub count: u64,
    pub entries: Vec<KevEntry>,
}

impl KevCatalog {
    /// The entry for a CVE ID (exact, CISA writes IDs upper-case).
    pub fn get(&self, cve_id: &str) -> Option<&KevEntry> {
        self.entries.iter().find(|entry| entry.cve_id == cve_id)
    }
}

/// One known exploited vulnerability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevEntry {
    /// `CVE-YYYY-NNNN…`.
    pub cve_id: String,
    /// `vendorProject`.
    pub vendor: String,
    pub product: String,
    /// `vulnerabilityName`.
    pub name: String,
    /// `YYYY-MM-DD`, validated.
    pub date_added: String,
    /// `YYYY-MM-DD`, validated: the remediation deadline for US federal agencies (BOD 22-01).
    pub due_date: String,
    /// `knownRansomwareCampaignUse` is `Known` (CISA says `Unknown` when it lacks confirmation,
    /// which is not a "no").
    pub known_ransomware: bool,
    /// `cwes` (`CWE-NNN`), empty when absent.
    pub cwes: Vec<String>,
}

/// Why a catalog was rejected; names the file and, for entry problems, the entry's index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KevError {
    #[error("{file}: not a KEV catalog: {message}")]
    Catalog { file: String, message: String },
    #[error("{file}: vulnerabilities[{index}]{}: {message}", cve.as_deref().map(|cve| format!(" ({cve})")).unwrap_or_default())]
    Entry {
        file: String,
        index: usize,
        /// The entry's `cveID` when it has a readable one.
        cve: Option<String>,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: String,
    date_released: String,
    count: u64,
    vulnerabilities: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: String,
    due_date: String,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
    #[serde(default)]
    cwes: Option<Vec<String>>,
}

/// Parses a KEV catalog; `name` (usually the file name) labels errors.
pub fn parse(name: &str, bytes: &[u8]) -> Result<KevCatalog, KevError> {
    let catalog_error = |message: String| KevError::Catalog {
        file: name.to_string(),
        message,
    };
    // serde would also read a struct from a JSON array; a catalog is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(catalog_error("expected a JSON object".to_string()));
    }
    let raw: RawCatalog =
        serde_json::from_slice(bytes).map_err(|err| catalog_error(err.to_string()))?;
    if !raw.date_released.get(..10).is_some_and(is_valid_date) {
        return Err(catalog_error(format!(
            "dateReleased {:?} does not start with a YYYY-MM-DD date",
            raw.date_released
        )));
    }
    let mut entries = Vec::with_capacity(raw.vulnerabilities.len());
    for (index, value) in raw.vulnerabilities.into_iter().enumerate() {
        // Read the ID first so that an error in any other field can still say which CVE it is.
        let cve = value
            .get("cveID")
            .and_then(Value::as_str)
            .map(str::to_string);
        let entry_error = |message: String| KevError::Entry {
            file: name.to_string(),
            index,
            cve: cve.clone(),
            message,
        };
        let raw: RawEntry =
            serde_json::from_value(value).map_err(|err| entry_error(err.to_string()))?;
        entries.push(entry(raw).map_err(entry_error)?);
    }
    Ok(KevCatalog {
        catalog_version: raw.catalog_version,
        date_released: raw.date_released,
        count: raw.count,
        entries,
    })
}

fn entry(raw: RawEntry) -> Result<KevEntry, String> {
    if !is_cve_id(&raw.cve_id) {
        return Err(format!("cveID {:?} is not CVE-YYYY-NNNN", raw.cve_id));
    }
    for (field, date) in [("dateAdded", &raw.date_added), ("dueDate", &raw.due_date)] {
        if !is_valid_date(date) {
            return Err(format!("{field} {date:?} is not a YYYY-MM-DD date"));
        }
    }
    let known_ransomware = match raw.known_ransomware_campaign_use.as_deref() {
        Some("Known") => true,
        // Older catalogs predate the field.
        Some("Unknown") | None => false,
        Some(other) => {
            return Err(format!(
                "knownRansomwareCampaignUse {other:?} is neither \"Known\" nor \"Unknown\""
            ));
        }
    };
    Ok(KevEntry {
        cve_id: raw.cve_id,
        vendor: raw.vendor_project.trim().to_string(),
        product: raw.product.trim().to_string(),
        name: raw.vulnerability_name,
        date_added: raw.date_added,
        due_date: raw.due_date,
        known_ransomware,
        cwes: raw.cwes.unwrap_or_default(),
    })
}

/// `CVE-YYYY-NNNN` with 4 to 19 digits in the sequence part (the KEV schema's pattern, which is
/// also the CVE program's ID syntax).
pub(crate) fn is_cve_id(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, sequence)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (4..=19).contains(&sequence.len())
        && sequence.bytes().all(|b| b.is_ascii_digit())
}

/// A real calendar date written `YYYY-MM-DD` (proleptic Gregorian).
pub(crate) fn is_valid_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = text.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_valid_date("2025-02-25"));
        assert!(is_valid_date("2024-02-29"));
        assert!(!is_valid_date("2023-02-29"));
        assert!(!is_valid_date("1900-02-29"));
        assert!(is_valid_date("2000-02-29"));
        assert!(!is_valid_date("2025-13-01"));
        assert!(!is_valid_date("2025-04-31"));
        assert!(!is_valid_date("2025-4-01"));
        assert!(!is_valid_date("2025-04-01T00:00:00Z"));
        assert!(!is_valid_date("+025-04-01"));
        assert!(!is_valid_date("2025-00-10"));
    }

    #[test]
    fn cve_ids() {
        assert!(is_cve_id("CVE-2021-44228"));
        assert!(is_cve_id("CVE-1999-0001"));
        assert!(!is_cve_id("CVE-2021-123"));
        assert!(!is_cve_id("cve-2021-44228"));
        assert!(!is_cve_id("CVE-21-44228"));
        assert!(!is_cve_id("GHSA-jfh8-c2jp-5v3q"));
        assert!(!is_cve_id("CVE-2021-4422x"));
    }
}
