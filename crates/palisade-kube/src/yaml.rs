//! Streaming YAML/JSON reader: bytes in, Kubernetes object trees with source positions out.
//!
//! Why our own reader on top of `saphyr-parser` rather than a serde format: reports need the line
//! of every field, one malformed document must not hide the documents after it, and a 100 MB
//! `kubectl get -A -o yaml` dump (one `List` document) must be assessed with bounded memory. So
//! the input is split into documents at column-0 `---` markers *while streaming* (a marker at
//! column 0 cannot occur inside a scalar, so the split is exact), each document is parsed on its
//! own, and the `items` of a `List` are handed out one at a time as soon as each is complete.
//!
//! Plain scalars resolve the way `kubectl` (sigs.k8s.io/yaml, YAML 1.1) reads them, so
//! `privileged: yes` is the boolean `true` here exactly as it is for the API server.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read};
use std::rc::Rc;
use std::sync::Arc;

use palisade_core::{Mark, Node, SourceError, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

/// Deeper nesting than this is rejected: no real object comes close, and a bounded depth keeps
/// every recursive walk over the tree (drop, serialization) safe from stack exhaustion.
pub const MAX_DEPTH: usize = 256;

/// Alias expansion budget per document, in nodes: stops "billion laughs" documents.
pub const MAX_ALIAS_NODES: usize = 1_000_000;

const BLOCK: usize = 64 * 1024;

/// Where a document sits in its file.
#[derive(Debug, Clone, Default)]
pub struct DocumentInfo {
    /// 1-based index of the document in the file.
    pub index: u32,
    /// The Helm template the document was rendered from (`# Source: …` comment before it).
    pub template: Option<Arc<str>>,
    /// The cluster a Palisade inventory snapshot was taken from (its `cluster.name`, which the
    /// snapshot writer puts before `items`).
    pub cluster: Option<Arc<str>>,
}

/// Receives what a stream holds, in order.
pub trait ObjectSink {
    /// A Kubernetes object: a document, or one item of a `List`.
    fn object(&mut self, object: Node, document: &DocumentInfo);
    /// The fields of a list document other than `items` (e.g. a snapshot's cluster identity).
    fn list_header(&mut self, _header: Node, _document: &DocumentInfo) {}
    /// A document that is not a Kubernetes object (no `apiVersion` or `kind`).
    fn skipped(&mut self, _document: &DocumentInfo, _why: &str) {}
    /// A document (or the rest of one) that could not be read.
    fn error(&mut self, error: SourceError);
}

/// Kinds whose `items` are objects to assess rather than the object itself.
pub fn is_list_kind(api_version: &str, kind: &str) -> bool {
    kind.ends_with("List")
        || (api_version.starts_with("palisade.dev/") && kind == "InventorySnapshot")
}

/// Reads every document of `reader`, reporting objects, skips and errors to `sink`. `file` names the
/// input in errors. Never panics on any input; returns once the input is exhausted.
pub fn read_stream(reader: impl Read, file: &str, sink: &mut dyn ObjectSink) {
    read_documents(reader, file, sink, false)
}

/// Reads the first document of a YAML/JSON file whatever it holds (a configuration file, not a
/// Kubernetes object). `Ok(None)` for an empty file.
pub fn read_document(reader: impl Read, file: &str) -> Result<Option<Node>, SourceError> {
    struct First {
        root: Option<Node>,
        error: Option<SourceError>,
    }
    impl ObjectSink for First {
        fn object(&mut self, object: Node, _: &DocumentInfo) {
            if self.root.is_none() {
                self.root = Some(object);
            }
        }
        fn error(&mut self, error: SourceError) {
            self.error.get_or_insert(error);
        }
    }
    let mut first = First {
        root: None,
        error: None,
    };
    read_documents(reader, file, &mut first, true);
    match first.error {
        Some(error) => Err(error),
        None => Ok(first.root),
    }
}

fn read_documents(reader: impl Read, file: &str, sink: &mut dyn ObjectSink, raw: bool) {
    let source = Rc::new(RefCell::new(ByteSource::new(reader)));
    let mut documents_seen = 0u32;
    loop {
        let (chunk_start_line, more) = {
            let mut s = source.borrow_mut();
            if !s.has_more() {
                break;
            }
            s.chunk_started = false;
            s.template = None;
            s.prefix_flow_document();
            (s.line, true)
        };
        debug_assert!(more);
        let col_shift = source.borrow().prefix.len() as u32;
        let chars = DocumentChars {
            source: Rc::clone(&source),
        };
        let mut parser = Parser::new_from_iter(chars);
        let mut builder = DocumentBuilder::new(file, chunk_start_line, &mut documents_seen);
        builder.raw = raw;
        builder.col_shift = col_shift;
        let mut failed = false;
        loop {
            match parser.next_event() {
                None => break,
                Some(Ok((Event::StreamEnd, _))) => break,
                Some(Ok((event, span))) => {
                    if source.borrow().input_error.is_some() {
                        // The parser saw the end of input early because a byte could not be decoded:
                        // this document is incomplete, and the error is reported below.
                        failed = true;
                        break;
                    }
                    let template = source.borrow().template.clone();
                    if let Err(message) = builder.on_event(event, span, template, sink) {
                        sink.error(builder.error_at(span.start.line(), span.start.col(), message));
                        failed = true;
                        break;
                    }
                }
                Some(Err(e)) => {
                    if let Some(error) = source.borrow_mut().input_error.take() {
                        sink.error(SourceError {
                            file: file.to_string(),
                            line: Some(error.0),
                            column: None,
                            message: error.1,
                        });
                    } else {
                        sink.error(scan_error(file, chunk_start_line, col_shift, &e));
                    }
                    failed = true;
                    break;
                }
            }
        }
        drop(parser);
        let mut s = source.borrow_mut();
        if let Some(error) = s.input_error.take() {
            sink.error(SourceError {
                file: file.to_string(),
                line: Some(error.0),
                column: None,
                message: error.1,
            });
            failed = true;
        }
        if failed {
            // Skip what is left of the broken document; the next one starts at the next marker.
            s.chunk_started = true;
            loop {
                if s.next_char().is_none() && (s.input_error.take().is_none() || s.fatal) {
                    break;
                }
            }
        }
        if s.fatal {
            break;
        }
    }
}

fn scan_error(file: &str, chunk_start_line: u32, col_shift: u32, e: &ScanError) -> SourceError {
    let shift = if e.marker().line() <= 1 { col_shift } else { 0 };
    SourceError {
        file: file.to_string(),
        line: Some(chunk_start_line + e.marker().line().saturating_sub(1) as u32),
        column: Some((e.marker().col() as u32 + 1).saturating_sub(shift).max(1)),
        message: format!("invalid YAML: {}", e.info()),
    }
}

/// A byte stream read in blocks, decoded to chars one at a time, that knows where lines and
/// document markers begin. Memory is one block, whatever the size of the input or its lines.
struct ByteSource<R> {
    reader: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    /// A read error ends the input for good.
    fatal: bool,
    /// 1-based line of the next char.
    line: u32,
    at_line_start: bool,
    /// Whether the current chunk has produced a char (a marker only ends a chunk after that).
    chunk_started: bool,
    /// `(line, message)` of an I/O or encoding error met while reading the current chunk.
    input_error: Option<(u32, String)>,
    /// The first bytes of the current line, kept only while it may be a `# Source:` comment.
    comment_line: Option<Vec<u8>>,
    template: Option<Arc<str>>,
    started: bool,
    /// Characters fed to the parser before the chunk's own: `--- ` ahead of a bare JSON document
    /// (see [`ByteSource::prefix_flow_document`]).
    prefix: &'static str,
    prefix_pos: usize,
}

impl<R: Read> ByteSource<R> {
    fn new(reader: R) -> Self {
        ByteSource {
            reader,
            buf: vec![0u8; BLOCK].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            fatal: false,
            line: 1,
            at_line_start: true,
            chunk_started: false,
            input_error: None,
            comment_line: None,
            template: None,
            started: false,
            prefix: "",
            prefix_pos: 0,
        }
    }

    /// A document that starts with `{` or `[` (JSON, `kubectl get -o json`) is fed to the parser as
    /// `--- {…}`. Without the explicit document start, saphyr-parser keeps the opening brace as a
    /// possible mapping key until the whole document is read, holding a 100 MB list in memory
    /// before the first event; with it, items stream. Marks on the chunk's first line are shifted
    /// back by the prefix's width.
    fn prefix_flow_document(&mut self) {
        self.prefix = "";
        self.prefix_pos = 0;
        let available = self.fill(BLOCK);
        let head = &self.buf[self.start..self.start + available];
        let first = head.iter().position(|b| !matches!(b, b' ' | b'\t'));
        if first.is_some_and(|i| matches!(head[i], b'{' | b'[')) {
            self.prefix = "--- ";
        }
    }

    /// Makes at least `n` bytes available unless the input ends first; returns how many are.
    fn fill(&mut self, n: usize) -> usize {
        while self.end - self.start < n && !self.eof {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(read) => self.end += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.input_error = Some((self.line, format!("read failed: {e}")));
                    self.eof = true;
                    self.fatal = true;
                }
            }
        }
        if !self.started {
            self.started = true;
            if self.end - self.start >= 3
                && self.buf[self.start..self.start + 3] == [0xef, 0xbb, 0xbf]
            {
                self.start += 3;
            }
        }
        self.end - self.start
    }

    fn has_more(&mut self) -> bool {
        !self.fatal && self.fill(1) > 0
    }

    fn at_document_marker(&mut self) -> bool {
        let available = self.fill(4);
        if available < 3 || &self.buf[self.start..self.start + 3] != b"---" {
            return false;
        }
        available == 3 || matches!(self.buf[self.start + 3], b' ' | b'\t' | b'\r' | b'\n')
    }

    fn next_char(&mut self) -> Option<char> {
        if self.input_error.is_some() {
            return None;
        }
        if let Some(&b) = self.prefix.as_bytes().get(self.prefix_pos) {
            self.prefix_pos += 1;
            return Some(b as char);
        }
        if self.at_line_start && self.chunk_started && self.at_document_marker() {
            return None;
        }
        if self.fill(4) == 0 {
            return None;
        }
        let first = self.buf[self.start];
        let width = match first {
            0x00..=0x7f => 1,
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 0,
        };
        let available = self.end - self.start;
        let decoded = if width == 0 || width > available {
            None
        } else {
            std::str::from_utf8(&self.buf[self.start..self.start + width])
                .ok()
                .and_then(|s| s.chars().next())
        };
        let Some(c) = decoded else {
            // Step over the bad byte so the rest of the input can still be read.
            self.start += 1;
            self.chunk_started = true;
            self.at_line_start = false;
            self.input_error = Some((self.line, "input is not valid UTF-8".to_string()));
            return None;
        };
        if self.at_line_start && first == b'#' {
            self.comment_line = Some(Vec::with_capacity(64));
        }
        if let Some(comment) = &mut self.comment_line {
            if c == '\n' {
                let text = String::from_utf8_lossy(comment);
                if let Some(template) = text.trim_end().strip_prefix("# Source: ") {
                    self.template = Some(Arc::from(template.trim()));
                }
                self.comment_line = None;
            } else if comment.len() < 1024 {
                comment.extend_from_slice(&self.buf[self.start..self.start + width]);
            }
        }
        self.start += width;
        self.chunk_started = true;
        self.at_line_start = c == '\n';
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }
}

