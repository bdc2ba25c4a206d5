//! The advisory database over its public API: import of OSV directories, zips and single records,
//! KEV and EPSS; lookups, aliases, ratings, replacement, withdrawn records, skipped records,
//! atomicity, status; and `db update` against a local mirror (no network).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use palisade_vulndb::advisory::Event;
use palisade_vulndb::db::{
    AdvisoryDb, DbError, DownloadOutcome, SourceKind, UpdateOptions, update,
};

const NOW: &str = "2026-09-01T12:00:00Z";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn osv(dir: &str) -> PathBuf {
    fixtures().join("osv").join(dir)
}

fn kev_file() -> PathBuf {
    fixtures().join("kev/known_exploited_vulnerabilities.json")
}

fn epss_file() -> PathBuf {
    fixtures().join("epss/epss_scores-2025-03-16.csv.gz")
}

/// A directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "palisade-vulndb-db-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Zips every `*.json` of `dir` (deflated, as osv.dev's dumps are) into `zip_path`.
fn write_zip(dir: &Path, zip_path: &Path) {
    std::fs::create_dir_all(zip_path.parent().unwrap()).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        writer.start_file(name, options).unwrap();
        writer.write_all(&std::fs::read(&path).unwrap()).unwrap();
    }
    writer.finish().unwrap();
}

fn ids(advisories: &[palisade_vulndb::advisory::Advisory]) -> Vec<&str> {
    advisories.iter().map(|a| a.id.as_str()).collect()
}

