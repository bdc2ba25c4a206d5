//! A small YAML tree with line numbers, built from saphyr-parser's event stream: rule files are
//! small, and every error must name the line of the item (or key) it is about.

use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// One YAML node and the (1-based) line where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// A scalar; `plain` tells `null`/`true` apart from the quoted strings `"null"`/`"true"`.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// Nesting beyond this is rejected: rule files are a few levels deep, and a deeply nested
/// hostile file must not exhaust the stack of whoever walks the tree.
const MAX_DEPTH: usize = 64;
/// Alias expansion copies nodes: cap the total so a "billion laughs" file cannot exhaust memory.
const MAX_NODES: usize = 2_000_000;

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } => "a scalar",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A YAML syntax error and its line.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub message: String,
}

enum Frame {
    Seq {
        line: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// Parses every document of `text`; an empty document yields `None`.
pub(crate) fn parse(text: &str) -> Result<Vec<Option<Node>>, SyntaxError> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut doc_root: Option<Node> = None;
    let mut node_budget = MAX_NODES;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| SyntaxError {
            line: e.marker().line(),
            message: e.info().to_string(),
        })?;
        let line = span.start.line();
        let complete = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                doc_root = None;
                None
            }
            Event::DocumentEnd => {
                docs.push(doc_root.take());
                None
            }
            Event::Alias(id) => {
                let node = anchors.get(&id).cloned().ok_or_else(|| SyntaxError {
                    line,
                    message: "alias to an unknown anchor".to_string(),
                })?;
                let size = count_nodes(&node);
                node_budget = node_budget.checked_sub(size).ok_or_else(|| SyntaxError {
                    line,
                    message: "too many nodes after alias expansion".to_string(),
                })?;
                Some((node, 0))
            }
            Event::Scalar(text, style, anchor, _) => {
                node_budget = node_budget.checked_sub(1).ok_or_else(|| SyntaxError {
                    line,
                    message: "document too large".to_string(),
                })?;
                let plain = style == ScalarStyle::Plain;
                Some((
                    Node {
                        line,
                        value: Value::Scalar {
                            text: text.into_owned(),
                            plain,
                        },
                    },
                    anchor,
                ))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        line,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
                if matches!(event, Event::SequenceStart(..)) {
                    stack.push(Frame::Seq {
                        line,
                        anchor,
                        items: Vec::new(),
                    });
                } else {
                    stack.push(Frame::Map {
                        line,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    });
                }
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    line,
                    anchor,
                    items,
                }) => Some((
                    Node {
                        line,
                        value: Value::Seq(items),
                    },
                    anchor,
                )),
                Some(Frame::Map {
                    line,
                    anchor,
                    entries,
                    ..
                }) => Some((
                    Node {
                        line,
                        value: Value::Map(entries),
                    },
                    anchor,
                )),
                None => None,
            },
        };
        let Some((node, anchor)) = complete else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => doc_root = Some(node),
        }
    }
    Ok(docs)
}

fn count_nodes(node: &Node) -> usize {
    match &node.value {
        Value::Scalar { .. } => 1,
        Value::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
    }
}
