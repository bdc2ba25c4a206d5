//! The rule language detections are written in: Falco's rule files (rules, macros, lists,
//! exceptions, `append` and `override`, priorities, tags, output templates) compiled once into
//! matchers, indexed so that an event is tested only against rules that can match it, and
//! evaluated against any event source that can name its fields.
//!
//! It must not know where events come from: audit events (`ka.*`, `jevt.*`) and syscall events
//! (`evt.*`, `proc.*`, `fd.*`, ...) plug in through [`FieldSource`] and [`Event`]. It does no
//! I/O: callers hand it rule file texts.

mod compile;
mod condition;
mod eval;
pub mod fields;
mod loader;
mod output;
mod yaml;

pub use fields::{Event, FieldInfo, FieldSource, FieldType, FieldValue};

use compile::{CompileError, Context};
use condition::{Expr, Op, Rhs};
use eval::Cond;
use loader::{Definitions, Reader};
use output::Template;
use std::collections::HashMap;

/// One rule file: its name (for error messages) and its text.
#[derive(Debug, Clone, Copy)]
pub struct RuleFile<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// Falco's priorities, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

impl Priority {
    /// Parses a priority case-insensitively, accepting Falco's `info` shorthand.
    pub fn parse(text: &str) -> Option<Priority> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// The name Falco prints (`Warning`, `Informational`).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A loaded rule, enabled or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub name: String,
    pub description: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub source: String,
    pub enabled: bool,
    /// The output template as written (after appends).
    pub output: String,
}

/// A rule that matched an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index into [`Ruleset::rules`].
    pub rule: usize,
    /// The rendered output template.
    pub output: String,
    /// Every field the template names, with its rendered value (`<NA>` when missing).
    pub output_fields: Vec<(String, String)>,
}

/// One problem found while loading: where, in which item, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub file: String,
    /// 1-based line of the item (or of the offending key when known).
    pub line: usize,
    /// `rule`, `macro`, `list`, `item` or `file`.
    pub kind: String,
    /// The item's name, empty when it has none.
    pub name: String,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if !self.name.is_empty() {
            write!(f, "{} `{}`: ", self.kind, self.name)?;
        }
        f.write_str(&self.message)
    }
}

/// Every error of a failed load, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} error(s) loading rules:\n{}", .issues.len(), .issues.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
pub struct LoadError {
    pub issues: Vec<Issue>,
}

struct CompiledRule {
    cond: Cond,
    template: Template,
}

/// Which rules to test for an event, by the value of one indexed field.
struct FieldIndex {
    id: u32,
    kind: FieldType,
    by_text: HashMap<String, Vec<usize>, foldhash::fast::FixedState>,
    by_number: HashMap<i64, Vec<usize>, foldhash::fast::FixedState>,
}

/// Loaded, compiled and indexed rules of one source.
pub struct Ruleset {
    rules: Vec<RuleInfo>,
    /// Parallel to `rules`; `None` for disabled rules.
    compiled: Vec<Option<CompiledRule>>,
    indexes: Vec<FieldIndex>,
    /// Enabled rules no index covers.
    always: Vec<usize>,
    warnings: Vec<String>,
}

impl std::fmt::Debug for Ruleset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ruleset")
            .field("rules", &self.rules.len())
            .field("always_tested", &self.always.len())
            .field("warnings", &self.warnings.len())
            .finish()
    }
}

impl Ruleset {
    /// A source's built-in rule file (unless `builtin` is `None`: `--no-builtin-rules`) and then
    /// the user's files (name, text) in `--rules` order, loaded as [`Ruleset::load`] does.
    pub fn load_after_builtin(
        builtin: Option<RuleFile<'_>>,
        user_files: &[(String, String)],
        source: &dyn FieldSource,
    ) -> Result<Ruleset, LoadError> {
        let files: Vec<RuleFile<'_>> = builtin
            .into_iter()
            .chain(
                user_files
                    .iter()
                    .map(|(name, text)| RuleFile { name, text }),
            )
            .collect();
        Ruleset::load(&files, source)
    }