/// The chars of one document chunk: ends at the next column-0 `---` marker.
struct DocumentChars<R> {
    source: Rc<RefCell<ByteSource<R>>>,
}

impl<R: Read> Iterator for DocumentChars<R> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        self.source.borrow_mut().next_char()
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        mark: Mark,
        anchor: usize,
    },
    Map {
        entries: Vec<(String, Node)>,
        mark: Mark,
        anchor: usize,
        key: Option<(String, Mark, bool)>,
        /// Key → position, built once a map grows past a few entries (duplicate keys: last wins,
        /// as in sigs.k8s.io/yaml).
        index: Option<HashMap<String, usize>>,
        merges: Vec<Node>,
    },
}

struct DocumentBuilder<'a> {
    file: &'a str,
    line_offset: u32,
    documents_seen: &'a mut u32,
    document: DocumentInfo,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    alias_budget: usize,
    /// The top-level map's `items` were handed out one by one.
    streamed_items: bool,
    /// The top-level `kind`/`apiVersion`, once seen (raw API lists put them before `items`).
    top_kind: Option<String>,
    top_api_version: Option<String>,
    /// Hand out every document as it is (configuration files), without list handling or skipping.
    raw: bool,
    /// Width of the characters fed ahead of the chunk's first line (`--- `), to subtract from
    /// columns on that line.
    col_shift: u32,
}

