//! Throughput of the full built-in rule set: `cargo run --release -p palisade-audit --example
//! analyze_bench -- [EVENTS]` (default 200,000). Events are the real fixtures
//! (attack scenario and benign baseline) cloned with varied users, namespaces and names, written
//! as JSON lines and read back through `analyze`, so decoding is measured along with the rules.
//! Target context: 100,000 events/s per core with flat memory.

use std::io::{BufRead, Read};
use std::time::Instant;

use palisade_audit::detections::{Detector, DetectorOptions, analyze};

const FIXTURES: [&str; 2] = [
    include_str!("../tests/fixtures/attack-scenario.jsonl"),
    include_str!("../tests/fixtures/benign-baseline.jsonl"),
];

/// Streams `total` events made from the fixture lines, each with a user, namespace and name
/// suffix of its own so aggregation sees distinct alerts, without holding them all in memory.
struct Generated {
    templates: Vec<serde_json::Value>,
    next: usize,
    total: usize,
    line: Vec<u8>,
    pos: usize,
}

impl Generated {
    fn refill(&mut self) -> bool {
        if self.next >= self.total {
            return false;
        }
        let i = self.next;
        self.next += 1;
        let Some(template) = self.templates.get(i % self.templates.len()) else {
            return false;
        };
        let mut event = template.clone();
        let variant = i / self.templates.len();
        if let Some(user) = event.pointer_mut("/user/username")
            && let Some(name) = user.as_str()
            && !name.starts_with("system:")
        {
            *user = format!("{name}-{}", variant % 50).into();
        }
        if let Some(name) = event.pointer_mut("/objectRef/name")
            && let Some(text) = name.as_str()
        {
            *name = format!("{text}-{variant}").into();
        }
        if let Some(id) = event.pointer_mut("/auditID") {
            *id = format!("bench-{i}").into();
        }
        self.line.clear();
        if serde_json::to_writer(&mut self.line, &event).is_err() {
            return false;
        }
        self.line.push(b'\n');
        self.pos = 0;
        true
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(buf.len());
            buf[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Generated {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.line.len() && !self.refill() {
            return Ok(&[]);
        }
        Ok(&self.line[self.pos..])
    }
    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.line.len());
    }
}

fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let templates: Vec<serde_json::Value> = FIXTURES
        .iter()
        .flat_map(|f| f.lines())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // The generator's own cost (cloning and serialising), measured alone so it can be taken out.
    let mut drain = Generated {
        templates: templates.clone(),
        next: 0,
        total,
        line: Vec::new(),
        pos: 0,
    };
    let started = Instant::now();
    let generated = std::io::copy(&mut drain, &mut std::io::sink()).unwrap_or(0);
    let generation = started.elapsed().as_secs_f64();
    let mut detector = Detector::new(DetectorOptions::default()).expect("built-in rules load");
    let input = Generated {
        templates,
        next: 0,
        total,
        line: Vec::new(),
        pos: 0,
    };
    let started = Instant::now();
    let analysis = analyze(&mut detector, input).expect("in-memory input");
    let secs = started.elapsed().as_secs_f64();
    let events = analysis.stats.events as f64;
    println!(
        "{} events ({generated} bytes) in {secs:.2} s: {:.0} events/s with generation, {:.0} events/s \
         without it (generation alone {generation:.2} s), {} alerts, {} malformed",
        analysis.stats.events,
        events / secs,
        events / (secs - generation).max(f64::EPSILON),
        analysis.alerts.len(),
        analysis.stats.malformed
    );
}
