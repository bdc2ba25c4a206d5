//! Package information compiled into executables, read in one streaming pass: Go's build
//! information (`debug/buildinfo`) and cargo-auditable's `.dep-v0` data.
//!
//! [`Interest`] gives one extractor per file, and a binary is Go or Rust only once it has been
//! read, so the Go and Rust catalogers share [`binary_extract`]. It returns tagged records
//! ([`records`]) that each cataloger picks its own from.
//!
//! Why streaming instead of parsing the container format (ELF/Mach-O/PE): layers are never
//! unpacked, and section headers sit at the end of an ELF file, after the data they describe.
//! Both formats can be recognised in passing instead:
//! - Go (≥ 1.18) writes a 32-byte header starting with `\xff Go buildinf:` at a 16-byte aligned
//!   position of its data, followed inline by two varint-prefixed strings (Go version, module
//!   information). Older Go versions store pointers instead, which need the virtual address map;
//!   such binaries are recorded as [`TAG_GO_POINTERS`] so the Go cataloger can note the gap.
//! - cargo-auditable stores a zlib stream of compact JSON that starts `{"packages":[`
//!   (or `{"format":`). A zlib
//!   header is two bytes (`0x78`, check byte), so candidates are rare; each is confirmed by
//!   inflating its first bytes before the whole stream is inflated.

use std::io::Read;

use flate2::{Decompress, FlushDecompress, Status};

use super::Interest;

/// Go ≥ 1.18 build information: Go version, `\0`, module information (sentinels stripped).
pub const TAG_GO: u8 = b'G';
/// Go < 1.18 build information (pointer format), which this streaming reader does not decode.
pub const TAG_GO_POINTERS: u8 = b'O';
/// cargo-auditable dependency list: the inflated JSON.
pub const TAG_RUST: u8 = b'R';

/// Starts every extract of [`binary_extract`]: other catalogers' extractors can win a file
/// (a Python `METADATA` with an execute bit), and their extracts must not be read as records.
const EXTRACT_MAGIC: &[u8] = b"\0bin1";
const GO_MAGIC: &[u8] = b"\xff Go buildinf:";
const GO_HEADER_LEN: usize = 32;
const GO_ALIGN: u64 = 16;
/// Module information of real binaries is a few KiB; anything larger is not build information.
const MAX_GO_INFO: usize = 4 << 20;
/// cargo-auditable's JSON lists names and versions only; 8 MiB is thousands of crates.
const MAX_RUST_JSON: usize = 8 << 20;
/// How cargo-auditable's JSON starts: `packages` first, or the `format` revision newer
/// versions may add.
const AUDITABLE_PREFIXES: [&[u8]; 2] = [b"{\"packages\":[", b"{\"format\":"];
/// Bytes kept between chunks so a match straddling a chunk boundary is seen whole, and enough
/// compressed input follows a zlib candidate (a dynamic Huffman block header can take ~300
/// bytes) to confirm it.
const LOOKAHEAD: usize = 2048;
const CHUNK: usize = 256 << 10;

/// Executables worth scanning: any file with an execute bit, or in a directory of executables
/// (layers built on other systems sometimes lose modes), or a shared library (Rust `cdylib`s
/// can carry cargo-auditable data too).
pub fn interest(path: &str, size: u64, mode: u32) -> Interest {
    // Smaller than any real ELF/Mach-O/PE executable with build information.
    if size < 512 {
        return Interest::None;
    }
    let in_bin_dir = path.contains("/bin/") || path.contains("/sbin/");
    let shared_library = path.ends_with(".so") || path.contains(".so.");
    if mode & 0o111 != 0 || in_bin_dir || shared_library {
        Interest::Extract(binary_extract)
    } else {
        Interest::None
    }
}

/// Whether `head` starts like an executable Palisade can find build information in.
fn is_executable_format(head: &[u8]) -> bool {
    const MAGICS: [&[u8]; 7] = [
        b"\x7fELF",
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
        b"MZ",
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}

/// What a Go build information header at some position turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum GoHeader {
    /// Version and module information (sentinels stripped).
    Inline { version: String, modinfo: String },
    /// The pre-1.18 pointer format.
    Pointers,
    /// More bytes are needed to decide.
    NeedMore,
    /// Not build information (the magic string appearing as ordinary data).
    Invalid,
}