impl<'a> DocumentBuilder<'a> {
    fn new(file: &'a str, chunk_start_line: u32, documents_seen: &'a mut u32) -> Self {
        DocumentBuilder {
            file,
            line_offset: chunk_start_line - 1,
            documents_seen,
            document: DocumentInfo::default(),
            stack: Vec::new(),
            root: None,
            anchors: HashMap::new(),
            alias_budget: MAX_ALIAS_NODES,
            streamed_items: false,
            top_kind: None,
            top_api_version: None,
            raw: false,
            col_shift: 0,
        }
    }

    fn mark(&self, span: Span) -> Mark {
        let shift = if span.start.line() <= 1 {
            self.col_shift
        } else {
            0
        };
        Mark::new(
            self.line_offset + span.start.line() as u32,
            (span.start.col() as u32 + 1).saturating_sub(shift).max(1),
        )
    }

    fn error_at(&self, line: usize, col: usize, message: String) -> SourceError {
        SourceError {
            file: self.file.to_string(),
            line: Some(self.line_offset + line as u32),
            column: Some(
                (col as u32 + 1)
                    .saturating_sub(if line <= 1 { self.col_shift } else { 0 })
                    .max(1),
            ),
            message,
        }
    }

    fn on_event(
        &mut self,
        event: Event<'_>,
        span: Span,
        template: Option<Arc<str>>,
        sink: &mut dyn ObjectSink,
    ) -> Result<(), String> {
        match event {
            Event::DocumentStart(_) => {
                *self.documents_seen += 1;
                self.document = DocumentInfo {
                    index: *self.documents_seen,
                    template: None,
                    cluster: None,
                };
                self.stack.clear();
                self.root = None;
                self.anchors.clear();
                self.alias_budget = MAX_ALIAS_NODES;
                self.streamed_items = false;
                self.top_kind = None;
                self.top_api_version = None;
            }
            Event::DocumentEnd => {
                self.document.template = template;
                self.finish_document(sink);
            }
            Event::Scalar(text, style, anchor, tag) => {
                let mark = self.mark(span);
                if let Some(Frame::Map {
                    key: key @ None, ..
                }) = self.stack.last_mut()
                {
                    *key = Some((text.into_owned(), mark, style == ScalarStyle::Plain));
                    return Ok(());
                }
                let value = resolve_scalar(&text, style, tag.as_deref())
                    .map_err(|e| format!("invalid scalar {:?}: {e}", truncate(&text)))?;
                self.push(Node::new(value, mark), anchor, sink)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.check_depth()?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    mark: self.mark(span),
                    anchor,
                });
            }
            Event::MappingStart(anchor, _) => {
                self.check_depth()?;
                self.stack.push(Frame::Map {
                    entries: Vec::new(),
                    mark: self.mark(span),
                    anchor,
                    key: None,
                    index: None,
                    merges: Vec::new(),
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    items,
                    mark,
                    anchor,
                }) = self.stack.pop()
                {
                    self.push(Node::new(Value::Seq(items), mark), anchor, sink)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut entries,
                    mark,
                    anchor,
                    merges,
                    ..
                }) = self.stack.pop()
                {
                    apply_merges(&mut entries, merges);
                    self.push(Node::new(Value::Map(entries), mark), anchor, sink)?;
                }
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| "alias to an unknown anchor".to_string())?;
                let size = count_nodes(&node);
                if size > self.alias_budget {
                    return Err(format!(
                        "aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing (a YAML \"billion laughs\" document?)"
                    ));
                }
                self.alias_budget -= size;
                let mark = self.mark(span);
                let node = Node::new(node.value, mark);
                self.push(node, 0, sink)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn check_depth(&self) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            Err(format!("nesting deeper than {MAX_DEPTH} levels"))
        } else {
            Ok(())
        }
    }

    fn push(
        &mut self,
        mut node: Node,
        anchor: usize,
        sink: &mut dyn ObjectSink,
    ) -> Result<(), String> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let depth = self.stack.len();
        let top_level_item = !self.raw
            && depth == 2
            && is_items_key(&self.stack[0])
            && matches!(self.stack[1], Frame::Seq { .. });
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { .. }) if top_level_item => {
                // An item of the top-level `items` list: hand it out now when it names its own kind
                // (kubectl output), keep it for kind inference otherwise (raw API lists).
                self.streamed_items = true;
                if node.str_at("apiVersion").is_some() && node.str_at("kind").is_some() {
                    sink.object(node, &self.document);
                    return Ok(());
                }
                if let (Some(kind), Some(api_version)) = (&self.top_kind, &self.top_api_version)
                    && let Some(item_kind) = kind.strip_suffix("List").filter(|k| !k.is_empty())
                    && node.is_map()
                {
                    set_type(&mut node, api_version, item_kind);
                    sink.object(node, &self.document);
                    return Ok(());
                }
                if let Some(Frame::Seq { items, .. }) = self.stack.last_mut() {
                    items.push(node);
                }
                return Ok(());
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                key,
                index,
                merges,
                ..
            }) => {
                let Some((key, key_mark, plain)) = key.take() else {
                    // A collection used as a key: legal YAML, never a Kubernetes field.
                    return Err("complex mapping keys are not supported".to_string());
                };
                if plain && key == "<<" {
                    merges.push(node);
                    return Ok(());
                }
                if matches!(node.value, Value::Map(_) | Value::Seq(_)) {
                    // Point block collections at their key's line, where the user wrote the field.
                    node.mark = key_mark;
                }
                if depth == 1 {
                    match key.as_str() {
                        "kind" => self.top_kind = node.as_str().map(str::to_string),
                        "apiVersion" => self.top_api_version = node.as_str().map(str::to_string),
                        "cluster"
                            if self
                                .top_api_version
                                .as_deref()
                                .is_some_and(|v| v.starts_with("palisade.dev/")) =>
                        {
                            self.document.cluster = node.str_at("name").map(Arc::from);
                        }
                        _ => {}
                    }
                }
                insert_entry(entries, index, key, node);
            }
        }
        Ok(())
    }

    fn finish_document(&mut self, sink: &mut dyn ObjectSink) {
        let Some(mut root) = self.root.take() else {
            return;
        };
        if root.is_null() {
            return;
        }
        if self.raw {
            sink.object(root, &self.document);
            return;
        }
        if !root.is_map() {
            sink.skipped(&self.document, "not a mapping");
            return;
        }
        let api_version = root.str_at("apiVersion").map(str::to_string);
        let kind = root.str_at("kind").map(str::to_string);
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            if self.streamed_items {
                if let Some(items) = root.remove("items") {
                    for item in items_of(items) {
                        sink.skipped(&self.document, "list item without apiVersion and kind");
                        drop(item);
                    }
                }
            } else {
                sink.skipped(&self.document, "no apiVersion or kind");
            }
            return;
        };
        if self.streamed_items || is_list_kind(&api_version, &kind) {
            let item_kind = kind
                .strip_suffix("List")
                .filter(|k| !k.is_empty())
                .map(str::to_string);
            if let Some(items) = root.remove("items") {
                for mut item in items_of(items) {
                    match &item_kind {
                        Some(item_kind) if item.is_map() => {
                            set_type(&mut item, &api_version, item_kind);
                            sink.object(item, &self.document);
                        }
                        _ if item.str_at("apiVersion").is_some()
                            && item.str_at("kind").is_some() =>
                        {
                            sink.object(item, &self.document)
                        }
                        _ => sink.skipped(&self.document, "list item without apiVersion and kind"),
                    }
                }
            }
            if is_list_kind(&api_version, &kind) {
                sink.list_header(root, &self.document);
                return;
            }
        }
        sink.object(root, &self.document);
    }
}

