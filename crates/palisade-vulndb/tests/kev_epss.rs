//! CISA KEV catalog and FIRST EPSS daily file parsing over the fixtures in `tests/fixtures/` (see
//! the README files there for their provenance) and over broken variants of them.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;
use palisade_vulndb::{epss, kev};

const KEV_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/kev/known_exploited_vulnerabilities.json"
);
const EPSS_PLAIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/epss/epss_scores-2025-03-16.csv"
);
const EPSS_GZIP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/epss/epss_scores-2025-03-16.csv.gz"
);

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

#[test]
fn kev_fixture() {
    let catalog = kev::parse("known_exploited_vulnerabilities.json", &read(KEV_FIXTURE)).unwrap();
    assert_eq!(catalog.catalog_version, "2025.02.25");
    assert_eq!(catalog.date_released, "2025-02-25T20:33:53.3676Z");
    assert_eq!(catalog.count, 5);
    assert_eq!(catalog.entries.len(), 5);
    let first = &catalog.entries[0];
    assert_eq!(first.cve_id, "CVE-2023-34192");
    assert_eq!(first.vendor, "Synacor");
    assert_eq!(first.product, "Zimbra Collaboration Suite (ZCS)");
    assert_eq!(
        first.name,
        "Synacor Zimbra Collaboration Suite (ZCS) Cross-Site Scripting (XSS) Vulnerability"
    );
    assert_eq!(first.date_added, "2025-02-25");
    assert_eq!(first.due_date, "2025-03-18");
    assert!(!first.known_ransomware);
    assert_eq!(first.cwes, ["CWE-79"]);
    // CISA's "SimpleHelp " has a trailing space in the feed.
    assert_eq!(catalog.get("CVE-2024-57727").unwrap().vendor, "SimpleHelp");
    let log4shell = catalog.get("CVE-2021-44228").unwrap();
    assert!(log4shell.known_ransomware);
    assert_eq!(log4shell.cwes.len(), 3);
    assert!(catalog.get("CVE-2014-0160").is_none());
}

/// The fixture with one entry's field replaced by `replacement` (a JSON value, or `None` to
/// remove the field).
fn kev_with(index: usize, field: &str, replacement: Option<serde_json::Value>) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(&read(KEV_FIXTURE)).unwrap();
    let entry = value["vulnerabilities"][index].as_object_mut().unwrap();
    match replacement {
        Some(replacement) => {
            entry.insert(field.to_string(), replacement);
        }
        None => {
            entry.remove(field);
        }
    }
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn kev_errors_name_file_and_entry() {
    use serde_json::json;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            kev_with(2, "dateAdded", Some(json!("2025-02-30"))),
            "dateAdded \"2025-02-30\"",
        ),
        (
            kev_with(3, "dueDate", Some(json!("03/04/2025"))),
            "dueDate \"03/04/2025\"",
        ),
        (
            kev_with(1, "cveID", Some(json!("CVE-2025-11"))),
            "cveID \"CVE-2025-11\"",
        ),
        (
            kev_with(4, "knownRansomwareCampaignUse", Some(json!("Yes"))),
            "knownRansomwareCampaignUse \"Yes\"",
        ),
        (kev_with(0, "product", None), "missing field `product`"),
        (
            kev_with(0, "dueDate", Some(json!(20250318))),
            "invalid type",
        ),
    ];
    let indexes = [2, 3, 1, 4, 0, 0];
    for ((bytes, expected), index) in cases.iter().zip(indexes) {
        let err = kev::parse("kev.json", bytes).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("kev.json: vulnerabilities[{index}]")),
            "{message}"
        );
        assert!(message.contains(expected), "{message}");
        assert!(matches!(err, kev::KevError::Entry { index: i, .. } if i == index));
    }
    // The entry's CVE is named when readable.
    let err = kev::parse("kev.json", &kev_with(4, "dueDate", Some(json!("soon")))).unwrap_err();
    assert!(err.to_string().contains("(CVE-2021-44228)"), "{err}");
}

#[test]
fn kev_tolerates_absent_optional_fields_and_new_ones() {
    let bytes = kev_with(0, "knownRansomwareCampaignUse", None);
    let catalog = kev::parse("kev.json", &bytes).unwrap();
    assert!(!catalog.entries[0].known_ransomware);
    let bytes = kev_with(0, "cwes", None);
    assert!(
        kev::parse("kev.json", &bytes).unwrap().entries[0]
            .cwes
            .is_empty()
    );
    let bytes = kev_with(0, "forensicTriage", Some(serde_json::json!("No")));
    assert_eq!(kev::parse("kev.json", &bytes).unwrap().entries.len(), 5);
}

#[test]
fn kev_rejects_non_catalogs() {
    for (bytes, expected) in [
        (&b"{\"vulnerabilities\": []}"[..], "missing field"),
        (b"[]", "expected a JSON object"),
        (b"", "expected a JSON object"),
        (b"{\"catalogVersion\": \"1\"", "EOF"),
        (b"{\"catalogVersion\": \"1\", \"dateReleased\": \"yesterday\", \"count\": 0, \"vulnerabilities\": []}", "dateReleased"),
    ] {
        let err = kev::parse("feed.json", bytes).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("feed.json: not a KEV catalog"), "{message}");
        assert!(message.contains(expected), "{message}");
    }
}