#[test]
fn imports_fixtures_and_answers_lookups() {
    let tmp = TempDir::new("lookups");
    let alma_zip = tmp.join("AlmaLinux/all.zip");
    write_zip(&osv("almalinux"), &alma_zip);
    let mut db = AdvisoryDb::create(&tmp.join("advisories.db")).unwrap();
    let report = db
        .import(
            &[
                osv("go"),
                alma_zip,
                osv("handwritten"),
                kev_file(),
                epss_file(),
            ],
            NOW,
        )
        .unwrap();
    let sources: Vec<(&str, SourceKind, u64, u64)> = report
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.kind, s.records, s.skipped))
        .collect();
    assert_eq!(
        sources,
        [
            ("go", SourceKind::Osv, 7, 0),
            ("AlmaLinux", SourceKind::Osv, 6, 0),
            ("handwritten", SourceKind::Osv, 6, 0),
            ("kev", SourceKind::Kev, 5, 0),
            ("epss", SourceKind::Epss, 10, 0),
        ]
    );
    assert_eq!(
        (report.stored, report.skipped, report.kept_newer),
        (19, 0, 0)
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    // Package index: exact ecosystem, normalized names, events in record order.
    let grpc = db.affected("Go", "google.golang.org/grpc").unwrap();
    assert_eq!(grpc.len(), 1);
    assert_eq!(grpc[0].advisory_id, "GO-2023-2153");
    let fixed: Vec<&str> = grpc[0].ranges[0]
        .events
        .iter()
        .filter_map(|event| match event {
            Event::Fixed(version) => Some(version.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(fixed, ["1.56.3", "1.57.1", "1.58.3"]);
    assert_eq!(
        db.affected("PyPI", "jinja2").unwrap()[0].advisory_id,
        "GHSA-h5c8-rqwp-cp95"
    );
    assert!(db.affected("PyPI", "Jinja2").unwrap().is_empty());
    assert!(db.affected("AlmaLinux:8", "runc").unwrap().is_empty());
    let runc = db.affected("AlmaLinux:9", "runc").unwrap();
    assert_eq!(runc.len(), 1);
    assert_eq!(runc[0].advisory_id, "ALSA-2024:0670");
    // The lodash record's package-less GIT entry is not indexed.
    assert_eq!(db.affected("npm", "lodash").unwrap().len(), 1);

    // Withdrawn advisories are stored but never returned for matching.
    assert!(db.affected("Go", "k8s.io/kubernetes").unwrap().is_empty());
    assert!(
        db.affected("Go", "github.com/gravitational/teleport")
            .unwrap()
            .is_empty()
    );
    let withdrawn = db.advisory("GO-2022-0617").unwrap().unwrap();
    assert_eq!(withdrawn.withdrawn.as_deref(), Some("2024-08-21T16:25:56Z"));

    // Ratings from each source's convention.
    let rating = |id: &str| db.advisory(id).unwrap().unwrap().rating;
    assert_eq!(rating("ALSA-2024:0670").as_deref(), Some("Important"));
    assert_eq!(rating("ALSA-2026:6622").as_deref(), Some("Moderate"));
    assert_eq!(rating("GHSA-jfh8-c2jp-5v3q").as_deref(), Some("CRITICAL"));
    assert_eq!(rating("GHSA-h5c8-rqwp-cp95").as_deref(), Some("MODERATE"));
    assert_eq!(rating("UBUNTU-CVE-2024-0727").as_deref(), Some("low"));
    assert_eq!(rating("GO-2023-2102"), None);
    let ubuntu = db.affected("Ubuntu:22.04:LTS", "openssl").unwrap();
    assert_eq!(ubuntu[0].rating.as_deref(), Some("low"));
    let trixie = db.affected("Debian:13", "xz-utils").unwrap();
    assert_eq!(trixie[0].rating.as_deref(), Some("high"));
    let bookworm = db.affected("Debian:12", "xz-utils").unwrap();
    assert_eq!(bookworm[0].rating, None);

    // Advisory pages: ADVISORY reference first, else WEB.
    let go = db.advisory("GO-2022-0378").unwrap().unwrap();
    assert_eq!(
        go.url.as_deref(),
        Some("https://github.com/foxcpp/maddy/security/advisories/GHSA-qh54-9vc5-m9fg")
    );
    let go = db.advisory("GO-2023-2102").unwrap().unwrap();
    assert_eq!(
        go.url.as_deref(),
        Some("https://groups.google.com/g/golang-announce/c/iNNxDTCjZvo/m/UDd7VKQuAAAJ")
    );
    assert_eq!(
        db.advisory("ALPINE-CVE-2023-5363")
            .unwrap()
            .unwrap()
            .url
            .as_deref(),
        Some("https://security.alpinelinux.org/vuln/CVE-2023-5363")
    );

    // Aliases and related IDs (and Debian's `upstream`) find every record of a flaw.
    assert_eq!(
        ids(&db.advisories_by_alias("CVE-2023-44487").unwrap()),
        ["ALSA-2023:5709", "GO-2023-2102", "GO-2023-2153"]
    );
    assert_eq!(
        ids(&db.advisories_by_alias("GHSA-4374-p667-p6c8").unwrap()),
        ["GO-2023-2102"]
    );
    assert_eq!(
        ids(&db.advisories_by_alias("CVE-2024-3094").unwrap()),
        ["DEBIAN-CVE-2024-3094"]
    );
    assert_eq!(
        ids(&db.advisories_by_alias("GO-2023-2102").unwrap()),
        ["GO-2023-2102"]
    );
    assert!(db.advisories_by_alias("CVE-1999-0001").unwrap().is_empty());

    // KEV and EPSS joined through an advisory's CVE alias.
    let log4shell = db.advisories_by_alias("CVE-2021-44228").unwrap();
    assert_eq!(ids(&log4shell), ["GHSA-jfh8-c2jp-5v3q"]);
    let cve = log4shell[0].aliases[0].as_str();
    let kev = db.kev(cve).unwrap().unwrap();
    assert!(kev.known_ransomware);
    assert_eq!(kev.vendor, "Apache");
    let epss = db.epss(cve).unwrap().unwrap();
    assert!((epss.score - 0.94358).abs() < 1e-6);
    assert!((epss.percentile - 0.99950).abs() < 1e-6);
    assert!(db.kev("CVE-2023-44487").unwrap().is_none());
    assert!(db.epss("CVE-2023-44487").unwrap().is_none());

    // The original record, byte for byte.
    let raw = db.raw_record("GO-2023-2102").unwrap().unwrap();
    assert_eq!(
        raw,
        std::fs::read(osv("go").join("GO-2023-2102.json")).unwrap()
    );
    assert!(db.raw_record("GO-0000-0000").unwrap().is_none());

    let status = db.status().unwrap();
    assert_eq!(status.advisories, 19);
    assert_eq!(status.withdrawn, 2);
    assert_eq!(status.kev_entries, 5);
    assert_eq!(status.epss_scores, 10);
    assert_eq!(status.kev_catalog_version.as_deref(), Some("2025.02.25"));
    assert_eq!(status.epss_model_version.as_deref(), Some("v2025.03.14"));
    assert_eq!(
        status.epss_score_date.as_deref(),
        Some("2025-03-16T12:55:00Z")
    );
    assert_eq!(status.sources.len(), 5);
    assert_eq!(status.last_update.as_deref(), Some(NOW));
    let affected_rows: usize = ["go", "almalinux", "handwritten"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(osv(dir)).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let record: serde_json::Value =
                serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            record["affected"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|entry| entry.get("package").is_some())
                .count()
        })
        .sum();
    assert_eq!(status.affected, affected_rows as u64);
    assert!(!status.is_stale("2026-09-03T11:59:59Z"));
    assert!(status.is_stale("2026-09-03T12:00:01Z"));
    assert!(status.is_stale("not a time"));

    // Reopening finds everything again.
    drop(db);
    let db = AdvisoryDb::open(&tmp.join("advisories.db")).unwrap();
    assert_eq!(db.status().unwrap().advisories, 19);
}

#[test]
fn reimport_is_idempotent_and_newer_records_replace() {
    let tmp = TempDir::new("replace");
    let mut db = AdvisoryDb::create(&tmp.join("advisories.db")).unwrap();
    db.import(&[osv("handwritten")], NOW).unwrap();
    let before = db.status().unwrap();
    let again = db.import(&[osv("handwritten")], NOW).unwrap();
    assert_eq!((again.stored, again.kept_newer), (6, 0));
    let after = db.status().unwrap();
    assert_eq!(
        (after.advisories, after.affected),
        (before.advisories, before.affected)
    );

    let lodash_fix = |db: &AdvisoryDb| {
        let entries = db.affected("npm", "lodash").unwrap();
        assert_eq!(entries.len(), 1, "one index row per affected package");
        entries[0].ranges[0].events.clone()
    };
    let older = db.import(&[osv("replace/older")], NOW).unwrap();
    assert_eq!((older.stored, older.kept_newer), (0, 1));
    assert_eq!(lodash_fix(&db)[1], Event::Fixed("4.17.21".into()));

    // Newer by half a second: the fraction counts.
    let newer = db.import(&[osv("replace/newer")], NOW).unwrap();
    assert_eq!((newer.stored, newer.kept_newer), (1, 0));
    assert_eq!(lodash_fix(&db)[1], Event::Fixed("4.17.22".into()));
    let advisory = db.advisory("GHSA-35jh-r3h4-6jhm").unwrap().unwrap();
    assert_eq!(advisory.summary, "Command Injection in lodash (newer copy)");
    assert_eq!(
        ids(&db.advisories_by_alias("CVE-2021-23337").unwrap()),
        ["GHSA-35jh-r3h4-6jhm"]
    );
    let raw = db.raw_record("GHSA-35jh-r3h4-6jhm").unwrap().unwrap();
    assert_eq!(
        raw,
        std::fs::read(osv("replace/newer/GHSA-35jh-r3h4-6jhm.json")).unwrap()
    );
    assert_eq!(db.status().unwrap().advisories, before.advisories);
}

#[test]
fn invalid_records_are_skipped_and_named() {
    let tmp = TempDir::new("invalid");
    let mut db = AdvisoryDb::create(&tmp.join("advisories.db")).unwrap();
    let report = db
        .import(&[osv("handwritten"), osv("invalid")], NOW)
        .unwrap();
    assert_eq!(report.stored, 6);
    assert_eq!(report.skipped, 3);
    let invalid = report.sources.iter().find(|s| s.name == "invalid").unwrap();
    assert_eq!((invalid.records, invalid.skipped), (0, 3));
    for (file, why) in [
        ("truncated.json", "not an OSV record"),
        ("no-id.json", "no `id`"),
        (
            "bad-range.json",
            "GHSA-bad0-rang-e001: affected[0]: ranges[0]: events[0]",
        ),
    ] {
        assert!(
            report
                .errors
                .iter()
                .any(|error| error.contains(file) && error.contains(why)),
            "no error naming {file} ({why}) in {:?}",
            report.errors
        );
    }
    assert!(db.affected("npm", "left-pad").unwrap().is_empty());
    let status = db.status().unwrap();
    let source = status.sources.iter().find(|s| s.name == "invalid").unwrap();
    assert_eq!(source.skipped, 3);

    // Only invalid records: nothing could be read, so the import fails and writes nothing.
    let err = db
        .import(&[osv("invalid")], "2026-09-02T00:00:00Z")
        .unwrap_err();
    assert!(
        err.to_string().contains("nothing could be imported"),
        "{err}"
    );
    assert_eq!(db.status().unwrap().last_update.as_deref(), Some(NOW));
}

#[test]
fn a_failed_import_leaves_the_previous_content() {
    let tmp = TempDir::new("atomic");
    let mut db = AdvisoryDb::create(&tmp.join("advisories.db")).unwrap();
    db.import(&[osv("go")], NOW).unwrap();
    let before = db.status().unwrap();
    let missing = tmp.join("no-such-dump/all.zip");
    let err = db
        .import(
            &[osv("handwritten"), missing.clone(), kev_file()],
            "2026-09-02T00:00:00Z",
        )
        .unwrap_err();
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
    let after = db.status().unwrap();
    assert_eq!(after, before);
    assert!(db.affected("PyPI", "jinja2").unwrap().is_empty());
    assert!(db.kev("CVE-2021-44228").unwrap().is_none());

    // Another connection sees the same.
    let other = AdvisoryDb::open(&tmp.join("advisories.db")).unwrap();
    assert_eq!(other.status().unwrap().advisories, 7);
    assert!(matches!(db.import(&[], NOW), Err(DbError::Other { .. })));
    assert!(db.import(&[osv("go")], "yesterday").is_err());
}

#[test]
fn corrupt_zips_and_entries_are_counted_not_fatal() {
    let tmp = TempDir::new("corrupt");
    let garbage = tmp.join("Garbage/all.zip");
    std::fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    std::fs::write(&garbage, b"PK\x03\x04 this is not really a zip archive").unwrap();

    // A stored (uncompressed) entry with one byte of its data flipped fails its CRC.
    let damaged = tmp.join("Damaged/all.zip");
    std::fs::create_dir_all(damaged.parent().unwrap()).unwrap();
    {
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&damaged).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for name in ["GO-2022-0378.json", "GO-2022-0248.json"] {
            writer.start_file(name, options).unwrap();
            writer
                .write_all(&std::fs::read(osv("go").join(name)).unwrap())
                .unwrap();
        }
        writer.finish().unwrap();
    }
    let mut bytes = std::fs::read(&damaged).unwrap();
    let at = bytes
        .windows(b"MD5 hash support".len())
        .position(|window| window == b"MD5 hash support")
        .unwrap();
    bytes[at] = b'X';
    std::fs::write(&damaged, bytes).unwrap();

    let mut db = AdvisoryDb::create(&tmp.join("advisories.db")).unwrap();
    let report = db.import(&[garbage, damaged], NOW).unwrap();
    assert_eq!(report.stored, 1);
    assert_eq!(report.skipped, 2);
    assert!(
        report.errors[0].contains("Garbage/all.zip"),
        "{:?}",
        report.errors
    );
    assert!(
        report.errors[1].contains("Damaged/all.zip:GO-2022-0378.json"),
        "{:?}",
        report.errors
    );
    assert!(db.advisory("GO-2022-0248").unwrap().is_some());
    assert!(db.advisory("GO-2022-0378").unwrap().is_none());
}

#[test]
fn a_missing_database_says_how_to_get_one() {
    let tmp = TempDir::new("missing");
    let path = tmp.join("advisories.db");
    let err = AdvisoryDb::open(&path).err().unwrap();
    assert!(matches!(err, DbError::Missing { .. }));
    assert!(err.to_string().contains("palisade db update"), "{err}");
    assert!(!path.exists(), "open must not create the file");
    AdvisoryDb::create(&path).unwrap();
    assert!(AdvisoryDb::create(&path).is_err());
    assert_eq!(
        AdvisoryDb::open(&path)
            .unwrap()
            .status()
            .unwrap()
            .advisories,
        0
    );
    assert!(
        AdvisoryDb::open_or_create(&path)
            .unwrap()
            .status()
            .unwrap()
            .is_stale(NOW)
    );

    let foreign = tmp.join("foreign.db");
    {
        let connection = rusqlite::Connection::open(&foreign).unwrap();
        connection.execute_batch("CREATE TABLE t (x)").unwrap();
    }
    let err = AdvisoryDb::open(&foreign).err().unwrap();
    assert!(
        err.to_string().contains("not a Palisade advisory database"),
        "{err}"
    );
}

/// A request the mirror saw: path and `If-None-Match`.
type Seen = (String, Option<String>);

struct Mirror {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    failing: Arc<Mutex<HashSet<String>>>,
}

/// Serves `files` (path → body) with ETags, answering 304 to a matching `If-None-Match` and 500
/// for paths in `failing`.
fn mirror(files: HashMap<String, Vec<u8>>) -> Mirror {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let failing = Arc::new(Mutex::new(HashSet::new()));
    let (log, fail) = (seen.clone(), failing.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_string();
            let mut if_none_match = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("if-none-match")
                {
                    if_none_match = Some(value.trim().to_string());
                }
            }
            log.lock()
                .unwrap()
                .push((path.clone(), if_none_match.clone()));
            let etag = format!("\"v1{}\"", path.replace(['/', ' ', '%'], "-"));
            let (status, body): (&str, &[u8]) = if fail.lock().unwrap().contains(&path) {
                ("500 Internal Server Error", b"broken")
            } else {
                match files.get(&path) {
                    None => ("404 Not Found", b"not found"),
                    Some(_) if if_none_match.as_deref() == Some(etag.as_str()) => {
                        ("304 Not Modified", b"")
                    }
                    Some(body) => ("200 OK", body),
                }
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
            let _ = stream.flush();
        }
    });
    Mirror { url, seen, failing }
}