/// Decodes the build information starting at `data[0]` (the magic), following
/// `debug/buildinfo.readRawBuildInfo`.
pub fn decode_go_header(data: &[u8]) -> GoHeader {
    if data.len() < GO_HEADER_LEN {
        return GoHeader::NeedMore;
    }
    if !data.starts_with(GO_MAGIC) {
        return GoHeader::Invalid;
    }
    let pointer_size = data.get(14).copied().unwrap_or(0);
    let flags = data.get(15).copied().unwrap_or(0);
    if flags & 2 == 0 {
        // Only a real header has a plausible pointer size; the literal in a binary that embeds
        // debug/buildinfo is followed by arbitrary bytes.
        return if matches!(pointer_size, 4 | 8) {
            GoHeader::Pointers
        } else {
            GoHeader::Invalid
        };
    }
    let rest = data.get(GO_HEADER_LEN..).unwrap_or_default();
    let (version, rest) = match read_varint_string(rest) {
        Ok(pair) => pair,
        Err(outcome) => return outcome,
    };
    let (modinfo, _) = match read_varint_string(rest) {
        Ok(pair) => pair,
        Err(outcome) => return outcome,
    };
    // Go frames module information with 16-byte sentinels and ends it with a newline; anything
    // else means there is none (as debug/buildinfo decides).
    let modinfo = if modinfo.len() >= 33 && modinfo.get(modinfo.len() - 17) == Some(&b'\n') {
        modinfo.get(16..modinfo.len() - 16).unwrap_or_default()
    } else {
        &[][..]
    };
    let version = String::from_utf8_lossy(version).into_owned();
    if !version.starts_with("go") && !version.starts_with("devel") {
        return GoHeader::Invalid;
    }
    GoHeader::Inline {
        version,
        modinfo: String::from_utf8_lossy(modinfo).into_owned(),
    }
}

/// A uvarint-length-prefixed string and what follows it.
fn read_varint_string(data: &[u8]) -> Result<(&[u8], &[u8]), GoHeader> {
    let mut length: u64 = 0;
    let mut shift = 0u32;
    let mut used = 0usize;
    loop {
        let Some(&byte) = data.get(used) else {
            return Err(GoHeader::NeedMore);
        };
        used += 1;
        if shift >= 63 {
            return Err(GoHeader::Invalid);
        }
        length |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let length = usize::try_from(length).map_err(|_| GoHeader::Invalid)?;
    if length > MAX_GO_INFO {
        return Err(GoHeader::Invalid);
    }
    let end = used.checked_add(length).ok_or(GoHeader::Invalid)?;
    match (data.get(used..end), data.get(end..)) {
        (Some(text), Some(rest)) => Ok((text, rest)),
        _ => Err(GoHeader::NeedMore),
    }
}

/// A cargo-auditable stream being inflated across chunks.
struct RustInflate {
    inflater: Decompress,
    out: Vec<u8>,
}

enum InflateStep {
    Continue,
    Done,
    Failed,
}

impl RustInflate {
    fn feed(&mut self, mut input: &[u8]) -> InflateStep {
        let mut buffer = vec![0u8; 64 << 10];
        loop {
            let before_in = self.inflater.total_in();
            let before_out = self.inflater.total_out();
            let status = self
                .inflater
                .decompress(input, &mut buffer, FlushDecompress::None);
            let consumed = usize::try_from(self.inflater.total_in() - before_in).unwrap_or(0);
            let produced = usize::try_from(self.inflater.total_out() - before_out).unwrap_or(0);
            input = input.get(consumed..).unwrap_or_default();
            self.out
                .extend_from_slice(buffer.get(..produced).unwrap_or_default());
            if self.out.len() > MAX_RUST_JSON {
                return InflateStep::Failed;
            }
            match status {
                Ok(Status::StreamEnd) => return InflateStep::Done,
                Ok(_) if consumed == 0 && produced == 0 => return InflateStep::Continue,
                Ok(_) => {}
                Err(_) => return InflateStep::Failed,
            }
        }
    }
}

/// Whether a zlib stream starting at `data[0]` inflates to cargo-auditable's JSON prefix.
fn is_auditable_stream(data: &[u8]) -> bool {
    let mut inflater = Decompress::new(true);
    let mut out = [0u8; 16];
    let input = data.get(..LOOKAHEAD).unwrap_or(data);
    match inflater.decompress(input, &mut out, FlushDecompress::None) {
        Ok(_) => {
            let produced = usize::try_from(inflater.total_out()).unwrap_or(0);
            let inflated = out.get(..produced).unwrap_or_default();
            AUDITABLE_PREFIXES.iter().any(|p| inflated.starts_with(p))
        }
        Err(_) => false,
    }
}

/// Scans an executable's bytes for Go build information and cargo-auditable data; returns the
/// tagged records ([`records`]) or `None` when there is neither.
pub fn binary_extract(reader: &mut dyn Read, _size: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = [0u8; 4];
    let mut filled = 0;
    while filled < head.len() {
        let n = reader.read(head.get_mut(filled..).unwrap_or_default())?;
        if n == 0 {
            return Ok(None);
        }
        filled += n;
    }
    if !is_executable_format(&head) {
        return Ok(None);
    }
    let mut scanner = Scanner::default();
    scanner.window.extend_from_slice(&head);
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = reader.read(&mut chunk)?;
        let eof = n == 0;
        scanner.push(chunk.get(..n).unwrap_or_default(), eof);
        if scanner.finished() || eof {
            break;
        }
    }
    Ok(scanner.into_records())
}

