//! Reading rule files into definitions: Falco's `rule_loader_reader` and `rule_loader_collector`
//! semantics for rules, macros, lists, `append: true` and `override:`, applied file by file in
//! load order so later files amend earlier ones.

use crate::yaml::{self, Node, Value};
use crate::{Issue, Priority};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct ListDef {
    pub items: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct MacroDef {
    pub condition: String,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub(crate) enum ExceptionFields {
    /// `fields: f` — the values are one flat list compared with one operator (default `in`).
    Single(String),
    /// `fields: [f1, f2]` — each value row holds one value per field.
    Tuple(Vec<String>),
}

/// One cell of an exception's value row: a scalar, or an inline list for `in`-like operators.
#[derive(Debug, Clone)]
pub(crate) enum ExceptionValue {
    Scalar(String),
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub(crate) struct ExceptionDef {
    pub name: String,
    pub fields: ExceptionFields,
    /// One operator name per field (already defaulted).
    pub comps: Vec<String>,
    pub values: Vec<Vec<ExceptionValue>>,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleDef {
    pub name: String,
    pub desc: String,
    pub condition: String,
    pub output: String,
    pub priority: Priority,
    pub source: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub exceptions: Vec<ExceptionDef>,
    pub skip_if_unknown_filter: bool,
    /// Where its (last written) `condition` and `output` values are: errors in them point there.
    pub condition_loc: Loc,
    pub output_loc: Loc,
}

/// Everything the files define, after appends and overrides.
#[derive(Debug, Default)]
pub(crate) struct Definitions {
    pub lists: HashMap<String, ListDef>,
    pub macros: HashMap<String, MacroDef>,
    /// In first-definition order (a redefinition replaces in place, as Falco's indexed vector).
    pub rules: Vec<RuleDef>,
    rule_index: HashMap<String, usize>,
}

pub(crate) struct Reader<'d> {
    pub defs: &'d mut Definitions,
    pub issues: &'d mut Vec<Issue>,
    pub warnings: &'d mut Vec<String>,
    file: String,
}

fn scalar(node: &Node) -> Option<String> {
    if node.is_null() {
        None
    } else {
        node.as_str().map(str::to_string)
    }
}

/// How an item asks to amend an earlier one.
#[derive(Default)]
struct Amend {
    append: Vec<String>,
    replace: Vec<String>,
}

impl<'d> Reader<'d> {
    pub fn new(
        defs: &'d mut Definitions,
        issues: &'d mut Vec<Issue>,
        warnings: &'d mut Vec<String>,
        file: &str,
    ) -> Self {
        Reader {
            defs,
            issues,
            warnings,
            file: file.to_string(),
        }
    }

    fn issue(&mut self, line: usize, kind: &str, name: &str, message: impl Into<String>) {
        self.issues.push(Issue {
            file: self.file.clone(),
            line,
            kind: kind.to_string(),
            name: name.to_string(),
            message: message.into(),
        });
    }

    fn loc(&self, line: usize) -> Loc {
        Loc {
            file: self.file.clone(),
            line,
        }
    }

    pub fn read(&mut self, text: &str) {
        let docs = match yaml::parse(text) {
            Ok(docs) => docs,
            Err(e) => {
                self.issue(e.line, "file", "", format!("invalid YAML: {}", e.message));
                return;
            }
        };
        for doc in docs.into_iter().flatten() {
            if doc.is_null() {
                continue;
            }
            let Value::Seq(items) = &doc.value else {
                self.issue(
                    doc.line,
                    "file",
                    "",
                    format!(
                        "rules content must be a sequence of items, found {}",
                        doc.kind_name()
                    ),
                );
                continue;
            };
            for item in items {
                self.read_item(item);
            }
        }
    }

    fn read_item(&mut self, item: &Node) {
        let Value::Map(entries) = &item.value else {
            self.issue(
                item.line,
                "item",
                "",
                format!(
                    "unexpected element type: each item must be a mapping, found {}",
                    item.kind_name()
                ),
            );
            return;
        };
        if item.get("rule").is_some() {
            self.read_rule(item);
        } else if item.get("macro").is_some() {
            self.read_macro(item);
        } else if item.get("list").is_some() {
            self.read_list(item);
        } else if item.get("required_engine_version").is_some()
            || item.get("required_plugin_versions").is_some()
        {
            // Version requirements concern Falco's engine and plugins, not this one.
        } else {
            let key = entries
                .first()
                .and_then(|(k, _)| k.as_str())
                .unwrap_or("")
                .to_string();
            self.warnings.push(format!(
                "{}:{}: unknown top level object `{key}` ignored",
                self.file, item.line
            ));
        }
    }

    fn name_of(&mut self, item: &Node, kind: &str) -> Option<String> {
        match item.get(kind).and_then(scalar) {
            Some(n) if !n.is_empty() => Some(n),
            _ => {
                self.issue(
                    item.line,
                    kind,
                    "",
                    format!("`{kind}` must be a non-empty string"),
                );
                None
            }
        }
    }

    /// Reads `append:` and `override:`, which are mutually exclusive in Falco.
    fn amend(
        &mut self,
        item: &Node,
        kind: &str,
        name: &str,
        allowed_append: &[&str],
        allowed_replace: &[&str],
    ) -> Option<Amend> {
        let append = match item.get("append") {
            None => false,
            Some(n) => match n.as_bool() {
                Some(b) => b,
                None => {
                    self.issue(n.line, kind, name, "`append` must be true or false");
                    return None;
                }
            },
        };
        let mut amend = Amend::default();
        if let Some(ov) = item.get("override") {
            if append {
                self.issue(
                    ov.line,
                    kind,
                    name,
                    "`append` and `override` cannot be used together",
                );
                return None;
            }
            let Value::Map(entries) = &ov.value else {
                self.issue(
                    ov.line,
                    kind,
                    name,
                    "`override` must be a mapping of key: append|replace",
                );
                return None;
            };
            for (k, v) in entries {
                let key = k.as_str().unwrap_or_default().to_string();
                let how = v.as_str().unwrap_or_default();
                let allowed = match how {
                    "append" => allowed_append,
                    "replace" => allowed_replace,
                    _ => {
                        self.issue(
                            v.line,
                            kind,
                            name,
                            format!(
                                "override of `{key}` must be `append` or `replace`, not `{how}`"
                            ),
                        );
                        return None;
                    }
                };
                if !allowed.contains(&key.as_str()) {
                    self.issue(
                        k.line,
                        kind,
                        name,
                        format!("key `{key}` cannot be overridden with `{how}`"),
                    );
                    return None;
                }
                if item.get(&key).is_none() {
                    self.issue(
                        k.line,
                        kind,
                        name,
                        format!("override of `{key}` but the item has no `{key}` key"),
                    );
                    return None;
                }
                if how == "append" {
                    amend.append.push(key)
                } else {
                    amend.replace.push(key)
                }
            }
        } else if append {
            amend.append = allowed_append
                .iter()
                .filter(|k| item.get(k).is_some())
                .map(|k| k.to_string())
                .collect();
        }
        Some(amend)
    }

    fn string_key(
        &mut self,
        item: &Node,
        key: &str,
        kind: &str,
        name: &str,
    ) -> Option<Option<String>> {
        match item.get(key) {
            None => Some(None),
            Some(n) if n.is_null() => Some(Some(String::new())),
            Some(n) => match n.as_str() {
                Some(s) => Some(Some(s.to_string())),
                None => {
                    self.issue(
                        n.line,
                        kind,
                        name,
                        format!("`{key}` must be a string, found {}", n.kind_name()),
                    );
                    None
                }
            },
        }
    }

    fn string_list(
        &mut self,
        node: &Node,
        key: &str,
        kind: &str,
        name: &str,
    ) -> Option<Vec<String>> {
        if node.is_null() {
            return Some(Vec::new());
        }
        let Value::Seq(items) = &node.value else {
            self.issue(
                node.line,
                kind,
                name,
                format!("`{key}` must be a sequence, found {}", node.kind_name()),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            match i.as_str() {
                Some(s) => out.push(s.to_string()),
                None => {
                    self.issue(
                        i.line,
                        kind,
                        name,
                        format!("`{key}` items must be strings, found {}", i.kind_name()),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    fn read_list(&mut self, item: &Node) {
        let Some(name) = self.name_of(item, "list") else {
            return;
        };
        let Some(amend) = self.amend(item, "list", &name, &["items"], &["items"]) else {
            return;
        };
        let items = match item.get("items") {
            Some(n) => match self.string_list(n, "items", "list", &name) {
                Some(v) => v,
                None => return,
            },
            None => {
                self.issue(item.line, "list", &name, "missing key `items`");
                return;
            }
        };
        let amending = !amend.append.is_empty() || !amend.replace.is_empty();
        if amending {
            let Some(prev) = self.defs.lists.get_mut(&name) else {
                self.issue(
                    item.line,
                    "list",
                    &name,
                    "list has `append` or `override` but no list by that name already exists",
                );
                return;
            };
            if amend.append.iter().any(|k| k == "items") {
                prev.items.extend(items);
            } else {
                prev.items = items;
            }
            return;
        }
        self.defs.lists.insert(name, ListDef { items });
    }

    fn read_macro(&mut self, item: &Node) {
        let Some(name) = self.name_of(item, "macro") else {
            return;
        };
        let Some(amend) = self.amend(item, "macro", &name, &["condition"], &["condition"]) else {
            return;
        };
        let Some(condition) = self.string_key(item, "condition", "macro", &name) else {
            return;
        };
        let Some(condition) = condition else {
            self.issue(item.line, "macro", &name, "missing key `condition`");
            return;
        };
        // A macro is only its condition: errors in it point at the condition's line.
        let condition_line = item.get("condition").map_or(item.line, |n| n.line);
        if !amend.append.is_empty() || !amend.replace.is_empty() {
            let loc = self.loc(condition_line);
            let Some(prev) = self.defs.macros.get_mut(&name) else {
                self.issue(
                    item.line,
                    "macro",
                    &name,
                    "macro has `append` or `override` but no macro by that name already exists",
                );
                return;
            };
            if amend.append.is_empty() {
                prev.condition = condition;
            } else {
                // Falco appends the text with a single space: the appended text usually starts
                // with `or` / `and`.
                prev.condition.push(' ');
                prev.condition.push_str(&condition);
            }
            prev.loc = loc;
            return;
        }
        let loc = self.loc(condition_line);
        self.defs.macros.insert(name, MacroDef { condition, loc });
    }

    fn read_exceptions(&mut self, node: &Node, name: &str) -> Option<Vec<ExceptionDef>> {
        if node.is_null() {
            return Some(Vec::new());
        }
        let Value::Seq(items) = &node.value else {
            self.issue(node.line, "rule", name, "`exceptions` must be a sequence");
            return None;
        };
        let mut out = Vec::new();
        for e in items {
            let Some(ename) = e.get("name").and_then(scalar) else {
                self.issue(e.line, "rule", name, "exception has no `name`");
                return None;
            };
            let fields = match e.get("fields") {
                None => None,
                Some(f) => match &f.value {
                    Value::Seq(_) => Some(ExceptionFields::Tuple(
                        self.string_list(f, "fields", "rule", name)?,
                    )),
                    Value::Scalar { .. } if !f.is_null() => Some(ExceptionFields::Single(
                        f.as_str().unwrap_or_default().to_string(),
                    )),
                    _ => {
                        self.issue(
                            f.line,
                            "rule",
                            name,
                            format!("exception `{ename}`: `fields` must be a string or a sequence"),
                        );
                        return None;
                    }
                },
            };
            let comps: Option<Vec<String>> = match e.get("comps") {
                None => None,
                Some(c) => match &c.value {
                    Value::Seq(_) => Some(self.string_list(c, "comps", "rule", name)?),
                    Value::Scalar { text, .. } => Some(vec![text.clone()]),
                    Value::Map(_) => {
                        self.issue(
                            c.line,
                            "rule",
                            name,
                            format!("exception `{ename}`: `comps` must be a string or a sequence"),
                        );
                        return None;
                    }
                },
            };
            let (fields, comps) = match (fields, comps) {
                (None, _) => (ExceptionFields::Tuple(Vec::new()), Vec::new()),
                (Some(ExceptionFields::Single(f)), c) => {
                    let c = c.unwrap_or_else(|| vec!["in".to_string()]);
                    if c.len() != 1 {
                        self.issue(e.line, "rule", name, format!("exception `{ename}`: a single field takes a single comparison operator"));
                        return None;
                    }
                    (ExceptionFields::Single(f), c)
                }
                (Some(ExceptionFields::Tuple(f)), c) => {
                    let c = c.unwrap_or_else(|| vec!["=".to_string(); f.len()]);
                    if c.len() != f.len() {
                        self.issue(e.line, "rule", name, format!("exception `{ename}`: fields and comps lists must have equal length ({} fields, {} comps)", f.len(), c.len()));
                        return None;
                    }
                    (ExceptionFields::Tuple(f), c)
                }
            };
            for c in &comps {
                if crate::condition::Op::from_name(c)
                    .is_none_or(|op| op == crate::condition::Op::Exists)
                {
                    self.issue(
                        e.line,
                        "rule",
                        name,
                        format!(
                            "exception `{ename}`: `{c}` is not a supported comparison operator"
                        ),
                    );
                    return None;
                }
            }
            let mut values = Vec::new();
            if let Some(v) = e.get("values")
                && !v.is_null()
            {
                let Value::Seq(rows) = &v.value else {
                    self.issue(
                        v.line,
                        "rule",
                        name,
                        format!("exception `{ename}`: `values` must be a sequence"),
                    );
                    return None;
                };
                for row in rows {
                    let cells = match (&fields, &row.value) {
                        (ExceptionFields::Single(_), Value::Scalar { text, .. }) => {
                            vec![ExceptionValue::Scalar(text.clone())]
                        }
                        (ExceptionFields::Single(_), Value::Seq(_)) => {
                            vec![ExceptionValue::List(
                                self.string_list(row, "values", "rule", name)?,
                            )]
                        }
                        (ExceptionFields::Tuple(_), Value::Seq(cells)) => {
                            let mut out = Vec::new();
                            for cell in cells {
                                match &cell.value {
                                    Value::Scalar { text, .. } => {
                                        out.push(ExceptionValue::Scalar(text.clone()))
                                    }
                                    Value::Seq(_) => out.push(ExceptionValue::List(
                                        self.string_list(cell, "values", "rule", name)?,
                                    )),
                                    Value::Map(_) => {
                                        self.issue(cell.line, "rule", name, format!("exception `{ename}`: a value must be a string or a list"));
                                        return None;
                                    }
                                }
                            }
                            out
                        }
                        _ => {
                            self.issue(row.line, "rule", name, format!("exception `{ename}`: each value must be a sequence with one entry per field"));
                            return None;
                        }
                    };
                    values.push(cells);
                }
            }
            out.push(ExceptionDef {
                name: ename,
                fields,
                comps,
                values,
                line: e.line,
            });
        }
        Some(out)
    }

    fn read_rule(&mut self, item: &Node) {
        let Some(name) = self.name_of(item, "rule") else {
            return;
        };
        const APPEND: &[&str] = &["condition", "output", "desc", "tags", "exceptions"];
        const REPLACE: &[&str] = &[
            "condition",
            "output",
            "desc",
            "priority",
            "tags",
            "exceptions",
            "enabled",
            "warn_evttypes",
            "skip-if-unknown-filter",
        ];
        let Some(amend) = self.amend(item, "rule", &name, APPEND, REPLACE) else {
            return;
        };
        let mut ok = true;
        let mut text = |r: &mut Self, key: &str| -> Option<String> {
            match r.string_key(item, key, "rule", &name) {
                Some(v) => v,
                None => {
                    ok = false;
                    None
                }
            }
        };
        let condition = text(self, "condition");
        let output = text(self, "output");
        let key_loc = |r: &Self, key: &str| r.loc(item.get(key).map_or(item.line, |n| n.line));
        let condition_loc = key_loc(self, "condition");
        let output_loc = key_loc(self, "output");
        let desc = text(self, "desc");
        let source = text(self, "source");
        let priority_text = text(self, "priority");
        if !ok {
            return;
        }
        let priority = match &priority_text {
            Some(p) => match Priority::parse(p) {
                Some(p) => Some(p),
                None => {
                    let line = item.get("priority").map_or(item.line, |n| n.line);
                    self.issue(line, "rule", &name, format!("invalid priority `{p}`"));
                    return;
                }
            },
            None => None,
        };
        let enabled = match item.get("enabled") {
            None => None,
            Some(n) => match n.as_bool() {
                Some(b) => Some(b),
                None => {
                    self.issue(n.line, "rule", &name, "`enabled` must be true or false");
                    return;
                }
            },
        };
        let skip = item.get("skip-if-unknown-filter").and_then(Node::as_bool);
        let tags = match item.get("tags") {
            Some(n) => match self.string_list(n, "tags", "rule", &name) {
                Some(t) => Some(t),
                None => return,
            },
            None => None,
        };
        let exceptions = match item.get("exceptions") {
            Some(n) => match self.read_exceptions(n, &name) {
                Some(e) => Some(e),
                None => return,
            },
            None => None,
        };

        let amending = !amend.append.is_empty() || !amend.replace.is_empty();
        // Falco's legacy form: a rule item with only `enabled` toggles an existing rule.
        let only_enabled = !amending
            && condition.is_none()
            && output.is_none()
            && priority.is_none()
            && enabled.is_some();
        if amending || only_enabled {
            let Some(&index) = self.defs.rule_index.get(&name) else {
                let what = if only_enabled {
                    "has only `enabled`"
                } else {
                    "has `append` or `override`"
                };
                self.issue(
                    item.line,
                    "rule",
                    &name,
                    format!("rule {what} but no rule by that name already exists"),
                );
                return;
            };
            let mut exc_issues = Vec::new();
            let Some(prev) = self.defs.rules.get_mut(index) else {
                return;
            };
            if only_enabled {
                prev.enabled = enabled.unwrap_or(prev.enabled);
                return;
            }
            for key in &amend.append {
                match key.as_str() {
                    "condition" => {
                        append_text(&mut prev.condition, condition.as_deref());
                        prev.condition_loc = condition_loc.clone();
                    }
                    "output" => {
                        append_text(&mut prev.output, output.as_deref());
                        prev.output_loc = output_loc.clone();
                    }
                    "desc" => append_text(&mut prev.desc, desc.as_deref()),
                    "tags" => {
                        for t in tags.iter().flatten() {
                            if !prev.tags.contains(t) {
                                prev.tags.push(t.clone());
                            }
                        }
                    }
                    "exceptions" => {
                        for e in exceptions.iter().flatten() {
                            match prev.exceptions.iter_mut().find(|p| p.name == e.name) {
                                Some(p) => p.values.extend(e.values.iter().cloned()),
                                None if matches!(&e.fields, ExceptionFields::Tuple(f) if f.is_empty()) =>
                                {
                                    exc_issues.push((e.line, format!("appended exception `{}` does not exist in the rule and has no `fields`", e.name)));
                                }
                                None => prev.exceptions.push(e.clone()),
                            }
                        }
                    }
                    _ => {}
                }
            }
            for key in &amend.replace {
                match key.as_str() {
                    "condition" => {
                        prev.condition = condition.clone().unwrap_or_default();
                        prev.condition_loc = condition_loc.clone();
                    }
                    "output" => {
                        prev.output = output.clone().unwrap_or_default();
                        prev.output_loc = output_loc.clone();
                    }
                    "desc" => prev.desc = desc.clone().unwrap_or_default(),
                    "priority" => prev.priority = priority.unwrap_or(prev.priority),
                    "tags" => prev.tags = tags.clone().unwrap_or_default(),
                    "exceptions" => prev.exceptions = exceptions.clone().unwrap_or_default(),
                    "enabled" => prev.enabled = enabled.unwrap_or(prev.enabled),
                    "skip-if-unknown-filter" => prev.skip_if_unknown_filter = skip.unwrap_or(false),
                    _ => {}
                }
            }
            for (line, message) in exc_issues {
                self.issue(line, "rule", &name, message);
            }
            return;
        }

        let mut missing = Vec::new();
        if condition.is_none() {
            missing.push("condition");
        }
        if output.is_none() {
            missing.push("output");
        }
        if priority.is_none() {
            missing.push("priority");
        }
        if !missing.is_empty() {
            self.issue(
                item.line,
                "rule",
                &name,
                format!(
                    "missing key(s) {}",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return;
        }
        for e in exceptions.iter().flatten() {
            if matches!(&e.fields, ExceptionFields::Tuple(f) if f.is_empty()) {
                self.issue(
                    e.line,
                    "rule",
                    &name,
                    format!("exception `{}` has no `fields`", e.name),
                );
                return;
            }
        }
        let def = RuleDef {
            name: name.clone(),
            desc: desc.unwrap_or_default(),
            condition: condition.unwrap_or_default(),
            // Falco trims a new rule's output, so the newline a folded (`>`) or literal (`|`)
            // block scalar ends with never reaches the alert text.
            output: output
                .as_deref()
                .map_or_else(String::new, |o| o.trim_matches(FALCO_SPACE).to_string()),
            priority: priority.unwrap_or(Priority::Debug),
            source: source
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "syscall".to_string()),
            tags: tags.unwrap_or_default(),
            enabled: enabled.unwrap_or(true),
            exceptions: exceptions.unwrap_or_default(),
            skip_if_unknown_filter: skip.unwrap_or(false),
            condition_loc,
            output_loc,
        };
        match self.defs.rule_index.get(&name) {
            Some(&i) => {
                if let Some(slot) = self.defs.rules.get_mut(i) {
                    *slot = def;
                }
            }
            None => {
                self.defs.rule_index.insert(name, self.defs.rules.len());
                self.defs.rules.push(def);
            }
        }
    }
}

/// The characters Falco's `trim` strips (`std::isspace` in the C locale).
const FALCO_SPACE: &[char] = &[' ', '\t', '\n', '\r', '\x0b', '\x0c'];

/// Falco appends condition/output text with a single separating space.
fn append_text(target: &mut String, extra: Option<&str>) {
    if let Some(extra) = extra {
        target.push(' ');
        target.push_str(extra);
    }
}