    /// Loads rule files in order (later files append to / override earlier ones, as Falco's
    /// -r order does). Rules for other sources are skipped; rules using unknown fields are
    /// disabled with a warning. Syntax errors fail the load, naming file, line and rule.
    pub fn load(files: &[RuleFile<'_>], source: &dyn FieldSource) -> Result<Ruleset, LoadError> {
        let mut defs = Definitions::default();
        let mut issues = Vec::new();
        let mut warnings = Vec::new();
        for file in files {
            Reader::new(&mut defs, &mut issues, &mut warnings, file.name).read(file.text);
        }

        // Macros are parsed once; a syntax error is an error even in an unused macro, as in
        // Falco, while field resolution waits for a rule of this source to use the macro.
        let mut macros = HashMap::new();
        let mut macro_names: Vec<&String> = defs.macros.keys().collect();
        macro_names.sort_by_key(|n| {
            defs.macros
                .get(*n)
                .map(|m| (m.loc.file.clone(), m.loc.line))
        });
        for name in macro_names {
            let Some(m) = defs.macros.get(name) else {
                continue;
            };
            match condition::parse(&m.condition) {
                Ok(expr) => {
                    macros.insert(name.clone(), expr);
                }
                Err(e) => issues.push(Issue {
                    file: m.loc.file.clone(),
                    line: m.loc.line,
                    kind: "macro".into(),
                    name: name.clone(),
                    message: format!(
                        "condition syntax error at column {}: {}",
                        m.condition
                            .get(..e.offset)
                            .map_or(e.offset, |t| t.chars().count())
                            + 1,
                        e.message
                    ),
                }),
            }
        }
        let ctx = Context {
            defs: &defs,
            macros,
            source,
        };

        let mut rules = Vec::new();
        let mut compiled = Vec::new();
        let mut expanded = Vec::new();
        for def in &defs.rules {
            if def.source != source.source_name() {
                continue;
            }
            let mut enabled = def.enabled;
            let issue = |loc: &loader::Loc, message: String| Issue {
                file: loc.file.clone(),
                line: loc.line,
                kind: "rule".into(),
                name: def.name.clone(),
                message,
            };
            // Errors point at the key they come from: the condition (exceptions included) or
            // the output template.
            let built = ctx
                .rule_condition(&def.condition, &def.exceptions)
                .and_then(|expr| Ok((ctx.compile(&expr)?, expr)))
                .map_err(|e| (&def.condition_loc, e))
                .and_then(|(cond, expr)| {
                    let template =
                        Template::parse(&def.output, &ctx).map_err(|e| (&def.output_loc, e))?;
                    Ok((expr, cond, template))
                });
            let rule_compiled = match built {
                Ok((expr, cond, template)) => {
                    expanded.push((rules.len(), expr));
                    Some(CompiledRule { cond, template })
                }
                Err((loc, CompileError::UnknownField(field))) => {
                    let why = if def.skip_if_unknown_filter {
                        " (skip-if-unknown-filter)"
                    } else {
                        ""
                    };
                    warnings.push(format!(
                        "{}:{}: rule `{}` disabled{why}: field `{field}` is not provided by source `{}`",
                        loc.file,
                        loc.line,
                        def.name,
                        source.source_name()
                    ));
                    enabled = false;
                    None
                }
                Err((loc, CompileError::Invalid(message))) => {
                    issues.push(issue(loc, message));
                    enabled = false;
                    None
                }
            };
            rules.push(RuleInfo {
                name: def.name.clone(),
                description: def.desc.clone(),
                priority: def.priority,
                tags: def.tags.clone(),
                source: def.source.clone(),
                enabled,
                output: def.output.clone(),
            });
            compiled.push(if enabled { rule_compiled } else { None });
        }
        if !issues.is_empty() {
            // Report in reading order, whichever stage found the problem.
            let order = |file: &str| {
                files
                    .iter()
                    .position(|f| f.name == file)
                    .unwrap_or(usize::MAX)
            };
            issues.sort_by_key(|i| (order(&i.file), i.line));
            return Err(LoadError { issues });
        }

        let mut indexes: Vec<FieldIndex> = source
            .index_fields()
            .iter()
            .filter_map(|name| {
                let info = source.field(name)?;
                matches!(info.kind, FieldType::String | FieldType::Number).then(|| FieldIndex {
                    id: info.id,
                    kind: info.kind,
                    by_text: HashMap::default(),
                    by_number: HashMap::default(),
                })
            })
            .collect();
        let mut always = Vec::new();
        for (rule, expr) in expanded {
            if compiled.get(rule).is_none_or(Option::is_none) {
                continue;
            }
            match index_key(&ctx, &expr, &indexes) {
                Some((slot, values)) => {
                    let Some(index) = indexes.get_mut(slot) else {
                        continue;
                    };
                    for v in values {
                        if index.kind == FieldType::Number {
                            if let Some(n) = v.parse::<i64>().ok().or_else(|| {
                                v.strip_prefix("0x")
                                    .and_then(|h| i64::from_str_radix(h, 16).ok())
                            }) {
                                let list = index.by_number.entry(n).or_default();
                                if list.last() != Some(&rule) {
                                    list.push(rule);
                                }
                            }
                        } else {
                            let list = index.by_text.entry(v).or_default();
                            if list.last() != Some(&rule) {
                                list.push(rule);
                            }
                        }
                    }
                }
                None => always.push(rule),
            }
        }
        Ok(Ruleset {
            rules,
            compiled,
            indexes,
            always,
            warnings,
        })
    }

    /// Warnings of the load: disabled rules and ignored items.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every loaded rule (enabled or not), in load order.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// The enabled rules that match `event`, in load order (Falco reports every matching rule).
    /// `matches` is cleared first.
    pub fn evaluate(&self, event: &dyn Event, matches: &mut Vec<Match>) {
        matches.clear();
        for index in &self.indexes {
            let value = event.value(index.id, None);
            // Looked up with the same coercions the checks apply, so the index never hides a
            // rule the unindexed evaluation would match.
            let candidates = if index.kind == FieldType::Number {
                eval::as_number(&value).and_then(|n| index.by_number.get(&n))
            } else {
                eval::with_text(&value, |s| index.by_text.get(s)).flatten()
            };
            for &rule in candidates.into_iter().flatten() {
                self.test(rule, event, matches);
            }
        }
        for &rule in &self.always {
            self.test(rule, event, matches);
        }
        // Candidates come from several lists; restore load order without allocating.
        matches.sort_unstable_by_key(|m| m.rule);
    }

    /// Whether `rule` is served by an index rather than tested on every event (for tests and
    /// diagnostics).
    pub fn is_indexed(&self, rule: usize) -> bool {
        self.compiled.get(rule).is_some_and(Option::is_some) && !self.always.contains(&rule)
    }

    fn test(&self, rule: usize, event: &dyn Event, matches: &mut Vec<Match>) {
        let Some(Some(c)) = self.compiled.get(rule) else {
            return;
        };
        if c.cond.eval(event) {
            let (output, output_fields) = c.template.render(event);
            matches.push(Match {
                rule,
                output,
                output_fields,
            });
        }
    }

    /// Evaluates every enabled rule without the index: the reference the index must agree with.
    pub fn evaluate_unindexed(&self, event: &dyn Event, matches: &mut Vec<Match>) {
        matches.clear();
        for rule in 0..self.compiled.len() {
            self.test(rule, event, matches);
        }
    }
}

/// The index slot and values a rule's condition requires at its top level: a conjunct
/// `F = literal` or `F in (literals)` (lists expanded) with `F` an indexed field without an
/// argument. The earliest index field in `index_fields()` order wins, so placement is stable.
fn index_key(
    ctx: &Context<'_>,
    expr: &Expr,
    indexes: &[FieldIndex],
) -> Option<(usize, Vec<String>)> {
    let mut conjuncts = Vec::new();
    flatten_and(expr, &mut conjuncts);
    let mut best: Option<(usize, Vec<String>)> = None;
    for c in conjuncts {
        let Expr::Check { field, op, rhs } = c else {
            continue;
        };
        // On a scalar field `intersects` is `in` (libsinsp says so), so it indexes the same way.
        if field.arg.is_some() || !matches!(op, Op::Eq | Op::In | Op::Intersects) {
            continue;
        }
        let Ok((info, _)) = ctx.resolve_field(field) else {
            continue;
        };
        let Some(slot) = indexes.iter().position(|i| i.id == info.id) else {
            continue;
        };
        let values = match rhs {
            Rhs::Value(v) => vec![v.clone()],
            Rhs::List(_) => match ctx.compile(c) {
                Ok(Cond::Check(check)) => match &check.test {
                    eval::Test::StrIn(set) => set.iter().cloned().collect(),
                    eval::Test::NumIn(nums) => nums.iter().map(i64::to_string).collect(),
                    _ => continue,
                },
                _ => continue,
            },
            _ => continue,
        };
        if best.as_ref().is_none_or(|(s, _)| slot < *s) {
            best = Some((slot, values));
        }
    }
    best
}

fn flatten_and<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::And(children) => children.iter().for_each(|c| flatten_and(c, out)),
        other => out.push(other),
    }
}