#[derive(Default)]
struct Scanner {
    /// Unsearched bytes plus the lookahead carried from the previous chunk.
    window: Vec<u8>,
    /// Absolute offset of `window[0]` in the file.
    window_start: u64,
    /// Absolute offset below which hits have been examined.
    searched: u64,
    go_capture: Option<Vec<u8>>,
    rust: Option<RustInflate>,
    records: Vec<u8>,
    go_pointers: bool,
    done: bool,
}

impl Scanner {
    fn finished(&self) -> bool {
        self.done
    }

    fn record(&mut self, tag: u8, payload: &[u8]) {
        let Ok(length) = u32::try_from(payload.len()) else {
            return;
        };
        self.records.push(tag);
        self.records.extend_from_slice(&length.to_le_bytes());
        self.records.extend_from_slice(payload);
    }

    fn push(&mut self, chunk: &[u8], eof: bool) {
        if self.done {
            return;
        }
        if let Some(capture) = &mut self.go_capture {
            capture.extend_from_slice(chunk);
            let outcome = decode_go_header(capture);
            let too_long = capture.len() > MAX_GO_INFO * 2 + GO_HEADER_LEN + 20;
            self.settle_go(outcome, eof || too_long);
            if self.done {
                return;
            }
        }
        if let Some(rust) = &mut self.rust {
            match rust.feed(chunk) {
                InflateStep::Continue if !eof => {}
                InflateStep::Continue | InflateStep::Failed => self.rust = None,
                InflateStep::Done => {
                    let json = std::mem::take(&mut rust.out);
                    self.rust = None;
                    self.record(TAG_RUST, &json);
                    self.done = true;
                    return;
                }
            }
        }
        self.window.extend_from_slice(chunk);
        self.search(eof);
        // Keep only the lookahead: everything before it has been searched.
        if self.window.len() > LOOKAHEAD {
            let drop = self.window.len() - LOOKAHEAD;
            self.window.drain(..drop);
            self.window_start += drop as u64;
        }
    }

    /// Records the outcome of decoding the captured Go header; `give_up` when no more bytes
    /// will help.
    fn settle_go(&mut self, outcome: GoHeader, give_up: bool) {
        match outcome {
            GoHeader::Inline { version, modinfo } => {
                let mut payload = version.into_bytes();
                payload.push(0);
                payload.extend_from_slice(modinfo.as_bytes());
                self.record(TAG_GO, &payload);
                self.go_capture = None;
                self.done = true;
            }
            GoHeader::Pointers => {
                self.go_pointers = true;
                self.go_capture = None;
            }
            GoHeader::NeedMore if !give_up => {}
            GoHeader::NeedMore | GoHeader::Invalid => self.go_capture = None,
        }
    }