fn items_of(items: Node) -> Vec<Node> {
    match items.value {
        Value::Seq(items) => items,
        _ => Vec::new(),
    }
}

fn is_items_key(frame: &Frame) -> bool {
    matches!(frame, Frame::Map { key: Some((key, _, _)), .. } if key == "items")
}

/// Fills in `apiVersion` and `kind` of an item of a typed list (`PodList` → `Pod`): the API server
/// leaves them out of list items.
fn set_type(item: &mut Node, api_version: &str, kind: &str) {
    if item.get("apiVersion").is_none() {
        item.insert("apiVersion", Node::string(api_version));
    }
    if item.get("kind").is_none() {
        item.insert("kind", Node::string(kind));
    }
}

const INDEX_THRESHOLD: usize = 16;

fn insert_entry(
    entries: &mut Vec<(String, Node)>,
    index: &mut Option<HashMap<String, usize>>,
    key: String,
    node: Node,
) {
    let existing = match index {
        Some(index) => index.get(&key).copied(),
        None => entries.iter().position(|(k, _)| *k == key),
    };
    match existing {
        Some(at) => entries[at].1 = node,
        None => {
            if let Some(index) = index {
                index.insert(key.clone(), entries.len());
            }
            entries.push((key, node));
            if index.is_none() && entries.len() > INDEX_THRESHOLD {
                *index = Some(
                    entries
                        .iter()
                        .enumerate()
                        .map(|(i, (k, _))| (k.clone(), i))
                        .collect(),
                );
            }
        }
    }
}