#[test]
fn update_downloads_conditionally_and_replaces_atomically() {
    let tmp = TempDir::new("update");
    let go_zip = tmp.join("served/Go/all.zip");
    let alma_zip = tmp.join("served/AlmaLinux/all.zip");
    write_zip(&osv("go"), &go_zip);
    write_zip(&osv("almalinux"), &alma_zip);
    let files = HashMap::from([
        ("/Go/all.zip".to_string(), std::fs::read(&go_zip).unwrap()),
        (
            "/AlmaLinux/all.zip".to_string(),
            std::fs::read(&alma_zip).unwrap(),
        ),
        (
            "/known_exploited_vulnerabilities.json".to_string(),
            std::fs::read(kev_file()).unwrap(),
        ),
        (
            "/epss_scores-current.csv.gz".to_string(),
            std::fs::read(epss_file()).unwrap(),
        ),
    ]);
    let server = mirror(files);
    let home = tmp.join("home");
    let options = UpdateOptions {
        ecosystems: vec!["Go".to_string(), "AlmaLinux".to_string()],
        mirror: Some(format!("{}/", server.url)),
        now: NOW.to_string(),
        ..UpdateOptions::default()
    };

    let first = update(&home, &options).unwrap();
    assert_eq!(first.path, home.join("advisories.db"));
    assert!(
        first
            .downloads
            .iter()
            .all(|d| matches!(d.outcome, DownloadOutcome::Downloaded { .. })),
        "{:?}",
        first.downloads
    );
    assert_eq!(first.import.stored, 13);
    assert!(home.join("downloads/Go/all.zip").is_file());
    assert!(home.join("downloads/epss_scores-current.csv.gz").is_file());
    assert!(
        server
            .seen
            .lock()
            .unwrap()
            .iter()
            .all(|(_, etag)| etag.is_none()),
        "the first update has nothing to revalidate"
    );
    let reader = AdvisoryDb::open(&home.join("advisories.db")).unwrap();
    let status = reader.status().unwrap();
    assert_eq!(
        (status.advisories, status.kev_entries, status.epss_scores),
        (13, 5, 10)
    );
    let go = status.sources.iter().find(|s| s.name == "Go").unwrap();
    assert_eq!(go.origin, format!("{}/Go/all.zip", server.url));
    assert_eq!(go.etag.as_deref(), Some("\"v1-Go-all.zip\""));

    // Second update: every request revalidates, every answer is 304, the data stays.
    server.seen.lock().unwrap().clear();
    let second = update(
        &home,
        &UpdateOptions {
            now: "2026-09-02T12:00:00Z".to_string(),
            ..options.clone()
        },
    )
    .unwrap();
    assert!(
        second
            .downloads
            .iter()
            .all(|d| d.outcome == DownloadOutcome::NotModified),
        "{:?}",
        second.downloads
    );
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4);
    assert!(seen.contains(&(
        "/AlmaLinux/all.zip".to_string(),
        Some("\"v1-AlmaLinux-all.zip\"".to_string())
    )));
    assert!(seen.iter().all(|(_, etag)| etag.is_some()), "{seen:?}");
    let db = AdvisoryDb::open(&home.join("advisories.db")).unwrap();
    let status = db.status().unwrap();
    assert_eq!(
        (status.advisories, status.kev_entries, status.epss_scores),
        (13, 5, 10)
    );
    assert_eq!(status.last_update.as_deref(), Some("2026-09-02T12:00:00Z"));
    // A reader that had the old file open keeps reading it.
    assert_eq!(reader.status().unwrap().last_update.as_deref(), Some(NOW));
    assert_eq!(reader.affected("AlmaLinux:9", "runc").unwrap().len(), 1);

    // A failing source falls back to its cached copy; one never downloaded is only reported.
    server
        .failing
        .lock()
        .unwrap()
        .insert("/AlmaLinux/all.zip".to_string());
    let third = update(
        &home,
        &UpdateOptions {
            ecosystems: vec![
                "Go".to_string(),
                "AlmaLinux".to_string(),
                "Rocky Linux".to_string(),
            ],
            ..options.clone()
        },
    )
    .unwrap();
    let outcome = |source: &str| {
        third
            .downloads
            .iter()
            .find(|d| d.source == source)
            .unwrap()
            .clone()
    };
    assert!(matches!(
        outcome("AlmaLinux").outcome,
        DownloadOutcome::Failed { used_cache: true, ref message } if message.contains("500")
    ));
    let rocky = outcome("Rocky Linux");
    assert_eq!(rocky.url, format!("{}/Rocky%20Linux/all.zip", server.url));
    assert!(matches!(
        rocky.outcome,
        DownloadOutcome::Failed {
            used_cache: false,
            ..
        }
    ));
    let db = AdvisoryDb::open(&home.join("advisories.db")).unwrap();
    assert_eq!(db.affected("AlmaLinux:9", "runc").unwrap().len(), 1);
    assert_eq!(db.status().unwrap().advisories, 13);

    // Nothing downloadable and nothing cached: the update fails and writes nothing.
    let empty_home = tmp.join("empty-home");
    server
        .failing
        .lock()
        .unwrap()
        .insert("/Go/all.zip".to_string());
    let err = update(
        &empty_home,
        &UpdateOptions {
            ecosystems: vec!["Go".to_string()],
            kev: false,
            epss: false,
            ..options.clone()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("no source could be downloaded"),
        "{err}"
    );
    assert!(!empty_home.join("advisories.db").exists());
}