    fn search(&mut self, eof: bool) {
        // Hits closer than LOOKAHEAD to the end wait for the next chunk, unless there is none.
        let limit = if eof {
            self.window.len()
        } else {
            self.window.len().saturating_sub(LOOKAHEAD)
        };
        let first = usize::try_from(self.searched.saturating_sub(self.window_start)).unwrap_or(0);
        if first >= limit {
            return;
        }
        let window = std::mem::take(&mut self.window);
        // The Go magic is long and rare, so a substring search finds it fast; zlib candidates
        // start with 0x78 and are filtered by their check byte before any inflating.
        let go_hits = memchr::memmem::find_iter(window.get(first..).unwrap_or_default(), GO_MAGIC)
            .map(|i| i + first)
            .take_while(|&i| i < limit);
        for i in go_hits {
            if self.go_capture.is_some() || self.go_pointers {
                break;
            }
            let absolute = self.window_start + i as u64;
            if !absolute.is_multiple_of(GO_ALIGN) {
                continue;
            }
            let rest = window.get(i..).unwrap_or_default();
            let outcome = decode_go_header(rest);
            if outcome == GoHeader::NeedMore {
                self.go_capture = Some(rest.to_vec());
                self.settle_go(GoHeader::NeedMore, eof);
            } else {
                self.settle_go(outcome, true);
            }
            if self.done {
                break;
            }
        }
        let searched = window.get(first..limit).unwrap_or_default();
        for i in memchr::memchr_iter(0x78, searched).map(|i| i + first) {
            if self.done || self.rust.is_some() {
                break;
            }
            let rest = window.get(i..).unwrap_or_default();
            let is_zlib_header = rest
                .get(1)
                .is_some_and(|&flag| (0x7800u16 | u16::from(flag)).is_multiple_of(31));
            if !is_zlib_header || !is_auditable_stream(rest) {
                continue;
            }
            let mut inflate = RustInflate {
                inflater: Decompress::new(true),
                out: Vec::new(),
            };
            match inflate.feed(rest) {
                InflateStep::Done => {
                    let json = std::mem::take(&mut inflate.out);
                    self.record(TAG_RUST, &json);
                    self.done = true;
                }
                InflateStep::Continue if !eof => self.rust = Some(inflate),
                InflateStep::Continue | InflateStep::Failed => {}
            }
        }
        self.window = window;
        self.searched = self.window_start + limit as u64;
    }

    fn into_records(mut self) -> Option<Vec<u8>> {
        if self.go_pointers && self.records.is_empty() {
            self.record(TAG_GO_POINTERS, &[]);
        }
        if self.records.is_empty() {
            return None;
        }
        let mut out = EXTRACT_MAGIC.to_vec();
        out.extend_from_slice(&self.records);
        Some(out)
    }
}

/// The `(tag, payload)` records of an extract made by [`binary_extract`]; stops at the first
/// malformed record.
pub fn records(extract: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let Some(mut rest) = extract.strip_prefix(EXTRACT_MAGIC) else {
        return out;
    };
    while let Some((&tag, after)) = rest.split_first() {
        let Some(length) = after
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
            .and_then(|l| usize::try_from(l).ok())
        else {
            break;
        };
        let Some(payload) = after.get(4..4 + length) else {
            break;
        };
        out.push((tag, payload));
        rest = after.get(4 + length..).unwrap_or_default();
    }
    out
}