fn check_epss_fixture(scores: &epss::EpssScores) {
    assert_eq!(scores.model_version.as_deref(), Some("v2025.03.14"));
    assert_eq!(scores.score_date.as_deref(), Some("2025-03-16T12:55:00Z"));
    assert_eq!(scores.scores.len(), 10);
    let log4shell = scores
        .scores
        .iter()
        .find(|score| score.cve == "CVE-2021-44228")
        .unwrap();
    assert_eq!(log4shell.score, 0.94358);
    assert_eq!(log4shell.percentile, 0.9995);
    assert_eq!(scores.scores[0].cve, "CVE-1999-0001");
}

#[test]
fn epss_plain_and_gzip_fixtures_agree() {
    let plain = epss::parse("epss_scores-2025-03-16.csv", &read(EPSS_PLAIN)[..]).unwrap();
    check_epss_fixture(&plain);
    let gzip = std::fs::File::open(EPSS_GZIP).unwrap();
    let compressed = epss::parse("epss_scores-2025-03-16.csv.gz", gzip).unwrap();
    assert_eq!(plain, compressed);
}

/// A reader that hands out at most `chunk` bytes per call, to exercise the streaming path.
struct Trickle<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn epss_streams_a_large_generated_file() {
    // 300,000 rows, the size of a real daily file, gzip-compressed on the fly.
    let mut text = String::from("#model_version:v2025.03.14,score_date:2025-03-16T12:55:00Z\r\n");
    text.push_str("cve,epss,percentile\r\n");
    for n in 0..300_000u32 {
        text.push_str(&format!(
            "CVE-{}-{:05},0.{:05},0.{:05}\r\n",
            1999 + n % 27,
            n,
            n % 100_000,
            (n * 7) % 100_000
        ));
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    let gzip = encoder.finish().unwrap();
    let scores = epss::parse(
        "big.csv.gz",
        Trickle {
            data: &gzip,
            chunk: 1,
        },
    )
    .unwrap();
    assert_eq!(scores.scores.len(), 300_000);
    let last = scores.scores.last().unwrap();
    assert_eq!(last.cve, "CVE-2001-299999");
    assert_eq!(last.score, 0.99999);
}

#[test]
fn epss_without_comment_line_is_an_older_file() {
    let scores = epss::parse(
        "old.csv",
        &b"cve,epss,percentile\nCVE-2021-44228,0.97565,1.0\n"[..],
    )
    .unwrap();
    assert_eq!(scores.model_version, None);
    assert_eq!(scores.score_date, None);
    assert_eq!(scores.scores.len(), 1);
    assert_eq!(scores.scores[0].percentile, 1.0);
}

#[test]
fn epss_errors_name_file_and_line() {
    let header =
        "#model_version:v2025.03.14,score_date:2025-03-16T12:55:00Z\ncve,epss,percentile\n";
    let cases: &[(&str, u64, &str)] = &[
        (
            "CVE-2021-44228,0.9,0.99\nCVE-2021-45046,1.2,0.99\n",
            4,
            "epss \"1.2\" is outside 0..=1",
        ),
        ("CVE-2021-44228,0.9\n", 3, "2 fields where the header has 3"),
        (
            "CVE-2021-44228,0.9,abc\n",
            3,
            "percentile \"abc\" is not a number",
        ),
        ("GHSA-xxxx,0.9,0.9\n", 3, "is not a CVE ID"),
        (
            "CVE-2021-44228,0.9,0.99\n#late:comment\n",
            4,
            "comment line after the header",
        ),
    ];
    for (rows, line, expected) in cases {
        let text = format!("{header}{rows}");
        let err = epss::parse("epss.csv", text.as_bytes()).unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("epss.csv", *line), "{err}");
        assert!(err.to_string().contains(expected), "{err}");
        assert!(
            err.to_string().starts_with(&format!("epss.csv:{line}: ")),
            "{err}"
        );
    }
    let err = epss::parse(
        "x.csv",
        &b"#model_version:v1,score_date:2025-02-30T00:00:00Z\n"[..],
    )
    .unwrap_err();
    assert_eq!(err.line, 1);
    let err = epss::parse("x.csv", &b"id,score\nCVE-2021-44228,0.5\n"[..]).unwrap_err();
    assert!(err.to_string().contains("no `cve` column"), "{err}");
    let err = epss::parse("x.csv", &b""[..]).unwrap_err();
    assert!(err.to_string().contains("not an EPSS scores file"), "{err}");
    let err = epss::parse(
        "x.csv",
        &b"cve,epss,percentile\nCVE-2021-44228,\xff,0.5\n"[..],
    )
    .unwrap_err();
    assert_eq!((err.line, err.message.as_str()), (2, "not UTF-8"));
    // A truncated gzip stream is a read error at the line being read, not a panic.
    let gzip = read(EPSS_GZIP);
    let err = epss::parse("cut.csv.gz", &gzip[..gzip.len() / 2]).unwrap_err();
    assert!(err.message.starts_with("cannot read"), "{err}");
}