/// Bench-style check over the real dumps when they are present (not needed in CI).
#[test]
fn imports_the_shared_osv_dumps() {
    let root = Path::new("/work/shared/data/osv");
    if !root.is_dir() {
        println!("skipped: {} is absent", root.display());
        return;
    }
    let expected = [
        ("AlmaLinux-10", 660),
        ("AlmaLinux-8", 3237),
        ("AlmaLinux-9", 1783),
        ("Go", 4291),
    ];
    let zips: Vec<PathBuf> = expected
        .iter()
        .map(|(dir, _)| root.join(dir).join("all.zip"))
        .collect();
    let tmp = TempDir::new("shared");
    let mut db = AdvisoryDb::create(&tmp.join("advisories.db")).unwrap();
    let started = Instant::now();
    let report = db.import(&zips, NOW).unwrap();
    println!(
        "imported {} records in {:.2} s",
        report.stored,
        started.elapsed().as_secs_f64()
    );
    let counts: Vec<(&str, u64, u64)> = report
        .sources
        .iter()
        .map(|s| (s.name.as_str(), s.records, s.skipped))
        .collect();
    let wanted: Vec<(&str, u64, u64)> = expected.iter().map(|(n, c)| (*n, *c, 0)).collect();
    assert_eq!(counts, wanted, "{:?}", report.errors);
    assert_eq!(report.stored, 9971);
    // The AlmaLinux 9 dump repeats some AlmaLinux 8 advisories (same ID and `modified`).
    assert_eq!(db.status().unwrap().advisories, 9928);
    assert!(!db.affected("Go", "stdlib").unwrap().is_empty());
    assert!(!db.affected("AlmaLinux:9", "kernel").unwrap().is_empty());
}
