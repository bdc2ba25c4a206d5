//! From parsed conditions to the evaluation tree: macros and lists expanded, exceptions
//! appended as Falco builds them, fields resolved through the [`FieldSource`] and every
//! comparison checked against the field's type once, at load.

use crate::condition::{self, Expr, FieldName, ListItem, Op, Rhs};
use crate::eval::{Check, Cond, FieldRef, Net, NumOp, StrOp, StrSet, Test};
use crate::fields::{FieldInfo, FieldSource, FieldType};
use crate::loader::{Definitions, ExceptionDef, ExceptionFields, ExceptionValue};
use std::collections::HashMap;

/// Why a rule could not be compiled.
pub(crate) enum CompileError {
    /// A field the source does not know: the rule is disabled with a warning.
    UnknownField(String),
    /// Anything else (syntax, undefined macro, type mismatch): a load error.
    Invalid(String),
}

/// Macro conditions parsed once, shared by every rule that expands them.
pub(crate) struct Context<'a> {
    pub defs: &'a Definitions,
    pub macros: HashMap<String, Expr>,
    pub source: &'a dyn FieldSource,
}

/// Expansion depth limit: macros nest a few levels in real files; a cycle or a pathological file
/// must end in an error, not a stack overflow.
const MAX_MACRO_DEPTH: usize = 64;