/// Builds a Go ≥ 1.18 build information blob exactly as the linker lays it out (header, then
/// varint-prefixed version and sentinel-framed module information): test fixtures and fuzz
/// seeds.
pub fn go_buildinfo_blob(version: &str, modinfo: &str) -> Vec<u8> {
    const START: &[u8; 16] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
    const END: &[u8; 16] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";
    let mut blob = GO_MAGIC.to_vec();
    blob.push(8);
    blob.push(2);
    blob.resize(GO_HEADER_LEN, 0);
    let mut framed = START.to_vec();
    framed.extend_from_slice(modinfo.as_bytes());
    framed.extend_from_slice(END);
    for text in [version.as_bytes(), &framed[..]] {
        let mut length = text.len() as u64;
        loop {
            let byte = (length & 0x7f) as u8;
            length >>= 7;
            if length == 0 {
                blob.push(byte);
                break;
            }
            blob.push(byte | 0x80);
        }
        blob.extend_from_slice(text);
    }
    blob
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A fake ELF file with `blob` at a 16-byte aligned offset past `padding` bytes of filler.
    fn elf_with(blob: &[u8], padding: usize) -> Vec<u8> {
        let mut file = b"\x7fELF".to_vec();
        file.resize(padding, 0x55);
        while !file.len().is_multiple_of(16) {
            file.push(0);
        }
        file.extend_from_slice(blob);
        file.extend(std::iter::repeat_n(0x33u8, 4000));
        file
    }

    fn extract(file: &[u8]) -> Option<Vec<u8>> {
        binary_extract(&mut &file[..], file.len() as u64)
            .ok()
            .flatten()
    }

    #[test]
    fn go_inline_buildinfo_found_across_chunks() {
        let modinfo = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n";
        let blob = go_buildinfo_blob("go1.22.3", modinfo);
        // Straddle the first chunk boundary.
        let file = elf_with(&blob, CHUNK - 20);
        let out = extract(&file).expect("build information");
        let recs = records(&out);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].0, TAG_GO);
        let payload = String::from_utf8_lossy(recs[0].1);
        assert_eq!(payload, format!("go1.22.3\0{modinfo}"));
    }

    #[test]
    fn long_module_information_is_captured_across_chunks() {
        let mut modinfo = String::from("path\tx.io/app\nmod\tx.io/app\tv1.0.0\t\n");
        for i in 0..15000 {
            modinfo.push_str(&format!("dep\texample.com/m{i}\tv1.{i}.0\th1:abc=\n"));
        }
        assert!(modinfo.len() > 2 * CHUNK);
        let blob = go_buildinfo_blob("go1.23.1", &modinfo);
        let out = extract(&elf_with(&blob, 1024)).expect("build information");
        let recs = records(&out);
        assert_eq!(recs.len(), 1);
        assert!(
            recs[0]
                .1
                .ends_with(b"dep\texample.com/m14999\tv1.14999.0\th1:abc=\n")
        );
    }

    #[test]
    fn unaligned_or_bogus_magic_is_ignored() {
        let blob = go_buildinfo_blob("go1.21.0", "path\tx\nmod\tx\tv1.0.0\t\n");
        let mut file = b"\x7fELF".to_vec();
        file.resize(101, 0); // unaligned start
        file.extend_from_slice(&blob);
        file.extend_from_slice(&[0u8; 4000]);
        assert_eq!(extract(&file), None);
        // The bare literal (as in a binary embedding debug/buildinfo) is not a header.
        let mut literal = GO_MAGIC.to_vec();
        literal.extend_from_slice(b"\x00\x00 more text here and there....");
        assert_eq!(extract(&elf_with(&literal, 64)), None);
    }

    #[test]
    fn pointer_format_is_reported() {
        let mut header = GO_MAGIC.to_vec();
        header.extend_from_slice(&[8, 0]);
        header.resize(GO_HEADER_LEN, 0x10);
        let out = extract(&elf_with(&header, 4096)).expect("record");
        assert_eq!(records(&out), vec![(TAG_GO_POINTERS, &[][..])]);
    }

    #[test]
    fn non_executables_are_skipped() {
        let mut script = b"#!/bin/sh\n".to_vec();
        script.extend_from_slice(&go_buildinfo_blob("go1.22.0", ""));
        assert_eq!(extract(&script), None);
    }

    #[test]
    fn cargo_auditable_stream_is_inflated() {
        let json = br#"{"packages":[{"name":"serde","version":"1.0.200","source":"crates.io"}]}"#;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(json).expect("compress");
        let compressed = encoder.finish().expect("compress");
        // Noise with zlib-looking bytes before the real stream.
        let mut noise = vec![0x78u8, 0x9c, 0x01, 0x02, 0x78, 0xda];
        noise.extend_from_slice(&compressed);
        let file = elf_with(&noise, CHUNK + 7);
        let out = extract(&file).expect("auditable data");
        assert_eq!(records(&out), vec![(TAG_RUST, &json[..])]);
    }

    #[test]
    fn records_stop_at_garbage() {
        assert!(records(b"\0bin1G\xff\xff\xff\x7fabc").is_empty());
        assert!(records(b"R\x01\x00\x00\x00x").is_empty());
        assert_eq!(
            records(b"\0bin1R\x01\x00\x00\x00xG"),
            vec![(b'R', &b"x"[..])]
        );
    }
}