/// YAML 1.1 merge keys (`<<: *defaults`), which sigs.k8s.io/yaml honours: keys already present win.
fn apply_merges(entries: &mut Vec<(String, Node)>, merges: Vec<Node>) {
    for merge in merges {
        let sources = match merge.value {
            Value::Map(map) => vec![map],
            Value::Seq(items) => items
                .into_iter()
                .filter_map(|n| match n.value {
                    Value::Map(map) => Some(map),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for source in sources {
            for (k, v) in source {
                if !entries.iter().any(|(existing, _)| *existing == k) {
                    entries.push((k, v));
                }
            }
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    let mut count = 0;
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        count += 1;
        match &n.value {
            Value::Seq(items) => stack.extend(items.iter()),
            Value::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    count
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Resolves a scalar to a value: quoted scalars are strings; plain ones follow the YAML 1.1 rules
/// of sigs.k8s.io/yaml (go-yaml v2) that kubectl uses; core-schema tags (`!!str`, `!!int`, …) win.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag.filter(|t| t.is_yaml_core_schema()) {
        return match tag.suffix.as_str() {
            "str" | "binary" | "timestamp" => Ok(Value::String(text.to_string())),
            "null" => Ok(Value::Null),
            "bool" => match resolve_plain(text) {
                Value::Bool(b) => Ok(Value::Bool(b)),
                _ => Err("not a boolean".into()),
            },
            "int" => match resolve_plain(text) {
                Value::Int(i) => Ok(Value::Int(i)),
                _ => Err("not an integer".into()),
            },
            "float" => match resolve_plain(text) {
                Value::Int(i) => Ok(Value::Float(i as f64)),
                Value::Float(f) => Ok(Value::Float(f)),
                _ => Err("not a float".into()),
            },
            _ => Ok(Value::String(text.to_string())),
        };
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    Ok(resolve_plain(text))
}

/// The value of a plain scalar under go-yaml v2's resolution table.
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Value::String(text.to_string());
    }
    if let Some(i) = parse_int(text) {
        return Value::Int(i);
    }
    if is_float_syntax(text)
        && let Ok(f) = text.replace('_', "").parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::String(text.to_string())
}

fn parse_int(text: &str) -> Option<i64> {
    let cleaned = text.replace('_', "");
    let (negative, digits) = match cleaned.as_bytes().first()? {
        b'-' => (true, &cleaned[1..]),
        b'+' => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(bin) = digits.strip_prefix("0b") {
        (2, bin)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        (8, oct)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(body, radix).ok()?;
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

fn is_float_syntax(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut digits = 0;
    let mut dots = 0;
    let mut exponent = false;
    let mut previous = ' ';
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            '_' => {}
            '.' if !exponent => dots += 1,
            'e' | 'E' if digits > 0 && !exponent => exponent = true,
            '+' | '-' if matches!(previous, 'e' | 'E') => {}
            _ => return false,
        }
        previous = c;
    }
    digits > 0 && dots <= 1 && (dots == 1 || exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        objects: Vec<(Node, DocumentInfo)>,
        headers: Vec<Node>,
        skipped: Vec<String>,
        errors: Vec<SourceError>,
    }

    impl ObjectSink for Collect {
        fn object(&mut self, object: Node, document: &DocumentInfo) {
            self.objects.push((object, document.clone()));
        }
        fn list_header(&mut self, header: Node, _: &DocumentInfo) {
            self.headers.push(header);
        }
        fn skipped(&mut self, _: &DocumentInfo, why: &str) {
            self.skipped.push(why.to_string());
        }
        fn error(&mut self, error: SourceError) {
            self.errors.push(error);
        }
    }

    fn read(text: &str) -> Collect {
        let mut sink = Collect::default();
        read_stream(text.as_bytes(), "test.yaml", &mut sink);
        sink
    }

    fn names(c: &Collect) -> Vec<String> {
        c.objects
            .iter()
            .map(|(o, _)| {
                o.at(&["metadata", "name"])
                    .and_then(Node::as_str)
                    .unwrap_or("?")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn multi_document_with_positions() {
        let c = read(
            "# leading\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  hostPID: yes\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n",
        );
        assert_eq!(names(&c), ["a", "b"]);
        let a = &c.objects[0].0;
        let host_pid = a.at(&["spec", "hostPID"]).unwrap();
        assert_eq!(host_pid.as_bool(), Some(true));
        assert_eq!(host_pid.mark, Mark::new(8, 12));
        assert_eq!(
            a.get("spec").unwrap().mark.line,
            7,
            "block map points at its key"
        );
        assert_eq!(c.objects[1].1.index, 2);
        assert!(c.errors.is_empty());
    }

    #[test]
    fn malformed_document_does_not_hide_the_next() {
        let c = read(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: c\n",
        );
        assert_eq!(names(&c), ["a", "c"]);
        assert_eq!(c.errors.len(), 1);
        let e = &c.errors[0];
        assert_eq!(e.file, "test.yaml");
        assert!(e.line.unwrap() >= 9 && e.line.unwrap() <= 10, "{e}");
    }

    #[test]
    fn typed_list_items_get_their_kind() {
        let c = read(
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"p1"}},{"metadata":{"name":"p2"}}]}"#,
        );
        assert_eq!(names(&c), ["p1", "p2"]);
        assert_eq!(c.objects[0].0.str_at("kind"), Some("Pod"));
        assert_eq!(c.headers.len(), 1);
        assert!(c.headers[0].get("items").is_none());
    }

    #[test]
    fn kubectl_list_with_kind_after_items() {
        let c = read(
            "{\n \"apiVersion\": \"v1\",\n \"items\": [\n  {\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"s\"}}\n ],\n \"kind\": \"List\"\n}\n",
        );
        assert_eq!(names(&c), ["s"]);
        assert_eq!(c.objects[0].0.mark.line, 4);
    }

    #[test]
    fn non_kubernetes_yaml_is_skipped() {
        let c = read("name: chart\nversion: 1.0\n---\n- a\n- b\n---\n");
        assert!(c.objects.is_empty());
        assert_eq!(c.skipped.len(), 2);
        assert!(c.errors.is_empty());
    }

    #[test]
    fn helm_source_comment_names_the_template() {
        let c = read(
            "---\n# Source: shop/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n",
        );
        assert_eq!(
            c.objects[0].1.template.as_deref(),
            Some("shop/templates/deploy.yaml")
        );
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        let c = read(&doc);
        assert_eq!(c.errors.len(), 1);
        assert!(c.errors[0].message.contains("billion laughs"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let doc = format!(
            "apiVersion: v1\nkind: X\nspec: {}{}\n",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        let c = read(&doc);
        assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let mut bytes = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \xff\xfe\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: ok}\n".to_vec();
        bytes.extend_from_slice(b"");
        let mut sink = Collect::default();
        read_stream(&bytes[..], "bad.yaml", &mut sink);
        assert_eq!(names(&sink), ["ok"]);
        assert_eq!(sink.errors[0].line, Some(4));
    }

    #[test]
    fn yaml_1_1_scalars() {
        assert_eq!(resolve_plain("on"), Value::Bool(true));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("0755"), Value::Int(493));
        assert_eq!(resolve_plain("-12"), Value::Int(-12));
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("1.2.3"), Value::String("1.2.3".into()));
        assert_eq!(resolve_plain("08"), Value::String("08".into()));
        assert_eq!(resolve_plain("-"), Value::String("-".into()));
    }

    #[test]
    fn merge_keys_and_duplicates() {
        let c = read(
            "apiVersion: v1\nkind: X\nbase: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  b: 3\ndup: 1\ndup: 2\n",
        );
        let o = &c.objects[0].0;
        assert_eq!(o.at(&["derived", "a"]).unwrap().as_i64(), Some(1));
        assert_eq!(o.at(&["derived", "b"]).unwrap().as_i64(), Some(3));
        assert_eq!(o.get("dup").unwrap().as_i64(), Some(2));
    }

    #[test]
    fn crlf_and_bom() {
        let c = read("\u{feff}apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: w\r\n");
        assert_eq!(names(&c), ["w"]);
    }

    #[test]
    fn read_document_returns_any_mapping() {
        let root = read_document(
            &b"checks:\n  disable: [a]\nitems: [1]\n"[..],
            "palisade.yaml",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            root.at(&["checks", "disable"]).map(|n| n.items().len()),
            Some(1)
        );
        assert_eq!(root.get("items").map(|n| n.items().len()), Some(1));
        let err = read_document(&b"checks: [\n"[..], "palisade.yaml").unwrap_err();
        assert!(err.to_string().starts_with("palisade.yaml:"), "{err}");
        assert!(read_document(&b""[..], "empty.yaml").unwrap().is_none());
    }

    #[test]
    fn json_documents_keep_their_columns() {
        let text =
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"hostPID":true}}"#;
        let c = read(text);
        assert_eq!(names(&c), ["x"]);
        let host_pid = c.objects[0].0.at(&["spec", "hostPID"]).unwrap();
        let column = text.find("true").unwrap() as u32 + 1;
        assert_eq!((host_pid.mark.line, host_pid.mark.column), (1, column));
        let broken = read("{\"apiVersion\": \"v1\", \"kind\": ]");
        assert_eq!(broken.errors.len(), 1);
        assert!(
            broken.errors[0].column.unwrap() <= 30,
            "{:?}",
            broken.errors[0]
        );
    }
}