impl Context<'_> {
    /// Expands macro references, recursively.
    pub fn expand(&self, expr: &Expr, stack: &mut Vec<String>) -> Result<Expr, CompileError> {
        Ok(match expr {
            Expr::And(c) => Expr::And(
                c.iter()
                    .map(|e| self.expand(e, stack))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(c) => Expr::Or(
                c.iter()
                    .map(|e| self.expand(e, stack))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(c) => Expr::Not(Box::new(self.expand(c, stack)?)),
            Expr::Check { .. } => expr.clone(),
            Expr::Ident(name) => {
                let Some(body) = self.macros.get(name) else {
                    return Err(CompileError::Invalid(format!(
                        "undefined macro `{name}` used in condition"
                    )));
                };
                if stack.iter().any(|s| s == name) {
                    return Err(CompileError::Invalid(format!(
                        "macro `{name}` references itself (through {})",
                        stack.join(" -> ")
                    )));
                }
                if stack.len() >= MAX_MACRO_DEPTH {
                    return Err(CompileError::Invalid(format!(
                        "macros nested deeper than {MAX_MACRO_DEPTH} levels"
                    )));
                }
                stack.push(name.clone());
                let out = self.expand(body, stack)?;
                stack.pop();
                out
            }
        })
    }

    /// Expands list names among `items` into the lists' items (lists may name other lists).
    fn expand_items(
        &self,
        items: &[ListItem],
        out: &mut Vec<String>,
        depth: usize,
    ) -> Result<(), CompileError> {
        for item in items {
            match (item.quoted, self.defs.lists.get(&item.text)) {
                (false, Some(list)) => {
                    if depth >= MAX_MACRO_DEPTH {
                        return Err(CompileError::Invalid(format!(
                            "list `{}` nests lists too deeply (a cycle?)",
                            item.text
                        )));
                    }
                    let nested: Vec<ListItem> = list
                        .items
                        .iter()
                        .map(|t| ListItem {
                            text: t.clone(),
                            quoted: false,
                        })
                        .collect();
                    self.expand_items(&nested, out, depth + 1)?;
                }
                // A quoted item of the condition is already unquoted; items of a list
                // definition and exception values are spliced as Falco splices them.
                (false, _) => out
                    .push(condition::unquote_item(&item.text).unwrap_or_else(|| item.text.clone())),
                (true, _) => out.push(item.text.clone()),
            }
        }
        Ok(())
    }

    /// Builds the full condition of a rule: its own condition, then `and not (...)` per
    /// exception with values, exactly the shape Falco generates.
    pub fn rule_condition(
        &self,
        condition: &str,
        exceptions: &[ExceptionDef],
    ) -> Result<Expr, CompileError> {
        let parsed = condition::parse(condition).map_err(|e| {
            CompileError::Invalid(format!(
                "condition syntax error at column {}: {}",
                column(condition, e.offset),
                e.message
            ))
        })?;
        let mut expr = self.expand(&parsed, &mut Vec::new())?;
        let mut parts = vec![expr];
        for exc in exceptions {
            if exc.values.is_empty() {
                continue;
            }
            let mut rows = Vec::with_capacity(exc.values.len());
            for row in &exc.values {
                rows.push(exception_row(exc, row)?);
            }
            parts.push(Expr::Not(Box::new(Expr::Or(rows))));
        }
        expr = if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        };
        Ok(expr)
    }

    pub fn resolve_field(&self, field: &FieldName) -> Result<(FieldInfo, FieldRef), CompileError> {
        let Some(info) = self.source.field(&field.name) else {
            return Err(CompileError::UnknownField(field.name.clone()));
        };
        match (info.argument, &field.arg) {
            (Some(true), None) => {
                return Err(CompileError::Invalid(format!(
                    "field `{}` requires an argument in brackets",
                    field.name
                )));
            }
            (None, Some(arg)) => {
                return Err(CompileError::Invalid(format!(
                    "field `{}` does not take an argument (got `[{arg}]`)",
                    field.name
                )));
            }
            _ => {}
        }
        let r = FieldRef {
            id: info.id,
            arg: field.arg.clone(),
        };
        Ok((info, r))
    }

    pub fn compile(&self, expr: &Expr) -> Result<Cond, CompileError> {
        Ok(match expr {
            Expr::And(c) => Cond::And(
                c.iter()
                    .map(|e| self.compile(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(c) => Cond::Or(
                c.iter()
                    .map(|e| self.compile(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(c) => Cond::Not(Box::new(self.compile(c)?)),
            Expr::Ident(name) => {
                return Err(CompileError::Invalid(format!(
                    "undefined macro `{name}` used in condition"
                )));
            }
            Expr::Check { field, op, rhs } => {
                let (info, fref) = self.resolve_field(field)?;
                let values = match rhs {
                    Rhs::None => Vec::new(),
                    Rhs::Value(v) => vec![v.clone()],
                    Rhs::List(items) => {
                        let mut out = Vec::new();
                        self.expand_items(items, &mut out, 0)?;
                        out
                    }
                    Rhs::Field(text) => {
                        return Err(CompileError::Invalid(format!(
                            "`{field} {} {text}`: comparing with another field (val()/transformers) is not supported",
                            op.as_str()
                        )));
                    }
                };
                // An argument on a list field selects one element (`image[0]`): a string. On
                // a several-valued field it selects one candidate (`proc.aname[2]`); without
                // one, the test is tried on every candidate.
                let (kind, any_of) = match (info.kind, &field.arg) {
                    (FieldType::StringList, Some(_)) => (FieldType::String, false),
                    (FieldType::AnyString, arg) => (FieldType::String, arg.is_none()),
                    (FieldType::AnyNumber, arg) => (FieldType::Number, arg.is_none()),
                    (k, _) => (k, false),
                };
                let mut test = make_test(field, kind, *op, values)?;
                if any_of {
                    test = Test::AnyOf(Box::new(test));
                }
                Cond::Check(Box::new(Check { field: fref, test }))
            }
        })
    }
}

/// 1-based column of a byte offset, for error messages.
fn column(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(offset, |t| t.chars().count()) + 1
}

fn exception_row(exc: &ExceptionDef, row: &[ExceptionValue]) -> Result<Expr, CompileError> {
    let check = |field: &str, comp: &str, value: &ExceptionValue| -> Result<Expr, CompileError> {
        let op = Op::from_name(comp).ok_or_else(|| {
            CompileError::Invalid(format!(
                "exception `{}`: unknown operator `{comp}`",
                exc.name
            ))
        })?;
        let field = parse_field_ref(field).ok_or_else(|| {
            CompileError::Invalid(format!(
                "exception `{}`: `{field}` is not a field name",
                exc.name
            ))
        })?;
        let rhs = match (op.takes_list(), value) {
            // A scalar for `in` is a list name, or a single value when no such list exists.
            (true, ExceptionValue::Scalar(v)) => Rhs::List(vec![ListItem {
                text: v.clone(),
                quoted: false,
            }]),
            (true, ExceptionValue::List(items)) => Rhs::List(
                items
                    .iter()
                    .map(|t| ListItem {
                        text: t.clone(),
                        quoted: false,
                    })
                    .collect(),
            ),
            (false, ExceptionValue::Scalar(v)) => {
                Rhs::Value(condition::unquote_item(v).unwrap_or_else(|| v.clone()))
            }
            (false, ExceptionValue::List(_)) => {
                return Err(CompileError::Invalid(format!(
                    "exception `{}`: operator `{comp}` on `{field}` takes a single value, not a list",
                    exc.name
                )));
            }
        };
        Ok(Expr::Check { field, op, rhs })
    };
    match &exc.fields {
        ExceptionFields::Single(field) => {
            let comp = exc.comps.first().map_or("in", String::as_str);
            let value = match row {
                [one] => one.clone(),
                _ => ExceptionValue::List(Vec::new()),
            };
            check(field, comp, &value)
        }
        ExceptionFields::Tuple(fields) => {
            if row.len() != fields.len() {
                return Err(CompileError::Invalid(format!(
                    "exception `{}`: a value row has {} items but there are {} fields",
                    exc.name,
                    row.len(),
                    fields.len()
                )));
            }
            let mut parts = Vec::with_capacity(fields.len());
            for ((field, comp), value) in fields.iter().zip(&exc.comps).zip(row) {
                parts.push(check(field, comp, value)?);
            }
            Ok(if parts.len() == 1 {
                parts.remove(0)
            } else {
                Expr::And(parts)
            })
        }
    }
}

/// Parses `name` or `name[arg]` as written in exception `fields` and output templates.
pub(crate) fn parse_field_ref(text: &str) -> Option<FieldName> {
    let text = text.trim();
    let (name, arg) = match text.split_once('[') {
        Some((n, rest)) => (n, Some(rest.strip_suffix(']')?.to_string())),
        None => (text, None),
    };
    let ok = !name.is_empty()
        && name.contains('.')
        && name.split('.').all(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    ok.then(|| FieldName {
        name: name.to_string(),
        arg,
    })
}

fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok();
    }
    t.strip_prefix('+').unwrap_or(t).parse().ok()
}

fn make_test(
    field: &FieldName,
    kind: FieldType,
    op: Op,
    values: Vec<String>,
) -> Result<Test, CompileError> {
    let mismatch = |what: &str| {
        CompileError::Invalid(format!(
            "operator `{}` cannot be used on {what} field `{field}`",
            op.as_str()
        ))
    };
    if op == Op::Regex {
        return Err(CompileError::Invalid(format!(
            "`{field} regex ...`: the regex operator is not supported"
        )));
    }
    if op == Op::Exists {
        return Ok(Test::Exists);
    }
    let single = || values.first().cloned().unwrap_or_default();
    Ok(match kind {
        FieldType::String => match op {
            Op::In | Op::Intersects => Test::StrIn(values.into_iter().collect()),
            Op::PMatch => Test::PMatch(
                values
                    .into_iter()
                    .map(|v| v.trim_end_matches('/').to_string())
                    .collect(),
            ),
            _ => {
                let sop = match op {
                    Op::Eq => StrOp::Eq,
                    Op::Ne => StrOp::Ne,
                    Op::Lt => StrOp::Lt,
                    Op::Le => StrOp::Le,
                    Op::Gt => StrOp::Gt,
                    Op::Ge => StrOp::Ge,
                    // Byte-buffer variants: our strings are the bytes.
                    Op::Contains | Op::BContains => StrOp::Contains,
                    Op::IContains => StrOp::IContains,
                    Op::StartsWith | Op::BStartsWith => StrOp::StartsWith,
                    Op::EndsWith => StrOp::EndsWith,
                    Op::Glob => StrOp::Glob,
                    Op::IGlob => StrOp::IGlob,
                    _ => return Err(mismatch("string")),
                };
                let mut v = single();
                if sop == StrOp::IContains {
                    v.make_ascii_lowercase();
                }
                Test::Str(sop, v)
            }
        },
        FieldType::Number => {
            let nums = values
                .iter()
                .map(|v| {
                    parse_int(v).ok_or_else(|| {
                        CompileError::Invalid(format!(
                            "`{v}` is not a number, but `{field}` is a numeric field"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let n = nums.first().copied().unwrap_or(0);
            match op {
                Op::Eq => Test::Num(NumOp::Eq, n),
                Op::Ne => Test::Num(NumOp::Ne, n),
                Op::Lt => Test::Num(NumOp::Lt, n),
                Op::Le => Test::Num(NumOp::Le, n),
                Op::Gt => Test::Num(NumOp::Gt, n),
                Op::Ge => Test::Num(NumOp::Ge, n),
                Op::In | Op::Intersects => Test::NumIn(nums),
                _ => return Err(mismatch("numeric")),
            }
        }
        FieldType::Bool => {
            let bools = values
                .iter()
                .map(|v| match v.as_str() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(CompileError::Invalid(format!(
                        "`{v}` is not true/false, but `{field}` is a boolean field"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let b = bools.first().copied().unwrap_or(false);
            match op {
                Op::Eq => Test::Bool(true, b),
                Op::Ne => Test::Bool(false, b),
                Op::In | Op::Intersects => Test::BoolIn(bools),
                _ => return Err(mismatch("boolean")),
            }
        }
        FieldType::Ip => match op {
            Op::Eq | Op::Ne => {
                let v = single();
                let ip = v.parse().map_err(|_| {
                    CompileError::Invalid(format!("`{v}` is not an IP address (field `{field}`)"))
                })?;
                Test::Ip(op == Op::Eq, ip)
            }
            Op::In | Op::Intersects => Test::IpIn(
                values
                    .iter()
                    .map(|v| {
                        Net::parse(v).ok_or_else(|| {
                            CompileError::Invalid(format!(
                                "`{v}` is not an IP address or network (field `{field}`)"
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(mismatch("IP address")),
        },
        FieldType::IpNet => {
            let nets = values
                .iter()
                .map(|v| {
                    Net::parse(v).ok_or_else(|| {
                        CompileError::Invalid(format!(
                            "`{v}` is not an IP network or address (field `{field}`)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            match (op, nets.first()) {
                (Op::Eq | Op::Ne, Some(net)) => Test::Net(op == Op::Eq, *net),
                (Op::In | Op::Intersects, _) => Test::IpIn(nets),
                _ => return Err(mismatch("IP network")),
            }
        }
        // Resolved to their scalar types by the caller.
        FieldType::AnyString | FieldType::AnyNumber => return Err(mismatch("multi-valued")),
        FieldType::StringList => {
            let set: StrSet = values.into_iter().collect();
            match op {
                Op::In => Test::ListIn(set),
                Op::Intersects => Test::ListIntersects(set),
                _ => {
                    return Err(CompileError::Invalid(format!(
                        "list field `{field}` only supports operators 'exists', 'in' and 'intersects' (got `{}`)",
                        op.as_str()
                    )));
                }
            }
        }
    })
}
